"""Where the compiled kernel is cached on disk: one directory per version of its source.

numba's own cache checks, for each function it loads, only that function's source file.  The
kernel's functions call and inline one another across `cpu.py`, `tables.py`, `rules.py`,
`checks.py` and `graph.py`, so a change to a property in `checks.py` would leave the cached
search loop of `graph.py` with the old property compiled into it: a stale kernel that finds less
than the rules say.  The cache is therefore kept in a directory named after a digest of every
kernel source file (and of the numba and Python versions); any change to any of them starts a new
directory, and the directories of other versions are removed.

The directory is `$STAGELOCK_CACHE_DIR` when set, else `__pycache__/kernel-DIGEST` beside the
kernel's sources when that is writable, else `~/.cache/stagelock/kernel-DIGEST`.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from pathlib import Path

import numba

HERE = Path(__file__).resolve().parent
KERNEL_FILES = ("cpu.py", "tables.py", "rules.py", "checks.py", "graph.py")
"""The modules whose functions numba compiles (and caches)."""


def kernel_digest() -> str:
    """A digest of the kernel's sources and of what compiles them."""
    h = hashlib.sha256()
    h.update(f"{numba.__version__} {sys.version_info[:3]}".encode())
    for name in KERNEL_FILES:
        h.update(name.encode())
        h.update((HERE / name).read_bytes())
    return h.hexdigest()[:16]


def _writable(path: Path) -> bool:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(path, os.W_OK)


def cache_dir() -> Path:
    """The directory for this version of the kernel (created), other versions' removed."""
    name = f"kernel-{kernel_digest()}"
    given = os.environ.get("STAGELOCK_CACHE_DIR")
    if given:
        chosen = Path(given) / name
    else:
        chosen = HERE / "__pycache__" / name
        if not _writable(chosen.parent):
            chosen = Path.home() / ".cache" / "stagelock" / name
    chosen.mkdir(parents=True, exist_ok=True)
    for other in chosen.parent.glob("kernel-*"):
        if other != chosen and other.is_dir():
            shutil.rmtree(other, ignore_errors=True)
    return chosen


def use_kernel_cache() -> Path:
    """Point numba's cache at this kernel's directory; to be called before any kernel module is
    imported (their functions find their cache when they are decorated)."""
    path = cache_dir()
    numba.config.CACHE_DIR = str(path)  # type: ignore[attr-defined]
    return path
