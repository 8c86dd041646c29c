"""Named rule variants: the other choice of a documented decision, or a rule broken on purpose.

A variant replaces some named rules of the documented rule set (`spec.rules.RULES`) by functions
of the same signature; a replacement may call the documented rule for the cases it leaves alone.
Users write their own the same way, in a Python file (see README, "Writing a rule variant").

The deliberately broken variants exist to show that each property can fail: the checker must
refute the documented rules on none of them, and each broken variant on the property it names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from spec import rules as documented
from spec.rules import DOCUMENTED, RULES, Model, _in_progress, _is_in_stage, _put, _set
from spec.ruleset import RuleSet
from spec.state import (
    ABANDONED,
    ACTIVE,
    BEFORE_ENTRY,
    CANCELLED,
    FAILED,
    IN_PROGRESS,
    STOPPED,
    SUCCEEDED,
    SUPERSEDED,
    UPDATE,
    Execution,
    State,
)


@dataclass(frozen=True)
class Variant:
    name: str
    summary: str
    broken: bool
    """True: a deliberately wrong rule; False: the other reading of a silent spot of the docs."""
    refuted_by: tuple[str, ...] = ()
    """For a broken variant, the properties that must catch it (the first one at least)."""
    modes: tuple[str, ...] = ("SUPERSEDED", "QUEUED", "PARALLEL")
    """The modes in which the variant changes anything."""
    overrides: Mapping[str, Callable[..., Any]] = field(default_factory=dict)
    """Rule name -> the function that replaces it."""
    source: str = ""
    """Where a user's variant was read from (its file); empty for the built-in ones."""
    example: str = "reference"
    """The built-in pipeline whose runs show the variant (`checker.check.EXAMPLE_PIPELINES`):
    "gated" for rules of stage conditions, which the reference pipeline does not use."""
    updates: int = 0
    """The pipeline updates a search needs to show the variant (`Bounds.updates`): 1 for rules
    of pipeline updates, which change nothing in a pipeline that is never updated."""
    update_modes: tuple[str, ...] = ()
    """The modes those updates must be able to change the pipeline to (`Bounds.update_modes`),
    for rules of a change of execution mode."""
    rollbacks: int = 0
    """The RollbackStage calls a search needs to show the variant (`Bounds.rollbacks`): 1 for
    rules of stage rollback."""

    def bounds_for(self, bounds: Any) -> Any:
        """`bounds` (a `checker.engine.Bounds`) with what a search needs to show the variant:
        its updates, update modes and rollbacks."""
        return replace(bounds, updates=self.updates, update_modes=self.update_modes,
                       rollbacks=self.rollbacks)


# --------------------------------------------------------------------------------------------
# The replacement rules


def _rollback_always_available(m: Model, state: State) -> bool:
    """rollback_available: stage rollback is available in every mode, PARALLEL too."""
    return True


def _retry_refusal_accepts_cancelled(m: Model, state: State, op: Any) -> str | None:
    """retry_refusal: an execution that a pipeline update cancelled may be retried in the stage
    where it was cancelled, as a stopped one may."""
    ex = state.executions[op.execution]
    if ex.status == CANCELLED and _is_in_stage(ex, op.stage):
        return None
    return documented.retry_refusal(m, state, op)


def _retry_refusal_ignores_version(m: Model, state: State, op: Any) -> str | None:
    """retry_refusal: a stage may be retried whatever structure version its execution started
    under."""
    ex = state.executions[op.execution]
    return documented.retry_refusal(m, state.but(version=ex.version), op)


def _update_does_not_cancel(m: Model, ex: Execution) -> str:
    """stage_outcome: an update's mark is ignored, so the execution goes on as before it."""
    return documented.stage_outcome(m, ex.but(stop=None) if ex.stop == UPDATE else ex)


def _parallel_locks_after_mode_change(m: Model, state: State, ex: Execution) -> bool:
    """takes_locks: an execution started in PARALLEL mode takes and waits for stage locks once
    the pipeline is in a mode with them."""
    return (documented.execution_policy(m, ex).stage_lock
            or documented.pipeline_policy(m, state).stage_lock)


def _update_releases_lock(m: Model, ex: Execution) -> bool:
    """holds_stage: an execution that a pipeline update is cancelling no longer holds its
    stage, though its in-progress actions still run."""
    return documented.holds_stage(m, ex) and ex.stop != UPDATE


def _update_cancels_inbound(m: Model, state: State, op: Any) -> State:
    """update: an execution waiting in front of a stage is Cancelled, not Failed."""
    after = documented.update(m, state, op)
    executions = tuple(
        new.but(status=CANCELLED) if new.waiting and new.status == FAILED
        and state.executions[e].status == IN_PROGRESS else new
        for e, new in enumerate(after.executions))
    return after.but(executions=executions)


def _supersede_inside_stage(m: Model, state: State, e: int, s: int) -> State:
    """arrive: a newer arrival supersedes the execution holding the stage and enters."""
    if not state.disabled[s] and m.rules.supersedes_waiting(m, state.executions[e]):
        for h, other in enumerate(state.executions):
            if h < e and other.stage == s and m.rules.holds_stage(m, other):
                actions = other.actions
                for a in _in_progress(m, other, s):
                    actions = _set(actions, a, ABANDONED)
                state = _put(state, h, other.but(status=SUPERSEDED, actions=actions))
                return m.rules.enter_stage(m, state, e, s)
    return documented.arrive(m, state, e, s)


def _retry_refusal_accepts_superseded(m: Model, state: State, op: Any) -> str | None:
    """retry_refusal: a superseded execution may be retried."""
    if state.executions[op.execution].status == SUPERSEDED:
        return None
    return documented.retry_refusal(m, state, op)


def _retry_superseded(m: Model, state: State, op: Any) -> State:
    """retry: a superseded execution comes back in front of the stage where it was superseded."""
    e = op.execution
    ex = state.executions[e]
    if ex.status != SUPERSEDED:
        return documented.retry(m, state, op)
    state = _put(state, e, ex.but(status=IN_PROGRESS, stop=None, retried=True))
    return m.rules.arrive(m, state, e, ex.stage)


def _stop_keeps_inbound_queued(m: Model, state: State, op: Any) -> State:
    """stop: a stopped inbound execution stays in the queue."""
    ex = state.executions[op.execution]
    if ex.waiting:
        kind = "abandon" if op.abandon else "wait"
        return _put(state, op.execution, ex.but(status=STOPPED, stop=kind))
    return documented.stop(m, state, op)


def _newest_enters_first(m: Model, queue: tuple[int, ...]) -> int:
    """next_to_enter: the newest waiting execution enters first."""
    return queue[-1]


def _stopping_releases_lock(m: Model, ex: Execution) -> bool:
    """holds_stage: only an InProgress execution holds its stage."""
    return not ex.waiting and ex.status == IN_PROGRESS


def _approval_does_not_lock(m: Model, ex: Execution) -> bool:
    """holds_stage: an execution whose only in-progress actions are approvals holds nothing."""
    if ex.waiting or ex.status not in ACTIVE:
        return False
    running = [a for a in m.of(ex).stage_actions[ex.stage] if ex.actions[a] == IN_PROGRESS]
    return not running or not all(m.approval[a] for a in running)


def _failure_keeps_lock(m: Model, ex: Execution) -> bool:
    """holds_stage: a failed execution keeps holding its stage."""
    return not ex.waiting and (ex.status in ACTIVE or ex.status == FAILED)


def _never_supersede(m: Model, ex: Execution) -> bool:
    """supersedes_waiting: newer arrivals queue behind the waiting one."""
    return False


def _locking_modes_supersede(m: Model, ex: Execution) -> bool:
    """supersedes_waiting: every mode with stage locks supersedes."""
    return documented.execution_policy(m, ex).stage_lock


def _abandon_leaves_actions_running(m: Model, state: State, op: Any) -> State:
    """abandoned: the execution is Stopped but its actions stay InProgress."""
    ex = state.executions[op.execution]
    return _put(state, op.execution, ex.but(status=STOPPED))


def _stop_wait_goes_on(m: Model, ex: Execution) -> str:
    """stage_outcome: a stop and wait does not end the stage; the execution carries on."""
    outcome = documented.stage_outcome(m, ex)
    if outcome == documented.END_STOPPED:
        failed = any(ex.actions[a] == FAILED for a in m.of(ex).stage_actions[ex.stage])
        return documented.END_FAILED if failed else documented.CONTINUE
    return outcome


def _failure_does_not_end_stage(m: Model, ex: Execution) -> str:
    """stage_outcome: a failed action does not fail the stage."""
    outcome = documented.stage_outcome(m, ex)
    return documented.CONTINUE if outcome == documented.END_FAILED else outcome


def _failed_group_is_done(m: Model, ex: Execution, group: tuple[int, ...]) -> bool:
    """group_done: a group whose actions all finished, failed or not, is done."""
    return all(ex.actions[a] in (SUCCEEDED, FAILED) for a in group)


def _retry_only_failed_stage(m: Model, state: State, op: Any) -> str | None:
    """retry_refusal: no retry while the stage's other actions still run."""
    ex = state.executions[op.execution]
    if ex.status == IN_PROGRESS:
        return "StageNotRetryableException"
    return documented.retry_refusal(m, state, op)


def _parallel_ignores_disabled(m: Model, state: State, s: int) -> bool:
    """transition_holds: in PARALLEL mode a disabled transition holds no execution."""
    return state.disabled[s] and m.policy.stage_lock


def _waiting_enters_first(m: Model, state: State, e: int) -> bool:
    """retries_automatically: not when an execution waits in front of the failed stage and may
    enter it: the failure releases the stage, that execution enters, and the failed one is no
    longer the stage's latest execution."""
    s = state.executions[e].stage
    if m.policy.stage_lock and state.inbound[s] and not m.rules.transition_holds(m, state, s):
        return False
    return documented.retries_automatically(m, state, e)


def _manual_retry_rearms(m: Model, state: State, op: Any) -> State:
    """retry: a manual retry makes the automatic attempt possible again."""
    ex = state.executions[op.execution]
    state = _put(state, op.execution, ex.but(auto_retries=0))
    return documented.retry(m, state, op)


def _retries_twice(m: Model, state: State, e: int) -> bool:
    """retries_automatically: a second automatic attempt after the first one failed."""
    ex = state.executions[e]
    return ex.status == IN_PROGRESS and ex.auto_retries < 2


def _entry_condition_does_not_lock(m: Model, ex: Execution) -> bool:
    """holds_stage: an execution whose entry condition's rules run does not hold the stage."""
    if ex.condition == BEFORE_ENTRY and ex.status == IN_PROGRESS:
        return False
    return documented.holds_stage(m, ex)


def _skip_runs_stage(m: Model, state: State, e: int) -> State:
    """skip_stage: a Skip result skips the check, not the stage: the actions start."""
    ex = state.executions[e]
    actions = ex.actions
    for a in m.of(ex).groups[ex.stage][0]:
        actions = _set(actions, a, IN_PROGRESS)
    return _put(state, e, ex.but(condition=None, actions=actions))


VARIANTS: dict[str, Variant] = {
    v.name: v
    for v in (
        Variant(
            "supersede-inside-stage",
            "a newer arrival supersedes the execution that holds the stage (its in-progress "
            "actions are abandoned), not only one waiting",
            broken=True,
            refuted_by=("supersede-only-between-stages",),
            modes=("SUPERSEDED",),
            overrides={"arrive": _supersede_inside_stage},
        ),
        Variant(
            "retry-after-supersession",
            "RetryStageExecution accepts a superseded execution and puts it back in front of "
            "the stage",
            broken=True,
            refuted_by=("no-retry-after-supersession",),
            modes=("SUPERSEDED",),
            overrides={"retry_refusal": _retry_refusal_accepts_superseded,
                       "retry": _retry_superseded},
        ),
        Variant(
            "stopped-inbound-enters",
            "a stopped inbound execution stays in the queue and enters the stage when it frees",
            broken=True,
            refuted_by=("finished-executions-never-change",),
            overrides={"stop": _stop_keeps_inbound_queued},
        ),
        Variant(
            "queued-overtakes",
            "the newest execution waiting in front of a stage enters first",
            broken=True,
            refuted_by=("queued-never-overtakes", "enters-in-start-order"),
            modes=("QUEUED",),
            overrides={"next_to_enter": _newest_enters_first},
        ),
        Variant(
            "stop-releases-lock-early",
            "a stopping execution releases its stage before its in-progress actions finish",
            broken=True,
            refuted_by=("one-execution-per-stage-lock",),
            modes=("SUPERSEDED", "QUEUED"),
            overrides={"holds_stage": _stopping_releases_lock},
        ),
        Variant(
            "approval-does-not-lock",
            "a stage whose only in-progress action is an approval admits the next execution",
            broken=True,
            refuted_by=("approval-holds-stage",),
            modes=("SUPERSEDED", "QUEUED"),
            overrides={"holds_stage": _approval_does_not_lock},
        ),
        Variant(
            "failure-keeps-lock",
            "a failed execution keeps its stage locked",
            broken=True,
            refuted_by=("inbound-enters-when-available", "can-always-finish", "no-deadlock"),
            modes=("SUPERSEDED", "QUEUED"),
            overrides={"holds_stage": _failure_keeps_lock},
        ),
        Variant(
            "superseded-mode-queues",
            "in SUPERSEDED mode a newer arrival queues behind the waiting execution",
            broken=True,
            refuted_by=("one-waiting-per-stage", "supersession-happens"),
            modes=("SUPERSEDED",),
            overrides={"supersedes_waiting": _never_supersede},
        ),
        Variant(
            "queued-supersedes",
            "in QUEUED mode a newer arrival supersedes the waiting execution",
            broken=True,
            refuted_by=("queued-never-supersedes",),
            modes=("QUEUED",),
            overrides={"supersedes_waiting": _locking_modes_supersede},
        ),
        Variant(
            "abandon-leaves-actions-running",
            "after stop and abandon the execution is Stopped but its actions stay InProgress",
            broken=True,
            refuted_by=("nothing-in-progress-after-stop",),
            overrides={"abandoned": _abandon_leaves_actions_running},
        ),
        Variant(
            "stop-wait-starts-next-group",
            "under stop and wait the execution goes on: the next runOrder group starts, or the "
            "execution moves on to the next stage",
            broken=True,
            refuted_by=("stop-and-wait-starts-nothing",),
            overrides={"stage_outcome": _stop_wait_goes_on},
        ),
        Variant(
            "failed-stage-moves-on",
            "a stage moves on once nothing is in progress, even with a failed action",
            broken=True,
            refuted_by=("leaves-stage-only-when-all-succeeded",),
            overrides={"stage_outcome": _failure_does_not_end_stage,
                       "group_done": _failed_group_is_done},
        ),
        Variant(
            "retry-after-stage-fails",
            "RetryStageExecution waits until the stage has failed: no retry of failed actions "
            "while their siblings still run",
            broken=False,
            overrides={"retry_refusal": _retry_only_failed_stage},
        ),
        Variant(
            "parallel-ignores-disabled-transition",
            "in PARALLEL mode a disabled inbound transition holds no execution",
            broken=False,
            modes=("PARALLEL",),
            overrides={"transition_holds": _parallel_ignores_disabled},
        ),
        Variant(
            "waiting-enters-before-automatic-retry",
            "a stage that fails releases its lock before it retries automatically: an execution "
            "waiting in front of it enters, and the failed execution is not retried",
            broken=False,
            modes=("SUPERSEDED", "QUEUED"),
            overrides={"retries_automatically": _waiting_enters_first},
        ),
        Variant(
            "manual-retry-rearms-automatic-retry",
            "after RetryStageExecution the stage may retry automatically once more",
            broken=False,
            overrides={"retry": _manual_retry_rearms},
        ),
        Variant(
            "automatic-retry-twice",
            "a stage that retries on failure makes a second automatic attempt when the first "
            "one fails",
            broken=True,
            refuted_by=("automatic-retry-at-most-once",),
            overrides={"retries_automatically": _retries_twice},
        ),
        Variant(
            "entry-condition-does-not-lock",
            "an execution whose entry condition's rules run does not hold the stage yet: the "
            "next execution enters beside it",
            broken=True,
            refuted_by=("one-execution-per-stage-lock",),
            modes=("SUPERSEDED", "QUEUED"),
            overrides={"holds_stage": _entry_condition_does_not_lock},
            example="gated",
        ),
        Variant(
            "skip-runs-stage",
            "an entry condition with result SKIP that is not met skips the check, not the "
            "stage: the stage's actions start",
            broken=True,
            refuted_by=("skipped-stage-runs-nothing",),
            overrides={"skip_stage": _skip_runs_stage},
            example="gated",
        ),
        Variant(
            "cancelled-can-retry",
            "an execution that a pipeline update cancelled can be retried in the stage where it "
            "was cancelled, as a stopped one can",
            broken=True,
            refuted_by=("finished-executions-never-change",),
            modes=("SUPERSEDED", "QUEUED"),
            overrides={"retry_refusal": _retry_refusal_accepts_cancelled},
            updates=1,
        ),
        Variant(
            "retry-after-update",
            "a stage that failed before a pipeline update can still be retried after it",
            broken=True,
            refuted_by=("no-retry-across-update",),
            overrides={"retry_refusal": _retry_refusal_ignores_version},
            updates=1,
        ),
        Variant(
            "update-does-not-cancel",
            "a pipeline update does not cancel an execution whose actions run: once they "
            "complete it goes on, to the next runOrder group or stage",
            broken=True,
            refuted_by=("cancelling-execution-starts-nothing",),
            modes=("SUPERSEDED", "QUEUED"),
            overrides={"stage_outcome": _update_does_not_cancel},
            updates=1,
        ),
        Variant(
            "update-cancels-inbound",
            "a pipeline update cancels an execution waiting in front of a stage (Cancelled, "
            "as \"Pending executions are cancelled\" reads) instead of failing it (Failed, as "
            "\"An inbound execution status changes to Failed if the pipeline is edited\" reads)",
            broken=False,
            modes=("SUPERSEDED", "QUEUED"),
            overrides={"update": _update_cancels_inbound},
            updates=1,
        ),
        Variant(
            "update-releases-lock",
            "a pipeline update unlocks the stage of an execution it cancels at once, though the "
            "execution's in-progress actions still run there",
            broken=True,
            refuted_by=("one-execution-per-stage-lock",),
            modes=("SUPERSEDED", "QUEUED"),
            overrides={"holds_stage": _update_releases_lock},
            updates=1,
        ),
        Variant(
            "parallel-executions-lock-after-mode-change",
            "after an update changes the mode from PARALLEL to QUEUED or SUPERSEDED, the "
            "executions started in PARALLEL mode take and wait for stage locks too, instead of "
            "running on without them",
            broken=False,
            modes=("PARALLEL",),
            overrides={"takes_locks": _parallel_locks_after_mode_change},
            updates=1,
            update_modes=("QUEUED",),
        ),
        Variant(
            "rollback-in-parallel-mode",
            "RollbackStage is accepted in PARALLEL mode too",
            broken=True,
            refuted_by=("rollback-not-in-parallel",),
            modes=("PARALLEL",),
            overrides={"rollback_available": _rollback_always_available},
            rollbacks=1,
        ),
    )
}


def rule_set(variants: list[str] | tuple[str, ...] = (),
             extra: list[Variant] | tuple[Variant, ...] = ()) -> RuleSet:
    """The documented rules with the named built-in variants, then `extra` ones, applied in
    order.  Raises KeyError for an unknown name, ValueError for variants that clash."""
    result = DOCUMENTED
    for name in variants:
        v = VARIANTS[name]
        result = result.replace(v.name, v.overrides)
    for v in extra:
        result = result.replace(v.name, v.overrides)
    return result


__all__ = ["RULES", "VARIANTS", "Variant", "rule_set"]
