"""The compiled engine's driver: tables in, a searched graph out, every finding replayed through
the readable rules before it is reported.

The kernel runs a block of the queue at a time; between blocks the driver grows the state table,
reports progress, checks the time and memory limits and lets Ctrl-C and SIGTERM through.  States
are numbered in the order found, exactly as the interpreted engine numbers them, so both
engines' graphs, shortest traces and verdicts can be compared state by state
(`tests/test_engines.py`).
"""

from __future__ import annotations

import mmap
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
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
    execution_slots,
)
from checker.engine.graph import stuck_detail
from checker.engine.interpreted import default_max_memory, resident_bytes
from checker.engine.result import Finding, trace_to
from checker.errors import (
    InternalError,
    Terminated,
    deferred_interruptions,
    reraise_interruption,
)
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
    "automatic-retry-at-most-once": C.P_AUTOMATIC_RETRY_ONCE,
    "skipped-stage-runs-nothing": C.P_SKIPPED_RUNS_NOTHING,
    "no-retry-across-update": C.P_NO_RETRY_ACROSS_UPDATE,
    "cancelling-execution-starts-nothing": C.P_CANCELLING_STARTS_NOTHING,
    "parallel-execution-shares-stage": C.W_SHARED_STAGE,
    "rollback-not-in-parallel": C.P_ROLLBACK_NOT_PARALLEL,
    "rollback-succeeds": C.W_ROLLBACK_SUCCEEDS,
}
"""The catalogue's properties the kernel evaluates itself (progress properties run on the
compact graph after the search)."""

INSTANCE_KINDS = {
    ("read-other",): C.Z_READ_OTHER,
    ("entered-after-stop",): C.Z_ENTERED_AFTER_STOP,
    ("refused-busy",): C.Z_REFUSED_BUSY,
    ("starts-older",): C.Z_STARTS_OLDER,
    ("stale-read",): C.Z_STALE_READ,
}
"""Properties made once per place (`Property.instance`), by what they check."""

BLOCK = 32768
"""States of the queue expanded per block: small enough for progress and Ctrl-C to come several
times a second, large enough that the Python between blocks and the workers' wait for each other
at the end of each cost little (4,096 states a block made PARALLEL mode's reference
configuration up to a tenth slower on two workers)."""
FINGERPRINT_BLOCK = 4096
"""States per block with fingerprint storage, the storage for searches that memory bounds: a
fingerprint costs 10 to 12.5 bytes, so a block's buffers (about 40 bytes a successor) weigh on
it, and at 32,768 states a block they took the 5-stage benchmark configuration from 16 to 18
bytes per state."""
BUFFER_BYTES = 64 * 2**20
"""At most this much for a block's successor buffers (fewer states per block where a state has
very many successors)."""


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


PATTERN_KINDS = {
    "never": C.P_NEVER,
    "always": C.P_ALWAYS,
    "sometimes": C.W_SOMETIMES,
    "precedes-action": C.Z_PRECEDES_ACTION,
    "precedes-target": C.Z_PRECEDES_TARGET,
}
"""The patterns of `spec.patterns` whose instance is (what, one number) or (what, a pair)."""
BACKWARDS_KINDS = (C.Z_BACK_ANY, C.Z_BACK_DEPLOYED, C.Z_BACK_ABANDONED)
"""`never-older` on a target where the last writer wins, by `spec.patterns.VIA`."""


def property_code(p: Property) -> tuple[int, int, tuple[int, ...]] | None:
    """(kind, parameter, more parameters) of a property in the kernel; None for a progress
    property (decided on the graph after the search)."""
    if p.kind == "progress":
        if p.name in ("no-deadlock", "can-always-finish") or p.instance[:1] == ("eventually",):
            return None
        raise Unsupported(f"the property {p.name} has no compiled form")
    if p.instance:
        what, *args = p.instance
        params = [int(x) for x in args]  # type: ignore[call-overload]
        if what == "backwards" and len(params) == 2 and 0 <= params[1] < 3:
            return BACKWARDS_KINDS[params[1]], params[0], ()
        if what == "exclusive" and len(params) >= 2:
            return C.P_EXCLUSIVE, 0, (params[0], len(params) - 1, *params[1:])
        if what == "at-most" and len(params) == 2 and 0 <= params[0] < 256:
            return C.P_AT_MOST, params[1] + 256 * params[0], ()
        kind = INSTANCE_KINDS.get((str(what),)) or PATTERN_KINDS.get(str(what))
        if kind is not None and len(params) == 1:
            return kind, params[0], ()
        if kind is not None and len(params) == 2 and 0 <= params[1] < C.PAIR:
            return kind, params[0] * C.PAIR + params[1], ()
        raise Unsupported(f"the property {p.name} ({what}) has no compiled form")
    known = PROPERTIES.get(p.name)
    if known is None or p.name not in PROPERTY_KINDS or (
            known.state_check is not p.state_check or known.step_check is not p.step_check):
        raise Unsupported(f"the property {p.name} has no compiled form")
    return PROPERTY_KINDS[p.name], 0, ()


def unsupported(model: Model, properties: list[Property],
                bounds: Bounds | None = None) -> str | None:
    """Why the compiled engine cannot explore this model with these properties, within these
    bounds (None: it can)."""
    try:
        variant_flags(model)
        for p in properties:
            property_code(p)
    except Unsupported as why:
        return str(why)
    if model.stage_count == 0:
        return "the pipeline has no stages"
    if bounds is not None and execution_slots(model, bounds.executions, bounds.rollbacks) > 255:
        return "more than 255 executions"
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
        # The graph in compact form (`graph.split_steps`): per state its number of steps, per
        # step whether it found its target, the other steps' targets, and counts per chunk.
        self.degree: np.ndarray = np.zeros(0, dtype=np.uint8)
        self.found = np.zeros(0, dtype=np.uint8)
        self.known = np.zeros(0, dtype=np.int32)
        self.chunk_steps = np.zeros(1, dtype=np.int64)
        self.chunk_known = np.zeros(1, dtype=np.int64)
        self.n_edges = 0
        self._full: tuple[np.ndarray, np.ndarray] | None = None
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
        self.storage_note: str | None = None
        """Why the storage is not the one asked for (auto storage that fell back to
        fingerprints), else None."""
        self.seen = np.zeros((4, C.COVERAGE_CODES, C.COVERAGE_CODES), dtype=np.uint8)
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

    def _full_edges(self) -> tuple[np.ndarray, np.ndarray]:
        if self._full is None:
            self._full = G.full_edges(self.degree, self.found, self.known, len(self),
                                      self.n_edges)
        return self._full

    @property
    def edge_start(self) -> np.ndarray:
        """The graph in the interpreted engine's form, built when first asked for (8 bytes a
        state and 4 a step more; the engine itself reads the compact arrays)."""
        return self._full_edges()[0]

    @property
    def edge_target(self) -> np.ndarray:
        return self._full_edges()[1]

    def targets(self, i: int) -> list[int]:
        """The targets of the recorded steps out of state i, in order."""
        out = np.zeros(max(1, self.tables.max_successors), dtype=np.int64)
        k = G.targets_of(self.degree, self.found, self.known, self.chunk_steps,
                         self.chunk_known, i, out)
        return [int(t) for t in out[:k]]

    def edges(self, i: int) -> list[tuple[Operation, int]]:
        """The recorded steps out of state i: each operation and the number of its target."""
        ops = [decode_op(self.model, code) for code, _ in self._successors(i)]
        return list(zip(ops, self.targets(i), strict=False))

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
            chain.append(int(G.parent_of(self.degree, self.found, self.chunk_steps,
                                         self.chunk_known, chain[-1])))
        chain.reverse()
        return [self._step_into(a, b) for a, b in zip(chain, chain[1:], strict=False)]

    def trace(self, finding: Finding) -> list[Operation]:
        return trace_to(self.path, finding)

    @property
    def max_depth(self) -> int:
        return len(self.layers) - 1

    def deadlock(self) -> Finding | None:
        """The first (shallowest) state with an unfinished execution and no move at all."""
        i = int(G.first_deadlock(self.tables.T, self.states, self.degree, self.expanded,
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

    def stuck(self, goal: Property | None = None) -> Finding | None:
        """The first state from which no path leads to a state where every execution finished,
        or with `goal` (an `eventually` property) to a state with its fact."""
        scratch = np.zeros((max(1, self.workers), self.tables.length), dtype=np.int32)
        code = 0 if goal is None else int(goal.instance[1])  # type: ignore[call-overload]
        i = int(G.first_stuck(self.tables.T, self.states, len(self), self.degree, self.found,
                              self.known, self.chunk_steps, self.chunk_known, scratch, code))
        if i < 0:
            return None
        state, budgets = self.node(i)
        _replay(self, self.path(i), state, budgets)
        if goal is not None:
            if goal.goal is None or goal.goal(state):
                raise InternalError(f"compiled engine: state {i} has what {goal.name} asks "
                                    f"for under the readable rules")
            return Finding(i, detail=stuck_detail(goal))
        return Finding(i, detail="from here some execution can no longer finish")

    def chart_changes(self) -> set[tuple[str, str, str]]:
        """The chart transitions (chart, source, target) that some recorded step made."""
        return chart_changes(self.seen, self.op_counts)


TRAIL = np.dtype([("parent", "<i4"), ("choice", "<u4")])
"""Fingerprint storage's record per state, on disk: its parent's number and which of the
parent's successors it is."""


class FingerprintExploration(CompiledExploration):
    """A search with fingerprint storage: the states seen are kept as 64-bit fingerprints only,
    the queue as packed states, and each state's way back (parent, which successor) in a file;
    no graph.  A state is rebuilt by replaying its way from the initial state."""

    storage = "fingerprint"

    def __init__(self, model: Model, bounds: Bounds, tables: Tables, trail: Any) -> None:
        super().__init__(model, bounds, tables)
        self.storage = "fingerprint"
        self.trail = trail
        self.count = 0
        self.first_deadlock = -1

    def trail_append(self, parents: np.ndarray, choices: np.ndarray) -> None:
        records = np.empty(len(parents), dtype=TRAIL)
        records["parent"], records["choice"] = parents, choices
        self.trail.seek(0, 2)
        self.trail.write(records.tobytes())

    def _way(self, i: int) -> list[int]:
        """The successor choices from the initial state to state i."""
        choices: list[int] = []
        while i != 0:
            self.trail.seek(i * TRAIL.itemsize)
            record = np.frombuffer(self.trail.read(TRAIL.itemsize), dtype=TRAIL)[0]
            choices.append(int(record["choice"]))
            i = int(record["parent"])
        choices.reverse()
        return choices

    def _replay_way(self, i: int) -> tuple[np.ndarray, list[Operation]]:
        words = np.zeros(self.tables.words, dtype=np.uint64)
        K.pack(encode(self.tables, self.model, self.model.initial(), (0, 0, 0)), self.tables.T,
               words)
        ops: list[Operation] = []
        for choice in self._way(i):
            successors_ = self._successors_of(words)
            if choice >= len(successors_):
                raise InternalError("compiled engine: a fingerprint trail names a successor "
                                    "that the state does not have")
            code, words = successors_[choice]
            ops.append(decode_op(self.model, code))
        return words, ops

    def _successors_of(self, words: np.ndarray) -> list[tuple[int, np.ndarray]]:
        k = G.one_state_successors(self.tables.T, words, self._scratch, self._ops, self._v,
                                   self._packed)
        if k < 0:
            raise InternalError("compiled engine: a value outgrew its field in the packed state")
        return [(int(self._ops[j]), self._packed[j].copy()) for j in range(k)]

    def __len__(self) -> int:
        return self.count

    def vector(self, i: int) -> np.ndarray:
        words, _ = self._replay_way(i)
        K.unpack(words, self.tables.T, self._v)
        return self._v.copy()

    def path(self, target: int) -> list[Operation]:
        return self._replay_way(target)[1]

    def edges(self, i: int) -> list[tuple[Operation, int]]:
        raise InternalError("fingerprint storage keeps no graph: its steps are not listed")

    def _full_edges(self) -> tuple[np.ndarray, np.ndarray]:
        raise InternalError("fingerprint storage keeps no graph")

    def deadlock(self) -> Finding | None:
        i = self.first_deadlock
        if i < 0:
            return None
        state, budgets = self.node(i)
        _replay(self, self.path(i), state, budgets)
        return Finding(i, detail="an execution is unfinished and nothing can happen")

    def stuck(self, goal: Property | None = None) -> Finding | None:
        raise InternalError("fingerprint storage keeps no graph to decide can-always-finish")


STATUS_NAMES = ("InProgress", "Stopping", "Stopped", "Succeeded", "Superseded", "Failed",
                "Cancelled")
STAGE_NAMES = (*STATUS_NAMES, "(none)", "Skipped")
"""The coverage table's stage codes: the statuses, NONE_CODE, SKIPPED_CODE."""
ACTION_NAMES = ("NotStarted", "InProgress", "Abandoned", "Succeeded", "Failed", "Failed")
"""By action code; a timed-out approval (the last code, `tables.EXPIRED_CODE`) shows Failed."""


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
        after = "(gone)" if dst == C.NONE_CODE else STAGE_NAMES[dst]
        if src == C.NONE_CODE:
            if dst != C.NONE_CODE and after != stage_initial:
                out.add(("stage-execution", stage_initial, after))
        else:
            out.add(("stage-execution", STAGE_NAMES[src], after))
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
    every finding through the readable rules.  `storage`: "exact" (every state stored whole, the
    graph kept), "fingerprint" (64-bit fingerprints of the states seen and the queue only; no
    graph, so can-always-finish is left undetermined), or "auto" (exact, and fingerprints when
    exact storage fills the memory allowed)."""
    if storage not in ("auto", "exact", "fingerprint"):
        raise ValueError(f"unknown storage {storage!r}")
    if storage == "fingerprint":
        return _search_fingerprints(
            _Work(model, bounds, properties, workers, FINGERPRINT_BLOCK), progress)
    work = _Work(model, bounds, properties, workers)
    ex = _search_exact(work, progress)
    if storage == "auto" and (ex.stopped_by or "").startswith("--max-memory"):
        # Exact storage filled the memory allowed: search again, keeping fingerprints only, in
        # the time that is left.
        spent = ex.seconds
        del ex, work  # their reservations go before the new search makes its own
        left = None if bounds.max_seconds is None else max(1.0, bounds.max_seconds - spent)
        work = _Work(model, replace(bounds, max_seconds=left), properties, workers,
                     FINGERPRINT_BLOCK)
        again = _search_fingerprints(work, progress)
        again.seconds += spent
        again.storage_note = (f"exact storage filled --max-memory {work.memory_mib} MiB after "
                              f"{spent:.0f} s; searched again with fingerprints")
        return again
    return ex


def _padded(n: int, per_line: int = 16) -> int:
    """n rounded up to whole cache lines of `per_line` items, and a line more: each worker's
    row of a scratch array then shares no cache line with another's, so that workers writing
    their own rows do not take the line from each other on every step."""
    return (n + 2 * per_line - 1) // per_line * per_line


class _Work:
    """What both storages share: the tables, the property table, the block buffers and the
    workers' scratch arrays."""

    def __init__(self, model: Model, bounds: Bounds, properties: list[Property],
                 workers: int | None, states_per_block: int = BLOCK) -> None:
        flags = variant_flags(model)
        found: list[tuple[int, int, tuple[int, ...]]] = []
        self.checked: list[Property] = []
        for p in properties:
            code = property_code(p)
            if code is not None:
                found.append(code)
                self.checked.append(p)
        # The step properties come first, so that the kernel passes over the state properties
        # at once on a step to a state found before (`checks.check_all`); `findings` gives them
        # in the order they were asked for.
        order = sorted(range(len(found)), key=lambda i: C.is_state_kind.py_func(found[i][0]))
        found = [found[i] for i in order]
        self.checked = [self.checked[i] for i in order]
        self.asked = sorted(range(len(order)), key=order.__getitem__)
        # A property with more parameters than one finds them after every property's own.
        codes: list[tuple[int, int]] = []
        more: list[int] = []
        for kind, param, extra in found:
            if extra:
                param = len(found) + len(more)
                more += extra
            codes.append((kind, param))
        if execution_slots(model, bounds.executions, bounds.rollbacks) > 255:
            raise Unsupported("more than 255 executions")
        self.model, self.bounds, self.properties = model, bounds, properties
        self.tables = build_tables(model, bounds.executions, bounds.stops, bounds.retries,
                                   bounds.toggles, bounds.failures, flags, codes,
                                   bounds.updates, bounds.update_modes, bounds.rollbacks)
        self.compile_seconds = warm_up()
        wanted = max(1, workers or os.cpu_count() or 1)
        numba.set_num_threads(min(wanted, numba.config.NUMBA_NUM_THREADS))  # type: ignore[attr-defined]
        nt = self.nthreads = numba.get_num_threads()
        t = self.tables
        self.maxs = maxs = t.max_successors
        # A block's buffers hold every successor of its states: for a pipeline with many
        # actions, fewer states per block keep them within BUFFER_BYTES.
        self.block = block = max(1, min(states_per_block,
                                        BUFFER_BYTES // (maxs * (t.words * 8 + 24))))
        # A part of the buffers per worker, each for every source of a block, since a worker
        # may take all of its spans (`graph.expand_block`): only what it takes is touched.
        rows = nt * (-(-block // G.SPAN) * G.SPAN) * maxs
        W = t.words
        self.needs_graph = any(p.kind == "progress" for p in properties) or not properties
        nprop = len(codes)
        self.kinds = np.array([k for k, _ in codes], dtype=np.int32)
        self.params = np.array([p for _, p in codes] + more, dtype=np.int32)
        self.pending = np.ones(nprop, dtype=np.uint8)
        self.found = np.full((max(1, nprop), 3), -1, dtype=np.int64)
        self.hits = np.full((nt, _padded(max(1, nprop), 8)), -1, dtype=np.int64)
        self.op_counts = np.zeros(len(OP_KINDS), dtype=np.int64)
        self.counts = np.zeros((block, 2), dtype=np.int64)
        # Each worker's part is touched only as far as its sources' successors reach.
        self.buf_packed = reserve((rows, W), np.uint64)
        self.buf_hash = reserve((rows,), np.uint64)
        self.buf_op = reserve((rows,), np.int64)
        self.buf_known = reserve((rows,), np.int64)
        self.overflow = np.zeros(nt, dtype=np.int64)
        self.taken = np.zeros(8, dtype=np.int64)
        self.seen = np.zeros((nt, 4, C.COVERAGE_CODES, C.COVERAGE_CODES), dtype=np.uint8)
        # The successors' vectors and their source's, with the room `rules.repack` needs.
        self.scratch = np.zeros((nt, maxs, t.padded_length), dtype=np.int32)
        self.ops = np.zeros((nt, maxs), dtype=np.int64)
        self.cur = np.zeros((nt, _padded(t.padded_length)), dtype=np.int32)
        # Per worker and successor of one source, the slots its step changed (`rules.repack`).
        self.diffs = np.zeros((nt, maxs, t.length), dtype=np.int32)
        self.ndiffs = np.zeros((nt, _padded(maxs)), dtype=np.int32)
        self.changed = np.zeros((nt, _padded(max(1, t.executions))), dtype=np.int32)
        self.inside = np.zeros((nt, _padded(t.stages + 1)), dtype=np.int32)
        self.queued = np.zeros((nt, _padded(t.stages + 1)), dtype=np.int32)
        memory = bounds.max_memory if bounds.max_memory is not None else default_max_memory()
        self.memory_limit = memory * 2**20 if memory else None
        self.memory_mib = memory
        self.began = time.perf_counter()
        self.deadline = (None if bounds.max_seconds is None
                         else self.began + bounds.max_seconds)
        self.last_report = self.began

    def ctr(self, size: int = 10) -> np.ndarray:
        b = self.bounds
        ctr = np.zeros(size, dtype=np.int64)
        ctr[0] = 1
        ctr[3] = -1 if b.max_states is None else b.max_states
        ctr[4] = int(self.needs_graph)
        ctr[5] = len(self.kinds)
        return ctr

    def expand(self, states: Any, table: Any, fptable: Any, fpsizes: Any, sources: Any,
               lo: int, hi: int) -> None:
        G.expand_block(self.tables.T, states, table, fptable, fpsizes, sources, lo, hi,
                       self.nthreads,
                       self.counts, self.buf_packed, self.buf_hash, self.buf_op, self.buf_known,
                       self.kinds, self.params, self.pending, self.hits, self.seen,
                       self.scratch, self.ops, self.cur, self.diffs, self.ndiffs, self.changed,
                       self.inside, self.queued,
                       1, self.overflow, self.taken)
        if self.overflow.any():
            raise InternalError("compiled engine: a value outgrew its field in the packed "
                                "state (a bound of the tables is wrong)")

    def stop_before_block(self, ctr: np.ndarray, n: int, current: int, depth: int,
                          progress: Callable[[int, int, int, float], None] | None,
                          later: int = 0) -> str | None:
        """Why the search stops before the next block (None: it goes on); `later`: bytes the
        search will need at its end beyond what it holds now."""
        reraise_interruption()
        if not self.needs_graph and int(ctr[5]) == 0:
            return "every property decided"
        now = time.perf_counter()
        if self.deadline is not None and now > self.deadline:
            return f"--max-seconds {self.bounds.max_seconds:g}"
        if progress is not None and now - self.last_report > 0.2:
            progress(n, n - current, depth, now - self.began)
            self.last_report = now
        if self.memory_limit is not None and resident_bytes() + later > self.memory_limit:
            return f"--max-memory {self.memory_mib}"
        return None

    def finish(self, ex: CompiledExploration, ctr: np.ndarray) -> None:
        ex.compile_seconds = self.compile_seconds
        ex.workers = self.nthreads
        ex.seconds = time.perf_counter() - self.began
        G.merge_seen(self.seen)
        ex.seen = self.seen[0].copy()
        ex.op_counts = {kind.__name__: int(self.op_counts[i]) for i, kind in sorted(
            enumerate(OP_KINDS), key=lambda item: item[1].__name__) if self.op_counts[i]}

    def release(self) -> None:
        """Give back the block buffers' memory, before the graph is read back after the
        search."""
        empty_rows = np.zeros((0, self.tables.words), dtype=np.uint64)
        self.buf_packed, self.buf_hash = empty_rows, np.zeros(0, dtype=np.uint64)
        self.buf_op = self.buf_known = np.zeros(0, dtype=np.int64)

    def findings(self, ex: CompiledExploration) -> None:
        for i in self.asked:
            p, row = self.checked[i], self.found[i]
            if row[0] == -1 and row[1] == -1:
                continue
            finding = _finding(ex, p, int(row[0]), int(row[1]), int(row[2]))
            (ex.witnesses if p.kind == "witness" else ex.violations)[p.name] = finding


def _interruption(stop: KeyboardInterrupt) -> str:
    return "SIGTERM" if isinstance(stop, Terminated) else "Ctrl-C"


def _ended_by(why: int, bounds: Bounds) -> str | None:
    """What a block's return code says ended the search (None: it goes on)."""
    if why == G.R_DECIDED:
        return "every property decided"
    if why == G.R_MAX_STATES:
        return f"--max-states {bounds.max_states}"
    return None


def _search_exact(work: _Work, progress: Callable[[int, int, int, float], None] | None
                  ) -> CompiledExploration:
    model, bounds, tables = work.model, work.bounds, work.tables
    ex = CompiledExploration(model, bounds, tables)
    T, W, maxs = tables.T, tables.words, work.maxs
    # Room for as many states as the memory limit could hold, reserved but not touched: pages
    # become resident only as states are stored, and nothing is copied as the search grows.
    limit = work.memory_limit or 8 * 2**30
    cap = max(1 << 12, min(MAX_RESERVED, limit // (W * 8 + 8)))
    degree_type = np.uint8 if maxs < 2**8 else np.uint16 if maxs < 2**16 else np.int32
    while True:  # an address-space limit may refuse the reservation: ask for less
        try:
            states = reserve((cap, W), np.uint64)
            degree = reserve((cap,), degree_type)
            break
        except MemoryError:
            states = degree = np.zeros(0)  # what was reserved goes before asking again
            if cap <= 1 << 12:
                raise
            cap //= 2
    # The targets of a block's steps, written to a file block by block: the search holds the
    # state table, the graph is read back in compact form once the table is gone.
    targets = reserve(work.buf_op.shape, np.int32)
    steps = tempfile.TemporaryFile(prefix="stagelock-steps-")  # noqa: SIM115
    table = np.zeros(1 << 13, dtype=np.uint32)
    no_fingerprints = np.zeros((1, 1), dtype=np.uint64)
    no_sizes = np.zeros(1, dtype=np.int64)
    K.pack(encode(tables, model, model.initial(), (0, 0, 0)), T, states[0])
    G.rehash(states, 1, table, W)
    ctr = work.ctr()
    why = G.R_DONE
    depth, level_end = 0, 1
    n_edges = 0
    try:
        while True:
            n, current = int(ctr[0]), int(ctr[1])
            if current >= level_end:
                depth, level_end = depth + 1, n
                ex.layers.append(current)
            if current >= n:
                ex.complete = True
                break
            # The graph read back after the search takes more than the table it replaces.
            later = max(0, _compact_bytes(n, n_edges) - table.nbytes)
            ex.stopped_by = work.stop_before_block(ctr, n, current, depth, progress, later)
            if ex.stopped_by is not None:
                break
            # A block needs room for the most successors its states could have: near the end
            # of the room reserved, the blocks get smaller before the storage is called full.
            hi = min(level_end, current + work.block, current + (states.shape[0] - n) // maxs)
            if hi <= current:
                ex.stopped_by = (f"--max-memory {work.memory_mib} (exact storage is full: "
                                 f"use --storage fingerprint)")
                break
            work.expand(states, table, no_fingerprints, no_sizes, states, current, hi)
            # Room in the table for every successor the block made, counted (a bound by the
            # most successors a state could have would double the table long before it fills).
            made = int(work.counts[:hi - current, 0].sum())
            grows = (n + made) * 10 > table.shape[0] * 7
            if grows:
                size = table.shape[0]
                while (n + made) * 10 > size * 7:
                    size *= 2
                del table
                table = np.zeros(size, dtype=np.uint32)
                G.rehash(states, n, table, W)
            # The block's states and their steps are recorded together: an interruption waits
            # for the next block (`stop_before_block`).
            with deferred_interruptions():
                ctr[2] = 0
                G.insert_block(T, states, table, targets, ctr, current, hi, work.counts,
                               work.buf_packed, work.buf_hash, work.buf_op, work.buf_known,
                               work.kinds, work.pending, work.hits, work.found,
                               work.op_counts, maxs, not grows)
                block_edges, done = int(ctr[2]), int(ctr[1])
                targets[:block_edges].tofile(steps)
                n_edges += block_edges
                degree[current:done] = work.counts[:done - current, 0]
                why = int(ctr[6])
                if why == G.R_MAX_STATES:  # a state cut off half-way keeps the steps it recorded
                    degree[done] = block_edges - int(work.counts[:done - current, 0].sum())
            ex.stopped_by = _ended_by(why, bounds)
            if ex.stopped_by is not None:
                break
    except KeyboardInterrupt as stop:
        ex.stopped_by = _interruption(stop)
    except MemoryError:
        ex.stopped_by = f"--max-memory {work.memory_mib} (out of memory)"
    work.finish(ex, ctr)
    del table, targets
    work.release()
    n, current = int(ctr[0]), int(ctr[1])
    if ex.complete:
        ex.layers.pop()  # the level after the last holds no state
    partial = why == G.R_MAX_STATES
    ex.states = states[:n]
    ex.degree = degree[:n]
    ex.expanded = n if ex.complete else current
    ex.transitions = n_edges + (1 if partial else 0)
    ex.n_edges = n_edges
    _read_steps(ex, steps, n, n_edges)
    work.findings(ex)
    return ex


def _compact_bytes(n: int, n_edges: int) -> int:
    """What the compact graph of n states and n_edges steps takes beyond the states."""
    return 4 * max(0, n_edges - n + 1) + n_edges // 8 + 16 * (n // G.CHUNK + 1)


STEPS_READ = 1 << 20
"""Step targets read back from the file at a time."""


def _read_steps(ex: CompiledExploration, steps: Any, n: int, n_edges: int) -> None:
    """The steps' targets, written in order to `steps` during the search, into the compact graph:
    a bit per step that found its target, the others' targets."""
    found = np.zeros((n_edges + 7) // 8, dtype=np.uint8)
    known = np.zeros(max(0, n_edges - n + 1), dtype=np.int32)
    chunk = np.zeros(min(STEPS_READ, max(1, n_edges)), dtype=np.int32)
    steps.seek(0)
    next_found, n_known, first = 1, 0, 0
    while first < n_edges:
        m = min(chunk.shape[0], n_edges - first)
        if steps.readinto(chunk[:m].data.cast("B")) != 4 * m:
            raise InternalError("compiled engine: the file of steps ended early")
        next_found, n_known = G.split_steps(chunk, m, first, found, known, next_found, n_known)
        if n_known < 0:
            break
        first += m
    steps.close()
    if next_found != n or n_known != known.shape[0]:
        raise InternalError(f"compiled engine: {next_found - 1} steps found a state, expected "
                            f"{n - 1}")
    ex.found, ex.known = found, known
    ex.chunk_steps, ex.chunk_known = G.chunk_counts(ex.degree, n, found)


def reserve(shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """A zeroed array that fills from the front (or each of whose rows does): a private mapping
    whose pages become resident only when first written, in small pages (numpy would ask for
    huge pages, and the first write to each row would then make 2 MiB resident)."""
    count = int(np.prod(shape))
    nbytes = max(1, count * np.dtype(dtype).itemsize)
    if not hasattr(mmap, "MAP_PRIVATE"):
        return np.zeros(shape, dtype=dtype)
    try:
        area = mmap.mmap(-1, nbytes, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    except OSError as error:  # an address-space limit refused it
        raise MemoryError(str(error)) from None
    if hasattr(mmap, "MADV_NOHUGEPAGE"):
        area.madvise(mmap.MADV_NOHUGEPAGE)
    return np.frombuffer(area, dtype=dtype, count=count).reshape(shape)


MAX_RESERVED = 2**31 - 1
"""The most states exact storage numbers: they are int32 throughout."""

SEGMENTS = 1 << G.SEGMENT_BITS


def _search_fingerprints(work: _Work, progress: Callable[[int, int, int, float], None] | None
                         ) -> CompiledExploration:
    model, bounds, tables = work.model, work.bounds, work.tables
    T, W, maxs = tables.T, tables.words, work.maxs
    # The trail lives as long as the exploration, which may rebuild states from it.
    trail = tempfile.TemporaryFile(prefix="stagelock-parents-")  # noqa: SIM115
    ex = FingerprintExploration(model, bounds, tables, trail)
    # The fingerprint table's segments and the queue, each reserved once for as much as the
    # memory limit could hold and touched only as they fill: nothing is copied to grow them.
    parents = reserve((work.block * maxs,), np.int32)
    choices = reserve((work.block * maxs,), np.uint32)
    # Three quarters of the limit for the table, a quarter for the queue (a level of states).
    limit = work.memory_limit or 8 * 2**30
    row = max(4 * G.SEGMENT_SLOTS, limit * 3 // 4 // (8 * SEGMENTS))
    rows = max(2 * work.block * maxs, limit // 4 // (8 * W))
    while True:  # an address-space limit may refuse the reservation: ask for less
        try:
            fptable = reserve((SEGMENTS, row), np.uint64)
            queue = reserve((rows, W), np.uint64)
            break
        except MemoryError:
            fptable = queue = np.zeros((0, 0), dtype=np.uint64)  # freed before asking again
            if row <= 4 * G.SEGMENT_SLOTS and rows <= 2 * work.block * maxs:
                raise
            row, rows = max(4 * G.SEGMENT_SLOTS, row // 2), max(2 * work.block * maxs, rows // 2)
    fpsizes = np.full(SEGMENTS, G.SEGMENT_SLOTS, dtype=np.int64)
    fpcounts = np.zeros(SEGMENTS, dtype=np.int64)
    K.pack(encode(tables, model, model.initial(), (0, 0, 0)), T, queue[0])
    G.add_fingerprint(fptable, fpsizes, fpcounts, K.hash_words(queue[0], W) | np.uint64(1))
    no_states = np.zeros((1, W), dtype=np.uint64)
    no_table = np.zeros(1, dtype=np.uint32)
    ctr = work.ctr()
    ctr[9] = -1
    ex.trail_append(np.array([0], dtype=np.int32), np.array([0], dtype=np.uint32))
    why = G.R_DONE
    depth, level_end = 0, 1
    try:
        while True:
            n, current = int(ctr[0]), int(ctr[1])
            base = int(ctr[7])
            if base + current >= level_end:
                depth, level_end = depth + 1, n
                ex.layers.append(base + current)
            if current >= n - base:
                ex.complete = True
                ex.layers.pop()
                break
            ex.stopped_by = work.stop_before_block(ctr, n, base + current, depth, progress)
            if ex.stopped_by is not None:
                break
            hi = min(n - base, current + work.block, level_end - base)
            more = (hi - current) * maxs
            if current * 4 > n - base - current or n - base + more > queue.shape[0]:
                base, current = _compact(queue, base, current, n)
                ctr[1], ctr[7] = current, base
                # As with exact storage, smaller blocks before the queue is called full.
                hi = min(n - base, current + work.block, level_end - base,
                         current + (queue.shape[0] - (n - base)) // maxs)
                if hi <= current:
                    ex.stopped_by = f"--max-memory {work.memory_mib} (the queue is full)"
                    break
            work.expand(no_states, no_table, fptable, fpsizes, queue, current, hi)
            with deferred_interruptions():  # the block's states and their trail together
                ctr[8] = 0
                G.insert_block_fingerprints(T, fptable, fpsizes, fpcounts, queue, ctr, current,
                                            hi, work.counts, work.buf_packed, work.buf_hash,
                                            work.buf_op, work.buf_known, work.kinds,
                                            work.pending, work.hits, work.found,
                                            work.op_counts, maxs, parents, choices,
                                            work.cur[0])
                fresh = int(ctr[8])
                ex.trail_append(parents[:fresh], choices[:fresh])
            why = int(ctr[6])
            if why == G.R_FULL:
                ex.stopped_by = (f"--max-memory {work.memory_mib} (the fingerprint table is "
                                 f"full)")
                break
            ex.stopped_by = _ended_by(why, bounds)
            if ex.stopped_by is not None:
                break
    except KeyboardInterrupt as stop:
        ex.stopped_by = _interruption(stop)
    except MemoryError:
        ex.stopped_by = f"--max-memory {work.memory_mib} (out of memory)"
    work.finish(ex, ctr)
    n = int(ctr[0])
    ex.count = n
    ex.expanded = n if ex.complete else int(ctr[7]) + int(ctr[1])
    ex.transitions = int(ctr[2]) + (1 if why == G.R_MAX_STATES else 0)
    ex.first_deadlock = int(ctr[9])
    ex.miss_probability = miss_probability(n)
    del fptable, queue
    work.findings(ex)
    return ex


FINGERPRINT_BITS = 63
"""The bits of a fingerprint that differ between states: a state's 64-bit hash with its lowest
bit set (`graph.fingerprint_of`: 0 marks an empty slot)."""


def miss_probability(n: int) -> float:
    """An upper bound on the probability that two of n states share a fingerprint (so that one
    of them may be missed): n(n-1)/2 pairs, each alike with probability 2^-FINGERPRINT_BITS."""
    return min(1.0, n * (n - 1) / 2 / 2.0**FINGERPRINT_BITS)


def _compact(queue: np.ndarray, base: int, current: int, n: int) -> tuple[int, int]:
    """Move the states not expanded yet to the front of the queue; the new (base, current).
    In pieces no longer than the gap, so that no piece overlaps itself (numpy would copy it)."""
    left = n - base - current
    piece = max(1, min(current, 1 << 16))
    for lo in range(0, left, piece):
        hi = min(left, lo + piece)
        queue[lo:hi] = queue[current + lo:current + hi]
    return base + current, 0


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
    tiny model: the search, the progress analyses and the replay of a trace; returns the seconds
    it took the first time (0 afterwards)."""
    if _WARM:
        return 0.0
    began = time.perf_counter()
    from spec.declaration import Action, Pipeline, Stage
    from spec.rules import build_model

    tiny = build_model(Pipeline("warm-up", (Stage("A", (Action("a", "Deploy"),)),
                                            Stage("B", (Action("b"),)))), world=True)
    _WARM.append(0.0)
    with deferred_interruptions():
        for storage in ("exact", "fingerprint"):
            ex = explore_compiled(tiny, Bounds(executions=1), [], storage=storage)
            ex.deadlock()
            if storage == "exact":
                ex.stuck()
            ex.path(len(ex) - 1)
            del ex  # its reservations too, before the next search reserves its own
    _WARM[0] = time.perf_counter() - began
    return _WARM[0]
