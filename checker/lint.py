"""`stagelock lint`: hazards in users' own pipeline declarations.

Each pipeline of each file (read by `checker.formats`: get-pipeline JSON or YAML,
CloudFormation templates, Terraform) is checked with its outside world (`spec.world`, derived
from the declaration and from what its `stagelock: actions:` settings say,
`checker.annotations`) against every hazard of `spec.hazards`, in the pipeline's own execution
mode.  A refuted hazard is a *finding* about the pipeline: a rule id, a severity (one lower
where it rests on a guess), the stage and action it concerns, what can happen, the shortest
trace that shows it, and the fix; a grouped rule is one finding per pipeline.  A file that
cannot be read is reported and the others are still linted.  SARIF output is
`checker.formats.sarif`.

Silencing a rule for one pipeline: `--ignore RULE` or `--ignore RULE:PIPELINE` on the command
line; in the file, `stagelock: {ignore: [RULE, ...]}` beside `pipeline` in a `get-pipeline`
document (or inside the declaration), under the resource's `Metadata` in a CloudFormation
template, or a `stagelock:ignore` tag in Terraform.  RULE is an id (`SL301`) or a name
(`stop-without-disabled-transition`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from checker.annotations import (
    check_keys,
    declared_actions,
    ignore_list,
    instances,
    property_specs,
    rule_ids,
)
from checker.check import INTERRUPTIONS, NOT_SEEN, PROVED, REFUTED, UNDETERMINED, interruption
from checker.check import verdict as verdict_of
from checker.engine import Bounds, Explored, engine_json, explore
from checker.errors import InputError
from checker.formats import NoPipeline, PipelineSource, sources_in
from checker.report import trace_steps
from spec.declaration import Pipeline
from spec.hazards import (
    OWN,
    RULES,
    SEVERITIES,
    UNMODELLED_FIELD,
    Hazard,
    Rule,
    hazards_for,
)
from spec.rules import Model, build_model
from spec.unmodelled import FieldWarning
from spec.world import derive_world

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
    model: Model | None = None
    """The pipeline's model with the world lint derived (made once, by `_model`)."""
    own: list[Hazard] = field(default_factory=list)
    """The properties the file's `stagelock: properties` asks of the pipeline, as hazards of
    the rule OWN (set by `_model`)."""
    warnings: tuple[FieldWarning, ...] = ()
    """The declaration's fields the verdicts do not account for (rule UNMODELLED_FIELD): the
    source's, or none where the rule is silenced for this pipeline."""


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
    severity: str = "error"
    """The rule's, or one lower where the finding rests on an inference."""
    inferred: str | None = None
    """How the action it concerns was inferred (`spec.world.Role.how`), when it was."""
    also: list[str] = field(default_factory=list)
    """The other places (STAGE or STAGE.ACTION) of a grouped rule's finding
    (`spec.hazards.Rule.grouped`)."""

    @property
    def where(self) -> str:
        return f"{self.stage}.{self.action}" if self.action else self.stage

    @property
    def message(self) -> str:
        text = f"{self.rule.summary[0].upper()}{self.rule.summary[1:]}: {self.detail}."
        if self.also:
            text += f" The same at {', '.join(self.also)}."
        if self.inferred:
            text += (f" This rests on a guess {self.inferred}. Say what the action does under "
                     "`stagelock: actions:` in the file to make it certain.")
        return text


def _target(source: PipelineSource) -> Target:
    """A pipeline to lint, with the rules its file silences (`stagelock.ignore`)."""
    ignored: set[str] = set()
    if source.stagelock_place:
        check_keys(source.stagelock, source.file, source.stagelock_place)
        ignored = ignore_list(source.stagelock, source.file, source.stagelock_place)
    warnings = () if UNMODELLED_FIELD in ignored else source.warnings
    return Target(source.file, source.pipeline, source, ignored, source.disabled,
                  warnings=warnings)


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
    m = _model(target)
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
                                    line, h.severity, h.inferred))
    if target.own and target.stopped_by not in INTERRUPTIONS:
        findings += _own_findings(target, m, bounds, engine, workers)
    elif target.own:
        target.undecided += target.own
    order = {stage.name: i for i, stage in enumerate(target.pipeline.stages)}
    findings.sort(key=lambda f: (SEVERITIES.index(f.severity), f.rule.id, order[f.stage],
                                 f.action or ""))
    return _grouped(findings)


def _own_findings(target: Target, m: Model, bounds: Bounds, engine: str,
                  workers: int | None) -> list[Finding]:
    """The owner's properties, searched with lint's bounds as the hazards are: first with no
    stop (a property that fails there fails by the pipeline's shape: an error), then with the
    stops allowed (one that fails only then needs an operator's stop: a warning).  A refuted
    property, or a `sometimes` never seen, is a finding of the rule OWN with its shortest
    trace."""
    findings = []
    left = list(target.own)
    phases = [("structural", replace(bounds, stops=0), "error")]
    if bounds.stops > 0:
        phases.append(("operator-properties", bounds, "warning"))
    for phase, phase_bounds, severity in phases:
        if not left:
            break
        ex = explore(m, phase_bounds, [h.property for h in left], engine=engine,
                     workers=workers)
        target.engines[f"properties-{phase}" if phase == "structural" else phase] = \
            engine_json(ex)
        if not (ex.complete or ex.stopped_by == "every property decided"):
            target.stopped_by = target.stopped_by or ex.stopped_by
        last = phase == phases[-1][0]
        still = []
        for h in left:
            v = verdict_of(h.property, ex)
            if v.verdict == PROVED and h.property.kind == "witness":
                continue  # seen: answered
            if v.verdict == REFUTED or v.verdict == NOT_SEEN and last:
                detail = (v.detail if v.verdict == REFUTED
                          else "it never happens within lint's bounds")
                findings.append(Finding(h.rule, target.file, target.pipeline.name, h.stage,
                                        None, detail, trace_steps(m, v.trace or []), None,
                                        severity))
            elif v.verdict == UNDETERMINED and last:
                target.undecided.append(h)
            else:
                still.append(h)
        left = still
    return findings


def _model(target: Target) -> Model:
    """The pipeline's model with the world lint derives: from the declaration and from what
    the file's stagelock metadata says about its actions."""
    if target.model is None:
        source = target.source
        declared = declared_actions(source.stagelock, target.pipeline, target.file,
                                    source.stagelock_place or "stagelock")
        target.model = build_model(target.pipeline, world=derive_world(target.pipeline, declared),
                                   disabled_at_start=target.disabled)
        specs = property_specs(source.stagelock.get("properties"), target.file,
                               f"{source.stagelock_place or 'stagelock'}.properties")
        first = target.pipeline.stages[0].name
        target.own = [Hazard(replace(RULES[OWN], name=p.name, summary=p.meaning,
                                     fix=p.source), first, None, p)
                      for p in instances(target.model, specs)
                      if p.applies_to(target.model.policy.name)]
    return target.model


def _grouped(findings: list[Finding]) -> list[Finding]:
    """One finding per grouped rule and severity (the first place, with the others listed)."""
    out: list[Finding] = []
    first: dict[tuple[str, str], Finding] = {}
    for f in findings:
        key = (f.rule.id, f.severity)
        if not f.rule.grouped or key not in first:
            out.append(f)
            first[key] = f
            continue
        first[key].also.append(f.where)
    return out


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


FAIL_ON = ("error", "warning", "note", "never")
"""`--fail-on`: the least severe finding that makes the exit status 1."""


@dataclass
class Report:
    findings: list[Finding]
    targets: list[Target]
    unreadable: list[InputError] = field(default_factory=list)
    """The files that could not be read, each with why; the others were still linted."""
    skipped: list[str] = field(default_factory=list)
    """Files that declare no pipeline, left out (`--skip-files-without-pipelines`)."""
    fail_on: str = "error"

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
    def failing(self) -> list[Finding]:
        """The findings at least as severe as `fail_on`."""
        if self.fail_on == "never":
            return []
        limit = SEVERITIES.index(self.fail_on)
        return [f for f in self.findings if SEVERITIES.index(f.severity) <= limit]

    @property
    def warnings(self) -> list[dict[str, Any]]:
        """The field warnings (`field_warnings`)."""
        return field_warnings(self)

    @property
    def warnings_fail(self) -> bool:
        """Whether the field warnings make the exit status 1: they are warnings, so with
        `fail_on` warning or note."""
        return self.fail_on in ("warning", "note") and bool(self.warnings)

    @property
    def exit_code(self) -> int:
        """The worst of the run: 2 when a file could not be read; else 1 when a finding, or a
        field warning (a warning), is at least as severe as `fail_on`; else 3 when a search did
        not finish; else 0."""
        if self.unreadable:
            return 2
        if self.failing or self.warnings_fail:
            return 1
        return 0 if self.complete else 3


def lint(paths: list[str], bounds: Bounds = LINT_BOUNDS,
         ignores: list[str] | None = None, engine: str = "auto",
         workers: int | None = None, fail_on: str = "error",
         skip_without_pipelines: bool = False) -> Report:
    """Lint every pipeline of every file.  A file that cannot be read is reported in the
    report's `unreadable` and the others are still linted; when no file can be read at all, its
    error is raised.  With `skip_without_pipelines`, a valid file that declares no pipeline (a
    pre-commit hook is given every YAML and JSON file) is listed in `skipped` instead."""
    everywhere, per_pipeline = parse_ignores(ignores or [])
    findings: list[Finding] = []
    files: list[tuple[str, list[Target]]] = []
    unreadable: list[InputError] = []
    skipped: list[str] = []
    for path in paths:  # every file is read and checked first
        try:
            files.append((path, [_target(s) for s in sources_in(path)]))
        except NoPipeline as error:
            if not skip_without_pipelines:
                unreadable.append(error)
            else:
                skipped.append(path)
        except InputError as error:
            unreadable.append(error)
    if not files and unreadable:
        raise unreadable[0]
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
        for target in targets:
            try:
                _model(target)  # what the file says about its actions is read first
            except InputError as error:
                unreadable.append(error)
                continue
            all_targets.append(target)
            skip = everywhere | per_pipeline.get(target.pipeline.name, set())
            if UNMODELLED_FIELD in skip:
                target.warnings = ()
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
    if not all_targets and unreadable:
        raise unreadable[0]
    return Report(findings, all_targets, unreadable, skipped, fail_on)


NOT_SEARCHED = "not searched"


def _hazards_of(target: Target, skip: set[str], bounds: Bounds) -> list[Hazard]:
    m = _model(target)
    return [h for h in hazards_for(m) if h.rule.id not in skip and h.rule.id not in
            target.ignored and (bounds.stops > 0 or not h.rule.operator)]


# --------------------------------------------------------------------------------------------
# Output


def render_text(report: Report, paths: list[str], explain: bool = False) -> str:
    """The report as text: the world lint derived (with ``explain``), the field warnings (they
    qualify every verdict after them), the findings, a summary line counting both, what was
    not decided, and the notes."""
    findings = report.findings
    warnings = [f"{w['file']}{':' + str(w['line']) if w['line'] else ''}: warning "
                f"{w['ruleId']}: {w['place']}: {w['message']}" for w in field_warnings(report)]
    notes = [f"{n['file']}: pipeline {n['pipeline']}: no execution enters "
             f"{', '.join(n['stages'])} (an inbound transition the declaration disables stays "
             f"disabled; --toggles 1 lets the search open it), so no hazard there was looked for."
             for n in unreached_notes(report)]
    notes += [f"{n['file']}{':' + str(n['line']) if n['line'] else ''}: note: {n['place']} "
              f"{n['text']}" for n in reading_notes(report)]
    notes += [f"{path}: declares no pipeline: skipped." for path in report.skipped]
    lines: list[str] = []
    if explain:
        for target in report.targets:
            lines += explain_text(target)
            lines.append("")
    lines += warnings
    fields = (f"{_count(len(warnings), 'field warning')} ({UNMODELLED_FIELD}, above: "
              f"{'a field' if len(warnings) == 1 else 'fields'} the verdicts do not account for)")
    undecided = _undecided_lines(report)
    left_out = {e.file for e in report.unreadable} | set(report.skipped)
    read = [p for p in paths if p not in left_out]
    if not read:
        return "\n".join([*lines, "No pipeline declarations to lint.", *notes])
    if not findings and report.complete:
        also = f"; {fields}" if warnings else ""
        return "\n".join([*lines, f"No hazards found in {', '.join(read)}{also}.", *notes])
    if not findings:
        unfinished = [f"  {t.file}: pipeline {t.pipeline.name}: {_why(t)}"
                      for t in report.targets if t.stopped_by and not t.undecided]
        also = f"; {fields}" if warnings else ""
        result = [] if report.warnings_fail else ["", "Result: UNDETERMINED"]
        return "\n".join([*lines, f"No hazard found so far in {', '.join(read)}{also}, but not "
                          "every search finished:", *undecided, *unfinished, *result, *notes])
    if warnings:
        lines.append("")
    for f in findings:
        at = f"{f.file}:{f.line}" if f.line else f.file
        lines.append(f"{at}: {f.severity} {f.rule.id} {f.rule.name} "
                     f"[pipeline {f.pipeline}, {f.where}]")
        lines.append(f"    {f.message}")
        lines.append(f"    fix: {f.rule.fix}")
        lines.append(f"    shortest trace ({len(f.trace)} steps):")
        width = max(len(s["operation"]) for s in f.trace)
        for s in f.trace:
            changes = "; ".join(s["changes"]) or "no visible change"
            lines.append(f"      {s['step']:>2}. {s['operation'].ljust(width)}  | {changes}")
        lines.append("")
    counts = [_count(sum(f.severity == s for f in findings), s) for s in SEVERITIES]
    also = f"; and {fields}" if warnings else ""
    lines.append(f"{_count(len(findings), 'finding')}: {', '.join(counts)}{also}.")
    if undecided:
        lines += ["Not every search finished:", *undecided]
        if not report.failing and not report.warnings_fail:
            lines.append("Result: UNDETERMINED")
    lines += notes
    return "\n".join(lines)


def explain_text(target: Target) -> list[str]:
    """The world lint derived for one pipeline: each target with what writes and reads it, and
    how each action was recognised."""
    data = explain_json(target)
    lines = [f"{target.file}: pipeline {target.pipeline.name}: the world lint derived"]
    if not data["targets"]:
        lines.append("  no targets: no action writes anything lint can name")
    for t in data["targets"]:
        lines.append(f"  target {t['name']} ({t['overlap']})")
        for a in t["writtenBy"]:
            lines.append(f"    written by {a}")
        for a in t["readBy"]:
            lines.append(f"    read by {a}")
    for a in data["actions"]:
        if a["role"] or a["inferred"]:
            mark = " (inferred)" if a["inferred"] else ""
            lines.append(f"  {a['stage']}.{a['action']}: {a['role'] or 'no role'}{mark}: "
                         f"{a['how']}")
    return lines


def explain_json(target: Target) -> dict[str, Any]:
    """`{file, pipeline, targets: [{name, overlap, writtenBy, readBy}], actions: [{stage,
    action, role, writes, reads, how, inferred}]}`."""
    assert target.model is not None and target.model.world is not None
    world = target.model.world
    names = [(s.name, a.name) for s in target.pipeline.stages for a in s.actions]
    return {
        "file": target.file,
        "pipeline": target.pipeline.name,
        "targets": [{
            "name": name,
            "overlap": world.overlap[t],
            "writtenBy": [f"{s}.{a}" for (s, a), w in zip(names, world.writes, strict=True)
                          if w == t],
            "readBy": [f"{s}.{a}" for (s, a), r in zip(names, world.reads, strict=True)
                       if t in r],
        } for t, name in enumerate(world.targets)],
        "actions": [{
            "stage": s, "action": a, "role": role.kind,
            "writes": world.targets[role.writes] if role.writes >= 0 else None,
            "reads": [world.targets[t] for t in role.reads],
            "how": role.how, "inferred": role.inferred,
        } for (s, a), role in zip(names, world.roles, strict=True)],
    }


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


def reading_notes(report: Report) -> list[dict[str, Any]]:
    """What the readers read only approximately, per pipeline: `[{file, pipeline, place, line,
    text}]`."""
    return [{"file": t.file, "pipeline": t.pipeline.name, "place": n.place, "line": n.line,
             "text": n.text} for t in report.targets for n in t.source.notes]


def field_warnings(report: Report) -> list[dict[str, Any]]:
    """The declaration fields the verdicts do not account for (rule UNMODELLED_FIELD), once per
    file and place, except where the rule is silenced: `[{file, field, place, line, message,
    ruleId, pipeline}]`."""
    seen: set[tuple[str, str]] = set()
    out: list[dict[str, Any]] = []
    for t in report.targets:
        for w in t.warnings:
            if (t.file, w.place) not in seen:
                seen.add((t.file, w.place))
                out.append({**w.to_json(t.file), "ruleId": UNMODELLED_FIELD,
                            "pipeline": t.pipeline.name})
    return out


def unreadable_json(report: Report) -> list[dict[str, Any]]:
    """`[{file, place, message}]`: the files that could not be read."""
    return [{"file": e.file, "place": e.place, "message": str(e)} for e in report.unreadable]


RESULTS = {0: "CLEAN", 1: "FINDINGS", 2: "BAD INPUT", 3: "UNDETERMINED"}


def to_json(report: Report, explain: bool = False) -> dict[str, Any]:
    """`{findings: [...], unreachedStages: [{file, pipeline, stages}], undecided: [...],
    notes: [...], unreadable: [...], skipped: [FILE], result, failOn, engines: [{file,
    pipeline, reach, structural, operator}]}` (which engine made each search; a phase that was
    not searched is left out); with `explain`, also `worlds` (`explain_json` per pipeline)."""
    out = {"findings": _findings_json(report.findings),
           "unreachedStages": unreached_notes(report),
           "undecided": undecided_json(report),
           "notes": reading_notes(report),
           "warnings": field_warnings(report),
           "unreadable": unreadable_json(report),
           "skipped": report.skipped,
           "result": RESULTS[report.exit_code],
           "failOn": report.fail_on,
           "engines": [{"file": t.file, "pipeline": t.pipeline.name, **t.engines}
                       for t in report.targets]}
    if explain:
        out["worlds"] = [explain_json(t) for t in report.targets]
    return out


def _findings_json(findings: list[Finding]) -> list[dict[str, Any]]:
    return [{
        "ruleId": f.rule.id,
        "rule": f.rule.name,
        "severity": f.severity,
        "inferred": f.inferred,
        "file": f.file,
        "line": f.line,
        "pipeline": f.pipeline,
        "stage": f.stage,
        "action": f.action,
        "also": f.also,
        "message": f.message,
        "fix": f.rule.fix,
        "trace": f.trace,
    } for f in findings]
