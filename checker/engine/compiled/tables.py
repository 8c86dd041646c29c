"""The tables that drive the compiled kernel, and the translation between its vectors and spec
values.

The kernel (`checker.engine.compiled.kernel`) is one piece of compiled code for every pipeline:
the pipeline's shape (stages, actions, runOrder groups, approvals, deploy targets), the mode's
policy, the rule variants, the bounds and the properties all arrive in one int32 array `T`, whose
header (the `H_*` slots) says where each table starts.  A state is an int32 *vector* while the
kernel works on it and a few bit-packed 64-bit words while it is stored.

The vector's layout, for E executions (the executions bound), S stages, A actions, T targets:

    executions   E records of REC = 11 + A slots (13 + A where a rollback can start): status,
                 stage, waiting, stop, retried, queue position (0: not in the stage's inbound
                 queue; 1 is the front), automatic retries of its current stage, the stage
                 condition it is at (`CONDITION_CODES`), the structure version and the mode it
                 started under, the structure it runs, the status of each action, then where a
                 rollback can start (`H_RB`) 1 + the execution a rollback rolls back to (0: a
                 STANDARD execution) and its trigger (`TRIGGER_CODES`).  E is the executions
                 bound plus the rollbacks that can start (`execution_slots`)
    n            how many executions have started
    latest       S slots: 1 + the stage's latest execution (0: none)
    disabled     S slots: 1 when the stage's inbound transition is disabled
    revisions    T slots: 1 + the execution whose revision the target holds (0: none)
    in flight    A * E slots where the model has a world (none without: nothing deploys): how
                 many abandoned deployments of (action, execution) are still working (only
                 deploy actions can have any)
    budgets      stops, retries and transition disables used
    version      the pipeline's structure version (how many updates were made)
    mode         the pipeline's execution mode
    structure    the pipeline's structure: which of the model's structures its stages and
                 actions are (the stages and actions are numbered across all of them, and the
                 tables of the stages' declarations hold a row per structure and stage)

Codes: pipeline and stage statuses in `STATUS_CODES` order, action statuses in `ACTION_CODES`
order and `EXPIRED_CODE` for a Failed approval that timed out (`Execution.expired`), stops in
`STOP_CODES` order.  Nothing in this module decides behaviour: it only says
where things are.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from checker.engine.compiled.cpu import LANES
from spec.modes import MODES, ModePolicy
from spec.operations import (
    ALL_ACTIONS,
    APPROVED,
    FAILED_ACTIONS,
    REJECTED,
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
    RetryStageExecution,
    RollbackStage,
    StartPipelineExecution,
    StopPipelineExecution,
    UpdatePipeline,
)
from spec.rules import Model, installed_mode
from spec.state import (
    ABANDON,
    ABANDONED,
    AUTOMATED_ROLLBACK,
    BEFORE_ENTRY,
    CANCELLED,
    FAILED,
    IN_PROGRESS,
    MANUAL_ROLLBACK,
    NOT_STARTED,
    ON_SUCCESS,
    STOPPED,
    STOPPING,
    SUCCEEDED,
    SUPERSEDED,
    UPDATE,
    WAIT,
    Execution,
    State,
)

STATUS_CODES = (IN_PROGRESS, STOPPING, STOPPED, SUCCEEDED, SUPERSEDED, FAILED, CANCELLED)
ACTION_CODES = (NOT_STARTED, IN_PROGRESS, ABANDONED, SUCCEEDED, FAILED)
EXPIRED_CODE = len(ACTION_CODES)
"""The action code of a Failed approval that timed out (decoded as FAILED plus
`Execution.expired`).  The kernel treats it as failed everywhere (`rules.is_failed`); it is a code
of its own because the spec's states tell a timed-out approval from a rejected one."""
ACTION_CODE_COUNT = EXPIRED_CODE + 1
STOP_CODES = (None, WAIT, ABANDON, UPDATE)
CONDITION_CODES = (None, BEFORE_ENTRY, ON_SUCCESS)
RESULT_CODES = {None: 0, "FAIL": 1, "SKIP": 2, "ROLLBACK": 3}
"""A stage's entry and success conditions in the tables: none, result FAIL, SKIP, ROLLBACK."""
_STATUS = {s: i for i, s in enumerate(STATUS_CODES)}
_ACTION = {s: i for i, s in enumerate(ACTION_CODES)}
_STOP = {s: i for i, s in enumerate(STOP_CODES)}
_CONDITION = {s: i for i, s in enumerate(CONDITION_CODES)}

TRIGGER_CODES = (None, MANUAL_ROLLBACK, AUTOMATED_ROLLBACK)
_TRIGGER = {s: i for i, s in enumerate(TRIGGER_CODES)}

# Record slots
(R_STATUS, R_STAGE, R_WAIT, R_STOP, R_RETRIED, R_QPOS, R_AUTO, R_COND, R_VER, R_MODE, R_STRUCT,
 R_ACT) = range(12)

# Header slots of T
(H_E, H_S, H_A, H_T, H_REC, H_EX0, H_N, H_LAT, H_DIS, H_REV, H_FLT, H_BUD, H_L,
 H_SFIRST, H_SLEN, H_GFIRST, H_GCOUNT, H_GOFF, H_GLEN, H_GMEM, H_APPR, H_WRITES,
 H_ASTAGE, H_LOCK, H_SUPW, H_PSTATE, H_LIMIT, H_VF, H_BSTOPS, H_BRETRIES, H_BTOGGLES,
 H_FAILURES, H_W, H_FWORD, H_FSHIFT, H_FWIDTH, H_NPROP, H_PKIND, H_PPARAM, H_WORLD,
 H_MAXS, H_NFIELDS, H_FIELDS) = range(43)
H_ARETRY = 43
"""Per structure and stage (`k * S + s`, as every table of the stages' declarations), its
automatic retry on failure: 0 none, 1 FAILED_ACTIONS, 2 ALL_ACTIONS."""
H_BENTRY = 44
"""Per structure and stage, its entry condition's result (`RESULT_CODES`)."""
H_ONSUCC = 45
"""Per structure and stage, its success condition's result (`RESULT_CODES`)."""
H_VER = 46
"""The vector slot of the pipeline's structure version."""
H_BUPDATES = 47
"""The updates bound: UpdatePipeline is offered while the version is below it."""
H_MODE = 48
"""The vector slot of the pipeline's execution mode.  A mode is held as its place in
`mode_order` (0: the mode the model was built for), in that slot and in each record's R_MODE."""
H_POL = 49
"""Per mode value, the policy: POL_FIELDS values each (`spec.modes.ModePolicy`)."""
H_UPM = 50
"""The mode values an update may change the pipeline to (`Bounds.update_modes`), in
`spec.modes.MODES` order."""
H_NUPM = 51
"""How many there are."""
H_STARTS = 52
"""The executions bound: StartPipelineExecution is offered while fewer STANDARD executions
have started (the records beyond it are for rollbacks)."""
H_BROLLBACKS = 53
"""The rollbacks bound: RollbackStage is offered while fewer manual rollbacks have started."""
H_AROLL = 54
"""Per structure and stage, 1 when it rolls back on failure (`Stage.automatic_rollback`)."""
H_V2 = 55
"""Per structure, 1 for a V2 pipeline (V1 has no stage rollback)."""
H_K = 56
"""How many structures the model knows (`spec.rules.Model.structures`; 1: only its own)."""
H_STRUCT = 57
"""The vector slot of the pipeline's current structure (each record's R_STRUCT is the one the
execution runs)."""
H_NEXT = 58
"""Per structure and stage, the stage that structure runs next (S: none, done)."""
H_HAS = 59
"""Per structure and stage, 1 when the structure has the stage."""
H_FIRST = 60
"""Per structure, its first stage."""
H_SMODE = 61
"""Per structure, the mode value an update that installs it gives the pipeline
(`spec.rules.installed_mode`)."""
H_AIN = 62
"""Per structure and action (`k * A + a`), 1 when the structure has the action."""
H_MCHANGE = 63
"""1 when an update may change the execution mode: to one of the update modes, or to the mode
a structure it installs declares."""
H_RB = 64
"""The slot of a record, after its actions, that holds 1 + the execution a rollback rolls back
to (0: a STANDARD execution), its trigger in the next one; 0 where no rollback can start and
the records have neither: every step copies and compares whole vectors, so slots that can only
hold 0 are not there."""
H_WSLOTS = 65
"""Per word of the packed vector, the first slot whose field it holds (0 for the first word),
and after the last word the vector's length: word w holds the fields of the slots from the one
to the next, and the slots between them without a field (of width 0) are read from it as 0."""
HEADER = 66

POL_LOCK, POL_SUPW, POL_PSTATE, POL_LIMIT, POL_UPCANCEL = range(5)
POL_FIELDS = 5

# Operation kinds, in the order of spec.rules.OPERATION_RULES
(OP_START, OP_STOP, OP_ABANDONED, OP_SUCCEEDED, OP_FAILED, OP_TIMED_OUT, OP_APPROVAL, OP_RETRY,
 OP_DISABLE, OP_ENABLE, OP_WORK_FINISHES, OP_CONDITION_SUCCEEDED, OP_CONDITION_FAILED,
 OP_OVERRIDE, OP_UPDATE, OP_ROLLBACK) = range(16)
OP_KINDS = (StartPipelineExecution, StopPipelineExecution, ActionsAbandoned, ActionSucceeded,
            ActionFailed, ApprovalTimedOut, PutApprovalResult, RetryStageExecution,
            DisableStageTransition, EnableStageTransition, AbandonedWorkFinishes,
            ConditionSucceeded, ConditionFailed, OverrideStageCondition, UpdatePipeline,
            RollbackStage)

# Rule variants the kernel knows, as flag bits (the built-in variants of spec.variants)
VARIANT_FLAGS = {
    "supersede-inside-stage": 1 << 0,
    "retry-after-supersession": 1 << 1,
    "stopped-inbound-enters": 1 << 2,
    "queued-overtakes": 1 << 3,
    "stop-releases-lock-early": 1 << 4,
    "approval-does-not-lock": 1 << 5,
    "failure-keeps-lock": 1 << 6,
    "superseded-mode-queues": 1 << 7,
    "queued-supersedes": 1 << 8,
    "abandon-leaves-actions-running": 1 << 9,
    "stop-wait-starts-next-group": 1 << 10,
    "failed-stage-moves-on": 1 << 11,
    "retry-after-stage-fails": 1 << 12,
    "parallel-ignores-disabled-transition": 1 << 13,
    "waiting-enters-before-automatic-retry": 1 << 14,
    "manual-retry-rearms-automatic-retry": 1 << 15,
    "automatic-retry-twice": 1 << 16,
    "entry-condition-does-not-lock": 1 << 17,
    "skip-runs-stage": 1 << 18,
    "cancelled-can-retry": 1 << 19,
    "retry-after-update": 1 << 20,
    "update-cancels-inbound": 1 << 21,
    "update-does-not-cancel": 1 << 22,
    "update-releases-lock": 1 << 23,
    "parallel-executions-lock-after-mode-change": 1 << 24,
    "rollback-in-parallel-mode": 1 << 25,
}
AUTOMATIC_RETRY_CODES = {None: 0, FAILED_ACTIONS: 1, ALL_ACTIONS: 2}


def mode_order(model: Model) -> tuple[str, ...]:
    """The modes in the order of their values in the kernel: the model's own first."""
    own = model.policy.name
    return (own, *(md for md in MODES if md != own))


def bits(values: int) -> int:
    """Bits to hold the numbers 0 .. values-1."""
    return max(0, (values - 1).bit_length())


@dataclass(frozen=True)
class Tables:
    """The int32 table `T` for one model, bounds and property list, and the geometry needed to
    read its vectors back."""

    T: np.ndarray
    executions: int
    stages: int
    actions: int
    targets: int
    rec: int
    length: int
    words: int
    max_successors: int

    def slot(self, header: int) -> int:
        return int(self.T[header])

    @property
    def padded_length(self) -> int:
        """The vector's length rounded up to whole `cpu.LANES`: the room `rules.repack` needs
        in the vectors it compares."""
        return -(-self.length // LANES) * LANES


def structures(model: Model) -> tuple[Model, ...]:
    """The model's structures by number (`spec.rules.Model.structures`): itself alone, or
    all of them."""
    return model.structures or (model,)


def _rolls_back(model: Model) -> bool:
    """A stage of a V2 structure can roll back by itself."""
    return any(k.pipeline.pipeline_type == "V2" and any(s.rolls_back for s in k.stages)
               for k in structures(model))


def rollbacks_possible(model: Model, rollbacks: int) -> bool:
    """Whether a rollback can start: RollbackStage calls are allowed, on a V2 pipeline, or a
    stage of a V2 structure rolls back by itself."""
    v2 = any(k.pipeline.pipeline_type == "V2" for k in structures(model))
    return v2 and rollbacks > 0 or _rolls_back(model)


def execution_slots(model: Model, executions: int, rollbacks: int) -> int:
    """How many execution records a state needs: the STANDARD executions that start, the
    manual rollbacks, and where a stage can roll back by itself (`Stage.rolls_back`) one
    automatic rollback per STANDARD execution: only a STANDARD execution's failure rolls back,
    and once its rollback started it is no longer the latest in that stage, so it can be
    neither retried there nor let past its condition, and goes no further
    (`spec.rules.rolls_back_automatically`).  The kernel stops with an internal error rather
    than start a rollback beyond them."""
    if not rollbacks_possible(model, rollbacks):
        return executions
    return executions + rollbacks + (executions if _rolls_back(model) else 0)


def build_tables(model: Model, executions: int, stops: int, retries: int, toggles: int,
                 failures: bool, variant_flags: int,
                 properties: list[tuple[int, int]], updates: int = 0,
                 update_modes: tuple[str, ...] = (), rollbacks: int = 0) -> Tables:
    E, S, A = execution_slots(model, executions, rollbacks), model.stage_count, \
        len(model.action_names)
    rolls_back = rollbacks_possible(model, rollbacks)
    world = model.world
    n_targets = len(world.targets) if world is not None else 0
    kinds = structures(model)
    K = len(kinds)
    rb = R_ACT + A if rolls_back else 0
    rec = R_ACT + A + (2 if rolls_back else 0)
    ex0 = 0
    n_off = ex0 + E * rec
    lat = n_off + 1
    dis = lat + S
    rev = dis + S
    flt = rev + n_targets
    bud = flt + (A * E if world is not None else 0)
    ver = bud + 3
    mode = ver + 1
    current = mode + 1
    length = current + 1
    order = mode_order(model)
    changes = [order.index(md) for md in MODES if md in update_modes]
    installs = [order.index(installed_mode(model, i)) for i in range(K)]
    # A mode other than the model's own only after an update that changes it.
    mode_width = bits(len(order)) if updates and (changes or any(installs)) else 0
    mode_changes = bool(changes) or bool(updates) and any(installs)

    # The declarations of the stages, per structure and stage (k * S + s).
    declared = [stage for k in kinds for stage in k.stages]
    retry_modes = [AUTOMATIC_RETRY_CODES[stage.automatic_retry] for stage in declared]
    # The automatic retries of a stage execution: none where no stage retries on failure; 0 or 1,
    # or up to 2 under the variant that retries twice.
    auto_width = (0 if not any(retry_modes) else
                  bits(3) if variant_flags & VARIANT_FLAGS["automatic-retry-twice"] else 1)
    entry = [RESULT_CODES[stage.before_entry] for stage in declared]
    success = [RESULT_CODES[stage.on_success] for stage in declared]
    # The condition an execution is at: none where no stage declares one.
    condition_width = bits(len(CONDITION_CODES)) if any(entry) or any(success) else 0
    widths = [0] * length
    for e in range(E):
        b = ex0 + e * rec
        widths[b + R_STATUS] = bits(len(STATUS_CODES))
        widths[b + R_STAGE] = bits(S + 1)
        widths[b + R_WAIT] = 1
        widths[b + R_STOP] = bits(len(STOP_CODES))
        widths[b + R_RETRIED] = 1
        widths[b + R_QPOS] = bits(E + 1)
        widths[b + R_AUTO] = auto_width
        widths[b + R_COND] = condition_width
        widths[b + R_VER] = bits(updates + 1)
        widths[b + R_MODE] = mode_width
        widths[b + R_STRUCT] = bits(K) if updates else 0
        for a in range(A):
            widths[b + R_ACT + a] = bits(ACTION_CODE_COUNT)
        if rb:
            widths[b + rb] = bits(E + 1)
            widths[b + rb + 1] = bits(len(TRIGGER_CODES))
    widths[n_off] = bits(E + 1)
    for s in range(S):
        widths[lat + s] = bits(E + 1)
        widths[dis + s] = 1
    for t in range(n_targets):
        widths[rev + t] = bits(E + 1)
    writes = world.writes if world is not None else (-1,) * A
    for a in range(A):
        if writes[a] >= 0:
            # Each abandoning of a deploy needs it in progress again, which only a retry does.
            for e in range(E):
                widths[flt + a * E + e] = bits(retries + 2)
    widths[bud] = bits(stops + 1)
    widths[bud + 1] = bits(retries + 1)
    widths[bud + 2] = bits(toggles + 1)
    widths[ver] = bits(updates + 1)
    widths[mode] = mode_width
    widths[current] = bits(K) if updates else 0

    fword, fshift = [0] * length, [0] * length
    word, used = 0, 0
    for i, w in enumerate(widths):
        if w == 0:
            continue
        if used + w > 64:
            word, used = word + 1, 0
        fword[i], fshift[i] = word, used
        used += w
    n_words = word + 1
    wslots = [0] * n_words + [length]
    for i in reversed(range(length)):
        if widths[i]:
            wslots[fword[i]] = i
    wslots[0] = 0

    # Per stage, its actions in every structure: the kernel looks at an execution's actions of
    # a stage through them, since the actions of other structures never run for it.
    in_stage = [[a for a in range(A) if model.action_stage[a] == s] for s in range(S)]
    stage_first = [actions[0] if actions else 0 for actions in in_stage]
    stage_len = [len(actions) for actions in in_stage]
    for s in range(S):
        if in_stage[s] != list(range(stage_first[s], stage_first[s] + stage_len[s])):
            raise ValueError("actions are expected to be numbered stage by stage")
    gfirst: list[int] = []
    gcount: list[int] = []
    goff: list[int] = []
    glen: list[int] = []
    gmem: list[int] = []
    for k in kinds:
        for s in range(S):
            gfirst.append(len(goff))
            gcount.append(len(k.groups[s]))
            for group in k.groups[s]:
                goff.append(len(gmem))
                glen.append(len(group))
                gmem.extend(group)
    # Per execution: two stops, an abandoning, three results per action of its stage, two
    # retries, and where stages have conditions a condition's two results and two overrides.
    condition_ops = 4 if condition_width else 0
    max_successors = (1 + (1 + len(changes) + K - 1 if updates > 0 else 0)
                      + (S * E if rollbacks > 0 and rolls_back else 0)
                      + E * (2 + 1 + 3 * max(stage_len + [0]) + 2 + condition_ops) + S
                      + A * E * (retries + 1))

    tables: dict[int, list[int]] = {
        H_SFIRST: stage_first, H_SLEN: stage_len, H_GFIRST: gfirst, H_GCOUNT: gcount,
        H_GOFF: goff, H_GLEN: glen, H_GMEM: gmem,
        H_APPR: [int(x) for x in model.approval], H_WRITES: list(writes),
        H_ASTAGE: list(model.action_stage), H_ARETRY: retry_modes,
        H_BENTRY: entry, H_ONSUCC: success,
        H_AROLL: [int(stage.automatic_rollback) for stage in declared],
        H_V2: [int(k.pipeline.pipeline_type == "V2") for k in kinds],
        H_NEXT: [s for k in kinds for s in k.next_stage],
        H_HAS: [int(k.has_stage(s)) for k in kinds for s in range(S)],
        H_FIRST: [k.first_stage for k in kinds],
        H_SMODE: installs,
        H_AIN: [int(a in k.stage_actions[model.action_stage[a]]) for k in kinds
                for a in range(A)],
        H_FWORD: fword, H_FSHIFT: fshift, H_FWIDTH: widths, H_WSLOTS: wslots,
        # The fields that take bits, as (slot, word, shift, width) rows: what pack walks, so
        # that empty fields cost nothing (unpack reads each word's run of slots, H_WSLOTS).
        H_FIELDS: [x for i, w in enumerate(widths) if w for x in (i, fword[i], fshift[i], w)],
        H_PKIND: [k for k, _ in properties], H_PPARAM: [p for _, p in properties],
        H_POL: [x for md in order for x in _policy_row(MODES[md])],
        H_UPM: changes,
    }
    header = [0] * HEADER
    policy = model.policy
    header[H_E], header[H_S], header[H_A], header[H_T] = E, S, A, n_targets
    header[H_REC], header[H_EX0], header[H_N], header[H_LAT] = rec, ex0, n_off, lat
    header[H_DIS], header[H_REV], header[H_FLT], header[H_BUD] = dis, rev, flt, bud
    header[H_L] = length
    header[H_LOCK] = int(policy.stage_lock)
    header[H_SUPW] = int(policy.supersedes_waiting)
    header[H_PSTATE] = int(policy.has_pipeline_state)
    header[H_LIMIT] = -1 if policy.concurrency_limit is None else policy.concurrency_limit
    header[H_MODE] = mode
    header[H_NUPM] = len(changes)
    header[H_VF] = variant_flags
    header[H_BSTOPS], header[H_BRETRIES], header[H_BTOGGLES] = stops, retries, toggles
    header[H_FAILURES] = int(failures)
    header[H_W] = n_words
    header[H_NPROP] = len(properties)
    header[H_WORLD] = int(world is not None)
    header[H_MAXS] = max_successors
    header[H_NFIELDS] = sum(1 for w in widths if w)
    header[H_VER] = ver
    header[H_BUPDATES] = updates
    header[H_STARTS] = executions
    header[H_BROLLBACKS] = rollbacks if rolls_back else 0
    header[H_K] = K
    header[H_MCHANGE] = int(mode_changes)
    header[H_STRUCT] = current
    header[H_RB] = rb
    body: list[int] = []
    for key in sorted(tables):
        header[key] = HEADER + len(body)
        body.extend(tables[key])
        body.append(0)  # never an empty table: keeps every offset inside T
    T = np.array(header + body, dtype=np.int32)
    return Tables(T, E, S, A, n_targets, rec, length, n_words, max_successors)


def _policy_row(policy: ModePolicy) -> list[int]:
    """A mode's policy as the kernel reads it (POL_* order)."""
    limit = -1 if policy.concurrency_limit is None else policy.concurrency_limit
    return [int(policy.stage_lock), int(policy.supersedes_waiting),
            int(policy.has_pipeline_state), limit, int(policy.update_cancels)]


# --------------------------------------------------------------------------------------------
# Vectors <-> spec values


def encode(tables: Tables, model: Model, state: State, budgets: tuple[int, int, int]) -> np.ndarray:
    """The kernel's vector for a spec state and the budgets used."""
    T = tables.T
    v = np.zeros(tables.length, dtype=np.int32)
    rec = tables.rec
    order = mode_order(model)
    for e, ex in enumerate(state.executions):
        if ex.revision != ex.rollback_of:
            # A start pinned to an earlier revision (sourceRevisions): the kernel's records hold
            # no revision, since no search makes such a start.
            raise ValueError(f"execution {e} carries a source revision the kernel does not hold")
        b = e * rec
        v[b + R_STATUS] = _STATUS[ex.status]
        v[b + R_STAGE] = ex.stage
        v[b + R_WAIT] = int(ex.waiting)
        v[b + R_STOP] = _STOP[ex.stop]
        v[b + R_RETRIED] = int(ex.retried)
        v[b + R_AUTO] = ex.auto_retries
        v[b + R_COND] = _CONDITION[ex.condition]
        v[b + R_VER] = ex.version
        v[b + R_MODE] = order.index(ex.mode or model.policy.name)
        v[b + R_STRUCT] = ex.structure
        for a, status in enumerate(ex.actions):
            v[b + R_ACT + a] = _ACTION[status]
        rb = int(T[H_RB])
        if rb:
            v[b + rb] = ex.rollback_of + 1
            v[b + rb + 1] = _TRIGGER[ex.trigger]
        elif ex.rollback_of >= 0:
            raise ValueError(f"execution {e} is a rollback, and no rollback can start here")
        for a in ex.expired:
            if ex.actions[a] == FAILED:
                v[b + R_ACT + a] = EXPIRED_CODE
    for queue in state.inbound:
        for position, e in enumerate(queue):
            v[e * rec + R_QPOS] = position + 1
    v[T[H_N]] = len(state.executions)
    for s in range(tables.stages):
        v[T[H_LAT] + s] = state.latest[s] + 1
        v[T[H_DIS] + s] = int(state.disabled[s])
    for t, held in enumerate(state.revisions):
        v[T[H_REV] + t] = held + 1
    if state.in_flight and not T[H_WORLD]:
        raise ValueError("abandoned work in flight, and the model has no world")
    for a, e in state.in_flight:
        v[T[H_FLT] + a * tables.executions + e] += 1
    for k, used in enumerate(budgets):
        v[T[H_BUD] + k] = used
    v[T[H_VER]] = state.version
    v[T[H_MODE]] = order.index(state.mode or model.policy.name)
    v[T[H_STRUCT]] = state.structure
    return v


def decode(tables: Tables, model: Model, v: np.ndarray) -> tuple[State, tuple[int, int, int]]:
    """The spec state and budgets of a kernel vector."""
    T = tables.T
    rec = tables.rec
    order = mode_order(model)

    def mode_of(value: int) -> str | None:
        return None if value == 0 else order[value]

    n = int(v[T[H_N]])
    rb = int(T[H_RB])
    executions = []
    queues: list[list[tuple[int, int]]] = [[] for _ in range(tables.stages)]
    for e in range(n):
        b = e * rec
        codes = [int(v[b + R_ACT + a]) for a in range(tables.actions)]
        actions = tuple(FAILED if c == EXPIRED_CODE else ACTION_CODES[c] for c in codes)
        expired = tuple(a for a, c in enumerate(codes) if c == EXPIRED_CODE)
        target = int(v[b + rb]) if rb else 0
        trigger = int(v[b + rb + 1]) if rb else 0
        executions.append(Execution(
            STATUS_CODES[int(v[b + R_STATUS])], int(v[b + R_STAGE]), bool(v[b + R_WAIT]),
            STOP_CODES[int(v[b + R_STOP])], actions, bool(v[b + R_RETRIED]),
            int(v[b + R_AUTO]), expired, CONDITION_CODES[int(v[b + R_COND])],
            int(v[b + R_VER]), mode_of(int(v[b + R_MODE])), target - 1,
            TRIGGER_CODES[trigger], target - 1, int(v[b + R_STRUCT])))
        if v[b + R_QPOS] > 0:
            queues[int(v[b + R_STAGE])].append((int(v[b + R_QPOS]), e))
    in_flight: list[tuple[int, int]] = []
    for a in range(tables.actions if T[H_WORLD] else 0):
        for e in range(tables.executions):
            in_flight.extend([(a, e)] * int(v[T[H_FLT] + a * tables.executions + e]))
    state = State(
        executions=tuple(executions),
        latest=tuple(int(v[T[H_LAT] + s]) - 1 for s in range(tables.stages)),
        inbound=tuple(tuple(e for _, e in sorted(q)) for q in queues),
        disabled=tuple(bool(v[T[H_DIS] + s]) for s in range(tables.stages)),
        revisions=tuple(int(v[T[H_REV] + t]) - 1 for t in range(tables.targets)),
        in_flight=tuple(in_flight),
        version=int(v[T[H_VER]]),
        mode=mode_of(int(v[T[H_MODE]])),
        structure=int(v[T[H_STRUCT]]),
    )
    bud = int(T[H_BUD])
    return state, (int(v[bud]), int(v[bud + 1]), int(v[bud + 2]))


def op_code(kind: int, e: int = 0, x: int = 0, y: int = 0) -> int:
    return kind | (e << 4) | (x << 12) | (y << 28)


def decode_op(model: Model, code: int) -> Operation:
    """The spec operation of a kernel operation code (one shared value per operation)."""
    kind, e, x, y = code & 15, (code >> 4) & 255, (code >> 12) & 0xFFFF, (code >> 28) & 3
    op = model.operation
    if kind == OP_START:
        return op(StartPipelineExecution)
    if kind == OP_STOP:
        return op(StopPipelineExecution, e, bool(y))
    if kind == OP_ABANDONED:
        return op(ActionsAbandoned, e)
    if kind == OP_SUCCEEDED:
        return op(ActionSucceeded, e, x)
    if kind == OP_FAILED:
        return op(ActionFailed, e, x)
    if kind == OP_TIMED_OUT:
        return op(ApprovalTimedOut, e, x)
    if kind == OP_APPROVAL:
        return op(PutApprovalResult, e, x, REJECTED if y else APPROVED)
    if kind == OP_RETRY:
        return op(RetryStageExecution, e, x, ALL_ACTIONS if y else FAILED_ACTIONS)
    if kind == OP_DISABLE:
        return op(DisableStageTransition, x)
    if kind == OP_ENABLE:
        return op(EnableStageTransition, x)
    if kind == OP_WORK_FINISHES:
        return op(AbandonedWorkFinishes, e, x)
    if kind == OP_CONDITION_SUCCEEDED:
        return op(ConditionSucceeded, e)
    if kind == OP_CONDITION_FAILED:
        return op(ConditionFailed, e)
    if kind == OP_OVERRIDE:
        return op(OverrideStageCondition, e, x, ON_SUCCESS if y else BEFORE_ENTRY)
    if kind == OP_UPDATE:
        mode = mode_order(model)[x - 1] if x else None
        if e:
            return op(UpdatePipeline, mode, e - 1)  # installs structure e - 1
        return op(UpdatePipeline, mode) if x else op(UpdatePipeline)
    if kind == OP_ROLLBACK:
        return op(RollbackStage, x, e)
    raise ValueError(f"unknown operation code {code}")
