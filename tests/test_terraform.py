"""Reading `aws_codepipeline` resources from Terraform (`checker.formats.terraform`).

The fixtures under `tests/data/terraform/`: `release.tf` (variables with and without defaults, a
CodeStar connection source, CodeBuild build and tests, a CloudFormation and an ECS deploy, a
manual approval, QUEUED on V2, the stagelock:ignore tag), `environments.tf` (dynamic "stage" and
"action" blocks, a local, a variable with no default, `count`), and `terraform show -json` of a
plan (a root and a module pipeline, values known only after apply, a sensitive value) and of the
state after it (tags_all with the provider's default tags), both pretty-printed as `jq .` does;
`gated.tf` (a deployment window before entry, rollbacks on failure, a dynamic on_success block and
two misspelt fields: what the model does not account for).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from checker.errors import InputError
from checker.formats import PipelineSource
from checker.formats.terraform import (
    KNOWN_AFTER_APPLY,
    SENSITIVE,
    looks_like_terraform_plan,
    sources_in_terraform_plan,
    sources_in_tf,
)
from checker.safeio import parse_json, read_text

DATA = Path(__file__).resolve().parent / "data" / "terraform"
RELEASE = DATA / "release.tf"
ENVIRONMENTS = DATA / "environments.tf"
PLAN = DATA / "plan.json"
STATE = DATA / "state.json"


def line_of(path: Path, n: int | None) -> str:
    assert n is not None
    return path.read_text().splitlines()[n - 1].strip()


def shape(source: PipelineSource) -> list[tuple[str, list[tuple[str, str, str, int]]]]:
    """(stage, [(action, category, provider, run order)]) of each stage."""
    return [(s.name, [(a.name, a.category, a.provider, a.run_order) for a in s.actions])
            for s in source.pipeline.stages]


def config(source: PipelineSource, stage: int, action: int) -> dict[str, str]:
    return dict(source.pipeline.stages[stage].actions[action].configuration)


def notes(source: PipelineSource) -> dict[str, tuple[str, int | None]]:
    return {n.place: (n.text, n.line) for n in source.notes}


def plan_sources(doc: Any, text: str | None = None, file: str = "plan.json"
                 ) -> list[PipelineSource]:
    return sources_in_terraform_plan(doc, json.dumps(doc) if text is None else text, file)


def load(path: Path) -> tuple[Any, str]:
    text = read_text(path)
    return parse_json(text, str(path)), text


def write(tmp_path: Path, text: str, name: str = "main.tf") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def expect_error(call: Any, message: str) -> InputError:
    with pytest.raises(InputError) as caught:
        call()
    assert str(caught.value) == message
    assert "\n" not in str(caught.value)
    return caught.value


# --- .tf: the release pipeline -----------------------------------------------------------------


@pytest.fixture(scope="module")
def release() -> PipelineSource:
    (source,) = sources_in_tf(RELEASE)
    return source


def test_tf_pipeline(release: PipelineSource) -> None:
    assert release.file == str(RELEASE)
    assert release.where == "aws_codepipeline.release"
    assert release.pipeline.name == "shop-api-release"  # "${var.repo}-release", var.repo's default
    assert release.pipeline.execution_mode == "QUEUED"
    assert release.pipeline.pipeline_type == "V2"
    assert release.disabled == ()
    assert shape(release) == [
        ("Source", [("Checkout", "Source", "CodeStarSourceConnection", 1)]),
        ("Build", [("Compile", "Build", "CodeBuild", 1), ("UnitTests", "Test", "CodeBuild", 2)]),
        ("Staging", [("DeployStack", "Deploy", "CloudFormation", 1),
                     ("IntegrationTests", "Test", "CodeBuild", 2)]),
        ("Approve", [("ReleaseManager", "Approval", "Manual", 1)]),
        # "Deploy-${var.region}": var.region has no default, the text is made a valid name
        ("Production", [("Deploy-var.region", "Deploy", "ECS", 1)]),
    ]
    assert release.pipeline.stages[3].actions[0].is_approval


def test_tf_configuration(release: PipelineSource) -> None:
    assert config(release, 0, 0) == {
        "ConnectionArn": "${aws_codestarconnections_connection.github.arn}",  # opaque
        "FullRepositoryId": "acme/shop-api",  # "acme/${var.repo}"
        "BranchName": "main",  # var.branch
        "DetectChanges": "false",  # a bool, as Terraform makes it a string
    }
    assert config(release, 1, 1) == {"ProjectName": "shop-api-unit-tests"}
    assert config(release, 2, 0)["StackName"] == "shop-api-staging"  # "${var.repo}-staging"
    assert config(release, 2, 0)["ActionMode"] == "CREATE_UPDATE"
    assert config(release, 3, 0)["CustomData"] == \
        "Staging passed: release shop-api to production?"
    assert config(release, 4, 0) == {
        "ClusterName": "${aws_ecs_cluster.production.name}",
        "ServiceName": "${var.service_name}",
        "FileName": "imagedefinitions.json",
    }


def test_tf_notes(release: PipelineSource) -> None:
    """A note where what is checked depends on something not evaluated; none for values the
    model does not read (ConnectionArn, RoleArn, NotificationArn, CustomData)."""
    where = "aws_codepipeline.release"
    assert notes(release) == {
        f"{where}.name": ('is "${var.repo}-release": read with the default of var.repo as '
                          '"shop-api-release"', 35),
        f"{where}.stage[2].action[0].configuration.StackName": (
            'is "${var.repo}-staging": read with the default of var.repo as '
            '"shop-api-staging"', 116),
        f"{where}.stage[4].action[0].name": (
            'is "Deploy-${var.region}", not evaluated: read as the name Deploy-var.region', 159),
        f"{where}.stage[4].action[0].configuration.ClusterName": (
            "is aws_ecs_cluster.production.name, not evaluated: read as the text "
            "${aws_ecs_cluster.production.name}", 167),
        f"{where}.stage[4].action[0].configuration.ServiceName": (
            "is var.service_name, a variable with no default in this file: read as the text "
            "${var.service_name}", 168),
    }
    assert [n.line for n in release.notes] == sorted(n.line or 0 for n in release.notes)
    for note in release.notes:
        key = note.place.rsplit(".", 1)[1]
        assert line_of(RELEASE, note.line).startswith(key)


def test_tf_locate(release: PipelineSource) -> None:
    """The line of each stage's and action's name argument."""
    assert release.locate(0, None) == 51
    assert line_of(RELEASE, 51) == 'name = "Source"'
    assert release.locate(0, 0) == 54
    assert line_of(RELEASE, 54) == 'name             = "Checkout"'
    for i, stage in enumerate(release.pipeline.stages):
        assert line_of(RELEASE, release.locate(i, None)).split("=")[1].strip() == \
            f'"{stage.name}"'
        for j, action in enumerate(stage.actions):
            text = line_of(RELEASE, release.locate(i, j))
            assert text.startswith("name") and action.name.split("-")[0] in text
    assert release.locate(1, 1) == 89
    assert release.locate(5, None) is None
    assert release.locate(0, 1) is None


def test_tf_tags_convention(release: PipelineSource) -> None:
    assert release.stagelock == {"ignore": ["SL301", "SL401"]}
    assert release.stagelock_place == "aws_codepipeline.release.tags"


# --- .tf: dynamic blocks, locals, count --------------------------------------------------------


@pytest.fixture(scope="module")
def environments() -> list[PipelineSource]:
    return sources_in_tf(ENVIRONMENTS)


def test_tf_every_resource_is_a_pipeline(environments: list[PipelineSource]) -> None:
    assert [s.where for s in environments] == ["aws_codepipeline.environments",
                                               "aws_codepipeline.nightly"]


def test_tf_dynamic_blocks(environments: list[PipelineSource]) -> None:
    """A dynamic block is a note, never expanded nor silently dropped; a stage with only dynamic
    actions is left out, with a note."""
    source = environments[0]
    assert source.pipeline.name == "inventory-svc-environments"  # local.prefix of local.project
    assert shape(source) == [("Source", [("Source", "Source", "S3", 1)]),
                             ("Verify", [("Smoke", "Test", "CodeBuild", 1)])]
    assert config(source, 0, 0) == {"S3Bucket": "${aws_s3_bucket.artifacts.bucket}",
                                    "S3ObjectKey": "inventory/bundle.zip"}
    assert config(source, 1, 0) == {"ProjectName": "inventory-svc-smoke"}
    where = "aws_codepipeline.environments"
    assert notes(source) == {
        f"{where}.name": ('is "${local.prefix}-environments": read with the value of '
                          'local.prefix as "inventory-svc-environments"', 24),
        f"{where}.execution_mode": (
            "is var.execution_mode, a variable with no default in this file: read as "
            "SUPERSEDED, the default; give it a literal value (or the variable a default) to "
            "check the value it has", 27),
        f"{where}.dynamic.stage[0]": (
            'is a dynamic "stage" block (for_each = var.environments): it is not expanded '
            "without evaluating Terraform, so its stages are not checked", 54),
        f"{where}.stage[1].dynamic.action[0]": (
            'is a dynamic "action" block (for_each = toset(var.environments)): it is not '
            "expanded without evaluating Terraform, so its actions are not checked", 91),
        f"{where}.stage[2]": (
            'has only dynamic "action" blocks (Report), which are not expanded without '
            "evaluating Terraform: the stage is not checked", 109),
    }
    assert line_of(ENVIRONMENTS, 54) == 'dynamic "stage" {'
    # the stages checked point at their own blocks (Verify is the file's second stage block)
    assert line_of(ENVIRONMENTS, source.locate(1, None)) == 'name = "Verify"'
    assert line_of(ENVIRONMENTS, source.locate(1, 0)) == 'name     = "Smoke"'
    assert source.stagelock == {}  # tags = merge(...) is not evaluated, and says nothing of it


def test_tf_count(environments: list[PipelineSource]) -> None:
    source = environments[1]
    assert source.pipeline.name == "inventory-nightly-count.index"
    assert source.pipeline.execution_mode == "SUPERSEDED"
    assert source.pipeline.pipeline_type == "V1"
    assert shape(source) == [("Source", [("Source", "Source", "S3", 1)]),
                             ("LoadTest", [("LoadTest", "Test", "CodeBuild", 1)])]
    assert notes(source) == {
        "aws_codepipeline.nightly.count": (
            "is var.nightly ? 1 : 0: the resource is read once, as declared (its instances "
            "are not expanded, count.index and each.key are not evaluated)", 127),
        "aws_codepipeline.nightly.name": (
            'is "${local.project}-nightly-${count.index}", not evaluated: read as the name '
            "inventory-nightly-count.index", 128),
    }


# --- .tf: small cases ----------------------------------------------------------------------------


def pipeline_tf(stages: str, head: str = "", name: str = "p", before: str = "") -> str:
    return (f'{before}resource "aws_codepipeline" "{name}" {{\n  name = "{name}"\n{head}'
            f"{stages}}}\n")


def stage_tf(name: str, *actions: str) -> str:
    return f'  stage {{\n    name = {name}\n{"".join(actions)}  }}\n'


def action_tf(name: str, category: str = '"Build"', extra: str = "") -> str:
    return (f"    action {{\n      name = {name}\n      category = {category}\n"
            f'      owner = "AWS"\n      provider = "CodeBuild"\n      version = "1"\n{extra}'
            "    }\n")


TWO_STAGES = stage_tf('"Source"', action_tf('"A"', '"Source"')) + stage_tf('"Build"',
                                                                           action_tf('"B"'))


def test_tf_opaque_names_are_made_valid_and_unique(tmp_path: Path) -> None:
    text = pipeline_tf(stage_tf('"Source"', action_tf('"A"', '"Source"'))
                       + stage_tf("var.env", action_tf("each.key"), action_tf('"${each.key}"'))
                       + stage_tf('"${var.env}"', action_tf('"B"')))
    (source,) = sources_in_tf(write(tmp_path, text))
    assert [s.name for s in source.pipeline.stages] == ["Source", "var.env", "var.env-2"]
    assert [a.name for a in source.pipeline.stages[1].actions] == ["each.key", "each.key-2"]
    assert notes(source)["aws_codepipeline.p.stage[2].name"][0] == \
        'is "${var.env}", not evaluated: read as the name var.env-2'


def test_tf_literal_values(tmp_path: Path) -> None:
    extra = ('      run_order = 3\n      configuration = {\n        "Key.With.Dots" = "$${x}"\n'
             "        Count = 2\n        Ratio = 1.5\n        Nothing = null\n"
             '        Text = <<-EOT\n          two\n          lines\n        EOT\n      }\n')
    text = pipeline_tf(stage_tf('"Source"', action_tf('"A"', '"Source"'))
                       + stage_tf('"Build"', action_tf('"B"', extra=extra)))
    (source,) = sources_in_tf(write(tmp_path, text))
    assert source.pipeline.stages[1].actions[0].run_order == 3
    assert config(source, 1, 0) == {"Key.With.Dots": "${x}", "Count": "2", "Ratio": "1.5",
                                    "Text": "two\nlines"}
    assert source.notes == []


def test_tf_configuration_as_a_whole(tmp_path: Path) -> None:
    """A configuration from a variable's default map is read; one from another expression is
    read as empty, with a note (it may name a deploy target)."""
    before = ('variable "cfg" {\n  default = { StackName = "s1" }\n}\n')
    text = pipeline_tf(stage_tf('"Source"', action_tf('"A"', '"Source"'))
                       + stage_tf('"Build"',
                                  action_tf('"B"', extra="      configuration = var.cfg\n"),
                                  action_tf('"C"', extra="      configuration = local.cfg\n")),
                       before=before)
    (source,) = sources_in_tf(write(tmp_path, text))
    assert config(source, 1, 0) == {"StackName": "s1"}
    assert config(source, 1, 1) == {}
    assert notes(source) == {
        "aws_codepipeline.p.stage[1].action[0].configuration": (
            'is var.cfg: read with the default of var.cfg as "{\\"StackName\\": \\"s1\\"}"', 24),
        "aws_codepipeline.p.stage[1].action[1].configuration": (
            "is local.cfg, not evaluated: read as no configuration (so no deploy target, "
            "StackName, ClusterName ..., is known for the action)", 32),
    }


def test_tf_opaque_mode_and_type(tmp_path: Path) -> None:
    """An opaque pipeline_type is read as V2 when the mode needs it."""
    head = '  pipeline_type = var.type\n  execution_mode = "PARALLEL"\n'
    (source,) = sources_in_tf(write(tmp_path, pipeline_tf(TWO_STAGES, head)))
    assert (source.pipeline.pipeline_type, source.pipeline.execution_mode) == ("V2", "PARALLEL")
    assert notes(source)["aws_codepipeline.p.pipeline_type"][0].startswith(
        "is var.type, not evaluated: read as V2, the default;")


def test_tf_opaque_run_order(tmp_path: Path) -> None:
    text = pipeline_tf(stage_tf('"Source"', action_tf('"A"', '"Source"'))
                       + stage_tf('"Build"', action_tf('"B"', extra="      run_order = "
                                                       "local.order\n")))
    (source,) = sources_in_tf(write(tmp_path, text))
    assert source.pipeline.stages[1].actions[0].run_order == 1
    assert notes(source) == {"aws_codepipeline.p.stage[1].action[0].run_order": (
        "is local.order, not evaluated: read as 1, CodePipeline's default", 21)}


def test_tf_tags(tmp_path: Path) -> None:
    head = ('  tags = {\n    "stagelock:ignore" = "SL101,SL201  stop-without-disabled-transition"'
            '\n    "stagelock:actions" = "x"\n  }\n')
    (source,) = sources_in_tf(write(tmp_path, pipeline_tf(TWO_STAGES, head)))
    assert source.stagelock == {"ignore": ["SL101", "SL201", "stop-without-disabled-transition"]}
    assert notes(source) == {"aws_codepipeline.p.tags.stagelock:actions": (
        "is not a stagelock setting (only stagelock:ignore is read from tags): not read", 5)}
    head = '  tags = { "stagelock:ignore" = var.ignored }\n'
    (source,) = sources_in_tf(write(tmp_path, pipeline_tf(TWO_STAGES, head)))
    assert source.stagelock == {}
    assert notes(source) == {"aws_codepipeline.p.tags.stagelock:ignore": (
        "is var.ignored, not evaluated: no rule is ignored", 3)}
    head = '  tags = merge(local.tags, { "stagelock:ignore" = "SL301" })\n'
    (source,) = sources_in_tf(write(tmp_path, pipeline_tf(TWO_STAGES, head)))
    assert source.stagelock == {}
    assert list(notes(source)) == ["aws_codepipeline.p.tags"]


def test_tf_errors_name_terraform_places(tmp_path: Path) -> None:
    path = write(tmp_path, pipeline_tf(stage_tf('"Source"', action_tf('"A"', '"Source"'))
                                       + stage_tf('"Build"', action_tf(
                                           '"B"', extra="      run_order = 0\n"))))
    expect_error(lambda: sources_in_tf(path),
                 f"{path}: aws_codepipeline.p.stage[1].action[0].run_order: expected an integer "
                 "from 1 to 999, got 0")
    path = write(tmp_path, pipeline_tf(TWO_STAGES + stage_tf('"Source"', action_tf('"C"'))))
    expect_error(lambda: sources_in_tf(path),
                 f'{path}: aws_codepipeline.p.stage[2].name: expected a unique stage name, '
                 '"Source" is already stage[0]')
    path = write(tmp_path, pipeline_tf(TWO_STAGES, '  execution_mode = "QUEUED"\n'))
    expect_error(lambda: sources_in_tf(path),
                 f"{path}: aws_codepipeline.p.execution_mode: expected pipeline_type V2 for "
                 "execution_mode QUEUED (pipeline_type defaults to V1)")
    kind = TWO_STAGES.replace('category = "Build"', "category = var.kind")
    path = write(tmp_path, pipeline_tf(kind))
    expect_error(lambda: sources_in_tf(path),
                 f"{path}: aws_codepipeline.p.stage[1].action[0].category: expected one of "
                 "Source, Build, Deploy, Test, Invoke, Approval, Compute written out, is "
                 "var.kind, not evaluated")
    path = write(tmp_path, pipeline_tf(TWO_STAGES.replace('    category = "Build"\n', "")))
    expect_error(lambda: sources_in_tf(path),
                 f"{path}: aws_codepipeline.p.stage[1].action[0].category: expected one of "
                 "Source, Build, Deploy, Test, Invoke, Approval, Compute, but it is missing")


def retrying_tf(on_failure: str, head: str = '  pipeline_type = "V2"\n') -> str:
    build = stage_tf('"Build"', action_tf('"B"'), f"    on_failure {{\n{on_failure}    }}\n")
    return pipeline_tf(stage_tf('"Source"', action_tf('"A"', '"Source"')) + build, head)


RETRY_ALL = ('      result = "RETRY"\n      retry_configuration {\n'
             '        retry_mode = "ALL_ACTIONS"\n      }\n')


def test_tf_automatic_retry(tmp_path: Path) -> None:
    (source,) = sources_in_tf(write(tmp_path, retrying_tf(RETRY_ALL)))
    assert [s.automatic_retry for s in source.pipeline.stages] == [None, "ALL_ACTIONS"]
    assert source.notes == []
    (source,) = sources_in_tf(write(tmp_path, retrying_tf('      result = "ROLLBACK"\n')))
    assert [(s.automatic_retry, s.automatic_rollback) for s in source.pipeline.stages] == [
        (None, False), (None, True)]
    opaque = RETRY_ALL.replace('"ALL_ACTIONS"', "var.mode")
    (source,) = sources_in_tf(write(tmp_path, retrying_tf(opaque)))
    assert [s.automatic_retry for s in source.pipeline.stages] == [None, "ALL_ACTIONS"]
    assert notes(source) == {"aws_codepipeline.p.stage[1].on_failure.retry_configuration."
                             "retry_mode": ("is var.mode, not evaluated: read as ALL_ACTIONS, "
                                            "the mode that runs every action of the stage "
                                            "again", 26)}
    opaque = RETRY_ALL.replace('"RETRY"', "local.result")
    (source,) = sources_in_tf(write(tmp_path, retrying_tf(opaque)))
    assert [s.automatic_retry for s in source.pipeline.stages] == [None, None]
    assert list(notes(source)) == ["aws_codepipeline.p.stage[1].on_failure.result"]


def test_tf_automatic_retry_errors(tmp_path: Path) -> None:
    where = "aws_codepipeline.p.stage[1].on_failure"
    path = write(tmp_path, retrying_tf(RETRY_ALL.replace("ALL_ACTIONS", "ALL")))
    expect_error(lambda: sources_in_tf(path),
                 f"{path}: {where}.retry_configuration.retry_mode: expected one of "
                 'FAILED_ACTIONS, ALL_ACTIONS for result RETRY, got "ALL"')
    path = write(tmp_path, retrying_tf('      result = "RETRY"\n'))
    expect_error(lambda: sources_in_tf(path),
                 f"{path}: {where}.retry_configuration: expected a retry_configuration block "
                 "with a retry_mode (FAILED_ACTIONS or ALL_ACTIONS) for result RETRY, but it is "
                 "missing")
    path = write(tmp_path, retrying_tf(RETRY_ALL + "      condition {\n      }\n"))
    expect_error(lambda: sources_in_tf(path),
                 f"{path}: {where}.condition: expected no condition blocks with result RETRY: "
                 '"You cannot use automatic stage retry with onFailure conditions." (AWS '
                 'CodePipeline User Guide, "Configure conditions for a stage"), got a list')
    path = write(tmp_path, retrying_tf(RETRY_ALL, head=""))
    expect_error(lambda: sources_in_tf(path),
                 f"{path}: {where}: expected pipeline_type V2 for result RETRY (pipeline_type "
                 "defaults to V1)")


def test_plan_automatic_retry() -> None:
    def doc(on_failure: list[Any], unknown: Any = None) -> dict[str, Any]:
        stage = {"name": "Build", "action": [{"name": "B", "category": "Build"}],
                 "on_failure": on_failure}
        resource = {"address": "aws_codepipeline.p", "mode": "managed",
                    "type": "aws_codepipeline", "name": "p",
                    "values": {"name": "p", "pipeline_type": "V2", "stage": [
                        {"name": "Source", "action": [{"name": "A", "category": "Source"}]},
                        stage]}}
        out: dict[str, Any] = {"format_version": "1.2", "planned_values": {
            "root_module": {"resources": [resource]}}}
        if unknown is not None:
            out["resource_changes"] = [{"address": "aws_codepipeline.p", "change": {
                "after_unknown": unknown}}]
        return out

    block = {"result": "RETRY", "retry_configuration": [{"retry_mode": "FAILED_ACTIONS"}],
             "condition": []}
    (source,) = plan_sources(doc([block]))
    assert [s.automatic_retry for s in source.pipeline.stages] == [None, "FAILED_ACTIONS"]
    (source,) = plan_sources(doc([]))
    assert [s.automatic_retry for s in source.pipeline.stages] == [None, None]
    with pytest.raises(InputError) as caught:
        plan_sources(doc([{**block, "condition": [{"result": "ROLLBACK"}]}]))
    assert caught.value.place == "aws_codepipeline.p.stage[1].on_failure.condition"


def test_tf_error_numbers_count_the_blocks_written(tmp_path: Path) -> None:
    """A stage left out (only dynamic actions) does not shift the numbers of the stages after
    it, in errors nor in notes."""
    dynamic = ('  stage {\n    name = "Fan"\n    dynamic "action" {\n      for_each = var.x\n'
               '      content {\n        name = action.key\n      }\n    }\n  }\n')
    bad = stage_tf('"Late"', action_tf('"A"'), action_tf('"A"'))
    path = write(tmp_path, pipeline_tf(TWO_STAGES + dynamic + bad))
    expect_error(lambda: sources_in_tf(path),
                 f'{path}: aws_codepipeline.p.stage[3].action[1].name: expected an action name '
                 'unique in stage "Late", "A" is already action[0]')


def test_tf_too_few_stages_says_why(tmp_path: Path) -> None:
    dynamic = '  dynamic "stage" {\n    for_each = var.stages\n    content {}\n  }\n'
    path = write(tmp_path, pipeline_tf(stage_tf('"Source"', action_tf('"A"', '"Source"'))
                                       + dynamic))
    expect_error(lambda: sources_in_tf(path),
                 f"{path}: aws_codepipeline.p.stage: expected at least 2 stages (CodePipeline "
                 'quotas, AWS CodePipeline User Guide, "Quotas in AWS CodePipeline"), got 1 (and '
                 '1 dynamic "stage" block, not expanded without evaluating Terraform)')


def test_tf_no_pipeline(tmp_path: Path) -> None:
    path = write(tmp_path, 'resource "aws_s3_bucket" "a" {\n  bucket = "a"\n}\n')
    expect_error(lambda: sources_in_tf(path),
                 f"{path}: expected at least one aws_codepipeline resource, found none")
    path = write(tmp_path, "")
    expect_error(lambda: sources_in_tf(path),
                 f"{path}: expected at least one aws_codepipeline resource, found none")


@pytest.mark.parametrize(("text", "place", "what"), [
    ('resource "aws_codepipeline" "p" {\n  name = "p"\n', "line 3, column 1",
     "unexpected end of file"),
    ('resource "aws_codepipeline" "p" {\n  name = "p" "q"\n}\n', "line 2, column 14",
     'unexpected "\\""'),
    ("a = \x00\n", "line 1, column 5", 'unexpected "\\u0000"'),
])
def test_tf_syntax_errors(tmp_path: Path, text: str, place: str, what: str) -> None:
    path = write(tmp_path, text)
    error = expect_error(lambda: sources_in_tf(path), str(InputError(
        str(path), place, f"expected valid Terraform (HCL): {what}")))
    assert error.place == place


def test_tf_hostile_input(tmp_path: Path) -> None:
    path = write(tmp_path, pipeline_tf(TWO_STAGES, "  x = " + "[" * 2000 + "]" * 2000 + "\n"))
    expect_error(lambda: sources_in_tf(path),
                 f"{path}: expected expressions nested less deeply (python-hcl2 reads them "
                 "recursively)")
    path = write(tmp_path, pipeline_tf(TWO_STAGES, "  pipeline_type = " + "9" * 5000 + "\n"))
    expect_error(lambda: sources_in_tf(path), f"{path}: line 3: expected an integer of at most "
                 "4,300 digits")
    path = write(tmp_path, pipeline_tf(TWO_STAGES, '  name = "q"\n'))
    expect_error(lambda: sources_in_tf(path),
                 f"{path}: aws_codepipeline.p.name: expected each argument once, it is set at "
                 "line 2 and again at line 3")
    path = write(tmp_path, pipeline_tf(TWO_STAGES) + pipeline_tf(TWO_STAGES))
    expect_error(lambda: sources_in_tf(path),
                 f"{path}: aws_codepipeline.p: expected each resource once, it is declared at "
                 "line 1 and again at line 24")
    path = write(tmp_path, pipeline_tf("  stage = []\n"))
    expect_error(lambda: sources_in_tf(path),
                 f"{path}: aws_codepipeline.p.stage: expected stage blocks (stage {{ ... }}), "
                 "got an argument (stage = ...)")
    expect_error(lambda: sources_in_tf(tmp_path / "missing.tf"),
                 f"{tmp_path / 'missing.tf'}: expected a readable file (No such file or "
                 "directory)")
    expect_error(lambda: sources_in_tf(tmp_path), f"{tmp_path}: expected a regular file, got "
                 "a directory")


# --- terraform show -json: a plan ---------------------------------------------------------------


@pytest.fixture(scope="module")
def plan() -> list[PipelineSource]:
    doc, text = load(PLAN)
    return sources_in_terraform_plan(doc, text, str(PLAN))


def test_looks_like_terraform_plan() -> None:
    assert looks_like_terraform_plan(load(PLAN)[0])
    assert looks_like_terraform_plan(load(STATE)[0])
    assert looks_like_terraform_plan({"format_version": "1.0", "terraform_version": "1.9.5"})
    assert not looks_like_terraform_plan({"format_version": "1.0"})
    assert not looks_like_terraform_plan({"format_version": "1.0", "provider_schemas": {}})
    assert not looks_like_terraform_plan({"pipeline": {"name": "p", "stages": []}})
    assert not looks_like_terraform_plan({"Resources": {}})
    assert not looks_like_terraform_plan([{"format_version": "1.0", "values": {}}])


def test_plan_resources_of_every_module(plan: list[PipelineSource]) -> None:
    assert [s.where for s in plan] == ["aws_codepipeline.web",
                                       "module.cicd.aws_codepipeline.main"]
    assert all(s.file == str(PLAN) and s.disabled == () for s in plan)


def test_plan_root_pipeline(plan: list[PipelineSource]) -> None:
    web = plan[0]
    assert (web.pipeline.name, web.pipeline.execution_mode, web.pipeline.pipeline_type) == \
        ("web-frontend", "SUPERSEDED", "V2")
    assert shape(web) == [("Source", [("Source", "Source", "CodeStarSourceConnection", 1)]),
                          ("Build", [("Build", "Build", "CodeBuild", 1)]),
                          ("Publish", [("Publish", "Deploy", "S3", 1)])]
    # known only after apply: kept as text, each its own (never taken for the same target)
    assert config(web, 0, 0) == {
        "BranchName": "main", "FullRepositoryId": "acme/web-frontend",
        "ConnectionArn": "(known after apply: stage[0].action[0].ConnectionArn)"}
    assert config(web, 2, 0) == {"BucketName": "(known after apply: stage[2].action[0].BucketName)",
                                 "Extract": "true"}
    assert notes(web) == {"aws_codepipeline.web.stage[2].action[0].configuration.BucketName": (
        "is known only after apply: read as the text (known after apply: "
        "stage[2].action[0].BucketName)", 94)}
    assert line_of(PLAN, 94) == '"configuration": {'
    assert web.stagelock == {} and web.stagelock_place == ""


def test_plan_module_pipeline(plan: list[PipelineSource]) -> None:
    orders = plan[1]
    assert (orders.pipeline.name, orders.pipeline.execution_mode) == ("orders-release", "QUEUED")
    assert shape(orders) == [
        ("Source", [("GitHub", "Source", "GitHub", 1)]),
        ("Build", [("Package", "Build", "CodeBuild", 1)]),  # run_order unknown: the default
        ("Approve", [("Approve", "Approval", "Manual", 1)]),
        ("Production", [("CreateChangeSet", "Deploy", "CloudFormation", 1),
                        ("ExecuteChangeSet", "Deploy", "CloudFormation", 2)]),
    ]
    assert config(orders, 0, 0)["OAuthToken"] == SENSITIVE  # marked sensitive: not copied
    assert "example-token-not-real" not in repr(orders.pipeline)
    assert config(orders, 3, 0)["ActionMode"] == "CHANGE_SET_REPLACE"
    assert notes(orders) == {"module.cicd.aws_codepipeline.main": (
        "has run_order known only after apply for 1 action (stage[1].action[0]): read as 1, "
        "CodePipeline's default for an action that sets none", None)}
    assert orders.stagelock == {"ignore": ["SL401"]}
    assert orders.stagelock_place == "module.cicd.aws_codepipeline.main.tags"


def test_plan_locate(plan: list[PipelineSource]) -> None:
    """The line of the "name" key of each stage and action, in planned_values."""
    for source in plan:
        for i, stage in enumerate(source.pipeline.stages):
            assert line_of(PLAN, source.locate(i, None)) == f'"name": "{stage.name}",'
            for j, action in enumerate(stage.actions):
                assert line_of(PLAN, source.locate(i, j)) == f'"name": "{action.name}",'
        assert source.locate(len(source.pipeline.stages), None) is None
    assert plan[0].locate(0, None) == 57
    assert plan[0].locate(0, 0) == 42
    text = PLAN.read_text()
    changes = text[:text.index('"resource_changes"')].count("\n") + 1
    assert all((s.locate(0, None) or changes) < changes for s in plan)  # not resource_changes


def test_plan_compact_json_is_one_line() -> None:
    """`terraform show -json` itself prints one line: every line is 1."""
    doc, _ = load(PLAN)
    web = plan_sources(doc, json.dumps(doc))[0]
    assert {web.locate(i, j) for i in range(3) for j in (None, 0)} == {1}


def test_plan_after_where_planned_values_are_absent() -> None:
    """Without planned_values, a plan's resources are read from resource_changes[].change.after,
    and their lines are there."""
    doc, text = load(PLAN)
    doc = {k: v for k, v in doc.items() if k != "planned_values"}
    with_text = sources_in_terraform_plan(doc, text, "plan.json")
    assert [s.where for s in with_text] == ["aws_codepipeline.web",
                                            "module.cicd.aws_codepipeline.main"]
    assert config(with_text[0], 0, 0)["ConnectionArn"] == \
        "(known after apply: stage[0].action[0].ConnectionArn)"
    assert shape(with_text[1])[1] == ("Build", [("Package", "Build", "CodeBuild", 1)])
    assert config(with_text[1], 0, 0)["OAuthToken"] == SENSITIVE  # after_sensitive
    start = text.index('"resource_changes"')
    line = with_text[0].locate(0, None)
    assert line is not None and line > text[:start].count("\n")
    assert line_of(PLAN, line) == '"name": "Source",'
    # planned values that lack a resource (deleted resources have no after: left out)
    doc, text = load(PLAN)
    doc["planned_values"]["root_module"]["child_modules"] = []
    doc["resource_changes"][0]["change"]["after"] = None
    assert [s.where for s in plan_sources(doc, text)] == ["aws_codepipeline.web",
                                                          "module.cicd.aws_codepipeline.main"]


def small_plan(values: dict[str, Any], unknown: dict[str, Any]) -> dict[str, Any]:
    address = "aws_codepipeline.p"
    return {"format_version": "1.2", "terraform_version": "1.9.5",
            "planned_values": {"root_module": {"resources": [
                {"address": address, "mode": "managed", "type": "aws_codepipeline", "name": "p",
                 "provider_name": "registry.terraform.io/hashicorp/aws", "schema_version": 0,
                 "values": values, "sensitive_values": {}}]}},
            "resource_changes": [{"address": address, "mode": "managed",
                                  "type": "aws_codepipeline", "name": "p",
                                  "change": {"actions": ["create"], "before": None,
                                             "after": values, "after_unknown": unknown}}]}


def plan_stage(name: str | None, category: str = "Build") -> dict[str, Any]:
    stage: dict[str, Any] = {"action": [{"category": category, "name": "A", "owner": "AWS",
                                         "provider": "CodeBuild", "run_order": 1,
                                         "version": "1"}]}
    if name is not None:
        stage["name"] = name
    return stage


def test_plan_names_known_after_apply() -> None:
    values = {"stage": [plan_stage("Source", "Source"), plan_stage(None), plan_stage(None)]}
    unknown = {"name": True, "stage": [{}, {"name": True}, {"name": True}]}
    (source,) = plan_sources(small_plan(values, unknown))
    assert source.pipeline.name == "aws_codepipeline.p"
    assert [s.name for s in source.pipeline.stages] == ["Source", "known_after_apply",
                                                        "known_after_apply-2"]
    assert notes(source) == {
        "aws_codepipeline.p.name": ("is known only after apply: read as aws_codepipeline.p, "
                                    "the resource's address", 1),
        "aws_codepipeline.p.stage[1].name": ("is known only after apply: read as the name "
                                             "known_after_apply", 1),
        "aws_codepipeline.p.stage[2].name": ("is known only after apply: read as the name "
                                             "known_after_apply-2", 1),
    }
    assert KNOWN_AFTER_APPLY == "(known after apply)"


def test_plan_configuration_known_after_apply() -> None:
    values = {"name": "p", "stage": [plan_stage("Source", "Source"), plan_stage("Deploy")]}
    unknown = {"stage": [{}, {"action": [{"configuration": True}]}]}
    (source,) = plan_sources(small_plan(values, unknown))
    assert config(source, 1, 0) == {}
    assert list(notes(source)) == ["aws_codepipeline.p.stage[1].action[0].configuration"]


def test_plan_errors() -> None:
    values = {"name": "p", "stage": [plan_stage("Source", "Source"),
                                     {**plan_stage("Build"), "name": "Source"}]}
    expect_error(lambda: plan_sources(small_plan(values, {})),
                 'plan.json: aws_codepipeline.p.stage[1].name: expected a unique stage name, '
                 '"Source" is already stage[0]')
    values = {"name": "p", "stage": [plan_stage("Source", "Source"), plan_stage("B", "Deplo")]}
    expect_error(lambda: plan_sources(small_plan(values, {})),
                 "plan.json: aws_codepipeline.p.stage[1].action[0].category: expected one of "
                 'Source, Build, Deploy, Test, Invoke, Approval, Compute, got "Deplo"')
    values = {"name": "p"}
    expect_error(lambda: plan_sources(small_plan(values, {"stage": True})),
                 'plan.json: aws_codepipeline.p.stage: expected stages known before apply, '
                 'they are known only after apply (a dynamic "stage" block over values not yet '
                 "known?): the pipeline cannot be checked from this plan")
    doc = small_plan({"name": "p"}, {})
    doc["planned_values"]["root_module"]["resources"][0]["values"] = None
    expect_error(lambda: plan_sources(doc),
                 "plan.json: planned_values.root_module.resources[0].values: expected an "
                 "object of the resource's values")


def test_plan_with_no_pipeline() -> None:
    doc, text = load(PLAN)
    for change in doc["resource_changes"]:
        change["type"] = "aws_s3_bucket"
    for module in (doc["planned_values"]["root_module"],
                   *doc["planned_values"]["root_module"]["child_modules"]):
        for resource in module["resources"]:
            resource["type"] = "aws_s3_bucket"
    expect_error(lambda: plan_sources(doc, text),
                 "plan.json: expected at least one aws_codepipeline resource, found none")
    expect_error(lambda: plan_sources({"format_version": "1.2", "terraform_version": "1.9.5"}),
                 "plan.json: expected at least one aws_codepipeline resource, found none")


# --- terraform show -json: a state ---------------------------------------------------------------


def test_state() -> None:
    doc, text = load(STATE)
    (web,) = sources_in_terraform_plan(doc, text, str(STATE))
    assert web.where == "aws_codepipeline.web"
    assert [s.name for s in web.pipeline.stages] == ["Source", "Build", "Publish"]
    assert config(web, 0, 0)["ConnectionArn"].startswith("arn:aws:codestar-connections:")
    assert config(web, 2, 0)["BucketName"] == "acme-web-site-20261120094112"
    assert web.notes == []
    # tags has no stagelock:ignore; tags_all (with the provider's default_tags) has
    assert web.stagelock == {"ignore": ["SL301"]}
    assert web.stagelock_place == "aws_codepipeline.web.tags_all"
    assert line_of(STATE, web.locate(2, 0)) == '"name": "Publish",'


def test_plan_documents_are_not_changed(plan: list[PipelineSource]) -> None:
    doc, text = load(PLAN)
    before = copy.deepcopy(doc)
    sources_in_terraform_plan(doc, text, "plan.json")
    assert doc == before


# --- fields the model does not account for ------------------------------------------------------


GATED = DATA / "gated.tf"


def test_tf_field_warnings_name_terraform_places_and_lines() -> None:
    (source,) = sources_in_tf(GATED)
    where = "aws_codepipeline.orders"
    found = [(w.place, w.message, line_of(GATED, w.line)) for w in source.warnings]
    assert found == [
        (f"{where}.stage[2].on_sucess",
         "not an argument or block of a stage, ignored; did you mean on_success?",
         "on_sucess {"),
        (f"{where}.stage[2].on_failure.condition",
         "stage failure conditions are not modelled: verdicts do not account for them (result "
         "ROLLBACK rolls back on every failure of the stage)",
         "condition {"),
        (f"{where}.stage[2].action[0].run_ordr",
         "not an argument or block of an action, ignored; did you mean run_order?",
         "run_ordr        = 1"),
    ]
    assert [w.field for w in source.warnings] == ["on_sucess", "condition", "run_ordr"]


def test_tf_stage_conditions_are_read() -> None:
    """The deployment window before Staging is an entry condition with result FAIL; the dynamic
    on_success block of Production is not expanded, and a note says the stage is read without
    it."""
    (source,) = sources_in_tf(GATED)
    stages = source.pipeline.stages
    assert [(st.name, st.before_entry, st.on_success) for st in stages] == [
        ("Source", None, None), ("Test", None, None), ("Staging", "FAIL", None),
        ("Production", None, None)]
    (dynamic,) = [n for n in source.notes if "on_success" in n.place]
    assert dynamic.place == "aws_codepipeline.orders.stage[3].dynamic.on_success[0]"
    assert "read with no such condition" in dynamic.text


def test_tf_stage_condition_results_follow_terraform(tmp_path: Path) -> None:
    path = write(tmp_path, """
variable "gate" {
  type    = string
  default = "SKIP"
}

resource "aws_codepipeline" "p" {
  name          = "p"
  pipeline_type = "V2"
  stage {
    name = "Source"
    action {
      name     = "Checkout"
      category = "Source"
    }
  }
  stage {
    name = "Deploy"
    before_entry {
      condition {
        result = var.gate
        rule {
          name = "Wanted"
        }
      }
    }
    on_success {
      condition {
        result = "SKIP"
      }
    }
    action {
      name     = "Release"
      category = "Deploy"
    }
  }
}
""")
    (source,) = sources_in_tf(path)
    deploy = source.pipeline.stages[1]
    assert (deploy.before_entry, deploy.on_success) == ("SKIP", None)
    assert [w.place for w in source.warnings] == [
        "aws_codepipeline.p.stage[1].on_success.condition[0].result"]
    assert "success condition result SKIP is not modelled (expected FAIL or ROLLBACK)" in \
        source.warnings[0].message


def test_tf_arguments_without_effect_are_silent(release: PipelineSource, tmp_path: Path) -> None:
    # role_arn, artifact_store, tags, trigger, variable, namespace, timeout_in_minutes, an
    # automatic retry: read or without effect on executions
    assert release.warnings == ()
    (source,) = sources_in_tf(GATED)
    assert not any(w.place.startswith("aws_codepipeline.orders.stage[1]") or
                   w.place.count(".") == 2 for w in source.warnings)
    path = write(tmp_path, """
resource "aws_codepipeline" "p" {
  name     = "p"
  count    = 1
  provider = aws.west
  lifecycle {
    ignore_changes = [tags]
  }
  depends_on = [aws_iam_role.p]
  rolearn    = "r"
  stage {
    name = "S"
    action {
      name = "A"
      category = "Source"
      role_arn = null
    }
  }
  stage {
    name = "B"
    action {
      name = "B"
      category = "Build"
      Run_Order = 2
    }
  }
}
""")
    (source,) = sources_in_tf(path)
    assert [(w.place, w.message, w.line) for w in source.warnings] == [
        ("aws_codepipeline.p.rolearn", "not an argument or block of the aws_codepipeline "
         "resource, ignored; did you mean role_arn?", 10),
        ("aws_codepipeline.p.stage[1].action[0].Run_Order", "not an argument or block of an "
         "action, ignored; did you mean run_order?", 24),
    ]


def test_plan_field_warnings_with_lines() -> None:
    action: dict[str, Any] = {
        "name": "A", "category": "Build", "owner": "AWS", "provider": "CodeBuild",
        "version": "1", "configuration": {"ProjectName": "p"}, "input_artifacts": [],
        "output_artifacts": [], "namespace": None, "region": None, "role_arn": None,
        "run_order": 1, "timeout_in_minutes": None}
    source = {"name": "Source", "action": [{**action, "category": "Source"}],
              "before_entry": [], "on_success": [], "on_failure": []}
    gated = {"name": "Build", "action": [{**action, "role_arn": "r", "retries": 2}],
             "before_entry": [{"condition": [{"result": "ROLLBACK", "rule": []}]}],
             "on_success": [], "on_failure": [{"result": "SKIP", "condition": [],
                                               "retry_configuration": []}]}
    values = {"name": "p", "arn": "arn", "id": "p", "pipeline_type": "V2",
              "execution_mode": "QUEUED", "role_arn": "r", "tags": {}, "tags_all": {},
              "trigger": [], "trigger_all": [], "variable": [], "region": "eu-west-1",
              "artifact_store": [{"location": "b", "type": "S3", "encryption_key": [],
                                  "region": ""}],
              "stage": [source, gated]}
    doc = {"format_version": "1.2", "terraform_version": "1.9.0", "planned_values": {
        "root_module": {"resources": [{"address": "aws_codepipeline.p", "mode": "managed",
                                       "type": "aws_codepipeline", "name": "p",
                                       "values": values}]}}}
    text = json.dumps(doc, indent=2)
    (plan,) = plan_sources(doc, text)
    lines = text.splitlines()
    assert [(w.place, w.message, lines[w.line - 1].strip() if w.line else None)
            for w in plan.warnings] == [
        ("aws_codepipeline.p.stage[1].before_entry.condition[0].result",
         "stage entry condition result ROLLBACK is not modelled (expected FAIL or SKIP): "
         "verdicts ignore this condition",
         '"result": "ROLLBACK",'),
        ("aws_codepipeline.p.stage[1].on_failure.result",
         "stage failure result SKIP is not modelled: verdicts treat the failure as FAIL",
         '"result": "SKIP",'),
        ("aws_codepipeline.p.stage[1].action[0].retries",
         "not an argument or block of an action, ignored",
         '"retries": 2'),
    ]


def test_tf_dynamic_on_failure_is_noted_and_its_fields_warned_about(tmp_path: Path) -> None:
    path = write(tmp_path, """
resource "aws_codepipeline" "p" {
  name = "p"
  stage {
    name = "S"
    action {
      name     = "A"
      category = "Source"
    }
  }
  stage {
    name = "B"
    action {
      name     = "B"
      category = "Build"
    }
    dynamic "on_failure" {
      for_each = var.rollback ? [1] : []
      content {
        result = "SKIP"
      }
    }
  }
}
""")
    (source,) = sources_in_tf(path)
    assert source.pipeline.stages[1].automatic_retry is None
    assert not source.pipeline.stages[1].automatic_rollback
    assert notes(source)["aws_codepipeline.p.stage[1].dynamic.on_failure[0]"] == (
        'is a dynamic "on_failure" block (for_each = var.rollback ? [1] : []): it is not '
        "expanded without evaluating Terraform, so the stage is read with no on_failure (no "
        "automatic retry or rollback)", 17)
    assert [(w.place, w.line) for w in source.warnings] == [
        ("aws_codepipeline.p.stage[1].on_failure.result", 20)]
