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

import importlib.util
import inspect
import sys
from pathlib import Path

from checker.errors import InputError
from spec.rules import RULES
from spec.ruleset import RuleSet
from spec.variants import VARIANTS, Variant


def load_rules_file(path: str | Path) -> Variant:
    """The variant a rules file defines; InputError for anything wrong with it."""
    file = str(path)
    target = Path(path)
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
        overrides[attr] = value
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
