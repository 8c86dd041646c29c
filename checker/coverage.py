"""Which lifecycle transitions a step of the global model makes.

Every status change of a global step is read as a transition of one entity's chart: the pipeline
execution, each of its stage executions, each action (an approval's own chart for approvals) and
each inbound transition.  The tests use this to check every step against the charts (the
oracle); the checker's report uses it to list the chart transitions a search never took.
"""

from __future__ import annotations

from collections.abc import Callable

from spec.declaration import Stage
from spec.lifecycles import COMPILED
from spec.modes import MODES
from spec.rules import Model, stage_status
from spec.state import IN_PROGRESS, STOPPING, Execution, State

Change = tuple[str, str, str]
"""(chart name, source value, target value)."""


def execution_changes(m: Model, old: Execution | None, new: Execution) -> list[Change]:
    """The chart transitions that turn `old` into `new` (`old` None: the execution just started)."""
    out: list[Change] = []
    switched_to_abandon = (
        old is not None and old.status == STOPPING == new.status and old.stop != new.stop
    )
    if old is None:
        if new.status != COMPILED["pipeline-execution"].initial:
            out.append(("pipeline-execution", COMPILED["pipeline-execution"].initial, new.status))
    elif old.status != new.status or switched_to_abandon:
        out.append(("pipeline-execution", old.status, new.status))
    for s in range(m.stage_count):
        before = stage_status(m, old, s) if old is not None else None
        after = stage_status(m, new, s)
        if before == after and not (switched_to_abandon and s == new.stage):
            continue
        if before is None:
            initial = COMPILED["stage-execution"].initial
            if after != initial:
                out.append(("stage-execution", initial, str(after)))
        elif after is not None:
            out.append(("stage-execution", before, after))
        else:
            out.append(("stage-execution", before, "(gone)"))
    retried = automatically_retried(m, old, new)
    if retried:
        out += [("stage-execution", "InProgress", "Failed"),
                ("stage-execution", "Failed", "InProgress")]
    for a in range(len(m.action_names)):
        before_a = old.actions[a] if old is not None else None
        after_a = new.actions[a]
        if before_a != after_a:
            chart = "approval" if m.approval[a] else "action-execution"
            if retried and before_a == IN_PROGRESS and after_a is None:
                # failed in this step, and reset by the automatic retry of all actions
                out += [(chart, "InProgress", "Failed"), (chart, "Failed", "NotStarted")]
                continue
            out.append((chart, before_a or "NotStarted", after_a or "NotStarted"))
    return out


def automatically_retried(m: Model, old: Execution | None, new: Execution) -> bool:
    """Whether the step failed the execution's stage and retried it automatically: the stage
    went through Failed and back to InProgress, which the one step does not show."""
    return (old is not None and not new.waiting and new.stage == old.stage
            and new.auto_retries > old.auto_retries)


def lifecycle_changes(m: Model, before: State, after: State) -> list[Change]:
    """Every chart transition made by the step from `before` to `after`."""
    out: list[Change] = []
    for e, new in enumerate(after.executions):
        old = before.executions[e] if e < len(before.executions) else None
        if old is not new and old != new:
            out += execution_changes(m, old, new)
    for s, (was, now) in enumerate(zip(before.disabled, after.disabled, strict=True)):
        if was != now:
            del s
            names = ("Enabled", "Disabled")
            out.append(("inbound-transition", names[was], names[now]))
    return out


NEEDS_DECLARATION: dict[Change, tuple[str, Callable[[tuple[Stage, ...]], bool]]] = {
    ("stage-execution", "InProgress", "Skipped"):
        ("an entry condition with result SKIP",
         lambda stages: any(st.before_entry == "SKIP" for st in stages)),
    ("stage-execution", "InProgress", "Stopped"):
        ("a stage condition (a stop while its rules run)",
         lambda stages: any(st.before_entry or st.on_success for st in stages)),
    ("stage-execution", "Failed", "Succeeded"):
        ("a success condition (overridden after it failed the stage)",
         lambda stages: any(st.on_success for st in stages)),
    ("pipeline-execution", "Failed", "Succeeded"):
        ("a success condition on the last stage (overridden after it failed the stage)",
         lambda stages: bool(stages) and stages[-1].on_success is not None),
}
"""Chart transitions that only some declarations can make, with what they need of the
pipeline's stages.  A pipeline without it cannot take them, so a search that never takes them
has left nothing out."""


NEEDS_UPDATE = frozenset({("pipeline-execution", "InProgress", "Cancelled"),
                          ("stage-execution", "InProgress", "Cancelled")})
"""Chart transitions that only a pipeline update makes, in a mode where an update cancels the
executions in flight (`spec.modes.ModePolicy.update_cancels`)."""


def possible_changes(m: Model, updates: int = 0,
                     update_modes: tuple[str, ...] = ()) -> set[Change]:
    """Every chart transition that some run of `m`'s pipeline can make, with `updates` pipeline
    updates at most that may change the mode to `update_modes`, as far as its declaration tells
    (`NEEDS_DECLARATION`, `NEEDS_UPDATE`; the approval chart only with a manual approval, the
    action chart only with another action).  An update cancels executions of a mode whose updates
    cancel: the model's own, or one an earlier update changed to."""
    # The stages of the declaration, and of each structure an update may install.
    structures = [tuple(s for s in k.stages if s.actions) for k in m.structures or (m,)]
    cancels = updates > 0 and m.policy.update_cancels or updates > 1 and any(
        MODES[md].update_cancels for md in update_modes)
    # An action's chart is taken only where the pipeline has an action of its kind.
    charts = {"approval": any(m.approval), "action-execution": not all(m.approval)}
    return {(name, source, target) for name, chart in COMPILED.items()
            if charts.get(name, True)
            for source, target in chart.pairs
            if ((need := NEEDS_DECLARATION.get((name, source, target))) is None
                or any(need[1](stages) for stages in structures))
            and (cancels or (name, source, target) not in NEEDS_UPDATE)}


def not_in_charts(changes: list[Change]) -> list[Change]:
    """The changes that are not transitions of their chart."""
    return [c for c in changes if (c[1], c[2]) not in COMPILED[c[0]].pairs]


def inbound_transition_changes(op_counts: dict[str, int]) -> set[Change]:
    """The inbound transition chart's transitions that a search made: every
    DisableStageTransition step disables one, every EnableStageTransition step enables one."""
    out: set[Change] = set()
    if op_counts.get("DisableStageTransition"):
        out.add(("inbound-transition", "Enabled", "Disabled"))
    if op_counts.get("EnableStageTransition"):
        out.add(("inbound-transition", "Disabled", "Enabled"))
    return out
