"""Safe names: usable as folder names and harmless in spreadsheets."""

from __future__ import annotations

import pytest

from containment_sim.names import check_name, name_problem


@pytest.mark.parametrize(
    "name",
    ["xianning", "Two towns", "咸安区", "G4 expressway", "site_2.b", "A-1", "Ελλάδα", "नगर"],
)
def test_ordinary_names_are_safe(name: str) -> None:
    assert check_name(name) == name


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("..", "must not start with '.'"),
        (".", "must not start with '.'"),
        ("a..b", "must not contain '..'"),
        ("../x", "character '/'"),
        ("a/b", "character '/'"),
        ("a\\b", "character '\\\\'"),
        ("=SUM(1)", "character '='"),
        ("+cmd", "character '+'"),
        ("-x", "must not start with '-'"),
        ("@x", "character '@'"),
        (" x", "must not start with ' '"),
        ("x ", "must not end with a space"),
        ("a\tb", "character '\\t'"),
        ("a\nb", "character '\\n'"),
        ("", "must not be empty"),
        ("x" * 81, "at most 80 characters"),
    ],
)
def test_unsafe_names_say_why(name: str, why: str) -> None:
    problem = name_problem(name)
    assert problem is not None and why in problem
    with pytest.raises(ValueError, match=r"name|character"):
        check_name(name)
