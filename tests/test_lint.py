"""`stagelock lint` on the declarations under `examples/lint/`: the exact findings, their traces,
the three output formats, silencing rules, bad input and exit statuses.

Each example comes in two variants: `NAME` has structural hazards, `NAME.clean` has none once
the operator's hazards are left out (`--stops 0`).  The operator's hazards (SL101 abandoned
deploys finishing late, SL301 stops without a disabled transition) exist in every pipeline with
deploys or later stages as soon as one stop is allowed, so the default run of a clean variant
still reports them.

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
from spec.hazards import RULES

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = "examples/lint"

Finding = tuple[str, str, str | None]
"""(rule id, stage, action) of one finding."""


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
    return {(f["ruleId"], f["stage"], f["action"]) for f in report(*args)}


def example(name: str) -> str:
    return f"{EXAMPLES}/{name}"


# --------------------------------------------------------------------------------------------
# The findings of each example

RELEASE_STRUCTURAL = {
    ("SL201", "Test", "IntegrationTests"),
    ("SL401", "Production", "ApproveRelease"),
}
NESTED_STRUCTURAL = {
    ("SL201", "Validate", "IntegrationTests"),
    ("SL401", "UAT", "SignOffUat"),
    ("SL401", "Production", "ReviewProductionChangeSet"),
}
CROSS_ACCOUNT_STRUCTURAL = {
    ("SL102", "DeployToTest", "DeployApi"),
    ("SL102", "DeployToProduction", "DeployApi"),
    ("SL102", "DeployToTest", "PublishDnsRecords"),
}
# Production's inbound transition starts disabled and stays so: no finding there by default.
SELF_UPDATING_STRUCTURAL = {
    ("SL201", "Verify", "EndToEndTests"),
}


def _deploys(*where: tuple[str, str]) -> set[Finding]:
    return {("SL101", stage, action) for stage, action in where}


def _stops(*stages: str) -> set[Finding]:
    return {("SL301", stage, None) for stage in stages}


EXPECTED: dict[str, tuple[set[Finding], set[Finding]]] = {
    # file: (findings of the default run, findings with --stops 0)
    "release-pipeline.json": (
        RELEASE_STRUCTURAL
        | _deploys(("Staging", "DeployStaging"), ("Production", "DeployProduction"))
        | _stops("Build", "Staging", "Test", "Production"),
        RELEASE_STRUCTURAL,
    ),
    "release-pipeline.clean.json": (
        _deploys(("Staging", "DeployStaging"), ("Production", "DeployProduction"))
        | _stops("Build", "Staging", "Production"),
        set(),
    ),
    "nested-stacks.yaml": (
        NESTED_STRUCTURAL
        | _deploys(("UAT", "ExecuteUatChangeSet"), ("Validate", "DeployLoadTestStack"),
                   ("Production", "ExecuteProductionChangeSet"))
        | _stops("Build", "UAT", "Validate", "Production"),
        NESTED_STRUCTURAL,
    ),
    "nested-stacks.clean.yaml": (
        _deploys(("UAT", "ExecuteUatChangeSet"), ("Validate", "DeployLoadTestStack"),
                 ("Production", "ExecuteProductionChangeSet"))
        | _stops("Build", "UAT", "Validate", "Production"),
        set(),
    ),
    # PARALLEL mode: no stage locks, so no stop lets "the next" execution in (no SL301).
    "cross-account.json": (
        CROSS_ACCOUNT_STRUCTURAL
        | _deploys(("DeployToTest", "DeployApi"), ("DeployToProduction", "DeployApi"),
                   ("DeployToTest", "PublishDnsRecords")),
        CROSS_ACCOUNT_STRUCTURAL,
    ),
    "cross-account.clean.json": (
        _deploys(("DeployToTest", "DeployApi"), ("DeployToProduction", "DeployApi"),
                 ("DeployToTest", "PublishDnsRecords"),
                 ("DeployToProduction", "PublishDnsRecords"))
        | _stops("Build", "DeployToTest", "DeployToProduction"),
        set(),
    ),
    "self-updating.yaml": (
        SELF_UPDATING_STRUCTURAL
        | _deploys(("UpdatePipeline", "ExecutePipelineChangeSet"), ("Staging", "DeployStaging"))
        | _stops("UpdatePipeline", "Build", "Staging", "Verify"),
        SELF_UPDATING_STRUCTURAL,
    ),
    "self-updating.clean.yaml": (
        _deploys(("UpdatePipeline", "ExecutePipelineChangeSet"), ("Staging", "DeployStaging"))
        | _stops("UpdatePipeline", "Build", "Staging"),
        set(),
    ),
}
HAZARDOUS = [name for name in EXPECTED if ".clean." not in name]
CLEAN = [name for name in EXPECTED if ".clean." in name]

UNREACHED_NOTE = ("{file}: pipeline Pipeline: no execution enters Production (an inbound "
                  "transition the declaration disables stays disabled; --toggles 1 lets the "
                  "search open it), so no hazard there was looked for.")
"""The note of the text output for the self-updating examples, which disable Production's inbound
transition."""


def test_every_example_is_covered() -> None:
    on_disk = {p.name for p in (ROOT / EXAMPLES).iterdir()}
    assert on_disk == set(EXPECTED)
    assert {n.replace(".clean", "") for n in CLEAN} == set(HAZARDOUS)


@pytest.mark.parametrize("name", EXPECTED)
def test_default_findings(name: str) -> None:
    assert found(example(name)) == EXPECTED[name][0]


@pytest.mark.parametrize("name", EXPECTED)
def test_structural_findings(name: str) -> None:
    assert found(example(name), "--stops", "0") == EXPECTED[name][1]


@pytest.mark.parametrize("name", CLEAN)
def test_clean_variant_has_no_structural_finding(name: str) -> None:
    status, out, err = lint(example(name), "--stops", "0")
    expected = [f"No hazards found in {example(name)}."]
    if name.startswith("self-updating."):
        expected.append(UNREACHED_NOTE.format(file=example(name)))
    assert (status, out.splitlines(), err) == (0, expected, "")


@pytest.mark.parametrize("name", EXPECTED)
def test_operator_findings_need_a_stop(name: str) -> None:
    """Only SL101 and SL301 appear when stops are allowed, and they are errors / warnings."""
    default, structural = EXPECTED[name]
    assert {f[0] for f in default - structural} <= {"SL101", "SL301"}
    assert all(RULES[rule].operator for rule, _, _ in default - structural)
    assert not any(RULES[rule].operator for rule, _, _ in structural)


def test_every_rule_is_found_in_some_example() -> None:
    rules = {f[0] for name in EXPECTED for f in EXPECTED[name][0]}
    assert rules == set(RULES)


@pytest.mark.parametrize(("name", "args", "rule", "stage", "action", "steps"), [
    ("release-pipeline.json", (), "SL201", "Test", "IntegrationTests", 9),
    ("release-pipeline.json", (), "SL401", "Production", "ApproveRelease", 11),
    ("release-pipeline.json", (), "SL101", "Staging", "DeployStaging", 10),
    ("release-pipeline.json", (), "SL301", "Build", None, 6),
    ("nested-stacks.yaml", (), "SL201", "Validate", "IntegrationTests", 14),
    ("nested-stacks.yaml", (), "SL401", "Production", "ReviewProductionChangeSet", 22),
    ("cross-account.json", (), "SL102", "DeployToTest", "DeployApi", 8),
    ("cross-account.json", (), "SL102", "DeployToTest", "PublishDnsRecords", 10),
    ("self-updating.yaml", (), "SL301", "Verify", None, 14),
    ("self-updating.yaml", ("--toggles", "1"), "SL301", "Production", None, 17),
    ("self-updating.yaml", ("--toggles", "1"), "SL401", "Production", "ApproveRelease", 16),
    ("self-updating.yaml", ("--toggles", "1"), "SL101", "Production", "DeployProduction", 21),
])
def test_shortest_trace_lengths(name: str, args: tuple[str, ...], rule: str, stage: str,
                                action: str | None, steps: int) -> None:
    [finding] = [f for f in report(example(name), *args)
                 if (f["ruleId"], f["stage"], f["action"]) == (rule, stage, action)]
    assert len(finding["trace"]) == steps
    assert [s["step"] for s in finding["trace"]] == list(range(1, steps + 1))


def test_separate_test_stage_tests_a_newer_revision() -> None:
    [finding] = [f for f in report(example("release-pipeline.json"), "--stops", "0")
                 if f["ruleId"] == "SL201"]
    ops = [s["operation"] for s in finding["trace"]]
    assert ops[-1] == "e1's IntegrationTests succeeds"
    assert ops.index("e2's DeployStaging succeeds") < len(ops) - 1
    assert finding["message"].endswith(
        "IntegrationTests passed for e1 while StackName=invoice-api-staging held e2's revision.")


def test_abandoned_deploy_finishing_late_is_the_last_step() -> None:
    [finding] = [f for f in report(example("release-pipeline.json"))
                 if (f["ruleId"], f["stage"]) == ("SL101", "Staging")]
    ops = [s["operation"] for s in finding["trace"]]
    assert "StopPipelineExecution e1 (stop and abandon)" in ops
    assert ops[-2:] == ["e2's DeployStaging succeeds",
                        "e1's abandoned DeployStaging finishes anyway"]
    assert finding["trace"][-1]["changes"] == [
        "StackName=invoice-api-staging holds e1's revision"]


def test_change_set_replace_writes_nothing() -> None:
    """Only the CHANGE_SET_EXECUTE half of a change-set pair deploys: the REPLACE half gets no
    finding of its own, and the stack is first written when the change set is executed."""
    findings = report(example("nested-stacks.yaml"))
    actions = {f["action"] for f in findings}
    assert "CreateUatChangeSet" not in actions
    assert "CreateProductionChangeSet" not in actions
    [sl201] = [f for f in findings if f["ruleId"] == "SL201"]
    writes = [s["operation"] for s in sl201["trace"] if any("holds" in c for c in s["changes"])]
    assert writes == ["e1's ExecuteUatChangeSet succeeds", "e2's ExecuteUatChangeSet succeeds"]


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
    warning = lines.index("examples/lint/release-pipeline.json:131: warning SL401 stale-approval "
                          "[pipeline invoice-api-release, Production.ApproveRelease]")
    assert lines[warning + 2] == f"    fix: {RULES['SL401'].fix}"
    assert lines[-1] == "2 findings: 1 error, 1 warning."


def test_text_output_of_several_files() -> None:
    status, out, _ = lint(example("release-pipeline.clean.json"),
                          example("cross-account.json"), "--stops", "0")
    assert status == 1
    heads = [line for line in out.splitlines() if line.startswith(EXAMPLES)]
    assert {h.split(":")[0] for h in heads} == {example("cross-account.json")}
    assert out.splitlines()[-1] == "3 findings: 3 errors, 0 warnings."


def test_text_output_notes_the_stages_behind_a_disabled_transition() -> None:
    """The note follows the count (or "No hazards found"), one per pipeline with such stages,
    and `--toggles 1` removes it."""
    name = example("self-updating.yaml")
    status, out, err = lint(name)
    assert (status, err) == (1, "")
    assert out.splitlines()[-2:] == ["7 findings: 3 errors, 4 warnings.",
                                     UNREACHED_NOTE.format(file=name)]
    assert out.count("no execution enters") == 1
    status, out, _ = lint(name, "--toggles", "1")
    assert status == 1
    assert out.splitlines()[-1] == "10 findings: 4 errors, 6 warnings."
    assert "no execution enters" not in out
    clean = example("self-updating.clean.yaml")
    assert lint(clean, "--stops", "0", "--toggles", "1") == (
        0, f"No hazards found in {clean}.\n", "")
    status, out, _ = lint(example("release-pipeline.json"), clean, name, "--stops", "0")
    assert status == 1
    assert out.splitlines()[-3:] == ["3 findings: 2 errors, 1 warning.",
                                     UNREACHED_NOTE.format(file=clean),
                                     UNREACHED_NOTE.format(file=name)]


JSON_KEYS = {"ruleId", "rule", "severity", "file", "line", "pipeline", "stage", "action",
             "message", "fix", "trace"}


@pytest.mark.parametrize(("name", "pipeline"), [
    ("release-pipeline.json", "invoice-api-release"),
    ("nested-stacks.yaml", "CatalogPipeline"),  # Name is an !Join: the logical id names it
    ("cross-account.json", "orders-api"),
    ("self-updating.yaml", "Pipeline"),
])
def test_json_output(name: str, pipeline: str) -> None:
    findings = report(example(name))
    assert findings
    for f in findings:
        assert set(f) == JSON_KEYS
        rule = RULES[f["ruleId"]]
        assert (f["rule"], f["severity"], f["fix"]) == (rule.name, rule.severity, rule.fix)
        assert f["file"] == example(name)
        assert f["pipeline"] == pipeline
        assert isinstance(f["line"], int) and f["line"] > 0
        assert f["message"].startswith(rule.summary[0].upper() + rule.summary[1:] + ": ")
        assert f["message"].endswith(".")
        for i, step in enumerate(f["trace"], 1):
            assert set(step) == {"step", "operation", "changes"}
            assert step["step"] == i and isinstance(step["changes"], list)
    stages = _stage_names(name)
    order = [(f["severity"] != "error", f["ruleId"], stages.index(f["stage"]), f["action"] or "")
             for f in findings]
    assert order == sorted(order)


def _stage_names(name: str) -> list[str]:
    """The stages of the example's one pipeline, in the order the file declares them."""
    doc = read_document(ROOT / example(name))
    assert isinstance(doc, dict)
    if "pipeline" in doc:
        return [s["name"] for s in doc["pipeline"]["stages"]]
    [body] = [r for r in doc["Resources"].values() if r["Type"] == "AWS::CodePipeline::Pipeline"]
    return [s["Name"] for s in body["Properties"]["Stages"]]


# (rule id, stage, action, line) of each finding of the default run, in the order of the report:
# severity, rule id, the stage's position in the pipeline, then action; the line is that of the
# stage's or action's name.
ORDERED: dict[str, list[tuple[str, str, str | None, int]]] = {
    "release-pipeline.json": [
        ("SL101", "Staging", "DeployStaging", 75),
        ("SL101", "Production", "DeployProduction", 148),
        ("SL201", "Test", "IntegrationTests", 105),
        ("SL301", "Build", None, 41),
        ("SL301", "Staging", None, 72),
        ("SL301", "Test", None, 102),
        ("SL301", "Production", None, 128),
        ("SL401", "Production", "ApproveRelease", 131),
    ],
    "nested-stacks.yaml": [
        ("SL101", "UAT", "ExecuteUatChangeSet", 162),
        ("SL101", "Validate", "DeployLoadTestStack", 178),
        ("SL101", "Production", "ExecuteProductionChangeSet", 223),
        ("SL201", "Validate", "IntegrationTests", 188),
        ("SL301", "Build", None, 137),
        ("SL301", "UAT", None, 148),
        ("SL301", "Validate", None, 176),
        ("SL301", "Production", None, 203),
        ("SL401", "UAT", "SignOffUat", 169),
        ("SL401", "Production", "ReviewProductionChangeSet", 217),
    ],
    "cross-account.json": [
        ("SL101", "DeployToTest", "DeployApi", 200),
        ("SL101", "DeployToTest", "PublishDnsRecords", 228),
        ("SL101", "DeployToProduction", "DeployApi", 261),
        ("SL102", "DeployToTest", "DeployApi", 200),
        ("SL102", "DeployToTest", "PublishDnsRecords", 228),
        ("SL102", "DeployToProduction", "DeployApi", 261),
    ],
    "self-updating.yaml": [
        ("SL101", "UpdatePipeline", "ExecutePipelineChangeSet", 138),
        ("SL101", "Staging", "DeployStaging", 158),
        ("SL201", "Verify", "EndToEndTests", 172),
        ("SL301", "UpdatePipeline", None, 124),
        ("SL301", "Build", None, 146),
        ("SL301", "Staging", None, 156),
        ("SL301", "Verify", None, 170),
    ],
}


@pytest.mark.parametrize("name", HAZARDOUS)
def test_findings_in_stage_order_at_their_names(name: str) -> None:
    assert [(f["ruleId"], f["stage"], f["action"], f["line"])
            for f in report(example(name))] == ORDERED[name]
    status, out, _ = lint(example(name))
    heads = [line for line in out.splitlines() if line.startswith(f"{example(name)}:")
             and not line.startswith(f"{example(name)}: pipeline ")]
    assert [int(h.split(":")[1]) for h in heads] == [line for *_, line in ORDERED[name]]


def _names_it(lines: list[str], line: int, name: str) -> bool:
    """Whether the 1-based `line` is where the stage or action `name` is declared: its `name`
    or `Name` key with that value (JSON or YAML)."""
    pattern = rf'\s*(- )?"?[Nn]ame"?: "?{re.escape(name)}"?,?\s*'
    return re.fullmatch(pattern, lines[line - 1]) is not None


@pytest.mark.parametrize("name", HAZARDOUS)
def test_sarif_output(name: str) -> None:
    status, out, err = lint(example(name), "--format", "sarif")
    assert (status, err) == (1, "")
    sarif = json.loads(out)
    assert sarif["version"] == "2.1.0"
    assert "sarif-2.1.0" in sarif["$schema"]
    [run] = sarif["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "stagelock"
    rules = driver["rules"]
    assert [r["id"] for r in rules] == list(RULES)
    for r in rules:
        rule = RULES[r["id"]]
        assert r["name"] == rule.name
        assert r["shortDescription"]["text"] == rule.summary
        assert r["defaultConfiguration"]["level"] == rule.severity
        assert rule.fix in r["help"]["text"]
    lines = (ROOT / example(name)).read_text(encoding="utf-8").splitlines()
    expected = report(example(name))
    assert len(run["results"]) == len(expected)
    for result, f in zip(run["results"], expected, strict=True):
        assert result["ruleId"] == f["ruleId"]
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] == RULES[result["ruleId"]].severity
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
    assert len(sarif["runs"][0]["tool"]["driver"]["rules"]) == len(RULES)


# --------------------------------------------------------------------------------------------
# Silencing rules


def test_ignore_a_rule_by_id_or_name() -> None:
    path = example("release-pipeline.json")
    assert found(path, "--stops", "0", "--ignore", "SL401") == {
        ("SL201", "Test", "IntegrationTests")}
    assert found(path, "--stops", "0", "--ignore", "stale-approval") == {
        ("SL201", "Test", "IntegrationTests")}
    assert found(path, "--stops", "0", "--ignore", "SL401", "--ignore",
                 "tested-revision-differs") == set()


def test_ignore_a_rule_for_one_pipeline() -> None:
    release, nested = example("release-pipeline.json"), example("nested-stacks.yaml")
    both = found(release, nested, "--stops", "0", "--ignore", "stale-approval:invoice-api-release")
    assert both == {("SL201", "Test", "IntegrationTests")} | NESTED_STRUCTURAL
    other = found(release, nested, "--stops", "0", "--ignore", "SL401:CatalogPipeline")
    assert other == RELEASE_STRUCTURAL | {("SL201", "Validate", "IntegrationTests")}


def test_ignore_an_operator_rule() -> None:
    assert found(example("release-pipeline.clean.json"), "--ignore", "SL101", "--ignore",
                 "stop-without-disabled-transition") == set()


def _without(doc: dict, *keys: str) -> dict:
    node = doc
    for key in keys[:-1]:
        node = node[key]
    del node[keys[-1]]
    return doc


def test_in_file_ignore_of_a_get_pipeline_document(tmp_path: Path) -> None:
    source = ROOT / example("release-pipeline.clean.json")
    doc = json.loads(source.read_text(encoding="utf-8"))
    assert doc["stagelock"]["ignore"] == ["SL401"]
    unsilenced = tmp_path / "release.json"
    unsilenced.write_text(json.dumps(_without(doc, "stagelock")))
    assert found(unsilenced, "--stops", "0") == {("SL401", "Production", "ApproveRelease")}
    # the same list inside the declaration itself
    doc["pipeline"]["stagelock"] = {"ignore": ["stale-approval"]}
    inside = tmp_path / "inside.json"
    inside.write_text(json.dumps(doc))
    assert found(inside, "--stops", "0") == set()


@pytest.mark.parametrize(("name", "resource", "args", "silenced"), [
    ("nested-stacks.clean.yaml", "CatalogPipeline", (),
     {("SL401", "UAT", "SignOffUat"), ("SL401", "Production", "ReviewProductionChangeSet")}),
    # Production is entered only once its disabled transition is opened
    ("self-updating.clean.yaml", "Pipeline", ("--toggles", "1"),
     {("SL401", "Production", "ApproveRelease")}),
])
def test_in_file_ignore_of_a_cloudformation_template(tmp_path: Path, name: str, resource: str,
                                                     args: tuple[str, ...],
                                                     silenced: set[Finding]) -> None:
    doc = read_document(ROOT / example(name))
    assert isinstance(doc, dict)
    assert doc["Resources"][resource]["Metadata"]["stagelock"]["ignore"] in (
        ["stale-approval"], ["SL401"])
    text = (ROOT / example(name)).read_text(encoding="utf-8")
    start = text.index("    Metadata:\n", text.index(f"\n  {resource}:\n"))
    end = text.index("    Properties:\n", start)
    unsilenced = tmp_path / name
    unsilenced.write_text(text[:start] + text[end:])
    assert found(unsilenced, "--stops", "0", *args) == silenced
    assert found(ROOT / example(name), "--stops", "0", *args) == set()


def test_a_silenced_rule_is_explained_in_the_file() -> None:
    silencing = [name for name in CLEAN
                 if "stagelock" in (ROOT / example(name)).read_text(encoding="utf-8")]
    assert silencing == ["release-pipeline.clean.json", "nested-stacks.clean.yaml",
                         "self-updating.clean.yaml"]
    for name in silencing:
        doc = read_document(ROOT / example(name))
        assert isinstance(doc, dict)
        if name.endswith(".json"):
            assert "newer revision" in doc["stagelock"]["reason"]
        else:
            assert "stale-approval (SL401) is silenced" in doc["Description"], name


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
    disables, is never opened: no execution enters Production, so it has no finding, not even
    SL301 (the stop there that lets the next execution in); without the disabled transition it
    has them."""
    declared = found(example("self-updating.yaml"))
    assert ("SL301", "Production", None) not in declared
    assert {f for f in declared if f[1] == "Production"} == set()
    assert ("SL301", "Verify", None) in declared
    opened = found(_without_disabled_transitions(tmp_path))
    assert {f for f in opened if f[1] == "Production"} == {
        ("SL101", "Production", "DeployProduction"),
        ("SL301", "Production", None),
        ("SL401", "Production", "ApproveRelease"),
    }


def test_disabled_inbound_transition_must_be_opened_first(tmp_path: Path) -> None:
    """With one transition toggle the search may open Production's inbound transition, which the
    template disables: Production's findings come back, and every path into Production goes
    through EnableStageTransition, so their traces include it."""
    declared = [f for f in report(example("self-updating.yaml"), "--toggles", "1")
                if f["stage"] == "Production"]
    assert {(f["ruleId"], f["action"]) for f in declared} == {
        ("SL101", "DeployProduction"), ("SL301", None), ("SL401", "ApproveRelease")}
    for f in declared:
        ops = [s["operation"] for s in f["trace"]]
        assert "EnableStageTransition Production Inbound" in ops, f["ruleId"]
    others = [f for f in report(example("self-updating.yaml"), "--toggles", "1")
              if f["stage"] != "Production"]
    assert {(f["ruleId"], f["stage"], f["action"]) for f in others} == EXPECTED[
        "self-updating.yaml"][0]
    opened = [f for f in report(_without_disabled_transitions(tmp_path))
              if f["stage"] == "Production"]
    for f in opened:
        assert not any(s["operation"].startswith("EnableStageTransition") for s in f["trace"])
    assert ({(f["ruleId"], f["action"]) for f in opened}
            == {(f["ruleId"], f["action"]) for f in declared})


# --------------------------------------------------------------------------------------------
# Out-of-order deploys to one stack from two stages

TWO_STAGES = """\
pipeline:
  name: shared-stack
  pipelineType: V2
  executionMode: {mode}
  stages:
    - name: DeployA
      actions:
        - name: DeployA
          actionTypeId: {{category: Deploy, provider: CloudFormation}}
          configuration: {{ActionMode: CREATE_UPDATE, StackName: {first}}}
    - name: DeployB
      actions:
        - name: DeployB
          actionTypeId: {{category: Deploy, provider: CloudFormation}}
          configuration: {{ActionMode: CREATE_UPDATE, StackName: {second}}}
"""


def _two_stages(tmp_path: Path, mode: str, first: str, second: str) -> Path:
    path = tmp_path / f"{mode}-{first}-{second}.yaml"
    path.write_text(TWO_STAGES.format(mode=mode, first=first, second=second))
    return path


def _sl102(path: Path) -> list[dict]:
    return [f for f in report(path, "--stops", "0") if f["ruleId"] == "SL102"]


def test_parallel_stages_deploying_one_stack_reorder(tmp_path: Path) -> None:
    [f] = _sl102(_two_stages(tmp_path, "PARALLEL", "orders", "orders"))
    assert (f["stage"], f["action"]) == ("DeployA", "DeployA")
    assert [s["operation"] for s in f["trace"]] == [
        "StartPipelineExecution -> e1",
        "StartPipelineExecution -> e2",
        "e2's DeployA succeeds",
        "e1's DeployA succeeds",
    ]
    assert f["message"].endswith("StackName=orders went back from e2's revision to e1's when a "
                                 "deployment of e1 finished.")
    assert f["fix"] == ("give each stage a target of its own, and in PARALLEL mode each "
                        "execution too (or use QUEUED mode)")


def test_parallel_mode_reorders_even_unshared_stacks(tmp_path: Path) -> None:
    findings = _sl102(_two_stages(tmp_path, "PARALLEL", "orders", "billing"))
    assert {(f["stage"], len(f["trace"])) for f in findings} == {("DeployA", 4), ("DeployB", 6)}


def test_queued_mode_keeps_unshared_stacks_in_order(tmp_path: Path) -> None:
    assert _sl102(_two_stages(tmp_path, "QUEUED", "orders", "billing")) == []


@pytest.mark.parametrize("mode", ["QUEUED", "SUPERSEDED"])
def test_one_stack_deployed_by_two_stages_goes_back_in_any_mode(tmp_path: Path,
                                                                mode: str) -> None:
    """A stack that two stages deploy: the older execution reaches the later stage after the
    newer one has deployed in the earlier stage, whatever the mode."""
    [f] = _sl102(_two_stages(tmp_path, mode, "orders", "orders"))
    assert [s["operation"] for s in f["trace"]] == [
        "StartPipelineExecution -> e1",
        "StartPipelineExecution -> e2",
        "e1's DeployA succeeds",
        "e2's DeployA succeeds",
        "e1's DeployB succeeds",
    ]


def test_cross_account_in_queued_mode_still_reorders_the_shared_stack(tmp_path: Path) -> None:
    doc = json.loads((ROOT / example("cross-account.json")).read_text(encoding="utf-8"))
    doc["Resources"]["OrdersPipeline"]["Properties"]["ExecutionMode"] = "QUEUED"
    path = tmp_path / "queued.json"
    path.write_text(json.dumps(doc))
    assert found(path, "--stops", "0") == {("SL102", "DeployToTest", "PublishDnsRecords")}


# --------------------------------------------------------------------------------------------
# Exit statuses and bad input

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


def test_exit_statuses(tmp_path: Path) -> None:
    release = example("release-pipeline.json")
    assert lint(release)[0] == 1  # errors
    assert lint(release, "--stops", "0", "--ignore", "SL201")[0] == 0  # one warning
    assert lint(example("release-pipeline.clean.json"), "--stops", "0")[0] == 0  # nothing
    path = tmp_path / "docs-site.yaml"
    path.write_text(APPROVALS_ONLY)
    status, out, _ = lint(path)
    assert status == 0  # no deploy: nothing at error level, even with a stop
    assert found(path) == {("SL301", "Build", None), ("SL301", "Publish", None),
                           ("SL401", "Publish", "Review")}
    assert out.splitlines()[-1] == "3 findings: 0 errors, 3 warnings."


RULE_LIST = ("(SL101, SL102, SL201, SL301, SL401; out-of-order-deployment-after-abandon, "
             "out-of-order-deployment, tested-revision-differs, stop-without-disabled-transition, "
             "stale-approval)")


def _bad(*args: str | Path) -> str:
    status, out, err = lint(*args)
    assert (status, out) == (2, "")
    assert err.count("\n") == 1 and err.startswith("stagelock: ")
    return err.rstrip("\n")


def test_unknown_rule_on_the_command_line() -> None:
    assert _bad(example("release-pipeline.json"), "--ignore", "SL999") == (
        f"stagelock: command line: --ignore #1: expected a rule id or name {RULE_LIST}, "
        "got 'SL999'")
    assert _bad(example("release-pipeline.json"), "--ignore", "SL401",
                "--ignore", "stale:invoice-api-release") == (
        f"stagelock: command line: --ignore #2: expected a rule id or name {RULE_LIST}, "
        "got 'stale'")


def test_ignore_for_a_pipeline_that_no_file_declares() -> None:
    release, nested = example("release-pipeline.json"), example("nested-stacks.yaml")
    assert _bad(release, nested, "--stops", "0", "--ignore", "SL401:CatalogPipeline",
                "--ignore", "SL201:catalog-pipeline") == (
        "stagelock: command line: --ignore #2: expected RULE:PIPELINE with a pipeline of the "
        "files (CatalogPipeline, invoice-api-release), got 'catalog-pipeline'")
    # a pipeline of another file than the one linted is unknown too
    assert _bad(release, "--stops", "0", "--ignore", "SL401:CatalogPipeline") == (
        "stagelock: command line: --ignore #1: expected RULE:PIPELINE with a pipeline of the "
        "files (invoice-api-release), got 'CatalogPipeline'")


def test_transition_toggles_out_of_bounds() -> None:
    release = example("release-pipeline.json")
    assert _bad(release, "--toggles", "21") == (
        "stagelock: command line: --toggles: expected an integer from 0 to 20, got 21")
    assert _bad(release, "--toggles", "-1") == (
        "stagelock: command line: --toggles: expected an integer from 0 to 20, got -1")


def test_unknown_rule_in_a_get_pipeline_document(tmp_path: Path) -> None:
    doc = json.loads((ROOT / example("release-pipeline.clean.json")).read_text(encoding="utf-8"))
    doc["stagelock"]["ignore"] = ["SL401", "SL999"]
    path = tmp_path / "release.json"
    path.write_text(json.dumps(doc))
    assert _bad(path) == (f"stagelock: {path}: stagelock.ignore[1]: expected a rule id or name "
                          f"{RULE_LIST}, got 'SL999'")


def test_malformed_ignore_list(tmp_path: Path) -> None:
    doc = json.loads((ROOT / example("release-pipeline.clean.json")).read_text(encoding="utf-8"))
    doc["stagelock"] = {"ignore": "SL401"}
    path = tmp_path / "release.json"
    path.write_text(json.dumps(doc))
    assert _bad(path) == f"stagelock: {path}: stagelock: expected {{ignore: [rule ids or names]}}"


def test_unknown_rule_in_a_cloudformation_template(tmp_path: Path) -> None:
    text = (ROOT / example("nested-stacks.clean.yaml")).read_text(encoding="utf-8")
    path = tmp_path / "nested.yaml"
    path.write_text(text.replace("ignore: [stale-approval]", "ignore: [stale-approvals]"))
    assert _bad(path) == (
        f"stagelock: {path}: Resources.CatalogPipeline.Metadata.stagelock.ignore[0]: expected a "
        f"rule id or name {RULE_LIST}, got 'stale-approvals'")


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


def test_bad_file_among_good_ones_prints_no_findings(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{")
    assert _bad(example("release-pipeline.json"), path).startswith(f"stagelock: {path}: line 1")


def test_unreached_stages_are_reported_whatever_is_silenced() -> None:
    """The note on stages behind a declared-disabled transition does not depend on which rules
    run, and the JSON and SARIF outputs carry it too."""
    path = example("self-updating.yaml")
    ignore = ["--ignore", "SL102", "--ignore", "SL201", "--ignore", "SL401"]
    _, out, _ = lint(path, "--stops", "0", *ignore)
    assert out.splitlines()[0] == f"No hazards found in {path}."
    assert "no execution enters Production" in out.splitlines()[1]
    _, out, _ = lint(path, "--format", "json")
    assert json.loads(out)["unreachedStages"] == [
        {"file": path, "pipeline": "Pipeline", "stages": ["Production"]}]
    _, out, _ = lint(path, "--format", "sarif")
    (invocation,) = json.loads(out)["runs"][0]["invocations"]
    (note,) = invocation["toolExecutionNotifications"]
    assert note["level"] == "note" and "no execution enters Production" in note["message"]["text"]
    _, out, _ = lint(path, "--format", "json", "--toggles", "1")
    assert json.loads(out)["unreachedStages"] == []
