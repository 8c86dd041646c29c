"""What an exploration gives, whichever engine made it.

`Finding` is where a property was first violated or a witness first seen.  `Explored` is the
interface both engines' exploration objects provide: everything the verdicts, the reports, the
baseline and the differential tests read goes through it, so that none of them depends on how
an engine stores its states.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from spec.operations import Operation
from spec.state import State


@dataclass
class Finding:
    """Where a property was first violated (or a witness first seen): the state id reached and,
    for a step, the id of the state before and the operation."""

    state: int
    before: int | None = None
    operation: Operation | None = None
    detail: str = ""


def trace_to(path: Callable[[int], list[Operation]], finding: Finding) -> list[Operation]:
    """The operations from the initial state to a finding, given the engine's shortest `path`
    to a state: to its state, or to the state before its step and then the step."""
    if finding.before is None:
        return path(finding.state)
    assert finding.operation is not None
    return path(finding.before) + [finding.operation]


class Explored(Protocol):
    """A searched graph: states numbered in the order found (so by depth, breadth first), each
    reached by a shortest path, with every recorded step."""

    bounds: Any
    """The `checker.engine.Bounds` searched within."""
    model: Any
    """The `spec.rules.Model` explored."""
    engine: str
    """"compiled" or "interpreted"."""
    engine_reason: str
    """Why that engine ran: "default", "--engine interpreted", or why the compiled engine could
    not run this configuration."""
    workers: int
    """Threads or processes that explored (1 for the interpreted engine)."""
    storage: str
    """"exact" (every state stored whole) or "fingerprint" (hashes only)."""
    compile_seconds: float
    """Time spent compiling before the search (0 for the interpreted engine)."""
    miss_probability: float | None
    """With fingerprint storage, an upper bound on the probability that some state was missed
    because two states had the same fingerprint; None for exact storage."""

    layers: Any
    """layers[d] is the number of the first state at depth d."""
    edge_start: Any
    """Array-like: the steps out of state i are edge_target[edge_start[i]:edge_start[i + 1]]."""
    edge_target: Any
    violations: dict[str, Finding]
    witnesses: dict[str, Finding]
    op_counts: dict[str, int]
    """Steps taken, per operation name (every generated step, including those to states seen
    before)."""
    transitions: int
    seconds: float
    complete: bool
    stopped_by: str | None
    expanded: int
    """States whose every successor was recorded (all of them when the search completed)."""

    def __len__(self) -> int: ...

    def state(self, i: int) -> State: ...

    def budgets(self, i: int) -> tuple[int, int, int]: ...

    def edges(self, i: int) -> list[tuple[Operation, int]]: ...

    def path(self, target: int) -> list[Operation]: ...

    def trace(self, finding: Finding) -> list[Operation]: ...

    @property
    def max_depth(self) -> int: ...

    def deadlock(self) -> Finding | None: ...

    def stuck(self, goal: Any = None) -> Finding | None:
        """The first state from which some execution can no longer finish, or with `goal` (an
        `eventually` property, `spec.patterns`) from which no state it asks for is reachable."""
        ...

    def chart_changes(self) -> set[tuple[str, str, str]]:
        """The lifecycle charts' transitions (chart, source, target) some recorded step made."""
        ...
