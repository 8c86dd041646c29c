"""Reading any declaration file: the document decides which reader reads it."""

from __future__ import annotations

from pathlib import Path

from checker.errors import InputError
from checker.formats import PipelineSource, cloudformation, getpipeline
from checker.formats.cloudformation import is_cloudformation_template
from checker.formats.documents import read_document, read_text_and_document
from spec.declaration import Pipeline


def sources_in(path: str | Path) -> list[PipelineSource]:
    """Every pipeline declared in the file at ``path``: the one of a get-pipeline document, or
    each `AWS::CodePipeline::Pipeline` resource of a CloudFormation template, in its order."""
    text, doc = read_text_and_document(path)
    return sources_of(doc, str(path), text)


def sources_of(doc: object, file: str, text: str | None = None) -> list[PipelineSource]:
    """Every pipeline a document read from ``file`` declares; ``text`` is the file's text, for
    the lines of stages, actions and notes (None: no lines)."""
    if is_cloudformation_template(doc):
        return cloudformation.sources_of(doc, file, text)
    return [getpipeline.source_of(doc, file, text)]


def source_in(path: str | Path, resource: str | None = None) -> PipelineSource:
    """The one pipeline declared in the file at ``path`` (the resource ``resource`` of a
    template that has several), with its places, its stagelock settings and its notes."""
    file = str(path)
    text, doc = read_text_and_document(path)
    if is_cloudformation_template(doc):
        chosen = cloudformation.chosen_pipeline(doc, file, resource)
        return cloudformation.source_of(doc, file, chosen, text)
    _no_resource(doc, file, resource)
    return getpipeline.source_of(doc, file, text)


def load_pipeline(path: str | Path, resource: str | None = None,
                  named_by: str | None = None) -> Pipeline:
    """The pipeline declared in the file at ``path``.

    The file holds a declaration (with or without `get-pipeline`'s ``pipeline`` wrapper) or a
    CloudFormation template; ``resource`` names the pipeline resource of a template that has
    several.  ``named_by`` is the data file that names this one (a scenario, a model file),
    when the user did not name it: then no error quotes anything from it that is not a
    declaration (it may be any file, a `.env` for one), only its path, the place and why.
    """
    if named_by is None:
        return pipeline_from_document(read_document(path), str(path), resource=resource)
    file = str(path)
    try:
        doc = read_document(path)
    except InputError as error:
        if _quotes(error.expected) or _quotes(error.place):
            place = "" if _quotes(error.place) else error.place
            raise InputError(file, place, f"expected a JSON or YAML pipeline declaration "
                             f"(named by {named_by}; what is there is not shown)") from None
        raise
    if not isinstance(doc, dict):
        raise InputError(file, "", f"expected a pipeline declaration (named by {named_by}), got "
                         f"{_kind_of(doc)}, whose contents are not shown")
    return pipeline_from_document(doc, file, resource=resource)


def pipeline_from_document(doc: object, file: str, resource: str | None = None) -> Pipeline:
    """The pipeline a document read from ``file`` declares; `InputError` if it is invalid.

    A document with ``Resources`` is a CloudFormation template: its `AWS::CodePipeline::Pipeline`
    resource (the one named ``resource``, when given) is read, and places in errors are the
    template's own (``Resources.DeployPipeline.Properties.Stages[1].Actions[0].RunOrder``).
    """
    if is_cloudformation_template(doc):
        chosen = cloudformation.chosen_pipeline(doc, file, resource)
        return cloudformation.pipeline_of(doc, file, chosen)
    _no_resource(doc, file, resource)
    return getpipeline.pipeline_of(doc, file)


def _no_resource(doc: object, file: str, resource: str | None) -> None:
    if doc is None:
        raise InputError(file, "", "expected a pipeline declaration, got an empty document")
    if resource is not None:
        raise InputError(file, "", f'expected a CloudFormation template with a resource '
                         f'"{resource}", got a pipeline declaration')


def _quotes(text: str) -> bool:
    """Whether a message shows something read from the file (quoted text, a character)."""
    return any(q in text for q in ("'", '"', "#x", "byte 0x"))


def _kind_of(doc: object) -> str:
    if doc is None:
        return "an empty document"
    if isinstance(doc, list):
        return "a list"
    if isinstance(doc, str):
        return "text"
    return f"a {type(doc).__name__} value"
