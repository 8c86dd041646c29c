"""Updates that change the pipeline's stages and actions: how one model numbers several
structures, what the executions of each run, and `check --update-to` from end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from checker.cli import main
from checker.engine import Bounds, explore
from checker.scenario import parse_scenario, run_scenario, scenario_document
from spec.declaration import Action, Pipeline, Stage
from spec.operations import ActionSucceeded, Operation, StartPipelineExecution, UpdatePipeline
from spec.rules import StructureError, apply, build_model

SOURCE = Stage("Source", (Action("Checkout", "Source"),))
BUILD = Stage("Build", (Action("Compile", "Build"),))
TEST = Stage("Test", (Action("Integration", "Test"),))
DEPLOY = Stage("Deploy", (Action("Service", "Deploy", provider="ECS"),))
V1 = Pipeline("orders", (SOURCE, BUILD, DEPLOY), "QUEUED", "V2")
V2 = Pipeline("orders", (SOURCE, BUILD, TEST, DEPLOY), "QUEUED", "V2")


def test_stages_of_every_structure_are_numbered_once_in_one_order() -> None:
    m = build_model(V1, updates_to=(V2,))
    assert m.stage_names == ("Source", "Build", "Test", "Deploy")
    assert m.action_names == ("Checkout", "Compile", "Integration", "Service")
    v2 = m.structures[1]
    assert [m.has_stage(s) for s in range(4)] == [True, True, False, True]
    assert [v2.has_stage(s) for s in range(4)] == [True, True, True, True]
    assert m.next_stage[1] == 3 and v2.next_stage[1] == 2  # after Build: Deploy, or Test
    assert m.next_stage[3] == v2.next_stage[3] == 4


def test_a_changed_action_is_a_new_action_beside_the_old_one() -> None:
    changed = Pipeline("orders", (SOURCE, Stage("Build", (Action("Compile", "Build",
                                                                 run_order=2),)), DEPLOY))
    m = build_model(V1, updates_to=(changed,))
    assert m.action_names == ("Checkout", "Compile", "Compile", "Service")
    assert m.stage_actions[1] == (1,) and m.structures[1].stage_actions[1] == (2,)


def test_one_model_without_updates_is_its_own_only_structure() -> None:
    m = build_model(V2)
    assert m.structures == () and m.structure_of(m.initial()) is m


def test_reordered_stages_cannot_be_numbered_together() -> None:
    swapped = Pipeline("orders", (SOURCE, DEPLOY, BUILD))
    with pytest.raises(StructureError, match="stage Build comes after stage Deploy"):
        build_model(V1, updates_to=(swapped,))


def test_search_runs_each_execution_through_its_own_structure() -> None:
    """After the update to V2 every execution that starts runs Test; none started before does,
    and one started before, being cancelled, holds Build against the new ones (QUEUED)."""
    m = build_model(V1, updates_to=(V2,))
    ex = explore(m, Bounds(executions=2, stops=0, retries=0, toggles=0, updates=1), [],
                 engine="interpreted")
    test = m.stage_names.index("Test")
    in_test = set()
    waited_for_old = False
    for i in range(len(ex)):
        state = ex.state(i)
        for e in state.executions:
            if e.stage == test and not e.waiting:
                in_test.add(e.structure)
        build = [e for e in state.executions if e.stage == 1]
        waited_for_old |= any(e.structure == 0 and not e.waiting and e.stop == "update"
                              for e in build) and any(e.structure == 1 and e.waiting
                                                      for e in build)
    assert in_test == {1}
    assert waited_for_old
    assert any(isinstance(op, UpdatePipeline) and op.structure == 1
               for i in range(len(ex)) for op, _ in ex.edges(i))


def _declarations(tmp_path: Path) -> tuple[Path, Path]:
    stage = ("    - name: {0}\n      actions: [{{name: {1}, actionTypeId: {{category: {2}, "
             "provider: {3}}}}}]\n")
    head = "pipeline:\n  name: orders\n  pipelineType: V2\n  executionMode: QUEUED\n  stages:\n"
    source = stage.format("Source", "Checkout", "Source", "CodeStarSourceConnection")
    build = stage.format("Build", "Compile", "Build", "CodeBuild")
    test = stage.format("Test", "Integration", "Test", "CodeBuild")
    deploy = stage.format("Deploy", "Service", "Deploy", "ECS")
    v1, v2 = tmp_path / "v1.yaml", tmp_path / "v2.yaml"
    v1.write_text(head + source + build + deploy, encoding="utf-8")
    blockers = "      blockers: [{name: freeze, type: Schedule}]\n"
    v2.write_text(head + source + build + test + blockers + deploy, encoding="utf-8")
    return v1, v2


def test_check_update_to_explores_the_new_structure(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    v1, v2 = _declarations(tmp_path)
    status = main(["check", str(v1), "--updates", "1", "--update-to", str(v2),
                   "--executions", "2", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert status == 0 and report["result"] == "PROVED"
    assert report["bounds"]["updateTo"] == [
        {"file": str(v2), "stages": ["Source", "Build", "Test", "Deploy"],
         "executionMode": "QUEUED"}]
    (mode,) = report["modes"]
    assert mode["engine"]["name"] == "compiled"
    assert mode["operations"]["UpdatePipeline"] > 0
    assert any("hazards are not asked" in note for note in report["notes"])


def test_a_trace_through_an_update_that_installs_a_structure_replays_as_a_scenario(
        tmp_path: Path) -> None:
    """A trace is written with the declaration the update installs inline, and replays to the
    same state: the execution started after the update runs Test."""
    m = build_model(V1, updates_to=(V2,))
    ops: list[Operation] = [StartPipelineExecution(), ActionSucceeded(0, 0),
                            UpdatePipeline(None, 1), StartPipelineExecution(),
                            ActionSucceeded(1, 0), ActionSucceeded(0, 1), ActionSucceeded(1, 1)]
    state = m.initial()
    for op in ops:
        state = apply(m, state, op)
    assert [e.status for e in state.executions] == ["Cancelled", "InProgress"]
    assert state.executions[1].stage == m.stage_names.index("Test")
    doc = scenario_document(m, ops, "through an update", [])
    assert doc["steps"][2]["update"]["pipeline"]["stages"][2]["name"] == "Test"
    scenario = parse_scenario(doc, str(tmp_path / "trace.yaml"), tmp_path)
    run = run_scenario(scenario)
    assert not run.failures
    assert run.final.executions == state.executions


def test_a_model_file_names_the_declarations_an_update_may_install(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    v1, v2 = _declarations(tmp_path)
    model = tmp_path / "model.toml"
    model.write_text(f'pipeline = "{v1.name}"\nupdate_to = ["{v2.name}"]\n'
                     "[bounds]\nexecutions = 2\nupdates = 1\nstops = 0\n", encoding="utf-8")
    status = main(["check", str(model), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert status == 0
    assert [u["file"] for u in report["bounds"]["updateTo"]] == [str(v2)]
    # The field the model does not account for is named, with the file that declares it.
    assert [(w["file"], w["field"]) for w in report["warnings"]] == [(str(v2), "blockers")]


def test_the_pipeline_picture_shows_the_current_structure() -> None:
    """After the update the picture draws the new structure's stages, and each execution in a
    stage with the actions of the structure it runs."""
    from checker.draw.pipeline import pipeline_dot

    m = build_model(V1, updates_to=(V2,))
    state = m.initial()
    before = pipeline_dot(m, state)
    assert "Integration" not in before and "<B>Test</B>" not in before
    for op in (StartPipelineExecution(), ActionSucceeded(0, 0), UpdatePipeline(None, 1)):
        state = apply(m, state, op)
    after = pipeline_dot(m, state)
    assert "<B>Test</B>" in after and "Integration" in after


def test_transitions_a_structure_an_update_installs_makes_possible_are_expected() -> None:
    """A Skipped stage needs an entry condition with result SKIP: one that only the installed
    structure has makes it possible."""
    from checker.coverage import possible_changes

    skipping = Pipeline("orders", (SOURCE, BUILD, Stage("Test", TEST.actions, before_entry="SKIP"),
                                   DEPLOY), "QUEUED", "V2")
    skipped = ("stage-execution", "InProgress", "Skipped")
    assert skipped not in possible_changes(build_model(V1), updates=1)
    assert skipped in possible_changes(build_model(V1, updates_to=(skipping,)), updates=1)


def test_simulate_names_the_unmodelled_fields_of_a_declaration_an_update_installs(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    v1, v2 = _declarations(tmp_path)
    scenario = tmp_path / "s.yaml"
    scenario.write_text(f"pipeline: {v1.name}\nsteps:\n  - update: {{pipeline: {v2.name}}}\n",
                        encoding="utf-8")
    assert main(["simulate", str(scenario)]) == 0
    out = capsys.readouterr().out
    assert f"warning: {v2}:" in out and "blockers" in out
