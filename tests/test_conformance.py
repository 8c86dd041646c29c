"""Conformance scenarios: every documented behaviour shown as a scenario file that must pass.

Each file under `tests/conformance/` is run through the simulator and must pass.  The files under
`tests/conformance/variants/` show what a rule variant changes: they pass with their variant and
must fail with the documented rules.  `docs/rules.md` maps the documentation to rules and these
files; the last tests keep that table true.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import re
from pathlib import Path

import pytest

from checker.cli import main
from checker.scenario import load_scenario, run_scenario
from spec.properties import PROPERTIES
from spec.rules import DOCUMENTED, build_model
from spec.variants import VARIANTS

ROOT = Path(__file__).resolve().parent.parent
CONFORMANCE = ROOT / "tests" / "conformance"
VARIANT_DIR = CONFORMANCE / "variants"
RULES_DOC = ROOT / "docs" / "rules.md"

SCENARIOS = sorted(CONFORMANCE.rglob("*.yaml"))
VARIANT_SCENARIOS = sorted(VARIANT_DIR.glob("*.yaml"))


def _id(path: Path) -> str:
    return str(path.relative_to(CONFORMANCE))


def test_there_are_scenarios() -> None:
    assert len(SCENARIOS) > len(VARIANT_SCENARIOS) > 0


@pytest.mark.parametrize("path", SCENARIOS, ids=_id)
def test_scenario_passes(path: Path) -> None:
    run = run_scenario(load_scenario(path))
    assert run.failures == [], "\n".join(run.failures)


@pytest.mark.parametrize("path", SCENARIOS, ids=_id)
def test_scenario_describes_and_pins_its_behaviour(path: Path) -> None:
    """A description quoting what it shows, and expectations that each compare something."""
    scenario = load_scenario(path)
    assert len(scenario.description.split()) >= 10, "the description should quote the docs"
    expects = [s for s in scenario.steps if s.kind == "expect"]
    assert expects, "a scenario without expect steps proves little"
    for step in expects:
        assert step.expectation is not None and step.expectation.items, (
            f"{step.place} compares nothing"
        )


@pytest.mark.parametrize("path", VARIANT_SCENARIOS, ids=_id)
def test_variant_scenario_fails_under_documented_rules(path: Path) -> None:
    """Each variant scenario shows a real difference: with its variant removed it fails."""
    scenario = load_scenario(path)
    assert scenario.model.rules != DOCUMENTED, "a variant scenario must name its variant"
    m = scenario.model
    scenario.model = build_model(m.pipeline, m.policy.name, DOCUMENTED)
    assert run_scenario(scenario).failures, "the scenario also passes under the documented rules"


def test_every_variant_has_a_scenario() -> None:
    shown = set()
    for path in VARIANT_SCENARIOS:
        names = load_scenario(path).model.rules.variants
        assert len(names) == 1, f"{path.name} should show one variant"
        assert path.stem == names[0], f"{path.name} should be named after its variant"
        shown.add(names[0])
    assert shown == set(VARIANTS)


def test_documented_scenarios_use_no_variant() -> None:
    for path in SCENARIOS:
        if path.parent == CONFORMANCE:
            assert load_scenario(path).model.rules == DOCUMENTED, path.name


# --------------------------------------------------------------------------------------------
# The command line on a scenario


def test_cli_simulate_passing_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["simulate", str(CONFORMANCE / "superseded-waiting-execution.yaml")])
    out = capsys.readouterr()
    assert status == 0
    assert "steps passed" in out.out
    assert out.err == ""


def test_cli_simulate_shows_retry_stage_metadata(capsys: pytest.CaptureFixture[str]) -> None:
    """GetPipelineState's retryStageMetadata: autoStageRetryAttempt, and latestRetryTrigger
    while the automatic retry is the only retry of the execution."""
    path = CONFORMANCE / "automatic-retry-failed-actions.yaml"
    scenario = load_scenario(path)
    scenario.steps = scenario.steps[:5]  # up to the failure the stage retries
    run = run_scenario(scenario)
    from checker.view import pipeline_state, render_state

    m, state = scenario.model, run.final
    staging = pipeline_state(m, state, run.names)["stageStates"][1]
    assert staging["retryStageMetadata"] == {"autoStageRetryAttempt": 1,
                                             "latestRetryTrigger": "AutomatedStageRetry"}
    assert "e1 InProgress (retried automatically)" in render_state(m, state, run.names)
    status = main(["simulate", str(CONFORMANCE / "automatic-retry-once-then-manual.yaml"),
                   "--json"])
    final = json.loads(capsys.readouterr().out)["final"]
    assert status == 0
    # retried by hand after the automatic attempt: which retry came last is not shown
    assert final["stageStates"][1]["retryStageMetadata"] == {"autoStageRetryAttempt": 1}
    assert "retryStageMetadata" not in final["stageStates"][0]


def test_cli_simulate_lists_stopped_inbound_execution(capsys: pytest.CaptureFixture[str]) -> None:
    """GetPipelineState's inboundExecutions lists the stopped inbound execution as Stopped, in
    JSON and in the table, while the queue in front of the stage is empty."""
    path = CONFORMANCE / "stopped-inbound-does-not-continue.yaml"
    status = main(["simulate", str(path), "--json"])
    final = json.loads(capsys.readouterr().out)["final"]
    assert status == 0
    assert final["stageStates"][1]["inboundExecutions"] == [
        {"pipelineExecutionId": "e1", "status": "Stopped"}]
    scenario = load_scenario(path)
    run = run_scenario(scenario)
    assert run.final.inbound[1] == ()
    from checker.view import render_state

    row = [line for line in render_state(scenario.model, run.final, run.names).splitlines()
           if line.strip().startswith("Production")][0]
    assert "e1 Stopped" in row


FAILING = """\
description: an expectation that does not hold and a refusal nobody expected
pipeline:
  name: release
  stages:
    - name: Source
      actions: [{name: Checkout, actionTypeId: {category: Source}}]
    - name: Build
      actions: [{name: Compile, actionTypeId: {category: Build}}]
steps:
  - start: e1
  - succeed: {execution: e1, action: Checkout}
  - expect:
      executions: {e1: Succeeded}
  - retry: {execution: e1, stage: Build}
"""


def test_cli_simulate_failing_scenario(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "failing.yaml"
    path.write_text(FAILING)
    status = main(["simulate", str(path)])
    out = capsys.readouterr()
    assert status == 1
    lines = out.out.splitlines()
    assert "FAILED step 3 (expect): execution e1: expected Succeeded, got InProgress" in lines
    assert ("FAILED step 4 (retry e1 Build FAILED_ACTIONS): refused with "
            "StageNotRetryableException (add `error: StageNotRetryableException` if that is what "
            "you expect)") in lines
    assert out.err == ""


# --------------------------------------------------------------------------------------------
# docs/rules.md


def _doc() -> str:
    return RULES_DOC.read_text(encoding="utf-8")


def _linked_files() -> list[Path]:
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", _doc())
    return [(RULES_DOC.parent / t).resolve() for t in targets if not t.startswith("http")]


def test_rules_doc_links_exist() -> None:
    missing = [str(p) for p in _linked_files() if not p.exists()]
    assert not missing, missing


def test_rules_doc_names_every_scenario() -> None:
    linked = set(_linked_files())
    missing = [_id(p) for p in SCENARIOS if p.resolve() not in linked]
    assert not missing, f"not in docs/rules.md: {missing}"


SPEC_NAME = re.compile(
    r"(rules|modes|state|operations|properties|variants|declaration|hazards|world)"
    r"\.[A-Za-z_][\w.]*\Z"
)
HYPHENATED = re.compile(r"[a-z]+(?:-[a-z]+)+\Z")
TEST_NAME = re.compile(r"test_\w+\Z")


def test_rules_doc_names_exist() -> None:
    """Every `module.name` in backticks is a name in spec/, every `hyphenated-name` a property
    or a variant, every `test_name` a test in tests/test_bad_input.py."""
    bad_input_tests = (ROOT / "tests" / "test_bad_input.py").read_text(encoding="utf-8")
    unknown = []
    checked = 0
    for token in re.findall(r"`([^`\n]+)`", _doc()):
        if SPEC_NAME.match(token):
            module, *attrs = token.split(".")
            obj: object = importlib.import_module(f"spec.{module}")
            for attr in attrs:
                if dataclasses.is_dataclass(obj) and attr in {
                        f.name for f in dataclasses.fields(obj)}:
                    break  # a field of a policy or a state: its value is per instance
                if not hasattr(obj, attr):
                    unknown.append(token)
                    break
                obj = getattr(obj, attr)
            checked += 1
        elif HYPHENATED.match(token):
            if token not in PROPERTIES and token not in VARIANTS:
                unknown.append(token)
            checked += 1
        elif TEST_NAME.match(token):
            if f"def {token}(" not in bad_input_tests:
                unknown.append(token)
            checked += 1
    assert checked > 50
    assert not unknown, unknown


def test_rules_doc_lists_every_decision() -> None:
    """Every rule whose docstring says "Decision:" is named in the Decisions section."""
    decisions = _doc().split("## Decisions", 1)[1]
    for module_name in ("rules", "modes"):
        module = importlib.import_module(f"spec.{module_name}")
        for name, obj in vars(module).items():
            doc = getattr(obj, "__doc__", None) or ""
            if callable(obj) and getattr(obj, "__module__", "") == module.__name__ and (
                "Decision:" in doc
            ):
                assert f"`{module_name}.{name}`" in decisions, name
