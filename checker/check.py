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
from dataclasses import dataclass, field
from importlib import resources

from checker.coverage import Change
from checker.engine import Bounds, Explored, explore
from checker.errors import Terminated
from checker.formats import pipeline_from_document
from spec.declaration import Pipeline
from spec.lifecycles import COMPILED
from spec.operations import Operation
from spec.properties import Property, properties_for
from spec.rules import Model, build_model
from spec.variants import Variant, rule_set

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


def _needs(bounds: Bounds, executions: int = 1, stops: int = 0, retries: int = 0) -> str | None:
    """Why the bounds rule a property out, or None."""
    if bounds.executions < executions:
        return f"needs at least {executions} executions (--executions {bounds.executions})"
    if bounds.stops < stops:
        return f"needs a stop (--stops {bounds.stops})"
    if bounds.retries < retries:
        return f"needs a retry (--retries {bounds.retries})"
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
}
"""For the properties whose subject the bounds can rule out: why they do (None: they do not).

Decision: only what is certain from the bounds alone counts; a witness that the bounds allow but
the pipeline's shape prevents is NOT SEEN, never NOT APPLICABLE."""


def not_applicable(p: Property, bounds: Bounds) -> str | None:
    """Why ``p`` cannot apply under ``bounds``, or None when it can."""
    why = APPLICABILITY.get(p.name)
    return why(bounds) if why is not None else None


def reference_pipeline() -> Pipeline:
    """The built-in reference pipeline: Source -> Build -> Staging (deploy, then test) ->
    Production (manual approval, then deploy), as `get-pipeline` prints it."""
    import json

    text = resources.files("checker").joinpath("reference-pipeline.json").read_text()
    return pipeline_from_document(json.loads(text), "reference-pipeline.json")


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

    @property
    def variant_names(self) -> tuple[str, ...]:
        return self.variants + tuple(v.name for v in self.rules_files)


@dataclass
class Verdict:
    property: Property
    verdict: str
    detail: str = ""
    trace: list[Operation] | None = None


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


def check_mode(
    config: CheckConfig,
    mode: str,
    progress: Callable[[int, int, int, float], None] | None = None,
) -> ModeResult:
    model = build_model(config.pipeline, mode, rule_set(config.variants, config.rules_files))
    props = properties_for(mode, config.properties)
    ex = explore(model, config.bounds, props, progress, engine=config.engine,
                 workers=config.workers, storage=config.storage)
    began = time.perf_counter()
    verdicts: list[Verdict] = []
    never: list[Change] | None = None
    stopped: str | None = None
    try:
        for p in props:
            verdicts.append(_verdict(p, ex))
        never = never_taken(ex, model) if ex.complete else None
    except KeyboardInterrupt as stop:
        stopped = interruption(stop)
        verdicts += [Verdict(p, UNDETERMINED, f"not analysed: {stopped} stopped the analysis")
                     for p in props[len(verdicts):]]
    return ModeResult(mode, model, ex, verdicts, never, time.perf_counter() - began,
                      config.bounds, stopped)


def _verdict(p: Property, ex: Explored) -> Verdict:
    verdict = _found(p, ex)
    # A violation found, or a witness seen, is what happened; anything else is NOT APPLICABLE
    # when the bounds rule the property's subject out.
    decided = verdict.verdict == REFUTED or (p.kind == "witness" and verdict.verdict == PROVED)
    why = None if decided else not_applicable(p, ex.bounds)
    return verdict if why is None else Verdict(p, NOT_APPLICABLE, why)


def _found(p: Property, ex: Explored) -> Verdict:
    if p.kind in ("invariant", "step"):
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
    found = ex.stuck()
    if found is not None:
        return Verdict(p, REFUTED, found.detail, ex.trace(found))
    return Verdict(p, PROVED)


def never_taken(ex: Explored, m: Model) -> list[Change]:
    """Chart transitions that no recorded step made (`Explored.chart_changes`)."""
    wanted = {(name, s, t) for name, chart in COMPILED.items() for (s, t) in chart.pairs}
    return sorted(wanted - ex.chart_changes())


def overall(results: list[ModeResult], complete: bool = True) -> str:
    """REFUTED if any verdict is; else UNDETERMINED if any is, or if not every mode was searched
    (``complete`` false); else PROVED (NOT APPLICABLE and NOT SEEN verdicts included)."""
    verdicts = [v.verdict for r in results for v in r.verdicts]
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
