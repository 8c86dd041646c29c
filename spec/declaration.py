"""A pipeline declaration as plain values: what the model needs of a CodePipeline declaration.

The shape follows `PipelineDeclaration` of the CodePipeline API (what `aws codepipeline
get-pipeline` prints).  Only the fields that change how executions flow are kept; everything else
in a declaration is accepted and ignored by the reader (`parse_pipeline`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

EXECUTION_MODES = ("SUPERSEDED", "QUEUED", "PARALLEL")
"""`ExecutionMode` values.  "The default mode is SUPERSEDED." [API ExecutionMode]"""

PIPELINE_TYPES = ("V1", "V2")
ACTION_CATEGORIES = ("Source", "Build", "Deploy", "Test", "Invoke", "Approval", "Compute")


class Computed(str):
    """Text that the file computes (a CloudFormation intrinsic function), evaluated: a parameter's
    default, a `!Sub` with every variable known, a `!FindInMap` over literal mappings.

    It is what the file's own language gives, not what the user typed, so a name that is
    `Computed` need not follow `NAME_PATTERN` (the file's author did not spell it).
    """

    __slots__ = ()


class Opaque(Computed):
    """A value that the file computes and that is known only when it is deployed (`!Ref` of a
    resource, `!GetAtt`, `!ImportValue`, a parameter without a default): its text is the readable
    form of what is written (`!Ref Bucket`, `${RepoName}-staging`,
    `!FindInMap [Constants, !Ref Env, Stack]`).

    Two opaque values are the same value exactly when their texts are the same.  ``inside`` is
    how the value reads inside a longer text (``${Bucket}`` for ``!Ref Bucket``, as `!Sub` would
    write it).
    """

    inside: str

    def __new__(cls, text: str, inside: str | None = None) -> Opaque:
        value = super().__new__(cls, text)
        value.inside = text if inside is None else inside
        return value


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
    automatic_retry: str | None = None
    """The `retryMode` of the stage's automatic retry on failure (``onFailure: {result: RETRY,
    retryConfiguration: {retryMode: ...}}``): FAILED_ACTIONS or ALL_ACTIONS; None when the stage
    declares none."""
    before_entry: str | None = None
    """The result of the stage's entry condition (``beforeEntry``): FAIL or SKIP; None when the
    stage declares none the model represents (`entry_condition`)."""
    on_success: str | None = None
    """The result of the stage's success condition (``onSuccess``): FAIL or ROLLBACK; None when
    the stage declares none the model represents (`success_condition`)."""
    automatic_rollback: bool = False
    """The stage rolls back on failure (``onFailure: {result: ROLLBACK}``)."""

    @property
    def rolls_back(self) -> bool:
        """Whether the stage can start a rollback of its own: it rolls back on failure, or its
        success condition has result ROLLBACK."""
        return self.automatic_rollback or self.on_success == "ROLLBACK"

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


# ---------------------------------------------------------------------------------------------
# Reading a declaration from a dict
# ---------------------------------------------------------------------------------------------

NAME_PATTERN = re.compile(r"[A-Za-z0-9.@\-_]+")
"""`PipelineName`, `StageName`, `ActionName`: pattern `[A-Za-z0-9.@\\-_]+`, 1..100 chars. [SM]"""

NAME_MAX_LENGTH = 100
RUN_ORDER_MIN = 1
RUN_ORDER_MAX = 999
"""`ActionRunOrder`: integer 1..999. [SM]"""

_NAME_RULE = "of 1 to 100 characters A-Z a-z 0-9 . @ - _"

STAGES_MIN = 2
STAGES_MAX = 50
ACTIONS_PER_STAGE_MAX = 50
ACTIONS_PER_PIPELINE_MAX = 1000
"""CodePipeline's quotas: "Number of stages in a pipeline: Minimum of 2 stages, maximum of 50
stages"; "Number of actions in a stage: Minimum of 1 action, maximum of 50 actions"; at most
1000 actions in a pipeline. [UG:limits]"""

_QUOTAS = "CodePipeline quotas, AWS CodePipeline User Guide, \"Quotas in AWS CodePipeline\""


class DeclarationError(Exception):
    """An invalid declaration: the place in the document and what was expected there.

    ``place`` is a path from the document root such as ``pipeline.stages[2].actions[0].runOrder``;
    ``expected`` reads as the rest of a sentence after it, e.g. ``expected an integer from 1 to
    999, got 0``.
    """

    def __init__(self, place: str, expected: str) -> None:
        self.place = place
        self.expected = expected
        super().__init__(f"{place}: {expected}" if place else expected)


@dataclass(frozen=True)
class _Keys:
    """The field names of one spelling of a declaration."""

    name: str
    stages: str
    actions: str
    action_type_id: str
    category: str
    provider: str
    run_order: str
    configuration: str
    execution_mode: str
    pipeline_type: str
    run_order_digit_strings: bool
    intrinsic_functions: bool = False
    """Whether a one-key object like {"Ref": ...} is a CloudFormation function (only in a
    template; in a get-pipeline declaration it is a plain object)."""
    on_failure: str = "onFailure"
    result: str = "result"
    retry_configuration: str = "retryConfiguration"
    retry_mode: str = "retryMode"
    conditions: str = "conditions"
    before_entry: str = "beforeEntry"
    on_success: str = "onSuccess"


_API_KEYS = _Keys(
    name="name",
    stages="stages",
    actions="actions",
    action_type_id="actionTypeId",
    category="category",
    provider="provider",
    run_order="runOrder",
    configuration="configuration",
    execution_mode="executionMode",
    pipeline_type="pipelineType",
    run_order_digit_strings=False,
)
"""The CodePipeline API spelling (`get-pipeline`, `create-pipeline --pipeline`)."""

_CLOUDFORMATION_KEYS = _Keys(
    name="Name",
    stages="Stages",
    actions="Actions",
    action_type_id="ActionTypeId",
    category="Category",
    provider="Provider",
    run_order="RunOrder",
    configuration="Configuration",
    execution_mode="ExecutionMode",
    pipeline_type="PipelineType",
    # CloudFormation coerces a string of digits to the integer property type.
    run_order_digit_strings=True,
    intrinsic_functions=True,
    on_failure="OnFailure",
    result="Result",
    retry_configuration="RetryConfiguration",
    retry_mode="RetryMode",
    conditions="Conditions",
    before_entry="BeforeEntry",
    on_success="OnSuccess",
)
"""The `AWS::CodePipeline::Pipeline` resource's `Properties` spelling (PascalCase)."""


class _Missing:
    """A field that is absent from its object."""


_MISSING = _Missing()


def parse_pipeline(data: object) -> Pipeline:
    """The pipeline a declaration describes, as `get-pipeline` prints it or as its inner object.

    ``{"pipeline": {...}, "metadata": {...}}`` and the inner ``{...}`` give the same value; the
    metadata and every field the model does not need (roleArn, artifactStore, artifacts,
    variables, triggers, conditions, ...) are ignored.  Raises `DeclarationError` for invalid
    input, never another exception.

    >>> parse_pipeline({"name": "p", "stages": [{"name": "S", "actions": [
    ...     {"name": "A", "actionTypeId": {"category": "Build"}}]}]}).stages[0].actions[0].run_order
    1
    """
    if isinstance(data, dict) and "pipeline" in data:
        return _pipeline(data["pipeline"], "pipeline", _API_KEYS, default_name=None)
    return _pipeline(data, "", _API_KEYS, default_name=None)


def parse_cloudformation_pipeline(properties: object, place: str, logical_id: str) -> Pipeline:
    """The pipeline an `AWS::CodePipeline::Pipeline` resource's ``Properties`` describe.

    ``place`` is where the properties are in the template (``Resources.X.Properties``), so that
    errors name the template's own path.  Field names are CloudFormation's PascalCase ones.
    """
    return _pipeline(properties, place, _CLOUDFORMATION_KEYS, default_name=logical_id)


def pipeline_to_dict(pipeline: Pipeline) -> dict[str, Any]:
    """A minimal declaration of ``pipeline`` in the API shape; `parse_pipeline` reads it back.

    Only what the model uses is written; each action type gets owner ``AWS`` and version ``1``.
    """
    return {
        "name": pipeline.name,
        "pipelineType": pipeline.pipeline_type,
        "executionMode": pipeline.execution_mode,
        "stages": [_stage_to_dict(stage) for stage in pipeline.stages],
    }


def _stage_to_dict(stage: Stage) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": stage.name,
        "actions": [_action_to_dict(action) for action in stage.actions],
    }
    if stage.automatic_retry is not None:
        out["onFailure"] = {"result": RETRY,
                            "retryConfiguration": {"retryMode": stage.automatic_retry}}
    elif stage.automatic_rollback:
        out["onFailure"] = {"result": ROLLBACK}
    for key, result in (("beforeEntry", stage.before_entry), ("onSuccess", stage.on_success)):
        if result is not None:
            out[key] = {"conditions": [{"result": result, "rules": [_RULE]}]}
    return out


_RULE = {"name": "Check", "ruleTypeId": {"category": "Rule", "owner": "AWS",
                                          "provider": "LambdaInvoke", "version": "1"}}
"""The rule a written condition runs: the model does not look at rules, only at results."""


def _action_to_dict(action: Action) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": action.name,
        "actionTypeId": {
            "category": action.category,
            "owner": "AWS",
            "provider": action.provider,
            "version": "1",
        },
        "runOrder": action.run_order,
    }
    if action.configuration:
        out["configuration"] = dict(action.configuration)
    return out


# --- the reader, one function per level of the document --------------------------------------


def _pipeline(data: object, place: str, keys: _Keys, default_name: str | None) -> Pipeline:
    data = _object(data, place, "a pipeline declaration object")
    name = _pipeline_name(data, place, keys, default_name)
    pipeline_type = _one_of(data, place, keys.pipeline_type, PIPELINE_TYPES, default="V1")
    execution_mode = _one_of(
        data, place, keys.execution_mode, EXECUTION_MODES, default="SUPERSEDED"
    )
    _check_mode_needs_v2(data, place, keys, execution_mode, pipeline_type)
    stages = _stages(data, place, keys)
    _check_retry_needs_v2(data, place, keys, stages, pipeline_type)
    _check_no_rollback_in_parallel(data, place, keys, stages, execution_mode)
    known = {keys.name, keys.stages, keys.execution_mode, keys.pipeline_type}
    extra = {str(k): v for k, v in data.items() if k not in known}
    return Pipeline(
        name=name,
        stages=stages,
        execution_mode=execution_mode,
        pipeline_type=pipeline_type,
        extra=extra,
    )


def _pipeline_name(data: dict[Any, Any], place: str, keys: _Keys, default_name: str | None) -> str:
    value = data.get(keys.name, _MISSING)
    # Decision: in a CloudFormation template the name is often left to CloudFormation or built
    # with an intrinsic function (!Ref, !Sub) that only a deployment can evaluate; the resource's
    # logical id then names the pipeline, even when the function could be evaluated with the
    # parameters' defaults (the logical id is what stays the same from one deployment to the
    # next, and what `--ignore RULE:PIPELINE` names).  A plain string is still checked.
    if default_name is not None and (not isinstance(value, str) or isinstance(value, Computed)):
        return default_name
    return _name(value, _at(place, keys.name), "a pipeline name")


def _check_mode_needs_v2(
    data: dict[Any, Any], place: str, keys: _Keys, execution_mode: str, pipeline_type: str
) -> None:
    """QUEUED and PARALLEL need a V2 pipeline.

    "QUEUED mode: ... This requires pipeline type V2."  "PARALLEL mode: ... This requires pipeline
    type V2." [seed]
    """
    if execution_mode == "SUPERSEDED" or pipeline_type == "V2":
        return
    given = data.get(keys.pipeline_type)
    why = (
        f"{keys.pipeline_type} is {pipeline_type}"
        if given is not None
        else f"{keys.pipeline_type} defaults to {pipeline_type}"
    )
    raise DeclarationError(
        _at(place, keys.execution_mode),
        f"expected {keys.pipeline_type} V2 for {keys.execution_mode} {execution_mode} ({why})",
    )


def _stages(data: dict[Any, Any], place: str, keys: _Keys) -> tuple[Stage, ...]:
    stages_place = _at(place, keys.stages)
    items = _non_empty_list(data.get(keys.stages, _MISSING), stages_place, "stages")
    if len(items) > STAGES_MAX:
        raise DeclarationError(stages_place, f"expected at most {STAGES_MAX} stages ({_QUOTAS}), "
                               f"got {len(items):,}")
    stages = _uniquely_named(items, stages_place, keys.stages, keys, _stage,
                             "a unique stage name")
    if len(stages) < STAGES_MIN:
        raise DeclarationError(stages_place, f"expected at least {STAGES_MIN} stages "
                               f"({_QUOTAS}), got {len(stages)}")
    total = sum(len(stage.actions) for stage in stages)
    if total > ACTIONS_PER_PIPELINE_MAX:
        raise DeclarationError(stages_place, f"expected at most {ACTIONS_PER_PIPELINE_MAX} "
                               f"actions in a pipeline ({_QUOTAS}), got {total:,}")
    return stages


def _stage(data: object, place: str, keys: _Keys) -> Stage:
    data = _object(data, place, "a stage object")
    name = _name(data.get(keys.name, _MISSING), _at(place, keys.name), "a stage name")
    actions_place = _at(place, keys.actions)
    items = _non_empty_list(data.get(keys.actions, _MISSING), actions_place, "actions")
    if len(items) > ACTIONS_PER_STAGE_MAX:
        raise DeclarationError(actions_place, f"expected at most {ACTIONS_PER_STAGE_MAX} actions "
                               f"in a stage ({_QUOTAS}), got {len(items):,}")
    # "Stage names are unique; action names are unique within a stage." [UG]
    actions = _uniquely_named(items, actions_place, keys.actions, keys, _action,
                              f'an action name unique in stage "{name}"')
    return Stage(name=name, actions=actions,
                 automatic_retry=_automatic_retry(data, place, keys),
                 automatic_rollback=_automatic_rollback(data, keys),
                 before_entry=_condition_result(data, place, keys, keys.before_entry,
                                                ENTRY_RESULTS),
                 on_success=_condition_result(data, place, keys, keys.on_success,
                                              SUCCESS_RESULTS))

# --- automatic retry on stage failure ---------------------------------------------------------

RESULTS = ("ROLLBACK", "FAIL", "RETRY", "SKIP")
"""`Result` values (`FailureConditions.result`) [SM]."""
RETRY = "RETRY"
ROLLBACK = "ROLLBACK"
RETRY_MODES = ("FAILED_ACTIONS", "ALL_ACTIONS")
"""`StageRetryMode` values [SM]."""


def _automatic_retry(data: dict[Any, Any], place: str, keys: _Keys) -> str | None:
    """The retry mode of a stage that retries automatically on failure, or None.

    "You can configure a stage for automatic retry on failure. The stage will make one retry
    attempt" [UG:stage-retry], declared as ``onFailure: {result: RETRY, retryConfiguration:
    {retryMode: ALL_ACTIONS | FAILED_ACTIONS}}``.  The other results are no automatic retry:
    FAIL is a plain failure, ROLLBACK an automatic rollback (`_automatic_rollback`), and SKIP,
    not a result of onFailure, is warned about (`spec.unmodelled`).

    "You cannot use automatic stage retry with onFailure conditions." [UG:stage-conditions]: a
    stage that declares both is not a valid declaration, and is refused like one.
    Decision: a result RETRY without a retryMode is refused too: RetryConfiguration is optional
    in the API, but no page says which actions such a retry would run.
    """
    value = data.get(keys.on_failure)
    if value is None:
        return None
    here = _at(place, keys.on_failure)
    on_failure = _object(value, here, f"an {keys.on_failure} object")
    result = _one_of(on_failure, here, keys.result, RESULTS, default="FAIL")
    if result != RETRY:
        return None
    conditions = on_failure.get(keys.conditions)
    if conditions is not None and conditions != []:
        raise DeclarationError(
            _at(here, keys.conditions),
            f"expected no {keys.conditions} with {keys.result} {RETRY}: \"You cannot use "
            f"automatic stage retry with onFailure conditions.\" (AWS CodePipeline User Guide, "
            f"\"Configure conditions for a stage\"), got {_describe(conditions)}")
    config_place = _at(here, keys.retry_configuration)
    expected = (f"a {keys.retry_configuration} object with a {keys.retry_mode} "
                f"({' or '.join(RETRY_MODES)}) for {keys.result} {RETRY}")
    config = on_failure.get(keys.retry_configuration)
    if config is None:
        raise DeclarationError(config_place, f"expected {expected}, but it is missing")
    config = _object(config, config_place, expected)
    mode_place = _at(config_place, keys.retry_mode)
    mode = config.get(keys.retry_mode)
    if mode not in RETRY_MODES:
        raise DeclarationError(mode_place, _expected(
            f"one of {', '.join(RETRY_MODES)} for {keys.result} {RETRY}",
            _MISSING if mode is None else mode))
    return str(mode)


def _automatic_rollback(data: dict[Any, Any], keys: _Keys) -> bool:
    """Whether the stage rolls back automatically on failure: "You can configure stages in a
    pipeline to roll back automatically on failure." [UG:stage-rollback-auto], declared as
    ``onFailure: {result: ROLLBACK}`` (its conditions, when it has some, are warned about:
    `spec.unmodelled`).  `_automatic_retry` has already read the object and its result."""
    value = data.get(keys.on_failure)
    return isinstance(value, dict) and value.get(keys.result) == ROLLBACK


# --- stage conditions ---------------------------------------------------------------------------

ENTRY_RESULTS = ("FAIL", "SKIP")
SUCCESS_RESULTS = ("FAIL", "ROLLBACK")


def _condition_result(data: dict[Any, Any], place: str, keys: _Keys, key: str,
                      modelled: tuple[str, ...]) -> str | None:
    """The result of a stage's entry (``beforeEntry``) or success (``onSuccess``) condition, when
    the model represents it; None when the stage declares no such condition, or one whose result
    is not modelled (`spec.unmodelled` warns about that one).

    [UG:stage-conditions] "Entry - The conditions for making checks that, if met, allow entry to
    a stage. Rules are engaged with the following result options: Fail or Skip"; "On Success -
    ... Rollback or Fail".  [SM] BeforeEntryConditions.conditions and SuccessConditions.
    conditions: "Fixed number of 1 item."  The rules themselves (an alarm, a deployment window,
    a Lambda function) are not read: the model lets a condition pass or fail at any moment.
    A condition without a result is not modelled.  Decision: a success condition with result
    ROLLBACK is accepted in PARALLEL mode, where stage rollback is not available: only "failure
    conditions with a rollback result type cannot be added to a PARALLEL mode pipeline"
    [UG:execution-modes]; when it fails there, the stage fails and nothing rolls back
    (`spec.rules.rollback_available`).
    """
    value = data.get(key)
    if value is None:
        return None
    here = _at(place, key)
    conditions = _object(value, here, f"a {key} object with {keys.conditions}").get(
        keys.conditions)
    if conditions is None or conditions == []:
        return None
    conditions_place = _at(here, keys.conditions)
    if not isinstance(conditions, list):
        raise DeclarationError(conditions_place, _expected("a list of one condition", conditions))
    items = [c for c in (_conditional(c, keys) for c in conditions) if c is not None]
    if len(items) > 1:
        raise DeclarationError(conditions_place, f"expected one condition (a {key} holds exactly "
                               f"one), got {len(items)}")
    if not items:
        return None
    condition = _object(items[0], f"{conditions_place}[0]", "a condition object")
    result = condition.get(keys.result)
    return str(result) if isinstance(result, str) and result in modelled else None


def _check_retry_needs_v2(data: dict[Any, Any], place: str, keys: _Keys,
                          stages: tuple[Stage, ...], pipeline_type: str) -> None:
    """Automatic retry and stage conditions need a V2 pipeline: "Configure a stage for automatic
    retry on failure" and "Stage conditions": V1 type "Not supported", V2 type "Supported"
    [UG:pipeline-types-planning]."""
    if pipeline_type == "V2":
        return
    for i, stage in enumerate(stages):
        given = data.get(keys.pipeline_type)
        why = (f"{keys.pipeline_type} is {pipeline_type}" if given is not None
               else f"{keys.pipeline_type} defaults to {pipeline_type}")
        stage_place = f"{_at(place, keys.stages)}[{_index_of(data, keys, stage.name, i)}]"
        if stage.automatic_retry is not None or stage.automatic_rollback:
            on_failure = RETRY if stage.automatic_retry is not None else ROLLBACK
            raise DeclarationError(
                _at(stage_place, keys.on_failure),
                f"expected {keys.pipeline_type} V2 for {keys.result} {on_failure} ({why})")
        for key, result in ((keys.before_entry, stage.before_entry),
                            (keys.on_success, stage.on_success)):
            if result is not None:
                raise DeclarationError(
                    _at(stage_place, key),
                    f"expected {keys.pipeline_type} V2 for a stage condition ({why})")


def _check_no_rollback_in_parallel(data: dict[Any, Any], place: str, keys: _Keys,
                                   stages: tuple[Stage, ...], execution_mode: str) -> None:
    """"For pipelines in PARALLEL mode, stage rollback is not available. Similarly, failure
    conditions with a rollback result type cannot be added to a PARALLEL mode pipeline."
    [UG:execution-modes]"""
    if execution_mode != "PARALLEL":
        return
    for i, stage in enumerate(stages):
        if stage.automatic_rollback:
            stage_place = f"{_at(place, keys.stages)}[{_index_of(data, keys, stage.name, i)}]"
            raise DeclarationError(
                _at(_at(stage_place, keys.on_failure), keys.result),
                f"expected no {keys.result} {ROLLBACK} in {keys.execution_mode} PARALLEL: "
                "\"failure conditions with a rollback result type cannot be added to a PARALLEL "
                "mode pipeline\" (AWS CodePipeline User Guide, \"Set or change the pipeline "
                "execution mode\")")


def _index_of(data: dict[Any, Any], keys: _Keys, name: str, default: int) -> int:
    """The index in the document's stage list of the stage named ``name`` (a template's
    conditions may have left items out before it)."""
    items = data.get(keys.stages)
    if isinstance(items, list):
        for i, item in enumerate(items):
            if isinstance(item, dict) and item.get(keys.name) == name:
                return i
    return default


def _uniquely_named(items: list[Any], place: str, key: str, keys: _Keys,
                    read: Callable[[object, str, _Keys], Any], expected: str) -> tuple[Any, ...]:
    """Each item read with `read` (leaving out those a template's condition removes), their
    names unique: `expected` says what a duplicate should have been."""
    out: list[Any] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        item = _conditional(item, keys)
        if item is None:
            continue
        value = read(item, f"{place}[{i}]", keys)
        if value.name in seen:
            raise DeclarationError(
                _at(f"{place}[{i}]", keys.name),
                f'expected {expected}, "{value.name}" is already {key}[{seen[value.name]}]',
            )
        seen[value.name] = i
        out.append(value)
    return tuple(out)


def _conditional(item: object, keys: _Keys) -> object:
    """A stage or action that a CloudFormation template declares under a condition
    (`!If [Condition, Value, Otherwise]`).

    Decision: the model reads the template as if each condition holds, so that the pipeline is
    checked with every stage and action it can have: the first value is taken, unless it is
    `!Ref AWS::NoValue`, then the second; an item that comes out as `AWS::NoValue` is left out
    (None).  Conditions are not evaluated, and this is never an error."""
    while (keys.intrinsic_functions and isinstance(item, dict) and list(item) == ["Fn::If"]
           and isinstance(item["Fn::If"], list) and len(item["Fn::If"]) == 3):
        _, value, otherwise = item["Fn::If"]
        item = otherwise if _no_value(value) else value
    return None if _no_value(item) else item


def _no_value(item: object) -> bool:
    return isinstance(item, dict) and item == {"Ref": "AWS::NoValue"}


def _action(data: object, place: str, keys: _Keys) -> Action:
    data = _object(data, place, "an action object")
    name = _name(data.get(keys.name, _MISSING), _at(place, keys.name), "an action name")
    category, provider = _action_type(data, place, keys)
    return Action(
        name=name,
        category=category,
        run_order=_run_order(data, place, keys),
        provider=provider,
        configuration=_configuration(data, place, keys),
    )


def _action_type(data: dict[Any, Any], place: str, keys: _Keys) -> tuple[str, str]:
    type_place = _at(place, keys.action_type_id)
    type_id = _object(
        data.get(keys.action_type_id, _MISSING),
        type_place,
        f"an {keys.action_type_id} object with a {keys.category}",
    )
    category = type_id.get(keys.category, _MISSING)
    if category not in ACTION_CATEGORIES:
        raise DeclarationError(
            _at(type_place, keys.category),
            _expected(f"one of {', '.join(ACTION_CATEGORIES)}", category),
        )
    provider = type_id.get(keys.provider)
    if provider is None:
        provider = ""
    elif not isinstance(provider, str):
        raise DeclarationError(
            _at(type_place, keys.provider), _expected("a provider name (a string)", provider)
        )
    return str(category), provider


def _run_order(data: dict[Any, Any], place: str, keys: _Keys) -> int:
    """An integer 1..999, 1 when absent: "The default runOrder value for an action is 1." [UG]"""
    value = data.get(keys.run_order)
    if value is None:
        return 1
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif keys.run_order_digit_strings and isinstance(value, str) and re.fullmatch(r"[0-9]+", value):
        number = int(value)
    if number is None or not RUN_ORDER_MIN <= number <= RUN_ORDER_MAX:
        raise DeclarationError(
            _at(place, keys.run_order),
            _expected(f"an integer from {RUN_ORDER_MIN} to {RUN_ORDER_MAX}", value),
        )
    return number


def _configuration(data: dict[Any, Any], place: str, keys: _Keys) -> tuple[tuple[str, str], ...]:
    value = data.get(keys.configuration)
    if value is None:
        return ()
    if not (isinstance(value, dict) and not keys.intrinsic_functions):
        value = _object(value, _at(place, keys.configuration),
                        "an object of configuration values")
    return tuple(sorted((_text(k), _text(v)) for k, v in value.items()))


# --- small readers and messages ---------------------------------------------------------------


def _object(value: object, place: str, what: str) -> dict[Any, Any]:
    """``value`` if it is an object, and not a CloudFormation function standing for one."""
    if isinstance(value, dict) and not _intrinsic_function(value):
        return value
    raise DeclarationError(place, _expected(what, value))


def _name(value: object, place: str, what: str) -> str:
    if isinstance(value, str) and len(value) <= NAME_MAX_LENGTH and NAME_PATTERN.fullmatch(value):
        return value
    # Decision: a name that the file computes is taken as its text whatever that text is (an
    # opaque `!FindInMap [Names, !Ref Env, Deploy]`, or a default that only some deployments
    # use): the file's own language made it, and only a deployment knows the final name.  Names
    # are still unique in their list by text: two stages named by the same unevaluated
    # `!FindInMap [...]` get the same name in every deployment, so they are a duplicate; two
    # different texts might still turn out equal when deployed, and are read as different.
    if isinstance(value, Computed) and value:
        return value
    if value is _MISSING:
        raise DeclarationError(place, f"expected {what}, but it is missing")
    raise DeclarationError(place, _expected(f"{what} {_NAME_RULE}", value))


def _one_of(
    data: dict[Any, Any], place: str, key: str, allowed: tuple[str, ...], default: str
) -> str:
    # Decision: an optional field that is null (in YAML, a key with nothing after it) counts as
    # absent and takes its default, here and for runOrder, configuration and provider.
    value = data.get(key)
    if value is None:
        return default
    if value not in allowed:
        raise DeclarationError(_at(place, key), _expected(f"one of {', '.join(allowed)}", value))
    return str(value)


def _non_empty_list(value: object, place: str, what: str) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise DeclarationError(place, _expected(f"a non-empty list of {what}", value))
    return value


def _at(place: str, key: str) -> str:
    return f"{place}.{key}" if place else key


def _expected(what: str, value: object) -> str:
    if isinstance(value, _Missing):
        return f"expected {what}, but it is missing"
    return f"expected {what}, got {_describe(value)}"


def _describe(value: object) -> str:
    """A value as the user wrote it, briefly: ``"FAST"``, ``0``, ``true``, ``null``, ``a list``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and value.bit_length() > 64:
        # Never converted to text: Python refuses integers of more than 4300 digits.
        return f"an integer of about {int(value.bit_length() * 0.30103) + 1} digits"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, Opaque):
        shown = value if len(value) <= 60 else value[:57] + "..."
        return f"{shown}, which is known only when the template is deployed"
    if isinstance(value, str):
        shown = value if len(value) <= 60 else value[:57] + "..."
        return json.dumps(shown, ensure_ascii=False)
    if isinstance(value, dict):
        function = _intrinsic_function(value)
        if function:
            return f"the CloudFormation function {function}, which is not evaluated here"
        return "an empty object" if not value else "an object"
    if isinstance(value, list):
        return "an empty list" if not value else "a list"
    return f"a {type(value).__name__}"


def _intrinsic_function(value: dict[Any, Any]) -> str | None:
    """``Fn::Sub`` for ``{"Fn::Sub": ...}``, ``Ref`` for ``{"Ref": ...}``; else None."""
    if len(value) != 1:
        return None
    (key,) = value
    if isinstance(key, str) and (key in ("Ref", "Condition") or key.startswith("Fn::")):
        return key
    return None


def _text(value: object) -> str:
    """A configuration key or value as text.

    Decision: strings are kept as they are; other values (numbers and booleans from YAML or
    CloudFormation, intrinsic functions such as ``{"Ref": "Repo"}``) become their JSON text, so
    ``false`` stays ``false`` rather than Python's ``False``.
    """
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
