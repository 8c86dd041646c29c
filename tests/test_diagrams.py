"""The pictures: committed sources match what the code draws now, and each picture shows what it
claims (chart edges, palette, queues, disabled transitions, violations, size limit)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
import yaml

from checker import draw
from checker.check import reference_pipeline
from checker.cli import main
from checker.engine import Bounds, explore
from checker.scenario import load_scenario, run_scenario
from spec.declaration import parse_pipeline
from spec.lifecycles import CHARTS, COMPILED
from spec.rules import apply, build_model, successors
from spec.variants import VARIANTS, rule_set

ROOT = Path(__file__).resolve().parent.parent
DIAGRAMS = ROOT / "diagrams"
SOURCES = (".dot", ".mmd", ".md")


@cache
def generated() -> dict[str, str]:
    return draw.generate_all()


def require_dot() -> str:
    path = shutil.which("dot")
    if path is None:
        pytest.fail("Graphviz's `dot` program is not installed; these tests draw SVG with it "
                    "(Debian/Ubuntu: apt-get install graphviz)")
    return path


# --------------------------------------------------------------------------------------------
# The committed pictures


def test_committed_sources_are_what_the_code_draws_now() -> None:
    stale = []
    for name, text in generated().items():
        path = DIAGRAMS / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.append(name)
    assert not stale, (f"diagrams/ is out of date ({', '.join(stale)}): run `stagelock diagram` "
                       "from the repository root and commit the result")


def test_diagrams_hold_exactly_the_generated_files_and_an_svg_beside_each_dot() -> None:
    names = set(generated())
    expected = names | {n[:-4] + ".svg" for n in names if n.endswith(".dot")}
    present = {p.name for p in DIAGRAMS.iterdir()}
    assert present == expected, (f"missing: {sorted(expected - present)}; not generated (remove "
                                 f"them or run `stagelock diagram`): {sorted(present - expected)}")
    for name in expected:
        if name.endswith(".svg"):
            assert (DIAGRAMS / name).read_text(encoding="utf-8").lstrip().startswith("<?xml")


def test_readme_gives_every_picture_a_line() -> None:
    readme = generated()["README.md"]
    for name in generated():
        if name.endswith(".dot"):
            svg = name[:-4] + ".svg"
            lines = [line for line in readme.splitlines() if f"]({svg})" in line]
            assert len(lines) == 1, svg
            assert lines[0].rstrip().endswith("."), lines[0]
        if name.endswith(".mmd"):
            assert "```mermaid\n" + generated()[name] in readme


def test_generation_is_deterministic_and_has_no_machine_details() -> None:
    script = ("import json, sys; from checker.draw import generate_all; "
              "json.dump(generate_all(), sys.stdout)")
    env = dict(os.environ, PYTHONHASHSEED="12345")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         cwd=ROOT, env=env, check=True).stdout
    import json

    assert json.loads(out) == generated()
    for name, text in generated().items():
        assert str(ROOT) not in text and "/tmp" not in text, name
        assert not re.search(r"\d{9,}", text), f"{name}: an object id or a timestamp"


def test_every_picture_renders_without_a_graphviz_warning() -> None:
    dot = require_dot()
    for name, text in generated().items():
        if name.endswith(".dot"):
            done = subprocess.run([dot, "-Tsvg"], input=text, capture_output=True, text=True)
            assert done.returncode == 0 and not done.stderr.strip(), f"{name}: {done.stderr}"


# --------------------------------------------------------------------------------------------
# Lifecycles


def _edge_labels(dot_text: str) -> list[str]:
    return re.findall(r'-> \w+ \[label="([^"]*)"', dot_text)


@pytest.mark.parametrize("name", list(CHARTS))
def test_lifecycle_draws_every_event_and_colours_each_status(name: str) -> None:
    chart = COMPILED[name]
    text = draw.lifecycle_dot(name)
    mermaid = draw.lifecycle_mermaid(name)
    drawn = " ".join(_edge_labels(text)).replace("\\n", " ")
    for t in chart.transitions:
        assert t.event in drawn, t
        line = re.compile(rf"^    {t.source} --> {t.target} : .*\b{t.event}\b", re.M)
        assert line.search(mermaid), t
    assert f"[*] --> {chart.initial}" in mermaid
    for value in chart.finals:
        assert f"{value} --> [*]" in mermaid
        assert re.search(rf"label={value}, .*peripheries=2", text), value
    for value in chart.values:
        if value in draw.PALETTE:
            fill = draw.PALETTE[value].fill
            assert re.search(rf'label={value}, .*fillcolor="{fill}"', text), value
            assert f"classDef status{value} fill:{fill}," in mermaid
    assert "Legend" in text


def test_lifecycle_guards_read_as_conditions() -> None:
    labels = _edge_labels(draw.lifecycle_dot("pipeline-execution"))
    assert "stop_and_wait,\\nstop_and_abandon\\n[has in-progress actions]" in labels
    assert "stop_and_wait,\\nstop_and_abandon\\n[no in-progress actions]" in labels
    # An event leaving several statuses for the same places is drawn once, through a diamond.
    action = draw.lifecycle_dot("action-execution")
    assert "retry_all_actions_junction [" in action
    assert "retry_all_actions\\n[in the first runOrder group]" in _edge_labels(action)


# --------------------------------------------------------------------------------------------
# The pipeline view


def test_pipeline_view_shows_holders_queues_disabled_transitions_and_approvals() -> None:
    run = draw.midrun_run()
    text = draw.pipeline_dot(run.scenario.model, run.final, run.scenario.names)
    m = run.scenario.model
    build, production = m.stage_names.index("Build"), m.stage_names.index("Production")
    # Build's inbound transition is disabled: a red dashed arrow labelled so.
    arrow = re.search(rf"inbound{build} -> stage{build} \[([^\]]*)\]", text)
    assert arrow is not None and 'style="dashed"' in arrow.group(1)
    assert f'color="{draw.VIOLATION}"' in arrow.group(1) and 'label="disabled"' in arrow.group(1)
    other = re.search(rf"inbound{production} -> stage{production} \[([^\]]*)\]", text)
    assert other is not None and "dashed" not in other.group(1)
    # e3 waits in front of Production, e4 in front of Build.
    queue = re.search(rf"inbound{production} \[(.*)\];", text)
    assert queue is not None and "<B>e3</B>" in queue.group(1)
    # e2 holds Production, its approval in progress in a rounded box.
    card = re.search(rf"stage{production} \[(.*)\];", text)
    assert card is not None
    assert "e2 InProgress" in card.group(1) and "holds the stage" in card.group(1)
    assert 'STYLE="rounded"' in card.group(1) and "manual approval" in card.group(1)
    assert f'BGCOLOR="{draw.PALETTE["InProgress"].fill}"' in card.group(1)


def test_pipeline_view_stacks_run_order_groups_and_puts_parallel_actions_side_by_side() -> None:
    pipeline = parse_pipeline({"name": "p", "stages": [
        {"name": "Source", "actions": [{"name": "S", "actionTypeId": {"category": "Source"}}]},
        {"name": "Test", "actions": [
            {"name": n, "runOrder": r, "actionTypeId": {"category": "Test"}}
            for n, r in (("A", 1), ("B", 1), ("C", 2))]}]})
    text = draw.pipeline_dot(build_model(pipeline))
    card = re.search(r"stage1 \[(.*)\];", text)
    assert card is not None
    rows = card.group(1).split("</TR></TABLE></TD></TR>")
    assert "<B>A</B>" in rows[0] and "<B>B</B>" in rows[0] and "<B>C</B>" not in rows[0]
    assert "then" in rows[1] and "<B>C</B>" in rows[1]


# --------------------------------------------------------------------------------------------
# State graphs


def test_state_graph_is_the_explored_graph_with_operations_on_edges() -> None:
    model = build_model(draw.two_stage_pipeline(), "QUEUED")
    bounds = draw.GRAPH_BOUNDS["QUEUED"]
    graph = draw.state_graph(model, bounds)
    ex = explore(model, bounds, [])
    assert len(graph.states) == len(ex) and len(graph.edges) == ex.transitions
    for source, target, text, broken in graph.edges:
        assert not broken
        state = graph.states[source][0]
        ops = [op for op, _ in successors(model, state)
               if draw.short_operation(model, op, state) == text]
        assert [apply(model, state, op) for op in ops] == [graph.states[target][0]]
    assert not graph.state_violations
    dot = draw.state_graph_dot(graph)
    assert "init -> s0;" in dot
    finished = [i for i in range(len(graph.states)) if i not in {s for s, *_ in graph.edges}]
    assert finished and all(re.search(rf"^    s{i} \[.*peripheries=", dot, re.M)
                            for i in finished)


def test_state_graph_under_a_broken_variant_marks_violations_red() -> None:
    model = build_model(draw.two_stage_pipeline(), "SUPERSEDED",
                        rule_set(["supersede-inside-stage"]))
    graph = draw.state_graph(model, draw.SMALL_BOUNDS)
    assert any("supersede-only-between-stages" in v for v in graph.state_violations.values())
    dot = draw.state_graph_dot(graph)
    bad = [i for i in graph.state_violations]
    for i in bad:
        assert re.search(rf'^    s{i} \[.*color="{draw.VIOLATION}", penwidth="3"', dot, re.M)
    assert re.search(rf'-> s\d+ \[label="start e2", color="{draw.VIOLATION}"', dot)


def test_state_graph_over_the_limit_is_refused_with_the_option_that_raises_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(draw.GraphTooLarge):
        draw.state_graph(build_model(draw.two_stage_pipeline()), Bounds(executions=3, stops=1))
    out = tmp_path / "g.svg"
    code = main(["diagram", "graph", "--executions", "3", "--stops", "1", "--toggles", "1",
                 "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and not out.exists()
    assert err.count("\n") == 1 and "150" in err and "--max-graph-states N" in err
    code = main(["diagram", "graph", "--executions", "3", "--max-graph-states", "10",
                 "-o", str(out)])
    assert code == 2 and "10 states" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------
# Timelines


def test_variant_timelines_end_on_the_violating_step() -> None:
    for name, variant in VARIANTS.items():
        if not variant.broken:
            continue
        text = generated()[f"timeline-{name}.dot"]
        headers = re.findall(r'<TD BGCOLOR="([^"]+)" BORDER="1" COLOR="#999999"', text)
        assert headers[-1] == draw.VIOLATION, name
        assert draw.VIOLATION not in headers[:-1], name
        assert variant.refuted_by[0] in text


# --------------------------------------------------------------------------------------------
# The command line


def test_check_trace_svg_and_diagram_trace_draw_the_counterexample(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    require_dot()
    trace, svg, again = tmp_path / "t.yaml", tmp_path / "t.svg", tmp_path / "again.svg"
    code = main(["check", "--variant", "queued-overtakes", "--mode", "QUEUED", "--executions",
                 "3", "--stops", "0", "--retries", "0", "--toggles", "0", "--no-failures",
                 "--property", "queued-never-overtakes", "--trace-out", str(trace),
                 "--trace-svg", str(svg)])
    assert code == 1
    assert svg.read_text().lstrip().startswith("<?xml")
    assert main(["diagram", "trace", str(trace), "-o", str(again)]) == 0
    assert again.read_text().count(draw.VIOLATION) >= 1
    run = run_scenario(load_scenario(trace))
    steps = draw.timeline_from_run(run)
    assert [bool(s.violations) for s in steps] == [False] * (len(steps) - 1) + [True]
    assert yaml.safe_load(trace.read_text())["variants"] == ["queued-overtakes"]
    capsys.readouterr()


def test_simulate_draws_the_final_state_and_each_step(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    require_dot()
    scenario = ROOT / "tests" / "conformance" / "superseded-waiting-execution.yaml"
    final, steps = tmp_path / "final.svg", tmp_path / "steps"
    assert main(["simulate", str(scenario), "--svg", str(final), "--svg-steps", str(steps)]) == 0
    assert final.read_text().lstrip().startswith("<?xml")
    count = len(load_scenario(scenario).steps)
    width = max(2, len(str(count)))
    expected = {f"step-{str(i).zfill(width)}{suffix}" for i in range(1, count + 1)
                for suffix in (".svg", ".dot")}
    assert {p.name for p in steps.iterdir()} == expected
    assert "e3" in (steps / f"step-{str(count).zfill(width)}.dot").read_text()
    capsys.readouterr()


def test_diagram_pipeline_and_graph_write_the_format_the_suffix_names(tmp_path: Path) -> None:
    require_dot()
    assert main(["diagram", "pipeline", "-o", str(tmp_path / "p.dot")]) == 0
    assert (tmp_path / "p.dot").read_text() == draw.pipeline_dot(
        build_model(reference_pipeline()))
    assert main(["diagram", "graph", "--mode", "PARALLEL", "-o", str(tmp_path / "g.svg")]) == 0
    assert "<svg" in (tmp_path / "g.svg").read_text()


def test_diagram_regenerates_everything_into_a_directory(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    require_dot()
    out = tmp_path / "d"
    out.mkdir()
    (out / "old.svg").write_text("stale")
    assert main(["diagram", "--out-dir", str(out)]) == 0
    names = {p.name for p in out.iterdir()}
    assert "old.svg" not in names and set(generated()) <= names
    for name, text in generated().items():
        assert (out / name).read_text(encoding="utf-8") == text
    capsys.readouterr()
