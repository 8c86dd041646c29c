"""The benchmark: how fast the checker explores and how much memory a stored state costs.

Each configuration runs in a fresh child process, so its peak memory is its own.  Figures:
distinct states, transitions, seconds, distinct states per second, the child's peak resident
memory, and the memory per stored state (peak minus the child's memory before the search,
divided by the states).
"""

from __future__ import annotations

import multiprocessing
import resource
import time
from dataclasses import dataclass
from typing import Any

from checker.check import reference_pipeline
from checker.explore import Bounds, explore
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


CASES = (
    Case("reference, SUPERSEDED, 3 executions", "reference", "SUPERSEDED", 3),
    Case("reference, QUEUED, 3 executions", "reference", "QUEUED", 3),
    Case("reference, PARALLEL, 3 executions", "reference", "PARALLEL", 3),
    Case("5 stages, SUPERSEDED, 4 executions", "five", "SUPERSEDED", 4),
)


def _rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _current_rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def _run(case: Case, properties: bool, max_seconds: int | None, out: Any) -> None:
    pipeline = reference_pipeline() if case.pipeline == "reference" else five_stage_pipeline()
    model = build_model(pipeline, case.mode)
    props = properties_for(case.mode) if properties else []
    bounds = Bounds(executions=case.executions, max_seconds=max_seconds)
    before = _current_rss()
    began = time.perf_counter()
    ex = explore(model, bounds, props)
    seconds = time.perf_counter() - began
    peak = _rss_bytes()
    out.send({
        "case": case.label,
        "states": len(ex),
        "transitions": ex.transitions,
        "seconds": seconds,
        "states_per_second": len(ex) / seconds if seconds else 0.0,
        "peak_bytes": peak,
        "bytes_per_state": (peak - before) / max(1, len(ex)),
        "complete": ex.complete,
    })


def run_case(case: Case, properties: bool = True, max_seconds: int | None = None) -> dict:
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_run, args=(case, properties, max_seconds, send))
    child.start()
    result = receive.recv()
    child.join()
    return result
