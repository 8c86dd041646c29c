"""Lifecycle charts: one state machine per CodePipeline entity.

Each chart is a python-statemachine `StateMachine`.  State values are spelled exactly as the
CodePipeline API spells statuses (`PipelineExecutionStatus`, `StageExecutionStatus`,
`ActionExecutionStatus`); state ids are their snake_case form, except where an event already has
that name (`PipelineExecutionLifecycle.superseded_state`).  The charts are the oracle the
global model is checked against, and the source of the lifecycle diagrams.

Every event carries a comment citing the AWS text it comes from:

- [seed] "How AWS CodePipeline executions work" (CodePipeline User Guide, executions overview);
- [SM x] the CodePipeline service model (botocore `codepipeline/2015-07-09`), doc string of x;
- [UG:x] the CodePipeline User Guide page x; [OldUG:x] its archived (pre-2023) version.

Guards are named conditions passed as keyword arguments when an event is sent, e.g.
``sm.send("stop_and_wait", has_in_progress_actions=True)``; a missing condition is False.

Besides the charts, the module offers pure helpers: `compile_chart` / `COMPILED` (a chart as plain
values: states, finals, guarded transitions) and `replay` (one step of a real chart instance).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from statemachine import State, StateMachine
from statemachine.exceptions import InvalidStateValue, TransitionNotAllowed
from statemachine.transition import Transition as ChartTransition


class PipelineExecutionLifecycle(StateMachine):
    """A pipeline execution: one run of a set of changes through the pipeline's stages.

    Statuses are `PipelineExecutionStatus` values.

    Conditions:

    - ``has_in_progress_actions``: the execution has action executions in progress (an inbound
      execution waiting between stages has none);
    - ``completes_pipeline``: the stage being retried is the last stage and all its actions have
      already succeeded, so the retry completes the execution at once;
    - ``is_inbound``: the execution waits in front of a stage (an inbound execution).

    An update cancels an execution whose actions are running only once they complete; until then
    it stays InProgress, so `pipeline_updated` is the moment the execution becomes Cancelled.
    """

    in_progress = State(value="InProgress", initial=True)
    stopping = State(value="Stopping")
    stopped = State(value="Stopped")
    succeeded = State(value="Succeeded", final=True)
    # The state id `superseded` is taken by the event of the same name (see below), which would
    # shadow the state as a class attribute; the state therefore has a longer id.
    superseded_state = State(name="Superseded", value="Superseded", final=True)
    failed = State(value="Failed")
    cancelled = State(value="Cancelled", final=True)

    # "Succeeded: The pipeline execution was completed successfully." [SM PipelineExecution.status]
    last_stage_succeeded = in_progress.to(succeeded)

    # "Failed: The pipeline execution was not completed successfully." [SM
    # PipelineExecution.status]; "If a stage completes with one or more failed actions, the stage
    # fails, and the pipeline execution does not transition to the next stage" [OldUG:actions-retry]
    stage_failed = in_progress.to(failed)

    # "Superseded: While this pipeline execution was waiting for the next stage to be completed,
    # a newer pipeline execution advanced and continued through the pipeline instead."
    # [SM PipelineExecution.status]; "Executions are only superseded in between stages." [seed]
    superseded = in_progress.to(superseded_state)

    # "Stop and wait: All in-progress action executions are allowed to complete, and subsequent
    # actions are not started. [...] You cannot use this option on an execution that is already in
    # a Stopping state." [seed]  "While completing or abandoning in-progress actions, the pipeline
    # execution is in a Stopping state." [SM StopPipelineExecution]
    stop_and_wait = (
        in_progress.to(stopping, cond="has_in_progress_actions")
        | in_progress.to(stopped, unless="has_in_progress_actions")
    )

    # "Stop and abandon: All in-progress action executions are abandoned and do not complete [...]
    # You can use this option on an execution that is already in a Stopping state." [seed]
    stop_and_abandon = (
        in_progress.to(stopping, cond="has_in_progress_actions")
        | in_progress.to(stopped, unless="has_in_progress_actions")
        | stopping.to.itself()
    )

    # "The execution stops when the stopping process is complete. If the build action is completed
    # successfully, its status is Succeeded, and the pipeline execution shows a status of
    # Stopped." [seed]  Stop and wait "waits [...] until all in-progress actions are completed
    # (that is, the actions have a Succeeded or Failed status)." [UG:pipelines-stop]
    in_progress_actions_finished = stopping.to(stopped)

    # "After the pipeline execution stops, the build action shows a status of Abandoned, and the
    # pipeline execution shows a status of Stopped." [seed]
    actions_abandoned = stopping.to(stopped)

    # "You manually retry the stage that contains the failed actions. This resumes the execution"
    # [seed]; "A Stopped pipeline execution can be retried." [UG:concepts]  A retried stage whose
    # actions had all succeeded, in the last stage, leaves nothing to run.
    retry_stage = (
        failed.to(in_progress)
        | stopped.to(succeeded, cond="completes_pipeline")
        | stopped.to(in_progress, unless="completes_pipeline")
    )

    # OverrideStageCondition of a success condition that failed the stage: "OnSuccess | Fail |
    # Failed | The stage proceeds." [UG:stage-conditions]; past the last stage, the execution is
    # done.
    override_condition = (
        failed.to(succeeded, cond="completes_pipeline")
        | failed.to(in_progress, unless="completes_pipeline")
    )

    # "When you update a pipeline, CodePipeline gracefully completes all the running actions and
    # then fails the stages and pipeline executions where the running actions were completed."
    # [UG:pipelines-edit]; "Cancelled: The pipeline's definition was updated before the pipeline
    # execution could be completed." [SM PipelineExecution.status]  "An inbound execution status
    # changes to Failed if the pipeline is edited." [UG:pipelines-view-cli]
    pipeline_updated = (
        in_progress.to(failed, cond="is_inbound")
        | in_progress.to(cancelled, unless="is_inbound")
    )

    def has_in_progress_actions(self, has_in_progress_actions: bool = False) -> bool:
        return has_in_progress_actions

    def is_inbound(self, is_inbound: bool = False) -> bool:
        return is_inbound

    def completes_pipeline(self, completes_pipeline: bool = False) -> bool:
        return completes_pipeline


class StageExecutionLifecycle(StateMachine):
    """A stage execution: one pipeline execution's run through one stage.

    Statuses are `StageExecutionStatus` values.  A stage execution exists from the moment the
    pipeline execution enters the stage, so it starts `InProgress` (an entry condition's rules
    run with the stage in progress).

    Condition ``has_in_progress_actions``: the stage has action executions in progress (none
    while a stage condition's rules run).

    Condition ``all_actions_succeeded``: every action of the stopped stage has succeeded and the
    stage has no success condition, so a retry completes the stage at once.
    """

    in_progress = State(value="InProgress", initial=True)
    stopping = State(value="Stopping")
    stopped = State(value="Stopped")
    succeeded = State(value="Succeeded", final=True)
    failed = State(value="Failed")
    skipped = State(value="Skipped", final=True)
    cancelled = State(value="Cancelled", final=True)

    # "All actions configured for a stage must be completed successfully before the stage is
    # considered complete." [seed]  With a success condition, once its rules are met too:
    # "after the stage succeeds, a set of rules can be used to run checks before proceeding"
    # [UG:concepts-how-it-works-conditions]
    actions_succeeded = in_progress.to(succeeded)

    # "If a stage completes with one or more failed actions, the stage fails" [OldUG:actions-retry];
    # "A failure releases the lock on the stage." [seed]
    action_failed = in_progress.to(failed)

    # "The stage performs the specified result only when the condition fails."
    # [UG:concepts-how-it-works-conditions]  An entry or success condition with result Fail.
    condition_failed = in_progress.to(failed)

    # "When a stage is skipped, the stage status is Skipped, and the action status is Didn't
    # Run." [UG:stage-conditions]  An entry condition with result Skip, not met.
    skip = in_progress.to(skipped)

    # "OnSuccess | Fail | Failed | The stage proceeds." [UG:stage-conditions]
    override_condition = failed.to(succeeded)

    # "Stop and wait: All in-progress action executions are allowed to complete, and subsequent
    # actions are not started." [seed]  With nothing in progress (a condition's rules running),
    # there is nothing to wait for.
    stop_and_wait = (
        in_progress.to(stopping, cond="has_in_progress_actions")
        | in_progress.to(stopped, unless="has_in_progress_actions")
    )

    # "Stop and abandon: All in-progress action executions are abandoned and do not complete [...]
    # You can use this option on an execution that is already in a Stopping state." [seed]
    stop_and_abandon = (
        in_progress.to(stopping, cond="has_in_progress_actions")
        | in_progress.to(stopped, unless="has_in_progress_actions")
        | stopping.to.itself()
    )

    # "The stage unlocks after the actions are complete." [UG:pipelines-stop]
    in_progress_actions_finished = stopping.to(stopped)

    # "After the execution is stopped, the action execution is in an Abandoned state while the
    # pipeline execution is in a Stopped state. The stage unlocks." [UG:pipelines-stop]
    actions_abandoned = stopping.to(stopped)

    # "You can retry a stage that has failed without having to run a pipeline again from the
    # beginning." [SM RetryStageExecution]; "For a pipeline execution in a Stopped state, the
    # actions in the stage where the execution stopped can be retried." [UG:pipelines-stop]
    retry_stage = (
        failed.to(in_progress)
        | stopped.to(succeeded, cond="all_actions_succeeded")
        | stopped.to(in_progress, unless="all_actions_succeeded")
    )

    # "You can configure a stage for automatic retry on failure. The stage will make one retry
    # attempt and display a retry status on the failed stage on the View pipeline page."
    # [UG:stage-retry]  The global model makes the failure and this retry in one step, so that
    # no other execution enters the stage in between (spec.rules.stage_fails).
    automatic_retry = failed.to(in_progress)

    # "A status of cancelled means that the pipeline's definition was updated before the stage
    # execution could be completed." [SM StageExecution.status]  "CodePipeline gracefully
    # completes all the running actions and then fails the stages" [UG:pipelines-edit]
    pipeline_updated = in_progress.to(cancelled)

    def all_actions_succeeded(self, all_actions_succeeded: bool = False) -> bool:
        return all_actions_succeeded

    def has_in_progress_actions(self, has_in_progress_actions: bool = False) -> bool:
        return has_in_progress_actions


class ActionExecutionLifecycle(StateMachine):
    """An action execution: one pipeline execution's run of one action of a stage.

    Statuses are `ActionExecutionStatus` values plus `NotStarted`, which is not an API status: the
    API shows no `latestExecution` for an action that has not run (we print null).

    Condition ``in_first_group``: the action belongs to the stage's first runOrder group.
    """

    not_started = State(value="NotStarted", initial=True)
    in_progress = State(value="InProgress")
    abandoned = State(value="Abandoned")
    succeeded = State(value="Succeeded")
    failed = State(value="Failed")

    # "two actions with a run order of two will run in parallel after the first action in the
    # stage runs." [UG:action-requirements]
    start = not_started.to(in_progress)

    # "If the build action is completed successfully, its status is Succeeded" [seed]
    succeed = in_progress.to(succeeded)

    # "If an action (or a set of parallel actions) is not completed successfully, the action
    # fails." [OldUG:actions-retry]
    fail = in_progress.to(failed)

    # "After the pipeline execution stops, the build action shows a status of Abandoned" [seed]
    abandon = in_progress.to(abandoned)

    # "When you retry the failed actions in a stage, all actions that are still in progress
    # continue working, and failed actions are triggered again." [SM RetryStageExecution]
    retry_failed_actions = in_progress.from_(failed, abandoned)

    # "retrying all actions in the stage starting from the first action in the stage"
    # [SM RetryStageExecution]: the first runOrder group restarts, later groups wait again.
    retry_all_actions = (
        in_progress.from_(succeeded, failed, abandoned, cond="in_first_group")
        | not_started.from_(succeeded, failed, abandoned, unless="in_first_group")
    )

    def in_first_group(self, in_first_group: bool = False) -> bool:
        return in_first_group


class ApprovalLifecycle(StateMachine):
    """A manual approval action (category `Approval`) in one pipeline execution.

    Same statuses as `ActionExecutionLifecycle`; its outcomes are named after PutApprovalResult
    (`Approved`, `Rejected`) and the approval timeout.

    Condition ``in_first_group``: the approval belongs to the stage's first runOrder group.
    """

    not_started = State(value="NotStarted", initial=True)
    in_progress = State(value="InProgress")
    abandoned = State(value="Abandoned")
    succeeded = State(value="Succeeded")
    failed = State(value="Failed")

    # "An approval action, which prevents a pipeline from transitioning to the next action until
    # permission is granted" [seed]
    request = not_started.to(in_progress)

    # "A stage with an approval action is locked until the approval action is approved or
    # rejected or has timed out." [seed]  PutApprovalResult with status Approved.
    approve = in_progress.to(succeeded)

    # PutApprovalResult with status Rejected: "Rejected: The stage status is changed to
    # 'Failed'" [UG:approvals]
    reject = in_progress.to(failed)

    # "A timed-out approval action is processed in the same way as a failed action." [seed]
    time_out = in_progress.to(failed)

    # "After the pipeline execution stops, the build action shows a status of Abandoned" [seed]
    abandon = in_progress.to(abandoned)

    # "When you retry the failed actions in a stage, all actions that are still in progress
    # continue working, and failed actions are triggered again." [SM RetryStageExecution]
    retry_failed_actions = in_progress.from_(failed, abandoned)

    # "retrying all actions in the stage starting from the first action in the stage"
    # [SM RetryStageExecution]: the first runOrder group restarts, later groups wait again.
    retry_all_actions = (
        in_progress.from_(succeeded, failed, abandoned, cond="in_first_group")
        | not_started.from_(succeeded, failed, abandoned, unless="in_first_group")
    )

    def in_first_group(self, in_first_group: bool = False) -> bool:
        return in_first_group


class InboundTransitionLifecycle(StateMachine):
    """The inbound transition of a stage: whether executions may enter the stage.

    Transitions "are enabled by default." [UG:transitions]  Only `inboundTransitionState` is shown
    by GetPipelineState, so outbound transitions are not modelled.
    """

    enabled = State(value="Enabled", initial=True)
    disabled = State(value="Disabled")

    # DisableStageTransition (transitionType Inbound): "When a transition is disabled, pipeline
    # executions cannot enter the stage." [seed]
    disable = enabled.to(disabled)

    # EnableStageTransition: "After you enable the transition, an inbound execution moves into the
    # stage and locks it." [seed]
    enable = disabled.to(enabled)


CHARTS: dict[str, type[StateMachine]] = {
    "pipeline-execution": PipelineExecutionLifecycle,
    "stage-execution": StageExecutionLifecycle,
    "action-execution": ActionExecutionLifecycle,
    "approval": ApprovalLifecycle,
    "inbound-transition": InboundTransitionLifecycle,
}
"""Every lifecycle chart, by the name used in diagrams and in `COMPILED`."""


@dataclass(frozen=True)
class Transition:
    """One guarded edge of a chart, by state values.

    `guard` is the condition name (``"has_in_progress_actions"``), its negation
    (``"not has_in_progress_actions"``), several of these joined by ``" and "``, or None.
    """

    event: str
    source: str
    target: str
    guard: str | None


@dataclass(frozen=True)
class CompiledChart:
    """A chart as plain values: what the model's tests and the diagram code need of it."""

    name: str
    initial: str
    values: tuple[str, ...]
    finals: frozenset[str]
    transitions: tuple[Transition, ...]
    pairs: frozenset[tuple[str, str]]


def _guard(transition: ChartTransition) -> str | None:
    """The `cond`/`unless` callbacks of a python-statemachine transition, as one expression."""
    terms: list[str] = []
    for spec in transition.cond:
        name = str(spec.attr_name)
        terms.append(f"not {name}" if spec.expected_value is False else name)
    return " and ".join(terms) or None


def _condition_names(cls: type[StateMachine]) -> frozenset[str]:
    """The names of the conditions a chart's guards read."""
    return frozenset(
        str(spec.attr_name)
        for state in cls.states
        for edge in state.transitions
        for spec in edge.cond
    )


def compile_chart(cls: type[StateMachine]) -> CompiledChart:
    """Read a chart class's states and transitions into a `CompiledChart`."""
    name = next((key for key, chart in CHARTS.items() if chart is cls), cls.__name__)
    states = list(cls.states)
    initials = [state.value for state in states if state.initial]
    if len(initials) != 1:
        raise ValueError(f"{cls.__name__}: expected one initial state, found {initials}")
    transitions: list[Transition] = []
    for state in states:
        for edge in state.transitions:
            if edge.target is None:
                raise ValueError(f"{cls.__name__}: targetless transition from {state.value}")
            guard = _guard(edge)
            transitions.extend(
                Transition(str(event), state.value, edge.target.value, guard)
                for event in edge.events
            )
    return CompiledChart(
        name=name,
        initial=initials[0],
        values=tuple(state.value for state in states),
        finals=frozenset(state.value for state in states if state.final),
        transitions=tuple(transitions),
        pairs=frozenset((t.source, t.target) for t in transitions),
    )


COMPILED: dict[str, CompiledChart] = {name: compile_chart(cls) for name, cls in CHARTS.items()}
"""`compile_chart` of every chart in `CHARTS`, by the same names."""


def replay(name: str, source: str, event: str, **conditions: bool) -> str:
    """Run one event on a real instance of chart `name` put in state `source`.

    Returns the value of the state the chart lands in.  Raises ValueError for an unknown chart,
    state or condition name (a misspelt condition would otherwise read as False), or when the
    chart does not allow `event` from `source` under `conditions`.
    """
    try:
        cls = CHARTS[name]
    except KeyError:
        raise ValueError(f"unknown chart {name!r}; expected one of {sorted(CHARTS)}") from None
    try:
        machine = cls(start_value=source)
    except InvalidStateValue:
        values = [state.value for state in cls.states]
        raise ValueError(f"{name}: unknown state {source!r}; expected one of {values}") from None
    known = _condition_names(cls)
    unknown = sorted(set(conditions) - known)
    if unknown:
        raise ValueError(f"{name}: unknown conditions {unknown}; expected some of {sorted(known)}")
    arguments: dict[str, Any] = dict(conditions)
    try:
        machine.send(event, **arguments)
    except TransitionNotAllowed:
        given = ", ".join(f"{key}={value}" for key, value in sorted(conditions.items()))
        raise ValueError(
            f"{name}: event {event!r} is not allowed from {source!r}"
            + (f" when {given}" if given else "")
        ) from None
    return str(machine.current_state_value)
