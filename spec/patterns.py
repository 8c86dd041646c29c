"""Property patterns: questions about one pipeline, in the pipeline's own vocabulary.

A pattern is a kind of property with parameters named by the pipeline's stages, actions and
deploy targets (`spec.world`); an *instance* is a pattern with its parameters bound to one
model, a `spec.properties.Property` that either engine checks.  The catalogue follows the
specification patterns model checkers are used with (absence, universality, existence,
precedence, bounded existence, response), over what a pipeline's owner asks about:

    never-older  TARGET          a target never goes back to an older revision than it held
    precedes     FIRST, THEN     a revision reaches THEN (an action or a target) only after
                                 FIRST succeeded for that same revision
    matches      ACTION, TARGET  when ACTION succeeds (or is approved) for a revision, TARGET
                                 holds that same revision
    exclusive    ACTIONS         never two of these actions in progress at once
    never        FACT            no reachable state has FACT
    always       FACT            every reachable state has FACT
    sometimes    FACT            some reachable state has FACT (a witness)
    at-most      N, STATUS       at most N executions end up with STATUS
    eventually   FACT            from every reachable state, a state with FACT can be reached

A *fact* is one thing GetPipelineState or GetPipelineExecution shows, or what a target holds:

    execution status S    some execution's status is S (PipelineExecutionStatus)
    stage X status S      stage X's latestExecution.status is S (StageExecutionStatus)
    action X status S     action X's latestExecution.status is S, as GetPipelineState shows it
                          for the execution that entered its stage last (ActionExecutionStatus)
    target X holds H      H is `nothing` (no deploy has finished on it yet), `older` (it holds
                          an older revision than the newest Succeeded execution's, or nothing
                          although an execution succeeded) or `current` (not older)

Revisions are executions' source revisions, in the order the STANDARD executions started
(`spec.state`); a rollback carries the revision of the execution it rolls back to
(`spec.state.revision_of`), so it is a later execution with an older revision.  What a target
holds is what the model's world tracks: the revision of the last deploy to finish there.  A
rollback's own deployment puts an older revision back on purpose ([UG:stage-rollback] "You can
roll back a stage to an execution that was successful in that stage."), so `never-older` does
not count it; a STANDARD deploy that goes back behind a rollback still counts.  Where the
target's provider refuses or replaces overlapping deployments (`spec.world.PROVIDERS`),
`never-older` asks the provider's own question: whether a deploy of an older revision *starts*
on a target that holds, or is getting, a newer one.

Each instance's `Property.instance` names its check and its numbers, so that the compiled
engine evaluates the same check in its own form (`checker.engine.compiled.checks`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from spec.operations import (
    APPROVED,
    AbandonedWorkFinishes,
    ActionSucceeded,
    Operation,
    PutApprovalResult,
)
from spec.properties import ALL_MODES, LOCKING, Property
from spec.rules import Model, stage_status
from spec.state import (
    ACTION_STATUSES,
    IN_PROGRESS,
    PIPELINE_STATUSES,
    SKIPPED,
    STAGE_STATUSES,
    SUCCEEDED,
    State,
    revision_of,
)
from spec.world import LAST_WRITER_WINS, REPLACES


@dataclass(frozen=True)
class Pattern:
    name: str
    kind: str
    """The kind of property its instances are (`spec.properties`)."""
    params: tuple[str, ...]
    """The parameters it needs, by the names users write."""
    optional: tuple[str, ...]
    meaning: str
    """What an instance says, with the parameters in braces."""
    example: str
    """One instance as a model file writes it."""


PATTERNS: dict[str, Pattern] = {p.name: p for p in (
    Pattern("never-older", "step", ("target",), ("via",),
            "{target} never goes back to an older revision than it held",
            'pattern = "never-older", target = "StackName=web-prod"'),
    Pattern("precedes", "step", ("first", "then"), (),
            "a revision reaches {then} only after {first} succeeded for that same revision",
            'pattern = "precedes", first = "Staging.IntegrationTests", then = "Production.Deploy"'),
    Pattern("matches", "step", ("action", "target"), (),
            "when {action} succeeds or is approved for a revision, {target} holds that revision",
            'pattern = "matches", action = "Production.Approve", target = "StackName=web-staging"'),
    Pattern("exclusive", "invariant", ("actions",), ("abandoned-work",),
            "never two of {actions} in progress at once",
            'pattern = "exclusive", actions = ["Staging.Deploy", "Production.Deploy"]'),
    Pattern("never", "invariant", ("fact",), (),
            "no reachable state has {fact}",
            'pattern = "never", fact = { stage = "Production", status = "Failed" }'),
    Pattern("always", "invariant", ("fact",), (),
            "every reachable state has {fact}",
            'pattern = "always", fact = { target = "StackName=web-prod", holds = "nothing" }'),
    Pattern("sometimes", "witness", ("fact",), (),
            "some reachable state has {fact}",
            'pattern = "sometimes", fact = { execution = "any", status = "Superseded" }'),
    Pattern("at-most", "invariant", ("count", "status"), (),
            "at most {count} executions end up {status}",
            'pattern = "at-most", count = 1, status = "Superseded"'),
    Pattern("eventually", "progress", ("fact",), (),
            "from every reachable state, a state with {fact} can still be reached",
            'pattern = "eventually", fact = { stage = "Production", status = "Succeeded" }'),
)}

VIA = ("any", "deploy", "abandoned-work")
"""How a target may go back, for `never-older`: by any step, by a deploy finishing, or by
abandoned work that finishes after the stop."""
HOLDS = ("nothing", "older", "current")

# Facts, as the compiled engine numbers them: subject + 8 * value + 256 * index.
F_EXECUTION, F_STAGE, F_ACTION, F_TARGET = 1, 2, 3, 4
STAGE_FACT_STATUSES = (*PIPELINE_STATUSES, SKIPPED)
"""A stage fact's value numbers its status here: a pipeline execution status (the stage's is the
execution's while it is in the stage), or Skipped."""
FACT_SUBJECTS = ("execution", "stage", "action", "target")


class PatternError(Exception):
    """A property that does not fit the pattern or the pipeline: `place` is the parameter's name
    (`target`, `fact.stage`, ...), `expected` says what would."""

    def __init__(self, place: str, expected: str) -> None:
        super().__init__(f"{place}: {expected}")
        self.place = place
        self.expected = expected


@dataclass(frozen=True)
class Fact:
    """One fact about a state, as the compiled engine numbers it and as users read it."""

    subject: int
    index: int
    value: int
    text: str

    @property
    def code(self) -> int:
        return self.subject + 8 * self.value + 256 * self.index


@dataclass(frozen=True)
class PropertySpec:
    """A property as a user writes it: a pattern, its parameters, a name and why it matters."""

    pattern: str
    args: Mapping[str, object]
    name: str = ""
    why: str = ""
    place: str = ""
    """Where it was written (`properties[2]`, `[[property]] 3`), for messages."""
    group: str = "this pipeline"
    file: str = ""
    """The file it was written in, for messages."""


def _e(n: int) -> str:
    return f"e{n + 1}"


def _held(n: int) -> str:
    return f"{_e(n)}'s revision" if n >= 0 else "no revision"


# --------------------------------------------------------------------------------------------
# The checks, shared by the hazards (`spec.hazards`) and users' properties


def _by_rollback(st: State, op: Operation) -> bool:
    """Whether the step's deployment, whose success or abandoned work finishing wrote a
    target, is a rollback's."""
    return (isinstance(op, (ActionSucceeded, AbandonedWorkFinishes))
            and st.executions[op.execution].is_rollback)


def backwards(t: int, via: str):  # type: ignore[no-untyped-def]
    """Target t goes back to an older revision, by a step of kind `via` (VIA), other than a
    rollback's own deployment."""
    def check(m: Model, b: State, op: Operation, a: State) -> str | None:
        old, new = b.revisions[t], a.revisions[t]
        if old < 0 or new >= old or _by_rollback(a, op):
            return None
        by_abandon = isinstance(op, AbandonedWorkFinishes)
        if via != "any" and by_abandon != (via == "abandoned-work"):
            return None
        how = "abandoned work of" if by_abandon else "a deployment of"
        assert m.world is not None
        return (f"{m.world.targets[t]} went back from {_e(old)}'s revision to {_e(new)}'s "
                f"when {how} {_e(new)} finished")
    return check


def starts(m: Model, b: State, a: State, t: int) -> list[tuple[int, int]]:
    """(execution, action) of each deploy to target t that the step b -> a started: the action
    is in progress after it and was not before (a stage or a runOrder group began, or a retry
    ran it again)."""
    assert m.world is not None
    writers = [w for w, x in enumerate(m.world.writes) if x == t]
    out = []
    for e, ex in enumerate(a.executions):
        was = b.executions[e] if e < len(b.executions) else None
        if was is ex:
            continue
        for w in writers:
            if ex.actions[w] == IN_PROGRESS and (was is None or was.actions[w] != IN_PROGRESS):
                out.append((e, w))
    return out


def deploying(m: Model, state: State, t: int, but: int) -> list[int]:
    """The executions other than `but` with a deploy to target t in progress."""
    assert m.world is not None
    writers = [w for w, x in enumerate(m.world.writes) if x == t]
    return [f for f, ex in enumerate(state.executions)
            if f != but and any(ex.actions[w] == IN_PROGRESS for w in writers)]


def abandoned_on(m: Model, state: State, t: int) -> list[int]:
    """The executions whose abandoned deploy to target t is still running."""
    assert m.world is not None
    return [e for action, e in state.in_flight if m.world.writes[action] == t]


def starts_older(t: int, replaces: bool):  # type: ignore[no-untyped-def]
    """`never-older` where the provider refuses or replaces overlapping deploys, so that the
    order in which deploys *start* decides: an older revision's deploy starts on a target that
    holds a newer one (and that nothing else is deploying to, or the provider would refuse it),
    or, where the provider replaces the running deployment, while a newer one is running."""
    def check(m: Model, b: State, op: Operation, a: State) -> str | None:
        assert m.world is not None
        target = m.world.targets[t]
        for e, w in starts(m, b, a, t):
            if a.executions[e].is_rollback:
                continue  # it deploys an older revision on purpose
            newer = [f for f in deploying(m, a, t, e) if revision_of(f, a.executions[f]) > e]
            if replaces and newer:
                return (f"{_e(e)}'s {m.action_names[w]} started on {target} while "
                        f"{_e(newer[0])}'s newer deployment was running there; the provider "
                        f"replaces the running deployment, so {target} gets {_e(e)}'s older "
                        f"revision")
            held = a.revisions[t]
            if held > e and (replaces or not deploying(m, a, t, e)
                             and not abandoned_on(m, a, t)):
                return (f"{_e(e)}'s {m.action_names[w]} started on {target}, which holds "
                        f"{_e(held)}'s newer revision: when it finishes, {target} goes back "
                        f"to {_e(e)}'s")
        return None
    return check


def _ran_for(m: Model, op: Operation, action: int) -> int:
    """The execution for which the step made `action` succeed (or approved it), or -1."""
    if isinstance(op, ActionSucceeded) and op.action == action:
        return op.execution
    if isinstance(op, PutApprovalResult) and op.status == APPROVED and op.action == action:
        return op.execution
    return -1


def read_other(action: int, t: int):  # type: ignore[no-untyped-def]
    """`matches`: the action succeeds (or is approved) for one revision while t holds another."""
    def check(m: Model, b: State, op: Operation, a: State) -> str | None:
        e = _ran_for(m, op, action)
        if e < 0:
            return None
        assert m.world is not None
        held = b.revisions[t]
        if held == revision_of(e, b.executions[e]):
            return None
        verb = {"test": "passed", "approval": "was approved"}.get(
            m.world.roles[action].kind if m.world.roles else "", "ran")
        return (f"{m.action_names[action]} {verb} for {_e(e)} while "
                f"{m.world.targets[t]} held {_held(held)}")
    return check


def precedes_action(first: int, then: int):  # type: ignore[no-untyped-def]
    """`precedes` with an action: `then` succeeds for an execution that has not been through
    `first`."""
    def check(m: Model, b: State, op: Operation, a: State) -> str | None:
        e = _ran_for(m, op, then)
        if e < 0 or b.executions[e].actions[first] == SUCCEEDED:
            return None
        return (f"{m.action_names[then]} succeeded for {_e(e)}, which has not been through "
                f"{m.action_names[first]}")
    return check


def precedes_target(first: int, t: int):  # type: ignore[no-untyped-def]
    """`precedes` with a target: t gets the revision of an execution that has not been through
    `first`."""
    def check(m: Model, b: State, op: Operation, a: State) -> str | None:
        e = a.revisions[t]
        if e < 0 or e == b.revisions[t] or a.executions[e].actions[first] == SUCCEEDED:
            return None
        assert m.world is not None
        return (f"{m.world.targets[t]} got {_e(e)}'s revision, which has not been through "
                f"{m.action_names[first]}")
    return check


def exclusive(actions: tuple[int, ...], abandoned_work: bool):  # type: ignore[no-untyped-def]
    """Two of the actions in progress at once (counting abandoned deploys still working)."""
    chosen = set(actions)

    def check(m: Model, st: State) -> str | None:
        running = [f"{_e(e)}'s {m.action_names[x]}" for e, ex in enumerate(st.executions)
                   for x in actions if ex.actions[x] == IN_PROGRESS]
        if abandoned_work:
            running += [f"{_e(e)}'s abandoned {m.action_names[x]}" for x, e in st.in_flight
                        if x in chosen]
        if len(running) < 2:
            return None
        return f"{running[0]} and {running[1]} are in progress at once"
    return check


def fact_check(m: Model, fact: Fact):  # type: ignore[no-untyped-def]
    """Whether a state has the fact: a function of the state (GetPipelineState's view of
    stages and actions)."""
    if fact.subject == F_STAGE:
        s, wanted = fact.index, STAGE_FACT_STATUSES[fact.value]

        def stage(st: State) -> bool:
            e = st.latest[s]
            return e >= 0 and stage_status(m, st.executions[e], s) == wanted
        return stage
    if fact.subject == F_ACTION:
        x, wanted_action = fact.index, ACTION_STATUSES[fact.value]
        s = m.action_stage[x]

        def action(st: State) -> bool:
            e = st.latest[s]
            return e >= 0 and st.executions[e].actions[x] == wanted_action
        return action
    if fact.subject == F_EXECUTION:
        wanted_status = PIPELINE_STATUSES[fact.value]
        return lambda st: any(ex.status == wanted_status for ex in st.executions)
    t = fact.index
    if fact.value == 0:
        return lambda st: st.revisions[t] < 0

    current = fact.value == 2

    def behind(st: State) -> bool:
        newest = max((revision_of(e, ex) for e, ex in enumerate(st.executions)
                      if ex.status == SUCCEEDED), default=-1)
        return (newest >= 0 and st.revisions[t] < newest) != current
    return behind


def at_most(count: int, status: str):  # type: ignore[no-untyped-def]
    def check(m: Model, st: State) -> str | None:
        ended = [_e(e) for e, ex in enumerate(st.executions) if ex.status == status]
        if len(ended) <= count:
            return None
        return f"{len(ended)} executions are {status}: {', '.join(ended)}"
    return check


# --------------------------------------------------------------------------------------------
# Naming things in a pipeline


def action_number(m: Model, ref: object, place: str) -> int:
    """An action by `Stage.Action`, or by its name alone where no other action has it."""
    if not isinstance(ref, str) or not ref:
        raise PatternError(place, f"expected an action as Stage.Action, got {ref!r}")
    stage, dot, name = ref.rpartition(".")
    found = [a for a, n in enumerate(m.action_names)
             if n == name and (not dot or m.stage_names[m.action_stage[a]] == stage)]
    if dot and not found:
        # An action name with a dot in it, named alone.
        found = [a for a, n in enumerate(m.action_names) if n == ref]
    if len(found) == 1:
        return found[0]
    known = ", ".join(f"{m.stage_names[m.action_stage[a]]}.{n}"
                      for a, n in enumerate(m.action_names))
    if found:
        raise PatternError(place, f"expected one action, but {ref!r} names "
                           f"{len(found)}: write Stage.Action")
    raise PatternError(place, f"expected an action of the pipeline ({known}), got {ref!r}")


def stage_number(m: Model, ref: object, place: str) -> int:
    if isinstance(ref, str) and ref in m.stage_names:
        return m.stage_names.index(ref)
    raise PatternError(place, f"expected a stage of the pipeline ({', '.join(m.stage_names)}), "
                       f"got {ref!r}")


def target_number(m: Model, ref: object, place: str) -> int:
    """A deploy target by its name (`StackName=web-prod`), by the value alone (`web-prod`)
    where that is unambiguous, or by the one action that writes it (`Production.Deploy`)."""
    assert m.world is not None
    targets = m.world.targets
    if isinstance(ref, str) and ref:
        if ref in targets:
            return targets.index(ref)
        by_value = [t for t, name in enumerate(targets)
                    if ref in [part.partition("=")[2] for part in name.split(", ")]]
        if len(by_value) == 1:
            return by_value[0]
        try:
            a = action_number(m, ref, place)
        except PatternError:
            a = -1
        if a >= 0 and m.world.writes[a] >= 0:
            return m.world.writes[a]
    known = ", ".join(targets) if targets else "none: no action of it deploys"
    raise PatternError(place, f"expected a deploy target of the pipeline ({known}), got {ref!r}")


def _status(value: object, statuses: tuple[str | None, ...], place: str, what: str) -> int:
    names = [s for s in statuses if s is not None]
    if isinstance(value, str) and value in names:
        return statuses.index(value)
    raise PatternError(place, f"expected {what} ({', '.join(names)}), got {value!r}")


def parse_fact(m: Model, value: object, place: str) -> Fact:
    if not isinstance(value, Mapping):
        raise PatternError(place, "expected a fact: a table with one of execution, stage, "
                           f"action or target, got {value!r}")
    subjects = [k for k in FACT_SUBJECTS if k in value]
    if len(subjects) != 1:
        raise PatternError(place, "expected exactly one of execution, stage, action or target, "
                           f"got {', '.join(map(str, value)) or 'none'}")
    subject = subjects[0]
    wanted = {"target": "holds"}.get(subject, "status")
    extra = [str(k) for k in value if k not in (subject, wanted)]
    if extra:
        raise PatternError(f"{place}.{extra[0]}", f"expected only {subject} and {wanted}")
    if wanted not in value:
        raise PatternError(f"{place}.{wanted}", f"expected {wanted} beside {subject}")
    ref, got = value[subject], value[wanted]
    here = f"{place}.{subject}"
    if subject == "execution":
        if ref != "any":
            raise PatternError(here, f'expected "any", got {ref!r}')
        v = _status(got, PIPELINE_STATUSES, f"{place}.status", "a pipeline execution status")
        return Fact(F_EXECUTION, 0, v, f"an execution {PIPELINE_STATUSES[v]}")
    if subject == "stage":
        s = stage_number(m, ref, here)
        v = STAGE_FACT_STATUSES.index(STAGE_STATUSES[_status(
            got, STAGE_STATUSES, f"{place}.status", "a stage execution status")])
        return Fact(F_STAGE, s, v, f"stage {m.stage_names[s]} {STAGE_FACT_STATUSES[v]}")
    if subject == "action":
        a = action_number(m, ref, here)
        v = _status(got, ACTION_STATUSES, f"{place}.status", "an action execution status")
        return Fact(F_ACTION, a, v, f"action {m.action_names[a]} {ACTION_STATUSES[v]}")
    t = target_number(m, ref, here)
    if got not in HOLDS:
        raise PatternError(f"{place}.holds", f"expected {' or '.join(HOLDS)}, got {got!r}")
    assert m.world is not None
    holds = {"nothing": "holding nothing",
             "older": "holding an older revision than the newest Succeeded execution's",
             "current": "holding the newest Succeeded execution's revision or a newer one"}[
                 str(got)]
    return Fact(F_TARGET, t, HOLDS.index(str(got)), f"{m.world.targets[t]} {holds}")


# --------------------------------------------------------------------------------------------
# Instances


def instance(m: Model, spec: PropertySpec) -> Property:
    """The property that `spec` asks of the model's pipeline; PatternError where it does not
    fit the pattern or the pipeline."""
    pattern = PATTERNS.get(spec.pattern)
    if pattern is None:
        raise PatternError("pattern", f"expected one of {', '.join(PATTERNS)}, "
                           f"got {spec.pattern!r}")
    for key in spec.args:
        if key not in pattern.params + pattern.optional:
            allowed = ", ".join(pattern.params + pattern.optional)
            raise PatternError(str(key), f"expected only the parameters of {pattern.name} "
                               f"({allowed})")
    for key in pattern.params:
        if key not in spec.args:
            raise PatternError(key, f"expected {key}, a parameter of {pattern.name}")
    needs_world = pattern.name in ("never-older", "matches") or (
        pattern.name == "precedes" and not _is_action(m, spec.args["then"]))
    if needs_world and m.world is None:
        raise PatternError(pattern.name, "expected a model with its deploy targets")
    args = spec.args
    state_check = step_check = None
    text: dict[str, str] = {}
    code: tuple[object, ...]
    if pattern.name == "never-older":
        assert m.world is not None
        t = target_number(m, args["target"], "target")
        via = args.get("via", "any")
        if via not in VIA:
            raise PatternError("via", f"expected {', '.join(VIA)}, got {via!r}")
        overlap = m.world.overlap[t] if m.world.overlap else LAST_WRITER_WINS
        text["target"] = m.world.targets[t]
        if overlap == LAST_WRITER_WINS:
            step_check, code = backwards(t, str(via)), ("backwards", t, VIA.index(str(via)))
        elif via == "abandoned-work":
            raise PatternError("via", f"expected deploy or any: {m.world.targets[t]}'s provider "
                               "refuses or replaces overlapping work, so abandoned work never "
                               "lands after a newer deploy there")
        else:
            replaces = overlap == REPLACES
            step_check, code = starts_older(t, replaces), ("starts-older", t, int(replaces))
    elif pattern.name == "precedes":
        first = action_number(m, args["first"], "first")
        text["first"] = m.action_names[first]
        if _is_action(m, args["then"]):
            then = action_number(m, args["then"], "then")
            if then == first:
                raise PatternError("then", "expected another action than first")
            text["then"] = m.action_names[then]
            step_check, code = precedes_action(first, then), ("precedes-action", first, then)
        else:
            assert m.world is not None
            t = target_number(m, args["then"], "then")
            text["then"] = m.world.targets[t]
            step_check, code = precedes_target(first, t), ("precedes-target", first, t)
    elif pattern.name == "matches":
        assert m.world is not None
        a = action_number(m, args["action"], "action")
        t = target_number(m, args["target"], "target")
        text.update(action=m.action_names[a], target=m.world.targets[t])
        step_check, code = read_other(a, t), ("read-other", a, t)
    elif pattern.name == "exclusive":
        names = args["actions"]
        if not isinstance(names, list | tuple) or len(names) < 1:
            raise PatternError("actions", f"expected a list of actions, got {names!r}")
        acts = tuple(action_number(m, x, f"actions[{i + 1}]") for i, x in enumerate(names))
        if len(set(acts)) != len(acts):
            raise PatternError("actions", "expected each action once")
        flag = args.get("abandoned-work", True)
        if not isinstance(flag, bool):
            raise PatternError("abandoned-work", f"expected true or false, got {flag!r}")
        text["actions"] = ", ".join(m.action_names[a] for a in acts)
        state_check, code = exclusive(acts, flag), ("exclusive", int(flag), *acts)
    elif pattern.name == "at-most":
        count = args["count"]
        if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= 255:
            raise PatternError("count", f"expected an integer from 0 to 255, got {count!r}")
        v = _status(args["status"], PIPELINE_STATUSES, "status", "a pipeline execution status")
        text.update(count=str(count), status=PIPELINE_STATUSES[v])
        state_check, code = at_most(count, PIPELINE_STATUSES[v]), ("at-most", count, v)
    else:
        fact = parse_fact(m, args["fact"], "fact")
        text["fact"] = fact.text
        holds = fact_check(m, fact)
        code = (pattern.name, fact.code)
        if pattern.name == "never":
            state_check = _when(holds, fact.text, True)
        elif pattern.name == "always":
            state_check = _when(holds, fact.text, False)
        elif pattern.name == "sometimes":
            state_check = _when(holds, fact.text, True)
    meaning = pattern.meaning.format(**text)
    name = spec.name or f"{pattern.name}:{'/'.join(text.values())}"
    goal = fact_check(m, parse_fact(m, args["fact"], "fact")) if pattern.kind == "progress" \
        else None
    # "Parallel mode does not have a pipeline state." [UG execution-modes]: no stage or action
    # of GetPipelineState to ask about.
    modes: tuple[str, ...] = ALL_MODES
    if "fact" in args and parse_fact(m, args["fact"], "fact").subject in (F_STAGE, F_ACTION):
        modes = LOCKING
    return Property(name, pattern.kind, meaning, spec.why or meaning, modes,
                    state_check=state_check, step_check=step_check, instance=code,
                    goal=goal, goal_text=text.get("fact", ""), group=spec.group)


def _is_action(m: Model, ref: object) -> bool:
    try:
        action_number(m, ref, "")
    except PatternError:
        return False
    return True


def _when(holds, text: str, present: bool):  # type: ignore[no-untyped-def]
    def check(m: Model, st: State) -> str | None:
        if holds(st) == present:
            return text if present else f"not {text}"
        return None
    return check
