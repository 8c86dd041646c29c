"""Readers of pipeline declarations, one module per format, all giving the same values.

Every reader turns a file into `PipelineSource`s: the `spec.declaration.Pipeline` it declares,
where in the file each stage and action is (so that every finding points at a line), what the
file says to stagelock about it (the `stagelock:` metadata), and the notes on what was read only
approximately (an intrinsic function that is not evaluated, a Terraform expression that is not
known before apply).  Nothing here prints or exits: a file that is not a valid declaration
raises one `checker.errors.InputError` naming the file, the place and what was expected.

    documents       reading JSON and YAML safely (CloudFormation's short-form tags), `line_at`
    getpipeline     get-pipeline documents, with or without the `pipeline` wrapper
    cloudformation  templates: pipeline resources, their intrinsic functions, `Metadata.stagelock`
    read            `sources_in` and the one-pipeline readers, whatever the format
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from checker.errors import InputError
from spec.declaration import Pipeline
from spec.unmodelled import FieldWarning


@dataclass(frozen=True)
class Note:
    """Something the reader read approximately, and how: shown to the user, never dropped."""

    place: str
    """Where in the file, in the file's own spelling (`Resources.P.Properties.Stages[1].Name`,
    `aws_codepipeline.main.stage[1].name`)."""
    text: str
    """What was done, as the rest of a sentence after the place (`is !If [IsProd, ...]: read
    as if IsProd holds`)."""
    line: int | None = None


@dataclass
class PipelineSource:
    """One pipeline declared in one file."""

    file: str
    pipeline: Pipeline
    where: str
    """How the file names the pipeline: `pipeline` (get-pipeline), `Resources.DeployPipeline`
    (CloudFormation), `aws_codepipeline.main` (Terraform)."""
    locate: Callable[[int, int | None], int | None]
    """`locate(stage, action)`: the 1-based line of stage number `stage` (its action number
    `action`, when not None) in the file, where it can be found."""
    stagelock: dict[str, Any] = field(default_factory=dict)
    """What the file says to stagelock about this pipeline (`ignore`, `actions`, ...), as
    written; `stagelock_place` is where."""
    stagelock_place: str = ""
    disabled: tuple[int, ...] = ()
    """Stages whose inbound transition the declaration disables."""
    notes: list[Note] = field(default_factory=list)
    warnings: tuple[FieldWarning, ...] = ()
    """Fields of the declaration that change execution behaviour but are not modelled, and
    fields that are not in the service model at all, with their lines where known."""


class NoPipeline(InputError):
    """A file that is valid JSON, YAML or Terraform but declares no pipeline (a template with
    no pipeline resource, a `package.json`): bad input for a command that was given it, and
    skipped by `stagelock lint --skip-files-without-pipelines`."""


# The readers need `Note`, `PipelineSource` and `NoPipeline` above, so they are imported after
# them.
from checker.formats.cloudformation import (  # noqa: E402
    CLOUDFORMATION_PIPELINE_TYPE,
    is_cloudformation_template,
)
from checker.formats.documents import line_at, read_document  # noqa: E402
from checker.formats.read import (  # noqa: E402
    document_warnings,
    load_declaration,
    load_pipeline,
    pipeline_from_document,
    source_in,
    sources_in,
    sources_of,
)

__all__ = [
    "CLOUDFORMATION_PIPELINE_TYPE",
    "NoPipeline",
    "Note",
    "PipelineSource",
    "document_warnings",
    "is_cloudformation_template",
    "line_at",
    "load_declaration",
    "load_pipeline",
    "pipeline_from_document",
    "read_document",
    "source_in",
    "sources_in",
    "sources_of",
]
