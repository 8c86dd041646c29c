"""The compiled exploration engine: the readable rules' state graph, searched by numba-compiled
code driven by tables (one kernel for every declaration; see `kernel.py` and `tables.py`)."""

from checker.engine.compiled.cache import use_kernel_cache

CACHE = use_kernel_cache()
"""Where the kernel is cached (`cache.py`): set before any kernel module is imported."""

from checker.engine.compiled.search import (  # noqa: E402
    CompiledExploration,
    explore_compiled,
    unsupported,
    warm_up,
)

__all__ = ["CompiledExploration", "explore_compiled", "unsupported", "warm_up"]
