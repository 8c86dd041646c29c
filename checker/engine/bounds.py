"""The bounds of a configuration, and how a search spends them.

The environment's moves are bounded by `Bounds`: how many executions start, how many stops,
retries and transition disables the user makes, and how many pipeline updates.  Actions'
results, approvals' answers and the end of a stop and abandon are not bounded: they are what
the world does.  Both engines read the
bounds the same way: `allowed` says which kinds of user operation a state may still take, and
`spend` what a step uses up.  Updates need no budget of their own: the state counts them
(`State.version`).
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
from spec.state import State


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
        return text + ("" if self.failures else ", no failures")


def allowed(bounds: Bounds, state: State, stops: int, retries: int,
            toggles: int) -> dict[str, Any]:
    """Which kinds of user operation the bounds still allow, as `successors`' flags.

    With no transition toggles at all, no transition is enabled either: one that the
    declaration disables stays disabled."""
    return {
        "starts": len(state.executions) < bounds.executions,
        "stops": stops < bounds.stops,
        "retries": retries < bounds.retries,
        "disables": toggles < bounds.toggles,
        "failures": bounds.failures,
        "enables": bounds.toggles > 0,
        "updates": state.version < bounds.updates,
        "update_modes": bounds.update_modes,
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
