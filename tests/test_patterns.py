"""Property patterns (`spec.patterns`): each pattern both PROVED and REFUTED on a pipeline of our
own, with the shortest trace's length pinned and both engines agreeing; the places of bad input;
and the patterns from a declaration's metadata, a model file and `checker.testing`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from checker.annotations import instances, property_specs
from checker.engine import Bounds, explore
from checker.errors import InputError
from checker.formats import load_pipeline
from checker.testing import check
from spec.patterns import PATTERNS, PropertySpec
from spec.rules import build_model

DATA = Path(__file__).parent / "data" / "patterns"
RELEASE = DATA / "web-release.json"
BOUNDS = Bounds(executions=2, stops=1, retries=1, toggles=0)
QUIET = Bounds(executions=2, stops=0, retries=0, toggles=0, failures=False)
"""No operator action and no failure: what the pipeline's shape does on its own."""

# (pattern and parameters, mode, shortest trace length or None for PROVED[, bounds])
CASES = [
    ({"pattern": "never-older", "target": "web-prod-site", "via": "deploy"}, "SUPERSEDED", None),
    ({"pattern": "never-older", "target": "web-prod-site"}, "SUPERSEDED", 16),
    ({"pattern": "never-older", "target": "web-prod-site", "via": "deploy"}, "PARALLEL", 14),
    ({"pattern": "precedes", "first": "Staging.BrowserTests", "then": "web-prod-site"},
     "SUPERSEDED", None),
    ({"pattern": "precedes", "first": "Production.Approve", "then": "web-staging-site"},
     "SUPERSEDED", 4),
    ({"pattern": "precedes", "first": "Staging.BrowserTests", "then": "Production.Approve"},
     "SUPERSEDED", None),
    ({"pattern": "precedes", "first": "Production.Approve", "then": "Staging.BrowserTests"},
     "SUPERSEDED", 5),
    ({"pattern": "matches", "action": "Staging.BrowserTests", "target": "web-staging-site"},
     "SUPERSEDED", None, QUIET),
    # e1's abandoned publish lands on staging while e2's tests run there
    ({"pattern": "matches", "action": "Staging.BrowserTests", "target": "web-staging-site"},
     "SUPERSEDED", 11),
    ({"pattern": "matches", "action": "Production.Approve", "target": "web-staging-site"},
     "SUPERSEDED", 10),
    ({"pattern": "exclusive", "actions": ["PublishStaging", "PublishProduction"]},
     "QUEUED", 6),
    ({"pattern": "exclusive", "actions": ["PublishStaging"]}, "PARALLEL", 6),
    ({"pattern": "exclusive", "actions": ["PublishStaging"]}, "SUPERSEDED", 6),
    ({"pattern": "exclusive", "actions": ["PublishStaging"], "abandoned-work": False},
     "SUPERSEDED", None),
    ({"pattern": "never", "fact": {"execution": "any", "status": "Superseded"}}, "QUEUED", None),
    ({"pattern": "never", "fact": {"stage": "Production", "status": "Failed"}}, "SUPERSEDED", 6),
    ({"pattern": "always", "fact": {"target": "web-prod-site", "holds": "nothing"}},
     "SUPERSEDED", 7),
    ({"pattern": "never", "fact": {"target": "web-prod-site", "holds": "older"}},
     "QUEUED", None, QUIET),
    ({"pattern": "always", "fact": {"target": "web-prod-site", "holds": "current"}},
     "QUEUED", None, QUIET),
    ({"pattern": "never", "fact": {"target": "web-prod-site", "holds": "older"}},
     "SUPERSEDED", 16),
    ({"pattern": "always", "fact": {"execution": "any", "status": "InProgress"}},
     "SUPERSEDED", 0),
    ({"pattern": "sometimes", "fact": {"action": "PublishProduction", "status": "Succeeded"}},
     "SUPERSEDED", 7),
    ({"pattern": "sometimes", "fact": {"execution": "any", "status": "Superseded"}},
     "QUEUED", None),
    ({"pattern": "at-most", "count": 2, "status": "Failed"}, "SUPERSEDED", None),
    ({"pattern": "at-most", "count": 0, "status": "Stopped"}, "SUPERSEDED", 3),
    ({"pattern": "eventually", "fact": {"execution": "any", "status": "Succeeded"}},
     "SUPERSEDED", 6),
    ({"pattern": "eventually", "fact": {"stage": "Build", "status": "Succeeded"}},
     "SUPERSEDED", None, QUIET),
    # an execution stopped in Build, and no other to come: Build stays Stopped
    ({"pattern": "eventually", "fact": {"stage": "Build", "status": "Succeeded"}},
     "SUPERSEDED", 6),
]


def _outcome(prop, model, engine: str, bounds: Bounds):  # type: ignore[no-untyped-def]
    ex = explore(model, bounds, [prop], engine=engine)
    assert ex.complete or ex.stopped_by == "every property decided"
    if prop.kind == "progress":
        found = ex.stuck(prop)
        return None if found is None else (len(ex.path(found.state)), found.detail)
    found = ex.violations.get(prop.name) or ex.witnesses.get(prop.name)
    return None if found is None else (len(ex.trace(found)), found.detail)


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]['pattern']}-{i}" for i, c in enumerate(CASES)])
def test_pattern_on_both_engines(case: tuple) -> None:
    body, mode, length, *rest = case
    bounds = rest[0] if rest else BOUNDS
    model = build_model(load_pipeline(RELEASE), mode, world=True)
    [prop] = instances(model, property_specs([body], "test", "properties"))
    compiled = _outcome(prop, model, "compiled", bounds)
    assert _outcome(prop, model, "interpreted", bounds) == compiled
    if prop.kind == "witness":  # seen: the question is answered yes, with the witness
        assert (compiled is not None) == (length is not None)
    assert (None if compiled is None else compiled[0]) == length, compiled


def test_every_pattern_is_both_proved_and_refuted() -> None:
    proved = {c[0]["pattern"] for c in CASES if c[2] is None}
    refuted = {c[0]["pattern"] for c in CASES if c[2] is not None}
    assert proved == refuted == set(PATTERNS)


@pytest.mark.parametrize(("body", "place", "expected"), [
    ({"pattern": "never-older", "target": "web-pord-site"}, "properties[0].target",
     "expected a deploy target of the pipeline (BucketName=web-staging-site, "
     "BucketName=web-prod-site), got 'web-pord-site'"),
    ({"pattern": "precedes", "first": "Staging.Tests", "then": "web-prod-site"},
     "properties[0].first", "expected an action of the pipeline (Source.App, Build.Bundle, "
     "Staging.PublishStaging, Staging.BrowserTests, Production.Approve, "
     "Production.PublishProduction), got 'Staging.Tests'"),
    ({"pattern": "never", "fact": {"stage": "Prod", "status": "Failed"}},
     "properties[0].fact.stage", "expected a stage of the pipeline (Source, Build, Staging, "
     "Production), got 'Prod'"),
    ({"pattern": "never", "fact": {"stage": "Production", "status": "Superseded"}},
     "properties[0].fact.status", "expected a stage execution status (InProgress, Stopping, "
     "Stopped, Succeeded, Failed, Skipped, Cancelled), got 'Superseded'"),
    ({"pattern": "at-most", "count": -1, "status": "Failed"}, "properties[0].count",
     "expected an integer from 0 to 255, got -1"),
])
def test_a_property_that_does_not_fit_the_pipeline(body: dict, place: str,
                                                   expected: str) -> None:
    model = build_model(load_pipeline(RELEASE), world=True)
    with pytest.raises(InputError) as caught:
        instances(model, property_specs([body], "props.toml", "properties"))
    assert (caught.value.place, caught.value.expected) == (place, expected)


@pytest.mark.parametrize(("body", "place", "expected"), [
    ({"pattern": "never-newer", "target": "x"}, "p[0].pattern",
     "expected one of " + ", ".join(PATTERNS) + ", got 'never-newer'"),
    ({"pattern": "matches", "action": "Production.Approve"}, "p[0].target",
     "expected target, a parameter of matches"),
    ({"pattern": "matches", "action": "A", "target": "t", "colour": "blue"}, "p[0].colour",
     "expected one of the parameters of matches (action, target) or name, why"),
])
def test_a_property_that_does_not_fit_its_pattern(body: dict, place: str, expected: str) -> None:
    with pytest.raises(InputError) as caught:
        property_specs([body], "props.toml", "p")
    assert (caught.value.place, caught.value.expected) == (place, expected)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "checker.cli", *args], capture_output=True,
                          text=True, check=False)


def test_check_asks_the_declarations_own_properties_first() -> None:
    run = _cli("check", str(RELEASE), "--executions", "2", "--json")
    assert run.returncode == 1, run.stderr
    [mode] = json.loads(run.stdout)["modes"]
    verdicts = {p["name"]: (p["group"], p["verdict"]) for p in mode["properties"]}
    assert verdicts["production-only-after-browser-tests"] == ("this pipeline", "PROVED")
    assert verdicts["approver-sees-staging"] == ("this pipeline", "REFUTED")
    assert verdicts["one-execution-per-stage-lock"] == ("CodePipeline's guarantees", "PROVED")
    groups = [p["group"] for p in mode["properties"]]
    assert groups == sorted(groups, key=lambda g: g != "this pipeline")


def test_a_model_file_property_and_a_bad_one(tmp_path: Path) -> None:
    model = tmp_path / "release.toml"
    model.write_text(f'pipeline = "{RELEASE}"\n[bounds]\nexecutions = 2\n\n'
                     '[[property]]\nname = "prod-never-back"\npattern = "never-older"\n'
                     'target = "web-prod-site"\nvia = "deploy"\n')
    run = _cli("check", str(model), "--json")
    [mode] = json.loads(run.stdout)["modes"]
    assert {p["name"]: p["verdict"] for p in mode["properties"]}["prod-never-back"] == "PROVED"
    model.write_text(model.read_text().replace("web-prod-site", "web-prod"))
    run = _cli("check", str(model))
    assert run.returncode == 2
    assert run.stderr.strip() == (
        f"stagelock: {model}: property[0].target: expected a deploy target of the pipeline "
        "(BucketName=web-staging-site, BucketName=web-prod-site), got 'web-prod'")


def test_lint_reports_an_own_property_that_fails() -> None:
    run = _cli("lint", str(RELEASE), "--format", "json")
    findings = json.loads(run.stdout)["findings"]
    own = [f for f in findings if f["ruleId"] == "SL900"]
    assert [(f["rule"], f["severity"]) for f in own] == [("approver-sees-staging", "error")]
    assert own[0]["message"].endswith("Approve was approved for e1 while "
                                      "BucketName=web-staging-site held e2's revision.")


def test_testing_check_takes_properties_of_ones_own() -> None:
    outcome = check(RELEASE, executions=2, properties=[
        {"pattern": "precedes", "first": "Staging.BrowserTests", "then": "web-prod-site"},
        PropertySpec("at-most", {"count": 0, "status": "Stopped"}, name="never-stopped")])
    verdicts = {v.property.name: v.verdict for r in outcome.results for v in r.verdicts}
    assert verdicts["precedes:BrowserTests/BucketName=web-prod-site"] == "PROVED"
    assert verdicts["never-stopped"] == "REFUTED"


def test_properties_lists_the_pattern_catalogue() -> None:
    import tomllib

    out = _cli("properties", "--patterns")
    assert out.returncode == 0, out.stderr
    listed = [line.split("  [")[0] for line in out.stdout.splitlines() if not line.startswith(" ")]
    assert listed == list(PATTERNS)
    assert "never-older  [step; target, via (optional)]" in out.stdout
    rows = json.loads(_cli("properties", "--patterns", "--json").stdout)
    assert [r["pattern"] for r in rows] == list(PATTERNS)
    for row in rows:
        # each example is a [[property]] table's body that names its own pattern and every
        # parameter the pattern needs
        example = tomllib.loads(_toml_lines(row["example"]))
        assert example["pattern"] == row["pattern"]
        assert set(row["parameters"]) <= set(example)


def _toml_lines(example: str) -> str:
    """A one-line example (`a = 1, b = "x"`) as TOML lines, keeping commas inside [] and {}."""
    out, depth, quoted = [], 0, False
    for ch in example:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in "[{":
            depth += 1
        elif not quoted and ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0 and not quoted:
            out.append("\n")
            continue
        out.append(ch)
    return "".join(out)


def test_the_kernel_numbers_facts_as_the_patterns_do() -> None:
    """The compiled checks keep their own copy of the facts' numbers (the kernel's disk cache
    follows its own package's files only): they must be the patterns' numbers."""
    from checker.engine.compiled import checks
    from spec import patterns

    for name in ("F_EXECUTION", "F_STAGE", "F_ACTION", "F_TARGET"):
        assert getattr(checks, name) == getattr(patterns, name), name
    assert patterns.STAGE_FACT_STATUSES[checks.SKIPPED_FACT] == "Skipped"
    assert patterns.STAGE_FACT_STATUSES[checks.SUCC] == "Succeeded"
    assert patterns.STAGE_FACT_STATUSES[checks.CANCELLED] == "Cancelled"


def test_the_kernel_codes_are_the_specs_statuses() -> None:
    """The kernel's status, stop and coverage codes follow the spec's tuples: a status the
    kernel has no code for, or a coverage table too small for its codes, would be written out
    of bounds (compiled code does not check)."""
    from checker.engine.compiled import checks, rules, search, tables
    from spec.state import PIPELINE_STATUSES

    assert tables.STATUS_CODES == PIPELINE_STATUSES
    assert tables.STATUS_CODES.index("Cancelled") == rules.CANCELLED
    assert tables.STOP_CODES.index("update") == rules.STOP_UPDATE
    assert search.STATUS_NAMES == tables.STATUS_CODES
    assert len(search.STAGE_NAMES) == checks.COVERAGE_CODES
    assert search.STAGE_NAMES[checks.NONE_CODE] == "(none)"
    assert search.STAGE_NAMES[checks.SKIPPED_CODE] == "Skipped"
