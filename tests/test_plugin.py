"""The pytest plugin, `checker.testing` and `checker.strategies`: what a CodePipeline user gets
for tests about their own pipelines.  Projects of their own are run with pytest's `pytester`."""

from __future__ import annotations

import json
from importlib import resources

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checker import pytest_plugin, testing
from checker.check import REFUTED, reference_pipeline
from checker.errors import InputError
from checker.strategies import operation_sequences, pipelines
from checker.testing import CheckAssertionError, assert_proved, assert_refuted, check
from spec.declaration import parse_pipeline, pipeline_to_dict
from spec.rules import apply, build_model, refusal

pytest_plugins = ["pytester"]

REFERENCE_JSON = str(resources.files("checker").joinpath("reference-pipeline.json"))

OVERTAKES = """
from checker.check import reference_pipeline


def overtakes(stagelock):
    return stagelock.check(reference_pipeline(), "QUEUED", variants=["queued-overtakes"],
                           properties=["queued-never-overtakes"])
"""

PASSING_SCENARIO = """
description: the first execution runs both stages
pipeline:
  name: app
  stages:
    - name: Source
      actions: [{name: Checkout, actionTypeId: {category: Source}}]
    - name: Deploy
      actions: [{name: Release, actionTypeId: {category: Deploy}}]
steps:
  - start: e1
  - succeed: {execution: e1, action: Checkout}
  - succeed: {execution: e1, action: Release}
  - expect:
      executions: {e1: Succeeded}
"""

FAILING_SCENARIO = PASSING_SCENARIO.replace(
    "  - succeed: {execution: e1, action: Release}\n", "")


# --------------------------------------------------------------------------------------------
# checker.testing, called directly


@pytest.fixture(scope="module")
def overtaken() -> testing.CheckOutcome:
    return check(reference_pipeline(), "QUEUED", variants=["queued-overtakes"],
                 properties=["queued-never-overtakes"])


def test_a_path_a_dict_and_a_pipeline_give_the_same_verdicts() -> None:
    with open(REFERENCE_JSON) as file:
        document = json.load(file)
    outcomes = [check(d, executions=1, stops=0, retries=0, toggles=0)
                for d in (REFERENCE_JSON, document, reference_pipeline())]
    assert [o.config.source for o in outcomes] == [
        REFERENCE_JSON, "declaration given as a dict", "built-in reference pipeline"]
    verdicts = {tuple((v.property.name, v.verdict) for r in o.results for v in r.verdicts)
                for o in outcomes}
    assert len(verdicts) == 1
    assert all(o.modes == ("SUPERSEDED",) for o in outcomes)
    # one execution, no stops, retries or toggles: witnesses of those cannot apply
    assert outcomes[0].refuted == []
    assert {"supersession-happens", "retry-succeeds"} <= set(outcomes[0].not_applicable)
    assert outcomes[0].verdict("supersession-happens") == "NOT APPLICABLE"
    assert outcomes[0].trace("supersession-happens") is None
    assert outcomes[0].verdict("one-execution-per-stage-lock") == "PROVED"
    assert str(outcomes[0]).endswith("Result: PROVED")
    assert outcomes[0].proved
    assert repr(outcomes[0]).startswith("<CheckOutcome reference [SUPERSEDED]: PROVED, ")


def test_modes_and_properties_select_what_is_explored() -> None:
    outcome = check(reference_pipeline(), "all", executions=1, stops=0, retries=0, toggles=0,
                    properties="queued-never-overtakes")
    assert outcome.modes == ("QUEUED",)  # the property applies to QUEUED only
    assert outcome.verdict("queued-never-overtakes") == "PROVED"
    with pytest.raises(KeyError, match="no-deadlock was not checked"):
        outcome.verdict("no-deadlock")
    with pytest.raises(KeyError, match="not a property"):
        outcome.verdict("no-such-property")


@pytest.mark.parametrize(("arguments", "message"), [
    ({"mode": "FASTEST"}, r"check\(\): mode\[0\]: expected a mode name"),
    ({"executions": 0}, r"check\(\): executions: expected an integer from 1 to 50, got 0"),
    ({"properties": ["never"]}, r"check\(\): properties\[0\]: expected a property name"),
    ({"variants": ["nope"]}, r"check\(\): variants\[0\]: expected a variant name"),
    ({"mode": "PARALLEL", "properties": ["queued-never-overtakes"]},
     r"expected a property that applies to PARALLEL"),
    ({"failures": "yes"}, r"check\(\): failures: expected true or false"),
])
def test_bad_arguments_are_input_errors(arguments: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=message):
        check(reference_pipeline(), **arguments)  # type: ignore[arg-type]


def test_a_bad_declaration_is_an_input_error() -> None:
    with pytest.raises(InputError, match=r"declaration given as a dict: stages: expected"):
        check({"name": "p"})
    with pytest.raises(InputError, match=r"expected a path, a dict"):
        check(42)  # type: ignore[arg-type]


def test_outcome_verdicts_and_traces(overtaken: testing.CheckOutcome) -> None:
    assert not overtaken.proved
    assert overtaken.refuted == ["queued-never-overtakes"]
    assert overtaken.verdict("queued-never-overtakes", "QUEUED") == REFUTED
    trace = overtaken.trace("queued-never-overtakes")
    assert trace is not None and len(trace) == 4 and trace.mode == "QUEUED"
    assert str(trace).splitlines()[0].startswith(" 1. StartPipelineExecution -> e1")
    assert trace.steps[3]["operation"] == "e1's Source succeeds"
    shown = repr(overtaken)
    assert "\n" not in shown
    assert "REFUTED queued-never-overtakes in QUEUED: e3 entered stage Source" in shown
    assert "4. e1's Source succeeds>" in shown


def test_helpers_fail_with_the_verdicts(overtaken: testing.CheckOutcome) -> None:
    assert_refuted(overtaken, "queued-never-overtakes", "QUEUED", steps=4)
    with pytest.raises(CheckAssertionError, match="after 3 steps, got 4 steps"):
        assert_refuted(overtaken, "queued-never-overtakes", steps=3)
    with pytest.raises(CheckAssertionError) as failed:
        assert_proved(overtaken, "queued-never-overtakes")
    message = str(failed.value).splitlines()
    assert message[0] == "not PROVED: queued-never-overtakes"
    assert "rule variants: queued-overtakes" in message[1]
    assert message[-1].startswith("       4. e1's Source succeeds  ")


# --------------------------------------------------------------------------------------------
# The plugin, in projects of their own


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """pytest in this process on the project under `pytester.path`.  (The package's modules are
    imported already, so pytest cannot mark them for assertion rewriting again, and says so.)"""
    return pytester.runpytest("-W", "ignore::pytest.PytestAssertRewriteWarning", *args)


def test_the_plugin_is_installed_with_the_package(pytester: pytest.Pytester) -> None:
    config = pytester.parseconfig()
    assert config.pluginmanager.get_plugin("stagelock") is pytest_plugin


def test_fixture_and_helpers_pass_on_the_reference_pipeline(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(OVERTAKES + '''

def test_reference(stagelock):
    outcome = stagelock.check(reference_pipeline(), executions=2)
    assert outcome.proved
    assert outcome.refuted == []
    assert outcome.verdict("one-execution-per-stage-lock") == "PROVED"
    stagelock.assert_proved(outcome)
    stagelock.assert_proved(outcome, "no-deadlock", "supersession-happens")


def test_variant_is_refuted_after_four_steps(stagelock):
    stagelock.assert_refuted(overtakes(stagelock), "queued-never-overtakes", steps=4)
''')
    run(pytester).assert_outcomes(passed=2)


def test_failing_assert_proved_shows_the_numbered_trace(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(OVERTAKES + '''

def test_proved(stagelock):
    stagelock.assert_proved(overtakes(stagelock))
''')
    result = run(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "E * checker.testing.CheckAssertionError: not PROVED: queued-never-overtakes",
        "E *     e3 entered stage Source ahead of e2, which was waiting before it, after 4 steps:",
        "E *      1. StartPipelineExecution -> e1  | e1: InProgress, in Source, Source InProgress",
        "E *      4. e1's Source succeeds   *",
    ])
    result.stdout.no_fnmatch_line("*stagelock check of reference*")  # not shown twice


def test_a_plain_assert_shows_the_report(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(OVERTAKES + '''

def test_proved(stagelock):
    outcome = overtakes(stagelock)
    assert outcome.proved
''')
    result = run(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "E   * where False = <CheckOutcome reference [[]QUEUED[]]: REFUTED queued-never-*",
        "*- stagelock check of reference: REFUTED -*",
        "  REFUTED      queued-never-overtakes  *",
        "       1. StartPipelineExecution -> e1  | *",
        "       4. e1's Source succeeds          | *",
    ])


def test_scenario_files_from_the_ini_option(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml("""
        [tool.pytest.ini_options]
        stagelock_scenarios = ["pipelines/*.scenario.yaml"]
    """)
    pytester.mkdir("pipelines")
    pytester.path.joinpath("pipelines", "deploys.scenario.yaml").write_text(PASSING_SCENARIO)
    pytester.path.joinpath("pipelines", "stuck.scenario.yaml").write_text(FAILING_SCENARIO)
    pytester.path.joinpath("pipelines", "other.yaml").write_text("not: a scenario")
    result = run(pytester, "-v")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines_random([
        "pipelines/deploys.scenario.yaml::deploys.scenario.yaml PASSED*",
        "pipelines/stuck.scenario.yaml::stuck.scenario.yaml FAILED*",
        "*_ scenario pipelines/stuck.scenario.yaml _*",
        "FAILED step 3 (expect): execution e1: expected Succeeded, got InProgress",
    ])
    result.stdout.no_fnmatch_line("*Traceback*")


def test_scenario_files_from_the_command_line(pytester: pytest.Pytester) -> None:
    pytester.mkdir("pipelines")
    pytester.path.joinpath("pipelines", "deploys.scenario.yaml").write_text(PASSING_SCENARIO)
    assert run(pytester).ret == pytest.ExitCode.NO_TESTS_COLLECTED  # not asked for
    result = run(pytester, "--stagelock-scenarios=pipelines/*.yaml",
                                "--stagelock-scenarios=elsewhere/*.yaml")
    result.assert_outcomes(passed=1)


def test_a_malformed_scenario_is_one_line(pytester: pytest.Pytester) -> None:
    pytester.path.joinpath("broken.scenario.yaml").write_text("pipeline: {name: app}\nsteps: []\n")
    result = run(pytester, "--stagelock-scenarios=*.scenario.yaml")
    result.assert_outcomes(failed=1)
    lines = result.stdout.lines
    header = next(i for i, line in enumerate(lines) if "_ scenario broken.scenario.yaml _" in line)
    assert lines[header + 1].startswith("stagelock: ")
    assert lines[header + 1].endswith(
        "broken.scenario.yaml: pipeline.stages: expected a non-empty list of stages, "
        "but it is missing")
    assert "short test summary" in lines[header + 2]


# --------------------------------------------------------------------------------------------
# checker.strategies


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_strategies_give_valid_pipelines_and_accepted_operations(data: st.DataObject) -> None:
    pipeline = data.draw(pipelines(max_stages=3, modes=("QUEUED", "PARALLEL")))
    assert parse_pipeline(pipeline_to_dict(pipeline)) == pipeline
    assert pipeline.execution_mode in ("QUEUED", "PARALLEL")
    m = build_model(pipeline)
    steps = data.draw(operation_sequences(m, max_steps=12, max_executions=2, max_updates=1,
                                          max_rollbacks=1))
    assert len(steps) <= 12
    state = m.initial()
    for op, after in steps:
        assert refusal(m, state, op) is None, op
        assert apply(m, state, op) == after
        state = after
    triggers = [ex.trigger for ex in state.executions]
    assert triggers.count(None) <= 2 and triggers.count("ManualRollback") <= 1
    assert state.version <= 1


def test_strategies_refuse_bad_arguments() -> None:
    with pytest.raises(ValueError, match="modes"):
        pipelines(modes=("FAST",))
    with pytest.raises(ValueError, match="max_steps"):
        operation_sequences(build_model(reference_pipeline()), max_steps=-1)


def test_check_explores_pipeline_updates() -> None:
    outcome = testing.check(reference_pipeline(), "QUEUED", executions=1, stops=0, retries=1,
                            toggles=0, updates=1,
                            properties=["no-retry-across-update",
                                        "finished-executions-never-change"])
    assert outcome.proved
    assert outcome.verdict("no-retry-across-update") == "PROVED"
