"""What a declaration's `stagelock:` metadata says about its actions.

In a CloudFormation template it sits under the pipeline resource's `Metadata`; in a get-pipeline
document beside `pipeline` (or inside the declaration).  `actions` maps an action, named
`STAGE.ACTION` (or just `ACTION` where the name is unique in the pipeline), to what the
declaration cannot say itself:

    stagelock:
      actions:
        Deploy.KubectlApply: {role: deploy, writes: eks/shop-prod}
        Build.ResolveIdleColour: {reads: live-colour}
        Release.SwapColours: {writes: live-colour}
        Verify.SmokeTests: {role: test}          # tests the nearest deploy before it

`role` is `deploy`, `test`, `approval` or `none`; `writes` names one target, `reads` one or a
list; `overlap` says what the target's provider does with overlapping deploys
(`last-writer-wins`, `refuses-while-busy`, `replaces`).  A target is any name; the names lint
derives itself (`StackName=web-prod`, shown by `stagelock lint --explain`) may be used to mean
the same target.
"""

from __future__ import annotations

from typing import Any

from checker.errors import InputError
from spec.declaration import Pipeline
from spec.hazards import LINT_RULES
from spec.patterns import PATTERNS, PatternError, PropertySpec, instance
from spec.properties import PROPERTIES, Property
from spec.rules import Model
from spec.world import LAST_WRITER_WINS, REFUSES_WHILE_BUSY, REPLACES, ROLES, Declared
from spec.world import writes as writes_target

OVERLAPS = {"last-writer-wins": LAST_WRITER_WINS, "refuses-while-busy": REFUSES_WHILE_BUSY,
            "replaces": REPLACES}
FIELDS = ("role", "writes", "target", "reads", "overlap")
KEYS = ("ignore", "reason", "actions", "properties")
"""What `stagelock:` may hold: the rules silenced for this pipeline, the reason for that (text
for the people who read the file), what its actions do, and the owner's own properties
(`spec.patterns`)."""
PROPERTY_KEYS = ("pattern", "name", "why")
"""The keys of a property besides its pattern's parameters."""


def declared_actions(stagelock: dict[str, Any], pipeline: Pipeline, file: str,
                     place: str) -> dict[tuple[str, str], Declared]:
    """The `actions` of a `stagelock:` mapping, by (stage, action); InputError naming the file
    and the place for anything else."""
    value = stagelock.get("actions")
    if value is None:
        return {}
    at = f"{place}.actions"
    if not isinstance(value, dict):
        raise InputError(file, at, "expected an object of STAGE.ACTION: {role, writes, reads}")
    names = [(s.name, a.name) for s in pipeline.stages for a in s.actions]
    out: dict[tuple[str, str], Declared] = {}
    for key, body in value.items():
        here = f"{at}.{key}"
        which = _action(str(key), names, file, here)
        if not isinstance(body, dict):
            raise InputError(file, here, f"expected an object with {', '.join(FIELDS)}")
        unknown = [k for k in body if k not in FIELDS]
        if unknown:
            raise InputError(file, f"{here}.{unknown[0]}",
                             f"expected one of {', '.join(FIELDS)}, got {unknown[0]!r}")
        role = body.get("role")
        if role is not None and role not in ROLES:
            raise InputError(file, f"{here}.role",
                             f"expected one of {', '.join(ROLES)}, got {role!r}")
        if "writes" in body and "target" in body:
            raise InputError(file, f"{here}.target",
                             "expected writes or target (they mean the same), not both")
        writes = body.get("writes", body.get("target"))
        if writes is not None and not (isinstance(writes, str) and writes):
            raise InputError(file, f"{here}.writes", "expected the name of a target")
        reads = body.get("reads", [])
        if isinstance(reads, str):
            reads = [reads]
        if not isinstance(reads, list) or not all(isinstance(r, str) and r for r in reads):
            raise InputError(file, f"{here}.reads", "expected a target name or a list of them")
        overlap = body.get("overlap")
        if overlap is not None and overlap not in OVERLAPS:
            raise InputError(file, f"{here}.overlap",
                             f"expected one of {', '.join(OVERLAPS)}, got {overlap!r}")
        stage, name = which
        action = next(a for st in pipeline.stages if st.name == stage for a in st.actions
                      if a.name == name)
        if overlap is not None and not (writes or role == "deploy" or writes_target(action)):
            raise InputError(file, f"{here}.overlap", "expected overlap only for an action that "
                             "writes a target (writes: TARGET, or role: deploy)")
        if which in out:
            raise InputError(file, here, f"expected each action once, {'.'.join(which)} is "
                             "already described")
        out[which] = Declared(role, writes, tuple(reads),
                              OVERLAPS[overlap] if overlap is not None else None)
    return out


def _action(key: str, names: list[tuple[str, str]], file: str, place: str) -> tuple[str, str]:
    if key.count(".") and tuple(key.split(".", 1)) in names:
        stage, action = key.split(".", 1)
        return stage, action
    matches = [n for n in names if n[1] == key]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise InputError(file, place, f"expected STAGE.ACTION: {key!r} is an action of "
                         f"{', '.join(s for s, _ in matches)}")
    shown = ", ".join(f"{s}.{a}" for s, a in names[:8]) + (", ..." if len(names) > 8 else "")
    raise InputError(file, place, f"expected an action of the pipeline as STAGE.ACTION "
                     f"({shown}), got {key!r}")


def check_keys(stagelock: object, file: str, place: str) -> dict[str, Any]:
    """The `stagelock:` mapping, with only the keys it may hold."""
    if not isinstance(stagelock, dict):
        raise InputError(file, place, f"expected an object with {', '.join(KEYS)}")
    for key in stagelock:
        if key not in KEYS:
            raise InputError(file, f"{place}.{key}",
                             f"expected one of {', '.join(KEYS)}, got {key!r}")
    return stagelock


def property_specs(value: object, file: str, place: str) -> list[PropertySpec]:
    """The properties a list of objects asks for (`stagelock: properties:` in a declaration,
    `[[property]]` in a model file), checked against the patterns; InputError naming the file
    and the place for anything else.  Whether the names fit the pipeline is `instances`'s."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise InputError(file, place, "expected a list of properties, each with a pattern "
                         f"({', '.join(PATTERNS)})")
    out: list[PropertySpec] = []
    names: set[str] = set()
    for i, body in enumerate(value):
        here = f"{place}[{i}]"
        out.append(property_spec(body, file, here))
        name = out[-1].name
        if name and (name in names or name in PROPERTIES):
            raise InputError(file, f"{here}.name", f"expected a name of its own, {name!r} is "
                             "already a property's")
        names.add(name)
    return out


def property_spec(body: object, file: str, place: str) -> PropertySpec:
    """One property as an object: `pattern`, its parameters, and an optional `name` and `why`."""
    if isinstance(body, PropertySpec):
        return body
    if not isinstance(body, dict):
        raise InputError(file, place, f"expected an object with a pattern ({', '.join(PATTERNS)})"
                         " and its parameters")
    pattern = body.get("pattern")
    if pattern not in PATTERNS:
        raise InputError(file, f"{place}.pattern",
                         f"expected one of {', '.join(PATTERNS)}, got {pattern!r}")
    allowed = PATTERNS[pattern].params + PATTERNS[pattern].optional
    for key in body:
        if key not in PROPERTY_KEYS and key not in allowed:
            raise InputError(file, f"{place}.{key}", f"expected one of the parameters of "
                             f"{pattern} ({', '.join(allowed)}) or name, why")
    for key in PATTERNS[pattern].params:
        if key not in body:
            raise InputError(file, f"{place}.{key}", f"expected {key}, a parameter of {pattern}")
    for key in ("name", "why"):
        if key in body and not (isinstance(body[key], str) and body[key]):
            raise InputError(file, f"{place}.{key}", "expected text")
    args = {k: v for k, v in body.items() if k not in PROPERTY_KEYS}
    return PropertySpec(str(pattern), args, body.get("name", ""), body.get("why", ""),
                        place, file=file)


def instances(m: Model, specs: list[PropertySpec] | tuple[PropertySpec, ...]) -> list[Property]:
    """The properties `specs` ask of the model's pipeline; InputError naming the file and the
    place of a parameter that does not fit it (an action, stage or target it does not have)."""
    out = []
    for spec in specs:
        try:
            out.append(instance(m, spec))
        except PatternError as error:
            raise InputError(spec.file or "properties", f"{spec.place}.{error.place}"
                             if spec.place else error.place, error.expected) from None
    return out


def rule_ids(value: str, file: str, place: str) -> str:
    by_name = {r.name: r.id for r in LINT_RULES.values()}
    if value in LINT_RULES:
        return value
    if value in by_name:
        return by_name[value]
    raise InputError(file, place, f"expected a rule id or name ({', '.join(LINT_RULES)}; "
                     f"{', '.join(by_name)}), got {value!r}")


def ignore_list(value: object, file: str, place: str) -> set[str]:
    if not isinstance(value, dict) or not isinstance(value.get("ignore", []), list):
        raise InputError(file, place, "expected {ignore: [rule ids or names]}")
    return {rule_ids(str(v), file, f"{place}.ignore[{i}]")
            for i, v in enumerate(value.get("ignore", []))}
