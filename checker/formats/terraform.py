"""Reading `aws_codepipeline` resources from Terraform: `.tf` files and `terraform show -json`.

Both inputs give `PipelineSource` values.  Each resource is turned into the CodePipeline API
shape and read by `spec.declaration.parse_pipeline`, and its errors name Terraform's own places
(``aws_codepipeline.main.stage[1].action[0].run_order``).

**`terraform show -json`**, of a plan or of a state.  A plan's resources are read from
``planned_values.root_module`` and, for a resource the planned values leave out, from
``resource_changes[].change.after``; a state's from ``values.root_module``; resources of nested
``child_modules`` too.  `where` is the resource's address (``module.cicd.aws_codepipeline.main``,
``aws_codepipeline.env["prod"]``).  A value known only after apply (left out of the plan, with
``after_unknown`` true) is read as opaque text with a `Note`, never an error; a value the plan
marks sensitive is not copied.  `locate` gives the line of a stage's or action's ``"name"`` key
in the JSON text: every line is 1 in the one-line JSON Terraform prints, and a pretty-printed
plan (``jq .``) has one key a line.

**`.tf` files**, parsed with python-hcl2 (nothing is evaluated).  Every
``resource "aws_codepipeline" "NAME"`` block is a pipeline, `where` ``aws_codepipeline.NAME``;
its ``stage`` and ``action`` blocks keep their order (``stage[1]`` is the second ``stage`` block
written), and `locate` gives the line of each one's ``name`` argument.  ``var.X`` is read with the
default of a ``variable "X"`` block in the same file, and ``local.X`` with a ``locals`` value that
is literal once variables are read, each with a `Note` (``-var`` and ``.tfvars`` files are not
read).  Any other expression is kept as the text python-hcl2 renders it (``${var.repo}-staging``,
``${aws_s3_bucket.a.bucket}``), with a `Note` where it changes what is checked.  A ``dynamic``
block cannot be expanded without evaluating Terraform: its stages or actions are not checked, and
a `Note` says so; a dynamic ``on_failure`` block is read as none (no automatic retry or
rollback), with a `Note`.  ``count`` and ``for_each`` on the resource are noted: the declaration
is read once, as written.

**Telling stagelock about a pipeline.**  Terraform has no Metadata, and a comment does not survive
`terraform show -json`; the resource's tags do, and a tag is valid Terraform and harmless to AWS::

    tags = {
      "stagelock:ignore" = "SL301 stop-without-disabled-transition"
    }

gives `stagelock` ``{"ignore": ["SL301", "stop-without-disabled-transition"]}`` and
`stagelock_place` ``aws_codepipeline.main.tags``: rule ids or names separated by spaces (AWS tag
values may not contain commas; a comma is accepted as a separator all the same).  In a plan or a
state, ``tags_all`` (the tags with the provider's ``default_tags``) is read when ``tags`` has no
``stagelock:ignore``, so a provider's ``default_tags`` can silence a rule for all its pipelines.
Other ``stagelock:`` tags are not read (a `Note` says so).

Disabled inbound transitions cannot be declared in the Terraform resource: `disabled` is empty.

**Fields the model does not account for** (`warnings`): the arguments and blocks of both inputs
are classified by `spec.unmodelled.terraform_warnings`, with the API's tables in Terraform's
spelling: a ``before_entry`` or ``on_success`` condition whose result the model does not
represent (other than FAIL or SKIP before entry and FAIL or ROLLBACK on success, or none), an
``on_failure`` ``condition`` or a result other than RETRY, ROLLBACK and FAIL, and an argument
or block the resource does not have (with the closest name).  Stage conditions
(``before_entry { condition { result = "SKIP" ... } }``, ``on_success``) are read into the
declaration; a result known only after apply is read as no condition, and a dynamic block as
none, each with a `Note`.  A ``dynamic`` block counts as a block of its kind (except
stages and actions, which are not read); the line is that of the argument or of the (first)
block.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from checker.errors import InputError
from checker.formats import NoPipeline, Note, PipelineSource
from checker.safeio import read_text
from spec.declaration import (
    ACTION_CATEGORIES,
    NAME_MAX_LENGTH,
    NAME_PATTERN,
    DeclarationError,
    parse_pipeline,
)
from spec.unmodelled import terraform_warnings
from spec.world import CHECKED_CONFIGURATION

RESOURCE_TYPE = "aws_codepipeline"
IGNORE_TAG = "stagelock:ignore"
KNOWN_AFTER_APPLY = "(known after apply)"
SENSITIVE = "(sensitive value)"
"""What a configuration value the plan marks sensitive is read as: it is not copied."""

_QUEUING_MODES = ("QUEUED", "PARALLEL")

NOT_EVALUATED = object()
"""The value of an argument of a `.tf` file that is an expression (not evaluated)."""

# --- what is read from a resource, the same for both inputs ----------------------------------


@dataclass
class _Got:
    """One argument's value: known (`value`), or not (`opaque` the text that stands for it)."""

    value: Any = None
    """The value; for a map argument (configuration, tags) a dict of `_Got`s when its entries
    are known one by one."""
    line: int | None = None
    opaque: str | None = None
    """The readable text of a value that is not known (None: the value is known)."""
    why: str = ""
    """For an opaque value, what it is, as the start of a note: ``is var.env, not evaluated``."""
    note: str = ""
    """For a known value read approximately (through a variable's default), the note."""


@dataclass
class _Block:
    """A stage or an action as the resource declares it."""

    index: int
    """Its number as Terraform counts (``stage[index]``, ``action[index]``)."""
    line: int | None
    args: dict[str, _Got]
    actions: list[_Block] = field(default_factory=list)
    dynamic_actions: list[Note] = field(default_factory=list)
    """The notes on its dynamic "action" blocks (a stage of a .tf file), which are not read."""
    on_failure: _OnFailure | None = None
    """A stage's on_failure block."""
    notes: list[Note] = field(default_factory=list)
    """Notes on a stage's other blocks that are not read (a dynamic "on_failure" block)."""
    conditions: dict[str, _StageCondition] = field(default_factory=dict)
    """A stage's before_entry and on_success blocks, by the API's field (beforeEntry,
    onSuccess)."""


@dataclass
class _StageCondition:
    """A stage's ``before_entry`` or ``on_success`` block: the result of each of its condition
    blocks (None: the block sets none)."""

    line: int | None
    results: list[_Got | None] = field(default_factory=list)


STAGE_CONDITION_BLOCKS = {"before_entry": "beforeEntry", "on_success": "onSuccess"}
"""Terraform's stage condition blocks, and the API fields they are."""


@dataclass
class _OnFailure:
    """A stage's ``on_failure`` block: its result, its retry_configuration's retry_mode, and how
    many condition blocks it has."""

    line: int | None
    result: _Got | None = None
    retry_configuration: bool = False
    retry_mode: _Got | None = None
    conditions: int = 0


@dataclass
class _Resource:
    where: str
    args: dict[str, _Got]
    stages: list[_Block]
    notes: list[Note]
    unknown_name: str | None = None
    """The pipeline name to read when its name is not known (a plan: the address)."""
    dynamic_stages: int = 0
    unknown_run_orders: list[str] = field(default_factory=list)
    """Places of the actions whose run_order is known only after apply."""
    fields: dict[str, Any] = field(default_factory=dict)
    """Every argument and block of the resource, as `terraform show -json` gives them (each
    block a list of objects), for `spec.unmodelled.terraform_warnings`."""
    field_line: Callable[[tuple[str | int, ...]], int | None] = lambda path: None
    """The line of the value at a path in `fields`."""


def _build(file: str, res: _Resource) -> PipelineSource:
    """The `PipelineSource` of one resource: its API shape read by `parse_pipeline`."""
    notes = list(res.notes)
    where = res.where

    def note(place: str, text: str, line: int | None) -> None:
        notes.append(Note(f"{where}.{place}" if place else where, text, line))

    api: dict[str, Any] = {}
    name = res.args.get("name")
    if name is not None:
        if name.opaque is not None and res.unknown_name is not None:
            api["name"] = _valid_name(res.unknown_name)
            note("name", f"{name.why}: read as {api['name']}, the resource's address", name.line)
        else:
            api["name"] = _name(name, "name", set(), note)
    mode = _choice(res.args.get("execution_mode"), "execution_mode", "SUPERSEDED", note)
    pipeline_type = _choice(res.args.get("pipeline_type"), "pipeline_type",
                            "V2" if mode in _QUEUING_MODES else "V1", note)
    if mode is not None:
        api["executionMode"] = mode
    if pipeline_type is not None:
        api["pipelineType"] = pipeline_type

    kept: list[_Block] = []
    stages: list[dict[str, Any]] = []
    stage_names = _literal_names(res.stages)
    for stage in res.stages:
        place = f"stage[{stage.index}]"
        if not stage.actions and stage.dynamic_actions:
            stage_name = stage.args.get("name")
            called = (f" ({stage_name.value})" if stage_name is not None
                      and stage_name.opaque is None and isinstance(stage_name.value, str)
                      else "")
            note(place, f"has only dynamic \"action\" blocks{called}, which are not expanded "
                 "without evaluating Terraform: the stage is not checked", stage.line)
            continue
        notes.extend(stage.dynamic_actions)
        notes.extend(stage.notes)
        out: dict[str, Any] = {}
        if "name" in stage.args:
            out["name"] = _name(stage.args["name"], f"{place}.name", stage_names, note)
        action_names = _literal_names(stage.actions)
        out["actions"] = [_action(file, where, f"{place}.action[{a.index}]", a, action_names,
                                  note) for a in stage.actions]
        if stage.on_failure is not None:
            out["onFailure"] = _on_failure(stage.on_failure, f"{place}.on_failure", note)
        for block_name, api_name in STAGE_CONDITION_BLOCKS.items():
            if api_name in stage.conditions:
                out[api_name] = _stage_condition(stage.conditions[api_name],
                                                 f"{place}.{block_name}", note)
        stages.append(out)
        kept.append(stage)
    api["stages"] = stages
    if res.unknown_run_orders:
        unknown = res.unknown_run_orders
        shown = ", ".join(unknown[:3]) + (f" and {len(unknown) - 3} more" if len(unknown) > 3
                                          else "")
        actions = _count(len(unknown), "action")
        note("", f"has run_order known only after apply for {actions} ({shown}): read as 1, "
             "CodePipeline's default for an action that sets none", None)
    stagelock, place = _stagelock(res, note)

    try:
        pipeline = parse_pipeline(api)
    except DeclarationError as error:
        hint = ""
        if res.dynamic_stages and error.place == "stages":
            blocks = _count(res.dynamic_stages, 'dynamic "stage" block')
            hint = f" (and {blocks}, not expanded without evaluating Terraform)"
        raise InputError(file, _tf_place(where, error.place, kept),
                         _tf_words(error.expected, error.place, kept) + hint) from None

    def locate(stage: int, action: int | None) -> int | None:
        if not 0 <= stage < len(kept):
            return None
        block = kept[stage]
        if action is None:
            return _name_line(block)
        if not 0 <= action < len(block.actions):
            return None
        return _name_line(block.actions[action])

    notes.sort(key=lambda n: (n.line is None, n.line or 0))  # in the file's order
    return PipelineSource(file=file, pipeline=pipeline, where=where, locate=locate,
                          stagelock=stagelock, stagelock_place=place, disabled=(),
                          notes=notes,
                          warnings=terraform_warnings(res.fields, where, res.field_line))


def _action(file: str, where: str, place: str, block: _Block, taken: set[str],
            note: Callable[[str, str, int | None], None]) -> dict[str, Any]:
    args = block.args
    out: dict[str, Any] = {}
    if "name" in args:
        out["name"] = _name(args["name"], f"{place}.name", taken, note)
    type_id: dict[str, Any] = {}
    category = args.get("category")
    if category is not None:
        if category.opaque is not None:
            # Decision: the category decides what the model does with an action (an approval
            # waits for a person), so an action whose category is not known is not guessed at:
            # it is an error that says what to write.
            raise InputError(file, f"{where}.{place}.category",
                             f"expected one of {', '.join(ACTION_CATEGORIES)} written out, "
                             f"{category.why}")
        type_id["category"] = _known(category, f"{place}.category", note)
    for key in ("owner", "provider", "version"):
        got = args.get(key)
        if got is not None:
            # The owner, provider and version change nothing the model checks: an expression is
            # kept as its text (or its variable's default), without a note.
            type_id[key] = got.opaque if got.opaque is not None else got.value
    out["actionTypeId"] = type_id
    run_order = args.get("run_order")
    if run_order is not None:
        if run_order.opaque is not None:
            out["runOrder"] = 1
            note(f"{place}.run_order", f"{run_order.why}: read as 1, CodePipeline's default",
                 run_order.line)
        else:
            out["runOrder"] = _run_order(_known(run_order, f"{place}.run_order", note))
    configuration = args.get("configuration")
    if configuration is not None:
        out["configuration"] = _configuration(configuration, f"{place}.configuration", note)
    return out


def _on_failure(block: _OnFailure, place: str,
                note: Callable[[str, str, int | None], None]) -> dict[str, Any]:
    """A stage's on_failure block in the API shape (``onFailure``).

    Decision: a result that is not known before apply is read as no automatic retry or rollback
    (the stage fails, as by default), a retry_mode as ALL_ACTIONS (the mode that runs every
    action of the stage again); each with a note, as for a template's values only a deployment
    knows."""
    out: dict[str, Any] = {}
    result = block.result
    if result is not None and result.opaque is not None:
        note(f"{place}.result", f"{result.why}: read as FAIL, no automatic retry or rollback "
             "(the stage fails, as by default)", result.line)
        out["result"] = "FAIL"
    elif result is not None:
        out["result"] = _known(result, f"{place}.result", note)
    if block.retry_configuration:
        config: dict[str, Any] = {}
        mode = block.retry_mode
        if mode is not None and mode.opaque is not None:
            if out.get("result") == "RETRY":
                note(f"{place}.retry_configuration.retry_mode", f"{mode.why}: read as "
                     "ALL_ACTIONS, the mode that runs every action of the stage again",
                     mode.line)
            config["retryMode"] = "ALL_ACTIONS"
        elif mode is not None:
            config["retryMode"] = _known(mode, f"{place}.retry_configuration.retry_mode", note)
        out["retryConfiguration"] = config
    if block.conditions:
        out["conditions"] = [{}] * block.conditions
    return out


def _stage_condition(block: _StageCondition, place: str,
                     note: Callable[[str, str, int | None], None]) -> dict[str, Any]:
    """A stage's before_entry or on_success block in the API shape (``beforeEntry``,
    ``onSuccess``).

    Decision: a condition whose result is known only after apply is read as no condition, with
    a note: whether it would fail or skip the stage is what the result says."""
    conditions: list[dict[str, Any]] = []
    for c, result in enumerate(block.results):
        if result is not None and result.opaque is not None:
            note(f"{place}.condition[{c}].result", f"{result.why}: the condition is read as "
                 "none", result.line)
            continue
        conditions.append({} if result is None else
                          {"result": _known(result, f"{place}.condition[{c}].result", note)})
    return {"conditions": conditions}


def _configuration(got: _Got, place: str,
                   note: Callable[[str, str, int | None], None]) -> object:
    if got.opaque is not None:
        note(place, f"{got.why}: read as no configuration (so no deploy target, StackName, "
             "ClusterName ..., is known for the action)", got.line)
        return {}
    if got.note:
        note(place, got.note, got.line)
    if not isinstance(got.value, dict):
        return got.value  # parse_pipeline says what was expected
    out: dict[str, str] = {}
    for key, entry in got.value.items():
        # Decision: a configuration value that is not known, or is read through a variable's
        # default, gets a note only under a key the world is derived from; any other
        # (ConnectionArn, RoleArn, ...) changes nothing that is checked, and is kept as its text
        # without a note.
        checked = key in CHECKED_CONFIGURATION
        if entry.opaque is not None:
            out[key] = entry.opaque
            if checked:
                note(f"{place}.{key}", f"{entry.why}: read as the text {entry.opaque}",
                     entry.line)
        elif entry.value is not None:  # a null entry is no entry
            if checked and entry.note:
                note(f"{place}.{key}", entry.note, entry.line)
            out[key] = _terraform_string(entry.value)
    return out


def _stagelock(res: _Resource,
               note: Callable[[str, str, int | None], None]) -> tuple[dict[str, Any], str]:
    """The ``stagelock:ignore`` tag, from ``tags`` or else ``tags_all``."""
    for key in ("tags", "tags_all"):
        got = res.args.get(key)
        if got is None:
            continue
        if got.opaque is not None:
            if "stagelock" in got.opaque:
                note(key, f"{got.why}: no stagelock:ignore tag is read from it", got.line)
            continue
        if not isinstance(got.value, dict):
            continue
        for tag, entry in got.value.items():
            if tag.startswith("stagelock:") and tag != IGNORE_TAG:
                note(f"{key}.{tag}", f"is not a stagelock setting (only {IGNORE_TAG} is read "
                     "from tags): not read", entry.line)
        entry = got.value.get(IGNORE_TAG)
        if entry is None:
            continue
        if entry.opaque is not None:
            note(f"{key}.{IGNORE_TAG}", f"{entry.why}: no rule is ignored", entry.line)
            continue
        if entry.note:
            note(f"{key}.{IGNORE_TAG}", entry.note, entry.line)
        words = re.split(r"[\s,]+", _terraform_string(entry.value))
        return {"ignore": [w for w in words if w]}, f"{res.where}.{key}"
    return {}, ""


def _known(got: _Got, place: str, note: Callable[[str, str, int | None], None]) -> Any:
    if got.note:
        note(place, got.note, got.line)
    return got.value


def _choice(got: _Got | None, place: str, default: str,
            note: Callable[[str, str, int | None], None]) -> Any:
    """pipeline_type or execution_mode: an opaque one is read as Terraform's default."""
    if got is None:
        return None
    if got.opaque is not None:
        # Decision: Terraform's default (SUPERSEDED; V1, or V2 when the mode needs it) with a
        # note, rather than an error: the rest of the pipeline can still be checked.
        note(place, f"{got.why}: read as {default}, the default; give it a literal value (or "
             "the variable a default) to check the value it has", got.line)
        return default
    return _known(got, place, note)


def _name(got: _Got, place: str, taken: set[str],
          note: Callable[[str, str, int | None], None]) -> Any:
    """A pipeline, stage or action name.

    Decision: a name that is not known (an expression, a value known only after apply) is kept
    as its text when that is a valid CodePipeline name, else made one: the characters a name may
    not have become ``_`` (``${var.repo}-staging`` is read as ``var.repo-staging``), and a name
    that another of its stage (or pipeline) already has gets ``-2``, ``-3``...; a note says what
    it was read as.  A name that is known is checked as it is."""
    if got.opaque is None:
        return _known(got, place, note)
    name = _unique(_valid_name(got.opaque), taken)
    taken.add(name)
    note(place, f"{got.why}: read as the name {name}", got.line)
    return name


def _valid_name(text: str) -> str:
    if len(text) <= NAME_MAX_LENGTH and NAME_PATTERN.fullmatch(text):
        return text
    cleaned = text.replace("${", "").replace("%{", "").replace("}", "")
    cleaned = re.sub(r"[^A-Za-z0-9.@\-_]+", "_", cleaned).strip("_")
    return cleaned[:NAME_MAX_LENGTH] or "unnamed"


def _unique(name: str, taken: set[str]) -> str:
    n = 1
    candidate = name
    while candidate in taken:
        n += 1
        suffix = f"-{n}"
        candidate = name[:NAME_MAX_LENGTH - len(suffix)] + suffix
    return candidate


def _literal_names(blocks: list[_Block]) -> set[str]:
    """The known names of a list of stages or actions (opaque names are kept apart from them)."""
    out: set[str] = set()
    for block in blocks:
        got = block.args.get("name")
        if got is not None and got.opaque is None and isinstance(got.value, str):
            out.add(got.value)
    return out


def _run_order(value: Any) -> Any:
    """Terraform converts a string of digits (and a whole float) to the number the schema
    takes; anything else is left for parse_pipeline to refuse."""
    if isinstance(value, str) and re.fullmatch(r"[0-9]{1,9}", value.strip()):
        return int(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e9:
        return int(value)
    return value


def _terraform_string(value: Any) -> str:
    """A value as Terraform converts it to a string (configuration and tags are maps of
    strings): ``true``, ``3``, ``1.5``."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def _name_line(block: _Block) -> int | None:
    name = block.args.get("name")
    if name is not None and name.line is not None:
        return name.line
    return block.line


def _count(n: int, noun: str) -> str:
    return f"1 {noun}" if n == 1 else f"{n} {noun}s"


_API_PLACE = re.compile(r"stages\[(\d+)\]\.actions\[(\d+)\]|stages\[(\d+)\]")
_API_KEYS = {
    "stages": "stage",
    "actions": "action",
    "runOrder": "run_order",
    "executionMode": "execution_mode",
    "pipelineType": "pipeline_type",
    "actionTypeId.": "",
    "actionTypeId": "category",
    "onFailure": "on_failure",
    "retryConfiguration": "retry_configuration",
    "retryMode": "retry_mode",
    "conditions": "condition",
}
_BLOCK_WORDS = {
    "onFailure object": "on_failure block",
    "retryConfiguration object": "retry_configuration block",
    "no conditions": "no condition blocks",
    "onFailure": "on_failure",
    "retryConfiguration": "retry_configuration",
    "retryMode": "retry_mode",
}
"""The words of an automatic retry message in Terraform's, outside what it quotes."""


def _tf_index(match: re.Match[str], kept: list[_Block]) -> str:
    if match.group(1) is not None:
        stage, action = int(match.group(1)), int(match.group(2))
        if stage < len(kept) and action < len(kept[stage].actions):
            return f"stage[{kept[stage].index}].action[{kept[stage].actions[action].index}]"
        return f"stage[{stage}].action[{action}]"
    stage = int(match.group(3))
    return f"stage[{kept[stage].index if stage < len(kept) else stage}]"


def _tf_words(text: str, place: str, kept: list[_Block]) -> str:
    """A `parse_pipeline` message in Terraform's words and numbering."""
    text = _API_PLACE.sub(lambda m: _tf_index(m, kept), text)
    if "actions[" in text:  # "... is already actions[0]" (in the stage of the place)
        at = _API_PLACE.match(place)
        stage = int(at.group(1) or at.group(3)) if at else -1
        actions = kept[stage].actions if 0 <= stage < len(kept) else []
        text = re.sub(r"actions\[(\d+)\]",
                      lambda m: f"action[{actions[int(m.group(1))].index}]"
                      if int(m.group(1)) < len(actions) else f"action[{m.group(1)}]", text)
    for api in ("runOrder", "executionMode", "pipelineType"):
        text = re.sub(rf"\b{api}\b", _API_KEYS[api], text)
    parts = text.split('"')
    for i in range(0, len(parts), 2):  # not inside quotes
        for api, terraform in _BLOCK_WORDS.items():
            parts[i] = re.sub(rf"\b{api}\b", terraform, parts[i])
    return '"'.join(parts)


def _tf_place(where: str, place: str, kept: list[_Block]) -> str:
    """``stages[1].actions[0].runOrder`` as ``aws_codepipeline.main.stage[1].action[0].run_order``
    (with the stage and action numbers Terraform's declaration has)."""
    place = _API_PLACE.sub(lambda m: _tf_index(m, kept), place)
    for api, terraform in _API_KEYS.items():
        place = place.replace(api, terraform)
    place = re.sub(r"\.{2,}", ".", place).strip(".")
    return f"{where}.{place}" if place else where


# --- terraform show -json ----------------------------------------------------------------------


def looks_like_terraform_plan(doc: object) -> bool:
    """Whether a JSON document is `terraform show -json` output (of a plan or a state)."""
    return (isinstance(doc, dict) and "format_version" in doc
            and ("planned_values" in doc or "values" in doc or "terraform_version" in doc))


@dataclass
class _Found:
    """One aws_codepipeline resource of a plan or state document."""

    path: tuple[str | int, ...]
    """The keys leading to its values in the document."""
    values: dict[str, Any]
    address: str
    unknown: Any
    """The resource's ``after_unknown`` (True at a value known only after apply)."""
    sensitive: Any
    """Its ``sensitive_values`` or ``after_sensitive`` (True at a sensitive value)."""


def sources_in_terraform_plan(doc: object, text: str, file: str) -> list[PipelineSource]:
    """The pipelines of a `terraform show -json` document ``doc``, parsed from ``text`` (for
    the lines) of ``file``."""
    if not isinstance(doc, dict):
        raise InputError(file, "", "expected the JSON object terraform show -json prints")
    found = _plan_resources(doc, file)
    if not found:
        raise NoPipeline(file, "", f"expected at least one {RESOURCE_TYPE} resource, found none")
    wanted: set[tuple[str | int, ...]] = set()
    for f in found:
        wanted.add(f.path)
        _paths(f.values, f.path, wanted)
    lines = _json_key_lines(text, wanted)
    return [_build(file, _plan_resource(f, lines, file)) for f in found]


def _plan_resources(doc: dict[str, Any], file: str) -> list[_Found]:
    raw_changes = doc.get("resource_changes")
    changes: dict[str, tuple[int, dict[str, Any]]] = {}
    """The planned change of each resource, by address, and its number in resource_changes."""
    if isinstance(raw_changes, list):
        for i, entry in enumerate(raw_changes):
            if _is_pipeline(entry) and isinstance(entry.get("change"), dict):
                changes.setdefault(str(entry.get("address", "")), (i, entry["change"]))
    found: list[_Found] = []
    if "values" in doc and "planned_values" not in doc:  # a state
        root: tuple[str | int, ...] = ("values", "root_module")
        for path, resource in _module_resources(_at(doc, root), root):
            found.append(_Found((*path, "values"), _values(resource, path, file),
                                str(resource.get("address", "")), None,
                                resource.get("sensitive_values")))
    else:  # a plan
        root = ("planned_values", "root_module")
        for path, resource in _module_resources(_at(doc, root), root):
            address = str(resource.get("address", ""))
            change = changes.get(address, (0, {}))[1]
            found.append(_Found((*path, "values"), _values(resource, path, file), address,
                                change.get("after_unknown"), resource.get("sensitive_values")))
        planned = {f.address for f in found}
        for address, (i, change) in changes.items():
            after = change.get("after")
            if address not in planned and isinstance(after, dict):
                found.append(_Found(("resource_changes", i, "change", "after"), after, address,
                                    change.get("after_unknown"), change.get("after_sensitive")))
    for f in found:
        if not f.address:
            f.address = f"{RESOURCE_TYPE}.{_valid_name(str(f.values.get('name') or ''))}"
    return found


def _values(resource: dict[str, Any], path: tuple[str | int, ...], file: str) -> dict[str, Any]:
    values = resource.get("values")
    if not isinstance(values, dict):
        raise InputError(file, _json_place((*path, "values")),
                         "expected an object of the resource's values")
    return values


def _at(doc: Any, path: tuple[str | int, ...]) -> Any:
    for key in path:
        if isinstance(doc, dict) and isinstance(key, str):
            doc = doc.get(key)
        elif isinstance(doc, list) and isinstance(key, int) and 0 <= key < len(doc):
            doc = doc[key]
        else:
            return None
    return doc


def _is_pipeline(resource: object) -> bool:
    return (isinstance(resource, dict) and resource.get("type") == RESOURCE_TYPE
            and resource.get("mode", "managed") == "managed")


def _module_resources(module: Any, path: tuple[str | int, ...]
                      ) -> Iterator[tuple[tuple[str | int, ...], dict[str, Any]]]:
    """The pipeline resources of a module and of its child modules, in the document's order."""
    stack = [(module, path)]
    while stack:
        module, path = stack.pop()
        if not isinstance(module, dict):
            continue
        resources = module.get("resources")
        if isinstance(resources, list):
            for i, resource in enumerate(resources):
                if _is_pipeline(resource):
                    yield (*path, "resources", i), resource
        children = module.get("child_modules")
        if isinstance(children, list):
            stack.extend((child, (*path, "child_modules", i))
                         for i, child in reversed(list(enumerate(children))))


def _json_place(path: tuple[str | int, ...]) -> str:
    out = ""
    for key in path:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else key)
    return out


def _mark(marks: Any, *keys: str | int) -> Any:
    """The part of an ``after_unknown`` or ``sensitive_values`` structure at ``keys``: True
    where the whole value is unknown (or sensitive)."""
    for key in keys:
        if marks is True:
            return True
        if isinstance(marks, dict) and isinstance(key, str):
            marks = marks.get(key)
        elif isinstance(marks, list) and isinstance(key, int) and 0 <= key < len(marks):
            marks = marks[key]
        else:
            return None
    return marks


def _plan_resource(found: _Found, lines: dict[tuple[str | int, ...], int],
                   file: str) -> _Resource:
    where = found.address
    values = found.values
    res = _Resource(where=where, args={}, stages=[], notes=[], unknown_name=where,
                    fields=values,
                    field_line=lambda path: lines.get((*found.path, *path)))

    def got(container: dict[str, Any], keys: tuple[str | int, ...], key: str) -> _Got | None:
        # a value known only after apply has no key: the line of what holds it
        line = lines.get((*found.path, *keys, key)) or lines.get((*found.path, *keys))
        if _mark(found.unknown, *keys, key) is True and container.get(key) is None:
            return _Got(line=line, opaque=KNOWN_AFTER_APPLY, why="is known only after apply")
        if key not in container or container[key] is None:
            return None
        value = container[key]
        if _mark(found.sensitive, *keys, key) is True and not isinstance(value, dict | list):
            value = SENSITIVE
        return _Got(value=value, line=line)

    for key in ("name", "pipeline_type", "execution_mode"):
        value = got(values, (), key)
        if value is not None:
            res.args[key] = value
    for key in ("tags", "tags_all"):
        value = got(values, (), key)
        if value is not None:
            if isinstance(value.value, dict):
                value.value = {str(k): _Got(value=v, line=lines.get((*found.path, key, k)))
                               for k, v in value.value.items()}
            res.args[key] = value
    stages = values.get("stage")
    if _mark(found.unknown, "stage") is True and not stages:
        raise InputError(file, f"{where}.stage", "expected stages known before apply, they are "
                         "known only after apply (a dynamic \"stage\" block over values not yet "
                         "known?): the pipeline cannot be checked from this plan")
    if not isinstance(stages, list):
        stages = []
    for i, stage in enumerate(stages):
        if not isinstance(stage, dict):
            raise InputError(file, f"{where}.stage[{i}]", "expected a stage object")
        block = _Block(i, lines.get((*found.path, "stage", i)), {})
        name = got(stage, ("stage", i), "name")
        if name is not None:
            block.args["name"] = name
        block.on_failure = _plan_on_failure(stage, ("stage", i), got, lines, found.path, file,
                                            f"{where}.stage[{i}]")
        for block_name, api_name in STAGE_CONDITION_BLOCKS.items():
            holders = stage.get(block_name)
            if not isinstance(holders, list) or not holders or not isinstance(holders[0], dict):
                continue
            here = ("stage", i, block_name, 0)
            condition = _StageCondition(lines.get((*found.path, *here)))
            items = holders[0].get("condition")
            for c, item in enumerate(items if isinstance(items, list) else []):
                condition.results.append(got(item, (*here, "condition", c), "result")
                                         if isinstance(item, dict) else None)
            block.conditions[api_name] = condition
        actions = stage.get("action")
        if not isinstance(actions, list):
            actions = []
        for j, action in enumerate(actions):
            if not isinstance(action, dict):
                raise InputError(file, f"{where}.stage[{i}].action[{j}]",
                                 "expected an action object")
            keys: tuple[str | int, ...] = ("stage", i, "action", j)
            a = _Block(j, lines.get((*found.path, *keys)), {})
            for key in ("name", "category", "owner", "provider", "version"):
                value = got(action, keys, key)
                if value is not None:
                    a.args[key] = value
            run_order = got(action, keys, "run_order")
            if run_order is not None and run_order.opaque is not None:
                # run_order is computed by the provider: a new action that sets none has it
                # unknown in a plan.  One note for all of them (see _build).
                res.unknown_run_orders.append(f"stage[{i}].action[{j}]")
            elif run_order is not None:
                a.args["run_order"] = run_order
            configuration = got(action, keys, "configuration")
            if configuration is not None and isinstance(configuration.value, dict):
                entries: dict[str, _Got] = {}
                for k, v in configuration.value.items():
                    line = lines.get((*found.path, *keys, "configuration", k))
                    if _mark(found.sensitive, *keys, "configuration", k) is True:
                        v = SENSITIVE
                    entries[str(k)] = _Got(value=v, line=line)
                unknown = _mark(found.unknown, *keys, "configuration")
                if isinstance(unknown, dict):
                    for k, mark in unknown.items():
                        if mark is True and configuration.value.get(k) is None:
                            # Decision: each value known only after apply is its own text,
                            # named by its place, so two of them are never taken for the same
                            # deploy target.
                            entries[str(k)] = _Got(
                                line=configuration.line, why="is known only after apply",
                                opaque=f"(known after apply: stage[{i}].action[{j}].{k})")
                configuration.value = entries
            if configuration is not None:
                a.args["configuration"] = configuration
            block.actions.append(a)
        res.stages.append(block)
    return res


def _plan_on_failure(stage: dict[str, Any], keys: tuple[str | int, ...],
                     got: Callable[[dict[str, Any], tuple[str | int, ...], str], _Got | None],
                     lines: dict[tuple[str | int, ...], int], root: tuple[str | int, ...],
                     file: str, place: str) -> _OnFailure | None:
    """A stage's on_failure block in a plan or state: a list of at most one object."""
    blocks = stage.get("on_failure")
    if not isinstance(blocks, list) or not blocks:
        return None
    if len(blocks) > 1 or not isinstance(blocks[0], dict):
        raise InputError(file, f"{place}.on_failure", "expected one on_failure block")
    body = blocks[0]
    here = (*keys, "on_failure", 0)
    out = _OnFailure(lines.get((*root, *here)), result=got(body, here, "result"))
    configs = body.get("retry_configuration")
    if isinstance(configs, list) and configs:
        out.retry_configuration = True
        if isinstance(configs[0], dict):
            out.retry_mode = got(configs[0], (*here, "retry_configuration", 0), "retry_mode")
    conditions = body.get("condition")
    out.conditions = len(conditions) if isinstance(conditions, list) else 0
    return out


def _paths(value: Any, path: tuple[str | int, ...], out: set[tuple[str | int, ...]]) -> None:
    """Every path into ``value`` (whose path is ``path``), for `_json_key_lines`."""
    stack = [(value, path)]
    while stack:
        value, path = stack.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                out.add((*path, key))
                stack.append((item, (*path, key)))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                out.add((*path, i))
                stack.append((item, (*path, i)))


_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\],:]|[^\s{}\[\],:"]+')


def _json_key_lines(text: str, wanted: set[tuple[str | int, ...]]
                    ) -> dict[tuple[str | int, ...], int]:
    """The 1-based line of each path of ``wanted`` in the JSON text (valid JSON, the text the
    document was parsed from): for an object's key the line of the key, for a list's item the
    line where the item starts."""
    found: dict[tuple[str | int, ...], int] = {}
    if not wanted:
        return found
    depths = {len(p) for p in wanted}
    keys: list[str | int] = []
    """The path to the value being read: a key for each open object, an index for each list."""
    objects: list[bool] = []
    """For each open container, whether it is an object."""
    expect_key = item_start = False
    line, last = 1, 0

    def record() -> None:
        if len(keys) in depths:
            path = tuple(keys)
            if path in wanted and path not in found:
                found[path] = line

    for match in _JSON_TOKEN.finditer(text):
        start = match.start()
        line += text.count("\n", last, start)
        last = start
        token = match.group()
        first = token[0]
        if first == ",":
            if objects and objects[-1]:
                expect_key = True
            elif objects:
                index = keys[-1]
                keys[-1] = (index if isinstance(index, int) else 0) + 1
                item_start = True
        elif first in "}]":
            if objects:
                objects.pop()
                keys.pop()
            expect_key = item_start = False
        elif first == ":":
            pass
        elif expect_key and first == '"':
            keys[-1] = json.loads(token) if "\\" in token else token[1:-1]
            expect_key = False
            record()
            if len(found) == len(wanted):
                break
        else:  # a value starts
            if item_start:
                record()
                item_start = False
            if first in "{[":
                objects.append(first == "{")
                keys.append(0)
                expect_key = first == "{"
                item_start = first == "["
    return found


# --- .tf files ---------------------------------------------------------------------------------


def sources_in_tf(path: str | Path) -> list[PipelineSource]:
    """The pipelines of the ``aws_codepipeline`` resources of the `.tf` file at ``path``."""
    file = str(path)
    text = read_text(path, file)
    try:
        return _sources_in_tf_text(text, file)
    except RecursionError:
        raise InputError(file, "", "expected expressions nested less deeply (python-hcl2 reads "
                         "them recursively)") from None


def _sources_in_tf_text(text: str, file: str) -> list[PipelineSource]:
    import hcl2  # imported here: only a .tf file needs it

    try:
        tree = hcl2.parses(text)
    except RecursionError:
        raise
    except Exception as error:  # lark's errors, and anything else python-hcl2 raises on input
        raise _syntax_error(error, file) from None
    reader = _Tf(text, file)
    body = tree.body
    reader.read_scope(body)
    resources: list[_Resource] = []
    seen: dict[str, int | None] = {}
    for block in reader.blocks(body):
        labels = reader.labels(block)
        if len(labels) == 3 and labels[0] == "resource" and labels[1] == RESOURCE_TYPE:
            where = f"{RESOURCE_TYPE}.{labels[2]}"
            line = _line(block)
            if where in seen:
                raise InputError(file, where, f"expected each resource once, it is declared at "
                                 f"line {seen[where]} and again at line {line}")
            seen[where] = line
            resources.append(reader.resource(block, where))
    if not resources:
        raise NoPipeline(file, "", f"expected at least one {RESOURCE_TYPE} resource, found none")
    return [_build(file, res) for res in resources]


def _syntax_error(error: Exception, file: str) -> InputError:
    line = getattr(error, "line", None)
    column = getattr(error, "column", None)
    place = (f"line {line}, column {column}" if isinstance(line, int) and line > 0
             and isinstance(column, int) and column > 0 else "")
    token = getattr(error, "token", None)
    char = getattr(error, "char", None)
    if token is not None and getattr(token, "type", "") == "$END":
        what = "unexpected end of file"
    elif token is not None:
        what = f"unexpected {_brief(str(token))}"
    elif isinstance(char, str):
        what = f"unexpected character {_brief(char)}"
    elif type(error).__name__ == "UnexpectedEOF":
        what = "unexpected end of file"
    else:
        what = _brief(str(error).splitlines()[0] if str(error) else type(error).__name__)
    return InputError(file, place, f"expected valid Terraform (HCL): {what}")


def _brief(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return json.dumps(text if len(text) <= limit else text[:limit - 3] + "...",
                      ensure_ascii=False)


def _line(rule: Any) -> int | None:
    """The 1-based line where a python-hcl2 rule starts.

    python-hcl2 8 parses with lark's ``propagate_positions`` and keeps each rule's lark `Meta`
    (its serializer does not output lines: its `with_meta` option is not implemented)."""
    line = getattr(getattr(rule, "_meta", None), "line", None)
    return line if isinstance(line, int) else None


_TEMPLATE = re.compile(r"(?<![$%])[$%]\{")
"""The start of an interpolation or a directive (``$${`` and ``%%{`` are escapes)."""
_SIMPLE_REF = re.compile(r"(?<!\$)\$\{\s*((?:var|local)\.[A-Za-z_][A-Za-z0-9_-]*)\s*\}")
_WHOLE_REF = re.compile(r"\$\{\s*((?:var|local)\.[A-Za-z_][A-Za-z0-9_-]*)\s*\}")


def _literal(value: Any) -> bool:
    """Whether a value python-hcl2 serialized (with string quotes stripped) is literal."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _TEMPLATE.search(item):
                return False
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return True


def _unescape(value: Any) -> Any:
    """A literal value with HCL's template escapes read: ``$${`` is ``${``, ``%%{`` is ``%{``."""
    if isinstance(value, str):
        return value.replace("$${", "${").replace("%%{", "%{")
    if isinstance(value, dict):
        return {_unescape(k): _unescape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unescape(v) for v in value]
    return value


def _escape(text: str) -> str:
    return text.replace("${", "$${").replace("%{", "%%{")


class _Tf:
    """Reads a parsed `.tf` file's pipelines (python-hcl2's rule tree)."""

    def __init__(self, text: str, file: str) -> None:
        from hcl2 import SerializationOptions

        self.text = text
        self.file = file
        self.options = SerializationOptions(with_comments=False, explicit_blocks=False,
                                            preserve_heredocs=False, strip_string_quotes=True)
        self.scope: dict[str, Any] = {}
        """``var.X`` and ``local.X`` with a literal value (as serialized, escapes kept)."""
        self.no_default: set[str] = set()
        """``var.X`` of the variables declared without a default."""

    # -- the tree

    def blocks(self, body: Any) -> list[Any]:
        from hcl2.rules.base import BlockRule

        return [child for child in body.children if isinstance(child, BlockRule)]

    def attributes(self, body: Any, where: str) -> dict[str, Any]:
        from hcl2.rules.base import AttributeRule

        out: dict[str, Any] = {}
        for child in body.children:
            if isinstance(child, AttributeRule):
                name = str(child.identifier.serialize(self.options))
                if name in out:
                    raise InputError(self.file, f"{where}.{name}",
                                     f"expected each argument once, it is set at line "
                                     f"{_line(out[name])} and again at line {_line(child)}")
                out[name] = child
        return out

    def labels(self, block: Any) -> list[str]:
        return [str(label.serialize(self.options)) for label in block.labels]

    def serialize(self, rule: Any) -> Any:
        """An expression as python-hcl2 serializes it (string quotes stripped)."""
        try:
            return rule.serialize(self.options)
        except ValueError as error:  # an integer literal of more digits than Python converts
            line = _line(rule)
            digits = sys.get_int_max_str_digits()
            what = (f"expected an integer of at most {digits:,} digits" if "digits" in str(error)
                    else f"expected a value python-hcl2 can read ({_brief(str(error))})")
            raise InputError(self.file, f"line {line}" if line else "", what) from None

    def source(self, rule: Any) -> str:
        """The text of an expression as written, on one line and short."""
        meta = getattr(rule, "_meta", None)
        start, end = getattr(meta, "start_pos", None), getattr(meta, "end_pos", None)
        if isinstance(start, int) and isinstance(end, int) and 0 <= start < end:
            text = self.text[start:end]
        else:
            text = str(self.serialize(rule))
        text = " ".join(text.split())
        return text if len(text) <= 80 else text[:77] + "..."

    # -- variables and locals

    def read_scope(self, body: Any) -> None:
        """The defaults of ``variable`` blocks and the values of ``locals`` blocks that are
        literal (a local may use variables and other locals)."""
        pending: dict[str, Any] = {}
        for block in self.blocks(body):
            labels = self.labels(block)
            if labels[0] == "variable" and len(labels) == 2:
                attrs = self.attributes(block.body, f"variable.{labels[1]}")
                value = (self.serialize(attrs["default"].expression)
                         if "default" in attrs else None)
                if value is None:
                    self.no_default.add(f"var.{labels[1]}")
                elif _literal(value):
                    self.scope[f"var.{labels[1]}"] = value
            elif labels[0] == "locals" and len(labels) == 1:
                for name, attr in self.attributes(block.body, "locals").items():
                    pending[f"local.{name}"] = self.serialize(attr.expression)
        for _ in range(len(pending)):
            progress = False
            for name, value in list(pending.items()):
                resolved, _used = self.resolve(value)
                if _literal(resolved):
                    self.scope[name] = resolved
                    del pending[name]
                    progress = True
            if not progress:
                break

    def resolve(self, value: Any) -> tuple[Any, list[str]]:
        """``value`` with the variables and locals of `scope` read, and which were read."""
        used: list[str] = []
        if isinstance(value, str):
            whole = _WHOLE_REF.fullmatch(value)
            if whole and whole.group(1) in self.scope:
                return self.scope[whole.group(1)], [whole.group(1)]

            def one(match: re.Match[str]) -> str:
                known = self.scope.get(match.group(1))
                if known is None or isinstance(known, dict | list):
                    return match.group()
                used.append(match.group(1))
                return known if isinstance(known, str) else _escape(_terraform_string(known))

            return _SIMPLE_REF.sub(one, value), used
        if isinstance(value, dict):
            out: dict[Any, Any] = {}
            for k, v in value.items():
                rk, used_k = self.resolve(k)
                rv, used_v = self.resolve(v)
                out[rk if isinstance(rk, str) else _terraform_string(rk)] = rv
                used += used_k + used_v
            return out, used
        if isinstance(value, list):
            items = []
            for v in value:
                rv, used_v = self.resolve(v)
                items.append(rv)
                used += used_v
            return items, used
        return value, used

    # -- values

    def value(self, attr: Any) -> _Got:
        return self.expression(attr.expression, _line(attr))

    def expression(self, expr: Any, line: int | None) -> _Got:
        raw = self.serialize(expr)
        source = self.source(expr)
        resolved, used = self.resolve(raw)
        if _literal(resolved):
            got = _Got(value=_unescape(resolved), line=line)
            if used:
                got.note = (f"is {source}: read with {_read_with(used)} as "
                            f"{_brief(_terraform_string(got.value))}")
            return got
        text = resolved if isinstance(resolved, str) else json.dumps(
            resolved, ensure_ascii=False, default=str)
        whole = _WHOLE_REF.fullmatch(raw) if isinstance(raw, str) else None
        why = (f"is {source}, a variable with no default in this file"
               if whole and whole.group(1) in self.no_default else f"is {source}, not evaluated")
        return _Got(line=line, opaque=text, why=why)

    def map_value(self, attr: Any) -> _Got:
        """A map argument: its entries one by one when it is written as an object."""
        from hcl2.rules.containers import ObjectRule

        inner = getattr(attr.expression, "expression", None)
        if not isinstance(inner, ObjectRule):
            got = self.value(attr)
            if got.opaque is None and isinstance(got.value, dict):
                got.value = {str(k): _Got(value=v, line=got.line) for k, v in got.value.items()}
            return got
        entries: dict[str, _Got] = {}
        for element in inner.elements:
            key, _used = self.resolve(self.serialize(element.key))
            key = _unescape(key) if isinstance(key, str) else _terraform_string(key)
            entries[key] = self.expression(element.expression, _line(element) or _line(attr))
        return _Got(value=entries, line=_line(attr))

    # -- the resource

    def resource(self, block: Any, where: str) -> _Resource:
        attrs = self.attributes(block.body, where)
        res = _Resource(where=where, args={}, stages=[], notes=[])
        for key in ("name", "pipeline_type", "execution_mode"):
            if key in attrs:
                res.args[key] = self.value(attrs[key])
        if "tags" in attrs:
            res.args["tags"] = self.map_value(attrs["tags"])
        for meta in ("count", "for_each"):
            if meta in attrs:
                res.notes.append(Note(
                    f"{where}.{meta}", f"is {self.source(attrs[meta].expression)}: the "
                    "resource is read once, as declared (its instances are not expanded, "
                    "count.index and each.key are not evaluated)", _line(attrs[meta])))
        if "stage" in attrs:
            raise InputError(self.file, f"{where}.stage", "expected stage blocks "
                             "(stage { ... }), got an argument (stage = ...)")
        n_stage = n_dynamic = 0
        for child in self.blocks(block.body):
            labels = self.labels(child)
            if labels == ["stage"]:
                res.stages.append(self.stage(child, where, n_stage))
                n_stage += 1
            elif labels == ["dynamic", "stage"]:
                res.dynamic_stages += 1
                res.notes.append(self.dynamic_note(child, f"{where}.dynamic.stage[{n_dynamic}]",
                                                   "stage"))
                n_dynamic += 1
        lines: dict[tuple[str | int, ...], int | None] = {}
        res.fields = self.fields(block.body, (), lines, where)
        res.field_line = lines.get
        return res

    def fields(self, body: Any, path: tuple[str | int, ...],
               lines: dict[tuple[str | int, ...], int | None], where: str) -> dict[str, Any]:
        """A body's arguments and blocks in the shape of `terraform show -json`: an argument's
        literal value (`NOT_EVALUATED` for an expression), a block's kind a list of bodies;
        ``lines`` gets the line of each at its path (a kind of block: its first block's).

        A ``dynamic`` block is a block of its kind with its ``content``, except for stages and
        actions: those are not read (a note says so), so nothing in them is looked at."""
        out: dict[str, Any] = {}
        for name, attr in self.attributes(body, where).items():
            got = self.value(attr)
            out[name] = got.value if got.opaque is None else NOT_EVALUATED
            lines[(*path, name)] = _line(attr)
        for child in self.blocks(body):
            labels = self.labels(child)
            inner = child.body
            if len(labels) == 2 and labels[0] == "dynamic":
                if labels[1] in ("stage", "action"):
                    continue
                contents = [b for b in self.blocks(child.body) if self.labels(b) == ["content"]]
                inner = contents[0].body if contents else None
            elif len(labels) != 1:
                continue
            kind = labels[-1]
            blocks = out.setdefault(kind, [])
            if not isinstance(blocks, list):  # an argument of that name too: not a field
                continue
            place = (*path, kind, len(blocks))
            lines.setdefault((*path, kind), _line(child))
            lines[place] = _line(child)
            blocks.append({} if inner is None else
                          self.fields(inner, place, lines, f"{where}.{kind}[{len(blocks)}]"))
        return out

    def dynamic_note(self, block: Any, place: str, kind: str) -> Note:
        attrs = self.attributes(block.body, place)
        over = (f" (for_each = {self.source(attrs['for_each'].expression)})"
                if "for_each" in attrs else "")
        return Note(place, f"is a dynamic \"{kind}\" block{over}: it is not expanded without "
                    f"evaluating Terraform, so its {kind}s are not checked", _line(block))

    def stage(self, block: Any, where: str, index: int) -> _Block:
        place = f"{where}.stage[{index}]"
        attrs = self.attributes(block.body, place)
        stage = _Block(index, _line(block), {})
        if "name" in attrs:
            stage.args["name"] = self.value(attrs["name"])
        n_action = 0
        for child in self.blocks(block.body):
            labels = self.labels(child)
            if labels == ["on_failure"]:
                if stage.on_failure is not None:
                    raise InputError(self.file, f"{place}.on_failure", "expected one "
                                     f"on_failure block, there is another at line "
                                     f"{stage.on_failure.line}")
                stage.on_failure = self.on_failure(child, f"{place}.on_failure")
            elif len(labels) == 1 and labels[0] in STAGE_CONDITION_BLOCKS:
                condition = _StageCondition(_line(child))
                for inner in self.blocks(child.body):
                    if self.labels(inner) == ["condition"]:
                        attrs_of = self.attributes(inner.body, f"{place}.{labels[0]}.condition")
                        condition.results.append(self.value(attrs_of["result"])
                                                 if "result" in attrs_of else None)
                stage.conditions[STAGE_CONDITION_BLOCKS[labels[0]]] = condition
            elif labels == ["action"]:
                stage.actions.append(self.action(child, f"{place}.action[{n_action}]",
                                                 n_action))
                n_action += 1
            elif labels == ["dynamic", "action"]:
                stage.dynamic_actions.append(self.dynamic_note(
                    child, f"{place}.dynamic.action[{len(stage.dynamic_actions)}]", "action"))
            elif len(labels) == 2 and labels[0] == "dynamic" \
                    and labels[1] in STAGE_CONDITION_BLOCKS:
                # Decision: read as no condition, as when the for_each is empty, with a note.
                stage.notes.append(Note(
                    f"{place}.dynamic.{labels[1]}[0]", f"is a dynamic \"{labels[1]}\" block: it "
                    "is not expanded without evaluating Terraform, so the stage is read with no "
                    "such condition", _line(child)))
            elif labels == ["dynamic", "on_failure"]:
                # Decision: read as no on_failure block, as when the for_each is empty: the
                # stage fails as by default, with a note.
                attrs_of = self.attributes(child.body, f"{place}.dynamic.on_failure")
                over = (f" (for_each = {self.source(attrs_of['for_each'].expression)})"
                        if "for_each" in attrs_of else "")
                stage.notes.append(Note(
                    f"{place}.dynamic.on_failure[0]", f"is a dynamic \"on_failure\" block{over}: "
                    "it is not expanded without evaluating Terraform, so the stage is read with "
                    "no on_failure (no automatic retry or rollback)", _line(child)))
        return stage

    def on_failure(self, block: Any, place: str) -> _OnFailure:
        attrs = self.attributes(block.body, place)
        out = _OnFailure(_line(block))
        if "result" in attrs:
            out.result = self.value(attrs["result"])
        for child in self.blocks(block.body):
            labels = self.labels(child)
            if labels == ["retry_configuration"]:
                out.retry_configuration = True
                inner = self.attributes(child.body, f"{place}.retry_configuration")
                if "retry_mode" in inner:
                    out.retry_mode = self.value(inner["retry_mode"])
            elif labels == ["condition"]:
                out.conditions += 1
        return out

    def action(self, block: Any, place: str, index: int) -> _Block:
        attrs = self.attributes(block.body, place)
        action = _Block(index, _line(block), {})
        for key in ("name", "category", "owner", "provider", "version", "run_order"):
            if key in attrs:
                action.args[key] = self.value(attrs[key])
        if "configuration" in attrs:
            action.args["configuration"] = self.map_value(attrs["configuration"])
        return action


def _read_with(used: list[str]) -> str:
    parts = []
    for name in dict.fromkeys(used):
        parts.append(f"the default of {name}" if name.startswith("var.") else
                     f"the value of {name}")
    return " and ".join(parts)
