"""The engine interface: which engine runs and why, what the reports say about it, the options
that choose it, and the readable engine's side of the interface (record pairs, progress
findings, the comparison of two explorations)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from checker import testing
from checker.check import CheckConfig, check_mode, never_taken, reference_pipeline
from checker.cli import main
from checker.coverage import lifecycle_changes, possible_changes
from checker.engine import Bounds, choose_engine, compiled_unsupported, explore
from checker.engine.compare import differences
from checker.errors import InputError
from spec.properties import properties_for
from spec.rules import build_model
from spec.variants import rule_set

ROOT = Path(__file__).resolve().parent.parent
RULES_FILE = ROOT / "examples" / "newest-first.py"
REFERENCE = reference_pipeline()
TIMING = ("seconds", "analysisSeconds", "statesPerSecond")
ENGINE_TIMING = ("workers", "compileSeconds")


def without_timing(report: dict) -> dict:
    """The JSON report without the fields that depend on the machine and the run."""
    for mode in report["modes"]:
        for name in TIMING:
            mode.pop(name)
        for name in ENGINE_TIMING:
            mode["engine"].pop(name)
    return report


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(argv)
    out = capsys.readouterr()
    return status, out.out, out.err


# --------------------------------------------------------------------------------------------
# Choosing the engine


def test_the_interpreted_engine_runs_when_asked_for_by_name() -> None:
    m = build_model(REFERENCE, "QUEUED")
    assert choose_engine(m, properties_for("QUEUED"), "interpreted") == (
        "interpreted", "--engine interpreted")
    ex = explore(m, Bounds(executions=1), [], engine="interpreted", workers=2)
    assert (ex.engine, ex.engine_reason, ex.workers, ex.storage) == (
        "interpreted", "--engine interpreted", 1, "exact")
    assert ex.compile_seconds == 0 and ex.miss_probability is None


def test_auto_picks_the_compiled_engine_exactly_when_it_can_run_the_configuration() -> None:
    m = build_model(REFERENCE, "SUPERSEDED")
    props = properties_for("SUPERSEDED")
    why = compiled_unsupported(m, props)
    name, reason = choose_engine(m, props)
    assert (name, reason) == (("compiled", "default") if why is None else ("interpreted", why))


def test_a_rules_file_runs_on_the_interpreted_engine_and_the_report_says_why(
        capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(["check", "--mode", "QUEUED", "--executions", "1", "--rules",
                          str(RULES_FILE)], capsys)
    assert status in (0, 1)
    line = next(x for x in out.splitlines() if x.startswith("  engine: "))
    assert line.startswith("  engine: interpreted (") and line.endswith(")")
    assert "--engine" not in line  # the reason is the configuration's, not an option


def test_asking_for_the_compiled_engine_where_it_cannot_run_is_bad_input(
        capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(["check", "--mode", "QUEUED", "--executions", "1", "--rules",
                            str(RULES_FILE), "--engine", "compiled"], capsys)
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("stagelock: command line: --engine compiled: expected a "
                          "configuration the compiled engine runs, but ")


def test_fingerprint_storage_needs_the_compiled_engine() -> None:
    m = build_model(REFERENCE, "QUEUED")
    with pytest.raises(InputError, match="--storage fingerprint: expected the compiled engine"):
        explore(m, Bounds(executions=1), [], engine="interpreted", storage="fingerprint")


@pytest.mark.parametrize(("argv", "message"), [
    (["check", "--workers", "0"],
     "stagelock: command line: --workers: expected an integer from 1 to 1024, got 0"),
    (["lint", "examples/lint/release-pipeline.json", "--workers", "-2"],
     "stagelock: command line: --workers: expected an integer from 1 to 1024, got -2"),
    (["diff", "--rules", "documented", "--rules", "documented", "--workers", "0"],
     "stagelock: command line: --workers: expected an integer from 1 to 1024, got 0"),
])
def test_bad_worker_counts_are_bad_input(argv: list[str], message: str,
                                         capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    status, out, err = run(argv, capsys)
    assert (status, out, err) == (2, "", message + "\n")


def test_an_unknown_engine_on_the_command_line_is_refused(
        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["check", "--engine", "fast"])
    assert stop.value.code == 2
    assert "--engine: invalid choice: 'fast'" in capsys.readouterr().err


def test_a_model_file_may_choose_the_engine(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    model = tmp_path / "model.toml"
    model.write_text('modes = ["QUEUED"]\nengine = "interpreted"\n'
                     'properties = ["one-execution-per-stage-lock"]\n[bounds]\nexecutions = 1\n')
    status, out, _ = run(["check", str(model)], capsys)
    assert status == 0
    assert "  engine: interpreted (--engine interpreted)" in out.splitlines()
    model.write_text('engine = "fast"\n')
    status, out, err = run(["check", str(model)], capsys)
    assert (status, out) == (2, "")
    assert err == (f"stagelock: {model}: engine: expected auto, compiled or interpreted, "
                   f"got 'fast'\n")


def test_checker_testing_takes_engine_and_workers() -> None:
    outcome = testing.check(REFERENCE, "QUEUED", executions=1, engine="interpreted", workers=1,
                            properties=["one-execution-per-stage-lock"])
    assert outcome.proved
    assert outcome.results[0].exploration.engine == "interpreted"
    with pytest.raises(InputError, match="engine: expected auto, compiled or interpreted"):
        testing.check(REFERENCE, "QUEUED", executions=1, engine="fast")
    with pytest.raises(InputError, match="workers: expected an integer from 1 to 1024"):
        testing.check(REFERENCE, "QUEUED", executions=1, workers=0)


# --------------------------------------------------------------------------------------------
# Reports


def test_every_mode_of_the_text_report_names_its_engine(
        capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(["check", "--executions", "1", "--engine", "interpreted"], capsys)
    assert out.count("\n  engine: interpreted (--engine interpreted)\n") == 3


def test_the_json_report_names_the_engine_of_every_mode(
        capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(["check", "--executions", "1", "--engine", "interpreted", "--json"], capsys)
    for mode in json.loads(out)["modes"]:
        assert mode["engine"] == {"name": "interpreted", "reason": "--engine interpreted",
                                  "workers": 1, "storage": "exact", "compileSeconds": 0.0,
                                  "missProbability": None}


def test_the_json_report_is_the_same_whatever_the_workers_apart_from_timing(
        capsys: pytest.CaptureFixture[str]) -> None:
    reports = []
    for workers in ("1", "2"):
        status, out, _ = run(["check", "--mode", "PARALLEL", "--executions", "2", "--json",
                              "--workers", workers], capsys)
        assert status == 0
        reports.append(without_timing(json.loads(out)))
    assert reports[0] == reports[1]


def test_diff_says_which_engine_searched_what(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(["diff", "--rules", "documented", "--rules", "approval-does-not-lock",
                          "--mode", "QUEUED", "--executions", "2", "--stops", "0",
                          "--retries", "0", "--toggles", "0", "--engine", "interpreted"],
                         capsys)
    assert status == 1
    assert ("  product search: interpreted (pairs the readable rules' own states); verdicts: "
            "interpreted (--engine interpreted) under documented, interpreted (--engine "
            "interpreted) under approval-does-not-lock") in out.splitlines()


# --------------------------------------------------------------------------------------------
# The interpreted engine's side of the interface


def never_taken_by_whole_states(ex, m) -> list:
    """The chart transitions no step makes, of those the declaration allows, read from every
    recorded step's two whole states (slow, but with nothing left out)."""
    wanted = possible_changes(m, ex.bounds.updates, ex.bounds.update_modes)
    for s in range(ex.expanded):
        for _, t in ex.edges(s):
            wanted -= set(lifecycle_changes(m, ex.state(s), ex.state(t)))
    return sorted(wanted)


@pytest.mark.parametrize(("mode", "variants", "bounds"), [
    ("QUEUED", (), Bounds(executions=2)),
    ("SUPERSEDED", (), Bounds(executions=2, toggles=0, failures=False)),
    ("PARALLEL", ("failure-keeps-lock",), Bounds(executions=2, stops=0)),
])
def test_never_taken_reads_the_same_transitions_as_the_whole_states(mode, variants, bounds):
    config = CheckConfig(REFERENCE, "test", (mode,), bounds, (), variants, engine="interpreted")
    result = check_mode(config, mode)
    assert result.never_taken == never_taken_by_whole_states(result.exploration, result.model)
    assert never_taken(result.exploration, result.model) == result.never_taken


def test_record_pairs_are_distinct_changes_of_one_execution() -> None:
    m = build_model(REFERENCE, "QUEUED")
    ex = explore(m, Bounds(executions=2, stops=0, toggles=0), [], engine="interpreted")
    pairs = list(ex.record_pairs())
    assert len(pairs) == len(set(pairs))
    assert all(before != after for before, after in pairs)
    assert sum(before is None for before, _ in pairs) >= 1  # a start


def test_deadlock_and_stuck_are_the_progress_analyses() -> None:
    m = build_model(REFERENCE, "QUEUED", rule_set(["failure-keeps-lock"]))
    ex = explore(m, Bounds(executions=2), [], engine="interpreted")
    stuck = ex.stuck()
    assert stuck is not None and "can no longer finish" in stuck.detail
    clean = explore(build_model(REFERENCE, "QUEUED"), Bounds(executions=2), [],
                    engine="interpreted")
    assert clean.stuck() is None and clean.deadlock() is None


# --------------------------------------------------------------------------------------------
# Comparing two explorations


def test_two_explorations_of_the_same_rules_agree() -> None:
    m = build_model(REFERENCE, "PARALLEL")
    props = properties_for("PARALLEL")
    a = explore(m, Bounds(executions=2, toggles=0), props, engine="interpreted")
    b = explore(m, Bounds(executions=2, toggles=0), props, engine="interpreted")
    assert differences(m, a, b) == []


def test_a_rule_change_is_shown_at_the_first_state_whose_steps_differ() -> None:
    documented = build_model(REFERENCE, "QUEUED")
    broken = build_model(REFERENCE, "QUEUED", rule_set(["approval-does-not-lock"]))
    bounds = Bounds(executions=2, stops=0, retries=0, toggles=0, failures=False)
    a = explore(documented, bounds, [], engine="interpreted")
    b = explore(broken, bounds, [], engine="interpreted")
    found = differences(documented, a, b, ("documented", "approval-does-not-lock"))
    assert found, "a broken rule changes the graph"
    text = found[-1]
    assert "is left by different steps:" in text
    assert "Stage" in text and "Latest execution" in text  # the state, GetPipelineState-shaped
    assert "a shortest way there" in text
    assert ("missing in approval-does-not-lock" in text or "missing in documented" in text
            or "leads elsewhere" in text)
    assert "(the readable rules: " in text


def test_a_missing_finding_and_a_longer_trace_are_differences() -> None:
    m = build_model(REFERENCE, "QUEUED")
    props = properties_for("QUEUED")
    a = explore(m, Bounds(executions=2, toggles=0), props, engine="interpreted")
    b = explore(m, Bounds(executions=2, toggles=0), props, engine="interpreted")
    name = next(iter(b.witnesses))
    del b.witnesses[name]
    assert differences(m, a, b, ("a", "b")) == [f"{name}: a finds a witness, b none"]


def test_a_lifecycle_transition_one_engine_misses_is_a_difference(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The lifecycle transitions the steps make feed the report's never-made transitions, so
    each engine's own recording of them is compared."""
    m = build_model(REFERENCE, "QUEUED")
    bounds = Bounds(executions=2, toggles=0)
    a = explore(m, bounds, [], engine="interpreted")
    b = explore(m, bounds, [], engine="compiled")
    assert differences(m, a, b) == []
    made = b.chart_changes()
    missed = sorted(made)[0]
    monkeypatch.setattr(b, "chart_changes", lambda: made - {missed})
    assert differences(m, a, b, ("a", "b")) == [
        f"the lifecycle transitions made: only a makes {[missed]}, only b makes []"]


def test_lint_json_names_the_engine_of_each_search(capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    status, out, _ = run(["lint", "examples/lint/release-pipeline.json", "--format", "json",
                          "--engine", "interpreted", "--stops", "0"], capsys)
    assert status == 1
    (searched,) = json.loads(out)["engines"]
    assert set(searched) == {"file", "pipeline", "reach", "structural"}  # no operator phase
    assert searched["structural"]["name"] == "interpreted"
    assert searched["reach"]["reason"] == "--engine interpreted"


def test_the_kernel_cache_follows_every_kernel_source(tmp_path, monkeypatch):
    """A change to any kernel module gives a new cache directory, so that no cached function
    keeps an older version of a function it inlined from another module; the directories of
    other versions are removed."""
    from checker.engine.compiled import cache

    for name in cache.KERNEL_FILES:
        (tmp_path / name).write_bytes((cache.HERE / name).read_bytes())
    monkeypatch.setattr(cache, "HERE", tmp_path)
    monkeypatch.setenv("STAGELOCK_CACHE_DIR", str(tmp_path / "cache"))
    first = cache.cache_dir()
    assert first.name == f"kernel-{cache.kernel_digest()}" and first.is_dir()
    for name in cache.KERNEL_FILES:
        (tmp_path / name).write_bytes((tmp_path / name).read_bytes() + b"\n")
        changed = cache.cache_dir()
        assert changed != first and changed.is_dir() and not first.exists()
        first = changed


def test_the_kernel_is_cached_where_the_digest_says():
    import numba

    from checker.engine.compiled import CACHE, cache

    assert CACHE.name == f"kernel-{cache.kernel_digest()}"
    assert str(CACHE) == numba.config.CACHE_DIR
