"""Lifecycles: the charts of `spec.lifecycles`, in DOT (`lifecycle_dot`, drawn by
python-statemachine's own diagram code) and Mermaid (`lifecycle_mermaid`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from checker.draw.style import (
    FONT,
    INK,
    PALETTE,
    VIOLATION,
    _html,
    _legend_table,
    _palette_row,
    _quote,
    _text_row,
)
from spec.lifecycles import CHARTS, COMPILED

GUARD_TEXT: dict[str, tuple[str, str]] = {
    "has_in_progress_actions": ("has in-progress actions", "no in-progress actions"),
    "completes_pipeline": ("completes the pipeline", "does not complete the pipeline"),
    "all_actions_succeeded": ("all actions succeeded", "not all actions succeeded"),
    "in_first_group": ("in the first runOrder group", "in a later runOrder group"),
    "is_inbound": ("waiting in front of a stage", "in a stage"),
}
"""How a chart's conditions read on an edge: (when true, when false).  A condition missing here
reads as its name with spaces (a new guard still draws)."""


def guard_text(name: str, negated: bool) -> str:
    yes, no = GUARD_TEXT.get(name, (name.replace("_", " "), "not " + name.replace("_", " ")))
    return no if negated else yes


def _chart_transitions(cls: type) -> list[tuple[str, str, str, str]]:
    """(source id, target id, event id, guard text) for every event of every transition of a
    chart class, in the order python-statemachine lists them."""
    out = []
    for state in cls.states:  # type: ignore[attr-defined]
        for transition in state.transitions:
            guards = [guard_text(str(spec.attr_name), spec.expected_value is False)
                      for spec in transition.cond]
            target = transition.target.id if transition.target is not None else state.id
            for event in transition.events:
                out.append((state.id, target, str(event), " and ".join(guards)))
    return out


@dataclass(frozen=True)
class ChartEdges:
    """How a chart's transitions are drawn.  `junctions`: an event that leads from several
    statuses to the same places is drawn once, through a diamond: (event, sources, [(target,
    guard)]).  `edges`: every other transition, one arrow per (source, target) listing its
    events and guards."""

    junctions: list[tuple[str, list[str], list[tuple[str, str]]]]
    edges: list[tuple[str, str, str]]


def chart_edges(cls: type) -> ChartEdges:
    transitions = _chart_transitions(cls)
    by_event: dict[str, dict[tuple[str, str], list[str]]] = {}
    for source, target, event, guard in transitions:
        by_event.setdefault(event, {}).setdefault((target, guard), []).append(source)
    junctions = []
    shared = set()
    for event, branches in by_event.items():
        sources = [tuple(s) for s in branches.values()]
        loops = any(target in sources[0] for target, _ in branches)
        if len(sources[0]) >= 2 and all(s == sources[0] for s in sources) and not loops:
            junctions.append((event, list(sources[0]), list(branches)))
            shared.add(event)
    merged: dict[tuple[str, str], dict[str, list[str]]] = {}
    for source, target, event, guard in transitions:
        if event not in shared:
            merged.setdefault((source, target), {}).setdefault(guard, []).append(event)
    edges = []
    for (source, target), guards in merged.items():
        parts = [",\n".join(events) + (f"\n[{guard}]" if guard else "")
                 for guard, events in guards.items()]
        edges.append((source, target, "\n".join(parts)))
    return ChartEdges(junctions, edges)


LIFECYCLE_TITLES = {
    "pipeline-execution": "Pipeline execution (PipelineExecutionStatus)",
    "stage-execution": "Stage execution (StageExecutionStatus)",
    "action-execution": "Action execution (ActionExecutionStatus)",
    "approval": "Manual approval action (ActionExecutionStatus)",
    "inbound-transition": "Inbound transition of a stage (inboundTransitionState)",
}


LIFECYCLE_READING = {
    "pipeline-execution": "The status GetPipelineExecution reports for one execution.  ",
    "stage-execution": "The status of one execution's run through one stage.  ",
    "action-execution": "The status of one action in one execution (NotStarted: the API "
    "shows no latestExecution).  ",
    "approval": "A manual approval: an action whose outcome is a reviewer's answer or a "
    "timeout.  ",
    "inbound-transition": "Whether executions may enter a stage.  ",
}
"""The first words of each chart's line in diagrams/README.md."""


def _lifecycle_node_attrs(value: str, final: bool) -> dict[str, Any]:
    if value in PALETTE:
        sw = PALETTE[value]
        attrs: dict[str, Any] = {"fillcolor": sw.fill, "color": sw.border}
    elif value == "Disabled":
        attrs = {"fillcolor": "#ffffff", "color": VIOLATION, "style": "rounded, filled, dashed"}
    else:  # Enabled
        attrs = {"fillcolor": "#ffffff", "color": INK}
    attrs["peripheries"] = 2 if final else 1
    attrs["label"] = value
    return attrs


def lifecycle_dot(name: str) -> str:
    """The chart `name` of `spec.lifecycles.CHARTS` in DOT, drawn by python-statemachine's
    `DotGraphMachine` with state values as labels, the palette's colours, event ids and readable
    guards on the edges, and a legend."""
    import pydot
    from statemachine.contrib.diagram import DotGraphMachine
    from statemachine.contrib.diagram.extract import extract
    from statemachine.contrib.diagram.renderers.dot import DotRenderer

    cls = CHARTS[name]
    values = {state.id: state.value for state in cls.states}
    finals = {state.id for state in cls.states if state.final}
    plan = chart_edges(cls)
    title = f"{LIFECYCLE_TITLES.get(name, name)}: chart {name}"
    legend = _lifecycle_legend(name)

    class Renderer(DotRenderer):
        def render(self, graph: Any) -> pydot.Dot:
            self._compound_ids = graph.compound_state_ids
            self._compound_bidir_ids = graph.bidirectional_compound_ids
            dot = self._create_graph(graph.name)
            dot.set("label", "<" + legend + ">")
            # python-statemachine asks for `ordering=out`, which here makes arrows cross labels.
            dot.obj_dict["attributes"].pop("ordering", None)
            main = pydot.Subgraph("cluster_main", label=f"<<B>{_html(title)}</B>>",
                                  labelloc="t", labeljust="c", fontsize="14", peripheries="0",
                                  margin="6")
            self._render_states(graph.states, graph.transitions, main)
            for event, sources, branches in plan.junctions:
                junction = f"{event}_junction"
                main.add_node(pydot.Node(junction, shape="diamond", label="", width="0.3",
                                         height="0.3", style="filled", fillcolor="white",
                                         color=INK, penwidth="1.5"))
                for source in sources:
                    main.add_edge(pydot.Edge(source, junction, arrowhead="none"))
                for target, guard in branches:
                    text = event + (f"\n[{guard}]" if guard else "")
                    main.add_edge(pydot.Edge(junction, target, label=_quote(text)))
            for source, target, text in plan.edges:
                main.add_edge(pydot.Edge(source, target, label=_quote(text)))
            dot.add_subgraph(main)
            return dot

        def _create_atomic_node(self, state: Any) -> pydot.Node:
            node = super()._create_atomic_node(state)
            for key, value in _lifecycle_node_attrs(values[state.id], state.id in finals).items():
                node.set(key, value)
            return node

        def _add_transitions_for_state(self, state: Any, all_transitions: Any,
                                       graph: Any) -> None:
            """Edges are added by `render`, from `chart_edges`."""

    class Machine(DotGraphMachine):
        graph_rankdir = "LR"
        font_name = FONT
        state_font_size = "12"
        transition_font_size = "10"

        def get_graph(self) -> Any:
            config = self._build_config()
            config.graph_attrs.update({
                "nodesep": "0.35", "ranksep": "0.5", "splines": "true", "pad": "0.2",
                "bgcolor": "white", "labelloc": "b", "labeljust": "l", "fontsize": "11",
            })
            config.node_attrs.update({"color": INK})
            config.edge_attrs.update({"color": INK, "fontcolor": "#222222"})
            return Renderer(config=config).render(extract(self.machine))

    return _stable_ids(Machine(cls).get_graph().to_string())


def _stable_ids(text: str) -> str:
    """python-statemachine names helper nodes after object ids; number them in order instead."""
    seen: dict[str, str] = {}

    def rename(match: re.Match[str]) -> str:
        number = match.group(2)
        if number not in seen:
            seen[number] = str(len(seen))
        return match.group(1) + seen[number]

    return re.sub(r"(__initial_|cluster___atomic_)(\d{6,})", rename, text)


def _lifecycle_legend(name: str) -> str:
    chart = COMPILED[name]
    statuses = [v for v in PALETTE if v in chart.values]
    guarded = any(t.guard for t in chart.transitions)
    rows = [
        _palette_row(statuses),
        _text_row("● → the first status" + (" · double border: a final status (nothing leaves "
                                             "it)" if chart.finals else "")),
        _text_row("arrow: the event(s) of the chart" + (", then [the condition] that selects "
                                                          "this arrow" if guarded else "")),
    ]
    if chart_edges(CHARTS[name]).junctions:
        rows.append(_text_row("◇: an event shared by several statuses: from each status drawn "
                              "into the diamond, it follows the arrows out of it"))
    if name == "inbound-transition":
        rows.append(_text_row(f'<FONT COLOR="{VIOLATION}">red dashed border</FONT>: disabled, '
                              "drawn as in the pipeline view"))
    return _legend_table(rows)


def lifecycle_mermaid(name: str) -> str:
    """The chart `name` as a Mermaid `stateDiagram-v2`, from `spec.lifecycles.COMPILED`, with the
    palette as class definitions; edges merged as in `lifecycle_dot`."""
    chart = COMPILED[name]
    lines = ["---", f"title: {LIFECYCLE_TITLES.get(name, name)}", "---", "stateDiagram-v2",
             "    direction LR"]
    for value in chart.values:
        lines.append(f"    state \"{value}\" as {value}")
    lines.append(f"    [*] --> {chart.initial}")
    merged: dict[tuple[str, str, str | None], list[str]] = {}
    for t in chart.transitions:
        merged.setdefault((t.source, t.target, t.guard), [])
        if t.event not in merged[(t.source, t.target, t.guard)]:
            merged[(t.source, t.target, t.guard)].append(t.event)
    for (source, target, guard), events in merged.items():
        label = ", ".join(events)
        if guard:
            label += f" [{_guard_expression(guard)}]"
        lines.append(f"    {source} --> {target} : {label}")
    for value in chart.values:
        if value in chart.finals:
            lines.append(f"    {value} --> [*]")
    for value in chart.values:
        fill, stroke, dash = _mermaid_colours(value)
        lines.append(f"    classDef {_mermaid_class(value)} fill:{fill},stroke:{stroke},"
                     f"color:#000{dash}")
    for value in chart.values:
        lines.append(f"    class {value} {_mermaid_class(value)}")
    return "\n".join(lines) + "\n"


def _guard_expression(guard: str) -> str:
    """`not has_in_progress_actions and x` -> `no in-progress actions and x`."""
    terms = []
    for term in guard.split(" and "):
        negated = term.startswith("not ")
        terms.append(guard_text(term[4:] if negated else term, negated))
    return " and ".join(terms)


def _mermaid_class(value: str) -> str:
    return "status" + value


def _mermaid_colours(value: str) -> tuple[str, str, str]:
    if value in PALETTE:
        return PALETTE[value].fill, PALETTE[value].border, ""
    if value == "Disabled":
        return "#ffffff", VIOLATION, ",stroke-dasharray:5 3"
    return "#ffffff", INK, ""
