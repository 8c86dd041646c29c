"""Hypothesis strategies shared by the tests: declarations and walks over the model."""

from __future__ import annotations

from hypothesis import strategies as st

from spec.declaration import Action, Pipeline, Stage
from spec.modes import MODES

CATEGORIES = ("Build", "Deploy", "Test", "Invoke")


@st.composite
def pipelines(draw: st.DrawFn, max_stages: int = 5, max_actions: int = 3) -> Pipeline:
    """Random declarations: 1-5 stages of 1-3 actions, runOrder groups, approvals."""
    stage_count = draw(st.integers(1, max_stages))
    stages = []
    for s in range(stage_count):
        count = draw(st.integers(1, max_actions))
        actions = []
        for a in range(count):
            kinds = ("Source",) if s == 0 else CATEGORIES + ("Approval",)
            category = draw(st.sampled_from(kinds))
            run_order = draw(st.integers(1, 3))
            actions.append(Action(f"S{s}A{a}", category, run_order))
        stages.append(Stage(f"Stage{s}", tuple(actions)))
    mode = draw(st.sampled_from(tuple(MODES)))
    return Pipeline("random", tuple(stages), mode, "V2")
