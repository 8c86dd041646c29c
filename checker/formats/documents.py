"""Reading a JSON or YAML document from a file, safely, and finding where a part of it is.

YAML is read with CloudFormation's short-form tags (``!Ref``, ``!Sub``, ``!If`` ... any ``!X``)
turned into their long forms, so that a template reads the same in JSON and in YAML.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml

from checker.errors import InputError
from checker.safeio import MAX_DEPTH, GuardedLoader, YamlRefusal, parse_json, read_text

Key = str | int
"""One step of a key path: an object's key or a list's index."""


def read_document(path: str | Path) -> object:
    """The JSON or YAML document in the file at ``path``.

    ``.json`` files are read as JSON, ``.yaml`` and ``.yml`` files as YAML, anything else as JSON
    and, failing that, as YAML.  YAML is read safely, and CloudFormation's short-form tags
    (``!Ref``, ``!Sub``, ``!GetAtt``, ... any ``!X``) become their long forms (``{"Ref": ...}``,
    ``{"Fn::Sub": ...}``).
    """
    return read_text_and_document(path)[1]


def read_text_and_document(path: str | Path) -> tuple[str, object]:
    """The text of the file at ``path`` and the document in it (as `read_document`)."""
    file = str(path)
    text = read_text(path, file)
    return text, parse_document(text, file, Path(path).suffix.lower())


def parse_document(text: str, file: str, suffix: str = "") -> object:
    """The document in ``text`` read from ``file``: JSON for the suffix ``.json``, YAML for
    ``.yaml`` and ``.yml``, else JSON and, failing that, YAML."""
    if suffix == ".json":
        return parse_json(text, file)
    if suffix in (".yaml", ".yml"):
        return _yaml(text, file)
    try:
        return parse_json(text, file)
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


def key_line_at(text: str, keys: list[Key] | tuple[Key, ...]) -> int | None:
    """The 1-based line of the last key of ``keys`` itself (where a field is written, not where
    its value starts), where it can be found."""
    if not keys or not isinstance(keys[-1], str):
        return line_at(text, keys)
    return line_at(text, keys, of_key=True)


def line_at(text: str, keys: list[Key] | tuple[Key, ...], of_key: bool = False) -> int | None:
    """The 1-based line of the node at the key path ``keys`` in a JSON or YAML text, where it can
    be found; for an object that has a ``name`` or ``Name``, the line of that key.

    A key path may step into an intrinsic function in its long form (``Stages``, ``Fn::If``, 1)
    whatever way the text writes it: the YAML short form ``!If [C, A, B]`` has no key
    ``Fn::If``, and the step is skipped there.
    """
    node = _composed(text)
    for at, key in enumerate(keys):
        if node is None:
            return None
        if isinstance(key, str) and _tagged_as(node, key):
            continue
        if of_key and at == len(keys) - 1 and isinstance(node, yaml.MappingNode):
            found = next((k for k, _ in node.value if getattr(k, "value", None) == key), None)
            return int(found.start_mark.line) + 1 if found is not None else None
        if isinstance(node, yaml.MappingNode) and isinstance(key, str):
            node = next((v for k, v in node.value if getattr(k, "value", None) == key), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) \
                and 0 <= key < len(node.value):
            node = node.value[key]
        else:
            return None
    if node is None:
        return None
    if isinstance(node, yaml.MappingNode):  # point at the object's name, not its brace
        for k, _ in node.value:
            if getattr(k, "value", None) in ("name", "Name"):
                return int(k.start_mark.line) + 1
    return int(node.start_mark.line) + 1


def _tagged_as(node: yaml.Node, key: str) -> bool:
    """Whether ``node`` is written with the short-form tag of the function ``key`` (``!If`` for
    ``Fn::If``, ``!Ref`` for ``Ref``)."""
    tag = node.tag or ""
    return tag.startswith("!") and key in (tag[1:], f"Fn::{tag[1:]}")


@lru_cache(maxsize=4)
def _composed(text: str) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=_TemplateLoader)
    except yaml.YAMLError:
        return None


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
        if isinstance(error, yaml.composer.ComposerError) and \
                error.problem == "but found another document":
            # Valid YAML, but a stream of documents (Kubernetes manifests): not a declaration.
            from checker.formats import NoPipeline

            raise NoPipeline(file, place, "expected one YAML document (a pipeline "
                             "declaration), found another one here") from None
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
