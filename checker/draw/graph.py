"""The state graph: the reachable graph of a small configuration (`state_graph`), drawn with
the states and steps that violate a property in red (`state_graph_dot`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from checker.draw.style import (
    INK,
    PALETTE,
    VIOLATION,
    _action_strip,
    _attrs,
    _graph_head,
    _graph_tail,
    _html,
    _legend_table,
    _palette_row,
    _stack,
    _text_row,
    execution_name,
    place,
    short_operation,
    swatch,
)
from checker.engine import Bounds, explore
from spec.declaration import Pipeline, parse_pipeline
from spec.properties import PROPERTIES, Property, properties_for
from spec.rules import Model
from spec.state import IN_PROGRESS, SUCCEEDED, State


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
