"""The pipeline view: a declaration drawn like the CodePipeline console (`pipeline_dot`),
optionally with a state laid over it, and the reference pipeline mid-run it is shown with."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from checker.check import reference_pipeline
from checker.draw.style import (
    NOT_STARTED_LABEL,
    PALETTE,
    VIOLATION,
    _attrs,
    _fixed_row,
    _graph_head,
    _graph_tail,
    _html,
    _legend_table,
    _palette_row,
    _text_row,
    execution_name,
    place,
    swatch,
)
from checker.scenario import Run, parse_scenario, run_scenario
from spec.declaration import Action, Pipeline
from spec.rules import Model, holds_stage, stage_status
from spec.state import BEFORE_ENTRY, Execution, State


def _status_cell(text: str, status: str | None, *, dashed: bool = False, note: str = "") -> str:
    sw = swatch(status)
    style = ' STYLE="dashed"' if dashed else ""
    body = f"<B>{_html(text)}</B>"
    if note:
        body += f'<BR/><FONT POINT-SIZE="9">{_html(note)}</FONT>'
    return (f'<TD BGCOLOR="{sw.fill}" COLOR="{sw.border}" BORDER="1" CELLPADDING="3"{style}>'
            f"{body}</TD>")


def _declared(m: Model, a: int) -> Action:
    """Action `a` as declared, in the first of the model's structures that has it."""
    s = m.action_stage[a]
    for k in m.structures or (m,):
        if a in k.stage_actions[s]:
            return k.stages[s].actions[k.stage_actions[s].index(a)]
    raise ValueError(f"action {a} is in no structure")


def _action_cell(m: Model, a: int, status: str | None, show_status: bool) -> str:
    action = _declared(m, a)
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
        current = m.structure_of(state) if state is not None else m
        rows += _group_rows(current, s, None, show_status=state is not None)
    for e in shown:
        assert state is not None
        ex = state.executions[e]
        status = stage_status(m, ex, s) or ex.status
        here = ex.stage == s and not ex.waiting
        if here and m.policy.stage_lock and holds_stage(m, ex):
            role = "holds the stage"
        elif m.policy.has_pipeline_state:
            role = "latest execution"
        else:
            role = "in the stage"
        if here and ex.condition is not None:
            which = "entry" if ex.condition == BEFORE_ENTRY else "success"
            role += f", at its {which} condition"
        rows.append("<TR>" + _status_cell(f"{execution_name(e, names)} {status}", status,
                                          note=role) + "</TR>")
        rows += _group_rows(m, s, ex, show_status=True)
    return ('<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="3" CELLPADDING="0">'
            + "".join(rows) + "</TABLE>")


def _group_rows(m: Model, s: int, ex: Execution | None, show_status: bool) -> list[str]:
    """The runOrder groups of stage s, in the structure `ex` runs (without one: `m`'s)."""
    rows = []
    for g, group in enumerate((m.of(ex) if ex else m).groups[s]):
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
    previous, cluster = "start", ""
    here = m.structure_of(state) if state is not None else m
    for s, stage in enumerate(m.stage_names):
        if not here.has_stage(s):
            continue  # a stage of another structure than the pipeline's current one
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
        tail = {"ltail": cluster} if cluster else {}
        lines.append(f"    {previous} -> {queue} "
                     f"{_attrs(arrowhead='none', color='#777777', penwidth=1.5, **tail)};")
        if state is not None and state.disabled[s]:
            arrow = _attrs(lhead=f"cluster_stage{s}", color=VIOLATION, style="dashed",
                           penwidth=2, label="disabled", fontcolor=VIOLATION, arrowhead="tee")
        else:
            arrow = _attrs(lhead=f"cluster_stage{s}", color="#777777", penwidth=1.5)
        lines.append(f"    {queue} -> {card} {arrow};")
        previous, cluster = card, f"cluster_stage{s}"
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
# What the command line draws


def run_pipeline_dot(run: Run) -> str:
    """The pipeline view of a replayed scenario's final state."""
    m = run.scenario.model
    count = len(run.results)
    title = f"{m.pipeline.name} ({m.policy.name} mode) after {count} step{'s' * (count != 1)}"
    return pipeline_dot(m, run.final, run.names, title)
