"""Hazards: what can go wrong outside CodePipeline's own bookkeeping, in a given pipeline.

A hazard is a finding about a user's pipeline, not a bug in the specification: each is a step
property over the model with its outside world (`spec.world`), made once per place in the
pipeline it concerns (a target, a reader, a stage), so that every place gets its own shortest
trace.  Each carries a stable rule id, a severity and the fix.

Severity says what it takes for the hazard to happen:

    error    the pipeline's own shape allows it, without any operator action;
    warning  an operator's action opens it (a stop and abandon, a stop with the transition
             into the stage enabled);
    note     advice that holds for every pipeline of a shape; said once per pipeline.

A hazard found through an inference (`spec.world.Role.inferred`: a CodeBuild action read as a
test or a deploy from its name) is reported one level lower, and says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from spec.operations import (
    Operation,
)
from spec.patterns import PropertySpec, abandoned_on, instance, starts
from spec.properties import Property
from spec.rules import Model
from spec.state import ACTIVE, STOPPED, SUCCEEDED, Execution, State
from spec.world import LAST_WRITER_WINS, REFUSES_WHILE_BUSY

SEVERITIES = ("error", "warning", "note")
"""From the most to the least severe."""


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    severity: str
    """One of SEVERITIES."""
    summary: str
    fix: str
    source: str
    operator: bool = False
    """A hazard of how the pipeline is operated (it needs a stop); the others come from the
    pipeline's structure alone and are looked for without any stop, so that a structural finding
    is never just a consequence of an operator's action."""
    grouped: bool = False
    """One finding per pipeline, listing every place it applies to: the rule says how the
    pipeline is operated (a note that holds for every pipeline of a shape, or what a stop and
    abandon does to each target of a kind), so a finding per place would repeat itself."""


RULES = {r.id: r for r in (
    Rule("SL101", "late-overwrite-after-abandon", "warning",
         "an abandoned deployment keeps running, finishes after a newer one and puts the older "
         "revision back",
         "stop and wait instead of stop and abandon, or let the abandoned deployment finish "
         "before a newer execution deploys to the same target",
         "When the old deployment completes, the new file is overwritten by the old file.",
         operator=True, grouped=True),
    Rule("SL102", "out-of-order-deployment", "error",
         "deployments to the same target finish out of order and an older revision replaces a "
         "newer one",
         "give each stage a target of its own, and in PARALLEL mode each execution too (or use "
         "QUEUED mode)",
         "Use PARALLEL mode in development environments where each feature has its own feature "
         "branch and deploys to targets that are not shared by other users."),
    Rule("SL103", "deploy-fails-while-abandoned-work-runs", "warning",
         "a deployment starts while an abandoned one still runs on the same target; the "
         "provider refuses to run both, so one of them fails",
         "stop and wait instead of stop and abandon, or wait for the abandoned deployment to "
         "end before retrying or starting a new execution",
         "In the case of an AWS CloudFormation action, the deployment action in the pipeline is "
         "abandoned, but the stack update might continue and result in a failed update.",
         operator=True, grouped=True),
    Rule("SL104", "concurrent-deploys-refused", "error",
         "two executions deploy to the same target at once, and the provider refuses the "
         "second: that deployment fails",
         "deploy each target from one stage, and in PARALLEL mode give each execution a target "
         "of its own (or use QUEUED mode)",
         "Use PARALLEL mode in development environments where each feature has its own feature "
         "branch and deploys to targets that are not shared by other users."),
    Rule("SL201", "tested-revision-differs", "error",
         "a test passes for one revision while its environment holds another",
         "put the test action in the deploy stage, after the deploy",
         "a test action after a deployment action in the same stage is guaranteed to test the "
         "same change that was deployed."),
    Rule("SL202", "read-revision-differs", "error",
         "an action runs for one revision while what it reads holds another",
         "put the action in the stage that writes what it reads, after the write, or give "
         "each execution its own copy (a key per revision)",
         "While a stage is locked, waiting executions are held in front of the locked stage."),
    Rule("SL203", "stale-read-before-write", "error",
         "an execution reads a target, another execution changes it, and the first one then "
         "acts on what it read",
         "read and write the target in one stage, so that the stage lock keeps other "
         "executions out between the two",
         "While a stage is locked, waiting executions are held in front of the locked stage."),
    Rule("SL301", "stop-without-disabled-transition", "note",
         "after an execution is stopped in a stage, the next execution enters that stage",
         "disable the inbound transition before stopping",
         "Before you stop an execution, we recommend that you disable the transition in front "
         "of the stage.", operator=True, grouped=True),
    Rule("SL900", "own-property", "error",
         "a property written for this pipeline under `stagelock: properties` does not hold",
         "see why the property matters: the trace shows how it fails",
         "the pipeline's owner"),
    Rule("SL401", "approval-sees-other-revision", "error",
         "an approval is given for one revision while the environment the approver looks at "
         "holds another",
         "put the approval in the stage that deploys what is approved, after the deploy, so "
         "that the stage lock keeps the environment on the revision being approved",
         "A stage with an approval action is locked until the approval action is approved or "
         "rejected or has timed out."),
)}


OWN = "SL900"

UNMODELLED_FIELD = "SL501"
DECLARATION_RULES = {UNMODELLED_FIELD: Rule(
    UNMODELLED_FIELD, "unmodelled-field", "warning",
    "a field of the declaration changes how executions run but is not modelled, or is not a "
    "field at all, so the verdicts do not account for it",
    "correct a misspelt name; for a field that is not modelled (an entry or success condition, "
    "a rollback), check by hand what it changes in the executions the findings describe",
    "the fields of the CodePipeline API's PipelineDeclaration, as spec.unmodelled sorts them")}
"""What `stagelock lint` says about a declaration rather than about its executions: a rule of
its own, not a hazard (no property is searched for it), reported and silenced like the hazards'
(`spec.unmodelled.FieldWarning`)."""

LINT_RULES = {**RULES, **DECLARATION_RULES}
"""Every rule id lint reports and `--ignore` takes: the hazards', then the declaration's."""
"""The rule of every property a pipeline's owner writes (`spec.patterns`): its findings carry
the property's own name, meaning and why."""


@dataclass(frozen=True)
class Hazard:
    """One hazard rule at one place of the pipeline, as a property the checker can refute."""

    rule: Rule
    stage: str
    action: str | None
    property: Property
    inferred: str | None = None
    """How the action it concerns was inferred, when it was."""
    severity: str = "error"
    """The rule's severity, one level lower when the hazard rests on an inference."""


def _e(n: int) -> str:
    return f"e{n + 1}"


def _refused_busy(m: Model, t: int):  # type: ignore[no-untyped-def]
    def check(m: Model, b: State, op: Operation, a: State) -> str | None:
        assert m.world is not None
        for e, w in starts(m, b, a, t):
            busy = abandoned_on(m, a, t)
            if busy:
                return (f"{_e(e)}'s {m.action_names[w]} started on {m.world.targets[t]} while "
                        f"{_e(busy[0])}'s abandoned deployment was still running there")
        return None
    return check


def passed(ex: Execution, action: int) -> bool:
    """Whether the execution has been through the action (it succeeded there)."""
    return ex.actions[action] == SUCCEEDED


def _stale_read(m: Model, reader: int, writer: int):  # type: ignore[no-untyped-def]
    def check(m: Model, b: State, op: Operation, a: State) -> str | None:
        assert m.world is not None
        t = m.world.writes[writer]
        if a.revisions[t] == b.revisions[t]:
            return None
        by = a.revisions[t]
        for e, ex in enumerate(a.executions):
            if e != by and ex.status in ACTIVE and passed(ex, reader) \
                    and not passed(ex, writer):
                return (f"{_e(e)} read {m.world.targets[t]} in {m.action_names[reader]}, then "
                        f"{_e(by)} changed it, before {_e(e)}'s {m.action_names[writer]} "
                        f"acts on what it read")
        return None
    return check


def _entered_after_stop(m: Model, s: int):  # type: ignore[no-untyped-def]
    def check(m: Model, b: State, op: Operation, a: State) -> str | None:
        stopped = b.latest[s]
        if stopped < 0 or a.latest[s] == stopped or a.executions[a.latest[s]].is_rollback:
            return None  # a rollback does not pass the transition (`spec.rules.start_rollback`)
        ex = b.executions[stopped]
        if ex.status != STOPPED or ex.waiting or ex.stage != s or ex.stop is None:
            return None
        return (f"{_e(a.latest[s])} entered {m.stage_names[s]} after {_e(stopped)} was stopped "
                f"there, with the transition into {m.stage_names[s]} enabled")
    return check


def _order(m: Model, a: int) -> tuple[int, int]:
    """An action's place in the pipeline's order: its stage, then its runOrder."""
    s = m.action_stage[a]
    local = m.stage_actions[s].index(a)
    return s, m.stages[s].actions[local].run_order


def hazards_for(m: Model) -> list[Hazard]:
    """Every hazard that can apply to the model's pipeline, one per place.

    Where a pattern of `spec.patterns` says what the hazard is, the hazard is that pattern's
    instance (the same check, under the rule's name): SL101 and SL102 are `never-older`, SL104 is
    `exclusive` over a target's deploys, SL201, SL202 and SL401 are `matches`.  SL103, SL203 and
    SL301 are about how a provider or an operator interleaves work, and have checks of their own.
    """
    assert m.world is not None, "hazards need a model built with its world"
    world = m.world
    out: list[Hazard] = []

    def add(rule_id: str, a: int | None, check: Property | tuple,  # type: ignore[type-arg]
            stage: int | None = None) -> None:
        rule = RULES[rule_id]
        s = m.action_stage[a] if a is not None else stage
        assert s is not None
        where = m.stage_names[s] + (f".{m.action_names[a]}" if a is not None else "")
        if isinstance(check, Property):
            state_check, step_check, code = check.state_check, check.step_check, check.instance
        else:
            state_check, (step_check, code) = None, check
        prop = Property(f"{rule.name}@{where}", "hazard",
                        rule.summary, rule.source, (m.policy.name,), state_check=state_check,
                        step_check=step_check, instance=code, group="this pipeline")
        role = world.roles[a] if a is not None and world.roles else None
        inferred = role.how if role is not None and role.inferred else None
        severity = rule.severity
        if inferred is not None:
            severity = SEVERITIES[min(SEVERITIES.index(severity) + 1, len(SEVERITIES) - 1)]
        out.append(Hazard(rule, m.stage_names[s], m.action_names[a] if a is not None else None,
                          prop, inferred, severity))

    def pattern(name: str, **args: object) -> Property:
        return instance(m, PropertySpec(name, args))

    def action(a: int) -> str:
        return f"{m.stage_names[m.action_stage[a]]}.{m.action_names[a]}"

    for t in range(len(world.targets)):
        writers = [a for a, w in enumerate(world.writes) if w == t]
        if not writers:
            continue
        writer = writers[0]
        overlap = world.overlap[t] if world.overlap else LAST_WRITER_WINS
        if overlap == LAST_WRITER_WINS:
            add("SL101", writer, pattern("never-older", target=world.targets[t],
                                         via="abandoned-work"))
        add("SL102", writer, pattern("never-older", target=world.targets[t], via="deploy"))
        if overlap == REFUSES_WHILE_BUSY:
            add("SL103", writer, (_refused_busy(m, t), ("refused-busy", t)))
            add("SL104", writer, pattern("exclusive", actions=[action(w) for w in writers],
                                         **{"abandoned-work": False}))
    for a, reads in enumerate(world.reads):
        kind = world.roles[a].kind if world.roles else "test"
        for t in reads:
            writers = [w for w, x in enumerate(world.writes) if x == t and w != a]
            if any(_order(m, w) < _order(m, a) for w in writers):
                rule = {"test": "SL201", "approval": "SL401"}.get(kind, "SL202")
                add(rule, a, pattern("matches", action=action(a), target=world.targets[t]))
            for w in writers:
                if _order(m, w) > _order(m, a):
                    add("SL203", a, (_stale_read(m, a, w), ("stale-read", a, w)))
    for s in range(1, m.stage_count):
        add("SL301", None, (_entered_after_stop(m, s), ("entered-after-stop", s)), stage=s)
    return out
