"""Rendering: Graphviz's `dot` turns DOT text into SVG (or PNG, PDF); pictures written to files,
diagrams/ regenerated, a replayed scenario drawn step by step."""

from __future__ import annotations

from pathlib import Path

from checker.draw.catalogue import generate_all
from checker.draw.pipeline import pipeline_dot
from checker.safeio import write_atomically
from checker.scenario import Run


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
