"""Scenario files: a pipeline declaration and steps, run through the rules one step at a time.

The format is a public interface (see README, "Scenario files").  A scenario names its
executions (`start: e1`), and its steps name actions and stages by their declared names.  Bad
input raises `InputError` naming the file and the place (`steps[3].retry.stage`); a step that the
service refuses without `error:`, or an expectation that does not hold, is a *failure* of the
scenario, reported with the step, what was expected and what happened.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from checker.errors import InputError
from checker.formats import load_declaration, pipeline_from_document
from checker.formats.documents import key_line_at, read_text_and_document
from checker.formats.getpipeline import warnings_of
from checker.view import (
    condition_state,
    inbound_executions,
    retry_stage_metadata,
    stage_status,
    structure_text,
)
from spec.declaration import Pipeline, pipeline_to_dict
from spec.modes import MODES
from spec.operations import (
    API_ERRORS,
    APPROVED,
    FAILED_ACTIONS,
    REJECTED,
    RETRY_MODES,
    SOURCE_REVISION_TYPES,
    AbandonedWorkFinishes,
    ActionFailed,
    ActionsAbandoned,
    ActionSucceeded,
    ApprovalTimedOut,
    ConditionFailed,
    ConditionSucceeded,
    DisableStageTransition,
    EnableStageTransition,
    Operation,
    OverrideStageCondition,
    PutApprovalResult,
    Refused,
    RetryStageExecution,
    RollbackStage,
    StartPipelineExecution,
    StopPipelineExecution,
    UpdatePipeline,
)
from spec.properties import PROPERTIES, Property
from spec.rules import (
    Model,
    StructureError,
    apply,
    build_model,
    installed_mode,
    pipeline_policy,
)
from spec.state import (
    AUTOMATED_ROLLBACK,
    CONDITION_TYPES,
    PIPELINE_STATUSES,
    STAGE_STATUSES,
    Execution,
    State,
)
from spec.unmodelled import FieldWarning
from spec.variants import VARIANTS

TOP_KEYS = ("description", "pipeline", "mode", "variants", "rules", "properties", "steps")
ACTION_STEPS = {"succeed", "fail", "approve", "reject", "timeout"}
STEP_KINDS = ("start", "succeed", "fail", "approve", "reject", "timeout", "stop", "abandoned",
              "abandoned-work-finishes", "retry", "condition-succeeds", "condition-fails",
              "override", "disable", "enable", "update", "rollback", "expect")
STEP_EXTRAS = ("error", "note", "starts")
"""`starts: NAME` names the execution a step starts other than by StartPipelineExecution: the
rollback that a `rollback` step starts, or a failure in a stage that rolls back by itself (on
failure, or when its success condition with result ROLLBACK fails)."""
NO_WORLD = ("expected no step about deploy targets: a scenario whose updates change the stages "
            "or actions runs without the world of deploy targets")
EXECUTION_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]*\Z")
ACTION_STATUS_VALUES = ("InProgress", "Abandoned", "Succeeded", "Failed", None)
MAX_STEPS = 10_000
MAX_EXECUTIONS = 1_000
"""Bounds on a scenario, so that no file makes `simulate` run for hours: each step costs time
in the number of executions so far.  Decision: far beyond any scenario a person writes (the
documentation's examples have a few executions; QUEUED and PARALLEL allow 50 at a time)."""


@dataclass(frozen=True)
class Expectation:
    """Only the keys given are compared.  Each item: (what, key, expected value) where `what` is
    `execution`, `stage.execution`, `stage.status`, `stage.inbound`, `stage.listed`,
    `stage.transition`, `stage.autoretry` or `action`; `key` names the execution / stage /
    (execution, action number).  `stage.inbound` is the queue in front of the stage,
    `stage.listed` what its `inboundExecutions` lists (with stopped inbound executions)."""

    items: tuple[tuple[str, Any, Any], ...]


@dataclass(frozen=True)
class Step:
    index: int
    place: str
    kind: str
    text: str
    """The step as the user wrote it, compactly (`retry e1 Build FAILED_ACTIONS`)."""
    operation: Operation | None = None
    expectation: Expectation | None = None
    error: str | None = None
    new_execution: str | None = None


@dataclass
class Scenario:
    file: str
    model: Model
    steps: list[Step]
    names: list[str]
    """Execution names in start order."""
    properties: list[Property]
    description: str = ""
    declaration: str = ""
    """The file that declares the pipeline: the scenario's own, or the file it names."""
    warnings: tuple[FieldWarning, ...] = ()
    """The fields of the declaration, and of the declarations its updates install, that the
    model does not account for, with their lines in `declaration` (or in the file a warning
    names, `FieldWarning.file`)."""


@dataclass
class StepResult:
    step: Step
    state: State
    refused: str | None
    failures: list[str] = field(default_factory=list)
    misnumbers: bool = False
    """The step started an execution other than the one it names, or none where it names one:
    the executions the later steps name would not be the ones they mean."""


@dataclass
class Run:
    scenario: Scenario
    results: list[StepResult]
    names: list[str] = field(default_factory=list)
    """The executions that started, named by the steps that started them."""

    @property
    def final(self) -> State:
        return self.results[-1].state if self.results else self.scenario.model.initial()

    @property
    def failures(self) -> list[str]:
        out = []
        for r in self.results:
            out += [f"step {r.step.index + 1} ({r.step.text}): {f}" for f in r.failures]
        return out


# --------------------------------------------------------------------------------------------
# Reading


def load_scenario(path: str | Path) -> Scenario:
    """Read and check a scenario file; raises InputError for anything malformed."""
    file = str(path)
    text, doc = read_text_and_document(path)
    return parse_scenario(doc, file, Path(path).parent, text)


def parse_scenario(doc: object, file: str, base: Path, text: str | None = None) -> Scenario:
    """The scenario of the document ``doc`` read from ``file`` (whose text is ``text``, for the
    lines of warnings, when known); a declaration file it names is found from ``base``."""
    if not isinstance(doc, dict):
        raise InputError(file, "", f"expected a mapping with keys {', '.join(TOP_KEYS)}")
    for key in doc:
        if key not in TOP_KEYS:
            raise InputError(file, str(key), f"expected one of the keys {', '.join(TOP_KEYS)}")
    if "pipeline" not in doc:
        raise InputError(file, "pipeline", "expected a pipeline declaration or a file path")
    pipeline, declaration, warnings = _pipeline(doc["pipeline"], file, base, text)
    mode = doc.get("mode")
    if mode is not None and (not isinstance(mode, str) or mode not in MODES):
        raise InputError(file, "mode", f"expected one of {', '.join(MODES)}, got {mode!r}")
    variants = doc.get("variants") or []
    if not isinstance(variants, list):
        raise InputError(file, "variants", "expected a list of variant names")
    for i, v in enumerate(variants):
        if not isinstance(v, str) or v not in VARIANTS:
            raise InputError(file, f"variants[{i}]",
                             f"expected a variant name ({', '.join(VARIANTS)}), got {v!r}")
    paths = doc.get("rules") or []
    if not isinstance(paths, list) or not all(isinstance(x, str) for x in paths):
        raise InputError(file, "rules", "expected a list of paths to rules files")
    from checker.rulesfile import combine, load_named_rules_file

    loaded = tuple(load_named_rules_file(base / x, file, f"rules[{i}]")
                   for i, x in enumerate(paths))
    steps_doc = doc.get("steps")
    if not isinstance(steps_doc, list) or not steps_doc:
        raise InputError(file, "steps", "expected a non-empty list of steps")
    structures, labels, installs, update_warnings = _update_structures(
        steps_doc, pipeline, file, base, text)
    try:
        model = build_model(pipeline, mode, combine(file, "variants", tuple(variants), loaded),
                            world=not structures, updates_to=tuple(structures),
                            labels=tuple(labels))
    except StructureError as why:
        at = min(i for i, k in installs.items() if k == why.structure)
        raise InputError(file, f"steps[{at}].update.pipeline", f"expected stages the model "
                         f"can number together with the earlier ones: {why}") from None
    props = doc.get("properties") or []
    if not isinstance(props, list):
        raise InputError(file, "properties", "expected a list of property names")
    for i, p in enumerate(props):
        if not isinstance(p, str) or p not in PROPERTIES or PROPERTIES[p].kind not in (
            "invariant", "step"
        ):
            checkable = [n for n, q in PROPERTIES.items() if q.kind in ("invariant", "step")]
            raise InputError(file, f"properties[{i}]",
                             f"expected an invariant or step property ({', '.join(checkable)}), "
                             f"got {p!r}")
    if len(steps_doc) > MAX_STEPS:
        raise InputError(file, "steps", f"expected at most {MAX_STEPS:,} steps, got "
                         f"{len(steps_doc):,}")
    description = doc.get("description") or ""
    if not isinstance(description, str):
        raise InputError(file, "description", "expected text")
    reader = _StepReader(file, model, installs)
    steps = [reader.step(i, raw) for i, raw in enumerate(steps_doc)]
    return Scenario(file, model, steps, reader.names, [PROPERTIES[p] for p in props], description,
                    declaration, warnings + update_warnings)


def _update_structures(steps: list[Any], pipeline: Pipeline, file: str, base: Path,
                       text: str | None
                       ) -> tuple[list[Pipeline], list[str], dict[int, int],
                                  tuple[FieldWarning, ...]]:
    """The structures the scenario's updates install (`update: {pipeline: ...}`), each once,
    in the order they first appear, with where each is declared; which structure each such
    step installs (0: the scenario's own pipeline again); and the warnings for the fields of
    their declarations that the model does not account for."""
    structures: list[Pipeline] = []
    labels: list[str] = []
    installs: dict[int, int] = {}
    warnings: list[FieldWarning] = []
    for i, raw in enumerate(steps):
        body = raw.get("update") if isinstance(raw, dict) else None
        if not isinstance(body, dict) or "pipeline" not in body:
            continue
        place = f"steps[{i}].update.pipeline"
        found, declared, more = _pipeline(body["pipeline"], file, base, text, place)
        if found == pipeline:
            installs[i] = 0
        else:
            if found not in structures:
                structures.append(found)
                labels.append(Path(declared).name if declared != file else place)
                warnings += [replace(w, file=declared) for w in more]
            installs[i] = structures.index(found) + 1
    return structures, labels, installs, tuple(warnings)


def _pipeline(value: object, file: str, base: Path, text: str | None, place: str = "pipeline"
              ) -> tuple[Pipeline, str, tuple[FieldWarning, ...]]:
    """The pipeline declared at `place` (the scenario's own, or one an update installs), the
    file that declares it, and the warnings for the fields of its declaration that the model
    does not account for."""
    if isinstance(value, str):
        target = base / value
        if not target.is_file():
            raise InputError(file, place,
                             f"expected a declaration file, {str(target)!r} does not exist")
        pipeline, warnings = load_declaration(target, named_by=file)
        return pipeline, str(target), warnings
    if not isinstance(value, dict):
        raise InputError(file, place, "expected a pipeline declaration or a file path")
    # The declaration is the scenario's own key: its places and lines are the scenario file's.
    declaration = {"pipeline": value}
    prefix = place[: -len("pipeline")]
    try:
        pipeline = pipeline_from_document(declaration, file)
    except InputError as error:
        if error.file != file or not prefix:
            raise
        raise InputError(file, prefix + error.place, error.expected) from None
    found = warnings_of(declaration, None if prefix else text)
    if prefix:
        found = tuple(replace(w, place=prefix + w.place) for w in found)
        found = tuple(replace(w, line=key_line_at(text, list(w.keys))) if text else w
                      for w in found)
    return pipeline, file, found


class _StepReader:
    def __init__(self, file: str, model: Model, installs: dict[int, int] | None = None) -> None:
        self.file = file
        self.model = model
        self.names: list[str] = []
        self.refused: list[str] = []
        self.installs = installs or {}
        """Per update step that installs a structure, which one."""
        self.structure = 0
        """The pipeline's structure at the step being read (an expected refusal changes
        nothing)."""
        self.runs: list[int] = []
        """The structure each named execution runs, as `names`."""

    def fail(self, place: str, expected: str) -> InputError:
        return InputError(self.file, place, expected)

    def step(self, i: int, raw: object) -> Step:
        named = len(self.names)
        step = self._read(i, raw)
        self.runs += [self.structure] * (len(self.names) - named)
        if step.kind == "update" and step.error is None and i in self.installs:
            self.structure = self.installs[i]
        return step

    def _read(self, i: int, raw: object) -> Step:
        place = f"steps[{i}]"
        if not isinstance(raw, dict):
            raise self.fail(place, f"expected a mapping with one of {', '.join(STEP_KINDS)}")
        kinds = [k for k in raw if k in STEP_KINDS]
        unknown = [k for k in raw if k not in STEP_KINDS and k not in STEP_EXTRAS]
        if unknown:
            raise self.fail(f"{place}.{unknown[0]}",
                            f"expected one of {', '.join(STEP_KINDS + STEP_EXTRAS)}")
        if len(kinds) != 1:
            raise self.fail(place, f"expected exactly one of {', '.join(STEP_KINDS)}, got "
                            f"{len(kinds)}")
        kind = kinds[0]
        body = raw[kind]
        here = f"{place}.{kind}"
        error = raw.get("error")
        if error is not None:
            if kind == "expect":
                raise self.fail(f"{place}.error", "expected no error on an expect step")
            if not isinstance(error, str) or error not in API_ERRORS:
                raise self.fail(f"{place}.error",
                                f"expected an exception name ({', '.join(API_ERRORS)}), "
                                f"got {error!r}")
        if "note" in raw and not isinstance(raw["note"], str):
            raise self.fail(f"{place}.note", "expected text")
        if "starts" in raw:
            step = self._step(i, place, kind, body, here, error)
            return self.starts(raw["starts"], f"{place}.starts", step)
        if kind == "rollback" and error is None:
            raise self.fail(f"{place}.starts", "expected the name of the rollback execution "
                            "the step starts, like starts: r1")
        return self._step(i, place, kind, body, here, error)

    def starts(self, name: object, place: str, step: Step) -> Step:
        """`step`, which also starts the execution `name` (a rollback)."""
        if step.kind in ("start", "expect", "update"):
            raise self.fail(place, f"expected no starts on a{'n' if step.kind[0] in 'eu' else ''}"
                            f" {step.kind} step: only a rollback step, or a failure in a stage "
                            "that rolls back by itself, starts a rollback execution")
        if step.error is not None:
            raise self.fail(place, "expected no starts on a step that is expected to be "
                            "refused: a refused step starts nothing")
        if not isinstance(name, str) or not EXECUTION_NAME.match(name):
            raise self.fail(place, "expected a name for the new execution, like r1")
        if name in self.names or name in self.refused:
            raise self.fail(place, f"expected a new execution name, {name!r} is already used")
        if len(self.names) == MAX_EXECUTIONS:
            raise self.fail(place, f"expected at most {MAX_EXECUTIONS:,} executions in a "
                            "scenario")
        self.names.append(name)
        return replace(step, text=f"{step.text}, starting {name}", new_execution=name)

    def _pinned_start(self, body: dict[Any, Any], here: str
                      ) -> tuple[object, StartPipelineExecution]:
        """A start written `{name: e3, sourceRevisions: [{actionName, revisionType,
        revisionValue}]}`, the way StartPipelineExecution takes them; `revisionValue` names the
        earlier execution whose revision the source action takes (the model names revisions by
        the execution that ran them first).  The execution's name, and its start."""
        unknown = [k for k in body if k not in ("name", "sourceRevisions")]
        if unknown:
            raise self.fail(f"{here}.{unknown[0]}", "expected only name and sourceRevisions in "
                            "a start, like start: {name: e3, sourceRevisions: [...]}")
        if "name" not in body:
            raise self.fail(here, "expected a name for the new execution, like "
                            "start: {name: e3, sourceRevisions: [...]}")
        place = f"{here}.sourceRevisions"
        given = body.get("sourceRevisions")
        if not isinstance(given, list) or not given:
            raise self.fail(place, "expected a list of source revisions, like "
                            "[{actionName: Checkout, revisionType: COMMIT_ID, revisionValue: e1}]")
        now = self.model.structures[self.structure] if self.model.structures else self.model
        sources = [self.model.action_names[a] for a in now.stage_actions[now.first_stage]]
        pinned: dict[str, int] = {}
        for k, item in enumerate(given):
            at = f"{place}[{k}]"
            if not isinstance(item, dict) or set(item) != {"actionName", "revisionType",
                                                           "revisionValue"}:
                raise self.fail(at, "expected {actionName, revisionType, revisionValue}")
            action = item["actionName"]
            if action not in sources or action in pinned:
                raise self.fail(f"{at}.actionName", f"expected a source action of the first "
                                f"stage ({', '.join(sources)}), each once, got {action!r}")
            if item["revisionType"] not in SOURCE_REVISION_TYPES:
                raise self.fail(f"{at}.revisionType", f"expected one of "
                                f"{', '.join(SOURCE_REVISION_TYPES)}, got "
                                f"{item['revisionType']!r}")
            value = item["revisionValue"]
            if value not in self.names:
                raise self.fail(f"{at}.revisionValue", "expected the name of an execution started "
                                f"by an earlier step, whose revision the source takes "
                                f"({', '.join(self.names) or 'none yet'}), got {value!r}")
            pinned[action] = self.names.index(value)
        revisions = sorted(set(pinned.values()))
        if len(revisions) > 1 or len(pinned) < len(sources):
            raise self.fail(place, "expected every source action pinned to the revision of one "
                            "execution: the model gives each execution one source revision, so "
                            "sources of different executions' revisions are not modelled")
        return body["name"], StartPipelineExecution(revisions[0])

    def _step(self, i: int, place: str, kind: str, body: Any, here: str,
              error: str | None) -> Step:
        if kind == "start":
            start = StartPipelineExecution()
            if isinstance(body, dict):
                body, start = self._pinned_start(body, here)
            if not isinstance(body, str) or not EXECUTION_NAME.match(body):
                raise self.fail(here, "expected a name for the new execution, like e1")
            if body in self.names or body in self.refused:
                raise self.fail(here, f"expected a new execution name, {body!r} is already used")
            if error is not None:
                # a start that is expected to be refused creates no execution
                self.refused.append(body)
            else:
                if len(self.names) == MAX_EXECUTIONS:
                    raise self.fail(here, f"expected at most {MAX_EXECUTIONS:,} executions in a "
                                    "scenario")
                self.names.append(body)
            text = f"start {body}"
            if start.source_revision >= 0:
                text += f" with {self.names[start.source_revision]}'s revision"
            return Step(i, place, kind, text, start, error=error, new_execution=body)
        if kind == "expect":
            return Step(i, place, kind, "expect", expectation=self.expectation(body, here))
        if kind == "update":
            if body is not None and not isinstance(body, dict):
                raise self.fail(here, "expected {}, {executionMode: MODE} or {pipeline: "
                                "DECLARATION}")
            fields = body or {}
            for key in fields:
                if key not in ("executionMode", "pipeline"):
                    raise self.fail(f"{here}.{key}", "expected only executionMode and pipeline "
                                    "(the declaration the update installs, or a file path)")
            mode = fields.get("executionMode")
            if mode is not None and mode not in MODES:
                raise self.fail(f"{here}.executionMode",
                                f"expected one of {', '.join(MODES)}, got {mode!r}")
            k = self.installs.get(i)
            if k is not None and mode is None:
                mode = installed_mode(self.model, k)  # the declaration's own executionMode
            text = "update the pipeline" + structure_text(self.model, k) + (
                f" to {mode} mode" if mode else "")
            return Step(i, place, kind, text, UpdatePipeline(mode, k), error=error)
        fields = self.mapping(body, here, kind)
        if kind in ACTION_STEPS:
            self.only(fields, here, ("execution", "action", "stage"))
            e = self.execution(fields, here)
            a = self.action(fields, here, approval=kind in ("approve", "reject", "timeout"),
                            kind=kind, e=e)
            op: Operation
            if kind == "succeed":
                op = ActionSucceeded(e, a)
            elif kind == "fail":
                op = ActionFailed(e, a)
            elif kind == "timeout":
                op = ApprovalTimedOut(e, a)
            else:
                op = PutApprovalResult(e, a, APPROVED if kind == "approve" else REJECTED)
            text = f"{kind} {self.names[e]} {self.model.action_names[a]}"
        elif kind == "stop":
            self.only(fields, here, ("execution", "abandon", "reason"))
            e = self.execution(fields, here)
            abandon = fields.get("abandon", False)
            if not isinstance(abandon, bool):
                raise self.fail(f"{here}.abandon", "expected true or false")
            op = StopPipelineExecution(e, abandon)
            text = f"stop {self.names[e]}" + (" (abandon)" if abandon else "")
        elif kind == "abandoned":
            self.only(fields, here, ("execution",))
            e = self.execution(fields, here)
            op = ActionsAbandoned(e)
            text = f"abandoned {self.names[e]}"
        elif kind == "abandoned-work-finishes":
            self.only(fields, here, ("execution", "action", "stage"))
            e = self.execution(fields, here)
            a = self.action(fields, here, approval=False, kind=kind, e=e)
            if self.model.world is None:
                raise self.fail(here, NO_WORLD)
            if self.model.world.writes[a] < 0:
                raise self.fail(f"{here}.action", f"expected a deploy action, "
                                f"{self.model.action_names[a]!r} deploys nothing")
            op = AbandonedWorkFinishes(e, a)
            text = f"abandoned-work-finishes {self.names[e]} {self.model.action_names[a]}"
        elif kind == "retry":
            self.only(fields, here, ("execution", "stage", "mode"))
            e = self.execution(fields, here)
            s = self.stage(fields, here)
            mode = fields.get("mode", FAILED_ACTIONS)
            if mode not in RETRY_MODES:
                raise self.fail(f"{here}.mode",
                                f"expected FAILED_ACTIONS or ALL_ACTIONS, got {mode!r}")
            op = RetryStageExecution(e, s, mode)
            text = f"retry {self.names[e]} {self.model.stage_names[s]} {mode}"
        elif kind in ("condition-succeeds", "condition-fails"):
            self.only(fields, here, ("execution",))
            e = self.execution(fields, here)
            op = ConditionSucceeded(e) if kind == "condition-succeeds" else ConditionFailed(e)
            text = f"{kind} {self.names[e]}"
        elif kind == "override":
            self.only(fields, here, ("execution", "stage", "condition"))
            e = self.execution(fields, here)
            s = self.stage(fields, here)
            condition = fields.get("condition")
            if condition not in CONDITION_TYPES:
                raise self.fail(f"{here}.condition", f"expected {' or '.join(CONDITION_TYPES)} "
                                f"(conditionType), got {condition!r}")
            op = OverrideStageCondition(e, s, condition)
            text = f"override {self.names[e]} {self.model.stage_names[s]} {condition}"
        elif kind == "rollback":
            self.only(fields, here, ("stage", "target"))
            s = self.stage(fields, here)
            if "target" not in fields:
                raise self.fail(f"{here}.target", "expected the name of the execution to roll "
                                "back to (targetPipelineExecutionId)")
            t = self.execution_name(fields["target"], f"{here}.target")
            op = RollbackStage(s, t)
            text = f"rollback {self.model.stage_names[s]} to {self.names[t]}"
        else:
            self.only(fields, here, ("stage", "reason"))
            s = self.stage(fields, here)
            op = DisableStageTransition(s) if kind == "disable" else EnableStageTransition(s)
            text = f"{kind} {self.model.stage_names[s]}"
        return Step(i, place, kind, text, op, error=error)

    def mapping(self, body: object, here: str, kind: str) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise self.fail(here, f"expected a mapping, like {{execution: e1}} for {kind}")
        return body

    def only(self, fields: dict[str, Any], here: str, allowed: tuple[str, ...]) -> None:
        for key in fields:
            if key not in allowed:
                raise self.fail(f"{here}.{key}", f"expected only {', '.join(allowed)}")

    def execution_name(self, name: object, place: str) -> int:
        if isinstance(name, str) and name in self.refused:
            raise self.fail(place, f"expected an execution that started, {name!r} was refused")
        if not isinstance(name, str) or name not in self.names:
            started = ", ".join(self.names) or "none yet"
            raise self.fail(place, f"expected an execution started by an earlier step "
                            f"({started}), got {name!r}")
        return self.names.index(name)

    def execution(self, fields: dict[str, Any], here: str) -> int:
        if "execution" not in fields:
            raise self.fail(f"{here}.execution", "expected the name of an execution")
        return self.execution_name(fields["execution"], f"{here}.execution")

    def stage_name(self, name: object, place: str) -> int:
        if name not in self.model.stage_names:
            raise self.fail(place, f"expected a stage of the pipeline "
                            f"({', '.join(self.model.stage_names)}), got {name!r}")
        return self.model.stage_names.index(str(name))

    def stage(self, fields: dict[str, Any], here: str) -> int:
        if "stage" not in fields:
            raise self.fail(f"{here}.stage", "expected the name of a stage")
        return self.stage_name(fields["stage"], f"{here}.stage")

    def _runs(self, e: int | None, a: int) -> bool:
        """Whether execution `e` (None: any) runs action `a`: it is an action of the structure
        `e` runs."""
        m = self.model
        if e is None or not m.structures:
            return True
        return a in m.structures[self.runs[e]].stage_actions[m.action_stage[a]]

    def action(self, fields: dict[str, Any], here: str, approval: bool, kind: str,
               e: int | None = None) -> int:
        m = self.model
        if "action" not in fields:
            raise self.fail(f"{here}.action", "expected the name of an action")
        name = fields["action"]
        found = [a for a, n in enumerate(m.action_names) if n == name and self._runs(e, a)]
        if "stage" in fields:
            s = self.stage_name(fields["stage"], f"{here}.stage")
            found = [a for a in found if m.action_stage[a] == s]
        if not found:
            raise self.fail(f"{here}.action", f"expected an action of the pipeline, got {name!r}")
        if len(found) > 1:
            stages = ", ".join(m.stage_names[m.action_stage[a]] for a in found)
            raise self.fail(f"{here}.action",
                            f"expected stage: as well, {name!r} is an action of {stages}")
        a = found[0]
        if approval and not m.approval[a]:
            raise self.fail(f"{here}.action",
                            f"expected an approval action for {kind}, {name!r} is not one "
                            f"(use succeed or fail)")
        if not approval and m.approval[a]:
            raise self.fail(f"{here}.action",
                            f"expected an action that is not an approval for {kind}, {name!r} "
                            f"is one (use approve, reject or timeout)")
        return a

    def expectation(self, body: object, here: str) -> Expectation:
        if not isinstance(body, dict):
            raise self.fail(here, "expected a mapping with executions, stages and/or actions")
        items: list[tuple[str, Any, Any]] = []
        for key in body:
            if key not in ("executions", "stages", "actions", "deployed", "pipelineVersion",
                           "executionMode"):
                raise self.fail(f"{here}.{key}",
                                "expected executions, stages, actions, deployed, "
                                "pipelineVersion or executionMode")
        if "executionMode" in body:
            mode = body["executionMode"]
            if mode not in MODES:
                raise self.fail(f"{here}.executionMode",
                                f"expected one of {', '.join(MODES)}, got {mode!r}")
            items.append(("mode", 0, mode))
        if "pipelineVersion" in body:
            version = body["pipelineVersion"]
            if not isinstance(version, int) or isinstance(version, bool) or version < 1:
                raise self.fail(f"{here}.pipelineVersion",
                                f"expected a version number (1 before any update), got "
                                f"{version!r}")
            items.append(("version", 0, version))
        for name, status in _mapping(self, body.get("executions"), f"{here}.executions"):
            e = self.execution_name(name, f"{here}.executions.{name}")
            if status not in PIPELINE_STATUSES:
                raise self.fail(f"{here}.executions.{name}",
                                f"expected a pipeline execution status "
                                f"({', '.join(PIPELINE_STATUSES)}), got {status!r}")
            items.append(("execution", e, status))
        for name, spec in _mapping(self, body.get("stages"), f"{here}.stages"):
            place = f"{here}.stages.{name}"
            s = self.stage_name(name, place)
            if not isinstance(spec, dict):
                raise self.fail(place, "expected a mapping with execution, status, inbound, "
                                "inboundExecutions, transition, autoStageRetryAttempt, "
                                "beforeEntryCondition, onSuccessCondition")
            for key, value in spec.items():
                at = f"{place}.{key}"
                if key == "execution":
                    e = -1 if value is None else self.execution_name(value, at)
                    items.append(("stage.execution", s, e))
                elif key == "status":
                    if value not in STAGE_STATUSES and value is not None:
                        raise self.fail(at, f"expected a stage execution status "
                                        f"({', '.join(STAGE_STATUSES)}), got {value!r}")
                    items.append(("stage.status", s, value))
                elif key == "inbound":
                    if not isinstance(value, list):
                        raise self.fail(at, "expected a list of execution names, in order")
                    es = tuple(self.execution_name(v, f"{at}[{j}]") for j, v in enumerate(value))
                    items.append(("stage.inbound", s, es))
                elif key == "inboundExecutions":
                    if not isinstance(value, dict):
                        raise self.fail(at, "expected a mapping of execution names to statuses, "
                                        "in order ({} for none)")
                    listed = []
                    for who, status in value.items():
                        e = self.execution_name(who, f"{at}.{who}")
                        if status not in PIPELINE_STATUSES:
                            raise self.fail(f"{at}.{who}",
                                            f"expected a pipeline execution status "
                                            f"({', '.join(PIPELINE_STATUSES)}), got {status!r}")
                        listed.append((e, status))
                    items.append(("stage.listed", s, tuple(listed)))
                elif key == "transition":
                    if value not in ("enabled", "disabled"):
                        raise self.fail(at, f"expected enabled or disabled, got {value!r}")
                    items.append(("stage.transition", s, value))
                elif key == "autoStageRetryAttempt":
                    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                        raise self.fail(at, "expected a number of automatic retries (0 for "
                                        f"none), got {value!r}")
                    items.append(("stage.autoretry", s, value))
                elif key in CONDITION_KEYS:
                    if value not in CONDITION_STATUSES:
                        raise self.fail(at, "expected a condition status "
                                        f"({', '.join(map(str, CONDITION_STATUSES))}), "
                                        f"got {value!r}")
                    items.append(("stage.condition", s, (key, value)))
                else:
                    raise self.fail(at, "expected execution, status, inbound, "
                                    "inboundExecutions, transition, autoStageRetryAttempt, "
                                    "beforeEntryCondition or onSuccessCondition")
        for name, spec in _mapping(self, body.get("actions"), f"{here}.actions"):
            place = f"{here}.actions.{name}"
            e = self.execution_name(name, place)
            if not isinstance(spec, dict):
                raise self.fail(place, "expected a mapping of action names to statuses")
            for aname, value in spec.items():
                at = f"{place}.{aname}"
                if isinstance(value, dict):  # {Stage: {Action: status}}
                    s = self.stage_name(aname, at)
                    for inner, status in value.items():
                        a = self._expect_action(inner, s, f"{at}.{inner}", e)
                        items.append(("action", (e, a), self._status(status, f"{at}.{inner}")))
                else:
                    a = self._expect_action(aname, None, at, e)
                    items.append(("action", (e, a), self._status(value, at)))
        for name, who in _mapping(self, body.get("deployed"), f"{here}.deployed"):
            place = f"{here}.deployed.{name}"
            a = self._expect_action(name, None, place)
            if self.model.world is None:
                raise self.fail(place, NO_WORLD)
            if self.model.world.writes[a] < 0:
                raise self.fail(place, f"expected a deploy action, {name!r} deploys nothing")
            e = -1 if who is None else self.execution_name(who, place)
            items.append(("deployed", self.model.world.writes[a], e))
        return Expectation(tuple(items))

    def _expect_action(self, name: object, s: int | None, at: str, e: int | None = None) -> int:
        m = self.model
        found = [a for a, n in enumerate(m.action_names) if n == name
                 and (s is None or m.action_stage[a] == s) and self._runs(e, a)]
        if not found:
            raise self.fail(at, f"expected an action of the pipeline, got {name!r}")
        if len(found) > 1:
            raise self.fail(at, f"expected {{Stage: {{{name}: status}}}}, {name!r} is an action "
                            "of several stages")
        return found[0]

    def _status(self, value: object, at: str) -> str | None:
        if value not in ACTION_STATUS_VALUES:
            raise self.fail(at, "expected an action status (InProgress, Abandoned, Succeeded, "
                            f"Failed) or null, got {value!r}")
        return value  # type: ignore[return-value]


def _mapping(reader: _StepReader, value: object, place: str) -> list[tuple[Any, Any]]:
    if value is None:
        return []
    if not isinstance(value, dict):
        raise reader.fail(place, "expected a mapping")
    return list(value.items())


# --------------------------------------------------------------------------------------------
# Running


def run_scenario(scenario: Scenario) -> Run:
    """Apply the steps in order.  A refused step leaves the state as it was; the run goes on so
    that every failure is reported, except after a start that was refused unexpectedly (or
    accepted although `error:` said it would be refused): the executions the later steps name
    would not be the ones they mean."""
    m = scenario.model
    state = m.initial()
    results: list[StepResult] = []
    names: list[str] = []
    for step in scenario.steps:
        last = results[-1] if results else None
        if last and last.misnumbers:
            last.failures.append("the later steps are not run: the executions they name would "
                                 "be misnumbered")
            break
        failures: list[str] = []
        refused = None
        misnumbers = False
        if step.operation is not None:
            before = state
            try:
                state = apply(m, state, step.operation)
            except Refused as why:
                refused = why.name
            made = len(state.executions) - len(before.executions)
            if step.new_execution and made:
                names.append(step.new_execution)
            if made and not step.new_execution:
                misnumbers = True
                failures.append(f"the step started a {_kind_of(state.executions[-1])} "
                                "execution: name it with starts: NAME")
            elif step.kind != "start" and step.new_execution and not made and refused is None:
                misnumbers = True
                failures.append(f"expected the step to start {step.new_execution}, but it "
                                "started no execution")
            elif step.kind == "start" and (refused is None) != (step.error is None):
                misnumbers = True
            if step.error and refused != step.error:
                failures.append(f"expected {step.error}, but the service "
                                + (f"answered {refused}" if refused else "accepted it"))
            elif refused and not step.error:
                failures.append(f"refused with {refused} (add `error: {refused}` if that is "
                                "what you expect)")
            for p in scenario.properties:
                if p.step_check is not None and refused is None:
                    why_not = p.step_check(m, before, step.operation, state)
                    if why_not:
                        failures.append(f"property {p.name} violated: {why_not}")
        if step.expectation is not None:
            failures += compare(m, state, step.expectation, scenario.names)
        for p in scenario.properties:
            if p.state_check is not None:
                why_not = p.state_check(m, state)
                if why_not:
                    failures.append(f"property {p.name} violated: {why_not}")
        results.append(StepResult(step, state, refused, failures, misnumbers))
    return Run(scenario, results, names)


def _kind_of(ex: Execution) -> str:
    """How a step that started `ex` without naming it says what started."""
    return "automatic rollback" if ex.trigger == AUTOMATED_ROLLBACK else "manual rollback"


def compare(m: Model, state: State, expectation: Expectation, names: list[str]) -> list[str]:
    """The expectation's items that do not hold, each as `what: expected X, got Y`."""

    def name(e: int) -> str | None:
        return names[e] if e >= 0 else None

    out = []
    for what, key, expected in expectation.items:
        if what == "execution":
            if key >= len(state.executions):
                out.append(f"execution {names[key]}: expected {expected}, it has not started")
                continue
            actual: Any = state.executions[key].status
            label = f"execution {names[key]}"
        elif what == "stage.execution":
            actual, expected = name(state.latest[key]), name(expected)
            label = f"stage {m.stage_names[key]} latest execution"
        elif what == "stage.status":
            e = state.latest[key]
            actual = stage_status(m, state.executions[e], key) if e >= 0 else None
            label = f"stage {m.stage_names[key]} status"
        elif what == "stage.inbound":
            actual = [names[e] for e in state.inbound[key]]
            expected = [names[e] for e in expected]
            label = f"stage {m.stage_names[key]} inbound executions"
        elif what == "stage.listed":
            actual = [f"{names[e]} {state.executions[e].status}"
                      for e in inbound_executions(m, state, key)]
            expected = [f"{names[e]} {status}" for e, status in expected]
            label = f"stage {m.stage_names[key]} inboundExecutions"
        elif what == "stage.transition":
            actual = "disabled" if state.disabled[key] else "enabled"
            label = f"stage {m.stage_names[key]} inbound transition"
        elif what == "stage.autoretry":
            e = state.latest[key]
            metadata = retry_stage_metadata(state.executions[e], key) if e >= 0 else {}
            actual = metadata.get("autoStageRetryAttempt", 0)
            label = f"stage {m.stage_names[key]} autoStageRetryAttempt"
        elif what == "stage.condition":
            field, expected = expected
            e = state.latest[key]
            actual = _condition_status(state.executions[e], key, field) if e >= 0 else None
            label = f"stage {m.stage_names[key]} {field}"
        elif what == "version":
            actual = state.version + 1
            label = "pipelineVersion"
        elif what == "mode":
            actual = pipeline_policy(m, state).name
            label = "executionMode"
        elif what == "deployed":
            assert m.world is not None
            actual, expected = name(state.revisions[key]), name(expected)
            label = f"the revision {m.world.targets[key]} holds"
        else:
            e, a = key
            label = f"action {m.action_names[a]} of {names[e]}"
            if e >= len(state.executions):
                out.append(f"{label}: expected {expected}, {names[e]} has not started")
                continue
            actual = state.executions[e].actions[a]
        if actual != expected:
            out.append(f"{label}: expected {_show(expected)}, got {_show(actual)}")
    return out


CONDITION_KEYS = {"beforeEntryCondition": "beforeEntryConditionState",
                  "onSuccessCondition": "onSuccessConditionState"}
"""Expectation keys for a stage's conditions, and the GetPipelineState fields they read."""
CONDITION_STATUSES = ("InProgress", "Failed", "Cancelled", "Abandoned", None)


def _condition_status(ex: Execution, s: int, field: str) -> str | None:
    """The `latestExecution.status` of the stage condition `field` names, for the execution's
    run of stage s; None when the execution is not at that condition (`checker.view`)."""
    shown = condition_state(ex, s)
    if shown is None or shown[0] != CONDITION_KEYS[field]:
        return None
    return str(shown[1]["latestExecution"]["status"])


def _show(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, list):
        return "[" + ", ".join(value) + "]"
    return str(value)


# --------------------------------------------------------------------------------------------
# Writing (counterexamples become scenario files)


def operation_step(m: Model, op: Operation, names: list[str]) -> dict[str, Any]:
    """The scenario step for `op`, executions named by `names` (e1, e2, ...)."""
    if isinstance(op, StartPipelineExecution):
        raise ValueError("a start step needs the new execution's name")
    if isinstance(op, UpdatePipeline):
        update: dict[str, Any] = {}
        if op.structure is not None:
            update["pipeline"] = pipeline_to_dict((m.structures[op.structure] if m.structures
                                                   else m).pipeline)
        if op.execution_mode is not None:
            update["executionMode"] = op.execution_mode
        return {"update": update}
    if isinstance(op, RollbackStage):
        return {"rollback": {"stage": m.stage_names[op.stage], "target": names[op.target]}}
    if isinstance(op, StopPipelineExecution):
        body: dict[str, Any] = {"execution": names[op.execution]}
        if op.abandon:
            body["abandon"] = True
        return {"stop": body}
    if isinstance(op, ActionsAbandoned):
        return {"abandoned": {"execution": names[op.execution]}}
    if isinstance(op, AbandonedWorkFinishes):
        return {"abandoned-work-finishes": {"execution": names[op.execution],
                                            "action": m.action_names[op.action]}}
    if isinstance(op, RetryStageExecution):
        body = {"execution": names[op.execution], "stage": m.stage_names[op.stage]}
        if op.retry_mode != FAILED_ACTIONS:
            body["mode"] = op.retry_mode
        return {"retry": body}
    if isinstance(op, DisableStageTransition | EnableStageTransition):
        kind = "disable" if isinstance(op, DisableStageTransition) else "enable"
        return {kind: {"stage": m.stage_names[op.stage]}}
    if isinstance(op, ConditionSucceeded | ConditionFailed):
        kind = "condition-succeeds" if isinstance(op, ConditionSucceeded) else "condition-fails"
        return {kind: {"execution": names[op.execution]}}
    if isinstance(op, OverrideStageCondition):
        return {"override": {"execution": names[op.execution], "stage": m.stage_names[op.stage],
                             "condition": op.condition_type}}
    if isinstance(op, PutApprovalResult):
        kind = "approve" if op.status == APPROVED else "reject"
    else:
        kind = {ActionSucceeded: "succeed", ActionFailed: "fail", ApprovalTimedOut: "timeout"}[
            type(op)
        ]
    a = op.action
    body = {"execution": names[op.execution], "action": m.action_names[a]}
    if m.action_names.count(m.action_names[a]) > 1:
        body["stage"] = m.stage_names[m.action_stage[a]]
    return {kind: body}


def full_expectation(m: Model, state: State, names: list[str]) -> dict[str, Any]:
    """An `expect` step that pins everything a user can observe in `state`."""
    execs = {names[e]: ex.status for e, ex in enumerate(state.executions)}
    stages: dict[str, Any] = {}
    for s, stage in enumerate(m.stage_names):
        entry: dict[str, Any] = {}
        if m.policy.has_pipeline_state or state.latest[s] >= 0:
            e = state.latest[s]
            entry["execution"] = names[e] if e >= 0 else None
            entry["status"] = stage_status(m, state.executions[e], s) if e >= 0 else None
            metadata = retry_stage_metadata(state.executions[e], s) if e >= 0 else {}
            if metadata:
                entry["autoStageRetryAttempt"] = metadata["autoStageRetryAttempt"]
            for field in CONDITION_KEYS:
                status = _condition_status(state.executions[e], s, field) if e >= 0 else None
                if status is not None:
                    entry[field] = status
        entry["inbound"] = [names[e] for e in state.inbound[s]]
        listed = inbound_executions(m, state, s)
        if listed != list(state.inbound[s]):
            entry["inboundExecutions"] = {names[e]: state.executions[e].status for e in listed}
        entry["transition"] = "disabled" if state.disabled[s] else "enabled"
        stages[stage] = entry
    actions: dict[str, Any] = {}
    for e, ex in enumerate(state.executions):
        per: dict[str, Any] = {}
        for s, stage in enumerate(m.stage_names):
            inner = {m.action_names[a]: ex.actions[a] for a in m.of(ex).stage_actions[s]}
            if any(v is not None for v in inner.values()):
                per[stage] = inner
        actions[names[e]] = per
    expect: dict[str, Any] = {"executions": execs, "stages": stages, "actions": actions}
    if state.version:
        expect["pipelineVersion"] = state.version + 1
    if state.mode is not None:
        expect["executionMode"] = state.mode
    return {"expect": expect}


def scenario_document(m: Model, ops: list[Operation], description: str,
                      properties: list[str],
                      rules_files: dict[str, str] | None = None) -> dict[str, Any]:
    """A scenario (as a document to dump) that replays `ops` and pins the final state.
    `rules_files` maps the name of each variant loaded from a user's file to that file's path
    as the scenario should refer to it."""
    names: list[str] = []
    steps: list[dict[str, Any]] = []
    state = m.initial()
    for op in ops:
        if isinstance(op, StartPipelineExecution):
            names.append(f"e{len(names) + 1}")
            if op.source_revision < 0:
                steps.append({"start": names[-1]})
            else:
                steps.append({"start": {"name": names[-1], "sourceRevisions": [
                    {"actionName": m.action_names[a], "revisionType": "COMMIT_ID",
                     "revisionValue": names[op.source_revision]}
                    for a in m.stage_actions[0]]}})
        else:
            steps.append(operation_step(m, op, names))
        before, state = state, apply(m, state, op)
        if len(state.executions) > len(before.executions) and steps[-1].get("start") is None:
            names.append(f"e{len(names) + 1}")
            steps[-1]["starts"] = names[-1]
    steps.append(full_expectation(m, state, names))
    doc: dict[str, Any] = {"description": description, "pipeline": pipeline_to_dict(m.pipeline)}
    doc["mode"] = m.policy.name
    files = rules_files or {}
    built_in = [v for v in m.rules.variants if v not in files]
    if built_in:
        doc["variants"] = built_in
    if files:
        doc["rules"] = [files[v] for v in m.rules.variants if v in files]
    if properties:
        doc["properties"] = properties
    doc["steps"] = steps
    return doc
