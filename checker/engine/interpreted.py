"""The interpreted engine: breadth-first exploration over the readable rules.

The explorer drives `spec.rules.successors` from the initial state, keeping each distinct state
once (a node is the spec state plus how much of each budget has been used), a parent map for
shortest traces, and the edges of the reachable graph for the progress analysis.  Each property
is checked as the search meets it; the first violation found is a shortest one, because states
are visited in order of depth.

It runs any rule set, users' own rules files included, and keeps every stored state as Python
objects (`Exploration.nodes`), which the state-graph pictures and the differential tests read.
Callers go through `checker.engine.explore`, which picks the engine.
"""

from __future__ import annotations

import functools
import os
import time
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from checker.coverage import execution_changes, inbound_transition_changes
from checker.engine.bounds import Bounds, allowed, spend
from checker.engine.graph import find_deadlock, find_stuck, stuck_detail
from checker.engine.result import Finding, trace_to
from checker.errors import Terminated, reraise_interruption
from spec.lifecycles import COMPILED
from spec.operations import Operation
from spec.properties import Property
from spec.rules import Model, successors
from spec.state import Execution, State

STATE_FIELDS = len(State._fields)

Node = tuple
"""A stored state: the spec state's fields, flattened, then the budgets used so far (stops,
retries, transition disables).  Flat, and with its parts shared between states (see `_Interner`),
to keep each stored state small."""


@dataclass
class Exploration:
    """The searched graph: states numbered in the order found (so by depth), each state's
    parent and the operation that reached it, and every edge, in compact arrays."""

    model: Model
    bounds: Bounds
    nodes: list[Node]
    parent: array
    via: list[Operation | None]
    layers: list[int]
    """layers[d] is the number of the first state at depth d."""
    edge_start: array
    edge_target: array
    violations: dict[str, Finding] = field(default_factory=dict)
    witnesses: dict[str, Finding] = field(default_factory=dict)
    op_counts: dict[str, int] = field(default_factory=dict)
    transitions: int = 0
    seconds: float = 0.0
    complete: bool = False
    stopped_by: str | None = None
    expanded: int = 0
    """States whose every successor was recorded (all of them when the search completed)."""
    engine: str = "interpreted"
    engine_reason: str = "default"
    """Why this engine ran (set by `checker.engine.explore`)."""
    workers: int = 1
    storage: str = "exact"
    compile_seconds: float = 0.0
    miss_probability: float | None = None

    def __len__(self) -> int:
        return len(self.nodes)

    def state(self, i: int) -> State:
        """The spec state of state number i."""
        return State._make(self.nodes[i][:STATE_FIELDS])

    def budgets(self, i: int) -> tuple[int, int, int]:
        """Stops, retries and transition disables used on the way to state number i."""
        return self.nodes[i][STATE_FIELDS:]  # type: ignore[no-any-return]

    def edges(self, i: int) -> list[tuple[Operation, int]]:
        """The recorded steps out of state i: each operation and the number of its target.

        Operations are not stored (to keep the graph small); they are generated again, in the
        same order and within the same bounds as during the search."""
        state = self.state(i)
        stops, retries, toggles = self.budgets(i)
        b = self.bounds
        ops = [op for op, _ in successors(
            self.model, state, **allowed(b, state, stops, retries, toggles))]
        targets = self.edge_target[self.edge_start[i]:self.edge_start[i + 1]]
        assert len(ops) == len(targets) or i >= self.expanded
        return list(zip(ops, targets, strict=False))

    def path(self, target: int) -> list[Operation]:
        """The operations from the initial state to state `target` (a shortest path)."""
        return walk_back(self.parent, self.via, target)

    def trace(self, finding: Finding) -> list[Operation]:
        return trace_to(self.path, finding)

    @property
    def max_depth(self) -> int:
        return len(self.layers) - 1

    def deadlock(self) -> Finding | None:
        """The shallowest state with an unfinished execution and no move at all."""
        return find_deadlock(self)

    def stuck(self, goal: Property | None = None) -> Finding | None:
        """The first state from which some execution can no longer finish, or with `goal` (an
        `eventually` property) from which no state it asks for can be reached (meaningful only
        when the search completed)."""
        if goal is None:
            return find_stuck(self)
        return find_stuck(self, goal.goal, stuck_detail(goal))

    def chart_changes(self) -> set[tuple[str, str, str]]:
        """The lifecycle charts' transitions (chart, source, target) that some recorded step
        made (reading stops once every transition of every chart was seen)."""
        every = {(name, s, t) for name, chart in COMPILED.items() for (s, t) in chart.pairs}
        seen = inbound_transition_changes(self.op_counts)
        for before, after in self.record_pairs():
            if every <= seen:
                break
            seen.update(execution_changes(self.model, before, after))
        return seen

    def record_pairs(self) -> Iterator[tuple[Execution | None, Execution]]:
        """Each distinct pair of execution records (before, after) that some recorded step
        changed; before is None when the step started the execution.

        Stored states share their execution records (`_Interner`), so a step's changes are the
        records that differ by identity, and each pair is given once.  Lazily: a caller that
        has seen enough stops early."""
        seen: set[tuple[int, int]] = set()
        nodes, edge_start, edge_target = self.nodes, self.edge_start, self.edge_target
        for s in range(self.expanded):
            old = nodes[s][0]
            for k in range(edge_start[s], edge_start[s + 1]):
                for e, new in enumerate(nodes[edge_target[k]][0]):
                    before = old[e] if e < len(old) else None
                    if before is new or (id(before), id(new)) in seen:
                        continue
                    seen.add((id(before), id(new)))
                    yield before, new


def walk_back(parent: array, via: list[Operation | None], target: int) -> list[Operation]:
    """The operations from node 0 to node `target`, following the parent map back."""
    ops: list[Operation] = []
    while target != 0:
        op = via[target]
        assert op is not None
        ops.append(op)
        target = parent[target]
    ops.reverse()
    return ops


class _Interner:
    """One shared object per distinct execution record and per distinct queue/latest/transition
    tuple, so that states that differ in one execution share the rest.  One pool per field:
    (0, 0) and (False, False) are equal in Python, but a latest-execution tuple must never come
    back as a tuple of transition flags."""

    def __init__(self) -> None:
        self.records: dict[object, object] = {}
        self.pools: list[dict[object, object]] = [{} for _ in State._fields]

    def node(self, state: State, budgets: tuple[int, int, int]) -> Node:
        records, pools = self.records, self.pools
        executions = tuple([records.setdefault(x, x) for x in state.executions])
        return (
            pools[0].setdefault(executions, executions),
            *[pools[k].setdefault(part, part) for k, part in enumerate(state[1:], 1)],
            *budgets,
        )


def explore(
    model: Model,
    bounds: Bounds,
    properties: list[Property],
    progress: Callable[[int, int, int, float], None] | None = None,
) -> Exploration:
    """Explore breadth first; check invariants and step properties, collect witnesses."""
    props = {p.name: p for p in properties}
    # Properties still to be decided by a state or a step; each leaves its list when found.
    pending_states = [p for p in properties if p.kind != "progress" and p.state_check]
    pending_steps = [p for p in properties if p.kind != "progress" and p.step_check]
    found: dict[str, Finding] = {}
    # With no progress property to decide, the search can end once every property is decided.
    needs_graph = any(p.kind == "progress" for p in properties) or not properties
    interner = _Interner()
    start = interner.node(model.initial(), (0, 0, 0))
    index: dict[Node, int] = {start: 0}
    nodes: list[Node] = [start]
    parent = array("i", [0])
    via: list[Operation | None] = [None]
    layers = [0]
    edge_start = array("i")
    edge_target = array("i")
    result = Exploration(model, bounds, nodes, parent, via, layers, edge_start, edge_target)
    violations, witnesses = result.violations, result.witnesses
    counts: dict[type, int] = {}
    began = time.perf_counter()
    deadline = None if bounds.max_seconds is None else began + bounds.max_seconds
    max_states = bounds.max_states
    memory_mib = bounds.max_memory if bounds.max_memory is not None else default_max_memory()
    memory_limit = memory_mib * 2**20 if memory_mib else None
    transitions = 0
    current = 0
    next_layer = 1
    try:
        while current < len(nodes):
            if current == next_layer:
                layers.append(current)
                next_layer = len(nodes)
            if current & 1023 == 0:
                reraise_interruption()
                now = time.perf_counter()
                if progress is not None:
                    progress(len(nodes), len(nodes) - current, len(layers) - 1, now - began)
                if deadline is not None and now > deadline:
                    result.stopped_by = f"--max-seconds {bounds.max_seconds:g}"
                    break
                if memory_limit is not None and current & 4095 == 0 \
                        and resident_bytes() > memory_limit:
                    result.stopped_by = f"--max-memory {memory_mib}"
                    break
            if not (needs_graph or pending_steps or pending_states):
                result.stopped_by = "every property decided"
                break
            node = nodes[current]
            state = State._make(node[:STATE_FIELDS])
            stops, retries, toggles = node[STATE_FIELDS:]
            edge_start.append(len(edge_target))
            for op, after in successors(
                model, state, **allowed(bounds, state, stops, retries, toggles)
            ):
                transitions += 1
                kind = type(op)
                counts[kind] = counts.get(kind, 0) + 1
                for p in pending_steps:
                    why = p.step_check(model, state, op, after)  # type: ignore[misc]
                    if why:
                        found[p.name] = Finding(-1, current, op, why)
                if found:
                    _settle(found, pending_steps, pending_states, violations, witnesses, props)
                budgets = spend(op, stops, retries, toggles)
                key = (*after, *budgets)
                target = index.get(key)
                if target is None:
                    if max_states is not None and len(nodes) >= max_states:
                        result.stopped_by = f"--max-states {max_states}"
                        raise _Stop
                    target = len(nodes)
                    key = interner.node(after, budgets)
                    index[key] = target
                    nodes.append(key)
                    parent.append(current)
                    via.append(op)
                    for p in pending_states:
                        why = p.state_check(model, after)  # type: ignore[misc]
                        if why:
                            found[p.name] = Finding(target, detail=why)
                    if found:
                        _settle(found, pending_steps, pending_states, violations, witnesses,
                                props)
                edge_target.append(target)
            current += 1
        else:
            result.complete = True
    except _Stop:
        pass
    except KeyboardInterrupt as stop:
        result.stopped_by = "SIGTERM" if isinstance(stop, Terminated) else "Ctrl-C"
    except MemoryError:  # the memory ran out before the guard saw it coming
        result.stopped_by = f"--max-memory {memory_mib} (out of memory)"
    # Close the edge list of a state cut off half-way, so every listed state has its slice.
    while len(edge_start) < len(nodes):
        edge_start.append(len(edge_target))
    edge_start.append(len(edge_target))
    result.op_counts.update({k.__name__: v for k, v in sorted(
        counts.items(), key=lambda item: item[0].__name__)})
    result.expanded = current if not result.complete else len(nodes)
    result.transitions = transitions
    result.seconds = time.perf_counter() - began
    return result


class _Stop(Exception):
    pass


_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def resident_bytes() -> int:
    """This process's resident memory (0 where /proc is not available)."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return 0


@functools.cache
def default_max_memory() -> int | None:
    """75% of the memory this process may have, in MiB: the machine's (/proc/meminfo), or less
    where a cgroup or an address-space limit (RLIMIT_AS) says so; None when none is known."""
    limits: list[int] = []
    try:
        with open("/proc/meminfo", "rb") as f:
            for line in f:
                if line.startswith(b"MemTotal:"):
                    limits.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        pass
    try:
        with open("/sys/fs/cgroup/memory.max", "rb") as f:
            text = f.read().strip()
        if text.isdigit():
            limits.append(int(text))
    except OSError:
        pass
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft != resource.RLIM_INFINITY:
            # The address space counts the interpreter and its libraries too: with numba, LLVM
            # and the compiled kernel loaded, some 450 MiB.
            limits.append(max(soft - 512 * 2**20, soft // 2))
    except (ImportError, ValueError, OSError):
        pass
    return min(limits) * 3 // 4 // 2**20 if limits else None


def _settle(found: dict[str, Finding], pending_steps: list[Property],
            pending_states: list[Property], violations: dict[str, Finding],
            witnesses: dict[str, Finding], props: dict[str, Property]) -> None:
    """Record what was just found (a violation, or a witness seen) and stop checking it."""
    for name, finding in found.items():
        (witnesses if props[name].kind == "witness" else violations)[name] = finding
    pending_steps[:] = [p for p in pending_steps if p.name not in found]
    pending_states[:] = [p for p in pending_states if p.name not in found]
    found.clear()
