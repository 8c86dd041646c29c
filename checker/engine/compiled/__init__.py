"""The compiled exploration engine: the readable rules' state graph, searched by numba-compiled
code driven by tables (one kernel for every declaration; see `kernel.py` and `tables.py`)."""

from checker.engine.compiled.search import (
    CompiledExploration,
    explore_compiled,
    unsupported,
    warm_up,
)

__all__ = ["CompiledExploration", "explore_compiled", "unsupported", "warm_up"]
