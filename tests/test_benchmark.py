"""The benchmark: figures from a fresh process per engine, one table with the engines side by
side (no timing is asserted: speed is what the command prints, never what a test checks)."""

from __future__ import annotations

import pytest

from checker import benchmark as bench
from checker.cli import main
from checker.engine import Bounds, compiled_unsupported, explore
from checker.errors import InternalError
from spec.properties import properties_for
from spec.rules import build_model

SMALL = bench.Case("5 stages, SUPERSEDED, 1 execution", "five", "SUPERSEDED", 1)


def test_a_child_process_counts_what_the_search_in_this_process_counts() -> None:
    r = bench.run_case(SMALL, engine="interpreted")
    m = build_model(bench.five_stage_pipeline(), "SUPERSEDED")
    ex = explore(m, Bounds(executions=1), properties_for("SUPERSEDED"), engine="interpreted")
    assert (r["engine"], r["states"], r["transitions"], r["complete"]) == (
        "interpreted", len(ex), ex.transitions, True)
    assert r["peak_bytes"] > 0 and r["compile_seconds"] == 0


def test_the_compiled_engine_runs_or_its_row_says_why_not() -> None:
    r = bench.run_case(SMALL, engine="compiled", workers=1)
    why = compiled_unsupported(build_model(bench.five_stage_pipeline(), "SUPERSEDED"),
                               properties_for("SUPERSEDED"))
    if why is not None:
        assert r == {"case": SMALL.label, "engine": "compiled", "error": why}
        cells = bench.row_cells(r, True, None)
        assert cells[:3] == [SMALL.label, "compiled", f"not run: {why}"]
    else:
        assert (r["engine"], r["workers"]) == ("compiled", 1)
        assert r["states"] == bench.run_case(SMALL, engine="interpreted")["states"]


def figures(engine: str, states_per_second: float) -> dict:
    return {"case": "c", "engine": engine, "states": 1000, "transitions": 3000,
            "compile_seconds": 1.5, "seconds": 2.0, "wall_seconds": 2.5,
            "states_per_second": states_per_second,
            "peak_bytes": 2**21, "bytes_per_state": 100.0, "complete": True}


def test_the_compiled_row_carries_the_ratio_of_states_per_second() -> None:
    interpreted, compiled = figures("interpreted", 500.0), figures("compiled", 20_000.0)
    ratio = bench.ratio(compiled, interpreted)
    assert ratio == 40.0
    row = bench.row_cells(compiled, False, ratio)
    assert row == ["", "compiled", "1,000", "3,000", "1.5", "2.0", "4.0", "20,000", "2", "100",
                   "40.0x"]
    assert bench.row_cells(interpreted, True, None)[4] == ""  # no compile time
    assert bench.ratio(compiled, {"case": "c", "engine": "interpreted", "error": "no"}) is None


def test_the_large_configurations_need_large(capsys: pytest.CaptureFixture[str]) -> None:
    n = len(bench.CASES) + 1
    assert main(["benchmark", "--case", str(n)]) == 2
    assert capsys.readouterr().err == (
        f"stagelock: command line: --case #1: expected an integer from 1 to {n - 1} "
        f"({n} and on with --large), got {n}\n")
    assert all(c.engines == ("compiled",) and c.storage == "fingerprint"
               for c in bench.LARGE_CASES)


def test_several_runs_show_the_median_run_and_every_runs_rate() -> None:
    runs = [figures("compiled", x) for x in (900.0, 1_200.0, 600.0, 1_000.0)]
    shown = bench.median_run(runs)
    # the lower of the two middle runs, with every run's rate, least first
    assert shown["states_per_second"] == 900.0
    assert shown["runs"] == [600.0, 900.0, 1_000.0, 1_200.0]
    assert bench.spread_line(shown) == (
        f"{'':42}  states/s in 4 runs: 600 / 900 / 1,000 / 1,200 (the row: the median run)")
    assert bench.median_run(runs[:3])["states_per_second"] == 900.0
    single = bench.median_run(runs[:1])
    assert single["states_per_second"] == 900.0 and bench.spread_line(single) is None


def test_runs_that_find_different_graphs_are_an_internal_error() -> None:
    other = {**figures("compiled", 800.0), "transitions": 3001}
    with pytest.raises(InternalError, match="runs of c on the compiled engine found different "
                       "graphs: 1,000 states and 3,000 transitions / 1,000 states and 3,001"):
        bench.median_run([figures("compiled", 900.0), other])
    # a run cut short (--max-seconds) may stop anywhere
    cut = {**other, "complete": False}
    assert bench.median_run([figures("compiled", 900.0), cut])["states_per_second"] == 800.0
    refused = {"case": "c", "engine": "compiled", "error": "why"}
    assert bench.median_run([refused, refused]) == refused


def test_repeat_runs_each_configuration_in_fresh_processes(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(bench, "CASES", (SMALL,))
    assert main(["benchmark", "--engine", "interpreted", "--repeat", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "2 processes per configuration and engine, the median run shown" in lines[0]
    assert lines[2].startswith(SMALL.label) and "interpreted" in lines[2]
    assert lines[3].startswith(f"{'':42}  states/s in 2 runs: ")
    assert len(lines) == 4


@pytest.mark.parametrize("workers", ["1", "2"])
def test_the_header_counts_the_workers(workers: str, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(bench, "CASES", (SMALL,))
    assert main(["benchmark", "--engine", "interpreted", "--workers", workers]) == 0
    header = capsys.readouterr().out.splitlines()[0]
    said = "1 worker," if workers == "1" else "2 workers,"
    assert f"compiled engine: {said} its own storage)" in header


@pytest.mark.parametrize("n", ["0", "101"])
def test_repeat_is_bounded(n: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["benchmark", "--repeat", n]) == 2
    assert capsys.readouterr().err == (
        f"stagelock: command line: --repeat: expected an integer from 1 to 100, got {n}\n")
