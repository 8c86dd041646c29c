"""Checking pipeline declarations from Python: for tests about your own pipelines.

    from checker.testing import assert_proved, assert_refuted, check

    outcome = check("pipeline.json")                 # the declaration's own mode, default bounds
    assert_proved(outcome)                           # fails with the counterexample, numbered
    assert_proved(outcome, "one-execution-per-stage-lock")
    assert outcome.verdict("no-deadlock") == "PROVED"

The pytest plugin (`checker.pytest_plugin`) hands these functions to tests as the `stagelock`
fixture; they work just as well without pytest.  A failed helper raises `CheckAssertionError`
(an `AssertionError`) whose message is the failing verdicts with their traces, rendered as
`stagelock check` renders them.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from checker.annotations import property_spec
from checker.check import (
    NOT_APPLICABLE,
    NOT_SEEN,
    PROVED,
    REFUTED,
    UNDETERMINED,
    CheckConfig,
    ModeResult,
    Verdict,
    check_mode,
    overall,
    reference_pipeline,
)
from checker.config import (
    check_bound,
    check_engine,
    check_names,
    check_update_bounds,
    check_update_modes,
    check_workers,
    validate_own,
)
from checker.engine import Bounds
from checker.errors import InputError
from checker.formats import document_warnings, load_declaration, pipeline_from_document
from checker.report import render_text, render_trace, trace_steps
from checker.rulesfile import combine, load_rules_file
from spec.declaration import Pipeline
from spec.modes import MODES
from spec.operations import Operation
from spec.patterns import PropertySpec
from spec.properties import PROPERTIES, properties_for
from spec.unmodelled import FieldWarning
from spec.variants import VARIANTS

__all__ = [
    "NOT_APPLICABLE",
    "NOT_SEEN",
    "PROVED",
    "REFUTED",
    "UNDETERMINED",
    "CheckAssertionError",
    "CheckOutcome",
    "Declaration",
    "Trace",
    "UnmodelledFieldWarning",
    "assert_proved",
    "assert_refuted",
    "check",
]

Declaration = str | os.PathLike[str] | Mapping[str, Any] | Pipeline
"""A path to a declaration (JSON, YAML or a CloudFormation template), a dict in the declaration
shape (`get-pipeline` output, with or without its ``pipeline`` wrapper), or a `Pipeline`."""

_ARGUMENTS = "check()"
"""How errors in the arguments of `check` name their place, as `InputError` wants a file."""


class UnmodelledFieldWarning(UserWarning):
    """A field of the declaration given to `check` that the model does not account for
    (`spec.unmodelled`): ``FILE:LINE: PLACE: MESSAGE``.  The outcome's verdicts leave it out;
    ``outcome.warnings`` lists them too."""


class CheckAssertionError(AssertionError):
    """A failed `assert_proved` or `assert_refuted`; the message shows the verdicts and traces."""


@dataclass(frozen=True)
class Trace:
    """A shortest trace to a property's verdict: a counterexample, or where a witness was seen.

    ``len(trace)`` is its number of steps; ``str(trace)`` its numbered steps, as `stagelock
    check` prints them; ``steps`` each step as ``{"step", "operation", "changes"}`` (the JSON
    report's shape); ``operations`` the operations themselves, which `spec.rules.apply` replays.
    """

    property: str
    mode: str
    verdict: str
    detail: str
    operations: tuple[Operation, ...]
    steps: tuple[dict[str, Any], ...]
    lines: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.operations)

    def __str__(self) -> str:
        return "\n".join(self.lines)


class CheckOutcome:
    """The verdicts of a check in each mode it explored.

    ``proved`` is true when every verdict is PROVED; ``refuted`` names the refuted properties;
    ``str(outcome)`` is the text report `stagelock check` prints; ``config`` and ``results`` are
    the configuration and the per-mode results (`checker.check.ModeResult`) behind it all.
    """

    def __init__(self, config: CheckConfig, results: list[ModeResult]) -> None:
        self.config = config
        self.results = results

    @property
    def warnings(self) -> list[str]:
        """The declaration's fields that the model does not account for, each as
        ``FILE:LINE: PLACE: MESSAGE`` (also given as an `UnmodelledFieldWarning` by `check`)."""
        return [w.describe(self.config.source) for w in self.config.warnings]

    @property
    def modes(self) -> tuple[str, ...]:
        """The modes explored, in order."""
        return tuple(r.mode for r in self.results)

    @property
    def result(self) -> str:
        """REFUTED if any verdict is, else UNDETERMINED if any is, else PROVED."""
        return overall(self.results)

    @property
    def proved(self) -> bool:
        """Every verdict, in every mode explored, is PROVED, NOT APPLICABLE (the bounds rule its
        subject out) or NOT SEEN (a witness never seen: listed by ``not_seen``)."""
        return all(v.verdict in PASSING for _, v in self._all())

    @property
    def not_seen(self) -> list[str]:
        """The witnesses NOT SEEN (in any mode): the other properties may be vacuous."""
        return self._names(NOT_SEEN)

    @property
    def not_applicable(self) -> list[str]:
        """The properties the bounds rule out (in any mode)."""
        return self._names(NOT_APPLICABLE)

    @property
    def refuted(self) -> list[str]:
        """The names of the refuted properties (in any mode), in catalogue order."""
        return self._names(REFUTED)

    @property
    def undetermined(self) -> list[str]:
        """The names of the properties a limit left undecided (in any mode)."""
        return self._names(UNDETERMINED)

    def verdict(self, name: str, mode: str | None = None) -> str:
        """PROVED, REFUTED, UNDETERMINED, NOT SEEN or NOT APPLICABLE: the property's verdict in
        ``mode``, or, with no mode, over every mode where it was checked (REFUTED if it was in
        one, then UNDETERMINED, NOT SEEN, PROVED; NOT APPLICABLE when it is in every mode)."""
        verdicts = [v.verdict for _, v in self._find(name, mode)]
        for verdict in (REFUTED, UNDETERMINED, NOT_SEEN, PROVED):
            if verdict in verdicts:
                return verdict
        return NOT_APPLICABLE

    def trace(self, name: str, mode: str | None = None) -> Trace | None:
        """The property's trace in ``mode`` (with no mode: in the first mode where it was
        refuted, else the first where it has one), or None when it has none (a property that
        held, a witness never seen)."""
        found = [(r, v) for r, v in self._find(name, mode) if v.trace is not None]
        refuted = [(r, v) for r, v in found if v.verdict == REFUTED]
        chosen = refuted or found
        return _trace(*chosen[0]) if chosen else None

    def __str__(self) -> str:
        return render_text(self.config, self.results)

    def __repr__(self) -> str:
        """One line (pytest shows it when ``assert outcome.proved`` fails): the pipeline, the
        modes, the result and, when something failed, the first failing property and its
        trace."""
        head = (f"<CheckOutcome {self.config.pipeline.name} [{', '.join(self.modes)}]: "
                f"{self.result}")
        failing = self._first_failing()
        if failing is None:
            states = sum(len(r.exploration) for r in self.results)
            return f"{head}, {len(list(self._all()))} verdicts, {states:,} states>"
        r, v = failing  # the result is this verdict's: REFUTED before UNDETERMINED
        text = f"{head} {v.property.name} in {r.mode}"
        if v.detail:
            text += f": {v.detail}"
        if v.verdict == REFUTED and v.trace is not None:
            steps = trace_steps(r.model, v.trace)
            text += f", after {len(steps)} steps: " + "; ".join(
                f"{s['step']}. {s['operation']}" for s in steps)
        return text + ">"

    # ----------------------------------------------------------------------------------------

    def _all(self) -> Iterable[tuple[ModeResult, Verdict]]:
        for r in self.results:
            for v in r.verdicts:
                yield r, v

    def _names(self, verdict: str) -> list[str]:
        names = {v.property.name for _, v in self._all() if v.verdict == verdict}
        return [name for name in PROPERTIES if name in names]

    def _first_failing(self) -> tuple[ModeResult, Verdict] | None:
        for wanted in (REFUTED, UNDETERMINED):
            for r, v in self._all():
                if v.verdict == wanted:
                    return r, v
        return None

    def _find(self, name: str, mode: str | None) -> list[tuple[ModeResult, Verdict]]:
        if name not in PROPERTIES:
            raise KeyError(f"{name!r} is not a property (see `stagelock properties`)")
        if mode is not None and mode not in self.modes:
            raise KeyError(f"mode {mode!r} was not checked (checked: {', '.join(self.modes)})")
        found = [(r, v) for r, v in self._all()
                 if v.property.name == name and mode in (None, r.mode)]
        if not found:
            where = f"in {mode}" if mode else f"in {', '.join(self.modes)}"
            applies = ", ".join(PROPERTIES[name].modes)
            raise KeyError(f"{name} was not checked {where} (it applies to {applies}"
                           + (", and was not selected)" if self.config.properties else ")"))
        return found


def check(
    declaration: Declaration,
    mode: str | Iterable[str] | None = None,
    *,
    executions: int = 3,
    stops: int = 1,
    retries: int = 1,
    toggles: int = 1,
    updates: int = 0,
    update_modes: str | Iterable[str] = (),
    rollbacks: int = 0,
    failures: bool = True,
    properties: str | Iterable[str | Mapping[str, object] | PropertySpec] = (),
    variants: str | Iterable[str] = (),
    rules: str | Path | Iterable[str | Path] = (),
    max_states: int | None = None,
    resource: str | None = None,
    engine: str = "auto",
    workers: int | None = None,
) -> CheckOutcome:
    """Explore every interleaving of a bounded configuration of ``declaration`` and give a
    verdict for each property, as `stagelock check` does.

    ``mode``: None for the declaration's own ``executionMode``, ``"all"`` for all three, a mode
    or a list of modes.  The bounds, ``update_modes`` and ``failures`` are `stagelock check`'s
    options of the same names; ``properties`` (default: all of CodePipeline's guarantees that
    apply) takes their names and properties of one's own (`spec.patterns`: a mapping such as
    ``{"pattern": "never-older", "target": "StackName=web-prod"}``, or a
    `spec.patterns.PropertySpec`), which
    are checked with the pipeline's deploy targets; ``variants`` takes names (`stagelock
    properties`, `stagelock variants`); ``rules`` takes paths of rules files (variants of one's
    own, as `stagelock check --rules`).  A mode where none of the selected properties applies is
    not explored.  ``resource`` picks the pipeline of a CloudFormation template that has several.
    ``engine`` (``"auto"``, ``"compiled"`` or ``"interpreted"``) and ``workers`` (default: every
    core) are `stagelock check`'s ``--engine`` and ``--workers``: by default the compiled engine
    runs wherever it can, and rules files always run on the interpreted one.
    Bad input (a file, a declaration or an argument) raises `checker.errors.InputError`.
    """
    pipeline, source, found = _pipeline(declaration, resource)
    for w in found:
        warnings.warn(UnmodelledFieldWarning(w.describe(source)), stacklevel=2)
    modes = _modes(mode, pipeline)
    bounds = Bounds(
        executions=check_bound(_ARGUMENTS, "executions", "executions", executions),
        stops=check_bound(_ARGUMENTS, "stops", "stops", stops),
        retries=check_bound(_ARGUMENTS, "retries", "retries", retries),
        toggles=check_bound(_ARGUMENTS, "toggles", "toggles", toggles),
        updates=check_bound(_ARGUMENTS, "updates", "updates", updates),
        rollbacks=check_bound(_ARGUMENTS, "rollbacks", "rollbacks", rollbacks),
        failures=_flag("failures", failures),
        max_states=(None if max_states is None
                    else check_bound(_ARGUMENTS, "max_states", "max_states", max_states)),
        update_modes=check_update_modes(
            _ARGUMENTS, "update_modes",
            update_modes if isinstance(update_modes, str) else list(update_modes)),
    )
    check_update_bounds(_ARGUMENTS, "update_modes", bounds)
    listed = _listed(properties) if isinstance(properties, str) else list(properties)
    own = tuple(property_spec(p, _ARGUMENTS, f"properties[{i}]")
                for i, p in enumerate(listed) if not isinstance(p, str))
    selected = check_names(_ARGUMENTS, "properties", [p for p in listed if isinstance(p, str)],
                           PROPERTIES, "property")
    chosen = check_names(_ARGUMENTS, "variants", _listed(variants), VARIANTS, "variant")
    if selected:
        applicable = tuple(m for m in modes
                           if properties_for(m, selected, bounds.update_modes))
        if not applicable:
            raise InputError(_ARGUMENTS, "properties",
                             f"expected a property that applies to {', '.join(modes)}: "
                             + "; ".join(f"{n} applies to {PROPERTIES[n].applicability()}"
                                         for n in selected))
        modes = applicable
    paths = [rules] if isinstance(rules, str | Path) else list(rules)
    loaded = tuple(load_rules_file(path) for path in paths)
    combine(_ARGUMENTS, "variants/rules", chosen, loaded)
    config = CheckConfig(pipeline, source, modes, bounds, selected, chosen, loaded,
                         check_engine(_ARGUMENTS, "engine", engine),
                         None if workers is None else check_workers(_ARGUMENTS, "workers", workers),
                         own=own, warnings=found)
    validate_own(config)
    results = []
    for m in modes:
        result = check_mode(config, m)
        if result.exploration.stopped_by == "Ctrl-C":
            raise KeyboardInterrupt
        results.append(result)
    return CheckOutcome(config, results)


PASSING = (PROVED, NOT_APPLICABLE, NOT_SEEN)
"""The verdicts `assert_proved` accepts when no property is named."""


def assert_proved(outcome: CheckOutcome, *names: str) -> None:
    """Every verdict is PROVED, NOT APPLICABLE or NOT SEEN (with ``names``: every verdict of
    those properties is PROVED); otherwise raise `CheckAssertionError` showing each other
    verdict and its trace."""
    __tracebackhide__ = True
    for name in names:
        outcome._find(name, None)  # an unknown or unchecked name is an error, not a pass
    failing = [(r, v) for r, v in outcome._all()
               if (v.property.name in names and v.verdict != PROVED)
               or (not names and v.verdict not in PASSING)]
    if not failing:
        return
    what = ", ".join(dict.fromkeys(v.property.name for _, v in failing))
    lines = [f"not PROVED: {what}", _title(outcome)] + _verdict_lines(failing)
    raise CheckAssertionError("\n".join(lines))


def assert_refuted(
    outcome: CheckOutcome, name: str, mode: str | None = None, steps: int | None = None
) -> None:
    """The property is REFUTED (in ``mode``, or in some mode), and, with ``steps``, its
    shortest counterexample has exactly that many steps (the shortest over the modes where it
    was refuted); otherwise raise `CheckAssertionError` showing the verdicts and traces."""
    __tracebackhide__ = True
    found = outcome._find(name, mode)
    refuted = [(r, v) for r, v in found if v.verdict == REFUTED]
    where = f" in {mode}" if mode else ""
    if not refuted:
        lines = [f"expected {name} to be REFUTED{where}, but it is not", _title(outcome)]
        raise CheckAssertionError("\n".join(lines + _verdict_lines(found)))
    if steps is None:
        return
    lengths = [len(v.trace) for _, v in refuted if v.trace is not None]
    if lengths and min(lengths) == steps:
        return
    got = f"{min(lengths)} steps" if lengths else "no trace"
    lines = [f"expected {name} to be REFUTED{where} after {steps} steps, got {got}",
             _title(outcome)]
    raise CheckAssertionError("\n".join(lines + _verdict_lines(refuted)))


# --------------------------------------------------------------------------------------------


def _pipeline(declaration: Declaration, resource: str | None
              ) -> tuple[Pipeline, str, tuple[FieldWarning, ...]]:
    """The pipeline, where it came from, and the fields of its declaration that the model does
    not account for."""
    if isinstance(declaration, Pipeline):
        if resource is not None:
            raise InputError(_ARGUMENTS, "resource",
                             "expected no resource with a Pipeline value")
        if declaration == reference_pipeline():
            return declaration, "built-in reference pipeline", ()
        return declaration, "a Pipeline value", ()
    if isinstance(declaration, Mapping):
        source = "declaration given as a dict"
        doc = dict(declaration)
        return (pipeline_from_document(doc, source, resource), source,
                document_warnings(doc, source, resource=resource))
    if isinstance(declaration, str | os.PathLike):
        path = os.fspath(declaration)
        pipeline, found = load_declaration(path, resource)
        return pipeline, path, found
    raise InputError(_ARGUMENTS, "declaration",
                     "expected a path, a dict in the declaration shape or a Pipeline, got "
                     f"{type(declaration).__name__}")


def _modes(mode: str | Iterable[str] | None, pipeline: Pipeline) -> tuple[str, ...]:
    if mode is None:
        return (pipeline.execution_mode,)
    if mode == "all":
        return tuple(MODES)
    modes = check_names(_ARGUMENTS, "mode", _listed(mode), dict(MODES), "mode")
    if not modes:
        raise InputError(_ARGUMENTS, "mode", "expected a mode, a list of modes, 'all' or None")
    return tuple(dict.fromkeys(modes))


def _listed(names: str | Iterable[str]) -> list[Any]:
    if isinstance(names, str):
        return [names]
    return list(names)


def _flag(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise InputError(_ARGUMENTS, name, f"expected true or false, got {value!r}")
    return value


def _trace(r: ModeResult, v: Verdict) -> Trace:
    ops = v.trace or []
    return Trace(
        property=v.property.name,
        mode=r.mode,
        verdict=v.verdict,
        detail=v.detail,
        operations=tuple(ops),
        steps=tuple(trace_steps(r.model, ops)),
        lines=tuple(render_trace(r.model, ops, indent="")),
    )


def _title(outcome: CheckOutcome) -> str:
    config = outcome.config
    title = f"stagelock check: {config.pipeline.name} ({config.source}); {config.bounds.describe()}"
    if config.variants:
        title += f"; rule variants: {', '.join(config.variants)}"
    return title


def _verdict_lines(verdicts: list[tuple[ModeResult, Verdict]]) -> list[str]:
    """The verdicts as `stagelock check` prints them, under a heading per mode."""
    lines: list[str] = []
    mode = None
    for r, v in verdicts:
        if r.mode != mode:
            mode = r.mode
            ex = r.exploration
            status = "exhausted" if ex.complete else (
                "stopped: every property decided" if ex.stopped_by == "every property decided"
                else f"stopped by {ex.stopped_by}")
            lines.append(f"{r.mode}: {len(ex):,} states, {status}")
        kind = "" if v.property.kind in ("invariant", "step") else f" [{v.property.kind}]"
        lines.append(f"  {v.verdict:<12} {v.property.name}  {v.property.meaning}{kind}")
        if v.trace is not None and v.verdict == REFUTED:
            lines.append(f"      {v.detail}, after {len(v.trace)} steps:")
            lines += render_trace(r.model, v.trace, indent="      ")
        elif v.trace is not None and v.verdict == PROVED:
            lines.append(f"      seen after {len(v.trace)} steps: {v.detail}")
            lines += render_trace(r.model, v.trace, indent="      ")
        elif v.detail:
            lines.append(f"      {v.detail}")
    return lines

