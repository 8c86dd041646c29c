"""Reading any declaration file: the document decides which reader reads it."""

from __future__ import annotations

from pathlib import Path

from checker.errors import InputError
from checker.formats import NoPipeline, PipelineSource, cloudformation, getpipeline, terraform
from checker.formats.cloudformation import is_cloudformation_template
from checker.formats.documents import read_text_and_document
from spec.declaration import Pipeline
from spec.unmodelled import FieldWarning


def sources_in(path: str | Path) -> list[PipelineSource]:
    """Every pipeline declared in the file at ``path``: the one of a get-pipeline document, each
    `AWS::CodePipeline::Pipeline` resource of a CloudFormation template, each `aws_codepipeline`
    resource of a Terraform `.tf` file or of `terraform show -json` output, in their order.
    `NoPipeline` for a valid document that declares none."""
    if Path(path).suffix.lower() == ".tf":
        return terraform.sources_in_tf(path)
    text, doc = read_text_and_document(path)
    return sources_of(doc, str(path), text)


def sources_of(doc: object, file: str, text: str | None = None) -> list[PipelineSource]:
    """Every pipeline a document read from ``file`` declares; ``text`` is the file's text, for
    the lines of stages, actions and notes (None: no lines)."""
    if is_cloudformation_template(doc):
        return cloudformation.sources_of(doc, file, text)
    if terraform.looks_like_terraform_plan(doc):
        return terraform.sources_in_terraform_plan(doc, text or "", file)
    if not (isinstance(doc, dict) and ("pipeline" in doc or "stages" in doc)):
        raise NoPipeline(file, "", "expected a pipeline declaration (get-pipeline output, a "
                         "CloudFormation template with an AWS::CodePipeline::Pipeline resource, "
                         "Terraform with an aws_codepipeline resource), found none")
    return [getpipeline.source_of(doc, file, text)]


def source_in(path: str | Path, resource: str | None = None) -> PipelineSource:
    """The one pipeline declared in the file at ``path`` (the resource ``resource`` of a
    template that has several), with its places, its stagelock settings and its notes."""
    file = str(path)
    if Path(path).suffix.lower() == ".tf":
        return _one_terraform(terraform.sources_in_tf(path), file, resource)
    text, doc = read_text_and_document(path)
    if is_cloudformation_template(doc):
        chosen = cloudformation.chosen_pipeline(doc, file, resource)
        return cloudformation.source_of(doc, file, chosen, text)
    if terraform.looks_like_terraform_plan(doc):
        return _one_terraform(terraform.sources_in_terraform_plan(doc, text, file), file,
                              resource)
    _no_resource(doc, file, resource)
    return getpipeline.source_of(doc, file, text)


def _one_terraform(sources: list[PipelineSource], file: str,
                   resource: str | None) -> PipelineSource:
    """The Terraform resource named ``resource`` (its address), or the only one."""
    addresses = [s.where for s in sources]
    if resource is not None:
        if resource not in addresses:
            raise InputError(file, "", f'expected a resource "{resource}" (the aws_codepipeline '
                             f'resources are: {", ".join(addresses)})')
        return sources[addresses.index(resource)]
    if len(sources) > 1:
        raise InputError(file, "", f"expected one aws_codepipeline resource, found "
                         f"{len(sources)} ({', '.join(addresses)}): choose one by its address")
    return sources[0]


def load_pipeline(path: str | Path, resource: str | None = None,
                  named_by: str | None = None) -> Pipeline:
    """The pipeline declared in the file at ``path``.

    The file holds a declaration (with or without `get-pipeline`'s ``pipeline`` wrapper) or a
    CloudFormation template; ``resource`` names the pipeline resource of a template that has
    several.  ``named_by`` is the data file that names this one (a scenario, a model file),
    when the user did not name it: then no error quotes anything from it that is not a
    declaration (it may be any file, a `.env` for one), only its path, the place and why.
    """
    return load_declaration(path, resource, named_by)[0]


def load_declaration(path: str | Path, resource: str | None = None,
                     named_by: str | None = None) -> tuple[Pipeline, tuple[FieldWarning, ...]]:
    """The pipeline declared in the file at ``path``, as `load_pipeline` reads it, and the
    warnings for the fields of its declaration that the model does not account for (with their
    lines in the file)."""
    file = str(path)
    if named_by is None:
        if Path(path).suffix.lower() == ".tf":
            source = source_in(path, resource)
            return source.pipeline, source.warnings
        text, doc = read_text_and_document(path)
        if terraform.looks_like_terraform_plan(doc):
            source = _one_terraform(terraform.sources_in_terraform_plan(doc, text, file), file,
                                    resource)
            return source.pipeline, source.warnings
        return (pipeline_from_document(doc, file, resource=resource),
                document_warnings(doc, file, text, resource))
    try:
        text, doc = read_text_and_document(path)
    except InputError as error:
        if _quotes(error.expected) or _quotes(error.place):
            place = "" if _quotes(error.place) else error.place
            raise InputError(file, place, f"expected a JSON or YAML pipeline declaration "
                             f"(named by {named_by}; what is there is not shown)") from None
        raise
    if not isinstance(doc, dict):
        raise InputError(file, "", f"expected a pipeline declaration (named by {named_by}), got "
                         f"{_kind_of(doc)}, whose contents are not shown")
    return (pipeline_from_document(doc, file, resource=resource),
            document_warnings(doc, file, text, resource))


def document_warnings(doc: object, file: str, text: str | None = None,
                      resource: str | None = None) -> tuple[FieldWarning, ...]:
    """The field warnings of a document that `pipeline_from_document` has read (with their
    lines in ``text``, the document's text, when known)."""
    if is_cloudformation_template(doc):
        chosen = cloudformation.chosen_pipeline(doc, file, resource)
        return cloudformation.warnings_of(doc, file, chosen, text)
    return getpipeline.warnings_of(doc, text)


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
