"""`stagelock lint` on the declarations under `examples/lint/`: the exact findings with their
severities, their traces, the output formats, severity thresholds, silencing rules, several
files at once, bad input and exit statuses.

The examples are realistic pipelines of common shapes, each written for what a provider does
(`spec.world.PROVIDERS`): an S3 static site, a CloudFormation service, a container release with
CodeDeploy blue/green and ECS, `kubectl` deploys run from CodeBuild, a shared bundle bucket, a
blue/green colour swap, and four hand-made declarations that come with a `.clean` variant with
no structural hazard.  The operator's hazards (SL101, SL103: what a stop and abandon does to
each target; SL301: a stop without a disabled transition) need a stop, so the default run of a
clean variant still reports them, at warning and note level: exit 0 by default.

A transition that the declaration disables (CloudFormation `DisableInboundStageTransitions`)
stays disabled by default (`--toggles 0`), so the stages behind it are never entered and have no
finding; the text output says so in a note, and `--toggles 1` lets the search open it.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
from functools import cache
from pathlib import Path

import pytest

from checker.cli import main
from checker.formats import read_document
from checker.formats.sarif import tool_version
from spec.hazards import LINT_RULES, RULES

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = "examples/lint"

Finding = tuple[str, str, str, str | None]
"""(rule id, severity, stage, action) of one finding."""


@cache
def _run_cached(args: tuple[str, ...]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.chdir(ROOT), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(["lint", *args])
    return status, out.getvalue(), err.getvalue()


def lint(*args: str | Path) -> tuple[int, str, str]:
    """`stagelock lint ARGS` run from the project root: exit status, stdout, stderr."""
    return _run_cached(tuple(str(a) for a in args))


def report(*args: str | Path) -> list[dict]:
    status, out, err = lint(*args, "--format", "json")
    assert err == ""
    findings = json.loads(out)["findings"]
    assert status == (1 if any(f["severity"] == "error" for f in findings) else 0)
    return findings


def found(*args: str | Path) -> set[Finding]:
    return {(f["ruleId"], f["severity"], f["stage"], f["action"]) for f in report(*args)}


def example(name: str) -> str:
    return f"{EXAMPLES}/{name}"


# --------------------------------------------------------------------------------------------
# The findings of each example

def _notes(stage: str) -> set[Finding]:
    """SL301, one note per pipeline, at the first stage it applies to."""
    return {("SL301", "note", stage, None)}


EXPECTED: dict[str, tuple[set[Finding], set[Finding]]] = {
    # file: (findings of the default run, findings with --stops 0)
    # S3 lets the last writer win: an abandoned upload lands after the newer one.
    "static-site.yaml": (
        {("SL101", "warning", "Publish", "CopyToBucket")} | _notes("Build"),
        set(),
    ),
    # CloudFormation refuses a second update: the newer deploy fails instead (SL103); the tests
    # and the change set review follow their own stage's deploy, so the stage lock protects them.
    "web-service.yaml": (
        {("SL103", "warning", "Staging", "UpdateStack")} | _notes("Build"),
        set(),
    ),
    # The approver looks at staging from a later stage; the integration tests are a CodeBuild
    # action named like a test (inferred: a warning); ECS replaces the running deployment, so
    # production has nothing.
    "container-release.json": (
        {("SL401", "error", "Approve", "ReleaseManager"),
         ("SL201", "warning", "IntegrationTest", "RunIntegrationTests"),
         ("SL103", "warning", "DeployStaging", "BlueGreen")} | _notes("DeployStaging"),
        {("SL401", "error", "Approve", "ReleaseManager"),
         ("SL201", "warning", "IntegrationTest", "RunIntegrationTests")},
    ),
    # kubectl from CodeBuild, declared in the Metadata: an abandoned build still applies.
    # Its own property that production never goes back fails the same way (SL900, named by
    # the property); the one that production gets only what staging got holds.
    "eks-kubectl.yaml": (
        {("SL101", "warning", "Staging", "Apply"), ("SL900", "warning", "Source", None)}
        | _notes("Staging"),
        set(),
    ),
    # The deploy reads the bundle a newer execution's build may have overwritten.
    "shared-bundle-bucket.json": (
        {("SL202", "error", "Deploy", "Fleet"), ("SL101", "warning", "Build", "BundleToS3")}
        | _notes("Build"),
        {("SL202", "error", "Deploy", "Fleet")},
    ),
    # The colour is read two stages before the swap that changes it.
    "blue-green-swap.yaml": (
        {("SL203", "error", "Prepare", "ResolveIdleColour"),
         ("SL101", "warning", "Release", "SwapColours"),
         ("SL103", "warning", "DeployIdle", "UpdateIdleStack")} | _notes("Prepare"),
        {("SL203", "error", "Prepare", "ResolveIdleColour")},
    ),
    "release-pipeline.json": (
        {("SL201", "error", "Test", "IntegrationTests"),
         ("SL401", "error", "Production", "ApproveRelease"),
         ("SL103", "warning", "Staging", "DeployStaging")} | _notes("Build"),
        {("SL201", "error", "Test", "IntegrationTests"),
         ("SL401", "error", "Production", "ApproveRelease")},
    ),
    "release-pipeline.clean.json": (
        {("SL103", "warning", "Staging", "DeployStaging")} | _notes("Build"),
        set(),
    ),
    "nested-stacks.yaml": (
        {("SL201", "error", "Validate", "IntegrationTests"),
         ("SL103", "warning", "UAT", "ExecuteUatChangeSet")} | _notes("Build"),
        {("SL201", "error", "Validate", "IntegrationTests")},
    ),
    "nested-stacks.clean.yaml": (
        {("SL103", "warning", "UAT", "ExecuteUatChangeSet")} | _notes("Build"),
        set(),
    ),
    # PARALLEL mode, CloudFormation: two executions' updates of one stack overlap (the second
    # is refused, SL104) or the older one starts after the newer one finished (SL102).  No
    # stage locks, so no stop lets "the next" execution in (no SL301).
    "cross-account.json": (
        {(rule, "error", stage, action) for rule in ("SL102", "SL104")
         for stage, action in (("DeployToTest", "DeployApi"),
                               ("DeployToTest", "PublishDnsRecords"),
                               ("DeployToProduction", "DeployApi"))}
        | {("SL103", "warning", "DeployToTest", "DeployApi")},
        {(rule, "error", stage, action) for rule in ("SL102", "SL104")
         for stage, action in (("DeployToTest", "DeployApi"),
                               ("DeployToTest", "PublishDnsRecords"),
                               ("DeployToProduction", "DeployApi"))},
    ),
    "cross-account.clean.json": (
        {("SL103", "warning", "DeployToTest", "DeployApi")} | _notes("Build"),
        set(),
    ),
    # Production rolls back on failure: the rollback's ECS deployment puts the last good image
    # back on purpose and its smoke test tests the image it deployed, so neither is a hazard;
    # the tests follow their own stage's deploy, so the stage lock protects them.
    "orders-ecs-rollback.yaml": (_notes("Build"), set()),
    # Production's inbound transition starts disabled and stays so: no finding there by default.
    "self-updating.yaml": (
        {("SL201", "error", "Verify", "EndToEndTests"),
         ("SL103", "warning", "UpdatePipeline", "ExecutePipelineChangeSet")}
        | _notes("UpdatePipeline"),
        {("SL201", "error", "Verify", "EndToEndTests")},
    ),
    "self-updating.clean.yaml": (
        {("SL103", "warning", "UpdatePipeline", "ExecutePipelineChangeSet")}
        | _notes("UpdatePipeline"),
        set(),
    ),
}
CLEAN = [name for name in EXPECTED if ".clean." in name]

UNREACHED_NOTE = ("{file}: pipeline Pipeline: no execution enters Production (an inbound "
                  "transition the declaration disables stays disabled; --toggles 1 lets the "
                  "search open it), so no hazard there was looked for.")
"""The note of the text output for the self-updating examples, which disable Production's inbound
transition."""


def test_every_example_is_covered() -> None:
    on_disk = {p.name for p in (ROOT / EXAMPLES).iterdir()}
    assert on_disk == set(EXPECTED)
    assert {n.replace(".clean", "") for n in CLEAN} <= set(EXPECTED)


@pytest.mark.parametrize("name", EXPECTED)
def test_default_findings(name: str) -> None:
    assert found(example(name)) == EXPECTED[name][0]


@pytest.mark.parametrize("name", EXPECTED)
def test_structural_findings(name: str) -> None:
    assert found(example(name), "--stops", "0") == EXPECTED[name][1]


@pytest.mark.parametrize("name", [n for n in EXPECTED if not EXPECTED[n][1]])
def test_a_pipeline_without_structural_hazards_exits_0(name: str) -> None:
    status, out, err = lint(example(name), "--stops", "0")
    expected = [f"No hazards found in {example(name)}."]
    if name.startswith("self-updating."):
        expected.append(UNREACHED_NOTE.format(file=example(name)))
    if name == "orders-ecs-rollback.yaml":  # the production cluster is chosen by !If
        expected.append(f"{example(name)}:68: note: Resources.OrdersPipeline.Properties."
                        f"Stages[3].Actions[0].Configuration.ClusterName is !If [IsProd, ...]: "
                        f"IsProd holds with the parameters' defaults")
    assert (status, out.splitlines(), err) == (0, expected, "")
    assert lint(example(name))[0] == 0  # warnings and notes do not fail by default


@pytest.mark.parametrize("name", EXPECTED)
def test_operator_findings_need_a_stop_and_are_never_errors(name: str) -> None:
    default, structural = EXPECTED[name]
    assert structural <= default
    for rule, severity, _, _ in default - structural:
        # an owner's property that fails only with a stop is a warning too
        assert RULES[rule].operator or rule == "SL900"
        assert severity in ("warning", "note")
    assert not any(RULES[rule].operator for rule, *_ in structural)


def test_every_rule_is_found_in_some_example() -> None:
    rules = {f[0] for name in EXPECTED for f in EXPECTED[name][0]}
    assert rules == set(RULES)


def test_at_most_one_finding_per_pipeline_is_not_about_it() -> None:
    """The one finding that holds for every pipeline of a shape (SL301, a note) is said once
    per pipeline, listing its stages; the others name a target or an action of the pipeline."""
    for name in EXPECTED:
        findings = report(example(name))
        notes = [f for f in findings if f["severity"] == "note"]
        assert len(notes) <= 1, name
        # (an owner's own property, SL900, is about the pipeline as a whole)
        assert all(f["action"] for f in findings if f["severity"] != "note"
                   and f["ruleId"] != "SL900"), name


# --------------------------------------------------------------------------------------------
# What each provider does, shown by the traces

def _finding(name: str, rule: str, *args: str) -> dict:
    [f] = [f for f in report(example(name), *args) if f["ruleId"] == rule]
    return f


def _ops(finding: dict) -> list[str]:
    return [s["operation"] for s in finding["trace"]]


def test_an_abandoned_s3_upload_lands_after_the_newer_one() -> None:
    f = _finding("static-site.yaml", "SL101")
    assert len(f["trace"]) == 10
    assert "StopPipelineExecution e1 (stop and abandon)" in _ops(f)
    assert _ops(f)[-2:] == ["e2's CopyToBucket succeeds",
                            "e1's abandoned CopyToBucket finishes anyway"]
    assert f["trace"][-1]["changes"] == ["BucketName=example-www-site holds e1's revision"]
    assert f["message"].endswith("BucketName=example-www-site went back from e2's revision to "
                                 "e1's when abandoned work of e1 finished.")


def test_a_cloudformation_update_started_while_an_abandoned_one_runs_fails() -> None:
    f = _finding("web-service.yaml", "SL103")
    assert _ops(f)[4:] == ["StopPipelineExecution e1 (stop and abandon)",
                           "e1's in-progress actions are abandoned",
                           "e2's App succeeds",
                           "e2's Package succeeds"]  # e2 enters Staging: its update starts
    assert f["message"].endswith(
        "e2's UpdateStack started on StackName=orders-staging while e1's abandoned deployment "
        "was still running there. The same at Production.ExecuteChangeSet.")
    assert f["also"] == ["Production.ExecuteChangeSet"]


def test_an_ecs_deploy_that_is_replaced_gets_no_finding() -> None:
    findings = report(example("container-release.json"))
    assert not [f for f in findings if f["stage"] == "DeployProduction"]


def test_the_approver_sees_what_a_newer_execution_deployed() -> None:
    f = _finding("container-release.json", "SL401")
    assert len(f["trace"]) == 8
    assert _ops(f)[-1] == "PutApprovalResult e1 ReleaseManager Approved"
    assert f["message"].endswith(
        "ReleaseManager was approved for e1 while ApplicationName=payments, "
        "DeploymentGroupName=payments-staging held e2's revision.")


def test_an_inferred_test_is_one_severity_lower_and_says_how_it_was_inferred() -> None:
    f = _finding("container-release.json", "SL201")
    assert (f["severity"], RULES["SL201"].severity) == ("warning", "error")
    assert f["inferred"] == ("from the name RunIntegrationTests (project payments-integration): "
                             "a test of the nearest deploy before it")
    assert f["message"].endswith(f"This rests on a guess {f['inferred']}. Say what the action does "
                                 "under `stagelock: actions:` in the file to make it certain.")


def test_an_annotation_makes_an_inferred_test_certain(tmp_path: Path) -> None:
    doc = json.loads((ROOT / example("container-release.json")).read_text(encoding="utf-8"))
    doc["stagelock"] = {"actions": {"IntegrationTest.RunIntegrationTests": {"role": "test"}}}
    path = tmp_path / "annotated.json"
    path.write_text(json.dumps(doc))
    assert ("SL201", "error", "IntegrationTest", "RunIntegrationTests") in found(path)
    doc["stagelock"] = {"actions": {"RunIntegrationTests": {"role": "none"}}}
    path = tmp_path / "not-a-test.json"
    path.write_text(json.dumps(doc))
    assert not [f for f in found(path) if f[0] == "SL201"]


def test_a_kubectl_build_without_an_annotation_is_an_inferred_deploy(tmp_path: Path) -> None:
    text = (ROOT / example("eks-kubectl.yaml")).read_text(encoding="utf-8")
    start = text.index("    Metadata:\n")
    path = tmp_path / "eks.yaml"
    path.write_text(text[:start] + text[text.index("    Properties:\n", start):])
    findings = report(path)
    [late] = [f for f in findings if f["ruleId"] == "SL101"]
    assert late["severity"] == "note" and late["inferred"].startswith("from the name Apply")
    assert late["also"] == ["Production.Apply"]


def test_a_newer_bundle_is_deployed_under_an_older_revision() -> None:
    f = _finding("shared-bundle-bucket.json", "SL202", "--stops", "0")
    assert _ops(f)[-1] == "e1's Fleet succeeds"
    assert f["message"].endswith("Fleet ran for e1 while s3://reports-releases/current/bundle.zip "
                                 "held e2's revision.")


def test_a_colour_read_before_an_older_swap_is_stale() -> None:
    f = _finding("blue-green-swap.yaml", "SL203", "--stops", "0")
    assert len(f["trace"]) == 9 and _ops(f)[-1] == "e1's SwapColours succeeds"
    assert f["message"].endswith("e2 read live-colour in ResolveIdleColour, then e1 changed it, "
                                 "before e2's SwapColours acts on what it read.")


def test_cloudformation_in_parallel_mode_refuses_or_reorders() -> None:
    findings = {(f["ruleId"], f["action"], f["stage"]): f
                for f in report(example("cross-account.json"), "--stops", "0")}
    refused = findings[("SL104", "DeployApi", "DeployToTest")]
    assert refused["message"].endswith(
        "e1's DeployApi and e2's DeployApi are in progress at once.")
    reordered = findings[("SL102", "DeployApi", "DeployToTest")]
    assert reordered["message"].endswith(
        "e1's DeployApi started on StackName=orders-api-test, which holds e2's newer revision: "
        "when it finishes, StackName=orders-api-test goes back to e1's.")
    # the older update starts only after the newer one succeeded: nothing is refused on the way
    assert _ops(reordered).index("e2's DeployApi succeeds") < len(_ops(reordered)) - 1


def test_change_set_replace_writes_the_change_set_and_execute_reads_it() -> None:
    """A change set created and executed in one stage is safe: no finding on the change set,
    and the stack is first written when it is executed."""
    assert not [f for f in report(example("nested-stacks.yaml"))
                if f["action"] in ("CreateUatChangeSet", "CreateProductionChangeSet")]
    worlds = json.loads(lint(example("nested-stacks.yaml"), "--explain", "--format",
                             "json")[1])["worlds"]
    actions = {(a["stage"], a["action"]): a for a in worlds[0]["actions"]}
    create, execute = actions[("UAT", "CreateUatChangeSet")], actions[("UAT",
                                                                        "ExecuteUatChangeSet")]
    assert create["writes"] == execute["reads"][0]
    assert "ChangeSetName" in create["writes"]
    assert execute["writes"].startswith("StackName=") and "ChangeSetName" not in execute["writes"]


def test_delete_only_writes_no_revision(tmp_path: Path) -> None:
    text = (ROOT / example("web-service.yaml")).read_text(encoding="utf-8")
    path = tmp_path / "teardown.yaml"
    path.write_text(text + """\
        - Name: Teardown
          Actions:
            - Name: DeletePreview
              ActionTypeId: {Category: Deploy, Owner: AWS, Provider: CloudFormation, Version: "1"}
              Configuration: {ActionMode: DELETE_ONLY, StackName: !Sub "${ServiceName}-preview"}
""")
    worlds = json.loads(lint(path, "--explain", "--format", "json")[1])["worlds"]
    [delete] = [a for a in worlds[0]["actions"] if a["action"] == "DeletePreview"]
    assert (delete["role"], delete["writes"]) == ("", None)
    assert "DELETE_ONLY" in delete["how"]
    assert not [f for f in report(path) if f["action"] == "DeletePreview"]


# --------------------------------------------------------------------------------------------
# Output formats

def test_text_output() -> None:
    status, out, err = lint(example("release-pipeline.json"), "--stops", "0")
    assert (status, err) == (1, "")
    lines = out.splitlines()
    assert lines[0] == ("examples/lint/release-pipeline.json:105: error SL201 "
                        "tested-revision-differs [pipeline invoice-api-release, "
                        "Test.IntegrationTests]")
    assert lines[1] == ("    A test passes for one revision while its environment holds "
                        "another: IntegrationTests passed for e1 while "
                        "StackName=invoice-api-staging held e2's revision.")
    assert lines[2] == "    fix: put the test action in the deploy stage, after the deploy"
    assert lines[3] == "    shortest trace (9 steps):"
    assert lines[4].split("|")[0].strip() == "1. StartPipelineExecution -> e1"
    assert lines[12].split("|")[0].strip() == "9. e1's IntegrationTests succeeds"
    approval = lines.index("examples/lint/release-pipeline.json:131: error SL401 "
                           "approval-sees-other-revision [pipeline invoice-api-release, "
                           "Production.ApproveRelease]")
    assert lines[approval + 2] == f"    fix: {RULES['SL401'].fix}"
    assert lines[-1] == "2 findings: 2 errors, 0 warnings, 0 notes."


def test_text_output_of_several_files() -> None:
    status, out, _ = lint(example("release-pipeline.clean.json"),
                          example("container-release.json"), "--stops", "0")
    assert status == 1
    heads = [line for line in out.splitlines() if line.startswith(EXAMPLES)]
    assert {h.split(":")[0] for h in heads} == {example("container-release.json")}
    assert out.splitlines()[-1] == "2 findings: 1 error, 1 warning, 0 notes."


def test_text_output_notes_the_stages_behind_a_disabled_transition() -> None:
    name = example("self-updating.yaml")
    status, out, err = lint(name)
    assert (status, err) == (1, "")
    assert out.splitlines()[-2:] == ["3 findings: 1 error, 1 warning, 1 note.",
                                     UNREACHED_NOTE.format(file=name)]
    assert out.count("no execution enters") == 1
    status, out, _ = lint(name, "--toggles", "1")
    assert "no execution enters" not in out
    clean = example("self-updating.clean.yaml")
    assert lint(clean, "--stops", "0", "--toggles", "1") == (
        0, f"No hazards found in {clean}.\n", "")


JSON_KEYS = {"ruleId", "rule", "severity", "inferred", "file", "line", "pipeline", "stage",
             "action", "also", "message", "fix", "trace"}


@pytest.mark.parametrize(("name", "pipeline"), [
    ("release-pipeline.json", "invoice-api-release"),
    ("nested-stacks.yaml", "CatalogPipeline"),  # Name is an !Join: the logical id names it
    ("cross-account.json", "orders-api"),
    ("container-release.json", "payments-container-release"),
    ("blue-green-swap.yaml", "ReleasePipeline"),
])
def test_json_output(name: str, pipeline: str) -> None:
    findings = report(example(name))
    assert findings
    for f in findings:
        assert set(f) == JSON_KEYS
        rule = RULES[f["ruleId"]]
        assert (f["rule"], f["fix"]) == (rule.name, rule.fix)
        assert f["severity"] == rule.severity if not f["inferred"] else f["severity"] != "error"
        assert f["file"] == example(name)
        assert f["pipeline"] == pipeline
        assert isinstance(f["line"], int) and f["line"] > 0
        assert f["message"].startswith(rule.summary[0].upper() + rule.summary[1:] + ": ")
        for i, step in enumerate(f["trace"], 1):
            assert set(step) == {"step", "operation", "changes"}
            assert step["step"] == i and isinstance(step["changes"], list)
    stages = _stage_names(name)
    severities = ("error", "warning", "note")
    order = [(severities.index(f["severity"]), f["ruleId"], stages.index(f["stage"]),
              f["action"] or "") for f in findings]
    assert order == sorted(order)
    _, out, _ = lint(example(name), "--format", "json")
    doc = json.loads(out)
    assert doc["result"] == ("FINDINGS" if any(f["severity"] == "error" for f in findings)
                             else "CLEAN")
    assert (doc["failOn"], doc["unreadable"], doc["skipped"]) == ("error", [], [])


def _stage_names(name: str) -> list[str]:
    """The stages of the example's one pipeline, in the order the file declares them."""
    doc = read_document(ROOT / example(name))
    assert isinstance(doc, dict)
    if "pipeline" in doc:
        return [s["name"] for s in doc["pipeline"]["stages"]]
    [body] = [r for r in doc["Resources"].values() if r["Type"] == "AWS::CodePipeline::Pipeline"]
    return [s["Name"] for s in body["Properties"]["Stages"]]


def _names_it(lines: list[str], line: int, name: str) -> bool:
    """Whether the 1-based `line` is where the stage or action `name` is declared: its `name`
    or `Name` key with that value (JSON or YAML, one key a line or an object on one line)."""
    pattern = rf'(^\s*(- )?|[{{,]\s*)"?[Nn]ame"?: "?{re.escape(name)}"?(,|\s*$)'
    return re.search(pattern, lines[line - 1]) is not None


@pytest.mark.parametrize("name", [n for n in EXPECTED if EXPECTED[n][1]])
def test_sarif_output(name: str) -> None:
    status, out, err = lint(example(name), "--format", "sarif")
    assert (status, err) == (1, "")
    sarif = json.loads(out)
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
        assert r["defaultConfiguration"]["level"] == rule.severity
        assert rule.fix in r["help"]["text"] and rule.fix in r["help"]["markdown"]
        assert f"--ignore {rule.id}" in r["help"]["text"]
    lines = (ROOT / example(name)).read_text(encoding="utf-8").splitlines()
    expected = report(example(name))
    assert len(run["results"]) == len(expected)
    for result, f in zip(run["results"], expected, strict=True):
        assert result["ruleId"] == f["ruleId"]
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] == f["severity"]
        text = result["message"]["text"]
        assert text.startswith(f["message"]) and f"Fix: {f['fix']}." in text
        [location] = result["locations"]
        physical = location["physicalLocation"]
        assert physical["artifactLocation"]["uri"] == example(name)
        line = physical["region"]["startLine"]
        assert line == f["line"]
        assert _names_it(lines, line, f["action"] or f["stage"]), (line, lines[line - 1])
        where = f"{f['stage']}.{f['action']}" if f["action"] else f["stage"]
        assert location["logicalLocations"][0]["fullyQualifiedName"] == (
            f"{f['pipeline']}/{where}")


def test_sarif_without_findings() -> None:
    status, out, _ = lint(example("self-updating.clean.yaml"), "--stops", "0", "--format",
                          "sarif")
    sarif = json.loads(out)
    assert status == 0
    assert sarif["runs"][0]["results"] == []
    assert len(sarif["runs"][0]["tool"]["driver"]["rules"]) == len(LINT_RULES)


def test_explain_prints_the_world_lint_derived() -> None:
    status, out, err = lint(example("blue-green-swap.yaml"), "--explain", "--stops", "0")
    assert (status, err) == (1, "")
    lines = out.splitlines()
    assert lines[:12] == [
        "examples/lint/blue-green-swap.yaml: pipeline ReleasePipeline: the world lint derived",
        "  target live-colour (last writer wins)",
        "    written by Release.SwapColours",
        "    read by Prepare.ResolveIdleColour",
        "  target StackName=checkout-#{Colour.IDLE} (refuses while busy)",
        "    written by DeployIdle.UpdateIdleStack",
        "    read by DeployIdle.SmokeTest",
        "  Prepare.ResolveIdleColour: reader: annotation: reads live-colour",
        "  DeployIdle.UpdateIdleStack: deploy: category Deploy, provider CloudFormation "
        "(refuses while busy), StackName",
        "  DeployIdle.SmokeTest: test: category Test: reads the nearest deploy before it",
        "  Release.SwapColours: deploy: annotation: writes live-colour",
        "",
    ]
    assert lines[12].startswith("examples/lint/blue-green-swap.yaml:34: error SL203")


def test_explain_in_json() -> None:
    _, out, _ = lint(example("container-release.json"), "--explain", "--format", "json")
    [world] = json.loads(out)["worlds"]
    assert world["pipeline"] == "payments-container-release"
    assert world["targets"] == [
        {"name": "ApplicationName=payments, DeploymentGroupName=payments-staging",
         "overlap": "refuses while busy", "writtenBy": ["DeployStaging.BlueGreen"],
         "readBy": ["IntegrationTest.RunIntegrationTests", "Approve.ReleaseManager"]},
        {"name": "ClusterName=payments-prod, ServiceName=payments",
         "overlap": "replaces the running deployment",
         "writtenBy": ["DeployProduction.RollingUpdate"], "readBy": []},
    ]
    tests = [a for a in world["actions"] if a["role"] == "test"]
    assert [(a["action"], a["inferred"]) for a in tests] == [("RunIntegrationTests", True)]


# --------------------------------------------------------------------------------------------
# Severity thresholds

@pytest.mark.parametrize(("fail_on", "statuses"), [
    # the exit status of: a pipeline with errors, one with warnings and a note, one with a note
    ("error", (1, 0, 0)),
    ("warning", (1, 1, 0)),
    ("note", (1, 1, 1)),
    ("never", (0, 0, 0)),
])
def test_fail_on_sets_the_least_severe_finding_that_fails(tmp_path: Path, fail_on: str,
                                                          statuses: tuple[int, int, int]) -> None:
    only_note = tmp_path / "docs.yaml"
    only_note.write_text(APPROVALS_ONLY)
    runs = [lint(example("release-pipeline.json"), "--fail-on", fail_on),
            lint(example("static-site.yaml"), "--fail-on", fail_on),
            lint(only_note, "--fail-on", fail_on)]
    assert tuple(status for status, _, _ in runs) == statuses
    _, out, _ = lint(example("static-site.yaml"), "--fail-on", fail_on, "--format", "json")
    assert json.loads(out)["failOn"] == fail_on


def test_sarif_levels_follow_the_findings_severities() -> None:
    _, out, _ = lint(example("container-release.json"), "--format", "sarif")
    levels = {(r["ruleId"], r["level"]) for r in json.loads(out)["runs"][0]["results"]}
    assert levels == {("SL401", "error"), ("SL201", "warning"), ("SL103", "warning"),
                      ("SL301", "note")}


# --------------------------------------------------------------------------------------------
# Silencing rules

def test_ignore_a_rule_by_id_or_name() -> None:
    path = example("release-pipeline.json")
    assert found(path, "--stops", "0", "--ignore", "SL401") == {
        ("SL201", "error", "Test", "IntegrationTests")}
    assert found(path, "--stops", "0", "--ignore", "approval-sees-other-revision") == {
        ("SL201", "error", "Test", "IntegrationTests")}
    assert found(path, "--stops", "0", "--ignore", "SL401", "--ignore",
                 "tested-revision-differs") == set()


def test_ignore_a_rule_for_one_pipeline() -> None:
    release, nested = example("release-pipeline.json"), example("nested-stacks.yaml")
    both = found(release, nested, "--stops", "0", "--ignore", "SL201:invoice-api-release")
    assert both == {("SL401", "error", "Production", "ApproveRelease"),
                    ("SL201", "error", "Validate", "IntegrationTests")}


def test_ignore_the_operator_rules() -> None:
    assert found(example("release-pipeline.clean.json"), "--ignore", "SL103", "--ignore",
                 "stop-without-disabled-transition") == set()


def test_in_file_ignore_of_a_get_pipeline_document(tmp_path: Path) -> None:
    doc = json.loads((ROOT / example("release-pipeline.json")).read_text(encoding="utf-8"))
    doc["stagelock"] = {"ignore": ["SL401"], "reason": "approvals are checked against staging "
                        "by the release manager's runbook"}
    beside = tmp_path / "beside.json"
    beside.write_text(json.dumps(doc))
    assert found(beside, "--stops", "0") == {("SL201", "error", "Test", "IntegrationTests")}
    doc["pipeline"]["stagelock"] = doc.pop("stagelock")  # the same inside the declaration
    inside = tmp_path / "inside.json"
    inside.write_text(json.dumps(doc))
    assert found(inside, "--stops", "0") == {("SL201", "error", "Test", "IntegrationTests")}


def test_in_file_ignore_of_a_cloudformation_template(tmp_path: Path) -> None:
    text = (ROOT / example("nested-stacks.yaml")).read_text(encoding="utf-8")
    resource = "\n  CatalogPipeline:\n    Type: AWS::CodePipeline::Pipeline\n"
    assert resource in text
    path = tmp_path / "nested.yaml"
    path.write_text(text.replace(resource, resource + "    Metadata:\n      stagelock:\n"
                                 "        ignore: [tested-revision-differs]\n"))
    assert found(path, "--stops", "0") == set()


# --------------------------------------------------------------------------------------------
# DisableInboundStageTransitions

def _without_disabled_transitions(tmp_path: Path) -> Path:
    text = (ROOT / example("self-updating.yaml")).read_text(encoding="utf-8")
    block = ("      DisableInboundStageTransitions:\n"
             "        - StageName: Production\n"
             "          Reason: Opened by the release manager once the pipeline has been created\n")
    assert block in text
    path = tmp_path / "self-updating.yaml"
    path.write_text(text.replace(block, ""))
    return path


def test_disabled_inbound_transition_stays_closed_by_default(tmp_path: Path) -> None:
    """With no transition toggles, Production's inbound transition, which the template
    disables, is never opened: Production has no finding; without the disabled transition, the
    approval in Production looks at staging, which a newer execution can have changed."""
    assert {f for f in found(example("self-updating.yaml")) if f[2] == "Production"} == set()
    opened = found(_without_disabled_transitions(tmp_path), "--stops", "0")
    assert {f for f in opened if f[2] == "Production"} == {
        ("SL401", "error", "Production", "ApproveRelease")}


def test_disabled_inbound_transition_must_be_opened_first() -> None:
    """With one transition toggle the search may open Production's inbound transition: its
    finding comes back, and its trace goes through EnableStageTransition."""
    [f] = [f for f in report(example("self-updating.yaml"), "--toggles", "1", "--stops", "0")
           if f["stage"] == "Production"]
    assert f["ruleId"] == "SL401"
    assert "EnableStageTransition Production Inbound" in _ops(f)


# --------------------------------------------------------------------------------------------
# Deploys to one target from two stages, by provider

TWO_STAGES = """\
pipeline:
  name: shared-target
  pipelineType: V2
  executionMode: {mode}
  stages:
    - name: Source
      actions: [{{name: Code, actionTypeId: {{category: Source, provider: CodeCommit}}}}]
    - name: DeployA
      actions:
        - name: DeployA
          actionTypeId: {{category: Deploy, provider: {provider}}}
          configuration: {{{key}: {first}}}
    - name: DeployB
      actions:
        - name: DeployB
          actionTypeId: {{category: Deploy, provider: {provider}}}
          configuration: {{{key}: {second}}}
"""


def _two_stages(tmp_path: Path, mode: str, first: str, second: str,
                provider: str = "S3") -> Path:
    key = {"S3": "BucketName", "CloudFormation": "StackName"}[provider]
    path = tmp_path / f"{mode}-{provider}-{first}-{second}.yaml"
    path.write_text(TWO_STAGES.format(mode=mode, first=first, second=second, provider=provider,
                                      key=key))
    return path


def _rule(path: Path, rule: str) -> list[dict]:
    return [f for f in report(path, "--stops", "0") if f["ruleId"] == rule]


def test_parallel_stages_deploying_one_bucket_reorder(tmp_path: Path) -> None:
    [f] = _rule(_two_stages(tmp_path, "PARALLEL", "orders", "orders"), "SL102")
    assert (f["stage"], f["action"]) == ("DeployA", "DeployA")
    assert _ops(f)[-2:] == ["e2's DeployA succeeds", "e1's DeployA succeeds"]
    assert f["message"].endswith("BucketName=orders went back from e2's revision to e1's when a "
                                 "deployment of e1 finished.")


def test_queued_mode_keeps_unshared_buckets_in_order(tmp_path: Path) -> None:
    assert _rule(_two_stages(tmp_path, "QUEUED", "orders", "billing"), "SL102") == []


@pytest.mark.parametrize("mode", ["QUEUED", "SUPERSEDED"])
def test_one_bucket_deployed_by_two_stages_goes_back_in_any_mode(tmp_path: Path,
                                                                 mode: str) -> None:
    [f] = _rule(_two_stages(tmp_path, mode, "orders", "orders"), "SL102")
    assert _ops(f)[3:] == ["e1's DeployA succeeds", "e2's Code succeeds",
                           "e2's DeployA succeeds", "e1's DeployB succeeds"]


@pytest.mark.parametrize("mode", ["QUEUED", "SUPERSEDED"])
def test_one_stack_deployed_by_next_door_stages_is_refused_not_reordered(tmp_path: Path,
                                                                         mode: str) -> None:
    """CloudFormation: the older execution's update of the second stage is already running when
    the newer one's update of the first stage starts, so the newer one is refused (SL104); the
    stack never goes back (no SL102)."""
    path = _two_stages(tmp_path, mode, "orders", "orders", "CloudFormation")
    assert _rule(path, "SL102") == []
    [f] = _rule(path, "SL104")
    assert f["message"].endswith("e1's DeployB and e2's DeployA are in progress at once.")


# --------------------------------------------------------------------------------------------
# Exit statuses, several files and bad input

APPROVALS_ONLY = """\
pipeline:
  name: docs-site
  stages:
    - name: Source
      actions: [{name: Checkout, actionTypeId: {category: Source, provider: CodeCommit}}]
    - name: Build
      actions: [{name: Render, actionTypeId: {category: Build, provider: CodeBuild}}]
    - name: Publish
      actions:
        - {name: Review, actionTypeId: {category: Approval, provider: Manual}, runOrder: 1}
        - {name: Upload, actionTypeId: {category: Build, provider: CodeBuild}, runOrder: 2}
"""


def test_a_pipeline_without_deploys_has_only_the_note(tmp_path: Path) -> None:
    path = tmp_path / "docs-site.yaml"
    path.write_text(APPROVALS_ONLY)
    status, out, _ = lint(path)
    assert status == 0
    assert found(path) == {("SL301", "note", "Build", None)}  # the review sees nothing deployed
    assert out.splitlines()[-1] == "1 finding: 0 errors, 0 warnings, 1 note."


RULE_LIST = (f"({', '.join(LINT_RULES)}; {', '.join(r.name for r in LINT_RULES.values())})")


def _bad(*args: str | Path) -> str:
    status, out, err = lint(*args)
    assert (status, out) == (2, "")
    assert err.count("\n") == 1 and err.startswith("stagelock: ")
    return err.rstrip("\n")


def test_unknown_rule_on_the_command_line() -> None:
    assert _bad(example("release-pipeline.json"), "--ignore", "SL999") == (
        f"stagelock: command line: --ignore #1: expected a rule id or name {RULE_LIST}, "
        "got 'SL999'")


def test_ignore_for_a_pipeline_that_no_file_declares() -> None:
    assert _bad(example("release-pipeline.json"), "--stops", "0", "--ignore",
                "SL401:CatalogPipeline") == (
        "stagelock: command line: --ignore #1: expected RULE:PIPELINE with a pipeline of the "
        "files (invoice-api-release), got 'CatalogPipeline'")


def test_transition_toggles_out_of_bounds() -> None:
    assert _bad(example("release-pipeline.json"), "--toggles", "21") == (
        "stagelock: command line: --toggles: expected an integer from 0 to 20, got 21")


def _with_stagelock(tmp_path: Path, stagelock: object) -> Path:
    doc = json.loads((ROOT / example("shared-bundle-bucket.json")).read_text(encoding="utf-8"))
    doc["stagelock"] = stagelock
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.parametrize(("stagelock", "message"), [
    ({"ignore": ["SL999"]}, f"stagelock.ignore[0]: expected a rule id or name {RULE_LIST}, "
                            "got 'SL999'"),
    ({"ignore": "SL401"}, "stagelock: expected {ignore: [rule ids or names]}"),
    ({"silence": ["SL401"]}, "stagelock.silence: expected one of ignore, reason, actions, "
                             "properties, got 'silence'"),
    ({"actions": {"Deploy.Fleet": {"role": "deployer"}}},
     "stagelock.actions.Deploy.Fleet.role: expected one of deploy, test, approval, none, got "
     "'deployer'"),
    ({"actions": {"Deploy.Fleets": {"role": "deploy"}}},
     "stagelock.actions.Deploy.Fleets: expected an action of the pipeline as STAGE.ACTION "
     "(Source.Code, Build.BundleToS3, Deploy.Fleet), got 'Deploy.Fleets'"),
    ({"actions": {"Deploy.Fleet": {"reads": 3}}},
     "stagelock.actions.Deploy.Fleet.reads: expected a target name or a list of them"),
    ({"actions": {"Deploy.Fleet": {"writes": "a", "target": "b"}}},
     "stagelock.actions.Deploy.Fleet.target: expected writes or target (they mean the same), "
     "not both"),
    ({"actions": {"Build.BundleToS3": {"overlap": "replaces"}}},
     "stagelock.actions.Build.BundleToS3.overlap: expected overlap only for an action that "
     "writes a target (writes: TARGET, or role: deploy)"),
    ({"actions": {"Deploy.Fleet": {"overlap": "queues"}}},
     "stagelock.actions.Deploy.Fleet.overlap: expected one of last-writer-wins, "
     "refuses-while-busy, replaces, got 'queues'"),
])
def test_bad_stagelock_settings(tmp_path: Path, stagelock: object, message: str) -> None:
    path = _with_stagelock(tmp_path, stagelock)
    assert _bad(path) == f"stagelock: {path}: {message}"


def test_disabled_transition_of_a_stage_that_does_not_exist(tmp_path: Path) -> None:
    text = (ROOT / example("self-updating.yaml")).read_text(encoding="utf-8")
    path = tmp_path / "self-updating.yaml"
    path.write_text(text.replace("- StageName: Production", "- StageName: Prod"))
    assert _bad(path) == (
        f"stagelock: {path}: Resources.Pipeline.Properties.DisableInboundStageTransitions[0]"
        ".StageName: expected a stage of the pipeline (Source, UpdatePipeline, Build, Staging, "
        "Verify, Production), got 'Prod'")


def test_missing_file_is_named_as_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "absent.json"
    assert _bad(path) == (f"stagelock: {path}: expected a readable file "
                          "(No such file or directory)")


def test_malformed_json(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"pipeline": {"name": "x",\n  "stages": [}\n')
    assert _bad(path) == (f"stagelock: {path}: line 2, column 14: expected valid JSON: "
                          "Expecting value")


def test_an_unreadable_file_among_good_ones_does_not_stop_them(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    release = example("release-pipeline.json")
    status, out, err = lint(release, broken, "--stops", "0")
    assert status == 2  # the worst of the run
    assert err == (f"{broken}: line 1, column 2: expected valid JSON: Expecting property name "
                   "enclosed in double quotes (not linted; the other files were)\n")
    assert out.splitlines()[-1] == "2 findings: 2 errors, 0 warnings, 0 notes."
    _, out, _ = lint(release, broken, "--stops", "0", "--format", "json")
    doc = json.loads(out)
    assert (doc["result"], len(doc["findings"])) == ("BAD INPUT", 2)
    assert doc["unreadable"] == [{"file": str(broken), "place": "line 1, column 2",
                                  "message": err.split(" (not linted")[0]}]
    _, out, _ = lint(release, broken, "--stops", "0", "--format", "sarif")
    run = json.loads(out)["runs"][0]
    assert len(run["results"]) == 2
    [invocation] = run["invocations"]
    assert invocation["executionSuccessful"] is False
    [notice] = [n for n in invocation["toolExecutionNotifications"] if n["level"] == "error"]
    assert notice["message"]["text"].startswith(f"not linted: {broken}: line 1")
    assert notice["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == str(broken)


def test_files_without_pipelines_are_skipped_on_request(tmp_path: Path) -> None:
    package = tmp_path / "package.json"
    package.write_text('{"name": "site", "version": "1.0.0"}')
    manifests = tmp_path / "service.yaml"
    manifests.write_text("apiVersion: v1\nkind: Service\n---\napiVersion: v1\nkind: Pod\n")
    template = tmp_path / "bucket.yaml"
    template.write_text("Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n")
    site = example("static-site.yaml")
    status, out, err = lint(package, manifests, template, site, "--stops", "0",
                            "--skip-files-without-pipelines")
    assert (status, err) == (0, "")
    assert out.splitlines() == [f"No hazards found in {site}.",
                                f"{package}: declares no pipeline: skipped.",
                                f"{manifests}: declares no pipeline: skipped.",
                                f"{template}: declares no pipeline: skipped."]
    assert lint(package, site, "--stops", "0")[0] == 2  # without the option: bad input
    assert lint(package, "--skip-files-without-pipelines") == (
        0, f"No pipeline declarations to lint.\n{package}: declares no pipeline: skipped.\n", "")


def test_the_pre_commit_hook_runs_lint_on_declarations() -> None:
    hooks = read_document(ROOT / ".pre-commit-hooks.yaml")
    assert isinstance(hooks, list)
    [hook] = hooks
    assert hook["id"] == "stagelock-lint"
    assert hook["entry"] == "stagelock lint --skip-files-without-pipelines"
    assert re.search(hook["files"], "infra/pipeline.yaml") and re.search(hook["files"], "cd.tf")


def test_version() -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert out.getvalue() == f"stagelock {tool_version()}\n"
    assert re.fullmatch(r"\d+\.\d+\.\d+", tool_version())


def test_unreached_stages_are_reported_whatever_is_silenced() -> None:
    path = example("self-updating.yaml")
    _, out, _ = lint(path, "--stops", "0", "--ignore", "SL201")
    assert out.splitlines()[0] == f"No hazards found in {path}."
    assert "no execution enters Production" in out.splitlines()[1]
    _, out, _ = lint(path, "--format", "json")
    assert json.loads(out)["unreachedStages"] == [
        {"file": path, "pipeline": "Pipeline", "stages": ["Production"]}]
    _, out, _ = lint(path, "--format", "sarif")
    (invocation,) = json.loads(out)["runs"][0]["invocations"]
    (note,) = invocation["toolExecutionNotifications"]
    assert note["level"] == "note" and "no execution enters Production" in note["message"]["text"]


# --------------------------------------------------------------------------------------------
# Other formats: Terraform, and what a reader read only approximately

def test_a_terraform_file_is_linted_with_lines_in_it() -> None:
    path = "tests/data/terraform/release.tf"
    findings = report(path)
    assert {(f["ruleId"], f["severity"], f["stage"], f["action"], f["line"])
            for f in findings} == {("SL103", "warning", "Staging", "DeployStack", 107)}
    lines = (ROOT / path).read_text(encoding="utf-8").splitlines()
    assert lines[106].strip() == 'name            = "DeployStack"'
    _, out, _ = lint(path, "--format", "json")
    notes = json.loads(out)["notes"]
    assert {n["place"] for n in notes} >= {
        "aws_codepipeline.release.stage[2].action[0].configuration.StackName"}


def test_notes_on_what_was_read_approximately_are_in_every_format() -> None:
    path = "tests/data/terraform/release.tf"
    _, text, _ = lint(path)
    assert (f"{path}:116: note: aws_codepipeline.release.stage[2].action[0].configuration."
            'StackName is "${var.repo}-staging": read with the default of var.repo as '
            '"shop-api-staging"') in text.splitlines()
    _, out, _ = lint(path, "--format", "sarif")
    notices = json.loads(out)["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert any(n["level"] == "note" and "StackName" in n["message"]["text"]
               and n["locations"][0]["physicalLocation"]["region"]["startLine"] == 116
               for n in notices)
