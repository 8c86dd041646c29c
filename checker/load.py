"""Reading pipeline declarations from files: CodePipeline JSON or YAML, CloudFormation templates.

Every problem with a file (it cannot be read, it is not valid JSON or YAML, the declaration in it
is invalid) is raised as one `InputError` naming the file, the place in it and what was expected.
Nothing here prints or exits; the command line turns an `InputError` into its one-line message.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, TypeGuard

import yaml

from checker.errors import InputError
from checker.safeio import MAX_DEPTH, GuardedLoader, YamlRefusal, parse_json, read_text
from spec.declaration import (
    DeclarationError,
    Pipeline,
    parse_cloudformation_pipeline,
    parse_pipeline,
)

CLOUDFORMATION_PIPELINE_TYPE = "AWS::CodePipeline::Pipeline"


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


def read_document(path: str | Path) -> object:
    """The JSON or YAML document in the file at ``path``.

    ``.json`` files are read as JSON, ``.yaml`` and ``.yml`` files as YAML, anything else as JSON
    and, failing that, as YAML.  YAML is read safely, and CloudFormation's short-form tags
    (``!Ref``, ``!Sub``, ``!GetAtt``, ... any ``!X``) become their long forms (``{"Ref": ...}``,
    ``{"Fn::Sub": ...}``), values the declaration reader keeps as opaque text.
    """
    file = str(path)
    text = read_text(path, file)
    suffix = Path(path).suffix.lower()
    if suffix == ".json":
        return _json(text, file)
    if suffix in (".yaml", ".yml"):
        return _yaml(text, file)
    try:
        return _json(text, file)
    except InputError as json_error:
        # Decision: a file that does not say what it is and is neither valid JSON nor valid YAML
        # gets the JSON message when it looks like JSON (it starts with "{" or "["), otherwise
        # the YAML one.
        try:
            return _yaml(text, file)
        except InputError as yaml_error:
            if text.lstrip()[:1] in ("{", "["):
                raise json_error from None
            raise yaml_error from None


def pipeline_from_document(doc: object, file: str, resource: str | None = None) -> Pipeline:
    """The pipeline a document read from ``file`` declares; `InputError` if it is invalid.

    A document with ``Resources`` is a CloudFormation template: its `AWS::CodePipeline::Pipeline`
    resource (the one named ``resource``, when given) is read, and places in errors are the
    template's own (``Resources.DeployPipeline.Properties.Stages[1].Actions[0].RunOrder``).
    """
    try:
        if is_cloudformation_template(doc):
            logical_id, properties = _pipeline_resource(doc, file, resource)
            return parse_cloudformation_pipeline(
                properties, f"Resources.{logical_id}.Properties", logical_id
            )
        if doc is None:
            raise InputError(file, "", "expected a pipeline declaration, got an empty document")
        if resource is not None:
            raise InputError(
                file,
                "",
                f'expected a CloudFormation template with a resource "{resource}", '
                "got a pipeline declaration",
            )
        return parse_pipeline(doc)
    except DeclarationError as error:
        raise InputError(file, error.place, error.expected) from error


def is_cloudformation_template(doc: object) -> TypeGuard[dict[Any, Any]]:
    """Whether ``doc`` is a CloudFormation template rather than a pipeline declaration."""
    return (
        isinstance(doc, dict)
        and "Resources" in doc
        and "pipeline" not in doc
        and "stages" not in doc
    )


def _pipeline_resource(
    template: dict[Any, Any], file: str, resource: str | None
) -> tuple[str, object]:
    """The logical id and ``Properties`` of the template's pipeline resource."""
    resources = template["Resources"]
    if not isinstance(resources, dict):
        raise InputError(file, "Resources", "expected an object of resources")
    pipelines = [
        str(logical_id)
        for logical_id, body in resources.items()
        if isinstance(body, dict) and body.get("Type") == CLOUDFORMATION_PIPELINE_TYPE
    ]
    if resource is not None:
        if resource not in resources:
            known = ", ".join(pipelines) if pipelines else "none"
            raise InputError(
                file,
                "Resources",
                f'expected a resource "{resource}" '
                f"(the {CLOUDFORMATION_PIPELINE_TYPE} resources are: {known})",
            )
        if resource not in pipelines:
            raise InputError(
                file, f"Resources.{resource}.Type", f"expected {CLOUDFORMATION_PIPELINE_TYPE}"
            )
        chosen = resource
    elif not pipelines:
        raise InputError(
            file,
            "Resources",
            f"expected a resource of Type {CLOUDFORMATION_PIPELINE_TYPE}, found none",
        )
    elif len(pipelines) > 1:
        raise InputError(
            file,
            "Resources",
            f"expected one resource of Type {CLOUDFORMATION_PIPELINE_TYPE}, found "
            f"{len(pipelines)} ({', '.join(pipelines)}): choose one by its logical id",
        )
    else:
        chosen = pipelines[0]
    body = resources[chosen]
    if "Properties" not in body:
        raise InputError(
            file,
            f"Resources.{chosen}.Properties",
            "expected the pipeline's properties, but they are missing",
        )
    return chosen, body["Properties"]


# --- JSON and YAML ------------------------------------------------------------------------------


def _json(text: str, file: str) -> object:
    return parse_json(text, file)


def _yaml(text: str, file: str) -> object:
    try:
        return yaml.load(text, Loader=_TemplateLoader)  # a SafeLoader subclass
    except YamlRefusal as error:
        mark = error.problem_mark
        place = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise InputError(file, place, str(error.problem)) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        place = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = error.problem or error.context or "unreadable"
        raise InputError(file, place, f"expected valid YAML: {problem}") from error
    except yaml.reader.ReaderError as error:
        line = text.count("\n", 0, error.position) + 1
        column = error.position - text.rfind("\n", 0, error.position)
        character = error.character
        code = character if isinstance(character, int) else ord(character)
        raise InputError(
            file,
            f"line {line}, column {column}",
            f"expected valid YAML: character #x{code:04x} is not allowed",
        ) from error
    except yaml.YAMLError as error:
        raise InputError(file, "", f"expected valid YAML: {error}") from error
    except RecursionError:  # pragma: no cover - GuardedLoader bounds the nesting first
        raise InputError(file, "", f"expected lists and objects nested at most {MAX_DEPTH} "
                         "deep") from None


class _TemplateLoader(GuardedLoader):
    """A safe YAML loader (with the bounds of `GuardedLoader`) that reads CloudFormation
    short-form tags and YAML 1.2 booleans.

    Decision: only ``true`` and ``false`` (in any of YAML's three casings) are booleans.  YAML
    1.1 also reads ``yes``, ``no``, ``on``, ``off``, ``y`` and ``n`` as booleans, which would turn
    a configuration value ``no`` into ``false`` and a key ``on`` into ``True``; here they stay
    the text that was written.
    """


_BOOL_TAG = "tag:yaml.org,2002:bool"
_TemplateLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _BOOL_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_TemplateLoader.add_implicit_resolver(
    _BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> object:
    """``!Ref X`` as ``{"Ref": "X"}``, ``!GetAtt A.B`` as ``{"Fn::GetAtt": ["A", "B"]}``,
    ``!Condition C`` as ``{"Condition": "C"}``, and any other ``!X v`` as ``{"Fn::X": v}``."""
    value: object
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        assert isinstance(node, yaml.MappingNode)
        value = loader.construct_mapping(node, deep=True)
    if not suffix:
        return value
    if suffix in ("Ref", "Condition"):
        return {suffix: value}
    if suffix == "GetAtt" and isinstance(value, str):
        return {"Fn::GetAtt": value.split(".", 1)}
    return {f"Fn::{suffix}": value}


_TemplateLoader.add_multi_constructor("!", _intrinsic)
_TemplateLoader.add_constructor("tag:yaml.org,2002:int", GuardedLoader.construct_yaml_int)
