"""`get-pipeline` documents: a CodePipeline declaration in the API's spelling, as `aws
codepipeline get-pipeline` prints it (``{"pipeline": {...}, "metadata": {...}}``) or as its inner
object, in JSON or YAML.

What the file says to stagelock is a ``stagelock`` object beside ``pipeline`` or inside the
declaration.  Nothing in such a document is a CloudFormation function: ``{"Ref": ...}`` there is
a plain object.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from checker.errors import InputError
from checker.formats import PipelineSource
from checker.formats.documents import Key, key_line_at, line_at
from spec.declaration import DeclarationError, Pipeline, parse_pipeline
from spec.unmodelled import FieldWarning, declaration_warnings


def pipeline_of(doc: object, file: str) -> Pipeline:
    """The pipeline a get-pipeline document read from ``file`` declares; `InputError` if it is
    invalid."""
    if doc is None:
        raise InputError(file, "", "expected a pipeline declaration, got an empty document")
    try:
        return parse_pipeline(doc)
    except DeclarationError as error:
        raise InputError(file, error.place, error.expected) from error


def source_of(doc: object, file: str, text: str | None = None) -> PipelineSource:
    """The pipeline of a get-pipeline document, with where its stages and actions are in
    ``text`` (the file's text, when known)."""
    pipeline = pipeline_of(doc, file)
    wrapped = isinstance(doc, dict) and isinstance(doc.get("pipeline"), dict)
    root: list[Key] = ["pipeline"] if wrapped else []
    stagelock, place = _stagelock(doc, file, wrapped)

    def locate(stage: int, action: int | None) -> int | None:
        if text is None:
            return None
        keys: list[Key] = [*root, "stages", stage]
        if action is not None:
            keys += ["actions", action]
        return line_at(text, keys)

    return PipelineSource(file, pipeline, "pipeline" if wrapped else "", locate,
                          stagelock, place, warnings=warnings_of(doc, text))


def warnings_of(doc: object, text: str | None = None) -> tuple[FieldWarning, ...]:
    """The warnings for the fields of a get-pipeline document that the model does not account
    for, with their lines in ``text`` (the file's text, when known)."""
    return tuple(
        dataclasses.replace(w, line=key_line_at(text, list(w.keys)) if text is not None
                            else None)
        for w in declaration_warnings(doc))


def _stagelock(doc: object, file: str, wrapped: bool) -> tuple[dict[str, Any], str]:
    """The ``stagelock`` object and its place: beside ``pipeline`` or inside the declaration."""
    found: list[tuple[object, str]] = []
    if isinstance(doc, dict) and "stagelock" in doc:
        found.append((doc["stagelock"], "stagelock"))
    if wrapped and isinstance(doc, dict) and "stagelock" in doc["pipeline"]:
        found.append((doc["pipeline"]["stagelock"], "pipeline.stagelock"))
    if not found:
        return {}, ""
    if len(found) > 1:
        # Decision: the two places are two spellings of one thing; a file that uses both would
        # have to be merged by a rule nobody wrote down, so it is asked to choose.
        raise InputError(file, "pipeline.stagelock", "expected stagelock settings in one place, "
                         "beside pipeline or inside it, not both")
    value, place = found[0]
    return stagelock_settings(value, file, place), place


def stagelock_settings(value: object, file: str, place: str) -> dict[str, Any]:
    """The ``stagelock`` settings written at ``place``, as written: an object."""
    if not isinstance(value, dict):
        raise InputError(file, place, "expected an object of stagelock settings, "
                         "e.g. {ignore: [rule ids or names]}")
    return value
