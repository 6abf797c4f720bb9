"""Reading untrusted YAML within limits: size, encoding, nesting depth, alias expansion, tags.

A scenario file may come from anyone. Before ``ruamel.yaml`` builds any data, the file is
checked in one streaming pass over its parse events, in memory proportional to its nesting:

- its size is at most :attr:`Limits.max_bytes` (only that many bytes are ever read);
- it is UTF-8 text (a byte-order mark is allowed);
- collections nest at most :attr:`Limits.max_depth` levels deep;
- the data, with every alias (``*name``) expanded, has at most :attr:`Limits.max_nodes`
  nodes, so an "alias bomb" (a few lines that expand to billions of values) is refused;
- it uses no tags other than YAML's standard ones (``!foo`` or ``!!python/...`` are refused).

Only then is the YAML loaded with the round-trip loader (which keeps line numbers and never
builds Python objects). Every failure is a :class:`YamlInputError` with the line it concerns.
"""

from __future__ import annotations

import codecs
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.constructor import ConstructorError, RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
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

    max_bytes: int = 1_000_000
    max_depth: int = 40
    max_nodes: int = 200_000


DEFAULT_LIMITS = Limits()
"""The limits used unless others are given: 1 MB, 40 levels, 200,000 values."""


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
            a tag other than YAML's standard ones, or a value that cannot be built (such as
            the date 2020-01-32).
    """
    yaml = YAML(typ="rt")
    yaml.Constructor = _Constructor
    try:
        _check_events(yaml, text, limits)
        return yaml.load(text)
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
    except RecursionError:  # pragma: no cover - prevented by the depth limit
        raise YamlInputError(None, "nested too deeply") from None


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


def _check_events(yaml: YAML, text: str, limits: Limits) -> None:
    """One pass over the parse events: depth, expanded size and tags (see module docstring)."""
    open_sizes: list[int] = []  # expanded size of each open collection, innermost last
    open_anchors: list[str | None] = []
    anchors: dict[str, int] = {}
    expanded = 0
    for event in yaml.parse(text):
        kind = type(event).__name__
        line = event.start_mark.line + 1
        _check_tag(getattr(event, "tag", None), line)
        if kind in ("MappingStartEvent", "SequenceStartEvent"):
            if len(open_sizes) >= limits.max_depth:
                raise YamlInputError(line, f"nested more than {limits.max_depth} levels deep")
            open_sizes.append(1)
            open_anchors.append(event.anchor)
            size = 1
        elif kind in ("MappingEndEvent", "SequenceEndEvent"):
            size = open_sizes.pop()
            anchor = open_anchors.pop()
            if anchor is not None:
                anchors[anchor] = size
            if open_sizes:
                open_sizes[-1] += size
            continue
        elif kind == "ScalarEvent":
            size = 1
            if event.anchor is not None:
                anchors[event.anchor] = 1
            if open_sizes:
                open_sizes[-1] += 1
        elif kind == "AliasEvent":
            size = anchors.get(event.anchor, 1)
            if open_sizes:
                open_sizes[-1] += size
        else:
            continue
        expanded += size
        if expanded > limits.max_nodes:
            raise YamlInputError(
                line,
                f"more than {limits.max_nodes:,} values once aliases (*name) are expanded",
            )


def _check_tag(tag: Any, line: int) -> None:
    if tag is None:
        return
    name = str(getattr(tag, "value", tag))
    if name in ("!", "?") or name in _STANDARD_TAGS:
        return
    shown = name.replace("tag:yaml.org,2002:", "!!", 1)
    raise YamlInputError(line, f"YAML tag {shown!r} is not allowed; write plain values")


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
