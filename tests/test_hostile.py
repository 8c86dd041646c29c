"""Hostile, malformed and out-of-range input: never a hang, never a traceback, never a verdict
that hides a failure.

Each case runs the real command in a subprocess, bounded in time (and, for the bombs, in
address space), and checks what a user sees: the exit status, the one line on stderr, and that
no traceback escaped.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from checker import cli
from checker.testing import assert_proved, check

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "checker" / "reference-pipeline.json"
CLEAN = ROOT / "examples" / "lint" / "release-pipeline.clean.json"
MEMORY = 768 * 2**20
"""The address space a bomb case may use (the command itself needs about a tenth)."""

STAGE = ('{{"name": "{name}", "actions": [{{"name": "A", "actionTypeId": '
         '{{"category": "{cat}"}}}}]}}')
GOOD = ('{"name": "p", "stages": [' + STAGE.format(name="Source", cat="Source") + ", "
        + STAGE.format(name="Build", cat="Build") + "]}")
GOOD_YAML = """\
name: p
stages:
  - name: Source
    actions: [{name: A, actionTypeId: {category: Source}}]
  - name: Build
    actions: [{name: B, actionTypeId: {category: Build}}]
"""


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def stagelock(*args: str | Path, cwd: Path | None = None, timeout: float = 60,
              bounded: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "checker.cli", *map(str, args)], cwd=cwd or ROOT,
        capture_output=True, text=True, timeout=timeout,
        preexec_fn=_limit_memory if bounded else None)


def one_line_error(run: subprocess.CompletedProcess[str], file: Path | str, *parts: str) -> None:
    """Exit 2, one line on stderr naming the file, containing each part, no traceback."""
    assert "Traceback" not in run.stderr, run.stderr
    assert run.returncode == 2, (run.returncode, run.stderr)
    assert run.stderr.count("\n") == 1, run.stderr
    assert run.stderr.startswith(f"stagelock: {file}: "), run.stderr
    for part in parts:
        assert part in run.stderr, run.stderr


def write(directory: Path, name: str, text: str | bytes) -> Path:
    path = directory / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


# --------------------------------------------------------------------------------------------
# Documents that would blow up a naive reader


BILLION_LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
name: p
stages: *i
"""


def test_a_billion_laughs_fails_fast(tmp_path: Path) -> None:
    assert len(BILLION_LAUGHS) < 1024
    path = write(tmp_path, "bomb.yaml", BILLION_LAUGHS)
    began = time.monotonic()
    run = stagelock("check", path, timeout=30)
    one_line_error(run, path, "expected at most 1,000,000 values once aliases are expanded")
    assert time.monotonic() - began < 20


@pytest.mark.parametrize(("name", "text", "where"), [
    ("deep.json", "[" * 100_000 + "]" * 100_000, "line 1, column 101"),
    ("deep.yaml", "[" * 100_000 + "]" * 100_000, "line 1, column 101"),
    ("deep-map.yaml", "".join(f"{'  ' * i}k{i}:\n" for i in range(150)), "line 100"),
])
def test_deep_nesting_is_refused(tmp_path: Path, name: str, text: str, where: str) -> None:
    path = write(tmp_path, name, text)
    run = stagelock("check", path)
    one_line_error(run, path, where, "nested at most 100 deep")


def test_a_deeply_nested_baseline_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "x.baseline.json", '{"format": ' + "[" * 50_000 + "]" * 50_000 + "}")
    run = stagelock("baseline", "check", path)
    one_line_error(run, path, "expected a baseline written by `stagelock baseline write`",
                   "nested at most 100 deep")


def test_deeply_nested_toml_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "m.toml", "modes = " + "[" * 5000 + "]" * 5000 + "\n")
    one_line_error(stagelock("check", path), path, "nested at most 100 deep")


def test_a_recursive_anchor_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "loop.yaml", "name: p\nstages: &s [*s]\n")
    one_line_error(stagelock("check", path), path, "line 2, column 9",
                   "expected no alias inside its own anchor")


def test_a_recursive_intrinsic_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "loop.template.yaml", """\
Resources:
  Pipe:
    Type: AWS::CodePipeline::Pipeline
    Properties:
      Stages:
        - &stage !If [IsProd, *stage, {Ref: AWS::NoValue}]
""")
    one_line_error(stagelock("check", path), path, "expected no alias inside its own anchor")


@pytest.mark.parametrize(("name", "text", "parts"), [
    ("huge.json", GOOD.replace('"category": "Build"}', '"category": "Build"}, "runOrder": '
                               + "9" * 5000), ("expected an integer of at most 100 digits",)),
    ("huge.yaml", GOOD_YAML + "x: " + "9" * 5000 + "\n",
     ("line 7, column 4", "expected an integer of at most 100 digits")),
    ("big.json", GOOD.replace('"category": "Build"}', '"category": "Build"}, "runOrder": '
                              + "9" * 50), ("runOrder: expected an integer from 1 to 999",)),
    ("nan.json", GOOD.replace('"name": "p"', '"name": NaN'), ("got NaN (not valid JSON)",)),
    ("inf.json", GOOD.replace('"name": "p"', '"name": 1e999'), ("expected a finite number",)),
])
def test_huge_and_non_finite_numbers(tmp_path: Path, name: str, text: str,
                                     parts: tuple[str, ...]) -> None:
    path = write(tmp_path, name, text)
    run = stagelock("check", path)
    one_line_error(run, path, *parts)
    assert "9" * 200 not in run.stderr


def test_a_huge_bound_in_a_model_file(tmp_path: Path) -> None:
    path = write(tmp_path, "m.toml", "[bounds]\nexecutions = " + "9" * 5000 + "\n")
    one_line_error(stagelock("check", path), path, "integers of at most 100 digits")
    path = write(tmp_path, "n.toml", "[bounds]\nexecutions = " + "9" * 4000 + "\n")
    run = stagelock("check", path)
    one_line_error(run, path, "bounds.executions: expected an integer from 1 to 50, got an "
                   "integer of 4000 digits")


def test_a_huge_bound_on_the_command_line() -> None:
    run = stagelock("check", "--executions", "9" * 5000)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert run.stderr.count("\n") == 1 and "invalid int value" in run.stderr


# --------------------------------------------------------------------------------------------
# Duplicate keys


def test_yaml_declaration_with_execution_mode_twice(tmp_path: Path) -> None:
    path = write(tmp_path, "p.yaml", "executionMode: QUEUED\n" + GOOD_YAML
                 + "executionMode: SUPERSEDED\n")
    one_line_error(stagelock("check", path), path, "line 8, column 1",
                   'expected each key once in a mapping, "executionMode" appears twice')


def test_json_declaration_with_execution_mode_twice(tmp_path: Path) -> None:
    path = write(tmp_path, "p.json", GOOD.replace('"name": "p"', '"executionMode": "QUEUED", '
                                                  '"name": "p", "executionMode": "PARALLEL"'))
    one_line_error(stagelock("check", path), path, 'key "executionMode"',
                   "expected each key once in an object, it appears twice")


def test_scenario_with_two_steps_lists(tmp_path: Path) -> None:
    write(tmp_path, "p.yaml", GOOD_YAML)
    path = write(tmp_path, "s.yaml", "pipeline: p.yaml\nsteps:\n  - start: e1\n"
                 "steps:\n  - start: e2\n")
    one_line_error(stagelock("simulate", path), path, "line 4, column 1",
                   '"steps" appears twice')


# --------------------------------------------------------------------------------------------
# Files that are not regular files, or not text


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    one_line_error(stagelock("check", fifo, timeout=20), fifo,
                   "expected a regular file, got a FIFO (named pipe)")


def test_dev_zero_is_refused_without_reading() -> None:
    one_line_error(stagelock("lint", "/dev/zero", timeout=20), "/dev/zero",
                   "expected a regular file, got a character device")


def test_a_directory_is_refused(tmp_path: Path) -> None:
    one_line_error(stagelock("simulate", tmp_path), tmp_path,
                   "expected a regular file, got a directory")


def test_a_file_over_the_size_cap_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    with path.open("wb") as f:
        f.truncate(17 * 2**20)  # sparse: nothing is written, the size is what counts
    one_line_error(stagelock("check", path), path, "expected a file of at most 16 MiB")


@pytest.mark.parametrize(("name", "command"), [("p.json", "check"), ("m.toml", "check"),
                                               ("s.yaml", "simulate"),
                                               ("c.toml", "baseline write")])
def test_non_utf8_is_refused_with_the_byte_offset(tmp_path: Path, name: str,
                                                  command: str) -> None:
    path = write(tmp_path, name, b'# ok\nname = "\xff\xfe"\n')
    one_line_error(stagelock(*command.split(), path), path, "byte 13",
                   "expected UTF-8 text, got byte 0xff")


# --------------------------------------------------------------------------------------------
# Code runs only where the command line asks for it


RULES = {
    "raises": ("def next_to_enter(m, queue):\n    return queue[99]\n",
               "line 2: expected the rule next_to_enter to return, it raised IndexError: "),
    "wrong-type": ("def next_to_enter(m, queue):\n    return 'first'\n",
                   "line 1: expected the rule next_to_enter to return int, it returned a value "
                   "of type str"),
    "exits": ("import sys\n\ndef next_to_enter(m, queue):\n    sys.exit(0)\n",
              "line 4: expected the rule next_to_enter to return, it called sys.exit(0)"),
    "recurses": ("def next_to_enter(m, queue):\n    return next_to_enter(m, queue)\n",
                 "line 2: expected the rule next_to_enter to return, it recursed without end"),
}


@pytest.mark.parametrize("kind", list(RULES))
def test_a_failing_rules_function_is_bad_input(tmp_path: Path, kind: str) -> None:
    text, message = RULES[kind]
    path = write(tmp_path, f"{kind}.py", text)
    run = stagelock("check", "--mode", "QUEUED", "--executions", "2", "--rules", path)
    one_line_error(run, path, message)
    assert run.stdout == ""


def _model_with_rules(tmp_path: Path) -> Path:
    write(tmp_path, "mine.py", "def next_to_enter(m, queue):\n    return queue[-1]\n")
    return write(tmp_path, "m.toml", 'modes = ["QUEUED"]\nrules = ["mine.py"]\n'
                 'properties = ["queued-never-overtakes"]\n')


def test_rules_named_by_data_files_are_refused_without_opt_in(tmp_path: Path) -> None:
    model = _model_with_rules(tmp_path)
    run = stagelock("check", model, cwd=tmp_path)
    one_line_error(run, model, "rules[0]: expected no rules file", "is Python that runs",
                   "--allow-rules-files", "allow-rules-files = true under [tool.stagelock]")
    write(tmp_path, "p.yaml", GOOD_YAML)
    scenario = write(tmp_path, "s.yaml", "pipeline: p.yaml\nrules: [mine.py]\n"
                     "steps:\n  - start: e1\n")
    one_line_error(stagelock("simulate", scenario, cwd=tmp_path), scenario,
                   "rules[0]: expected no rules file")
    configs = write(tmp_path, "c.toml", '[[config]]\nname = "x"\nrules = "mine.py"\n'
                    '[config.bounds]\nexecutions = 1\n')
    one_line_error(stagelock("baseline", "write", configs, cwd=tmp_path), configs,
                   "config[0].rules: expected no rules file")
    assert not (tmp_path / "c.baseline.json").exists()


def test_rules_named_by_data_files_run_with_opt_in(tmp_path: Path) -> None:
    model = _model_with_rules(tmp_path)
    for args in (("--allow-rules-files", "check", model), ("check", model,
                                                             "--allow-rules-files")):
        run = stagelock(*args, cwd=tmp_path)
        assert run.returncode == 1 and "REFUTED      queued-never-overtakes" in run.stdout
    write(tmp_path, "pyproject.toml", "[tool.stagelock]\nallow-rules-files = true\n")
    run = stagelock("check", model, cwd=tmp_path)
    assert run.returncode == 1 and "rule variants: mine" in run.stdout


def test_no_content_of_a_referenced_non_declaration_is_shown(tmp_path: Path) -> None:
    write(tmp_path, ".env", "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY\n")
    write(tmp_path, "dup.env", '{"AWS_SECRET_ACCESS_KEY": "x", "AWS_SECRET_ACCESS_KEY": "y"}')
    for target in (".env", "dup.env"):
        scenario = write(tmp_path, "s.yaml", f"pipeline: {target}\nsteps:\n  - start: e1\n")
        model = write(tmp_path, "m.toml", f'pipeline = "{target}"\n')
        for run in (stagelock("simulate", scenario), stagelock("check", model)):
            assert run.returncode == 2 and run.stderr.count("\n") == 1, run.stderr
            assert "Traceback" not in run.stderr
            assert str(tmp_path / target) in run.stderr
            assert "not shown" in run.stderr
            assert "AWS_SECRET" not in run.stderr and "EXAMPLEKEY" not in run.stderr


# --------------------------------------------------------------------------------------------
# CodePipeline's quotas


def _pipeline(stages: int, actions: int = 1, name_length: int = 1) -> str:
    def stage(s: int) -> dict[str, object]:
        return {"name": f"S{s}", "actions": [
            {"name": ("A" * name_length) if a == 0 else f"A{a}",
             "actionTypeId": {"category": "Source" if s == 0 else "Build"}}
            for a in range(actions)]}

    return json.dumps({"name": "p", "stages": [stage(s) for s in range(stages)]})


@pytest.mark.parametrize(("text", "message"), [
    (_pipeline(51), "stages: expected at most 50 stages (CodePipeline quotas, AWS CodePipeline "
                    "User Guide"),
    (_pipeline(1), "stages: expected at least 2 stages (CodePipeline quotas"),
    (_pipeline(2, actions=51), "stages[0].actions: expected at most 50 actions in a stage "
                               "(CodePipeline quotas"),
    (_pipeline(21, actions=50), "stages: expected at most 1000 actions in a pipeline "
                                "(CodePipeline quotas"),
    (_pipeline(2, name_length=101), "stages[0].actions[0].name: expected an action name of 1 "
                                    "to 100 characters"),
])
def test_declarations_beyond_the_quotas_are_refused(tmp_path: Path, text: str,
                                                    message: str) -> None:
    path = write(tmp_path, "p.json", text)
    one_line_error(stagelock("check", path), path, message)


# --------------------------------------------------------------------------------------------
# Verdicts that mean what they say


def test_witnesses_the_bounds_rule_out_are_not_applicable() -> None:
    outcome = check(REFERENCE, executions=2, stops=0, retries=0, toggles=0)
    assert_proved(outcome)
    assert outcome.verdict("stop-and-wait-completes") == "NOT APPLICABLE"
    assert outcome.verdict("retry-succeeds") == "NOT APPLICABLE"
    assert outcome.verdict("supersession-happens") == "NOT SEEN"
    assert outcome.not_seen == ["supersession-happens"]
    assert outcome.refuted == []


def test_not_seen_is_a_prominent_warning_and_exit_zero_unless_required() -> None:
    args = ("check", "--mode", "SUPERSEDED", "--executions", "2", "--stops", "0", "--retries",
            "0", "--toggles", "0")
    run = stagelock(*args, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "NOT SEEN     supersession-happens" in run.stdout
    assert "NOT APPLICABLE stop-and-abandon-completes" in run.stdout
    assert ("Warning: 1 witness NOT SEEN, so properties may hold only vacuously: "
            "supersession-happens (SUPERSEDED)") in run.stdout
    assert run.stdout.rstrip().endswith("Result: PROVED")
    assert stagelock(*args, "--require-witnesses", timeout=120).returncode == 1


def test_max_seconds_bounds_the_whole_command() -> None:
    run = stagelock("check", "--executions", "6", "--max-seconds", "2", "--json", timeout=120)
    assert run.returncode == 3, run.stderr
    report = json.loads(run.stdout)
    searched = sum(m["seconds"] for m in report["modes"])
    assert searched < 3.5  # 2 s in all, not 2 s per mode
    assert report["modes"][0]["stoppedBy"] == "--max-seconds 2"
    assert report["result"] == "UNDETERMINED"
    assert len(report["modes"]) + len(report["notSearched"]) == 3


def test_the_memory_guard_ends_the_search_undetermined() -> None:
    run = stagelock("check", "--mode", "QUEUED", "--executions", "4", "--max-memory", "64",
                    "--json", timeout=120, bounded=False)
    assert run.returncode == 3, run.stderr
    mode = json.loads(run.stdout)["modes"][0]
    assert mode["stoppedBy"] == "--max-memory 64" and not mode["complete"]
    # NOT APPLICABLE is decided by the bounds alone (no-retry-across-update without updates)
    assert {p["verdict"] for p in mode["properties"]} <= {"UNDETERMINED", "PROVED", "REFUTED",
                                                           "NOT APPLICABLE"}
    assert "UNDETERMINED" in {p["verdict"] for p in mode["properties"]}


# --------------------------------------------------------------------------------------------
# Internal errors


def test_an_internal_error_is_one_line_with_the_traceback_in_a_file(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        tmp_path: Path) -> None:
    def broken(args: object) -> int:
        raise RuntimeError("the specification lost its place")

    monkeypatch.setattr(cli, "_properties", broken)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    assert cli.main(["properties"]) == 4
    _, err = capsys.readouterr()
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("stagelock: internal error of stagelock (RuntimeError: the "
                          "specification lost its place); the full traceback is in ")
    (crash,) = tmp_path.glob("stagelock-crash-*.txt")
    assert str(crash) in err
    assert "Traceback (most recent call last)" in crash.read_text()
    assert cli.main(["--debug", "properties"]) == 4
    _, err = capsys.readouterr()
    assert err.startswith("Traceback (most recent call last)")
    assert err.splitlines()[-1].startswith("stagelock: internal error of stagelock")


# --------------------------------------------------------------------------------------------
# Interruption: Ctrl-C and SIGTERM end with the report so far, exit 3


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def interrupted(sig: int, *args: str | Path, cwd: Path | None = None,
                busy: float = 1.5) -> subprocess.CompletedProcess[str]:
    """Run the command, wait until it has been computing for ``busy`` CPU seconds (it is
    searching by then: starting up takes a fraction of that), send ``sig``, and collect it."""
    process = subprocess.Popen([sys.executable, "-m", "checker.cli", *map(str, args)],
                               cwd=cwd or ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    try:
        deadline = time.monotonic() + 60
        while _cpu_seconds(process.pid) < busy:
            assert process.poll() is None, "the command ended before it could be interrupted"
            assert time.monotonic() < deadline, "the command never got busy"
            time.sleep(0.05)
        process.send_signal(sig)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert "Traceback" not in err, err
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_check_interrupted_reports_so_far(sig: int) -> None:
    name = "Ctrl-C" if sig == signal.SIGINT else "SIGTERM"
    run = interrupted(sig, "check", "--executions", "4")
    assert run.returncode == 3
    assert "SUPERSEDED: " in run.stdout and f"stopped by {name}" in run.stdout
    assert "UNDETERMINED" in run.stdout
    assert f"QUEUED: not searched ({name} ended the run first)" in run.stdout
    assert "PARALLEL: not searched" in run.stdout
    assert run.stdout.rstrip().endswith(f"Interrupted ({name}): the report above covers what "
                                        "was explored so far.")


def test_check_interrupted_as_json() -> None:
    run = interrupted(signal.SIGTERM, "check", "--executions", "4", "--json")
    assert run.returncode == 3
    report = json.loads(run.stdout)
    assert report["result"] == "UNDETERMINED"
    assert report["modes"][0]["stoppedBy"] == "SIGTERM"
    assert [m["mode"] for m in report["notSearched"]] == ["QUEUED", "PARALLEL"]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_lint_interrupted_never_says_no_hazards(sig: int) -> None:
    name = "Ctrl-C" if sig == signal.SIGINT else "SIGTERM"
    run = interrupted(sig, "lint", CLEAN, "--executions", "8")
    assert run.returncode == 3
    assert "No hazards found" not in run.stdout
    assert "but not every search finished" in run.stdout
    assert "UNDETERMINED SL102 out-of-order-deployment [pipeline invoice-api-release, " \
           in run.stdout
    assert f"(the search was stopped by {name})" in run.stdout
    assert run.stdout.rstrip().endswith("Result: UNDETERMINED")


def test_lint_interrupted_as_sarif() -> None:
    run = interrupted(signal.SIGTERM, "lint", CLEAN, "--executions", "8", "--format", "sarif")
    assert run.returncode == 3
    invocation = json.loads(run.stdout)["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    texts = [n["message"]["text"] for n in invocation["toolExecutionNotifications"]]
    assert any("UNDETERMINED, not decided (the search was stopped by SIGTERM)" in t
               for t in texts)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_baseline_write_interrupted_writes_nothing(tmp_path: Path, sig: int) -> None:
    name = "Ctrl-C" if sig == signal.SIGINT else "SIGTERM"
    configs = write(tmp_path, "c.toml", '[[config]]\nname = "small"\n[config.bounds]\n'
                    'executions = 1\n[[config]]\nname = "big"\n[config.bounds]\n'
                    'executions = 4\n')
    # Past the small configuration for sure: starting up (the kernel loaded from its cache)
    # takes up to about 1.5 CPU seconds on a loaded machine, the big one tens of seconds.
    run = interrupted(sig, "baseline", "write", configs, busy=4.0)
    assert run.returncode == 3
    assert run.stdout.splitlines() == [
        "small: recorded", f"big: UNDETERMINED (not recorded: {name} ended the run)",
        f"Interrupted ({name}): no baseline written (a baseline already there is unchanged)"]
    assert "configuration" not in run.stderr  # the configurations file is not blamed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.toml"]  # no half-written file


def test_ctrl_c_in_the_analysis_after_the_search(monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:

    def interrupt(ex: object) -> None:
        raise KeyboardInterrupt

    from checker.engine.compiled.search import CompiledExploration
    from checker.engine.interpreted import Exploration

    for engine in (CompiledExploration, Exploration):
        monkeypatch.setattr(engine, "stuck", interrupt)
    status = cli.main(["check", "--mode", "QUEUED", "--executions", "1", "--json"])
    out, err = capsys.readouterr()
    assert status == 3 and "Traceback" not in err
    mode = json.loads(out)["modes"][0]
    assert mode["complete"] and mode["analysisInterruptedBy"] == "Ctrl-C"
    verdict = {p["name"]: p for p in mode["properties"]}["can-always-finish"]
    assert verdict["verdict"] == "UNDETERMINED"
    assert verdict["detail"] == "not analysed: Ctrl-C stopped the analysis"


def test_diff_interrupted_in_the_verdicts(monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    import checker.diff

    def interrupt(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(checker.diff, "check_mode", interrupt)
    status = cli.main(["diff", "--rules", "documented", "--rules", "documented",
                       "--executions", "1"])
    out, _ = capsys.readouterr()
    assert status == 3
    assert "interrupted by Ctrl-C: the properties' verdicts were not all compared" in out
    assert "QUEUED: not searched (Ctrl-C ended the run first): UNDETERMINED" in out
    assert out.rstrip().endswith("Result: UNDETERMINED")


def test_baseline_check_interrupted_marks_the_rest(monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str],
                                                   tmp_path: Path) -> None:
    import checker.baseline

    configs = write(tmp_path, "c.toml", "".join(
        f'[[config]]\nname = "{n}"\nmode = "QUEUED"\n[config.bounds]\nexecutions = 1\n'
        for n in ("one", "two")))
    assert cli.main(["baseline", "write", str(configs)]) == 0
    real = checker.baseline.record
    calls: list[str] = []

    def second_interrupted(config: checker.baseline.Configuration, *args: object) -> object:
        calls.append(config.name)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(config, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(checker.baseline, "record", second_interrupted)
    capsys.readouterr()
    status = cli.main(["baseline", "check", str(tmp_path / "c.baseline.json")])
    out, _ = capsys.readouterr()
    assert status == 3
    assert "one: unchanged" in out
    assert "two: UNDETERMINED (not checked: Ctrl-C ended the run)" in out
    assert "Result: UNDETERMINED (0 of 2 configurations changed" in out


def test_a_scenario_too_long_to_run_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "p.yaml", GOOD_YAML)
    starts = "".join(f"  - start: e{i}\n" for i in range(1001))
    path = write(tmp_path, "s.yaml", "pipeline: p.yaml\nsteps:\n" + starts)
    one_line_error(stagelock("simulate", path), path,
                   "steps[1000].start: expected at most 1,000 executions in a scenario")
    path = write(tmp_path, "t.yaml", "pipeline: p.yaml\nsteps:\n" + "  - expect: {}\n" * 10_001)
    one_line_error(stagelock("simulate", path), path, "steps: expected at most 10,000 steps")


def test_an_address_space_limit_lowers_the_memory_guard() -> None:
    """Under `ulimit -v` the search stops at its memory guard, UNDETERMINED, with one worker
    (a worker thread that cannot be created would end the process with exit status 1)."""
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1024 * 2**20, 1024 * 2**20))

    run = subprocess.run(
        [sys.executable, "-m", "checker.cli", "check", "--mode", "QUEUED", "--executions", "5",
         "--json"], cwd=ROOT, capture_output=True, text=True, timeout=300, preexec_fn=limit)
    assert "Traceback" not in run.stderr and run.returncode == 3, run.stderr
    mode = json.loads(run.stdout)["modes"][0]
    assert mode["stoppedBy"] == "--max-memory 384"  # 75% of the 512 MiB the search may take
    assert mode["engine"]["workers"] == 1


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # the point
@pytest.mark.parametrize("engine", ["compiled", "interpreted"])
def test_an_interruption_lost_in_a_finaliser_still_stops_the_search(engine: str) -> None:
    """Python drops an exception raised inside a finaliser: a Ctrl-C that came while numba was
    loading the kernel from its cache was lost that way.  The handlers record what they raise,
    and both engines raise it again at their next checkpoint."""
    from checker.check import reference_pipeline
    from checker.engine import Bounds, explore
    from checker.errors import handled, interrupt
    from spec.rules import build_model

    class Finaliser:
        def __del__(self) -> None:
            interrupt(KeyboardInterrupt())

    Finaliser()  # "Exception ignored in ...": the interruption is not raised here
    try:
        ex = explore(build_model(reference_pipeline()), Bounds(executions=3), [],
                     engine=engine)
    finally:
        handled()
    assert (ex.complete, ex.stopped_by) == (False, "Ctrl-C")


def test_an_interruption_waits_while_the_kernel_is_loaded() -> None:
    """Inside the section that loads the kernel, a signal handler only records the
    interruption; the engines' next checkpoint raises it, outside numba."""
    from checker.errors import deferred_interruptions, handled, interrupt, reraise_interruption

    got = []
    try:
        with deferred_interruptions():
            interrupt(KeyboardInterrupt())
            got.append("went on")  # nothing was raised inside
        with pytest.raises(KeyboardInterrupt):
            reraise_interruption()
    finally:
        handled()
    assert got == ["went on"]
