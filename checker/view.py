"""What a user sees of a state, shaped like `GetPipelineState` and `GetPipelineExecution`.

`pipeline_state` gives the JSON-able dictionary (API field names); `render_state` the text for
people.  PARALLEL pipelines have no pipeline state in the API ("Parallel mode does not have a
pipeline state."), so their stages show no latest execution; every mode shows each execution.

A stage whose latest execution is still in it and was retried automatically there shows
`retryStageMetadata` with `autoStageRetryAttempt`, and `latestRetryTrigger`
(`AutomatedStageRetry`) unless the execution was also retried by hand: the model does not keep
which came last, nor how many manual retries a stage had (`manualStageRetryAttempt`), nor the
metadata of a stage the execution has left.

A stage's `inboundExecutions` lists the executions waiting in front of it (`State.inbound`, the
queue) and, with status Stopped (or Failed, when a pipeline update failed it), each execution
stopped while it waited there until an execution that started after it enters the stage
(`inbound_executions`; the decision is in `spec.rules.stop`).  The listed stopped executions are
display only: they do not queue.

`pipelineVersion` and `executionMode` are the pipeline's structure version and mode, and each
execution's the version and mode it started under; an execution that an update is cancelling
shows `cancelling` until its in-progress actions complete.

A stage whose latest execution is a rollback shows it with `"type": "ROLLBACK"`, and every
stage's latest execution carries its type (`StageExecution.type`: STANDARD or ROLLBACK).  Each
execution shows its `executionType`, and a rollback its `rollbackMetadata` (the execution it
rolls back to) and its `trigger` (ManualRollback or AutomatedRollback).  An execution whose
source revision is not its own (a start that pinned it with sourceRevisions, or a rollback)
shows `sourceRevisions`, one per source action, whose `revisionId` names the execution that ran
that revision first (`spec.state.revision_of`).

A stage whose latest execution is at its entry or success condition shows
`beforeEntryConditionState` or `onSuccessConditionState` (`condition_state`); a stage an
execution skipped shows status Skipped (`spec.rules.stage_status`).
"""

from __future__ import annotations

from typing import Any

from spec.rules import Model, execution_policy, pipeline_policy, stage_status
from spec.state import (
    ABANDON,
    AUTOMATED_ROLLBACK,
    BEFORE_ENTRY,
    CANCELLED,
    FAILED,
    IN_PROGRESS,
    ON_SUCCESS,
    ROLLBACK,
    STANDARD,
    STOPPED,
    SUCCEEDED,
    UPDATE,
    Execution,
    State,
    revision_of,
)


def structure_text(m: Model, k: int | None) -> str:
    """` with the stages and actions of ...`: the structure an update installs, for people
    (empty: it keeps the pipeline's)."""
    if k is None:
        return ""
    installed = m.structures[k] if m.structures else m
    where = installed.label or ("the original declaration" if k == 0 else f"structure {k}")
    return f" with the stages and actions of {where}"


def where(m: Model, ex: Execution) -> str:
    """Where an execution is, in words: `in Build`, `in front of Deploy`, `done`."""
    if ex.stage >= m.stage_count or (ex.is_rollback and ex.status == SUCCEEDED):
        return "done"
    name = m.stage_names[ex.stage]
    if ex.waiting:
        return f"in front of {name}"
    if ex.condition is not None:
        which = "entry" if ex.condition == BEFORE_ENTRY else "success"
        return f"in {name}, at its {which} condition"
    return f"in {name}"


CONDITION_STATE_KEYS = {BEFORE_ENTRY: "beforeEntryConditionState",
                        ON_SUCCESS: "onSuccessConditionState"}


def condition_state(ex: Execution, s: int) -> tuple[str, dict[str, Any]] | None:
    """`StageState.beforeEntryConditionState` or `onSuccessConditionState` of the execution's
    run of stage s, while the execution is at that condition: its `latestExecution.status` is
    InProgress while the rules run and Failed once they failed the stage.
    Decision: a condition whose rules a stop interrupted shows Cancelled after a stop and wait
    and Abandoned after a stop and abandon (ConditionExecutionStatus has both; no page says
    which a stop gives); one whose rules an update interrupted shows Cancelled.  The model
    keeps nothing of a condition once it passed, so whether it Succeeded or was Overridden is
    not shown."""
    if ex.condition is None or ex.waiting or ex.stage != s:
        return None
    status = {IN_PROGRESS: IN_PROGRESS, FAILED: FAILED, CANCELLED: CANCELLED}.get(
        ex.status, "Abandoned" if ex.stop == ABANDON else "Cancelled")
    return CONDITION_STATE_KEYS[ex.condition], {"latestExecution": {"status": status}}


def has_entered(ex: Execution, s: int) -> bool:
    """Whether the execution has entered stage s (it is in it or has left it)."""
    return ex.stage > s or (ex.stage == s and not ex.waiting)


def inbound_executions(m: Model, state: State, s: int) -> list[int]:
    """The executions `StageState.inboundExecutions` lists for stage s: those waiting in front
    of it (`State.inbound[s]`, in queue order) and each execution stopped (or failed by a
    pipeline update) while it waited there, until an execution that started after it enters
    the stage (`spec.rules.stop`, "Decision:"), merged in by start order.

    Derived from the state alone: a stopped inbound execution keeps its record (stage s,
    `waiting`, Stopped), and whether a newer execution has entered the stage is where the newer
    executions are.  Only `State.inbound` decides who enters next."""
    queue = state.inbound[s]
    executions = state.executions
    stopped = [e for e, ex in enumerate(executions)
               if ex.stage == s and ex.waiting and ex.status in (STOPPED, FAILED)
               and e not in queue
               and not any(has_entered(later, s) for later in executions[e + 1:])]
    if not stopped:
        return list(queue)
    out: list[int] = []
    rest = list(stopped)
    for e in queue:
        while rest and rest[0] < e:
            out.append(rest.pop(0))
        out.append(e)
    return out + rest


def retry_stage_metadata(ex: Execution, s: int) -> dict[str, Any]:
    """`StageState.retryStageMetadata` of the execution's run of stage s, as far as the model
    knows it (empty: nothing to show)."""
    if ex.waiting or ex.stage != s or not ex.auto_retries:
        return {}
    out: dict[str, Any] = {"autoStageRetryAttempt": ex.auto_retries}
    if not ex.retried:
        out["latestRetryTrigger"] = "AutomatedStageRetry"
    return out


def pipeline_state(m: Model, state: State, names: list[str]) -> dict[str, Any]:
    """`GetPipelineState`-shaped view of `state`, plus `pipelineExecutions` (each execution's
    status, where it is and its actions' statuses).  `names[e]` names execution e.  The stages
    and actions are those of the pipeline's current structure (`State.structure`)."""
    stages = []
    here = m.structure_of(state)
    for s, stage_name in enumerate(m.stage_names):
        if not here.has_stage(s):
            continue
        latest = state.latest[s]
        entry: dict[str, Any] = {"stageName": stage_name}
        entry["inboundExecutions"] = [
            {"pipelineExecutionId": names[e], "status": state.executions[e].status}
            for e in inbound_executions(m, state, s)
        ]
        entry["inboundTransitionState"] = {"enabled": not state.disabled[s]}
        if latest >= 0:
            ex = state.executions[latest]
            entry["latestExecution"] = {
                "pipelineExecutionId": names[latest],
                "status": stage_status(m, ex, s),
                "type": ROLLBACK if ex.is_rollback else STANDARD,
            }
            entry["actionStates"] = [
                {
                    "actionName": m.action_names[a],
                    "latestExecution": None
                    if ex.actions[a] is None
                    else {"pipelineExecutionId": names[latest], "status": ex.actions[a]},
                }
                for a in here.stage_actions[s]
            ]
            metadata = retry_stage_metadata(ex, s)
            if metadata:
                entry["retryStageMetadata"] = metadata
            condition = condition_state(ex, s)
            if condition is not None:
                entry[condition[0]] = condition[1]
        else:
            entry["actionStates"] = [
                {"actionName": m.action_names[a], "latestExecution": None}
                for a in here.stage_actions[s]
            ]
        stages.append(entry)
    executions = []
    for e, ex in enumerate(state.executions):
        rollback: dict[str, Any] = {} if not ex.is_rollback else {
            "rollbackMetadata": {"rollbackTargetPipelineExecutionId": names[ex.rollback_of]},
            "trigger": {"triggerType": ex.trigger},
        }
        revision = revision_of(e, ex)
        if revision != e:
            runs = m.of(ex)
            rollback["sourceRevisions"] = [
                {"actionName": m.action_names[a], "revisionId": names[revision]}
                for a in runs.stage_actions[runs.first_stage]]
        executions.append(
            {
                "pipelineExecutionId": names[e],
                "status": ex.status,
                "executionType": ROLLBACK if ex.is_rollback else STANDARD,
                **rollback,
                "where": where(m, ex),
                "pipelineVersion": ex.version + 1,
                "executionMode": execution_policy(m, ex).name,
                "stopMode": {"wait": "STOP_AND_WAIT", "abandon": "STOP_AND_ABANDON"}.get(
                    ex.stop  # type: ignore[arg-type]
                ),
                "cancelling": ex.stop == UPDATE and ex.status == IN_PROGRESS,
                "actionStates": {
                    m.action_names[a]: ex.actions[a]
                    for a in range(len(m.action_names))
                    if ex.actions[a] is not None
                },
            }
        )
    view: dict[str, Any] = {
        "pipelineName": m.pipeline.name,
        "executionMode": pipeline_policy(m, state).name,
        "pipelineVersion": state.version + 1,
        "stageStates": stages,
        "pipelineExecutions": executions,
    }
    if m.world is not None and m.world.targets:
        view["deployTargets"] = [
            {"target": target,
             "revisionOf": names[state.revisions[t]] if state.revisions[t] >= 0 else None,
             "abandonedWorkInFlight": [names[e] for a, e in state.in_flight
                                       if m.world.writes[a] == t]}
            for t, target in enumerate(m.world.targets)
        ]
    return view


def render_state(m: Model, state: State, names: list[str]) -> str:
    """The state as a small table for people: one row per stage, then one per execution."""
    view = pipeline_state(m, state, names)
    header = ("Stage", "Transition", "Inbound", "Latest execution", "Actions")
    rows: list[tuple[str, ...]] = [header]
    for st in view["stageStates"]:
        latest = st.get("latestExecution")
        latest_text = f"{latest['pipelineExecutionId']} {latest['status']}" if latest else "-"
        if latest and latest["type"] == ROLLBACK:
            latest_text += " (rollback)"
        if st.get("retryStageMetadata"):
            latest_text += " (retried automatically)"
        for key, which in (("beforeEntryConditionState", "entry"),
                           ("onSuccessConditionState", "success")):
            if key in st:
                latest_text += f" ({which} condition {st[key]['latestExecution']['status']})"
        inbound = ", ".join(
            i["pipelineExecutionId"] + ("" if i["status"] == IN_PROGRESS else f" {i['status']}")
            for i in st["inboundExecutions"]
        )
        actions = ", ".join(
            f"{a['actionName']} {a['latestExecution']['status']}"
            for a in st["actionStates"]
            if a["latestExecution"]
        )
        rows.append(
            (
                st["stageName"],
                "enabled" if st["inboundTransitionState"]["enabled"] else "DISABLED",
                inbound or "-",
                latest_text if m.policy.has_pipeline_state or st.get("latestExecution")
                else "(none in PARALLEL)",
                actions or "-",
            )
        )
    version = "" if view["pipelineVersion"] == 1 else f", version {view['pipelineVersion']}"
    lines = [f"Pipeline {view['pipelineName']} ({view['executionMode']}{version})"]
    lines += _table(rows)
    if view["pipelineExecutions"]:
        lines.append("")
        erows: list[tuple[str, ...]] = [("Execution", "Status", "Where", "Actions")]
        for ex in view["pipelineExecutions"]:
            status = ex["status"]
            if ex["stopMode"] and status in ("Stopping", "Stopped"):
                status += " (abandon)" if ex["stopMode"] == "STOP_AND_ABANDON" else " (wait)"
            if ex["cancelling"]:
                status += " (cancelling: the pipeline was updated)"
            if ex["executionMode"] != view["executionMode"]:
                status += f" ({ex['executionMode']} mode)"
            if ex["executionType"] == ROLLBACK:
                target = ex["rollbackMetadata"]["rollbackTargetPipelineExecutionId"]
                how = "automatic " if ex["trigger"]["triggerType"] == AUTOMATED_ROLLBACK else ""
                carried = ex["sourceRevisions"][0]["revisionId"] if ex["sourceRevisions"] else None
                also = f", {carried}'s revision" if carried not in (None, target) else ""
                status += f" ({how}rollback to {target}{also})"
            elif ex.get("sourceRevisions"):
                status += f" ({ex['sourceRevisions'][0]['revisionId']}'s revision)"
            acts = ", ".join(f"{k} {v}" for k, v in ex["actionStates"].items())
            erows.append((ex["pipelineExecutionId"], status, ex["where"], acts or "-"))
        lines += _table(erows)
    if view.get("deployTargets"):
        lines.append("")
        trows: list[tuple[str, ...]] = [("Deploy target", "Holds the revision of",
                                         "Abandoned work still running")]
        for t in view["deployTargets"]:
            trows.append((t["target"], t["revisionOf"] or "-",
                          ", ".join(t["abandonedWorkInFlight"]) or "-"))
        lines += _table(trows)
    return "\n".join(lines)


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
            for r in rows]
