"""The world outside CodePipeline's bookkeeping: what actions write and read, and what each deploy
provider does with work that overlaps.

Each execution carries a source revision; its start order stands for it (execution 0 deploys
revision 0, the oldest).  An action that *writes* a target puts its execution's revision there
when it succeeds (a deploy: a stack, a bucket, a service).  An action that *reads* a target
depends on what the target holds when it runs: a test tests the environment it is pointed at, an
approver looks at the environment before approving, a change set execution executes the change
set that is there, a build reads which side of a blue/green pair is live.

Abandoning an action does not cancel its provider's work: [Seed] "When an action is abandoned in
CodePipeline, the action provider continues any tasks related to the action." -- the work still
finishes later and still writes its revision (the seed's 1 GB S3 example).  Stop and wait has no
such effect: the action completes before the execution stops.  What that abandoned work does to
a newer deploy depends on the provider (`PROVIDERS`): it overwrites it later (last writer wins),
it makes the newer deploy fail (the provider refuses while busy), or the newer deploy replaces it.

Where the declaration says enough, writes and reads are derived from it (`derive_world`): the
category, the provider, its configuration keys and the CloudFormation action mode.  The user says
the rest in the file (`Declared`: an action's role, what it writes, what it reads); a guess from
names (a CodeBuild action named like a test, in a stage after a deploy) is marked *inferred*.

Not modelled: a target's account and region (the same stack name in two accounts is one target
here), interference between different pipelines, and what the providers do instead (the model
lets a newer deploy to a busy CloudFormation stack succeed and lets abandoned ECS work finish;
the hazards in `spec.hazards` say what the provider would really do).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from spec.declaration import Action, Pipeline

LAST_WRITER_WINS = "last writer wins"
"""Two deploys to the target both run; whichever finishes last is what the target holds."""
REFUSES_WHILE_BUSY = "refuses while busy"
"""The provider does not start a deploy while an earlier one on the target is in progress: the
later deploy fails."""
REPLACES = "replaces the running deployment"
"""A new deploy takes over from the one in progress, which never completes."""


@dataclass(frozen=True)
class Provider:
    """What one deploy provider writes to, and what it does with overlapping work."""

    name: str
    """`actionTypeId.provider`."""
    keys: tuple[tuple[str, ...], ...]
    """Configuration keys that name its target, most specific first."""
    overlap: str
    """LAST_WRITER_WINS, REFUSES_WHILE_BUSY or REPLACES."""
    source: str
    """Where the behaviour is documented."""


PROVIDERS: dict[str, Provider] = {p.name: p for p in (
    Provider("S3", (("BucketName", "ObjectKey"), ("BucketName",)), LAST_WRITER_WINS,
             '[Seed] "Amazon S3 does not encounter any instruction to cancel the upload. ... When '
             'the old deployment completes, the new file is overwritten by the old file."'),
    Provider("CloudFormation", (("StackName",),), REFUSES_WHILE_BUSY,
             '[Seed] "the deployment action in the pipeline is abandoned, but the stack update '
             'might continue and result in a failed update"; CloudFormation UpdateStack does not '
             'update a stack whose status is UPDATE_IN_PROGRESS.'),
    Provider("CloudFormationStackSet", (("StackSetName",),), REFUSES_WHILE_BUSY,
             "CloudFormation UpdateStackSet: OperationInProgressException, \"Another operation "
             "is currently in progress for this stack set.\""),
    Provider("CloudFormationStackInstances", (("StackSetName",),), REFUSES_WHILE_BUSY,
             "CloudFormation CreateStackInstances: OperationInProgressException, as for stack "
             "sets."),
    Provider("CodeDeploy", (("ApplicationName", "DeploymentGroupName"),), REFUSES_WHILE_BUSY,
             "CodeDeploy runs one deployment at a time per deployment group: CreateDeployment "
             "fails while another deployment of the group is in progress "
             "(DeploymentAlreadyStartedException for a target that is being deployed to)."),
    Provider("CodeDeployToECS", (("ApplicationName", "DeploymentGroupName"),),
             REFUSES_WHILE_BUSY,
             "CodeDeploy blue/green for ECS: one deployment at a time per deployment group."),
    Provider("ECS", (("ClusterName", "ServiceName"),), REPLACES,
             "Amazon ECS UpdateService: a new deployment becomes the service's primary "
             "deployment and the earlier one is drained and stopped."),
    Provider("ElasticBeanstalk", (("ApplicationName", "EnvironmentName"),), REFUSES_WHILE_BUSY,
             "Elastic Beanstalk UpdateEnvironment only updates an environment whose status is "
             "Ready."),
    Provider("Lambda", (("FunctionName",),), REFUSES_WHILE_BUSY,
             "AWS Lambda UpdateFunctionCode: ResourceConflictException while an update of the "
             "function is in progress."),
    Provider("EKS", (("ClusterName", "Namespace"), ("ClusterName",)), LAST_WRITER_WINS,
             "The EKS deploy action applies manifests or a Helm chart; Kubernetes applies "
             "whichever arrives last."),
)}
"""Deploy providers by `actionTypeId.provider`.  A deploy run from a CodeBuild project or a
custom action (`kubectl`, `terraform apply`, `aws s3 sync`) is last writer wins: CodePipeline
abandoning the action does not stop the build."""

BUILD_OR_CUSTOM = Provider(
    "", (), LAST_WRITER_WINS,
    "[Seed] \"When an action is abandoned in CodePipeline, the action provider continues any "
    "tasks related to the action.\"  A build that deploys keeps running when abandoned.")

CHANGE_SET_MODES = ("CHANGE_SET_REPLACE", "CHANGE_SET_CREATE")
"""CloudFormation action modes that (re)create a change set: they write the change set, not the
stack.  (CHANGE_SET_CREATE is not a mode CodePipeline lists; it is read like REPLACE.)"""
CHANGE_SET_EXECUTE = "CHANGE_SET_EXECUTE"
"""Executes the change set that is there: reads the change set, writes the stack."""
DELETE_ONLY = "DELETE_ONLY"
"""Deletes the stack: no revision is put there, so no revision can come back."""
STACK_WRITING_MODES = ("CREATE_UPDATE", "REPLACE_ON_FAILURE")
"""Create or update the stack (REPLACE_ON_FAILURE deletes and recreates a failed one first)."""

TEST_WORDS = re.compile(r"(?i)test|integ|e2e|smoke|acceptance|verif|validat|canary")
DEPLOY_WORDS = re.compile(r"(?i)deploy|release|rollout|kubectl|helm|publish|promot")
"""How an action's name (or its CodeBuild project's) is read when the category says nothing:
a guess, always reported as inferred."""

CHECKED_CONFIGURATION = frozenset(
    {key for p in PROVIDERS.values() for group in p.keys for key in group}
    | {"ActionMode", "ChangeSetName"})
"""The configuration keys the world is derived from (other than the CodeBuild project, which only
feeds a guess): a reader notes a value of one of these that it could not read exactly, because
it changes what is checked."""

ROLES = ("deploy", "test", "approval", "none")
"""What `Declared.role` may say."""


@dataclass(frozen=True)
class Declared:
    """What the user says about one action (the `stagelock: actions:` metadata)."""

    role: str | None = None
    """"deploy" (it writes `writes`, or itself), "test" (it reads the nearest deploy before it,
    or `reads`), "approval", "none" (it neither writes nor reads), None: as derived."""
    writes: str | None = None
    reads: tuple[str, ...] = ()
    overlap: str | None = None
    """For a target it writes: one of LAST_WRITER_WINS, REFUSES_WHILE_BUSY, REPLACES."""


@dataclass(frozen=True)
class Role:
    """What one action does to the world, and how that was recognised."""

    kind: str
    """"deploy", "test", "approval", "reader" (reads without being a test or approval), "" for
    an action that does neither."""
    writes: int
    reads: tuple[int, ...]
    how: str
    """How it was recognised, for `lint --explain`: "category Deploy, provider CloudFormation,
    StackName", "annotation", "inferred from the name ..."."""
    inferred: bool = False


@dataclass(frozen=True)
class World:
    """The targets of a pipeline and which action writes or reads which target.

    `writes[a]` is a target number (-1: none) and `reads[a]` the target numbers that action
    number a of the model reads; `overlap[t]` is what target t's provider does with overlapping
    work; `roles[a]` says how each was recognised.
    """

    targets: tuple[str, ...]
    writes: tuple[int, ...]
    reads: tuple[tuple[int, ...], ...]
    overlap: tuple[str, ...] = ()
    roles: tuple[Role, ...] = ()


def target_keys(action: Action) -> tuple[str, ...]:
    """The configuration keys that name what a deploy action writes to (none: the action is its
    own target)."""
    config = dict(action.configuration)
    provider = PROVIDERS.get(action.provider)
    keys = provider.keys if provider else tuple(k for p in PROVIDERS.values() for k in p.keys)
    return next((group for group in keys if all(k in config for k in group)), ())


def target_of(stage: str, action: Action) -> str:
    """The name of what a deploy action writes to, e.g. `StackName=web-prod`."""
    config = dict(action.configuration)
    keys = target_keys(action)
    if keys:
        return ", ".join(f"{k}={config[k]}" for k in keys)
    return f"action {stage}.{action.name}"


def _change_set(action: Action) -> str | None:
    config = dict(action.configuration)
    if "StackName" not in config:
        return None
    return f"StackName={config['StackName']}, ChangeSetName={config.get('ChangeSetName', '')}"


def writes(action: Action) -> bool:
    """Whether the action deploys a revision to a target when it succeeds (from its declaration
    alone, without annotations or inference)."""
    return _derived_write(action) is not None


def _derived_write(action: Action) -> tuple[str, str] | None:
    """(what it writes: "stack", "change set" or "target"; how it was recognised), or None."""
    if action.category != "Deploy":
        return None
    mode = dict(action.configuration).get("ActionMode", "")
    if action.provider == "CloudFormation":
        if mode == DELETE_ONLY:
            return None
        if mode in CHANGE_SET_MODES:
            return "change set", f"CloudFormation ActionMode {mode} writes the change set"
        if mode == CHANGE_SET_EXECUTE:
            return "stack", f"CloudFormation ActionMode {mode} executes the change set"
    provider = PROVIDERS.get(action.provider)
    what = f"category Deploy, provider {action.provider or '(none)'}"
    if provider is None:
        return "target", what
    return "target", f"{what} ({provider.overlap})"


def _behaviour(action: Action, what: str) -> str:
    if what == "change set":
        # CHANGE_SET_REPLACE deletes the change set of that name and creates it again.
        return REPLACES
    return PROVIDERS.get(action.provider, BUILD_OR_CUSTOM).overlap


def _inferred_name(action: Action) -> str:
    """What a guess from names looks at: the action's name and its CodeBuild project's."""
    config = dict(action.configuration)
    return " ".join(x for x in (action.name, config.get("ProjectName", "")) if x)


def _named(action: Action) -> str:
    project = dict(action.configuration).get("ProjectName")
    return f"{action.name} (project {project})" if project else action.name


def derive_world(pipeline: Pipeline,
                 declared: Mapping[tuple[str, str], Declared] | None = None) -> World:
    """What each action of `pipeline` writes and reads.  `declared` is what the user says about
    actions, by (stage name, action name); it wins over what is derived.

    Derived: a Deploy action writes its target (`target_of`; a CloudFormation change set for the
    change set modes; nothing for DELETE_ONLY); a CHANGE_SET_EXECUTE reads its change set.  A
    Test action and an approval read the target of the nearest write before them: an earlier
    runOrder group of their stage, or else the last write of an earlier stage.  Inferred: a
    Build, Test or Invoke action named like a deploy writes itself (a deploy run from a build);
    a Build action named like a test reads the nearest write before it, when there is one.
    """
    declared = declared or {}
    targets: list[str] = []
    overlap: list[str] = []
    roles: dict[tuple[int, int], Role] = {}

    def number(name: str, behaviour: str) -> int:
        if name not in targets:
            targets.append(name)
            overlap.append(behaviour)
        return targets.index(name)

    last_write = -1  # the last target written so far, in stage and runOrder order
    for s, stage in enumerate(pipeline.stages):
        for group_order in sorted({a.run_order for a in stage.actions}):
            group = [i for i, a in enumerate(stage.actions) if a.run_order == group_order]
            written = []
            for i in group:
                action = stage.actions[i]
                role = _role(stage.name, action, declared.get((stage.name, action.name)),
                             last_write, number)
                roles[(s, i)] = role
                if role.writes >= 0:
                    written.append(role.writes)
            if written:
                last_write = written[-1]
    ordered = [roles[(s, i)] for s, stage in enumerate(pipeline.stages)
               for i in range(len(stage.actions))]
    return World(tuple(targets), tuple(r.writes for r in ordered),
                 tuple(r.reads for r in ordered), tuple(overlap), tuple(ordered))


def _role(stage: str, action: Action, said: Declared | None, last_write: int,
          number) -> Role:  # type: ignore[no-untyped-def]
    derived = _derived_write(action)
    behaviour = None if said is None else said.overlap
    if said is not None and (said.role is not None or said.writes or said.reads):
        kind = said.role or ("deploy" if said.writes else "reader")
        write = -1
        if said.writes or kind == "deploy":
            name = said.writes or (target_of(stage, action) if derived else
                                   f"action {stage}.{action.name}")
            write = number(name, behaviour or _behaviour(action, derived[0] if derived
                                                         else "target"))
        reads: tuple[int, ...] = ()
        if said.reads:
            reads = tuple(number(t, LAST_WRITER_WINS) for t in said.reads)
        elif kind in ("test", "approval") and last_write >= 0:
            reads = (last_write,)
        if kind == "none":
            write, reads = -1, ()
        said_what = ", ".join(x for x in (
            f"role {said.role}" if said.role else "", f"writes {said.writes}" if said.writes
            else "", f"reads {', '.join(said.reads)}" if said.reads else "") if x)
        return Role("" if kind == "none" else kind, write, reads, f"annotation: {said_what}")
    if derived is not None:
        what, how = derived
        if what == "change set":
            name = _change_set(action) or target_of(stage, action)
        else:
            name = target_of(stage, action)
        reads = ()
        if action.provider == "CloudFormation" and \
                dict(action.configuration).get("ActionMode") == CHANGE_SET_EXECUTE:
            change_set = _change_set(action)
            if change_set is not None:
                reads = (number(change_set, LAST_WRITER_WINS),)
        key = _key_of(action, what)
        how += f", {key}" if key else ""
        if behaviour is not None:
            how += f"; annotation: overlap {behaviour}"
        return Role("deploy", number(name, behaviour or _behaviour(action, what)), reads, how)
    if action.category == "Deploy":  # DELETE_ONLY
        return Role("", -1, (), "CloudFormation ActionMode DELETE_ONLY deletes the stack: no "
                    "revision is written")
    if action.category in ("Test", "Approval"):
        kind = "test" if action.category == "Test" else "approval"
        if last_write < 0:
            return Role(kind, -1, (), f"category {action.category}; no deploy before it")
        return Role(kind, -1, (last_write,),
                    f"category {action.category}: reads the nearest deploy before it")
    if action.category in ("Build", "Test", "Invoke"):
        name = _inferred_name(action)
        if DEPLOY_WORDS.search(name):
            return Role("deploy", number(f"action {stage}.{action.name}", LAST_WRITER_WINS), (),
                        f"from the name {_named(action)}: a deploy run from "
                        f"{action.provider or 'a ' + action.category + ' action'}",
                        inferred=True)
        if action.category == "Build" and TEST_WORDS.search(name) and last_write >= 0:
            return Role("test", -1, (last_write,),
                        f"from the name {_named(action)}: a test of the nearest deploy before "
                        f"it", inferred=True)
    return Role("", -1, (), f"category {action.category}")


def _key_of(action: Action, what: str) -> str:
    """How `--explain` says which keys named a known provider's target."""
    provider = PROVIDERS.get(action.provider)
    keys = target_keys(action) if provider else ()
    if keys:
        return " + ".join(keys)
    if what == "target" and provider is not None:
        return f"no {' or '.join(' + '.join(g) for g in provider.keys)}: the action itself"
    return ""
