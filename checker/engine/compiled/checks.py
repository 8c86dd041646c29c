"""The properties of `spec.properties` and `spec.hazards`, and the chart coverage of
`checker.coverage`, in compiled form.

A check is true where the readable check of the same property returns a description: a
violation, or for a witness, the situation seen.  The search evaluates every pending property on
every step (a step property) or every new state (a state property), so the work is shared: a step
first lists the executions it changed (`changed_executions`) and what it did to them
(`step_events`: a step property that needs none of it is passed over), a state is summarised
per stage once (`stage_summary`), and each property looks only at what it needs.  Every finding is
confirmed by the readable property before it is reported (`explore.py`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from checker.engine.compiled.rules import (
    A_ABANDONED,
    A_EXPIRED,
    A_FAILED,
    A_IP,
    A_NONE,
    A_SUCC,
    C_ENTRY,
    CANCELLED,
    FAILED,
    IP,
    RESULT_SKIP,
    RUN_NONE,
    RUN_SKIPPED,
    STOP_ABANDON,
    STOP_NONE,
    STOP_UPDATE,
    STOP_WAIT,
    STOPPED,
    STOPPING,
    SUCC,
    SUPERSEDED,
    ex_policy,
    is_failed,
    is_rollback,
    queue_length,
    revision_of,
    row,
    stage_run,
    stage_run_at,
)
from checker.engine.compiled.tables import (
    H_A,
    H_AIN,
    H_APPR,
    H_ASTAGE,
    H_BENTRY,
    H_DIS,
    H_E,
    H_FLT,
    H_LAT,
    H_LOCK,
    H_MCHANGE,
    H_N,
    H_REC,
    H_REV,
    H_S,
    H_SFIRST,
    H_SLEN,
    H_STARTS,
    H_VER,
    H_WORLD,
    H_WRITES,
    OP_APPROVAL,
    OP_CONDITION_FAILED,
    OP_FAILED,
    OP_RETRY,
    OP_SUCCEEDED,
    OP_TIMED_OUT,
    OP_WORK_FINISHES,
    POL_LOCK,
    POL_SUPW,
    R_ACT,
    R_AUTO,
    R_COND,
    R_QPOS,
    R_RETRIED,
    R_STAGE,
    R_STATUS,
    R_STOP,
    R_STRUCT,
    R_VER,
    R_WAIT,
)

# Property kinds: state properties first (1..19 are the catalogue's, 20.. the hazards')
P_ONE_PER_LOCK = 1
P_ONE_WAITING = 2
P_APPROVAL_HOLDS = 3
P_NOTHING_AFTER_STOP = 4
P_INBOUND_ENTERS = 5
W_SUPERSESSION = 6
W_QUEUE_OF_TWO = 7
W_RETRY_SUCCEEDS = 8
W_ABANDONED = 9
W_INBOUND_STOPPED = 10
LAST_STATE_KIND = 10
P_START_ORDER = 11
P_SUPERSEDE_BETWEEN = 12
P_NO_RETRY_SUPERSEDED = 13
P_FINISHED_NEVER = 14
P_QUEUED_NO_SUPERSEDE = 15
P_QUEUED_NO_OVERTAKE = 16
P_STOP_WAIT_QUIET = 17
P_LEAVES_SUCCEEDED = 18
W_STOP_WAIT_COMPLETES = 19
Z_BACK_ABANDONED = 20
Z_BACK_DEPLOYED = 21
Z_READ_OTHER = 22
Z_ENTERED_AFTER_STOP = 23
Z_REFUSED_BUSY = 24
Z_STALE_READ = 25
Z_STARTS_OLDER = 26
# 27 was the start of a concurrent deploy: now the pattern exclusive
Z_BACK_ANY = 28
# The patterns of spec.patterns: state kinds 30..39, step kinds 40..
P_EXCLUSIVE = 30
P_NEVER = 31
P_ALWAYS = 32
W_SOMETIMES = 33
P_AT_MOST = 34
FIRST_PATTERN_STATE_KIND = 30
LAST_PATTERN_STATE_KIND = 39
Z_PRECEDES_ACTION = 40
Z_PRECEDES_TARGET = 41
# Facts' subjects, as spec.patterns numbers them (the kernel's cache covers this package's
# files only, so the numbers are kept here, and a test compares them)
F_EXECUTION, F_STAGE, F_ACTION, F_TARGET = 1, 2, 3, 4
P_AUTOMATIC_RETRY_ONCE = 50
P_SKIPPED_RUNS_NOTHING = 51
P_NO_RETRY_ACROSS_UPDATE = 52
P_CANCELLING_STARTS_NOTHING = 53
W_SHARED_STAGE = 54
"""A state kind: after a change of execution mode, executions of PARALLEL mode and of a mode
with stage locks in progress in one stage."""
P_ROLLBACK_NOT_PARALLEL = 55
"""A state kind: a rollback execution started in PARALLEL mode."""
W_ROLLBACK_SUCCEEDS = 56
"""A state kind: a rollback execution succeeded."""
"""Step kinds of their own numbers, apart from the catalogue's 11..19 and the hazards' kinds."""
SKIPPED_FACT = 7
"""A stage fact's value for Skipped (spec.patterns.STAGE_FACT_STATUSES; the others are the
pipeline execution statuses' codes)."""
PAIR = 1024
"""A parameter that names two numbers (an action and a target, a reader and a writer) is
`first * PAIR + second`."""


@njit(cache=True, inline="always")
def is_state_kind(kind):
    return (kind <= LAST_STATE_KIND or FIRST_PATTERN_STATE_KIND <= kind <= LAST_PATTERN_STATE_KIND
            or W_SHARED_STAGE <= kind <= W_ROLLBACK_SUCCEEDS)


# --------------------------------------------------------------------------------------------
# State properties


@njit(cache=True, inline="always")
def stage_summary(v, T, inside, queued):
    """Per stage: how many executions are in progress inside it, how many wait in front."""
    S = T[H_S]
    for s in range(S + 1):
        inside[s] = 0
        queued[s] = 0
    rec = T[H_REC]
    for e in range(v[T[H_N]]):
        b = e * rec
        s = v[b + R_STAGE]
        if v[b + R_QPOS] > 0:
            queued[s] += 1
        if v[b + R_WAIT] == 0 and v[b + R_STATUS] <= STOPPING:
            inside[s] += 1


@njit(cache=True, inline="always")
def _skipped(v, T, b, s):
    """Whether the execution at record b left stage s without running any of its actions: its
    entry condition skipped it (spec.rules.stage_status)."""
    first = T[T[H_SFIRST] + s]
    for a in range(first, first + T[T[H_SLEN] + s]):
        if v[b + R_ACT + a] != A_NONE:
            return False
    return True


@njit(cache=True)
def fact_holds(v, T, code):
    """Whether state v has the fact numbered `code` (spec.patterns.Fact.code): subject, value
    and index packed as subject + 8 * value + 256 * index."""
    subject = code & 7
    value = (code >> 3) & 31
    index = code >> 8
    rec = T[H_REC]
    n = v[T[H_N]]
    if subject == F_EXECUTION:
        for e in range(n):
            if v[e * rec + R_STATUS] == value:
                return True
        return False
    if subject == F_STAGE or subject == F_ACTION:
        s = index if subject == F_STAGE else T[T[H_ASTAGE] + index]
        e = v[T[H_LAT] + s] - 1
        if e < 0:
            return False
        b = e * rec
        if subject == F_ACTION:
            # A timed-out approval (A_EXPIRED) is the fact's Failed.
            st = v[b + R_ACT + index]
            return st == value or value == A_FAILED and st == A_EXPIRED
        run = stage_run(v, T, e, s)
        if run == RUN_NONE:
            return False
        return value == (SKIPPED_FACT if run == RUN_SKIPPED else run)
    held = v[T[H_REV] + index] - 1
    if value == 0:
        return held < 0
    older = False
    for e in range(n):
        if v[e * rec + R_STATUS] == SUCC and revision_of(v, T, e) > held:
            older = True
            break
    return older != (value == 2)


@njit(cache=True)
def pattern_state_check(v, T, kind, param, params):
    """The state patterns of spec.patterns; `exclusive` finds its actions in params[param:]
    as (abandoned work counts, how many, the actions)."""
    rec = T[H_REC]
    n = v[T[H_N]]
    if kind == P_EXCLUSIVE:
        running = 0
        E = T[H_E]
        for i in range(params[param + 1]):
            a = params[param + 2 + i]
            for e in range(n):
                if v[e * rec + R_ACT + a] == A_IP:
                    running += 1
            if params[param] and T[H_WORLD]:  # abandoned work is kept with a world only
                for f in range(E):
                    running += v[T[H_FLT] + a * E + f]
        return running >= 2
    if kind == P_NEVER or kind == W_SOMETIMES:
        return fact_holds(v, T, param)
    if kind == P_ALWAYS:
        return not fact_holds(v, T, param)
    if kind == P_AT_MOST:
        status = param & 255
        ended = 0
        for e in range(n):
            if v[e * rec + R_STATUS] == status:
                ended += 1
        return ended > param >> 8
    return False


@njit(cache=True, inline="always")
def _locking(v, T, e):
    """Execution e started in a mode with stage locks (spec.properties._locking)."""
    return ex_policy(v, T, e, POL_LOCK) != 0


@njit(cache=True, inline="always")
def _queued_mode(v, T, e):
    """Execution e started in QUEUED mode: stage locks, no supersession."""
    return ex_policy(v, T, e, POL_LOCK) != 0 and ex_policy(v, T, e, POL_SUPW) == 0


@njit(cache=True)
def _active_in(v, T, s, locking):
    """How many executions in progress inside stage s started in a mode with stage locks
    (`locking` 1) or without (0)."""
    rec = T[H_REC]
    count = 0
    for e in range(v[T[H_N]]):
        b = e * rec
        if v[b + R_STAGE] == s and v[b + R_WAIT] == 0 and v[b + R_STATUS] <= STOPPING \
                and _locking(v, T, e) == (locking == 1):
            count += 1
    return count


@njit(cache=True)
def mixed_state_check(v, T, kind):
    """The state properties that look at each execution's mode (spec.properties:
    _one_per_lock, _one_waiting, _approval_holds, _inbound_enters, _w_shared_stage).  Where no
    update changes the mode, `state_check` answers the first four from its stage summary."""
    rec = T[H_REC]
    n = v[T[H_N]]
    S = T[H_S]
    if kind == P_ONE_PER_LOCK:
        for s in range(S):
            if _active_in(v, T, s, 1) > 1:
                return True
        return False
    if kind == W_SHARED_STAGE:
        for s in range(S):
            if _active_in(v, T, s, 1) > 0 and _active_in(v, T, s, 0) > 0:
                return True
        return False
    if kind == P_ONE_WAITING:
        for s in range(S):
            waiting = 0
            for e in range(n):
                b = e * rec
                if v[b + R_QPOS] > 0 and v[b + R_STAGE] == s and ex_policy(v, T, e, POL_SUPW):
                    waiting += 1
            if waiting > 1:
                return True
        return False
    if kind == P_INBOUND_ENTERS:
        for s in range(S):
            if v[T[H_DIS] + s]:
                continue
            held = False
            for e in range(n):
                b = e * rec
                if v[b + R_QPOS] > 0 and v[b + R_STAGE] == s:
                    if not _locking(v, T, e):
                        return True
                    held = True
            if held and _active_in(v, T, s, 1) == 0:
                return True
        return False
    if kind == P_APPROVAL_HOLDS:
        for e in range(n):
            b = e * rec
            s = v[b + R_STAGE]
            if v[b + R_WAIT] or s >= S or not _locking(v, T, e):
                continue
            first = T[T[H_SFIRST] + s]
            for a in range(first, first + T[T[H_SLEN] + s]):
                if T[T[H_APPR] + a] and v[b + R_ACT + a] == A_IP:
                    others = _active_in(v, T, s, 1) - (1 if v[b + R_STATUS] <= STOPPING else 0)
                    if others > 0:
                        return True
                    break
        return False
    return False


@njit(cache=True, inline="always")
def _approval_shared(v, T, inside):
    """spec.properties._approval_holds where every execution runs in the pipeline's mode, from
    the stage summary: an execution waits on an approval in a stage that another execution in
    progress is inside.  Without stage locks the property never fires."""
    if not T[H_LOCK]:
        return False
    rec = T[H_REC]
    S = T[H_S]
    for e in range(v[T[H_N]]):
        b = e * rec
        s = v[b + R_STAGE]
        if v[b + R_WAIT] or s >= S:
            continue
        first = T[T[H_SFIRST] + s]
        for a in range(first, first + T[T[H_SLEN] + s]):
            if T[T[H_APPR] + a] and v[b + R_ACT + a] == A_IP:
                if inside[s] - (1 if v[b + R_STATUS] <= STOPPING else 0) > 0:
                    return True
                break
    return False


@njit(cache=True, inline="always")
def state_check(v, T, kind, param, params, inside, queued):
    """The state property `kind` (with its parameter) on state v, with its stage summary."""
    rec = T[H_REC]
    n = v[T[H_N]]
    S = T[H_S]
    if kind == W_SHARED_STAGE or T[H_MCHANGE] and (
            kind == P_ONE_PER_LOCK or kind == P_ONE_WAITING or kind == P_INBOUND_ENTERS
            or kind == P_APPROVAL_HOLDS):
        return mixed_state_check(v, T, kind)
    if kind == P_APPROVAL_HOLDS:
        return _approval_shared(v, T, inside)
    if kind == P_ROLLBACK_NOT_PARALLEL or kind == W_ROLLBACK_SUCCEEDS:
        # Where no rollback can start, no record is for one (`rules.started`).
        return T[H_E] != T[H_STARTS] and rollback_check(v, T, kind)
    if kind >= FIRST_PATTERN_STATE_KIND:
        return pattern_state_check(v, T, kind, param, params)
    if kind == P_ONE_PER_LOCK:
        for s in range(S):
            if inside[s] > 1:
                return True
        return False
    if kind == P_ONE_WAITING or kind == W_QUEUE_OF_TWO:
        for s in range(S):
            if queued[s] > 1:
                return True
        return False
    if kind == P_INBOUND_ENTERS:
        for s in range(S):
            if queued[s] == 0 or v[T[H_DIS] + s]:
                continue
            if T[H_LOCK] and inside[s] > 0:
                continue
            return True
        return False
    if kind == P_NOTHING_AFTER_STOP:
        for e in range(n):
            b = e * rec
            if v[b + R_STATUS] == STOPPED:
                for a in range(T[H_A]):
                    if v[b + R_ACT + a] == A_IP:
                        return True
        return False
    if kind == W_SUPERSESSION:
        for e in range(n):
            if v[e * rec + R_STATUS] == SUPERSEDED:
                return True
        return False
    if kind == W_RETRY_SUCCEEDS:
        for e in range(n):
            b = e * rec
            if v[b + R_RETRIED] and v[b + R_STATUS] == SUCC:
                return True
        return False
    if kind == W_ABANDONED:
        for e in range(n):
            b = e * rec
            if v[b + R_STATUS] == STOPPED and v[b + R_STOP] == STOP_ABANDON:
                for a in range(T[H_A]):
                    if v[b + R_ACT + a] == A_ABANDONED:
                        return True
        return False
    if kind == W_INBOUND_STOPPED:
        for e in range(n):
            b = e * rec
            if v[b + R_STATUS] == STOPPED and v[b + R_WAIT]:
                return True
        return False
    return False


@njit(cache=True)
def rollback_check(v, T, kind):
    """spec.properties._rollback_not_in_parallel and _w_rollback_succeeds."""
    rec = T[H_REC]
    for e in range(v[T[H_N]]):
        if not is_rollback(v, T, e):
            continue
        if kind == P_ROLLBACK_NOT_PARALLEL and not _locking(v, T, e):
            return True
        if kind == W_ROLLBACK_SUCCEEDS and v[e * rec + R_STATUS] == SUCC:
            return True
    return False


# --------------------------------------------------------------------------------------------
# Step properties


@njit(cache=True, inline="always")
def changed_executions(vb, va, T, diff, ndiff, out):
    """The executions the step changed or started, in order, from the slots where it changed
    the vector (`rules.repack`'s diff[:ndiff], in order): an execution whose record changed in
    any slot but its queue position (the readable state keeps queues apart from the records),
    then every execution the step started.  Returns how many."""
    rec = T[H_REC]
    nb = vb[T[H_N]]
    k = 0
    for i in range(ndiff):
        slot = diff[i]
        e = slot // rec
        if e >= nb:
            break
        if slot - e * rec != R_QPOS and (k == 0 or out[k - 1] != e):
            out[k] = e
            k += 1
    for e in range(nb, va[T[H_N]]):
        out[k] = e
        k += 1
    return k


@njit(cache=True, inline="always")
def _became_superseded(vb, va, b, new):
    """The execution at record b is Superseded after the step and was not before (or is new)."""
    return va[b + R_STATUS] == SUPERSEDED and (new or vb[b + R_STATUS] != SUPERSEDED)


@njit(cache=True, inline="always")
def _was_finished(vb, b):
    """The execution at record b had finished before the step: Succeeded, Superseded, Cancelled,
    or Stopped or Failed while inbound (spec.properties._finished_never)."""
    old = vb[b + R_STATUS]
    return old == SUPERSEDED or old == SUCC or old == CANCELLED or (
        (old == STOPPED or old == FAILED) and vb[b + R_WAIT] != 0)


@njit(cache=True, inline="always")
def _left_stage(vb, va, T, b):
    """The execution at record b was inside a stage before the step and is elsewhere after."""
    return vb[b + R_WAIT] == 0 and vb[b + R_STAGE] < T[H_S] and va[b + R_STAGE] != vb[b + R_STAGE]


@njit(cache=True, inline="always")
def _entered(vb, va, T, e):
    """The stage e entered in this step, or -1 (spec.properties._entries)."""
    b = e * T[H_REC]
    if va[b + R_WAIT] or va[b + R_STAGE] >= T[H_S]:
        return -1
    if e >= vb[T[H_N]] or vb[b + R_WAIT] or vb[b + R_STAGE] != va[b + R_STAGE]:
        return va[b + R_STAGE]
    return -1


@njit(cache=True)
def _deploying(v, T, t, but, newer_than):
    """Whether an execution other than `but` whose revision is newer than execution
    `newer_than`'s (-1: any) has a deploy to target t in progress (spec.hazards.deploying)."""
    rec = T[H_REC]
    for f in range(v[T[H_N]]):
        if f == but or revision_of(v, T, f) <= newer_than:
            continue
        for w in range(T[H_A]):
            if T[T[H_WRITES] + w] == t and v[f * rec + R_ACT + w] == A_IP:
                return True
    return False


@njit(cache=True)
def _abandoned_on(v, T, t):
    """Whether abandoned work on target t is still running (spec.hazards.abandoned_on)."""
    E = T[H_E]
    for a in range(T[H_A]):
        if T[T[H_WRITES] + a] == t:
            for f in range(E):
                if v[T[H_FLT] + a * E + f] > 0:
                    return True
    return False


@njit(cache=True)
def _start_check(vb, va, T, kind, t, replaces, changed, nchanged):
    """Whether the step started a deploy to target t that the hazard `kind` is about
    (spec.hazards.starts and the checks that use it)."""
    rec = T[H_REC]
    nb = vb[T[H_N]]
    for i in range(nchanged):
        e = changed[i]
        for w in range(T[H_A]):
            if T[T[H_WRITES] + w] != t or va[e * rec + R_ACT + w] != A_IP:
                continue
            if e < nb and vb[e * rec + R_ACT + w] == A_IP:
                continue
            if kind == Z_REFUSED_BUSY:
                if _abandoned_on(va, T, t):
                    return True
            elif not is_rollback(va, T, e):
                if replaces and _deploying(va, T, t, e, e):
                    return True
                if va[T[H_REV] + t] - 1 > e and (replaces or not _deploying(va, T, t, e, -1)
                                                 and not _abandoned_on(va, T, t)):
                    return True
    return False


@njit(cache=True, inline="always")
def _automatic_retry_again(vb, va, T, op, changed, nchanged):
    """spec.properties._automatic_retry_once: a step that runs a failed action of an
    execution's stage again without a RetryStageExecution of it (the action failing in the step
    counts as failed), where autoStageRetryAttempt was already 1 or does not count it."""
    rec = T[H_REC]
    nb = vb[T[H_N]]
    opkind = op & 15
    ope = (op >> 4) & 255
    opx = (op >> 12) & 0xFFFF
    failing = (opkind == OP_FAILED or opkind == OP_TIMED_OUT
               or opkind == OP_APPROVAL and (op >> 28) & 3 == 1)
    for i in range(nchanged):
        e = changed[i]
        if e >= nb:
            continue
        b = e * rec
        s = vb[b + R_STAGE]
        if vb[b + R_WAIT] or va[b + R_WAIT] or va[b + R_STAGE] != s or s >= T[H_S]:
            continue
        if opkind == OP_RETRY and ope == e:
            continue
        rerun = failing and ope == e and not is_failed(va[b + R_ACT + opx])
        first = T[T[H_SFIRST] + s]
        for a in range(first, first + T[T[H_SLEN] + s]):
            if is_failed(vb[b + R_ACT + a]) and not is_failed(va[b + R_ACT + a]):
                rerun = True
        if rerun and (vb[b + R_AUTO] >= 1 or va[b + R_AUTO] != vb[b + R_AUTO] + 1):
            return True
    return False


@njit(cache=True, inline="always")
def _moved_on(vb, va, T, b):
    """The execution at record b went on in the step: it moved to another stage, or started an
    action (spec.properties._moved_on)."""
    if vb[b + R_STAGE] != va[b + R_STAGE] or vb[b + R_WAIT] != va[b + R_WAIT]:
        return True
    for a in range(T[H_A]):
        if va[b + R_ACT + a] == A_IP and vb[b + R_ACT + a] != A_IP:
            return True
    return False


@njit(cache=True)
def _queued_overtakes(vb, va, T, e, s):
    """Execution e, which entered stage s in the step, started in QUEUED mode and overtook an
    execution of QUEUED mode waiting there before it (spec.properties._queued_no_overtake)."""
    if not _queued_mode(va, T, e):
        return False
    rec = T[H_REC]
    b = e * rec
    mine = vb[b + R_QPOS] if e < vb[T[H_N]] and vb[b + R_STAGE] == s else 0
    for f in range(vb[T[H_N]]):
        c = f * rec
        if f != e and vb[c + R_QPOS] > 0 and vb[c + R_STAGE] == s and _queued_mode(vb, T, f):
            if mine == 0 or vb[c + R_QPOS] < mine:
                return True
    return False


@njit(cache=True, inline="always")
def step_check(vb, va, T, kind, param, op, changed, nchanged):
    """The step property `kind` (with its parameter) on the step vb -op-> va, whose changed
    executions are changed[:nchanged]."""
    rec = T[H_REC]
    nb = vb[T[H_N]]
    opkind = op & 15
    ope = (op >> 4) & 255
    opx = (op >> 12) & 0xFFFF
    opy = (op >> 28) & 3
    if kind == P_NO_RETRY_SUPERSEDED:
        return opkind == OP_RETRY and vb[ope * rec + R_STATUS] == SUPERSEDED
    if kind == P_NO_RETRY_ACROSS_UPDATE:
        return opkind == OP_RETRY and vb[ope * rec + R_VER] < vb[T[H_VER]]
    if kind == P_AUTOMATIC_RETRY_ONCE:
        return _automatic_retry_again(vb, va, T, op, changed, nchanged)
    if kind == P_SKIPPED_RUNS_NOTHING:
        if opkind != OP_CONDITION_FAILED:
            return False
        b = ope * rec
        s = vb[b + R_STAGE]
        if vb[b + R_COND] != C_ENTRY or T[T[H_BENTRY] + row(vb, T, b, s)] != RESULT_SKIP:
            return False
        return not _skipped(va, T, b, s) or (va[b + R_STAGE] == s and va[b + R_WAIT] == 0)
    if kind == Z_BACK_ABANDONED or kind == Z_BACK_DEPLOYED or kind == Z_BACK_ANY:
        old = vb[T[H_REV] + param] - 1
        new = va[T[H_REV] + param] - 1
        if old < 0 or new >= old:
            return False
        if (opkind == OP_SUCCEEDED or opkind == OP_WORK_FINISHES) and is_rollback(va, T, ope):
            return False  # a rollback puts an earlier revision back on purpose
        return kind == Z_BACK_ANY or (opkind == OP_WORK_FINISHES) == (kind == Z_BACK_ABANDONED)
    if kind == Z_PRECEDES_ACTION:
        if opx != param % PAIR or not (opkind == OP_SUCCEEDED
                                       or opkind == OP_APPROVAL and opy == 0):
            return False
        return vb[ope * rec + R_ACT + param // PAIR] != A_SUCC
    if kind == Z_PRECEDES_TARGET:
        t = param % PAIR
        e = va[T[H_REV] + t] - 1
        if e < 0 or va[T[H_REV] + t] == vb[T[H_REV] + t]:
            return False
        return va[e * rec + R_ACT + param // PAIR] != A_SUCC
    if kind == Z_READ_OTHER:
        if opx != param // PAIR or not (opkind == OP_SUCCEEDED
                                        or opkind == OP_APPROVAL and opy == 0):
            return False
        return vb[T[H_REV] + param % PAIR] - 1 != revision_of(vb, T, ope)
    if kind == Z_REFUSED_BUSY:
        return _start_check(vb, va, T, kind, param, 0, changed, nchanged)
    if kind == Z_STARTS_OLDER:
        return _start_check(vb, va, T, kind, param // PAIR, param % PAIR, changed, nchanged)
    if kind == Z_STALE_READ:
        reader, writer = param // PAIR, param % PAIR
        t = T[T[H_WRITES] + writer]
        if va[T[H_REV] + t] == vb[T[H_REV] + t]:
            return False
        by = va[T[H_REV] + t] - 1
        for e in range(va[T[H_N]]):
            c = e * rec
            status = va[c + R_STATUS]
            if e != by and (status == IP or status == STOPPING) \
                    and va[c + R_ACT + reader] == A_SUCC and va[c + R_ACT + writer] != A_SUCC:
                return True
        return False
    if kind == Z_ENTERED_AFTER_STOP:
        stopped = vb[T[H_LAT] + param] - 1
        if stopped < 0 or va[T[H_LAT] + param] - 1 == stopped:
            return False
        if is_rollback(va, T, va[T[H_LAT] + param] - 1):
            return False
        b = stopped * rec
        return not (vb[b + R_STATUS] != STOPPED or vb[b + R_WAIT] or vb[b + R_STAGE] != param
                    or vb[b + R_STOP] == STOP_NONE)
    for i in range(nchanged):
        e = changed[i]
        b = e * rec
        new = e >= nb
        if kind == P_START_ORDER:
            s = _entered(vb, va, T, e)
            last = vb[T[H_LAT] + s] - 1 if s >= 0 else -1
            if last > e and _locking(va, T, e) and not is_rollback(vb, T, last):
                return True
        elif kind == P_QUEUED_NO_OVERTAKE:
            s = _entered(vb, va, T, e)
            if s < 0 or is_rollback(va, T, e):
                continue
            if T[H_MCHANGE]:
                if _queued_overtakes(vb, va, T, e, s):
                    return True
                continue
            if not new and vb[b + R_QPOS] > 0 and vb[b + R_STAGE] == s:
                if vb[b + R_QPOS] != 1:
                    return True
            elif queue_length(vb, T, s) > 0:
                return True
        elif kind == P_SUPERSEDE_BETWEEN or kind == P_QUEUED_NO_SUPERSEDE:
            if not _became_superseded(vb, va, b, new):
                continue
            if kind == P_QUEUED_NO_SUPERSEDE:
                if _queued_mode(va, T, e):
                    return True
                continue
            if not new and vb[b + R_WAIT] == 0:
                return True
        elif new:
            continue
        elif kind == P_FINISHED_NEVER:
            if _was_finished(vb, b):
                return True
        elif kind == P_CANCELLING_STARTS_NOTHING:
            if vb[b + R_STOP] == STOP_UPDATE and _moved_on(vb, va, T, b):
                return True
        elif kind == P_STOP_WAIT_QUIET:
            if vb[b + R_STOP] != STOP_WAIT:
                continue
            old = vb[b + R_STATUS]
            if old != STOPPING and old != STOPPED:
                continue
            if opkind == OP_RETRY and ope == e:
                continue
            if _moved_on(vb, va, T, b):
                return True
        elif kind == P_LEAVES_SUCCEEDED:
            if not _left_stage(vb, va, T, b):
                continue
            s = vb[b + R_STAGE]
            if T[T[H_BENTRY] + row(vb, T, b, s)] == RESULT_SKIP and _skipped(va, T, b, s):
                continue  # skipped by its entry condition
            first = T[T[H_SFIRST] + s]
            runs = T[H_AIN] + vb[b + R_STRUCT] * T[H_A]
            for a in range(first, first + T[T[H_SLEN] + s]):
                if va[b + R_ACT + a] != A_SUCC and T[runs + a]:
                    return True
        elif kind == W_STOP_WAIT_COMPLETES:
            if va[b + R_STATUS] != STOPPED:
                continue
            if vb[b + R_STATUS] == STOPPING and vb[b + R_STOP] == STOP_WAIT:
                for a in range(T[H_A]):
                    if vb[b + R_ACT + a] == A_IP and va[b + R_ACT + a] == A_SUCC:
                        return True
    return False


# --------------------------------------------------------------------------------------------
# Chart coverage (checker.coverage.execution_changes): which transitions of each entity's chart
# the steps make.  seen[chart, source, target] with charts 0 pipeline execution, 1 stage
# execution, 2 action, 3 approval; source 7 is "none before" (the execution just started, or the
# stage had no execution of it), target 7 is "gone".

NONE_CODE = 7
SKIPPED_CODE = 8
"""A stage's Skipped status in the coverage table (no pipeline execution has it)."""
COVERAGE_CODES = SKIPPED_CODE + 1
"""The size of each chart's source and target axes in the coverage table."""


@njit(cache=True, inline="always")
def _stage_status(v, T, b, s):
    run = stage_run_at(v, T, b, s)
    if run == RUN_NONE:
        return NONE_CODE
    return SKIPPED_CODE if run == RUN_SKIPPED else run


@njit(cache=True, inline="always")
def _stage_status_kept(vb, va, T, e, diff, ndiff):
    """Whether the step vb -> va, which changed the slots diff[:ndiff] (in order), left the
    status of the stage execution e is in as it was: `rules.stage_run_at` reads there the
    record's status, stage, waiting flag and structure (and, for a rollback, its actions), so
    it does unless the step changed one of those or the execution is a rollback."""
    if is_rollback(vb, T, e) or is_rollback(va, T, e):
        return False
    b = e * T[H_REC]
    for d in range(ndiff):
        slot = diff[d] - b
        if slot >= R_ACT:
            break
        if slot == R_STATUS or slot == R_STAGE or slot == R_WAIT or slot == R_STRUCT:
            return False
    return True


@njit(cache=True, inline="always")
def record_charts(vb, va, T, seen, changed, nchanged, diff, ndiff):
    """The lifecycle transitions (`checker.coverage`) the step makes; `diff[:ndiff]`: the slots
    it changed, in order (`rules.repack`)."""
    rec = T[H_REC]
    nb = vb[T[H_N]]
    A = T[H_A]
    for i in range(nchanged):
        e = changed[i]
        b = e * rec
        new = e >= nb
        switched = (not new and vb[b + R_STATUS] == STOPPING and va[b + R_STATUS] == STOPPING
                    and vb[b + R_STOP] != va[b + R_STOP])
        if new:
            seen[0, NONE_CODE, va[b + R_STATUS]] = 1
        elif vb[b + R_STATUS] != va[b + R_STATUS] or switched:
            seen[0, vb[b + R_STATUS], va[b + R_STATUS]] = 1
        # Only the stages between where it was and where it is can change status; and where
        # the step left what a stage's status reads of the record alone (`_stage_status_kept`),
        # the one stage it is in keeps its status.
        low = 0 if new else min(vb[b + R_STAGE], va[b + R_STAGE])
        high = min(T[H_S] - 1, va[b + R_STAGE] if new else max(vb[b + R_STAGE], va[b + R_STAGE]))
        if not new and not switched and _stage_status_kept(vb, va, T, e, diff, ndiff):
            high = -1
        for s in range(low, high + 1):
            before = NONE_CODE if new else _stage_status(vb, T, b, s)
            after = _stage_status(va, T, b, s)
            if before == after and not (switched and s == va[b + R_STAGE]):
                continue
            seen[1, before, after] = 1
        # checker.coverage.automatically_retried: the stage failed and was retried in the step
        retried = (not new and va[b + R_WAIT] == 0 and va[b + R_STAGE] == vb[b + R_STAGE]
                   and va[b + R_AUTO] > vb[b + R_AUTO])
        if retried:
            seen[1, IP, FAILED] = 1
            seen[1, FAILED, IP] = 1
        if new:
            for a in range(A):
                _record_action(seen, T, a, A_NONE, va[b + R_ACT + a], False)
        else:  # only the actions among the slots that changed
            for d in range(ndiff):
                a = diff[d] - b - R_ACT
                if a >= A:
                    break
                if a >= 0:
                    _record_action(seen, T, a, vb[b + R_ACT + a], va[b + R_ACT + a], retried)


@njit(cache=True, inline="always")
def _record_action(seen, T, a, x, y, retried):
    """Action a's status went from x to y (the same: no transition); `retried`: its stage was
    retried automatically in the step, so an action reset from InProgress failed first."""
    if x != y:
        chart = 3 if T[T[H_APPR] + a] else 2
        if retried and x == A_IP and y == A_NONE:
            seen[chart, A_IP, A_FAILED] = 1
            seen[chart, A_FAILED, A_NONE] = 1
        else:
            seen[chart, x, y] = 1



# What a step did to its changed executions, as bits: a step property that needs one of them
# cannot fire on a step that did none of them (`step_check` tests the same conditions first),
# so most steps are passed over without looking further.
EV_ENTERED = 1
"""An execution entered a stage (`_entered`)."""
EV_SUPERSEDED = 2
"""An execution became Superseded (or started so)."""
EV_FINISHED_CHANGED = 4
"""A finished execution changed: Succeeded, Superseded, Cancelled, or Stopped or Failed while
inbound."""
EV_UPDATE_STOP = 8
"""An execution being cancelled by an update changed."""
EV_WAIT_STOP = 16
"""An execution stopped (or stopping) with stop and wait changed."""
EV_LEFT = 32
"""An execution left the stage it was in."""
STEP_NEEDS = np.zeros(64, dtype=np.int32)
"""Per step kind, the events one of which it needs (0: it looks at every step)."""
STEP_NEEDS[P_START_ORDER] = EV_ENTERED
STEP_NEEDS[P_QUEUED_NO_OVERTAKE] = EV_ENTERED
STEP_NEEDS[P_SUPERSEDE_BETWEEN] = EV_SUPERSEDED
STEP_NEEDS[P_QUEUED_NO_SUPERSEDE] = EV_SUPERSEDED
STEP_NEEDS[P_FINISHED_NEVER] = EV_FINISHED_CHANGED
STEP_NEEDS[P_CANCELLING_STARTS_NOTHING] = EV_UPDATE_STOP
STEP_NEEDS[P_STOP_WAIT_QUIET] = EV_WAIT_STOP
STEP_NEEDS[W_STOP_WAIT_COMPLETES] = EV_WAIT_STOP
STEP_NEEDS[P_LEAVES_SUCCEEDED] = EV_LEFT


@njit(cache=True, inline="always")
def step_events(vb, va, T, changed, nchanged):
    """The EV_* bits of the step vb -> va, whose changed executions are changed[:nchanged]."""
    rec = T[H_REC]
    nb = vb[T[H_N]]
    events = 0
    for i in range(nchanged):
        e = changed[i]
        b = e * rec
        new = e >= nb
        if _entered(vb, va, T, e) >= 0:
            events |= EV_ENTERED
        if _became_superseded(vb, va, b, new):
            events |= EV_SUPERSEDED
        if new:
            continue
        if _was_finished(vb, b):
            events |= EV_FINISHED_CHANGED
        if vb[b + R_STOP] == STOP_UPDATE:
            events |= EV_UPDATE_STOP
        elif vb[b + R_STOP] == STOP_WAIT:
            events |= EV_WAIT_STOP
        if _left_stage(vb, va, T, b):
            events |= EV_LEFT
    return events


@njit(cache=True, inline="always")
def check_all(vb, va, T, op, known, kinds, params, pending, hits, row, changed, nchanged,
              inside, queued, nstep):
    """Every pending property not yet hit on the step vb -op-> va (state properties only when
    va is not a state found before): record `row` where one fires.  The first `nstep`
    properties are the step properties, the others the state properties."""
    events = -1
    for p in range(nstep):
        if not pending[p] or hits[p] >= 0:
            continue
        kind = kinds[p]
        need = STEP_NEEDS[kind]
        if need:
            if events < 0:
                events = step_events(vb, va, T, changed, nchanged)
            if events & need == 0:
                continue
        if step_check(vb, va, T, kind, params[p], op, changed, nchanged):
            hits[p] = row
    if known >= 0:
        return
    summarised = False
    for p in range(nstep, kinds.shape[0]):
        if not pending[p] or hits[p] >= 0:
            continue
        if not summarised:
            stage_summary(va, T, inside, queued)
            summarised = True
        if state_check(va, T, kinds[p], params[p], params, inside, queued):
            hits[p] = row
