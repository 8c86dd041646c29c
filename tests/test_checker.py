"""The checker: verdicts on the documented rules and on each broken variant, pinned counts,
cross-checks against networkx, random walks and the simulator, traces that replay."""

from __future__ import annotations

import json

import networkx as nx
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from checker.check import (
    EXAMPLE_PIPELINES,
    NOT_APPLICABLE,
    NOT_SEEN,
    PROVED,
    REFUTED,
    UNDETERMINED,
    CheckConfig,
    check_mode,
    reference_pipeline,
)
from checker.cli import main
from checker.coverage import possible_changes
from checker.engine import Bounds, explore, find_deadlock, find_stuck, unfinished
from checker.scenario import load_scenario, run_scenario
from spec.declaration import Action, Pipeline, Stage
from spec.lifecycles import COMPILED
from spec.properties import ABOUT_ROLLBACKS, PROPERTIES, properties_for
from spec.rules import apply, build_model, successors
from spec.variants import VARIANTS

MODES = ("SUPERSEDED", "QUEUED", "PARALLEL")
REFERENCE = reference_pipeline()


def two_stages() -> Pipeline:
    return Pipeline(
        "pair",
        (
            Stage("Source", (Action("Source", "Source"),)),
            Stage("Deploy", (Action("Deploy", "Deploy"),)),
        ),
        "SUPERSEDED",
        "V2",
    )


def run(pipeline: Pipeline, mode: str, bounds: Bounds, properties=(), variants=()):
    config = CheckConfig(pipeline, "test", (mode,), bounds, tuple(properties), tuple(variants))
    return check_mode(config, mode)


@pytest.mark.parametrize("mode", MODES)
def test_documented_rules_prove_every_property(mode):
    result = run(REFERENCE, mode, Bounds(executions=2, updates=1))
    verdicts = {v.property.name: v.verdict for v in result.verdicts}
    assert set(verdicts) == {p.name for p in properties_for(mode)}
    # the rollback properties need a rollback, which these bounds rule out
    assert {n: v for n, v in verdicts.items() if v != PROVED} == {
        n: NOT_APPLICABLE for n in ABOUT_ROLLBACKS if n in verdicts}, verdicts


@pytest.mark.parametrize("mode", MODES)
def test_documented_rules_prove_the_rollback_properties(mode):
    result = run(REFERENCE, mode, Bounds(executions=1, rollbacks=1),
                 [n for n in ABOUT_ROLLBACKS if PROPERTIES[n].applies_to(mode)])
    assert result.exploration.engine == "compiled"  # the default engine runs rollbacks
    verdicts = {v.property.name: v.verdict for v in result.verdicts}
    assert verdicts == {n: PROVED for n in ABOUT_ROLLBACKS if PROPERTIES[n].applies_to(mode)}
    # refused in PARALLEL mode, taken in the others
    assert (result.exploration.op_counts.get("RollbackStage", 0) > 0) == (mode != "PARALLEL")


@pytest.mark.parametrize("mode", MODES)
def test_documented_rules_prove_every_property_at_three_executions(mode):
    result = run(two_stages(), mode, Bounds(executions=3, stops=2, updates=1))
    bad = {v.property.name: v.verdict for v in result.verdicts if v.verdict != PROVED}
    # two single-action stages have no runOrder groups and no approval to stop while waiting;
    # the rollback properties need a rollback
    assert bad == {n: NOT_APPLICABLE for n in ABOUT_ROLLBACKS if PROPERTIES[n].applies_to(mode)}


# (variant, mode, executions, property, shortest trace length)
BROKEN = [
    ("supersede-inside-stage", "SUPERSEDED", 2, "supersede-only-between-stages", 2),
    ("retry-after-supersession", "SUPERSEDED", 2, "no-retry-after-supersession", 6),
    ("stopped-inbound-enters", "SUPERSEDED", 2, "finished-executions-never-change", 4),
    ("stopped-inbound-enters", "QUEUED", 2, "finished-executions-never-change", 4),
    ("stopped-inbound-enters", "PARALLEL", 2, "finished-executions-never-change", 5),
    ("queued-overtakes", "QUEUED", 2, "queued-never-overtakes", 6),
    ("queued-overtakes", "QUEUED", 2, "enters-in-start-order", 7),
    ("stop-releases-lock-early", "SUPERSEDED", 2, "one-execution-per-stage-lock", 3),
    ("stop-releases-lock-early", "QUEUED", 2, "one-execution-per-stage-lock", 3),
    ("approval-does-not-lock", "SUPERSEDED", 2, "approval-holds-stage", 10),
    ("approval-does-not-lock", "QUEUED", 2, "approval-holds-stage", 10),
    ("failure-keeps-lock", "SUPERSEDED", 2, "inbound-enters-when-available", 3),
    ("failure-keeps-lock", "QUEUED", 2, "can-always-finish", 6),
    ("failure-keeps-lock", "QUEUED", 2, "no-deadlock", 8),
    ("superseded-mode-queues", "SUPERSEDED", 2, "one-waiting-per-stage", 5),
    ("superseded-mode-queues", "SUPERSEDED", 2, "supersession-happens", None),
    ("queued-supersedes", "QUEUED", 2, "queued-never-supersedes", 5),
    ("abandon-leaves-actions-running", "SUPERSEDED", 2, "nothing-in-progress-after-stop", 3),
    ("abandon-leaves-actions-running", "PARALLEL", 2, "nothing-in-progress-after-stop", 3),
    ("stop-wait-starts-next-group", "QUEUED", 2, "stop-and-wait-starts-nothing", 3),
    ("failed-stage-moves-on", "SUPERSEDED", 1, "leaves-stage-only-when-all-succeeded", 2),
    ("automatic-retry-twice", "SUPERSEDED", 1, "automatic-retry-at-most-once", 5),
    ("automatic-retry-twice", "PARALLEL", 1, "automatic-retry-at-most-once", 5),
    ("entry-condition-does-not-lock", "SUPERSEDED", 2, "one-execution-per-stage-lock", 6),
    ("entry-condition-does-not-lock", "QUEUED", 2, "one-execution-per-stage-lock", 6),
    ("skip-runs-stage", "SUPERSEDED", 1, "skipped-stage-runs-nothing", 4),
    ("skip-runs-stage", "PARALLEL", 1, "skipped-stage-runs-nothing", 4),
    ("cancelled-can-retry", "SUPERSEDED", 1, "finished-executions-never-change", 4),
    ("cancelled-can-retry", "QUEUED", 1, "finished-executions-never-change", 4),
    ("retry-after-update", "SUPERSEDED", 1, "no-retry-across-update", 4),
    ("retry-after-update", "QUEUED", 1, "no-retry-across-update", 4),
    ("retry-after-update", "PARALLEL", 1, "no-retry-across-update", 4),
    ("update-does-not-cancel", "SUPERSEDED", 1, "cancelling-execution-starts-nothing", 3),
    ("update-does-not-cancel", "QUEUED", 1, "cancelling-execution-starts-nothing", 3),
    ("update-releases-lock", "SUPERSEDED", 2, "one-execution-per-stage-lock", 3),
    ("update-releases-lock", "QUEUED", 2, "one-execution-per-stage-lock", 3),
    ("rollback-in-parallel-mode", "PARALLEL", 1, "rollback-not-in-parallel", 4),
]


@pytest.mark.parametrize(
    ("variant", "mode", "executions", "prop", "length"),
    BROKEN,
    ids=[f"{b[0]}-{b[1]}-{b[3]}" for b in BROKEN],
)
def test_each_broken_variant_is_refuted_by_its_property(variant, mode, executions, prop, length):
    pipeline = EXAMPLE_PIPELINES[VARIANTS[variant].example]()
    bounds = VARIANTS[variant].bounds_for(Bounds(executions=executions))
    documented = run(pipeline, mode, bounds, [prop])
    assert documented.verdicts[0].verdict == PROVED
    broken = run(pipeline, mode, bounds, [prop], [variant])
    verdict = broken.verdicts[0]
    # A witness the broken rules never show is NOT SEEN: a vacuity warning, not a refutation.
    assert verdict.verdict == (NOT_SEEN if PROPERTIES[prop].kind == "witness" else REFUTED)
    assert (len(verdict.trace) if verdict.trace is not None else None) == length


def test_every_broken_variant_and_every_safety_property_is_paired():
    covered = {p for b in BROKEN for p in [b[3]]}
    for v in VARIANTS.values():
        if v.broken:
            assert v.refuted_by and v.refuted_by[0] in covered, v.name
            assert any(b[0] == v.name for b in BROKEN), v.name
    for p in PROPERTIES.values():
        if p.kind != "witness":
            assert p.name in covered, f"no variant shows that {p.name} can fail"


@pytest.mark.parametrize(
    ("prop", "bounds", "verdict", "detail"),
    [
        ("retry-succeeds", Bounds(executions=1, retries=0), NOT_APPLICABLE,
         "needs a retry (--retries 0)"),
        ("stop-and-wait-completes", Bounds(executions=1, stops=0), NOT_APPLICABLE,
         "needs a stop (--stops 0)"),
        ("stop-and-abandon-completes", Bounds(executions=1, stops=0), NOT_APPLICABLE,
         "needs a stop (--stops 0)"),
        ("inbound-execution-stopped", Bounds(executions=1, toggles=0), NOT_APPLICABLE,
         "needs a second execution or a transition toggle (--executions 1, --toggles 0)"),
        ("queue-of-two-forms", Bounds(executions=1), NOT_APPLICABLE,
         "needs at least 2 executions (--executions 1)"),
        ("queue-of-two-forms", Bounds(executions=2, toggles=0), NOT_SEEN,
         "never happens within the bounds, so the other properties may be vacuous"),
    ],
)
def test_missing_witness_is_reported(prop, bounds, verdict, detail):
    mode = "QUEUED"
    result = run(REFERENCE, mode, bounds, [prop])
    assert (result.verdicts[0].verdict, result.verdicts[0].detail) == (verdict, detail)
    assert run(REFERENCE, mode, Bounds(executions=3), [prop]).verdicts[0].verdict == PROVED


def test_a_property_of_updates_needs_an_update():
    result = run(REFERENCE, "QUEUED", Bounds(executions=1), ["no-retry-across-update"])
    assert (result.verdicts[0].verdict, result.verdicts[0].detail) == (
        NOT_APPLICABLE, "needs a pipeline update (--updates 0)")
    result = run(REFERENCE, "QUEUED", Bounds(executions=1, updates=1), ["no-retry-across-update"])
    assert result.verdicts[0].verdict == PROVED


# Pinned counts: a rule change shows up here as a diff of numbers.
PINNED = [
    (REFERENCE, "SUPERSEDED", Bounds(executions=2), 22_690, 69_246),
    (REFERENCE, "QUEUED", Bounds(executions=2), 22_197, 68_681),
    (REFERENCE, "PARALLEL", Bounds(executions=2), 30_071, 111_672),
]


@pytest.mark.parametrize(
    ("pipeline", "mode", "bounds", "states", "transitions"),
    PINNED,
    ids=[f"{p[0].name}-{p[1]}" for p in PINNED],
)
def test_pinned_counts(pipeline, mode, bounds, states, transitions):
    ex = explore(build_model(pipeline, mode), bounds, [])
    assert (len(ex), ex.transitions) == (states, transitions)


def test_runs_are_deterministic():
    first = run(REFERENCE, "QUEUED", Bounds(executions=2), [], ["queued-overtakes"])
    second = run(REFERENCE, "QUEUED", Bounds(executions=2), [], ["queued-overtakes"])
    assert len(first.exploration) == len(second.exploration)
    assert [v.trace for v in first.verdicts] == [v.trace for v in second.verdicts]
    assert first.exploration.op_counts == second.exploration.op_counts


def test_every_chart_transition_is_taken_somewhere():
    """Across the reference pipeline, one with an approval in a later runOrder group and the
    gated pipeline (stage conditions), the searches take every transition of every chart: no
    chart transition is dead."""
    cover = Pipeline(
        "cover",
        (
            Stage("Source", (Action("Source", "Source"),)),
            Stage(
                "Release",
                (
                    Action("Deploy", "Deploy", 1),
                    Action("Approve", "Approval", 2),
                    Action("Smoke", "Test", 2),
                ),
            ),
        ),
        "SUPERSEDED",
        "V2",
    )
    taken: set = set()
    for pipeline, bounds in (
        (REFERENCE, Bounds(executions=2, stops=2, retries=1)),
        (cover, Bounds(executions=2, stops=2, retries=2)),
        (EXAMPLE_PIPELINES["gated"](), Bounds(executions=1, stops=1, retries=1, toggles=0)),
        (REFERENCE, Bounds(executions=1, stops=0, retries=0, toggles=0, updates=1)),
    ):
        result = run(pipeline, "SUPERSEDED", bounds, ["no-deadlock"])
        possible = possible_changes(result.model, bounds.updates, bounds.update_modes)
        taken |= possible - set(result.never_taken)
    assert {(n, s, t) for n, c in COMPILED.items() for s, t in c.pairs} - taken == set()


def to_networkx(ex):
    graph = nx.DiGraph()
    graph.add_nodes_from(range(len(ex)))
    for s in range(len(ex)):
        for k in range(ex.edge_start[s], ex.edge_start[s + 1]):
            graph.add_edge(s, ex.edge_target[k])
    return graph


@pytest.mark.parametrize("variant", [(), ("failure-keeps-lock",)])
def test_progress_analysis_agrees_with_networkx(variant):
    m = build_model(
        REFERENCE, "QUEUED", __import__("spec.variants").variants.rule_set(list(variant))
    )
    ex = explore(m, Bounds(executions=2), [])
    graph = to_networkx(ex)
    finished = [i for i in range(len(ex)) if not unfinished(ex.state(i))]
    can_finish = set(finished)
    for f in finished:
        can_finish |= nx.ancestors(graph, f)
    stuck = sorted(set(graph.nodes) - can_finish)
    found = find_stuck(ex)
    assert (found.state if found else None) == (stuck[0] if stuck else None)
    dead = [i for i in graph.nodes if graph.out_degree(i) == 0 and unfinished(ex.state(i))]
    found_dead = find_deadlock(ex)
    assert (found_dead.state if found_dead else None) == (dead[0] if dead else None)
    assert bool(stuck) == bool(variant)


SMALL = Bounds(executions=2)


@pytest.fixture(scope="module")
def small_space():
    m = build_model(REFERENCE, "SUPERSEDED")
    ex = explore(m, SMALL, [])
    return m, ex, {ex.state(i) for i in range(len(ex))}


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(0, 10_000), min_size=1, max_size=40))
def test_random_walks_stay_inside_the_searched_space(small_space, choices):
    m, _, states = small_space
    node = (m.initial(), 0, 0, 0)
    for choice in choices:
        state, stops, retries, toggles = node
        options = successors(
            m,
            state,
            starts=len(state.executions) < SMALL.executions,
            stops=stops < SMALL.stops,
            retries=retries < SMALL.retries,
            disables=toggles < SMALL.toggles,
        )
        if not options:
            break
        op, after = options[choice % len(options)]
        name = type(op).__name__
        node = (
            after,
            stops + (name == "StopPipelineExecution"),
            retries + (name == "RetryStageExecution"),
            toggles + (name == "DisableStageTransition"),
        )
        assert after in states


def test_every_searched_state_replays_through_the_simulator(small_space):
    m, ex, _ = small_space
    for i in range(0, len(ex), 97):
        state = m.initial()
        for op in ex.path(i):
            state = apply(m, state, op)
        assert state == ex.state(i)


def test_trace_out_replays_to_the_same_violation(tmp_path, capsys):
    out = tmp_path / "counterexample.yaml"
    code = main(
        [
            "check",
            "--mode",
            "QUEUED",
            "--executions",
            "2",
            "--variant",
            "queued-overtakes",
            "--property",
            "queued-never-overtakes",
            "--trace-out",
            str(out),
        ]
    )
    assert code == 1
    doc = yaml.safe_load(out.read_text())
    assert doc["variants"] == ["queued-overtakes"]
    assert doc["properties"] == ["queued-never-overtakes"]
    run_ = run_scenario(load_scenario(out))
    assert len(run_.failures) == 1
    assert "property queued-never-overtakes violated" in run_.failures[0]
    assert run_.failures[0].startswith(f"step {len(doc['steps']) - 1} ")
    capsys.readouterr()
    assert main(["simulate", str(out)]) == 1
    # Under the documented rules the same steps do not violate the property.
    doc.pop("variants")
    fixed = tmp_path / "fixed.yaml"
    fixed.write_text(yaml.safe_dump(doc))
    failures = run_scenario(load_scenario(fixed)).failures
    assert not any("property" in f for f in failures)


def test_exit_codes_and_json(capsys):
    assert main(["check", "--mode", "QUEUED", "--executions", "2", "--updates", "1",
                 "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["result"] == PROVED
    (mode,) = report["modes"]
    assert mode["mode"] == "QUEUED" and mode["complete"] is True
    assert {p["name"] for p in mode["properties"] if p["verdict"] != PROVED} == set(
        ABOUT_ROLLBACKS)
    assert main(["check", "--mode", "QUEUED", "--executions", "2", "--max-states", "500"]) == 3
    text = capsys.readouterr().out
    assert "stopped by --max-states 500" in text and f"Result: {UNDETERMINED}" in text
    assert (
        main(
            [
                "check",
                "--variant",
                "queued-overtakes",
                "--mode",
                "QUEUED",
                "--executions",
                "2",
                "--property",
                "queued-never-overtakes",
            ]
        )
        == 1
    )
    text = capsys.readouterr().out
    assert "REFUTED      queued-never-overtakes" in text
    assert " 6. " in text and " 7. " not in text


def test_model_file(tmp_path, capsys):
    decl = tmp_path / "pipeline.json"
    decl.write_text(
        json.dumps(
            {
                "pipeline": {
                    "name": "pair",
                    "stages": [
                        {
                            "name": "Source",
                            "actions": [{"name": "Source", "actionTypeId": {"category": "Source"}}],
                        },
                        {
                            "name": "Deploy",
                            "actions": [{"name": "Deploy", "actionTypeId": {"category": "Deploy"}}],
                        },
                    ],
                }
            }
        )
    )
    model = tmp_path / "check.toml"
    model.write_text(
        'pipeline = "pipeline.json"\nmodes = ["SUPERSEDED", "QUEUED"]\n'
        'properties = ["one-execution-per-stage-lock"]\n'
        "[bounds]\nexecutions = 2\nstops = 0\n"
    )
    assert main(["check", str(model), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [m["mode"] for m in report["modes"]] == ["SUPERSEDED", "QUEUED"]
    assert report["bounds"]["executions"] == 2 and report["bounds"]["stops"] == 0
    assert [p["name"] for p in report["modes"][0]["properties"]] == ["one-execution-per-stage-lock"]
    # the command line overrides the file
    assert main(["check", str(model), "--executions", "1", "--mode", "QUEUED", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["bounds"]["executions"] == 1
    assert [m["mode"] for m in report["modes"]] == ["QUEUED"]
    # a property that does not apply to the chosen mode is bad input, not an empty proof
    assert main(["check", str(model), "--mode", "PARALLEL"]) == 2
    assert "expected a property that applies to PARALLEL mode" in capsys.readouterr().err


def test_properties_listing(capsys):
    assert main(["properties"]) == 0
    text = capsys.readouterr().out
    for p in PROPERTIES.values():
        assert p.name in text and p.source in text


def test_the_main_job_explores_parallel_mode_with_three_executions_unless_told():
    import json

    from checker.cli import _config, _parser, main

    config = _config(_parser().parse_args(["check"]))
    assert [(m, config.bounds_for(m).executions) for m in config.modes] == [
        ("SUPERSEDED", 4), ("QUEUED", 4), ("PARALLEL", 3)]
    told = _config(_parser().parse_args(["check", "--executions", "2"]))
    assert {told.bounds_for(m).executions for m in told.modes} == {2}
    # The report says so, in the header and per mode in JSON (a quick run: one property).
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        main(["check", "--mode", "PARALLEL", "--stops", "0", "--retries", "0", "--toggles", "0",
              "--no-failures", "--property", "finished-executions-never-change", "--json"])
    report = json.loads(out.getvalue())
    assert [m["executions"] for m in report["modes"]] == [3]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        main(["check", "--mode", "PARALLEL", "--stops", "0", "--retries", "0", "--toggles", "0",
              "--no-failures", "--property", "finished-executions-never-change"])
    assert ("  bounds: 4 executions, 0 stops, 0 retries, 0 transition toggles, no failures "
            "(PARALLEL: 3 executions)") in out.getvalue().splitlines()


def test_transitions_a_declaration_cannot_make_are_not_listed_as_never_taken():
    """A pipeline without stage conditions cannot skip a stage or override a condition: the
    report does not list those transitions as never taken; a pipeline with them does, when the
    bounds leave them out."""
    from checker.coverage import NEEDS_DECLARATION

    plain = run(two_stages(), "SUPERSEDED", Bounds(executions=1))
    assert not set(NEEDS_DECLARATION) & set(plain.never_taken)
    gated = run(EXAMPLE_PIPELINES["gated"](), "SUPERSEDED",
                Bounds(executions=1, stops=0, failures=False))
    assert set(NEEDS_DECLARATION) <= set(gated.never_taken)


def test_an_action_chart_is_listed_as_never_taken_only_where_the_pipeline_has_its_kind():
    """A pipeline with no manual approval takes no approval transition: none is reported as
    never taken there; one with an approval is told of those its search left out."""
    plain = run(two_stages(), "SUPERSEDED", Bounds(executions=1, stops=0))
    assert plain.never_taken is not None
    assert not [c for c in plain.never_taken if c[0] == "approval"]
    approvals = Pipeline("gate", (Stage("Source", (Action("Source", "Source"),)),
                                  Stage("Gate", (Action("Approve", "Approval"),))),
                         "SUPERSEDED", "V2")
    gate = run(approvals, "SUPERSEDED", Bounds(executions=1, stops=0, retries=0))
    assert gate.never_taken is not None
    assert [c for c in gate.never_taken if c[0] == "approval"]  # no retry: never re-run


def test_a_variant_of_updates_without_updates_is_noted(capsys):
    options = ["check", "--variant", "retry-after-update", "--mode", "QUEUED", "--executions",
               "1", "--property", "no-retry-across-update"]
    assert main([*options, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["notes"] == [
        "variant retry-after-update changes only what a pipeline update does, and this search "
        "makes no update: it explores what the documented rules do (--updates 1 shows the "
        "variant)"]
    assert main([*options, "--updates", "1"]) == 1
    out = capsys.readouterr().out
    assert "note:" not in out and "REFUTED      no-retry-across-update" in out


def test_mode_change_lets_a_parallel_execution_share_a_stage():
    """After PARALLEL -> QUEUED an execution of each mode runs in one stage (a witness the
    documented rules show and the other reading never does), while no two executions of the
    locking mode ever do."""
    bounds = Bounds(executions=2, updates=1, update_modes=("QUEUED",))
    names = ["parallel-execution-shares-stage", "one-execution-per-stage-lock"]
    documented = {v.property.name: v for v in run(REFERENCE, "PARALLEL", bounds, names).verdicts}
    assert [documented[n].verdict for n in names] == [PROVED, PROVED]
    assert documented[names[0]].detail == (
        "e1, started in PARALLEL mode, and e2, started in QUEUED mode, are both in progress in "
        "stage Source")
    other = {v.property.name: v for v in run(REFERENCE, "PARALLEL", bounds, names,
                                             ["parallel-executions-lock-after-mode-change"]
                                             ).verdicts}
    assert [other[n].verdict for n in names] == [NOT_SEEN, PROVED]


def test_mode_change_witness_needs_a_mode_change(capsys):
    assert main(["check", "--mode", "PARALLEL", "--executions", "1",
                 "--property", "parallel-execution-shares-stage"]) == 2
    assert ("parallel-execution-shares-stage applies to SUPERSEDED or QUEUED together with "
            "PARALLEL, through a change of execution mode (--updates 1 --update-modes)"
            in capsys.readouterr().err)
