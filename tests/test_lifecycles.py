"""The lifecycle charts: API spelling, the exact edges, guards, and the compiled form."""

from __future__ import annotations

import dataclasses
import itertools
import re

import networkx as nx
import pytest

from spec.lifecycles import (
    CHARTS,
    COMPILED,
    ActionExecutionLifecycle,
    ApprovalLifecycle,
    CompiledChart,
    InboundTransitionLifecycle,
    PipelineExecutionLifecycle,
    StageExecutionLifecycle,
    Transition,
    compile_chart,
    replay,
)

# The status enums of the CodePipeline service model, verbatim and in the model's order.
PIPELINE_EXECUTION_STATUS = (
    "Cancelled",
    "InProgress",
    "Stopped",
    "Stopping",
    "Succeeded",
    "Superseded",
    "Failed",
)
STAGE_EXECUTION_STATUS = (
    "Cancelled",
    "InProgress",
    "Failed",
    "Stopped",
    "Stopping",
    "Succeeded",
    "Skipped",
)
ACTION_EXECUTION_STATUS = ("InProgress", "Abandoned", "Succeeded", "Failed")

EXPECTED_VALUES = {
    "pipeline-execution": set(PIPELINE_EXECUTION_STATUS),
    "stage-execution": set(STAGE_EXECUTION_STATUS),
    "action-execution": set(ACTION_EXECUTION_STATUS) | {"NotStarted"},
    "approval": set(ACTION_EXECUTION_STATUS) | {"NotStarted"},
    "inbound-transition": {"Enabled", "Disabled"},
}

EXPECTED_INITIAL = {
    "pipeline-execution": "InProgress",
    "stage-execution": "InProgress",
    "action-execution": "NotStarted",
    "approval": "NotStarted",
    "inbound-transition": "Enabled",
}

EXPECTED_FINALS = {
    "pipeline-execution": {"Succeeded", "Superseded", "Cancelled"},
    "stage-execution": {"Succeeded", "Skipped", "Cancelled"},
    "action-execution": set(),
    "approval": set(),
    "inbound-transition": set(),
}

_ACTION_PAIRS = {
    ("NotStarted", "InProgress"),
    ("InProgress", "Succeeded"),
    ("InProgress", "Failed"),
    ("InProgress", "Abandoned"),
    ("Failed", "InProgress"),
    ("Abandoned", "InProgress"),
    ("Succeeded", "InProgress"),
    ("Succeeded", "NotStarted"),
    ("Failed", "NotStarted"),
    ("Abandoned", "NotStarted"),
}

EXPECTED_PAIRS: dict[str, set[tuple[str, str]]] = {
    "pipeline-execution": {
        ("InProgress", "Succeeded"),
        ("InProgress", "Failed"),
        ("InProgress", "Superseded"),
        ("InProgress", "Cancelled"),
        ("InProgress", "Stopping"),
        ("InProgress", "Stopped"),
        ("Stopping", "Stopping"),
        ("Stopping", "Stopped"),
        ("Failed", "InProgress"),
        ("Failed", "Succeeded"),
        ("Stopped", "Succeeded"),
        ("Stopped", "InProgress"),
    },
    "stage-execution": {
        ("InProgress", "Succeeded"),
        ("InProgress", "Failed"),
        ("InProgress", "Skipped"),
        ("InProgress", "Cancelled"),
        ("InProgress", "Stopping"),
        ("InProgress", "Stopped"),
        ("Failed", "Succeeded"),
        ("Stopping", "Stopping"),
        ("Stopping", "Stopped"),
        ("Failed", "InProgress"),
        ("Stopped", "Succeeded"),
        ("Stopped", "InProgress"),
    },
    "action-execution": _ACTION_PAIRS,
    "approval": _ACTION_PAIRS,
    "inbound-transition": {("Enabled", "Disabled"), ("Disabled", "Enabled")},
}


def _retry_actions() -> set[Transition]:
    return {
        Transition("abandon", "InProgress", "Abandoned", None),
        Transition("retry_failed_actions", "Failed", "InProgress", None),
        Transition("retry_failed_actions", "Abandoned", "InProgress", None),
        *(
            Transition("retry_all_actions", source, "InProgress", "in_first_group")
            for source in ("Succeeded", "Failed", "Abandoned")
        ),
        *(
            Transition("retry_all_actions", source, "NotStarted", "not in_first_group")
            for source in ("Succeeded", "Failed", "Abandoned")
        ),
    }


# The global model is written against these event names and guards.
EXPECTED_TRANSITIONS: dict[str, set[Transition]] = {
    "pipeline-execution": {
        Transition("last_stage_succeeded", "InProgress", "Succeeded", None),
        Transition("stage_failed", "InProgress", "Failed", None),
        Transition("superseded", "InProgress", "Superseded", None),
        Transition("stop_and_wait", "InProgress", "Stopping", "has_in_progress_actions"),
        Transition("stop_and_wait", "InProgress", "Stopped", "not has_in_progress_actions"),
        Transition("stop_and_abandon", "InProgress", "Stopping", "has_in_progress_actions"),
        Transition("stop_and_abandon", "InProgress", "Stopped", "not has_in_progress_actions"),
        Transition("stop_and_abandon", "Stopping", "Stopping", None),
        Transition("in_progress_actions_finished", "Stopping", "Stopped", None),
        Transition("actions_abandoned", "Stopping", "Stopped", None),
        Transition("retry_stage", "Failed", "InProgress", None),
        Transition("retry_stage", "Stopped", "Succeeded", "completes_pipeline"),
        Transition("retry_stage", "Stopped", "InProgress", "not completes_pipeline"),
        Transition("override_condition", "Failed", "Succeeded", "completes_pipeline"),
        Transition("override_condition", "Failed", "InProgress", "not completes_pipeline"),
        Transition("pipeline_updated", "InProgress", "Failed", "is_inbound"),
        Transition("pipeline_updated", "InProgress", "Cancelled", "not is_inbound"),
    },
    "stage-execution": {
        Transition("actions_succeeded", "InProgress", "Succeeded", None),
        Transition("action_failed", "InProgress", "Failed", None),
        Transition("condition_failed", "InProgress", "Failed", None),
        Transition("skip", "InProgress", "Skipped", None),
        Transition("override_condition", "Failed", "Succeeded", None),
        Transition("stop_and_wait", "InProgress", "Stopping", "has_in_progress_actions"),
        Transition("stop_and_wait", "InProgress", "Stopped", "not has_in_progress_actions"),
        Transition("stop_and_abandon", "InProgress", "Stopping", "has_in_progress_actions"),
        Transition("stop_and_abandon", "InProgress", "Stopped", "not has_in_progress_actions"),
        Transition("stop_and_abandon", "Stopping", "Stopping", None),
        Transition("in_progress_actions_finished", "Stopping", "Stopped", None),
        Transition("actions_abandoned", "Stopping", "Stopped", None),
        Transition("retry_stage", "Failed", "InProgress", None),
        Transition("retry_stage", "Stopped", "Succeeded", "all_actions_succeeded"),
        Transition("retry_stage", "Stopped", "InProgress", "not all_actions_succeeded"),
        Transition("automatic_retry", "Failed", "InProgress", None),
        Transition("pipeline_updated", "InProgress", "Cancelled", None),
    },
    "action-execution": {
        Transition("start", "NotStarted", "InProgress", None),
        Transition("succeed", "InProgress", "Succeeded", None),
        Transition("fail", "InProgress", "Failed", None),
        *_retry_actions(),
    },
    "approval": {
        Transition("request", "NotStarted", "InProgress", None),
        Transition("approve", "InProgress", "Succeeded", None),
        Transition("reject", "InProgress", "Failed", None),
        Transition("time_out", "InProgress", "Failed", None),
        *_retry_actions(),
    },
    "inbound-transition": {
        Transition("disable", "Enabled", "Disabled", None),
        Transition("enable", "Disabled", "Enabled", None),
    },
}

NAMES = sorted(CHARTS)


def _conditions(guard: str | None) -> dict[str, bool]:
    """The condition values that satisfy a compiled guard."""
    if guard is None:
        return {}
    conditions: dict[str, bool] = {}
    for term in guard.split(" and "):
        if term.startswith("not "):
            conditions[term.removeprefix("not ")] = False
        else:
            conditions[term] = True
    return conditions


def _graph(chart: CompiledChart) -> nx.MultiDiGraph:
    graph = nx.MultiDiGraph()
    graph.add_nodes_from(chart.values)
    for t in chart.transitions:
        graph.add_edge(t.source, t.target, key=t.event)
    return graph


def test_the_chart_names() -> None:
    assert {
        "pipeline-execution": PipelineExecutionLifecycle,
        "stage-execution": StageExecutionLifecycle,
        "action-execution": ActionExecutionLifecycle,
        "approval": ApprovalLifecycle,
        "inbound-transition": InboundTransitionLifecycle,
    } == CHARTS
    assert set(COMPILED) == set(CHARTS)
    assert all(COMPILED[name].name == name for name in NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_state_values_are_the_api_spelling(name: str) -> None:
    values = COMPILED[name].values
    assert len(values) == len(set(values))
    assert set(values) == EXPECTED_VALUES[name]


@pytest.mark.parametrize("name", NAMES)
def test_state_ids_are_snake_case(name: str) -> None:
    for state in CHARTS[name].states:
        assert re.fullmatch(r"[a-z]+(_[a-z]+)*", state.id), state.id


@pytest.mark.parametrize("name", NAMES)
def test_charts_say_what_the_entity_is(name: str) -> None:
    assert (CHARTS[name].__doc__ or "").strip()


@pytest.mark.parametrize("name", NAMES)
def test_initial_state(name: str) -> None:
    assert COMPILED[name].initial == EXPECTED_INITIAL[name]
    assert CHARTS[name]().current_state_value == EXPECTED_INITIAL[name]


@pytest.mark.parametrize("name", NAMES)
def test_finals(name: str) -> None:
    chart = COMPILED[name]
    assert chart.finals == EXPECTED_FINALS[name]
    assert not {t.source for t in chart.transitions} & chart.finals


@pytest.mark.parametrize("name", NAMES)
def test_pairs(name: str) -> None:
    assert COMPILED[name].pairs == EXPECTED_PAIRS[name]


@pytest.mark.parametrize("name", NAMES)
def test_transitions(name: str) -> None:
    transitions = COMPILED[name].transitions
    assert len(transitions) == len(set(transitions))
    assert set(transitions) == EXPECTED_TRANSITIONS[name]


def test_an_update_cancels_an_execution_and_fails_an_inbound_one() -> None:
    assert replay("pipeline-execution", "InProgress", "pipeline_updated") == "Cancelled"
    assert replay("pipeline-execution", "InProgress", "pipeline_updated",
                  is_inbound=True) == "Failed"
    assert replay("stage-execution", "InProgress", "pipeline_updated") == "Cancelled"
    for name in ("pipeline-execution", "stage-execution"):
        assert "Cancelled" in COMPILED[name].finals
        with pytest.raises(ValueError, match="not allowed"):
            replay(name, "Cancelled", "retry_stage")


def test_approval_is_an_action_with_named_outcomes() -> None:
    renamed = {"request": "start", "approve": "succeed", "reject": "fail", "time_out": "fail"}
    approval = {
        dataclasses.replace(t, event=renamed.get(t.event, t.event))
        for t in COMPILED["approval"].transitions
    }
    assert approval == set(COMPILED["action-execution"].transitions)
    assert COMPILED["approval"].values == COMPILED["action-execution"].values


@pytest.mark.parametrize("name", NAMES)
def test_every_state_is_reachable_from_the_initial_one(name: str) -> None:
    chart = COMPILED[name]
    graph = _graph(chart)
    assert nx.descendants(graph, chart.initial) | {chart.initial} == set(chart.values)


@pytest.mark.parametrize("name", NAMES)
def test_every_non_final_state_has_a_way_out(name: str) -> None:
    chart = COMPILED[name]
    graph = _graph(chart)
    for value in set(chart.values) - chart.finals:
        assert any(target != value for target in graph.successors(value)), value


@pytest.mark.parametrize("name", ["pipeline-execution", "stage-execution"])
def test_every_state_can_still_end(name: str) -> None:
    chart = COMPILED[name]
    graph = _graph(chart)
    for value in chart.values:
        assert chart.finals & (nx.descendants(graph, value) | {value}), value


@pytest.mark.parametrize(
    ("name", "source", "event", "conditions", "target"),
    [
        ("pipeline-execution", "InProgress", "stop_and_wait", {"has_in_progress_actions": True},
         "Stopping"),
        ("pipeline-execution", "InProgress", "stop_and_wait", {"has_in_progress_actions": False},
         "Stopped"),
        ("pipeline-execution", "InProgress", "stop_and_wait", {}, "Stopped"),
        ("pipeline-execution", "InProgress", "stop_and_abandon",
         {"has_in_progress_actions": True}, "Stopping"),
        ("pipeline-execution", "InProgress", "stop_and_abandon",
         {"has_in_progress_actions": False}, "Stopped"),
        ("pipeline-execution", "Stopping", "stop_and_abandon", {}, "Stopping"),
        ("pipeline-execution", "Stopped", "retry_stage", {"completes_pipeline": True},
         "Succeeded"),
        ("pipeline-execution", "Stopped", "retry_stage", {"completes_pipeline": False},
         "InProgress"),
        ("pipeline-execution", "Failed", "retry_stage", {"completes_pipeline": True},
         "InProgress"),
        ("pipeline-execution", "InProgress", "superseded", {}, "Superseded"),
        ("stage-execution", "Stopped", "retry_stage", {"all_actions_succeeded": True},
         "Succeeded"),
        ("stage-execution", "Stopped", "retry_stage", {"all_actions_succeeded": False},
         "InProgress"),
        ("action-execution", "Succeeded", "retry_all_actions", {"in_first_group": True},
         "InProgress"),
        ("action-execution", "Succeeded", "retry_all_actions", {"in_first_group": False},
         "NotStarted"),
        ("action-execution", "Abandoned", "retry_failed_actions", {}, "InProgress"),
        ("approval", "InProgress", "time_out", {}, "Failed"),
        ("approval", "Failed", "retry_all_actions", {"in_first_group": False}, "NotStarted"),
        ("inbound-transition", "Disabled", "enable", {}, "Enabled"),
    ],
)  # fmt: skip
def test_replay_follows_guards(
    name: str, source: str, event: str, conditions: dict[str, bool], target: str
) -> None:
    assert replay(name, source, event, **conditions) == target


@pytest.mark.parametrize(
    ("name", "source", "event", "conditions"),
    [
        # "You cannot use this option on an execution that is already in a Stopping state."
        ("pipeline-execution", "Stopping", "stop_and_wait", {}),
        ("pipeline-execution", "Stopped", "stop_and_abandon", {}),
        ("pipeline-execution", "Superseded", "retry_stage", {}),
        ("pipeline-execution", "Succeeded", "retry_stage", {"completes_pipeline": True}),
        ("pipeline-execution", "InProgress", "retry_stage", {}),
        ("pipeline-execution", "Failed", "superseded", {}),
        ("stage-execution", "Stopping", "stop_and_wait", {}),
        ("stage-execution", "Succeeded", "retry_stage", {}),
        ("stage-execution", "InProgress", "superseded", {}),
        ("action-execution", "NotStarted", "succeed", {}),
        ("action-execution", "InProgress", "start", {}),
        ("action-execution", "Succeeded", "retry_failed_actions", {}),
        ("action-execution", "NotStarted", "retry_all_actions", {"in_first_group": True}),
        ("action-execution", "InProgress", "approve", {}),
        ("approval", "InProgress", "succeed", {}),
        ("approval", "Succeeded", "reject", {}),
        ("inbound-transition", "Enabled", "enable", {}),
        ("inbound-transition", "Disabled", "disable", {}),
    ],
)
def test_replay_refuses_what_the_chart_does_not_allow(
    name: str, source: str, event: str, conditions: dict[str, bool]
) -> None:
    with pytest.raises(ValueError, match=rf"{event!r} is not allowed from {source!r}"):
        replay(name, source, event, **conditions)


def test_replay_refuses_unknown_names() -> None:
    with pytest.raises(ValueError, match="unknown chart"):
        replay("pipeline", "InProgress", "stage_failed")
    with pytest.raises(ValueError, match="unknown state 'Cancelling'"):
        replay("pipeline-execution", "Cancelling", "retry_stage")
    with pytest.raises(ValueError, match=r"unknown conditions \['has_in_progres_actions'\]"):
        replay("pipeline-execution", "InProgress", "stop_and_wait", has_in_progres_actions=True)


@pytest.mark.parametrize("name", NAMES)
def test_each_compiled_transition_replays_to_its_target(name: str) -> None:
    for t in COMPILED[name].transitions:
        assert replay(name, t.source, t.event, **_conditions(t.guard)) == t.target, t


@pytest.mark.parametrize("name", NAMES)
def test_guards_pick_exactly_one_transition(name: str) -> None:
    """For every source and event, each setting of the conditions selects one transition, and a
    real instance takes that one."""
    chart = COMPILED[name]
    groups: dict[tuple[str, str], list[Transition]] = {}
    for t in chart.transitions:
        groups.setdefault((t.source, t.event), []).append(t)
    for (source, event), group in groups.items():
        names = sorted({key for t in group for key in _conditions(t.guard)})
        for setting in itertools.product((False, True), repeat=len(names)):
            conditions = dict(zip(names, setting, strict=True))
            chosen = [
                t
                for t in group
                if all(conditions[key] == value for key, value in _conditions(t.guard).items())
            ]
            assert len(chosen) == 1, (source, event, conditions)
            assert replay(name, source, event, **conditions) == chosen[0].target


@pytest.mark.parametrize("name", NAMES)
def test_compiling_is_deterministic(name: str) -> None:
    assert compile_chart(CHARTS[name]) == COMPILED[name]


def test_compiled_chart_is_frozen() -> None:
    chart = COMPILED["inbound-transition"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        chart.initial = "Disabled"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        chart.transitions[0].target = "Enabled"  # type: ignore[misc]


def test_a_chart_restored_in_any_state_continues_from_it() -> None:
    machine = PipelineExecutionLifecycle(start_value="Stopping")
    machine.send("actions_abandoned")
    assert machine.current_state_value == "Stopped"
    machine.send("retry_stage")
    assert machine.current_state_value == "InProgress"
    machine.send("last_stage_succeeded")
    assert machine.current_state_value == "Succeeded"
