"""The rules: which operations are enabled in a state, and what applying one gives.

Each rule is a small function named after what it means, its docstring quoting the sentence of
the AWS documentation it implements ([Seed] is `codepipeline-executions.txt`, [API] the
CodePipeline API reference, [UG:page] a page of the CodePipeline User Guide).  Where the
documentation is silent the docstring says "Decision:" and why.  The three execution modes share
these rules and differ only through `ModePolicy`.

The rules marked `@rule` form the documented rule set, `DOCUMENTED`.  Rules call one another
through the model's rule set (`m.rules.arrive(...)`), so a rule variant (`spec.variants`) is
just a rule set in which some named rules are replaced; everything else stays as documented.

Everything here is pure: a state in, a state (or a `Refused`) out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from spec.declaration import Pipeline, Stage
from spec.modes import MODES, ModePolicy, policy_of
from spec.operations import (
    ALL_ACTIONS,
    APPROVED,
    FAILED_ACTIONS,
    REJECTED,
    RETRY_MODES,
    AbandonedWorkFinishes,
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
    RollbackStage,
    StartPipelineExecution,
    StopPipelineExecution,
    UpdatePipeline,
)
from spec.ruleset import RuleSet
from spec.state import (
    ABANDON,
    ABANDONED,
    ACTIVE,
    AUTOMATED_ROLLBACK,
    BEFORE_ENTRY,
    CANCELLED,
    FAILED,
    IN_PROGRESS,
    MANUAL_ROLLBACK,
    NOT_STARTED,
    ON_SUCCESS,
    SKIPPED,
    STOPPED,
    STOPPING,
    SUCCEEDED,
    SUPERSEDED,
    UPDATE,
    WAIT,
    Execution,
    State,
    initial_state,
    revision_of,
)
from spec.world import World, derive_world

RULES: dict[str, Callable] = {}
"""The documented rules by name, in the order they are defined here."""


def rule(fn: Callable) -> Callable:
    """Register a documented rule under its function's name."""
    RULES[fn.__name__] = fn
    return fn


@dataclass(frozen=True)
class Model:
    """A pipeline declaration compiled for the rules, with its mode's policy and rule variants.

    Actions are numbered across the whole pipeline, stage by stage, in declaration order.

    A model may know several pipeline structures: the declaration's own (structure 0) and the
    ones an UpdatePipeline may install (`build_model`'s `updates_to`).  Their stages and
    actions are then numbered together, once each: a stage by its name, an action by its stage,
    name and declaration, so that an action an update changes is a new action beside the old
    one.  Each structure is a `Model` of its own over that numbering (`structures`), whose
    `stage_actions`, `groups`, `stages` and `next_stage` say what it runs; `of` gives the one an
    execution started under.  Stage locks, transitions and `latestExecution` are per stage name,
    whichever structure an execution runs.
    """

    pipeline: Pipeline
    policy: ModePolicy
    rules: RuleSet
    action_names: tuple[str, ...]
    action_stage: tuple[int, ...]
    approval: tuple[bool, ...]
    stage_actions: tuple[tuple[int, ...], ...]
    groups: tuple[tuple[tuple[int, ...], ...], ...]
    """Per stage, its runOrder groups, lowest runOrder first, as action numbers."""
    stage_count: int
    disabled_at_start: tuple[int, ...] = ()
    """Stages whose inbound transition the declaration disables (CloudFormation's
    DisableInboundStageTransitions)."""
    world: World | None = None
    """The deploy targets, when the model tracks the world outside CodePipeline (`spec.world`);
    None: it does not, and states carry no revisions."""
    operations: dict[tuple, Operation] = field(default_factory=dict, compare=False, repr=False)
    """Operation values made so far, shared: the explorer builds the same few again and again."""
    stages: tuple[Stage, ...] = ()
    """Per stage number, this structure's declaration of it; a stage it does not have is an
    empty `Stage` of that name (`has_stage`)."""
    next_stage: tuple[int, ...] = ()
    """Per stage number, the stage this structure runs next (`stage_count`: none, the
    execution is done)."""
    first_stage: int = 0
    structure: int = 0
    """Which of the model's structures this is (0: the declaration's own)."""
    structures: tuple[Model, ...] = field(default=(), compare=False, repr=False)
    """Every structure, by number, when there is more than one; empty: only this one."""
    names: tuple[str, ...] = ()
    """Per stage number, the stage's name."""
    label: str = ""
    """Where this structure's declaration comes from, for people (a file, a scenario's step);
    empty for the declaration's own."""

    def operation(self, kind: type, *args: object) -> Operation:
        """The operation `kind(*args)`, one shared value per distinct operation."""
        key = (kind, *args)
        op = self.operations.get(key)
        if op is None:
            op = self.operations[key] = kind(*args)
        return op

    @property
    def stage_names(self) -> tuple[str, ...]:
        return self.names

    def has_stage(self, s: int) -> bool:
        """Whether this structure has stage number `s`."""
        return bool(self.stage_actions[s])

    def of(self, ex: Execution) -> Model:
        """The structure execution `ex` started under."""
        return self.structures[ex.structure] if self.structures else self

    def structure_of(self, state: State) -> Model:
        """The pipeline's current structure (`State.structure`)."""
        return self.structures[state.structure] if self.structures else self

    def initial(self) -> State:
        state = initial_state(self.stage_count,
                              len(self.world.targets) if self.world is not None else 0)
        if self.disabled_at_start:
            disabled = tuple(s in self.disabled_at_start for s in range(self.stage_count))
            state = state.but(disabled=disabled)
        return state


class StructureError(ValueError):
    """Pipeline structures that one model cannot number together: a stage that two of them
    order differently (`structure`: the later one), or structures with the world of deploy
    targets."""

    def __init__(self, message: str, structure: int = 1) -> None:
        super().__init__(message)
        self.structure = structure


def _stage_order(pipelines: tuple[Pipeline, ...]) -> list[str]:
    """The stage names of every structure in one order that keeps each structure's order: a
    stage a later structure adds comes right after the stage before it there."""
    names = [s.name for s in pipelines[0].stages]
    for k, pipeline in enumerate(pipelines[1:], 1):
        cursor = -1
        for stage in pipeline.stages:
            if stage.name in names:
                at = names.index(stage.name)
                if at < cursor:
                    raise StructureError(
                        f"stage {stage.name} comes after stage {names[cursor]} in the "
                        f"structure of update {k} but before it in an earlier one: the model "
                        f"numbers the stages of all structures together, in one order", k)
                cursor = at
            else:
                cursor += 1
                names.insert(cursor, stage.name)
    return names


def build_model(pipeline: Pipeline, mode: str | None = None, rules: RuleSet | None = None,
                world: bool | World = False, disabled_at_start: tuple[int, ...] = (),
                updates_to: tuple[Pipeline, ...] = (), labels: tuple[str, ...] = ()) -> Model:
    """Compile `pipeline` under `mode` (default: its own executionMode) and `rules`; with
    `world`, also track what deploy actions write to their targets (`spec.world`: True derives
    the world from the declaration alone, a `World` is used as given);
    `disabled_at_start` lists stages whose inbound transition starts disabled.
    `updates_to` are the structures an UpdatePipeline may install (structures 1, 2, ...;
    `UpdatePipeline.structure`), `labels` where each comes from; raises StructureError when
    their stages cannot be numbered together, or with a world (the world is derived from one
    declaration)."""
    pipelines = (pipeline, *updates_to)
    if updates_to and world is not False:
        raise StructureError("updates that change the stages or actions are modelled without "
                             "the world of deploy targets")
    order = _stage_order(pipelines)
    names: list[str] = []
    stage_of: list[int] = []
    approval: list[bool] = []
    number: dict[tuple[int, object], int] = {}
    declared = [{stage.name: stage for stage in p.stages} for p in pipelines]
    for s, name in enumerate(order):
        for by_name in declared:
            for action in by_name[name].actions if name in by_name else ():
                if (s, action) not in number:
                    number[(s, action)] = len(names)
                    names.append(action.name)
                    stage_of.append(s)
                    approval.append(action.is_approval)
    count = len(order)
    models: list[Model] = []
    for k, p in enumerate(pipelines):
        stages = tuple(declared[k].get(name, Stage(name, ())) for name in order)
        present = [s for s in range(count) if stages[s].actions]
        following = [count] * count
        for i, s in enumerate(present):
            following[s] = present[i + 1] if i + 1 < len(present) else count
        models.append(Model(
            pipeline=p,
            policy=MODES[mode or pipeline.execution_mode],
            rules=rules if rules is not None else DOCUMENTED,
            action_names=tuple(names),
            action_stage=tuple(stage_of),
            approval=tuple(approval),
            stage_actions=tuple(tuple(number[(s, a)] for a in stages[s].actions)
                                for s in range(count)),
            groups=tuple(tuple(tuple(number[(s, a)] for a in g) for g in stages[s].groups)
                         for s in range(count)),
            stage_count=count,
            world=(world if isinstance(world, World) else derive_world(pipeline) if world
                   else None),
            disabled_at_start=tuple(order.index(pipeline.stages[s].name)
                                    for s in disabled_at_start),
            stages=stages,
            next_stage=tuple(following),
            first_stage=present[0] if present else 0,
            structure=k,
            names=tuple(order),
            label=labels[k - 1] if 0 < k <= len(labels) else "",
        ))
    if len(models) > 1:
        shared = tuple(models)
        operations: dict[tuple, Operation] = {}
        for model in models:
            object.__setattr__(model, "structures", shared)
            object.__setattr__(model, "operations", operations)
    return models[0]


# --------------------------------------------------------------------------------------------
# Small helpers over values


def _set(items: tuple, index: int, value: object) -> tuple:
    return items[:index] + (value,) + items[index + 1 :]


def _put(state: State, e: int, ex: Execution) -> State:
    return state.but(executions=_set(state.executions, e, ex))


def _in_progress(m: Model, ex: Execution, s: int) -> list[int]:
    return [a for a in m.of(ex).stage_actions[s] if ex.actions[a] == IN_PROGRESS]


def execution_policy(m: Model, ex: Execution) -> ModePolicy:
    """The policy of the mode `ex` started under (`Execution.mode`): an execution keeps its
    mode when an update changes the pipeline's (`update`)."""
    return policy_of(ex.mode, m.policy)


def pipeline_policy(m: Model, state: State) -> ModePolicy:
    """The policy of the pipeline's current mode (`State.mode`)."""
    return policy_of(state.mode, m.policy)


def _is_in_stage(ex: Execution, s: int) -> bool:
    return ex.stage == s and not ex.waiting


def stage_status(m: Model, ex: Execution, s: int) -> str | None:
    """The status of the execution's run of stage s (`StageExecution.status`); None if it has not
    entered that stage.  A stage it has left with none of its actions run was skipped by its
    entry condition (`skip_stage`): every other way out of a stage runs them all.  A rollback
    runs only the stage it rolls back, and stays there when it ends (`rollback`).  A stage of
    another structure than the execution's is one it never enters (`Model.of`)."""
    runs = m.of(ex).stage_actions[s]
    if not runs:
        return None
    if ex.rollback_of >= 0:
        if s != ex.stage:
            return None
        if ex.status == SUCCEEDED and all(ex.actions[a] is NOT_STARTED for a in runs):
            return SKIPPED
        return ex.status
    if s < ex.stage:
        if all(ex.actions[a] is NOT_STARTED for a in runs):
            return SKIPPED
        return SUCCEEDED
    if s > ex.stage or ex.waiting:
        return None
    return ex.status


# --------------------------------------------------------------------------------------------
# Stage locks


@rule
def holds_stage(m: Model, ex: Execution) -> bool:
    """The stage an execution is in stays locked while the execution is in progress there.

    [Seed, Rule 1] "Because each stage can process only one execution at a time, the stage is
    locked while in progress."  [Seed, Rule 2] "A failure releases the lock on the stage. When an
    execution is stopped, the execution does not continue in a stage and the stage is unlocked."
    [UG:pipelines-stop] stop and wait: "The stage unlocks after the actions are complete."; stop
    and abandon: "After the execution is stopped, ... The stage unlocks."  So a Stopping
    execution still holds its stage.  [Seed] "A stage with an approval action is locked until the
    approval action is approved or rejected or has timed out."
    """
    return not ex.waiting and ex.status in ACTIVE


@rule
def stage_is_available(m: Model, state: State, s: int) -> bool:
    """A stage can be entered by an execution of a mode with stage locks when no such execution
    holds it.  An execution of PARALLEL mode takes no lock and waits for none (`arrive`).

    [UG:execution-modes] from PARALLEL to QUEUED or SUPERSEDED: "the execution started in
    PARALLEL mode will continue to run".
    Decision: it continues as it ran, independent of the others: it neither takes a stage's
    lock nor waits for one, so after such a change an execution of the new mode can run in the
    same stage as one started in PARALLEL mode (witness `parallel-execution-shares-stage`;
    variant `parallel-executions-lock-after-mode-change` reads it the other way).
    """
    r = m.rules
    return not any(ex.stage == s and r.holds_stage(m, ex) and r.takes_locks(m, state, ex)
                   for ex in state.executions)


@rule
def takes_locks(m: Model, state: State, ex: Execution) -> bool:
    """Whether execution `ex` locks the stages it enters and waits for their locks: it started
    in a mode with stage locks (`stage_is_available`)."""
    return execution_policy(m, ex).stage_lock


@rule
def transition_holds(m: Model, state: State, s: int) -> bool:
    """A disabled inbound transition keeps executions out of the stage.

    [Seed] "When a transition is disabled, pipeline executions cannot enter the stage."
    Decision: this holds in PARALLEL mode too: DisableStageTransition is accepted in every mode
    and the sentence names no mode.  Variant `parallel-ignores-disabled-transition` reads it the
    other way.
    """
    return state.disabled[s]


# --------------------------------------------------------------------------------------------
# Moving through the pipeline


@rule
def enter_stage(m: Model, state: State, e: int, s: int) -> State:
    """An execution enters a stage, locks it, and starts the stage's first runOrder group, or,
    in a stage with an entry condition, runs the condition's rules first.

    [Seed, Rule 1] "When the execution completes a stage, it transitions to the next stage in the
    pipeline."  [UG:action-requirements] "two actions with a run order of two will run in
    parallel after the first action in the stage runs."  [UG:stage-conditions] Entry
    conditions: "The stage is locked when the execution enters the stage, and then the rules are
    run."  So an execution whose entry condition is being evaluated holds the stage
    (`holds_stage`: it is in progress in it) and has started none of its actions.
    """
    ex = state.executions[e]
    mx = m.of(ex)
    if mx.stages[s].before_entry is not None:
        ex = ex.but(stage=s, waiting=False, auto_retries=0, condition=BEFORE_ENTRY)
    else:
        ex = _begin_actions(mx, ex.but(stage=s, waiting=False, auto_retries=0, condition=None), s)
    state = _put(state, e, ex)
    if execution_policy(m, ex).has_pipeline_state:
        state = state.but(latest=_set(state.latest, s, e))
    return state


def _begin_actions(m: Model, ex: Execution, s: int) -> Execution:
    """`ex` with the first runOrder group of stage `s`, in the structure it runs, started."""
    actions = ex.actions
    for a in m.of(ex).groups[s][0]:
        actions = _set(actions, a, IN_PROGRESS)
    return ex.but(actions=actions)


@rule
def supersede(m: Model, state: State, e: int) -> State:
    """[API] "Superseded: While this pipeline execution was waiting for the next stage to be
    completed, a newer pipeline execution advanced and continued through the pipeline instead."
    [Seed, Rule 3] "The superseded execution does not continue."
    """
    ex = state.executions[e]
    return _put(state, e, ex.but(status=SUPERSEDED))


@rule
def supersedes_waiting(m: Model, ex: Execution) -> bool:
    """Whether execution `ex`, arriving in front of a stage or waiting there, takes part in
    supersession: the policy of its mode (`ModePolicy.supersedes_waiting`).
    Decision: at a disabled transition in QUEUED mode the held executions queue and none is
    superseded ("nothing is superseded" in QUEUED mode); [UG:concepts] "only the latest execution
    continues to the next stage when the transition is enabled" is read as SUPERSEDED's rule.
    Decision: an execution started in PARALLEL mode, held at a disabled transition beside ones
    of SUPERSEDED mode after a mode change, is never superseded and supersedes none: it runs
    independently of the others (`stage_is_available`)."""
    return execution_policy(m, ex).supersedes_waiting


@rule
def arrive(m: Model, state: State, e: int, s: int) -> State:
    """An execution reaches stage s: it enters at once, or waits in front of the stage.

    [Seed, Rule 2] "While a stage is locked, waiting executions are held in front of the locked
    stage."  [Seed, Rule 3] "Executions are only superseded in between stages. A locked stage
    holds one execution at the front of the stage awaiting the stage to complete. A more recent
    execution overtakes a waiting execution and continues to the next stage as soon as the stage
    is unlocked."  [Seed, QUEUED] "Waiting executions gather at the entry points to locked stages
    in the order that they reach the stage, forming a queue of waiting executions."  [Seed,
    transitions] "when a transition is disabled, the execution waiting to enter the stage can
    still be superseded by a new execution."
    Decision: of the waiting and the arriving execution, the one that started later is the "more
    recent" one; with stage locks an older execution never arrives behind a newer one, but the
    rule does not depend on that.
    """
    r = m.rules
    queue = state.inbound[s]
    ex = state.executions[e]
    if not r.transition_holds(m, state, s) and (
            not r.takes_locks(m, state, ex)
            or (not queue and r.stage_is_available(m, state, s))):
        return r.enter_stage(m, state, e, s)
    state = _put(state, e, ex.but(stage=s, waiting=True))
    rivals = ([w for w in queue if r.supersedes_waiting(m, state.executions[w])]
              if queue and r.supersedes_waiting(m, ex) else [])
    if rivals:
        (waiting,) = rivals
        older = min(waiting, e)
        state = r.supersede(m, state, older)
        queue = tuple(x for x in queue if x != older) + ((e,) if older != e else ())
    else:
        queue = queue + (e,)
    return state.but(inbound=_set(state.inbound, s, queue))


@rule
def admit_inbound(m: Model, state: State) -> State:
    """Waiting executions enter as soon as their stage is available.

    [Seed, inbound executions] "As soon as the action, transition, or locked stage becomes
    available, the in-progress inbound execution enters the stage and continues through the
    pipeline."  [Seed, transitions] "After you enable the transition, an inbound execution moves
    into the stage and locks it."  [Seed, QUEUED] "The next execution in the queue will be
    processed after the stage unlocks."  Entry is part of the step that frees the stage.  An
    execution of PARALLEL mode waits only for a disabled transition (`stage_is_available`), so
    it enters first, whatever waits with it.
    """
    if not any(state.inbound):
        return state
    r = m.rules
    for s in range(m.stage_count):
        while state.inbound[s] and not r.transition_holds(m, state, s):
            queue = state.inbound[s]
            free = [x for x in queue if not r.takes_locks(m, state, state.executions[x])]
            if free:
                e = free[0]
            elif r.stage_is_available(m, state, s):
                e = r.next_to_enter(m, queue)
            else:
                break
            rest = tuple(x for x in queue if x != e)
            state = state.but(inbound=_set(state.inbound, s, rest))
            state = r.enter_stage(m, state, e, s)
    return state


@rule
def next_to_enter(m: Model, queue: tuple[int, ...]) -> int:
    """The execution that enters a stage when it becomes available: the first in the queue.

    [Seed, QUEUED] "Waiting executions gather at the entry points to locked stages in the order
    that they reach the stage" and "The next execution in the queue will be processed after the
    stage unlocks."  (In SUPERSEDED mode at most one waits.)"""
    return queue[0]


@rule
def leave_stage(m: Model, state: State, e: int, s: int) -> State:
    """All of a stage's actions succeeded: the execution goes on to the next stage, or is done.

    [Seed, Rule 2] "All actions configured for a stage must be completed successfully before the
    stage is considered complete."  A rollback is done once the stage it rolls back succeeded
    (`rollback`).  The next stage is the next one of the structure the execution runs
    (`Model.next_stage`).
    """
    ex = state.executions[e]
    if ex.rollback_of >= 0:
        return _put(state, e, ex.but(status=SUCCEEDED))
    following = m.of(ex).next_stage[s]
    if following == m.stage_count:
        return _put(state, e, ex.but(status=SUCCEEDED, stage=m.stage_count))
    return m.rules.arrive(m, state, e, following)


WAIT_FOR_ACTIONS = "wait"
END_STOPPED = "stopped"
END_FAILED = "failed"
END_CANCELLED = "cancelled"
CONTINUE = "continue"


@rule
def stage_outcome(m: Model, ex: Execution) -> str:
    """What an execution's stage does once one of its actions finished.

    WAIT_FOR_ACTIONS while an action is still in progress; then END_STOPPED for a stop and wait,
    END_CANCELLED for an execution a pipeline update cancels (`update`), END_FAILED when an
    action failed, else CONTINUE (the next runOrder group, or the next stage).
    [OldUG:actions-retry] "If a stage completes with one or more failed actions, the stage fails,
    and the pipeline execution does not transition to the next stage in the pipeline."  [Seed]
    "The revision does not transition to the next action in the stage or the next stage".
    [Seed, stop and wait] "the selected execution continues until in-progress actions are
    completed ... Subsequent actions do not start."
    A stop and wait whose in-progress action fails ends Stopped, not Failed: [UG:pipelines-stop]
    "AWS CodePipeline waits to stop the execution until all in-progress actions are completed
    (that is, the actions have a Succeeded or Failed status) ... Then the execution is in a
    Stopped state."  [API] StopPipelineExecution "After all in-progress actions are completed or
    abandoned, the pipeline execution is in a Stopped state."
    An update cancels the execution whether its last actions succeeded or failed:
    [UG:pipelines-edit] "CodePipeline gracefully completes all the running actions and then
    fails the stages and pipeline executions where the running actions were completed."  So a
    failed action does not retry the stage automatically either.
    """
    statuses = [ex.actions[a] for a in m.of(ex).stage_actions[ex.stage]]
    if IN_PROGRESS in statuses:
        return WAIT_FOR_ACTIONS
    if ex.status == STOPPING:
        return END_STOPPED
    if ex.stop == UPDATE:
        return END_CANCELLED
    if FAILED in statuses:
        return END_FAILED
    return CONTINUE


@rule
def group_done(m: Model, ex: Execution, group: tuple[int, ...]) -> bool:
    """A runOrder group is done when all its actions succeeded.  [Seed, Rule 2] "All actions
    configured for a stage must be completed successfully before the stage is considered
    complete."""
    return all(ex.actions[a] == SUCCEEDED for a in group)


@rule
def progress_in_stage(m: Model, state: State, e: int) -> State:
    """After an action of `e` finished: wait for the rest, start the next group, or end the stage.

    [UG:action-requirements] runOrder: a higher number runs after the lower ones.  So when an
    action fails its siblings of the same runOrder keep running, no later group starts, and the
    stage fails (and unlocks) once nothing is in progress (`stage_outcome`).
    """
    r = m.rules
    ex = state.executions[e]
    if ex.condition is not None:
        return state  # the condition's rules decide what comes next
    outcome = r.stage_outcome(m, ex)
    if outcome == WAIT_FOR_ACTIONS:
        return state
    if outcome == END_STOPPED:
        return _put(state, e, ex.but(status=STOPPED))
    if outcome == END_CANCELLED:
        return _put(state, e, ex.but(status=CANCELLED))
    if outcome == END_FAILED:
        return r.stage_fails(m, state, e)
    mx = m.of(ex)
    for group in mx.groups[ex.stage]:
        if not r.group_done(m, ex, group):
            actions = ex.actions
            for a in group:
                actions = _set(actions, a, IN_PROGRESS)
            return _put(state, e, ex.but(actions=actions))
    if mx.stages[ex.stage].on_success is not None:
        return r.check_success_condition(m, state, e)
    return r.leave_stage(m, state, e, ex.stage)


@rule
def check_success_condition(m: Model, state: State, e: int) -> State:
    """All of the stage's actions succeeded and the stage has a success condition: its rules run
    before the execution leaves the stage, which stays locked meanwhile.

    [UG:stage-conditions] "On Success - The conditions for making checks for the stage when it
    succeeds."  [UG:concepts-how-it-works-conditions] "use an On Success condition type to set
    up a stage so that after the stage succeeds, a set of rules can be used to run checks before
    proceeding."
    Decision: the stage stays locked while the rules run: the execution has not left it
    ("before proceeding"), and an entry condition's rules run with the stage locked too.
    """
    ex = state.executions[e]
    return _put(state, e, ex.but(condition=ON_SUCCESS))


@rule
def stage_fails(m: Model, state: State, e: int) -> State:
    """The stage of `e` fails: the execution is Failed, or the stage is retried automatically.

    [OldUG:actions-retry] "If a stage completes with one or more failed actions, the stage
    fails, and the pipeline execution does not transition to the next stage in the pipeline."
    [UG:stage-retry] "You can configure a stage for automatic retry on failure. The stage will
    make one retry attempt and display a retry status on the failed stage on the View pipeline
    page."  "You can configure the retry mode by specifying that the stage should automatically
    retry either all actions in the failed stage or only failed actions in the stage."  The
    automatic retry runs the actions again as RetryStageExecution does in the same mode
    (`rerun_actions`), and the execution goes on in the stage, InProgress.
    Decision: the automatic retry is made in the step in which the stage fails, not in a later
    step of its own, so the failed execution never releases its stage in between: no waiting
    (inbound or queued) execution enters first, and none supersedes the failed execution
    ([Seed] "Another execution enters the failed stage and supersedes the failed execution. At
    this point, the failed execution cannot be retried.").  The documentation promises the
    attempt ("The stage will make one retry attempt", "if the stage failure occurs, the
    automatic retry attempt will be made"), which a waiting execution entering at the failure
    ([Seed, Rule 2] "A failure releases the lock on the stage.") would make impossible.
    Variant `waiting-enters-before-automatic-retry` reads it the other way.
    A stage declared to roll back on failure starts its rollback in the same step
    (`rolls_back_automatically`).
    """
    r = m.rules
    ex = state.executions[e]
    stage = m.of(ex).stages[ex.stage]
    if stage.automatic_rollback:
        return _fail_and_roll_back(m, state, e)
    mode = stage.automatic_retry
    if mode is None or not r.retries_automatically(m, state, e):
        return _put(state, e, ex.but(status=FAILED))
    ex = _rerun(m, ex, ex.stage, mode)
    return _put(state, e, ex.but(auto_retries=ex.auto_retries + 1))


@rule
def retries_automatically(m: Model, state: State, e: int) -> bool:
    """Whether the failed stage of `e`, declared to retry on failure, is retried automatically.

    [UG:stage-retry] "You can only configure automatic retry on stage failure for one retry
    attempt."  [API] RetryStageMetadata.autoStageRetryAttempt: "One attempt is allowed for
    automatic stage retry on failure."  So a stage execution is retried automatically once
    (`Execution.auto_retries`); when the automatic attempt fails too, the stage is Failed as it
    would be without automatic retry, and RetryStageExecution can still retry it by hand ([API]
    "You can retry a stage that has failed").  Only an execution in progress is retried: a stop
    and wait whose action failed ends Stopped (`stage_outcome`), stop and abandon ends Stopped,
    and a superseded execution never failed a stage.
    Decision: the attempt is counted per stage execution, and a manual RetryStageExecution
    resumes the same stage execution (the same pipelineExecutionId), so it does not allow a
    second automatic attempt; each stage the execution enters starts with none.  Variant
    `manual-retry-rearms-automatic-retry` reads it the other way.
    """
    ex = state.executions[e]
    return ex.status == IN_PROGRESS and ex.auto_retries == 0


def rerun_actions(m: Model, actions: tuple[str | None, ...], s: int,
                  mode: str) -> tuple[str | None, ...]:
    """The actions of stage `s` after a retry in `mode`, by hand or automatic (`m`: the
    structure the execution runs).

    [UG:stage-retry] "Retrying a failed stage retries all actions in the stage from the first
    action in the stage, and retrying failed actions retries all failed actions in the stage."
    Decision: FAILED_ACTIONS also reruns actions that a stop and abandon left Abandoned.
    """
    if mode == ALL_ACTIONS:
        for a in m.stage_actions[s]:
            actions = _set(actions, a, NOT_STARTED)
        for a in m.groups[s][0]:
            actions = _set(actions, a, IN_PROGRESS)
    else:
        for a in m.stage_actions[s]:
            if actions[a] in (FAILED, ABANDONED):
                actions = _set(actions, a, IN_PROGRESS)
    return actions


def _rerun(m: Model, ex: Execution, s: int, mode: str) -> Execution:
    """`ex` with the actions of stage `s` run again in `mode` (`rerun_actions`).  A timed-out
    approval that runs again is no longer expired: its expiry lasts as long as the Failed status
    it explains."""
    actions = rerun_actions(m.of(ex), ex.actions, s, mode)
    expired = tuple(a for a in ex.expired if actions[a] == FAILED) if ex.expired else ex.expired
    return ex.but(actions=actions, expired=expired)


# --------------------------------------------------------------------------------------------
# Operations: refusals and effects


@rule
def start_refusal(m: Model, state: State, op: StartPipelineExecution) -> str | None:
    """[UG:limits] "Maximum number of concurrent pipeline executions per pipeline (QUEUED |
    PARALLEL mode)": 50; beyond it ConcurrentPipelineExecutionsLimitExceededException.
    [UG:pipeline-types-planning] "Source revision overrides": V1 type "Not supported", so a
    start with sourceRevisions on a V1 pipeline is a ValidationException, and so is one that
    names a revision no execution has run (the model knows no other revisions)."""
    if op.source_revision >= 0 and (m.structure_of(state).pipeline.pipeline_type != "V2"
                                    or op.source_revision >= len(state.executions)):
        return "ValidationException"
    return _limit_refusal(m, state)


def _limit_refusal(m: Model, state: State) -> str | None:
    """ConcurrentPipelineExecutionsLimitExceededException when the mode's limit of executions in
    progress is reached."""
    limit = pipeline_policy(m, state).concurrency_limit
    if limit is not None and sum(ex.status in ACTIVE for ex in state.executions) >= limit:
        return "ConcurrentPipelineExecutionsLimitExceededException"
    return None


@rule
def start(m: Model, state: State, op: StartPipelineExecution) -> State:
    """[Seed] "CodePipeline tracks each pipeline execution that starts when a pipeline is started
    manually or a change is made to the source code."  The new execution comes to the first stage
    like any other arrival: it may wait there, and in SUPERSEDED mode supersede a waiting one
    ([Seed, QUEUED] "while the Source stage processes execution 5, the executions for 6 and 7 form
    Queue #1 and wait at the stage entry point").  It runs in the pipeline's current mode
    (`State.mode`), which an update may have changed.
    [API] StartPipelineExecution sourceRevisions: "A list that allows you to specify, or override,
    the source revision for a pipeline execution that's being started."  A pinned start carries
    the revision of the execution it names (`StartPipelineExecution.source_revision`).
    Decision: every source action of the execution takes that one revision: the model gives
    each execution one revision, and a scenario that pins its source actions to revisions of
    different executions is refused as not modelled.
    It runs the pipeline's current structure (`State.structure`), from its first stage."""
    pinned = op.source_revision
    revision = -1 if pinned < 0 else revision_of(pinned, state.executions[pinned])
    first = m.structure_of(state).first_stage
    ex = Execution(IN_PROGRESS, first, True, None, (NOT_STARTED,) * len(m.action_names), False,
                   version=state.version, mode=state.mode, revision=revision,
                   structure=state.structure)
    e = len(state.executions)
    state = state.but(executions=state.executions + (ex,))
    return m.rules.arrive(m, state, e, first)


@rule
def stop_refusal(m: Model, state: State, op: StopPipelineExecution) -> str | None:
    """[API] PipelineExecutionNotStoppableException: "The execution might already be in a Stopped
    state, or it might no longer be in progress."  [Seed] stop and wait: "You cannot use this
    option on an execution that is already in a Stopping state."  Stop and abandon: "You can use
    this option on an execution that is already in a Stopping state."  [API]
    DuplicatedStopRequestException: "If you already chose to stop and abandon, you cannot make
    that request again."
    Decision: an execution that a pipeline update is cancelling (`update`) cannot be stopped
    (PipelineExecutionNotStoppableException, "it might no longer be in progress"): the update
    already ends it once its in-progress actions complete, as a stop and wait would, and the
    documentation gives no way to turn that into a stop.
    """
    ex = state.executions[op.execution]
    if ex.status not in ACTIVE or ex.stop == UPDATE:
        return "PipelineExecutionNotStoppableException"
    if ex.status == STOPPING and (not op.abandon or ex.stop == ABANDON):
        return "DuplicatedStopRequestException"
    return None


@rule
def stop(m: Model, state: State, op: StopPipelineExecution) -> State:
    """Stop and wait / stop and abandon.

    [Seed] Stop and wait: "All in-progress action executions are allowed to complete, and
    subsequent actions are not started. The pipeline execution does not continue to subsequent
    stages."  "While actions are in progress, the pipeline execution status is Stopping."
    Stop and abandon: "the build action shows a status of In progress, and the pipeline execution
    shows a status of Stopping" and only then "the build action shows a status of Abandoned, and
    the pipeline execution shows a status of Stopped" (the `ActionsAbandoned` step).
    [Seed, inbound] "While the inbound execution is waiting, it can be manually stopped."  "When
    an inbound execution has been stopped, and the transition is enabled, the stopped inbound
    execution does not continue into the stage."  A stop with nothing in progress (an inbound
    execution) is Stopped at once.
    Decision: a stopped inbound execution leaves the queue at once (it never enters, and does
    not hold back the executions behind it), but stays listed in its stage's
    `inboundExecutions`, with status Stopped, until an execution that started after it enters
    that stage.  [Seed] "An inbound execution can have an InProgressStopped, or Failed state."
    [UG:pipelines-stop] after stopping one: "Use the get-pipeline-state command to view the
    status of the inbound execution."  [UG:pipelines-view-cli] of get-pipeline-state's output:
    "The inbound execution can have an InProgress, Stopped, or FAILED state."  So
    GetPipelineState shows a stopped inbound execution; how long is not documented.  Once a
    newer execution has entered the stage, the stopped one is no longer the execution in front
    of it.  A retry never brings it back: [Seed] "When an inbound execution has been stopped or
    has failed, it cannot be retried because there are no failed actions to retry."
    ([UG:pipelines-stop] "After an inbound execution has been stopped, it cannot be retried.")
    The state keeps the stopped execution's record (its stage, `waiting`, Stopped), so the
    listing is derived from the state (`checker.view.inbound_executions`) and the state graph
    does not change; `State.inbound` stays the queue.  With stage locks (SUPERSEDED, QUEUED) a
    newer execution enters the stage only after the stopped one stopped, so the listing ends at
    the first newer execution to enter; an older one queued ahead of it entering does not end it
    (the state cannot tell that entry from one made before the stop).  In PARALLEL mode
    ([UG:execution-modes] "Parallel mode does not have a pipeline state.") executions overtake
    one another and the state does not record whether a newer execution entered the stage before
    or after the stop; the same rule applies, so there a newer execution that entered the stage
    earlier also ends the listing.  "Failed": [UG:pipelines-view-cli] "An inbound execution
    status changes to Failed if the pipeline is edited." (`update`); such an execution is
    listed the same way.
    """
    e = op.execution
    ex = state.executions[e]
    kind = ABANDON if op.abandon else WAIT
    if ex.waiting:
        queue = tuple(x for x in state.inbound[ex.stage] if x != e)
        state = state.but(inbound=_set(state.inbound, ex.stage, queue))
        return _put(state, e, ex.but(status=STOPPED, stop=kind))
    if not _in_progress(m, ex, ex.stage):
        return _put(state, e, ex.but(status=STOPPED, stop=kind))
    return _put(state, e, ex.but(status=STOPPING, stop=kind))


@rule
def abandoned_refusal(m: Model, state: State, op: ActionsAbandoned) -> str | None:
    ex = state.executions[op.execution]
    if ex.status == STOPPING and ex.stop == ABANDON:
        return None
    return "ActionNotInProgress"


@rule
def abandoned(m: Model, state: State, op: ActionsAbandoned) -> State:
    """[Seed] "After the pipeline execution stops, the build action shows a status of Abandoned,
    and the pipeline execution shows a status of Stopped."  The external work is not cancelled:
    "When an action is abandoned in CodePipeline, the action provider continues any tasks related
    to the action." (Not the pipeline's bookkeeping, so not modelled here.)"""
    e = op.execution
    ex = state.executions[e]
    actions = ex.actions
    for a in _in_progress(m, ex, ex.stage):
        actions = _set(actions, a, ABANDONED)
    return _put(state, e, ex.but(status=STOPPED, actions=actions))


@rule
def result_refusal(
    m: Model, state: State, op: ActionSucceeded | ActionFailed | ApprovalTimedOut
) -> str | None:
    """A provider's result (or a timeout) can only come for an action in progress.
    Decision: once stop and abandon is requested, results of the actions being abandoned are no
    longer awaited ([UG:pipelines-stop] "the selected execution does not wait for in-progress
    actions to complete")."""
    ex = state.executions[op.execution]
    if ex.actions[op.action] != IN_PROGRESS or ex.stop == ABANDON:
        return "ActionNotInProgress"
    return None


def _action_finished(m: Model, state: State, e: int, a: int, status: str) -> State:
    ex = state.executions[e]
    state = _put(state, e, ex.but(actions=_set(ex.actions, a, status)))
    return m.rules.progress_in_stage(m, state, e)


@rule
def succeeded(m: Model, state: State, op: ActionSucceeded) -> State:
    return _action_finished(m, state, op.execution, op.action, SUCCEEDED)


@rule
def failed(m: Model, state: State, op: ActionFailed) -> State:
    """[Seed] "failure, when an action in a stage does not complete successfully."
    [Seed, Rule 2] "A failure releases the lock on the stage.\""""
    return _action_finished(m, state, op.execution, op.action, FAILED)


@rule
def timed_out(m: Model, state: State, op: ApprovalTimedOut) -> State:
    """[Seed] "A timed-out approval action is processed in the same way as a failed action."
    [API] InvalidApprovalTokenException: "The approval request ... has expired."  So the approval
    is Failed, as after a rejection, and the execution remembers that it expired
    (`Execution.expired`) for the answers that come too late (`approval_refusal`).
    Decision: GetPipelineState and GetPipelineExecution show a timed-out approval as Failed
    (ActionExecutionStatus has no other value); only the refusal of a late answer tells it from
    a rejection."""
    e, a = op.execution, op.action
    ex = state.executions[e]
    state = _put(state, e, ex.but(expired=tuple(sorted(ex.expired + (a,)))))
    return _action_finished(m, state, e, a, FAILED)


@rule
def approval_refusal(m: Model, state: State, op: PutApprovalResult) -> str | None:
    """[API] ApprovalAlreadyCompletedException: "The approval action has already been approved or
    rejected."  InvalidApprovalTokenException: "The approval request already received a response
    or has expired."  An approval that is not waiting for an answer has no valid token; one that
    timed out (`Execution.expired`, shown Failed) has expired.
    Decision: an approval that was approved or rejected gets ApprovalAlreadyCompletedException,
    the exception that names exactly that, although "already received a response" covers it
    too."""
    ex = state.executions[op.execution]
    status = ex.actions[op.action]
    if status == SUCCEEDED or status == FAILED and op.action not in ex.expired:
        return "ApprovalAlreadyCompletedException"
    if status != IN_PROGRESS or ex.stop == ABANDON:
        return "InvalidApprovalTokenException"
    return None


@rule
def approval(m: Model, state: State, op: PutApprovalResult) -> State:
    """[Seed] "A stage with an approval action is locked until the approval action is approved or
    rejected or has timed out."  [UG:approvals] Rejected: "the result is the same as an action
    failing"."""
    status = SUCCEEDED if op.status == APPROVED else FAILED
    return _action_finished(m, state, op.execution, op.action, status)


@rule
def retry_refusal(m: Model, state: State, op: RetryStageExecution) -> str | None:
    """Who may retry which stage.

    [Seed] "Another execution enters the failed stage and supersedes the failed execution. At
    this point, the failed execution cannot be retried." -> NotLatestPipelineExecutionException
    ("The stage has failed in a later run of the pipeline and the pipelineExecutionId associated
    with the request is out of date.").  [Seed, inbound] "When an inbound execution has been
    stopped or has failed, it cannot be retried because there are no failed actions to retry."
    [UG:pipelines-stop] "For a pipeline execution in a Stopped state, the actions in the stage
    where the execution stopped can be retried."  [API] RetryStageExecution: "When you retry the
    failed actions in a stage, all actions that are still in progress continue working ... When
    you retry a failed stage from the first action in the stage, the stage cannot have any
    actions in progress. Before a stage can be retried, it must either have all actions failed or
    some actions failed and some succeeded."  [UG:stage-retry] not retryable while "Another retry
    attempt in the stage is already in progress".
    Decision: a Stopping execution cannot be retried (StageNotRetryableException); a stage
    stopped by stop and wait with all its actions succeeded is retryable ("The Retry button is
    enabled.") and the retry continues with the rest of the pipeline.
    Decision: a stage that failed because its entry or success condition failed (result FAIL) is
    not retryable (StageNotRetryableException): [API] "Before a stage can be retried, it must
    either have all actions failed or some actions failed and some succeeded.", and such a stage
    has no failed action (none ran, or all succeeded).  A success condition's failure is
    overridden instead (`override_refusal`).
    Decision: a retry counts toward the 50 concurrent executions of QUEUED and PARALLEL: [API]
    RetryStageExecution lists ConcurrentPipelineExecutionsLimitExceededException, and a Failed or
    Stopped execution that is retried is in progress again, so with 50 executions in progress
    the retry is refused (`start_refusal`'s limit).  An execution still in progress (a retry of
    failed actions while others run) adds nothing to the count.
    [UG:stage-retry] a stage is not retryable when "The overall pipeline structure changed after
    the stage failed."  [API] StageNotRetryableException: "The pipeline structure or stage state
    might have changed while actions awaited retry".  So an execution that started under an
    older structure version (`Execution.version`) is not retried.
    Decision: this holds in PARALLEL mode too, where an update leaves the executions running:
    the state does not tell whether the stage failed before or after the update, and a retry
    would run the stage of a structure the pipeline no longer has.
    """
    e, s = op.execution, op.stage
    ex = state.executions[e]
    if op.retry_mode not in RETRY_MODES:
        return "StageNotRetryableException"
    if not _is_in_stage(ex, s):
        return "StageNotRetryableException"
    if ex.version != state.version:
        return "StageNotRetryableException"  # the structure changed since it started
    if execution_policy(m, ex).has_pipeline_state and state.latest[s] != e:
        return "NotLatestPipelineExecutionException"
    statuses = [ex.actions[a] for a in m.of(ex).stage_actions[s]]
    if ex.status == FAILED and ex.condition is not None:
        return "StageNotRetryableException"  # failed by its condition: no failed action
    if ex.status in (FAILED, STOPPED):
        return _limit_refusal(m, state)
    if ex.status == IN_PROGRESS and FAILED in statuses:
        if op.retry_mode == ALL_ACTIONS:
            return "StageNotRetryableException"  # actions still in progress
        return None
    return "StageNotRetryableException"


@rule
def retry(m: Model, state: State, op: RetryStageExecution) -> State:
    """RetryStageExecution resumes the same execution (the API returns the same
    pipelineExecutionId).

    [Seed] "You manually retry the stage that contains the failed actions. This resumes the
    execution (it retries failed actions and, if they succeed, continues in the stage/pipeline)."
    [UG:stage-retry] "retrying a failed stage retries all actions in the stage from the first
    action in the stage, and retrying failed actions retries all failed actions in the stage."
    (`rerun_actions`)
    Decision: a retry of an execution stopped while a stage condition's rules ran runs that
    condition again and reruns no action, whatever the mode: before an entry condition none of
    the stage's actions had started, and before a success condition all of them had succeeded;
    the condition is what the stop interrupted.
    """
    e, s = op.execution, op.stage
    ex = state.executions[e]
    if ex.condition is None:
        ex = _rerun(m, ex, s, op.retry_mode)
    ex = ex.but(status=IN_PROGRESS, stop=None, retried=True)
    state = _put(state, e, ex)
    return m.rules.progress_in_stage(m, state, e)


# --------------------------------------------------------------------------------------------
# Stage conditions


@rule
def condition_refusal(m: Model, state: State,
                      op: ConditionSucceeded | ConditionFailed) -> str | None:
    """A condition's rules can only come to a result while they run: the execution is at a
    condition and in progress.  [UG:stage-conditions] "Each condition has a rule set which is an
    ordered set of rules that are evaluated together. Therefore, if one rule fails in the
    condition, then the condition fails."  So the rule set is one step: met or not met."""
    ex = state.executions[op.execution]
    if ex.condition is None or ex.status != IN_PROGRESS:
        return "ConditionNotInProgress"
    return None


@rule
def condition_succeeded(m: Model, state: State, op: ConditionSucceeded) -> State:
    """[UG:stage-conditions] "If all rules in a condition succeed, then the condition is met."
    An entry condition met: "The conditions for making checks that, if met, allow entry to a
    stage": the stage's first runOrder group starts.  A success condition met: the execution
    proceeds to the next stage ([UG:concepts-how-it-works-conditions] "If the check is
    successful, and the alarm is below the threshold, the stage can proceed.")."""
    e = op.execution
    ex = state.executions[e]
    if ex.condition == BEFORE_ENTRY:
        return _put(state, e, _begin_actions(m, ex.but(condition=None), ex.stage))
    state = _put(state, e, ex.but(condition=None))
    return m.rules.leave_stage(m, state, e, ex.stage)


@rule
def condition_failed(m: Model, state: State, op: ConditionFailed) -> State:
    """A condition not met engages its result.

    [UG:concepts-how-it-works-conditions] "If the condition fails, the result is engaged. The
    stage performs the specified result only when the condition fails."  [UG:stage-conditions]
    "You can configure conditions so that when the criteria are not met, the specified result
    engages."  SKIP: "When a stage is skipped, the stage status is Skipped": the execution goes
    on to the next stage without running the stage's actions (`leave_stage`).  FAIL: the stage
    fails, and with it the execution, which releases the stage ([Seed, Rule 2] "A failure
    releases the lock on the stage.").
    Decision: a stage failed by its condition is not retried automatically, even when it
    declares `onFailure: {result: RETRY}`: an automatic retry runs the stage's failed actions or
    all its actions again ([UG:stage-retry]), and the failure was not an action's.
    ROLLBACK, a success condition's other result ([UG:stage-conditions] "On Success - ...
    Rollback or Fail"): the stage is rolled back.  Decision: it fails the stage as FAIL does
    and starts, in the same step, the rollback an `onFailure` ROLLBACK starts
    (`rolls_back_automatically`: to the most recent execution that succeeded in the stage under
    the current structure version, once there is one, not in PARALLEL mode); the failed
    execution keeps the condition, so that, as after FAIL, it is not retried.
    """
    e = op.execution
    ex = state.executions[e]
    stage = m.of(ex).stages[ex.stage]
    result = stage.before_entry if ex.condition == BEFORE_ENTRY else stage.on_success
    if result == "SKIP":
        return m.rules.skip_stage(m, state, e)
    if result == "ROLLBACK":
        return _fail_and_roll_back(m, state, e)
    return _put(state, e, ex.but(status=FAILED))


@rule
def skip_stage(m: Model, state: State, e: int) -> State:
    """An entry condition with result SKIP was not met: the stage is Skipped and the execution
    goes on to the next stage.  [UG:stage-conditions] "When a stage is skipped, the stage status
    is Skipped, and the action status is Didn't Run."  The state keeps no status of its own
    for it: a stage the execution has left with none of its actions run is the skipped one
    (`stage_status`)."""
    ex = state.executions[e]
    state = _put(state, e, ex.but(condition=None))
    return m.rules.leave_stage(m, state, e, ex.stage)


@rule
def override_refusal(m: Model, state: State, op: OverrideStageCondition) -> str | None:
    """Which conditions OverrideStageCondition accepts, and when.

    [UG:stage-conditions] the override table: Entry, result Fail, stage status In-progress: "The
    stage proceeds."; Entry, result Skip, stage Skipped: "Not applicable."; OnSuccess, result
    Fail, stage status Failed: "The stage proceeds."  "You cannot override a condition if the
    condition is configured with a Skip result."  [API] ConditionNotOverridableException:
    "Unable to override because the condition does not allow overrides."
    NotLatestPipelineExecutionException, ConcurrentPipelineExecutionsLimitExceededException.
    Decision: an override is accepted only where the table says what it does: an entry
    condition whose rules are running, and a success condition that failed the stage; anything
    else (a stage without that condition, one with a Skip result, an execution not at that
    condition, a condition that already passed) is ConditionNotOverridableException.  Like a
    retry, it is refused for an execution that is no longer the stage's latest
    (NotLatestPipelineExecutionException), and overriding a failed stage puts the execution in
    progress again, so it counts toward the 50 concurrent executions of QUEUED and PARALLEL.
    Decision: as with a retry, a condition of an execution that started under an older structure
    version is not overridden (ConditionNotOverridableException): the stage it would let
    proceed is one of a structure the pipeline no longer has.
    The table's OnSuccess, result Rollback, stage status Succeeded: "The stage proceeds.": a
    success condition with result ROLLBACK is overridden while its rules run, after the stage's
    actions succeeded; once it failed and rolled the stage back, the table has no row for it
    (ConditionNotOverridableException).
    """
    e, s = op.execution, op.stage
    ex = state.executions[e]
    stage = m.of(ex).stages[s]
    result = stage.before_entry if op.condition_type == BEFORE_ENTRY else stage.on_success
    if result is None or result == "SKIP":
        return "ConditionNotOverridableException"
    if not _is_in_stage(ex, s) or ex.condition != op.condition_type:
        return "ConditionNotOverridableException"
    if ex.version != state.version:
        return "ConditionNotOverridableException"
    if execution_policy(m, ex).has_pipeline_state and state.latest[s] != e:
        return "NotLatestPipelineExecutionException"
    if op.condition_type == BEFORE_ENTRY or result == "ROLLBACK":
        return None if ex.status == IN_PROGRESS else "ConditionNotOverridableException"
    if ex.status != FAILED:
        return "ConditionNotOverridableException"
    return _limit_refusal(m, state)


@rule
def override(m: Model, state: State, op: OverrideStageCondition) -> State:
    """[UG:stage-conditions] "The stage proceeds.": past an entry condition, the stage's first
    runOrder group starts; past a failed success condition, the execution is in progress again
    and goes on to the next stage.  [UG:stage-conditions] after an override the condition's
    status is Overridden and "The rule status is Abandoned due to the override." (the model
    keeps no condition status once a condition is passed)."""
    e = op.execution
    ex = state.executions[e]
    if op.condition_type == BEFORE_ENTRY:
        return _put(state, e, _begin_actions(m, ex.but(condition=None), ex.stage))
    state = _put(state, e, ex.but(status=IN_PROGRESS, condition=None))
    return m.rules.leave_stage(m, state, e, ex.stage)


# --------------------------------------------------------------------------------------------
# Rollbacks


def succeeded_in_stage(m: Model, state: State, s: int) -> list[int]:
    """The executions a rollback of stage `s` may roll back to: STANDARD ones whose run of the
    stage succeeded, oldest first.  [UG:stage-rollback] "You can roll back a stage to an
    execution that was successful in that stage."  "You cannot roll back to a target execution
    ID that is a rollback execution type." """
    return [t for t, ex in enumerate(state.executions)
            if ex.rollback_of < 0 and stage_status(m, ex, s) == SUCCEEDED]


@rule
def rollback_refusal(m: Model, state: State, op: RollbackStage) -> str | None:
    """When RollbackStage is accepted.

    [UG:stage-rollback] "You cannot roll back a source stage."  "The pipeline can only roll back
    to a previous execution if the previous execution was started in the current pipeline
    structure version."  "You cannot roll back to a target execution ID that is a rollback
    execution type."  [UG:execution-modes] "For pipelines in PARALLEL mode, stage rollback is not
    available."  [UG:pipeline-types-planning] "Rollback for pipeline stages": V1 type "Not
    supported".  [UG:stage-conditions] "You cannot perform a manual rollback to a stage in
    Skipped status."  [API] UnableToRollbackStageException: "Unable to roll back the stage. The
    cause might be if the pipeline version has changed since the target pipeline execution was
    deployed, the stage is currently running, or an incorrect target pipeline execution ID was
    provided."  PipelineExecutionOutdatedException: "The specified pipeline execution is
    outdated and cannot be used as a target pipeline execution for rollback."
    Decision: the first stage is the source stage (a pipeline's first stage holds its source
    actions, [UG:pipeline-requirements]).  Decision: a target started under an older structure
    version is PipelineExecutionOutdatedException, the exception that names the target; every
    other refusal is UnableToRollbackStageException, and a V1 pipeline ValidationException.
    Decision: "the stage is currently running" is any execution in progress in the stage
    (stopping included), whatever mode it started in.  A stage the current structure does not
    have is not rolled back (UnableToRollbackStageException).
    """
    s, t = op.stage, op.target
    current = m.structure_of(state)
    if current.pipeline.pipeline_type != "V2":
        return "ValidationException"
    if (not 0 <= s < m.stage_count or not current.has_stage(s) or s == current.first_stage
            or not m.rules.rollback_available(m, state)):
        return "UnableToRollbackStageException"
    if any(_is_in_stage(ex, s) and ex.status in ACTIVE for ex in state.executions):
        return "UnableToRollbackStageException"  # the stage is currently running
    latest = state.latest[s]
    if latest >= 0 and stage_status(m, state.executions[latest], s) == SKIPPED:
        return "UnableToRollbackStageException"
    if not 0 <= t < len(state.executions) or state.executions[t].rollback_of >= 0:
        return "UnableToRollbackStageException"
    if state.executions[t].version != state.version:
        return "PipelineExecutionOutdatedException"
    if stage_status(m, state.executions[t], s) != SUCCEEDED:
        return "UnableToRollbackStageException"
    return None


@rule
def rollback_available(m: Model, state: State) -> bool:
    """Whether the pipeline's current mode has stage rollback.  [UG:execution-modes] "For
    pipelines in PARALLEL mode, stage rollback is not available. Similarly, failure conditions
    with a rollback result type cannot be added to a PARALLEL mode pipeline."  So neither a
    manual nor an automatic rollback starts in PARALLEL mode."""
    return pipeline_policy(m, state).stage_lock


@rule
def rollback(m: Model, state: State, op: RollbackStage) -> State:
    """RollbackStage starts a new execution, of type ROLLBACK, in the stage.

    [UG:stage-rollback] "The rolled back operation will result in a new execution. The target
    pipeline execution chosen for rollback is used to retrieve source revisions and
    variables."  "CodePipeline will use the variables and artifacts from the execution to which
    it is rolling back."  [API] RollbackStage returns the new pipelineExecutionId.
    """
    return m.rules.start_rollback(m, state, op.stage, op.target, MANUAL_ROLLBACK)


@rule
def start_rollback(m: Model, state: State, s: int, target: int, trigger: str) -> State:
    """A rollback execution of stage `s` to `target` starts: it enters the stage at once, locks
    it and runs its actions, carrying `target`'s revision (`Execution.rollback_of`,
    `Execution.revision`).

    [UG:stage-rollback-view-details] the example GetPipelineState shows the rollback's
    pipelineExecutionId, `"type": "ROLLBACK"`, only on the stage rolled back.
    Decision: a rollback runs that one stage and ends Succeeded when the stage succeeds; it does
    not go on to the later stages (no page says it does, and the example shows it on the one
    stage).  Decision: it enters the stage without passing the stage's inbound transition, so a
    disabled transition does not hold it: it does not come from the stage before.  Its failure
    is a stage failure like any other: it releases the stage and can be retried.
    """
    revision = revision_of(target, state.executions[target])
    ex = Execution(IN_PROGRESS, s, False, None, (NOT_STARTED,) * len(m.action_names), False,
                   version=state.version, mode=state.mode, rollback_of=target,
                   trigger=trigger, revision=revision, structure=state.structure)
    r = len(state.executions)
    state = state.but(executions=state.executions + (ex,))
    return m.rules.enter_stage(m, state, r, s)


def _fail_and_roll_back(m: Model, state: State, e: int) -> State:
    """The stage of `e`, which rolls back by itself, fails: `e` is Failed and, in the same step,
    the rollback `rolls_back_automatically` finds starts, where there is one."""
    ex = state.executions[e]
    target = m.rules.rolls_back_automatically(m, state, e)
    state = _put(state, e, ex.but(status=FAILED))
    if target < 0:
        return state
    return m.rules.start_rollback(m, state, ex.stage, target, AUTOMATED_ROLLBACK)


@rule
def rolls_back_automatically(m: Model, state: State, e: int) -> int:
    """The execution that the failed stage of `e` rolls back to, for a stage declared to roll
    back on failure or whose success condition with result ROLLBACK failed (`condition_failed`);
    -1: none, the stage just fails.

    [UG:stage-rollback-auto] "When the stage fails, the stage is rolled back to the most recent
    successful execution. The pipeline can only roll back to a previous execution if the
    previous execution was started in the current pipeline structure version. Since, automatic
    rollback configuration is part of the pipeline definition, your pipeline stage will
    auto-rollback only after there is a successful pipeline execution in the pipeline stage."
    Not in PARALLEL mode (`rollback_available`).  With stage locks, executions pass a stage in
    the order they started (`arrive`), so the most recent successful one is the latest started.
    Decision: only a STANDARD execution that is in progress rolls back: a stop and wait whose
    action failed ends Stopped, and a rollback that fails does not roll back again (it would
    roll back to the execution it just failed to deploy).  Decision: the rollback starts in the
    step in which the stage fails, as an automatic retry is made (`stage_fails`), so no waiting
    execution enters the failed stage first.
    """
    ex = state.executions[e]
    if ex.rollback_of >= 0 or ex.status != IN_PROGRESS:
        return -1
    if not m.rules.rollback_available(m, state):
        return -1
    s = ex.stage
    targets = [t for t in succeeded_in_stage(m, state, s)
               if state.executions[t].version == state.version]
    return targets[-1] if targets else -1


# --------------------------------------------------------------------------------------------
# Pipeline updates


@rule
def update_refusal(m: Model, state: State, op: UpdatePipeline) -> str | None:
    """An update of the pipeline with a valid structure is accepted at any time: [API]
    UpdatePipeline's errors (ValidationException, InvalidStructureException, ...) are all about
    the structure given, and none about the executions running.  A change to PARALLEL mode of a
    pipeline with a stage that rolls back on failure is such an error: [UG:execution-modes]
    "failure conditions with a rollback result type cannot be added to a PARALLEL mode
    pipeline."  An executionMode other than
    [API] ExecutionMode's "QUEUED | SUPERSEDED | PARALLEL" is such an error (ValidationException),
    and so is a structure the model does not know.
    """
    if op.execution_mode is not None and op.execution_mode not in MODES:
        return "ValidationException"
    if op.structure is not None and not 0 <= op.structure < max(1, len(m.structures)):
        return "ValidationException"
    installed = m.structure_of(state) if op.structure is None else (
        m.structures[op.structure] if m.structures else m)
    if op.execution_mode == "PARALLEL" and any(st.automatic_rollback for st in installed.stages):
        return "ValidationException"  # no rollback result in PARALLEL mode (`rollback_refusal`)
    return None


def installed_mode(m: Model, k: int) -> str:
    """The execution mode an update that installs structure `k` gives the pipeline: the one its
    declaration states (the declaration's own for structure 0, as the model was built)."""
    return m.policy.name if k == 0 else m.structures[k].pipeline.execution_mode


@rule
def update(m: Model, state: State, op: UpdatePipeline) -> State:
    """UpdatePipeline: the pipeline's version goes up by one; in SUPERSEDED and QUEUED mode the
    executions in flight are cancelled.

    [API] UpdatePipeline: "Updating the pipeline increases the version number of the pipeline by
    1."  [UG:pipelines-edit] "When you update a pipeline, CodePipeline gracefully completes all
    the running actions and then fails the stages and pipeline executions where the running
    actions were completed."  [API] PipelineExecutionStatus and StageExecutionStatus Cancelled:
    "The pipeline's definition was updated before the pipeline execution could be completed."
    [UG:execution-modes] SUPERSEDED or QUEUED to any mode: "Active executions are cancelled after
    in-progress actions complete. Pending executions are cancelled."; PARALLEL to PARALLEL: "All
    executions are allowed to run independently of pipeline definition updates."
    (`ModePolicy.update_cancels`).  So an execution in progress in a stage whose actions are
    running is marked (stop kind UPDATE): it starts no further action and is Cancelled once they
    complete (`stage_outcome`), holding its stage until then; one with no action running (a
    stage condition's rules being run) is Cancelled at once.  [UG:pipelines-view-cli] "An
    inbound execution status changes to Failed if the pipeline is edited.": an execution waiting
    in front of a stage leaves the queue Failed, and stays listed in `inboundExecutions` as a
    stopped one does (`stop`).  The executions that start after the update run under its
    version ([UG:pipelines-edit] "When a pipeline is updated, you will need to re-run your
    pipeline.").
    Decision: an execution that is Stopping when the update is made goes on stopping and ends
    Stopped: the stop already ends it, and no sentence says that an update changes a stop.
    An update may install other stages and actions (`UpdatePipeline.structure`): the
    executions that start after it run them.  What it does to the executions in flight does
    not depend on what changed.  An execution that runs on through the update (one started in
    PARALLEL mode) goes on running the structure it started under ([UG:execution-modes] "All
    executions are allowed to run independently of pipeline definition updates"), and the
    structure is part of the definition.  Decision: a stage is the same stage in every
    structure that has a stage of its name, as GetPipelineState names stages: an execution
    that an update is cancelling, or one started in PARALLEL mode, holds the stage it is in by
    that name, and its inbound transition keeps its state across the update.  An update
    without a structure keeps the current one.
    An update may change the execution mode (`UpdatePipeline.execution_mode`): the executions
    that start after it run in the new mode ([UG:execution-modes] SUPERSEDED or QUEUED to any
    mode: the executions in flight are cancelled as above; from PARALLEL to QUEUED or
    SUPERSEDED: "the execution started in PARALLEL mode will continue to run").
    Decision: what an update does to an execution follows the mode that execution started
    under, not the pipeline's mode at the update: one started in PARALLEL mode runs on through
    every later update, as "All executions are allowed to run independently of pipeline
    definition updates" says of PARALLEL executions, and one started in a mode with stage locks
    is cancelled.  Decision: a mode change needs no other change to be accepted (QUEUED and
    PARALLEL need pipelineType V2, which the same update may set; the model does not track the
    pipeline type).
    """
    mode = state.mode if op.execution_mode is None else op.execution_mode
    state = state.but(version=state.version + 1,
                      mode=None if mode == m.policy.name else mode,
                      structure=state.structure if op.structure is None else op.structure)
    executions = list(state.executions)
    inbound = state.inbound
    for e, ex in enumerate(executions):
        if ex.status != IN_PROGRESS or not execution_policy(m, ex).update_cancels:
            continue
        if ex.waiting:
            inbound = _set(inbound, ex.stage, tuple(x for x in inbound[ex.stage] if x != e))
            executions[e] = ex.but(status=FAILED)
        elif _in_progress(m, ex, ex.stage):
            executions[e] = ex.but(stop=UPDATE)
        else:
            executions[e] = ex.but(status=CANCELLED)
    return state.but(executions=tuple(executions), inbound=inbound)


@rule
def transition_refusal(
    m: Model, state: State, op: DisableStageTransition | EnableStageTransition
) -> str | None:
    """Decision: the first stage has no inbound transition: nothing comes before it, and the
    console draws transitions only between stages.  Disabling or enabling it is refused as
    invalid input (ValidationException).  The API has no error for disabling a transition that
    is already disabled, or enabling one that is enabled.  A stage the current structure does
    not have has no transition to change either (ValidationException)."""
    here = m.structure_of(state)
    if not 0 <= op.stage < m.stage_count or op.stage == here.first_stage:
        return "ValidationException"
    return None if here.has_stage(op.stage) else "ValidationException"


@rule
def disable(m: Model, state: State, op: DisableStageTransition) -> State:
    """[API] DisableStageTransition: "Prevents artifacts in a pipeline from transitioning to the
    next stage in the pipeline."  [Seed] "Any revisions that were already running in the stages
    that come after the disabled transition continue"; only entry is held.  The API has no error
    for a transition that is already disabled."""
    return state.but(disabled=_set(state.disabled, op.stage, True))


@rule
def enable(m: Model, state: State, op: EnableStageTransition) -> State:
    """[Seed] "When a disabled transition is re-enabled, the latest execution, including any that
    superseded older executions while the transition was disabled, enters the stage.\""""
    return state.but(disabled=_set(state.disabled, op.stage, False))


# --------------------------------------------------------------------------------------------
# The world outside CodePipeline (only for a model built with its world)


@rule
def outside_world(m: Model, before: State, after: State) -> State:
    """What the step did to the deploy targets: a deploy action that succeeded wrote its
    execution's revision; one that was abandoned goes on working outside CodePipeline.

    [Seed] "When an action is abandoned in CodePipeline, the action provider continues any tasks
    related to the action. ... the action is abandoned in CodePipeline, but continues in Amazon
    S3. Amazon S3 does not encounter any instruction to cancel the upload."  Stop and wait lets
    the action complete, so its write happens before the execution stops.
    """
    world = m.world
    if world is None:
        return after
    revisions, in_flight = after.revisions, after.in_flight
    old = before.executions
    for e, ex in enumerate(after.executions):
        if e < len(old) and old[e] is ex:
            continue
        was = old[e].actions if e < len(old) else None
        for a, status in enumerate(ex.actions):
            t = world.writes[a]
            if t < 0 or was is None or was[a] != IN_PROGRESS or status == IN_PROGRESS:
                continue
            if status == SUCCEEDED:
                revisions = _set(revisions, t, revision_of(e, ex))
            elif status == ABANDONED:
                in_flight = tuple(sorted(in_flight + ((a, e),)))
    if revisions is after.revisions and in_flight is after.in_flight:
        return after
    return after.but(revisions=revisions, in_flight=in_flight)


@rule
def abandoned_work_refusal(m: Model, state: State, op: AbandonedWorkFinishes) -> str | None:
    """Only work that was abandoned and is still going on can finish."""
    return None if (op.action, op.execution) in state.in_flight else "ActionNotInProgress"


@rule
def abandoned_work_finishes(m: Model, state: State, op: AbandonedWorkFinishes) -> State:
    """[Seed] "When the old deployment completes, the new file is overwritten by the old
    file." """
    assert m.world is not None
    t = m.world.writes[op.action]
    in_flight = tuple(x for x in state.in_flight if x != (op.action, op.execution))
    revision = revision_of(op.execution, state.executions[op.execution])
    return state.but(revisions=_set(state.revisions, t, revision), in_flight=in_flight)


OPERATION_RULES: dict[type, tuple[str, str]] = {
    StartPipelineExecution: ("start_refusal", "start"),
    StopPipelineExecution: ("stop_refusal", "stop"),
    ActionsAbandoned: ("abandoned_refusal", "abandoned"),
    ActionSucceeded: ("result_refusal", "succeeded"),
    ActionFailed: ("result_refusal", "failed"),
    ApprovalTimedOut: ("result_refusal", "timed_out"),
    PutApprovalResult: ("approval_refusal", "approval"),
    RetryStageExecution: ("retry_refusal", "retry"),
    DisableStageTransition: ("transition_refusal", "disable"),
    EnableStageTransition: ("transition_refusal", "enable"),
    AbandonedWorkFinishes: ("abandoned_work_refusal", "abandoned_work_finishes"),
    ConditionSucceeded: ("condition_refusal", "condition_succeeded"),
    ConditionFailed: ("condition_refusal", "condition_failed"),
    OverrideStageCondition: ("override_refusal", "override"),
    UpdatePipeline: ("update_refusal", "update"),
    RollbackStage: ("rollback_refusal", "rollback"),
}
"""For each operation, the rule that may refuse it and the rule that applies it."""


def refusal(m: Model, state: State, op: Operation) -> str | None:
    """The API exception the service answers `op` with in `state`, or None if it accepts it."""
    return getattr(m.rules, OPERATION_RULES[type(op)][0])(m, state, op)


def apply(m: Model, state: State, op: Operation) -> State:
    """The state after `op`; raises `Refused` when the service refuses it.

    Every step ends by letting waiting executions into the stages that have become available.
    """
    check, effect = m.rules.operation(type(op))
    name = check(m, state, op)
    if name is not None:
        raise Refused(name)
    after = m.rules.admit_inbound(m, effect(m, state, op))
    return m.rules.outside_world(m, state, after) if m.world is not None else after


def successors(
    m: Model,
    state: State,
    starts: bool = True,
    stops: bool = True,
    retries: bool = True,
    disables: bool = True,
    failures: bool = True,
    enables: bool = True,
    updates: bool = False,
    update_modes: tuple[str, ...] = (),
    rollbacks: bool = False,
) -> list[tuple[Operation, State]]:
    """Every operation the service accepts in `state` and the state it leads to, in a fixed order:
    start, an update, rollbacks, then per execution its stops, retries and actions' results, then
    transitions.

    The flags leave out kinds of operation, for an explorer that bounds how many of each the user
    makes (`failures` false: actions always succeed and approvals are always approved; `enables`
    false: a transition disabled from the start stays disabled; a stage condition's rules then
    always pass; `updates` true: the pipeline may be updated, keeping its execution mode or
    changing it to one of `update_modes`, or installing one of the model's other structures
    (`Model.structures`, in that structure's declared execution mode); `rollbacks` true:
    RollbackStage may be called, to each execution that succeeded in a stage).  Overrides of
    stage conditions need no bound: each one moves its execution on.
    Retries are offered only for the stage where the execution is: for any other stage the
    service refuses them (a test checks that).  Operations that change nothing (enabling a
    transition that is enabled) are left out.
    """
    op = m.operation
    ops: list[Operation] = [op(StartPipelineExecution)] if starts else []
    here = m.structure_of(state)
    if updates:
        ops.append(op(UpdatePipeline))
        current = state.mode or m.policy.name
        ops.extend(op(UpdatePipeline, md) for md in update_modes if md != current)
        for k in range(len(m.structures)):
            if k != state.structure:
                md = installed_mode(m, k)
                ops.append(op(UpdatePipeline, None if md == current else md, k))
    if rollbacks:
        for s in range(m.stage_count):
            if here.has_stage(s) and s != here.first_stage:
                ops.extend(op(RollbackStage, s, t) for t in succeeded_in_stage(m, state, s))
    for e, ex in enumerate(state.executions):
        active = ex.status in ACTIVE
        if stops and active:
            ops.append(op(StopPipelineExecution, e, False))
            ops.append(op(StopPipelineExecution, e, True))
        if ex.stop == ABANDON:
            if ex.status == STOPPING:
                ops.append(op(ActionsAbandoned, e))
        elif not ex.waiting and ex.stage < m.stage_count:
            for a in m.of(ex).stage_actions[ex.stage]:
                if ex.actions[a] == IN_PROGRESS:
                    if m.approval[a]:
                        ops.append(op(PutApprovalResult, e, a, APPROVED))
                        if failures:
                            ops.append(op(PutApprovalResult, e, a, REJECTED))
                            ops.append(op(ApprovalTimedOut, e, a))
                    else:
                        ops.append(op(ActionSucceeded, e, a))
                        if failures:
                            ops.append(op(ActionFailed, e, a))
            if ex.condition is not None and ex.status == IN_PROGRESS:
                ops.append(op(ConditionSucceeded, e))
                if failures:
                    ops.append(op(ConditionFailed, e))
        if retries and ex.stage < m.stage_count:
            ops.append(op(RetryStageExecution, e, ex.stage, FAILED_ACTIONS))
            ops.append(op(RetryStageExecution, e, ex.stage, ALL_ACTIONS))
        if not ex.waiting and ex.stage < m.stage_count:
            stage = m.of(ex).stages[ex.stage]
            if stage.before_entry is not None:
                ops.append(op(OverrideStageCondition, e, ex.stage, BEFORE_ENTRY))
            if stage.on_success is not None:
                ops.append(op(OverrideStageCondition, e, ex.stage, ON_SUCCESS))
    for s in range(m.stage_count):
        if s == here.first_stage or not here.has_stage(s):
            continue
        if state.disabled[s]:
            if enables:
                ops.append(op(EnableStageTransition, s))
        elif disables:
            ops.append(op(DisableStageTransition, s))
    for a, e in state.in_flight:
        ops.append(op(AbandonedWorkFinishes, e, a))
    out: list[tuple[Operation, State]] = []
    rules = m.rules
    admit = rules.admit_inbound
    world = rules.outside_world if m.world is not None else None
    for o in ops:
        check, effect = rules.operation(type(o))
        if check(m, state, o) is None:
            after = admit(m, effect(m, state, o))
            out.append((o, after if world is None else world(m, state, after)))
    return out


DOCUMENTED = RuleSet("documented", RULES, OPERATION_RULES)
"""The rules as the AWS documentation states them (and this project decides where it is silent)."""
