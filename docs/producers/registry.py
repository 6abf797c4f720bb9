"""Generated blocks of the documentation: every number, table and figure the docs quote.

A page marks a generated block with two HTML comments that Markdown does not show::

    <!-- generated: xianning-outcomes -->
    ...whatever the producer returned...
    <!-- /generated -->

The producer is a function registered with :func:`block` under that name. It returns the
Markdown between the markers and may draw figures with :func:`save_figure`. ``docs/build.py``
runs the producers and writes their output into the pages; ``docs/build.py --check`` fails when
a page differs from what the code produces.

A producer is ``cheap`` (seconds: it runs in every check) or ``costly`` (minutes: full-city
runs, many replicates). A costly block is checked by its fingerprint instead: the hash of the
package's source, the built-in scenarios, the producers and the benchmark figures it reads,
recorded in ``docs/generated.lock.json`` when it was last produced. Changing any of these
without rebuilding the docs fails the check.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

DOCS = Path(__file__).resolve().parents[1]
ROOT = DOCS.parent
IMAGES = DOCS / "images"

Cost = Literal["cheap", "costly"]


@dataclass(frozen=True)
class Block:
    """One generated block: its name, its cost class and the function producing its text."""

    name: str
    cost: Cost
    produce: Callable[[], str]


BLOCKS: dict[str, Block] = {}


def block(name: str, cost: Cost = "cheap") -> Callable[[Callable[[], str]], Callable[[], str]]:
    """Register ``produce`` as the producer of the block ``name``.

    Raises:
        ValueError: Another producer already has that name.
    """

    def register(produce: Callable[[], str]) -> Callable[[], str]:
        if name in BLOCKS:
            raise ValueError(f"two producers for the generated block {name!r}")
        BLOCKS[name] = Block(name, cost, produce)
        return produce

    return register


def save_figure(figure: Any, name: str) -> str:
    """Save a matplotlib figure as ``docs/images/<name>.png``; close it.

    Returns:
        The Markdown image path relative to the docs folder, ``images/<name>.png``.
    """
    import matplotlib.pyplot as plt

    IMAGES.mkdir(exist_ok=True)
    figure.savefig(IMAGES / f"{name}.png", dpi=110, metadata={"Software": None})
    plt.close(figure)
    return f"images/{name}.png"


def table(frame: Any, floatfmt: str = ",.1f") -> str:
    """A pandas DataFrame as a Markdown table: integers with thousands separators."""
    columns = [str(c) for c in frame.columns]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join(_cell(v, floatfmt) for v in row) + " |")
    return "\n".join(lines)


def _cell(value: Any, floatfmt: str) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int) or (hasattr(value, "is_integer") and float(value).is_integer()):
        try:
            return f"{int(value):,}"
        except (TypeError, ValueError, OverflowError):
            return str(value)
    if isinstance(value, float):
        return format(value, floatfmt)
    return str(value)
