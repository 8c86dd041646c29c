"""Baselines: the project's own, a deliberate rule change it catches, and bad files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from checker.baseline import (
    check_baseline,
    digest,
    load_baseline,
    record,
    render_check,
    write_baseline,
)
from checker.cli import main
from spec.rules import DOCUMENTED, Model
from spec.state import ACTIVE, IN_PROGRESS, Execution

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "tests" / "baseline" / "configs.baseline.json"
CONFIGS = ROOT / "tests" / "baseline" / "configs.toml"
EXAMPLE = ROOT / "examples" / "newest-first.py"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(argv)
    out, err = capsys.readouterr()
    return status, out, err


def test_the_project_baseline_holds(capsys):
    """Fails when a rule change changes what the small configurations do; the output names the
    transitions added and removed.  After an intended change: stagelock baseline write
    tests/baseline/configs.toml"""
    status, out, _ = run(["baseline", "check", str(BASELINE)], capsys)
    assert status == 0, out
    assert ": CHANGED" not in out and "Result: UNCHANGED (0 of 13 configurations changed" in out


def _approvals_do_not_lock(m: Model, ex: Execution) -> bool:
    """holds_stage: an execution whose in-progress actions are all approvals holds nothing."""
    if ex.waiting or ex.status not in ACTIVE:
        return False
    running = [a for a in m.stage_actions[ex.stage] if ex.actions[a] == IN_PROGRESS]
    return not running or not all(m.approval[a] for a in running)


@pytest.fixture(scope="module")
def changed():
    rules = DOCUMENTED.replace("approvals-do-not-lock", {"holds_stage": _approvals_do_not_lock})
    return check_baseline(BASELINE, rules, limit=2)


def test_a_rule_change_fails_the_check_with_an_explanation(changed):
    assert changed.changed
    by_name = {c.name: c for c in changed.changes}
    # One execution has no one to let in; PARALLEL has no stage locks; the two-stage pipeline
    # has no approval; the gated pipeline's Production has one, and so has the reference
    # pipeline updated once, and the PARALLEL one whose update may switch it to QUEUED.
    assert {n for n, c in by_name.items() if c.changed} == {"reference-superseded-2",
                                                            "reference-queued-2",
                                                            "gated-queued-2",
                                                            "reference-queued-update",
                                                            "reference-parallel-mode-change"}
    change = by_name["reference-queued-2"]
    assert (change.added_count, change.removed_count) == (166, 26)
    assert "verdict of approval-holds-stage: PROVED -> REFUTED" in change.notes
    assert "states 1,271 -> 1,311, transitions 1,966 -> 2,135" in change.notes
    # The shortest added behaviour: e2 enters Production while e1's approval awaits an answer.
    added = change.added[0]
    assert added.operation == "e2's TestStaging succeeds" and added.depth == 10
    assert added.lines[-1].split("|")[1].strip() == (
        "e2: in Production, TestStaging Succeeded, ApproveProduction InProgress")
    # ... where the recorded rules kept it waiting in front of Production.
    removed = change.removed[0]
    assert (removed.before, removed.operation) == (added.before, added.operation)
    assert removed.lines[-1].split("|")[1].strip() == (
        "e2: TestStaging Succeeded; waiting in front of Production: e2")
    assert len(removed.lines) == 10


def test_the_explanation_as_printed(changed):
    text = render_check(changed)
    assert "reference-queued-2: CHANGED" in text
    assert "reference-parallel-2: unchanged" in text
    assert ("  added: e2's TestStaging succeeds, after 9 steps (a shortest way there under the "
            "rules now):") in text
    assert "        10. e2's TestStaging succeeds" in text
    assert ("  removed: e2's TestStaging succeeds, after 9 steps (a shortest way there in the "
            "recorded graph):") in text
    assert "  ... and 164 more added (--limit)" in text
    assert "Result: CHANGED (5 of 13 configurations changed" in text


def _configs(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "configs.toml"
    path.write_text(text)
    return path


SMALL = ('[[config]]\nname = "queued-1"\nmode = "QUEUED"\n[config.bounds]\nexecutions = 1\n'
         'stops = 0\n')


def test_write_then_check(tmp_path, capsys):
    configs = _configs(tmp_path, SMALL)
    status, out, _ = run(["baseline", "write", str(configs)], capsys)
    assert status == 0
    written = tmp_path / "configs.baseline.json"
    assert f"Baseline of 1 configuration written to {written}" in out
    doc = json.loads(written.read_text())
    (config,) = doc["configurations"]
    assert config["states"] > 0 and config["digest"].startswith("sha256:")
    graph = config["graph"]
    assert graph["observations"][0].startswith(
        "[[],[-1,-1,-1,-1],[[],[],[],[]],[false,false,false,false]")
    assert all(len(e) == 3 for e in graph["edges"])
    status, out, _ = run(["baseline", "check", str(written)], capsys)
    assert status == 0 and "Result: UNCHANGED (0 of 1 configuration changed" in out
    # -o elsewhere: the baseline finds its configurations file from there
    other = tmp_path / "sub" / "mine.json"
    other.parent.mkdir()
    assert run(["baseline", "write", str(configs), "-o", str(other)], capsys)[0] == 0
    assert json.loads(other.read_text())["configs"] == "../configs.toml"
    assert run(["baseline", "check", str(other)], capsys)[0] == 0


def test_the_digest_does_not_depend_on_the_order_found(tmp_path):
    configs = _configs(tmp_path, SMALL)
    _, (r,) = write_baseline(configs)
    triples = r.triples()
    assert digest(set(reversed(sorted(triples)))) == r.digest == digest(triples)


def test_configurations_with_rules_and_a_changed_configurations_file(tmp_path, capsys):
    (tmp_path / "mine.py").write_text(EXAMPLE.read_text())
    configs = _configs(tmp_path, SMALL.replace('mode = "QUEUED"\n',
                                               'mode = "QUEUED"\nrules = "mine.py"\n'))
    written, (r,) = write_baseline(configs)
    assert r.definition["rules"] == "mine.py"
    configs.write_text(configs.read_text().replace("stops = 0", "stops = 1"))
    configs.write_text(configs.read_text() + SMALL.replace("queued-1", "queued-1-again"))
    status, out, _ = run(["baseline", "check", str(written), "--allow-rules-files"], capsys)
    assert status == 1
    assert "queued-1: CHANGED" in out and "its definition changed" in out
    assert "configuration queued-1-again is not in the baseline: write it again" in out


def test_record_under_other_rules_with_a_counterexample(tmp_path):
    configs = _configs(tmp_path, SMALL.replace("executions = 1", "executions = 2"))
    from checker.baseline import load_configs
    from spec.variants import rule_set

    (config,) = load_configs(configs)
    r = record(config, rule_set(["queued-overtakes"]))
    assert r.verdicts["queued-never-overtakes"] == "REFUTED"
    ops = r.counterexamples["queued-never-overtakes"]
    assert ops[0] == "StartPipelineExecution -> e1" and len(ops) == 6


@pytest.mark.parametrize(("text", "message"), [
    ("not json", ": line 1, column 1: expected a baseline written by `stagelock baseline write` "
                 "(not valid: expected valid JSON: "),
    ('{"format": "other"}', ": format: expected a baseline written by `stagelock baseline "
     "write` (format 'stagelock-baseline')"),
    ('{"format": "stagelock-baseline", "version": 9}', ": version: expected version 1, got 9"),
    ('{"format": "stagelock-baseline", "version": 1, "configs": "configs.toml", '
     '"configurations": [{"name": "x"}]}', ": configurations[0].definition: expected a mapping"),
    ('{"format": "stagelock-baseline", "version": 1, "configs": "nowhere.toml", '
     '"configurations": []}', ": configs: expected the configurations file it was written "
     "from, "),
])
def test_malformed_baseline(tmp_path, capsys, text, message):
    path = tmp_path / "bad.baseline.json"
    path.write_text(text)
    status, out, err = run(["baseline", "check", str(path)], capsys)
    assert status == 2 and out == "" and err.count("\n") == 1
    assert err.startswith(f"stagelock: {path}{message}"), err


def test_malformed_edges(tmp_path, capsys):
    written, _ = write_baseline(_configs(tmp_path, SMALL))
    doc = json.loads(written.read_text())
    doc["configurations"][0]["graph"]["edges"][3] = [0, "StartPipelineExecution -> e1", 10**6]
    written.write_text(json.dumps(doc))
    status, _, err = run(["baseline", "check", str(written)], capsys)
    assert status == 2
    assert err == (f"stagelock: {written}: configurations[0].graph.edges[3]: expected "
                   "[from, operation, to] with observation numbers\n")
    with pytest.raises(Exception, match="edges"):
        load_baseline(written)


@pytest.mark.parametrize(("text", "message"), [
    ("[[config]\n", "expected valid TOML"),
    ('[other]\nx = 1\n', "other: expected only [[config]] tables"),
    ("", "config: expected at least one [[config]] table"),
    ('[[config]]\nname = "a"\n[[config]]\nname = "b"\n[config.bounds]\nexecutions = 0\n',
     "config[1].bounds.executions: expected an integer from 1 to 50, got 0"),
    ('[[config]]\nname = "a"\n[config.bounds]\nmax_states = 10\n',
     "config[0].bounds.max_states: expected one of executions, stops, retries, toggles, "
     "updates, update_modes, rollbacks, failures"),
    ('[[config]]\nname = "a"\n[config.bounds]\nupdates = 1\nupdate_modes = ["SERIAL"]\n',
     "config[0].bounds.update_modes[0]: expected a mode name (SUPERSEDED, QUEUED, PARALLEL), "
     "got 'SERIAL'"),
    ('[[config]]\nname = "a"\n[config.bounds]\nupdate_modes = ["QUEUED"]\n',
     "config[0].bounds: expected updates of 1 or more with update modes"),
    ('[[config]]\nname = "a"\ncolour = "red"\n',
     "config[0].colour: expected one of the keys name, pipeline, resource, mode, rules, bounds"),
    ('[[config]]\nmode = "QUEUED"\n', "config[0].name: expected a non-empty name"),
    ('[[config]]\nname = "a"\n[[config]]\nname = "a"\n',
     "config[1].name: expected a name used once, 'a' is used before"),
    ('[[config]]\nname = "a"\nmode = "FAST"\n',
     "config[0].mode: expected one of SUPERSEDED, QUEUED, PARALLEL, got 'FAST'"),
    ('[[config]]\nname = "a"\nrules = "no-such-rules"\n',
     "config[0].rules: expected documented, a rule variant ("),
    ('[[config]]\nname = "a"\npipeline = "missing.json"\n', "missing.json"),
    ('[[config]]\nname = "a"\n[config.bounds]\nfailures = "yes"\n',
     "config[0].bounds.failures: expected true or false, got 'yes'"),
])
def test_malformed_configs(tmp_path, capsys, text, message):
    configs = _configs(tmp_path, text)
    status, out, err = run(["baseline", "write", str(configs)], capsys)
    assert status == 2 and out == "" and err.count("\n") == 1
    assert message in err, err
    assert not (tmp_path / "configs.baseline.json").exists()


def test_baseline_needs_an_action(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["baseline"])
    assert exit_.value.code == 2
    capsys.readouterr()


@pytest.mark.parametrize("name", sorted(__import__("spec.variants").variants.VARIANTS))
def test_the_project_baseline_notices_every_built_in_variant(name):
    """Each variant changes what some small configuration does; the one that makes a failed
    stage move on grows a configuration past the size a baseline records, which is refused."""
    from checker.errors import InputError
    from spec.variants import rule_set

    if name == "failed-stage-moves-on":
        with pytest.raises(InputError, match="at most 100,000 observable transitions"):
            check_baseline(BASELINE, rule_set([name]), limit=1)
        return
    assert check_baseline(BASELINE, rule_set([name]), limit=1).changed
