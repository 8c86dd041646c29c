"""Hazards: what can go wrong outside CodePipeline's own bookkeeping, in a given pipeline.

A hazard is a finding about a user's pipeline, not a bug in the specification: each is a step
property over the model with its outside world (`spec.world`), made once per place in the
pipeline it concerns (a target, a test action, a stage, an approval), so that every place gets
its own shortest trace.  Each carries a stable rule id, a severity and the fix.
"""

from __future__ import annotations

from dataclasses import dataclass

from spec.operations import (
    APPROVED,
    AbandonedWorkFinishes,
    ActionSucceeded,
    Operation,
    PutApprovalResult,
)
from spec.properties import Property
from spec.rules import Model
from spec.state import STOPPED, State


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    severity: str
    """"error" or "warning"."""
    summary: str
    fix: str
    source: str
    operator: bool = False
    """A hazard of how the pipeline is operated (it needs a stop); the others come from the
    pipeline's structure alone and are looked for without any stop, so that a structural finding
    is never just a consequence of an operator's action."""


RULES = {r.id: r for r in (
    Rule("SL101", "out-of-order-deployment-after-abandon", "error",
         "an abandoned deployment finishes after a newer one and puts the older revision back",
         "stop and wait instead of stop and abandon, or let the abandoned deployment finish "
         "before a newer execution deploys to the same target",
         "When the old deployment completes, the new file is overwritten by the old file.",
         operator=True),
    Rule("SL102", "out-of-order-deployment", "error",
         "deployments to the same target finish out of order and an older revision replaces a "
         "newer one",
         "give each stage a target of its own, and in PARALLEL mode each execution too (or use "
         "QUEUED mode)",
         "Use PARALLEL mode in development environments where each feature has its own feature "
         "branch and deploys to targets that are not shared by other users."),
    Rule("SL201", "tested-revision-differs", "error",
         "a test passes for one revision while its environment holds another",
         "put the test action in the deploy stage, after the deploy",
         "a test action after a deployment action in the same stage is guaranteed to test the "
         "same change that was deployed."),
    Rule("SL301", "stop-without-disabled-transition", "warning",
         "after an execution is stopped in a stage, the next execution enters that stage",
         "disable the inbound transition before stopping",
         "Before you stop an execution, we recommend that you disable the transition in front "
         "of the stage.", operator=True),
    Rule("SL401", "stale-approval", "warning",
         "an older revision is approved while a newer one waits in front of the stage",
         "reject the older approval (or let it expire) so that the newest waiting execution "
         "enters and asks for approval itself",
         "A stage with an approval action is locked until the approval action is approved or "
         "rejected or has timed out."),
)}


@dataclass(frozen=True)
class Hazard:
    """One hazard rule at one place of the pipeline, as a property the checker can refute."""

    rule: Rule
    stage: str
    action: str | None
    property: Property


def _e(n: int) -> str:
    return f"e{n + 1}"


def _backwards(m: Model, t: int, via_abandon: bool):  # type: ignore[no-untyped-def]
    def check(m: Model, b: State, op: Operation, a: State) -> str | None:
        old, new = b.revisions[t], a.revisions[t]
        if old < 0 or new >= old or isinstance(op, AbandonedWorkFinishes) != via_abandon:
            return None
        how = "abandoned work of" if via_abandon else "a deployment of"
        assert m.world is not None
        return (f"{m.world.targets[t]} went back from {_e(old)}'s revision to {_e(new)}'s "
                f"when {how} {_e(new)} finished")
    return check


def _tested_other(m: Model, action: int):  # type: ignore[no-untyped-def]
    def check(m: Model, b: State, op: Operation, a: State) -> str | None:
        if not isinstance(op, ActionSucceeded) or op.action != action:
            return None
        assert m.world is not None
        t = m.world.reads[action]
        held = b.revisions[t]
        if held == op.execution:
            return None
        what = f"{_e(held)}'s revision" if held >= 0 else "no revision"
        return (f"{m.action_names[action]} passed for {_e(op.execution)} while "
                f"{m.world.targets[t]} held {what}")
    return check


def _entered_after_stop(m: Model, s: int):  # type: ignore[no-untyped-def]
    def check(m: Model, b: State, op: Operation, a: State) -> str | None:
        stopped = b.latest[s]
        if stopped < 0 or a.latest[s] == stopped:
            return None
        ex = b.executions[stopped]
        if ex.status != STOPPED or ex.waiting or ex.stage != s or ex.stop is None:
            return None
        return (f"{_e(a.latest[s])} entered {m.stage_names[s]} after {_e(stopped)} was stopped "
                f"there, with the transition into {m.stage_names[s]} enabled")
    return check


def _stale_approval(m: Model, action: int):  # type: ignore[no-untyped-def]
    def check(m: Model, b: State, op: Operation, a: State) -> str | None:
        if not (isinstance(op, PutApprovalResult) and op.action == action
                and op.status == APPROVED):
            return None
        s = m.action_stage[action]
        newer = [f for f in b.inbound[s] if f > op.execution]
        if not newer:
            return None
        return (f"{m.action_names[action]} approved {_e(op.execution)} while the newer "
                f"{_e(newer[-1])} waited in front of {m.stage_names[s]}")
    return check


def hazards_for(m: Model) -> list[Hazard]:
    """Every hazard that can apply to the model's pipeline, one per place."""
    assert m.world is not None, "hazards need a model built with its world"
    world = m.world
    out: list[Hazard] = []

    def add(rule_id: str, stage: str, action: str | None, check,  # type: ignore[no-untyped-def]
            instance: tuple[object, ...]) -> None:
        rule = RULES[rule_id]
        where = f"{stage}.{action}" if action else stage
        prop = Property(f"{rule.name}@{where}", "hazard", rule.summary, rule.source,
                        (m.policy.name,), step_check=check, instance=instance)
        out.append(Hazard(rule, stage, action, prop))

    for t, target in enumerate(world.targets):
        writer = world.writes.index(t)
        stage, action = m.stage_names[m.action_stage[writer]], m.action_names[writer]
        del target
        add("SL101", stage, action, _backwards(m, t, via_abandon=True), ("backwards", t, True))
        add("SL102", stage, action, _backwards(m, t, via_abandon=False),
            ("backwards", t, False))
    for a, t in enumerate(world.reads):
        if t >= 0:
            add("SL201", m.stage_names[m.action_stage[a]], m.action_names[a], _tested_other(m, a),
                ("tested-other", a))
    for s in range(1, m.stage_count):
        add("SL301", m.stage_names[s], None, _entered_after_stop(m, s),
            ("entered-after-stop", s))
    for a, approval in enumerate(m.approval):
        if approval:
            add("SL401", m.stage_names[m.action_stage[a]], m.action_names[a],
                _stale_approval(m, a), ("stale-approval", a))
    return out
