"""Check configurations: from the command line, and from model files (TOML).

A model file keeps a check in a repository so it can be rerun exactly:

    pipeline = "release-pipeline.json"   # relative to this file; omit for the built-in reference
    modes = ["SUPERSEDED", "QUEUED"]     # or "all"; omit for the declaration's own mode
    properties = []                      # omit or empty: all that apply
    variants = []                        # rule variants to check instead of the documented rules
    rules = ["my_rules.py"]              # rules files (variants of your own), relative to this file
    resource = "Pipeline"                # the pipeline resource of a CloudFormation template
    engine = "interpreted"               # omit for auto: compiled wherever it can run
    update_to = ["release-v2.json"]      # declarations an update may install (with updates)

    fail-on = "error"                    # the least severe hazard that refutes (or never)

    [[property]]                         # a question about this pipeline (spec.patterns)
    name = "production-never-goes-back"
    pattern = "never-older"
    target = "StackName=web-prod"
    why = "a rollback is a new execution, never an older deploy finishing late"

    [bounds]
    executions = 3
    stops = 1
    retries = 1
    toggles = 1
    failures = true
    updates = 1                          # UpdatePipeline calls (default 0)
    update_modes = ["QUEUED"]            # modes an update may change the pipeline to
    rollbacks = 1                        # RollbackStage calls (default 0)
    max_states = 1000000
    max_seconds = 600
    max_memory = 4096                    # MiB (default: 75% of the machine's memory)

Options given on the command line override the file.
"""

from __future__ import annotations

import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any

from checker.annotations import check_keys, declared_actions, ignore_list, property_specs
from checker.check import CheckConfig, pipeline_model, pipeline_properties, reference_pipeline
from checker.engine import ENGINES, Bounds
from checker.errors import InputError
from checker.formats import PipelineSource, load_declaration, load_pipeline, source_in
from checker.rulesfile import combine, load_named_rules_file
from checker.safeio import MAX_DEPTH, MAX_INTEGER_DIGITS, check_depth, read_text
from spec.hazards import UNMODELLED_FIELD
from spec.modes import MODES
from spec.patterns import PropertySpec
from spec.properties import PROPERTIES
from spec.rules import StructureError, build_model
from spec.variants import VARIANTS
from spec.world import Declared

MODEL_KEYS = ("pipeline", "modes", "properties", "variants", "rules", "resource", "engine",
              "bounds", "property", "fail-on", "update_to")
BOUND_LIMITS: dict[str, tuple[int, int]] = {
    "executions": (1, 50),
    "stops": (0, 20),
    "retries": (0, 20),
    "toggles": (0, 20),
    "updates": (0, 5),
    "rollbacks": (0, 5),
    "max_states": (1, 10**9),
    "max_seconds": (1, 10**7),
    "max_memory": (64, 2**30),
}


def check_bound(file: str, place: str, name: str, value: object) -> int:
    low, high = BOUND_LIMITS[name]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        shown = repr(value)
        if isinstance(value, int) and value.bit_length() > 64:
            # Never more digits than Python converts to text (and never a screenful of them).
            digits = (len(str(abs(value))) if value.bit_length() < 14_000
                      else f"about {int(value.bit_length() * 0.30103) + 1}")
            shown = f"an integer of {digits} digits"
        raise InputError(file, place, f"expected an integer from {low} to {high}, got {shown}")
    return value


MAX_WORKERS = 1024


def check_engine(file: str, place: str, value: object) -> str:
    """An engine's name: auto, compiled or interpreted."""
    if not isinstance(value, str) or value not in ("auto", *ENGINES):
        raise InputError(file, place, f"expected auto, {' or '.join(ENGINES)}, got {value!r}")
    return value


def check_workers(file: str, place: str, value: object) -> int:
    """A number of workers for the compiled engine."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_WORKERS:
        raise InputError(file, place,
                         f"expected an integer from 1 to {MAX_WORKERS}, got {value!r}")
    return value


def check_names(file: str, place: str, values: object, known: dict[str, Any],
                what: str) -> tuple[str, ...]:
    if not isinstance(values, list):
        raise InputError(file, place, f"expected a list of {what} names")
    for i, v in enumerate(values):
        if not isinstance(v, str) or v not in known:
            raise InputError(file, f"{place}[{i}]",
                             f"expected a {what} name ({', '.join(known)}), got {v!r}")
    return tuple(values)


def check_modes(file: str, place: str, value: object) -> tuple[str, ...]:
    if value == "all":
        return tuple(MODES)
    if isinstance(value, str):
        value = [value]
    return check_names(file, place, value, dict(MODES), "mode")


def check_update_modes(file: str, place: str, value: object) -> tuple[str, ...]:
    """The execution modes an update may change the pipeline to: a list of mode names, or
    (on the command line) one string of them separated by commas; in `MODES` order."""
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",")]
    names = check_names(file, place, value, dict(MODES), "mode")
    return tuple(m for m in MODES if m in names)


def check_update_bounds(file: str, place: str, bounds: Bounds) -> Bounds:
    """`bounds`, refused when they name modes for updates but allow no update."""
    if bounds.update_modes and not bounds.updates:
        raise InputError(file, place, "expected updates of 1 or more with update modes: the "
                         "execution mode changes only by an UpdatePipeline")
    return bounds


def read_toml(path: Path) -> dict[str, Any]:
    """The TOML document in a file; InputError when it cannot be read or is not TOML."""
    file = str(path)
    text = read_text(path, file)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InputError(file, "", f"expected valid TOML: {error}") from error
    except RecursionError:
        raise InputError(file, "", f"expected arrays and tables nested at most {MAX_DEPTH} "
                         "deep") from None
    except ValueError as error:  # an integer beyond Python's int-string conversion limit
        raise InputError(file, "", f"expected valid TOML with integers of at most "
                         f"{MAX_INTEGER_DIGITS} digits ({str(error).split(':')[0]})") from None
    check_depth(data, file)
    return data


def load_model_file(path: Path) -> CheckConfig:
    """The configuration in a model file."""
    file = str(path)
    data = read_toml(path)
    for key in data:
        if key not in MODEL_KEYS:
            raise InputError(file, key, f"expected one of the keys {', '.join(MODEL_KEYS)}")
    resource = data.get("resource")
    if resource is not None and not isinstance(resource, str):
        raise InputError(file, "resource", "expected the logical id of a pipeline resource")
    base: CheckConfig | None = None
    if "pipeline" in data:
        if not isinstance(data["pipeline"], str):
            raise InputError(file, "pipeline", "expected a path to a declaration file")
        target = path.parent / data["pipeline"]
        pipeline = load_pipeline(target, resource, named_by=file)
        base = declaration_config(source_in(target, resource))
        source = str(target)
    else:
        pipeline, source = reference_pipeline(), "built-in reference pipeline"
    own = property_specs(data.get("property"), file, "property")
    fail_on = data.get("fail-on", "error")
    if fail_on not in FAIL_ON:
        raise InputError(file, "fail-on", f"expected one of {', '.join(FAIL_ON)}, got "
                         f"{fail_on!r}")
    modes = (check_modes(file, "modes", data["modes"]) if "modes" in data
             else (pipeline.execution_mode,))
    props = check_names(file, "properties", data.get("properties", []), PROPERTIES, "property")
    variants = check_names(file, "variants", data.get("variants", []), VARIANTS, "variant")
    paths = data.get("rules", [])
    if not isinstance(paths, list) or not all(isinstance(x, str) for x in paths):
        raise InputError(file, "rules", "expected a list of paths to rules files")
    loaded = tuple(load_named_rules_file(path.parent / x, file, f"rules[{i}]")
                   for i, x in enumerate(paths))
    combine(file, "rules", variants, loaded)
    bounds = Bounds()
    raw = data.get("bounds", {})
    if not isinstance(raw, dict):
        raise InputError(file, "bounds", "expected a table of bounds")
    for key, value in raw.items():
        place = f"bounds.{key}"
        if key == "failures":
            if not isinstance(value, bool):
                raise InputError(file, place, f"expected true or false, got {value!r}")
            bounds = replace(bounds, failures=value)
        elif key == "update_modes":
            bounds = replace(bounds, update_modes=check_update_modes(file, place, value))
        elif key in BOUND_LIMITS:
            values: dict[str, Any] = {key: check_bound(file, place, key, value)}
            bounds = replace(bounds, **values)
        else:
            raise InputError(file, place, f"expected one of failures, update_modes, "
                             f"{', '.join(BOUND_LIMITS)}")
    bounds = check_update_bounds(file, "bounds.update_modes", bounds)
    engine = check_engine(file, "engine", data.get("engine", "auto"))
    config = CheckConfig(pipeline, source, modes, bounds, props, variants, loaded, engine,
                         own=tuple(own), fail_on=str(fail_on))
    if base is not None:
        config = replace(config, own=(*base.own, *own), hazards=True, declared=base.declared,
                         ignored=base.ignored, warnings=base.warnings)
    if "update_to" in data:
        paths = data["update_to"]
        if not isinstance(paths, list) or not paths or not all(isinstance(x, str)
                                                               for x in paths):
            raise InputError(file, "update_to", "expected a list of paths to declaration files")
        config = with_updates_to(config, [path.parent / x for x in paths], file, "update_to")
    return config


def with_updates_to(config: CheckConfig, files: list[Path], file: str,
                    place: str) -> CheckConfig:
    """`config` with the declarations an update may install (`--update-to`, a model file's
    `update_to`), and the warnings for their fields that the model does not account for;
    `file` and `place` say where they were given."""
    if not config.bounds.updates:
        raise InputError(file, place, f"expected {'--' if file == 'command line' else ''}"
                         f"updates 1 or more with {place}: a declaration is installed only by "
                         f"an UpdatePipeline")
    loaded = list(config.updates_to)
    warnings = list(config.warnings)
    for target in files:
        declared, found = load_declaration(target, named_by=file)
        loaded.append((str(target), declared))
        warnings += [replace(w, file=str(target)) for w in found]
    config = replace(config, updates_to=tuple(loaded), warnings=tuple(warnings))
    try:
        build_model(config.pipeline, updates_to=tuple(p for _, p in loaded))
    except StructureError as why:
        raise InputError(file, f"{place} #{why.structure}", f"expected stages the model can "
                         f"number together with the pipeline's: {why}") from None
    return config


FAIL_ON = ("error", "warning", "note", "never")


def declaration_config(source: PipelineSource) -> CheckConfig:
    """The check of a user's declaration in its own mode: CodePipeline's guarantees, and the
    questions about this pipeline (its hazards, and the properties its `stagelock:` metadata
    asks for), with what the metadata says about its actions and the rules it silences."""
    pipeline = source.pipeline
    stagelock, place = source.stagelock, source.stagelock_place or "stagelock"
    ignored: tuple[str, ...] = ()
    own: list[PropertySpec] = []
    declared: dict[tuple[str, str], Declared] = {}
    if source.stagelock_place:
        check_keys(stagelock, source.file, place)
        ignored = tuple(sorted(ignore_list(stagelock, source.file, place)))
        own = property_specs(stagelock.get("properties"), source.file, f"{place}.properties")
        declared = declared_actions(stagelock, pipeline, source.file, place)
    return CheckConfig(pipeline, source.file, (pipeline.execution_mode,), own=tuple(own),
                       hazards=True, declared=tuple(declared.items()), ignored=ignored,
                       warnings=() if UNMODELLED_FIELD in ignored else tuple(source.warnings))


def validate_own(config: CheckConfig) -> None:
    """InputError, before any search, where an owner's property names what the pipeline does
    not have (checked against its model in each mode asked for)."""
    if not config.own:
        return
    for mode in config.modes:
        pipeline_properties(config, pipeline_model(config, mode))
