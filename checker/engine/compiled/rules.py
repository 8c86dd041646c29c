"""The rules of `spec.rules`, in compiled form: numba functions over the kernel's int32 state
vectors, and the successor function of the explorer built on them.

This is a compiled *form* of the readable rules, not a second specification: each function
below is named after the rule of `spec.rules` it mirrors, and its behaviour is pinned to that rule
by the differential tests (`tests/test_engines.py`), which compare both engines' state graphs on
fixed and random declarations.  A rule change goes into `spec/` first; this module follows, and
the differential tests say where it does not.

Every function takes the state vector `v` and the table `T` (see `tables.py`); rule variants are
flag bits in `T[H_VF]`.  The code is compiled once and cached on disk (`cache=True`): a new
pipeline declaration is new tables, not new code.

The small functions that a step calls are inlined (`inline="always"`): a call passes each array
as its seven fields, which cost more than such a function's work.  The large ones stay calls:
`_try` inlined into its two dozen places made the search slower, `refused`, `effect` and
`admit_inbound` inlined into `_try` made no clear difference, and inlining the queue and
stage-lock helpers too made the kernel take far longer to compile.  Where a large function
mostly finds nothing to do, the test for that is inlined at the call instead (`anyone_waits`
before `admit_inbound`).
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numba.cpython.unsafe.numbers import trailing_zeros

from checker.engine.compiled.cpu import LANES, differing
from checker.engine.compiled.tables import (
    H_A,
    H_APPR,
    H_ARETRY,
    H_AROLL,
    H_BENTRY,
    H_BRETRIES,
    H_BROLLBACKS,
    H_BSTOPS,
    H_BTOGGLES,
    H_BUD,
    H_BUPDATES,
    H_DIS,
    H_E,
    H_EX0,
    H_FAILURES,
    H_FIELDS,
    H_FIRST,
    H_FLT,
    H_FSHIFT,
    H_FWIDTH,
    H_FWORD,
    H_GCOUNT,
    H_GFIRST,
    H_GLEN,
    H_GMEM,
    H_GOFF,
    H_HAS,
    H_K,
    H_L,
    H_LAT,
    H_LOCK,
    H_MCHANGE,
    H_MODE,
    H_N,
    H_NEXT,
    H_NFIELDS,
    H_NUPM,
    H_ONSUCC,
    H_POL,
    H_RB,
    H_REC,
    H_REV,
    H_S,
    H_SFIRST,
    H_SLEN,
    H_SMODE,
    H_STARTS,
    H_STRUCT,
    H_UPM,
    H_V2,
    H_VER,
    H_VF,
    H_W,
    H_WORLD,
    H_WRITES,
    H_WSLOTS,
    OP_ABANDONED,
    OP_APPROVAL,
    OP_CONDITION_FAILED,
    OP_CONDITION_SUCCEEDED,
    OP_DISABLE,
    OP_ENABLE,
    OP_FAILED,
    OP_OVERRIDE,
    OP_RETRY,
    OP_ROLLBACK,
    OP_START,
    OP_STOP,
    OP_SUCCEEDED,
    OP_TIMED_OUT,
    OP_UPDATE,
    OP_WORK_FINISHES,
    POL_FIELDS,
    POL_LIMIT,
    POL_LOCK,
    POL_PSTATE,
    POL_SUPW,
    POL_UPCANCEL,
    R_ACT,
    R_AUTO,
    R_COND,
    R_MODE,
    R_QPOS,
    R_RETRIED,
    R_STAGE,
    R_STATUS,
    R_STOP,
    R_STRUCT,
    R_VER,
    R_WAIT,
)

# Status codes (tables.STATUS_CODES, ACTION_CODES and EXPIRED_CODE, STOP_CODES)
IP, STOPPING, STOPPED, SUCC, SUPERSEDED, FAILED, CANCELLED = 0, 1, 2, 3, 4, 5, 6
A_NONE, A_IP, A_ABANDONED, A_SUCC, A_FAILED, A_EXPIRED = 0, 1, 2, 3, 4, 5
STOP_NONE, STOP_WAIT, STOP_ABANDON, STOP_UPDATE = 0, 1, 2, 3
# Stage conditions (tables.CONDITION_CODES, tables.RESULT_CODES)
C_NONE, C_ENTRY, C_SUCCESS = 0, 1, 2
RESULT_FAIL, RESULT_SKIP, RESULT_ROLLBACK = 1, 2, 3
# Rollback triggers (tables.TRIGGER_CODES)
TRIG_MANUAL, TRIG_AUTOMATED = 1, 2
RUN_NONE, RUN_SKIPPED = -1, 7
"""`stage_run`'s codes beside the status codes: the stage was not run, or was skipped."""

# Variant flags (tables.VARIANT_FLAGS)
VF_SUPERSEDE_INSIDE = 1 << 0
VF_RETRY_SUPERSEDED = 1 << 1
VF_STOPPED_INBOUND_ENTERS = 1 << 2
VF_QUEUED_OVERTAKES = 1 << 3
VF_STOP_RELEASES = 1 << 4
VF_APPROVAL_NO_LOCK = 1 << 5
VF_FAILURE_KEEPS = 1 << 6
VF_SUPERSEDED_QUEUES = 1 << 7
VF_QUEUED_SUPERSEDES = 1 << 8
VF_ABANDON_LEAVES = 1 << 9
VF_STOP_WAIT_GOES_ON = 1 << 10
VF_FAILED_MOVES_ON = 1 << 11
VF_RETRY_AFTER_FAIL = 1 << 12
VF_PARALLEL_IGNORES = 1 << 13
VF_WAITING_ENTERS_FIRST = 1 << 14
VF_RETRY_REARMS = 1 << 15
VF_AUTO_RETRY_TWICE = 1 << 16
VF_ENTRY_NO_LOCK = 1 << 17
VF_SKIP_RUNS = 1 << 18
VF_RETRY_CANCELLED = 1 << 19
VF_RETRY_AFTER_UPDATE = 1 << 20
VF_UPDATE_CANCELS_INBOUND = 1 << 21
VF_UPDATE_IGNORED = 1 << 22
VF_UPDATE_RELEASES = 1 << 23
VF_PARALLEL_LOCKS_AFTER_CHANGE = 1 << 24
VF_ROLLBACK_ANY_MODE = 1 << 25

# --------------------------------------------------------------------------------------------
# Small helpers over a vector


@njit(cache=True, inline="always")
def _x(T, e):
    return T[H_EX0] + e * T[H_REC]


@njit(cache=True, inline="always")
def is_failed(st):
    """Action code `st` is Failed: failed, rejected, or a timed-out approval (A_EXPIRED)."""
    return st == A_FAILED or st == A_EXPIRED


@njit(cache=True, inline="always")
def row(v, T, b, s):
    """The row of stage s of the structure the execution at record b runs, in the tables of
    the stages' declarations (k * S + s: tables.H_ARETRY, H_BENTRY, H_GFIRST, ...)."""
    return v[b + R_STRUCT] * T[H_S] + s


@njit(cache=True, inline="always")
def current_row(v, T, s):
    """The row of stage s of the pipeline's current structure."""
    return v[T[H_STRUCT]] * T[H_S] + s


@njit(cache=True, inline="always")
def is_rollback(v, T, e):
    """Execution e is of type ROLLBACK (spec.state.Execution.is_rollback)."""
    rb = T[H_RB]
    return rb != 0 and v[e * T[H_REC] + rb] > 0


@njit(cache=True, inline="always")
def revision_of(v, T, e):
    """spec.state.revision_of: the STANDARD execution whose source revision e carries."""
    rb = T[H_RB]
    if rb == 0:
        return e
    target = v[e * T[H_REC] + rb]
    return target - 1 if target > 0 else e


@njit(cache=True, inline="always")
def started(v, T, trigger):
    """How many STANDARD executions (trigger 0) or rollbacks with that trigger have started."""
    n = v[T[H_N]]
    if T[H_E] == T[H_STARTS]:
        return n if trigger == 0 else 0  # no record is for a rollback
    rec = T[H_REC]
    trig = T[H_RB] + 1
    c = 0
    for e in range(n):
        if v[e * rec + trig] == trigger:
            c += 1
    return c


@njit(cache=True)
def stage_run(v, T, e, s):
    """spec.rules.stage_status: the status code of execution e's run of stage s, RUN_SKIPPED,
    or RUN_NONE when it has not entered that stage."""
    return stage_run_at(v, T, e * T[H_REC], s)


@njit(cache=True, inline="always")
def stage_run_at(v, T, b, s):
    """`stage_run` of the execution whose record starts at b (the coverage table asks for
    every stage of every changed execution on every step)."""
    stage = v[b + R_STAGE]
    if not T[T[H_HAS] + row(v, T, b, s)]:
        return RUN_NONE
    if T[H_RB] != 0 and v[b + T[H_RB]] > 0:
        if s != stage:
            return RUN_NONE
        status = v[b + R_STATUS]
        if status == SUCC and _ran_nothing(v, T, b, s):
            return RUN_SKIPPED
        return status
    if s < stage:
        return RUN_SKIPPED if _ran_nothing(v, T, b, s) else SUCC
    if s > stage or v[b + R_WAIT]:
        return RUN_NONE
    return v[b + R_STATUS]


@njit(cache=True, inline="always")
def _ran_nothing(v, T, b, s):
    """None of stage s's actions ran for the execution at record b."""
    first = T[T[H_SFIRST] + s]
    for a in range(first, first + T[T[H_SLEN] + s]):
        if v[b + R_ACT + a] != A_NONE:
            return False
    return True


@njit(cache=True, inline="always")
def queue_length(v, T, s):
    rec = T[H_REC]
    c = 0
    for e in range(v[T[H_N]]):
        b = e * rec
        if v[b + R_QPOS] > 0 and v[b + R_STAGE] == s:
            c += 1
    return c


@njit(cache=True)
def _queue_at(v, T, s, position):
    rec = T[H_REC]
    for e in range(v[T[H_N]]):
        b = e * rec
        if v[b + R_QPOS] == position and v[b + R_STAGE] == s:
            return e
    return -1


@njit(cache=True)
def _queue_remove(v, T, e):
    rec = T[H_REC]
    b = e * rec
    p = v[b + R_QPOS]
    if p == 0:
        return
    s = v[b + R_STAGE]
    v[b + R_QPOS] = 0
    for f in range(v[T[H_N]]):
        c = f * rec
        if v[c + R_STAGE] == s and v[c + R_QPOS] > p:
            v[c + R_QPOS] -= 1


@njit(cache=True)
def _queue_append(v, T, e, s):
    v[e * T[H_REC] + R_QPOS] = queue_length(v, T, s) + 1


@njit(cache=True, inline="always")
def _any_in_progress(v, T, e, s):
    if s >= T[H_S]:
        return False
    b = e * T[H_REC] + R_ACT
    first = T[T[H_SFIRST] + s]
    for a in range(first, first + T[T[H_SLEN] + s]):
        if v[b + a] == A_IP:
            return True
    return False


# --------------------------------------------------------------------------------------------
# Modes (spec.rules.execution_policy, pipeline_policy)


@njit(cache=True, inline="always")
def policy(T, mode, k):
    """Field k (POL_*) of the policy of mode value `mode`."""
    return T[T[H_POL] + mode * POL_FIELDS + k]


@njit(cache=True, inline="always")
def ex_policy(v, T, e, k):
    """Field k of the policy of the mode execution e started under."""
    return policy(T, v[e * T[H_REC] + R_MODE], k)


@njit(cache=True, inline="always")
def takes_locks(v, T, e):
    """spec.rules.takes_locks."""
    if ex_policy(v, T, e, POL_LOCK):
        return True
    if T[H_VF] & VF_PARALLEL_LOCKS_AFTER_CHANGE:
        return policy(T, v[T[H_MODE]], POL_LOCK) != 0
    return False


# --------------------------------------------------------------------------------------------
# Stage locks (spec.rules: holds_stage, stage_is_available, transition_holds)


@njit(cache=True)
def holds_stage(v, T, e):
    b = e * T[H_REC]
    vf = T[H_VF]
    st = v[b + R_STATUS]
    waiting = v[b + R_WAIT]
    if vf & VF_UPDATE_RELEASES and v[b + R_STOP] == STOP_UPDATE:
        return False
    if vf & VF_ENTRY_NO_LOCK and v[b + R_COND] == C_ENTRY and st == IP:
        return False
    if vf & VF_STOP_RELEASES:
        return waiting == 0 and st == IP
    if vf & VF_APPROVAL_NO_LOCK:
        if waiting or st > STOPPING:
            return False
        s = v[b + R_STAGE]
        if s >= T[H_S]:
            return True
        running = 0
        all_approvals = True
        first = T[T[H_SFIRST] + s]
        for a in range(first, first + T[T[H_SLEN] + s]):
            if v[b + R_ACT + a] == A_IP:
                running += 1
                if T[T[H_APPR] + a] == 0:
                    all_approvals = False
        return running == 0 or not all_approvals
    if vf & VF_FAILURE_KEEPS:
        return waiting == 0 and (st <= STOPPING or st == FAILED)
    return waiting == 0 and st <= STOPPING


@njit(cache=True)
def stage_is_available(v, T, s):
    if T[H_LOCK] == 0 and not T[H_MCHANGE]:
        return True  # PARALLEL mode, and no update changes it
    rec = T[H_REC]
    for e in range(v[T[H_N]]):
        if v[e * rec + R_STAGE] == s and holds_stage(v, T, e) and takes_locks(v, T, e):
            return False
    return True


@njit(cache=True, inline="always")
def transition_holds(v, T, s):
    d = v[T[H_DIS] + s] != 0
    if T[H_VF] & VF_PARALLEL_IGNORES:
        return d and T[H_LOCK] != 0
    return d


# --------------------------------------------------------------------------------------------
# Moving through the pipeline (enter_stage, supersede, arrive, admit_inbound, next_to_enter,
# leave_stage, stage_outcome, group_done, progress_in_stage, stage_fails, retries_automatically,
# rerun_actions)


@njit(cache=True, inline="always")
def _begin_actions(v, T, b, s):
    """The first runOrder group of stage s starts (spec.rules._begin_actions)."""
    g = T[T[H_GFIRST] + row(v, T, b, s)]
    off = T[T[H_GOFF] + g]
    gm = T[H_GMEM]
    for k in range(T[T[H_GLEN] + g]):
        v[b + R_ACT + T[gm + off + k]] = A_IP


@njit(cache=True, inline="always")
def enter_stage(v, T, e, s):
    b = e * T[H_REC]
    if T[T[H_BENTRY] + row(v, T, b, s)]:
        v[b + R_COND] = C_ENTRY
    else:
        v[b + R_COND] = C_NONE
        _begin_actions(v, T, b, s)
    v[b + R_STAGE] = s
    v[b + R_WAIT] = 0
    v[b + R_AUTO] = 0
    if ex_policy(v, T, e, POL_PSTATE):
        v[T[H_LAT] + s] = e + 1


@njit(cache=True)
def supersedes_waiting(v, T, e):
    vf = T[H_VF]
    if vf & VF_SUPERSEDED_QUEUES:
        return False
    if vf & VF_QUEUED_SUPERSEDES:
        return ex_policy(v, T, e, POL_LOCK) != 0
    return ex_policy(v, T, e, POL_SUPW) != 0


@njit(cache=True)
def arrive(v, T, e, s):
    rec = T[H_REC]
    if T[H_VF] & VF_SUPERSEDE_INSIDE:
        if v[T[H_DIS] + s] == 0 and supersedes_waiting(v, T, e):
            for h in range(v[T[H_N]]):
                if h < e and v[h * rec + R_STAGE] == s and holds_stage(v, T, h):
                    c = h * rec
                    first = T[T[H_SFIRST] + s]
                    for a in range(first, first + T[T[H_SLEN] + s]):
                        if v[c + R_ACT + a] == A_IP:
                            v[c + R_ACT + a] = A_ABANDONED
                    v[c + R_STATUS] = SUPERSEDED
                    enter_stage(v, T, e, s)
                    return
    queued = queue_length(v, T, s)
    if not transition_holds(v, T, s) and (
            not takes_locks(v, T, e) or (queued == 0 and stage_is_available(v, T, s))):
        enter_stage(v, T, e, s)
        return
    b = e * rec
    v[b + R_STAGE] = s
    v[b + R_WAIT] = 1
    if queued > 0 and supersedes_waiting(v, T, e):
        w = -1
        for position in range(1, queued + 1):
            x = _queue_at(v, T, s, position)
            if supersedes_waiting(v, T, x):
                w = x
                break
        if w >= 0:
            if w < e:
                v[w * rec + R_STATUS] = SUPERSEDED
                _queue_remove(v, T, w)
                _queue_append(v, T, e, s)
            else:
                v[b + R_STATUS] = SUPERSEDED
            return
    _queue_append(v, T, e, s)


@njit(cache=True, inline="always")
def anyone_waits(v, T):
    """Some execution waits in a stage's queue: only then can `admit_inbound` change anything
    (told apart at the place of the call, which costs more than this)."""
    rec = T[H_REC]
    for e in range(v[T[H_N]]):
        if v[e * rec + R_QPOS] > 0:
            return True
    return False


@njit(cache=True)
def admit_inbound(v, T):
    """Every execution waiting in front of a stage that it may now enter enters it, in the
    order of spec.rules.admit_inbound (called only where `anyone_waits`)."""
    for s in range(T[H_S]):
        while True:
            queued = queue_length(v, T, s)
            if queued == 0 or transition_holds(v, T, s):
                break
            e = -1
            if T[H_LOCK] == 0 or T[H_MCHANGE]:
                # An execution that takes no lock waits only for the transition: it enters first.
                for position in range(1, queued + 1):
                    x = _queue_at(v, T, s, position)
                    if not takes_locks(v, T, x):
                        e = x
                        break
            if e < 0:
                if not stage_is_available(v, T, s):
                    break
                if T[H_VF] & VF_QUEUED_OVERTAKES:
                    e = _queue_at(v, T, s, queued)
                else:
                    e = _queue_at(v, T, s, 1)
            _queue_remove(v, T, e)
            enter_stage(v, T, e, s)


@njit(cache=True, inline="always")
def leave_stage(v, T, e, s):
    if is_rollback(v, T, e):
        v[e * T[H_REC] + R_STATUS] = SUCC  # a rollback is done (spec.rules.leave_stage)
        return
    b = e * T[H_REC]
    following = T[T[H_NEXT] + row(v, T, b, s)]
    if following == T[H_S]:
        v[b + R_STATUS] = SUCC
        v[b + R_STAGE] = T[H_S]
    else:
        arrive(v, T, e, following)


@njit(cache=True, inline="always")
def stage_outcome(v, T, e):
    """0 wait for actions, 1 end Stopped, 2 end Failed, 3 continue, 4 end Cancelled."""
    b = e * T[H_REC]
    s = v[b + R_STAGE]
    any_ip = False
    any_failed = False
    first = T[T[H_SFIRST] + s]
    for a in range(first, first + T[T[H_SLEN] + s]):
        st = v[b + R_ACT + a]
        if st == A_IP:
            any_ip = True
        elif is_failed(st):
            any_failed = True
    if any_ip:
        out = 0
    elif v[b + R_STATUS] == STOPPING:
        out = 1
    elif v[b + R_STOP] == STOP_UPDATE and not T[H_VF] & VF_UPDATE_IGNORED:
        out = 4
    elif any_failed:
        out = 2
    else:
        out = 3
    vf = T[H_VF]
    if vf & VF_STOP_WAIT_GOES_ON and out == 1:
        return 2 if any_failed else 3
    if vf & VF_FAILED_MOVES_ON and out == 2:
        return 3
    return out


@njit(cache=True, inline="always")
def group_done(v, T, e, g):
    b = e * T[H_REC] + R_ACT
    off = T[T[H_GOFF] + g]
    gm = T[H_GMEM]
    lenient = T[H_VF] & VF_FAILED_MOVES_ON
    for k in range(T[T[H_GLEN] + g]):
        st = v[b + T[gm + off + k]]
        if lenient:
            if st != A_SUCC and not is_failed(st):
                return False
        elif st != A_SUCC:
            return False
    return True


@njit(cache=True)
def progress_in_stage(v, T, e):
    b = e * T[H_REC]
    if v[b + R_COND] != C_NONE:
        return
    out = stage_outcome(v, T, e)
    if out == 0:
        return
    if out == 1:
        v[b + R_STATUS] = STOPPED
        return
    if out == 4:
        v[b + R_STATUS] = CANCELLED
        return
    if out == 2:
        stage_fails(v, T, e)
        return
    s = v[b + R_STAGE]
    r = row(v, T, b, s)
    g0 = T[T[H_GFIRST] + r]
    gm = T[H_GMEM]
    for g in range(g0, g0 + T[T[H_GCOUNT] + r]):
        if not group_done(v, T, e, g):
            off = T[T[H_GOFF] + g]
            for k in range(T[T[H_GLEN] + g]):
                v[b + R_ACT + T[gm + off + k]] = A_IP
            return
    if T[T[H_ONSUCC] + r]:
        v[b + R_COND] = C_SUCCESS  # spec.rules.check_success_condition
        return
    leave_stage(v, T, e, s)


@njit(cache=True, inline="always")
def retries_automatically(v, T, e):
    b = e * T[H_REC]
    vf = T[H_VF]
    in_progress = v[b + R_STATUS] == IP
    if vf & VF_AUTO_RETRY_TWICE:
        return in_progress and v[b + R_AUTO] < 2
    if vf & VF_WAITING_ENTERS_FIRST:
        s = v[b + R_STAGE]
        if T[H_LOCK] and queue_length(v, T, s) > 0 and not transition_holds(v, T, s):
            return False
    return in_progress and v[b + R_AUTO] == 0


@njit(cache=True, inline="always")
def rerun_actions(v, T, b, s, all_actions):
    first = T[T[H_SFIRST] + s]
    last = first + T[T[H_SLEN] + s]
    if all_actions:
        for a in range(first, last):
            v[b + R_ACT + a] = A_NONE
        g = T[T[H_GFIRST] + row(v, T, b, s)]
        off = T[T[H_GOFF] + g]
        gm = T[H_GMEM]
        for k in range(T[T[H_GLEN] + g]):
            v[b + R_ACT + T[gm + off + k]] = A_IP
    else:
        for a in range(first, last):
            st = v[b + R_ACT + a]
            if is_failed(st) or st == A_ABANDONED:
                v[b + R_ACT + a] = A_IP


@njit(cache=True, inline="always")
def stage_fails(v, T, e):
    b = e * T[H_REC]
    r = row(v, T, b, v[b + R_STAGE])
    if T[T[H_AROLL] + r]:
        fail_and_roll_back(v, T, e)
        return
    mode = T[T[H_ARETRY] + r]
    if mode == 0 or not retries_automatically(v, T, e):
        v[b + R_STATUS] = FAILED
        return
    rerun_actions(v, T, b, v[b + R_STAGE], mode == 2)
    v[b + R_AUTO] += 1


# --------------------------------------------------------------------------------------------
# Rollbacks (spec.rules: succeeded_in_stage, rollback_available, start_rollback,
# rolls_back_automatically)


@njit(cache=True, inline="always")
def succeeded_in_stage(v, T, t, s):
    """Execution t is one a rollback of stage s may roll back to."""
    return not is_rollback(v, T, t) and stage_run(v, T, t, s) == SUCC


@njit(cache=True)
def rollback_available(v, T):
    if T[H_VF] & VF_ROLLBACK_ANY_MODE:
        return True
    return policy(T, v[T[H_MODE]], POL_LOCK) != 0


@njit(cache=True)
def start_rollback(v, T, s, target, trigger):
    n = v[T[H_N]]
    if n >= T[H_E] or T[H_RB] == 0:
        # More rollbacks than `tables.execution_slots` made room for, or a rollback where the
        # tables say none can start: a count that no field holds, so that packing the state
        # fails (an internal error, not a different state).
        v[T[H_N]] = -1
        return
    rec = T[H_REC]
    c = n * rec
    for i in range(rec):
        v[c + i] = 0
    v[c + R_VER] = v[T[H_VER]]
    v[c + R_MODE] = v[T[H_MODE]]
    v[c + T[H_RB]] = target + 1
    v[c + T[H_RB] + 1] = trigger
    v[c + R_STRUCT] = v[T[H_STRUCT]]
    v[T[H_N]] = n + 1
    enter_stage(v, T, n, s)


@njit(cache=True)
def fail_and_roll_back(v, T, e):
    """spec.rules._fail_and_roll_back."""
    target = rolls_back_automatically(v, T, e)
    v[e * T[H_REC] + R_STATUS] = FAILED
    if target >= 0:
        start_rollback(v, T, v[e * T[H_REC] + R_STAGE], target, TRIG_AUTOMATED)


@njit(cache=True)
def rolls_back_automatically(v, T, e):
    b = e * T[H_REC]
    if is_rollback(v, T, e) or v[b + R_STATUS] != IP or not rollback_available(v, T):
        return -1
    s = v[b + R_STAGE]
    rec = T[H_REC]
    for t in range(v[T[H_N]] - 1, -1, -1):
        if v[t * rec + R_VER] == v[T[H_VER]] and succeeded_in_stage(v, T, t, s):
            return t
    return -1


# --------------------------------------------------------------------------------------------
# Operations: refusals and effects (spec.rules: *_refusal and their effects)


@njit(cache=True, inline="always")
def _limit_reached(v, T):
    """The mode's limit of executions in progress is reached (spec.rules._limit_refusal)."""
    limit = policy(T, v[T[H_MODE]], POL_LIMIT)
    if limit < 0:
        return False
    rec = T[H_REC]
    active = 0
    for f in range(v[T[H_N]]):
        if v[f * rec + R_STATUS] <= STOPPING:
            active += 1
    return active >= limit


@njit(cache=True)
def refused(v, T, kind, e, x, y):
    rec = T[H_REC]
    b = e * rec
    if kind == OP_START:
        return _limit_reached(v, T)
    st = v[b + R_STATUS]
    stop = v[b + R_STOP]
    if kind == OP_STOP:
        if st > STOPPING or stop == STOP_UPDATE:
            return True
        return st == STOPPING and (y == 0 or stop == STOP_ABANDON)
    if kind == OP_ABANDONED:
        return not (st == STOPPING and stop == STOP_ABANDON)
    if kind == OP_SUCCEEDED or kind == OP_FAILED or kind == OP_TIMED_OUT:
        return v[b + R_ACT + x] != A_IP or stop == STOP_ABANDON
    if kind == OP_APPROVAL:
        # Refused whatever the exception: ApprovalAlreadyCompletedException (Succeeded, Failed)
        # or InvalidApprovalTokenException (A_EXPIRED, not reached, abandoned).
        return v[b + R_ACT + x] != A_IP or stop == STOP_ABANDON
    if kind == OP_RETRY:
        vf = T[H_VF]
        if vf & VF_RETRY_SUPERSEDED and st == SUPERSEDED:
            return False
        if vf & VF_RETRY_AFTER_FAIL and st == IP:
            return True
        if vf & VF_RETRY_CANCELLED and st == CANCELLED and v[b + R_STAGE] == x \
                and v[b + R_WAIT] == 0:
            return False
        if not (v[b + R_STAGE] == x and v[b + R_WAIT] == 0):
            return True
        if v[b + R_VER] != v[T[H_VER]] and not vf & VF_RETRY_AFTER_UPDATE:
            return True
        if ex_policy(v, T, e, POL_PSTATE) and v[T[H_LAT] + x] != e + 1:
            return True
        if st == FAILED and v[b + R_COND] != C_NONE:
            return True
        if st == FAILED or st == STOPPED:
            return _limit_reached(v, T)
        if st == IP:
            first = T[T[H_SFIRST] + x]
            for a in range(first, first + T[T[H_SLEN] + x]):
                if is_failed(v[b + R_ACT + a]):
                    return y == 1
        return True
    if kind == OP_DISABLE or kind == OP_ENABLE:
        return x == T[T[H_FIRST] + v[T[H_STRUCT]]] or not T[T[H_HAS] + current_row(v, T, x)]
    if kind == OP_WORK_FINISHES:
        return v[T[H_FLT] + x * T[H_E] + e] == 0
    if kind == OP_CONDITION_SUCCEEDED or kind == OP_CONDITION_FAILED:
        return v[b + R_COND] == C_NONE or st != IP
    if kind == OP_OVERRIDE:
        r = row(v, T, b, x)
        result = T[T[H_ONSUCC] + r] if y else T[T[H_BENTRY] + r]
        if result == 0 or result == RESULT_SKIP:
            return True
        if not (v[b + R_STAGE] == x and v[b + R_WAIT] == 0) or v[b + R_COND] != y + 1:
            return True
        if v[b + R_VER] != v[T[H_VER]]:
            return True
        if ex_policy(v, T, e, POL_PSTATE) and v[T[H_LAT] + x] != e + 1:
            return True
        if y == 0 or result == RESULT_ROLLBACK:
            return st != IP
        if st != FAILED:
            return True
        return _limit_reached(v, T)
    if kind == OP_ROLLBACK:
        return _rollback_refused(v, T, x, e)
    return kind != OP_UPDATE  # an update is always accepted


@njit(cache=True)
def _rollback_refused(v, T, s, t):
    """spec.rules.rollback_refusal, of a rollback of stage s to execution t."""
    here = v[T[H_STRUCT]]
    if not T[T[H_V2] + here] or not 0 <= s < T[H_S] or s == T[T[H_FIRST] + here]:
        return True
    if not T[T[H_HAS] + current_row(v, T, s)] or not rollback_available(v, T):
        return True
    rec = T[H_REC]
    n = v[T[H_N]]
    for f in range(n):
        c = f * rec
        if v[c + R_STAGE] == s and v[c + R_WAIT] == 0 and v[c + R_STATUS] <= STOPPING:
            return True  # the stage is currently running
    latest = v[T[H_LAT] + s] - 1
    if latest >= 0 and stage_run(v, T, latest, s) == RUN_SKIPPED:
        return True
    if not 0 <= t < n or is_rollback(v, T, t) or v[t * rec + R_VER] != v[T[H_VER]]:
        return True
    return stage_run(v, T, t, s) != SUCC


@njit(cache=True)
def _update(v, T, x):
    """spec.rules.update: the version goes up and the mode changes to value x - 1 (x 0: it
    stays); executions in progress of a mode whose updates cancel are marked to be Cancelled
    once their running actions complete (Cancelled at once with none running), and inbound ones
    are Failed."""
    v[T[H_VER]] += 1
    if x:
        v[T[H_MODE]] = x - 1
    rec = T[H_REC]
    for f in range(v[T[H_N]]):
        c = f * rec
        if v[c + R_STATUS] != IP or not ex_policy(v, T, f, POL_UPCANCEL):
            continue
        if v[c + R_WAIT]:
            _queue_remove(v, T, f)
            v[c + R_STATUS] = CANCELLED if T[H_VF] & VF_UPDATE_CANCELS_INBOUND else FAILED
        elif _any_in_progress(v, T, f, v[c + R_STAGE]):
            v[c + R_STOP] = STOP_UPDATE
        else:
            v[c + R_STATUS] = CANCELLED


@njit(cache=True, inline="always")
def _finish_action(v, T, e, a, status):
    v[e * T[H_REC] + R_ACT + a] = status
    progress_in_stage(v, T, e)


@njit(cache=True)
def effect(v, T, kind, e, x, y):
    rec = T[H_REC]
    b = e * rec
    vf = T[H_VF]
    if kind == OP_START:
        n = v[T[H_N]]
        c = n * rec
        for i in range(rec):
            v[c + i] = 0
        v[c + R_WAIT] = 1
        v[c + R_VER] = v[T[H_VER]]
        v[c + R_MODE] = v[T[H_MODE]]
        here = v[T[H_STRUCT]]
        v[c + R_STRUCT] = here
        v[T[H_N]] = n + 1
        arrive(v, T, n, T[T[H_FIRST] + here])
    elif kind == OP_STOP:
        kind_code = STOP_ABANDON if y else STOP_WAIT
        if vf & VF_STOPPED_INBOUND_ENTERS and v[b + R_WAIT]:
            v[b + R_STATUS] = STOPPED
            v[b + R_STOP] = kind_code
        elif v[b + R_WAIT]:
            _queue_remove(v, T, e)
            v[b + R_STATUS] = STOPPED
            v[b + R_STOP] = kind_code
        elif not _any_in_progress(v, T, e, v[b + R_STAGE]):
            v[b + R_STATUS] = STOPPED
            v[b + R_STOP] = kind_code
        else:
            v[b + R_STATUS] = STOPPING
            v[b + R_STOP] = kind_code
    elif kind == OP_ABANDONED:
        if not vf & VF_ABANDON_LEAVES:
            s = v[b + R_STAGE]
            if s < T[H_S]:
                first = T[T[H_SFIRST] + s]
                for a in range(first, first + T[T[H_SLEN] + s]):
                    if v[b + R_ACT + a] == A_IP:
                        v[b + R_ACT + a] = A_ABANDONED
        v[b + R_STATUS] = STOPPED
    elif kind == OP_SUCCEEDED:
        _finish_action(v, T, e, x, A_SUCC)
    elif kind == OP_FAILED:
        _finish_action(v, T, e, x, A_FAILED)
    elif kind == OP_TIMED_OUT:
        _finish_action(v, T, e, x, A_EXPIRED)
    elif kind == OP_APPROVAL:
        _finish_action(v, T, e, x, A_FAILED if y else A_SUCC)
    elif kind == OP_RETRY:
        if vf & VF_RETRY_SUPERSEDED and v[b + R_STATUS] == SUPERSEDED:
            v[b + R_STATUS] = IP
            v[b + R_STOP] = STOP_NONE
            v[b + R_RETRIED] = 1
            arrive(v, T, e, v[b + R_STAGE])
            return
        if vf & VF_RETRY_REARMS:
            v[b + R_AUTO] = 0
        if v[b + R_COND] == C_NONE:
            rerun_actions(v, T, b, x, y == 1)
        v[b + R_STATUS] = IP
        v[b + R_STOP] = STOP_NONE
        v[b + R_RETRIED] = 1
        progress_in_stage(v, T, e)
    elif kind == OP_DISABLE:
        v[T[H_DIS] + x] = 1
    elif kind == OP_ENABLE:
        v[T[H_DIS] + x] = 0
    elif kind == OP_WORK_FINISHES:
        v[T[H_FLT] + x * T[H_E] + e] = 0
        v[T[H_REV] + T[T[H_WRITES] + x]] = revision_of(v, T, e) + 1
    elif kind == OP_CONDITION_SUCCEEDED:
        s = v[b + R_STAGE]
        cond = v[b + R_COND]
        v[b + R_COND] = C_NONE
        if cond == C_ENTRY:
            _begin_actions(v, T, b, s)
        else:
            leave_stage(v, T, e, s)
    elif kind == OP_CONDITION_FAILED:
        s = v[b + R_STAGE]
        cond = v[b + R_COND]
        r = row(v, T, b, s)
        result = T[T[H_BENTRY] + r] if cond == C_ENTRY else T[T[H_ONSUCC] + r]
        if result == RESULT_SKIP:
            v[b + R_COND] = C_NONE  # spec.rules.skip_stage
            if vf & VF_SKIP_RUNS:
                _begin_actions(v, T, b, s)
            else:
                leave_stage(v, T, e, s)
        elif result == RESULT_ROLLBACK:
            fail_and_roll_back(v, T, e)
        else:
            v[b + R_STATUS] = FAILED
    elif kind == OP_OVERRIDE:
        v[b + R_COND] = C_NONE
        if y == 0:
            _begin_actions(v, T, b, x)
        else:
            v[b + R_STATUS] = IP
            leave_stage(v, T, e, x)
    elif kind == OP_UPDATE:
        _update(v, T, x)
        if e:
            v[T[H_STRUCT]] = e - 1  # the update installs structure e - 1
    elif kind == OP_ROLLBACK:
        start_rollback(v, T, x, e, TRIG_MANUAL)


@njit(cache=True)
def outside_world(before, after, T):
    """spec.rules.outside_world: a deploy that succeeded wrote its execution's revision; one that
    was abandoned goes on working."""
    rec = T[H_REC]
    nb = before[T[H_N]]
    E = T[H_E]
    for e in range(min(nb, after[T[H_N]])):
        b = e * rec + R_ACT
        for a in range(T[H_A]):
            t = T[T[H_WRITES] + a]
            if t < 0:
                continue
            was = before[b + a]
            st = after[b + a]
            if was != A_IP or st == A_IP:
                continue
            if st == A_SUCC:
                after[T[H_REV] + t] = revision_of(after, T, e) + 1
            elif st == A_ABANDONED:
                after[T[H_FLT] + a * E + e] += 1


# --------------------------------------------------------------------------------------------
# Successors (spec.rules.successors, with the explorer's bounds: checker.engine allowed/spend)


@njit(cache=True)
def _try(v, T, out, ops, k, kind, e, x, y):
    if refused(v, T, kind, e, x, y):
        return k
    # Element by element: a slice assignment would copy through a temporary array, since numba
    # cannot tell that the two do not overlap.
    for i in range(out.shape[1]):
        out[k, i] = v[i]
    row = out[k]
    effect(row, T, kind, e, x, y)
    if anyone_waits(row, T):
        admit_inbound(row, T)
    if T[H_WORLD]:
        outside_world(v, row, T)
    bud = T[H_BUD]
    if kind == OP_STOP:
        row[bud] += 1
    elif kind == OP_RETRY:
        row[bud + 1] += 1
    elif kind == OP_DISABLE:
        row[bud + 2] += 1
    ops[k] = kind | (e << 4) | (x << 12) | (y << 28)
    return k + 1


@njit(cache=True)
def successors(v, T, out, ops):
    """Fill out[k] and ops[k] with every accepted operation and its state, in the order of
    spec.rules.successors; returns how many."""
    rec = T[H_REC]
    S = T[H_S]
    bud = T[H_BUD]
    n = v[T[H_N]]
    starts = started(v, T, 0) < T[H_STARTS]
    stops = v[bud] < T[H_BSTOPS]
    retries = v[bud + 1] < T[H_BRETRIES]
    disables = v[bud + 2] < T[H_BTOGGLES]
    failures = T[H_FAILURES] != 0
    enables = T[H_BTOGGLES] > 0
    k = 0
    if starts:
        k = _try(v, T, out, ops, k, OP_START, 0, 0, 0)
    if v[T[H_VER]] < T[H_BUPDATES]:
        k = _try(v, T, out, ops, k, OP_UPDATE, 0, 0, 0)
        for i in range(T[H_NUPM]):
            md = T[T[H_UPM] + i]
            if md != v[T[H_MODE]]:
                k = _try(v, T, out, ops, k, OP_UPDATE, 0, md + 1, 0)
        for i in range(T[H_K] if T[H_K] > 1 else 0):
            if i != v[T[H_STRUCT]]:
                md = T[T[H_SMODE] + i]
                k = _try(v, T, out, ops, k, OP_UPDATE, i + 1,
                         0 if md == v[T[H_MODE]] else md + 1, 0)
    if T[H_BROLLBACKS] > 0 and started(v, T, TRIG_MANUAL) < T[H_BROLLBACKS]:
        for s in range(S):
            if s == T[T[H_FIRST] + v[T[H_STRUCT]]] or not T[T[H_HAS] + current_row(v, T, s)]:
                continue
            for t in range(n):
                if succeeded_in_stage(v, T, t, s):
                    k = _try(v, T, out, ops, k, OP_ROLLBACK, t, s, 0)
    for e in range(n):
        b = e * rec
        st = v[b + R_STATUS]
        if stops and st <= STOPPING:
            k = _try(v, T, out, ops, k, OP_STOP, e, 0, 0)
            k = _try(v, T, out, ops, k, OP_STOP, e, 0, 1)
        stage = v[b + R_STAGE]
        if v[b + R_STOP] == STOP_ABANDON:
            if st == STOPPING:
                k = _try(v, T, out, ops, k, OP_ABANDONED, e, 0, 0)
        elif v[b + R_WAIT] == 0 and stage < S:
            first = T[T[H_SFIRST] + stage]
            for a in range(first, first + T[T[H_SLEN] + stage]):
                if v[b + R_ACT + a] == A_IP:
                    if T[T[H_APPR] + a]:
                        k = _try(v, T, out, ops, k, OP_APPROVAL, e, a, 0)
                        if failures:
                            k = _try(v, T, out, ops, k, OP_APPROVAL, e, a, 1)
                            k = _try(v, T, out, ops, k, OP_TIMED_OUT, e, a, 0)
                    else:
                        k = _try(v, T, out, ops, k, OP_SUCCEEDED, e, a, 0)
                        if failures:
                            k = _try(v, T, out, ops, k, OP_FAILED, e, a, 0)
            if v[b + R_COND] != C_NONE and st == IP:
                k = _try(v, T, out, ops, k, OP_CONDITION_SUCCEEDED, e, 0, 0)
                if failures:
                    k = _try(v, T, out, ops, k, OP_CONDITION_FAILED, e, 0, 0)
        if retries and stage < S:
            k = _try(v, T, out, ops, k, OP_RETRY, e, stage, 0)
            k = _try(v, T, out, ops, k, OP_RETRY, e, stage, 1)
        if v[b + R_WAIT] == 0 and stage < S:
            r = row(v, T, b, stage)
            if T[T[H_BENTRY] + r]:
                k = _try(v, T, out, ops, k, OP_OVERRIDE, e, stage, 0)
            if T[T[H_ONSUCC] + r]:
                k = _try(v, T, out, ops, k, OP_OVERRIDE, e, stage, 1)
    first_stage = T[T[H_FIRST] + v[T[H_STRUCT]]]
    for s in range(S):
        if s == first_stage or not T[T[H_HAS] + current_row(v, T, s)]:
            continue
        if v[T[H_DIS] + s]:
            if enables:
                k = _try(v, T, out, ops, k, OP_ENABLE, 0, s, 0)
        elif disables:
            k = _try(v, T, out, ops, k, OP_DISABLE, 0, s, 0)
    if T[H_WORLD]:
        E = T[H_E]
        flt = T[H_FLT]
        for a in range(T[H_A]):
            if T[T[H_WRITES] + a] < 0:
                continue
            for e in range(E):
                for _ in range(v[flt + a * E + e]):
                    k = _try(v, T, out, ops, k, OP_WORK_FINISHES, e, a, 0)
    return k


# --------------------------------------------------------------------------------------------
# Packing


@njit(cache=True)
def pack(v, T, out):
    """Pack vector v into words; returns False when a value does not fit its field (the tables
    under-estimated a bound: an internal error, never a silently different state)."""
    for w in range(T[H_W]):
        out[w] = np.uint64(0)
    fields = T[H_FIELDS]
    fits = True
    for k in range(T[H_NFIELDS]):
        row = fields + 4 * k
        x = v[T[row]]
        if x < 0 or x >= (1 << T[row + 3]):
            fits = False
        out[T[row + 1]] |= np.uint64(x) << np.uint64(T[row + 2])
    return fits


@njit(cache=True, inline="always")
def repack(words, vb, va, T, out, diff):
    """Pack vector va into words, given that `words` is vb packed: only the slots where the two
    differ are written, so a successor costs what it changed, not the whole vector (the same
    words as `pack`).  The slots that differ go to `diff`, in order, for what else looks at the
    step (`checks.changed_executions`, `checks.record_charts`); returns how many, or -1 when a
    changed value does not fit its field.  The vectors are compared LANES slots at a time, so
    both need room for the length rounded up to whole LANES (`tables.Tables.padded_length`)."""
    for w in range(T[H_W]):
        out[w] = words[w]
    fword, fshift, fwidth = T[H_FWORD], T[H_FSHIFT], T[H_FWIDTH]
    length = T[H_L]
    fits = True
    nd = 0
    for start in range(0, length, LANES):
        bits = differing(va, vb, start)
        if length - start < LANES:  # past the end: whatever the rows hold there
            bits &= (np.uint64(1) << np.uint64(length - start)) - np.uint64(1)
        while bits:
            i = start + np.int64(trailing_zeros(bits))
            bits &= bits - np.uint64(1)
            diff[nd] = i
            nd += 1
            width = T[fwidth + i]
            if width == 0:
                continue
            x = va[i]
            if x < 0 or x >= (1 << width):
                fits = False
            shift = np.uint64(T[fshift + i])
            mask = ((np.uint64(1) << np.uint64(width)) - np.uint64(1)) << shift
            word = T[fword + i]
            out[word] = (out[word] & ~mask) | (np.uint64(x) << shift)
    return nd if fits else -1


@njit(cache=True, inline="always")
def unpack(words, T, v):
    """The vector packed as `words`, into v[:length].  The fields follow one another in each
    word from its lowest bit (`tables.build_tables`); the slots of one word are read from it in
    one loop whose steps do not wait for one another (a slot without a field, of width 0, is
    0).  Its indices are unsigned, so that it need not check for negative ones, and the
    compiler can make it vector instructions."""
    fshift, fwidth = np.uint64(T[H_FSHIFT]), np.uint64(T[H_FWIDTH])
    wslots = np.uint64(T[H_WSLOTS])
    one = np.uint64(1)
    for w in range(np.uint64(T[H_W])):
        x = words[w]
        for i in range(np.uint64(T[wslots + w]), np.uint64(T[wslots + w + one])):
            mask = (one << np.uint64(T[fwidth + i])) - one
            v[i] = np.int32((x >> np.uint64(T[fshift + i])) & mask)


@njit(cache=True, inline="always")
def hash_words(words, W):
    h = np.uint64(0x9E3779B97F4A7C15)
    for w in range(W):
        h ^= words[w]
        h *= np.uint64(0xFF51AFD7ED558CCD)
        h ^= h >> np.uint64(33)
    h *= np.uint64(0xC4CEB9FE1A85EC53)
    h ^= h >> np.uint64(29)
    return h
