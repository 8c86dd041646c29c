"""Baselines: a record of what small configurations do, to tell when a rule change changes it.

A configurations file (TOML) lists the configurations:

    [[config]]
    name = "reference-superseded-2"
    pipeline = "pipeline.json"     # relative to this file; omit for the built-in reference
    resource = "Pipeline"          # for a CloudFormation template with several pipelines
    mode = "SUPERSEDED"            # omit for the declaration's own mode
    rules = "documented"           # as for `stagelock diff --rules` (default documented)
    [config.bounds]
    executions = 2                 # also stops, retries, toggles, updates, failures
    update_modes = ["QUEUED"]      # the modes an update may change the pipeline to

`stagelock baseline write` explores each configuration and records: its states and transitions,
every property's verdict and each counterexample's operations, and its *observable behaviour
graph*: the distinct observations of its states (`checker.diff.observe`, as canonical JSON,
numbered) and the distinct observable transitions between them, `[from, operation, to]`, with
an order-independent digest of that graph.  The graph is stored so that a later check can name
the behaviours that appeared or disappeared, with a way to reach each one, after the old rules
are gone; so configurations are kept small (tens of thousands of transitions at most).

`stagelock baseline check` explores each configuration again and reports what changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from checker.check import (
    INTERRUPTIONS,
    REFUTED,
    CheckConfig,
    check_mode,
    interruption,
    reference_pipeline,
)
from checker.config import (
    check_bound,
    check_update_bounds,
    check_update_modes,
    check_workers,
    read_toml,
)
from checker.diff import (
    DOCUMENTED_CHOICE,
    CommandOutput,
    RuleChoice,
    choice_of,
    observe,
    parse_rules,
)
from checker.engine import Bounds, describe_engine
from checker.engine.compare import depth
from checker.errors import InputError, Terminated
from checker.formats import load_declaration
from checker.report import describe_operation, render_trace, trace_steps
from checker.safeio import parse_json, read_text, write_atomically
from spec.declaration import Pipeline
from spec.modes import MODES
from spec.operations import Operation
from spec.ruleset import RuleSet
from spec.state import State

FORMAT = "stagelock-baseline"
VERSION = 1
CONFIG_KEYS = ("name", "pipeline", "resource", "mode", "rules", "bounds")
BOUND_KEYS = ("executions", "stops", "retries", "toggles", "updates", "update_modes",
              "rollbacks", "failures")
MAX_EDGES = 100_000
"""The most observable transitions a configuration may have: a baseline stores them all."""


@dataclass(frozen=True)
class Configuration:
    name: str
    definition: dict[str, Any]
    """The configuration as written in the file (compared with the one a baseline recorded)."""
    pipeline: Pipeline
    source: str
    mode: str
    rules: RuleChoice
    bounds: Bounds
    warnings: tuple[str, ...] = ()
    """The fields of its declaration file that the model does not account for, each as
    `FILE:LINE: PLACE: MESSAGE` (`spec.unmodelled`)."""


def load_configs(path: Path) -> list[Configuration]:
    """The configurations of a configurations file; InputError (with the place, e.g.
    `config[2].bounds.executions`) for anything wrong with it."""
    file = str(path)
    data = read_toml(path)
    for key in data:
        if key != "config":
            raise InputError(file, key, "expected only [[config]] tables")
    tables = data.get("config")
    if not isinstance(tables, list) or not tables:
        raise InputError(file, "config", "expected at least one [[config]] table")
    out: list[Configuration] = []
    names: set[str] = set()
    for i, raw in enumerate(tables):
        here = f"config[{i}]"
        if not isinstance(raw, dict):
            raise InputError(file, here, "expected a table")
        for key in raw:
            if key not in CONFIG_KEYS:
                raise InputError(file, f"{here}.{key}",
                                 f"expected one of the keys {', '.join(CONFIG_KEYS)}")
        name = raw.get("name")
        if not isinstance(name, str) or not name:
            raise InputError(file, f"{here}.name", "expected a non-empty name")
        if name in names:
            raise InputError(file, f"{here}.name", f"expected a name used once, {name!r} is "
                             "used before")
        names.add(name)
        for key in ("pipeline", "resource", "mode", "rules"):
            if key in raw and not isinstance(raw[key], str):
                raise InputError(file, f"{here}.{key}", "expected a string")
        if "pipeline" in raw:
            target = path.parent / raw["pipeline"]
            pipeline, found = load_declaration(target, raw.get("resource"), named_by=file)
            source = raw["pipeline"]
            warnings = tuple(w.describe(str(target)) for w in found)
        else:
            if "resource" in raw:
                raise InputError(file, f"{here}.resource",
                                 "expected no resource without a pipeline file")
            pipeline, source = reference_pipeline(), "built-in reference pipeline"
            warnings = ()
        mode = raw.get("mode", pipeline.execution_mode)
        if mode not in MODES:
            raise InputError(file, f"{here}.mode",
                             f"expected one of {', '.join(MODES)}, got {mode!r}")
        rules = (parse_rules(raw["rules"], file, f"{here}.rules", path.parent)
                 if "rules" in raw else DOCUMENTED_CHOICE)
        bounds = _bounds(file, f"{here}.bounds", raw.get("bounds", {}))
        out.append(Configuration(name, raw, pipeline, source, mode, rules, bounds, warnings))
    return out


def _bounds(file: str, here: str, raw: object) -> Bounds:
    if not isinstance(raw, dict):
        raise InputError(file, here, "expected a table of bounds")
    values: dict[str, Any] = {}
    for key, value in raw.items():
        place = f"{here}.{key}"
        if key == "failures":
            if not isinstance(value, bool):
                raise InputError(file, place, f"expected true or false, got {value!r}")
            values[key] = value
        elif key == "update_modes":
            values[key] = check_update_modes(file, place, value)
        elif key in BOUND_KEYS:
            values[key] = check_bound(file, place, key, value)
        else:
            raise InputError(file, place, f"expected one of {', '.join(BOUND_KEYS)}")
    return check_update_bounds(file, here, Bounds(**values))


# --------------------------------------------------------------------------------------------
# Recording a configuration


def _canonical(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


@dataclass
class Record:
    """What a configuration does: the figures a baseline stores, and (for a configuration just
    explored) the model and the search, to find witnesses in."""

    name: str
    definition: dict[str, Any]
    states: int
    transitions: int
    verdicts: dict[str, str]
    counterexamples: dict[str, list[str]]
    stages: list[str]
    actions: list[str]
    observations: list[str]
    edges: list[tuple[int, str, int]]
    digest: str
    witnesses: dict[tuple[str, str, str], tuple[int, Operation]] = field(default_factory=dict)
    """For a configuration just explored: each observable transition's first state and
    operation (the shallowest, so a shortest way there)."""
    result: Any = None
    """For a configuration just explored: its `checker.check.ModeResult`."""

    def triples(self) -> set[tuple[str, str, str]]:
        obs = self.observations
        return {(obs[a], text, obs[b]) for a, text, b in self.edges}


def digest(triples: set[tuple[str, str, str]]) -> str:
    """sha256 over the sorted observable transitions: independent of the order of the search."""
    h = hashlib.sha256()
    for t in sorted(triples):
        h.update(_canonical(list(t)).encode())
        h.update(b"\n")
    return "sha256:" + h.hexdigest()


def record(config: Configuration, rules: RuleSet | None = None, file: str = "",
           engine: str = "auto", workers: int | None = None) -> Record:
    """Explore a configuration (under `rules` instead of its own, when given) and record what it
    does.  `engine` and `workers` as for `checker.engine.explore`: what is recorded is the same
    whichever engine explores."""
    choice = choice_of(rules) if rules is not None else config.rules
    check = CheckConfig(config.pipeline, config.source, (config.mode,), config.bounds, (),
                        choice.variants, choice.files, engine, workers)
    result = check_mode(check, config.mode)
    ex = result.exploration
    m = result.model
    stopped = ex.stopped_by if ex.stopped_by in INTERRUPTIONS else result.interrupted
    if stopped is not None:  # pass the interruption on: nothing is recorded
        raise Terminated() if stopped == "SIGTERM" else KeyboardInterrupt()
    if not ex.complete:
        raise InputError(file, config.name, f"expected a search that finishes, it was stopped "
                         f"by {ex.stopped_by}: lower its bounds")
    numbers: dict[str, int] = {}
    observations: list[str] = []
    state_obs: list[int] = []
    for i in range(len(ex)):
        text = _canonical(observe(ex.state(i)))
        n = numbers.get(text)
        if n is None:
            n = numbers[text] = len(observations)
            observations.append(text)
        state_obs.append(n)
    firsts: dict[tuple[str, str, str], tuple[int, Operation]] = {}
    edges: set[tuple[int, str, int]] = set()
    for i in range(len(ex)):
        before = ex.state(i)
        a = state_obs[i]
        for op, target in ex.edges(i):
            text = describe_operation(m, op, [], before)
            edge = (a, text, state_obs[target])
            if edge not in edges:
                edges.add(edge)
                firsts[(observations[a], text, observations[edge[2]])] = (i, op)
        if len(edges) > MAX_EDGES:
            raise InputError(file, config.name, f"expected a configuration with at most "
                             f"{MAX_EDGES:,} observable transitions: lower its bounds")
    verdicts = {v.property.name: v.verdict for v in result.verdicts}
    counterexamples = {
        v.property.name: [s["operation"] for s in trace_steps(m, v.trace)]
        for v in result.verdicts if v.verdict == REFUTED and v.trace is not None
    }
    return Record(
        config.name, config.definition, len(ex), ex.transitions, verdicts, counterexamples,
        list(m.stage_names), list(m.action_names), observations, sorted(edges),
        digest(set(firsts)), firsts, result,
    )


def record_json(r: Record) -> dict[str, Any]:
    return {
        "name": r.name,
        "definition": r.definition,
        "states": r.states,
        "transitions": r.transitions,
        "digest": r.digest,
        "verdicts": r.verdicts,
        "counterexamples": r.counterexamples,
        "graph": {
            "stages": r.stages,
            "actions": r.actions,
            "observations": r.observations,
            "edges": [list(e) for e in r.edges],
        },
    }


def write_baseline(configs: Path, out: Path | None = None, engine: str = "auto",
                   workers: int | None = None) -> tuple[Path, list[Record]]:
    """Record every configuration of `configs` in a baseline file (default: next to it, named
    `NAME.baseline.json`)."""
    loaded = load_configs(configs)
    target = out if out is not None else configs.with_name(configs.stem + ".baseline.json")
    records: list[Record] = []
    try:
        for c in loaded:
            records.append(record(c, file=str(configs), engine=engine, workers=workers))
    except KeyboardInterrupt as stop:
        raise Interrupted(interruption(stop), [r.name for r in records],
                          [c.name for c in loaded[len(records):]]) from None
    doc = {
        "format": FORMAT,
        "version": VERSION,
        "configs": os.path.relpath(configs.resolve(), target.resolve().parent),
        "configurations": [record_json(r) for r in records],
    }
    write_atomically(target, dump_baseline(doc))
    return target, records


def dump_baseline(doc: dict[str, Any]) -> str:
    """The baseline as JSON text: indented, but each observation and each edge on one line."""
    graphs: list[str] = []
    for config in doc["configurations"]:
        g = config["graph"]
        items = [f'"stages": {_canonical(g["stages"])}', f'"actions": {_canonical(g["actions"])}',
                 '"observations": [\n    ' + ",\n    ".join(
                     json.dumps(o) for o in g["observations"]) + "]",
                 '"edges": [\n    ' + ",\n    ".join(_canonical(e) for e in g["edges"]) + "]"]
        graphs.append("{\n   " + ",\n   ".join(items) + "}")
        config["graph"] = f"@@graph {len(graphs) - 1}@@"
    text = json.dumps(doc, indent=1)
    for k, g in enumerate(graphs):
        text = text.replace(json.dumps(f"@@graph {k}@@"), g, 1)
    return text + "\n"


# --------------------------------------------------------------------------------------------
# Reading a baseline


def load_baseline(path: Path) -> tuple[Path, list[Record]]:
    """The configurations file a baseline was written from, and its records; InputError for a
    file that is not a baseline."""
    file = str(path)
    text = read_text(path, file)
    try:
        doc = parse_json(text, file)
    except InputError as error:
        raise InputError(file, error.place, f"expected a baseline written by `stagelock "
                         f"baseline write` (not valid: {error.expected})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise InputError(file, "format", f"expected a baseline written by `stagelock baseline "
                         f"write` (format {FORMAT!r})")
    if doc.get("version") != VERSION:
        raise InputError(file, "version", f"expected version {VERSION}, got "
                         f"{doc.get('version')!r}")
    configs = doc.get("configs")
    if not isinstance(configs, str):
        raise InputError(file, "configs", "expected the path of the configurations file")
    raw = doc.get("configurations")
    if not isinstance(raw, list):
        raise InputError(file, "configurations", "expected a list of configurations")
    records = [_record(file, f"configurations[{i}]", r) for i, r in enumerate(raw)]
    return path.parent / configs, records


def _record(file: str, here: str, raw: object) -> Record:
    def need(obj: Any, key: str, kind: type | tuple[type, ...], at: str) -> Any:
        value = obj.get(key) if isinstance(obj, dict) else None
        if not isinstance(value, kind) or isinstance(value, bool) and kind is int:
            raise InputError(file, f"{at}.{key}", f"expected {_kind_name(kind)}")
        return value

    name = need(raw, "name", str, here)
    definition = need(raw, "definition", dict, here)
    states = need(raw, "states", int, here)
    transitions = need(raw, "transitions", int, here)
    stamp = need(raw, "digest", str, here)
    verdicts = need(raw, "verdicts", dict, here)
    if not all(isinstance(v, str) for v in verdicts.values()):
        raise InputError(file, f"{here}.verdicts", "expected a verdict for each property")
    counterexamples = need(raw, "counterexamples", dict, here)
    for prop, ops in counterexamples.items():
        if not isinstance(ops, list) or not all(isinstance(x, str) for x in ops):
            raise InputError(file, f"{here}.counterexamples.{prop}",
                             "expected a list of operations")
    graph = need(raw, "graph", dict, here)
    at = f"{here}.graph"
    stages = need(graph, "stages", list, at)
    actions = need(graph, "actions", list, at)
    observations = need(graph, "observations", list, at)
    if not all(isinstance(o, str) for o in observations) or not observations:
        raise InputError(file, f"{at}.observations", "expected observations as JSON text")
    edges: list[tuple[int, str, int]] = []
    for k, e in enumerate(need(graph, "edges", list, at)):
        if not (isinstance(e, list) and len(e) == 3 and isinstance(e[1], str)
                and all(isinstance(x, int) and 0 <= x < len(observations) for x in (e[0], e[2]))):
            raise InputError(file, f"{at}.edges[{k}]",
                             "expected [from, operation, to] with observation numbers")
        edges.append((e[0], e[1], e[2]))
    return Record(name, definition, states, transitions, verdicts, counterexamples, stages,
                  actions, observations, edges, stamp)


def _kind_name(kind: type | tuple[type, ...]) -> str:
    return {str: "a string", int: "an integer", dict: "a mapping", list: "a list"}.get(
        kind if isinstance(kind, type) else kind[0], "a value")


# --------------------------------------------------------------------------------------------
# Checking a baseline


@dataclass
class Transition:
    """An observable transition added or removed, with a shortest way to it: for an added one,
    the operations of a path in the new model; for a removed one, steps of the recorded graph
    (operation text and what it changes)."""

    before: str
    operation: str
    after: str
    depth: int
    lines: list[str]


@dataclass
class Change:
    """What changed in one configuration (nothing, when `changed` is false)."""

    name: str
    notes: list[str] = field(default_factory=list)
    added: list[Transition] = field(default_factory=list)
    removed: list[Transition] = field(default_factory=list)
    added_count: int = 0
    removed_count: int = 0
    seconds: float = 0.0
    new: Record | None = None

    @property
    def changed(self) -> bool:
        return bool(self.notes or self.added_count or self.removed_count)


class Interrupted(Exception):
    """Ctrl-C or SIGTERM during `write_baseline` or `check_baseline`: which configurations were
    done and which were not (``done`` and ``left``)."""

    def __init__(self, by: str, done: list[str], left: list[str]) -> None:
        super().__init__(by)
        self.by = by
        self.done = done
        self.left = left


@dataclass
class BaselineCheck:
    baseline: Path
    changes: list[Change]
    seconds: float
    interrupted: str | None = None
    """Ctrl-C or SIGTERM when the check was interrupted."""
    not_checked: list[str] = field(default_factory=list)
    """The configurations the interruption left unchecked."""

    @property
    def changed(self) -> bool:
        return any(c.changed for c in self.changes)


def check_baseline(path: Path, rules: RuleSet | None = None, limit: int = 5,
                   engine: str = "auto", workers: int | None = None) -> BaselineCheck:
    """Explore every configuration of a baseline again and compare.  `rules`, when given,
    replaces every configuration's own rules (to see what a rule change would change); `limit`
    is how many added and how many removed transitions are explained, each."""
    began = time.perf_counter()
    configs_path, old_records = load_baseline(path)
    if not configs_path.is_file():
        raise InputError(str(path), "configs", f"expected the configurations file it was "
                         f"written from, {str(configs_path)!r} does not exist")
    configs = {c.name: c for c in load_configs(configs_path)}
    old = {r.name: r for r in old_records}
    changes: list[Change] = []
    names = list(configs)
    for k, (name, config) in enumerate(configs.items()):
        started = time.perf_counter()
        if name not in old:
            changes.append(Change(name, [f"configuration {name} is not in the baseline: write "
                                         f"it again"]))
            continue
        try:
            change = compare(old[name], record(config, rules, str(configs_path), engine, workers),
                             limit)
        except KeyboardInterrupt as stop:
            return BaselineCheck(path, changes, time.perf_counter() - began, interruption(stop),
                                 names[k:])
        if config.definition != old[name].definition:
            change.notes.insert(0, f"its definition changed since the baseline was written "
                                f"(was {_canonical(old[name].definition)})")
        change.seconds = time.perf_counter() - started
        changes.append(change)
    for name in old:
        if name not in configs:
            changes.append(Change(name, [f"configuration {name} is in the baseline but no "
                                         f"longer in {configs_path.name}"]))
    return BaselineCheck(path, changes, time.perf_counter() - began)


def compare(old: Record, new: Record, limit: int = 5) -> Change:
    """What changed between the recorded and the new figures of one configuration."""
    change = Change(new.name, new=new)
    if (old.states, old.transitions) != (new.states, new.transitions):
        change.notes.append(f"states {old.states:,} -> {new.states:,}, transitions "
                            f"{old.transitions:,} -> {new.transitions:,}")
    for prop in sorted(set(old.verdicts) | set(new.verdicts)):
        was, now = old.verdicts.get(prop, "absent"), new.verdicts.get(prop, "absent")
        if was != now:
            change.notes.append(f"verdict of {prop}: {was} -> {now}")
        elif old.counterexamples.get(prop) != new.counterexamples.get(prop):
            lines = [f"counterexample of {prop} changed:", "  was:"]
            lines += [f"    {k}. {t}" for k, t in enumerate(old.counterexamples.get(prop, []), 1)]
            lines.append("  now:")
            lines += [f"    {k}. {t}" for k, t in enumerate(new.counterexamples.get(prop, []), 1)]
            change.notes.append("\n".join(lines))
    if old.digest == new.digest:
        return change
    before, after = old.triples(), new.triples()
    added, removed = after - before, before - after
    change.added_count, change.removed_count = len(added), len(removed)
    change.notes.append(f"observable behaviour: digest {old.digest[:19]}... -> "
                        f"{new.digest[:19]}...: {len(added):,} transitions added, "
                        f"{len(removed):,} removed")
    change.added = _explain_added(new, added, limit)
    change.removed = _explain_removed(old, removed, limit)
    return change


def _explain_added(new: Record, added: set[tuple[str, str, str]],
                   limit: int) -> list[Transition]:
    result = new.result
    if result is None:
        return []
    ex, m = result.exploration, result.model
    # Sorted by the depth of the state each is first seen from (the length of its shortest
    # path, from the search's layers): the paths are made only for the transitions shown.
    found = sorted(((depth(ex, new.witnesses[t][0]), t) for t in added),
                   key=lambda item: (item[0], item[1]))
    out = []
    for d, t in found[:limit]:
        i, op = new.witnesses[t]
        ops = ex.path(i) + [op]
        out.append(Transition(t[0], t[1], t[2], d + 1,
                              render_trace(m, ops, indent="        ")))
    return out


def _explain_removed(old: Record, removed: set[tuple[str, str, str]],
                     limit: int) -> list[Transition]:
    """Each removed transition with a shortest path to it in the recorded graph."""
    n = len(old.observations)
    out_edges: list[list[tuple[str, int]]] = [[] for _ in range(n)]
    for a, text, b in old.edges:
        out_edges[a].append((text, b))
    parent: dict[int, tuple[int, str]] = {}
    depth = {0: 0}
    queue = deque([0])
    while queue:
        a = queue.popleft()
        for text, b in out_edges[a]:
            if b not in depth:
                depth[b] = depth[a] + 1
                parent[b] = (a, text)
                queue.append(b)
    number = {o: k for k, o in enumerate(old.observations)}
    found = sorted(((depth.get(number[t[0]], n), t) for t in removed),
                   key=lambda item: (item[0], item[1]))
    out = []
    for d, t in found[:limit]:
        steps: list[tuple[int, str, int]] = []
        node = number[t[0]]
        while node in parent:
            a, text = parent[node]
            steps.append((a, text, node))
            node = a
        steps.reverse()
        steps.append((number[t[0]], t[1], number[t[2]]))
        width = max(len(text) for _, text, _ in steps)
        lines = []
        for k, (a, text, b) in enumerate(steps, 1):
            changes = observation_changes(old, old.observations[a], old.observations[b])
            lines.append(f"        {k:>2}. {text.ljust(width)}  | "
                         f"{'; '.join(changes) or 'no visible change'}")
        out.append(Transition(t[0], t[1], t[2], d + 1, lines))
    return out


def observation_changes(r: Record, before: str, after: str) -> list[str]:
    """What changed between two observations (as stored), in short phrases."""
    old_fields, new_fields = json.loads(before), json.loads(after)
    ex_b, latest_b, inbound_b, disabled_b = old_fields[:4]
    ex_a, latest_a, inbound_a, disabled_a = new_fields[:4]
    out: list[str] = []
    for e, (status, actions, *auto) in enumerate(ex_a):
        old = ex_b[e] if e < len(ex_b) else None
        parts: list[str] = []
        if old is None or old[0] != status:
            parts.append(status)
        for a, value in enumerate(actions):
            was = old[1][a] if old is not None else None
            if value != was:
                parts.append(f"{r.actions[a]} {value or 'reset'}")
        if auto != (old[2:] if old is not None else []):
            # `checker.diff.observe`: an execution's automatic retries, where there are any
            parts.append(f"autoStageRetryAttempt {auto[0] if auto else 0}")
        if parts:
            out.append(f"e{e + 1}: " + ", ".join(parts))
    for s, stage in enumerate(r.stages):
        if latest_b[s] != latest_a[s]:
            out.append(f"latest in {stage}: e{latest_a[s] + 1}")
        if inbound_b[s] != inbound_a[s]:
            queue = ", ".join(f"e{e + 1}" for e in inbound_a[s]) or "none"
            out.append(f"waiting in front of {stage}: {queue}")
        if disabled_b[s] != disabled_a[s]:
            out.append(f"transition into {stage} {'disabled' if disabled_a[s] else 'enabled'}")
    for name, was, now in zip(State._fields[4:], old_fields[4:], new_fields[4:], strict=False):
        if was != now:
            out.append(f"{name}: {_canonical(now)}")
    return out


def render_check(check: BaselineCheck) -> str:
    lines = [f"stagelock baseline check: {check.baseline}"]
    for c in check.changes:
        figures = (f" ({c.new.states:,} states, {c.new.transitions:,} transitions, "
                   f"{c.seconds:.1f} s)" if c.new is not None else "")
        lines.append(f"{c.name}: {'CHANGED' if c.changed else 'unchanged'}{figures}")
        if c.new is not None and c.new.result is not None:
            lines.append(f"  engine: {describe_engine(c.new.result.exploration)}")
        for note in c.notes:
            lines += ["  " + line for line in note.splitlines()]
        for label, items, count in (("added", c.added, c.added_count),
                                    ("removed", c.removed, c.removed_count)):
            for t in items:
                way = ("a shortest way there under the rules now" if label == "added"
                       else "a shortest way there in the recorded graph")
                lines.append(f"  {label}: {t.operation}, after {t.depth - 1} steps "
                             f"({way}):")
                lines += t.lines
            if count > len(items):
                lines.append(f"  ... and {count - len(items):,} more {label} (--limit)")
    for name in check.not_checked:
        lines.append(f"{name}: UNDETERMINED (not checked: {check.interrupted} ended the run)")
    changed = sum(c.changed for c in check.changes)
    lines.append("")
    result = "CHANGED" if changed else "UNDETERMINED" if check.interrupted else "UNCHANGED"
    total = len(check.changes) + len(check.not_checked)
    lines.append(f"Result: {result} ({changed} of {total} configuration{'s' * (total != 1)} "
                 f"changed, {check.seconds:.1f} s)")
    return "\n".join(lines)


def render_written(target: Path, records: list[Record]) -> str:
    lines = []
    for r in records:
        lines.append(f"{r.name}: {r.states:,} states, {r.transitions:,} transitions, "
                     f"{len(r.observations):,} observations, {len(r.edges):,} observable "
                     f"transitions")
        if r.result is not None:
            lines.append(f"  engine: {describe_engine(r.result.exploration)}")
    n = len(records)
    lines.append(f"Baseline of {n} configuration{'s' * (n != 1)} written to {target}")
    return "\n".join(lines)


def _workers(args: Any) -> int | None:
    value = getattr(args, "workers", None)
    return None if value is None else check_workers("command line", "--workers", value)


def baseline_command(args: Any) -> CommandOutput:
    """`stagelock baseline write|check`: the output and the exit status; the fields of the
    configurations' declarations that the model does not account for are named on standard
    error."""
    if args.action == "write":
        warned = _warned(Path(args.file))
        try:
            target, records = write_baseline(Path(args.file),
                                             Path(args.output) if args.output else None,
                                             args.engine or "auto", _workers(args))
        except Interrupted as stop:
            lines = [f"{name}: recorded" for name in stop.done]
            lines += [f"{name}: UNDETERMINED (not recorded: {stop.by} ended the run)"
                      for name in stop.left]
            lines.append(f"Interrupted ({stop.by}): no baseline written (a baseline already "
                         f"there is unchanged)")
            return CommandOutput("\n".join(lines), warned, 3)
        return CommandOutput(render_written(target, records), warned, 0)
    if not 1 <= args.limit <= 1000:
        raise InputError("command line", "--limit",
                         f"expected an integer from 1 to 1000, got {args.limit}")
    check = check_baseline(Path(args.file), limit=args.limit, engine=args.engine or "auto",
                           workers=_workers(args))
    code = 1 if check.changed else 3 if check.interrupted else 0
    return CommandOutput(render_check(check), _warned(load_baseline(Path(args.file))[0]), code)


def _warned(configs: Path) -> list[str]:
    """`warning: CONFIG: FILE:LINE: PLACE: MESSAGE` for each field of the configurations'
    declarations that the model does not account for."""
    return [f"warning: {c.name}: {w}" for c in load_configs(configs) for w in c.warnings]
