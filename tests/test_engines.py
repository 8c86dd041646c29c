"""The differential test of the engines: the compiled engine explores exactly the graph of the
readable rules.

For each configuration, `explore(..., engine="interpreted")` and `explore(...,
engine="compiled")` must agree (`checker.engine.compare.differences`): the same states (decoded,
with the budgets used), the same steps out of each (operations and targets, as multisets), the
same depths, the same findings of every property with shortest traces of the same length, and
the same deadlock and stuck findings.  A difference fails with the first state, in the
interpreted engine's breadth-first order, whose steps differ, drawn as GetPipelineState shows it,
and each operation missing from one engine or leading elsewhere.

Configurations: the benchmark's at two executions, the project baseline's, every built-in
variant in each mode it applies to, with and without the world outside CodePipeline (as lint
builds its models, with the hazards as properties), and random declarations.  Then the JSON
report, which must not depend on the number of workers, nor (apart from the engine it names) on
the engine.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from checker.baseline import load_configs
from checker.benchmark import CASES, pipeline_of
from checker.check import EXAMPLE_PIPELINES, reference_pipeline
from checker.cli import main
from checker.engine import Bounds, Explored, choose_engine, explore
from checker.engine.compare import differences, summary
from checker.strategies import pipelines, updated_pipelines
from spec.declaration import Action, Pipeline, Stage
from spec.hazards import hazards_for
from spec.modes import MODES
from spec.properties import Property, properties_for
from spec.rules import Model, build_model
from spec.variants import VARIANTS, rule_set
from spec.world import Declared, derive_world

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = reference_pipeline()
WORKERS = 2


def all_properties(m: Model) -> list[Property]:
    """Every property of the model's mode and, for a model with its world, every hazard."""
    props = properties_for(m.policy.name)
    if m.world is not None:
        props += [h.property for h in hazards_for(m)]
    return props


def assert_agree(m: Model, bounds: Bounds, props: list[Property] | None = None,
                 interpreted: Explored | None = None) -> None:
    props = all_properties(m) if props is None else props
    a = interpreted or explore(m, bounds, props, engine="interpreted")
    b = explore(m, bounds, props, engine="compiled", workers=WORKERS)
    assert b.engine == "compiled" and a.engine == "interpreted"
    problems = differences(m, a, b)
    assert not problems, (f"{m.pipeline.name}, {m.policy.name}, {bounds.describe()}"
                          f"{', with its world' if m.world is not None else ''}, rules "
                          f"{m.rules.name}\n  {summary(a)}\n  {summary(b)}\n\n"
                          + "\n\n".join(problems))


@pytest.mark.parametrize("case", CASES, ids=[c.label for c in CASES])
def test_benchmark_configurations_at_two_executions(case):
    assert_agree(build_model(pipeline_of(case), case.mode), Bounds(executions=2, toggles=0))


BASELINE = load_configs(ROOT / "tests" / "baseline" / "configs.toml")


@pytest.mark.parametrize("config", BASELINE, ids=[c.name for c in BASELINE])
def test_project_baseline_configurations(config):
    assert_agree(build_model(config.pipeline, config.mode, config.rules.rule_set()),
                 config.bounds)


VARIANT_LADDER = (
    Bounds(executions=2, toggles=0),
    Bounds(executions=2, stops=0, retries=0, toggles=0),
    Bounds(executions=1, toggles=0),
)
"""Tried in turn for each variant, until the readable rules exhaust it in `VARIANT_STATES`
states: a variant that lets failed executions move on has millions of states at the first."""
VARIANT_STATES = 6_000


@pytest.mark.parametrize("world", [False, True], ids=["plain", "world"])
@pytest.mark.parametrize(("variant", "mode"), [
    (name, mode) for name, v in VARIANTS.items() for mode in v.modes
])
def test_every_variant_in_each_of_its_modes(variant, mode, world):
    pipeline = EXAMPLE_PIPELINES[VARIANTS[variant].example]()
    m = build_model(pipeline, mode, rule_set([variant]), world=world)
    props = all_properties(m)
    for bounds in VARIANT_LADDER:
        bounds = VARIANTS[variant].bounds_for(bounds)
        a = explore(m, replace(bounds, max_states=VARIANT_STATES), props,
                    engine="interpreted")
        if a.complete:
            assert_agree(m, bounds, props, a)
            return
    raise AssertionError(f"{variant} in {mode}: no configuration of the ladder is small enough")


@pytest.mark.parametrize("mode", list(MODES))
def test_documented_rules_with_the_world(mode):
    assert_agree(build_model(REFERENCE, mode, world=True), Bounds(executions=2, toggles=0))


@pytest.mark.parametrize("world", [False, True], ids=["plain", "world"])
@pytest.mark.parametrize("mode", list(MODES))
def test_the_gated_pipeline(mode, world):
    """Stage conditions: entry conditions with results FAIL and SKIP, a success condition, their
    overrides, stops and retries while they run."""
    m = build_model(EXAMPLE_PIPELINES["gated"](), mode, world=world)
    assert_agree(m, Bounds(executions=2, toggles=0, retries=1, stops=1))


@pytest.mark.parametrize("world", [False, True], ids=["plain", "world"])
@pytest.mark.parametrize("mode", list(MODES))
def test_pipeline_updates(mode, world):
    """UpdatePipeline twice: executions cancelled after their running actions, inbound ones
    failed, retries refused across the update; an update beside stops; the gated pipeline's
    conditions cancelled at once."""
    reference = build_model(REFERENCE, mode, world=world)
    assert_agree(reference, Bounds(executions=2, toggles=0, retries=1, stops=0, updates=2))
    assert_agree(reference, Bounds(executions=2, toggles=0, retries=0, stops=1, updates=1))
    assert_agree(build_model(EXAMPLE_PIPELINES["gated"](), mode, world=world),
                 Bounds(executions=2, toggles=0, retries=1, stops=0, updates=1))


@pytest.mark.parametrize("world", [False, True], ids=["plain", "world"])
@pytest.mark.parametrize("mode", list(MODES))
def test_mode_changes(mode, world):
    """Updates that change the execution mode to each other mode: executions of a locking mode
    cancelled, those of PARALLEL mode running on without locks beside the new ones; beside a
    disabled transition; once with two updates, so that a mode is left and come back to."""
    others = tuple(md for md in MODES if md != mode)
    reference = build_model(REFERENCE, mode, world=world)
    assert_agree(reference, Bounds(executions=2, toggles=1, retries=0, stops=0, updates=1,
                                   update_modes=others))
    assert_agree(reference, Bounds(executions=2, toggles=0, retries=0, stops=0, updates=2,
                                   update_modes=others))
    assert_agree(build_model(EXAMPLE_PIPELINES["gated"](), mode, world=world),
                 Bounds(executions=2, toggles=0, retries=0, stops=0, updates=1,
                        update_modes=others))


def restructured(pipeline: Pipeline, mode: str | None = None) -> Pipeline:
    """The pipeline as a self-mutating update may leave it: Build's action runs later in its
    stage (a changed action), a Verify stage with two runOrder groups and an entry condition
    comes after Staging, and Production is gone."""
    stages = []
    for s in pipeline.stages:
        if s.name == "Production":
            continue
        if s.name == "Build":
            s = replace(s, actions=tuple(replace(a, run_order=2) for a in s.actions))
        stages.append(s)
        if s.name == "Staging":
            stages.append(Stage("Verify", (Action("Smoke", "Test"),
                                           Action("Sign", "Approval", run_order=2)),
                                before_entry="FAIL"))
    return replace(pipeline, stages=tuple(stages),
                   execution_mode=mode or pipeline.execution_mode)


@pytest.mark.parametrize("mode", list(MODES))
def test_updates_that_change_the_stages_and_actions(mode):
    """Updates that install another structure: a stage added, one removed, an action changed,
    an entry condition that only the new structure has; the executions of each structure
    beside each other in every mode (in PARALLEL mode the old ones run on through the update);
    twice, so that the pipeline goes back to its first structure; once with a change of mode
    to PARALLEL in the new structure."""
    others = tuple(md for md in MODES if md != mode)
    m = build_model(REFERENCE, mode, updates_to=(restructured(REFERENCE, mode),))
    assert choose_engine(m, all_properties(m), "auto", Bounds(updates=1))[0] == "compiled"
    assert_agree(m, Bounds(executions=2, toggles=1, retries=1, stops=0, updates=1))
    assert_agree(m, Bounds(executions=2, toggles=0, retries=0, stops=1, updates=2,
                           update_modes=others[:1]))
    changing = build_model(REFERENCE, mode, updates_to=(restructured(REFERENCE, "PARALLEL"),))
    assert_agree(changing, Bounds(executions=2, toggles=0, retries=0, stops=0, updates=1))


def rolling_back(pipeline: Pipeline, *stages: str) -> Pipeline:
    """The pipeline with the named stages rolling back on failure (`onFailure` ROLLBACK)."""
    return replace(pipeline, stages=tuple(
        replace(s, automatic_rollback=True, automatic_retry=None) if s.name in stages else s
        for s in pipeline.stages))


@pytest.mark.parametrize("world", [False, True], ids=["plain", "world"])
@pytest.mark.parametrize("mode", ["SUPERSEDED", "QUEUED"])
def test_stage_rollbacks(mode, world):
    """RollbackStage to each execution that succeeded in a stage, and automatic rollbacks of
    two stages, with retries and stops of the rollbacks; beside updates that change the mode,
    so that targets of an older version are refused; the deploy targets get the older
    revision back, and the hazards compare revisions."""
    assert_agree(build_model(REFERENCE, mode, world=world),
                 Bounds(executions=2, toggles=0, stops=0, rollbacks=1))
    rolling = build_model(rolling_back(REFERENCE, "Build", "Production"), mode, world=world)
    assert choose_engine(rolling, all_properties(rolling), "auto", Bounds()) == (
        "compiled", "default")
    assert_agree(rolling, Bounds(executions=2, toggles=0))
    assert_agree(rolling, Bounds(executions=2, toggles=0, stops=0, retries=0, rollbacks=1,
                                 updates=1, update_modes=("QUEUED", "SUPERSEDED")))
    # A success condition with result ROLLBACK, overridden while its rules run or rolling back
    checked = replace(REFERENCE, stages=tuple(
        replace(s, on_success="ROLLBACK") if s.name == "Production" else s
        for s in REFERENCE.stages))
    assert_agree(build_model(checked, mode, world=world),
                 Bounds(executions=2, toggles=0, stops=0, retries=1))


def test_a_rollback_beyond_the_records_made_for_them_is_an_internal_error():
    """The kernel makes room for the rollbacks that can start (`tables.execution_slots`); one
    more would be a different state than the rules', so packing it fails loudly."""
    import numpy as np

    from checker.engine.compiled import rules as K
    from checker.engine.compiled.tables import OP_ROLLBACK, build_tables, encode

    m = build_model(REFERENCE, "SUPERSEDED")
    t = build_tables(m, 1, 0, 0, 0, True, 0, [], rollbacks=1)
    assert t.executions == 2
    v = encode(t, m, m.initial(), (0, 0, 0))
    K.effect(v, t.T, 0, 0, 0, 0)  # e1 starts
    K.effect(v, t.T, OP_ROLLBACK, 0, 1, 0)  # a rollback: the second record
    words = np.zeros(t.words, dtype=np.uint64)
    assert K.pack(v, t.T, words)
    K.effect(v, t.T, OP_ROLLBACK, 0, 1, 0)  # a third record, which no bound allows
    assert not K.pack(v, t.T, words)


PROVIDERS = (("", ("StackName",)), ("", ("BucketName",)), ("S3", ("BucketName",)),
             ("CloudFormation", ("StackName",)), ("Lambda", ("FunctionName",)),
             ("ECS", ("ClusterName", "ServiceName")))
"""Deploy providers of each kind of overlap (`spec.world.PROVIDERS`; "" is a custom one), with
the configuration keys that name their targets."""


@st.composite
def declarations(draw: st.DrawFn) -> tuple[Pipeline, dict[tuple[str, str], Declared]]:
    """Random declarations whose deploy actions write to a few shared targets of providers of
    every kind, and what the user might declare about some actions (reads and writes of a
    shared name), so that every hazard kind is drawn."""
    pipeline = draw(pipelines(max_stages=5, max_actions=3))
    stages = []
    declared: dict[tuple[str, str], Declared] = {}
    for stage in pipeline.stages:
        actions = []
        for action in stage.actions:
            if action.category == "Deploy" and draw(st.booleans()):
                provider, keys = draw(st.sampled_from(PROVIDERS))
                target = draw(st.sampled_from(("one", "two")))
                action = Action(action.name, action.category, action.run_order, provider,
                                tuple((key, target) for key in keys))
            elif action.category in ("Build", "Invoke") and draw(st.integers(0, 3)) == 0:
                declared[(stage.name, action.name)] = draw(st.sampled_from(
                    (Declared(reads=("shared",)), Declared(writes="shared"))))
            actions.append(action)
        stages.append(replace(stage, actions=tuple(actions)))
    return (Pipeline(pipeline.name, tuple(stages), pipeline.execution_mode,
                     pipeline.pipeline_type), declared)


RANDOM_STATES = 3_000


@pytest.mark.parametrize("world", [False, True], ids=["plain", "world"])
def test_a_successor_packed_from_its_source_has_the_words_of_one_packed_whole(world):
    """The search packs a successor by writing only the slots its step changed into the
    source's words; for every step of a search that changes every kind of slot (conditions,
    updates, mode changes, disabled transitions, abandoned work), those are the words that
    packing the whole vector gives, and the slots it lists as changed are the ones that
    differ.  The vectors are compared 16 slots at a time, so they have room past their end:
    what that room holds (here, different values in the two) changes nothing."""
    import numpy as np

    from checker.engine.compiled import rules as K
    from checker.engine.compiled.search import explore_compiled

    m = build_model(EXAMPLE_PIPELINES["gated"](), "SUPERSEDED", world=world)
    ex = explore_compiled(m, Bounds(executions=2, retries=1, stops=1, updates=1,
                                    update_modes=("PARALLEL",)), [])
    t = ex.tables
    assert t.padded_length > t.length  # so that the room past the end is tested
    v = np.zeros(t.padded_length, dtype=np.int32)
    out = np.zeros((t.max_successors, t.padded_length), dtype=np.int32)
    ops = np.zeros(t.max_successors, dtype=np.int64)
    whole = np.zeros(t.words, dtype=np.uint64)
    changed = np.zeros(t.words, dtype=np.uint64)
    diff = np.zeros(t.length, dtype=np.int32)
    kinds = set()
    for i in range(0, len(ex), 41):  # every 41st state: some 15,000 of them
        K.unpack(ex.states[i], t.T, v)
        v[t.length:] = 5
        for j in range(K.successors(v, t.T, out, ops)):
            out[j, t.length:] = 7
            assert K.pack(out[j], t.T, whole)
            nd = K.repack(ex.states[i], v, out[j], t.T, changed, diff)
            differ = np.flatnonzero(v[:t.length] != out[j, :t.length]).tolist()
            assert diff[:nd].tolist() == differ, (i, j)
            assert whole.tolist() == changed.tolist(), (i, j)
            kinds.add(int(ops[j]) & 15)
    assert len(kinds) == len(ex.op_counts)


def test_sixteen_slots_are_compared_at_once():
    """`cpu.differing` sets bit i where the two vectors differ at start + i, for the 16 slots
    from start on, and only those."""
    import numpy as np
    from numba import njit

    from checker.engine.compiled.cpu import LANES, differing

    @njit
    def compare(a, b, start):
        return differing(a, b, start)

    rng = np.random.default_rng(7)
    for _ in range(200):
        a = rng.integers(-3, 3, size=3 * LANES, dtype=np.int32)
        b = a.copy()
        where = rng.choice(3 * LANES, size=int(rng.integers(0, 3 * LANES)), replace=False)
        b[where] += rng.integers(1, 2**31 - 4, size=len(where), dtype=np.int32)
        for start in range(0, 2 * LANES + 1, 3):
            expected = sum(1 << i for i in range(LANES) if a[start + i] != b[start + i])
            assert int(compare(a, b, start)) == expected, (start, sorted(where))


def test_workers_taking_spans_take_each_exactly_once():
    """`cpu.take_next` hands out 0, 1, 2, ... to workers asking at once, each number to exactly
    one of them and to each in increasing order: what `graph.expand_block` relies on to share a
    block's spans out.  (A plain read, add and write would hand some numbers out twice.)"""
    import numba
    import numpy as np
    from numba import njit, prange

    from checker.engine.compiled.cpu import take_next

    @njit(parallel=True)
    def share(n, workers, counter, taken, order):
        counter[0] = 0
        for t in prange(workers):
            last = -1
            while True:
                i = take_next(counter, 0)
                if i >= n:
                    break
                taken[i] += 1
                if i <= last:
                    order[t] = 1
                last = i

    workers = numba.config.NUMBA_NUM_THREADS  # type: ignore[attr-defined]
    n = 2_000_000
    counter = np.zeros(8, dtype=np.int64)
    taken = np.zeros(n, dtype=np.int64)
    order = np.zeros(workers, dtype=np.int64)
    share(n, workers, counter, taken, order)
    assert taken.min() == taken.max() == 1
    assert not order.any()
    assert counter[0] == n + workers  # each worker asked once more, and found none left


def test_the_state_table_reads_a_stored_state_only_where_slot_and_tag_agree():
    """A state table entry holds a state's number and, above it, the top bits of its hash (the
    tag): a lookup compares the stored state only where the tag agrees, and where two states
    share both their home slot and their tag, the states themselves tell them apart."""
    import numpy as np

    from checker.engine.compiled import graph as G

    states = np.array([[1, 2], [3, 4]], dtype=np.uint64)
    table = np.zeros(8, dtype=np.uint32)
    tmask = np.uint32(7)
    h = np.uint64(0xABCD_EF01_0000_0005)  # home slot 5
    assert G._slot(states, table, states[0], h, 2) == 5  # not stored: its home slot is empty
    table[5] = G._entry(0, h, tmask)
    assert G._index(table[5], tmask) == 0
    assert G._slot(states, table, states[0], h, 2) == 5  # found
    # State 1 given the same hash: same home slot and tag, so state 0 is read, and differs.
    assert G._slot(states, table, states[1], h, 2) == 6
    # State 0 looked up under a hash with the same home slot but another tag: the entry is
    # passed over without reading the state it holds.
    assert G._slot(states, table, states[0], np.uint64(0x1234_5678_0000_0005), 2) == 6


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(declarations(), st.booleans(), st.integers(1, 2), st.integers(0, 1), st.integers(0, 1),
       st.integers(0, 1), st.booleans(), st.integers(0, 1), st.integers(0, 1))
def test_random_declarations(declaration, world, executions, stops, retries, toggles,
                             failures, updates, rollbacks):
    pipeline, declared = declaration
    m = build_model(pipeline, world=derive_world(pipeline, declared) if world else False)
    bounds = Bounds(executions, stops, retries, toggles, failures, updates=updates,
                    rollbacks=rollbacks)
    props = all_properties(m)
    a = explore(m, replace(bounds, max_states=RANDOM_STATES), props,
                engine="interpreted")
    assume(a.complete)
    assert_agree(m, bounds, props, a)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), st.integers(1, 2), st.integers(0, 1), st.integers(0, 1), st.integers(1, 2))
def test_random_updates_that_change_the_stages_and_actions(data, executions, stops, retries,
                                                           updates):
    """A random declaration and a random declaration an update may install over it."""
    pipeline = data.draw(pipelines(max_stages=3, max_actions=2))
    updated = data.draw(updated_pipelines(pipeline))
    m = build_model(pipeline, updates_to=(updated,))
    bounds = Bounds(executions, stops, retries, 0, updates=updates)
    props = all_properties(m)
    a = explore(m, replace(bounds, max_states=RANDOM_STATES), props, engine="interpreted")
    assume(a.complete)
    assert_agree(m, bounds, props, a)


# --------------------------------------------------------------------------------------------
# The report

TIMING = ("seconds", "analysisSeconds", "statesPerSecond")
"""The JSON report's timing fields (per mode), which depend on the machine and the run; so do
the engine's `workers` and `compileSeconds`."""


def report(capsys: pytest.CaptureFixture[str], *options: str) -> dict:
    status = main(["check", "--mode", "PARALLEL", "--executions", "2", "--json", *options])
    assert status in (0, 1)
    doc = json.loads(capsys.readouterr().out)
    for mode in doc["modes"]:
        for name in TIMING:
            mode.pop(name)
        mode["engine"].pop("workers")
        mode["engine"].pop("compileSeconds")
    return doc


def test_the_json_report_does_not_depend_on_the_workers(capsys):
    one = report(capsys, "--engine", "compiled", "--workers", "1")
    two = report(capsys, "--engine", "compiled", "--workers", "2")
    assert one == two
    assert one["modes"][0]["engine"]["name"] == "compiled"


def verdicts(doc: dict) -> list[tuple]:
    """Each property's verdict, with the length of its trace (each engine may find another
    trace of the same, shortest, length)."""
    return [(p["name"], p["kind"], p["verdict"], None if p["trace"] is None else len(p["trace"]))
            for mode in doc["modes"] for p in mode.pop("properties")]


def test_the_json_report_is_the_interpreted_engines_apart_from_the_engine(capsys):
    compiled = report(capsys, "--engine", "compiled", "--workers", "2")
    interpreted = report(capsys, "--engine", "interpreted")
    assert verdicts(compiled) == verdicts(interpreted)
    for doc in (compiled, interpreted):
        for mode in doc["modes"]:
            mode.pop("engine")
    assert compiled == interpreted  # states, transitions, depth, operations, never taken


# --------------------------------------------------------------------------------------------
# Numbering, storage and workers


@pytest.mark.parametrize("mode", list(MODES))
def test_both_engines_number_the_states_alike_and_find_the_same_traces(mode):
    """The compiled engine numbers states in the order the readable rules' search finds them,
    so every state, every parent and every shortest trace is the same, not merely as long."""
    m = build_model(REFERENCE, mode, world=True)
    props = all_properties(m)
    a = explore(m, Bounds(executions=2, toggles=0), props, engine="interpreted")
    b = explore(m, Bounds(executions=2, toggles=0), props, engine="compiled", workers=WORKERS)
    assert [a.state(i) for i in range(len(a))] == [b.state(i) for i in range(len(b))]
    assert [int(x) for x in a.edge_target] == [int(x) for x in b.edge_target]
    for kind in ("violations", "witnesses"):
        found_a, found_b = getattr(a, kind), getattr(b, kind)
        assert found_a.keys() == found_b.keys()
        for name, finding in found_a.items():
            assert a.trace(finding) == b.trace(found_b[name]), name
            assert finding.detail == found_b[name].detail


@pytest.mark.parametrize("world", [False, True], ids=["plain", "world"])
@pytest.mark.parametrize("mode", list(MODES))
def test_fingerprint_storage_finds_the_states_exact_storage_finds(mode, world):
    m = build_model(REFERENCE, mode, world=world)
    props = all_properties(m)
    bounds = Bounds(executions=2)
    exact = explore(m, bounds, props, engine="compiled", workers=WORKERS, storage="exact")
    prints = explore(m, bounds, props, engine="compiled", workers=WORKERS,
                     storage="fingerprint")
    assert (exact.storage, prints.storage) == ("exact", "fingerprint")
    assert prints.complete and len(prints) == len(exact)
    assert prints.transitions == exact.transitions and prints.op_counts == exact.op_counts
    assert [int(x) for x in prints.layers] == [int(x) for x in exact.layers]
    assert exact.miss_probability is None
    assert prints.miss_probability is not None and 0 < prints.miss_probability < 1e-9
    for kind in ("violations", "witnesses"):
        found_e, found_p = getattr(exact, kind), getattr(prints, kind)
        assert found_e.keys() == found_p.keys()
        for name, finding in found_e.items():
            assert exact.trace(finding) == prints.trace(found_p[name]), name
    assert exact.chart_changes() == prints.chart_changes()


def test_fingerprint_storage_leaves_can_always_finish_undetermined(capsys):
    status = main(["check", "--mode", "QUEUED", "--executions", "2", "--storage", "fingerprint",
                   "--json"])
    doc = json.loads(capsys.readouterr().out)
    (mode,) = doc["modes"]
    verdicts = {p["name"]: p for p in mode["properties"]}
    assert verdicts["can-always-finish"]["verdict"] == "UNDETERMINED"
    assert "fingerprint storage keeps no graph" in verdicts["can-always-finish"]["detail"]
    assert verdicts["no-deadlock"]["verdict"] == "PROVED"
    assert mode["engine"]["storage"] == "fingerprint"
    assert mode["engine"]["missProbability"] > 0
    assert status == 3


def test_a_deadlock_is_found_with_either_storage():
    m = build_model(REFERENCE, "SUPERSEDED", rule_set(["failure-keeps-lock"]))
    bounds = Bounds(executions=2, stops=0, retries=0, toggles=0)
    found = [explore(m, bounds, [], engine="compiled", storage=s).deadlock()
             for s in ("exact", "fingerprint")]
    reference = explore(m, bounds, [], engine="interpreted").deadlock()
    assert reference is not None
    assert [f.state if f else None for f in found] == [reference.state] * 2


def test_auto_storage_falls_back_to_fingerprints_when_memory_fills():
    from checker.engine.interpreted import resident_bytes

    m = build_model(REFERENCE, "SUPERSEDED")
    explore(m, Bounds(executions=1), [], engine="compiled")  # the kernel loaded, its memory counted
    limit = resident_bytes() // 2**20 + 48
    ex = explore(m, Bounds(executions=4, max_memory=limit), [], engine="compiled")
    assert ex.storage == "fingerprint" and not ex.complete
    assert ex.stopped_by.startswith("--max-memory")
    assert "exact storage filled --max-memory" in ex.storage_note
    exact = explore(m, Bounds(executions=4, max_memory=limit), [], engine="compiled",
                    storage="exact")
    assert exact.storage == "exact" and exact.stopped_by.startswith("--max-memory")
    assert exact.storage_note is None
