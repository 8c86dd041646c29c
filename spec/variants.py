"""Named rule variants: the other choice of a documented decision, or a rule broken on purpose.

A variant is how a rule change is expressed and regression-tested.  The deliberately broken ones
exist to show that each property can fail: the checker must refute the unmodified spec on none of
them, and each broken variant on the property it names.
"""

from __future__ import annotations

from dataclasses import dataclass, fields


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
        ),
        Variant(
            "retry-after-supersession",
            "RetryStageExecution accepts a superseded execution and puts it back in front of "
            "the stage",
            broken=True,
            refuted_by=("no-retry-after-supersession",),
            modes=("SUPERSEDED",),
        ),
        Variant(
            "stopped-inbound-enters",
            "a stopped inbound execution stays in the queue and enters the stage when it frees",
            broken=True,
            refuted_by=("finished-executions-never-change",),
        ),
        Variant(
            "queued-overtakes",
            "the newest execution waiting in front of a stage enters first",
            broken=True,
            refuted_by=("queued-never-overtakes", "enters-in-start-order"),
            modes=("QUEUED",),
        ),
        Variant(
            "stop-releases-lock-early",
            "a stopping execution releases its stage before its in-progress actions finish",
            broken=True,
            refuted_by=("one-execution-per-stage-lock",),
            modes=("SUPERSEDED", "QUEUED"),
        ),
        Variant(
            "approval-does-not-lock",
            "a stage whose only in-progress action is an approval admits the next execution",
            broken=True,
            refuted_by=("approval-holds-stage",),
            modes=("SUPERSEDED", "QUEUED"),
        ),
        Variant(
            "failure-keeps-lock",
            "a failed execution keeps its stage locked",
            broken=True,
            refuted_by=("inbound-enters-when-available", "can-always-finish", "no-deadlock"),
            modes=("SUPERSEDED", "QUEUED"),
        ),
        Variant(
            "superseded-mode-queues",
            "in SUPERSEDED mode a newer arrival queues behind the waiting execution",
            broken=True,
            refuted_by=("one-waiting-per-stage", "supersession-happens"),
            modes=("SUPERSEDED",),
        ),
        Variant(
            "queued-supersedes",
            "in QUEUED mode a newer arrival supersedes the waiting execution",
            broken=True,
            refuted_by=("queued-never-supersedes",),
            modes=("QUEUED",),
        ),
        Variant(
            "abandon-leaves-actions-running",
            "after stop and abandon the execution is Stopped but its actions stay InProgress",
            broken=True,
            refuted_by=("nothing-in-progress-after-stop",),
        ),
        Variant(
            "stop-wait-starts-next-group",
            "under stop and wait the execution goes on: the next runOrder group starts, or the "
            "execution moves on to the next stage",
            broken=True,
            refuted_by=("stop-and-wait-starts-nothing",),
        ),
        Variant(
            "failed-stage-moves-on",
            "a stage moves on once nothing is in progress, even with a failed action",
            broken=True,
            refuted_by=("leaves-stage-only-when-all-succeeded",),
        ),
        Variant(
            "retry-after-stage-fails",
            "RetryStageExecution waits until the stage has failed: no retry of failed actions "
            "while their siblings still run",
            broken=False,
        ),
        Variant(
            "parallel-ignores-disabled-transition",
            "in PARALLEL mode a disabled inbound transition holds no execution",
            broken=False,
            modes=("PARALLEL",),
        ),
    )
}


@dataclass(frozen=True)
class Rules:
    """Which variants are in force; all False is the specification as documented."""

    supersede_inside_stage: bool = False
    retry_after_supersession: bool = False
    stopped_inbound_enters: bool = False
    queued_overtakes: bool = False
    stop_releases_lock_early: bool = False
    approval_does_not_lock: bool = False
    failure_keeps_lock: bool = False
    superseded_mode_queues: bool = False
    queued_supersedes: bool = False
    abandon_leaves_actions_running: bool = False
    stop_wait_starts_next_group: bool = False
    failed_stage_moves_on: bool = False
    retry_after_stage_fails: bool = False
    parallel_ignores_disabled_transition: bool = False

    @classmethod
    def with_variants(cls, names: tuple[str, ...] | list[str] = ()) -> Rules:
        known = {f.name for f in fields(cls)}
        flags = {}
        for name in names:
            attr = name.replace("-", "_")
            if name not in VARIANTS or attr not in known:
                raise KeyError(name)
            flags[attr] = True
        return cls(**flags)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name.replace("_", "-") for f in fields(self) if getattr(self, f.name))


DOCUMENTED = Rules()
