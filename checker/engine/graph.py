"""Progress analyses over a searched graph: deadlocks, and states from which some execution can
no longer finish.

Pure functions of what both engines' explorations give: `len(ex)`, `ex.expanded`, `ex.state(i)`
and the edges in compact arrays (`ex.edge_start`, `ex.edge_target`: the targets of state i's
steps are `edge_target[edge_start[i]:edge_start[i + 1]]`).
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from typing import Any

from checker.engine.result import Finding
from spec.state import ACTIVE, State


def unfinished(state: State) -> bool:
    """Some execution of the state has not finished."""
    return any(ex.status in ACTIVE for ex in state.executions)


def find_deadlock(ex: Any) -> Finding | None:
    """The first (shallowest) state with an unfinished execution and no move at all."""
    for i in range(ex.expanded):
        if ex.edge_start[i] == ex.edge_start[i + 1] and unfinished(ex.state(i)):
            return Finding(i, detail="an execution is unfinished and nothing can happen")
    return None


def find_stuck(ex: Any, goal: Callable[[State], bool] | None = None,
               detail: str = "from here some execution can no longer finish") -> Finding | None:
    """The first state from which no path leads to a state where every execution has finished.

    Backward reachability from the finished states over the recorded edges (compact arrays; the
    test suite checks the same answer with networkx on small graphs).
    """
    n = len(ex)
    # reverse adjacency in CSR form
    counts = array("i", bytes(4 * (n + 1)))
    for t in ex.edge_target:
        counts[t + 1] += 1
    for i in range(n):
        counts[i + 1] += counts[i]
    sources = array("i", bytes(4 * len(ex.edge_target)))
    fill = array("i", counts)
    for s in range(n):
        for k in range(ex.edge_start[s], ex.edge_start[s + 1]):
            t = ex.edge_target[k]
            sources[fill[t]] = s
            fill[t] += 1
    can = bytearray(n)
    reached = goal if goal is not None else (lambda state: not unfinished(state))
    stack = [i for i in range(n) if reached(ex.state(i))]
    for i in stack:
        can[i] = 1
    while stack:
        t = stack.pop()
        for k in range(counts[t], counts[t + 1]):
            s = sources[k]
            if not can[s]:
                can[s] = 1
                stack.append(s)
    for i in range(n):
        if not can[i]:
            return Finding(i, detail=detail)
    return None


def stuck_detail(goal: Any) -> str:
    """What a state from which an `eventually` property's goal cannot be reached shows."""
    return f"from here no path leads to {goal.goal_text}"
