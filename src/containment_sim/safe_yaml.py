"""Reading untrusted YAML within limits: size, encoding, nesting depth, alias expansion, tags.

A scenario file may come from anyone. It is read and parsed like this:

- at most :attr:`Limits.max_bytes` bytes are ever read, and a larger file is refused (the
  pure-Python parser that keeps line numbers reads about 100 kB a second, so the limit also
  bounds the time);
- the bytes must be UTF-8 text (a byte-order mark is allowed);
- the text is composed into YAML nodes; an alias (``*name``) is a reference to its anchor's
  node, not a copy, so composing costs what the file holds, whatever its aliases expand to;
- before any data is built, one pass over the nodes (each node once) checks that collections
  nest at most :attr:`Limits.max_depth` levels deep, that the data with every alias expanded
  has at most :attr:`Limits.max_nodes` values (an "alias bomb" of a few lines expanding to
  billions of values is refused), that no alias refers to a node that contains it, and that
  no value carries an explicit tag (``!!str``, ``!foo`` or ``!!python/...``);
- only then is the data built by the round-trip constructor (which keeps line numbers and
  never builds Python objects); a value it cannot build (the date 2020-01-32, a number of
  5,000 digits) is reported with its line.

Every failure is a :class:`YamlInputError` with the line it concerns, if there is one.
"""

from __future__ import annotations

import codecs
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.constructor import ConstructorError, RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import CollectionEndEvent, CollectionStartEvent
from ruamel.yaml.nodes import MappingNode, SequenceNode
from ruamel.yaml.scalarbool import ScalarBoolean

from containment_sim.errors import InputError

__all__ = [
    "DEFAULT_LIMITS",
    "Limits",
    "YamlInputError",
    "format_bytes",
    "load_text",
    "read_file",
    "to_plain",
]

_STANDARD_TAGS = frozenset(
    f"tag:yaml.org,2002:{t}"
    for t in ("str", "int", "float", "bool", "null", "timestamp", "seq", "map", "merge")
)

_WIDE_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


@dataclass(frozen=True)
class Limits:
    """Limits on a YAML input.

    Attributes:
        max_bytes: Largest file, in bytes.
        max_depth: Deepest nesting of mappings and sequences.
        max_nodes: Most values (scalars, mappings, sequences) once aliases are expanded.
    """

    max_bytes: int = 256_000
    max_depth: int = 40
    max_nodes: int = 200_000


DEFAULT_LIMITS = Limits()
"""The limits used unless others are given: 256 kB (over 20 times the Xianning scenario),
40 levels (scenarios use 6), 200,000 values."""


class YamlInputError(InputError):
    """A YAML input that cannot be read within the limits.

    Attributes:
        line: The 1-based line the problem concerns, or ``None``.
        message: What is wrong, without the file name.
    """

    def __init__(self, line: int | None, message: str):
        self.line = line
        self.message = message
        super().__init__(message if line is None else f"line {line}: {message}")


def format_bytes(n: int) -> str:
    """A byte count for people: ``1 MB``, ``2.5 GB`` (powers of 1000)."""
    for unit, size in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n} bytes"


def read_file(path: str | Path, limits: Limits = DEFAULT_LIMITS) -> str:
    """Read a regular file of at most ``limits.max_bytes`` bytes as UTF-8 text.

    Raises:
        YamlInputError: The file cannot be read, is not a regular file, is too large or is
            not UTF-8 text.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise YamlInputError(None, f"cannot read: {exc.strerror or exc}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise YamlInputError(None, "cannot read: not a regular file")
        with os.fdopen(fd, "rb", closefd=False) as stream:
            data = stream.read(limits.max_bytes + 1)
    except OSError as exc:
        raise YamlInputError(None, f"cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if len(data) > limits.max_bytes:
        raise YamlInputError(
            None,
            f"the file is larger than the limit of {format_bytes(limits.max_bytes)}; "
            "raise the limit if it is meant to be this large (--max-file-size)",
        )
    return _decode(data)


def _decode(data: bytes) -> str:
    for bom, name in _WIDE_BOMS:
        if data.startswith(bom):
            raise YamlInputError(1, f"the file is {name} text; save it as UTF-8")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        byte = data[exc.start]
        message = f"not UTF-8 text (byte 0x{byte:02x}); save it as UTF-8"
        raise YamlInputError(line, message) from None


def load_text(text: str, limits: Limits = DEFAULT_LIMITS) -> Any:
    """Parse YAML text within ``limits`` into round-trip data (with line numbers).

    Returns:
        The data: ``CommentedMap``/``CommentedSeq`` (dict and list subclasses) and scalars.

    Raises:
        YamlInputError: Invalid YAML, too deep, too many values once aliases are expanded,
            an explicit tag, or a value that cannot be built (such as
            the date 2020-01-32).
    """
    yaml = YAML(typ="rt")
    yaml.Constructor = _Constructor
    try:
        deep = _flow_depth_line(text, limits.max_depth)  # spare the parser deep brackets
        if deep is not None:
            raise YamlInputError(deep, f"nested more than {limits.max_depth} levels deep")
        try:
            node = yaml.compose(text)
        except RecursionError:  # deeper than Python's stack: find the line by events
            _check_depth_by_events(text, limits)
            raise YamlInputError(None, f"nested more than {limits.max_depth} levels deep") from None
        if node is None:
            return None
        _check_nodes(node, limits)
        return yaml.constructor.construct_document(node)
    except YamlInputError:
        raise
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = exc.problem or exc.context or "invalid YAML"
        if not isinstance(exc, _ValueError):
            what = f"YAML syntax error: {what}"
        raise YamlInputError(mark.line + 1 if mark is not None else None, what) from None
    except YAMLError as exc:  # e.g. a control character (ReaderError), no mark
        position = getattr(exc, "position", None)
        line = text[:position].count("\n") + 1 if isinstance(position, int) else None
        raise YamlInputError(line, f"YAML error: {_first_line(exc)}") from None


def to_plain(data: Any) -> Any:
    """Round-trip data as plain Python values (dict, list, str, int, float, bool, date)."""
    if isinstance(data, dict):
        return {to_plain(k): to_plain(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [to_plain(v) for v in data]
    if isinstance(data, ScalarBoolean):
        return bool(data)
    for kind in (bool, int, float, str):
        if isinstance(data, kind):
            return kind(data)
    return data


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    if text.startswith("Exceeds the limit"):  # int() of thousands of digits
        return "the number has too many digits"
    return text.splitlines()[0] if text else type(exc).__name__


def _children(node: Any) -> list[Any]:
    if isinstance(node, MappingNode):
        return [item for pair in node.value for item in pair]
    if isinstance(node, SequenceNode):
        return list(node.value)
    return []


def _check_nodes(root: Any, limits: Limits) -> None:
    """Depth, expanded size, cycles and tags of a composed document, each node visited once."""
    size: dict[int, int] = {}
    height: dict[int, int] = {}
    entered: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            kids = _children(node)
            size[key] = 1 + sum(size[id(k)] for k in kids)
            height[key] = 1 + max((height[id(k)] for k in kids), default=0)
            if size[key] > limits.max_nodes:
                raise YamlInputError(
                    node.start_mark.line + 1,
                    f"more than {limits.max_nodes:,} values once aliases (*name) are expanded",
                )
            continue
        if key in size:
            continue
        if key in entered:
            raise YamlInputError(
                node.start_mark.line + 1, "an alias (*name) refers to a value that contains it"
            )
        entered.add(key)
        _check_tag(node)
        stack.append((node, True))
        stack.extend((kid, False) for kid in _children(node) if id(kid) not in size)
    if height[id(root)] > limits.max_depth + 1:  # + 1: scalars count as a level here
        node = root
        for _ in range(limits.max_depth):
            node = max(_children(node), key=lambda k: height[id(k)])
        raise YamlInputError(
            node.start_mark.line + 1, f"nested more than {limits.max_depth} levels deep"
        )


_FLOW_CHARACTERS = re.compile(r"[\[\]{}\"'#\n]")


def _flow_depth_line(text: str, max_depth: int) -> int | None:
    """The line where brackets (outside quotes and comments) nest deeper than ``max_depth``.

    Composing deeply nested brackets costs the parser time quadratic in the depth, so they are
    counted in the raw text first. Brackets inside plain (unquoted) text count too; a file
    with over ``max_depth`` unmatched ones in its text is refused as well.
    """
    depth, quote, comment, line = 0, "", False, 1
    for match in _FLOW_CHARACTERS.finditer(text):
        ch = match.group()
        if ch == "\n":
            line += 1
            comment = False
        elif comment:
            continue
        elif quote:
            quote = "" if ch == quote else quote
        elif ch == "#":
            comment = True
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
            if depth > max_depth:
                return line
        elif ch in "]}":
            depth = max(0, depth - 1)
    return None


def _check_depth_by_events(text: str, limits: Limits) -> None:
    """Raise at the line where collections first nest deeper than the limit."""
    depth = 0
    for event in YAML(typ="rt").parse(text):
        if isinstance(event, CollectionStartEvent):
            depth += 1
            if depth > limits.max_depth:
                raise YamlInputError(
                    event.start_mark.line + 1, f"nested more than {limits.max_depth} levels deep"
                )
        elif isinstance(event, CollectionEndEvent):
            depth -= 1


def _check_tag(node: Any) -> None:
    """Refuse explicit tags (``!!str``, ``!foo``, ``!!python/...``): plain values only."""
    ctag = getattr(node, "ctag", None)
    handle = getattr(ctag, "handle", None)
    name = str(node.tag)
    if handle is None and name in _STANDARD_TAGS:
        return
    shown = name.replace("tag:yaml.org,2002:", "!!", 1)
    raise YamlInputError(
        node.start_mark.line + 1, f"YAML tag {shown!r} is not allowed; write plain values"
    )


class _ValueError(ConstructorError):
    """A scalar that is valid YAML but not a value (``2020-01-32``, a 5,000-digit number)."""


class _Constructor(RoundTripConstructor):
    """The round-trip constructor, with the line of any value it cannot build."""

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError, TypeError) as exc:
            value = node.value if isinstance(node.value, str) else ""
            shown = f" {value!r}" if value and len(value) <= 40 else ""
            raise _ValueError(
                None, None, f"cannot read the value{shown}: {_first_line(exc)}", node.start_mark
            ) from None
