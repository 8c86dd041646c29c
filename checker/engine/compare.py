"""Two explorations of one model compared state by state: the differential test of the engines.

`differences(model, a, b)` lists every way exploration `b` disagrees with exploration `a` (by
convention `a` is the interpreted engine's, the readable rules' own answer): the states
reachable (each state decoded, with the budgets used on the way), the steps out of each state
(operations and where they lead, as multisets), the depth of every state, the operation counts,
the lifecycle charts' transitions the steps make (`checker.coverage`), the properties'
findings (the same ones, with shortest traces of the same length, each trace
replayed through the readable rules), and the progress analyses (a deadlock or a stuck state at
the same depth, or none in both).  An empty list: they agree.

A difference in the graph is shown where it starts: the first state, in `a`'s breadth-first
order, whose steps differ, drawn as `GetPipelineState` shows it, with a shortest way there and
each operation that is missing from one side or leads elsewhere.

    from checker.engine import Bounds, explore
    from checker.engine.compare import differences

    a = explore(model, Bounds(executions=2), props, engine="interpreted")
    b = explore(model, Bounds(executions=2), props, engine="compiled")
    assert not differences(model, a, b), "\\n\\n".join(differences(model, a, b))
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from typing import Any

from checker.engine.result import Explored, Finding
from checker.report import describe_changes, describe_operation, render_trace
from checker.view import render_state
from spec.operations import Operation
from spec.rules import Model, Refused, apply
from spec.state import State

Key = tuple[State, tuple[int, ...]]
"""A state as both engines can say it: the spec state and the budgets used on the way."""

NAMES = [f"e{i + 1}" for i in range(64)]


def key(ex: Explored, i: int) -> Key:
    return ex.state(i), tuple(int(x) for x in ex.budgets(i))


def depth(ex: Explored, i: int) -> int:
    """The depth of state i: the length of a shortest path to it."""
    return bisect_right([int(x) for x in ex.layers], i) - 1


def differences(model: Model, a: Explored, b: Explored,
                labels: tuple[str, str] | None = None) -> list[str]:
    """Every way `b` disagrees with `a` (empty: none), each as a paragraph for people.  Both
    searches must have finished.  `labels` name the two sides (default: their engines)."""
    la, lb = labels or (a.engine, b.engine)
    if la == lb:
        la, lb = f"{la} (first)", f"{lb} (second)"
    if not (a.complete and b.complete):
        return [f"expected two finished searches to compare, but {la} "
                f"{'finished' if a.complete else 'stopped: ' + str(a.stopped_by)} and {lb} "
                f"{'finished' if b.complete else 'stopped: ' + str(b.stopped_by)}"]
    keys_a = [key(a, i) for i in range(len(a))]
    keys_b = [key(b, i) for i in range(len(b))]
    index_b: dict[Key, int] = {}
    problems: list[str] = []
    for j, k in enumerate(keys_b):
        if k in index_b:
            problems.append(f"{lb} stores one state twice, as states {index_b[k]} and {j}:\n"
                            + _indent(_show(model, k)))
        index_b.setdefault(k, j)
    if len(a) != len(b):
        problems.append(f"{la} finds {len(a):,} states, {lb} {len(b):,}")
    if keys_a[:1] != keys_b[:1]:
        problems.append(f"the initial states differ:\n{la}:\n" + _indent(_show(model, keys_a[0]))
                        + f"\n{lb}:\n" + _indent(_show(model, keys_b[0])))
        return problems
    graph = _first_edge_difference(model, a, b, keys_a, keys_b, index_b, la, lb)
    if graph is not None:
        problems.append(graph)
        return problems  # everything else follows from the graph's difference
    only_b = set(keys_b) - set(keys_a)
    if only_b:  # unreachable from the shared initial state in b's own edges: b is inconsistent
        problems.append(f"{lb} stores {len(only_b):,} states that none of its steps leads to "
                        f"from the states both engines find")
    for i, k in enumerate(keys_a):
        same = index_b.get(k)
        if same is not None and depth(a, i) != depth(b, same):
            problems.append(f"state {i} of {la} is at depth {depth(a, i)}, but state {same} of "
                            f"{lb} (the same state) at depth {depth(b, same)}; breadth-first order "
                            f"gives each state its shortest distance:\n" + _indent(_show(model, k)))
            break
    if a.max_depth != b.max_depth:
        problems.append(f"depth: {la} {a.max_depth}, {lb} {b.max_depth}")
    if a.transitions != b.transitions:
        problems.append(f"transitions: {la} {a.transitions:,}, {lb} {b.transitions:,}")
    if dict(a.op_counts) != dict(b.op_counts):
        problems.append(f"operation counts: {la} {dict(sorted(a.op_counts.items()))}, {lb} "
                        f"{dict(sorted(b.op_counts.items()))}")
    charts_a, charts_b = a.chart_changes(), b.chart_changes()
    if charts_a != charts_b:
        problems.append(f"the lifecycle transitions made: only {la} makes "
                        f"{sorted(charts_a - charts_b)}, only {lb} makes "
                        f"{sorted(charts_b - charts_a)}")
    problems += _findings(model, a, b, "violation", a.violations, b.violations, la, lb)
    problems += _findings(model, a, b, "witness", a.witnesses, b.witnesses, la, lb)
    for what in ("deadlock", "stuck"):
        fa, fb = getattr(a, what)(), getattr(b, what)()
        if (fa is None) != (fb is None) or (
                fa is not None and fb is not None and depth(a, fa.state) != depth(b, fb.state)):
            problems.append(f"{what}: {la} {_where(a, fa)}, {lb} {_where(b, fb)}")
    return problems


def _first_edge_difference(model: Model, a: Explored, b: Explored, keys_a: list[Key],
                           keys_b: list[Key], index_b: dict[Key, int], la: str,
                           lb: str) -> str | None:
    """The first state of `a` (breadth first) found by both whose steps differ, explained."""
    for i, k in enumerate(keys_a):
        j = index_b.get(k)
        if j is None:
            continue  # its parent, earlier in this order, shows why
        steps_a = Counter((op, keys_a[t]) for op, t in a.edges(i))
        steps_b = Counter((op, keys_b[t]) for op, t in b.edges(j))
        if steps_a == steps_b:
            continue
        state = k[0]
        lines = [f"state {i} of {la} (state {j} of {lb}), at depth {depth(a, i)}, is left by "
                 f"different steps:"]
        lines += _indent(_show(model, k)).splitlines()
        path = a.path(i)
        if path:
            lines.append(f"  a shortest way there ({len(path)} steps):")
            lines += render_trace(model, path, indent="    ")
        ops: list[Operation] = []
        for op, _ in [*steps_a, *steps_b]:
            if op not in ops:
                ops.append(op)
        for op in ops:
            ta = Counter({t: n for (o, t), n in steps_a.items() if o == op})
            tb = Counter({t: n for (o, t), n in steps_b.items() if o == op})
            if ta == tb:
                continue
            text = describe_operation(model, op, NAMES, state)
            if not tb:
                lines.append(f"  {text}: taken by {la}, missing in {lb}; under {la} it gives "
                             f"{_outcome(model, state, ta)}")
            elif not ta:
                lines.append(f"  {text}: taken by {lb}, missing in {la}; under {lb} it gives "
                             f"{_outcome(model, state, tb)}")
            else:
                lines.append(f"  {text}: leads elsewhere; under {la} it gives "
                             f"{_outcome(model, state, ta)}; under {lb} "
                             f"{_outcome(model, state, tb)}")
            lines.append(f"    (the readable rules: {_readable(model, state, op)})")
        return "\n".join(lines)
    return None


def _outcome(model: Model, before: State, targets: Counter[Key]) -> str:
    parts = []
    for (after, budgets), n in targets.items():
        changes = "; ".join(describe_changes(model, before, after, NAMES)) or "no visible change"
        parts.append(f"[{changes}; budgets {budgets}]" + (f" {n} times" if n > 1 else ""))
    return " and ".join(parts)


def _readable(model: Model, state: State, op: Operation) -> str:
    try:
        after = apply(model, state, op)
    except Refused as refused:
        return f"refused with {refused}"
    return "; ".join(describe_changes(model, state, after, NAMES)) or "no visible change"


def _findings(model: Model, a: Explored, b: Explored, kind: str, in_a: dict[str, Finding],
              in_b: dict[str, Finding], la: str, lb: str) -> list[str]:
    problems = []
    for name in sorted(set(in_a) | set(in_b)):
        fa, fb = in_a.get(name), in_b.get(name)
        if fa is None or fb is None:
            has, lacks = (la, lb) if fb is None else (lb, la)
            problems.append(f"{name}: {has} finds a {kind}, {lacks} none")
            continue
        ta, tb = a.trace(fa), b.trace(fb)
        if len(ta) != len(tb):
            problems.append(f"{name}: the shortest {kind} takes {len(ta)} steps in {la}, "
                            f"{len(tb)} in {lb}")
        for label, ex, finding, trace in ((la, a, fa, ta), (lb, b, fb, tb)):
            wrong = _replay(model, ex, finding, trace)
            if wrong:
                problems.append(f"{name}: the {kind} trace of {label} {wrong}")
    return problems


def _replay(model: Model, ex: Explored, finding: Finding, trace: list[Operation]) -> str:
    """Why the trace does not lead, under the readable rules, where the finding says (empty:
    it does)."""
    state = model.initial()
    for n, op in enumerate(trace):
        last = n == len(trace) - 1
        if finding.before is not None and last and state != ex.state(finding.before):
            return f"does not reach its state before the step (state {finding.before})"
        try:
            state = apply(model, state, op)
        except Refused as refused:
            return f"is refused at step {n + 1} ({refused})"
    if finding.before is None and state != ex.state(finding.state):
        return f"does not reach its state (state {finding.state})"
    return ""


def _where(ex: Explored, finding: Finding | None) -> str:
    if finding is None:
        return "none"
    return f"state {finding.state} at depth {depth(ex, finding.state)}"


def _show(model: Model, k: Key) -> str:
    state, budgets = k
    return (render_state(model, state, NAMES[:len(state.executions)])
            + f"\nbudgets used (stops, retries, toggles): {budgets}")


def _indent(text: str, by: str = "  ") -> str:
    return "\n".join(by + line for line in text.splitlines())


def summary(ex: Any) -> str:
    """One line about an exploration, for test failure messages."""
    return (f"{ex.engine}: {len(ex):,} states, {ex.transitions:,} transitions, depth "
            f"{ex.max_depth}")
