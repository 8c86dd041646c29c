"""The global model against its oracle, the lifecycle charts, and against its own definitions.

Random declarations and random walks of accepted operations: every status change is a transition
of its chart; replaying the step's events through real chart instances lands where the global
model did; the operations `successors` offers are exactly those the service accepts; locks hold.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from checker.coverage import automatically_retried, lifecycle_changes, not_in_charts
from checker.strategies import pipelines
from checker.view import has_entered, inbound_executions
from spec.declaration import Action, Pipeline, Stage, parse_pipeline
from spec.lifecycles import replay
from spec.operations import (
    ALL_ACTIONS,
    APPROVED,
    FAILED_ACTIONS,
    REJECTED,
    ActionFailed,
    ActionsAbandoned,
    ActionSucceeded,
    ApprovalTimedOut,
    ConditionFailed,
    ConditionSucceeded,
    DisableStageTransition,
    EnableStageTransition,
    Operation,
    OverrideStageCondition,
    PutApprovalResult,
    Refused,
    RetryStageExecution,
    StartPipelineExecution,
    StopPipelineExecution,
    UpdatePipeline,
)
from spec.properties import PROPERTIES
from spec.rules import Model, apply, build_model, refusal, successors
from spec.state import ACTIVE, FAILED, IN_PROGRESS, STOPPED, SUCCEEDED, State

WALK = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def every_operation(m: Model, state: State) -> list[Operation]:
    """Every operation that names something that exists, accepted or not."""
    ops: list[Operation] = [StartPipelineExecution(), UpdatePipeline()]
    for e in range(len(state.executions)):
        ops += [
            StopPipelineExecution(e, False),
            StopPipelineExecution(e, True),
            ActionsAbandoned(e),
            ConditionSucceeded(e),
            ConditionFailed(e),
        ]
        for s in range(m.stage_count):
            ops += [
                RetryStageExecution(e, s, FAILED_ACTIONS),
                RetryStageExecution(e, s, ALL_ACTIONS),
                OverrideStageCondition(e, s, "BEFORE_ENTRY"),
                OverrideStageCondition(e, s, "ON_SUCCESS"),
            ]
        for a in range(len(m.action_names)):
            if m.approval[a]:
                ops += [
                    PutApprovalResult(e, a, APPROVED),
                    PutApprovalResult(e, a, REJECTED),
                    ApprovalTimedOut(e, a),
                ]
            else:
                ops += [ActionSucceeded(e, a), ActionFailed(e, a)]
    for s in range(m.stage_count):
        ops += [DisableStageTransition(s), EnableStageTransition(s)]
    return ops


UPDATES = 2
"""How many times a walk may update the pipeline."""


def walk(
    m: Model, choices: list[int], max_executions: int = 3
) -> list[tuple[State, Operation, State]]:
    state = m.initial()
    steps = []
    for choice in choices:
        options = [
            (op, after)
            for op, after in successors(m, state, updates=state.version < UPDATES)
            if not (
                isinstance(op, StartPipelineExecution) and len(state.executions) >= max_executions
            )
        ]
        if not options:
            break
        op, after = options[choice % len(options)]
        steps.append((state, op, after))
        state = after
    return steps


@WALK
@given(pipelines(), st.lists(st.integers(0, 1000), min_size=1, max_size=60))
def test_every_status_change_is_a_chart_transition(pipeline, choices):
    m = build_model(pipeline)
    for before, op, after in walk(m, choices):
        changes = lifecycle_changes(m, before, after)
        assert not_in_charts(changes) == [], (op, changes)


@WALK
@given(pipelines(), st.lists(st.integers(0, 1000), min_size=1, max_size=60))
def test_one_execution_per_stage_lock(pipeline, choices):
    m = build_model(pipeline)
    invariant = PROPERTIES["one-execution-per-stage-lock"]
    for _, _, after in walk(m, choices):
        if m.policy.stage_lock:
            assert invariant.state_check(m, after) is None
        for s in range(m.stage_count):
            holders = [
                ex
                for ex in after.executions
                if ex.stage == s and not ex.waiting and ex.status in ACTIVE
            ]
            assert m.policy.stage_lock is False or len(holders) <= 1


def newer_entered_while_older_waits(state: State) -> tuple[int, int, int] | None:
    """(older, newer, stage) where the newer execution has entered a stage that the older one
    still waits in front of, InProgress; None if there is no such pair."""
    for e, ex in enumerate(state.executions):
        if ex.waiting and ex.status == IN_PROGRESS:
            for f in range(e + 1, len(state.executions)):
                if has_entered(state.executions[f], ex.stage):
                    return e, f, ex.stage
    return None


@WALK
@given(pipelines(modes=("SUPERSEDED", "QUEUED")),
       st.lists(st.integers(0, 1000), min_size=1, max_size=60))
def test_stopped_inbound_listing_follows_from_the_state(pipeline, choices):
    """With stage locks no execution enters a stage while an older one still waits in front of
    it, so a newer execution that has entered the stage of a stopped inbound execution entered
    after the stop (`spec.rules.stop`, "Decision:"); the view's listing then agrees with the
    stage's latest execution: a stopped inbound execution is listed while no newer one is it."""
    m = build_model(pipeline)
    for _, _, after in walk(m, choices):
        assert newer_entered_while_older_waits(after) is None
        for s in range(m.stage_count):
            listed = inbound_executions(m, after, s)
            for e, ex in enumerate(after.executions):
                if ex.stage == s and ex.waiting and ex.status in (STOPPED, FAILED):
                    assert (e in listed) == (after.latest[s] < e), (e, s, after)
            assert [e for e in listed if e in after.inbound[s]] == list(after.inbound[s])


def test_a_newer_execution_entering_before_an_older_one_is_found():
    """The check above can fail: in PARALLEL mode a newer execution overtakes an older one that
    waits at a transition disabled after the newer one entered (the state cannot tell that
    entry from one after the stop, so the view no longer lists the stopped one)."""
    from checker.check import reference_pipeline

    m = build_model(reference_pipeline(), "PARALLEL")
    state = m.initial()
    for op in (StartPipelineExecution(), StartPipelineExecution(), ActionSucceeded(1, 0),
               DisableStageTransition(1), ActionSucceeded(0, 0)):
        state = apply(m, state, op)
    assert newer_entered_while_older_waits(state) == (0, 1, 1)
    state = apply(m, state, StopPipelineExecution(0, False))
    assert inbound_executions(m, state, 1) == []


@WALK
@given(pipelines(max_stages=3), st.lists(st.integers(0, 1000), min_size=1, max_size=40))
def test_successors_are_exactly_the_accepted_operations(pipeline, choices):
    m = build_model(pipeline)
    for before, _, _ in walk(m, choices):
        offered = {op for op, _ in successors(m, before, updates=True)}
        for op in every_operation(m, before):
            accepted = refusal(m, before, op) is None
            if accepted and op not in offered:
                # only an operation that changes nothing may be left out
                assert apply(m, before, op) == before, op
                continue
            assert accepted == (op in offered), (op, refusal(m, before, op))
            if not accepted:
                try:
                    apply(m, before, op)
                except Refused as why:
                    assert why.name == refusal(m, before, op)
                else:
                    raise AssertionError(f"{op} applied although refused")


def chart_events(m: Model, before: State, op: Operation, after: State) -> list[tuple]:
    """The chart events the operation causes, derived from what the operation means (not from
    the status diff), with the guard conditions read off the state before the step.  Entities
    changed as a consequence (another execution superseded, a stage completed) get the event
    named after the change."""
    events = []
    for e, new in enumerate(after.executions):
        old = before.executions[e] if e < len(before.executions) else None
        if old is None:
            continue
        in_progress = any(old.actions[a] == IN_PROGRESS for a in range(len(m.action_names)))
        if isinstance(op, StopPipelineExecution) and op.execution == e:
            event = "stop_and_abandon" if op.abandon else "stop_and_wait"
            events.append(
                (
                    "pipeline-execution",
                    old.status,
                    event,
                    {"has_in_progress_actions": in_progress and not old.waiting},
                    new.status,
                )
            )
        elif isinstance(op, ActionsAbandoned) and op.execution == e:
            events.append(("pipeline-execution", old.status, "actions_abandoned", {}, new.status))
        elif isinstance(op, RetryStageExecution) and op.execution == e and old.status != new.status:
            completes = new.status == "Succeeded"
            events.append(
                (
                    "pipeline-execution",
                    old.status,
                    "retry_stage",
                    {"completes_pipeline": completes},
                    new.status,
                )
            )
        elif (isinstance(op, OverrideStageCondition) and op.execution == e
              and old.status != new.status):
            completes = new.status == "Succeeded"
            events.append(("pipeline-execution", old.status, "override_condition",
                           {"completes_pipeline": completes}, new.status))
        elif isinstance(op, UpdatePipeline) and old.status != new.status:
            events.append(("pipeline-execution", old.status, "pipeline_updated",
                           {"is_inbound": old.waiting}, new.status))
        elif old.status != new.status:
            event = {
                ("InProgress", "Succeeded"): "last_stage_succeeded",
                ("InProgress", "Failed"): "stage_failed",
                ("InProgress", "Superseded"): "superseded",
                ("Stopping", "Stopped"): "in_progress_actions_finished",
                ("InProgress", "Cancelled"): "pipeline_updated",
            }[(old.status, new.status)]
            events.append(("pipeline-execution", old.status, event, {}, new.status))
        automatic = automatically_retried(m, old, new)
        if automatic:
            events.append(("stage-execution", "InProgress", "action_failed", {}, "Failed"))
            events.append(("stage-execution", "Failed", "automatic_retry", {}, "InProgress"))
        for a in range(len(m.action_names)):
            was, now = old.actions[a], new.actions[a]
            if was == now:
                continue
            chart = "approval" if m.approval[a] else "action-execution"
            source = was or "NotStarted"
            if automatic and m.action_stage[a] == new.stage:
                mode = m.pipeline.stages[new.stage].automatic_retry
                if source == "InProgress":  # the step's operation finished it
                    approved = isinstance(op, PutApprovalResult) and op.status == APPROVED
                    finished = ("succeed" if isinstance(op, ActionSucceeded) else
                                "approve" if approved else
                                "reject" if isinstance(op, PutApprovalResult) else
                                "time_out" if isinstance(op, ApprovalTimedOut) else "fail")
                    source = "Succeeded" if finished in ("succeed", "approve") else "Failed"
                    events.append((chart, "InProgress", finished, {}, source))
                    if source == now:  # it succeeded, and only failed actions run again
                        continue
                if mode == ALL_ACTIONS:
                    first = a in m.groups[new.stage][0]
                    events.append((chart, source, "retry_all_actions",
                                   {"in_first_group": first}, now or "NotStarted"))
                else:
                    events.append((chart, source, "retry_failed_actions", {}, now or "NotStarted"))
            elif (isinstance(op, RetryStageExecution) and op.execution == e
                  and source != "NotStarted"):
                if op.retry_mode == ALL_ACTIONS:
                    first = a in m.groups[op.stage][0]
                    events.append(
                        (
                            chart,
                            source,
                            "retry_all_actions",
                            {"in_first_group": first},
                            now or "NotStarted",
                        )
                    )
                else:
                    events.append((chart, source, "retry_failed_actions", {}, now or "NotStarted"))
            elif source == "NotStarted":
                events.append((chart, source, "request" if m.approval[a] else "start", {}, now))
            elif isinstance(op, ActionsAbandoned):
                events.append((chart, source, "abandon", {}, now))
            elif isinstance(op, ActionSucceeded | ActionFailed) and op.action == a:
                events.append(
                    (
                        chart,
                        source,
                        "succeed" if isinstance(op, ActionSucceeded) else "fail",
                        {},
                        now,
                    )
                )
            elif isinstance(op, ApprovalTimedOut) and op.action == a:
                events.append((chart, source, "time_out", {}, now))
            elif isinstance(op, PutApprovalResult) and op.action == a:
                events.append(
                    (chart, source, "approve" if op.status == APPROVED else "reject", {}, now)
                )
            else:
                raise AssertionError(f"unexplained change of {m.action_names[a]} by {op}")
    for s in range(m.stage_count):
        if before.disabled[s] != after.disabled[s]:
            source = "Disabled" if before.disabled[s] else "Enabled"
            event = "enable" if before.disabled[s] else "disable"
            target = "Disabled" if after.disabled[s] else "Enabled"
            events.append(("inbound-transition", source, event, {}, target))
    return events


_RETRIED_BESIDE_A_SUCCESS = Pipeline("retried", (
    Stage("Build", (Action("Unit"), Action("Lint")), automatic_retry=FAILED_ACTIONS),
    Stage("Deploy", (Action("Ship", "Deploy"),))), "SUPERSEDED", "V2")
"""Unit fails while Lint runs; Lint's success then fails the stage, which retries Unit only."""


@WALK
@given(pipelines(max_stages=4), st.lists(st.integers(0, 1000), min_size=1, max_size=50))
@example(_RETRIED_BESIDE_A_SUCCESS, [0, 4, 3])
def test_steps_replay_through_real_chart_instances(pipeline, choices):
    m = build_model(pipeline)
    for before, op, after in walk(m, choices):
        for chart, source, event, conditions, target in chart_events(m, before, op, after):
            assert replay(chart, source, event, **conditions) == target, (op, chart, event)


def test_successor_order_is_fixed():
    from checker.check import reference_pipeline

    m = build_model(reference_pipeline())
    state = m.initial()
    for _ in range(6):
        first = successors(m, state)
        assert first == successors(m, state)
        state = first[0][1]


def test_retry_is_refused_for_every_stage_but_the_current_one():
    from checker.check import reference_pipeline

    m = build_model(reference_pipeline())
    state = m.initial()
    for op in (StartPipelineExecution(), ActionSucceeded(0, 0), ActionFailed(0, 1)):
        state = apply(m, state, op)
    for s, mode in itertools.product(range(m.stage_count), (FAILED_ACTIONS, ALL_ACTIONS)):
        expected = None if s == 1 else "StageNotRetryableException"
        assert refusal(m, state, RetryStageExecution(0, s, mode)) == expected



def _two_approvals(retry: str | None) -> dict:
    production: dict = {"name": "Production", "actions": [
        {"name": "Approve", "actionTypeId": {"category": "Approval", "provider": "Manual"}},
        {"name": "SignOff", "actionTypeId": {"category": "Approval", "provider": "Manual"}},
        {"name": "Deploy", "runOrder": 2,
         "actionTypeId": {"category": "Deploy", "provider": "CodeDeploy"}}]}
    if retry is not None:
        production["onFailure"] = {"result": "RETRY", "retryConfiguration": {"retryMode": retry}}
    return {"name": "release", "pipelineType": "V2", "stages": [
        {"name": "Source",
         "actions": [{"name": "Checkout",
                      "actionTypeId": {"category": "Source", "provider": "CodeCommit"}}]},
        production]}


@pytest.mark.parametrize(("executions", "stops"), [(1, True), (2, False)])
@pytest.mark.parametrize("retry", [None, FAILED_ACTIONS, ALL_ACTIONS])
@pytest.mark.parametrize("mode", ["SUPERSEDED", "QUEUED", "PARALLEL"])
def test_a_late_answer_is_refused_as_the_approval_ended(mode, retry, executions, stops):
    """An answer to an approval that is over is refused with InvalidApprovalTokenException when
    the approval timed out, with ApprovalAlreadyCompletedException when it was approved or
    rejected, whatever happened since; an approval that a retry runs again ends anew.  Checked
    on every step of the whole state graph (transitions never disabled, to keep it small), so by
    induction on every path."""
    m = build_model(parse_pipeline(_two_approvals(retry)), mode)
    approvals = [a for a in range(len(m.action_names)) if m.approval[a]]

    def late_answer(state: State, e: int, a: int) -> str | None:
        names = {refusal(m, state, PutApprovalResult(e, a, s)) for s in (APPROVED, REJECTED)}
        assert len(names) == 1, names
        return names.pop()

    seen = {m.initial()}
    todo = [m.initial()]
    timed_out = 0
    while todo:
        before = todo.pop()
        starts = len(before.executions) < executions
        for op, after in successors(m, before, starts=starts, stops=stops, disables=False):
            for e, ex in enumerate(after.executions):
                for a in approvals:
                    if ex.actions[a] not in (SUCCEEDED, FAILED):
                        continue
                    if isinstance(op, ApprovalTimedOut | PutApprovalResult) and (
                            op.execution, op.action) == (e, a):
                        timed_out += isinstance(op, ApprovalTimedOut)
                        expected = ("InvalidApprovalTokenException"
                                    if isinstance(op, ApprovalTimedOut)
                                    else "ApprovalAlreadyCompletedException")
                    else:  # over before this step, so refused as it was then
                        assert before.executions[e].actions[a] in (SUCCEEDED, FAILED), op
                        expected = late_answer(before, e, a)
                    assert late_answer(after, e, a) == expected, (op, e, m.action_names[a])
            if after not in seen:
                seen.add(after)
                todo.append(after)
    assert timed_out


def test_a_start_pins_only_a_revision_an_earlier_execution_ran_and_only_on_v2():
    """sourceRevisions: a pinned start carries the revision of the execution it names (and the
    revision that one carries, when it was pinned itself); one naming an execution that has not
    started, or on a V1 pipeline, is a ValidationException."""
    stages = (Stage("Source", (Action("Checkout", "Source"),)),
              Stage("Deploy", (Action("Up", "Deploy"),)))
    m = build_model(Pipeline("p", stages, "QUEUED", "V2"))
    state = apply(m, m.initial(), StartPipelineExecution())
    assert refusal(m, state, StartPipelineExecution(1)) == "ValidationException"
    state = apply(m, state, StartPipelineExecution(0))
    state = apply(m, state, StartPipelineExecution(1))
    assert [ex.revision for ex in state.executions] == [-1, 0, 0]
    v1 = build_model(Pipeline("p", stages, "SUPERSEDED", "V1"))
    state = apply(v1, v1.initial(), StartPipelineExecution())
    assert refusal(v1, state, StartPipelineExecution(0)) == "ValidationException"
    assert refusal(v1, state, StartPipelineExecution()) is None
