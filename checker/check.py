"""A check: a configuration explored in each mode, and a verdict for every property.

Verdicts: PROVED (the bounded space was exhausted and the property held; for a witness: it was
seen), REFUTED (a violation with a shortest trace; for a witness: the exhausted space never shows
it), UNDETERMINED (a limit or Ctrl-C stopped the search before either could be said).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources

from checker.coverage import Change
from checker.engine import Bounds, Explored, explore
from checker.load import pipeline_from_document
from spec.declaration import Pipeline
from spec.lifecycles import COMPILED
from spec.operations import Operation
from spec.properties import Property, properties_for
from spec.rules import Model, build_model
from spec.variants import Variant, rule_set

PROVED = "PROVED"
REFUTED = "REFUTED"
UNDETERMINED = "UNDETERMINED"


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


def check_mode(
    config: CheckConfig,
    mode: str,
    progress: Callable[[int, int, int, float], None] | None = None,
) -> ModeResult:
    model = build_model(config.pipeline, mode, rule_set(config.variants, config.rules_files))
    props = properties_for(mode, config.properties)
    ex = explore(model, config.bounds, props, progress, engine=config.engine,
                 workers=config.workers)
    began = time.perf_counter()
    verdicts = [_verdict(p, ex) for p in props]
    never = never_taken(ex, model) if ex.complete else None
    return ModeResult(mode, model, ex, verdicts, never, time.perf_counter() - began,
                      config.bounds)


def _verdict(p: Property, ex: Explored) -> Verdict:
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
            return Verdict(p, REFUTED, "never happens within the bounds")
        return Verdict(p, UNDETERMINED, "not seen yet")
    if p.name == "no-deadlock":
        found = ex.deadlock()
        if found is not None:
            return Verdict(p, REFUTED, found.detail, ex.trace(found))
        return Verdict(p, PROVED if ex.complete else UNDETERMINED)
    if not ex.complete:
        return Verdict(p, UNDETERMINED, "needs the whole reachable graph")
    found = ex.stuck()
    if found is not None:
        return Verdict(p, REFUTED, found.detail, ex.trace(found))
    return Verdict(p, PROVED)


def never_taken(ex: Explored, m: Model) -> list[Change]:
    """Chart transitions that no recorded step made (`Explored.chart_changes`)."""
    wanted = {(name, s, t) for name, chart in COMPILED.items() for (s, t) in chart.pairs}
    return sorted(wanted - ex.chart_changes())


def overall(results: list[ModeResult]) -> str:
    verdicts = [v.verdict for r in results for v in r.verdicts]
    if REFUTED in verdicts:
        return REFUTED
    if UNDETERMINED in verdicts:
        return UNDETERMINED
    return PROVED


EXIT_CODES = {PROVED: 0, REFUTED: 1, UNDETERMINED: 3}
