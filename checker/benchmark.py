"""The benchmark: how fast each engine explores and how much memory a stored state costs.

Each configuration runs on each engine in a fresh child process, so its peak memory is its own,
one after the other, so that both engines' figures in a row of the table are measured under the
same load.  Figures: distinct states, transitions, seconds spent compiling (the compiled engine)
and searching, distinct states per second of search, the child's peak resident memory, the
memory per stored state (peak minus the child's memory before the search, divided by the
states), and for the compiled engine the ratio of its states per second to the interpreted
engine's.

The large configurations (`LARGE_CASES`, run only when asked for) have 60 and 370 million
states: the compiled engine only, with fingerprint storage.
"""

from __future__ import annotations

import multiprocessing
import resource
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from checker.check import reference_pipeline
from checker.engine import ENGINES, Bounds, compiled_unsupported, explore
from checker.errors import InputError, InternalError
from spec.declaration import Action, Pipeline, Stage
from spec.properties import properties_for
from spec.rules import build_model


def five_stage_pipeline() -> Pipeline:
    """Source -> Build -> Test -> Staging -> Production, one action each."""
    kinds = (("Source", "Source"), ("Build", "Build"), ("Test", "Test"), ("Staging", "Deploy"),
             ("Production", "Deploy"))
    stages = tuple(Stage(name, (Action(name, category),)) for name, category in kinds)
    return Pipeline("five-stages", stages, "SUPERSEDED", "V2")


@dataclass(frozen=True)
class Case:
    label: str
    pipeline: str
    mode: str
    executions: int
    storage: str | None = None
    """The storage this configuration needs (None: `--storage`, or the engine's choice)."""
    engines: tuple[str, ...] = ENGINES
    """The engines it runs on (a large configuration would take the interpreted engine days)."""
    stops: int = 1


CASES = (
    Case("reference, SUPERSEDED, 3 executions", "reference", "SUPERSEDED", 3),
    Case("reference, QUEUED, 3 executions", "reference", "QUEUED", 3),
    Case("reference, PARALLEL, 3 executions", "reference", "PARALLEL", 3),
    Case("5 stages, SUPERSEDED, 4 executions", "five", "SUPERSEDED", 4),
)

LARGE_CASES = (
    Case("5 stages, SUPERSEDED, 5 executions", "five", "SUPERSEDED", 5, "fingerprint",
         ("compiled",)),
    Case("5 stages, SUPERSEDED, 5 executions, 2 stops", "five", "SUPERSEDED", 5, "fingerprint",
         ("compiled",), stops=2),
)
"""Run only with `stagelock benchmark --large`: 60 million and 370 million states (about 2 and
14 minutes on two cores)."""


def pipeline_of(case: Case) -> Pipeline:
    return reference_pipeline() if case.pipeline == "reference" else five_stage_pipeline()


def _rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _current_rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def _run(case: Case, engine: str, properties: bool, max_seconds: int | None,
         workers: int | None, storage: str, out: Any) -> None:
    model = build_model(pipeline_of(case), case.mode)
    props = properties_for(case.mode) if properties else []
    bounds = Bounds(executions=case.executions, stops=case.stops, max_seconds=max_seconds)
    why = compiled_unsupported(model, props) if engine == "compiled" else None
    if why is not None:
        out.send({"case": case.label, "engine": engine, "error": why})
        return
    compile_seconds = 0.0
    if engine == "compiled":  # load (or compile) the kernel before measuring the search
        from checker.engine.compiled import warm_up

        compile_seconds = warm_up()
    before = _current_rss()
    began = time.perf_counter()
    try:
        ex = explore(model, bounds, props, engine=engine, workers=workers,
                     storage=case.storage or storage)
        if props and ex.complete:  # the progress properties' analysis belongs to the verdict
            ex.deadlock()
            if ex.storage == "exact":
                ex.stuck()
    except InputError as error:
        out.send({"case": case.label, "engine": engine, "error": error.expected})
        return
    wall = time.perf_counter() - began
    peak = _rss_bytes()
    search = ex.seconds if ex.seconds else wall
    out.send({
        "case": case.label,
        "engine": ex.engine,
        "workers": ex.workers,
        "storage": ex.storage,
        "states": len(ex),
        "transitions": ex.transitions,
        "compile_seconds": compile_seconds,
        "seconds": search,
        "wall_seconds": wall,
        "states_per_second": len(ex) / search if search else 0.0,
        "peak_bytes": peak,
        "bytes_per_state": (peak - before) / max(1, len(ex)),
        "miss_probability": ex.miss_probability,
        "complete": ex.complete,
    })


def run_case(case: Case, properties: bool = True, max_seconds: int | None = None,
             engine: str = "interpreted", workers: int | None = None,
             storage: str = "auto") -> dict[str, Any]:
    """One configuration on one engine, in a fresh child process: its figures (or, under
    "error", why that engine could not run it)."""
    # A fresh interpreter, not a fork: the compiled engine's worker threads do not survive a
    # fork, and a fresh process measures its own peak memory from the start.
    ctx = multiprocessing.get_context("spawn")
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_run,
                        args=(case, engine, properties, max_seconds, workers, storage, send))
    child.start()
    send.close()
    try:
        result: dict[str, Any] = receive.recv()
    except EOFError:  # the child died without a word
        child.join()
        raise InternalError(f"benchmark: the {engine} engine's process for {case.label} ended "
                            f"with status {child.exitcode} before reporting") from None
    child.join()
    return result


def median_run(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The run of one configuration on one engine to show for several: the median by states per
    second (the lower of the two middle ones for an even number), with every run's states per
    second under "runs".  The search is deterministic, so runs that finished must agree on the
    states and transitions; a difference is an internal error, never a figure."""
    if any("error" in r for r in runs):
        return next(r for r in runs if "error" in r)
    done = {(r["states"], r["transitions"]) for r in runs if r["complete"]}
    if len(done) > 1:
        counts = " / ".join(f"{states:,} states and {transitions:,} transitions"
                            for states, transitions in sorted(done))
        raise InternalError(f"benchmark: runs of {runs[0]['case']} on the {runs[0]['engine']} "
                            f"engine found different graphs: {counts}")
    ranked = sorted(runs, key=lambda r: r["states_per_second"])
    return {**ranked[(len(ranked) - 1) // 2],
            "runs": [r["states_per_second"] for r in ranked]}


def spread_line(r: dict[str, Any]) -> str | None:
    """The line under a row shown for several runs: every run's states per second, least
    first (None for a single run)."""
    rates = r.get("runs", [])
    if len(rates) < 2:
        return None
    shown = " / ".join(f"{x:,.0f}" for x in rates)
    return f"{'':42}  states/s in {len(rates)} runs: {shown} (the row: the median run)"


HEADER = ("configuration", "engine", "states", "transitions", "compile s", "search s",
          "verdict s", "states/s", "peak MiB", "bytes/state", "compiled/interp.")
WIDTHS = (42, 11, 12, 12, 9, 9, 9, 10, 9, 11, 16)


def table_row(cells: Sequence[str]) -> str:
    """One line of the table: the first two columns left-aligned, the figures right-aligned."""
    return "  ".join(c.ljust(w) if i < 2 else c.rjust(w)
                     for i, (c, w) in enumerate(zip(cells, WIDTHS, strict=True))).rstrip()


def row_cells(r: dict[str, Any], first: bool, ratio: float | None) -> list[str]:
    """The cells of one engine's row; `first`: the row that names the configuration."""
    label = r["case"] if first else ""
    if "error" in r:
        return [label, r["engine"], f"not run: {r['error']}", *[""] * 8]
    if not r["complete"]:
        label = (label + " (cut)") if label else "(cut)"
    return [
        label, r["engine"], f"{r['states']:,}", f"{r['transitions']:,}",
        f"{r['compile_seconds']:.1f}" if r["engine"] == "compiled" else "",
        f"{r['seconds']:.1f}", f"{r['compile_seconds'] + r['wall_seconds']:.1f}",
        f"{r['states_per_second']:,.0f}",
        f"{r['peak_bytes'] / 2**20:,.0f}", f"{r['bytes_per_state']:,.0f}",
        f"{ratio:,.1f}x" if ratio is not None else "",
    ]


def ratio(compiled: dict[str, Any] | None, interpreted: dict[str, Any] | None) -> float | None:
    """The compiled engine's states per second over the interpreted engine's, for the same
    configuration (None unless both ran)."""
    if compiled is None or interpreted is None or "error" in compiled or "error" in interpreted:
        return None
    if not interpreted["states_per_second"]:
        return None
    return float(compiled["states_per_second"] / interpreted["states_per_second"])
