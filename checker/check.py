"""A check: a configuration explored in each mode, and a verdict for every property.

Verdicts: PROVED (the bounded space was exhausted and the property held; for a witness: it was
seen), REFUTED (a violation with a shortest trace), UNDETERMINED (a limit, Ctrl-C or SIGTERM
stopped the search or its analysis before either could be said), NOT APPLICABLE (the bounds rule
out what the property is about: a stop witness with no stop allowed, ...), NOT SEEN (a witness
that could happen within the bounds but the exhausted search never shows it: the other
properties may be vacuous).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path

from checker.annotations import instances
from checker.coverage import Change, possible_changes
from checker.engine import Bounds, Explored, explore
from checker.errors import Terminated
from checker.formats import pipeline_from_document
from spec.declaration import Pipeline
from spec.hazards import SEVERITIES, hazards_for
from spec.operations import Operation
from spec.patterns import PropertySpec
from spec.properties import ABOUT_ROLLBACKS, Property, properties_for
from spec.rules import Model, build_model
from spec.unmodelled import FieldWarning
from spec.variants import VARIANTS, Variant, rule_set
from spec.world import Declared, derive_world

PROVED = "PROVED"
REFUTED = "REFUTED"
UNDETERMINED = "UNDETERMINED"
NOT_APPLICABLE = "NOT APPLICABLE"
NOT_SEEN = "NOT SEEN"
INTERRUPTIONS = ("Ctrl-C", "SIGTERM")
"""How an explorer's `stopped_by` names an interruption by the user or the system."""


def interruption(stop: BaseException) -> str:
    """`Ctrl-C` or `SIGTERM`: what interrupted the run."""
    return "SIGTERM" if isinstance(stop, Terminated) else "Ctrl-C"


def _needs(bounds: Bounds, executions: int = 1, stops: int = 0, retries: int = 0,
           updates: int = 0) -> str | None:
    """Why the bounds rule a property out, or None."""
    if bounds.executions < executions:
        return f"needs at least {executions} executions (--executions {bounds.executions})"
    if bounds.stops < stops:
        return f"needs a stop (--stops {bounds.stops})"
    if bounds.retries < retries:
        return f"needs a retry (--retries {bounds.retries})"
    if bounds.updates < updates:
        return f"needs a pipeline update (--updates {bounds.updates})"
    return None


APPLICABILITY: dict[str, Callable[[Bounds], str | None]] = {
    "supersession-happens": lambda b: _needs(b, executions=2),
    "queue-of-two-forms": lambda b: _needs(b, executions=2),
    "retry-succeeds": lambda b: _needs(b, retries=1),
    "stop-and-wait-completes": lambda b: _needs(b, stops=1),
    "stop-and-abandon-completes": lambda b: _needs(b, stops=1),
    "inbound-execution-stopped": lambda b: _needs(b, stops=1) or (
        None if b.executions >= 2 or b.toggles >= 1 else
        "needs a second execution or a transition toggle (--executions 1, --toggles 0)"),
    "nothing-in-progress-after-stop": lambda b: _needs(b, stops=1),
    "stop-and-wait-starts-nothing": lambda b: _needs(b, stops=1),
    "no-retry-after-supersession": lambda b: _needs(b, retries=1),
    "automatic-retry-at-most-once": lambda b: None if b.failures else
    "needs failures (--no-failures)",
    "no-retry-across-update": lambda b: _needs(b, retries=1, updates=1),
    "cancelling-execution-starts-nothing": lambda b: _needs(b, updates=1),
    "parallel-execution-shares-stage": lambda b: _needs(b, executions=2, updates=1),
}
"""For the properties whose subject the bounds can rule out: why they do (None: they do not).

Decision: only what is certain from the bounds alone counts; a witness that the bounds allow but
the pipeline's shape prevents is NOT SEEN, never NOT APPLICABLE."""


def not_applicable(p: Property, bounds: Bounds, model: Model | None = None) -> str | None:
    """Why ``p`` cannot apply under ``bounds`` to ``model``, or None when it can."""
    if p.name in ABOUT_ROLLBACKS and not bounds.rollbacks and not (
            model is not None and any(s.rolls_back for k in model.structures or (model,)
                                      for s in k.stages)):
        return ("needs a rollback: RollbackStage (--rollbacks 0) or a stage that rolls back on "
                "failure or by its success condition")
    why = APPLICABILITY.get(p.name)
    return why(bounds) if why is not None else None


def variant_options(v: Variant) -> str:
    """The options of `stagelock check` that a search needs to show variant `v`."""
    options = [f"--updates {v.updates}"] if v.updates else []
    if v.update_modes:
        options.append(f"--update-modes {','.join(v.update_modes)}")
    if v.rollbacks:
        options.append(f"--rollbacks {v.rollbacks}")
    return " ".join(options)


def reference_pipeline() -> Pipeline:
    """The built-in reference pipeline: Source -> Build -> Staging (deploy, then test) ->
    Production (manual approval, then deploy), as `get-pipeline` prints it."""
    import json

    text = resources.files("checker").joinpath("reference-pipeline.json").read_text()
    return pipeline_from_document(json.loads(text), "reference-pipeline.json")


def gated_pipeline() -> Pipeline:
    """The built-in gated pipeline: Source -> Build -> Staging (skipped when a variable says so:
    an entry condition with result SKIP) -> Production (a deployment window as an entry
    condition with result FAIL, a manual approval, a deploy, and an alarm as a success
    condition), QUEUED, as `get-pipeline` prints it.  It shows the rules of stage conditions
    the reference pipeline does not use."""
    import json

    text = resources.files("checker").joinpath("gated-pipeline.json").read_text()
    return pipeline_from_document(json.loads(text), "gated-pipeline.json")


EXAMPLE_PIPELINES: dict[str, Callable[[], Pipeline]] = {
    "reference": reference_pipeline, "gated": gated_pipeline}
"""The built-in pipelines by name (`spec.variants.Variant.example` names one)."""


@dataclass(frozen=True)
class CheckConfig:
    pipeline: Pipeline
    source: str
    modes: tuple[str, ...]
    bounds: Bounds = Bounds()
    properties: tuple[str, ...] = ()
    variants: tuple[str, ...] = ()
    rules_files: tuple[Variant, ...] = ()
    """Variants loaded from users' rules files (`--rules FILE.py`), applied after `variants`."""
    engine: str = "auto"
    """"auto", "compiled" or "interpreted" (`checker.engine.choose_engine`)."""
    workers: int | None = None
    """The compiled engine's workers (None: every core)."""
    storage: str = "auto"
    """The compiled engine's storage: "auto", "exact" or "fingerprint"."""
    own: tuple[PropertySpec, ...] = ()
    """The pipeline owner's own properties (`spec.patterns`), from the declaration's `stagelock:
    properties`, a model file's `[[property]]` tables or `checker.testing.check`."""
    hazards: bool = False
    """Whether to ask the hazard questions of `spec.hazards` too: for a user's declaration,
    not for the built-in reference (whose own job is CodePipeline's guarantees)."""
    declared: tuple[tuple[tuple[str, str], Declared], ...] = ()
    """What the declaration's `stagelock: actions` says about its actions (`spec.world`)."""
    ignored: tuple[str, ...] = ()
    """Hazard rules the declaration silences (`stagelock: ignore`)."""
    fail_on: str = "error"
    """The least severe hazard whose refutation makes the result REFUTED (`--fail-on`): error,
    warning, note or never.  CodePipeline's guarantees and the owner's properties always do."""
    warnings: tuple[FieldWarning, ...] = ()
    """The declaration's fields that the verdicts do not account for (`spec.unmodelled`)."""
    mode_executions: tuple[tuple[str, int], ...] = ()
    """(mode, executions) where a mode is explored with other than `bounds.executions` (the
    main job's PARALLEL mode)."""
    updates_to: tuple[tuple[str, Pipeline], ...] = ()
    """(file, declaration) of each structure an update may install (`--update-to`), beside
    keeping the pipeline's."""

    def bounds_for(self, mode: str) -> Bounds:
        """The bounds the mode is explored within."""
        executions = dict(self.mode_executions).get(mode, self.bounds.executions)
        return replace(self.bounds, executions=executions)

    @property
    def variant_names(self) -> tuple[str, ...]:
        return self.variants + tuple(v.name for v in self.rules_files)

    @property
    def notes(self) -> tuple[str, ...]:
        """What the reader of the report should know about the configuration: a built-in
        variant that needs more pipeline updates than the bounds allow changes nothing the
        search explores."""
        notes = []
        b = self.bounds
        if self.updates_to and self.hazards and not self.properties:
            notes.append(
                "with --update-to, this pipeline's hazards are not asked: they need the world "
                "of deploy targets, which is derived from one declaration; CodePipeline's "
                "guarantees and your own properties are checked")
        for name in self.variants:
            v = VARIANTS[name]
            if v.updates > b.updates:
                notes.append(
                    f"variant {name} changes only what a pipeline update does, and this search "
                    f"makes {'no update' if not b.updates else 'fewer updates than it needs'}: "
                    f"it explores what the documented rules do ({variant_options(v)} shows "
                    f"the variant)")
            elif v.rollbacks > b.rollbacks:
                notes.append(
                    f"variant {name} changes only what a stage rollback does, and this search "
                    f"makes no RollbackStage call: it explores what the documented rules do "
                    f"({variant_options(v)} shows the variant)")
            elif not set(v.update_modes) <= set(b.update_modes):
                notes.append(
                    f"variant {name} changes only what a change of execution mode does, and "
                    f"this search's updates do not change the mode to "
                    f"{' or '.join(v.update_modes)}: it explores what the documented rules do "
                    f"({variant_options(v)} shows the variant)")
        return tuple(notes)

    @property
    def asks_of_pipeline(self) -> bool:
        """Whether there are questions about this pipeline: its owner's properties, or its
        hazards (unless properties of the catalogue were chosen by name)."""
        return bool(self.own) or (self.hazards and not self.properties)


@dataclass
class Verdict:
    property: Property
    verdict: str
    detail: str = ""
    trace: list[Operation] | None = None
    severity: str = "error"
    """For a hazard: its severity (`spec.hazards.SEVERITIES`); "error" for every other
    property."""
    fails: bool = True
    """Whether this verdict, when REFUTED, makes the result REFUTED (`CheckConfig.fail_on`)."""


@dataclass
class ModeResult:
    mode: str
    model: Model
    exploration: Explored
    verdicts: list[Verdict]
    never_taken: list[Change] | None = field(default_factory=list)
    """None when the search did not finish: then no transition can be said never to happen."""
    analysis_seconds: float = 0.0
    bounds: Bounds = Bounds()
    """The bounds explored within."""
    interrupted: str | None = None
    """`Ctrl-C` or `SIGTERM` when the analysis after the search was interrupted (the verdicts
    not reached are UNDETERMINED)."""
    structural: Explored | None = None
    """The search for the hazards of the pipeline's shape, with no stop, retry or toggle (None:
    no such hazard was asked about)."""


def check_mode(
    config: CheckConfig,
    mode: str,
    progress: Callable[[int, int, int, float], None] | None = None,
) -> ModeResult:
    model = pipeline_model(config, mode)
    ours, severity, structural = pipeline_properties(config, model)
    bounds = config.bounds_for(mode)
    changes = bounds.update_modes
    guarantees = properties_for(mode, config.properties, changes)
    props = [p for p in ours if p.applies_to(mode, changes) and p.name not in structural]
    props += guarantees
    first: Explored | None = None
    if structural:
        # As lint does: a hazard of the pipeline's shape is looked for with no operator action
        # at all, so that it is never reported as the shape's when only a stop, a retry or a
        # toggle opens it (those are the operator's hazards, searched with the bounds given).
        quiet = replace(bounds, stops=0, retries=0, toggles=0)
        first = explore(model, quiet, [p for p in ours if p.name in structural], progress,
                        engine=config.engine, workers=config.workers, storage=config.storage)
    ex = explore(model, bounds, props, progress, engine=config.engine,
                 workers=config.workers, storage=config.storage)
    if first is not None:  # the search that ran first paid for loading the compiled code
        ex.compile_seconds += first.compile_seconds
    began = time.perf_counter()
    verdicts: list[Verdict] = []
    never: list[Change] | None = None
    stopped: str | None = None
    fail = SEVERITIES.index(config.fail_on) if config.fail_on in SEVERITIES else -1
    try:
        for p in ours + guarantees:
            if not p.applies_to(mode, changes):
                verdicts.append(Verdict(
                    p, NOT_APPLICABLE, f"asks about GetPipelineState's stages and actions, "
                    f"which {mode} mode does not have (\"Parallel mode does not have a pipeline "
                    f"state.\")"))
                continue
            v = verdict(p, first if first is not None and p.name in structural else ex)
            if p.name in severity:
                v.severity = severity[p.name]
                v.fails = SEVERITIES.index(v.severity) <= fail
            verdicts.append(v)
        never = never_taken(ex, model) if ex.complete else None
    except KeyboardInterrupt as stop:
        stopped = interruption(stop)
        done = {v.property.name for v in verdicts}
        verdicts += [Verdict(p, UNDETERMINED, f"not analysed: {stopped} stopped the analysis")
                     for p in ours + guarantees if p.name not in done]
    return ModeResult(mode, model, ex, verdicts, never, time.perf_counter() - began,
                      bounds, stopped, first)


def pipeline_model(config: CheckConfig, mode: str) -> Model:
    """The model a check explores: with the world of deploy targets (`spec.world`) when there
    are questions about this pipeline, else without (fewer states)."""
    world = derive_world(config.pipeline, dict(config.declared)) \
        if config.asks_of_pipeline and not config.updates_to else False
    return build_model(config.pipeline, mode, rule_set(config.variants, config.rules_files),
                       world=world, updates_to=tuple(p for _, p in config.updates_to),
                       labels=tuple(Path(f).name for f, _ in config.updates_to))


def pipeline_properties(config: CheckConfig, model: Model) -> tuple[
        list[Property], dict[str, str], set[str]]:
    """The questions about this pipeline (its hazards, then its owner's properties), each
    hazard's severity by property name, and the hazards of the pipeline's shape (looked for
    without operator actions); InputError where an owner's property names something the
    pipeline does not have."""
    if not config.asks_of_pipeline:
        return [], {}, set()
    hazards = [h for h in hazards_for(model) if h.rule.id not in config.ignored] \
        if config.hazards and not config.properties and model.world is not None else []
    own = instances(model, config.own)
    return ([h.property for h in hazards] + own,
            {h.property.name: h.severity for h in hazards},
            {h.property.name for h in hazards if not h.rule.operator})


def verdict(p: Property, ex: Explored) -> Verdict:
    verdict = _found(p, ex)
    # A violation found, or a witness seen, is what happened; anything else is NOT APPLICABLE
    # when the bounds rule the property's subject out.
    decided = verdict.verdict == REFUTED or (p.kind == "witness" and verdict.verdict == PROVED)
    why = None if decided else not_applicable(p, ex.bounds, ex.model)
    return verdict if why is None else Verdict(p, NOT_APPLICABLE, why)


def _found(p: Property, ex: Explored) -> Verdict:
    if p.kind in ("invariant", "step", "hazard"):
        found = ex.violations.get(p.name)
        if found is not None:
            return Verdict(p, REFUTED, found.detail, ex.trace(found))
        return Verdict(p, PROVED if ex.complete else UNDETERMINED)
    if p.kind == "witness":
        found = ex.witnesses.get(p.name)
        if found is not None:
            return Verdict(p, PROVED, found.detail, ex.trace(found))
        if ex.complete:
            return Verdict(p, NOT_SEEN, "never happens within the bounds, so the other "
                           "properties may be vacuous")
        return Verdict(p, UNDETERMINED, "not seen yet")
    if p.name == "no-deadlock":
        found = ex.deadlock()
        if found is not None:
            return Verdict(p, REFUTED, found.detail, ex.trace(found))
        return Verdict(p, PROVED if ex.complete else UNDETERMINED)
    if not ex.complete:
        return Verdict(p, UNDETERMINED, "needs the whole reachable graph")
    if ex.storage == "fingerprint":
        return Verdict(p, UNDETERMINED, "fingerprint storage keeps no graph to decide it on; "
                                        "use exact storage")
    found = ex.stuck(p) if p.goal is not None else ex.stuck()
    if found is not None:
        return Verdict(p, REFUTED, found.detail, ex.trace(found))
    return Verdict(p, PROVED)


def never_taken(ex: Explored, m: Model) -> list[Change]:
    """Chart transitions that no recorded step made (`Explored.chart_changes`), among those the
    pipeline's declaration allows at all (`checker.coverage.possible_changes`)."""
    b = ex.bounds
    return sorted(possible_changes(m, b.updates, b.update_modes) - ex.chart_changes())


def overall(results: list[ModeResult], complete: bool = True) -> str:
    """REFUTED if any verdict is; else UNDETERMINED if any is, or if not every mode was searched
    (``complete`` false); else PROVED (NOT APPLICABLE and NOT SEEN verdicts included)."""
    verdicts = [v.verdict for r in results for v in r.verdicts
                if v.fails or v.verdict != REFUTED]
    if REFUTED in verdicts:
        return REFUTED
    if UNDETERMINED in verdicts or not complete:
        return UNDETERMINED
    return PROVED


def not_seen(results: list[ModeResult]) -> list[str]:
    """``WITNESS (MODE)`` for each witness NOT SEEN."""
    return [f"{v.property.name} ({r.mode})" for r in results for v in r.verdicts
            if v.verdict == NOT_SEEN]


EXIT_CODES = {PROVED: 0, REFUTED: 1, UNDETERMINED: 3}
