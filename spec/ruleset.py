"""A rule set: the named rules the model applies, some of them possibly replaced.

The documented rules (`spec.rules.DOCUMENTED`) are one rule set.  A variant replaces some named
rules by functions of the same signature; everything else stays as documented.  Rules call one
another through the model's rule set, so a replaced rule takes effect wherever it is used.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any


class RuleSet:
    """Named rules, reachable as attributes (`rules.arrive`), and per operation the pair of rules
    (refusal, effect) that decide it."""

    def __init__(
        self,
        name: str,
        rules: Mapping[str, Callable[..., Any]],
        operation_rules: Mapping[type, tuple[str, str]],
        variants: tuple[str, ...] = (),
        replaced: Mapping[str, str] | None = None,
    ) -> None:
        self.name = name
        self.rules = dict(rules)
        self.operation_rules = dict(operation_rules)
        self.variants = variants
        """The names of the variants applied, in order (empty for the documented rules)."""
        self.replaced = dict(replaced or {})
        """Rule name -> the variant that replaced it."""
        self.__dict__.update(self.rules)
        self._operations = {
            kind: (self.rules[check], self.rules[effect])
            for kind, (check, effect) in self.operation_rules.items()
        }

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"no rule named {name!r}")

    def __repr__(self) -> str:
        return f"RuleSet({self.name!r})"

    def operation(self, kind: type) -> tuple[Callable[..., Any], Callable[..., Any]]:
        """The rules that refuse and apply operations of this kind."""
        return self._operations[kind]

    def replace(self, variant: str, overrides: Mapping[str, Callable[..., Any]]) -> RuleSet:
        """This rule set with the named rules replaced, under the variant's name.

        Raises ValueError for a name that is not a rule, a function that does not take as many
        parameters as the rule it replaces, or a rule another applied variant already
        replaced."""
        rules = dict(self.rules)
        replaced = dict(self.replaced)
        for name, fn in overrides.items():
            if name not in rules:
                raise ValueError(f"{name!r} is not a rule (rules: {', '.join(rules)})")
            expected = _parameters(self.rules[name])
            if len(_parameters(fn)) != len(expected):
                raise ValueError(f"{name} takes ({', '.join(expected)}), "
                                 f"not ({', '.join(_parameters(fn))})")
            if name in replaced:
                raise ValueError(f"variants {replaced[name]} and {variant} both replace {name}")
            rules[name] = fn
            replaced[name] = variant
        names = self.variants + (variant,)
        return RuleSet("+".join(names), rules, self.operation_rules, names, replaced)


def _parameters(fn: Callable[..., Any]) -> list[str]:
    return list(inspect.signature(fn).parameters)
