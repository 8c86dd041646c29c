"""Reading pipeline declarations: the values they give and the one-line messages for bad input."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checker.errors import InputError
from checker.formats import load_pipeline, pipeline_from_document, read_document
from spec.declaration import (
    ACTION_CATEGORIES,
    EXECUTION_MODES,
    Action,
    DeclarationError,
    Pipeline,
    Stage,
    parse_pipeline,
    pipeline_to_dict,
)
from spec.operations import ActionSucceeded, ConditionFailed, StartPipelineExecution
from spec.rules import apply, build_model

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
BUILTIN_REFERENCE = ROOT / "checker" / "reference-pipeline.json"
DATA = Path(__file__).resolve().parent / "data" / "declarations"


def minimal() -> dict[str, Any]:
    """A small valid declaration with the `get-pipeline` wrapper."""
    return {
        "pipeline": {
            "name": "shop",
            "stages": [
                {
                    "name": "Source",
                    "actions": [
                        {"name": "Source", "actionTypeId": {"category": "Source", "provider": "S3"}}
                    ],
                },
                {
                    "name": "Build",
                    "actions": [
                        {
                            "name": "Build",
                            "actionTypeId": {"category": "Build", "provider": "CodeBuild"},
                            "runOrder": 1,
                        }
                    ],
                },
            ],
        }
    }


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load_error(path: Path, resource: str | None = None) -> str:
    with pytest.raises(InputError) as caught:
        load_pipeline(path, resource=resource)
    return str(caught.value)


# --- the examples --------------------------------------------------------------------------------


def test_reference_json_and_yaml_declare_the_same_pipeline() -> None:
    from_json = load_pipeline(BUILTIN_REFERENCE)
    from_yaml = load_pipeline(EXAMPLES / "reference-pipeline.yaml")
    assert from_json == from_yaml


def test_reference_pipeline_has_the_documented_shape() -> None:
    p = load_pipeline(BUILTIN_REFERENCE)
    assert (p.name, p.pipeline_type, p.execution_mode) == ("reference", "V2", "SUPERSEDED")
    shape = [
        (stage.name, [(a.name, a.category, a.provider, a.run_order) for a in stage.actions])
        for stage in p.stages
    ]
    assert shape == [
        ("Source", [("Source", "Source", "CodeStarSourceConnection", 1)]),
        ("Build", [("Build", "Build", "CodeBuild", 1)]),
        (
            "Staging",
            [
                ("DeployStaging", "Deploy", "CloudFormation", 1),
                ("TestStaging", "Test", "CodeBuild", 2),
            ],
        ),
        (
            "Production",
            [
                ("ApproveProduction", "Approval", "Manual", 1),
                ("DeployProduction", "Deploy", "CloudFormation", 2),
            ],
        ),
    ]
    approve = p.stages[p.stage_index("Production")].actions[0]
    assert approve.is_approval
    deploy = dict(p.stages[2].actions[0].configuration)
    assert deploy["StackName"] == "reference-service-staging"


def test_wrapper_and_bare_declaration_give_equal_pipelines() -> None:
    wrapped = minimal()
    wrapped["metadata"] = {"pipelineArn": "arn:aws:codepipeline:us-east-1:111122223333:shop"}
    assert parse_pipeline(wrapped) == parse_pipeline(minimal()["pipeline"])


def test_defaults_mode_type_run_order_provider_configuration() -> None:
    doc = {
        "name": "p",
        "stages": [
            {"name": "S", "actions": [{"name": "A", "actionTypeId": {"category": "Build"}}]},
            {"name": "T", "actions": [{"name": "B", "actionTypeId": {"category": "Test"}}]},
        ],
    }
    p = parse_pipeline(doc)
    assert p.execution_mode == "SUPERSEDED"
    assert p.pipeline_type == "V1"
    assert p.stages[0].actions[0] == Action(name="A", category="Build", run_order=1, provider="")


def test_null_optional_fields_take_their_defaults() -> None:
    doc = minimal()
    doc["pipeline"].update(executionMode=None, pipelineType=None)
    action = doc["pipeline"]["stages"][1]["actions"][0]
    action.update(runOrder=None, configuration=None)
    assert parse_pipeline(doc) == parse_pipeline(minimal())


def test_parallel_and_queued_are_accepted_on_v2() -> None:
    for mode in EXECUTION_MODES:
        doc = minimal()
        doc["pipeline"].update(executionMode=mode, pipelineType="V2")
        assert parse_pipeline(doc).execution_mode == mode


def test_groups_order_actions_by_run_order_and_group_equal_ones() -> None:
    actions = [
        {"name": name, "actionTypeId": {"category": "Deploy"}, "runOrder": order}
        for name, order in [("C", 7), ("A", 2), ("D", 7), ("B", 3), ("E", 2)]
    ]
    test = {"name": "T", "actions": [{"name": "B", "actionTypeId": {"category": "Test"}}]}
    p = parse_pipeline({"name": "p", "stages": [{"name": "S", "actions": actions}, test]})
    groups = [[a.name for a in group] for group in p.stages[0].groups]
    assert groups == [["A", "E"], ["B"], ["C", "D"]]


def test_unknown_fields_are_ignored_everywhere() -> None:
    doc = minimal()
    pipeline = doc["pipeline"]
    pipeline.update(
        roleArn="arn:aws:iam::111122223333:role/p",
        artifactStore={"type": "S3", "location": "bucket"},
        version=4,
        variables=[{"name": "v", "defaultValue": "1"}],
        triggers=[{"providerType": "CodeStarSourceConnection"}],
        somethingNew={"x": [1, 2]},
    )
    stage = pipeline["stages"][1]
    stage.update(
        beforeEntry={"conditions": []},
        onSuccess={"conditions": [{"result": "SKIP", "rules": []}]},
        onFailure={"result": "FAIL", "conditions": [{"result": "ROLLBACK", "rules": []}]},
        blockers=[],
    )
    action = stage["actions"][0]
    action.update(
        inputArtifacts=[{"name": "SourceArtifact"}],
        outputArtifacts=[{"name": "BuildArtifact", "files": ["a"]}],
        region="eu-west-1",
        namespace="BuildVariables",
        roleArn="arn:aws:iam::111122223333:role/a",
        timeoutInMinutes=60,
        commands=["make"],
    )
    action["actionTypeId"].update(owner="AWS", version="1")
    p = parse_pipeline(doc)
    assert p == parse_pipeline(minimal())
    assert p.extra["roleArn"] == "arn:aws:iam::111122223333:role/p"
    assert "stages" not in p.extra


# --- automatic retry on stage failure ------------------------------------------------------------


def retrying(on_failure: object, pipeline_type: str | None = "V2") -> dict[str, Any]:
    doc = minimal()
    if pipeline_type is not None:
        doc["pipeline"]["pipelineType"] = pipeline_type
    doc["pipeline"]["stages"][1]["onFailure"] = on_failure
    return doc


@pytest.mark.parametrize("mode", ["FAILED_ACTIONS", "ALL_ACTIONS"])
def test_a_stage_that_retries_on_failure_keeps_its_retry_mode(mode: str) -> None:
    doc = retrying({"result": "RETRY", "retryConfiguration": {"retryMode": mode}})
    p = parse_pipeline(doc)
    assert [s.automatic_retry for s in p.stages] == [None, mode]
    assert parse_pipeline(pipeline_to_dict(p)) == p


@pytest.mark.parametrize("on_failure", [
    {"result": "FAIL", "retryConfiguration": {"retryMode": "ALL_ACTIONS"}},
    {"result": "SKIP"},
    {"conditions": [{"result": "ROLLBACK", "rules": []}]},
    {},
    None,
])
def test_other_results_are_read_as_no_automatic_retry(on_failure: object) -> None:
    assert parse_pipeline(retrying(on_failure, None)) == parse_pipeline(minimal())


@pytest.mark.parametrize("conditions", [None, [{"result": "ROLLBACK", "rules": []}]])
def test_a_stage_that_rolls_back_on_failure_is_read_and_written(conditions: object) -> None:
    on_failure: dict[str, Any] = {"result": "ROLLBACK"}
    if conditions is not None:
        on_failure["conditions"] = conditions
    p = parse_pipeline(retrying(on_failure))
    assert [(s.automatic_rollback, s.automatic_retry) for s in p.stages] == [
        (False, None), (True, None)]
    assert parse_pipeline(pipeline_to_dict(p)) == p


@pytest.mark.parametrize(("pipeline_type", "mode", "message"), [
    ("V1", None, "pipeline.stages[1].onFailure: expected pipelineType V2 for result ROLLBACK "
                 "(pipelineType is V1)"),
    ("V2", "PARALLEL", "pipeline.stages[1].onFailure.result: expected no result ROLLBACK in "
                       "executionMode PARALLEL: \"failure conditions with a rollback result type "
                       "cannot be added to a PARALLEL mode pipeline\" (AWS CodePipeline User "
                       "Guide, \"Set or change the pipeline execution mode\")"),
])
def test_a_rollback_on_failure_needs_v2_and_a_mode_with_rollback(pipeline_type: str,
                                                                 mode: str | None,
                                                                 message: str) -> None:
    doc = retrying({"result": "ROLLBACK"}, pipeline_type)
    if mode is not None:
        doc["pipeline"]["executionMode"] = mode
    with pytest.raises(DeclarationError) as e:
        parse_pipeline(doc)
    assert str(e.value) == message


@pytest.mark.parametrize(("on_failure", "pipeline_type", "message"), [
    pytest.param({"result": "RETRY"}, "V2",
                 "pipeline.stages[1].onFailure.retryConfiguration: expected a retryConfiguration "
                 "object with a retryMode (FAILED_ACTIONS or ALL_ACTIONS) for result RETRY, but "
                 "it is missing", id="no-retry-configuration"),
    pytest.param({"result": "RETRY", "retryConfiguration": "ALL_ACTIONS"}, "V2",
                 "pipeline.stages[1].onFailure.retryConfiguration: expected a retryConfiguration "
                 "object with a retryMode (FAILED_ACTIONS or ALL_ACTIONS) for result RETRY, got "
                 '"ALL_ACTIONS"', id="retry-configuration-not-an-object"),
    pytest.param({"result": "RETRY", "retryConfiguration": {}}, "V2",
                 "pipeline.stages[1].onFailure.retryConfiguration.retryMode: expected one of "
                 "FAILED_ACTIONS, ALL_ACTIONS for result RETRY, but it is missing",
                 id="no-retry-mode"),
    pytest.param({"result": "RETRY", "retryConfiguration": {"retryMode": "SOME_ACTIONS"}}, "V2",
                 "pipeline.stages[1].onFailure.retryConfiguration.retryMode: expected one of "
                 'FAILED_ACTIONS, ALL_ACTIONS for result RETRY, got "SOME_ACTIONS"',
                 id="unknown-retry-mode"),
    pytest.param({"result": "retry"}, "V2",
                 "pipeline.stages[1].onFailure.result: expected one of ROLLBACK, FAIL, RETRY, "
                 'SKIP, got "retry"', id="unknown-result"),
    pytest.param(["RETRY"], "V2",
                 "pipeline.stages[1].onFailure: expected an onFailure object, got a list",
                 id="on-failure-not-an-object"),
    pytest.param({"result": "RETRY", "retryConfiguration": {"retryMode": "ALL_ACTIONS"},
                  "conditions": [{"result": "ROLLBACK", "rules": []}]}, "V2",
                 "pipeline.stages[1].onFailure.conditions: expected no conditions with result "
                 'RETRY: "You cannot use automatic stage retry with onFailure conditions." (AWS '
                 'CodePipeline User Guide, "Configure conditions for a stage"), got a list',
                 id="retry-with-conditions"),
    pytest.param({"result": "RETRY", "retryConfiguration": {"retryMode": "ALL_ACTIONS"}}, "V1",
                 "pipeline.stages[1].onFailure: expected pipelineType V2 for result RETRY "
                 "(pipelineType is V1)", id="retry-on-v1"),
    pytest.param({"result": "RETRY", "retryConfiguration": {"retryMode": "ALL_ACTIONS"}}, None,
                 "pipeline.stages[1].onFailure: expected pipelineType V2 for result RETRY "
                 "(pipelineType defaults to V1)", id="retry-on-default-v1"),
])
def test_malformed_automatic_retry_message(tmp_path: Path, on_failure: object,
                                           pipeline_type: str | None, message: str) -> None:
    path = write(tmp_path, "pipeline.json", json.dumps(retrying(on_failure, pipeline_type)))
    assert load_error(path) == f"{path}: {message}"


def test_cloudformation_reads_automatic_retry_in_its_own_spelling(tmp_path: Path) -> None:
    text = (EXAMPLES / "cloudformation-pipeline.yaml").read_text()
    text = text.replace("        - Name: Build\n", "        - Name: Build\n"
                        "          OnFailure:\n"
                        "            Result: RETRY\n"
                        "            RetryConfiguration:\n"
                        "              RetryMode: ALL_ACTIONS\n")
    assert "OnFailure" in text
    p = load_pipeline(write(tmp_path, "template.yaml", text))
    assert [s.automatic_retry for s in p.stages] == [None, "ALL_ACTIONS", None]
    bad = write(tmp_path, "bad.yaml", text.replace("RetryMode: ALL_ACTIONS", "RetryMode: ALL"))
    assert load_error(bad) == (
        f"{bad}: Resources.DeliveryPipeline.Properties.Stages[1].OnFailure.RetryConfiguration."
        'RetryMode: expected one of FAILED_ACTIONS, ALL_ACTIONS for Result RETRY, got "ALL"')


def test_same_action_name_in_two_stages_is_fine() -> None:
    doc = minimal()
    doc["pipeline"]["stages"][1]["actions"][0]["name"] = "Source"
    p = parse_pipeline(doc)
    assert [s.actions[0].name for s in p.stages] == ["Source", "Source"]


def test_a_pipeline_without_a_source_is_accepted() -> None:
    doc = {
        "name": "p",
        "stages": [
            {"name": "Only", "actions": [{"name": "A", "actionTypeId": {"category": "Approval"}}]},
            {"name": "T", "actions": [{"name": "B", "actionTypeId": {"category": "Test"}}]},
        ],
    }
    assert len(parse_pipeline(doc).stages) == 2


def test_a_one_stage_pipeline_is_beyond_the_quota() -> None:
    doc = {"name": "p", "stages": [
        {"name": "Only", "actions": [{"name": "A", "actionTypeId": {"category": "Approval"}}]}]}
    with pytest.raises(DeclarationError, match=r"^stages: expected at least 2 stages "
                       r"\(CodePipeline quotas, AWS CodePipeline User Guide"):
        parse_pipeline(doc)


def test_configuration_values_keep_their_text(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "p.yaml",
        """\
name: p
stages:
  - name: T
    actions:
      - name: B
        actionTypeId: {category: Test}
  - name: S
    actions:
      - name: A
        actionTypeId: {category: Source}
        configuration:
          PollForSourceChanges: false
          DetectChanges: no
          Retries: 3
          Ratio: 0.5
          Branch: !Ref BranchName
          Bucket: !GetAtt Store.Arn
          Plain: text
""",
    )
    config = dict(load_pipeline(path).stages[1].actions[0].configuration)
    assert config == {
        "PollForSourceChanges": "false",
        "DetectChanges": "no",
        "Retries": "3",
        "Ratio": "0.5",
        "Branch": '{"Ref": "BranchName"}',
        "Bucket": '{"Fn::GetAtt": ["Store", "Arn"]}',
        "Plain": "text",
    }
    assert list(config) == sorted(config)


# --- round trip ----------------------------------------------------------------------------------


def test_round_trip_of_the_reference_pipeline() -> None:
    p = load_pipeline(BUILTIN_REFERENCE)
    out = pipeline_to_dict(p)
    assert parse_pipeline(json.loads(json.dumps(out))) == p
    action = out["stages"][3]["actions"][0]
    assert action["actionTypeId"] == {
        "category": "Approval",
        "owner": "AWS",
        "provider": "Manual",
        "version": "1",
    }
    assert set(out) == {"name", "pipelineType", "executionMode", "stages"}


NAMES = st.text(alphabet="AZaz09.@-_", min_size=1, max_size=8)
ACTIONS = st.lists(
    st.builds(
        Action,
        name=NAMES,
        category=st.sampled_from(ACTION_CATEGORIES),
        run_order=st.integers(1, 999),
        provider=st.sampled_from(["", "Manual", "CodeBuild"]),
        configuration=st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3).map(
            lambda d: tuple(sorted(d.items()))
        ),
    ),
    min_size=1,
    max_size=4,
    unique_by=lambda a: a.name,
)
STAGES = st.lists(
    st.builds(Stage, name=NAMES, actions=ACTIONS.map(tuple)),
    min_size=2,
    max_size=4,
    unique_by=lambda s: s.name,
)
PIPELINES = st.builds(
    Pipeline,
    name=NAMES,
    stages=STAGES.map(tuple),
    execution_mode=st.sampled_from(EXECUTION_MODES),
    pipeline_type=st.just("V2"),
)


@given(PIPELINES)
def test_round_trip_of_any_pipeline(p: Pipeline) -> None:
    assert parse_pipeline(json.loads(json.dumps(pipeline_to_dict(p)))) == p


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-2, 1001)
    | st.sampled_from(["", "x", "2", "V2", "Build"]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=8,
)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*path, index))
    return found


@settings(max_examples=300)
@given(st.data(), JSON_VALUES)
def test_any_replaced_part_gives_a_declaration_error_or_a_pipeline(
    data: st.DataObject, junk: Any
) -> None:
    doc = minimal()
    path = data.draw(st.sampled_from(_paths(doc)[1:]))
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = copy.deepcopy(junk)
    try:
        parse_pipeline(doc)
    except DeclarationError as error:
        assert error.expected.startswith("expected ")


# --- CloudFormation ------------------------------------------------------------------------------


def test_cloudformation_example_reads_the_pipeline_resource() -> None:
    p = load_pipeline(EXAMPLES / "cloudformation-pipeline.yaml")
    assert p.name == "DeliveryPipeline"  # Name is a !Sub: the logical id names the pipeline
    assert (p.pipeline_type, p.execution_mode) == ("V2", "QUEUED")
    assert [s.name for s in p.stages] == ["Source", "Build", "Production"]
    approve, deploy = p.stages[2].actions
    assert (approve.name, approve.is_approval, approve.run_order) == ("ApproveRelease", True, 1)
    assert (deploy.name, deploy.category, deploy.run_order) == ("DeployService", "Deploy", 2)
    config = dict(deploy.configuration)
    # intrinsic functions read as what they give, or as their readable form when only a
    # deployment knows it
    assert config["StackName"] == "${AWS::StackName}-service"
    assert config["RoleArn"] == "!GetAtt DeployRole.Arn"
    assert p.extra["RestartExecutionOnUpdate"] is False


def test_cloudformation_error_places_use_the_template_path(tmp_path: Path) -> None:
    text = (EXAMPLES / "cloudformation-pipeline.yaml").read_text()
    text = text.replace("              RunOrder: 2\n", "              RunOrder: 0\n")
    path = write(tmp_path, "template.yaml", text)
    assert load_error(path) == (
        f"{path}: Resources.DeliveryPipeline.Properties.Stages[2].Actions[1].RunOrder: "
        "expected an integer from 1 to 999, got 0"
    )


def test_cloudformation_duplicate_stage_name_message(tmp_path: Path) -> None:
    text = (EXAMPLES / "cloudformation-pipeline.yaml").read_text()
    text = text.replace("        - Name: Build\n", "        - Name: Source\n")
    path = write(tmp_path, "template.yaml", text)
    assert load_error(path) == (
        f"{path}: Resources.DeliveryPipeline.Properties.Stages[1].Name: "
        'expected a unique stage name, "Source" is already Stages[0]'
    )


def test_cloudformation_several_pipelines_ask_to_choose() -> None:
    path = DATA / "two-pipelines.template.json"
    assert load_error(path) == (
        f"{path}: Resources: expected one resource of Type AWS::CodePipeline::Pipeline, "
        "found 2 (ServicePipeline, NightlyPipeline): choose one by its logical id"
    )


def test_cloudformation_resource_argument_chooses_one() -> None:
    path = DATA / "two-pipelines.template.json"
    service = load_pipeline(path, resource="ServicePipeline")
    assert service.name == "ServicePipeline"  # Name is an Fn::Sub
    assert [a.run_order for a in service.stages[1].actions] == [1, 2]  # "1", "2": CFN coerces
    assert dict(service.stages[0].actions[0].configuration)["S3Bucket"] == "!Ref Artifacts"
    nightly = load_pipeline(path, resource="NightlyPipeline")
    assert (nightly.name, nightly.execution_mode) == ("orders-nightly", "PARALLEL")


def test_cloudformation_resource_argument_must_name_a_pipeline() -> None:
    path = DATA / "two-pipelines.template.json"
    assert load_error(path, resource="Missing") == (
        f'{path}: Resources: expected a resource "Missing" '
        "(the AWS::CodePipeline::Pipeline resources are: ServicePipeline, NightlyPipeline)"
    )
    assert load_error(path, resource="Artifacts") == (
        f"{path}: Resources.Artifacts.Type: expected AWS::CodePipeline::Pipeline"
    )


def test_cloudformation_template_without_a_pipeline(tmp_path: Path) -> None:
    path = write(tmp_path, "t.yaml", "Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n")
    assert load_error(path) == (
        f"{path}: Resources: expected a resource of Type AWS::CodePipeline::Pipeline, found none"
    )


CFN_ONE_STAGE = """\
Resources:
  Pipe:
    Type: AWS::CodePipeline::Pipeline
    Properties:
      Name: {name}
      Stages:
        - Name: Only
          Actions:
            - Name: Act
              ActionTypeId: {{Category: Build}}
              RunOrder: {run_order}
"""
CFN_TWO_STAGES = CFN_ONE_STAGE + """\
        - Name: After
          Actions:
            - Name: Check
              ActionTypeId: {{Category: Test}}
"""


@pytest.mark.parametrize(
    ("run_order", "message"),
    [
        ('"7"', None),
        ("7", None),
        ('"0"', 'expected an integer from 1 to 999, got "0"'),
        ('"7a"', 'expected an integer from 1 to 999, got "7a"'),
        ('" 7"', 'expected an integer from 1 to 999, got " 7"'),
        ("true", "expected an integer from 1 to 999, got true"),
        # a RunOrder that only a deployment knows (`!Ref Order`) reads as 1, with a note:
        # tests/test_formats.py
    ],
)
def test_cloudformation_run_order_accepts_integer_strings(
    tmp_path: Path, run_order: str, message: str | None
) -> None:
    path = write(tmp_path, "t.yaml", CFN_TWO_STAGES.format(name="plain-name",
                                                          run_order=run_order))
    if message is None:
        p = load_pipeline(path)
        assert (p.name, p.stages[0].actions[0].run_order) == ("plain-name", 7)
    else:
        place = "Resources.Pipe.Properties.Stages[0].Actions[0].RunOrder"
        assert load_error(path) == f"{path}: {place}: {message}"


def test_cloudformation_plain_name_is_still_checked(tmp_path: Path) -> None:
    path = write(tmp_path, "t.yaml", CFN_ONE_STAGE.format(name='"has space"', run_order=1))
    assert load_error(path) == (
        f"{path}: Resources.Pipe.Properties.Name: expected a pipeline name of 1 to 100 characters "
        'A-Z a-z 0-9 . @ - _, got "has space"'
    )


def test_cloudformation_conditional_stages_and_actions_are_read_as_if_the_condition_held(
    tmp_path: Path,
) -> None:
    text = CFN_ONE_STAGE.format(name="p", run_order=1) + (
        "            - !If [IsProd, !Ref AWS::NoValue,\n"
        "                   {Name: Lint, ActionTypeId: {Category: Test}}]\n"
        "        - !If\n"
        "          - IsProd\n"
        "          - {Name: Prod, Actions: [{Name: Ship, ActionTypeId: {Category: Deploy}}]}\n"
        "          - !Ref AWS::NoValue\n"
        "        - !If [IsFeature, !Ref AWS::NoValue, !Ref AWS::NoValue]\n"
    )
    pipeline = load_pipeline(write(tmp_path, "t.yaml", text))
    assert [s.name for s in pipeline.stages] == ["Only", "Prod"]
    assert [a.name for a in pipeline.stages[0].actions] == ["Act", "Lint"]
    assert [a.name for a in pipeline.stages[1].actions] == ["Ship"]


def test_cloudformation_conditional_stage_is_still_checked(tmp_path: Path) -> None:
    text = CFN_ONE_STAGE.format(name="p", run_order=1) + (
        "        - !If [IsProd, {Name: Prod, Actions: []}, !Ref AWS::NoValue]\n"
    )
    path = write(tmp_path, "t.yaml", text)
    assert load_error(path) == (
        f"{path}: Resources.Pipe.Properties.Stages[1].Actions: expected a non-empty list of "
        "actions, got an empty list"
    )


def test_an_if_in_a_plain_declaration_is_not_a_condition(tmp_path: Path) -> None:
    path = write(tmp_path, "p.json", json.dumps({"name": "p", "stages": [
        {"Fn::If": ["C", {"name": "S", "actions": []}, {"Ref": "AWS::NoValue"}]}]}))
    assert load_error(path) == (f"{path}: stages[0]: expected a stage object, got the "
                                "CloudFormation function Fn::If, which is not evaluated here")


def test_yaml_short_form_tags_are_opaque_values(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "tags.yaml",
        """\
a: !Ref X
b: !Sub "${A}-b"
c: !GetAtt R.Arn
d: !Join [",", [x, !Ref Y]]
e: !Condition IsProd
f: !Select [0, !GetAZs ""]
g: !Base64 hello
h: !FindInMap [M, !Ref K, V]
i: !Whatever {k: v}
on: yes
""",
    )
    assert read_document(path) == {
        "a": {"Ref": "X"},
        "b": {"Fn::Sub": "${A}-b"},
        "c": {"Fn::GetAtt": ["R", "Arn"]},
        "d": {"Fn::Join": [",", ["x", {"Ref": "Y"}]]},
        "e": {"Condition": "IsProd"},
        "f": {"Fn::Select": [0, {"Fn::GetAZs": ""}]},
        "g": {"Fn::Base64": "hello"},
        "h": {"Fn::FindInMap": ["M", {"Ref": "K"}, "V"]},
        "i": {"Fn::Whatever": {"k": "v"}},
        "on": "yes",
    }


def test_yaml_is_read_safely(tmp_path: Path) -> None:
    path = write(tmp_path, "evil.yaml", "x: !!python/object/apply:os.system [echo hi]\n")
    message = load_error(path)
    assert message.startswith(f"{path}: line 1, column 4: expected valid YAML: could not determine")


def test_declaration_documents_ignore_the_resource_argument_with_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "p.json", json.dumps(minimal()))
    assert load_error(path, resource="Pipe") == (
        f'{path}: expected a CloudFormation template with a resource "Pipe", '
        "got a pipeline declaration"
    )


def test_declaration_error_becomes_input_error_with_the_same_place() -> None:
    doc = minimal()
    doc["pipeline"]["stages"][1]["actions"][0]["runOrder"] = 0
    with pytest.raises(DeclarationError) as declared:
        parse_pipeline(doc)
    with pytest.raises(InputError) as reported:
        pipeline_from_document(doc, "f.json")
    assert (reported.value.file, reported.value.place, reported.value.expected) == (
        "f.json",
        declared.value.place,
        declared.value.expected,
    )
    assert declared.value.place == "pipeline.stages[1].actions[0].runOrder"


# --- malformed declarations: the exact one-line message ------------------------------------------


def _set(*path: Any, value: Any) -> Any:
    def change(doc: dict[str, Any]) -> None:
        parent: Any = doc
        for key in path[:-1]:
            parent = parent[key]
        parent[path[-1]] = value

    return change


def _delete(*path: Any) -> Any:
    def change(doc: dict[str, Any]) -> None:
        parent: Any = doc
        for key in path[:-1]:
            parent = parent[key]
        del parent[path[-1]]

    return change


def _add_action(stage: int, action: dict[str, Any]) -> Any:
    def change(doc: dict[str, Any]) -> None:
        doc["pipeline"]["stages"][stage]["actions"].append(action)

    return change


ACTION = ("pipeline", "stages", 1, "actions", 0)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param(
            _delete("pipeline", "stages", 1, "name"),
            "pipeline.stages[1].name: expected a stage name, but it is missing",
            id="missing-stage-name",
        ),
        pytest.param(
            _set("pipeline", "stages", 1, "name", value="Source"),
            'pipeline.stages[1].name: expected a unique stage name, "Source" is already stages[0]',
            id="duplicate-stage-name",
        ),
        pytest.param(
            _add_action(1, {"name": "Build", "actionTypeId": {"category": "Test"}}),
            'pipeline.stages[1].actions[1].name: expected an action name unique in stage "Build", '
            '"Build" is already actions[0]',
            id="duplicate-action-name",
        ),
        pytest.param(
            _set(*ACTION, "runOrder", value=0),
            "pipeline.stages[1].actions[0].runOrder: expected an integer from 1 to 999, got 0",
            id="run-order-0",
        ),
        pytest.param(
            _set(*ACTION, "runOrder", value=1000),
            "pipeline.stages[1].actions[0].runOrder: expected an integer from 1 to 999, got 1000",
            id="run-order-1000",
        ),
        pytest.param(
            _set(*ACTION, "runOrder", value="2"),
            'pipeline.stages[1].actions[0].runOrder: expected an integer from 1 to 999, got "2"',
            id="run-order-string",
        ),
        pytest.param(
            _set(*ACTION, "runOrder", value=True),
            "pipeline.stages[1].actions[0].runOrder: expected an integer from 1 to 999, got true",
            id="run-order-bool",
        ),
        pytest.param(
            _set(*ACTION, "runOrder", value=1.5),
            "pipeline.stages[1].actions[0].runOrder: expected an integer from 1 to 999, got 1.5",
            id="run-order-float",
        ),
        pytest.param(
            _set("pipeline", "executionMode", value="FAST"),
            'pipeline.executionMode: expected one of SUPERSEDED, QUEUED, PARALLEL, got "FAST"',
            id="unknown-execution-mode",
        ),
        pytest.param(
            _set("pipeline", "executionMode", value="QUEUED"),
            "pipeline.executionMode: expected pipelineType V2 for executionMode QUEUED "
            "(pipelineType defaults to V1)",
            id="queued-on-default-v1",
        ),
        pytest.param(
            lambda doc: doc["pipeline"].update(executionMode="PARALLEL", pipelineType="V1"),
            "pipeline.executionMode: expected pipelineType V2 for executionMode PARALLEL "
            "(pipelineType is V1)",
            id="parallel-on-v1",
        ),
        pytest.param(
            _set("pipeline", "pipelineType", value="V3"),
            'pipeline.pipelineType: expected one of V1, V2, got "V3"',
            id="unknown-pipeline-type",
        ),
        pytest.param(
            _delete(*ACTION, "actionTypeId"),
            "pipeline.stages[1].actions[0].actionTypeId: expected an actionTypeId object with a "
            "category, but it is missing",
            id="missing-action-type-id",
        ),
        pytest.param(
            _set(*ACTION, "actionTypeId", "category", value="Compile"),
            "pipeline.stages[1].actions[0].actionTypeId.category: expected one of Source, Build, "
            'Deploy, Test, Invoke, Approval, Compute, got "Compile"',
            id="unknown-category",
        ),
        pytest.param(
            _set("pipeline", "stages", value=[]),
            "pipeline.stages: expected a non-empty list of stages, got an empty list",
            id="stages-empty",
        ),
        pytest.param(
            _delete("pipeline", "stages"),
            "pipeline.stages: expected a non-empty list of stages, but it is missing",
            id="stages-missing",
        ),
        pytest.param(
            _set("pipeline", "stages", 1, value="Build"),
            'pipeline.stages[1]: expected a stage object, got "Build"',
            id="stage-not-an-object",
        ),
        pytest.param(
            _set("pipeline", "stages", 1, "actions", value={"name": "Build"}),
            "pipeline.stages[1].actions: expected a non-empty list of actions, got an object",
            id="actions-not-a-list",
        ),
        pytest.param(
            _set(*ACTION, value=["Build"]),
            "pipeline.stages[1].actions[0]: expected an action object, got a list",
            id="action-not-an-object",
        ),
        pytest.param(
            _delete(*ACTION, "name"),
            "pipeline.stages[1].actions[0].name: expected an action name, but it is missing",
            id="missing-action-name",
        ),
        pytest.param(
            _set("pipeline", "name", value="my pipeline"),
            "pipeline.name: expected a pipeline name of 1 to 100 characters "
            'A-Z a-z 0-9 . @ - _, got "my pipeline"',
            id="pipeline-name-pattern",
        ),
        pytest.param(
            _set("pipeline", "stages", 0, "name", value="S" * 101),
            "pipeline.stages[0].name: expected a stage name of 1 to 100 characters "
            f'A-Z a-z 0-9 . @ - _, got "{"S" * 57}..."',
            id="stage-name-too-long",
        ),
        pytest.param(
            _set(*ACTION, "configuration", value=["ProjectName=x"]),
            "pipeline.stages[1].actions[0].configuration: expected an object of configuration "
            "values, got a list",
            id="configuration-not-an-object",
        ),
        pytest.param(
            _set(*ACTION, "actionTypeId", "provider", value=7),
            "pipeline.stages[1].actions[0].actionTypeId.provider: expected a provider name "
            "(a string), got 7",
            id="provider-not-a-string",
        ),
        pytest.param(
            _set("pipeline", value=[]),
            "pipeline: expected a pipeline declaration object, got an empty list",
            id="pipeline-not-an-object",
        ),
    ],
)
def test_malformed_declaration_message(tmp_path: Path, change: Any, message: str) -> None:
    doc = minimal()
    change(doc)
    path = write(tmp_path, "pipeline.json", json.dumps(doc))
    assert load_error(path) == f"{path}: {message}"


def test_bare_declaration_places_start_at_the_root(tmp_path: Path) -> None:
    doc = minimal()["pipeline"]
    doc["stages"][0]["actions"][0]["runOrder"] = 0
    path = write(tmp_path, "p.yaml", json.dumps(doc))
    assert load_error(path) == (
        f"{path}: stages[0].actions[0].runOrder: expected an integer from 1 to 999, got 0"
    )


def test_document_that_is_not_an_object(tmp_path: Path) -> None:
    path = write(tmp_path, "p.json", '["stages"]')
    assert load_error(path) == f"{path}: expected a pipeline declaration object, got a list"


# --- malformed files -----------------------------------------------------------------------------


def test_malformed_json_names_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "p.json", '{"name": "p"\n  "stages": []}\n')
    assert (
        load_error(path)
        == f"{path}: line 2, column 3: expected valid JSON: Expecting ',' delimiter"
    )


def test_malformed_yaml_names_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "p.yaml", "name: p\nstages: x: y\n")
    assert load_error(path) == (
        f"{path}: line 2, column 10: expected valid YAML: mapping values are not allowed here"
    )


def test_yaml_with_a_control_character(tmp_path: Path) -> None:
    path = write(tmp_path, "p.yml", "name: p\nstages: \x07\n")
    assert load_error(path) == (
        f"{path}: line 2, column 9: expected valid YAML: character #x0007 is not allowed"
    )


def test_missing_file() -> None:
    path = DATA / "no-such-file.json"
    assert load_error(path) == f"{path}: expected a readable file (No such file or directory)"


def test_directory_is_not_a_file(tmp_path: Path) -> None:
    assert load_error(tmp_path) == f"{tmp_path}: expected a regular file, got a directory"


def test_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_bytes(b'{"name": "caf\xe9"}')
    assert load_error(path) == f"{path}: byte 13: expected UTF-8 text, got byte 0xe9"


def test_empty_yaml_file(tmp_path: Path) -> None:
    path = write(tmp_path, "p.yaml", "# nothing yet\n")
    assert load_error(path) == f"{path}: expected a pipeline declaration, got an empty document"


def test_other_extensions_try_json_then_yaml(tmp_path: Path) -> None:
    as_json = write(tmp_path, "pipeline.txt", json.dumps(minimal()))
    as_yaml = write(tmp_path, "pipeline", (EXAMPLES / "reference-pipeline.yaml").read_text())
    assert load_pipeline(as_json) == parse_pipeline(minimal())
    assert load_pipeline(as_yaml) == load_pipeline(BUILTIN_REFERENCE)
    bad_json = write(tmp_path, "bad.txt", '{"name": "p" "stages": []}')
    assert load_error(bad_json) == (
        f"{bad_json}: line 1, column 14: expected valid JSON: Expecting ',' delimiter"
    )
    bad_yaml = write(tmp_path, "bad.cfg", "name: [p\n")
    assert load_error(bad_yaml) == (
        f"{bad_yaml}: line 2, column 1: "
        "expected valid YAML: expected ',' or ']', but got '<stream end>'"
    )


# --- stage conditions ---------------------------------------------------------------------------


def _conditioned(**stage_fields: Any) -> dict[str, Any]:
    doc = minimal()
    doc["pipeline"]["pipelineType"] = "V2"
    doc["pipeline"]["stages"][1].update(stage_fields)
    return doc


def _condition(result: object) -> dict[str, Any]:
    rule = {"name": "Window", "ruleTypeId": {"category": "Rule", "owner": "AWS",
                                             "provider": "DeploymentWindow", "version": "1"},
            "configuration": {"Cron": "* 9-16 ? * MON-FRI *"}}
    return {"conditions": [{"result": result, "rules": [rule]}]}


@pytest.mark.parametrize(("entry", "success", "expected"), [
    ("FAIL", None, ("FAIL", None)),
    ("SKIP", "FAIL", ("SKIP", "FAIL")),
    (None, "FAIL", (None, "FAIL")),
    (None, "ROLLBACK", (None, "ROLLBACK")),
    ("ROLLBACK", "SKIP", (None, None)),  # results a condition does not have (a warning says so)
])
def test_stage_conditions_are_read_by_result(entry, success, expected) -> None:
    fields = {}
    if entry is not None:
        fields["beforeEntry"] = _condition(entry)
    if success is not None:
        fields["onSuccess"] = _condition(success)
    stage = parse_pipeline(_conditioned(**fields)).stages[1]
    assert (stage.before_entry, stage.on_success) == expected


def test_stage_conditions_round_trip() -> None:
    p = parse_pipeline(_conditioned(beforeEntry=_condition("SKIP"), onSuccess=_condition("FAIL")))
    assert parse_pipeline(pipeline_to_dict(p)) == p
    p = parse_pipeline(_conditioned(onSuccess=_condition("ROLLBACK")))
    assert parse_pipeline(pipeline_to_dict(p)) == p and p.stages[1].rolls_back


def test_a_success_condition_that_rolls_back_is_accepted_in_parallel_mode() -> None:
    """Only failure conditions with a rollback result are documented as refused in PARALLEL
    mode; when such a success condition fails there, the stage just fails."""
    doc = _conditioned(onSuccess=_condition("ROLLBACK"))
    doc["pipeline"]["executionMode"] = "PARALLEL"
    p = parse_pipeline(doc)
    assert p.stages[1].on_success == "ROLLBACK"
    m = build_model(p)
    state = m.initial()
    for op in (StartPipelineExecution(), ActionSucceeded(0, 0), ActionSucceeded(0, 1)):
        state = apply(m, state, op)
    state = apply(m, state, ConditionFailed(0))
    assert [ex.status for ex in state.executions] == ["Failed"]  # no rollback started


def test_stage_conditions_need_v2() -> None:
    doc = _conditioned(beforeEntry=_condition("FAIL"))
    del doc["pipeline"]["pipelineType"]
    with pytest.raises(DeclarationError) as e:
        parse_pipeline(doc)
    assert e.value.place == "pipeline.stages[1].beforeEntry"
    assert "V2 for a stage condition (pipelineType defaults to V1)" in e.value.expected


def test_a_stage_condition_holds_one_condition() -> None:
    two = _condition("FAIL")
    two["conditions"].append(_condition("SKIP")["conditions"][0])
    with pytest.raises(DeclarationError) as e:
        parse_pipeline(_conditioned(beforeEntry=two))
    assert e.value.place == "pipeline.stages[1].beforeEntry.conditions"
    assert "expected one condition" in e.value.expected


@pytest.mark.parametrize("bad", [[], "FAIL", {"conditions": "FAIL"}])
def test_a_malformed_stage_condition_is_refused(bad) -> None:
    with pytest.raises(DeclarationError) as e:
        parse_pipeline(_conditioned(onSuccess=bad))
    assert e.value.place.startswith("pipeline.stages[1].onSuccess")
