"""Unmodelled and unknown declaration fields are named in warnings, never dropped silently."""

import pytest

from spec.unmodelled import FieldWarning, declaration_warnings


def _api() -> dict:
    return {"pipeline": {
        "name": "web", "roleArn": "arn:aws:iam::1:role/p", "pipelineType": "V2",
        "artifactStore": {"type": "S3", "location": "b"}, "version": 3,
        "triggers": [{"providerType": "CodeStarSourceConnection"}],
        "stages": [
            {"name": "Source", "actions": [{
                "name": "Src", "actionTypeId": {"category": "Source", "owner": "AWS",
                                                "provider": "S3", "version": "1"},
                "outputArtifacts": [{"name": "src"}], "configuration": {"S3Bucket": "b"}}]},
            {"name": "Build", "actions": [{
                "name": "Test", "actionTypeId": {"category": "Build", "owner": "AWS",
                                                 "provider": "CodeBuild", "version": "1"},
                "runorder": 1, "timeoutInMinutes": 30, "namespace": "T"}],
             "blockers": [{"name": "Freeze", "type": "Schedule"}],
             "onFailure": {"result": "SKIP", "conditions": []}},
        ]}, "metadata": {"pipelineArn": "arn"}}


def test_api_declaration_gets_exactly_the_expected_warnings() -> None:
    warnings = declaration_warnings(_api())
    assert warnings == (
        FieldWarning("blockers", "pipeline.stages[1].blockers",
                     "stage blockers are not modelled: verdicts do not account for them"),
        FieldWarning("conditions", "pipeline.stages[1].onFailure.conditions",
                     "stage failure conditions are not modelled: verdicts do not account "
                     "for them (result ROLLBACK rolls back on every failure of the stage)"),
        FieldWarning("result", "pipeline.stages[1].onFailure.result",
                     "stage failure result SKIP is not modelled: verdicts treat the "
                     "failure as FAIL"),
        FieldWarning("runorder", "pipeline.stages[1].actions[0].runorder",
                     "not a field of ActionDeclaration, ignored; did you mean runOrder?"),
    )


def test_cloudformation_spelling_and_did_you_mean() -> None:
    properties = {"RoleArn": "r", "Tags": [], "RestartExecutionOnUpdate": True,
                  "Stages": [{"Name": "S", "OnFaliure": {"Result": "RETRY"},
                              "Blockers": [{"Name": "b", "Type": "Schedule"}],
                              "Actions": [{"Name": "A", "ActionTypeId": {"Category": "Build"},
                                           "RunOrder": 1}]}]}
    place = "Resources.Pipeline.Properties"
    assert declaration_warnings(properties, place, cloudformation=True) == (
        FieldWarning("OnFaliure", f"{place}.Stages[0].OnFaliure",
                     "not a field of StageDeclaration, ignored; did you mean OnFailure?"),
        FieldWarning("Blockers", f"{place}.Stages[0].Blockers",
                     "stage blockers are not modelled: verdicts do not account for them"),
    )


def test_only_no_effect_fields_give_no_warning() -> None:
    data = _api()
    build = data["pipeline"]["stages"][1]
    del build["blockers"], build["onFailure"], build["actions"][0]["runorder"]
    assert declaration_warnings(data) == ()


def test_get_pipeline_reader_gives_warnings_with_lines(tmp_path) -> None:
    import json

    from checker.formats import source_in

    path = tmp_path / "web.json"
    path.write_text(json.dumps(_api(), indent=2))
    warnings = source_in(path).warnings
    text = path.read_text().splitlines()
    assert [(w.place, w.line) for w in warnings] == [
        ("pipeline.stages[1].blockers", _line(text, '"blockers"')),
        ("pipeline.stages[1].onFailure.conditions", _line(text, '"conditions": []')),
        ("pipeline.stages[1].onFailure.result", _line(text, '"result": "SKIP"')),
        ("pipeline.stages[1].actions[0].runorder", _line(text, '"runorder"')),
    ]


def _line(lines: list[str], needle: str) -> int:
    (found,) = [i + 1 for i, line in enumerate(lines) if needle in line]
    return found


_TEMPLATE = """\
Parameters:
  Env: {Type: String}
Resources:
  Pipeline:
    Type: AWS::CodePipeline::Pipeline
    Properties:
      RoleArn: !GetAtt Role.Arn
      PipelineType: V2
      RestartExecutionOnUpdate: true
      ArtifactStore: {Type: S3, Location: !Ref Bucket}
      Stages:
        - Name: Source
          Actions:
            - Name: Src
              ActionTypeId: {Category: Source, Owner: AWS, Provider: S3, Version: "1"}
              Configuration: {S3Bucket: !Ref Bucket, S3ObjectKey: src.zip}
              OutputArtifacts: [{Name: src}]
        - Name: Deploy
          Blockers:
            - {Name: Freeze, Type: Schedule}
          Actions:
            - Name: Ecs
              ActionTypeId: {Category: Deploy, Owner: AWS, Provider: ECS, Version: "1"}
              Configuration: {ClusterName: !Sub "c-${Env}", ServiceName: web}
              InputArtifacts: [{Name: src}]
              RunOrdr: 1
"""


def test_cloudformation_reader_gives_warnings_with_template_places_and_lines(tmp_path) -> None:
    from checker.formats import source_in

    path = tmp_path / "pipeline.yaml"
    path.write_text(_TEMPLATE)
    lines = _TEMPLATE.splitlines()
    place = "Resources.Pipeline.Properties"
    assert [(w.place, w.line, w.message) for w in source_in(path).warnings] == [
        (f"{place}.Stages[1].Blockers", _line(lines, "Blockers:"),
         "stage blockers are not modelled: verdicts do not account for them"),
        (f"{place}.Stages[1].Actions[0].RunOrdr", _line(lines, "RunOrdr"),
         "not a field of ActionDeclaration, ignored; did you mean RunOrder?"),
    ]


def test_lint_prints_the_warnings_first_and_counts_them(tmp_path) -> None:
    path = tmp_path / "pipeline.yaml"
    path.write_text(_TEMPLATE)
    lines = _TEMPLATE.splitlines()
    warnings = [
        f"{path}:{_line(lines, 'Blockers:')}: warning SL501: Resources.Pipeline.Properties."
        "Stages[1].Blockers: stage blockers are not modelled: verdicts do not account "
        "for them",
        f"{path}:{_line(lines, 'RunOrdr')}: warning SL501: Resources.Pipeline.Properties."
        "Stages[1].Actions[0].RunOrdr: not a field of ActionDeclaration, ignored; did you mean "
        "RunOrder?"]
    counted = "2 field warnings (SL501, above: fields the verdicts do not account for)"
    run = _cli("lint", str(path))
    out = run.stdout.splitlines()
    assert (run.returncode, out[:3]) == (0, [*warnings, ""])
    assert out[3].startswith(f"{path}:{_line(lines, '- Name: Deploy')}: note SL301 ")
    assert f"1 finding: 0 errors, 0 warnings, 1 note; and {counted}." in out
    run = _cli("lint", str(path), "--stops", "0")
    assert run.stdout.splitlines()[:3] == [
        *warnings, f"No hazards found in {path}; {counted}."]
    # a warning: it fails a run that fails on warnings
    assert _cli("lint", str(path), "--stops", "0", "--fail-on", "warning").returncode == 1
    assert _cli("lint", str(path), "--stops", "0", "--fail-on", "note").returncode == 1


def test_lint_lists_the_warnings_in_json(tmp_path) -> None:
    import json

    path = tmp_path / "pipeline.yaml"
    path.write_text(_TEMPLATE)
    lines = _TEMPLATE.splitlines()
    doc = json.loads(_cli("lint", "--format", "json", str(path)).stdout)
    assert [(w["ruleId"], w["pipeline"], w["field"], w["line"]) for w in doc["warnings"]] == [
        ("SL501", "Pipeline", "Blockers", _line(lines, "Blockers:")),
        ("SL501", "Pipeline", "RunOrdr", _line(lines, "RunOrdr"))]
    assert doc["result"] == "CLEAN"
    doc = json.loads(_cli("lint", "--format", "json", "--fail-on", "warning", str(path)).stdout)
    assert doc["result"] == "FINDINGS"


@pytest.mark.parametrize("how", [
    ("--ignore", "SL501"), ("--ignore", "unmodelled-field"), ("--ignore", "SL501:Pipeline"),
    ("in the file",)])
def test_lint_ignore_silences_the_warnings(tmp_path, how: tuple[str, ...]) -> None:
    import json

    path = tmp_path / "pipeline.yaml"
    text = _TEMPLATE
    if how == ("in the file",):
        text = text.replace("    Type: AWS::CodePipeline::Pipeline\n",
                            "    Type: AWS::CodePipeline::Pipeline\n"
                            "    Metadata: {stagelock: {ignore: [SL501]}}\n")
        how = ()
    path.write_text(text)
    run = _cli("lint", str(path), "--stops", "0", "--fail-on", "warning", *how)
    assert (run.returncode, run.stdout.splitlines()[0]) == (0, f"No hazards found in {path}.")
    assert "SL501" not in run.stdout
    for output in ("json", "sarif"):
        run = _cli("lint", str(path), "--stops", "0", "--format", output, *how)
        doc = json.loads(run.stdout)
        if output == "json":
            assert doc["warnings"] == []
        else:
            assert doc["runs"][0]["results"] == []


def test_ignoring_the_warnings_for_another_pipeline_keeps_them(tmp_path) -> None:
    import json

    path = tmp_path / "pipeline.yaml"
    path.write_text(_TEMPLATE)
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"pipeline": {"name": "other", "stages": [
        {"name": "S", "actions": [{"name": "A", "actionTypeId": {"category": "Source"}}]},
        {"name": "B", "actions": [{"name": "B", "actionTypeId": {"category": "Build"}}]}]}}))
    run = _cli("lint", str(path), str(other), "--stops", "0", "--format", "json",
               "--ignore", "SL501:other")
    assert [w["field"] for w in json.loads(run.stdout)["warnings"]] == ["Blockers", "RunOrdr"]


def _valid_sarif(sarif: dict) -> list[dict]:
    """The results of a SARIF log, after the checks lint's SARIF tests make of every log: the
    version and schema, the tool's rules (each with its id, name, descriptions, help, level),
    and each result's rule, level, message and location."""
    from checker.formats.sarif import tool_version
    from spec.hazards import LINT_RULES

    assert sarif["version"] == "2.1.0" and "sarif-2.1.0" in sarif["$schema"]
    [run] = sarif["runs"]
    driver = run["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("stagelock", tool_version())
    rules = driver["rules"]
    assert [r["id"] for r in rules] == list(LINT_RULES)
    for r in rules:
        rule = LINT_RULES[r["id"]]
        assert r["name"] == rule.name
        assert r["shortDescription"]["text"] == rule.summary
        assert r["fullDescription"]["text"].startswith(rule.summary)
        assert r["defaultConfiguration"]["level"] == rule.severity
        assert rule.fix in r["help"]["text"] and rule.fix in r["help"]["markdown"]
        assert f"--ignore {rule.id}" in r["help"]["text"]
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] in ("error", "warning", "note")
        assert result["message"]["text"]
        [location] = result["locations"]
        physical = location["physicalLocation"]
        assert physical["artifactLocation"]["uri"]
        assert physical["region"]["startLine"] >= 1
        assert location["logicalLocations"][0]["kind"] == "member"
    return run["results"]


def test_sarif_has_a_result_for_each_warning(tmp_path) -> None:
    import json

    path = tmp_path / "pipeline.yaml"
    path.write_text(_TEMPLATE)
    lines = _TEMPLATE.splitlines()
    results = _valid_sarif(json.loads(_cli("lint", str(path), "--format", "sarif").stdout))
    fields = [r for r in results if r["ruleId"] == "SL501"]
    assert [(r["level"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
             r["locations"][0]["physicalLocation"]["region"]["startLine"],
             r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
             r["message"]["text"]) for r in fields] == [
        ("warning", str(path), _line(lines, "Blockers:"),
         "Pipeline/Resources.Pipeline.Properties.Stages[1].Blockers",
         "Resources.Pipeline.Properties.Stages[1].Blockers: stage blockers are not "
         "modelled: verdicts do not account for them."),
        ("warning", str(path), _line(lines, "RunOrdr"),
         "Pipeline/Resources.Pipeline.Properties.Stages[1].Actions[0].RunOrdr",
         "Resources.Pipeline.Properties.Stages[1].Actions[0].RunOrdr: not a field of "
         "ActionDeclaration, ignored; did you mean RunOrder?"),
    ]
    assert [r["ruleId"] for r in results] == ["SL301", "SL501", "SL501"]


def test_sarif_of_a_terraform_file_has_its_warnings_at_their_lines() -> None:
    import json

    path = "tests/data/terraform/gated.tf"
    results = _valid_sarif(json.loads(_cli("lint", path, "--stops", "0", "--format",
                                           "sarif").stdout))
    from pathlib import Path

    lines = (Path(__file__).parent.parent / path).read_text(encoding="utf-8").splitlines()
    at = [(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
           lines[r["locations"][0]["physicalLocation"]["region"]["startLine"] - 1].strip())
          for r in results if r["ruleId"] == "SL501"]
    assert at == [(path, "on_sucess {"), (path, "condition {"), (path, "run_ordr        = 1")]


class _Run:
    def __init__(self, status: int, stdout: str, stderr: str) -> None:
        self.returncode, self.stdout, self.stderr = status, stdout, stderr


def _cli(*args: str) -> _Run:
    import contextlib
    import io

    from checker.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(list(args))
    return _Run(status, out.getvalue(), err.getvalue())


def test_check_prints_and_reports_the_warnings(tmp_path) -> None:
    import json

    path = tmp_path / "pipeline.yaml"
    path.write_text(_TEMPLATE)
    bounds = ("--executions", "1", "--stops", "0", "--retries", "0", "--toggles", "0")
    run = _cli("check", str(path), *bounds)
    line = _line(_TEMPLATE.splitlines(), "Blockers:")
    assert (f"  warning: {path}:{line}: Resources.Pipeline.Properties.Stages[1].Blockers: stage "
            "blockers are not modelled: verdicts do not account for them"
            in run.stdout.splitlines())
    run = _cli("check", str(path), *bounds, "--json")
    warnings = json.loads(run.stdout)["warnings"]
    assert [(w["field"], w["place"], w["line"]) for w in warnings] == [
        ("Blockers", "Resources.Pipeline.Properties.Stages[1].Blockers", line),
        ("RunOrdr", "Resources.Pipeline.Properties.Stages[1].Actions[0].RunOrdr",
         _line(_TEMPLATE.splitlines(), "RunOrdr"))]
    assert all(w["file"] == str(path) for w in warnings)


_SCENARIO = """\
description: a failed deploy is skipped, which onFailure does not offer
pipeline:
  name: web
  stages:
    - name: Source
      actions:
        - {name: Src, actionTypeId: {category: Source, provider: S3}}
    - name: Deploy
      onFailure:
        result: SKIP
      actions:
        - name: Ecs
          actionTypeId: {category: Deploy, provider: ECS}
          runorder: 1
steps:
  - start: e1
  - succeed: {execution: e1, action: Src}
"""


def test_simulate_prints_and_reports_the_warnings_of_an_inline_declaration(tmp_path) -> None:
    import json

    path = tmp_path / "rollback.yaml"
    path.write_text(_SCENARIO)
    lines = _SCENARIO.splitlines()
    expected = [
        f"warning: {path}:{_line(lines, 'result: SKIP')}: pipeline.stages[1].onFailure."
        "result: stage failure result SKIP is not modelled: verdicts treat the failure as "
        "FAIL",
        f"warning: {path}:{_line(lines, 'runorder')}: pipeline.stages[1].actions[0].runorder: "
        "not a field of ActionDeclaration, ignored; did you mean runOrder?",
        ""]
    for trace in ((), ("--trace",)):
        run = _cli("simulate", str(path), *trace)
        assert run.returncode == 0
        assert run.stdout.splitlines()[:3] == expected
    run = _cli("simulate", str(path), "--json")
    warnings = json.loads(run.stdout)["warnings"]
    assert [(w["file"], w["field"], w["place"], w["line"]) for w in warnings] == [
        (str(path), "result", "pipeline.stages[1].onFailure.result",
         _line(lines, "result: SKIP")),
        (str(path), "runorder", "pipeline.stages[1].actions[0].runorder",
         _line(lines, "runorder"))]


def test_simulate_warns_about_the_declaration_file_a_scenario_names(tmp_path) -> None:
    import json

    template = tmp_path / "pipeline.yaml"
    template.write_text(_TEMPLATE)
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text("pipeline: pipeline.yaml\nsteps:\n  - start: e1\n")
    run = _cli("simulate", str(scenario))
    line = _line(_TEMPLATE.splitlines(), "Blockers:")
    assert run.stdout.splitlines()[0] == (
        f"warning: {template}:{line}: Resources.Pipeline.Properties.Stages[1].Blockers: stage "
        "blockers are not modelled: verdicts do not account for them")
    run = _cli("simulate", str(scenario), "--json")
    warnings = json.loads(run.stdout)["warnings"]
    assert [(w["file"], w["field"]) for w in warnings] == [
        (str(template), "Blockers"), (str(template), "RunOrdr")]


def test_simulate_without_warnings_prints_none() -> None:
    import json

    path = "tests/conformance/approval-holds-stage.yaml"
    run = _cli("simulate", path)
    assert not run.stdout.startswith("warning") and "warning:" not in run.stdout
    assert json.loads(_cli("simulate", path, "--json").stdout)["warnings"] == []


def test_check_of_a_model_file_warns_about_the_declaration_it_names(tmp_path) -> None:
    template = tmp_path / "pipeline.yaml"
    template.write_text(_TEMPLATE)
    model = tmp_path / "release.toml"
    model.write_text('pipeline = "pipeline.yaml"\n[bounds]\nexecutions = 1\nstops = 0\n'
                     'retries = 0\ntoggles = 0\n')
    run = _cli("check", str(model))
    line = _line(_TEMPLATE.splitlines(), "Blockers:")
    assert (f"  warning: {template}:{line}: Resources.Pipeline.Properties.Stages[1].Blockers: "
            "stage blockers are not modelled: verdicts do not account for them"
            in run.stdout.splitlines())


def test_check_leaves_out_the_warnings_the_file_silences(tmp_path) -> None:
    import json

    path = tmp_path / "pipeline.yaml"
    path.write_text(_TEMPLATE.replace("    Type: AWS::CodePipeline::Pipeline\n",
                                      "    Type: AWS::CodePipeline::Pipeline\n"
                                      "    Metadata: {stagelock: {ignore: [unmodelled-field]}}\n"))
    bounds = ("--executions", "1", "--stops", "0", "--retries", "0", "--toggles", "0")
    run = _cli("check", str(path), *bounds)
    assert "warning:" not in run.stdout
    assert json.loads(_cli("check", str(path), *bounds, "--json").stdout)["warnings"] == []


def test_an_unfinished_run_that_fails_on_its_warnings_is_not_undetermined(tmp_path) -> None:
    from checker.formats import source_in
    from checker.lint import Report, _target, render_text

    path = tmp_path / "pipeline.yaml"
    path.write_text(_TEMPLATE)
    target = _target(source_in(path))
    target.stopped_by = "--max-memory 100"
    for fail_on, status in (("error", 3), ("warning", 1)):
        report = Report([], [target], fail_on=fail_on)
        text = render_text(report, [str(path)]).splitlines()
        assert report.exit_code == status
        assert ("Result: UNDETERMINED" in text) == (status == 3)
        assert any(line.startswith(f"No hazard found so far in {path}; 2 field warnings (SL501")
                   for line in text)


def test_diff_prints_and_reports_the_warnings(tmp_path) -> None:
    import json

    path = tmp_path / "pipeline.yaml"
    path.write_text(_TEMPLATE)
    args = ("diff", str(path), "--rules", "documented", "--rules", "failure-keeps-lock",
            "--executions", "1", "--stops", "0", "--retries", "0", "--toggles", "0")
    run = _cli(*args)
    line = _line(_TEMPLATE.splitlines(), "Blockers:")
    assert (f"  warning: {path}:{line}: Resources.Pipeline.Properties.Stages[1].Blockers: stage "
            "blockers are not modelled: verdicts do not account for them"
            in run.stdout.splitlines())
    warnings = json.loads(_cli(*args, "--json").stdout)["warnings"]
    assert [w["field"] for w in warnings] == ["Blockers", "RunOrdr"]
    assert json.loads(_cli("diff", "--rules", "documented", "--rules", "failure-keeps-lock",
                           "--executions", "1", "--stops", "0", "--retries", "0",
                           "--toggles", "0", "--json").stdout)["warnings"] == []


def test_diagram_of_a_declaration_names_its_warnings_on_stderr(tmp_path) -> None:
    path = tmp_path / "pipeline.yaml"
    path.write_text(_TEMPLATE)
    line = _line(_TEMPLATE.splitlines(), "Blockers:")
    for picture in (("pipeline",), ("graph", "--executions", "1")):
        run = _cli("diagram", picture[0], str(path), *picture[1:], "-o",
                   str(tmp_path / f"{picture[0]}.dot"))
        assert run.returncode == 0
        assert (f"warning: {path}:{line}: Resources.Pipeline.Properties.Stages[1].Blockers: "
                "stage blockers are not modelled: verdicts do not account for them"
                in run.stderr.splitlines())


def test_baseline_names_the_warnings_of_its_configurations_declarations(tmp_path) -> None:
    (tmp_path / "pipeline.yaml").write_text(_TEMPLATE)
    configs = tmp_path / "configs.toml"
    configs.write_text('[[config]]\nname = "web"\npipeline = "pipeline.yaml"\n'
                       '[config.bounds]\nexecutions = 1\nstops = 0\nretries = 0\ntoggles = 0\n'
                       '[[config]]\nname = "reference"\n[config.bounds]\nexecutions = 1\n'
                       'stops = 0\n')
    line = _line(_TEMPLATE.splitlines(), "Blockers:")
    expected = (f"warning: web: {tmp_path / 'pipeline.yaml'}:{line}: "
                "Resources.Pipeline.Properties.Stages[1].Blockers: stage blockers are "
                "not modelled: verdicts do not account for them")
    baseline = tmp_path / "configs.baseline.json"
    for action in ("write", "check"):
        run = _cli("baseline", action, str(configs if action == "write" else baseline))
        assert run.returncode == 0, run.stdout + run.stderr
        warned = [x for x in run.stderr.splitlines() if x.startswith("warning:")]
        assert expected in warned
        assert all(x.startswith("warning: web: ") for x in warned)


def test_the_python_api_warns_about_and_lists_the_fields(tmp_path) -> None:
    from checker.testing import UnmodelledFieldWarning, check

    path = tmp_path / "pipeline.yaml"
    path.write_text(_TEMPLATE)
    small = {"executions": 1, "stops": 0, "retries": 0, "toggles": 0}
    with pytest.warns(UnmodelledFieldWarning) as caught:
        outcome = check(path, **small)
    line = _line(_TEMPLATE.splitlines(), "Blockers:")
    expected = (f"{path}:{line}: Resources.Pipeline.Properties.Stages[1].Blockers: stage "
                "blockers are not modelled: verdicts do not account for them")
    assert expected in [str(w.message) for w in caught]
    assert expected in outcome.warnings and len(outcome.warnings) == 2
    assert f"  warning: {expected}" in str(outcome).splitlines()
    document = _api()
    with pytest.warns(UnmodelledFieldWarning):
        given = check(document, **small)
    assert [w.split(": ")[:2] for w in given.warnings] == [
        ["declaration given as a dict", f"pipeline.stages[1].{place}"]
        for place in ("blockers", "onFailure.conditions", "onFailure.result",
                      "actions[0].runorder")]
