"""The stagelock pytest plugin, installed with the package (entry point ``pytest11``).

- The ``stagelock`` fixture: the module `checker.testing` (``stagelock.check(...)``,
  ``stagelock.assert_proved(...)``, ``stagelock.assert_refuted(...)``).
- When a test fails on a plain ``assert`` about a `CheckOutcome` that is not PROVED (``assert
  outcome.proved``), the failure shows the outcome's report, counterexamples included.
- Scenario files as tests, when a project asks for them: the ini option ``stagelock_scenarios``
  (glob patterns relative to the rootdir) and the option ``--stagelock-scenarios=GLOB``
  (relative to the directory pytest runs in; repeatable).  Each matching file, wherever pytest
  collects, is one test that fails with the scenario's failures, as `stagelock simulate` prints
  them, or with the one-line message of a malformed file.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Generator, Iterator
from pathlib import Path
from types import ModuleType, TracebackType
from typing import TYPE_CHECKING

import pytest

from checker import testing
from checker.errors import InputError
from checker.scenario import load_scenario, run_scenario
from checker.testing import CheckAssertionError, CheckOutcome

if TYPE_CHECKING:
    from _pytest._code.code import TerminalRepr

_SCENARIO_FILES = pytest.StashKey[frozenset[Path]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("stagelock", "stagelock scenario files")
    group.addoption(
        "--stagelock-scenarios", action="append", default=[], metavar="GLOB",
        dest="stagelock_scenarios",
        help="collect the scenario files matching GLOB (relative to the current directory) "
        "as tests (repeatable)")
    parser.addini(
        "stagelock_scenarios", type="args", default=[],
        help="glob patterns, relative to the rootdir, of scenario files to collect as tests")


@pytest.fixture
def stagelock() -> ModuleType:
    """`checker.testing`: ``check``, ``assert_proved``, ``assert_refuted``, ``CheckOutcome``."""
    return testing


# --------------------------------------------------------------------------------------------
# A readable `assert outcome.proved`


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.failed and call.excinfo is not None and call.excinfo.errisinstance(AssertionError) \
            and not call.excinfo.errisinstance(CheckAssertionError):
        for outcome in _outcomes(item, call.excinfo.tb):
            report.sections.append(
                (f"stagelock check of {outcome.config.pipeline.name}: {outcome.result}",
                 str(outcome)))
    return report


def _outcomes(item: pytest.Item, tb: TracebackType | None) -> list[CheckOutcome]:
    """The outcomes that are not PROVED among the test's fixtures and the locals of the frames
    of the failure (a rewritten ``assert`` keeps the values it evaluated there)."""
    candidates: list[object] = list(getattr(item, "funcargs", {}).values())
    while tb is not None:
        candidates += tb.tb_frame.f_locals.values()
        tb = tb.tb_next
    found: dict[int, CheckOutcome] = {}
    for value in candidates:
        if isinstance(value, CheckOutcome) and not value.proved:
            found.setdefault(id(value), value)
    return list(found.values())


# --------------------------------------------------------------------------------------------
# Scenario files


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if _resolved(file_path) in _scenario_files(parent.config):
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


def _scenario_files(config: pytest.Config) -> frozenset[Path]:
    """The files the patterns match, found once per run."""
    if _SCENARIO_FILES not in config.stash:
        patterns = [(config.rootpath, p) for p in config.getini("stagelock_scenarios")]
        patterns += [(config.invocation_params.dir, p)
                     for p in config.getoption("stagelock_scenarios") or ()]
        files = {
            _resolved(Path(found))
            for base, pattern in patterns
            for found in glob.glob(os.path.join(base, pattern), recursive=True)
            if os.path.isfile(found)
        }
        config.stash[_SCENARIO_FILES] = frozenset(files)
    return config.stash[_SCENARIO_FILES]


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:
        return path.absolute()


class ScenarioFile(pytest.File):
    """A scenario file: one test, named after the file."""

    def collect(self) -> Iterator[ScenarioItem]:
        yield ScenarioItem.from_parent(self, name=self.path.name)


class ScenarioFailed(Exception):
    """The scenario's failures, or the one line that says why the file cannot be read."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


class ScenarioItem(pytest.Item):
    """Runs the scenario's steps and checks its expectations, as `stagelock simulate` does."""

    def runtest(self) -> None:
        try:
            scenario = load_scenario(self.path)
        except InputError as error:
            raise ScenarioFailed([f"stagelock: {error}"]) from None
        run = run_scenario(scenario)
        if run.failures:
            raise ScenarioFailed([f"FAILED {f}" for f in run.failures])

    def repr_failure(
        self, excinfo: pytest.ExceptionInfo[BaseException], style: str | None = None
    ) -> str | TerminalRepr:
        if isinstance(excinfo.value, ScenarioFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"scenario {self.nodeid.split('::')[0]}"
