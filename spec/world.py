"""The world outside CodePipeline's bookkeeping: deploy targets and the revisions they hold.

Each execution carries a source revision; its start order stands for it (execution 0 deploys
revision 0, the oldest).  A deploy action writes its execution's revision to a *target* when it
succeeds, and a test action tests whatever revision its environment's target holds when it runs.
Abandoning an action does not cancel its provider's work: [Seed] "When an action is abandoned in
CodePipeline, the action provider continues any tasks related to the action." -- the work still
finishes later and still writes its revision (the seed's 1 GB S3 example).  Stop and wait has no
such effect: the action completes before the execution stops.

Targets come from the action's configuration (first match wins):

    CloudFormation          StackName (StackSetName for stack sets)
    Amazon S3 deploy        BucketName (+ ObjectKey)
    Amazon ECS              ClusterName + ServiceName
    CodeDeploy              ApplicationName + DeploymentGroupName
    Elastic Beanstalk       ApplicationName + EnvironmentName
    AWS Lambda              FunctionName

Where no known key is present, the action itself is its own target.  Actions that share a target
interfere, whatever stage they are in.

Not modelled: a target's account and region (the same stack name in two accounts is one target
here), interference between different pipelines, and providers that refuse concurrent work
(CloudFormation does not update a stack while another update is in progress, so there a newer
deploy fails rather than being overwritten later).
"""

from __future__ import annotations

from dataclasses import dataclass

from spec.declaration import Action, Pipeline

TARGET_KEYS: tuple[tuple[str, ...], ...] = (
    ("StackName",),
    ("StackSetName",),
    ("BucketName", "ObjectKey"),
    ("BucketName",),
    ("ClusterName", "ServiceName"),
    ("ApplicationName", "DeploymentGroupName"),
    ("ApplicationName", "EnvironmentName"),
    ("FunctionName",),
)
"""Configuration keys that name what a deploy action writes to, most specific first."""

PREPARES_ONLY = {("ActionMode", "CHANGE_SET_REPLACE"), ("ActionMode", "CHANGE_SET_CREATE")}
"""CloudFormation action modes that only prepare a change set: the change set's execution
(CHANGE_SET_EXECUTE) is what changes the stack."""


def target_of(stage: str, action: Action) -> str:
    """The name of what a deploy action writes to, e.g. `StackName=web-prod`."""
    config = dict(action.configuration)
    for keys in TARGET_KEYS:
        if all(k in config for k in keys):
            return ", ".join(f"{k}={config[k]}" for k in keys)
    return f"action {stage}.{action.name}"


def writes(action: Action) -> bool:
    """Whether the action deploys (writes its revision to a target) when it succeeds."""
    if action.category != "Deploy":
        return False
    return not any(pair in PREPARES_ONLY for pair in action.configuration)


@dataclass(frozen=True)
class World:
    """The targets of a pipeline and which action writes or tests which target.

    `writes[a]` / `reads[a]` are target numbers (-1: none) for action number a of the model.
    A test action reads the target of the nearest deploy before it: an earlier runOrder group of
    its stage, or else the last deploy of an earlier stage.
    """

    targets: tuple[str, ...]
    writes: tuple[int, ...]
    reads: tuple[int, ...]


def derive_world(pipeline: Pipeline) -> World:
    targets: list[str] = []
    write: list[int] = []
    read: list[int] = []
    last_deploy = -1  # target of the last deploy seen so far, in stage and runOrder order
    for stage in pipeline.stages:
        by_order = sorted(range(len(stage.actions)), key=lambda i: stage.actions[i].run_order)
        here_write = {}
        here_read = {}
        for group_order in sorted({a.run_order for a in stage.actions}):
            group = [i for i in by_order if stage.actions[i].run_order == group_order]
            for i in group:
                action = stage.actions[i]
                here_read[i] = last_deploy if action.category == "Test" else -1
                here_write[i] = -1
                if writes(action):
                    name = target_of(stage.name, action)
                    if name not in targets:
                        targets.append(name)
                    here_write[i] = targets.index(name)
            for i in group:
                if here_write[i] >= 0:
                    last_deploy = here_write[i]
        for i in range(len(stage.actions)):
            write.append(here_write[i])
            read.append(here_read[i])
    return World(tuple(targets), tuple(write), tuple(read))
