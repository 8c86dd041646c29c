"""`checker.formats`: every declaration format read into `PipelineSource`s.

The templates under `tests/data/formats/`: a hand-written YAML template (parameters with and
without defaults, included and literal mappings, conditions, `!If` on a provider, a whole
configuration and stage names, `!FindInMap` stage names, `!Sub` stack names, an `!ImportValue`
bucket, `!GetAtt` roles), a CDK-synthesised JSON template (source, build, a CloudFormation and an
ECS deploy; `Fn::Join`, `Fn::GetAtt` and `Ref` to resources everywhere) and a get-pipeline
document.  A valid template is never refused: what only a deployment knows reads as an opaque
value shown readably, and a note says where that changes what is checked.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import pickle
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checker.cli import main
from checker.errors import InputError
from checker.formats import (
    CLOUDFORMATION_PIPELINE_TYPE,
    Note,
    PipelineSource,
    is_cloudformation_template,
    line_at,
    load_pipeline,
    pipeline_from_document,
    read_document,
    source_in,
    sources_in,
    sources_of,
)
from spec.declaration import Computed, Opaque

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "formats"
STOREFRONT = DATA / "storefront.template.yaml"
CDK = DATA / "checkout-service.cdk.template.json"
GET_PIPELINE = DATA / "get-pipeline.json"
FILES = [STOREFRONT, CDK, GET_PIPELINE]

SF = "Resources.Pipeline.Properties"
"""Where the storefront template's pipeline is."""


def only(path: Path) -> PipelineSource:
    [source] = sources_in(path)
    return source


def variant(tmp_path: Path, old: str, new: str, source: Path = STOREFRONT) -> Path:
    """A copy of a template with one piece of text replaced."""
    text = source.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path = tmp_path / source.name
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def error_of(path: Path) -> str:
    with pytest.raises(InputError) as caught:
        sources_in(path)
    message = str(caught.value)
    assert "\n" not in message
    return message


def line_of(path: Path, fragment: str, after: int = 0) -> int:
    """The 1-based number of the first line after line ``after`` that contains ``fragment``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i + 1 for i, line in enumerate(lines) if i >= after and fragment in line)


def notes(source: PipelineSource) -> list[tuple[str, str]]:
    return [(n.place, n.text) for n in source.notes]


def config(source: PipelineSource, stage: int, action: int) -> dict[str, str]:
    return dict(source.pipeline.stages[stage].actions[action].configuration)


# --------------------------------------------------------------------------------------------
# The hand-written template


def test_storefront_reads_the_template_as_its_defaults_give_it() -> None:
    s = only(STOREFRONT)
    p = s.pipeline
    assert (s.file, s.where) == (str(STOREFRONT), "Resources.Pipeline")
    assert p.name == "Pipeline"  # Name is a !Sub: the logical id names the pipeline
    assert (p.pipeline_type, p.execution_mode) == ("V2", "QUEUED")  # !If [IsProd, QUEUED, ...]
    assert [st.name for st in p.stages] == [
        "!FindInMap [Constants, Pipeline, Source]",  # Constants is included: not known here
        "!FindInMap [Constants, Pipeline, Build]",
        "Staging",
        "Production",  # !If [IsProd, Production, Acceptance], and IsProd holds by default
    ]
    assert [[a.name for a in st.actions] for st in p.stages] == [
        ["Checkout"], ["Compile"], ["DeployStack", "PublishAssets", "SmokeTests"],
        ["Approve", "DeployCanary", "DeployStack"]]
    assert s.disabled == (3,)  # the StageName is !If [IsProd, Production, Staging]
    assert s.stagelock == {"ignore": ["approval-sees-other-revision"],
                           "reason": "The release manager compares staging with the revision "
                                     "before approving."}
    assert s.stagelock_place == "Resources.Pipeline.Metadata.stagelock"


def test_storefront_values_resolved_or_readable() -> None:
    s = only(STOREFRONT)
    checkout = s.pipeline.stages[0].actions[0]
    assert checkout.provider == "CodeStarSourceConnection"  # read as if UseCodeStar holds
    assert config(s, 0, 0) == {"BranchName": "main", "ConnectionArn": "!Ref ConnectionArn",
                               "FullRepositoryId": "acme-retail/${RepoName}"}
    assert config(s, 1, 0) == {"ProjectName": "!Ref BuildProject"}
    assert config(s, 2, 0)["StackName"] == "${RepoName}-staging"  # RepoName has no default
    assert config(s, 2, 0)["RoleArn"] == "!GetAtt DeployRole.Arn"
    assert config(s, 2, 1)["BucketName"] == "!ImportValue storefront-assets-bucket"
    assert s.pipeline.stages[2].actions[2].run_order == 2  # !Ref SmokeTestOrder, Default 2
    # the NotificationArn is !If [HasApprovalTopic, ..., AWS::NoValue], and the default topic is
    # empty: the key is left out
    assert config(s, 3, 0) == {"CustomData": "Release shop to prod?"}
    assert config(s, 3, 1) == {"ClusterName": "storefront-prod", "FileName":
                               "imagedefinitions.json", "ServiceName": "shop-canary"}
    assert config(s, 3, 2)["StackName"] == "storefront-prod"  # !FindInMap over Environments
    assert s.pipeline.extra["ArtifactStore"] == {"Type": "S3", "Location":
                                                 "!ImportValue shared-artifacts-bucket"}
    # what only a deployment knows is opaque; what the template gives is computed
    assert isinstance(config(s, 2, 0)["StackName"], Opaque)
    assert isinstance(s.pipeline.stages[0].name, Opaque)
    assert isinstance(config(s, 3, 2)["StackName"], Computed)
    assert not isinstance(config(s, 3, 2)["StackName"], Opaque)


def test_a_parameter_default_is_substituted(tmp_path: Path) -> None:
    path = variant(tmp_path, "    Description: Repository of the storefront service\n",
                   "    Default: shop\n")
    s = only(path)
    assert config(s, 2, 0)["StackName"] == "shop-staging"
    assert config(s, 0, 0)["FullRepositoryId"] == "acme-retail/shop"
    assert "StackName" not in " ".join(place for place, _ in notes(s))


def test_storefront_notes() -> None:
    s = only(STOREFRONT)
    holds = "holds with the parameters' defaults"
    target = "known only when deployed: read as one target, shared only with the actions that " \
             "name it the same way"
    assert notes(s) == [
        (f"{SF}.ExecutionMode", f"is !If [IsProd, ...]: IsProd {holds}"),
        (f"{SF}.DisableInboundStageTransitions[0].StageName",
         f"is !If [IsProd, ...]: IsProd {holds}"),
        (f"{SF}.Stages[0].Actions[0].ActionTypeId.Provider",
         "is !If [UseCodeStar, ...]: read as if UseCodeStar holds"),
        (f"{SF}.Stages[0].Actions[0].Configuration",
         "is !If [UseCodeStar, ...]: read as if UseCodeStar holds"),
        (f"{SF}.Stages[2].Actions[0].Configuration.StackName",
         f"is ${{RepoName}}-staging, {target}"),
        (f"{SF}.Stages[2].Actions[1].Configuration.BucketName",
         f"is !ImportValue storefront-assets-bucket, {target}"),
        (f"{SF}.Stages[3].Name", f"is !If [IsProd, ...]: IsProd {holds}"),
        (f"{SF}.Stages[3].Actions[1]",
         "is !If [CanaryInUsEast, ...]: read as if CanaryInUsEast holds"),
    ]
    lines = [n.line for n in s.notes]
    assert lines == [
        line_of(STOREFRONT, "ExecutionMode: !If"),
        line_of(STOREFRONT, "- StageName: !If"),
        line_of(STOREFRONT, "Provider: !If"),
        line_of(STOREFRONT, "Configuration: !If"),
        line_of(STOREFRONT, 'StackName: !Sub "${RepoName}-staging"'),
        line_of(STOREFRONT, "BucketName: !ImportValue"),
        line_of(STOREFRONT, "- Name: !If [IsProd"),
        line_of(STOREFRONT, "- !If"),
    ]


def test_storefront_locate_points_at_names() -> None:
    s = only(STOREFRONT)
    assert s.locate(0, None) == line_of(STOREFRONT, "- Name: !FindInMap [Constants, Pipeline, "
                                                    "Source]")
    assert s.locate(0, 0) == line_of(STOREFRONT, "- Name: Checkout")
    staging = line_of(STOREFRONT, "- Name: Staging")
    assert s.locate(2, None) == staging
    assert s.locate(2, 2) == line_of(STOREFRONT, "- Name: SmokeTests")
    assert s.locate(3, None) == line_of(STOREFRONT, "- Name: !If [IsProd")
    # the conditional action: its Name inside the !If's first value
    assert s.locate(3, 1) == line_of(STOREFRONT, "- Name: DeployCanary")
    assert s.locate(3, 2) == line_of(STOREFRONT, "- Name: DeployStack", after=staging + 10)
    assert s.locate(9, None) is None and s.locate(0, 5) is None


def test_an_undecided_condition_with_no_value_first_reads_the_second(tmp_path: Path) -> None:
    path = variant(tmp_path, "              - Name: DeployCanary\n",
                   "              - !Ref AWS::NoValue\n              - Name: DeployCanary\n")
    text = path.read_text(encoding="utf-8").replace(
        "                InputArtifacts: [{Name: BuildOutput}]\n"
        "              - !Ref \"AWS::NoValue\"\n",
        "                InputArtifacts: [{Name: BuildOutput}]\n")
    path.write_text(text, encoding="utf-8")
    s = only(path)
    assert [a.name for a in s.pipeline.stages[3].actions] == ["Approve", "DeployCanary",
                                                              "DeployStack"]
    assert (f"{SF}.Stages[3].Actions[1]", "is !If [CanaryInUsEast, ...]: read as if "
            "CanaryInUsEast does not hold (its first value is AWS::NoValue)") in notes(s)


def test_a_condition_decided_false_leaves_its_item_out(tmp_path: Path) -> None:
    path = variant(tmp_path, "    Default: prod\n", "    Default: test\n")
    s = only(path)
    assert s.pipeline.execution_mode == "SUPERSEDED"
    assert s.pipeline.stages[3].name == "Acceptance"
    assert [a.name for a in s.pipeline.stages[3].actions] == ["Approve", "DeployStack"]
    assert config(s, 3, 1)["StackName"] == "storefront-test"
    assert s.disabled == (2,)  # !If [IsProd, Production, Staging]
    # the left-out action keeps the places and lines of the ones after it
    assert s.locate(3, 1) == line_of(path, "- Name: DeployStack", after=s.locate(3, None) or 0)
    assert (f"{SF}.Stages[3].Actions[1]", "is !If [CanaryInUsEast, ...]: CanaryInUsEast does "
            "not hold with the parameters' defaults") in notes(s)


def test_names_that_a_template_computes_need_not_follow_the_name_pattern(
        tmp_path: Path) -> None:
    path = variant(tmp_path, "        - Name: Staging\n",
                   '        - Name: !Sub "${ServiceName} staging"\n')
    path.write_text(path.read_text(encoding="utf-8").replace(
        "StageName: !If [IsProd, Production, Staging]",
        'StageName: !If [IsProd, Production, !Sub "${ServiceName} staging"]'), encoding="utf-8")
    assert only(path).pipeline.stages[2].name == "shop staging"
    # a name written out is still checked
    plain = variant(tmp_path, "        - Name: Staging\n", '        - Name: "shop staging"\n')
    assert error_of(plain) == (f"{plain}: {SF}.Stages[2].Name: expected a stage name of 1 to 100 "
                               'characters A-Z a-z 0-9 . @ - _, got "shop staging"')


def test_the_same_unevaluated_name_twice_is_a_duplicate(tmp_path: Path) -> None:
    path = variant(tmp_path, "!FindInMap [Constants, Pipeline, Build]",
                   "!FindInMap [Constants, Pipeline, Source]")
    assert error_of(path) == (
        f'{path}: {SF}.Stages[1].Name: expected a unique stage name, "!FindInMap [Constants, '
        'Pipeline, Source]" is already Stages[0]')


def test_an_opaque_category_reads_as_build(tmp_path: Path) -> None:
    path = variant(tmp_path, "{Category: Test, Owner: AWS, Provider: CodeBuild",
                   "{Category: !Ref TestCategory, Owner: AWS, Provider: CodeBuild")
    s = only(path)
    smoke = s.pipeline.stages[2].actions[2]
    assert (smoke.name, smoke.category) == ("SmokeTests", "Build")
    [note] = [n for n in s.notes if n.place.endswith("Category")]
    assert note == Note(f"{SF}.Stages[2].Actions[2].ActionTypeId.Category",
                        "is !Ref TestCategory, known only when deployed: read as Build, an "
                        "action that deploys, tests and waits for nothing",
                        line_of(path, "Category: !Ref TestCategory"))


def test_a_category_between_two_categories_takes_the_chosen_branch(tmp_path: Path) -> None:
    path = variant(tmp_path, "{Category: Test, Owner: AWS, Provider: CodeBuild",
                   "{Category: !If [UseCodeStar, Test, Build], Owner: AWS, Provider: CodeBuild")
    assert only(path).pipeline.stages[2].actions[2].category == "Test"


def test_an_opaque_run_order_reads_as_1(tmp_path: Path) -> None:
    path = variant(tmp_path, "RunOrder: !Ref SmokeTestOrder", "RunOrder: !Ref ConnectionArn")
    s = only(path)
    assert s.pipeline.stages[2].actions[2].run_order == 1
    assert (f"{SF}.Stages[2].Actions[2].RunOrder", "is !Ref ConnectionArn, known only when "
            "deployed: read as 1, the default") in notes(s)


def test_an_included_configuration_reads_as_empty(tmp_path: Path) -> None:
    path = variant(tmp_path, "              Configuration:\n                ProjectName: !Ref "
                   "BuildProject\n              InputArtifacts: [{Name: SourceOutput}]\n",
                   "              Configuration:\n                Fn::Transform:\n"
                   "                  Name: AWS::Include\n                  Parameters: "
                   "{Location: s3://acme-platform-shared/compile.yaml}\n"
                   "              InputArtifacts: [{Name: SourceOutput}]\n")
    s = only(path)
    assert config(s, 1, 0) == {}
    assert (f"{SF}.Stages[1].Actions[0].Configuration", "is !Transform {Name: AWS::Include, "
            "Parameters: {Location: s3://acme-platform-shared/compile.yaml}}, known only when "
            "deployed: read as empty") in notes(s)


def test_an_opaque_disabled_stage_disables_nothing(tmp_path: Path) -> None:
    path = variant(tmp_path, "StageName: !If [IsProd, Production, Staging]",
                   "StageName: !Ref ConnectionArn")
    s = only(path)
    assert s.disabled == ()
    assert (f"{SF}.DisableInboundStageTransitions[0].StageName", "is !Ref ConnectionArn, known "
            "only when deployed: read as disabling no transition") in notes(s)


# --- what is not valid CloudFormation ------------------------------------------------------


def test_an_if_of_two_values_is_refused(tmp_path: Path) -> None:
    path = variant(tmp_path, "Provider: !If [UseCodeStar, CodeStarSourceConnection, CodeCommit]",
                   "Provider: !If [UseCodeStar, CodeStarSourceConnection]")
    assert error_of(path) == (
        f"{path}: {SF}.Stages[0].Actions[0].ActionTypeId.Provider: expected Fn::If [condition "
        "name, value if true, value if false], got a list of 2 values")


def test_a_pipeline_without_stages_is_refused(tmp_path: Path) -> None:
    text = STOREFRONT.read_text(encoding="utf-8")
    path = tmp_path / STOREFRONT.name
    path.write_text(text[:text.index("      Stages:\n")], encoding="utf-8")
    assert error_of(path) == (f"{path}: {SF}.Stages: expected a non-empty list of stages, but "
                              "it is missing")


@pytest.mark.parametrize(("old", "new", "place", "expected"), [
    ("RunOrder: !Ref SmokeTestOrder", "RunOrder: !Ref [SmokeTestOrder]",
     f"{SF}.Stages[2].Actions[2].RunOrder",
     "expected Ref to name a parameter or a resource, got a list of 1 value"),
    ("ExecutionMode: !If [IsProd, QUEUED, SUPERSEDED]", "ExecutionMode: !If [[IsProd], QUEUED, "
     "SUPERSEDED]", f"{SF}.ExecutionMode",
     "expected Fn::If's condition to be a condition name, got a list of 1 value"),
    ('StackName: !Sub "${RepoName}-staging"', "StackName: !Sub [a, b, c]",
     f"{SF}.Stages[2].Actions[0].Configuration.StackName",
     "expected Fn::Sub of a string or of [string, {variables}], got a list of 3 values"),
    ("StackName: !FindInMap [Environments, !Ref Environment, Stack]",
     "StackName: !FindInMap [Environments, Stack]",
     f"{SF}.Stages[3].Actions[2].Configuration.StackName",
     "expected Fn::FindInMap [map name, top-level key, second-level key], got a list of 2 "
     "values"),
    ("{Category: Test, Owner", "{Category: 7, Owner",
     f"{SF}.Stages[2].Actions[2].ActionTypeId.Category",
     "expected one of Source, Build, Deploy, Test, Invoke, Approval, Compute, got 7"),
])
def test_invalid_cloudformation_is_one_input_error(tmp_path: Path, old: str, new: str,
                                                   place: str, expected: str) -> None:
    path = variant(tmp_path, old, new)
    assert error_of(path) == f"{path}: {place}: {expected}"


def test_a_resources_section_that_is_not_an_object(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("Resources: [Pipeline]\n", encoding="utf-8")
    assert error_of(path) == f"{path}: Resources: expected an object of resources"


# --------------------------------------------------------------------------------------------
# The CDK-synthesised template

CDK_PLACE = "Resources.PipelineC660917D.Properties"


def test_cdk_template_reads_without_notes_but_for_the_imported_stack_name() -> None:
    s = only(CDK)
    p = s.pipeline
    assert (s.where, p.name, p.pipeline_type, p.execution_mode) == (
        "Resources.PipelineC660917D", "checkout-service", "V2", "QUEUED")
    assert [(st.name, [(a.name, a.category, a.provider, a.run_order) for a in st.actions])
            for st in p.stages] == [
        ("Source", [("GitHub", "Source", "CodeStarSourceConnection", 1)]),
        ("Build", [("Build", "Build", "CodeBuild", 1)]),
        ("Deploy", [("Database", "Deploy", "CloudFormation", 1), ("Service", "Deploy", "ECS", 2),
                    ("SmokeTest", "Test", "CodeBuild", 3)]),
    ]
    assert s.stagelock == {} and s.stagelock_place == "" and s.disabled == ()
    database, service = config(s, 2, 0), config(s, 2, 1)
    assert database["StackName"] == "checkout-${!ImportValue platform-environment-name}-database"
    assert database["RoleArn"] == "!GetAtt PipelineDeployDatabaseRole3F5A9A3B.Arn"
    assert service == {"ClusterName": "!Ref ClusterEB0386A7", "FileName": "imagedefinitions.json",
                       "ServiceName": "!GetAtt ServiceD69D759B.Name"}
    assert config(s, 1, 0)["EnvironmentVariables"] == (
        '[{"name":"COMMIT_ID","type":"PLAINTEXT","value":"#{SourceVariables.CommitId}"},'
        '{"name":"REPOSITORY_URI","type":"PLAINTEXT","value":"'
        '${!Select [4, !Split [":", !GetAtt RepositoryC6A8A7F8.Arn]]}.dkr.ecr.'
        '${!Select [3, !Split [":", !GetAtt RepositoryC6A8A7F8.Arn]]}.${AWS::URLSuffix}/'
        '${RepositoryC6A8A7F8}"}]')
    # resources of the template and stack-wide pseudo parameters are the same value exactly
    # when their texts are: only the imported name is an approximation
    assert s.notes == [Note(
        f"{CDK_PLACE}.Stages[2].Actions[0].Configuration.StackName",
        "is checkout-${!ImportValue platform-environment-name}-database, known only when "
        "deployed: read as one target, shared only with the actions that name it the same way",
        line_of(CDK, '"StackName": {"Fn::Join"'))]


def test_cdk_locate_points_at_names_written_after_the_actions() -> None:
    s = only(CDK)
    assert s.locate(0, None) == line_of(CDK, '"Name": "Source"')
    assert s.locate(0, 0) == line_of(CDK, '"Name": "GitHub"')
    assert s.locate(2, 1) == line_of(CDK, '"Name": "Service"')
    assert s.locate(2, None) == line_of(CDK, '"Name": "Deploy"')


# --------------------------------------------------------------------------------------------
# get-pipeline documents


def test_get_pipeline_document() -> None:
    s = only(GET_PIPELINE)
    assert (s.where, s.pipeline.name, s.pipeline.execution_mode) == (
        "pipeline", "ledger-api", "SUPERSEDED")
    assert s.stagelock == {"ignore": ["SL301"], "reason": "Stops are made by the on-call "
                           "runbook, which disables the transition first."}
    assert (s.stagelock_place, s.disabled, s.notes) == ("stagelock", (), [])
    assert s.locate(2, None) == line_of(GET_PIPELINE, '"name": "Staging"')
    assert s.locate(2, 1) == line_of(GET_PIPELINE, '"name": "ContractTests"')


def test_get_pipeline_without_the_wrapper_and_stagelock_inside(tmp_path: Path) -> None:
    doc = json.loads(GET_PIPELINE.read_text(encoding="utf-8"))
    inner = doc["pipeline"]
    inner["stagelock"] = doc["stagelock"]
    path = tmp_path / "inner.yaml"
    path.write_text(json.dumps(inner, indent=2), encoding="utf-8")
    s = only(path)
    assert (s.where, s.stagelock_place, s.stagelock["ignore"]) == ("", "stagelock", ["SL301"])
    assert s.locate(1, 0) == line_of(path, '"name": "Package"')
    doc["pipeline"]["stagelock"] = {"ignore": []}
    both = tmp_path / "both.json"
    both.write_text(json.dumps(doc), encoding="utf-8")
    assert error_of(both) == (f"{both}: pipeline.stagelock: expected stagelock settings in one "
                              "place, beside pipeline or inside it, not both")
    doc["pipeline"]["stagelock"] = ["SL301"]
    del doc["stagelock"]
    both.write_text(json.dumps(doc), encoding="utf-8")
    assert error_of(both) == (f"{both}: pipeline.stagelock: expected an object of stagelock "
                              "settings, e.g. {ignore: [rule ids or names]}")


def test_an_intrinsic_in_a_get_pipeline_document_is_a_plain_object(tmp_path: Path) -> None:
    text = GET_PIPELINE.read_text(encoding="utf-8").replace(
        '"ledger-api-package"', '{"Ref": "Package"}')
    path = tmp_path / "p.json"
    path.write_text(text, encoding="utf-8")
    assert config(only(path), 1, 0) == {"ProjectName": '{"Ref": "Package"}'}


# --------------------------------------------------------------------------------------------
# The intrinsic functions, one by one

INTRINSICS = """\
Parameters:
  Regions: {Type: CommaDelimitedList, Default: "eu-west-1, eu-central-1"}
  Listed: {Type: "List<String>", Default: [a, b]}
  Bootstrap: {Type: "AWS::SSM::Parameter::Value<String>", Default: /cdk-bootstrap/version}
  Tier: {Type: String, Default: gold}
  Count: {Type: Number, Default: 3}
  Free: {Type: String}
Mappings:
  Sizes:
    gold: {Nodes: "5", Zones: [a, b, c]}
Conditions:
  Gold: !Equals [!Ref Tier, gold]
  NotGold: !Not [!Condition Gold]
  Both: !And [!Condition Gold, !Equals [!Ref Free, x]]
  Either: !Or [!Condition Gold, !Equals [!Ref Free, x]]
  Neither: !Or [!Condition NotGold, !Equals [!Ref "AWS::Region", x]]
  Loop: !Not [!Condition Loop]
Resources:
  Bucket: {Type: AWS::S3::Bucket}
  Pipe:
    Type: AWS::CodePipeline::Pipeline
    Properties:
      Stages:
        - Name: S
          Actions:
            - Name: A
              ActionTypeId: {Category: Source}
              Configuration:
{values}
        - Name: T
          Actions: [{Name: B, ActionTypeId: {Category: Build}}]
"""


def intrinsics(tmp_path: Path, **values: str) -> tuple[dict[str, str], list[Note]]:
    lines = "\n".join(f"                {key}: {value}" for key, value in values.items())
    path = tmp_path / "intrinsics.yaml"
    path.write_text(INTRINSICS.replace("{values}", lines), encoding="utf-8")
    s = only(path)
    return config(s, 0, 0), s.notes


def test_values_a_template_gives(tmp_path: Path) -> None:
    got, _ = intrinsics(
        tmp_path,
        List="!Ref Regions",
        Listed="!Ref Listed",
        First="!Select [0, !Ref Regions]",
        Second="!Select [1, !Split [',', 'x,y,z']]",
        Joined="!Join [':', [a, !Ref Tier, !Ref Count]]",
        Nodes="!FindInMap [Sizes, !Ref Tier, Nodes]",
        Zones="!FindInMap [Sizes, gold, Zones]",
        Defaulted="!FindInMap [Sizes, silver, Nodes, {DefaultValue: '1'}]",
        Sub='!Sub ["${Tier}-${Extra}-${!Literal}", {Extra: !Select [2, [p, q, r]]}]',
        Encoded="!Base64 hello",
        Length="!Length [a, b]",
        Json="!ToJsonString {k: !Ref Tier}",
        Count="!Ref Count",
    )
    assert got == {
        "List": "eu-west-1,eu-central-1",
        "Listed": "a,b",
        "First": "eu-west-1",
        "Second": "y",
        "Joined": "a:gold:3",
        "Nodes": "5",
        "Zones": "a,b,c",
        "Defaulted": "1",
        "Sub": "gold-r-${Literal}",
        "Encoded": "aGVsbG8=",
        "Length": "2",
        "Json": '{"k":"gold"}',
        "Count": "3",
    }
    assert not any(isinstance(v, Opaque) for v in got.values())


def test_values_only_a_deployment_knows(tmp_path: Path) -> None:
    got, _ = intrinsics(
        tmp_path,
        Ssm="!Ref Bootstrap",
        Free="!Ref Free",
        Bucket="!Ref Bucket",
        Region="!Ref AWS::Region",
        Arn="!GetAtt Bucket.Arn",
        Sub='!Sub "arn:${AWS::Partition}:s3:::${Bucket}/${Free}/${Bucket.Arn}"',
        SubVar='!Sub ["${B}-x", {B: !ImportValue shared}]',
        Join="!Join ['', [!GetAtt Bucket.Arn, /*]]",
        JoinList="!Join [',', !GetAZs '']",
        Select="!Select [0, !GetAZs '']",
        Split="!Split [',', !Ref Free]",
        Missing="!FindInMap [Sizes, !Ref Free, Nodes]",
        Import='!ImportValue {"Fn::Sub": "${Tier}-bucket"}',
        Cidr="!Cidr [10.0.0.0/16, 4, 8]",
        Other="!Whatever {k: v}",
        Condition="!Condition Gold",
        Base64="!Base64 {Ref: Free}",
    )
    assert got == {
        "Ssm": "!Ref Bootstrap",
        "Free": "!Ref Free",
        "Bucket": "!Ref Bucket",
        "Region": "!Ref AWS::Region",
        "Arn": "!GetAtt Bucket.Arn",
        "Sub": "arn:${AWS::Partition}:s3:::${Bucket}/${Free}/${Bucket.Arn}",
        "SubVar": "${!ImportValue shared}-x",
        "Join": "${Bucket.Arn}/*",
        "JoinList": '!Join [",", !GetAZs ""]',
        "Select": '!Select [0, !GetAZs ""]',
        "Split": '!Split [",", !Ref Free]',
        "Missing": "!FindInMap [Sizes, !Ref Free, Nodes]",
        "Import": "!ImportValue gold-bucket",
        "Cidr": "!Cidr [10.0.0.0/16, 4, 8]",
        "Other": "!Whatever {k: v}",
        "Condition": "!Condition Gold",
        "Base64": "!Base64 !Ref Free",
    }
    assert all(isinstance(v, Opaque) for v in got.values())


@pytest.mark.parametrize(("condition", "branch", "text"), [
    ("Gold", "yes", "Gold holds with the parameters' defaults"),
    ("NotGold", "no", "NotGold does not hold with the parameters' defaults"),
    ("Both", "yes", "read as if Both holds"),
    ("Either", "yes", "Either holds with the parameters' defaults"),
    ("Neither", "yes", "read as if Neither holds"),
    ("Loop", "yes", "read as if Loop holds"),
    ("Undeclared", "yes", "read as if Undeclared holds"),
])
def test_conditions_decided_from_the_defaults(tmp_path: Path, condition: str, branch: str,
                                              text: str) -> None:
    got, notes_ = intrinsics(tmp_path, StackName=f"!If [{condition}, yes, no]")
    assert got == {"StackName": branch}
    assert [(n.place, n.text) for n in notes_] == [
        ("Resources.Pipe.Properties.Stages[0].Actions[0].Configuration.StackName",
         f"is !If [{condition}, ...]: {text}")]


def test_an_if_that_changes_nothing_checked_is_not_noted(tmp_path: Path) -> None:
    """A NotificationArn or a CustomData text chosen by a condition changes nothing lint or
    check says: no note on it."""
    got, notes_ = intrinsics(tmp_path, CustomData="!If [Gold, yes, no]")
    assert (got, notes_) == ({"CustomData": "yes"}, [])


def test_no_value_leaves_a_configuration_value_out(tmp_path: Path) -> None:
    got, _ = intrinsics(tmp_path, Gone="!Ref AWS::NoValue", Kept="x")
    assert got == {"Kept": "x"}


def test_opaque_values_survive_pickling(tmp_path: Path) -> None:
    got, _ = intrinsics(tmp_path, Free="!Ref Free")
    value = pickle.loads(pickle.dumps(got["Free"]))
    assert (type(value), value, value.inside) == (Opaque, "!Ref Free", "${Free}")
    p = only(STOREFRONT).pipeline
    assert pickle.loads(pickle.dumps(p)) == p


# --------------------------------------------------------------------------------------------
# The package's functions


def test_one_pipeline_readers_agree_with_sources() -> None:
    for path in FILES:
        [s] = sources_in(path)
        assert load_pipeline(path) == s.pipeline
        assert source_in(path).pipeline == s.pipeline
        doc = read_document(path)
        assert pipeline_from_document(doc, str(path)) == s.pipeline
        assert [x.pipeline for x in sources_of(doc, str(path))] == [s.pipeline]
        assert [x.locate(0, 0) for x in sources_of(doc, str(path))] == [None]  # no text
    assert is_cloudformation_template(read_document(CDK))
    assert not is_cloudformation_template(read_document(GET_PIPELINE))
    assert CLOUDFORMATION_PIPELINE_TYPE == "AWS::CodePipeline::Pipeline"


def test_every_pipeline_of_a_template(tmp_path: Path) -> None:
    two = ROOT / "tests" / "data" / "declarations" / "two-pipelines.template.json"
    assert [(s.where, s.pipeline.name) for s in sources_in(two)] == [
        ("Resources.ServicePipeline", "ServicePipeline"),
        ("Resources.NightlyPipeline", "orders-nightly")]
    assert source_in(two, "NightlyPipeline").pipeline.name == "orders-nightly"
    empty = tmp_path / "t.yaml"
    empty.write_text("Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n", encoding="utf-8")
    assert error_of(empty) == (f"{empty}: Resources: expected a resource of Type "
                               "AWS::CodePipeline::Pipeline, found none")


def test_line_at_steps_into_short_and_long_forms() -> None:
    text = ("a:\n  - !If\n    - C\n    - {Name: X}\n    - y\n"
            "b:\n  Fn::If:\n    - C\n    - Name: Z\n    - w\n")
    assert line_at(text, ["a", 0, "Fn::If", 1]) == 4
    assert line_at(text, ["b", "Fn::If", 1]) == 9
    assert line_at(text, ["b", "Fn::If", 7]) is None
    assert line_at(text, ["c"]) is None
    assert line_at("{", ["a"]) is None


# --------------------------------------------------------------------------------------------
# The command line reads every file


def run(*args: str | Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.chdir(ROOT), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main([str(a) for a in args])
    return status, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_lint_reads_every_file(path: Path) -> None:
    status, out, err = run("lint", path.relative_to(ROOT), "--format", "json")
    assert (status in (0, 1), err) == (True, "")
    findings = json.loads(out)["findings"]
    assert all(isinstance(f["line"], int) for f in findings)


def test_lint_names_targets_readably() -> None:
    _, out, _ = run("lint", STOREFRONT.relative_to(ROOT), "--stops", "1")
    assert "e2's DeployStack started on StackName=${RepoName}-staging while" in out
    assert "BucketName=!ImportValue storefront-assets-bucket holds e1's revision" in out
    assert "{" + '"Fn::' not in out
    _, out, _ = run("lint", CDK.relative_to(ROOT), "--explain")
    assert ("  target ClusterName=!Ref ClusterEB0386A7, ServiceName=!GetAtt ServiceD69D759B.Name "
            "(replaces the running deployment)") in out.splitlines()


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_check_reads_every_file(path: Path) -> None:
    status, out, err = run("check", path.relative_to(ROOT), "--mode", "QUEUED")
    assert (status, err) == (0, "")
    assert out.rstrip().endswith("Result: PROVED")


# --------------------------------------------------------------------------------------------
# Anything in a template: a pipeline or one InputError, never another exception

FUNCTIONS = ["Ref", "Condition", "Fn::If", "Fn::Sub", "Fn::Join", "Fn::FindInMap",
             "Fn::Select", "Fn::Split", "Fn::GetAtt", "Fn::Base64", "Fn::Length",
             "Fn::ToJsonString", "Fn::ImportValue", "Fn::Equals", "Fn::Whatever"]
JUNK = st.recursive(
    st.none() | st.booleans() | st.integers(-2, 1001)
    | st.sampled_from(["", "x", "2", "V2", "Build", "Deploy", "C", "P", "M", "AWS::NoValue",
                       "AWS::Region", "${P}", "${M.Arn}", "${!x}", ",", "Bucket"]),
    lambda inner: (st.lists(inner, max_size=4)
                   | st.dictionaries(st.sampled_from(FUNCTIONS), inner, min_size=1, max_size=1)
                   | st.dictionaries(st.sampled_from(["Name", "DefaultValue", "k"]), inner,
                                     max_size=2)),
    max_leaves=10,
)


def _template() -> dict[str, Any]:
    action = {"Name": "A", "ActionTypeId": {"Category": "Deploy", "Provider": "S3"},
              "RunOrder": 1, "Configuration": {"BucketName": "b", "ActionMode": "x"}}
    return {
        "Parameters": {"P": {"Type": "String", "Default": "p"}, "Q": {"Type": "String"}},
        "Mappings": {"M": {"p": {"k": "v"}}},
        "Conditions": {"C": {"Fn::Equals": [{"Ref": "P"}, "p"]}},
        "Resources": {"Bucket": {"Type": "AWS::S3::Bucket"}, "Pipe": {
            "Type": CLOUDFORMATION_PIPELINE_TYPE,
            "Properties": {"Name": "p", "ExecutionMode": "QUEUED", "PipelineType": "V2",
                           "DisableInboundStageTransitions": [{"StageName": "T"}],
                           "Stages": [{"Name": "S", "Actions": [action]},
                                      {"Name": "T", "Actions": [dict(action, Name="B")]}]}}},
    }


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*path, index))
    return found


@settings(max_examples=300, deadline=None)
@given(st.data(), JUNK)
def test_any_replaced_part_of_a_template_gives_an_input_error_or_a_pipeline(
        data: st.DataObject, junk: Any) -> None:
    doc = _template()
    properties = ("Resources", "Pipe", "Properties")
    path = data.draw(st.sampled_from([p for p in _paths(doc) if p[:3] == properties][1:]))
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = copy.deepcopy(junk)
    try:
        [source] = sources_of(doc, "t.json", json.dumps(doc, indent=1))
    except InputError as error:
        assert error.expected.startswith("expected ") and "\n" not in str(error)
        return
    for s, stage in enumerate(source.pipeline.stages):
        for a in range(len(stage.actions)):
            assert isinstance(source.locate(s, a), int)


def test_cloudformation_stage_conditions_are_evaluated() -> None:
    """A condition's Result from a parameter's default, a !FindInMap and an !If around a whole
    OnSuccess: each is evaluated, so the conditions are modelled and nothing is warned about."""
    from checker.formats import source_in

    source = source_in(Path(__file__).parent / "data" / "formats" / "conditions.template.yaml")
    assert [(st.name, st.before_entry, st.on_success) for st in source.pipeline.stages] == [
        ("Source", None, None), ("Staging", "SKIP", None), ("Production", "FAIL", "FAIL")]
    assert source.warnings == ()
