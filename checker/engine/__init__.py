"""Exploration behind one interface.

Every command that explores calls `explore`, which runs one of two engines over the same state
graph:

- ``"compiled"`` (`checker.engine.compiled`): states bit-packed into machine words, successors
  and properties in JIT-compiled code, several workers, exact or fingerprint storage.  It runs
  the documented rules and the built-in variants, for the properties it has compiled forms of.
- ``"interpreted"`` (`checker.engine.interpreted`): the readable rules of `spec.rules`, called
  from Python, one state at a time.  It runs everything, users' rules files included, and keeps
  the stored states as Python objects.

``engine="auto"`` (every command's default) runs the compiled engine wherever the rule set and
the properties allow, else the interpreted one; `choose_engine` says which, and why.  Both
engines' explorations provide `Explored` (`checker.engine.result`) and say which engine made
them (``engine``, ``engine_reason``, ``workers``, ``storage``, ``compile_seconds``,
``miss_probability``).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Sequence
from types import ModuleType

from checker.engine import interpreted
from checker.engine.bounds import Bounds, allowed, spend
from checker.engine.graph import find_deadlock, find_stuck, unfinished
from checker.engine.interpreted import STATE_FIELDS, Exploration, walk_back
from checker.engine.result import Explored, Finding
from checker.errors import InputError
from spec.properties import Property
from spec.rules import Model

__all__ = [
    "ENGINES", "STORAGES", "STATE_FIELDS", "Bounds", "Exploration", "Explored", "Finding",
    "allowed", "choose_engine", "compiled_unsupported", "default_workers", "describe_engine",
    "describe_miss", "engine_json", "explore", "find_deadlock", "find_stuck", "spend",
    "unfinished", "walk_back",
]

ENGINES = ("compiled", "interpreted")
"""The engines, by the names `--engine` takes (besides the default, ``auto``)."""
STORAGES = ("exact", "fingerprint")
"""How the compiled engine stores the states it has seen (besides the default, ``auto``)."""

Progress = Callable[[int, int, int, float], None]
"""Called now and then with (states, queue, depth, seconds) while a search runs."""

NOT_INSTALLED = "the compiled engine is not installed"


def _compiled() -> ModuleType | str:
    """The compiled engine's module, or why it cannot be used at all."""
    try:
        module = importlib.import_module("checker.engine.compiled")
    except ModuleNotFoundError as error:
        if error.name in ("checker.engine.compiled", None):
            return NOT_INSTALLED
        if error.name and not error.name.startswith("checker"):
            return f"the compiled engine needs {error.name.split('.')[0]}, which is not installed"
        raise
    if not (hasattr(module, "unsupported") and hasattr(module, "explore_compiled")):
        return NOT_INSTALLED
    return module


def compiled_unsupported(model: Model, properties: Sequence[Property],
                         bounds: Bounds | None = None) -> str | None:
    """Why the compiled engine cannot explore `model` for `properties` within `bounds` (None:
    it can)."""
    module = _compiled()
    if isinstance(module, str):
        return module
    why: str | None = module.unsupported(model, list(properties), bounds)
    return why


def default_workers() -> int:
    """Every core of the machine."""
    return os.cpu_count() or 1


def _expected_engine(engine: object) -> str:
    return f"expected auto, {' or '.join(ENGINES)}, got {engine!r}"


def choose_engine(model: Model, properties: Sequence[Property],
                  engine: str = "auto", bounds: Bounds | None = None) -> tuple[str, str]:
    """The engine that explores `model` for `properties`, and why: (name, reason).

    ``"auto"`` is the compiled engine when it can run this (reason ``"default"``), else the
    interpreted one, the reason being why the compiled one cannot.  An engine asked for by name
    is that engine (reason ``"--engine NAME"``); asking for the compiled engine where it cannot
    run is bad input that says why."""
    if engine not in ("auto", *ENGINES):
        raise InputError("command line", "--engine", _expected_engine(engine))
    if engine == "interpreted":
        return "interpreted", "--engine interpreted"
    why = compiled_unsupported(model, properties, bounds)
    if engine == "compiled":
        if why is not None:
            raise InputError("command line", "--engine compiled",
                             f"expected a configuration the compiled engine runs, but {why} "
                             f"(leave out --engine, or use --engine interpreted)")
        return "compiled", "--engine compiled"
    if why is None:
        return "compiled", "default"
    return "interpreted", why


def explore(
    model: Model,
    bounds: Bounds,
    properties: Sequence[Property],
    progress: Progress | None = None,
    *,
    engine: str = "auto",
    workers: int | None = None,
    storage: str = "auto",
) -> Explored:
    """Explore every interleaving of `model` within `bounds`, breadth first, checking
    `properties` on the way (progress properties are left to the caller: `deadlock()`,
    `stuck()`).

    `engine`: ``"auto"``, ``"compiled"`` or ``"interpreted"`` (`choose_engine`).  `workers`:
    how many workers the compiled engine uses (default: every core); the interpreted engine
    always uses one.  `storage`: ``"auto"`` (the compiled engine decides), ``"exact"`` or
    ``"fingerprint"`` (compiled engine only).  Bad choices raise `checker.errors.InputError`.
    """
    if storage not in ("auto", *STORAGES):
        raise InputError("command line", "--storage",
                         f"expected auto, {' or '.join(STORAGES)}, got {storage!r}")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                or workers < 1):
        raise InputError("command line", "--workers",
                         f"expected a positive number of workers, got {workers!r}")
    name, why = choose_engine(model, properties, engine, bounds)
    if name == "interpreted":
        if storage == "fingerprint":
            raise InputError("command line", "--storage fingerprint",
                             f"expected the compiled engine, the only one that stores "
                             f"fingerprints, but the interpreted engine runs this ({why})")
        ex = interpreted.explore(model, bounds, list(properties), progress)
        ex.engine_reason = why
        return _with_initial_state(ex, model, properties)
    module = _compiled()
    assert not isinstance(module, str)
    result: Explored = module.explore_compiled(
        model, bounds, list(properties), progress,
        workers=workers if workers is not None else default_workers(), storage=storage)
    result.engine_reason = why
    return _with_initial_state(result, model, properties)


def _with_initial_state(ex: Explored, model: Model, properties: Sequence[Property]) -> Explored:
    """The state properties checked on the initial state too, which both engines' searches
    check only on the states they reach by a step: the catalogue's hold there by construction,
    but a property of one's own (`always` a stage has succeeded) may not, and its shortest
    counterexample is then no step at all."""
    initial = model.initial()
    for p in properties:
        if p.kind == "progress" or p.state_check is None:
            continue
        why = p.state_check(model, initial)
        if why:
            (ex.witnesses if p.kind == "witness" else ex.violations)[p.name] = Finding(
                0, detail=why)
    return ex


def describe_engine(ex: Explored) -> str:
    """Which engine explored, in a few words: ``compiled (2 workers, exact storage; compile
    0.4 s)``, ``interpreted (--engine interpreted)``, ``compiled (default; ...)``...

    The compiled engine's reason is given only when it was asked for by name (it is the
    default otherwise); the interpreted engine's always, since it says why the compiled one
    did not run."""
    if ex.engine == "interpreted":
        return f"interpreted ({ex.engine_reason})"
    workers = f"{ex.workers} worker{'s' if ex.workers != 1 else ''}"
    asked = "" if ex.engine_reason == "default" else f"{ex.engine_reason}; "
    return (f"{ex.engine} ({asked}{workers}, {ex.storage} storage; "
            f"compile {ex.compile_seconds:.1f} s)")


def describe_miss(ex: Explored) -> str | None:
    """For fingerprint storage, the chance that a state was missed, in words; else None."""
    if ex.miss_probability is None:
        return None
    note = getattr(ex, "storage_note", None)
    return (f"fingerprint storage{f' ({note})' if note else ''}: the probability that some "
            f"state was missed (two states with one fingerprint) is at most "
            f"{ex.miss_probability:.2g}")


def engine_json(ex: Explored) -> dict[str, object]:
    """Which engine explored, for JSON reports.  ``workers`` and ``compileSeconds`` depend on
    the machine and the run, like ``seconds``: whatever else the report says is the same
    whatever the number of workers."""
    return {
        "name": ex.engine,
        "reason": ex.engine_reason,
        "workers": ex.workers,
        "storage": ex.storage,
        "compileSeconds": round(ex.compile_seconds, 3),
        "missProbability": ex.miss_probability,
    }
