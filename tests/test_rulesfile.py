"""Rule variants of one's own, in a Python file: loading, checking, and the errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from checker.cli import main
from checker.scenario import load_scenario, run_scenario

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "newest-first.py"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(argv)
    out, err = capsys.readouterr()
    return status, out, err


def test_example_variant_is_refuted_like_its_built_in_twin(capsys, tmp_path):
    args = ["check", "--mode", "QUEUED", "--property", "queued-never-overtakes"]
    status, out, _ = run([*args, "--rules", str(EXAMPLE)], capsys)
    assert status == 1
    assert "rule variants: newest-first" in out
    twin_status, twin_out, _ = run([*args, "--variant", "queued-overtakes"], capsys)
    assert twin_status == 1
    def steps(text: str) -> list[str]:
        return [line for line in text.splitlines() if line.strip().split(".")[0].isdigit()]

    assert steps(out) == steps(twin_out) and len(steps(out)) == 4


def test_trace_out_refers_to_the_rules_file(capsys, tmp_path):
    out = tmp_path / "ce.yaml"
    status, _, _ = run(["check", "--mode", "QUEUED", "--property", "queued-never-overtakes",
                        "--rules", str(EXAMPLE), "--trace-out", str(out)], capsys)
    assert status == 1
    doc = yaml.safe_load(out.read_text())
    assert "variants" not in doc
    assert (out.parent / doc["rules"][0]).resolve() == EXAMPLE.resolve()
    failures = run_scenario(load_scenario(out)).failures
    assert len(failures) == 1 and "queued-never-overtakes violated" in failures[0]


def test_model_file_rules_key(capsys, tmp_path):
    (tmp_path / "mine.py").write_text(EXAMPLE.read_text())
    model = tmp_path / "check.toml"
    model.write_text('modes = ["QUEUED"]\nproperties = ["queued-never-overtakes"]\n'
                     'rules = ["mine.py"]\n')
    status, out, _ = run(["check", str(model), "--allow-rules-files"], capsys)
    assert status == 1 and "REFUTED      queued-never-overtakes" in out


@pytest.mark.parametrize(("text", "message"), [
    ("def next_in_line(m, queue):\n    return queue[0]\n",
     "line 1: expected a function named after a rule (holds_stage, "),
    ("def next_to_enter(m):\n    return 0\n",
     "line 1: expected next_to_enter to take (m, queue), it takes (m)"),
    ("def next_to_enter(m, queue)\n    return 0\n", "line 1: expected valid Python: "),
    ("x = 1 / 0\n", "line 1: expected the file to load, it raised ZeroDivisionError: "),
    ("X = 1\n", "expected at least one function named after a rule"),
    ('NAME = "queued-overtakes"\ndef next_to_enter(m, queue):\n    return queue[0]\n',
     "NAME: expected a name other than the built-in variant 'queued-overtakes'"),
])
def test_bad_rules_files(capsys, tmp_path, text, message):
    path = tmp_path / "bad.py"
    path.write_text(text)
    status, _, err = run(["check", "--mode", "QUEUED", "--rules", str(path)], capsys)
    assert status == 2
    assert err.startswith(f"stagelock: {path}: ") and message in err
    assert err.count("\n") == 1


def test_variants_replacing_the_same_rule_clash(capsys, tmp_path):
    status, _, err = run(["check", "--mode", "QUEUED", "--variant", "queued-overtakes",
                          "--rules", str(EXAMPLE)], capsys)
    assert status == 2
    assert err == ("stagelock: command line: --variant/--rules: expected variants that replace "
                   "different rules: variants queued-overtakes and newest-first both replace "
                   "next_to_enter\n")


def test_missing_rules_file(capsys, tmp_path):
    status, _, err = run(["check", "--rules", str(tmp_path / "nope.py")], capsys)
    assert status == 2
    assert err == (f"stagelock: {tmp_path / 'nope.py'}: expected a Python file of rules (it "
                   "does not exist)\n")


def test_unwritable_output_is_bad_input(capsys, tmp_path):
    status, _, err = run(["check", "--mode", "QUEUED", "--variant", "queued-overtakes",
                          "--property", "queued-never-overtakes", "--trace-out",
                          str(tmp_path / "missing" / "ce.yaml")], capsys)
    assert status == 2
    assert err.endswith("expected a writable file (No such file or directory)\n")


def test_testing_helper_takes_rules_files():
    from checker.check import reference_pipeline
    from checker.testing import assert_refuted, check

    outcome = check(reference_pipeline(), "QUEUED", properties=["queued-never-overtakes"],
                    rules=[EXAMPLE])
    assert_refuted(outcome, "queued-never-overtakes", steps=4)
