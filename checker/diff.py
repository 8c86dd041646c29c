"""Where two rule sets differ in what a user can observe: `stagelock diff`.

The search runs both rule sets side by side, breadth first, over their synchronous product: a
node is a state under the base rules, a state under the other rules, and the budgets used so far
(stops, retries, transition disables, as `checker.engine.spend` counts them).  From a node, every
operation that either rule set accepts is tried under both.  When one refuses what the other
accepts, or both accept it but the user would see different states afterwards, that is a
*difference* at that node; otherwise the search goes on with the pair of next states.  Because
the search is breadth first, the first difference of each kind is a shortest witness.

The two rule sets' property verdicts are compared too (`checker.check.check_mode` under each).

The product search is this module's own breadth-first search over the readable rules: it
compares the Python states both rule sets give after every operation, so it never runs on the
compiled engine.  The verdict searches go through `checker.engine.explore` (`--engine`,
`--workers`), and the report says which engine checked them.
"""

from __future__ import annotations

import json
import os
import time
from array import array
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from checker.check import (
    INTERRUPTIONS,
    REFUTED,
    UNDETERMINED,
    CheckConfig,
    Verdict,
    check_mode,
    interruption,
    reference_pipeline,
)
from checker.config import (
    check_bound,
    check_update_bounds,
    check_update_modes,
    check_workers,
    declaration_config,
    load_model_file,
    read_toml,
)
from checker.engine import STATE_FIELDS as _N
from checker.engine import Bounds, allowed, describe_engine, spend, walk_back
from checker.errors import InputError
from checker.formats import source_in
from checker.report import (
    describe_changes,
    describe_operation,
    execution_names,
    render_trace,
    trace_steps,
)
from checker.rulesfile import combine, load_named_rules_file, load_rules_file
from checker.safeio import write_atomically
from checker.scenario import operation_step, scenario_document
from spec.declaration import Pipeline
from spec.modes import MODES
from spec.operations import (
    Operation,
    StartPipelineExecution,
)
from spec.rules import DOCUMENTED, Model, apply, build_model, refusal, successors
from spec.ruleset import RuleSet
from spec.state import Execution, State
from spec.unmodelled import FieldWarning
from spec.variants import VARIANTS, Variant

SAME = "SAME"
DIFFERENT = "DIFFERENT"
EXIT_CODES = {SAME: 0, DIFFERENT: 1, UNDETERMINED: 3}

PRODUCT_ENGINE = "interpreted (pairs the readable rules' own states)"
"""The product search runs on the readable rules only: it compares the two rule sets' Python
states after every operation, which no compiled form stores."""
REFUSED_UNDER_BASE = "refused-under-base"
REFUSED_UNDER_OTHER = "refused-under-other"
DIFFERENT_RESULT = "different-result"


def observe(state: State) -> tuple[Any, ...]:
    """What a user can see of a state: each execution's status and its actions' statuses, each
    stage's latest execution (`latest`), the executions waiting in front of each stage
    (`inbound`) and each inbound transition's state (`disabled`).

    Everything in `State` except each execution's `stop` kind, `retried` flag, position
    (`stage`, `waiting`) and `expired` approvals; so the state's other fields too (what deploy
    targets hold, for a model that tracks them).  An execution's automatic retries of its stage
    (`retryStageMetadata.autoStageRetryAttempt`) are seen where there are any.  A timed-out
    approval is seen Failed, as a rejected one is: GetPipelineState shows them alike, and only
    the exception a late answer gets tells them apart.  The stage condition an execution is at
    (`beforeEntryConditionState`, `onSuccessConditionState`) is seen where there is one, and
    the pipeline's structure version (`pipelineVersion`) and the one each execution started
    under once an update has been made.
    Hashable; equal observations mean the service shows the states alike."""
    seen = (tuple([_seen(ex) for ex in state.executions]), state.latest, state.inbound,
            state.disabled, state.revisions, state.in_flight)
    return seen + (state.version,) if state.version else seen


def _seen(ex: Execution) -> tuple[Any, ...]:
    seen: tuple[Any, ...] = (ex.status, ex.actions)
    if ex.auto_retries:
        seen += (ex.auto_retries,)
    if ex.condition is not None:
        seen += (ex.condition,)
    if ex.version:
        seen += ("version", ex.version)
    return seen


# --------------------------------------------------------------------------------------------
# Rule sets named on the command line (or in a configurations file)


@dataclass(frozen=True)
class RuleChoice:
    """A rule set as the user named it: built-in variants and variants read from rules files,
    applied in order to the documented rules."""

    text: str
    variants: tuple[str, ...] = ()
    files: tuple[Variant, ...] = ()

    def rule_set(self, file: str = "command line", place: str = "--rules") -> RuleSet:
        return combine(file, place, self.variants, self.files)

    def check_config(self, pipeline: Pipeline, source: str, mode: str, bounds: Bounds,
                     engine: str = "auto", workers: int | None = None) -> CheckConfig:
        return CheckConfig(pipeline, source, (mode,), bounds, (), self.variants, self.files,
                           engine, workers)


DOCUMENTED_CHOICE = RuleChoice("documented")


def parse_rules(text: str, file: str, place: str, base: Path | None = None) -> RuleChoice:
    """`documented`, a built-in variant, several joined with `+`, or a rules file (`*.py`,
    relative to `base` when given: then ``file`` is a data file, which may name a rules file
    only when allowed, see `checker.rulesfile.load_named_rules_file`).  InputError for anything
    else, or for variants that replace the same rule."""
    if text == "documented":
        return DOCUMENTED_CHOICE

    def path_of(part: str) -> Path:
        return base / part if base is not None else Path(part)

    parts = [text] if text.endswith(".py") and path_of(text).is_file() else text.split("+")
    variants: list[str] = []
    files: list[Variant] = []
    for part in parts:
        if part in VARIANTS:
            variants.append(part)
        elif part.endswith(".py"):
            files.append(load_named_rules_file(path_of(part), file, place) if base is not None
                         else load_rules_file(path_of(part)))
        else:
            raise InputError(file, place, f"expected documented, a rule variant "
                             f"({', '.join(VARIANTS)}), several joined with +, or a rules "
                             f"file (.py), got {part!r}")
    choice = RuleChoice(text, tuple(variants), tuple(files))
    choice.rule_set(file, place)  # refuse clashes now
    return choice


def choice_of(rules: RuleSet) -> RuleChoice:
    """A rule set built in code (the documented rules with some rules replaced, e.g. by
    `RuleSet.replace`) as a choice that `check_mode` can run."""
    if rules is DOCUMENTED:
        return DOCUMENTED_CHOICE
    overrides = {name: rules.rules[name] for name in rules.replaced}
    return RuleChoice(rules.name, (), (Variant(rules.name, rules.name, False,
                                               overrides=overrides),))


# --------------------------------------------------------------------------------------------
# The product search


@dataclass(frozen=True)
class Outcome:
    """What one rule set does with an operation: refuses it (`refused`, the API error), or
    accepts it and reaches `state`."""

    refused: str | None
    state: State | None


@dataclass
class Difference:
    """One kind of difference (what differs, and for which operation type) with how often the
    search met it and the first (so shortest) witness: the product node and the operation."""

    kind: str
    operation: str
    base_error: str | None
    other_error: str | None
    count: int
    node: int
    op: Operation
    base: Outcome
    other: Outcome

    def title(self, base: str, other: str) -> str:
        if self.kind == REFUSED_UNDER_BASE:
            return (f"{self.operation}: refused under {base} ({self.base_error}), accepted "
                    f"under {other}")
        if self.kind == REFUSED_UNDER_OTHER:
            return (f"{self.operation}: accepted under {base}, refused under {other} "
                    f"({self.other_error})")
        return f"{self.operation}: accepted under both, with different results"


@dataclass
class Product:
    """The searched product: nodes numbered in the order found (so by depth), each node's
    parent and the operation that reached it, and the differences by kind."""

    base: Model
    other: Model
    bounds: Bounds
    nodes: list[tuple[Any, ...]]
    parent: array
    via: list[Operation | None]
    differences: dict[tuple[str, str, str | None, str | None], Difference] = field(
        default_factory=dict)
    complete: bool = False
    stopped_by: str | None = None
    seconds: float = 0.0

    def __len__(self) -> int:
        return len(self.nodes)

    def states(self, i: int) -> tuple[State, State]:
        """The base state and the other state of node i."""
        node = self.nodes[i]
        return State._make(node[:_N]), State._make(node[_N:2 * _N])

    def path(self, target: int) -> list[Operation]:
        """The operations from the initial node to node `target` (a shortest path)."""
        return walk_back(self.parent, self.via, target)

    def witness(self, d: Difference) -> list[Operation]:
        """The common prefix and then the diverging operation."""
        return self.path(d.node) + [d.op]


def _outcome(m: Model, state: State, op: Operation) -> Outcome:
    """For an operation the rule set's `successors` did not offer: refused, or (an operation
    the explorer leaves out, such as a retry of another stage) what it does."""
    name = refusal(m, state, op)
    if name is not None:
        return Outcome(name, None)
    return Outcome(None, apply(m, state, op))


def product_search(base: Model, other: Model, bounds: Bounds, first: bool = False) -> Product:
    """Search the product of the two models breadth first (see the module's docstring).

    `bounds.max_states` limits the product nodes, `bounds.max_seconds` the time; `first` ends
    the search at the first difference found (a shortest witness)."""
    # One shared value per operation, so that both sides' operations are the same objects.
    other = replace(other, operations=base.operations)
    init = base.initial()
    start = (*init, *other.initial(), 0, 0, 0)
    index: dict[tuple[Any, ...], int] = {start: 0}
    nodes: list[tuple[Any, ...]] = [start]
    parent = array("i", [0])
    via: list[Operation | None] = [None]
    result = Product(base, other, bounds, nodes, parent, via)
    differences = result.differences
    began = time.perf_counter()
    deadline = None if bounds.max_seconds is None else began + bounds.max_seconds
    max_states = bounds.max_states
    current = 0

    def differ(kind: str, op: Operation, a: Outcome, b: Outcome) -> None:
        key = (kind, type(op).__name__, a.refused, b.refused)
        found = differences.get(key)
        if found is None:
            differences[key] = Difference(kind, key[1], a.refused, b.refused, 1, current, op, a,
                                          b)
        else:
            found.count += 1

    try:
        while current < len(nodes):
            if deadline is not None and current & 1023 == 0 and time.perf_counter() > deadline:
                result.stopped_by = f"--max-seconds {bounds.max_seconds:g}"
                break
            if first and differences:
                result.stopped_by = "the first difference"
                break
            node = nodes[current]
            sa = State._make(node[:_N])
            sb = State._make(node[_N:2 * _N])
            stops, retries, toggles = node[2 * _N:]
            flags = allowed(bounds, sa, stops, retries, toggles)
            steps_a = successors(base, sa, **flags)
            steps_b = successors(other, sb, **flags)
            pairs: list[tuple[Operation, State, State]] = []
            if len(steps_a) == len(steps_b) and all(
                oa is ob for (oa, _), (ob, _) in zip(steps_a, steps_b, strict=True)
            ):
                pairs = [(op, ta, tb) for (op, ta), (_, tb) in zip(steps_a, steps_b, strict=True)]
            else:
                by_b = dict(steps_b)
                for op, ta in steps_a:
                    tb = by_b.pop(op, None)
                    if tb is None:
                        out = _outcome(other, sb, op)
                        if out.refused is not None:
                            differ(REFUSED_UNDER_OTHER, op, Outcome(None, ta), out)
                            continue
                        assert out.state is not None
                        tb = out.state
                    pairs.append((op, ta, tb))
                for op, tb in by_b.items():
                    out = _outcome(base, sa, op)
                    if out.refused is not None:
                        differ(REFUSED_UNDER_BASE, op, out, Outcome(None, tb))
                        continue
                    assert out.state is not None
                    pairs.append((op, out.state, tb))
            for op, ta, tb in pairs:
                if ta == tb:
                    tb = ta  # share the parts
                elif observe(ta) != observe(tb):
                    differ(DIFFERENT_RESULT, op, Outcome(None, ta), Outcome(None, tb))
                    continue
                key = (*ta, *tb, *spend(op, stops, retries, toggles))
                if key not in index:
                    if max_states is not None and len(nodes) >= max_states:
                        result.stopped_by = f"--max-states {max_states}"
                        raise _Stop
                    index[key] = len(nodes)
                    nodes.append(key)
                    parent.append(current)
                    via.append(op)
            current += 1
        else:
            result.complete = True
    except _Stop:
        pass
    except KeyboardInterrupt as stop:
        result.stopped_by = interruption(stop)
    result.seconds = time.perf_counter() - began
    return result


class _Stop(Exception):
    pass


# --------------------------------------------------------------------------------------------
# A diff: the product search and the verdicts, per mode


@dataclass(frozen=True)
class DiffConfig:
    pipeline: Pipeline
    source: str
    modes: tuple[str, ...]
    bounds: Bounds
    base: RuleChoice
    other: RuleChoice
    engine: str = "auto"
    """The engine of the verdict searches (`checker.engine.explore`); the product search is
    always this module's own, over the readable rules."""
    workers: int | None = None
    warnings: tuple[FieldWarning, ...] = ()
    """The declaration's fields that the model does not account for (`spec.unmodelled`)."""


@dataclass
class VerdictPair:
    name: str
    """The property's name."""
    base: Verdict
    other: Verdict

    @property
    def undetermined(self) -> bool:
        return UNDETERMINED in (self.base.verdict, self.other.verdict)


@dataclass
class ModeDiff:
    mode: str
    product: Product
    verdicts: list[VerdictPair]
    """The properties whose verdicts differ."""
    engines: tuple[str, str] | None = None
    """Which engine checked the verdicts under the base and the other rules, in words (None:
    the verdicts were not checked)."""
    interrupted: str | None = None
    """Ctrl-C or SIGTERM when it stopped the product search or the verdicts' searches."""

    @property
    def result(self) -> str:
        if self.product.differences or any(not v.undetermined for v in self.verdicts):
            return DIFFERENT
        if not self.product.complete or self.verdicts or self.interrupted:
            return UNDETERMINED
        return SAME


def diff_mode(config: DiffConfig, mode: str, verdicts: bool = True) -> ModeDiff:
    """The product search in one mode and, with `verdicts`, the properties whose verdicts
    differ (each rule set checked on its own, with the same bounds)."""
    base = build_model(config.pipeline, mode, config.base.rule_set())
    other = build_model(config.pipeline, mode, config.other.rule_set())
    product = product_search(base, other, config.bounds)
    pairs: list[VerdictPair] = []
    stopped = product.stopped_by if product.stopped_by in INTERRUPTIONS else None
    if verdicts and stopped is None:
        try:
            a = check_mode(config.base.check_config(config.pipeline, config.source, mode,
                                                    config.bounds, config.engine,
                                                    config.workers), mode)
            b = check_mode(config.other.check_config(config.pipeline, config.source, mode,
                                                     config.bounds, config.engine,
                                                     config.workers), mode)
        except KeyboardInterrupt as stop:
            return ModeDiff(mode, product, pairs, interrupted=interruption(stop))
        for r in (a, b):
            by = r.exploration.stopped_by
            stopped = stopped or (by if by in INTERRUPTIONS else r.interrupted)
        for va, vb in zip(a.verdicts, b.verdicts, strict=True):
            if va.verdict != vb.verdict:
                pairs.append(VerdictPair(va.property.name, va, vb))
        engines = (describe_engine(a.exploration), describe_engine(b.exploration))
        return ModeDiff(mode, product, pairs, engines, stopped)
    return ModeDiff(mode, product, pairs, interrupted=stopped)


def overall(results: list[ModeDiff], complete: bool = True) -> str:
    """DIFFERENT, else UNDETERMINED (also when ``complete`` is false: a mode was not searched),
    else SAME."""
    outcomes = [r.result for r in results]
    if DIFFERENT in outcomes:
        return DIFFERENT
    if UNDETERMINED in outcomes or not complete:
        return UNDETERMINED
    return SAME


# --------------------------------------------------------------------------------------------
# Reports


def _side(m: Model, state: State, out: Outcome, names: list[str]) -> dict[str, Any]:
    if out.refused is not None:
        return {"refused": out.refused, "changes": []}
    assert out.state is not None
    return {"refused": None, "changes": describe_changes(m, state, out.state, names)}


def divergence(product: Product, d: Difference) -> dict[str, Any]:
    """The diverging step: its number, the operation, and under each rule set the API error
    (null when accepted) and the changes it makes."""
    ops = product.witness(d)
    names = execution_names(product.base, ops)
    sa, sb = product.states(d.node)
    return {
        "step": len(ops),
        "operation": describe_operation(product.base, d.op, names, sa),
        "base": _side(product.base, sa, d.base, names),
        "other": _side(product.other, sb, d.other, names),
    }


def _verdict_json(v: Verdict) -> dict[str, Any]:
    return {"verdict": v.verdict, "traceLength": len(v.trace) if v.trace is not None else None}


def _verdict_text(v: Verdict) -> str:
    if v.trace is None:
        return v.verdict
    what = "counterexample" if v.verdict == REFUTED else "witness"
    return f"{v.verdict} ({what} of {len(v.trace)} steps)"


def bounds_json(b: Bounds) -> dict[str, Any]:
    return {"executions": b.executions, "stops": b.stops, "retries": b.retries,
            "toggles": b.toggles, "updates": b.updates, "updateModes": list(b.update_modes),
            "rollbacks": b.rollbacks,
            "failures": b.failures, "maxStates": b.max_states,
            "maxSeconds": b.max_seconds}


def to_json(config: DiffConfig, results: list[ModeDiff], limit: int = 10) -> dict[str, Any]:
    """The diff as one JSON object (schema in README, "stagelock diff")."""
    modes = []
    for r in results:
        p = r.product
        shown = list(p.differences.values())[:limit]
        modes.append({
            "mode": r.mode,
            "productStates": len(p),
            "complete": p.complete,
            "stoppedBy": p.stopped_by,
            "interruptedBy": r.interrupted,
            "seconds": round(p.seconds, 3),
            "differenceKinds": len(p.differences),
            "differences": [{
                "kind": d.kind,
                "operation": d.operation,
                "count": d.count,
                "base": d.base_error,
                "other": d.other_error,
                "trace": trace_steps(p.base, p.path(d.node)),
                "divergence": divergence(p, d),
            } for d in shown],
            "verdicts": [{"property": v.name, "base": _verdict_json(v.base),
                          "other": _verdict_json(v.other)} for v in r.verdicts],
            "engines": None if r.engines is None else {
                "product": PRODUCT_ENGINE, "base": r.engines[0], "other": r.engines[1]},
        })
    return {
        "base": config.base.text,
        "other": config.other.text,
        "pipeline": config.pipeline.name,
        "source": config.source,
        "bounds": bounds_json(config.bounds),
        "warnings": [w.to_json(config.source) for w in config.warnings],
        "modes": modes,
        "notSearched": list(config.modes[len(results):]),
        "result": overall(results, complete=len(results) == len(config.modes)),
    }


def render_text(config: DiffConfig, results: list[ModeDiff], limit: int = 10) -> str:
    base, other = config.base.text, config.other.text
    stages = " -> ".join(s.name for s in config.pipeline.stages)
    lines = [f"stagelock diff: {base} vs {other} on {config.pipeline.name} ({config.source})",
             f"  stages: {stages}",
             f"  bounds: {config.bounds.describe()}"]
    lines += [f"  warning: {w.describe(config.source)}" for w in config.warnings]
    for r in results:
        p = r.product
        status = "exhausted" if p.complete else f"stopped by {p.stopped_by}"
        found = len(p.differences)
        summary = (f"{found} kind{'s' if found != 1 else ''} of difference" if found
                   else "no observable difference")
        lines.append("")
        lines.append(f"{r.mode}: {len(p):,} product states, {p.seconds:.1f} s, {status}: "
                     f"{summary}")
        for d in list(p.differences.values())[:limit]:
            ops = p.witness(d)
            lines.append(f"  {d.title(base, other)}")
            lines.append(f"      {d.count:,} time{'s' if d.count != 1 else ''}; shortest "
                         f"witness, {len(ops)} step{'s' if len(ops) != 1 else ''}:")
            lines += _witness_lines(p, d, base, other)
        if found > limit:
            lines.append(f"  ... and {found - limit} more kinds (--limit)")
        if r.engines is not None:
            lines.append(f"  product search: {PRODUCT_ENGINE}; verdicts: {r.engines[0]} under "
                         f"{base}, {r.engines[1]} under {other}")
        for v in r.verdicts:
            if v is r.verdicts[0]:
                lines.append("  verdicts that differ:")
            lines.append(f"    {v.name}: {_verdict_text(v.base)} under {base}, "
                         f"{_verdict_text(v.other)} under {other}")
        if r.interrupted:
            lines.append(f"  interrupted by {r.interrupted}: the properties' verdicts were not "
                         "all compared (UNDETERMINED)")
    stopped = next((r.interrupted for r in results if r.interrupted), None)
    for mode in config.modes[len(results):]:
        lines.append("")
        lines.append(f"{mode}: not searched ({stopped} ended the run first): UNDETERMINED")
    lines.append("")
    lines.append(f"Result: {overall(results, complete=len(results) == len(config.modes))}")
    return "\n".join(lines)


def _witness_lines(p: Product, d: Difference, base: str, other: str) -> list[str]:
    prefix = p.path(d.node)
    lines = render_trace(p.base, prefix, indent="      ") if prefix else []
    step = divergence(p, d)
    lines.append(f"      {step['step']:>2}. {step['operation']}")
    for label, side in ((base, step["base"]), (other, step["other"])):
        if side["refused"] is not None:
            what = f"refused with {side['refused']}"
        else:
            what = "; ".join(side["changes"]) or "no visible change"
        lines.append(f"          under {label}: {what}")
    return lines


def witness_scenario(config: DiffConfig, r: ModeDiff, out: Path) -> dict[str, Any] | None:
    """The first (shortest) witness of `r` as a scenario that passes under OTHER and fails under
    BASE; None when there is no difference."""
    p = r.product
    if not p.differences:
        return None
    d = next(iter(p.differences.values()))
    prefix = p.path(d.node)
    files = {v.name: os.path.relpath(v.source, out.resolve().parent) for v in config.other.files}
    base, other = config.base.text, config.other.text
    step = len(prefix) + 1
    if d.kind == REFUSED_UNDER_OTHER:
        where = f"step {step} (accepted there, refused with {d.other_error} here)"
    elif d.kind == REFUSED_UNDER_BASE:
        where = f"step {step} (refused there with {d.base_error})"
    else:
        where = f"the last step (the expectation: different results of step {step})"
    undo = "remove `variants` and `rules`"
    if config.base.variants or config.base.files:
        undo += f" and apply {base} instead"
    description = (f"Where the rules {base} and {other} differ ({r.mode} mode): "
                   f"{d.title(base, other)}.  This scenario passes under {other}; replayed under "
                   f"{base} ({undo}), it fails at {where}.")
    if d.kind == REFUSED_UNDER_OTHER:
        doc = scenario_document(p.other, prefix, description, [], files)
        names = execution_names(p.other, prefix)
        if isinstance(d.op, StartPipelineExecution):
            refused: dict[str, Any] = {"start": f"e{len(names) + 1}"}
        else:
            refused = operation_step(p.other, d.op, names)
        refused["error"] = d.other_error
        doc["steps"].insert(len(doc["steps"]) - 1, refused)
        return doc
    return scenario_document(p.other, prefix + [d.op], description, [], files)


# --------------------------------------------------------------------------------------------
# The command


@dataclass
class CommandOutput:
    """What a command prints (stdout, then stderr lines) and its exit status."""

    stdout: str
    stderr: list[str]
    exit_code: int


def _model_file_without_rules(path: Path) -> None:
    try:
        data = read_toml(path)
    except InputError:
        return  # load_model_file says what is wrong
    for key in ("variants", "rules"):
        if data.get(key):
            raise InputError(str(path), key, "expected no rule variants in a model file given "
                             "to diff (name the two rule sets with --rules)")


def diff_config(args: Any) -> DiffConfig:
    """The configuration of `stagelock diff` from its parsed command line."""
    if len(args.rules) != 2:
        raise InputError("command line", "--rules", f"expected exactly two rule sets (--rules "
                         f"BASE --rules OTHER), got {len(args.rules)}")
    base = parse_rules(args.rules[0], "command line", "--rules #1")
    other = parse_rules(args.rules[1], "command line", "--rules #2")
    if args.file and args.file.endswith(".toml"):
        if args.resource:
            raise InputError("command line", "--resource",
                             "expected no --resource with a model file (use its `resource` key)")
        _model_file_without_rules(Path(args.file))
        loaded = load_model_file(Path(args.file))
        if loaded.properties:
            raise InputError(args.file, "properties", "expected no properties in a model file "
                             "given to diff (it compares every property)")
        pipeline, source, modes, bounds = (loaded.pipeline, loaded.source, loaded.modes,
                                           loaded.bounds)
        warnings = loaded.warnings
    elif args.file:
        declared = source_in(args.file, args.resource)
        pipeline, warnings = declared.pipeline, declaration_config(declared).warnings
        source, modes, bounds = args.file, (pipeline.execution_mode,), Bounds()
    else:
        pipeline, source = reference_pipeline(), "built-in reference pipeline"
        modes, bounds, warnings = tuple(MODES), Bounds(), ()
    if args.mode and args.all_modes:
        raise InputError("command line", "--mode", "expected either --mode or --all-modes")
    if args.mode:
        modes = (args.mode,)
    elif args.all_modes:
        modes = tuple(MODES)
    for name in ("executions", "stops", "retries", "toggles", "updates", "rollbacks",
                 "max_states"):
        value = getattr(args, name)
        if value is not None:
            option = "--" + name.replace("_", "-")
            values: dict[str, Any] = {name: check_bound("command line", option, name, value)}
            bounds = replace(bounds, **values)
    if args.no_failures:
        bounds = replace(bounds, failures=False)
    if getattr(args, "update_modes", None) is not None:
        bounds = replace(bounds, update_modes=check_update_modes(
            "command line", "--update-modes", args.update_modes))
    bounds = check_update_bounds("command line", "--update-modes", bounds)
    workers = (None if getattr(args, "workers", None) is None
               else check_workers("command line", "--workers", args.workers))
    return DiffConfig(pipeline, source, modes, bounds, base, other,
                      getattr(args, "engine", None) or "auto", workers, warnings)


def diff_command(args: Any) -> CommandOutput:
    """`stagelock diff`: the report, and the witness file when asked for."""
    if not 1 <= args.limit <= 1000:
        raise InputError("command line", "--limit",
                         f"expected an integer from 1 to 1000, got {args.limit}")
    config = diff_config(args)
    results: list[ModeDiff] = []
    for mode in config.modes:
        results.append(diff_mode(config, mode))
        if results[-1].interrupted:
            break
    stderr: list[str] = []
    if args.json:
        text = json.dumps(to_json(config, results, args.limit), indent=2)
    else:
        text = render_text(config, results, args.limit)
    if args.trace_out:
        out = Path(args.trace_out)
        for r in results:
            doc = witness_scenario(config, r, out)
            if doc is not None:
                write_atomically(out, yaml.safe_dump(doc, sort_keys=False, width=100))
                stderr.append(f"The shortest witness ({r.mode} mode) written to {out}")
                break
        else:
            stderr.append(f"No difference to write; {out} not written.")
    return CommandOutput(text, stderr, EXIT_CODES[overall(
        results, complete=len(results) == len(config.modes))])
