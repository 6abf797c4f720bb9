"""Reading untrusted YAML: size, encoding, depth, alias expansion, tags, values with lines."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from containment_sim.safe_yaml import Limits, YamlInputError, load_text, read_file, to_plain

DEFAULT = Limits()


def error_of(text: str, limits: Limits = DEFAULT) -> YamlInputError:
    with pytest.raises(YamlInputError) as info:
        load_text(text, limits)
    return info.value


def test_a_file_over_the_size_limit_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"a: 1\n" * 1000)
    assert read_file(path, Limits(max_bytes=5000)).startswith("a: 1")
    with pytest.raises(YamlInputError, match="larger than the limit of 5 kB"):
        read_file(path, Limits(max_bytes=4999))


def test_devices_and_folders_are_not_read(tmp_path: Path) -> None:
    with pytest.raises(YamlInputError, match="not a regular file"):
        read_file("/dev/zero")
    with pytest.raises(YamlInputError, match="not a regular file"):
        read_file(tmp_path)
    with pytest.raises(YamlInputError, match="cannot read: No such file"):
        read_file(tmp_path / "missing.yaml")


def test_encodings_other_than_utf8_are_named_with_their_line(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_bytes("a: 1\nb: Nörth\n".encode("latin-1"))
    with pytest.raises(YamlInputError) as info:
        read_file(path)
    assert (info.value.line, info.value.message) == (
        2,
        "not UTF-8 text (byte 0xf6); save it as UTF-8",
    )
    path.write_bytes("a: 1\n".encode("utf-16"))
    with pytest.raises(YamlInputError, match="UTF-16"):
        read_file(path)
    path.write_bytes("\ufeffa: 1\n".encode())
    assert load_text(read_file(path)) == {"a": 1}, "a UTF-8 byte-order mark is fine"


def test_an_alias_bomb_is_refused_in_milliseconds() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for k in range(1, 12):  # 10^12 values once expanded
        lines.append(f"a{k}: &a{k} [" + ", ".join([f"*a{k - 1}"] * 10) + "]")
    started = time.perf_counter()
    err = error_of("\n".join(lines))
    assert time.perf_counter() - started < 1.0
    assert err.line == 6 and "more than 200,000 values once aliases" in err.message


def test_shared_anchors_within_the_limit_are_fine() -> None:
    data = load_text("a: &s [1, 2]\nb: *s\nc: {<<: {d: 1}, e: 2}\n")
    assert to_plain(data) == {"a": [1, 2], "b": [1, 2], "c": {"d": 1, "e": 2}}


def test_a_recursive_alias_is_refused() -> None:
    assert "refers to a value that contains it" in error_of("a: &x [1, *x]\n").message


def test_nesting_deeper_than_the_limit_names_its_line() -> None:
    assert error_of("a: 1\nb: " + "[" * 41 + "]" * 41).line == 2
    assert load_text("b: " + "[" * 39 + "]" * 39)  # 40 levels with the top mapping
    deep = "".join("  " * k + f"k{k}:\n" for k in range(60)) + "  " * 60 + "x: 1\n"
    err = error_of(deep)
    assert (err.line, err.message) == (41, "nested more than 40 levels deep")
    started = time.perf_counter()
    assert error_of("a: " + "[" * 100_000).line == 1
    assert error_of("".join("  " * k + f"k{k}:\n" for k in range(2000))).line == 41
    assert time.perf_counter() - started < 5.0


def test_explicit_tags_are_refused() -> None:
    assert (
        "'!!python/object/apply:os.system'"
        in error_of("a: !!python/object/apply:os.system [echo]\n").message
    )
    assert error_of("a: 1\nb: !include x.yaml\n").line == 2
    assert "'!!str'" in error_of("a: !!str 3\n").message


def test_values_that_cannot_be_built_name_their_line() -> None:
    err = error_of("a: 1\nstart: 2020-02-30\n")
    assert err.line == 2 and err.message.startswith("cannot read the value '2020-02-30'")
    err = error_of("a: " + "9" * 5000 + "\n")
    assert err.message == "cannot read the value: the number has too many digits"


def test_syntax_errors_and_control_characters_name_their_line() -> None:
    assert error_of("a: 1\nb: [1, 2\n").message.startswith("YAML syntax error")
    err = error_of("a: 1\nb: x\x00\n")
    assert err.line == 2 and "special characters" in err.message
    assert error_of("a: 1\na: 2\n").line == 2


def test_plain_values_lose_their_round_trip_types() -> None:
    data = to_plain(load_text("a: &t true\nb: *t\nc: 1.5\nd: 0x10\ne: [1_000]\n"))
    assert data == {"a": True, "b": True, "c": 1.5, "d": 16, "e": [1000]}
    assert [type(v) for v in data.values()] == [bool, bool, float, int, list]
