"""The three execution modes, as the few decisions in which they differ.

The rules in `spec.rules` are the same for every mode; where the documentation gives the modes
different behaviour, a rule asks the mode's policy.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModePolicy:
    name: str
    stage_lock: bool
    """Each stage processes one execution at a time; others wait in front of it.

    SUPERSEDED: "Because each stage can process only one execution at a time, the stage is locked
    while in progress."  QUEUED: "When a queued execution enters a stage, the stage is locked and
    no other executions can enter."  PARALLEL: "executions are independent of one another"."""

    supersedes_waiting: bool
    """A newer arrival replaces the execution waiting in front of a stage, which is Superseded.

    SUPERSEDED: "A more recent execution overtakes a waiting execution".  QUEUED: "waiting
    executions do not overtake executions that have already started".  PARALLEL: "There are no
    queues."  (A disabled transition still holds PARALLEL executions; see `spec.rules`.)"""

    has_pipeline_state: bool
    """Stages record their latest execution, and retry is refused once another execution has
    entered the stage.  PARALLEL: "Parallel mode does not have a pipeline state." [UG
    execution-modes]; its executions are independent, so a newer one never blocks a retry."""

    concurrency_limit: int | None
    """"Maximum number of concurrent pipeline executions per pipeline (QUEUED | PARALLEL mode)":
    50 [UG limits].  No limit is documented for SUPERSEDED."""

    update_cancels: bool
    """An UpdatePipeline cancels the executions in flight.  [UG:execution-modes], changing the
    mode (or not) on an update: SUPERSEDED or QUEUED to any mode: "Active executions are
    cancelled after in-progress actions complete. Pending executions are cancelled."
    PARALLEL to PARALLEL: "All executions are allowed to run independently of pipeline
    definition updates." """


SUPERSEDED_MODE = ModePolicy("SUPERSEDED", True, True, True, None, True)
QUEUED_MODE = ModePolicy("QUEUED", True, False, True, 50, True)
PARALLEL_MODE = ModePolicy("PARALLEL", False, False, False, 50, False)

MODES = {m.name: m for m in (SUPERSEDED_MODE, QUEUED_MODE, PARALLEL_MODE)}


def policy_of(mode: str | None, default: ModePolicy) -> ModePolicy:
    """The policy of `mode`, an execution's or the pipeline's (`Execution.mode`, `State.mode`):
    None is the mode the model was built for, `default`."""
    return default if mode is None else MODES[mode]
