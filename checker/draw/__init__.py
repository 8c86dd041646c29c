"""Pictures of the specification, generated from its own definitions.

Five kinds, each a pure function returning Graphviz DOT text (or Mermaid text), each in its own
module:

- `lifecycle_dot` / `lifecycle_mermaid` (`lifecycles.py`): a lifecycle chart of
  `spec.lifecycles`, drawn by python-statemachine's own diagram code (`DotGraphMachine`) with
  this package's styling;
- `pipeline_dot` (`pipeline.py`): a declaration drawn like the CodePipeline console, optionally
  with a state laid over it (who holds each stage, who waits in front of it, disabled
  transitions, action statuses); also the reference pipeline mid-run (`midrun_run`);
- `state_graph_dot` (`graph.py`): the reachable graph of a small configuration, with the states
  that violate a property in red;
- `timeline_dot` (`timeline.py`): a trace as swimlanes, one row per execution and one column per
  step; also the broken rule variants' counterexamples and the command line's timelines;
- `generate_all` (`catalogue.py`): every picture committed under `diagrams/`, by file name, with
  the index.

What they share, the palette, quoting, legend rows and the names of executions, operations and
places, is `style.py`, which imports none of the others.  Every picture colours a status the same
way (`PALETTE`) and carries a legend.  The output is deterministic: no timestamps, no absolute
paths, no object ids, sorted where order is free, so the committed sources can be compared with
what the code generates now.  `render` and `write_diagrams` (`output.py`) run Graphviz's `dot`
to make SVG.
"""

from checker.draw.catalogue import (
    GRAPH_VARIANT_EXAMPLE,
    MODES_ORDER,
    Picture,
    generate_all,
    pictures,
    readme,
)
from checker.draw.graph import (
    DEFAULT_GRAPH_LIMIT,
    GRAPH_BOUNDS,
    SMALL_BOUNDS,
    GraphTooLarge,
    StateGraph,
    graph_title,
    state_graph,
    state_graph_dot,
    two_stage_pipeline,
)
from checker.draw.lifecycles import (
    GUARD_TEXT,
    LIFECYCLE_READING,
    LIFECYCLE_TITLES,
    ChartEdges,
    chart_edges,
    guard_text,
    lifecycle_dot,
    lifecycle_mermaid,
)
from checker.draw.output import (
    GraphvizMissing,
    render,
    write_diagrams,
    write_picture,
    write_steps,
)
from checker.draw.pipeline import MIDRUN_STEPS, midrun_run, pipeline_dot, run_pipeline_dot
from checker.draw.style import (
    FONT,
    INK,
    NOT_STARTED_LABEL,
    PALETTE,
    VIOLATION,
    Swatch,
    execution_name,
    place,
    short_operation,
    swatch,
)
from checker.draw.timeline import (
    VARIANT_LADDER,
    Counterexample,
    TimelineStep,
    counterexample_timeline_dot,
    first_counterexample,
    scenario_timeline_dot,
    timeline_dot,
    timeline_from_operations,
    timeline_from_run,
    variant_counterexample,
    verdict_timeline_dot,
)

__all__ = [
    "DEFAULT_GRAPH_LIMIT", "FONT", "GRAPH_BOUNDS", "GRAPH_VARIANT_EXAMPLE", "GUARD_TEXT", "INK",
    "LIFECYCLE_READING", "LIFECYCLE_TITLES", "MIDRUN_STEPS", "MODES_ORDER", "NOT_STARTED_LABEL",
    "PALETTE", "SMALL_BOUNDS", "VARIANT_LADDER", "VIOLATION", "ChartEdges", "Counterexample",
    "GraphTooLarge", "GraphvizMissing", "Picture", "StateGraph", "Swatch", "TimelineStep",
    "chart_edges", "counterexample_timeline_dot", "execution_name", "first_counterexample",
    "generate_all", "graph_title", "guard_text", "lifecycle_dot", "lifecycle_mermaid",
    "midrun_run", "pictures", "pipeline_dot", "place", "readme", "render", "run_pipeline_dot",
    "scenario_timeline_dot", "short_operation", "state_graph", "state_graph_dot", "swatch",
    "timeline_dot", "timeline_from_operations", "timeline_from_run", "two_stage_pipeline",
    "variant_counterexample", "verdict_timeline_dot", "write_diagrams", "write_picture",
    "write_steps",
]
