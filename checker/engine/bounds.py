"""The bounds of a configuration, and how a search spends them.

The environment's moves are bounded by `Bounds`: how many executions start, how many stops,
retries and transition disables the user makes, how many pipeline updates and how many
RollbackStage calls.  Actions'
results, approvals' answers and the end of a stop and abandon are not bounded: they are what
the world does.  Both engines read the
bounds the same way: `allowed` says which kinds of user operation a state may still take, and
`spend` what a step uses up.  Updates and rollbacks need no budget of their own: the state
counts them (`State.version`, the executions of type ROLLBACK).  Automatic rollbacks are not
bounded: the rules start them, at most one per failed execution.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from spec.operations import (
    DisableStageTransition,
    Operation,
    RetryStageExecution,
    StopPipelineExecution,
)
from spec.state import MANUAL_ROLLBACK, State


@dataclass(frozen=True)
class Bounds:
    executions: int = 3
    stops: int = 1
    retries: int = 1
    toggles: int = 1
    failures: bool = True
    updates: int = 0
    """UpdatePipeline calls in total (0: the pipeline is never updated)."""
    update_modes: tuple[str, ...] = ()
    """The execution modes an update may change the pipeline to, in `spec.modes.MODES` order;
    an update may always keep the mode.  Empty: every update keeps it."""
    rollbacks: int = 0
    """RollbackStage calls in total (0: no stage is rolled back by hand)."""
    max_states: int | None = None
    max_seconds: float | None = None
    max_memory: int | None = None
    """MiB of resident memory at which the search stops (None: `default_max_memory()`)."""

    def describe(self) -> str:
        text = ", ".join((
            _n(self.executions, "execution"),
            _n(self.stops, "stop"),
            _n(self.retries, "retry", "retries"),
            _n(self.toggles, "transition toggle"),
        ))
        if self.updates:
            text += ", " + _n(self.updates, "update")
            if self.update_modes:
                text += (" (keeping the execution mode or changing it to "
                         + " or ".join(self.update_modes) + ")")
        if self.rollbacks:
            text += ", " + _n(self.rollbacks, "rollback")
        return text + ("" if self.failures else ", no failures")


def allowed(bounds: Bounds, state: State, stops: int, retries: int,
            toggles: int) -> dict[str, Any]:
    """Which kinds of user operation the bounds still allow, as `successors`' flags.

    With no transition toggles at all, no transition is enabled either: one that the
    declaration disables stays disabled."""
    rollbacks = [ex.trigger for ex in state.executions if ex.rollback_of >= 0]
    return {
        "starts": len(state.executions) - len(rollbacks) < bounds.executions,
        "stops": stops < bounds.stops,
        "retries": retries < bounds.retries,
        "disables": toggles < bounds.toggles,
        "failures": bounds.failures,
        "enables": bounds.toggles > 0,
        "updates": state.version < bounds.updates,
        "update_modes": bounds.update_modes,
        "rollbacks": rollbacks.count(MANUAL_ROLLBACK) < bounds.rollbacks,
    }


def spend(op: Operation, stops: int, retries: int, toggles: int) -> tuple[int, int, int]:
    """The budgets used after `op`: stops, retries, transition disables."""
    kind = type(op)
    if kind is StopPipelineExecution:
        return stops + 1, retries, toggles
    if kind is RetryStageExecution:
        return stops, retries + 1, toggles
    if kind is DisableStageTransition:
        return stops, retries, toggles + 1
    return stops, retries, toggles


def _n(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"
