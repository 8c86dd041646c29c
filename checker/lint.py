"""`stagelock lint`: hazards in users' own pipeline declarations.

Each file (a `get-pipeline` declaration in JSON or YAML, or a CloudFormation template with one or
more pipeline resources) is checked with its outside world (`spec.world`) against every hazard
of `spec.hazards`, in the pipeline's own execution mode.  A refuted hazard is a *finding* about
the pipeline: a rule id, a severity, the stage and action it concerns, what can happen, the
shortest trace that shows it, and the fix.

Silencing a rule for one pipeline: `--ignore RULE` or `--ignore RULE:PIPELINE` on the command
line; in the file, `stagelock: {ignore: [RULE, ...]}` beside `pipeline` in a `get-pipeline`
document (or inside the declaration), or under the resource's `Metadata` in a CloudFormation
template.  RULE is an id (`SL301`) or a name (`stop-without-disabled-transition`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from checker.check import INTERRUPTIONS, interruption
from checker.engine import Bounds, Explored, engine_json, explore
from checker.errors import InputError
from checker.formats import PipelineSource, sources_in
from checker.report import trace_steps
from spec.declaration import Pipeline
from spec.hazards import RULES, Hazard, Rule, hazards_for
from spec.rules import Model, build_model

LINT_BOUNDS = Bounds(executions=2, stops=1, retries=0, toggles=0, failures=False)
"""Enough for every hazard: two executions, and one stop for the operator's hazards; failures
and retries add states but no hazard.  Structural hazards are looked for with no stop at all.
With no transition toggles, a transition the declaration disables stays disabled, so the stages
behind it are never entered: the report names them (`--toggles 1` lets the search open it)."""


@dataclass
class Target:
    """One pipeline of one file, with where its parts are in the file."""

    file: str
    pipeline: Pipeline
    source: PipelineSource
    """The pipeline as the file declares it: where its stages and actions are, its notes."""
    ignored: set[str] = field(default_factory=set)
    disabled: tuple[int, ...] = ()
    """Stages whose inbound transition the declaration disables."""
    unreached: list[str] = field(default_factory=list)
    """Stages no execution entered in the search (set by `lint_target`)."""
    engines: dict[str, dict[str, object]] = field(default_factory=dict)
    """Which engine made each search (`checker.engine.engine_json`), by phase: `reach` (which
    stages are entered), `structural` and `operator` (set by `lint_target`)."""
    undecided: list[Hazard] = field(default_factory=list)
    """Hazards whose search did not finish (set by `lint_target`): neither found nor ruled
    out."""
    stopped_by: str | None = None
    """What ended a search of this pipeline early (Ctrl-C, SIGTERM, --max-memory ...); None
    when every search finished.  "not searched" when the run ended before this pipeline."""


@dataclass
class Finding:
    rule: Rule
    file: str
    pipeline: str
    stage: str
    action: str | None
    detail: str
    trace: list[dict[str, Any]]
    line: int | None

    @property
    def message(self) -> str:
        return f"{self.rule.summary[0].upper()}{self.rule.summary[1:]}: {self.detail}."


def rule_ids(value: str, file: str, place: str) -> str:
    by_name = {r.name: r.id for r in RULES.values()}
    if value in RULES:
        return value
    if value in by_name:
        return by_name[value]
    raise InputError(file, place, f"expected a rule id or name ({', '.join(RULES)}; "
                     f"{', '.join(by_name)}), got {value!r}")


def _ignore_list(value: object, file: str, place: str) -> set[str]:
    if not isinstance(value, dict) or not isinstance(value.get("ignore", []), list):
        raise InputError(file, place, "expected {ignore: [rule ids or names]}")
    return {rule_ids(str(v), file, f"{place}.ignore[{i}]")
            for i, v in enumerate(value.get("ignore", []))}


def _target(source: PipelineSource) -> Target:
    """A pipeline to lint, with the rules its file silences (`stagelock.ignore`)."""
    ignored = (_ignore_list(source.stagelock, source.file, source.stagelock_place)
               if source.stagelock_place else set())
    return Target(source.file, source.pipeline, source, ignored, source.disabled)


def _line(target: Target, hazard: Hazard) -> int | None:
    """The line of the stage or action a hazard concerns."""
    p = target.pipeline
    s = p.stage_index(hazard.stage)
    a = None if hazard.action is None else next(
        i for i, ac in enumerate(p.stages[s].actions) if ac.name == hazard.action)
    return target.source.locate(s, a)


def lint_target(target: Target, bounds: Bounds, ignore: set[str], engine: str = "auto",
                workers: int | None = None) -> list[Finding]:
    """The findings of one pipeline; `engine` and `workers` as for `checker.engine.explore`.
    A search that does not finish (interrupted, or out of memory) leaves its hazards in
    ``target.undecided``, with ``target.stopped_by`` saying why; after an interruption the
    remaining searches are not started."""
    m = build_model(target.pipeline, world=True, disabled_at_start=target.disabled)
    hazards = [h for h in hazards_for(m)
               if h.rule.id not in ignore and h.rule.id not in target.ignored]
    findings: list[Finding] = []
    # Which stages the search can reach at all, whatever rules are silenced.
    reach = explore(m, replace(bounds, stops=0), [], engine=engine, workers=workers)
    target.engines = {"reach": engine_json(reach)}
    if not reach.complete:
        target.stopped_by = reach.stopped_by
    else:
        target.unreached = _unreached(m, reach)
    # Structural hazards without any stop, then the operator's hazards with the stops allowed.
    for operator, phase_bounds in ((False, replace(bounds, stops=0)), (True, bounds)):
        chosen = [h for h in hazards if h.rule.operator == operator]
        if not chosen or (operator and bounds.stops == 0):
            continue
        if target.stopped_by in INTERRUPTIONS:
            target.undecided += chosen
            continue
        ex = explore(m, phase_bounds, [h.property for h in chosen], engine=engine,
                     workers=workers)
        target.engines["operator" if operator else "structural"] = engine_json(ex)
        finished = ex.complete or ex.stopped_by == "every property decided"
        if not finished:
            target.stopped_by = target.stopped_by or ex.stopped_by
        for h in chosen:
            found = ex.violations.get(h.property.name)
            if found is None:
                if not finished:
                    target.undecided.append(h)
                continue
            line = _line(target, h)
            findings.append(Finding(h.rule, target.file, target.pipeline.name, h.stage,
                                    h.action, found.detail, trace_steps(m, ex.trace(found)),
                                    line))
    order = {stage.name: i for i, stage in enumerate(target.pipeline.stages)}
    findings.sort(key=lambda f: (f.rule.severity != "error", f.rule.id, order[f.stage],
                                 f.action or ""))
    return findings


def _unreached(m: Model, ex: Explored) -> list[str]:
    """The stages that no execution entered in any state the search reached."""
    entered: set[int] = set()
    for i in range(len(ex)):
        for e in ex.state(i).executions:
            entered.update(range(e.stage + (0 if e.waiting else 1)))
    return [name for s, name in enumerate(m.stage_names) if s not in entered]


def parse_ignores(values: list[str]) -> tuple[set[str], dict[str, set[str]]]:
    """`--ignore RULE` (everywhere) and `--ignore RULE:PIPELINE` (that pipeline only)."""
    everywhere: set[str] = set()
    per_pipeline: dict[str, set[str]] = {}
    for i, value in enumerate(values):
        rule, _, pipeline = value.partition(":")
        rid = rule_ids(rule, "command line", f"--ignore #{i + 1}")
        if pipeline:
            per_pipeline.setdefault(pipeline, set()).add(rid)
        else:
            everywhere.add(rid)
    return everywhere, per_pipeline


@dataclass
class Report:
    findings: list[Finding]
    targets: list[Target]

    @property
    def undecided(self) -> list[tuple[Target, Hazard]]:
        """Each hazard whose search did not finish, with its pipeline."""
        return [(t, h) for t in self.targets for h in t.undecided]

    @property
    def interrupted(self) -> str | None:
        """Ctrl-C or SIGTERM, when one ended the run early."""
        return next((t.stopped_by for t in self.targets if t.stopped_by in INTERRUPTIONS), None)

    @property
    def complete(self) -> bool:
        """Every hazard of every pipeline was either found or ruled out."""
        return not any(t.stopped_by for t in self.targets)

    @property
    def exit_code(self) -> int:
        """1 when any finding is an error; else 3 when a search did not finish; else 0."""
        if any(f.rule.severity == "error" for f in self.findings):
            return 1
        return 0 if self.complete else 3


def lint(paths: list[str], bounds: Bounds = LINT_BOUNDS,
         ignores: list[str] | None = None, engine: str = "auto",
         workers: int | None = None) -> Report:
    everywhere, per_pipeline = parse_ignores(ignores or [])
    findings: list[Finding] = []
    # every file is read and checked first
    files = [(path, [_target(s) for s in sources_in(path)]) for path in paths]
    linted = {t.pipeline.name for _, targets in files for t in targets}
    for i, value in enumerate(ignores or []):
        pipeline = value.partition(":")[2]
        if pipeline and pipeline not in linted:
            raise InputError("command line", f"--ignore #{i + 1}",
                             f"expected RULE:PIPELINE with a pipeline of the files "
                             f"({', '.join(sorted(linted))}), got {pipeline!r}")
    all_targets: list[Target] = []
    stopped: str | None = None
    for _, targets in files:
        all_targets += targets
        for target in targets:
            skip = everywhere | per_pipeline.get(target.pipeline.name, set())
            if stopped is not None:  # the run was interrupted before this pipeline
                target.stopped_by = NOT_SEARCHED
                target.undecided = _hazards_of(target, skip, bounds)
                continue
            try:
                findings += lint_target(target, bounds, skip, engine, workers)
            except KeyboardInterrupt as stop:  # between or around the searches
                target.stopped_by = interruption(stop)
                target.undecided = _hazards_of(target, skip, bounds)
            if target.stopped_by in INTERRUPTIONS:
                stopped = target.stopped_by
    return Report(findings, all_targets)


NOT_SEARCHED = "not searched"


def _hazards_of(target: Target, skip: set[str], bounds: Bounds) -> list[Hazard]:
    m = build_model(target.pipeline, world=True, disabled_at_start=target.disabled)
    return [h for h in hazards_for(m) if h.rule.id not in skip and h.rule.id not in
            target.ignored and (bounds.stops > 0 or not h.rule.operator)]


# --------------------------------------------------------------------------------------------
# Output


def render_text(report: Report, paths: list[str]) -> str:
    findings = report.findings
    notes = [f"{n['file']}: pipeline {n['pipeline']}: no execution enters "
             f"{', '.join(n['stages'])} (an inbound transition the declaration disables stays "
             f"disabled; --toggles 1 lets the search open it), so no hazard there was looked for."
             for n in unreached_notes(report)]
    undecided = _undecided_lines(report)
    if not findings and report.complete:
        return "\n".join([f"No hazards found in {', '.join(paths)}.", *notes])
    if not findings:
        unfinished = [f"  {t.file}: pipeline {t.pipeline.name}: {_why(t)}"
                      for t in report.targets if t.stopped_by and not t.undecided]
        return "\n".join([f"No hazard found so far in {', '.join(paths)}, but not every search "
                          "finished:", *undecided, *unfinished, "", "Result: UNDETERMINED",
                          *notes])
    lines = []
    for f in findings:
        where = f"{f.stage}.{f.action}" if f.action else f.stage
        at = f"{f.file}:{f.line}" if f.line else f.file
        lines.append(f"{at}: {f.rule.severity} {f.rule.id} {f.rule.name} "
                     f"[pipeline {f.pipeline}, {where}]")
        lines.append(f"    {f.message}")
        lines.append(f"    fix: {f.rule.fix}")
        lines.append(f"    shortest trace ({len(f.trace)} steps):")
        width = max(len(s["operation"]) for s in f.trace)
        for s in f.trace:
            changes = "; ".join(s["changes"]) or "no visible change"
            lines.append(f"      {s['step']:>2}. {s['operation'].ljust(width)}  | {changes}")
        lines.append("")
    errors = sum(f.rule.severity == "error" for f in findings)
    warnings = len(findings) - errors
    lines.append(f"{_count(len(findings), 'finding')}: {_count(errors, 'error')}, "
                 f"{_count(warnings, 'warning')}.")
    if undecided:
        lines += ["Not every search finished:", *undecided]
        if not errors:
            lines.append("Result: UNDETERMINED")
    lines += notes
    return "\n".join(lines)


def _undecided_lines(report: Report) -> list[str]:
    """One line per hazard not decided: its rule, its place, and why."""
    lines = []
    for t, h in report.undecided:
        where = f"{h.stage}.{h.action}" if h.action else h.stage
        lines.append(f"  UNDETERMINED {h.rule.id} {h.rule.name} [pipeline {t.pipeline.name}, "
                     f"{where}]: {_why(t)}")
    return lines


def _why(t: Target) -> str:
    if t.stopped_by == NOT_SEARCHED:
        return "not searched (the run was interrupted before this pipeline)"
    return f"not decided (the search was stopped by {t.stopped_by})"


def undecided_json(report: Report) -> list[dict[str, Any]]:
    """`[{file, pipeline, stage, action, ruleId, rule, reason}]`: the hazards not decided."""
    return [{"file": t.file, "pipeline": t.pipeline.name, "stage": h.stage, "action": h.action,
             "ruleId": h.rule.id, "rule": h.rule.name, "reason": _why(t)}
            for t, h in report.undecided]


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def unreached_notes(report: Report) -> list[dict[str, Any]]:
    """The stages no execution enters, per pipeline: no hazard there was looked for."""
    return [{"file": t.file, "pipeline": t.pipeline.name, "stages": t.unreached}
            for t in report.targets if t.unreached]


def to_json(report: Report) -> dict[str, Any]:
    """`{findings: [...], unreachedStages: [{file, pipeline, stages}], undecided: [...],
    result, engines: [{file, pipeline, reach, structural, operator}]}`: which engine made each
    search (a phase that was not searched is left out)."""
    return {"findings": _findings_json(report.findings),
            "unreachedStages": unreached_notes(report),
            "undecided": undecided_json(report),
            "result": {0: "CLEAN", 1: "ERRORS", 3: "UNDETERMINED"}[report.exit_code],
            "engines": [{"file": t.file, "pipeline": t.pipeline.name, **t.engines}
                        for t in report.targets]}


def _findings_json(findings: list[Finding]) -> list[dict[str, Any]]:
    return [{
        "ruleId": f.rule.id,
        "rule": f.rule.name,
        "severity": f.rule.severity,
        "file": f.file,
        "line": f.line,
        "pipeline": f.pipeline,
        "stage": f.stage,
        "action": f.action,
        "message": f.message,
        "fix": f.rule.fix,
        "trace": f.trace,
    } for f in findings]


def to_sarif(report: Report) -> dict[str, Any]:
    """SARIF 2.1.0: one run, the hazard rules as the tool's rules, one result per finding, and
    the stages that were not searched as tool notifications of the run's invocation."""
    findings = report.findings
    rules = [{
        "id": r.id,
        "name": r.name,
        "shortDescription": {"text": r.summary},
        "fullDescription": {"text": f"{r.summary}. Documentation: \"{r.source}\""},
        "help": {"text": f"Fix: {r.fix}."},
        "defaultConfiguration": {"level": r.severity},
    } for r in RULES.values()]
    index = {r.id: i for i, r in enumerate(RULES.values())}
    results = []
    for f in findings:
        location: dict[str, Any] = {"physicalLocation": {"artifactLocation": {"uri": f.file}}}
        if f.line:
            location["physicalLocation"]["region"] = {"startLine": f.line}
        where = f"{f.stage}.{f.action}" if f.action else f.stage
        location["logicalLocations"] = [{"fullyQualifiedName": f"{f.pipeline}/{where}",
                                         "kind": "member"}]
        steps = "; ".join(f"{s['step']}. {s['operation']}" for s in f.trace)
        results.append({
            "ruleId": f.rule.id,
            "ruleIndex": index[f.rule.id],
            "level": f.rule.severity,
            "message": {"text": f"{f.message} Fix: {f.rule.fix}. Trace: {steps}"},
            "locations": [location],
        })
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "stagelock", "rules": rules}},
            "invocations": [{
                "executionSuccessful": report.complete,
                "toolExecutionNotifications": [{
                    "level": "error",
                    "message": {"text": f"{h.rule.id} {h.rule.name} at {t.pipeline.name}/"
                                        f"{h.stage}{'.' + h.action if h.action else ''}: "
                                        f"UNDETERMINED, {_why(t)}"},
                    "locations": [{"physicalLocation": {"artifactLocation": {"uri": t.file}}}],
                } for t, h in report.undecided] + [{
                    "level": "note",
                    "message": {"text": f"pipeline {n['pipeline']}: no execution enters "
                                        f"{', '.join(n['stages'])}, so no hazard there was "
                                        f"looked for (--toggles 1 lets the search open a "
                                        f"disabled transition)"},
                    "locations": [{"physicalLocation": {"artifactLocation": {
                        "uri": n["file"]}}}],
                } for n in unreached_notes(report)],
            }],
            "results": results,
        }],
    }
