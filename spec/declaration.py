"""A pipeline declaration as plain values: what the model needs of a CodePipeline declaration.

The shape follows `PipelineDeclaration` of the CodePipeline API (what `aws codepipeline
get-pipeline` prints).  Only the fields that change how executions flow are kept; everything else
in a declaration is accepted and ignored by the reader (`parse_pipeline`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

EXECUTION_MODES = ("SUPERSEDED", "QUEUED", "PARALLEL")
"""`ExecutionMode` values.  "The default mode is SUPERSEDED." [API ExecutionMode]"""

PIPELINE_TYPES = ("V1", "V2")
ACTION_CATEGORIES = ("Source", "Build", "Deploy", "Test", "Invoke", "Approval", "Compute")


@dataclass(frozen=True)
class Action:
    name: str
    category: str = "Build"
    run_order: int = 1
    provider: str = ""
    configuration: tuple[tuple[str, str], ...] = ()

    @property
    def is_approval(self) -> bool:
        return self.category == "Approval"


@dataclass(frozen=True)
class Stage:
    name: str
    actions: tuple[Action, ...]

    @property
    def groups(self) -> tuple[tuple[Action, ...], ...]:
        """The stage's action groups: actions of equal runOrder, lowest runOrder first."""
        orders = sorted({a.run_order for a in self.actions})
        return tuple(tuple(a for a in self.actions if a.run_order == o) for o in orders)


@dataclass(frozen=True)
class Pipeline:
    name: str
    stages: tuple[Stage, ...]
    execution_mode: str = "SUPERSEDED"
    pipeline_type: str = "V1"
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def stage_index(self, name: str) -> int:
        for i, stage in enumerate(self.stages):
            if stage.name == name:
                return i
        raise KeyError(name)
