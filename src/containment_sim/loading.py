"""Reading scenarios from YAML, with errors that name the file, line and field.

``load_scenario`` reads a file within limits (:mod:`containment_sim.safe_yaml`: size,
encoding, nesting depth, alias expansion, tags), parses it with ``ruamel.yaml`` (which keeps
line numbers), validates it against :class:`~containment_sim.scenario.Scenario`, and turns
every pydantic error into one line: ``FILE:LINE: FIELD.PATH: what is wrong (got VALUE);
allowed: ...``. Values in messages are cut to a few dozen characters before they are formatted,
whatever their size. What is allowed but probably not meant (a measure that starts after the
last day) is reported as a :class:`ScenarioWarning`. Built-in scenarios (``xianning``,
``small``) ship inside the package and load by name.
"""

from __future__ import annotations

import re
import types
import typing
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from containment_sim.checks import scenario_warnings
from containment_sim.errors import InputError
from containment_sim.safe_yaml import DEFAULT_LIMITS, Limits, YamlInputError, load_text, read_file
from containment_sim.scenario import MEASURE_TYPES, MeasureSpec, Scenario, measure_types

__all__ = [
    "BUILTIN_SCENARIOS",
    "DEFAULT_SCENARIO",
    "OverrideError",
    "Problem",
    "ScenarioError",
    "ScenarioWarning",
    "builtin_scenario_path",
    "field_line",
    "load_scenario",
    "measure_problems",
    "preview",
    "problems_from",
    "scenario_json_schema",
    "validate_data",
]

BUILTIN_SCENARIOS = ("xianning", "small")
"""Names of the scenarios shipped with the package."""

DEFAULT_SCENARIO = "xianning"
"""The scenario ``containment-sim run`` uses when given none."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario (or, as a warning, probably wrong): where and what.

    Attributes:
        source: The file (or ``command line``).
        line: The 1-based line, when known.
        field: The dotted field path (``measures.tracing.capacity``), or ``""``.
        message: What is wrong and what is allowed.
        severity: ``"error"`` or ``"warning"``.
    """

    source: str
    line: int | None
    field: str
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line is not None else self.source
        if self.severity != "error":
            where += f": {self.severity}"
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


class ScenarioError(InputError):
    """A scenario file that cannot be read or does not validate.

    Attributes:
        problems: One entry per distinct problem, each naming file, line and field.
    """

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class OverrideError(ScenarioError, KeyError):
    """Changes to a scenario (:func:`~containment_sim.scenario.with_overrides`) that fail.

    Each problem names the field as written in the changes (``measures.tracing.capacity``).
    A ``ValueError`` like every :class:`ScenarioError`, and a ``KeyError`` for callers that
    catch a path that leads nowhere.
    """

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


class ScenarioWarning(UserWarning):
    """A scenario that is valid but probably not what was meant (see ``checks``).

    Attributes:
        problem: Where and what, as a :class:`Problem` of severity ``"warning"``.
    """

    def __init__(self, problem: Problem):
        self.problem = problem
        super().__init__(str(problem))


def builtin_scenario_path(name: str) -> Path:
    """Return the path of a built-in scenario shipped with the package."""
    if name not in BUILTIN_SCENARIOS:
        raise ScenarioError(
            [
                Problem(
                    name,
                    None,
                    "",
                    f"no such file or built-in scenario; built-ins: {', '.join(BUILTIN_SCENARIOS)}",
                )
            ]
        )
    return Path(str(resources.files("containment_sim") / "scenarios" / f"{name}.yaml"))


def scenario_json_schema() -> dict[str, Any]:
    """JSON Schema of scenario files, with every registered measure type spelled out."""
    schema = Scenario.model_json_schema(by_alias=True)
    defs = schema.setdefault("$defs", {})
    options = []
    for name in sorted(measure_types()):
        model = MEASURE_TYPES[name]
        sub = model.model_json_schema(by_alias=True, ref_template="#/$defs/{model}")
        defs.update(sub.pop("$defs", {}))
        defs[model.__name__] = sub
        options.append({"$ref": f"#/$defs/{model.__name__}"})
    defs.pop("MeasureSpec", None)
    schema["properties"]["measures"]["additionalProperties"] = {"oneOf": options}
    return schema


def load_scenario(path: str | Path | None = None, limits: Limits = DEFAULT_LIMITS) -> Scenario:
    """Read and validate a scenario file.

    Args:
        path: A YAML file, or the name of a built-in scenario (``"xianning"``, ``"small"``);
            ``None`` loads the default built-in scenario.
        limits: Limits on the file's size, nesting and alias expansion.

    Returns:
        The validated scenario. Anything probably not meant is reported as a
        :class:`ScenarioWarning` (``warnings.warn``).

    Raises:
        ScenarioError: The file is missing, too large, not UTF-8, not valid YAML, or does not
            validate; the message has one line per problem naming the file, line and field.
    """
    if path is None:
        path = builtin_scenario_path(DEFAULT_SCENARIO)
    path = Path(path)
    if not path.exists() and path.suffix == "" and str(path) in BUILTIN_SCENARIOS:
        path = builtin_scenario_path(str(path))
    source = str(path)
    try:
        data = load_text(read_file(path, limits), limits)
    except YamlInputError as exc:
        raise ScenarioError([Problem(source, exc.line, "", exc.message)]) from None
    return validate_data(data, source)


def field_line(path: str | Path, field: str, limits: Limits = DEFAULT_LIMITS) -> int | None:
    """The line of a field (dotted path, list items by number) in a scenario file, if found.

    Used to point at a field whose value the schema allows but the context does not (a
    calibration target naming a column that its data file lacks). Never raises: a file that
    cannot be read gives ``None``.
    """
    try:
        data = load_text(read_file(Path(path), limits), limits)
    except (YamlInputError, OSError):
        return None
    loc = tuple(int(k) if k.isdigit() else k for k in field.split("."))
    _, line = _locate(data, loc)
    return line


def validate_data(data: Any, source: str = "<scenario>") -> Scenario:
    """Validate already-parsed scenario data (a mapping), reporting problems like a file.

    Args:
        data: The parsed YAML; line numbers are reported when it came from ``ruamel.yaml``.
        source: The name used for the data in messages (usually the file path).

    Returns:
        The scenario; warnings about it are issued as :class:`ScenarioWarning`.

    Raises:
        ScenarioError: The data does not validate.
    """
    if not isinstance(data, Mapping):
        got = _kind(data) if data is not None else "an empty file"
        raise ScenarioError(
            [Problem(source, 1, "", f"a scenario must be a mapping of keys, got {got}")]
        )
    problems = measure_problems(data, source)
    if problems:
        raise ScenarioError(problems)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(problems_from(exc, data, source)) from None
    for path, message in scenario_warnings(scenario):
        loc = tuple(int(k) if k.isdigit() else k for k in path.split("."))
        where, line = _locate(data, loc)
        problem = Problem(source, line, _format_path(where), message, "warning")
        warnings.warn(ScenarioWarning(problem), stacklevel=2)
    return scenario


def measure_problems(data: Mapping[str, Any], source: str) -> list[Problem]:
    """Validate each measure against its registered type, locating errors inside it.

    Args:
        data: Scenario data (a mapping), parsed or dumped.
        source: The name used for the data in messages.

    Returns:
        One problem per field of a measure that does not validate (none if all do).
    """
    measures = data.get("measures")
    if not isinstance(measures, Mapping):
        return []
    errors = []
    for name, spec in measures.items():
        kind = spec.get("type") if isinstance(spec, Mapping) else None
        model = measure_types().get(kind) if isinstance(kind, str) else None
        if model is None:
            continue  # reported by the scenario model, with the allowed types
        try:
            model.model_validate(spec)
        except ValidationError as exc:
            errors += [
                {**err, "loc": ("measures", name, *err["loc"])}
                for err in exc.errors(include_url=False)
            ]
    return _problems(errors, data, source)


def problems_from(exc: ValidationError, data: Any, source: str) -> list[Problem]:
    """One problem per data path that a pydantic validation error concerns."""
    return _problems(exc.errors(include_url=False), data, source)


def _problems(errors: list[Any], data: Any, source: str) -> list[Problem]:
    """Group pydantic error records by the data path they concern; one problem per path."""
    grouped: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for err in _each_reference(errors):
        loc = err["loc"]
        if err["type"] == "invalid_key":  # a key that is a mapping, list or date: at its parent
            loc = loc[:-1]
            err = {**err, "msg": f"a key must be text, got {preview(err['input'], 40)}"}
        if err["type"] == "cross_reference":
            loc = tuple(int(k) if k.isdigit() else k for k in err["ctx"]["path"].split("."))
        path, line = _locate(data, loc)
        grouped.setdefault(path, []).append({**err, "line": line})
    problems = []
    for path, errs in grouped.items():
        field = _format_path(path)
        problems.append(Problem(source, errs[0]["line"], field, _describe(path, errs)))
    return problems


def _each_reference(errors: list[Any]) -> list[Any]:
    """The errors, with one record per broken reference of a cross-reference error."""
    out = []
    for err in errors:
        problems = (
            (err.get("ctx") or {}).get("problems") if err["type"] == "cross_reference" else None
        )
        if not problems:
            out.append(err)
            continue
        for path, message in problems:
            out.append({**err, "msg": message, "ctx": {**err["ctx"], "path": path}})
    return out


def _locate(data: Any, loc: tuple[Any, ...]) -> tuple[tuple[Any, ...], int | None]:
    """Follow ``loc`` into the data as far as it goes; return that path and its line (1-based)."""
    if data is None:
        return tuple(loc), None
    node, path, line = data, [], _line_of(data, None)
    for key in loc:
        if key == "[key]":  # pydantic's mark for a mapping's key (the key itself is at fault)
            break
        if isinstance(node, Mapping) and key in node:
            line = _line_of(node, key) or line
            node = node[key]
        elif isinstance(node, Sequence) and not isinstance(node, str) and isinstance(key, int):
            if not 0 <= key < len(node):
                break
            line = _line_of(node, key) or line
            node = node[key]
        elif isinstance(node, Mapping) or key in ("from", "to"):
            path.append(key)  # a missing or unknown key: report it at its parent's line
            break
        else:
            break  # a union branch or validator name, not part of the data path
        path.append(key)
    return tuple(path), line


def _line_of(node: Any, key: Any) -> int | None:
    lc = getattr(node, "lc", None)
    if lc is None:
        return None
    try:
        if key is None:
            return int(lc.line) + 1
        row = lc.key(key)[0] if isinstance(node, Mapping) else lc.item(key)[0]
        return int(row) + 1
    except (KeyError, IndexError, TypeError, AttributeError):
        return None


def _format_path(path: tuple[Any, ...]) -> str:
    out = ""
    for key in path:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else str(key))
    return out


def _describe(path: tuple[Any, ...], errs: list[dict[str, Any]]) -> str:
    first = errs[0]
    kind = first["type"]
    if kind == "extra_forbidden":
        allowed = _allowed_keys(path[:-1])
        hint = f"; allowed keys: {', '.join(allowed)}" if allowed else ""
        return f"unknown key {path[-1]!r}{hint}"
    if kind == "missing":
        return "required field is missing"
    got = "" if isinstance(first["input"], Mapping) else f" (got {preview(first['input'])})"
    if kind == "cross_reference":
        return str(first["msg"])
    if len(errs) > 1 and any(str(e["type"]).startswith(("date", "datetime")) for e in errs):
        return (
            "expected a day number, a date (YYYY-MM-DD) or a date and time (YYYY-MM-DD HH:MM)" + got
        )
    messages = []
    for err in errs:
        msg = str(err["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
        msg = _plain(msg)
        if msg not in messages:
            messages.append(msg)
    if len(messages) > 1:
        return "expected one of: " + "; or ".join(m[0].lower() + m[1:] for m in messages) + got
    return messages[0] + ("" if "got " in messages[0] else got)


_PYDANTIC_WORDS = (
    (re.compile(r"a valid dictionary or instance of \w+"), "a mapping of keys"),
    (re.compile(r"a valid dictionary"), "a mapping of keys"),
    (re.compile(r"a valid list"), "a list"),
)


def _plain(message: str) -> str:
    """Pydantic's wording without its internal type names."""
    for pattern, words in _PYDANTIC_WORDS:
        message = pattern.sub(words, message)
    return message


def _kind(value: Any) -> str:
    """What a YAML value is, in words (never a Python type name)."""
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Sequence):
        return "a list"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, date):
        return "a date"
    return "a value"


class _Full(Exception):
    """The preview has all the characters it may have."""


def preview(value: Any, limit: int = 60) -> str:
    """A short YAML-like rendering of ``value``, built piece by piece and cut at ``limit``.

    Only about ``limit`` characters are ever produced, so a huge value (or one whose aliases
    expand to billions of items) costs nothing to show.
    """
    parts: list[str] = []
    room = [limit + 1]

    def emit(text: str) -> None:
        parts.append(text[: room[0]])
        room[0] -= len(text)
        if room[0] <= 0:
            raise _Full

    def walk(item: Any) -> None:
        if isinstance(item, Mapping):
            emit("{")
            for k, (key, sub) in enumerate(item.items()):
                emit(", " if k else "")
                walk(key)
                emit(": ")
                walk(sub)
            emit("}")
        elif isinstance(item, list | tuple):
            emit("[")
            for k, sub in enumerate(item):
                emit(", " if k else "")
                walk(sub)
            emit("]")
        else:
            emit(_scalar(item, room[0]))

    try:
        walk(value)
    except _Full:
        pass
    text = "".join(parts)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _scalar(value: Any, room: int) -> str:
    if isinstance(value, str):
        return repr(value[: room + 1])
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and value.bit_length() > 200:
        return "a very large number"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, date):
        return value.isoformat()
    return _kind(value)


def _allowed_keys(path: tuple[Any, ...]) -> list[str]:
    """The keys a mapping at ``path`` may hold, read off the scenario models."""
    model: Any = Scenario
    for key in path:
        model = _step(model, key)
        if model is None:
            return []
    if isinstance(model, type) and issubclass(model, BaseModel):
        return [f.alias or name for name, f in model.model_fields.items()]
    return []


def _step(annotation: Any, key: Any) -> Any:
    """The annotation one level below ``annotation`` at ``key`` (field, list item, dict value)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        for name, field in annotation.model_fields.items():
            if key in (name, field.alias):
                return _unwrap(field.annotation)
        return None
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (list, tuple) and args and isinstance(key, int):
        return _unwrap(args[0])
    if origin is dict and len(args) == 2:
        value = _unwrap(args[1])
        return MEASURE_TYPES.get(key, value) if value is MeasureSpec else value
    return None


def _unwrap(annotation: Any) -> Any:
    """Strip ``Annotated``, ``Optional`` and similar wrappers down to one model or container."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            options = [a for a in typing.get_args(annotation) if a is not type(None)]
            models = [a for a in options if isinstance(a, type) and issubclass(a, BaseModel)]
            annotation = models[0] if models else options[0]
            if not models:
                return annotation
        else:
            return annotation
