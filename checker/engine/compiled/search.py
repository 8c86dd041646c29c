"""The compiled engine's driver: tables in, a searched graph out, every finding replayed through
the readable rules before it is reported.

The kernel runs in chunks; between chunks the driver grows the arrays, reports progress, checks
the time limit and lets Ctrl-C through.  States are numbered in the order found, exactly as the
interpreted engine numbers them, so both engines' graphs, shortest traces and verdicts can be
compared state by state (`tests/test_engines.py`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import numba
import numpy as np

from checker.coverage import inbound_transition_changes
from checker.engine.bounds import Bounds, allowed, spend
from checker.engine.compiled import checks as C
from checker.engine.compiled import graph as G
from checker.engine.compiled import rules as K
from checker.engine.compiled.tables import (
    OP_KINDS,
    VARIANT_FLAGS,
    Tables,
    build_tables,
    decode,
    decode_op,
    encode,
)
from checker.engine.result import Finding
from checker.errors import InternalError
from spec.lifecycles import COMPILED
from spec.operations import Operation
from spec.properties import PROPERTIES, Property
from spec.rules import Model, apply, successors
from spec.state import ACTIVE, State
from spec.variants import VARIANTS

PROPERTY_KINDS = {
    "one-execution-per-stage-lock": C.P_ONE_PER_LOCK,
    "one-waiting-per-stage": C.P_ONE_WAITING,
    "approval-holds-stage": C.P_APPROVAL_HOLDS,
    "nothing-in-progress-after-stop": C.P_NOTHING_AFTER_STOP,
    "inbound-enters-when-available": C.P_INBOUND_ENTERS,
    "enters-in-start-order": C.P_START_ORDER,
    "supersede-only-between-stages": C.P_SUPERSEDE_BETWEEN,
    "no-retry-after-supersession": C.P_NO_RETRY_SUPERSEDED,
    "finished-executions-never-change": C.P_FINISHED_NEVER,
    "queued-never-supersedes": C.P_QUEUED_NO_SUPERSEDE,
    "queued-never-overtakes": C.P_QUEUED_NO_OVERTAKE,
    "stop-and-wait-starts-nothing": C.P_STOP_WAIT_QUIET,
    "leaves-stage-only-when-all-succeeded": C.P_LEAVES_SUCCEEDED,
    "supersession-happens": C.W_SUPERSESSION,
    "queue-of-two-forms": C.W_QUEUE_OF_TWO,
    "retry-succeeds": C.W_RETRY_SUCCEEDS,
    "stop-and-wait-completes": C.W_STOP_WAIT_COMPLETES,
    "stop-and-abandon-completes": C.W_ABANDONED,
    "inbound-execution-stopped": C.W_INBOUND_STOPPED,
}
"""The catalogue's properties the kernel evaluates itself (progress properties run on the
compact graph after the search)."""

INSTANCE_KINDS = {
    ("backwards", True): C.Z_BACK_ABANDONED,
    ("backwards", False): C.Z_BACK_DEPLOYED,
    ("tested-other",): C.Z_TESTED_OTHER,
    ("entered-after-stop",): C.Z_ENTERED_AFTER_STOP,
    ("stale-approval",): C.Z_STALE_APPROVAL,
}
"""Properties made once per place (`Property.instance`), by what they check."""

BLOCK = 4096
"""States of the queue expanded per block: small enough for progress and Ctrl-C to come many
times a second, large enough that the calls into compiled code cost nothing."""


class Unsupported(Exception):
    """The compiled engine cannot explore this model or property; the message says why."""


def variant_flags(model: Model) -> int:
    """The kernel's flags for the model's rule set; Unsupported when a rule comes from anything
    but a built-in variant (a user's rules file)."""
    flags = 0
    rules = model.rules
    for name, variant_name in rules.replaced.items():
        variant = VARIANTS.get(variant_name)
        if variant is None or variant_name not in VARIANT_FLAGS:
            raise Unsupported(f"the rule set replaces {name} with a rule of its own "
                              f"({variant_name}), which only the interpreted engine runs")
        if rules.rules[name] is not variant.overrides.get(name):
            raise Unsupported(f"the rule {name} is not the built-in variant {variant_name}'s")
        flags |= VARIANT_FLAGS[variant_name]
    return flags


def property_code(p: Property) -> tuple[int, int] | None:
    """(kind, parameter) of a property in the kernel; None for a progress property."""
    if p.kind == "progress" and p.name in ("no-deadlock", "can-always-finish"):
        return None
    if p.instance:
        what, *params = p.instance
        if what == "backwards" and len(params) == 2:
            return INSTANCE_KINDS[("backwards", bool(params[1]))], int(params[0])  # type: ignore[call-overload]
        if (what,) in INSTANCE_KINDS and len(params) == 1:
            return INSTANCE_KINDS[(str(what),)], int(params[0])  # type: ignore[call-overload]
        raise Unsupported(f"the property {p.name} ({what}) has no compiled form")
    known = PROPERTIES.get(p.name)
    if known is None or p.name not in PROPERTY_KINDS or (
            known.state_check is not p.state_check or known.step_check is not p.step_check):
        raise Unsupported(f"the property {p.name} has no compiled form")
    return PROPERTY_KINDS[p.name], 0


def unsupported(model: Model, properties: list[Property]) -> str | None:
    """Why the compiled engine cannot explore this model with these properties (None: it can)."""
    try:
        variant_flags(model)
        for p in properties:
            property_code(p)
    except Unsupported as why:
        return str(why)
    if model.stage_count == 0:
        return "the pipeline has no stages"
    return None


# --------------------------------------------------------------------------------------------
# The searched graph


class CompiledExploration:
    """The graph the kernel searched, with the interface of the interpreted engine's
    `Exploration`: states numbered in the order found, parents, edges, findings."""

    engine = "compiled"

    def __init__(self, model: Model, bounds: Bounds, tables: Tables) -> None:
        self.model = model
        self.bounds = bounds
        self.tables = tables
        self.states = np.empty((0, tables.words), dtype=np.uint64)
        self.parent = np.empty(0, dtype=np.int32)
        self.edge_start = np.zeros(1, dtype=np.int64)
        self.edge_target = np.empty(0, dtype=np.int32)
        self.layers: list[int] = [0]
        self.violations: dict[str, Finding] = {}
        self.witnesses: dict[str, Finding] = {}
        self.op_counts: dict[str, int] = {}
        self.transitions = 0
        self.seconds = 0.0
        self.complete = False
        self.stopped_by: str | None = None
        self.expanded = 0
        self.engine_reason = "default"
        self.workers = 1
        self.storage = "exact"
        self.compile_seconds = 0.0
        self.miss_probability: float | None = None
        self.seen = np.zeros((4, 7, 7), dtype=np.uint8)
        self._v = np.zeros(tables.length, dtype=np.int32)
        maxs = tables.max_successors
        self._scratch = np.zeros((maxs, tables.length), dtype=np.int32)
        self._ops = np.zeros(maxs, dtype=np.int64)
        self._packed = np.zeros((maxs, tables.words), dtype=np.uint64)

    def __len__(self) -> int:
        return int(self.states.shape[0])

    def vector(self, i: int) -> np.ndarray:
        K.unpack(self.states[i], self.tables.T, self._v)
        return self._v.copy()

    def node(self, i: int) -> tuple[State, tuple[int, int, int]]:
        return decode(self.tables, self.model, self.vector(i))

    def state(self, i: int) -> State:
        """The spec state of state number i."""
        return self.node(i)[0]

    def budgets(self, i: int) -> tuple[int, int, int]:
        """Stops, retries and transition disables used on the way to state number i."""
        return self.node(i)[1]

    def _successors(self, i: int) -> list[tuple[int, np.ndarray]]:
        k = G.one_state_successors(self.tables.T, self.states[i], self._scratch, self._ops,
                                   self._v, self._packed)
        if k < 0:
            raise InternalError("compiled engine: a value outgrew its field in the packed state")
        return [(int(self._ops[j]), self._packed[j].copy()) for j in range(k)]

    def edges(self, i: int) -> list[tuple[Operation, int]]:
        """The recorded steps out of state i: each operation and the number of its target."""
        ops = [decode_op(self.model, code) for code, _ in self._successors(i)]
        start, end = int(self.edge_start[i]), int(self.edge_start[i + 1])
        targets = [int(t) for t in self.edge_target[start:end]]
        return list(zip(ops, targets, strict=False))

    def _step_into(self, before: int, target: int) -> Operation:
        """The first operation out of state `before` that leads to state `target` (the one that
        found it, since states are expanded in order and successors listed in order)."""
        want = self.states[target]
        for code, words in self._successors(before):
            if np.array_equal(words, want):
                return decode_op(self.model, code)
        raise InternalError(f"compiled engine: state {target} is not a successor of its parent "
                            f"{before}")

    def path(self, target: int) -> list[Operation]:
        """The operations from the initial state to state `target` (a shortest path)."""
        chain = [target]
        while chain[-1] != 0:
            chain.append(int(self.parent[chain[-1]]))
        chain.reverse()
        return [self._step_into(a, b) for a, b in zip(chain, chain[1:], strict=False)]

    def trace(self, finding: Finding) -> list[Operation]:
        if finding.before is None:
            return self.path(finding.state)
        assert finding.operation is not None
        return self.path(finding.before) + [finding.operation]

    @property
    def max_depth(self) -> int:
        return len(self.layers) - 1

    def deadlock(self) -> Finding | None:
        """The first (shallowest) state with an unfinished execution and no move at all."""
        i = int(G.first_deadlock(self.tables.T, self.states, self.edge_start, self.expanded,
                                 self._v))
        if i < 0:
            return None
        state, budgets = self.node(i)
        _replay(self, self.path(i), state, budgets)
        flags = allowed(self.bounds, state, *budgets)
        if successors(self.model, state, **flags) or not any(
                ex.status in ACTIVE for ex in state.executions):
            raise InternalError(f"compiled engine: state {i} is not a deadlock under the "
                                f"readable rules")
        return Finding(i, detail="an execution is unfinished and nothing can happen")

    def stuck(self) -> Finding | None:
        """The first state from which no path leads to a state where every execution finished."""
        i = int(G.first_stuck(self.tables.T, self.states, len(self), self.edge_start,
                              self.edge_target, self._v))
        if i < 0:
            return None
        state, budgets = self.node(i)
        _replay(self, self.path(i), state, budgets)
        return Finding(i, detail="from here some execution can no longer finish")

    def chart_changes(self) -> set[tuple[str, str, str]]:
        """The chart transitions (chart, source, target) that some recorded step made."""
        return chart_changes(self.seen, self.op_counts)


STATUS_NAMES = ("InProgress", "Stopping", "Stopped", "Succeeded", "Superseded", "Failed")
ACTION_NAMES = ("NotStarted", "InProgress", "Abandoned", "Succeeded", "Failed")


def chart_changes(seen: np.ndarray, op_counts: dict[str, int]) -> set[tuple[str, str, str]]:
    """The kernel's coverage table as chart transitions, read the way
    `checker.coverage.execution_changes` reads a step."""
    out = inbound_transition_changes(op_counts)
    pipeline_initial = COMPILED["pipeline-execution"].initial
    stage_initial = COMPILED["stage-execution"].initial
    for src, dst in zip(*np.nonzero(seen[0]), strict=True):
        after = STATUS_NAMES[dst]
        if src == C.NONE_CODE:
            if after != pipeline_initial:
                out.add(("pipeline-execution", pipeline_initial, after))
        else:
            out.add(("pipeline-execution", STATUS_NAMES[src], after))
    for src, dst in zip(*np.nonzero(seen[1]), strict=True):
        after = "(gone)" if dst == C.NONE_CODE else STATUS_NAMES[dst]
        if src == C.NONE_CODE:
            if dst != C.NONE_CODE and after != stage_initial:
                out.add(("stage-execution", stage_initial, after))
        else:
            out.add(("stage-execution", STATUS_NAMES[src], after))
    for chart, index in (("action-execution", 2), ("approval", 3)):
        for src, dst in zip(*np.nonzero(seen[index]), strict=True):
            out.add((chart, ACTION_NAMES[src], ACTION_NAMES[dst]))
    return out


# --------------------------------------------------------------------------------------------
# The search


def explore_compiled(
    model: Model,
    bounds: Bounds,
    properties: list[Property],
    progress: Callable[[int, int, int, float], None] | None = None,
    workers: int | None = None,
    storage: str = "auto",
) -> CompiledExploration:
    """Explore breadth first in compiled code; check the properties inside the kernel; replay
    every finding through the readable rules."""
    flags = variant_flags(model)
    codes: list[tuple[int, int]] = []
    checked: list[Property] = []
    for p in properties:
        code = property_code(p)
        if code is not None:
            codes.append(code)
            checked.append(p)
    tables = build_tables(model, bounds.executions, bounds.stops, bounds.retries,
                          bounds.toggles, bounds.failures, flags, codes)
    ex = CompiledExploration(model, bounds, tables)
    ex.compile_seconds = warm_up()
    nthreads = max(1, workers or os.cpu_count() or 1)
    numba.set_num_threads(min(nthreads, numba.config.NUMBA_NUM_THREADS))  # type: ignore[attr-defined]
    nthreads = numba.get_num_threads()
    ex.workers = nthreads
    T = tables.T
    W = tables.words
    maxs = tables.max_successors
    block = BLOCK
    rows = block * maxs
    cap = 1 << 12
    states = np.zeros((cap, W), dtype=np.uint64)
    parent = np.zeros(cap, dtype=np.int32)
    edge_start = np.zeros(cap + 1, dtype=np.int64)
    edge_target = np.zeros(cap * 4, dtype=np.int32)
    table = np.zeros(cap * 2, dtype=np.int32)
    first = encode(tables, model, model.initial(), (0, 0, 0))
    K.pack(first, T, states[0])
    G.rehash(states, 1, table, W)
    needs_graph = any(p.kind == "progress" for p in properties) or not properties
    nprop = len(codes)
    kinds = np.array([k for k, _ in codes], dtype=np.int32)
    params = np.array([p for _, p in codes], dtype=np.int32)
    pending = np.ones(nprop, dtype=np.uint8)
    found = np.full((max(1, nprop), 3), -1, dtype=np.int64)
    hits = np.full((nthreads, max(1, nprop)), -1, dtype=np.int64)
    op_counts = np.zeros(len(OP_KINDS), dtype=np.int64)
    ctr = np.array([1, 0, 0, -1 if bounds.max_states is None else bounds.max_states,
                    int(needs_graph), nprop, 0], dtype=np.int64)
    counts = np.zeros(block, dtype=np.int32)
    buf_packed = np.zeros((rows, W), dtype=np.uint64)
    buf_hash = np.zeros(rows, dtype=np.uint64)
    buf_op = np.zeros(rows, dtype=np.int64)
    buf_known = np.zeros(rows, dtype=np.int64)
    overflow = np.zeros(nthreads, dtype=np.int64)
    seen = np.zeros((nthreads, 4, 7, 7), dtype=np.uint8)
    scratch = np.zeros((nthreads, maxs, tables.length), dtype=np.int32)
    ops = np.zeros((nthreads, maxs), dtype=np.int64)
    cur = np.zeros((nthreads, tables.length), dtype=np.int32)
    changed = np.zeros((nthreads, max(1, tables.executions)), dtype=np.int32)
    inside = np.zeros((nthreads, tables.stages + 1), dtype=np.int32)
    queued = np.zeros((nthreads, tables.stages + 1), dtype=np.int32)
    began = time.perf_counter()
    deadline = None if bounds.max_seconds is None else began + bounds.max_seconds
    why = G.R_DONE
    last_report = began
    try:
        while True:
            n, current = int(ctr[0]), int(ctr[1])
            if current >= n:
                ex.complete = True
                break
            if not needs_graph and int(ctr[5]) == 0:
                ex.stopped_by = "every property decided"
                break
            now = time.perf_counter()
            if deadline is not None and now > deadline:
                ex.stopped_by = f"--max-seconds {bounds.max_seconds:g}"
                break
            if progress is not None and now - last_report > 0.2:
                progress(n, n - current, _depth_of(parent, current), now - began)
                last_report = now
            hi = min(n, current + block)
            states, parent, edge_start, edge_target, table = _room(
                n, int(ctr[2]), (hi - current) * maxs, W, states, parent, edge_start,
                edge_target, table)
            G.expand_block(T, states, table, current, hi, nthreads, counts, buf_packed,
                           buf_hash, buf_op, buf_known, kinds, params, pending, hits, seen,
                           scratch, ops, cur, changed, inside, queued, 1, overflow)
            if overflow.any():
                raise InternalError("compiled engine: a value outgrew its field in the packed "
                                    "state (a bound of the tables is wrong)")
            G.insert_block(T, states, table, parent, edge_start, edge_target, ctr, current, hi,
                           counts, buf_packed, buf_hash, buf_op, buf_known, kinds, pending, hits,
                           found, op_counts, maxs)
            why = int(ctr[6])
            if why == G.R_DECIDED:
                ex.stopped_by = "every property decided"
                break
            if why == G.R_MAX_STATES:
                ex.stopped_by = f"--max-states {bounds.max_states}"
                break
    except KeyboardInterrupt:
        ex.stopped_by = "Ctrl-C"
    ex.seconds = time.perf_counter() - began
    G.merge_seen(seen)
    ex.seen = seen[0].copy()
    n, current, n_edges = int(ctr[0]), int(ctr[1]), int(ctr[2])
    # Close the edge lists: a state cut off half-way keeps the edges it recorded.
    partial = why == G.R_MAX_STATES
    edge_start[current + 1 if partial else current: n + 1] = n_edges
    ex.states = states[:n]
    ex.parent = parent[:n]
    ex.edge_start = edge_start[:n + 1]
    ex.edge_target = edge_target[:n_edges]
    ex.expanded = n if ex.complete else current
    ex.transitions = n_edges + (1 if partial else 0)
    ex.op_counts = {kind.__name__: int(op_counts[i]) for i, kind in sorted(
        enumerate(OP_KINDS), key=lambda item: item[1].__name__) if op_counts[i]}
    depth = G.depths(ex.parent, n)
    last = int(depth[-1]) if ex.complete or current >= n else int(depth[current])
    ex.layers = [int(x) for x in np.searchsorted(depth, np.arange(last + 1), side="left")]
    for p, row in zip(checked, found, strict=False):
        if row[0] == -1 and row[1] == -1:
            continue
        finding = _finding(ex, p, int(row[0]), int(row[1]), int(row[2]))
        (ex.witnesses if p.kind == "witness" else ex.violations)[p.name] = finding
    return ex


def _depth_of(parent: np.ndarray, i: int) -> int:
    d = 0
    while i > 0:
        i = int(parent[i])
        d += 1
    return d


def _room(n: int, n_edges: int, more: int, W: int, states: Any, parent: Any,
          edge_start: Any, edge_target: Any, table: Any) -> tuple[Any, Any, Any, Any, Any]:
    """Grow the arrays so that `more` new states and edges fit, the table at most 70% full."""
    if n + more > states.shape[0]:
        size = states.shape[0]
        while n + more > size:
            size *= 2
        states = _resized(states, (size, W), n)
        parent = _resized(parent, (size,), n)
        edge_start = _resized(edge_start, (size + 1,), n + 1)
    if n_edges + more > edge_target.shape[0]:
        size = edge_target.shape[0]
        while n_edges + more > size:
            size *= 2
        edge_target = _resized(edge_target, (size,), n_edges)
    if (n + more) * 10 > table.shape[0] * 7:
        size = table.shape[0]
        while (n + more) * 10 > size * 7:
            size *= 2
        table = np.zeros(size, dtype=np.int32)
        G.rehash(states, n, table, W)
    return states, parent, edge_start, edge_target, table


def _resized(array: np.ndarray, shape: tuple[int, ...], keep: int) -> np.ndarray:
    out = np.zeros(shape, dtype=array.dtype)
    out[:keep] = array[:keep]
    return out


def _finding(ex: CompiledExploration, p: Property, state: int, before: int,
             code: int) -> Finding:
    """A kernel finding as the interpreted engine reports it, after replaying its trace through
    the readable rules and asking the property's own check for the description."""
    m = ex.model
    if before < 0:
        st, budgets = ex.node(state)
        _replay(ex, ex.path(state), st, budgets)
        assert p.state_check is not None
        why = p.state_check(m, st)
        if not why:
            raise InternalError(f"compiled engine: {p.name} at state {state}, which the readable "
                                f"property does not confirm")
        return Finding(state, detail=why)
    op = decode_op(m, code)
    st, budgets = ex.node(before)
    _replay(ex, ex.path(before), st, budgets)
    after = apply(m, st, op)
    assert p.step_check is not None
    why = p.step_check(m, st, op, after)
    if not why:
        raise InternalError(f"compiled engine: {p.name} at the step {op} from state {before}, "
                            f"which the readable property does not confirm")
    return Finding(-1, before, op, why)


def _replay(ex: CompiledExploration, ops: list[Operation], state: State,
            budgets: tuple[int, int, int]) -> None:
    """Apply `ops` from the initial state with the readable rules; the result must be the state
    and budgets the kernel reached, or it is an internal error, never a verdict."""
    m = ex.model
    here, used = m.initial(), (0, 0, 0)
    for i, op in enumerate(ops):
        flags = allowed(ex.bounds, here, *used)
        offered = [o for o, _ in successors(m, here, **flags)]
        if op not in offered:
            raise InternalError(f"compiled engine: step {i + 1} of a trace ({op}) is not "
                                f"offered by the readable rules")
        here, used = apply(m, here, op), spend(op, *used)
    if here != state or used != budgets:
        raise InternalError("compiled engine: a trace replayed through the readable rules ends "
                            "in another state than the kernel's")


_WARM: list[float] = []


def warm_up() -> float:
    """Compile (or load from the on-disk cache) every kernel function once per process, on a
    tiny model; returns the seconds it took the first time (0 afterwards)."""
    if _WARM:
        return 0.0
    began = time.perf_counter()
    from spec.declaration import Action, Pipeline, Stage
    from spec.rules import build_model

    tiny = build_model(Pipeline("warm-up", (Stage("A", (Action("a", "Deploy"),)),
                                            Stage("B", (Action("b"),)))), world=True)
    _WARM.append(0.0)
    explore_compiled(tiny, Bounds(executions=1), [])
    _WARM[0] = time.perf_counter() - began
    return _WARM[0]
