"""Short text and HTML views of results and comparisons, for a console or a notebook.

``repr(result)`` is a few lines (scenario, strategy, days, key outcomes) instead of every
table; ``_repr_html_`` is a small table that Jupyter shows.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from containment_sim.experiments import Comparison

__all__ = ["comparison_html", "comparison_repr", "result_html", "result_repr"]


def _count(value: Any) -> str:
    return f"{value:,.0f}" if isinstance(value, int | float) else "-"


def _title(s: dict[str, Any]) -> str:
    return (
        f"{s.get('scenario_name')}, strategy {s.get('strategy')}, {s.get('engine')} engine, "
        f"{s.get('days')} days from {s.get('start_date')}, scale {s.get('scale')}, "
        f"seed {s.get('seed')}"
    )


def _outcomes(s: dict[str, Any]) -> list[tuple[str, str]]:
    contained = s.get("contained")
    return [
        ("infections", f"{_count(s.get('total_infections'))} "
                       f"({_count(s.get('imported_infections'))} imported)"),
        ("confirmed", _count(s.get("confirmed"))),
        ("deaths", _count(s.get("deaths"))),
        ("peak", f"{_count(s.get('peak_infected'))} infected on day {s.get('peak_day')}"),
        ("contained", "-" if contained is None else "yes" if contained else "no"),
    ]  # fmt: skip


def result_repr(summary: dict[str, Any]) -> str:
    """Two lines: what was run, and its key outcomes."""
    outcomes = "; ".join(f"{k} {v}" for k, v in _outcomes(summary))
    return f"<Result {_title(summary)}\n {outcomes}>"


def result_html(summary: dict[str, Any]) -> str:
    """A small HTML table of what was run and its key outcomes."""
    rows = "".join(
        f"<tr><th style='text-align:left'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
        for k, v in _outcomes(summary)
    )
    return f"<p><b>Result</b> {html.escape(_title(summary))}</p><table>{rows}</table>"


def _comparison_rows(cmp: Comparison) -> tuple[str, list[list[str]]]:
    """The title and one row per strategy: infections (mean, 95 % interval), deaths, ..."""
    table = cmp.table()
    settings = cmp.settings
    title = (
        f"{cmp.scenario.name}: {len(cmp.strategies)} "
        f"{'strategy' if len(cmp.strategies) == 1 else 'strategies'} x "
        f"{settings.get('replicates', '?')} replicates, seed {settings.get('seed', '?')}, "
        f"scale {cmp.scenario.population.scale}"
    )
    rows = []
    for _, row in table.iterrows():
        rows.append(
            [
                str(row["strategy"]),
                f"{_count(row['total_infections_mean'])} ({_count(row['total_infections_lo95'])}"
                f"-{_count(row['total_infections_hi95'])})",
                _count(row["deaths_mean"]),
                f"{row['probability_contained']:.0%}",
                _count(row.get("infections_averted_mean", float("nan"))),
            ]
        )
    return title, rows


_COMPARISON_HEADER = ["strategy", "infections (95% interval)", "deaths", "contained", "averted"]


def comparison_repr(cmp: Comparison) -> str:
    """A title line and one line per strategy (means and 95 % intervals)."""
    title, rows = _comparison_rows(cmp)
    lines = [_COMPARISON_HEADER, *rows]
    widths = [max(len(line[k]) for line in lines) for k in range(len(_COMPARISON_HEADER))]
    text = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
            for line in lines]  # fmt: skip
    return "<Comparison " + title + "\n " + "\n ".join(text) + ">"


def comparison_html(cmp: Comparison) -> str:
    """A small HTML table: one row per strategy."""
    title, rows = _comparison_rows(cmp)
    head = "".join(f"<th>{html.escape(h)}</th>" for h in _COMPARISON_HEADER)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in rows
    )
    return (
        f"<p><b>Comparison</b> {html.escape(title)}</p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )
