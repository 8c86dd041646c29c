"""The operations: CodePipeline API calls a user makes, and what the world does on its own.

API calls are named after the CodePipeline API operation they stand for.  The environment's moves
(an action's provider reports a result, an approval times out, CodePipeline finishes abandoning)
are named after what happens.  A refused operation raises `Refused` with the exception name the
real service returns.
"""

from __future__ import annotations

from dataclasses import dataclass

FAILED_ACTIONS = "FAILED_ACTIONS"
ALL_ACTIONS = "ALL_ACTIONS"
RETRY_MODES = (FAILED_ACTIONS, ALL_ACTIONS)
"""`StageRetryMode` values."""

APPROVED = "Approved"
REJECTED = "Rejected"


@dataclass(frozen=True, slots=True)
class StartPipelineExecution:
    """StartPipelineExecution: a new execution starts (a source change, or a manual start).

    `source_revision` is the earlier execution whose source revision the start pins with
    `sourceRevisions` (-1: none, the execution takes the newest revision).  The model names
    revisions by the execution that ran them first, so a pinned start carries an older revision
    than the executions that started before it."""

    source_revision: int = -1


@dataclass(frozen=True, slots=True)
class StopPipelineExecution:
    """StopPipelineExecution: stop and wait, or stop and abandon when `abandon` is true."""

    execution: int
    abandon: bool


@dataclass(frozen=True, slots=True)
class RetryStageExecution:
    """RetryStageExecution with `retryMode` FAILED_ACTIONS or ALL_ACTIONS."""

    execution: int
    stage: int
    retry_mode: str


@dataclass(frozen=True, slots=True)
class DisableStageTransition:
    """DisableStageTransition with transitionType Inbound."""

    stage: int


@dataclass(frozen=True, slots=True)
class EnableStageTransition:
    """EnableStageTransition with transitionType Inbound."""

    stage: int


@dataclass(frozen=True, slots=True)
class PutApprovalResult:
    """PutApprovalResult: a reviewer answers a manual approval, Approved or Rejected."""

    execution: int
    action: int
    status: str


@dataclass(frozen=True, slots=True)
class ActionSucceeded:
    """The action's provider reports success (PutJobSuccessResult, or the service's own)."""

    execution: int
    action: int


@dataclass(frozen=True, slots=True)
class ActionFailed:
    """The action's provider reports failure."""

    execution: int
    action: int


@dataclass(frozen=True, slots=True)
class ApprovalTimedOut:
    """Nobody answered a manual approval in time (7 days by default)."""

    execution: int
    action: int


@dataclass(frozen=True, slots=True)
class ActionsAbandoned:
    """CodePipeline finishes a stop and abandon: in-progress actions become Abandoned."""

    execution: int


@dataclass(frozen=True, slots=True)
class AbandonedWorkFinishes:
    """The provider of an abandoned deploy action finishes its work anyway and writes the
    execution's revision to the action's target (only with a world: `spec.world`)."""

    execution: int
    action: int


@dataclass(frozen=True, slots=True)
class ConditionSucceeded:
    """The rules of the stage condition the execution is at all succeed: the condition is met."""

    execution: int


@dataclass(frozen=True, slots=True)
class ConditionFailed:
    """A rule of the stage condition the execution is at fails (or errs): the condition is not
    met, and its result (FAIL, SKIP) engages."""

    execution: int


@dataclass(frozen=True, slots=True)
class OverrideStageCondition:
    """OverrideStageCondition with `conditionType` BEFORE_ENTRY or ON_SUCCESS."""

    execution: int
    stage: int
    condition_type: str


@dataclass(frozen=True, slots=True)
class UpdatePipeline:
    """UpdatePipeline: the pipeline's version goes up by one, and the executions in flight are
    cancelled as an update cancels them (`spec.rules.update`).  `execution_mode` is the
    declaration's new executionMode; None keeps the pipeline's mode.  `structure` is the
    structure (stages and actions) the declaration gives, numbered as the model numbers the
    structures it knows (`spec.rules.Model.structures`); None keeps the pipeline's."""

    execution_mode: str | None = None
    structure: int | None = None


@dataclass(frozen=True, slots=True)
class RollbackStage:
    """RollbackStage: a new execution, of type ROLLBACK, runs `stage` again with the source
    revisions of `target`, an earlier execution that succeeded in that stage
    (`targetPipelineExecutionId`)."""

    stage: int
    target: int


Operation = (
    StartPipelineExecution
    | UpdatePipeline
    | RollbackStage
    | StopPipelineExecution
    | RetryStageExecution
    | DisableStageTransition
    | EnableStageTransition
    | PutApprovalResult
    | ActionSucceeded
    | ActionFailed
    | ApprovalTimedOut
    | ActionsAbandoned
    | AbandonedWorkFinishes
    | ConditionSucceeded
    | ConditionFailed
    | OverrideStageCondition
)

SOURCE_REVISION_TYPES = ("COMMIT_ID", "IMAGE_DIGEST", "S3_OBJECT_VERSION_ID", "S3_OBJECT_KEY")
"""[API] SourceRevisionType: the kinds of revision a start's sourceRevisions name."""

API_ERRORS = {
    "ValidationException": "The validation was specified in an invalid format.",
    "PipelineExecutionNotStoppableException": (
        "Unable to stop the pipeline execution. The execution might already be in a Stopped "
        "state, or it might no longer be in progress."
    ),
    "DuplicatedStopRequestException": (
        "The pipeline execution is already in a Stopping state. If you already chose to stop and "
        "wait, you cannot make that request again. You can choose to stop and abandon now, but be "
        "aware that this option can lead to failed tasks or out of sequence tasks. If you already "
        "chose to stop and abandon, you cannot make that request again."
    ),
    "StageNotRetryableException": (
        "Unable to retry. The pipeline structure or stage state might have changed while actions "
        "awaited retry, or the stage contains no failed actions."
    ),
    "NotLatestPipelineExecutionException": (
        "The stage has failed in a later run of the pipeline and the pipelineExecutionId "
        "associated with the request is out of date."
    ),
    "ConcurrentPipelineExecutionsLimitExceededException": (
        "The pipeline has reached the limit for concurrent pipeline executions."
    ),
    "ApprovalAlreadyCompletedException": (
        "The approval action has already been approved or rejected."
    ),
    "InvalidApprovalTokenException": (
        "The approval request already received a response or has expired."
    ),
    "ConditionNotOverridableException": (
        "Unable to override because the condition does not allow overrides."
    ),
    "UnableToRollbackStageException": (
        "Unable to roll back the stage. The cause might be if the pipeline version has changed "
        "since the target pipeline execution was deployed, the stage is currently running, or "
        "an incorrect target pipeline execution ID was provided."
    ),
    "PipelineExecutionOutdatedException": (
        "The specified pipeline execution is outdated and cannot be used as a target pipeline "
        "execution for rollback."
    ),
    "ConditionNotInProgress": (
        "Not an API exception: the event cannot happen, because no stage condition of the "
        "execution is being evaluated."
    ),
    "ActionNotInProgress": (
        "Not an API exception: the event cannot happen, because the action is not in progress "
        "(or its execution is being abandoned)."
    ),
}
"""The refusals the model produces, with the API's own text (botocore CodePipeline model)."""


class Refused(Exception):
    """The service refuses the operation with the API exception `name`."""

    def __init__(self, name: str, detail: str = "") -> None:
        assert name in API_ERRORS, name
        self.name = name
        self.detail = detail
        super().__init__(f"{name}: {detail}" if detail else name)
