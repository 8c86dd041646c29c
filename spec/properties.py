"""The named properties the checker proves or refutes.

Four kinds, after the way model checkers name them:

- `invariant`: holds in every reachable state;
- `step`: holds for every step (state, operation, next state);
- `witness`: a *sometimes* property: some reachable state or step shows it, so the other
  properties are not true merely because nothing interesting ever happens;
- `progress`: about the whole reachable graph (no deadlock; every execution can still finish),
  decided by the checker once the search is done.

Each property carries its one-line meaning and the documentation sentence behind it.  A check
function returns None when the property holds there, else a short description of the violation.
Properties are written against what a user can observe (statuses, positions, queues), never
against the rules' own helpers, so a wrong rule cannot hide behind its own definition.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from spec.modes import ModePolicy, policy_of
from spec.operations import (
    REJECTED,
    ActionFailed,
    ApprovalTimedOut,
    ConditionFailed,
    Operation,
    PutApprovalResult,
    RetryStageExecution,
)
from spec.rules import Model
from spec.state import (
    ABANDON,
    ACTIVE,
    BEFORE_ENTRY,
    CANCELLED,
    FAILED,
    IN_PROGRESS,
    STOPPED,
    STOPPING,
    SUCCEEDED,
    SUPERSEDED,
    UPDATE,
    WAIT,
    Execution,
    State,
    revision_of,
)

ALL_MODES = ("SUPERSEDED", "QUEUED", "PARALLEL")
LOCKING = ("SUPERSEDED", "QUEUED")

StateCheck = Callable[[Model, State], "str | None"]
StepCheck = Callable[[Model, State, Operation, State], "str | None"]


@dataclass(frozen=True)
class Property:
    name: str
    kind: str
    meaning: str
    source: str
    modes: tuple[str, ...]
    state_check: StateCheck | None = None
    step_check: StepCheck | None = None
    instance: tuple[object, ...] = ()
    """For a property made once per place of a pipeline (a hazard at a target, an action, a
    stage): the name of what it checks and its parameters, e.g. ("backwards", 0, True), so that
    an engine can evaluate the same check in its own form.  Empty for the catalogue's own."""
    goal: Callable[[State], bool] | None = None
    """For a progress property other than the catalogue's own (`spec.patterns`' eventually):
    the states that must stay reachable from every reachable state, and how to say so."""
    goal_text: str = ""
    group: str = "CodePipeline's guarantees"
    """Which question it answers: "CodePipeline's guarantees" (the catalogue: what the service
    promises every pipeline) or "this pipeline" (its hazards and its owner's own properties)."""
    needs_modes: tuple[str, ...] = ()
    """Modes that must all be among those a search passes through, besides one of `modes`
    (a property of what a change of execution mode allows)."""

    def applies_to(self, mode: str, update_modes: tuple[str, ...] = ()) -> bool:
        """Whether it applies to a search of `mode` whose updates may change the mode to
        `update_modes`: some mode the pipeline can be in is one of its modes.  Its check then
        looks only at the executions of those modes."""
        run = (mode, *update_modes)
        return (any(md in self.modes for md in run)
                and all(md in run for md in self.needs_modes))

    def applicability(self) -> str:
        """The modes it applies to, as a listing says them."""
        modes = "all modes" if len(self.modes) == 3 else ", ".join(self.modes)
        if not self.needs_modes:
            return modes
        return (f"{' or '.join(self.modes)} together with {' and '.join(self.needs_modes)}, "
                f"through a change of execution mode (--updates 1 --update-modes)")


def _name(e: int) -> str:
    return f"e{e + 1}"


def _policy(m: Model, ex: Execution) -> ModePolicy:
    """The policy of the mode an execution started under (GetPipelineExecution's
    executionMode)."""
    return policy_of(ex.mode, m.policy)


def _locking(m: Model, ex: Execution) -> bool:
    """The execution started in a mode with stage locks (SUPERSEDED, QUEUED)."""
    return policy_of(ex.mode, m.policy).stage_lock


def _in_mode(m: Model, ex: Execution, mode: str) -> bool:
    return (ex.mode or m.policy.name) == mode


# --------------------------------------------------------------------------------------------
# Invariants


def _one_per_lock(m: Model, st: State) -> str | None:
    for s in range(m.stage_count):
        inside = [e for e, ex in enumerate(st.executions)
                  if ex.stage == s and not ex.waiting and ex.status in ACTIVE
                  and _locking(m, ex)]
        if len(inside) > 1:
            who = ", ".join(_name(e) for e in inside)
            return f"{who} are all in progress in stage {m.stage_names[s]}"
    return None


def _one_waiting(m: Model, st: State) -> str | None:
    for s, queue in enumerate(st.inbound):
        queue = tuple(e for e in queue if _in_mode(m, st.executions[e], "SUPERSEDED"))
        if len(queue) > 1:
            who = ", ".join(_name(e) for e in queue)
            return f"{who} all wait in front of stage {m.stage_names[s]}"
    return None


def _approval_holds(m: Model, st: State) -> str | None:
    for e, ex in enumerate(st.executions):
        if ex.waiting or ex.stage >= m.stage_count:
            continue
        s = ex.stage
        if not _locking(m, ex):
            continue
        if any(m.approval[a] and ex.actions[a] == IN_PROGRESS
               for a in m.of(ex).stage_actions[s]):
            for f, other in enumerate(st.executions):
                if (f != e and other.stage == s and not other.waiting
                        and other.status in ACTIVE and _locking(m, other)):
                    return (f"{_name(f)} is in progress in stage {m.stage_names[s]} while "
                            f"{_name(e)}'s approval there awaits an answer")
    return None


def _nothing_after_stop(m: Model, st: State) -> str | None:
    for e, ex in enumerate(st.executions):
        if ex.status == STOPPED:
            running = [m.action_names[a] for a, v in enumerate(ex.actions) if v == IN_PROGRESS]
            if running:
                return f"{_name(e)} is Stopped but its action {running[0]} is InProgress"
    return None


def _inbound_enters(m: Model, st: State) -> str | None:
    for s, queue in enumerate(st.inbound):
        if not queue or st.disabled[s]:
            continue
        free = [e for e in queue if not _locking(m, st.executions[e])]
        if free:
            return (f"{_name(free[0])} waits in front of stage {m.stage_names[s]}, which is "
                    f"available to it (it takes no stage lock) and whose transition is enabled")
        busy = any(ex.stage == s and not ex.waiting and ex.status in ACTIVE and _locking(m, ex)
                   for ex in st.executions)
        if busy:
            continue
        return (f"{_name(queue[0])} waits in front of stage {m.stage_names[s]}, which is "
                f"available and whose transition is enabled")
    return None


# --------------------------------------------------------------------------------------------
# Step properties


Changes = list[tuple[int, "Execution | None", Execution]]
_last_step: list = [None, None, []]


def _changed(before: State, after: State) -> Changes:
    """(number, record before or None if it just started, record after) for each execution the
    step changed.  A step copies the records it does not change, so identity tells.  Every step
    property asks this of the same step in turn, so the last answer is kept."""
    if _last_step[0] is before and _last_step[1] is after:
        return _last_step[2]  # type: ignore[no-any-return]
    old = before.executions
    n = len(old)
    changes = [(e, old[e] if e < n else None, new)
               for e, new in enumerate(after.executions)
               if e >= n or old[e] is not new]
    _last_step[:] = [before, after, changes]
    return changes


def _entries(m: Model, before: State, after: State) -> list[tuple[int, int]]:
    """(execution, stage) for each execution that entered a stage in this step."""
    return [(e, new.stage) for e, old, new in _changed(before, after)
            if not new.waiting and new.stage < m.stage_count
            and (old is None or old.waiting or old.stage != new.stage)]


def _newly_superseded(b: State, a: State) -> list[tuple[int, Execution | None]]:
    return [(e, old) for e, old, new in _changed(b, a)
            if new.status == SUPERSEDED and (old is None or old.status != SUPERSEDED)]


def _supersede_between(m: Model, b: State, op: Operation, a: State) -> str | None:
    for e, old in _newly_superseded(b, a):
        if old is not None and not old.waiting:
            return f"{_name(e)} was superseded inside stage {m.stage_names[old.stage]}"
    return None


def _no_retry_superseded(m: Model, b: State, op: Operation, a: State) -> str | None:
    if isinstance(op, RetryStageExecution) and b.executions[op.execution].status == SUPERSEDED:
        return f"the superseded execution {_name(op.execution)} was retried"
    return None


def _finished_never_change(m: Model, b: State, op: Operation, a: State) -> str | None:
    for e, old, new in _changed(b, a):
        if old is None or old == new:
            continue
        if old.status in (SUPERSEDED, SUCCEEDED, CANCELLED) or (
                old.status in (STOPPED, FAILED) and old.waiting):
            what = f"{old.status.lower()} inbound" if old.waiting else old.status
            return f"{_name(e)} changed after it ended ({what})"
    return None


def _cancelling_starts_nothing(m: Model, b: State, op: Operation, a: State) -> str | None:
    for e, old, new in _changed(b, a):
        if old is None or old.stop != UPDATE:
            continue
        why = _moved_on(m, e, old, new, "while a pipeline update was cancelling it")
        if why:
            return why
    return None


def _no_retry_across_update(m: Model, b: State, op: Operation, a: State) -> str | None:
    if isinstance(op, RetryStageExecution):
        ex = b.executions[op.execution]
        if ex.version < b.version:
            return (f"{_name(op.execution)}, started under pipelineVersion {ex.version + 1}, "
                    f"was retried under pipelineVersion {b.version + 1}")
    return None


def _queued_no_supersede(m: Model, b: State, op: Operation, a: State) -> str | None:
    for e, _ in _newly_superseded(b, a):
        if _in_mode(m, a.executions[e], "QUEUED"):
            return f"{_name(e)} was superseded in QUEUED mode"
    return None


def _queued_no_overtake(m: Model, b: State, op: Operation, a: State) -> str | None:
    for e, s in _entries(m, b, a):
        if not _in_mode(m, a.executions[e], "QUEUED") or a.executions[e].is_rollback:
            continue
        queue = [f for f in b.inbound[s] if _in_mode(m, b.executions[f], "QUEUED")]
        ahead = [f for f in queue if f != e]
        if e in queue and queue[0] != e:
            return (f"{_name(e)} entered stage {m.stage_names[s]} ahead of {_name(ahead[0])}, "
                    f"which was waiting before it")
        if e not in queue and ahead:
            return (f"{_name(e)} entered stage {m.stage_names[s]} while {_name(ahead[0])} "
                    f"was waiting in front of it")
    return None


def _start_order(m: Model, b: State, op: Operation, a: State) -> str | None:
    for e, s in _entries(m, b, a):
        last = b.latest[s]
        if last > e and _locking(m, a.executions[e]) and not b.executions[last].is_rollback:
            return (f"{_name(e)} entered stage {m.stage_names[s]} after {_name(b.latest[s])}, "
                    f"which started later")
    return None


def _moved_on(m: Model, e: int, old: Execution, new: Execution, when: str) -> str | None:
    """How execution e went on from `old` to `new`: it moved on to another stage, or started an
    action; None if it did neither.  `when` ends the sentence ("after stop and wait")."""
    if new.stage != old.stage or new.waiting != old.waiting:
        return f"{_name(e)} moved on to another stage {when}"
    pairs = enumerate(zip(old.actions, new.actions, strict=True))
    started = [m.action_names[x] for x, (v, w) in pairs if w == IN_PROGRESS and v != IN_PROGRESS]
    if started:
        return f"{_name(e)} started action {started[0]} {when}"
    return None


def _stop_wait_quiet(m: Model, b: State, op: Operation, a: State) -> str | None:
    for e, old, new in _changed(b, a):
        if old is None or old.stop != WAIT or old.status not in (STOPPING, STOPPED):
            continue
        if isinstance(op, RetryStageExecution) and op.execution == e:
            continue
        why = _moved_on(m, e, old, new, "after stop and wait")
        if why:
            return why
    return None


def _leaves_when_succeeded(m: Model, b: State, op: Operation, a: State) -> str | None:
    for e, old, new in _changed(b, a):
        if old is None or old.waiting or old.stage >= m.stage_count or new.stage == old.stage:
            continue
        s = old.stage
        mx = m.of(old)
        bad = [x for x in mx.stage_actions[s] if new.actions[x] != SUCCEEDED]
        if bad and mx.stages[s].before_entry == "SKIP" and all(
                new.actions[x] is None for x in mx.stage_actions[s]):
            continue  # skipped by its entry condition: "the action status is Didn't Run"
        if bad:
            return (f"{_name(e)} left stage {m.stage_names[s]} although its action "
                    f"{m.action_names[bad[0]]} is {new.actions[bad[0]] or 'not started'}")
    return None


def _skipped_runs_nothing(m: Model, b: State, op: Operation, a: State) -> str | None:
    if not isinstance(op, ConditionFailed):
        return None
    e = op.execution
    old, new = b.executions[e], a.executions[e]
    s = old.stage
    if old.condition != BEFORE_ENTRY or m.of(old).stages[s].before_entry != "SKIP":
        return None
    ran = [x for x in m.of(old).stage_actions[s] if new.actions[x] is not None]
    if ran:
        return (f"{_name(e)}'s entry condition of {m.stage_names[s]} failed with result SKIP, "
                f"yet its action {m.action_names[ran[0]]} is {new.actions[ran[0]]}")
    if new.stage == s and not new.waiting:
        return (f"{_name(e)}'s entry condition of {m.stage_names[s]} failed with result SKIP, "
                f"yet it is still in the stage")
    return None


def _rollback_not_in_parallel(m: Model, st: State) -> str | None:
    for e, ex in enumerate(st.executions):
        if ex.is_rollback and not _locking(m, ex):
            return (f"{_name(e)}, a rollback of stage {m.stage_names[ex.stage]}, runs in "
                    f"PARALLEL mode")
    return None


# --------------------------------------------------------------------------------------------
# Witnesses (sometimes)


def _w_rollback_succeeds(m: Model, st: State) -> str | None:
    for e, ex in enumerate(st.executions):
        if ex.is_rollback and ex.status == SUCCEEDED:
            return (f"{_name(e)} rolled stage {m.stage_names[ex.stage]} back to "
                    f"{_name(revision_of(e, ex))}'s revision")
    return None


def _w_supersession(m: Model, st: State) -> str | None:
    return "an execution is Superseded" if any(
        ex.status == SUPERSEDED for ex in st.executions) else None


def _w_queue_of_two(m: Model, st: State) -> str | None:
    for s, queue in enumerate(st.inbound):
        if len(queue) >= 2:
            return f"{len(queue)} executions wait in front of stage {m.stage_names[s]}"
    return None


def _w_retry_succeeds(m: Model, st: State) -> str | None:
    for e, ex in enumerate(st.executions):
        if ex.retried and ex.status == SUCCEEDED:
            return f"{_name(e)} was retried and then succeeded"
    return None


def _w_stop_wait_completes(m: Model, b: State, op: Operation, a: State) -> str | None:
    for e, old, new in _changed(b, a):
        if old is None or new.status != STOPPED:
            continue
        if old.status == STOPPING and old.stop == WAIT:
            done = [x for x, (v, w) in enumerate(zip(old.actions, new.actions, strict=True))
                    if v == IN_PROGRESS and w == SUCCEEDED]
            if done:
                return (f"{_name(e)} stopped after its in-progress action "
                        f"{m.action_names[done[0]]} succeeded")
    return None


def _w_inbound_stopped(m: Model, st: State) -> str | None:
    for e, ex in enumerate(st.executions):
        if ex.status == STOPPED and ex.waiting:
            return f"{_name(e)} was stopped while waiting in front of {m.stage_names[ex.stage]}"
    return None


def _w_shared_stage(m: Model, st: State) -> str | None:
    for s in range(m.stage_count):
        inside = [(e, ex) for e, ex in enumerate(st.executions)
                  if ex.stage == s and not ex.waiting and ex.status in ACTIVE]
        locking = [e for e, ex in inside if _locking(m, ex)]
        parallel = [e for e, ex in inside if not _locking(m, ex)]
        if locking and parallel:
            ex = st.executions[locking[0]]
            return (f"{_name(parallel[0])}, started in PARALLEL mode, and "
                    f"{_name(locking[0])}, started in {_policy(m, ex).name} mode, are both in "
                    f"progress in stage {m.stage_names[s]}")
    return None


def _w_abandoned(m: Model, st: State) -> str | None:
    for e, ex in enumerate(st.executions):
        if ex.status == STOPPED and ex.stop == ABANDON and "Abandoned" in ex.actions:
            return f"{_name(e)} was stopped and abandoned"
    return None


# --------------------------------------------------------------------------------------------
# Automatic retry on stage failure


def _retried_automatically(m: Model, op: Operation, e: int, old: Execution,
                           new: Execution) -> bool:
    """Whether the step ran a failed action of e's stage again without a RetryStageExecution
    of e: an automatic retry.  The action that fails in the step counts as failed."""
    if old.waiting or new.waiting or old.stage != new.stage or old.stage >= m.stage_count:
        return False
    if isinstance(op, RetryStageExecution) and op.execution == e:
        return False
    failed = [a for a in m.of(old).stage_actions[old.stage] if old.actions[a] == FAILED]
    failing = (isinstance(op, ActionFailed | ApprovalTimedOut)
               or isinstance(op, PutApprovalResult) and op.status == REJECTED)
    if failing and op.execution == e:  # type: ignore[union-attr]
        failed.append(op.action)  # type: ignore[union-attr]
    return any(new.actions[a] != FAILED for a in failed)


def _automatic_retry_once(m: Model, b: State, op: Operation, a: State) -> str | None:
    for e, old, new in _changed(b, a):
        if old is None or not _retried_automatically(m, op, e, old, new):
            continue
        stage = m.stage_names[old.stage]
        if old.auto_retries >= 1:
            return (f"{_name(e)}'s stage {stage} was retried automatically again "
                    f"(autoStageRetryAttempt was already {old.auto_retries})")
        if new.auto_retries != 1:
            return (f"{_name(e)}'s stage {stage} was retried automatically without "
                    f"autoStageRetryAttempt counting it")
    return None


AUTOMATIC_RETRY_AT_MOST_ONCE = Property(
    "automatic-retry-at-most-once", "step",
    "a stage is retried automatically at most once per stage execution, and "
    "autoStageRetryAttempt counts the attempt",
    "You can only configure automatic retry on stage failure for one retry attempt.",
    ALL_MODES, step_check=_automatic_retry_once)


PROPERTIES: dict[str, Property] = {
    p.name: p
    for p in (
        Property(
            "one-execution-per-stage-lock", "invariant",
            "at most one execution is in progress in each stage (one started in PARALLEL mode "
            "takes no lock)",
            "Because each stage can process only one execution at a time, the stage is locked "
            "while in progress.", LOCKING, state_check=_one_per_lock),
        Property(
            "one-waiting-per-stage", "invariant",
            "at most one execution waits in front of each stage",
            "A locked stage holds one execution at the front of the stage awaiting the stage to "
            "complete.", ("SUPERSEDED",), state_check=_one_waiting),
        Property(
            "approval-holds-stage", "invariant",
            "while an approval awaits an answer, no other execution is in progress in its stage",
            "A stage with an approval action is locked until the approval action is approved or "
            "rejected or has timed out.", LOCKING, state_check=_approval_holds),
        Property(
            "nothing-in-progress-after-stop", "invariant",
            "a Stopped execution has no action in progress (stop and abandon included)",
            "After the pipeline execution stops, the build action shows a status of Abandoned, "
            "and the pipeline execution shows a status of Stopped.", ALL_MODES,
            state_check=_nothing_after_stop),
        Property(
            "inbound-enters-when-available", "invariant",
            "nobody waits in front of a stage that is free and whose transition is enabled",
            "As soon as the action, transition, or locked stage becomes available, the "
            "in-progress inbound execution enters the stage and continues through the pipeline.",
            ALL_MODES, state_check=_inbound_enters),
        Property(
            "enters-in-start-order", "step",
            "executions enter each stage in the order they started (a rollback, which starts in "
            "the stage it rolls back, is not among them)",
            "The pipeline processes each execution in order and might supersede an earlier "
            "execution with a later one.", LOCKING, step_check=_start_order),
        Property(
            "supersede-only-between-stages", "step",
            "an execution is superseded only while it waits in front of a stage",
            "Executions are only superseded in between stages.", ALL_MODES,
            step_check=_supersede_between),
        Property(
            "no-retry-after-supersession", "step",
            "a superseded execution is never retried",
            "You can no longer retry the superseded execution after it has been replaced at this "
            "stage.", ALL_MODES, step_check=_no_retry_superseded),
        Property(
            "finished-executions-never-change", "step",
            "a Superseded, Succeeded or Cancelled execution, or a stopped or failed inbound "
            "one, never changes again",
            "The superseded execution does not continue. ... When an inbound execution has been "
            "stopped, and the transition is enabled, the stopped inbound execution does not "
            "continue into the stage. ... When a pipeline is updated, you will need to re-run "
            "your pipeline.", ALL_MODES, step_check=_finished_never_change),
        Property(
            "cancelling-execution-starts-nothing", "step",
            "once a pipeline update is cancelling an execution, it starts no action and enters "
            "no stage",
            "When you update a pipeline, CodePipeline gracefully completes all the running "
            "actions and then fails the stages and pipeline executions where the running actions "
            "were completed.", LOCKING, step_check=_cancelling_starts_nothing),
        Property(
            "no-retry-across-update", "step",
            "a stage is never retried in an execution that started under an older pipeline "
            "structure version",
            "The overall pipeline structure changed after the stage failed.", ALL_MODES,
            step_check=_no_retry_across_update),
        Property(
            "queued-never-supersedes", "step",
            "in QUEUED mode no execution is superseded",
            "For pipelines in QUEUED mode, stages are locked when an execution is being "
            "processed; however, waiting executions do not overtake executions that have already "
            "started.", ("QUEUED",), step_check=_queued_no_supersede),
        Property(
            "queued-never-overtakes", "step",
            "in QUEUED mode executions enter a stage in the order they reached it (a rollback "
            "starts in its stage and reaches none)",
            "Waiting executions gather at the entry points to locked stages in the order that "
            "they reach the stage, forming a queue of waiting executions.", ("QUEUED",),
            step_check=_queued_no_overtake),
        Property(
            "stop-and-wait-starts-nothing", "step",
            "after stop and wait the execution starts no action and enters no stage",
            "Stop and wait: All in-progress action executions are allowed to complete, and "
            "subsequent actions are not started. The pipeline execution does not continue to "
            "subsequent stages.", ALL_MODES, step_check=_stop_wait_quiet),
        Property(
            "leaves-stage-only-when-all-succeeded", "step",
            "an execution leaves a stage only when all the stage's actions succeeded",
            "All actions configured for a stage must be completed successfully before the stage "
            "is considered complete.", ALL_MODES, step_check=_leaves_when_succeeded),
        Property(
            "supersession-happens", "witness",
            "some execution is superseded",
            "In this example, Execution 2 has been superseded by Execution 3 while awaiting the "
            "locked stage.", ("SUPERSEDED",), state_check=_w_supersession),
        Property(
            "queue-of-two-forms", "witness",
            "two executions wait in front of the same stage",
            "while the Source stage processes execution 5, the executions for 6 and 7 form Queue "
            "#1 and wait at the stage entry point.", ("QUEUED",), state_check=_w_queue_of_two),
        Property(
            "retry-succeeds", "witness",
            "a retried execution goes on to succeed",
            "This resumes the execution (it retries failed actions and, if they succeed, "
            "continues in the stage/pipeline).", ALL_MODES, state_check=_w_retry_succeeds),
        Property(
            "stop-and-wait-completes", "witness",
            "a stop and wait ends with its in-progress action succeeded",
            "If the build action is completed successfully, its status is Succeeded, and the "
            "pipeline execution shows a status of Stopped.", ALL_MODES,
            step_check=_w_stop_wait_completes),
        Property(
            "stop-and-abandon-completes", "witness",
            "a stop and abandon ends with an action Abandoned",
            "After the pipeline execution stops, the build action shows a status of Abandoned, "
            "and the pipeline execution shows a status of Stopped.", ALL_MODES,
            state_check=_w_abandoned),
        Property(
            "inbound-execution-stopped", "witness",
            "an execution is stopped while it waits in front of a stage",
            "While the inbound execution is waiting, it can be manually stopped.", LOCKING,
            state_check=_w_inbound_stopped),
        Property(
            "parallel-execution-shares-stage", "witness",
            "after a change of execution mode, an execution started in PARALLEL mode is in "
            "progress in a stage together with one started in a mode with stage locks",
            "when switching from PARALLEL mode to a QUEUED or SUPERSEDED mode, the execution "
            "started in PARALLEL mode will continue to run", LOCKING,
            state_check=_w_shared_stage, needs_modes=("PARALLEL",)),
        Property(
            "no-deadlock", "progress",
            "no reachable state has an unfinished execution and nothing that can happen",
            "As soon as the action, transition, or locked stage becomes available, the "
            "in-progress inbound execution enters the stage and continues through the pipeline.",
            ALL_MODES),
        Property(
            "can-always-finish", "progress",
            "from every reachable state, every execution can still finish",
            "When the execution finishes the stage, the stage becomes unlocked and ready for the "
            "next execution.", ALL_MODES),
        AUTOMATIC_RETRY_AT_MOST_ONCE,
        Property(
            "rollback-not-in-parallel", "invariant",
            "no execution of type ROLLBACK runs in PARALLEL mode",
            "For pipelines in PARALLEL mode, stage rollback is not available.", ALL_MODES,
            state_check=_rollback_not_in_parallel),
        Property(
            "rollback-succeeds", "witness",
            "a rollback execution succeeds in the stage it rolls back",
            "You can roll back a stage to an execution that was successful in that stage.",
            LOCKING, state_check=_w_rollback_succeeds),
        Property(
            "skipped-stage-runs-nothing", "step",
            "a stage skipped by its entry condition runs none of its actions: the execution "
            "goes on past it",
            "When a stage is skipped, the stage status is Skipped, and the action status is "
            "Didn't Run.", ALL_MODES, step_check=_skipped_runs_nothing),
    )
}


ABOUT_ROLLBACKS = ("rollback-not-in-parallel", "rollback-succeeds")
"""The properties about rollback executions: they need a configuration in which one starts
(RollbackStage within the bounds, or a stage that rolls back on failure)."""


def properties_for(mode: str, names: list[str] | tuple[str, ...] | None = None,
                   update_modes: tuple[str, ...] = ()) -> list[Property]:
    """The properties that apply to a search of `mode` whose updates may change the mode to
    `update_modes`, all of them or those named, in catalogue order."""
    chosen = PROPERTIES if not names else {n: PROPERTIES[n] for n in names}
    return [p for p in PROPERTIES.values()
            if p.name in chosen and p.applies_to(mode, update_modes)]
