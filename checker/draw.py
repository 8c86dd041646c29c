"""Pictures of the specification, generated from its own definitions.

Five kinds, each a pure function returning Graphviz DOT text (or Mermaid text):

- `lifecycle_dot` / `lifecycle_mermaid`: a lifecycle chart of `spec.lifecycles`, drawn by
  python-statemachine's own diagram code (`DotGraphMachine`) with this module's styling;
- `pipeline_dot`: a declaration drawn like the CodePipeline console, optionally with a state laid
  over it (who holds each stage, who waits in front of it, disabled transitions, action statuses);
- `state_graph_dot`: the reachable graph of a small configuration, with the states that violate a
  property in red;
- `timeline_dot`: a trace as swimlanes, one row per execution and one column per step;
- `generate_all`: every picture committed under `diagrams/`, by file name, with the index.

Every picture colours a status the same way (`PALETTE`) and carries a legend.  The output is
deterministic: no timestamps, no absolute paths, no object ids, sorted where order is free, so
the committed sources can be compared with what the code generates now.  `render` and
`write_diagrams` run Graphviz's `dot` to make SVG.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from html import escape
from pathlib import Path
from typing import Any

from checker.check import (
    REFUTED,
    CheckConfig,
    ModeResult,
    Verdict,
    check_mode,
    reference_pipeline,
)
from checker.engine import Bounds, explore
from checker.safeio import write_atomically
from checker.scenario import Run, operation_step, parse_scenario, run_scenario
from spec.declaration import Pipeline, parse_pipeline
from spec.lifecycles import CHARTS, COMPILED
from spec.operations import (
    Operation,
    RetryStageExecution,
    StartPipelineExecution,
)
from spec.properties import PROPERTIES, Property, properties_for
from spec.rules import Model, apply, build_model, holds_stage
from spec.state import (
    ABANDONED,
    FAILED,
    IN_PROGRESS,
    STOPPED,
    STOPPING,
    SUCCEEDED,
    SUPERSEDED,
    Execution,
    State,
)
from spec.variants import VARIANTS, rule_set

# --------------------------------------------------------------------------------------------
# The palette: one colour per status, in every picture

NOT_STARTED_LABEL = "NotStarted"


@dataclass(frozen=True)
class Swatch:
    fill: str
    border: str
    meaning: str


PALETTE: dict[str, Swatch] = {
    NOT_STARTED_LABEL: Swatch("#ffffff", "#8c8c8c", "not started (no status yet)"),
    IN_PROGRESS: Swatch("#8fbcf2", "#2b6cb0", "running, or waiting to enter a stage"),
    STOPPING: Swatch("#f7c65b", "#b7791f", "stop requested, actions still running"),
    STOPPED: Swatch("#c4c4c4", "#6b6b6b", "stopped"),
    SUCCEEDED: Swatch("#86d49a", "#2f855a", "succeeded"),
    FAILED: Swatch("#f28b82", "#c53030", "failed"),
    SUPERSEDED: Swatch("#c6a9ea", "#6b46c1", "overtaken by a newer execution"),
    ABANDONED: Swatch("#d79a5d", "#8a4b14", "abandoned by stop and abandon"),
}
"""Status -> colours.  `NotStarted` stands for an action with no status (the API's null)."""

VIOLATION = "#d32f2f"
"""Red for what breaks a property, and for disabled transitions."""
INK = "#333333"
FONT = "Helvetica"


def swatch(status: str | None) -> Swatch:
    """The colours of a status; None (an action that has not run) is NotStarted."""
    return PALETTE[status or NOT_STARTED_LABEL]


def _html(text: object) -> str:
    return escape(str(text), quote=True)


def _quote(text: str) -> str:
    """A DOT double-quoted string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _attrs(**attrs: object) -> str:
    """DOT attributes in the order given; values starting with `<` are HTML labels."""
    parts = []
    for key, value in attrs.items():
        text = str(value)
        if text.startswith("<") and text.endswith(">"):
            parts.append(f"{key}={text}")
        else:
            parts.append(f"{key}={_quote(text)}")
    return "[" + ", ".join(parts) + "]"


def _fixed_row(cells: Sequence[str], width: int, height: int = 22) -> str:
    """A legend row of cells side by side.  The table gets a fixed size in points (an estimate at
    least as large as its content), which keeps Graphviz from spreading the cells over a wider
    legend."""
    return _text_row(f'<TABLE ALIGN="LEFT" BORDER="0" CELLBORDER="0" CELLSPACING="3" '
                     f'CELLPADDING="1" FIXEDSIZE="TRUE" WIDTH="{width}" HEIGHT="{height}"><TR>'
                     + "".join(cells) + "</TR></TABLE>")


def _palette_row(statuses: Iterable[str]) -> str:
    """A legend row: a coloured box and the name of each status, side by side."""
    cells = []
    width = 0
    for status in statuses:
        sw = PALETTE[status]
        cells.append(
            f'<TD BGCOLOR="{sw.fill}" COLOR="{sw.border}" BORDER="1" WIDTH="16" HEIGHT="12" '
            f'FIXEDSIZE="TRUE" CELLPADDING="0"></TD><TD ALIGN="LEFT">{_html(status)}</TD>'
        )
        width += 28 + round(6.5 * len(status))
    return _fixed_row(cells, width) if cells else ""


def _legend_table(rows: Sequence[str]) -> str:
    """A legend box: a title, then rows (each a full <TR> of one cell)."""
    head = _text_row("<B>Legend</B>")
    return (
        '<TABLE BORDER="1" COLOR="#bbbbbb" CELLBORDER="0" CELLSPACING="2" CELLPADDING="2" '
        'BGCOLOR="#fafafa">' + head + "".join(r for r in rows if r) + "</TABLE>"
    )


def _text_row(html: str) -> str:
    return f'<TR><TD ALIGN="LEFT" BALIGN="LEFT">{html}</TD></TR>'


def _graph_head(name: str, rankdir: str, title: str, legend: str, **attrs: object) -> list[str]:
    """The start of a picture: the legend as the graph's label (at the bottom) and an open
    cluster titled `title` (at the top) for the content; close with `_graph_tail`."""
    lines = [f"digraph {_quote(name)} {{"]
    base: dict[str, object] = {
        "rankdir": rankdir, "fontname": FONT, "fontsize": 11, "bgcolor": "white", "pad": "0.2",
        "labelloc": "b", "labeljust": "l", "label": "<" + legend + ">",
    }
    base.update(attrs)
    for key, value in base.items():
        text = str(value)
        lines.append(f"  {key}={text if text.startswith('<') else _quote(text)};")
    lines.append(f"  node {_attrs(fontname=FONT, fontsize=11)};")
    lines.append(f"  edge {_attrs(fontname=FONT, fontsize=10, color=INK)};")
    lines.append("  subgraph cluster_main {")
    heading = "<BR/>".join(_html(line) for line in title.splitlines())
    lines.append(f"    label=<<B>{heading}</B>>; labelloc=\"t\"; labeljust=\"c\"; "
                 "fontsize=\"14\"; peripheries=0; margin=\"6\";")
    return lines


def _graph_tail(lines: list[str]) -> str:
    return "\n".join(lines + ["  }", "}"]) + "\n"


# --------------------------------------------------------------------------------------------
# Names of operations and places (the scenario file's vocabulary)


def execution_name(e: int, names: Sequence[str] | None = None) -> str:
    return names[e] if names is not None and e < len(names) else f"e{e + 1}"


def short_operation(m: Model, op: Operation, before: State,
                    names: Sequence[str] | None = None) -> str:
    """The operation as a scenario step reads: `start e2`, `succeed e1 Build`, `disable Build`
    (the step `checker.scenario.operation_step` writes, on one line)."""
    if isinstance(op, StartPipelineExecution):
        return f"start {execution_name(len(before.executions), names)}"
    known = [execution_name(e, names) for e in range(len(before.executions))]
    ((kind, body),) = operation_step(m, op, known).items()
    words = [kind, *(str(v) for k, v in body.items() if k not in ("abandon", "mode"))]
    if isinstance(op, RetryStageExecution):
        words.append(op.retry_mode)
    text = " ".join(words)
    return text + " (abandon)" if body.get("abandon") else text


def place(m: Model, state: State, e: int) -> str:
    """Where an execution is, compactly: `Build` (in it), `→Build #2` (second in the queue in
    front of it; no number for a lone waiter or one that left the queue), `done`."""
    ex = state.executions[e]
    if ex.stage >= m.stage_count:
        return "done"
    stage = m.stage_names[ex.stage]
    if not ex.waiting:
        return stage
    queue = state.inbound[ex.stage]
    if e in queue and len(queue) > 1:
        return f"→{stage} #{queue.index(e) + 1}"
    return f"→{stage}"


def _stage_actions(m: Model, ex: Execution) -> tuple[int, ...]:
    if ex.waiting or ex.stage >= m.stage_count:
        return ()
    return m.stage_actions[ex.stage]


def _action_strip(m: Model, ex: Execution, size: int = 9, single: bool = False) -> str:
    """Small squares, one per action of the stage the execution is in (declaration order),
    coloured by the action's status; nothing for a stage with a single action unless `single`."""
    actions = _stage_actions(m, ex)
    if len(actions) < (1 if single else 2):
        return ""
    cells = "".join(
        f'<TD BGCOLOR="{swatch(ex.actions[a]).fill}" COLOR="{swatch(ex.actions[a]).border}" '
        f'BORDER="{2 if m.approval[a] else 1}" WIDTH="{size}" HEIGHT="{size}" FIXEDSIZE="TRUE" '
        f'TOOLTIP="{_html(m.action_names[a])}: {_html(ex.actions[a] or NOT_STARTED_LABEL)}" '
        f'CELLPADDING="0"></TD>'
        for a in actions
    )
    width = len(actions) * (size + 2) + 2
    return ('<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="2" CELLPADDING="0" BGCOLOR="white" '
            f'FIXEDSIZE="TRUE" WIDTH="{width}" HEIGHT="{size + 4}"><TR>{cells}</TR></TABLE>')


def _stack(text: str, strip: str) -> str:
    """Cell content: text, with an action strip under it (HTML cells hold text or a table)."""
    if not strip:
        return text
    return ('<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">'
            f"<TR><TD>{text}</TD></TR><TR><TD>{strip}</TD></TR></TABLE>")


# --------------------------------------------------------------------------------------------
# 1. Lifecycles


GUARD_TEXT: dict[str, tuple[str, str]] = {
    "has_in_progress_actions": ("has in-progress actions", "no in-progress actions"),
    "completes_pipeline": ("completes the pipeline", "does not complete the pipeline"),
    "all_actions_succeeded": ("all actions succeeded", "not all actions succeeded"),
    "in_first_group": ("in the first runOrder group", "in a later runOrder group"),
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


# --------------------------------------------------------------------------------------------
# 2. The pipeline view


def _status_cell(text: str, status: str | None, *, dashed: bool = False, note: str = "") -> str:
    sw = swatch(status)
    style = ' STYLE="dashed"' if dashed else ""
    body = f"<B>{_html(text)}</B>"
    if note:
        body += f'<BR/><FONT POINT-SIZE="9">{_html(note)}</FONT>'
    return (f'<TD BGCOLOR="{sw.fill}" COLOR="{sw.border}" BORDER="1" CELLPADDING="3"{style}>'
            f"{body}</TD>")


def _action_cell(m: Model, a: int, status: str | None, show_status: bool) -> str:
    s = m.action_stage[a]
    action = m.pipeline.stages[s].actions[m.stage_actions[s].index(a)]
    sw = swatch(status)
    lines = [f"<B>{_html(action.name)}</B>"]
    kind = "manual approval" if m.approval[a] else (action.provider or action.category)
    lines.append(f'<FONT POINT-SIZE="9">{_html(kind)}</FONT>')
    if show_status:
        lines.append(_html(status or NOT_STARTED_LABEL))
    body = "<BR/>".join(lines)
    if m.approval[a]:
        # An approval: a rounded, thick-outlined box (the console marks it with a hand icon).
        return (f'<TD BORDER="0" CELLPADDING="0"><TABLE STYLE="rounded" BORDER="2" '
                f'COLOR="{sw.border}" BGCOLOR="{sw.fill}" CELLBORDER="0" CELLPADDING="4">'
                f"<TR><TD>{body}</TD></TR></TABLE></TD>")
    return (f'<TD BGCOLOR="{sw.fill}" COLOR="{sw.border}" BORDER="1" CELLPADDING="4">'
            f"{body}</TD>")


def _shown_executions(m: Model, state: State, s: int) -> list[int]:
    """The executions a stage shows: its latest execution (GetPipelineState), or in PARALLEL mode,
    which has no pipeline state, every execution in the stage."""
    if m.policy.has_pipeline_state:
        return [state.latest[s]] if state.latest[s] >= 0 else []
    return [e for e, ex in enumerate(state.executions) if ex.stage == s and not ex.waiting]


def _stage_card(m: Model, state: State | None, s: int, names: Sequence[str]) -> str:
    """The stage's actions, runOrder groups top to bottom (parallel actions side by side), under
    a header naming the execution shown and whether it holds the stage."""
    rows: list[str] = []
    shown = _shown_executions(m, state, s) if state is not None else []
    if state is not None and not shown:
        none = "no execution yet" if m.policy.has_pipeline_state else "no execution in it"
        rows.append(f'<TR><TD><FONT COLOR="#666666" POINT-SIZE="9"><I>{none}</I>'
                    "</FONT></TD></TR>")
    if not shown:
        rows += _group_rows(m, s, None, show_status=state is not None)
    for e in shown:
        assert state is not None
        ex = state.executions[e]
        status = SUCCEEDED if s < ex.stage else ex.status
        here = ex.stage == s and not ex.waiting
        if here and m.policy.stage_lock and holds_stage(m, ex):
            role = "holds the stage"
        elif m.policy.has_pipeline_state:
            role = "latest execution"
        else:
            role = "in the stage"
        rows.append("<TR>" + _status_cell(f"{execution_name(e, names)} {status}", status,
                                          note=role) + "</TR>")
        rows += _group_rows(m, s, ex, show_status=True)
    return ('<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="3" CELLPADDING="0">'
            + "".join(rows) + "</TABLE>")


def _group_rows(m: Model, s: int, ex: Execution | None, show_status: bool) -> list[str]:
    rows = []
    for g, group in enumerate(m.groups[s]):
        if g:
            rows.append('<TR><TD><FONT COLOR="#888888" POINT-SIZE="9">then</FONT></TD></TR>')
        cells = "".join(_action_cell(m, a, ex.actions[a] if ex else None, show_status)
                        for a in group)
        rows.append('<TR><TD><TABLE BORDER="0" CELLBORDER="0" CELLSPACING="4" CELLPADDING="0">'
                    f"<TR>{cells}</TR></TABLE></TD></TR>")
    return rows


def _queue_label(m: Model, state: State, s: int, names: Sequence[str]) -> str:
    queue = state.inbound[s]
    rows = ['<TR><TD><FONT POINT-SIZE="9" COLOR="#555555">waiting</FONT></TD></TR>']
    for i, e in enumerate(queue):
        text = f"{i + 1}. {execution_name(e, names)}" if len(queue) > 1 else execution_name(
            e, names)
        rows.append("<TR>" + _status_cell(text, state.executions[e].status, dashed=True)
                    + "</TR>")
    return ('<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="2" CELLPADDING="0">'
            + "".join(rows) + "</TABLE>")


def pipeline_dot(m: Model, state: State | None = None, names: Sequence[str] | None = None,
                 title: str | None = None) -> str:
    """The pipeline like the console: stages left to right, each a cluster holding its actions by
    runOrder group; with `state`, the execution each stage shows, the executions waiting in
    front of each stage in order, disabled inbound transitions and every action's status."""
    count = len(state.executions) if state is not None else 0
    names = list(names) if names is not None else [f"e{i + 1}" for i in range(count)]
    heading = title or f"Pipeline {m.pipeline.name} ({m.policy.name} mode)"
    lines = _graph_head("pipeline", "LR", heading, _pipeline_legend(m, state, names),
                        nodesep="0.2", ranksep="0.25", compound="true", splines="spline")
    lines.append(f"    start {_attrs(label='start', shape='circle', style='filled', fillcolor='#555555', fontcolor='white', fontsize=9, width='0.45', fixedsize='true', color='#555555')};")  # noqa: E501
    previous = "start"
    for s, stage in enumerate(m.stage_names):
        queue = f"inbound{s}"
        card = f"stage{s}"
        if state is not None and state.inbound[s]:
            label = "<" + _queue_label(m, state, s, names) + ">"
            lines.append(f"    {queue} {_attrs(shape='plaintext', margin='0', label=label)};")
        else:
            lines.append(f"    {queue} {_attrs(shape='point', width='0.05', color='#777777')};")
        lines.append(f"    subgraph cluster_stage{s} {{")
        lines.append(f"      label=<<B>{_html(stage)}</B>>; labeljust=\"l\"; style=\"rounded\"; "
                     "color=\"#9e9e9e\"; bgcolor=\"#f4f6f8\"; fontsize=\"12\"; margin=\"6\";")
        label = "<" + _stage_card(m, state, s, names) + ">"
        lines.append(f"      {card} {_attrs(shape='plaintext', margin='0', label=label)};")
        lines.append("    }")
        tail = {"ltail": f"cluster_stage{s - 1}"} if s else {}
        lines.append(f"    {previous} -> {queue} "
                     f"{_attrs(arrowhead='none', color='#777777', penwidth=1.5, **tail)};")
        if state is not None and state.disabled[s]:
            arrow = _attrs(lhead=f"cluster_stage{s}", color=VIOLATION, style="dashed",
                           penwidth=2, label="disabled", fontcolor=VIOLATION, arrowhead="tee")
        else:
            arrow = _attrs(lhead=f"cluster_stage{s}", color="#777777", penwidth=1.5)
        lines.append(f"    {queue} -> {card} {arrow};")
        previous = card
    return _graph_tail(lines)


def _pipeline_legend(m: Model, state: State | None, names: Sequence[str]) -> str:
    rows = [
        _text_row("inside a stage: boxes stacked top to bottom run one runOrder after the other, "
                  "boxes side by side run in parallel"),
        _text_row("rounded thick box: a manual approval"),
    ]
    if state is None:
        return _legend_table(rows)
    header = ("header: the stage's latest execution (GetPipelineState)"
              if m.policy.has_pipeline_state else
              "headers: the executions in the stage (PARALLEL mode has no pipeline state)")
    rows[1] = _text_row(f"rounded thick box: a manual approval · {header}")
    rows.insert(0, _palette_row(list(PALETTE)))
    if state.executions:
        cells = ["<TD>Executions:</TD>"]
        width = 70
        for e, ex in enumerate(state.executions):
            where = place(m, state, e).replace("→", "in front of ")
            text = f"{execution_name(e, names)} {ex.status}"
            cells.append(_status_cell(text, ex.status, dashed=ex.waiting, note=where))
            width += 14 + round(max(7.2 * len(text), 5.2 * len(where)))
        rows.insert(1, _fixed_row(cells, width, 40))
    if any(state.inbound):
        rows.append(_text_row("dashed box in front of a stage: an execution waiting to enter it "
                              "(1. enters first)"))
    if any(state.disabled):
        rows.append(_text_row(f'<FONT COLOR="{VIOLATION}">red dashed arrow ending in ⊣</FONT>: '
                              "the inbound transition into that stage is disabled"))
    return _legend_table(rows)


# --------------------------------------------------------------------------------------------
# 3. The state graph


class GraphTooLarge(Exception):
    """The reachable graph has more states than the drawing limit."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"the reachable graph has more than {limit} states, the drawing limit; "
                         "use smaller bounds or raise the limit with --max-graph-states N")


SMALL_BOUNDS = Bounds(executions=2, stops=0, retries=0, toggles=0, failures=False)
"""The smallest configuration worth drawing: two executions whose actions always succeed, no
stop, retry or transition toggle."""

GRAPH_BOUNDS = {
    "SUPERSEDED": replace(SMALL_BOUNDS, executions=3),
    "QUEUED": replace(SMALL_BOUNDS, executions=3),
    "PARALLEL": SMALL_BOUNDS,
}
"""The committed state graphs' configuration per mode (on `two_stage_pipeline`): three executions
in the locking modes, the fewest that show a supersession and a queue of two (27 and 20
states); two in PARALLEL mode, whose executions are independent (13 states; three give 40, too
wide to read)."""

DEFAULT_GRAPH_LIMIT = 150


def two_stage_pipeline() -> Pipeline:
    """The small pipeline of the state graphs: Source -> Build, one action each."""
    return parse_pipeline({
        "name": "two-stage",
        "stages": [
            {"name": "Source", "actions": [{"name": "Source", "actionTypeId": {
                "category": "Source", "owner": "AWS", "provider": "CodeStarSourceConnection",
                "version": "1"}}]},
            {"name": "Build", "actions": [{"name": "Build", "actionTypeId": {
                "category": "Build", "owner": "AWS", "provider": "CodeBuild",
                "version": "1"}}]},
        ],
    })


def _execution_text(m: Model, state: State, e: int) -> str:
    ex = state.executions[e]
    text = f"{execution_name(e)} {place(m, state, e)}"
    if ex.status not in (IN_PROGRESS, SUCCEEDED):
        text += f" {ex.status.lower()}"
    return text


def _state_label(m: Model, state: State, used: tuple[int, int, int], violated: Sequence[str],
                 terminal: bool) -> str:
    rows = []
    for e, ex in enumerate(state.executions):
        sw = swatch(ex.status)
        dashed = ' STYLE="dashed"' if ex.waiting else ""
        body = _stack(_html(_execution_text(m, state, e)), _action_strip(m, ex))
        rows.append(f'<TR><TD BGCOLOR="{sw.fill}" COLOR="{sw.border}" BORDER="1"{dashed}>'
                    f"{body}</TD></TR>")
    if not rows:
        rows.append("<TR><TD><I>no execution yet</I></TD></TR>")
    notes = [f"⊣ {m.stage_names[s]}" for s in range(m.stage_count) if state.disabled[s]]
    stops, retries, toggles = used
    spent = [f"{n} {what}" for n, what in ((stops, "stop"), (retries, "retry"),
                                          (toggles, "toggle")) if n]
    if notes:
        rows.append(f'<TR><TD><FONT COLOR="{VIOLATION}" POINT-SIZE="9">'
                    f'{_html(" ".join(notes))}</FONT></TD></TR>')
    if spent:
        rows.append(f'<TR><TD><FONT POINT-SIZE="9" COLOR="#555555">used: '
                    f'{_html(", ".join(spent))}</FONT></TD></TR>')
    if terminal:
        rows.append('<TR><TD><FONT POINT-SIZE="9" COLOR="#555555">end</FONT></TD></TR>')
    for name in violated:
        rows.append(f'<TR><TD><FONT COLOR="{VIOLATION}" POINT-SIZE="9"><B>violates<BR/>'
                    f"{_html(name)}</B></FONT></TD></TR>")
    return ('<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="2" CELLPADDING="2">'
            + "".join(rows) + "</TABLE>")


@dataclass(frozen=True)
class StateGraph:
    """A reachable graph ready to draw: states (spec state + budgets used), labelled edges and
    the properties each state and edge violates."""

    model: Model
    bounds: Bounds
    states: list[tuple[State, int, int, int]]
    edges: list[tuple[int, int, str, tuple[str, ...]]]
    state_violations: dict[int, tuple[str, ...]]


def state_graph(m: Model, bounds: Bounds, limit: int = DEFAULT_GRAPH_LIMIT,
                properties: Sequence[Property] | None = None) -> StateGraph:
    """Explore `m` within `bounds` and label every edge with its operation; raises
    `GraphTooLarge` beyond `limit` states.  `properties` (default: those of the model's mode)
    decide which states and edges are drawn as violations: a state that breaks an invariant, a
    step that breaks a step property and the state it leads to.

    Explored by the interpreted engine: the graphs drawn are a few hundred states, and each
    state drawn is read back as the readable rules' own objects."""
    props = list(properties) if properties is not None else properties_for(m.policy.name)
    ex = explore(m, replace(bounds, max_states=limit, max_seconds=None), [],
                 engine="interpreted")
    if not ex.complete:
        raise GraphTooLarge(limit)
    edges: list[tuple[int, int, str, tuple[str, ...]]] = []
    violations: dict[int, list[str]] = {}
    for i in range(len(ex)):
        state = ex.state(i)
        for p in props:
            if p.kind == "invariant" and p.state_check is not None and p.state_check(m, state):
                violations.setdefault(i, []).append(p.name)
        for op, target in ex.edges(i):
            after_state = ex.state(target)
            broken = tuple(p.name for p in props if p.kind == "step" and p.step_check is not None
                           and p.step_check(m, state, op, after_state))
            for name in broken:
                if name not in violations.setdefault(target, []):
                    violations[target].append(name)
            edges.append((i, target, short_operation(m, op, state), broken))
    return StateGraph(m, bounds, [(ex.state(i), *ex.budgets(i)) for i in range(len(ex))], edges,
                      {i: tuple(v) for i, v in violations.items() if v})


def state_graph_dot(graph: StateGraph, title: str | None = None) -> str:
    """The reachable graph, top to bottom from the initial state: each state a column of its
    executions (notation in the legend), each edge its operation; states where nothing more can
    happen double bordered; states and steps that violate a property red."""
    m = graph.model
    outgoing = {source for source, _, _, _ in graph.edges}
    lines = _graph_head("states", "TB", title or graph_title(graph), _graph_legend(graph),
                        nodesep="0.25", ranksep="0.4")
    lines.append(f"    node {_attrs(shape='box', style='rounded', color=INK, margin='0.04')};")
    lines.append(f"    init {_attrs(label='', shape='circle', style='filled', fillcolor='black', width='0.15', fixedsize='true')};")  # noqa: E501
    for i, (state, stops, retries, toggles) in enumerate(graph.states):
        violated = graph.state_violations.get(i, ())
        terminal = i not in outgoing
        label = "<" + _state_label(m, state, (stops, retries, toggles), violated, terminal) + ">"
        attrs: dict[str, object] = {"label": label}
        if violated:
            attrs.update(color=VIOLATION, penwidth=3, style="rounded,filled", fillcolor="#fdecea")
        elif i == 0:
            attrs["penwidth"] = 2
        if terminal:
            attrs["peripheries"] = 2
        lines.append(f"    s{i} {_attrs(**attrs)};")
    lines.append("    init -> s0;")
    for source, target, text, broken in graph.edges:
        if broken:
            edge = _attrs(label=text, color=VIOLATION, fontcolor=VIOLATION, penwidth=2.5)
        else:
            edge = _attrs(label=text)
        lines.append(f"    s{source} -> s{target} {edge};")
    return _graph_tail(lines)


def graph_title(graph: StateGraph) -> str:
    m = graph.model
    rules = f", variant {', '.join(m.rules.variants)}" if m.rules.variants else ""
    return (f"Reachable states of {m.pipeline.name} ({' → '.join(m.stage_names)})\n"
            f"{m.policy.name} mode{rules}: {len(graph.states)} states, "
            f"{len(graph.edges)} transitions")


def _graph_legend(graph: StateGraph) -> str:
    m = graph.model
    statuses = sorted({ex.status for node in graph.states for ex in node[0].executions},
                      key=list(PALETTE).index)
    executions = [ex for node in graph.states for ex in node[0].executions]
    rows = [
        _text_row(f"bounds: {_html(graph.bounds.describe())}"),
        _palette_row(statuses),
        _text_row("a state: one box per execution, oldest on top · <B>e1 Build</B>: in stage "
                  "Build · <B>e1 done</B>: left the last stage"),
    ]
    if any(ex.waiting for ex in executions):
        rows.append(_text_row("<B>e2 →Build</B>, dashed: waiting in front of Build "
                              "(<B>#2</B>: second in the queue)"))
    if any(ex.status not in (IN_PROGRESS, SUCCEEDED) for ex in executions):
        rows.append(_text_row("a status after the place (<B>superseded</B>, ...): the "
                              "execution's status, when neither InProgress nor Succeeded"))
    rows.append(_text_row("arrow: the operation, as a scenario step reads it · ● → the initial "
                          "state · double border, <B>end</B>: nothing more can happen"))
    if any(len(actions) > 1 for actions in m.stage_actions):
        approvals = any(m.approval)
        rows.append(_text_row("small squares: the actions of the stage, in declaration order, "
                              "coloured by status"
                              + (" (thick outline: a manual approval)" if approvals else "")))
    if any(any(node[0].disabled) for node in graph.states):
        rows.append(_text_row(f'<FONT COLOR="{VIOLATION}">⊣ Build</FONT>: the inbound '
                              "transition of Build is disabled"))
    if any(broken for *_, broken in graph.edges):
        rows.append(_text_row(f'<FONT COLOR="{VIOLATION}"><B>red arrow</B></FONT>: a step that '
                              "breaks a step property; the state it reaches is red too"))
    for name in sorted({n for v in graph.state_violations.values() for n in v}):
        rows.append(_text_row(f'<FONT COLOR="{VIOLATION}"><B>red: violates {_html(name)}'
                              f"</B></FONT>: {_html(PROPERTIES[name].meaning)}"))
    return _legend_table(rows)


# --------------------------------------------------------------------------------------------
# 4. Timelines


@dataclass(frozen=True)
class TimelineStep:
    """One column: the operation as a scenario step reads, the state after it, whether the
    service refused it, and the properties it violates."""

    text: str
    state: State
    refused: str | None = None
    violations: tuple[str, ...] = ()


def timeline_from_operations(m: Model, ops: Sequence[Operation],
                             properties: Sequence[Property] = ()) -> list[TimelineStep]:
    """The steps of a trace, checking `properties` on each step (the checker's counterexamples
    end with the violating step)."""
    state = m.initial()
    steps = []
    for op in ops:
        after = apply(m, state, op)
        broken = []
        for p in properties:
            if p.step_check is not None and p.step_check(m, state, op, after):
                broken.append(p.name)
            if p.state_check is not None and p.kind == "invariant" and p.state_check(m, after):
                broken.append(p.name)
        steps.append(TimelineStep(short_operation(m, op, state), after, None, tuple(broken)))
        state = after
    return steps


def timeline_from_run(run: Run) -> list[TimelineStep]:
    """The steps of a replayed scenario (expect steps left out); a step where one of the
    scenario's properties fails is a violating step."""
    steps = []
    for result in run.results:
        if result.step.operation is None:
            continue
        broken = tuple(sorted({f.split()[1] for f in result.failures
                               if f.startswith("property ")}))
        steps.append(TimelineStep(result.step.text, result.state, result.refused, broken))
    return steps


def _wrap(text: str, width: int = 13) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def timeline_dot(m: Model, steps: Sequence[TimelineStep], names: Sequence[str] | None,
                 title: str, caption: str = "") -> str:
    """Executions as rows, steps as columns (header: the operation); each cell where the
    execution is after that step, coloured by its status; violating steps in red."""
    count = max((len(step.state.executions) for step in steps), default=0)
    names = list(names) if names is not None else [f"e{i + 1}" for i in range(count)]
    head = ["<TD></TD>"]
    for i, step in enumerate(steps):
        bad = bool(step.violations)
        text = "<BR/>".join(_html(line) for line in _wrap(step.text))
        if step.refused:
            text += f"<BR/>refused: {_html(step.refused)}"
        colour = f' BGCOLOR="{VIOLATION}"' if bad else ' BGCOLOR="#eeeeee"'
        font = ' COLOR="white"' if bad else ""
        head.append(f'<TD{colour} BORDER="1" COLOR="#999999" VALIGN="BOTTOM">'
                    f'<FONT POINT-SIZE="9"{font}><B>{i + 1}</B><BR/>{text}</FONT></TD>')
    rows = ["<TR>" + "".join(head) + "</TR>"]
    for e in range(count):
        cells = [f'<TD ALIGN="RIGHT"><B>{_html(execution_name(e, names))}</B></TD>']
        for step in steps:
            bad = bool(step.violations)
            if e >= len(step.state.executions):
                cells.append(f'<TD BORDER="3" COLOR="{VIOLATION}"> </TD>' if bad else "<TD></TD>")
                continue
            ex = step.state.executions[e]
            sw = swatch(ex.status)
            frame = f' BORDER="3" COLOR="{VIOLATION}"' if bad else (
                f' BORDER="1" COLOR="{sw.border}"' + (' STYLE="dashed"' if ex.waiting else ""))
            body = _stack(f"{_html(place(m, step.state, e))}<BR/>"
                          f'<FONT POINT-SIZE="8">{_html(ex.status)}</FONT>',
                          _action_strip(m, ex, size=8, single=True))
            cells.append(f'<TD BGCOLOR="{sw.fill}"{frame}>{body}</TD>')
        rows.append("<TR>" + "".join(cells) + "</TR>")
    if any(any(step.state.disabled) for step in steps):
        cells = ['<TD ALIGN="RIGHT"><FONT POINT-SIZE="9">disabled</FONT></TD>']
        for step in steps:
            off = [m.stage_names[s] for s in range(m.stage_count) if step.state.disabled[s]]
            text = "<BR/>".join(f"⊣ {_html(s)}" for s in off)
            cells.append(f'<TD><FONT POINT-SIZE="9" COLOR="{VIOLATION}">{text}</FONT></TD>'
                         if text else "<TD></TD>")
        rows.append("<TR>" + "".join(cells) + "</TR>")
    table = ('<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="2" CELLPADDING="4">'
             + "".join(rows) + "</TABLE>")
    lines = _graph_head("timeline", "TB", title, _timeline_legend(m, steps, caption))
    lines.append(f"    timeline {_attrs(shape='plaintext', margin='0', label='<' + table + '>')};")
    return _graph_tail(lines)


def _timeline_legend(m: Model, steps: Sequence[TimelineStep], caption: str) -> str:
    executions = [ex for step in steps for ex in step.state.executions]
    statuses = {ex.status for ex in executions}
    statuses |= {ex.actions[a] or NOT_STARTED_LABEL for ex in executions
                 for a in _stage_actions(m, ex)}
    rows = []
    for paragraph in caption.splitlines():
        rows += [_text_row(_html(line)) for line in _wrap(paragraph, 120)]
    rows += [
        _palette_row(sorted(statuses, key=list(PALETTE).index)),
        _text_row("a column: a step, headed by its operation; a cell: where the execution is "
                  "after it, and its status"),
        _text_row("<B>Build</B>: in stage Build · <B>done</B>: left the last stage"),
    ]
    if any(ex.waiting for step in steps for ex in step.state.executions):
        rows.append(_text_row("<B>→Build</B>, dashed: waiting in front of Build (<B>#2</B>: "
                              "second in the queue)"))
    if any(_stage_actions(m, ex) for ex in executions):
        approvals = any(m.approval[a] for ex in executions for a in _stage_actions(m, ex))
        rows.append(_text_row("small squares: the actions of the stage the execution is in, in "
                              "declaration order, coloured by their status"
                              + (" (thick outline: a manual approval)" if approvals else "")))
    if any(any(step.state.disabled) for step in steps):
        rows.append(_text_row(f'<FONT COLOR="{VIOLATION}">⊣ Stage</FONT>: that stage\'s inbound '
                              "transition is disabled after the step"))
    if any(step.violations for step in steps):
        names = sorted({n for step in steps for n in step.violations})
        rows.append(_text_row(f'<FONT COLOR="{VIOLATION}"><B>red column</B></FONT>: the step '
                              f"that violates {_html(', '.join(names))}"))
    return _legend_table(rows)


# --------------------------------------------------------------------------------------------
# Counterexamples of the broken rule variants

VARIANT_LADDER = (
    Bounds(executions=2, stops=0, retries=0, toggles=0, failures=False),
    Bounds(executions=3, stops=0, retries=0, toggles=0, failures=False),
    Bounds(executions=2, stops=0, retries=0, toggles=0, failures=True),
    Bounds(executions=2, stops=1, retries=0, toggles=0, failures=True),
    Bounds(executions=2, stops=1, retries=1, toggles=1, failures=True),
)
"""Configurations of the reference pipeline tried in turn, smallest first, until the variant's
property is refuted: the counterexample comes from the smallest one that shows it."""


@dataclass(frozen=True)
class Counterexample:
    variant: str
    mode: str
    property: str
    bounds: Bounds
    model: Model
    operations: tuple[Operation, ...]
    detail: str


def variant_counterexample(name: str, pipeline: Pipeline | None = None) -> Counterexample:
    """The shortest trace that refutes the first `refuted_by` property of broken variant `name`,
    in the first of its modes where that property applies, on the first configuration of
    `VARIANT_LADDER` that refutes it."""
    variant = VARIANTS[name]
    prop = variant.refuted_by[0]
    mode = next(md for md in variant.modes if PROPERTIES[prop].applies_to(md))
    pipeline = pipeline or reference_pipeline()
    for bounds in VARIANT_LADDER:
        config = CheckConfig(pipeline, "reference", (mode,), bounds, (prop,), (name,))
        result = check_mode(config, mode)
        verdict = result.verdicts[0]
        if verdict.verdict == REFUTED and verdict.trace is not None:
            return Counterexample(name, mode, prop, bounds, result.model,
                                  tuple(verdict.trace), verdict.detail)
    raise ValueError(f"variant {name}: {prop} not refuted within {VARIANT_LADDER[-1].describe()}")


def counterexample_timeline_dot(cx: Counterexample) -> str:
    steps = timeline_from_operations(cx.model, cx.operations, [PROPERTIES[cx.property]])
    title = f"Variant {cx.variant} ({cx.mode} mode)\ncounterexample to {cx.property}"
    caption = (f"{cx.detail}.\nFound on the reference pipeline with {cx.bounds.describe()}:"
               f"\nstagelock check --variant {cx.variant} --mode {cx.mode} --property "
               f"{cx.property}")
    return timeline_dot(cx.model, steps, None, title, caption)


# --------------------------------------------------------------------------------------------
# The reference pipeline mid-run

MIDRUN_STEPS: tuple[dict[str, Any], ...] = (
    {"start": "e1"},
    {"succeed": {"execution": "e1", "action": "Source"}},
    {"succeed": {"execution": "e1", "action": "Build"}},
    {"succeed": {"execution": "e1", "action": "DeployStaging"}},
    {"succeed": {"execution": "e1", "action": "TestStaging"}},
    {"approve": {"execution": "e1", "action": "ApproveProduction"}},
    {"succeed": {"execution": "e1", "action": "DeployProduction"}},
    {"start": "e2"},
    {"succeed": {"execution": "e2", "action": "Source"}},
    {"succeed": {"execution": "e2", "action": "Build"}},
    {"succeed": {"execution": "e2", "action": "DeployStaging"}},
    {"succeed": {"execution": "e2", "action": "TestStaging"}},
    {"start": "e3"},
    {"succeed": {"execution": "e3", "action": "Source"}},
    {"succeed": {"execution": "e3", "action": "Build"}},
    {"succeed": {"execution": "e3", "action": "DeployStaging"}},
    {"succeed": {"execution": "e3", "action": "TestStaging"}},
    {"disable": {"stage": "Build"}},
    {"start": "e4"},
    {"succeed": {"execution": "e4", "action": "Source"}},
    {"start": "e5"},
    {"expect": {"stages": {"Production": {"execution": "e2", "inbound": ["e3"]},
                           "Build": {"inbound": ["e4"], "transition": "disabled"}}}},
)
"""e1 has succeeded; e2 holds Production at the approval with e3 waiting in front of it; Build's
transition is disabled with e4 waiting in front of it; e5 is in Source."""


def midrun_run() -> Run:
    doc = {"description": "the reference pipeline mid-run",
           "pipeline": _pipeline_document(reference_pipeline()), "steps": list(MIDRUN_STEPS)}
    run = run_scenario(parse_scenario(doc, "reference mid-run", Path(".")))
    if run.failures:
        raise AssertionError("; ".join(run.failures))
    return run


def _pipeline_document(pipeline: Pipeline) -> dict[str, Any]:
    from spec.declaration import pipeline_to_dict

    doc = pipeline_to_dict(pipeline)
    return dict(doc["pipeline"]) if "pipeline" in doc else dict(doc)


# --------------------------------------------------------------------------------------------
# Everything under diagrams/


@dataclass(frozen=True)
class Picture:
    stem: str
    title: str
    how_to_read: str
    sources: dict[str, str]
    """Suffix (`.dot`, `.mmd`) -> text.  A `.dot` source is rendered to `.svg` beside it."""


MODES_ORDER = ("SUPERSEDED", "QUEUED", "PARALLEL")
GRAPH_VARIANT_EXAMPLE = ("SUPERSEDED", "supersede-inside-stage")


def pictures() -> list[Picture]:
    """Every picture committed under diagrams/, in the index's order."""
    out: list[Picture] = []
    for name in CHARTS:
        out.append(Picture(
            f"lifecycle-{name}", LIFECYCLE_TITLES.get(name, name),
            LIFECYCLE_READING.get(name, "") + "Start at the black dot and follow the events; "
            "a bracketed condition picks between arrows of the same event, and a double border "
            "marks a status the chart never leaves.",
            {".dot": lifecycle_dot(name), ".mmd": lifecycle_mermaid(name)}))
    reference = reference_pipeline()
    model = build_model(reference)
    out.append(Picture(
        "pipeline-reference", "The reference pipeline",
        "Stages run left to right; inside a stage, boxes stacked top to bottom run one runOrder "
        "after the other and boxes side by side run in parallel; the rounded thick box is the "
        "manual approval.",
        {".dot": pipeline_dot(model, None, None,
                              "Reference pipeline (SUPERSEDED mode): the declaration")}))
    run = midrun_run()
    names = run.names
    out.append(Picture(
        "pipeline-reference-midrun", "The reference pipeline mid-run",
        "Each stage shows its latest execution and its actions' statuses; dashed boxes in front "
        "of a stage are the executions waiting to enter it, in order; the red dashed arrow is a "
        "disabled transition.",
        {".dot": pipeline_dot(run.scenario.model, run.final, names,
                              "Reference pipeline mid-run (SUPERSEDED mode)")}))
    small = two_stage_pipeline()
    for mode in MODES_ORDER:
        bounds = GRAPH_BOUNDS[mode]
        graph = state_graph(build_model(small, mode), bounds)
        out.append(Picture(
            f"graph-{mode.lower()}", f"Reachable states, {mode} mode",
            f"Every state the two-stage pipeline can reach with {bounds.executions} executions "
            "whose actions always succeed, from the initial state at the top; a box is a state "
            "(one coloured row per execution) and an arrow an operation.",
            {".dot": state_graph_dot(graph)}))
    mode, variant = GRAPH_VARIANT_EXAMPLE
    graph = state_graph(build_model(small, mode, rule_set([variant])),
                        SMALL_BOUNDS)
    out.append(Picture(
        f"graph-{mode.lower()}-{variant}", f"Reachable states, {mode} mode, variant {variant}",
        "The same graph under a broken rule: states reached by a step that breaks a property, "
        "and those steps, are red.",
        {".dot": state_graph_dot(graph)}))
    for name, v in VARIANTS.items():
        if not v.broken:
            continue
        cx = variant_counterexample(name, reference)
        out.append(Picture(
            f"timeline-{name}", f"Counterexample: variant {name}",
            f"The shortest run that breaks {cx.property} when {v.summary}: one row per "
            "execution, one column per step, the breaking step in red.",
            {".dot": counterexample_timeline_dot(cx)}))
    return out


def readme(items: Sequence[Picture]) -> str:
    """diagrams/README.md: every picture with one sentence on how to read it."""
    lines = [
        "# Diagrams",
        "",
        "Generated by `stagelock diagram` from the specification's own definitions; do not edit "
        "by hand.  A test fails when a `.dot` or `.mmd` source here differs from what the code "
        "generates now: run `stagelock diagram` after changing a rule, a chart or the drawing "
        "code, and commit the result.",
        "",
        "Colours are the same in every picture: "
        + ", ".join(f"{status} {sw.fill}" for status, sw in PALETTE.items()) + ".",
        "",
    ]
    sections = (
        ("Lifecycles", "lifecycle-"),
        ("Pipeline view", "pipeline-"),
        ("State graphs", "graph-"),
        ("Counterexamples of the broken rule variants", "timeline-"),
    )
    for heading, prefix in sections:
        lines += [f"## {heading}", ""]
        for item in items:
            if not item.stem.startswith(prefix):
                continue
            sources = ", ".join(f"[`{item.stem}{suffix}`]({item.stem}{suffix})"
                                for suffix in sorted(item.sources))
            lines.append(f"- [{item.title}]({item.stem}.svg) ({sources}): {item.how_to_read}")
        lines.append("")
        if prefix == "lifecycle-":
            for item in items:
                if item.stem.startswith(prefix) and ".mmd" in item.sources:
                    lines += [f"<details><summary>{item.title} (Mermaid)</summary>", "",
                              "```mermaid", item.sources[".mmd"].rstrip("\n"), "```", "",
                              "</details>", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def generate_all() -> dict[str, str]:
    """Every generated text file under diagrams/ (DOT, Mermaid, README.md), by file name."""
    items = pictures()
    files: dict[str, str] = {}
    for item in items:
        for suffix, text in item.sources.items():
            files[item.stem + suffix] = text
    files["README.md"] = readme(items)
    return dict(sorted(files.items()))


# --------------------------------------------------------------------------------------------
# Rendering


class GraphvizMissing(Exception):
    """Graphviz's `dot` program could not be run."""


def render(dot_text: str, fmt: str = "svg") -> bytes:
    """Run Graphviz `dot` on `dot_text`; raises GraphvizMissing when `dot` is not installed."""
    import graphviz

    try:
        return graphviz.Source(dot_text).pipe(format=fmt)
    except graphviz.ExecutableNotFound as error:
        raise GraphvizMissing(
            "Graphviz's `dot` program is not installed (on Debian/Ubuntu: apt-get install "
            "graphviz); it is needed to draw SVG") from error


def write_picture(dot_text: str, path: Path) -> None:
    """Write `dot_text` to `path`: as DOT source for `.dot`/`.gv`, else rendered in the format
    the suffix names (`.svg`, `.png`, `.pdf`)."""
    suffix = path.suffix.lower().lstrip(".")
    if suffix in ("dot", "gv"):
        write_atomically(path, dot_text)
    else:
        write_atomically(path, render(dot_text, suffix or "svg"))


def write_diagrams(directory: Path) -> list[Path]:
    """Regenerate everything under `directory`: the sources, an SVG beside each DOT source, the
    index; generated files that are no longer produced are removed.  Returns the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    files = generate_all()
    written: list[Path] = []
    for name, text in files.items():
        path = directory / name
        write_atomically(path, text)
        written.append(path)
        if name.endswith(".dot"):
            svg = path.with_suffix(".svg")
            write_atomically(svg, render(text, "svg"))
            written.append(svg)
    keep = {p.name for p in written}
    for old in sorted(directory.iterdir()):
        if old.suffix in (".dot", ".svg", ".mmd") and old.name not in keep:
            old.unlink()
    return written


def write_steps(run: Run, directory: Path) -> list[Path]:
    """One pipeline picture per step of a replayed scenario: `step-01.svg` and `step-01.dot`."""
    directory.mkdir(parents=True, exist_ok=True)
    m = run.scenario.model
    written = []
    width = max(2, len(str(len(run.results))))
    for r in run.results:
        number = str(r.step.index + 1).zfill(width)
        title = f"{m.pipeline.name} ({m.policy.name} mode), step {r.step.index + 1}: {r.step.text}"
        if r.refused:
            title += f" (refused: {r.refused})"
        dot = pipeline_dot(m, r.state, run.names[:len(r.state.executions)], title)
        for suffix in (".dot", ".svg"):
            path = directory / f"step-{number}{suffix}"
            write_picture(dot, path)
            written.append(path)
    return written


# --------------------------------------------------------------------------------------------
# What the command line draws


def first_counterexample(results: Sequence[ModeResult]) -> tuple[ModeResult, Verdict] | None:
    """The first refuted property with a trace, in report order (the one `--trace-out` writes)."""
    for result in results:
        for verdict in result.verdicts:
            if verdict.verdict == REFUTED and verdict.trace is not None:
                return result, verdict
    return None


def verdict_timeline_dot(result: ModeResult, verdict: Verdict) -> str:
    """The timeline of a refuted property's trace; its last step is marked as the violation (for
    an invariant or a step property, wherever the property fails along the trace)."""
    m = result.model
    prop = verdict.property
    assert verdict.trace is not None
    checked = [prop] if prop.kind in ("invariant", "step") else []
    steps = timeline_from_operations(m, verdict.trace, checked)
    if steps and not any(step.violations for step in steps):
        steps[-1] = replace(steps[-1], violations=(prop.name,))
    rules = f", variant {', '.join(m.rules.variants)}" if m.rules.variants else ""
    title = f"Counterexample to {prop.name}\n({result.mode} mode{rules})"
    detail = verdict.detail[:1].upper() + verdict.detail[1:]
    caption = (f"{detail}.\n{prop.name}: {prop.meaning}.\n"
               f"Pipeline {m.pipeline.name}, {result.bounds.describe()}.")
    return timeline_dot(m, steps, None, title, caption)


def scenario_timeline_dot(run: Run) -> str:
    """The timeline of a replayed scenario file (a trace written by `check --trace-out`)."""
    scenario = run.scenario
    m = scenario.model
    rules = f", variant {', '.join(m.rules.variants)}" if m.rules.variants else ""
    title = f"{Path(scenario.file).name} ({m.policy.name} mode{rules})"
    return timeline_dot(m, timeline_from_run(run), run.names, title,
                        scenario.description.strip())


def run_pipeline_dot(run: Run) -> str:
    """The pipeline view of a replayed scenario's final state."""
    m = run.scenario.model
    count = len(run.results)
    title = f"{m.pipeline.name} ({m.policy.name} mode) after {count} step{'s' * (count != 1)}"
    return pipeline_dot(m, run.final, run.names, title)
