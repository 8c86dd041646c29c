"""The benchmark: figures from a fresh process per engine, one table with the engines side by
side (no timing is asserted: speed is what the command prints, never what a test checks)."""

from __future__ import annotations

import pytest

from checker import benchmark as bench
from checker.cli import main
from checker.engine import Bounds, compiled_unsupported, explore
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
