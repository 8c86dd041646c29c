"""The world of deploy targets (`spec.world`) and the hazards over it (`spec.hazards`).

What each provider writes, reads and does with overlapping work is derived from the declaration
and pinned here; every hazard rule is shown both found (with its shortest trace's length
pinned) and ruled out on a pipeline that differs in the one thing the rule is about, on both
engines.
"""

from __future__ import annotations

import pytest

from checker.engine import Bounds, explore
from spec.declaration import Action, Pipeline, Stage
from spec.hazards import RULES, Hazard, hazards_for
from spec.operations import ActionSucceeded
from spec.rules import build_model
from spec.world import (
    LAST_WRITER_WINS,
    PROVIDERS,
    REFUSES_WHILE_BUSY,
    REPLACES,
    Declared,
    derive_world,
)

SOURCE = Stage("Source", (Action("Code", "Source", provider="CodeStarSourceConnection"),))


def deploy(name: str, provider: str, run_order: int = 1, **config: str) -> Action:
    return Action(name, "Deploy", run_order, provider, tuple(sorted(config.items())))


def pipeline(*stages: Stage, mode: str = "SUPERSEDED") -> Pipeline:
    return Pipeline("p", (SOURCE, *stages), mode, "V2")


def stage(name: str, *actions: Action) -> Stage:
    return Stage(name, actions)


STACK = {"StackName": "web-prod", "ActionMode": "CREATE_UPDATE"}


@pytest.mark.parametrize(("provider", "config", "target", "overlap"), [
    ("S3", {"BucketName": "www", "Extract": "true"}, "BucketName=www", LAST_WRITER_WINS),
    ("S3", {"BucketName": "www", "ObjectKey": "app.zip"}, "BucketName=www, ObjectKey=app.zip",
     LAST_WRITER_WINS),
    ("CloudFormation", STACK, "StackName=web-prod", REFUSES_WHILE_BUSY),
    ("CloudFormation", {"StackName": "web-prod", "ActionMode": "REPLACE_ON_FAILURE"},
     "StackName=web-prod", REFUSES_WHILE_BUSY),
    ("CloudFormation", {"StackName": "web-prod", "ActionMode": "CHANGE_SET_REPLACE",
                        "ChangeSetName": "release"},
     "StackName=web-prod, ChangeSetName=release", REPLACES),
    ("CloudFormationStackSet", {"StackSetName": "guardrails"}, "StackSetName=guardrails",
     REFUSES_WHILE_BUSY),
    ("CodeDeploy", {"ApplicationName": "api", "DeploymentGroupName": "prod"},
     "ApplicationName=api, DeploymentGroupName=prod", REFUSES_WHILE_BUSY),
    ("CodeDeployToECS", {"ApplicationName": "api", "DeploymentGroupName": "prod"},
     "ApplicationName=api, DeploymentGroupName=prod", REFUSES_WHILE_BUSY),
    ("ECS", {"ClusterName": "prod", "ServiceName": "api", "FileName": "imagedefinitions.json"},
     "ClusterName=prod, ServiceName=api", REPLACES),
    ("ElasticBeanstalk", {"ApplicationName": "api", "EnvironmentName": "api-prod"},
     "ApplicationName=api, EnvironmentName=api-prod", REFUSES_WHILE_BUSY),
    ("Lambda", {"FunctionName": "resize"}, "FunctionName=resize", REFUSES_WHILE_BUSY),
    ("AppConfigLike", {}, "action Deploy.D", LAST_WRITER_WINS),
])
def test_each_provider_writes_its_target_with_its_overlap(provider, config, target, overlap):
    world = derive_world(pipeline(stage("Deploy", deploy("D", provider, **config))))
    assert world.targets == (target,)
    assert world.overlap == (overlap,)
    assert world.writes == (-1, 0)
    assert world.roles[1].kind == "deploy" and not world.roles[1].inferred


def test_every_provider_cites_where_its_behaviour_is_documented():
    for provider in PROVIDERS.values():
        assert provider.overlap in (LAST_WRITER_WINS, REFUSES_WHILE_BUSY, REPLACES)
        assert len(provider.source) > 40, provider.name


def test_delete_only_writes_nothing_and_change_set_execute_reads_its_change_set():
    p = pipeline(stage("Prod",
                       deploy("Prepare", "CloudFormation", 1, StackName="web",
                              ActionMode="CHANGE_SET_REPLACE", ChangeSetName="cs"),
                       deploy("Execute", "CloudFormation", 2, StackName="web",
                              ActionMode="CHANGE_SET_EXECUTE", ChangeSetName="cs")),
                 stage("Teardown", deploy("Remove", "CloudFormation", StackName="web-preview",
                                          ActionMode="DELETE_ONLY")))
    world = derive_world(p)
    assert world.targets == ("StackName=web, ChangeSetName=cs", "StackName=web")
    assert world.writes == (-1, 0, 1, -1)
    assert world.reads[2] == (0,)
    assert "DELETE_ONLY" in world.roles[3].how


def test_tests_and_approvals_read_the_nearest_deploy_before_them():
    p = pipeline(stage("Staging", deploy("Up", "CloudFormation", **STACK)),
                 stage("Verify", Action("Tests", "Test", provider="CodeBuild"),
                       Action("Approve", "Approval", 2, "Manual")))
    world = derive_world(p)
    assert world.reads == ((), (), (0,), (0,))
    assert [r.kind for r in world.roles] == ["", "deploy", "test", "approval"]


def test_a_build_named_like_a_test_after_a_deploy_is_an_inferred_test():
    p = pipeline(stage("Unit", Action("UnitTests", "Build", provider="CodeBuild")),
                 stage("Staging", deploy("Up", "CloudFormation", **STACK)),
                 stage("Verify", Action("Run", "Build", provider="CodeBuild",
                                        configuration=(("ProjectName", "api-e2e"),))))
    world = derive_world(p)
    assert world.reads == ((), (), (), (0,))  # the unit tests come before any deploy
    assert world.roles[3].inferred and "api-e2e" in world.roles[3].how


def test_a_build_named_like_a_deploy_is_an_inferred_deploy_of_itself():
    p = pipeline(stage("Prod", Action("KubectlApply", "Build", provider="CodeBuild")))
    world = derive_world(p)
    assert world.targets == ("action Prod.KubectlApply",)
    assert world.overlap == (LAST_WRITER_WINS,)
    assert world.roles[1].inferred


def test_what_the_user_declares_wins_over_what_is_derived():
    p = pipeline(stage("Prod", Action("Apply", "Build", provider="CodeBuild")),
                 stage("Check", Action("UnitTests", "Build", provider="CodeBuild")))
    declared = {("Prod", "Apply"): Declared("deploy", "eks/prod"),
                ("Check", "UnitTests"): Declared("none")}
    world = derive_world(p, declared)
    assert world.targets == ("eks/prod",)
    assert world.writes == (-1, 0, -1) and world.reads == ((), (), ())
    assert world.roles[1].how == "annotation: role deploy, writes eks/prod"


def test_the_user_can_say_what_a_provider_does_with_overlapping_deploys():
    """What the user declares about a target's provider wins, and the hazards follow it: a
    stack declared last-writer-wins gets the late overwrite instead of the refused deploy."""
    p = pipeline(stage("Deploy", deploy("Up", "CloudFormation", **STACK)))
    world = derive_world(p, {("Deploy", "Up"): Declared(overlap=LAST_WRITER_WINS)})
    assert world.overlap == (LAST_WRITER_WINS,)
    assert world.roles[1].how.endswith("; annotation: overlap last writer wins")
    m = build_model(p, world=world)
    assert {h.rule.id for h in hazards_for(m)} == {"SL101", "SL102", "SL301"}


# --------------------------------------------------------------------------------------------
# Each hazard found and ruled out, on both engines

def _search(p: Pipeline, rule: str, declared=None, stops: int = 0,  # type: ignore[no-untyped-def]
            engine: str = "compiled") -> tuple[list[Hazard], dict[str, int]]:
    m = build_model(p, world=derive_world(p, declared))
    chosen = [h for h in hazards_for(m) if h.rule.id == rule]
    ex = explore(m, Bounds(executions=2, stops=stops, retries=0, toggles=0, failures=False),
                 [h.property for h in chosen], engine=engine)
    return chosen, {name: len(ex.trace(f)) for name, f in ex.violations.items()}


CASES = [
    # rule, a pipeline where it happens (its shortest trace's length), one where it cannot:
    # for SL101 and SL103 because the provider does not allow it (so the rule is not applied),
    # for the others because the stage lock or the mode keeps it from happening (so the rule
    # is applied and the search rules it out); what the user declares
    ("SL101",
     pipeline(stage("Publish", deploy("Copy", "S3", BucketName="www"))), 8,
     pipeline(stage("Publish", deploy("Copy", "CloudFormation", **STACK))), None),
    ("SL102",
     pipeline(stage("Deploy", deploy("Up", "S3", BucketName="www")), mode="PARALLEL"), 6,
     pipeline(stage("Deploy", deploy("Up", "S3", BucketName="www")), mode="QUEUED"), None),
    # CloudFormation refuses overlapping updates: out of order only when the older update
    # starts after the newer one finished (two stages apart: next door, the older update is
    # already running when the newer one starts, and is refused, SL104)
    ("SL102",
     pipeline(stage("A", deploy("Up", "CloudFormation", **STACK)),
              stage("Mid", Action("Package", "Build", provider="CodeBuild")),
              stage("B", deploy("Again", "CloudFormation", **STACK))), 7,
     pipeline(stage("A", deploy("Up", "CloudFormation", **STACK)),
              stage("B", deploy("Again", "CloudFormation", **STACK))), None),
    # ECS replaces the running deployment: an older one started later wins
    ("SL102",
     pipeline(stage("A", deploy("Up", "ECS", ClusterName="c", ServiceName="s")),
              mode="PARALLEL"), 4,
     pipeline(stage("A", deploy("Up", "ECS", ClusterName="c", ServiceName="s")),
              mode="QUEUED"), None),
    ("SL104",
     pipeline(stage("Deploy", deploy("Up", "CloudFormation", **STACK)), mode="PARALLEL"), 4,
     pipeline(stage("Deploy", deploy("Up", "CloudFormation", **STACK))), None),
    ("SL103",
     pipeline(stage("Deploy", deploy("Up", "CloudFormation", **STACK))), 6,
     pipeline(stage("Deploy", deploy("Up", "ECS", ClusterName="c", ServiceName="s"))), None),
    ("SL201",
     pipeline(stage("Staging", deploy("Up", "CloudFormation", **STACK)),
              stage("Verify", Action("Tests", "Test", provider="CodeBuild"))), 7,
     pipeline(stage("Staging", deploy("Up", "CloudFormation", **STACK),
                    Action("Tests", "Test", 2, "CodeBuild"))), None),
    ("SL202",
     pipeline(stage("Build", Action("Bundle", "Build", provider="CodeBuild")),
              stage("Deploy", deploy("Fleet", "CodeDeploy", ApplicationName="a",
                                     DeploymentGroupName="g"))), 7,
     pipeline(stage("Build", Action("Bundle", "Build", provider="CodeBuild"),
                    deploy("Fleet", "CodeDeploy", 2, ApplicationName="a",
                           DeploymentGroupName="g"))),
     {"Bundle": Declared(writes="s3://b/app.zip"), "Fleet": Declared(reads=("s3://b/app.zip",))}),
    ("SL203",
     pipeline(stage("Prepare", Action("Resolve", "Build", provider="CodeBuild")),
              stage("Release", Action("Swap", "Build", provider="CodeBuild"))), 7,
     pipeline(stage("Release", Action("Resolve", "Build", provider="CodeBuild"),
                    Action("Swap", "Build", 2, "CodeBuild"))),
     {"Resolve": Declared(reads=("live",)), "Swap": Declared(writes="live")}),
    ("SL301",
     pipeline(stage("Deploy", deploy("Up", "CloudFormation", **STACK))), 6,
     pipeline(stage("Deploy", deploy("Up", "CloudFormation", **STACK)), mode="PARALLEL"), None),
    ("SL401",
     pipeline(stage("Staging", deploy("Up", "CloudFormation", **STACK)),
              stage("Approve", Action("Ok", "Approval", provider="Manual"))), 7,
     pipeline(stage("Staging", deploy("Up", "CloudFormation", **STACK),
                    Action("Ok", "Approval", 2, "Manual"))), None),
]


def _by_name(p: Pipeline, declared):  # type: ignore[no-untyped-def]
    if declared is None:
        return None
    where = {a.name: s.name for s in p.stages for a in s.actions}
    return {(where[name], name): d for name, d in declared.items()}


@pytest.mark.parametrize("engine", ["compiled", "interpreted"])
@pytest.mark.parametrize(("rule", "bad", "length", "good", "declared"), CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_each_hazard_is_found_where_it_can_happen_and_only_there(rule, bad, length, good,
                                                                 declared, engine):
    stops = 1 if RULES[rule].operator else 0
    hazards, found = _search(bad, rule, _by_name(bad, declared), stops, engine)
    assert hazards, f"{rule} does not apply to the pipeline"
    assert sorted(found.values()) == [length] * len(found) and found, found
    hazards, found = _search(good, rule, _by_name(good, declared), stops, engine)
    assert bool(hazards) == (rule not in ("SL101", "SL103"))
    assert found == {}, found


def test_rules_are_applied_only_where_the_provider_allows_them():
    """S3 gets the late overwrite and not the refused deploy; CloudFormation the other way
    round; ECS replaces the running deployment, so neither."""
    def rules(provider: str, **config: str) -> set[str]:
        m = build_model(pipeline(stage("Deploy", deploy("D", provider, **config))), world=True)
        return {h.rule.id for h in hazards_for(m)} - {"SL301"}
    assert rules("S3", BucketName="b") == {"SL101", "SL102"}
    assert rules("CloudFormation", **STACK) == {"SL102", "SL103", "SL104"}
    assert rules("ECS", ClusterName="c", ServiceName="s") == {"SL102"}


def test_an_inferred_hazard_is_one_severity_lower():
    p = pipeline(stage("Staging", deploy("Up", "CloudFormation", **STACK)),
                 stage("Verify", Action("IntegrationTests", "Build", provider="CodeBuild")))
    (hazard,) = [h for h in hazards_for(build_model(p, world=True)) if h.rule.id == "SL201"]
    assert hazard.rule.severity == "error" and hazard.severity == "warning"
    assert hazard.inferred is not None


@pytest.mark.parametrize("engine", ["compiled", "interpreted"])
def test_a_rollback_puts_an_older_revision_back_without_a_hazard(engine):
    """A rollback of Production to e1 after e2 deployed there puts e1's older revision back on
    the bucket, and its smoke test then passes for e1's revision, the one the bucket holds:
    neither is the out-of-order deployment nor the tested revision that differs, which compare
    revisions, not the order executions started in.  The search does reach both steps."""
    p = pipeline(stage("Build", Action("Bundle", "Build", provider="CodeBuild")),
                 stage("Production", deploy("Up", "S3", BucketName="www"),
                       Action("Smoke", "Test", 2, "CodeBuild")), mode="QUEUED")
    m = build_model(p, world=True)
    chosen = [h for h in hazards_for(m) if h.rule.id in ("SL102", "SL201")]
    assert {h.rule.id for h in chosen} == {"SL102", "SL201"}
    ex = explore(m, Bounds(executions=2, stops=0, retries=0, toggles=0, failures=False,
                           rollbacks=1), [h.property for h in chosen], engine=engine)
    assert ex.complete and ex.violations == {}
    up, smoke = m.action_names.index("Up"), m.action_names.index("Smoke")
    went_back = passed_rolled_back = False
    for i in range(len(ex)):
        before = ex.state(i)
        for op, j in ex.edges(i):
            after = ex.state(j)
            if not isinstance(op, ActionSucceeded) or \
                    not after.executions[op.execution].is_rollback:
                continue
            went_back |= op.action == up and after.revisions[0] < before.revisions[0]
            passed_rolled_back |= op.action == smoke and before.revisions[0] == 0
    assert went_back and passed_rolled_back
