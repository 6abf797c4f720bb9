"""Names that are safe everywhere they end up: in folder names, file names and spreadsheets.

Scenario, strategy, measure, region, road and site names become parts of output paths
(``results/<scenario>-<strategy>/``) and cells of CSV tables. A safe name holds only Unicode
letters, marks and digits, spaces, ``-``, ``_`` and ``.``; it does not contain ``..``, does not
start with ``.``, a space, or a character a spreadsheet reads as the start of a formula
(``=``, ``+``, ``-``, ``@``), does not end with a space, and has at most
:data:`MAX_NAME_LENGTH` characters. Such a name can neither leave its folder nor run as a
formula.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator, Field

__all__ = ["MAX_NAME_LENGTH", "NAME_RULE", "SafeName", "check_name", "name_problem"]

MAX_NAME_LENGTH = 80
"""Longest name, in characters (a folder name of 3-byte characters stays under 255 bytes)."""

NAME_RULE = (
    "a name holds letters, digits, spaces, '-', '_' and '.', "
    "does not contain '..' and does not start with '.', '=', '+', '-', '@' or a space"
)
"""What a safe name is, in words (for error messages)."""

_PUNCTUATION = frozenset(" -_.")
_BAD_START = frozenset(".=+-@ ")


def name_problem(name: str) -> str | None:
    """What makes ``name`` unsafe, or ``None`` if it is safe."""
    if not name:
        return "a name must not be empty"
    if len(name) > MAX_NAME_LENGTH:
        return f"a name has at most {MAX_NAME_LENGTH} characters, this one {len(name)}"
    for ch in name:
        if ch not in _PUNCTUATION and unicodedata.category(ch)[0] not in "LMN":
            return f"character {ch!r} is not allowed; {NAME_RULE}"
    if name[0] in _BAD_START:
        return f"a name must not start with {name[0]!r}; {NAME_RULE}"
    if ".." in name:
        return f"a name must not contain '..'; {NAME_RULE}"
    if name[-1] == " ":
        return "a name must not end with a space"
    return None


def check_name(name: str) -> str:
    """Return ``name`` if it is safe.

    Raises:
        ValueError: The name is not safe; the message says why and what is allowed.
    """
    problem = name_problem(name)
    if problem is not None:
        raise ValueError(problem)
    return name


SafeName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_NAME_LENGTH,
        description="Letters, digits, spaces, '-', '_' and '.'; no '..'; "
        "not starting with '.', '=', '+', '-', '@' or a space.",
    ),
    AfterValidator(check_name),
]
"""A string field holding a safe name (see the module docstring)."""
