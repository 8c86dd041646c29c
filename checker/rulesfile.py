"""Rule variants written by users, in a small Python file.

    \"\"\"Newest first: the newest execution waiting in front of a stage enters first.\"\"\"
    from spec.rules import Model

    NAME = "newest-first"       # optional; default: the file's name without .py
    SUMMARY = "..."             # optional; default: the first line of the docstring

    def next_to_enter(m: Model, queue: tuple[int, ...]) -> int:
        return queue[-1]

Every public function defined in the file replaces the documented rule of that name (see
`spec.rules.RULES`); it takes the same parameters and may call the documented rule (`from spec
import rules; rules.next_to_enter(m, queue)`) for the cases it leaves alone.  Helpers whose
names start with `_`, and anything imported, are not rules.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import inspect
import sys
import typing
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from checker.errors import InputError
from spec.rules import RULES
from spec.ruleset import RuleSet
from spec.variants import VARIANTS, Variant

_DATA_FILES_MAY_NAME_RULES: ContextVar[bool] = ContextVar("stagelock_data_files_rules",
                                                         default=True)
"""Whether a data file (scenario, model file, baseline configurations) may name rules files.
The `stagelock` command sets it from `--allow-rules-files` or the project's pyproject.toml;
Python callers of the library are trusted (they run code already)."""

ALLOW_HOW = ("a rules file is Python that runs: to let data files name rules files, pass "
             "--allow-rules-files or set allow-rules-files = true under [tool.stagelock] in "
             "./pyproject.toml")


@contextlib.contextmanager
def data_files_may_name_rules(allowed: bool) -> Iterator[None]:
    """Within the block, data files may (or may not) name rules files."""
    token = _DATA_FILES_MAY_NAME_RULES.set(allowed)
    try:
        yield
    finally:
        _DATA_FILES_MAY_NAME_RULES.reset(token)


def load_named_rules_file(path: str | Path, file: str, place: str) -> Variant:
    """A rules file named by the data file ``file`` at ``place``: refused unless allowed
    (`data_files_may_name_rules`), since loading it runs its code."""
    if not _DATA_FILES_MAY_NAME_RULES.get():
        raise InputError(file, place, f"expected no rules file ({str(path)!r} is named here); "
                         f"{ALLOW_HOW}")
    return load_rules_file(path)


def project_allows_rules_files(directory: Path | None = None) -> bool:
    """Whether ``directory``'s (default: the current directory's) pyproject.toml says
    ``allow-rules-files = true`` under ``[tool.stagelock]``."""
    import tomllib

    from checker.safeio import read_text

    path = (directory or Path.cwd()) / "pyproject.toml"
    if not path.is_file():
        return False
    try:
        data = tomllib.loads(read_text(path))
    except (InputError, tomllib.TOMLDecodeError, ValueError, RecursionError):
        return False
    tool = data.get("tool")
    section = tool.get("stagelock") if isinstance(tool, dict) else None
    return isinstance(section, dict) and section.get("allow-rules-files") is True


def load_rules_file(path: str | Path) -> Variant:
    """The variant a rules file defines; InputError for anything wrong with it."""
    file = str(path)
    target = Path(path)
    if target.exists() and not target.is_file():
        raise InputError(file, "", "expected a Python file of rules, got something that is not "
                         "a regular file")
    if not target.is_file():
        raise InputError(file, "", "expected a Python file of rules (it does not exist)")
    name = f"stagelock_rules_{abs(hash(str(target.resolve())))}"
    spec = importlib.util.spec_from_file_location(name, target)
    if spec is None or spec.loader is None:
        raise InputError(file, "", "expected a Python file of rules")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except SyntaxError as error:
        raise InputError(file, f"line {error.lineno}",
                         f"expected valid Python: {error.msg}") from error
    except Exception as error:  # the user's code failed while loading
        line = _line_of(error, target)
        raise InputError(file, line, f"expected the file to load, it raised "
                         f"{type(error).__name__}: {error}") from error
    finally:
        sys.modules.pop(name, None)
    overrides = {}
    for attr, value in vars(module).items():
        if attr.startswith("_") or not inspect.isfunction(value):
            continue
        if value.__module__ != module.__name__:
            continue  # imported, not defined here
        line = f"line {value.__code__.co_firstlineno}"
        if attr not in RULES:
            raise InputError(file, line, f"expected a function named after a rule "
                             f"({', '.join(RULES)}), got {attr!r} (start helpers' names "
                             f"with _)")
        want = list(inspect.signature(RULES[attr]).parameters)
        got = list(inspect.signature(value).parameters)
        if len(want) != len(got):
            raise InputError(file, line, f"expected {attr} to take ({', '.join(want)}), "
                             f"it takes ({', '.join(got)})")
        overrides[attr] = _guarded(attr, value, target, file)
    if not overrides:
        raise InputError(file, "", f"expected at least one function named after a rule "
                         f"({', '.join(RULES)})")
    variant_name = getattr(module, "NAME", target.stem)
    if not isinstance(variant_name, str) or not variant_name:
        raise InputError(file, "NAME", "expected a non-empty string")
    if variant_name in VARIANTS:
        raise InputError(file, "NAME", f"expected a name other than the built-in variant "
                         f"{variant_name!r}")
    doc = (module.__doc__ or "").strip().splitlines()
    summary = getattr(module, "SUMMARY", doc[0] if doc else f"the rules of {target.name}")
    if not isinstance(summary, str):
        raise InputError(file, "SUMMARY", "expected a string")
    return Variant(variant_name, summary, broken=False, overrides=overrides,
                   source=str(target.resolve()))


class RuleFailure(InputError):
    """A user's rule function that raised, returned a value of the wrong type, recursed without
    end or called `sys.exit` while the rules ran: bad input (exit 2), naming the rule, the file
    and the line."""


def _guarded(name: str, fn: Callable[..., Any], target: Path, file: str) -> Callable[..., Any]:
    """``fn`` (a user's replacement of the rule ``name``), checked at every call: whatever goes
    wrong inside it becomes one `RuleFailure`; the documented rule's return type is checked."""
    hints = typing.get_type_hints(RULES[name])
    wanted = hints.get("return")
    kinds = tuple(type(None) if k is None else k for k in typing.get_args(wanted)) or (
        (wanted,) if isinstance(wanted, type) else ())
    defined = f"line {fn.__code__.co_firstlineno}"
    what = " or ".join("None" if k is type(None) else k.__name__ for k in kinds)

    @functools.wraps(fn)
    def rule(*args: Any) -> Any:
        try:
            result = fn(*args)
        except RuleFailure:
            raise
        except KeyboardInterrupt:
            raise
        except RecursionError as error:
            raise RuleFailure(file, _line_of(error, target) or defined,
                              f"expected the rule {name} to return, it recursed without end "
                              f"(RecursionError)") from None
        except SystemExit as error:
            raise RuleFailure(file, _line_of(error, target) or defined,
                              f"expected the rule {name} to return, it called sys.exit"
                              f"({error.code!r})") from None
        except BaseException as error:
            raise RuleFailure(file, _line_of(error, target) or defined,
                              f"expected the rule {name} to return, it raised "
                              f"{type(error).__name__}: {_brief(error)}") from None
        if kinds and not isinstance(result, kinds):
            raise RuleFailure(file, defined, f"expected the rule {name} to return {what}, it "
                              f"returned {_brief_value(result)}")
        return result

    return rule


def _brief(error: BaseException) -> str:
    try:
        text = str(error)
    except Exception:  # a user's exception whose str() fails
        text = ""
    text = " ".join(text.split())
    return text if len(text) <= 120 else text[:117] + "..."


def _brief_value(value: object) -> str:
    kind = type(value).__name__
    return "None" if value is None else f"a value of type {kind}"


def _line_of(error: BaseException, target: Path) -> str:
    tb = error.__traceback__
    line = ""
    while tb is not None:
        if Path(tb.tb_frame.f_code.co_filename) == target:
            line = f"line {tb.tb_lineno}"
        tb = tb.tb_next
    return line


def combine(file: str, place: str, variants: tuple[str, ...],
            extra: tuple[Variant, ...]) -> RuleSet:
    """The rule set of built-in variants and loaded ones; InputError where they clash."""
    from spec.variants import rule_set

    try:
        return rule_set(variants, extra)
    except ValueError as error:
        raise InputError(file, place, f"expected variants that replace different rules: "
                         f"{error}") from error
