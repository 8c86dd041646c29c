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
from spec.world import LAST_WRITER_WINS, REFUSES_WHILE_BUSY, REPLACES, ROLES, Declared
from spec.world import writes as writes_target

OVERLAPS = {"last-writer-wins": LAST_WRITER_WINS, "refuses-while-busy": REFUSES_WHILE_BUSY,
            "replaces": REPLACES}
FIELDS = ("role", "writes", "target", "reads", "overlap")
KEYS = ("ignore", "reason", "actions")
"""What `stagelock:` may hold: the rules silenced for this pipeline, the reason for that (text
for the people who read the file), and what its actions do."""


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
