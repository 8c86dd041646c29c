"""Timelines: a trace as swimlanes, one row per execution and one column per step
(`timeline_dot`), for the broken rule variants' counterexamples, the checker's refuted
properties and replayed scenario files."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from checker.check import (
    REFUTED,
    CheckConfig,
    ModeResult,
    Verdict,
    check_mode,
    reference_pipeline,
    variant_options,
)
from checker.draw.style import (
    NOT_STARTED_LABEL,
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
    _stage_actions,
    _text_row,
    execution_name,
    place,
    short_operation,
    swatch,
)
from checker.engine import Bounds
from checker.scenario import Run
from spec.declaration import Pipeline
from spec.operations import Operation
from spec.properties import PROPERTIES, Property
from spec.rules import Model, apply
from spec.state import BEFORE_ENTRY, State
from spec.variants import VARIANTS


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
            status = ex.status
            if ex.condition is not None and not ex.waiting:
                status += ", entry condition" if ex.condition == BEFORE_ENTRY else (
                    ", success condition")
            body = _stack(f"{_html(place(m, step.state, e))}<BR/>"
                          f'<FONT POINT-SIZE="8">{_html(status)}</FONT>',
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
        bounds = variant.bounds_for(bounds)
        config = CheckConfig(pipeline, pipeline.name, (mode,), bounds, (prop,), (name,))
        result = check_mode(config, mode)
        verdict = result.verdicts[0]
        if verdict.verdict == REFUTED and verdict.trace is not None:
            return Counterexample(name, mode, prop, bounds, result.model,
                                  tuple(verdict.trace), verdict.detail)
    raise ValueError(f"variant {name}: {prop} not refuted within {VARIANT_LADDER[-1].describe()}")


def counterexample_timeline_dot(cx: Counterexample) -> str:
    steps = timeline_from_operations(cx.model, cx.operations, [PROPERTIES[cx.property]])
    title = f"Variant {cx.variant} ({cx.mode} mode)\ncounterexample to {cx.property}"
    example = VARIANTS[cx.variant].example
    where = "" if example == "reference" else f"checker/{example}-pipeline.json "
    caption = (f"{cx.detail}.\nFound on the {example} pipeline with {cx.bounds.describe()}:"
               f"\nstagelock check {where}--variant {cx.variant} --mode {cx.mode} "
               + "".join(f"{o} " for o in [variant_options(VARIANTS[cx.variant])] if o)
               + f"--property {cx.property}")
    return timeline_dot(cx.model, steps, None, title, caption)


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
