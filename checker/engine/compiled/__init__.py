"""The compiled exploration engine: the readable rules' state graph, searched by numba-compiled
code driven by tables (one kernel for every declaration): `tables.py` turns a model into the
tables, `rules.py` and `checks.py` are the rules and the properties in compiled form, `graph.py`
is the search and the graph analyses, and `search.py` drives them from Python."""

import os
import resource


def _one_worker_under_an_address_space_limit() -> None:
    """Under an address-space limit (RLIMIT_AS, `ulimit -v`), the compiled engine runs one
    worker, unless NUMBA_NUM_THREADS says otherwise.  Each worker thread needs address space
    of its own (its stack, and glibc's 64 MiB malloc arena), and a worker that cannot be created
    ends the process from inside the OpenMP runtime with exit status 1, which would read as
    REFUTED; with one worker the search runs on the calling thread and the memory guard
    (`checker.engine.interpreted.default_max_memory`) keeps it inside the limit.  numba reads
    the variable when it is first imported, so this runs before that."""
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY and "NUMBA_NUM_THREADS" not in os.environ:
        os.environ["NUMBA_NUM_THREADS"] = "1"


_one_worker_under_an_address_space_limit()

from checker.engine.compiled.cache import use_kernel_cache  # noqa: E402

CACHE = use_kernel_cache()
"""Where the kernel is cached (`cache.py`): set before any kernel module is imported."""

from checker.engine.compiled.search import (  # noqa: E402
    CompiledExploration,
    explore_compiled,
    unsupported,
    warm_up,
)

__all__ = ["CompiledExploration", "explore_compiled", "unsupported", "warm_up"]
