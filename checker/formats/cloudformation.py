"""CloudFormation templates: their `AWS::CodePipeline::Pipeline` resources, in JSON or YAML, written
by hand or synthesised (the AWS CDK).

A pipeline's ``Properties`` are evaluated before the declaration is read: intrinsic functions are
worked out where the template says enough (a parameter's ``Default``, literal ``Mappings``,
``Conditions`` over defaults, ``!Sub``, ``!Join``, ``!Select``, ``!Split`` of known values), and
whatever only a deployment knows becomes an `Opaque` value whose text is its readable form
(``!Ref Bucket``, ``!GetAtt Build.Arn``, ``${RepoName}-staging``).  A valid template is never
refused for an intrinsic function; where reading one changes what is checked, a `Note` says how
it was read.

Decision: a parameter reads as its ``Default`` (what a deployment that does not override it
gets), without a note: the template's author wrote the default as the usual value, and noting
every use of it would bury the notes that matter.  A parameter without a default, or of an SSM
type (whose default names the SSM parameter rather than giving its value), is opaque.

What the file says to stagelock is the pipeline resource's ``Metadata.stagelock``.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import re
from typing import Any, TypeGuard

from checker.errors import InputError
from checker.formats import NoPipeline, Note, PipelineSource
from checker.formats.documents import Key, key_line_at, line_at
from checker.formats.getpipeline import stagelock_settings
from spec.declaration import (
    EXECUTION_MODES,
    PIPELINE_TYPES,
    RESULTS,
    RETRY,
    RETRY_MODES,
    Computed,
    DeclarationError,
    Opaque,
    Pipeline,
    parse_cloudformation_pipeline,
)
from spec.unmodelled import FieldWarning, declaration_warnings
from spec.world import CHECKED_CONFIGURATION, target_keys, writes

CLOUDFORMATION_PIPELINE_TYPE = "AWS::CodePipeline::Pipeline"

Raw = tuple[Key, ...]
"""A key path in the template as written (into long-form functions: ``Fn::If``, 1)."""


def is_cloudformation_template(doc: object) -> TypeGuard[dict[Any, Any]]:
    """Whether ``doc`` is a CloudFormation template rather than a pipeline declaration."""
    return (
        isinstance(doc, dict)
        and "Resources" in doc
        and "pipeline" not in doc
        and "stages" not in doc
    )


def pipeline_ids(template: dict[Any, Any], file: str) -> list[str]:
    """The logical ids of the template's pipeline resources, in the template's order."""
    resources = template["Resources"]
    if not isinstance(resources, dict):
        raise InputError(file, "Resources", "expected an object of resources")
    return [str(logical_id) for logical_id, body in resources.items()
            if isinstance(body, dict) and body.get("Type") == CLOUDFORMATION_PIPELINE_TYPE]


def chosen_pipeline(template: dict[Any, Any], file: str, resource: str | None) -> str:
    """The logical id of the pipeline resource named ``resource``, or of the template's only
    pipeline resource when ``resource`` is None."""
    pipelines = pipeline_ids(template, file)
    if resource is not None:
        if resource not in template["Resources"]:
            known = ", ".join(pipelines) if pipelines else "none"
            raise InputError(file, "Resources", f'expected a resource "{resource}" '
                             f"(the {CLOUDFORMATION_PIPELINE_TYPE} resources are: {known})")
        if resource not in pipelines:
            raise InputError(file, f"Resources.{resource}.Type",
                             f"expected {CLOUDFORMATION_PIPELINE_TYPE}")
        return resource
    if not pipelines:
        raise NoPipeline(file, "Resources", f"expected a resource of Type "
                         f"{CLOUDFORMATION_PIPELINE_TYPE}, found none")
    if len(pipelines) > 1:
        raise InputError(file, "Resources", f"expected one resource of Type "
                         f"{CLOUDFORMATION_PIPELINE_TYPE}, found {len(pipelines)} "
                         f"({', '.join(pipelines)}): choose one by its logical id")
    return pipelines[0]


def sources_of(template: dict[Any, Any], file: str,
               text: str | None = None) -> list[PipelineSource]:
    """Every pipeline of the template, in the template's order; ``text`` is the file's text
    (for lines), when known."""
    ids = pipeline_ids(template, file)
    if not ids:
        chosen_pipeline(template, file, None)  # raises its message
    return [source_of(template, file, logical_id, text) for logical_id in ids]


def pipeline_of(template: dict[Any, Any], file: str, logical_id: str) -> Pipeline:
    """The pipeline of the resource ``logical_id``, without reading what the resource says to
    stagelock."""
    return _Reading(template, file, logical_id, None).pipeline


def source_of(template: dict[Any, Any], file: str, logical_id: str,
              text: str | None = None) -> PipelineSource:
    """The pipeline of the resource ``logical_id``, with its places, its ``Metadata.stagelock``,
    its disabled transitions and the notes on what was read approximately."""
    reading = _Reading(template, file, logical_id, text)
    body = template["Resources"][logical_id]
    stagelock: dict[str, Any] = {}
    place = ""
    meta = body.get("Metadata")
    if isinstance(meta, dict) and "stagelock" in meta:
        place = f"Resources.{logical_id}.Metadata.stagelock"
        stagelock = stagelock_settings(meta["stagelock"], file, place)
    disabled = reading.disabled()
    reading.note_targets()
    notes = sorted(reading.notes, key=lambda n: n.line if n.line is not None else 1 << 30)
    return PipelineSource(file, reading.pipeline, f"Resources.{logical_id}", reading.locate,
                          stagelock, place, disabled, notes, _warnings(reading))


def warnings_of(template: dict[Any, Any], file: str, logical_id: str,
                text: str | None = None) -> tuple[FieldWarning, ...]:
    """The warnings for the fields of the resource ``logical_id`` that the model does not
    account for, with their lines in ``text`` (the file's text, when known)."""
    return _warnings(_Reading(template, file, logical_id, text))


def _warnings(reading: _Reading) -> tuple[FieldWarning, ...]:
    return tuple(
        dataclasses.replace(w, line=reading.warning_line(w.keys))
        for w in declaration_warnings(reading.properties, reading.place, cloudformation=True))


# --------------------------------------------------------------------------------------------
# Reading one pipeline resource


_NO_VALUE_MARK = {"Ref": "AWS::NoValue"}
"""What an item that a condition leaves out reads as in the lists whose places are numbered
(stages, actions, disabled transitions): the declaration reader skips it, and the items after it
keep their numbers."""

_GAPPED = ("Stages", "Actions", "DisableInboundStageTransitions")


class _Values(list[Any]):
    """A list that an intrinsic function gives (a list parameter, `!Split`, a mapping's list):
    where a single value stands, it reads as its values joined by commas."""


class _NoValue:
    """`!Ref AWS::NoValue`: the item or field is left out."""


_NO_VALUE = _NoValue()

_STACK_WIDE = ("AWS::AccountId", "AWS::Partition", "AWS::Region", "AWS::StackId",
               "AWS::StackName", "AWS::URLSuffix")
"""Pseudo parameters with one value in the whole stack."""


class _Reading:
    """The evaluation of one pipeline resource's ``Properties`` and the notes made on the way."""

    def __init__(self, template: dict[Any, Any], file: str, logical_id: str,
                 text: str | None) -> None:
        self.file = file
        self.text = text
        self.notes: list[Note] = []
        self._quiet = 0
        sections = {key: template.get(key) for key in ("Parameters", "Mappings", "Conditions")}
        self.parameters = _literal(sections["Parameters"]) or {}
        self.mappings = _literal(sections["Mappings"])
        self.conditions = _literal(sections["Conditions"]) or {}
        self._decided: dict[str, bool | None] = {}
        self._origins: dict[int, tuple[str, Raw]] = {}
        self._noted: set[str] = set()
        self._exact: set[str] = set()
        """Opaque texts made only of known parts, `_STACK_WIDE` pseudo parameters and the
        template's own resources (`!Ref Bucket`, `!GetAtt Service.Name`): two such texts are the
        same value exactly when they are the same text (one stack, distinct resources), so
        reading them as they are is no approximation and needs no note."""
        self.resources = template["Resources"]
        body = template["Resources"][logical_id]
        self.place = f"Resources.{logical_id}.Properties"
        if "Properties" not in body:
            raise InputError(file, self.place,
                             "expected the pipeline's properties, but they are missing")
        raw: Raw = ("Resources", logical_id, "Properties")
        self.properties = _single(self._eval(body["Properties"], self.place, raw))
        self._settle()
        try:
            self.pipeline = parse_cloudformation_pipeline(self.properties, self.place, logical_id)
        except DeclarationError as error:
            raise InputError(file, error.place, error.expected) from error
        self._items = self._item_origins()

    # --- places and notes ---------------------------------------------------------------------

    def locate(self, stage: int, action: int | None) -> int | None:
        """The line of stage number ``stage`` (its action number ``action``) of the pipeline."""
        if self.text is None or not 0 <= stage < len(self._items):
            return None
        raw, actions = self._items[stage]
        if action is not None:
            if not 0 <= action < len(actions):
                return None
            raw = actions[action]
        return line_at(self.text, raw)

    def warning_line(self, keys: tuple[str | int, ...]) -> int | None:
        """The line of a field at ``keys`` (a path in the evaluated properties), found through
        the raw paths of its stage and action, so that conditions and short forms still map."""
        if self.text is None:
            return None
        rest = list(keys[3:])  # after Resources, id, Properties
        if len(rest) >= 2 and rest[0] == "Stages" and isinstance(rest[1], int) \
                and 0 <= rest[1] < len(self._items):
            raw, actions = self._items[rest[1]]
            rest = rest[2:]
            if len(rest) >= 2 and rest[0] == "Actions" and isinstance(rest[1], int) \
                    and 0 <= rest[1] < len(actions):
                raw, rest = actions[rest[1]], rest[2:]
            return key_line_at(self.text, [*raw, *rest])
        return key_line_at(self.text, list(keys))

    def note(self, place: str, raw: Raw, text: str) -> None:
        if self._quiet:
            return
        line = line_at(self.text, raw) if self.text is not None else None
        self.notes.append(Note(place, text, line))

    def _origin(self, value: object) -> tuple[str, Raw] | None:
        return self._origins.get(id(value)) if isinstance(value, dict) else None

    def _item_origins(self) -> list[tuple[Raw, list[Raw]]]:
        """The raw key path of each stage of the pipeline and of each of its actions."""
        out: list[tuple[Raw, list[Raw]]] = []
        for stage in _present(self.properties.get("Stages")):
            stage_origin = self._origin(stage)
            assert stage_origin is not None
            actions = [origin[1] for origin in map(self._origin, _present(stage.get("Actions")))
                       if origin is not None]
            out.append((stage_origin[1], actions))
        return out

    # --- what only a deployment decides, where the declaration needs a value ----------------

    def _settle(self) -> None:
        """Give the fields that the declaration needs from a fixed set a value where they are
        opaque, with a note: never an error for a valid template."""
        props = self.properties
        if not isinstance(props, dict):
            return
        origin = self._origin(props) or (self.place, ())
        self._settle_field(props, origin, "ExecutionMode", EXECUTION_MODES, "SUPERSEDED",
                           "the default")
        self._settle_field(props, origin, "PipelineType", PIPELINE_TYPES, "V2",
                           "the type that allows every execution mode")
        for stage in _present(props.get("Stages")):
            if isinstance(stage, dict) and isinstance(stage.get("OnFailure"), dict):
                self._settle_retry(stage["OnFailure"], self._origin(stage) or (self.place, ()))
            for action in _present(stage.get("Actions") if isinstance(stage, dict) else None):
                if not isinstance(action, dict):
                    continue
                where = self._origin(action) or (self.place, ())
                type_id = action.get("ActionTypeId")
                if isinstance(type_id, dict):
                    # Decision: an action whose category only a deployment knows reads as a
                    # Build action, the category that neither deploys, tests, nor waits for an
                    # approval: nothing is claimed about a target it might change.
                    self._settle_field(type_id, self._origin(type_id) or where, "Category",
                                       (), "Build", "an action that deploys, tests and waits "
                                       "for nothing")
                self._settle_field(action, where, "RunOrder", (), 1, "the default")
                config = action.get("Configuration")
                if isinstance(config, Opaque):
                    action["Configuration"] = {}
                    self.note(f"{where[0]}.Configuration", (*where[1], "Configuration"),
                              f"is {config}, known only when deployed: read as empty")

    def _settle_retry(self, on_failure: dict[Any, Any], stage: tuple[str, Raw]) -> None:
        """A stage's automatic retry where only a deployment knows its result or mode.

        Decision: a Result that only a deployment knows reads as no automatic retry, the stage
        failing as it does by default; a RetryMode, as ALL_ACTIONS, the mode that runs every
        action of the stage again (deploys that succeeded included).  Each with a note."""
        origin = self._origin(on_failure) or (f"{stage[0]}.OnFailure", (*stage[1], "OnFailure"))
        self._settle_field(on_failure, origin, "Result", RESULTS, "FAIL",
                           "no automatic retry (the stage fails, as by default)")
        config = on_failure.get("RetryConfiguration")
        if isinstance(config, dict) and on_failure.get("Result") == RETRY:
            where = self._origin(config) or (f"{origin[0]}.RetryConfiguration",
                                              (*origin[1], "RetryConfiguration"))
            self._settle_field(config, where, "RetryMode", RETRY_MODES, "ALL_ACTIONS",
                               "the mode that runs every action of the stage again")

    def _settle_field(self, data: dict[Any, Any], origin: tuple[str, Raw], key: str,
                      allowed: tuple[str, ...], default: object, why: str) -> None:
        value = data.get(key)
        if isinstance(value, Opaque) and value not in allowed:
            data[key] = default
            self.note(f"{origin[0]}.{key}", (*origin[1], key),
                      f"is {value}, known only when deployed: read as {default}, {why}")

    def disabled(self) -> tuple[int, ...]:
        """The stages the pipeline declares with a disabled inbound transition."""
        props = self.properties
        place = f"{self.place}.DisableInboundStageTransitions"
        value = props.get("DisableInboundStageTransitions") if isinstance(props, dict) else None
        if value is None:
            return ()
        if not isinstance(value, list):
            raise InputError(self.file, place, "expected a list of {StageName, Reason}")
        names = [s.name for s in self.pipeline.stages]
        out = []
        for i, item in enumerate(value):
            if item == _NO_VALUE_MARK:
                continue
            name = item.get("StageName") if isinstance(item, dict) else None
            if isinstance(name, Opaque) and name not in names:
                origin = self._origin(item) or (place, ())
                self.note(f"{place}[{i}].StageName", (*origin[1], "StageName"),
                          f"is {name}, known only when deployed: read as disabling no "
                          "transition")
                continue
            if name not in names:
                raise InputError(self.file, f"{place}[{i}].StageName",
                                 f"expected a stage of the pipeline ({', '.join(names)}), "
                                 f"got {name!r}")
            out.append(names.index(name))
        return tuple(sorted(out))

    def note_targets(self) -> None:
        """A note on each opaque value that names what a deploy action writes to (once per
        value), and on each deploy action whose mode only a deployment knows."""
        stages = list(_present(self.properties.get("Stages")))
        for stage, raw_stage in zip(self.pipeline.stages, stages, strict=True):
            raw_actions = list(_present(raw_stage.get("Actions")))
            for action, raw_action in zip(stage.actions, raw_actions, strict=True):
                if action.category != "Deploy":
                    continue
                config = dict(action.configuration)
                where = self._origin(raw_action.get("Configuration"))
                if where is None:
                    place, raw = self._origin(raw_action) or (self.place, ())
                    where = (f"{place}.Configuration", (*raw, "Configuration"))
                mode = config.get("ActionMode")
                if isinstance(mode, Opaque):
                    self.note(f"{where[0]}.ActionMode", (*where[1], "ActionMode"),
                              f"is {mode}, known only when deployed: read as a mode that "
                              "changes the stack")
                if not writes(action):
                    continue
                for key in target_keys(action):
                    value = config[key]
                    if isinstance(value, Opaque) and value not in self._noted \
                            and value not in self._exact:
                        self._noted.add(value)
                        self.note(f"{where[0]}.{key}", (*where[1], key),
                                  f"is {value}, known only when deployed: read as one target, "
                                  "shared only with the actions that name it the same way")

    # --- evaluation -------------------------------------------------------------------------

    def _eval(self, node: object, place: str, raw: Raw, gaps: bool = False) -> Any:
        """``node`` with its intrinsic functions evaluated: plain values, `Computed` and
        `Opaque` texts, `_Values`, or `_NO_VALUE`."""
        if isinstance(node, dict):
            function = _function(node)
            if function is not None:
                return self._call(function, node[function], place, (*raw, function), gaps)
            out: dict[Any, Any] = {}
            for key, item in node.items():
                value = self._eval(item, _at(place, key), (*raw, key), gaps=key in _GAPPED)
                if value is not _NO_VALUE:
                    out[key] = _single(value)
            self._origins[id(out)] = (place, raw)
            return out
        if isinstance(node, list):
            items: list[Any] = []
            for i, item in enumerate(node):
                value = self._eval(item, f"{place}[{i}]", (*raw, i))
                if value is _NO_VALUE:
                    if gaps:
                        items.append(dict(_NO_VALUE_MARK))
                    continue
                items.append(_single(value))
            return items
        return node

    def _call(self, function: str, arg: object, place: str, raw: Raw, gaps: bool) -> Any:
        if function == "Fn::If":
            return self._if(arg, place, raw, gaps)
        read = _FUNCTIONS.get(function)
        value = read(self, arg, place, raw) if read is not None else \
            self._unknown(function, arg, place, raw)
        if isinstance(value, str) and not isinstance(value, Computed):
            return Computed(value)
        return value

    def _value(self, arg: object, place: str, raw: Raw) -> Any:
        """A function's argument, evaluated."""
        return self._eval(arg, place, raw)

    def _if(self, arg: object, place: str, raw: Raw, gaps: bool) -> Any:
        if not isinstance(arg, list) or len(arg) != 3:
            raise InputError(self.file, place, "expected Fn::If [condition name, value if true, "
                             f"value if false], got {_got(arg)}")
        condition = arg[0]
        if not isinstance(condition, str):
            raise InputError(self.file, place, "expected Fn::If's condition to be a condition "
                             f"name, got {_got(condition)}")
        holds = self._condition(condition)
        shown = f"is !If [{condition}, ...]"
        if holds is None:
            # Decision (kept from the first reader, now for every place a value stands): a
            # condition that the template does not decide is read as holding, so that the
            # pipeline is checked with every stage and action it can have; where the first
            # value is AWS::NoValue, the second is read instead.
            branch = 2 if _no_value(arg[1]) else 1
            text = (f"{shown}: read as if {condition} holds" if branch == 1 else
                    f"{shown}: read as if {condition} does not hold (its first value is "
                    "AWS::NoValue)")
        else:
            branch = 1 if holds else 2
            text = (f"{shown}: {condition} {'holds' if holds else 'does not hold'} with the "
                    "parameters' defaults")
        if _checked(place):
            self.note(place, raw[:-1], text)
        return self._eval(arg[branch], place, (*raw, branch), gaps)

    def _condition(self, name: str) -> bool | None:
        """Whether the condition ``name`` holds with the parameters' defaults; None where the
        template does not decide it (a pseudo parameter, a parameter without a default)."""
        if name not in self._decided:
            self._decided[name] = None  # a condition that refers to itself decides nothing
            self._quiet += 1
            try:
                self._decided[name] = self._truth(self.conditions.get(name),
                                                  f"Conditions.{name}", ("Conditions", name))
            finally:
                self._quiet -= 1
        return self._decided[name]

    def _truth(self, expr: object, place: str, raw: Raw) -> bool | None:
        function = _function(expr) if isinstance(expr, dict) else None
        if function is None:
            return None
        assert isinstance(expr, dict)
        arg = expr[function]
        at = (*raw, function)
        if function == "Condition":
            return self._condition(arg) if isinstance(arg, str) else None
        if function == "Fn::Equals":
            if not isinstance(arg, list) or len(arg) != 2:
                return None
            left, right = (_scalar(self._value(a, place, (*at, i))) for i, a in enumerate(arg))
            return None if left is None or right is None else left == right
        parts = arg if isinstance(arg, list) else []
        truths = [self._truth(p, place, (*at, i)) for i, p in enumerate(parts)]
        if function == "Fn::Not":
            return None if len(truths) != 1 or truths[0] is None else not truths[0]
        if function == "Fn::And" and truths:
            return False if False in truths else None if None in truths else True
        if function == "Fn::Or" and truths:
            return True if True in truths else None if None in truths else False
        return None

    # --- the functions ------------------------------------------------------------------------

    def _ref(self, arg: object, place: str, raw: Raw) -> Any:
        if not isinstance(arg, str):
            raise InputError(self.file, place, "expected Ref to name a parameter or a resource, "
                             f"got {_got(arg)}")
        if arg == "AWS::NoValue":
            return _NO_VALUE
        parameter = self.parameters.get(arg)
        if isinstance(parameter, dict) and "Default" in parameter:
            kind = str(parameter.get("Type", "String"))
            default = parameter["Default"]
            if not kind.startswith("AWS::SSM::Parameter::Value<") and _function(default) is None:
                if kind == "CommaDelimitedList" or kind.startswith("List<"):
                    items = default if isinstance(default, list) else str(default).split(",")
                    return _Values(Computed(_text(item).strip()) for item in items)
                return Computed(_text(default))
        exact = arg in _STACK_WIDE or arg in self.resources
        return self._opaque_text(f"!Ref {arg}", exact, f"${{{arg}}}")

    def _is_exact(self, value: object) -> bool:
        return isinstance(value, Opaque) and value in self._exact

    def _opaque_text(self, text: str, exact: bool, inside: str | None = None) -> Opaque:
        if exact:
            self._exact.add(text)
        return Opaque(text, inside)

    def _sub(self, arg: object, place: str, raw: Raw) -> Any:
        variables: dict[Any, Any] = {}
        if isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str) \
                and isinstance(arg[1], dict):
            text, variables = arg
        elif isinstance(arg, str):
            text = arg
        else:
            raise InputError(self.file, place, "expected Fn::Sub of a string or of [string, "
                             f"{{variables}}], got {_got(arg)}")
        known = True
        exact = True

        def substitute(match: re.Match[str]) -> str:
            nonlocal known, exact
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            name = name.strip()
            if name in variables:
                value = self._value(variables[name], place, (*raw, 1, name))
            elif "." in name:
                value = self._get_att(name, place, raw)
            else:
                value = self._ref(name, place, raw)
            piece, plain = _inside(value)
            known = known and plain
            exact = exact and (plain or self._is_exact(value))
            return piece

        out = re.sub(r"\$\{([^}]*)\}", substitute, text)
        return Computed(out) if known else self._opaque_text(out, exact)

    def _join(self, arg: object, place: str, raw: Raw) -> Any:
        if not isinstance(arg, list) or len(arg) != 2:
            raise InputError(self.file, place, "expected Fn::Join [delimiter, [values]], got "
                             f"{_got(arg)}")
        delimiter = self._value(arg[0], place, (*raw, 0))
        parts = self._value(arg[1], place, (*raw, 1))
        if not isinstance(delimiter, str) or isinstance(delimiter, Opaque):
            raise InputError(self.file, place, "expected Fn::Join's delimiter to be a string, "
                             f"got {_got(arg[0])}")
        if isinstance(parts, Opaque):
            return Opaque(f"!Join [{_show(delimiter)}, {parts}]")
        if not isinstance(parts, list):
            raise InputError(self.file, place, "expected Fn::Join's values to be a list, got "
                             f"{_got(arg[1])}")
        present = [part for part in parts if part is not _NO_VALUE]
        pieces = [_inside(part) for part in present]
        out = delimiter.join(piece for piece, _ in pieces)
        if all(plain for _, plain in pieces):
            return Computed(out)
        exact = all(plain or self._is_exact(part)
                         for part, (_, plain) in zip(present, pieces, strict=True))
        return self._opaque_text(out, exact)

    def _find_in_map(self, arg: object, place: str, raw: Raw) -> Any:
        if not isinstance(arg, list) or len(arg) not in (3, 4):
            raise InputError(self.file, place, "expected Fn::FindInMap [map name, top-level "
                             f"key, second-level key], got {_got(arg)}")
        keys = [self._value(a, place, (*raw, i)) for i, a in enumerate(arg[:3])]
        found: object = None
        if self.mappings is not None and all(_scalar(k) is not None for k in keys):
            found = self.mappings
            for key in keys:
                found = _lookup(found, _scalar(key))
        if found is not None and _function(found) is None:
            return _mapped(found)
        if len(arg) == 4 and isinstance(arg[3], dict) and "DefaultValue" in arg[3] \
                and self.mappings is not None:
            return self._value(arg[3]["DefaultValue"], place, (*raw, 3, "DefaultValue"))
        shown = ", ".join(_show(k) for k in keys)
        return Opaque(f"!FindInMap [{shown}]", f"${{!FindInMap [{shown}]}}")

    def _select(self, arg: object, place: str, raw: Raw) -> Any:
        if not isinstance(arg, list) or len(arg) != 2:
            raise InputError(self.file, place, "expected Fn::Select [index, [values]], got "
                             f"{_got(arg)}")
        index = self._value(arg[0], place, (*raw, 0))
        values = self._value(arg[1], place, (*raw, 1))
        number = _scalar(index)
        if isinstance(values, list) and number is not None and re.fullmatch(r"[0-9]+", number) \
                and int(number) < len(values):
            return values[int(number)]
        return _opaque("Select", [index, values])

    def _split(self, arg: object, place: str, raw: Raw) -> Any:
        if not isinstance(arg, list) or len(arg) != 2:
            raise InputError(self.file, place, "expected Fn::Split [delimiter, string], got "
                             f"{_got(arg)}")
        delimiter, text = (self._value(a, place, (*raw, i)) for i, a in enumerate(arg))
        if _plain(delimiter) and _plain(text) and delimiter:
            return _Values(Computed(piece) for piece in str(text).split(str(delimiter)))
        return _opaque("Split", [delimiter, text])

    def _get_att(self, arg: object, place: str, raw: Raw) -> Any:
        if isinstance(arg, str) and "." in arg:
            name = arg
        elif isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str):
            attribute = self._value(arg[1], place, (*raw, 1))
            name = f"{arg[0]}.{attribute if isinstance(attribute, str) else _show(attribute)}"
        else:
            raise InputError(self.file, place, "expected Fn::GetAtt [resource, attribute], got "
                             f"{_got(arg)}")
        exact = name.split(".", 1)[0] in self.resources
        return self._opaque_text(f"!GetAtt {name}", exact, f"${{{name}}}")

    def _base64(self, arg: object, place: str, raw: Raw) -> Any:
        value = self._value(arg, place, raw)
        if _plain(value) and isinstance(value, str):
            return base64.b64encode(value.encode("utf-8")).decode("ascii")
        return _opaque("Base64", value)

    def _length(self, arg: object, place: str, raw: Raw) -> Any:
        value = self._value(arg, place, raw)
        return len(value) if isinstance(value, list) else _opaque("Length", value)

    def _to_json_string(self, arg: object, place: str, raw: Raw) -> Any:
        value = self._value(arg, place, raw)
        if _known(value):
            return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        return _opaque("ToJsonString", value)

    def _unknown(self, function: str, arg: object, place: str, raw: Raw) -> Any:
        """Any other function (`!ImportValue`, `!GetAZs`, `!Cidr`, `!Transform`, ...): opaque,
        shown with its arguments evaluated."""
        return _opaque(function.removeprefix("Fn::"), self._value(arg, place, raw))


_FUNCTIONS = {
    "Ref": _Reading._ref,
    "Fn::Sub": _Reading._sub,
    "Fn::Join": _Reading._join,
    "Fn::FindInMap": _Reading._find_in_map,
    "Fn::Select": _Reading._select,
    "Fn::Split": _Reading._split,
    "Fn::GetAtt": _Reading._get_att,
    "Fn::Base64": _Reading._base64,
    "Fn::Length": _Reading._length,
    "Fn::ToJsonString": _Reading._to_json_string,
}


# --------------------------------------------------------------------------------------------
# Small helpers


def _function(value: object) -> str | None:
    """``Fn::Sub`` for ``{"Fn::Sub": ...}``, ``Ref`` for ``{"Ref": ...}``; else None."""
    if not isinstance(value, dict) or len(value) != 1:
        return None
    (key,) = value
    if isinstance(key, str) and (key in ("Ref", "Condition") or key.startswith("Fn::")):
        return key
    return None


def _literal(section: object) -> dict[Any, Any] | None:
    """A template section, when the template writes it out (not an `AWS::Include`)."""
    return section if isinstance(section, dict) and _function(section) is None else None


def _no_value(value: object) -> bool:
    return value == _NO_VALUE_MARK


def _present(items: object) -> list[Any]:
    """The items of a numbered list that the declaration reader reads: not those a condition
    leaves out, nor nulls (which it skips too)."""
    if not isinstance(items, list):
        return []
    return [item for item in items if item is not None and not _no_value(item)]


_CHECKED_FIELDS = ("Name", "Category", "Provider", "RunOrder", "ExecutionMode", "PipelineType",
                   "Configuration", "Stages", "Actions", "StageName",
                   "DisableInboundStageTransitions", "OnFailure", "Result",
                   "RetryConfiguration", "RetryMode")


def _checked(place: str) -> bool:
    """Whether a value at ``place`` changes what is checked: a name, an action's type or run
    order, the mode, a stage or an action itself, the configuration as a whole or one of the
    keys the world is derived from (`spec.world.CHECKED_CONFIGURATION`).

    Decision: an `!If` is noted only there; one that picks a NotificationArn or a CustomData
    text changes nothing lint or check says, and a note on it would only bury the others."""
    last = re.sub(r"\[\d+\]$", "", place.rsplit(".", 1)[-1])
    parent = place.rsplit(".", 2)[-2] if place.count(".") >= 1 else ""
    if parent == "Configuration":
        return last in CHECKED_CONFIGURATION
    return last in _CHECKED_FIELDS or re.search(r"\[\d+\]$", place) is not None


def _at(place: str, key: object) -> str:
    return f"{place}.{key}" if place else str(key)


def _text(value: object) -> str:
    """A scalar as CloudFormation reads it as text: ``true``, ``3``, ``0.5``."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return ",".join(_text(item) for item in value)
    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False, default=str)


def _plain(value: object) -> bool:
    """Whether ``value`` is a known scalar."""
    return isinstance(value, str | int | float | bool) and not isinstance(value, Opaque)


def _scalar(value: object) -> str | None:
    """A known scalar as text; None for anything else."""
    return _text(value) if _plain(value) else None


def _known(value: object) -> bool:
    """Whether nothing in ``value`` is opaque."""
    if isinstance(value, dict):
        return all(_known(v) for v in value.values())
    if isinstance(value, list):
        return all(_known(v) for v in value)
    return not isinstance(value, Opaque | _NoValue)


def _single(value: object) -> Any:
    """Where one value stands: the values of a `_Values` joined by commas."""
    if isinstance(value, _Values):
        pieces = [_inside(item) for item in value]
        text = ",".join(piece for piece, _ in pieces)
        return Computed(text) if all(plain for _, plain in pieces) else Opaque(text)
    return value


def _inside(value: object) -> tuple[str, bool]:
    """How ``value`` reads inside a text (a `!Sub`, a `!Join`), and whether it is known."""
    value = _single(value)
    if isinstance(value, Opaque):
        return value.inside, False
    if _plain(value):
        return _text(value), True
    shown = _show(value)
    return f"${{{shown}}}", False


def _lookup(mapping: object, key: str | None) -> object:
    if not isinstance(mapping, dict) or key is None:
        return None
    if key in mapping:
        return mapping[key]
    return next((v for k, v in mapping.items() if _text(k) == key), None)


def _mapped(value: object) -> Any:
    """A value of a literal mapping, as an intrinsic function's result."""
    if isinstance(value, list):
        return _Values(Computed(_text(item)) for item in value)
    if isinstance(value, dict):
        return _opaque("FindInMap", value)
    return Computed(_text(value))


def _opaque(name: str, arg: object) -> Opaque:
    shown = f"!{name} {_show(arg)}"
    return Opaque(shown, f"${{{shown}}}")


def _show(value: object) -> str:
    """A value as one would write it in YAML, briefly: ``[Constants, !Ref Env, Source]``."""
    if isinstance(value, Opaque):
        return str(value)
    if isinstance(value, _NoValue):
        return "!Ref AWS::NoValue"
    if isinstance(value, str):
        bare = re.search(r"[A-Za-z0-9]", value) and not value.startswith("!") and (
            re.fullmatch(r"[^\s,\[\]{}\"'#]+", value) or "${" in value and " " not in value)
        return value if bare else json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_show(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_show(v)}" for k, v in value.items()) + "}"
    return _text(value)


def _got(value: object) -> str:
    """What was found instead, briefly: ``a list of 2 values``, ``an object``, ``"x"``."""
    if isinstance(value, list):
        return f"a list of {len(value)} value{'' if len(value) == 1 else 's'}"
    if isinstance(value, dict):
        function = _function(value)
        return f"the function {function}" if function else "an object"
    if isinstance(value, str):
        return json.dumps(value if len(value) <= 60 else value[:57] + "...", ensure_ascii=False)
    if value is None:
        return "null"
    return _text(value)
