"""Bad input to `stagelock simulate` and `stagelock check`: one line on stderr, exit status 2.

Each test feeds one kind of malformed scenario, model file or command line and asserts the exact
message (`stagelock: FILE: PLACE: expected ...`), the exit status and that nothing else is
printed: no traceback, no partial output.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from checker.cli import main
from spec.operations import API_ERRORS
from spec.variants import VARIANTS

ROOT = Path(__file__).resolve().parent.parent

PIPELINE = """\
pipeline:
  name: release
  stages:
    - name: Source
      actions: [{name: Checkout, actionTypeId: {category: Source, provider: CodeCommit}}]
    - name: Build
      actions:
        - {name: Compile, actionTypeId: {category: Build, provider: CodeBuild}, runOrder: 1}
        - {name: Approve, actionTypeId: {category: Approval, provider: Manual}, runOrder: 2}
    - name: Deploy
      actions: [{name: Compile, actionTypeId: {category: Build, provider: CodeBuild}}]
"""
"""Three stages; `Compile` is an action of both Build and Deploy, `Approve` an approval."""

STAGES = "(Source, Build, Deploy)"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Run the command; return its exit status and its single line of stderr."""
    status = main(argv)
    out = capsys.readouterr()
    assert out.out == "", "nothing is printed on stdout for bad input"
    assert "Traceback" not in out.err
    assert out.err.endswith("\n") and out.err.count("\n") == 1, out.err
    return status, out.err.rstrip("\n")


def simulate(tmp_path: Path, text: str,
             capsys: pytest.CaptureFixture[str]) -> tuple[int, str, Path]:
    path = tmp_path / "scenario.yaml"
    path.write_text(text, encoding="utf-8")
    status, err = run(["simulate", str(path)], capsys)
    return status, err, path


def assert_simulate(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str,
                    place_and_expected: str) -> None:
    status, err, path = simulate(tmp_path, text, capsys)
    assert status == 2
    assert err == f"stagelock: {path}: {place_and_expected}"


def with_steps(steps: str, extra: str = "") -> str:
    return PIPELINE + extra + "steps:\n" + steps


# --------------------------------------------------------------------------------------------
# Scenario files: the document


def test_unknown_top_level_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert_simulate(tmp_path, capsys, with_steps("  - start: e1\n", extra="stage: Build\n"),
                    "stage: expected one of the keys description, pipeline, mode, variants, "
                    "rules, properties, steps")


def test_missing_pipeline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert_simulate(tmp_path, capsys, "steps:\n  - start: e1\n",
                    "pipeline: expected a pipeline declaration or a file path")


def test_steps_empty(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert_simulate(tmp_path, capsys, PIPELINE + "steps: []\n",
                    "steps: expected a non-empty list of steps")


def test_malformed_yaml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert_simulate(tmp_path, capsys, PIPELINE + "steps: [{start: e1}\n",
                    "line 13, column 1: expected valid YAML: expected ',' or ']', but got "
                    "'<stream end>'")


def test_pipeline_path_to_a_missing_file(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    status, err, _ = simulate(tmp_path, "pipeline: release.json\nsteps:\n  - start: e1\n", capsys)
    assert status == 2
    assert err == (f"stagelock: {tmp_path / 'scenario.yaml'}: pipeline: expected a declaration "
                   f"file, {str(tmp_path / 'release.json')!r} does not exist")


def test_invalid_inline_declaration(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = PIPELINE.replace("runOrder: 2", "runOrder: 0") + "steps:\n  - start: e1\n"
    assert_simulate(tmp_path, capsys, text,
                    "pipeline.stages[1].actions[1].runOrder: expected an integer from 1 to 999, "
                    "got 0")


def test_queued_mode_needs_a_v2_pipeline(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """"QUEUED mode: ... This requires pipeline type V2." """
    text = PIPELINE.replace("  name: release\n", "  name: release\n  executionMode: QUEUED\n")
    assert_simulate(tmp_path, capsys, text + "steps:\n  - start: e1\n",
                    "pipeline.executionMode: expected pipelineType V2 for executionMode QUEUED "
                    "(pipelineType defaults to V1)")


def test_parallel_mode_needs_a_v2_pipeline(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """"PARALLEL mode: ... This requires pipeline type V2." """
    text = PIPELINE.replace(
        "  name: release\n", "  name: release\n  pipelineType: V1\n  executionMode: PARALLEL\n")
    assert_simulate(tmp_path, capsys, text + "steps:\n  - start: e1\n",
                    "pipeline.executionMode: expected pipelineType V2 for executionMode PARALLEL "
                    "(pipelineType is V1)")


RETRYING = PIPELINE.replace("    - name: Deploy\n", "    - name: Deploy\n"
                            "      onFailure:\n        result: RETRY\n"
                            "        retryConfiguration: {retryMode: ALL_ACTIONS}\n")


def test_automatic_retry_with_onfailure_conditions_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """"You cannot use automatic stage retry with onFailure conditions." [UG:stage-conditions]"""
    text = RETRYING.replace("  name: release\n", "  name: release\n  pipelineType: V2\n")
    text = text.replace("{retryMode: ALL_ACTIONS}\n", "{retryMode: ALL_ACTIONS}\n"
                        "        conditions: [{result: ROLLBACK, rules: []}]\n")
    assert_simulate(tmp_path, capsys, text + "steps:\n  - start: e1\n",
                    "pipeline.stages[2].onFailure.conditions: expected no conditions with result "
                    'RETRY: "You cannot use automatic stage retry with onFailure conditions." (AWS '
                    'CodePipeline User Guide, "Configure conditions for a stage"), got a list')


def test_automatic_retry_needs_a_v2_pipeline(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """"Configure a stage for automatic retry on failure": V1 type "Not supported"
    [UG:pipeline-types-planning]."""
    assert_simulate(tmp_path, capsys, RETRYING + "steps:\n  - start: e1\n",
                    "pipeline.stages[2].onFailure: expected pipelineType V2 for result RETRY "
                    "(pipelineType defaults to V1)")


def test_automatic_retry_needs_a_retry_mode(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    text = RETRYING.replace("  name: release\n", "  name: release\n  pipelineType: V2\n")
    text = text.replace("{retryMode: ALL_ACTIONS}", "{retryMode: EVERYTHING}")
    assert_simulate(tmp_path, capsys, text + "steps:\n  - start: e1\n",
                    "pipeline.stages[2].onFailure.retryConfiguration.retryMode: expected one of "
                    "FAILED_ACTIONS, ALL_ACTIONS for result RETRY, got \"EVERYTHING\"")


def test_unknown_variant(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert_simulate(tmp_path, capsys,
                    with_steps("  - start: e1\n", extra="variants: [queued-overtake]\n"),
                    f"variants[0]: expected a variant name ({', '.join(VARIANTS)}), "
                    "got 'queued-overtake'")


# --------------------------------------------------------------------------------------------
# Scenario files: steps


def test_unknown_step_kind(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert_simulate(tmp_path, capsys, with_steps("  - start: e1\n  - launch: e2\n"),
                    "steps[1].launch: expected one of start, succeed, fail, approve, reject, "
                    "timeout, stop, abandoned, abandoned-work-finishes, retry, "
                    "condition-succeeds, condition-fails, override, disable, enable, update, "
                    "rollback, expect, error, note, starts")


def test_two_step_kinds_in_one_step(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert_simulate(tmp_path, capsys, with_steps("  - {start: e1, stop: {execution: e1}}\n"),
                    "steps[0]: expected exactly one of start, succeed, fail, approve, reject, "
                    "timeout, stop, abandoned, abandoned-work-finishes, retry, "
                    "condition-succeeds, condition-fails, override, disable, enable, update, "
                    "rollback, expect, got 2")


def test_execution_not_started_yet(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert_simulate(tmp_path, capsys,
                    with_steps("  - start: e1\n  - stop: {execution: e2}\n  - start: e2\n"),
                    "steps[1].stop.execution: expected an execution started by an earlier step "
                    "(e1), got 'e2'")


def test_duplicate_start_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert_simulate(tmp_path, capsys, with_steps("  - start: e1\n  - start: e1\n"),
                    "steps[1].start: expected a new execution name, 'e1' is already used")


PIN = "revisionType: COMMIT_ID, revisionValue"


@pytest.mark.parametrize(("steps", "message"), [
    (f"  - start: {{sourceRevisions: [{{actionName: Checkout, {PIN}: e1}}]}}\n",
     "steps[0].start: expected a name for the new execution, like start: {name: e3, "
     "sourceRevisions: [...]}"),
    (f"  - start: e1\n  - start: {{name: e2, sourceRevisions: [{{actionName: Checkout, "
     f"{PIN}: abc123}}]}}\n",
     "steps[1].start.sourceRevisions[0].revisionValue: expected the name of an execution "
     "started by an earlier step, whose revision the source takes (e1), got 'abc123'"),
    (f"  - start: {{name: e1, sourceRevisions: [{{actionName: Checkout, {PIN}: e1}}]}}\n",
     "steps[0].start.sourceRevisions[0].revisionValue: expected the name of an execution "
     "started by an earlier step, whose revision the source takes (none yet), got 'e1'"),
    ("  - start: e1\n  - start: {name: e2, sourceRevisions: [{actionName: Checkout, "
     "revisionType: TAG, revisionValue: e1}]}\n",
     "steps[1].start.sourceRevisions[0].revisionType: expected one of COMMIT_ID, "
     "IMAGE_DIGEST, S3_OBJECT_VERSION_ID, S3_OBJECT_KEY, got 'TAG'"),
    (f"  - start: e1\n  - start: {{name: e2, sourceRevisions: [{{actionName: Build, "
     f"{PIN}: e1}}]}}\n",
     "steps[1].start.sourceRevisions[0].actionName: expected a source action of the first "
     "stage (Checkout), each once, got 'Build'"),
    ("  - start: e1\n  - start: {name: e2, sourceRevisions: []}\n",
     "steps[1].start.sourceRevisions: expected a list of source revisions, like "
     "[{actionName: Checkout, revisionType: COMMIT_ID, revisionValue: e1}]"),
    ("  - start: e1\n  - start: {name: e2, revision: e1}\n",
     "steps[1].start.revision: expected only name and sourceRevisions in a start, like "
     "start: {name: e3, sourceRevisions: [...]}"),
])
def test_a_start_with_bad_source_revisions(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           steps: str, message: str) -> None:
    assert_simulate(tmp_path, capsys, with_steps(steps), message)


@pytest.mark.parametrize(("steps", "message"), [
    ("  - start: e1\n  - rollback: {stage: Deploy, target: e1}\n",
     "steps[1].starts: expected the name of the rollback execution the step starts, like "
     "starts: r1"),
    ("  - start: e1\n  - rollback: {stage: Deploy}\n    starts: r1\n",
     "steps[1].rollback.target: expected the name of the execution to roll back to "
     "(targetPipelineExecutionId)"),
    ("  - start: e1\n  - rollback: {stage: Deploy, target: e9}\n    starts: r1\n",
     "steps[1].rollback.target: expected an execution started by an earlier step (e1), got "
     "'e9'"),
    ("  - start: e1\n  - rollback: {stage: Deploy, target: e1}\n    starts: e1\n",
     "steps[1].starts: expected a new execution name, 'e1' is already used"),
    ("  - start: e1\n    starts: r1\n",
     "steps[0].starts: expected no starts on a start step: only a rollback step, or a failure "
     "in a stage that rolls back by itself, starts a rollback execution"),
    ("  - start: e1\n  - rollback: {stage: Deploy, target: e1}\n    starts: r1\n"
     "    error: UnableToRollbackStageException\n",
     "steps[1].starts: expected no starts on a step that is expected to be refused: a refused "
     "step starts nothing"),
], ids=["no-starts", "no-target", "unknown-target", "name-taken", "on-a-start", "refused"])
def test_a_rollback_step_names_its_new_execution(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str],
                                                  steps: str, message: str) -> None:
    assert_simulate(tmp_path, capsys, with_steps(steps), message)


def test_unknown_stage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert_simulate(tmp_path, capsys,
                    with_steps("  - start: e1\n  - retry: {execution: e1, stage: Test}\n"),
                    f"steps[1].retry.stage: expected a stage of the pipeline {STAGES}, "
                    "got 'Test'")


def test_unknown_action(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert_simulate(tmp_path, capsys,
                    with_steps("  - start: e1\n  - succeed: {execution: e1, action: Checkot}\n"),
                    "steps[1].succeed.action: expected an action of the pipeline, got 'Checkot'")


def test_ambiguous_action_without_stage(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert_simulate(tmp_path, capsys,
                    with_steps("  - start: e1\n  - fail: {execution: e1, action: Compile}\n"),
                    "steps[1].fail.action: expected stage: as well, 'Compile' is an action of "
                    "Build, Deploy")


def test_approve_on_an_action_that_is_not_an_approval(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert_simulate(tmp_path, capsys,
                    with_steps("  - start: e1\n  - approve: {execution: e1, action: Checkout}\n"),
                    "steps[1].approve.action: expected an approval action for approve, "
                    "'Checkout' is not one (use succeed or fail)")


def test_succeed_on_an_approval(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert_simulate(tmp_path, capsys,
                    with_steps("  - start: e1\n  - succeed: {execution: e1, action: Approve}\n"),
                    "steps[1].succeed.action: expected an action that is not an approval for "
                    "succeed, 'Approve' is one (use approve, reject or timeout)")


def test_unknown_error_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    steps = "  - start: e1\n  - stop: {execution: e1}\n    error: StageLockedException\n"
    assert_simulate(tmp_path, capsys, with_steps(steps),
                    f"steps[1].error: expected an exception name ({', '.join(API_ERRORS)}), "
                    "got 'StageLockedException'")


def test_error_on_an_expect_step(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    steps = ("  - start: e1\n  - expect: {executions: {e1: InProgress}}\n"
             "    error: StageNotRetryableException\n")
    assert_simulate(tmp_path, capsys, with_steps(steps),
                    "steps[1].error: expected no error on an expect step")


def test_bad_retry_mode(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    steps = "  - start: e1\n  - retry: {execution: e1, stage: Source, mode: FAILED}\n"
    assert_simulate(tmp_path, capsys, with_steps(steps),
                    "steps[1].retry.mode: expected FAILED_ACTIONS or ALL_ACTIONS, got 'FAILED'")


def test_bad_expect_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    steps = "  - start: e1\n  - expect: {executions: {e1: Running}}\n"
    assert_simulate(tmp_path, capsys, with_steps(steps),
                    "steps[1].expect.executions.e1: expected a pipeline execution status "
                    "(InProgress, Stopping, Stopped, Succeeded, Superseded, Failed, Cancelled), "
                    "got 'Running'")


def test_expect_names_an_unknown_stage(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    steps = "  - start: e1\n  - expect: {stages: {Test: {inbound: []}}}\n"
    assert_simulate(tmp_path, capsys, with_steps(steps),
                    f"steps[1].expect.stages.Test: expected a stage of the pipeline {STAGES}, "
                    "got 'Test'")


# --------------------------------------------------------------------------------------------
# `stagelock check`: command line and model files


def test_check_executions_zero(capsys: pytest.CaptureFixture[str]) -> None:
    status, err = run(["check", "--executions", "0"], capsys)
    assert status == 2
    assert err == "stagelock: command line: --executions: expected an integer from 1 to 50, got 0"


def test_check_unknown_property(capsys: pytest.CaptureFixture[str]) -> None:
    status, err = run(["check", "--property", "nope"], capsys)
    assert status == 2
    assert err == ("stagelock: command line: --property #1: expected a property name "
                   "(see `stagelock properties`), got 'nope'")


def test_check_unknown_variant(capsys: pytest.CaptureFixture[str]) -> None:
    status, err = run(["check", "--variant", "nope"], capsys)
    assert status == 2
    assert err == (f"stagelock: command line: --variant #1: expected a variant name "
                   f"({', '.join(VARIANTS)}), got 'nope'")


def check_model(tmp_path: Path, text: str,
                capsys: pytest.CaptureFixture[str]) -> tuple[int, str, Path]:
    path = tmp_path / "model.toml"
    path.write_text(text, encoding="utf-8")
    status, err = run(["check", str(path)], capsys)
    return status, err, path


def test_model_file_unknown_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, err, path = check_model(tmp_path, "mode = \"QUEUED\"\n", capsys)
    assert status == 2
    assert err == (f"stagelock: {path}: mode: expected one of the keys pipeline, modes, "
                   "properties, variants, rules, resource, engine, bounds, property, fail-on, "
                   "update_to")


def test_model_file_update_to_needs_updates(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "p.yaml").write_text(PIPELINE, encoding="utf-8")
    status, err, path = check_model(
        tmp_path, 'pipeline = "p.yaml"\nupdate_to = ["p.yaml"]\n', capsys)
    assert status == 2
    assert err == (f"stagelock: {path}: update_to: expected updates 1 or more with update_to: "
                   "a declaration is installed only by an UpdatePipeline")


def test_model_file_update_to_that_is_not_a_list(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    status, err, path = check_model(tmp_path, 'update_to = "v2.yaml"\n', capsys)
    assert status == 2
    assert err == f"stagelock: {path}: update_to: expected a list of paths to declaration files"


def test_model_file_bound_as_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, err, path = check_model(tmp_path, "[bounds]\nexecutions = \"3\"\n", capsys)
    assert status == 2
    assert err == f"stagelock: {path}: bounds.executions: expected an integer from 1 to 50, got '3'"


def test_model_file_malformed_toml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, err, path = check_model(tmp_path, "[bounds\nexecutions = 3\n", capsys)
    assert status == 2
    assert err == (f"stagelock: {path}: expected valid TOML: Expected ']' at the end of a table "
                   "declaration (at line 1, column 8)")


# --------------------------------------------------------------------------------------------
# A real process


def test_real_process_prints_one_line_and_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text(with_steps("  - start: e1\n  - start: e1\n"), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "checker.cli", "simulate", str(path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (f"stagelock: {path}: steps[1].start: expected a new execution name, "
                           "'e1' is already used\n")


def test_update_step_with_an_unknown_key(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert_simulate(tmp_path, capsys,
                    with_steps("  - start: e1\n  - update: {stages: []}\n"),
                    "steps[1].update.stages: expected only executionMode and pipeline (the "
                    "declaration the update installs, or a file path)")


def test_update_step_with_an_invalid_declaration(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """An inline declaration's places are the scenario's, under the update step."""
    assert_simulate(tmp_path, capsys, with_steps(
        "  - start: e1\n  - update:\n      pipeline:\n        name: release\n"
        "        stages:\n          - {name: Source, actions: []}\n"),
        "steps[1].update.pipeline.stages[0].actions: expected a non-empty list of actions, "
        "got an empty list")


def test_update_step_with_a_missing_declaration_file(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    status, err, path = simulate(tmp_path, with_steps(
        "  - start: e1\n  - update: {pipeline: v2.yaml}\n"), capsys)
    assert status == 2
    assert err == (f"stagelock: {path}: steps[1].update.pipeline: expected a declaration "
                   f"file, {str(tmp_path / 'v2.yaml')!r} does not exist")


def test_update_step_that_reorders_stages(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert_simulate(tmp_path, capsys, with_steps(
        "  - update:\n      pipeline:\n        name: release\n        stages:\n"
        "          - name: Source\n            actions: [{name: Checkout, actionTypeId: "
        "{category: Source, provider: CodeCommit}}]\n"
        "          - name: Deploy\n            actions: [{name: Up, actionTypeId: "
        "{category: Deploy, provider: S3}}]\n"
        "          - name: Build\n            actions: [{name: Make, actionTypeId: "
        "{category: Build, provider: CodeBuild}}]\n"),
        "steps[0].update.pipeline: expected stages the model can number together with the "
        "earlier ones: stage Build comes after stage Deploy in the structure of update 1 but "
        "before it in an earlier one: the model numbers the stages of all structures "
        "together, in one order")


def test_deploy_targets_with_an_update_that_changes_the_structure(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert_simulate(tmp_path, capsys, with_steps(
        "  - update:\n      pipeline:\n        name: release\n        stages:\n"
        "          - name: Source\n            actions: [{name: Checkout, actionTypeId: "
        "{category: Source, provider: CodeCommit}}]\n"
        "          - name: Build\n            actions: [{name: Make, actionTypeId: "
        "{category: Build, provider: CodeBuild}}]\n"
        "  - expect: {deployed: {Checkout: null}}\n"),
        "steps[1].expect.deployed.Checkout: expected no step about deploy targets: a scenario "
        "whose updates change the stages or actions runs without the world of deploy targets")


def test_update_to_needs_updates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(PIPELINE, encoding="utf-8")
    status, err = run(["check", str(path), "--update-to", str(path)], capsys)
    assert status == 2
    assert err == ("stagelock: command line: --update-to: expected --updates 1 or more with "
                   "--update-to: a declaration is installed only by an UpdatePipeline")


def test_update_to_that_reorders_stages(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(PIPELINE, encoding="utf-8")
    other = tmp_path / "q.yaml"
    other.write_text(PIPELINE.replace("- name: Build", "- name: Later").replace(
        "- name: Deploy", "- name: Build").replace("- name: Later", "- name: Deploy"),
        encoding="utf-8")
    status, err = run(["check", str(path), "--updates", "1", "--update-to", str(other)], capsys)
    assert status == 2
    assert err.startswith("stagelock: command line: --update-to #1: expected stages the model "
                          "can number together with the pipeline's: stage Build comes after "
                          "stage Deploy")


def test_update_step_with_an_unknown_mode(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert_simulate(tmp_path, capsys,
                    with_steps("  - start: e1\n  - update: {executionMode: SERIAL}\n"),
                    "steps[1].update.executionMode: expected one of SUPERSEDED, QUEUED, PARALLEL, "
                    "got 'SERIAL'")


def test_update_step_that_is_not_a_mapping(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert_simulate(tmp_path, capsys, with_steps("  - start: e1\n  - update: QUEUED\n"),
                    "steps[1].update: expected {}, {executionMode: MODE} or {pipeline: "
                    "DECLARATION}")


def test_update_modes_need_updates(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--update-modes", "QUEUED"]) == 2
    assert capsys.readouterr().err == (
        "stagelock: command line: --update-modes: expected updates of 1 or more with update "
        "modes: the execution mode changes only by an UpdatePipeline\n")


def test_update_modes_are_modes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--updates", "1", "--update-modes", "QUEUED,FAST"]) == 2
    assert capsys.readouterr().err == (
        "stagelock: command line: --update-modes[1]: expected a mode name (SUPERSEDED, QUEUED, "
        "PARALLEL), got 'FAST'\n")


def test_expected_pipeline_version_is_a_number(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert_simulate(tmp_path, capsys,
                    with_steps("  - start: e1\n  - expect: {pipelineVersion: 0}\n"),
                    "steps[1].expect.pipelineVersion: expected a version number (1 before any "
                    "update), got 0")


def test_updates_bound_out_of_range(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--updates", "9"]) == 2
    err = capsys.readouterr().err
    assert "--updates" in err and "9" in err
