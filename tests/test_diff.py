"""stagelock diff: the product search of two rule sets, its witnesses, verdicts and errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from checker.check import EXAMPLE_PIPELINES, reference_pipeline
from checker.cli import main
from checker.diff import (
    DIFFERENT_RESULT,
    REFUSED_UNDER_BASE,
    REFUSED_UNDER_OTHER,
    observe,
    product_search,
)
from checker.engine import Bounds, explore
from checker.scenario import load_scenario, run_scenario
from spec.operations import StartPipelineExecution
from spec.rules import DOCUMENTED, apply, build_model
from spec.state import ABANDON
from spec.variants import VARIANTS, rule_set

ROOT = Path(__file__).resolve().parent.parent
TWO_STAGE = ROOT / "tests" / "baseline" / "two-stage.yaml"
EXAMPLE = ROOT / "examples" / "newest-first.py"
REFERENCE = reference_pipeline()
MODES = ("SUPERSEDED", "QUEUED", "PARALLEL")
SMALL = ["--executions", "2"]


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(argv)
    out, err = capsys.readouterr()
    return status, out, err


def test_observe_hides_stop_kind_retried_flag_and_position():
    m = build_model(REFERENCE, "SUPERSEDED")
    state = apply(m, m.initial(), m.operation(StartPipelineExecution))
    ex = state.executions[0]
    hidden = state.but(executions=(ex.but(stop=ABANDON, retried=True, stage=2, waiting=True),))
    assert observe(hidden) == observe(state)
    seen = state.but(executions=(ex.but(status="Stopped"),))
    assert observe(seen) != observe(state)
    hash(observe(state))


@pytest.mark.parametrize(("mode", "states"), [
    ("SUPERSEDED", 22_690), ("QUEUED", 22_197), ("PARALLEL", 30_071)])
def test_a_rule_set_against_itself_is_the_same(mode, states, capsys):
    status, out, _ = run(["diff", "--rules", "documented", "--rules", "documented", "--mode",
                          mode, *SMALL, "--json"], capsys)
    assert status == 0
    report = json.loads(out)
    assert report["result"] == "SAME"
    (result,) = report["modes"]
    # Identical rules walk in lockstep: the product is as large as the space itself.
    assert result["productStates"] == states and result["complete"] is True
    assert result["differences"] == [] and result["verdicts"] == []


def test_a_variant_against_itself_is_the_same(capsys):
    status, out, _ = run(["diff", "--rules", "queued-overtakes", "--rules", "queued-overtakes",
                          "--mode", "QUEUED", "--executions", "1"], capsys)
    assert status == 0 and "no observable difference" in out and "Result: SAME" in out


# (variant, mode, kind, operation of the shortest witness, its length), at 2 executions
BROKEN = [
    ("supersede-inside-stage", "SUPERSEDED", DIFFERENT_RESULT, "StartPipelineExecution", 2),
    ("retry-after-supersession", "SUPERSEDED", REFUSED_UNDER_BASE, "RetryStageExecution", 6),
    ("stopped-inbound-enters", "SUPERSEDED", DIFFERENT_RESULT, "StopPipelineExecution", 3),
    ("stopped-inbound-enters", "QUEUED", DIFFERENT_RESULT, "StopPipelineExecution", 3),
    ("stopped-inbound-enters", "PARALLEL", DIFFERENT_RESULT, "StopPipelineExecution", 4),
    ("queued-overtakes", "QUEUED", DIFFERENT_RESULT, "EnableStageTransition", 6),
    ("stop-releases-lock-early", "SUPERSEDED", DIFFERENT_RESULT, "StopPipelineExecution", 3),
    ("stop-releases-lock-early", "QUEUED", DIFFERENT_RESULT, "StopPipelineExecution", 3),
    ("approval-does-not-lock", "SUPERSEDED", DIFFERENT_RESULT, "ActionSucceeded", 10),
    ("approval-does-not-lock", "QUEUED", DIFFERENT_RESULT, "ActionSucceeded", 10),
    ("failure-keeps-lock", "SUPERSEDED", DIFFERENT_RESULT, "ActionFailed", 3),
    ("failure-keeps-lock", "QUEUED", DIFFERENT_RESULT, "ActionFailed", 3),
    ("superseded-mode-queues", "SUPERSEDED", DIFFERENT_RESULT, "ActionSucceeded", 5),
    ("queued-supersedes", "QUEUED", DIFFERENT_RESULT, "ActionSucceeded", 5),
    ("abandon-leaves-actions-running", "SUPERSEDED", DIFFERENT_RESULT, "ActionsAbandoned", 3),
    ("abandon-leaves-actions-running", "QUEUED", DIFFERENT_RESULT, "ActionsAbandoned", 3),
    ("abandon-leaves-actions-running", "PARALLEL", DIFFERENT_RESULT, "ActionsAbandoned", 3),
    ("stop-wait-starts-next-group", "SUPERSEDED", DIFFERENT_RESULT, "ActionSucceeded", 3),
    ("stop-wait-starts-next-group", "QUEUED", DIFFERENT_RESULT, "ActionSucceeded", 3),
    ("stop-wait-starts-next-group", "PARALLEL", DIFFERENT_RESULT, "ActionSucceeded", 3),
    ("failed-stage-moves-on", "SUPERSEDED", DIFFERENT_RESULT, "ActionFailed", 2),
    ("failed-stage-moves-on", "QUEUED", DIFFERENT_RESULT, "ActionFailed", 2),
    ("failed-stage-moves-on", "PARALLEL", DIFFERENT_RESULT, "ActionFailed", 2),
    ("automatic-retry-twice", "SUPERSEDED", DIFFERENT_RESULT, "ActionFailed", 5),
    ("automatic-retry-twice", "QUEUED", DIFFERENT_RESULT, "ActionFailed", 5),
    ("automatic-retry-twice", "PARALLEL", DIFFERENT_RESULT, "ActionFailed", 5),
    # on the gated pipeline, which has stage conditions
    ("entry-condition-does-not-lock", "SUPERSEDED", DIFFERENT_RESULT, "ActionSucceeded", 6),
    ("entry-condition-does-not-lock", "QUEUED", DIFFERENT_RESULT, "ActionSucceeded", 6),
    ("skip-runs-stage", "SUPERSEDED", DIFFERENT_RESULT, "ConditionFailed", 4),
    ("skip-runs-stage", "QUEUED", DIFFERENT_RESULT, "ConditionFailed", 4),
    ("skip-runs-stage", "PARALLEL", DIFFERENT_RESULT, "ConditionFailed", 4),
    # with one pipeline update
    ("cancelled-can-retry", "SUPERSEDED", REFUSED_UNDER_BASE, "RetryStageExecution", 4),
    ("cancelled-can-retry", "QUEUED", REFUSED_UNDER_BASE, "RetryStageExecution", 4),
    ("retry-after-update", "SUPERSEDED", REFUSED_UNDER_BASE, "RetryStageExecution", 4),
    ("retry-after-update", "QUEUED", REFUSED_UNDER_BASE, "RetryStageExecution", 4),
    ("retry-after-update", "PARALLEL", REFUSED_UNDER_BASE, "RetryStageExecution", 4),
    ("update-does-not-cancel", "SUPERSEDED", DIFFERENT_RESULT, "ActionSucceeded", 3),
    ("update-does-not-cancel", "QUEUED", DIFFERENT_RESULT, "ActionSucceeded", 3),
    ("update-releases-lock", "SUPERSEDED", DIFFERENT_RESULT, "StartPipelineExecution", 3),
    ("update-releases-lock", "QUEUED", DIFFERENT_RESULT, "StartPipelineExecution", 3),
    ("rollback-in-parallel-mode", "PARALLEL", REFUSED_UNDER_BASE, "RollbackStage", 4),
]


def test_every_broken_variant_in_every_mode_it_applies_to_is_listed():
    listed = {(b[0], b[1]) for b in BROKEN}
    wanted = {(v.name, mode) for v in VARIANTS.values() if v.broken for mode in v.modes}
    assert listed == wanted


@pytest.mark.parametrize(("variant", "mode", "kind", "operation", "length"), BROKEN,
                         ids=[f"{b[0]}-{b[1]}" for b in BROKEN])
def test_each_broken_variant_differs_with_a_shortest_witness(variant, mode, kind, operation,
                                                             length):
    pipeline = EXAMPLE_PIPELINES[VARIANTS[variant].example]()
    base = build_model(pipeline, mode)
    other = build_model(pipeline, mode, rule_set([variant]))
    v = VARIANTS[variant]
    product = product_search(base, other, v.bounds_for(Bounds(executions=2)), first=True)
    first = next(iter(product.differences.values()))
    assert (first.kind, first.operation, len(product.witness(first))) == (kind, operation,
                                                                          length)
    # The prefix is one both rule sets accept, step by step, seen alike.
    a, b = base.initial(), other.initial()
    for op in product.path(first.node):
        a, b = apply(base, a, op), apply(other, b, op)
        assert observe(a) == observe(b)


def test_swapping_the_rule_sets_mirrors_the_difference():
    documented = build_model(REFERENCE, "SUPERSEDED")
    variant = build_model(REFERENCE, "SUPERSEDED", rule_set(["retry-after-supersession"]))
    one = product_search(documented, variant, Bounds(executions=2))
    two = product_search(variant, documented, Bounds(executions=2))
    (a,), (b,) = one.differences.values(), two.differences.values()
    assert (a.kind, b.kind) == (REFUSED_UNDER_BASE, REFUSED_UNDER_OTHER)
    assert (a.base_error, b.other_error) == ("StageNotRetryableException",) * 2
    assert a.count == b.count and one.witness(a) == two.witness(b)


def test_full_report_counts_kinds_and_names_the_verdicts_that_differ(capsys):
    status, out, _ = run(["diff", "--rules", "documented", "--rules", "retry-after-supersession",
                          "--mode", "SUPERSEDED", *SMALL, "--json"], capsys)
    assert status == 1
    report = json.loads(out)
    assert report["result"] == "DIFFERENT"
    (mode,) = report["modes"]
    assert mode["complete"] is True and mode["productStates"] == 22_690
    (d,) = mode["differences"]
    assert (d["kind"], d["operation"], d["base"], d["other"]) == (
        REFUSED_UNDER_BASE, "RetryStageExecution", "StageNotRetryableException", None)
    assert d["count"] == 314 and len(d["trace"]) == 5
    assert d["divergence"]["step"] == 6
    assert d["divergence"]["base"] == {"refused": "StageNotRetryableException", "changes": []}
    assert d["divergence"]["other"]["refused"] is None
    assert d["divergence"]["other"]["changes"]
    verdicts = {v["property"]: (v["base"], v["other"]) for v in mode["verdicts"]}
    proved = {"verdict": "PROVED", "traceLength": None}
    assert verdicts == {
        "no-retry-after-supersession": (proved, {"verdict": "REFUTED", "traceLength": 6}),
        "finished-executions-never-change": (proved, {"verdict": "REFUTED", "traceLength": 6}),
        "enters-in-start-order": (proved, {"verdict": "REFUTED", "traceLength": 8}),
    }


def test_text_report_shows_the_witness_side_by_side(capsys):
    status, out, _ = run(["diff", "--rules", "documented", "--rules", "supersede-inside-stage",
                          "--mode", "SUPERSEDED", *SMALL, "--limit", "1"], capsys)
    assert status == 1
    assert ("StartPipelineExecution: accepted under both, with different results" in out)
    assert "shortest witness, 2 steps:" in out
    assert " 2. StartPipelineExecution -> e2" in out
    assert "under documented: e2: InProgress, in front of Source" in out
    assert "under supersede-inside-stage: e1: Superseded" in out
    assert "... and 2 more kinds (--limit)" in out
    assert ("supersede-only-between-stages: PROVED under documented, REFUTED (counterexample "
            "of 2 steps) under supersede-inside-stage") in out
    assert out.rstrip().endswith("Result: DIFFERENT")


def test_a_variant_outside_its_modes_changes_nothing(capsys):
    status, out, _ = run(["diff", "--rules", "documented", "--rules", "queued-overtakes",
                          "--mode", "SUPERSEDED", *SMALL], capsys)
    assert status == 0 and "Result: SAME" in out


def test_a_silent_spot_read_the_other_way_needs_siblings_to_show(capsys):
    """retry-after-stage-fails only differs where a failed action has a sibling still running:
    never in the reference pipeline, whose groups have one action each."""
    args = ["diff", "--rules", "documented", "--rules", "retry-after-stage-fails", *SMALL]
    status, out, _ = run([*args, "--mode", "QUEUED"], capsys)
    assert status == 0
    status, out, _ = run([*args, str(TWO_STAGE)], capsys)
    assert status == 1
    assert ("RetryStageExecution: accepted under documented, refused under "
            "retry-after-stage-fails (StageNotRetryableException)") in out


def test_joined_variants_and_rules_files(capsys):
    status, out, _ = run(["diff", "--rules", "queued-overtakes", "--rules", str(EXAMPLE),
                          "--mode", "QUEUED", *SMALL], capsys)
    # the example rules file is the built-in variant written by a user
    assert status == 0, out
    status, out, _ = run(["diff", "--rules", "failure-keeps-lock",
                          "--rules", "failure-keeps-lock+queued-overtakes",
                          "--mode", "QUEUED", "--executions", "1", "--json"], capsys)
    assert status == 0  # one execution: nothing overtakes
    assert json.loads(out)["other"] == "failure-keeps-lock+queued-overtakes"


def test_a_limit_that_stops_the_search_is_undetermined(capsys):
    status, out, _ = run(["diff", "--rules", "documented", "--rules", "documented", "--mode",
                          "QUEUED", "--max-states", "100"], capsys)
    assert status == 3
    assert "stopped by --max-states 100" in out and "Result: UNDETERMINED" in out


def test_model_file(tmp_path, capsys):
    model = tmp_path / "diff.toml"
    model.write_text('modes = ["QUEUED"]\n[bounds]\nexecutions = 2\nstops = 0\n')
    status, out, _ = run(["diff", str(model), "--rules", "documented", "--rules",
                          "queued-supersedes", "--json"], capsys)
    assert status == 1
    report = json.loads(out)
    assert report["bounds"]["stops"] == 0 and [m["mode"] for m in report["modes"]] == ["QUEUED"]


def _steps(doc: dict) -> int:
    return len(doc["steps"])


def test_trace_out_passes_under_other_and_fails_under_base_at_the_last_step(tmp_path, capsys):
    out = tmp_path / "witness.yaml"
    status, _, err = run(["diff", "--rules", "documented", "--rules", "supersede-inside-stage",
                          "--mode", "SUPERSEDED", *SMALL, "--trace-out", str(out)], capsys)
    assert status == 1 and str(out) in err
    doc = yaml.safe_load(out.read_text())
    assert doc["variants"] == ["supersede-inside-stage"]
    assert "fails at the last step" in doc["description"]
    assert list(doc["steps"][-1]) == ["expect"]
    assert run_scenario(load_scenario(out)).failures == []
    assert run(["simulate", str(out)], capsys)[0] == 0
    doc.pop("variants")
    base = tmp_path / "base.yaml"
    base.write_text(yaml.safe_dump(doc))
    failures = run_scenario(load_scenario(base)).failures
    assert failures and all(f.startswith(f"step {_steps(doc)} ") for f in failures)


@pytest.mark.parametrize(("rules", "refused_step"), [
    (["documented", "retry-after-supersession"], "refused"),
    (["retry-after-supersession", "documented"], "accepted"),
])
def test_trace_out_of_a_refusal(tmp_path, capsys, rules, refused_step):
    out = tmp_path / "witness.yaml"
    status, _, _ = run(["diff", "--rules", rules[0], "--rules", rules[1], "--mode",
                        "SUPERSEDED", *SMALL, "--trace-out", str(out)], capsys)
    assert status == 1
    doc = yaml.safe_load(out.read_text())
    assert run_scenario(load_scenario(out)).failures == []
    retry = doc["steps"][-2]
    assert "retry" in retry and _steps(doc) == 7
    if rules[1] == "documented":
        assert retry["error"] == "StageNotRetryableException" and "variants" not in doc
        doc["variants"] = [rules[0]]
    else:
        assert "error" not in retry
        doc.pop("variants")
    base = tmp_path / "base.yaml"
    base.write_text(yaml.safe_dump(doc))
    failures = run_scenario(load_scenario(base)).failures
    assert failures[0].startswith("step 6 ") and refused_step in failures[0]


def test_trace_out_without_a_difference(tmp_path, capsys):
    out = tmp_path / "witness.yaml"
    status, _, err = run(["diff", "--rules", "documented", "--rules", "documented", "--mode",
                          "QUEUED", "--executions", "1", "--trace-out", str(out)], capsys)
    assert status == 0 and "not written" in err and not out.exists()


def test_product_of_identical_rules_matches_the_explorer():
    m = build_model(REFERENCE, "PARALLEL")
    bounds = Bounds(executions=2, stops=2, toggles=0)
    product = product_search(m, build_model(REFERENCE, "PARALLEL", DOCUMENTED), bounds)
    assert product.complete and not product.differences
    assert len(product) == len(explore(m, bounds, []))


@pytest.mark.parametrize(("argv", "message"), [
    (["--rules", "documented", "--rules", "no-such-variant"],
     "stagelock: command line: --rules #2: expected documented, a rule variant ("),
    (["--rules", "documented"],
     "stagelock: command line: --rules: expected exactly two rule sets (--rules BASE --rules "
     "OTHER), got 1"),
    (["--rules", "documented", "--rules", "documented", "--rules", "queued-overtakes"],
     "expected exactly two rule sets (--rules BASE --rules OTHER), got 3"),
    ([], "got 0"),
    (["--rules", "documented", "--rules", "superseded-mode-queues+queued-supersedes"],
     "--rules #2: expected variants that replace different rules: variants "
     "superseded-mode-queues and queued-supersedes both replace supersedes_waiting"),
    (["--rules", "documented", "--rules", "missing.py"],
     "missing.py: expected a Python file of rules (it does not exist)"),
    (["--rules", "documented", "--rules", "documented", "--limit", "0"],
     "--limit: expected an integer from 1 to 1000, got 0"),
    (["--rules", "documented", "--rules", "documented", "--executions", "0"],
     "--executions: expected an integer from 1 to 50, got 0"),
])
def test_bad_input(argv, message, capsys):
    status, out, err = run(["diff", *argv], capsys)
    assert status == 2 and out == ""
    assert message in err and err.count("\n") == 1


@pytest.mark.parametrize(("text", "place"), [
    ('variants = ["queued-overtakes"]\n', "variants"),
    ('rules = ["mine.py"]\n', "rules"),
])
def test_model_file_naming_rules_is_refused(tmp_path, capsys, text, place):
    model = tmp_path / "diff.toml"
    model.write_text(text)
    status, _, err = run(["diff", str(model), "--rules", "documented", "--rules",
                          "documented"], capsys)
    assert status == 2 and err.count("\n") == 1
    assert err == (f"stagelock: {model}: {place}: expected no rule variants in a model file "
                   "given to diff (name the two rule sets with --rules)\n")


def test_the_reading_of_inbound_executions_at_an_update_differs_only_with_updates(capsys):
    """update-cancels-inbound changes what an update does: without updates nothing differs,
    with one the inbound execution is Cancelled instead of Failed."""
    options = ["diff", "--rules", "documented", "--rules", "update-cancels-inbound", "--mode",
               "QUEUED", "--executions", "2", "--stops", "0", "--retries", "0", "--toggles", "0"]
    status, out, _ = run(options, capsys)
    assert status == 0 and "Result: SAME" in out
    status, out, _ = run([*options, "--updates", "1", "--json"], capsys)
    assert status == 1
    (mode,) = json.loads(out)["modes"]
    first = mode["differences"][0]
    assert (first["kind"], first["operation"]) == (DIFFERENT_RESULT, "UpdatePipeline")
