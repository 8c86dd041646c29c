"""Reading users' files so that no file can be turned against the tool, and writing files so that
an interrupted run never leaves half of one.

Reading: only a regular file is read (a FIFO, a device such as /dev/zero or a directory is
refused without reading: the file is opened non-blocking and looked at with fstat first), at most
`MAX_FILE_BYTES` of it, and it must be UTF-8.  The JSON and YAML readers refuse duplicate keys,
NaN and Infinity, nesting deeper than `MAX_DEPTH`, integers longer than `MAX_INTEGER_DIGITS`
digits, more than `MAX_ALIASES` YAML aliases, more than `MAX_VALUES` values once the aliases are
expanded (a "billion laughs"), and an anchor whose alias is inside it (a recursive structure).
Every refusal is one `InputError` naming the file and the place.

Writing: `write_atomically` writes a temporary file in the target's directory and renames it over
the target, so the target is either the old file or the whole new one.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
import tempfile
from pathlib import Path
from typing import Any

import yaml

from checker.errors import InputError

MAX_FILE_BYTES = 16 * 2**20
"""The largest file read (16 MiB); a pipeline declaration is a few kilobytes."""
MAX_DEPTH = 100
"""The deepest nesting of lists and objects in a JSON or YAML document (or TOML file)."""
MAX_INTEGER_DIGITS = 100
"""The longest integer literal read; every integer the schemas take has a few digits."""
MAX_ALIASES = 1000
"""The most YAML aliases (``*name``) in one document."""
MAX_VALUES = 1_000_000
"""The most values (scalars, lists, objects) in a YAML document once its aliases are expanded."""


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def read_bytes(path: str | Path, file: str | None = None) -> bytes:
    """The bytes of the regular file at ``path`` (at most `MAX_FILE_BYTES`); `InputError` for
    anything else, named ``file`` (default: the path)."""
    name = str(path) if file is None else file
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise InputError(name, "", f"expected a readable file ({reason})") from error
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InputError(name, "", f"expected a regular file, got {_kind(info.st_mode)}")
        limit = f"at most {MAX_FILE_BYTES // 2**20} MiB"
        if info.st_size > MAX_FILE_BYTES:
            raise InputError(name, "", f"expected a file of {limit}, it has "
                             f"{info.st_size:,} bytes")
        chunks: list[bytes] = []
        size = 0
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            size += len(chunk)
            if size > MAX_FILE_BYTES:  # it grew while being read
                raise InputError(name, "", f"expected a file of {limit}")
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise InputError(name, "", f"expected a readable file ({reason})") from error
    finally:
        os.close(fd)


def read_text(path: str | Path, file: str | None = None) -> str:
    """The UTF-8 text of the regular file at ``path`` (a leading byte order mark is dropped)."""
    name = str(path) if file is None else file
    data = read_bytes(path, name)
    skip = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    try:
        return data[skip:].decode("utf-8")
    except UnicodeDecodeError as error:
        offset = error.start + skip
        raise InputError(name, f"byte {offset}",
                         f"expected UTF-8 text, got byte 0x{data[offset]:02x}") from error


def write_atomically(path: str | Path, data: str | bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same directory, renamed over
    it once complete: an interrupted write leaves the old file (or none), never half a file."""
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(payload)
        with contextlib.suppress(OSError):
            os.chmod(temp, 0o666 & ~_umask())
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# --- JSON ---------------------------------------------------------------------------------------


class _JsonRefusal(Exception):
    def __init__(self, place: str, expected: str) -> None:
        super().__init__(expected)
        self.place = place
        self.expected = expected


def _line_column(text: str, position: int) -> str:
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    return f"line {line}, column {column}"


def parse_json(text: str, file: str) -> object:
    """A JSON document, refusing duplicate keys, NaN and Infinity, deep nesting and huge
    integers; `InputError` naming ``file`` and the place."""

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in items:
            if key in out:
                raise _JsonRefusal(f"key {json.dumps(key)}",
                                   "expected each key once in an object, it appears twice")
            out[key] = value
        return out

    def constant(name: str) -> object:
        raise _JsonRefusal("", f"expected a number, got {name} (not valid JSON)")

    def integer(digits: str) -> int:
        if len(digits.lstrip("-")) > MAX_INTEGER_DIGITS:
            at = text.find(digits)
            raise _JsonRefusal(_line_column(text, at) if at >= 0 else "",
                               f"expected an integer of at most {MAX_INTEGER_DIGITS} digits, got "
                               f"one of {len(digits.lstrip('-')):,}")
        return int(digits)

    def number(digits: str) -> float:
        value = float(digits)
        if value in (float("inf"), float("-inf")):
            raise _JsonRefusal("", f"expected a finite number, got {digits[:40]}")
        return value

    depth, at = _json_depth(text)
    if depth > MAX_DEPTH:
        raise InputError(file, _line_column(text, at),
                         f"expected lists and objects nested at most {MAX_DEPTH} deep")
    try:
        return json.loads(text, object_pairs_hook=pairs, parse_constant=constant,
                          parse_int=integer, parse_float=number)
    except _JsonRefusal as refusal:
        raise InputError(file, refusal.place, refusal.expected) from None
    except json.JSONDecodeError as error:
        raise InputError(file, f"line {error.lineno}, column {error.colno}",
                         f"expected valid JSON: {error.msg}") from error
    except (RecursionError, ValueError) as error:  # pragma: no cover - refused above
        raise InputError(file, "", f"expected valid JSON ({type(error).__name__})") from error


def _json_depth(text: str) -> tuple[int, int]:
    """The deepest nesting of brackets outside strings, and where it is first reached."""
    depth = deepest = 0
    where = 0
    in_string = False
    skip = -1
    for match in _JSON_SIGNIFICANT.finditer(text):
        i = match.start()
        if i == skip:
            continue
        ch = text[i]
        if in_string:
            if ch == "\\":
                skip = i + 1
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > deepest:
                deepest, where = depth, i
                if deepest > MAX_DEPTH:
                    break
        elif ch in "]}":
            depth -= 1
    return deepest, where


_JSON_SIGNIFICANT = re.compile(r'[\\"\[\]{}]')


# --- YAML ---------------------------------------------------------------------------------------


class YamlRefusal(yaml.MarkedYAMLError):
    """A YAML document that is well formed but refused (duplicate key, alias bomb, ...)."""


class GuardedLoader(yaml.SafeLoader):
    """A safe YAML loader with the bounds of this module: no duplicate keys, nesting at most
    `MAX_DEPTH` deep, at most `MAX_ALIASES` aliases and `MAX_VALUES` values once they are
    expanded, no recursive anchors, integers of at most `MAX_INTEGER_DIGITS` digits."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._depth = 0
        self._aliases = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        mark: Any = event.start_mark
        if isinstance(event, yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise YamlRefusal(None, None, f"expected at most {MAX_ALIASES} aliases", mark)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise YamlRefusal(None, None,
                                  f"expected lists and objects nested at most {MAX_DEPTH} deep",
                                  mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def get_single_data(self) -> Any:
        node = self.get_single_node()
        if node is None:
            return None
        _check_expansion(node)
        return self.construct_document(node)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        if isinstance(node, yaml.MappingNode):
            seen: set[tuple[str, str]] = set()
            for key_node, _ in node.value:
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag.endswith(":merge"):
                    continue
                key = (key_node.tag, key_node.value)
                if key in seen:
                    raise YamlRefusal(None, None,
                                      f"expected each key once in a mapping, "
                                      f"{json.dumps(key_node.value)} appears twice",
                                      key_node.start_mark)
                seen.add(key)
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node: Any) -> Any:
        digits = sum(c.isdigit() for c in str(node.value))
        if digits > MAX_INTEGER_DIGITS:
            raise YamlRefusal(None, None, f"expected an integer of at most {MAX_INTEGER_DIGITS} "
                              f"digits, got one of {digits:,}", node.start_mark)
        return super().construct_yaml_int(node)


GuardedLoader.add_constructor("tag:yaml.org,2002:int", GuardedLoader.construct_yaml_int)


def _check_expansion(root: Any) -> None:
    """Refuse a node graph with a cycle (an alias inside its own anchor) or more than
    `MAX_VALUES` values once every alias is expanded; linear in the distinct nodes."""
    size: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            children = _children(node)
            total = 1 + sum(size[id(c)] for c in children)
            if total > MAX_VALUES:
                raise YamlRefusal(None, None, f"expected at most {MAX_VALUES:,} values once "
                                  "aliases are expanded (an alias bomb?)", node.start_mark)
            size[key] = total
            continue
        if key in size:
            continue
        if key in on_path:
            raise YamlRefusal(None, None, "expected no alias inside its own anchor (a recursive "
                              "structure)", node.start_mark)
        on_path.add(key)
        stack.append((node, True))
        for child in _children(node):
            if id(child) in on_path:
                raise YamlRefusal(None, None, "expected no alias inside its own anchor (a "
                                  "recursive structure)", child.start_mark)
            if id(child) not in size:
                stack.append((child, False))


def _children(node: Any) -> list[Any]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def check_depth(value: object, file: str, what: str = "lists and tables") -> None:
    """Refuse a parsed value nested deeper than `MAX_DEPTH` (iteratively: never a
    RecursionError)."""
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise InputError(file, "", f"expected {what} nested at most {MAX_DEPTH} deep")
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
