"""Reports for people (text) and for programs (JSON): verdicts, statistics and traces.

A trace is a list of numbered steps; each step names the operation the way the AWS CLI would and
shows only what changed: executions' statuses and places, actions' statuses, queues, transitions.
"""

from __future__ import annotations

from typing import Any

from checker.check import (
    NOT_APPLICABLE,
    NOT_SEEN,
    REFUTED,
    UNDETERMINED,
    CheckConfig,
    ModeResult,
    Verdict,
    not_seen,
    overall,
)
from checker.engine import describe_engine, describe_miss, engine_json
from checker.view import stage_status, structure_text, where
from spec.operations import (
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
from spec.rules import Model, apply
from spec.state import AUTOMATED_ROLLBACK, BEFORE_ENTRY, SKIPPED, UPDATE, State, revision_of


def execution_names(m: Model, ops: list[Operation]) -> list[str]:
    """The names of the executions `ops` start, in start order (e1, e2, ...): those started by
    StartPipelineExecution and the rollbacks started on the way.  An operation `m` refuses (the
    step where two rule sets part) starts nothing."""
    state = m.initial()
    for op in ops:
        try:
            state = apply(m, state, op)
        except Refused:
            continue
    return [f"e{i + 1}" for i in range(len(state.executions))]


def describe_operation(m: Model, op: Operation, names: list[str], before: State) -> str:
    """The operation in the API's words, e.g. `RetryStageExecution e1 Build FAILED_ACTIONS`."""
    def n(e: int) -> str:
        return names[e] if e < len(names) else f"e{e + 1}"

    if isinstance(op, StartPipelineExecution):
        pinned = ("" if op.source_revision < 0 else
                  f" sourceRevisions {n(op.source_revision)}'s revision")
        return f"StartPipelineExecution{pinned} -> {n(len(before.executions))}"
    if isinstance(op, UpdatePipeline):
        mode = "" if op.execution_mode is None else f" executionMode {op.execution_mode}"
        return (f"UpdatePipeline{structure_text(m, op.structure)}{mode} -> pipelineVersion "
                f"{before.version + 2}")
    if isinstance(op, RollbackStage):
        return (f"RollbackStage {m.stage_names[op.stage]} to {n(op.target)} -> "
                f"{n(len(before.executions))}")
    if isinstance(op, StopPipelineExecution):
        how = "stop and abandon" if op.abandon else "stop and wait"
        return f"StopPipelineExecution {n(op.execution)} ({how})"
    if isinstance(op, ActionsAbandoned):
        return f"{n(op.execution)}'s in-progress actions are abandoned"
    if isinstance(op, AbandonedWorkFinishes):
        return f"{n(op.execution)}'s abandoned {m.action_names[op.action]} finishes anyway"
    if isinstance(op, RetryStageExecution):
        return f"RetryStageExecution {n(op.execution)} {m.stage_names[op.stage]} {op.retry_mode}"
    if isinstance(op, DisableStageTransition):
        return f"DisableStageTransition {m.stage_names[op.stage]} Inbound"
    if isinstance(op, EnableStageTransition):
        return f"EnableStageTransition {m.stage_names[op.stage]} Inbound"
    if isinstance(op, PutApprovalResult):
        return f"PutApprovalResult {n(op.execution)} {m.action_names[op.action]} {op.status}"
    if isinstance(op, ConditionSucceeded | ConditionFailed):
        ex = before.executions[op.execution]
        which = "entry" if ex.condition == BEFORE_ENTRY else "success"
        verb = "is met" if isinstance(op, ConditionSucceeded) else "is not met"
        return f"{n(op.execution)}'s {which} condition of {m.stage_names[ex.stage]} {verb}"
    if isinstance(op, OverrideStageCondition):
        return (f"OverrideStageCondition {n(op.execution)} {m.stage_names[op.stage]} "
                f"{op.condition_type}")
    verb = {ActionSucceeded: "succeeds", ActionFailed: "fails",
            ApprovalTimedOut: "times out"}[type(op)]
    return f"{n(op.execution)}'s {m.action_names[op.action]} {verb}"


def describe_changes(m: Model, before: State, after: State, names: list[str]) -> list[str]:
    """What changed between two states, in short phrases."""
    out: list[str] = []
    for e, new in enumerate(after.executions):
        old = before.executions[e] if e < len(before.executions) else None
        name = names[e]
        parts: list[str] = []
        if old is None or old.status != new.status:
            parts.append(new.status)
        if old is None or (old.stage, old.waiting) != (new.stage, new.waiting):
            parts.append(where(m, new))
        if old is None and new.is_rollback:
            how = "automatic " if new.trigger == AUTOMATED_ROLLBACK else ""
            target, carried = names[new.rollback_of], names[revision_of(e, new)]
            parts.append(f"{how}rollback to {target}'s revision" if target == carried else
                         f"{how}rollback to {target}, carrying {carried}'s revision")
        elif old is None and new.revision >= 0:
            parts.append(f"{names[new.revision]}'s revision (sourceRevisions)")
        if (old is not None and not old.waiting and old.stage < new.stage
                and stage_status(m, new, old.stage) == SKIPPED):
            parts.append(f"{m.stage_names[old.stage]} Skipped")
        if (new.condition is not None and old is not None and old.condition != new.condition
                and (old.stage, old.waiting) == (new.stage, new.waiting)):
            parts.append(where(m, new))
        if old is not None and new.retried and not old.retried:
            parts.append("retried")
        if old is not None and new.stop == UPDATE and old.stop != UPDATE:
            parts.append("cancelled once its running actions complete")
        if old is not None and new.auto_retries > old.auto_retries and new.stage == old.stage:
            mode = m.of(new).stages[new.stage].automatic_retry
            parts.append(f"{m.stage_names[new.stage]} retried automatically ({mode})")
        for a, status in enumerate(new.actions):
            was = old.actions[a] if old is not None else None
            if status != was:
                parts.append(f"{m.action_names[a]} {status or 'reset'}")
        if parts:
            out.append(f"{name}: " + ", ".join(parts))
    for s, stage in enumerate(m.stage_names):
        if before.inbound[s] != after.inbound[s]:
            queue = ", ".join(names[e] for e in after.inbound[s]) or "none"
            out.append(f"waiting in front of {stage}: {queue}")
        if before.disabled[s] != after.disabled[s]:
            out.append(f"transition into {stage} {'disabled' if after.disabled[s] else 'enabled'}")
    if m.world is not None:
        pairs = zip(before.revisions, after.revisions, strict=True)
        for t, (old_revision, revision) in enumerate(pairs):
            if old_revision != revision:
                out.append(f"{m.world.targets[t]} holds {names[revision]}'s revision")
        for a, e in after.in_flight:
            if (a, e) not in before.in_flight:
                out.append(f"{names[e]}'s {m.action_names[a]} goes on outside CodePipeline")
    return out


def trace_steps(m: Model, ops: list[Operation]) -> list[dict[str, Any]]:
    """Each step of a trace: its number, the operation, and what changed."""
    names = execution_names(m, ops)
    state = m.initial()
    steps = []
    for i, op in enumerate(ops):
        after = apply(m, state, op)
        steps.append({
            "step": i + 1,
            "operation": describe_operation(m, op, names, state),
            "changes": describe_changes(m, state, after, names),
        })
        state = after
    return steps


def render_trace(m: Model, ops: list[Operation], indent: str = "      ") -> list[str]:
    lines = []
    steps = trace_steps(m, ops)
    width = max((len(s["operation"]) for s in steps), default=0)
    for s in steps:
        changes = "; ".join(s["changes"]) or "no visible change"
        lines.append(f"{indent}{s['step']:>2}. {s['operation'].ljust(width)}  | {changes}")
    return lines


def _int(n: float) -> str:
    return f"{n:,.0f}"


def render_text(config: CheckConfig, results: list[ModeResult],
                not_searched: tuple[str, ...] = (), stopped: str | None = None) -> str:
    """The report; ``not_searched`` are the modes that ``stopped`` (Ctrl-C, SIGTERM,
    --max-seconds) left unexplored."""
    stages = " -> ".join(s.name for s in config.pipeline.stages)
    lines = [f"stagelock check: {config.pipeline.name} ({config.source})",
             f"  stages: {stages}"]
    lines += [f"  an update may install {file}: "
              f"{' -> '.join(s.name for s in declared.stages)} ({declared.execution_mode})"
              for file, declared in config.updates_to]
    lines.append(f"  bounds: {config.bounds.describe()}")
    lines[-1] += "".join(f" ({mode}: {n} executions)" for mode, n in config.mode_executions
                         if mode in config.modes)
    if config.variant_names:
        lines.append(f"  rule variants: {', '.join(config.variant_names)}")
    lines += [f"  warning: {w.describe(config.source)}" for w in config.warnings]
    lines += [f"  note: {note}" for note in config.notes]
    for r in results:
        ex = r.exploration
        rate = len(ex) / ex.seconds if ex.seconds else 0.0
        lines.append("")
        status = "exhausted" if ex.complete else (
            "stopped: every property decided" if ex.stopped_by == "every property decided"
            else f"stopped by {ex.stopped_by}")
        if r.interrupted:
            status += f", analysis interrupted by {r.interrupted}"
        lines.append(f"{r.mode}: {_int(len(ex))} states, {_int(ex.transitions)} "
                     f"transitions, depth {ex.max_depth}, {ex.seconds:.1f} s "
                     f"({_int(rate)} states/s) + {r.analysis_seconds:.1f} s analysis, {status}")
        lines.append(f"  engine: {describe_engine(ex)}")
        if r.structural is not None:
            first = r.structural
            how = "exhausted" if first.complete else f"stopped by {first.stopped_by}"
            lines.append(f"  hazards of the pipeline's shape: searched first with no stop, retry "
                         f"or toggle: {_int(len(first))} states, {first.seconds:.1f} s, {how}")
        miss = describe_miss(ex)
        if miss is not None:
            lines.append(f"  {miss}")
        if not r.verdicts:
            lines.append("  no selected property applies to this mode")
        width = max((len(v.property.name) for v in r.verdicts), default=0)
        groups = [g for g in GROUPS if any(v.property.group == g for v in r.verdicts)]
        for group in groups:
            if groups != [GUARANTEES]:
                lines.append(f"  {group}:")
            for v in r.verdicts:
                if v.property.group == group:
                    lines += _verdict_lines(r, v, width)
        counts = ", ".join(f"{k} {_int(c)}" for k, c in sorted(ex.op_counts.items()))
        lines.append(f"  operations: {counts}")
        if r.never_taken is None:
            lines.append("  lifecycle transitions never taken: unknown (the search did not finish)")
        elif r.never_taken:
            never = "; ".join(f"{c} {s} -> {t}" for c, s, t in r.never_taken)
            lines.append(f"  lifecycle transitions never taken: {never}")
        else:
            lines.append("  lifecycle transitions never taken: none")
    for mode in not_searched:
        lines.append("")
        lines.append(f"{mode}: not searched ({stopped} ended the run first): every property "
                     f"UNDETERMINED")
    unseen = not_seen(results)
    if unseen:
        lines.append("")
        lines.append(f"Warning: {len(unseen)} witness{'es' if len(unseen) > 1 else ''} NOT "
                     f"SEEN, so properties may hold only vacuously: {', '.join(unseen)}")
    lines.append("")
    lines.append(f"Result: {overall(results, complete=not not_searched)}")
    return "\n".join(lines)


GUARANTEES = "CodePipeline's guarantees"
GROUPS = ("this pipeline", GUARANTEES)
"""The questions a check answers, in the order a report gives them: about this pipeline (its
hazards and its owner's own properties), then CodePipeline's guarantees (the catalogue)."""


def _verdict_lines(r: ModeResult, v: Verdict, width: int) -> list[str]:
    lines = []
    kind = v.property.kind
    tag = ("" if kind in ("invariant", "step") else
           f" [hazard, {v.severity}{'' if v.fails else ': does not fail the check'}]"
           if kind == "hazard" else f" [{kind}]")
    text = f"  {v.verdict:<12} {v.property.name.ljust(width)}  {v.property.meaning}{tag}"
    lines.append(text.rstrip())
    if v.verdict == REFUTED and v.trace is not None and v.fails:
        lines.append(f"      {v.detail}, after {len(v.trace)} steps:")
        lines += render_trace(r.model, v.trace, indent="      ")
    elif v.verdict == REFUTED:
        lines.append(f"      {v.detail}" + (f" (after {len(v.trace)} steps)"
                                           if v.trace is not None else ""))
    elif v.verdict != UNDETERMINED and v.trace is not None and kind == "witness":
        lines.append(f"      seen after {len(v.trace)} steps: {v.detail}")
    elif v.verdict in (UNDETERMINED, NOT_APPLICABLE, NOT_SEEN) and v.detail:
        lines.append(f"      {v.detail}")
    return lines


def to_json(config: CheckConfig, results: list[ModeResult], not_searched: tuple[str, ...] = (),
            stopped: str | None = None) -> dict[str, Any]:
    """The report as one JSON object (schema in README, "JSON report")."""
    out: dict[str, Any] = {
        "pipeline": config.pipeline.name,
        "source": config.source,
        "bounds": {
            "executions": config.bounds.executions,
            "stops": config.bounds.stops,
            "retries": config.bounds.retries,
            "toggles": config.bounds.toggles,
            "updates": config.bounds.updates,
            "updateModes": list(config.bounds.update_modes),
            "rollbacks": config.bounds.rollbacks,
            "updateTo": [{"file": file, "stages": [s.name for s in declared.stages],
                          "executionMode": declared.execution_mode}
                         for file, declared in config.updates_to],
            "failures": config.bounds.failures,
            "maxStates": config.bounds.max_states,
            "maxSeconds": config.bounds.max_seconds,
            "maxMemory": config.bounds.max_memory,
        },
        "variants": list(config.variant_names),
        "result": overall(results, complete=not not_searched),
        "modes": [],
        "notSearched": [{"mode": m, "stoppedBy": stopped} for m in not_searched],
        "notSeen": not_seen(results),
        "warnings": [w.to_json(config.source) for w in config.warnings],
        "notes": list(config.notes),
    }
    for r in results:
        ex = r.exploration
        mode: dict[str, Any] = {
            "mode": r.mode,
            "executions": r.bounds.executions,
            "states": len(ex),
            "transitions": ex.transitions,
            "depth": ex.max_depth,
            "seconds": round(ex.seconds, 3),
            "analysisSeconds": round(r.analysis_seconds, 3),
            "statesPerSecond": round(len(ex) / ex.seconds) if ex.seconds else None,
            "complete": ex.complete,
            "stoppedBy": ex.stopped_by,
            "engine": engine_json(ex),
            "structuralSearch": None if r.structural is None else {
                "states": len(r.structural), "complete": r.structural.complete,
                "stoppedBy": r.structural.stopped_by,
                "bounds": {"stops": 0, "retries": 0, "toggles": 0}},
            "analysisInterruptedBy": r.interrupted,
            "operations": dict(sorted(ex.op_counts.items())),
            "lifecycleTransitionsNeverTaken": None if r.never_taken is None else [
                {"chart": c, "from": s, "to": t} for c, s, t in r.never_taken
            ],
            "properties": [],
        }
        for v in r.verdicts:
            mode["properties"].append({
                "name": v.property.name,
                "kind": v.property.kind,
                "group": v.property.group,
                "severity": v.severity,
                "failsCheck": v.fails,
                "verdict": v.verdict,
                "detail": v.detail,
                "trace": trace_steps(r.model, v.trace) if v.trace is not None else None,
            })
        out["modes"].append(mode)
    return out
