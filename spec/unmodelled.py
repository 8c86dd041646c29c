"""Which fields of a pipeline declaration the model accounts for, and warnings for the rest.

Every field of the declaration is in exactly one class (decisions and reasons beside each):

* MODELLED: the model reads it and its verdicts account for it.
* NO_EFFECT: it does not change how executions flow through stages and actions; accepted
  silently.
* UNMODELLED: it changes execution behaviour but the model does not represent it; a
  `FieldWarning` names it.

A key that is not a field of its object at all (a typo) is also warned about, with the closest
field name when there is one.  Pure: returns values, never prints.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from spec.declaration import _API_KEYS, _CLOUDFORMATION_KEYS

MODELLED = "modelled"
NO_EFFECT = "no effect"
UNMODELLED = "unmodelled"


@dataclass(frozen=True)
class FieldWarning:
    """One field the verdicts do not account for: its name, its path, and why."""

    field: str
    place: str
    message: str
    line: int | None = None
    file: str | None = None
    """The file that declares the field, when it is not the one the report is about (a
    declaration an update installs)."""

    def to_json(self, file: str) -> dict[str, Any]:
        """The warning as reports list it: `{file, field, place, line, message}`."""
        return {"file": self.file or file, "field": self.field, "place": self.place,
                "line": self.line, "message": self.message}

    def describe(self, file: str) -> str:
        """``FILE:LINE: PLACE: MESSAGE`` (``FILE: PLACE: MESSAGE`` when the line is not known)."""
        where = self.file or file
        return f"{where}{':' + str(self.line) if self.line else ''}: {self.place}: {self.message}"

    @property
    def keys(self) -> tuple[str | int, ...]:
        """The place as keys and indices, for a reader that finds lines by path."""
        out: list[str | int] = []
        for part in self.place.split("."):
            name, _, rest = part.partition("[")
            out.append(name)
            for index in rest.rstrip("]").split("][") if rest else []:
                out.append(int(index))
        return tuple(out)


# (API spelling, CloudFormation spelling, class, reason)
_PIPELINE = (
    ("name", "Name", MODELLED, "names the pipeline"),
    ("stages", "Stages", MODELLED, "the stages are the model"),
    ("executionMode", "ExecutionMode", MODELLED, "SUPERSEDED, QUEUED and PARALLEL are modelled"),
    ("pipelineType", "PipelineType", MODELLED, "V1/V2 gates retry and execution modes"),
    ("roleArn", "RoleArn", NO_EFFECT, "permissions, not flow"),
    ("artifactStore", "ArtifactStore", NO_EFFECT, "where artifacts are kept"),
    ("artifactStores", "ArtifactStores", NO_EFFECT, "where artifacts are kept, per region"),
    ("version", None, NO_EFFECT, "a revision counter of the declaration"),
    ("variables", "Variables", NO_EFFECT, "values only; the model does not look at values"),
    # Decision: triggers and their git filters only restrict which starts happen; the model
    # already explores a start at every moment, so its verdicts cover every trigger setting.
    ("triggers", "Triggers", NO_EFFECT, "the model explores every possible start"),
    (None, "Tags", NO_EFFECT, "metadata"),
    # Decision: the reader turns DisableInboundStageTransitions into disabled transitions,
    # which the model represents.
    (None, "DisableInboundStageTransitions", MODELLED, "disabled transitions are modelled"),
    # Decision: a restart on update is one more start of an execution, which the model
    # already explores at every moment.
    (None, "RestartExecutionOnUpdate", NO_EFFECT, "a restart is a start, explored always"),
)

_STAGE = (
    ("name", "Name", MODELLED, "names the stage"),
    ("actions", "Actions", MODELLED, "the actions are the model"),
    ("onFailure", "OnFailure", MODELLED, "results RETRY and ROLLBACK are modelled and FAIL is "
     "the default; other results and conditions are warned about separately"),
    ("beforeEntry", "BeforeEntry", MODELLED, "entry conditions with result FAIL or SKIP; other "
     "results are warned about separately"),
    ("onSuccess", "OnSuccess", MODELLED, "success conditions with result FAIL or ROLLBACK; other "
     "results are warned about separately"),
    ("blockers", "Blockers", UNMODELLED,
     "stage blockers are not modelled: verdicts do not account for them"),
)

_ACTION = (
    ("name", "Name", MODELLED, "names the action"),
    ("actionTypeId", "ActionTypeId", MODELLED, "the category tells approvals apart"),
    ("runOrder", "RunOrder", MODELLED, "groups actions that run in parallel"),
    ("configuration", "Configuration", MODELLED, "targets of deploy actions"),
    ("commands", "Commands", NO_EFFECT, "what the action does, not how the execution flows"),
    ("inputArtifacts", "InputArtifacts", NO_EFFECT, "artifact names, not flow"),
    ("outputArtifacts", "OutputArtifacts", NO_EFFECT, "artifact names, not flow"),
    ("outputVariables", "OutputVariables", NO_EFFECT, "values only"),
    ("environmentVariables", "EnvironmentVariables", NO_EFFECT, "values only"),
    ("roleArn", "RoleArn", NO_EFFECT, "permissions, not flow"),
    ("region", "Region", NO_EFFECT, "where the action runs"),
    ("namespace", "Namespace", NO_EFFECT, "names variables"),
    # Decision: a timeout ends the action as failed; the model lets every action in progress
    # end in a result or a timeout at any moment, so the timeout's length is covered.
    ("timeoutInMinutes", "TimeoutInMinutes", NO_EFFECT, "the model lets any action time out"),
)

_ON_FAILURE = (
    ("result", "Result", MODELLED, "RETRY, ROLLBACK and FAIL; SKIP is warned about"),
    ("retryConfiguration", "RetryConfiguration", MODELLED, "the retry mode"),
    ("conditions", "Conditions", UNMODELLED,
     "stage failure conditions are not modelled: verdicts do not account for them (result "
     "ROLLBACK rolls back on every failure of the stage)"),
)

_CONDITIONS = (
    ("conditions", "Conditions", MODELLED, "the stage's one condition"),
)

_CONDITION = (
    ("result", "Result", MODELLED, "what a condition that is not met does"),
    # Decision: the model lets a condition's rules pass or fail at any moment, as it lets an
    # action succeed or fail, so what the rules check (an alarm, a window, a variable) is
    # covered whatever it is.
    ("rules", "Rules", NO_EFFECT, "the model lets a condition's rules pass or fail at any moment"),
)

_ACTION_TYPE_ID = (
    ("category", "Category", MODELLED, "approvals"),
    ("provider", "Provider", MODELLED, "deploy targets"),
    ("owner", "Owner", NO_EFFECT, "names the provider"),
    ("version", "Version", NO_EFFECT, "names the provider"),
)

_MODELLED_RESULTS = ("RETRY", "ROLLBACK", "FAIL")
_CONDITION_RESULTS = {"beforeEntry": ("FAIL", "SKIP"), "onSuccess": ("FAIL", "ROLLBACK")}
"""The results of a stage's conditions the model represents, by the condition's API field."""


def _condition_warning(kind: str, result: object, place: str) -> str | None:
    """Why the condition at `place` (of the stage's `kind` field) is not modelled, or None."""
    if isinstance(result, str) and result in _CONDITION_RESULTS[kind]:
        return None
    which = "entry" if kind == "beforeEntry" else "success"
    if result is None:
        return f"a stage {which} condition without a result is not modelled: verdicts ignore it"
    shown = result if isinstance(result, str) else "this value"
    return (f"stage {which} condition result {shown} is not modelled (expected "
            f"{' or '.join(_CONDITION_RESULTS[kind])}): verdicts ignore this condition")


def _table(rows: tuple[tuple[str | None, str | None, str, str], ...],
           cloudformation: bool) -> dict[str, tuple[str, str]]:
    column = 1 if cloudformation else 0
    return {str(key): (row[2], row[3]) for row in rows if (key := row[column]) is not None}


def declaration_warnings(data: object, place: str = "",
                         cloudformation: bool = False) -> tuple[FieldWarning, ...]:
    """Warnings for the unmodelled and unknown fields of a pipeline declaration object.

    ``data`` is the pipeline object (API spelling) or a resource's ``Properties``
    (CloudFormation spelling when ``cloudformation``); ``place`` is its path in the document.
    """
    found: list[FieldWarning] = []
    keys = _CLOUDFORMATION_KEYS if cloudformation else _API_KEYS
    if isinstance(data, dict) and not cloudformation and "pipeline" in data:
        place = _at(place, "pipeline")
        data = data["pipeline"]
    _check(data, place, _table(_PIPELINE, cloudformation), "PipelineDeclaration", found)
    stages = data.get(keys.stages) if isinstance(data, dict) else None
    for i, stage in enumerate(stages if isinstance(stages, list) else []):
        stage_place = f"{_at(place, keys.stages)}[{i}]"
        _check(stage, stage_place, _table(_STAGE, cloudformation), "StageDeclaration", found)
        if not isinstance(stage, dict):
            continue
        for kind in ("beforeEntry", "onSuccess"):
            key = keys.before_entry if kind == "beforeEntry" else keys.on_success
            holder = stage.get(key)
            if not isinstance(holder, dict):
                continue
            holder_place = _at(stage_place, key)
            _check(holder, holder_place, _table(_CONDITIONS, cloudformation),
                   "BeforeEntryConditions" if kind == "beforeEntry" else "SuccessConditions",
                   found)
            items = holder.get(keys.conditions)
            for c, condition in enumerate(items if isinstance(items, list) else []):
                if not isinstance(condition, dict):
                    continue
                condition_place = f"{_at(holder_place, keys.conditions)}[{c}]"
                _check(condition, condition_place, _table(_CONDITION, cloudformation),
                       "Condition", found)
                why = _condition_warning(kind, condition.get(keys.result), condition_place)
                if why is not None:
                    found.append(FieldWarning(keys.result, _at(condition_place, keys.result)
                                              if keys.result in condition else condition_place,
                                              why))
        on_failure = stage.get(keys.on_failure)
        if isinstance(on_failure, dict):
            failure_place = _at(stage_place, keys.on_failure)
            _check(on_failure, failure_place, _table(_ON_FAILURE, cloudformation),
                   "FailureConditions", found)
            result = on_failure.get(keys.result)
            if isinstance(result, str) and result not in _MODELLED_RESULTS:
                found.append(FieldWarning(
                    keys.result, _at(failure_place, keys.result),
                    f"stage failure result {result} is not modelled: verdicts treat the "
                    "failure as FAIL"))
        actions = stage.get(keys.actions)
        for j, action in enumerate(actions if isinstance(actions, list) else []):
            action_place = f"{_at(stage_place, keys.actions)}[{j}]"
            _check(action, action_place, _table(_ACTION, cloudformation),
                   "ActionDeclaration", found)
            if isinstance(action, dict):
                _check(action.get(keys.action_type_id), _at(action_place, keys.action_type_id),
                       _table(_ACTION_TYPE_ID, cloudformation), "ActionTypeId", found)
    return tuple(found)


def _check(data: object, place: str, table: dict[str, tuple[str, str]], shape: str,
           found: list[FieldWarning], terraform: bool = False,
           line_of: Callable[[str], int | None] = lambda key: None) -> None:
    """Warnings for the keys of ``data``; ``line_of(key)`` is the line of one of them.

    In Terraform a null argument and an empty list of blocks are not set (a plan lists every
    argument of the schema, most of them null), so they are left out."""
    if not isinstance(data, dict):
        return
    for key, value in data.items():
        name = str(key)
        if name == "stagelock" and shape == "PipelineDeclaration":
            continue  # what the file says to stagelock, read by the reader
        if terraform and (value is None or value == []):
            continue
        if name in table:
            kind, reason = table[name]
            if kind == UNMODELLED:
                found.append(FieldWarning(name, _at(place, name), reason, line_of(name)))
            continue
        same_letters = [k for k in table if k.lower() == name.lower()]
        close = same_letters or difflib.get_close_matches(name, list(table), n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]}?" if close else ""
        what = f"not an argument or block of {shape}" if terraform else f"not a field of {shape}"
        found.append(FieldWarning(name, _at(place, name), f"{what}, ignored{hint}",
                                  line_of(name)))


def _at(place: str, key: str) -> str:
    return f"{place}.{key}" if place else key


# --- Terraform's aws_codepipeline resource ---------------------------------------------------

# Decision: Terraform spells each field of the API as its name in snake_case, and a list of
# objects that the resource writes as repeated blocks in the singular (``stage { ... }`` once a
# stage); so its fields, classes and reasons are the API's rows above, not spelled again.  The
# action type's fields are arguments of the action itself; the rows with no API spelling are
# CloudFormation's own and Terraform has none of them.
_TERRAFORM_BLOCKS = {"stages": "stage", "actions": "action", "conditions": "condition",
                     "triggers": "trigger", "variables": "variable",
                     "artifactStores": "artifact_store"}

_TERRAFORM_ONLY = (
    ("tags", NO_EFFECT, "metadata"),
    ("tags_all", NO_EFFECT, "metadata, with the provider's default tags"),
    ("id", NO_EFFECT, "names the pipeline"),
    ("arn", NO_EFFECT, "names the pipeline"),
    ("region", NO_EFFECT, "where the pipeline is"),
    ("trigger_all", NO_EFFECT, "the model explores every possible start"),
    *((meta, NO_EFFECT, "a meta-argument of Terraform, read by Terraform")
      for meta in ("count", "for_each", "provider", "depends_on", "lifecycle", "provisioner",
                   "connection")),
)
"""The pipeline's arguments that only Terraform has: what it computes, and its own."""


def terraform_name(api: str) -> str:
    """A field's name in Terraform's aws_codepipeline resource (``retryConfiguration`` is
    ``retry_configuration``, ``stages`` is ``stage``)."""
    return _TERRAFORM_BLOCKS.get(api) or re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", api).lower()


def _terraform_table(*shapes: tuple[tuple[str | None, str | None, str, str], ...],
                     leave_out: tuple[str, ...] = ()) -> dict[str, tuple[str, str]]:
    return {terraform_name(row[0]): (row[2], row[3]) for rows in shapes for row in rows
            if row[0] is not None and row[0] not in leave_out}


_TF_PIPELINE = {**_terraform_table(_PIPELINE),
                **{name: (kind, reason) for name, kind, reason in _TERRAFORM_ONLY}}
_TF_STAGE = _terraform_table(_STAGE)
_TF_ACTION = _terraform_table(_ACTION, _ACTION_TYPE_ID, leave_out=("actionTypeId",))
_TF_ON_FAILURE = _terraform_table(_ON_FAILURE)
_TF_CONDITIONS = _terraform_table(_CONDITIONS)
_TF_CONDITION = {"rule" if name == "rules" else name: row
                 for name, row in _terraform_table(_CONDITION).items()}
"""A condition block: its rules are repeated ``rule`` blocks."""


def terraform_warnings(values: object, place: str = "",
                       line_of: Callable[[tuple[str | int, ...]], int | None] | None = None,
                       ) -> tuple[FieldWarning, ...]:
    """Warnings for the unmodelled and unknown arguments and blocks of an ``aws_codepipeline``
    resource, in Terraform's spelling.

    ``values`` is the resource as `terraform show -json` gives it (each block a list of
    objects, ``on_failure`` a list of one); ``place`` is the resource's address; the places are
    Terraform's (``aws_codepipeline.main.stage[1].on_failure.result``); ``line_of(path)`` is the
    line of the value at ``path`` in ``values`` (``("stage", 1, "on_failure", 0, "result")``).
    """
    found: list[FieldWarning] = []

    def lines(*path: str | int) -> Callable[[str], int | None]:
        return lambda key: line_of((*path, key)) if line_of is not None else None

    if not isinstance(values, dict):
        return ()
    _check(values, place, _TF_PIPELINE, "the aws_codepipeline resource", found, True,
           lines())
    for i, stage in enumerate(_blocks(values.get("stage"))):
        stage_place = f"{_at(place, 'stage')}[{i}]"
        _check(stage, stage_place, _TF_STAGE, "a stage", found, True, lines("stage", i))
        for kind, block in (("beforeEntry", "before_entry"), ("onSuccess", "on_success")):
            for holder in _blocks(stage.get(block))[:1]:
                holder_place = _at(stage_place, block)
                _check(holder, holder_place, _TF_CONDITIONS, f"a {block} block", found, True,
                       lines("stage", i, block, 0))
                for c, condition in enumerate(_blocks(holder.get("condition"))):
                    condition_place = f"{_at(holder_place, 'condition')}[{c}]"
                    at = lines("stage", i, block, 0, "condition", c)
                    _check(condition, condition_place, _TF_CONDITION, "a condition block", found,
                           True, at)
                    why = _condition_warning(kind, condition.get("result"), condition_place)
                    if why is not None:
                        found.append(FieldWarning("result", _at(condition_place, "result"), why,
                                                  at("result")))
        for failure in _blocks(stage.get("on_failure"))[:1]:
            failure_place = _at(stage_place, "on_failure")
            at = lines("stage", i, "on_failure", 0)
            _check(failure, failure_place, _TF_ON_FAILURE, "an on_failure block", found, True,
                   at)
            result = failure.get("result")
            if isinstance(result, str) and result not in _MODELLED_RESULTS:
                found.append(FieldWarning(
                    "result", _at(failure_place, "result"),
                    f"stage failure result {result} is not modelled: verdicts treat the "
                    "failure as FAIL", at("result")))
        for j, action in enumerate(_blocks(stage.get("action"))):
            _check(action, f"{_at(stage_place, 'action')}[{j}]", _TF_ACTION, "an action", found,
                   True, lines("stage", i, "action", j))
    return tuple(found)


def _blocks(value: object) -> list[dict[str, Any]]:
    return [b for b in value if isinstance(b, dict)] if isinstance(value, list) else []


def classification() -> dict[str, dict[str, tuple[str, str]]]:
    """Every shape's fields (API spelling) with their class and reason."""
    shapes: dict[str, Any] = {"PipelineDeclaration": _PIPELINE, "StageDeclaration": _STAGE,
                              "ActionDeclaration": _ACTION, "FailureConditions": _ON_FAILURE,
                              "BeforeEntryConditions": _CONDITIONS,
                              "SuccessConditions": _CONDITIONS, "Condition": _CONDITION,
                              "ActionTypeId": _ACTION_TYPE_ID}
    return {shape: {(row[0] or row[1]): (row[2], row[3]) for row in rows}
            for shape, rows in shapes.items()}
