"""The global state of one pipeline and its executions, as one immutable, hashable value.

Statuses are the API's own strings (`InProgress`, `Superseded`, ...), so a state prints the way
`GetPipelineState` and `GetPipelineExecution` read.  Executions are numbered in the order they
started (0 is the oldest).  A STANDARD execution carries the newest source revision when it
starts, so their start order is the order of their revisions; a ROLLBACK execution carries the
revision of the earlier execution it rolls back to (`revision_of`).
"""

from __future__ import annotations

from typing import Any, NamedTuple

# PipelineExecutionStatus [API].  Cancelled: "The pipeline's definition was updated before the
# pipeline execution could be completed." (UpdatePipeline).
IN_PROGRESS = "InProgress"
STOPPING = "Stopping"
STOPPED = "Stopped"
SUCCEEDED = "Succeeded"
SUPERSEDED = "Superseded"
FAILED = "Failed"
CANCELLED = "Cancelled"
PIPELINE_STATUSES = (IN_PROGRESS, STOPPING, STOPPED, SUCCEEDED, SUPERSEDED, FAILED, CANCELLED)

# ActionExecutionStatus [API]; an action that has not run has no status (None, printed null).
ABANDONED = "Abandoned"
NOT_STARTED = None
ACTION_STATUSES = (NOT_STARTED, IN_PROGRESS, ABANDONED, SUCCEEDED, FAILED)

# StageExecutionStatus [API].  Skipped: an entry condition with a Skip result failed, and the
# execution went on without running the stage's actions.  Cancelled: a pipeline update ended it.
SKIPPED = "Skipped"
STAGE_STATUSES = (IN_PROGRESS, STOPPING, STOPPED, SUCCEEDED, FAILED, SKIPPED, CANCELLED)

# ConditionType [API]: the stage conditions an execution can be at in a stage.
BEFORE_ENTRY = "BEFORE_ENTRY"
ON_SUCCESS = "ON_SUCCESS"
CONDITION_TYPES = (BEFORE_ENTRY, ON_SUCCESS)

# How an execution was asked to stop: StopPipelineExecution's `abandon` flag, or an
# UpdatePipeline that cancels it once its in-progress actions complete.
WAIT = "wait"
ABANDON = "abandon"
UPDATE = "update"

# ExecutionType [API], and the TriggerType of a rollback execution.
STANDARD = "STANDARD"
ROLLBACK = "ROLLBACK"
MANUAL_ROLLBACK = "ManualRollback"
AUTOMATED_ROLLBACK = "AutomatedRollback"

_KEEP: Any = object()
_new: Any = tuple.__new__

ACTIVE = frozenset({IN_PROGRESS, STOPPING})
"""An execution in one of these statuses is still running; every other status is an end."""


class Execution(NamedTuple):
    """One pipeline execution.

    `stage` is the index of the stage it is in, or waits in front of when `waiting` is true (an
    inbound execution); it is the number of stages once the execution has left the last one.
    `stop` is None, WAIT or ABANDON: the kind of StopPipelineExecution it received (kept after it
    stopped, cleared by a retry).  `actions` holds the status of each action of the pipeline,
    indexed as `Model.actions`.  `retried` records that RetryStageExecution resumed it
    (`retryStageMetadata.manualStageRetryAttempt` > 0 in the API).  `auto_retries` counts the
    automatic retries made of its run of the stage it is in (`retryStageMetadata.
    autoStageRetryAttempt`): 0, or 1 once the stage, declared to retry on failure, was retried
    automatically; it starts again at 0 in each stage the execution enters.  `expired` lists,
    in order, the approval actions whose Failed status is a timeout rather than a rejection
    (answering one is refused with InvalidApprovalTokenException, not
    ApprovalAlreadyCompletedException); every view shows them Failed, and a retry that runs one
    again clears it.  `condition` is the stage condition (BEFORE_ENTRY, ON_SUCCESS) the execution
    is at in the stage it is in: its rules being run (InProgress), stopped while they ran
    (Stopped), or failed with result FAIL (Failed); None once the condition passed or was
    overridden, and in a stage without conditions.  `version` is the pipeline structure version
    it started under, counted from 0 (`pipelineVersion` - 1 in the API); a stop of kind UPDATE
    marks an execution that an UpdatePipeline cancels once its in-progress actions complete.
    `mode` is the execution mode it started under (`PipelineExecution.executionMode` in the
    API), None for the mode the model was built for: an update that changes the pipeline's mode
    leaves the executions already started in theirs (`spec.rules.update`).  `rollback_of` is,
    for an execution of type ROLLBACK, the execution it rolls back to
    (`rollbackMetadata.rollbackTargetPipelineExecutionId`), whose source revision it carries;
    -1 for a STANDARD execution.  `trigger` is a rollback's TriggerType (MANUAL_ROLLBACK,
    AUTOMATED_ROLLBACK), None for a started one.  A rollback runs one stage, `stage`, and stays
    there once it ended (`spec.rules.rollback`).  `revision` is the STANDARD execution whose
    source revision it carries when that is not its own (-1: its own, the newest when it
    started): a start that pins an earlier revision with sourceRevisions, or a rollback, which
    carries its target's (`revision_of`).  `structure` is the pipeline structure it runs, as
    the model numbers its structures (`spec.rules.Model.of`): 0, the declaration's own, unless
    an update installed another before it started.
    """

    status: str
    stage: int
    waiting: bool
    stop: str | None
    actions: tuple[str | None, ...]
    retried: bool
    auto_retries: int = 0
    expired: tuple[int, ...] = ()
    condition: str | None = None
    version: int = 0
    mode: str | None = None
    rollback_of: int = -1
    trigger: str | None = None
    revision: int = -1
    structure: int = 0

    @property
    def is_rollback(self) -> bool:
        """Whether it is of type ROLLBACK (`PipelineExecution.executionType`)."""
        return self.rollback_of >= 0

    def but(self, status: Any = _KEEP, stage: Any = _KEEP, waiting: Any = _KEEP,
            stop: Any = _KEEP, actions: Any = _KEEP, retried: Any = _KEEP,
            auto_retries: Any = _KEEP, expired: Any = _KEEP,
            condition: Any = _KEEP, version: Any = _KEEP) -> Execution:
        """A copy with the given fields changed (a faster `_replace`, used on the hot path)."""
        return _new(Execution, (
            self.status if status is _KEEP else status,
            self.stage if stage is _KEEP else stage,
            self.waiting if waiting is _KEEP else waiting,
            self.stop if stop is _KEEP else stop,
            self.actions if actions is _KEEP else actions,
            self.retried if retried is _KEEP else retried,
            self.auto_retries if auto_retries is _KEEP else auto_retries,
            self.expired if expired is _KEEP else expired,
            self.condition if condition is _KEEP else condition,
            self.version if version is _KEEP else version,
            self.mode,
            self.rollback_of,
            self.trigger,
            self.revision,
            self.structure,
        ))


class State(NamedTuple):
    """The pipeline: its executions, and per stage what `GetPipelineState` shows of it.

    `latest[s]` is the execution that entered stage s last (-1: none yet); it is the stage's
    `latestExecution`.  `inbound[s]` are the executions waiting in front of stage s, in the order
    they arrived (`inboundExecutions`).  `disabled[s]` is true when the inbound transition of
    stage s is disabled (`inboundTransitionState.enabled` false).
    """

    executions: tuple[Execution, ...]
    latest: tuple[int, ...]
    inbound: tuple[tuple[int, ...], ...]
    disabled: tuple[bool, ...]
    revisions: tuple[int, ...] = ()
    """Per deploy target of the model's world, the revision it holds, named by the STANDARD
    execution that brought it (`revision_of`; -1: none yet); empty when the model has no world
    (`spec.world`)."""
    in_flight: tuple[tuple[int, int], ...] = ()
    """(action, execution) of each abandoned deployment whose provider is still working, in
    order; its revision lands on the action's target when it finishes."""
    version: int = 0
    """The pipeline structure version, counted from 0: how many times UpdatePipeline was made
    (`pipelineVersion` - 1 in the API)."""
    mode: str | None = None
    """The pipeline's execution mode, None while it is the mode the model was built for: an
    UpdatePipeline may change it (`spec.rules.update`), and the executions that start after
    that run in the new mode."""
    structure: int = 0
    """The pipeline's structure (its stages and actions), as the model numbers its structures:
    0, the declaration's own, until an UpdatePipeline installs another (`spec.rules.update`)."""

    def but(self, executions: Any = _KEEP, latest: Any = _KEEP, inbound: Any = _KEEP,
            disabled: Any = _KEEP, revisions: Any = _KEEP, in_flight: Any = _KEEP,
            version: Any = _KEEP, mode: Any = _KEEP, structure: Any = _KEEP) -> State:
        """A copy with the given fields changed (a faster `_replace`)."""
        return _new(State, (
            self.executions if executions is _KEEP else executions,
            self.latest if latest is _KEEP else latest,
            self.inbound if inbound is _KEEP else inbound,
            self.disabled if disabled is _KEEP else disabled,
            self.revisions if revisions is _KEEP else revisions,
            self.in_flight if in_flight is _KEEP else in_flight,
            self.version if version is _KEEP else version,
            self.mode if mode is _KEEP else mode,
            self.structure if structure is _KEEP else structure,
        ))


def revision_of(e: int, ex: Execution) -> int:
    """The source revision execution `e` carries, named by the STANDARD execution that brought
    it first: its own, the earlier one its start pinned (sourceRevisions), or for a rollback the
    one of the execution it rolls back to."""
    return ex.revision if ex.revision >= 0 else e


def initial_state(stage_count: int, targets: int = 0) -> State:
    """A pipeline that has never run: no executions, every transition enabled, no target
    deployed to yet."""
    return State(
        executions=(),
        latest=(-1,) * stage_count,
        inbound=((),) * stage_count,
        disabled=(False,) * stage_count,
        revisions=(-1,) * targets,
        in_flight=(),
        version=0,
    )
