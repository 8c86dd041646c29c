"""Hypothesis strategies for property tests about pipelines: declarations, and sequences of
operations the service accepts.

    from hypothesis import given
    from checker.strategies import operation_sequences, pipelines
    from spec.rules import build_model

    @given(operation_sequences(build_model(my_pipeline)))
    def test_something(steps):
        for operation, state in steps:
            ...

Both shrink towards small examples: fewer stages and actions, shorter sequences, and at each
step the first operation `spec.rules.successors` offers.
"""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import strategies as st

from spec.declaration import Action, Pipeline, Stage
from spec.modes import MODES
from spec.operations import Operation
from spec.rules import Model, successors
from spec.state import MANUAL_ROLLBACK, State

__all__ = ["CATEGORIES", "operation_sequences", "pipelines", "updated_pipelines"]

CATEGORIES = ("Build", "Deploy", "Test", "Invoke")
"""The categories of the actions after the first stage (besides Approval)."""

AUTOMATIC_RETRY = (None, "FAILED_ACTIONS", "ALL_ACTIONS")
"""A stage's automatic retry on failure: none, or its retry mode."""
ENTRY_CONDITIONS = (None, None, "FAIL", "SKIP")
SUCCESS_CONDITIONS = (None, None, "FAIL", "ROLLBACK")
"""A stage's entry and success conditions, by result: none half the time, or one of the others."""


def pipelines(
    max_stages: int = 5, max_actions: int = 3, modes: Sequence[str] = tuple(MODES)
) -> st.SearchStrategy[Pipeline]:
    """Random V2 declarations named ``random``: 2 (CodePipeline's least) to ``max_stages``
    stages of 1 to
    ``max_actions`` actions each (``S{stage}A{action}``), runOrder groups 1-3; the first stage
    holds Source actions, the others Build, Deploy, Test, Invoke and Approval actions; any stage
    may retry automatically on failure (``onFailure`` RETRY, FAILED_ACTIONS or ALL_ACTIONS) and
    have a success condition (``onSuccess`` FAIL or ROLLBACK), any but the first an entry condition
    (``beforeEntry`` FAIL or SKIP) or, outside PARALLEL mode, roll back on failure
    (``onFailure`` ROLLBACK); the execution mode is one of ``modes``."""
    if max_stages < 2 or max_actions < 1:
        raise ValueError("expected max_stages of at least 2 and max_actions of at least 1")
    chosen = tuple(modes)
    unknown = [m for m in chosen if m not in MODES]
    if not chosen or unknown:
        raise ValueError(f"expected modes from {', '.join(MODES)}, got {list(modes)!r}")
    return _pipelines(max_stages, max_actions, chosen)


@st.composite
def _pipelines(
    draw: st.DrawFn, max_stages: int, max_actions: int, modes: tuple[str, ...]
) -> Pipeline:
    stage_count = draw(st.integers(2, max_stages))
    mode = draw(st.sampled_from(modes))
    stages = []
    for s in range(stage_count):
        count = draw(st.integers(1, max_actions))
        actions = []
        for a in range(count):
            kinds = ("Source",) if s == 0 else CATEGORIES + ("Approval",)
            category = draw(st.sampled_from(kinds))
            run_order = draw(st.integers(1, 3))
            actions.append(Action(f"S{s}A{a}", category, run_order))
        retry = draw(st.sampled_from(AUTOMATIC_RETRY))
        # A stage other than the first may roll back on failure instead, but not in PARALLEL
        # mode, which has no stage rollback.
        rollback = (retry is None and s > 0 and mode != "PARALLEL"
                    and draw(st.integers(0, 3)) == 0)
        entry = draw(st.sampled_from(ENTRY_CONDITIONS)) if s else None
        success = draw(st.sampled_from(SUCCESS_CONDITIONS))
        stages.append(Stage(f"Stage{s}", tuple(actions), automatic_retry=retry,
                            automatic_rollback=rollback, before_entry=entry,
                            on_success=success))
    return Pipeline("random", tuple(stages), mode, "V2")


def updated_pipelines(pipeline: Pipeline) -> st.SearchStrategy[Pipeline]:
    """Random declarations an update may install over ``pipeline``, as a self-mutating
    pipeline's updates do: the first stage kept, any other stage kept (an action's runOrder or
    category maybe changed, an action maybe added) or dropped, a new stage maybe added after
    any kept one, and the execution mode maybe changed (not to PARALLEL where a stage rolls
    back by itself); the stages both have keep their order."""
    return _updated_pipelines(pipeline)


@st.composite
def _updated_pipelines(draw: st.DrawFn, pipeline: Pipeline) -> Pipeline:
    stages: list[Stage] = []
    for s, stage in enumerate(pipeline.stages):
        if s and draw(st.integers(0, 3)) == 0:
            continue  # dropped
        if s and draw(st.booleans()):
            actions = list(stage.actions)
            a = draw(st.integers(0, len(actions) - 1))
            actions[a] = Action(actions[a].name, draw(st.sampled_from(CATEGORIES + ("Approval",))),
                                draw(st.integers(1, 3)))
            if draw(st.booleans()):
                actions.append(Action(f"{stage.name}New", "Test", draw(st.integers(1, 3))))
            stage = Stage(stage.name, tuple(actions), stage.automatic_retry,
                          stage.before_entry, stage.on_success, stage.automatic_rollback)
        stages.append(stage)
        if draw(st.integers(0, 3)) == 0:
            stages.append(Stage(f"Added{s}", (Action(f"Added{s}A0", "Deploy"),),
                                before_entry=draw(st.sampled_from(ENTRY_CONDITIONS))))
    if len(stages) < 2:
        stages.append(Stage("Added", (Action("AddedA0", "Deploy"),)))
    rolls = any(s.rolls_back for s in stages)
    modes = [m for m in MODES if not (rolls and m == "PARALLEL")]
    mode = draw(st.sampled_from(modes)) if draw(st.booleans()) else pipeline.execution_mode
    if rolls and mode == "PARALLEL":
        mode = "SUPERSEDED"
    return Pipeline(pipeline.name, tuple(stages), mode, pipeline.pipeline_type)


def operation_sequences(
    model: Model, max_steps: int = 30, max_executions: int = 3, max_updates: int = 0,
    max_rollbacks: int = 0,
) -> st.SearchStrategy[list[tuple[Operation, State]]]:
    """Walks from ``model``'s initial state: lists of up to ``max_steps`` (operation,
    state after it) pairs, each operation one the service accepts in the state reached so far
    (one of `spec.rules.successors`), with at most ``max_executions`` executions started and
    ``max_updates`` pipeline updates and ``max_rollbacks`` RollbackStage calls (rollbacks that
    a stage starts on failure are the rules' and not counted).  A walk ends early where nothing
    more can happen."""
    if min(max_steps, max_executions, max_updates, max_rollbacks) < 0:
        raise ValueError("expected max_steps, max_executions, max_updates and max_rollbacks of "
                         "at least 0")
    return _operation_sequences(model, max_steps, max_executions, max_updates, max_rollbacks)


@st.composite
def _operation_sequences(
    draw: st.DrawFn, model: Model, max_steps: int, max_executions: int, max_updates: int,
    max_rollbacks: int,
) -> list[tuple[Operation, State]]:
    length = draw(st.integers(0, max_steps))
    state = model.initial()
    steps: list[tuple[Operation, State]] = []
    for _ in range(length):
        triggers = [ex.trigger for ex in state.executions]
        options = successors(model, state, starts=triggers.count(None) < max_executions,
                             updates=state.version < max_updates,
                             rollbacks=triggers.count(MANUAL_ROLLBACK) < max_rollbacks)
        if not options:
            break
        op, state = options[draw(st.integers(0, len(options) - 1))]
        steps.append((op, state))
    return steps
