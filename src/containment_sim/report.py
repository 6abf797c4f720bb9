"""What a part of the model reports, declared: its daily columns and its summary keys.

As a Starsim module declares its results, every part of the model that reports something
declares it in a :class:`Report`: the engine's own bookkeeping (``results.CORE``), each measure
type (``Measure.report``) and each shared service (the case book). A report names

- its **flows** (``new_*``: events during a day, counted with ``ctx.count``), each with the
  ``cum_*`` column that adds it up, if any;
- its **stocks** (``n_*``: people in some status at the end of a day, given by the measure's
  ``stocks`` hook);
- its **summary keys**, each computed from the run's city-wide series, its named tables and
  the values known only at the end of the run.

The recorder lays out its arrays from the reports of a run (:class:`Layout`), and
``results.summarize`` adds every report's summary keys, so a measure type a user registers
adds its own columns and keys without touching this package.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "Flow",
    "Layout",
    "Report",
    "Series",
    "Stock",
    "SummaryKey",
    "SummaryValue",
    "Table",
    "column",
    "table_column",
    "table_sum",
]

Series = Mapping[str, Any]
"""Daily city-wide series by column name: a ``DataFrame`` or a dict of numpy arrays."""

Table = Any
"""A named table: a ``DataFrame`` or the recorder's list of row dicts."""

SummaryValue = Callable[[Series, Mapping[str, Table], Mapping[str, Any]], Any]
"""``value(series, tables, final)``: a summary value from the run's city-wide daily series,
its named tables and the values its parts know only at the end (``final``)."""


@dataclass(frozen=True)
class Flow:
    """A daily flow column: events during each day, by the agents' home region.

    Attributes:
        name: Column name (``new_*`` by convention).
        description: One line for the docs.
        cumulative: Name of the column adding it up over the days (``cum_*``), if any.
    """

    name: str
    description: str
    cumulative: str | None = None


@dataclass(frozen=True)
class Stock:
    """An end-of-day stock column: people in some status at the end of each day, by region.

    Attributes:
        name: Column name (``n_*`` by convention).
        description: One line for the docs.
    """

    name: str
    description: str


@dataclass(frozen=True)
class SummaryKey:
    """A key of the run's summary and how to compute it.

    Attributes:
        name: The key.
        value: Computes it (see :data:`SummaryValue`).
        description: One line for the docs.
    """

    name: str
    value: SummaryValue
    description: str


@dataclass(frozen=True)
class Report:
    """What one part of the model reports.

    Attributes:
        owner: Who reports it (a measure type, a service, the engine); a run lists each
            owner's report once.
        flows: Daily flow columns.
        stocks: End-of-day stock columns.
        summary: Summary keys, in the order they appear in the summary.
    """

    owner: str
    flows: tuple[Flow, ...] = ()
    stocks: tuple[Stock, ...] = ()
    summary: tuple[SummaryKey, ...] = ()


class Layout:
    """The columns of one run, in order: the reports' flows and stocks, each owner once.

    Args:
        reports: The reports of the run's parts, in the order their columns appear.

    Raises:
        ValueError: Two owners declare the same column or summary key.
    """

    def __init__(self, reports: Iterable[Report]):
        unique: dict[str, Report] = {}
        for report in reports:
            unique.setdefault(report.owner, report)
        self.reports: tuple[Report, ...] = tuple(unique.values())
        self.flows: tuple[str, ...] = tuple(f.name for r in self.reports for f in r.flows)
        self.stocks: tuple[str, ...] = tuple(s.name for r in self.reports for s in r.stocks)
        self.cumulative: dict[str, str] = {
            f.name: f.cumulative for r in self.reports for f in r.flows if f.cumulative
        }
        self.summary: tuple[SummaryKey, ...] = tuple(k for r in self.reports for k in r.summary)
        names = [*self.flows, *self.stocks, *self.cumulative.values()]
        for kind, listed in (("column", names), ("summary key", [k.name for k in self.summary])):
            repeated = sorted({n for n in listed if listed.count(n) > 1})
            if repeated:
                raise ValueError(f"{kind}s declared twice: {', '.join(repeated)}")


def column(series: Series, name: str) -> np.ndarray:
    """A city-wide daily column as an array."""
    return np.asarray(series[name])


def table_column(table: Table, name: str) -> np.ndarray:
    """A column of a named table (a ``DataFrame`` or a list of row dicts) as an array."""
    if isinstance(table, list):
        return np.array([row[name] for row in table])
    return np.asarray(table[name])


def table_sum(tables: Mapping[str, Table], table: str, name: str) -> int:
    """The sum of a column of a named table over all its rows (0 without the table)."""
    return int(table_column(tables[table], name).sum()) if table in tables else 0
