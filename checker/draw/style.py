"""What every picture shares: the palette, DOT and HTML-label quoting, legend rows, the start
and end of a picture, and the names of executions, operations and places.

The picture modules import from here; this module imports none of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape

from checker.scenario import operation_step
from spec.operations import (
    Operation,
    RetryStageExecution,
    StartPipelineExecution,
)
from spec.rules import Model
from spec.state import (
    ABANDONED,
    CANCELLED,
    FAILED,
    IN_PROGRESS,
    SKIPPED,
    STOPPED,
    STOPPING,
    SUCCEEDED,
    SUPERSEDED,
    Execution,
    State,
)

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
    SKIPPED: Swatch("#eef3e2", "#7a8a5a", "skipped by its entry condition"),
    CANCELLED: Swatch("#e2e8f0", "#4a5568", "cancelled by a pipeline update"),
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
    return m.of(ex).stage_actions[ex.stage]


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
