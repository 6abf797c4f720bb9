"""The chart of one run: where infections came from, who is infected, and deaths, by date.

Three panels share the date axis: new infections per day by where they were acquired (daily
bars one day wide, stacked, with no gap between days), people currently infected by stage
(the same daily steps, stacked), and cumulative deaths. Each meaning has a colour of its own
across the figure; the stage "ill, no longer infectious" is hatched rather than coloured, the
hatch saying that these people no longer infect.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from containment_sim.plots.style import (
    GREY,
    OKABE_ITO,
    count_axis,
    date_axis,
    new_figure,
    scale_note,
    set_title,
    styled,
)
from containment_sim.results import Result

__all__ = ["COLOURS", "SOURCES", "STAGES", "plot_epidemic_curve"]

SOURCES: tuple[tuple[str, str], ...] = (
    ("new_infections_local", "local"),
    ("new_infections_imported", "imported (returnees)"),
    ("new_infections_seeded", "seeded (initial cases)"),
)
"""Daily infection columns by where they were acquired, and their legend labels."""

STAGES: tuple[tuple[str, str], ...] = (
    ("n_exposed", "exposed, not yet infectious"),
    ("n_presymptomatic", "presymptomatic"),
    ("n_asymptomatic", "asymptomatic"),
    ("n_symptomatic", "symptomatic"),
    ("n_ill", "ill, no longer infectious"),
)
"""Stock columns of the stages of an infection, bottom of the stack first."""

COLOURS: dict[str, str] = {
    "new_infections_local": OKABE_ITO["blue"],
    "new_infections_imported": OKABE_ITO["vermillion"],
    "new_infections_seeded": GREY,
    "n_exposed": OKABE_ITO["sky_blue"],
    "n_presymptomatic": OKABE_ITO["orange"],
    "n_asymptomatic": OKABE_ITO["green"],
    "n_symptomatic": OKABE_ITO["purple"],
    "n_ill": "#FFFFFF",
    "cum_deaths": OKABE_ITO["black"],
}
"""One colour per meaning; ``n_ill`` is white with a grey hatch."""


@styled
def plot_epidemic_curve(result: Result) -> Figure:
    """New infections by source, people infected by stage, and deaths, day by day.

    Args:
        result: A finished (or loaded) run; its ``timeseries`` needs ``date``, the
            ``new_infections_*`` sources, the stage stocks and ``cum_deaths``.

    Returns:
        A figure of 7.5 x 7.5 inches (not shown; save it with
        :func:`~containment_sim.plots.save.save_figure` or ``result.plot(path)``).
    """
    ts = result.timeseries
    days = pd.to_datetime(ts["date"]).to_numpy(dtype="datetime64[D]")
    edges = np.append(days, days[-1] + np.timedelta64(1, "D"))
    fig, axes = new_figure(3, 1, (7.5, 7.5), sharex=True, height_ratios=[3, 3, 1.5])
    new, current, deaths = axes
    _stack(new, ts, edges, SOURCES, skip_empty=True)
    new.set_ylabel("new infections\n(people per day)")
    _stack(current, ts, edges, STAGES, skip_empty=False)
    current.set_ylabel("currently infected\n(people)")
    deaths.stairs(
        ts["cum_deaths"].to_numpy(dtype=float),
        edges,
        color=COLOURS["cum_deaths"],
        linewidth=1.6,
        baseline=None,
        label="deaths (cumulative)",
    )
    deaths.set_ylabel("deaths, cumulative\n(people)")
    deaths.set_ylim(bottom=0, top=max(1.0, float(ts["cum_deaths"].max()) * 1.1))
    _legend(deaths)
    for ax in axes:
        count_axis(ax.yaxis)
        ax.set_xlim(edges[0], edges[-1])
        ax.grid(axis="x", visible=False)
    date_axis(deaths)
    s, sc = result.summary, result.scenario
    set_title(
        fig,
        f"{sc.name}, strategy '{sc.strategy}': {_count(s['total_infections'], 'infection')}, "
        f"{_count(s['deaths'], 'death')} (seed {s['seed']})",
        scale_note(sc.population.scale, s.get("population")),
    )
    return fig


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _stack(
    ax: Axes,
    ts: pd.DataFrame,
    edges: np.ndarray,
    columns: tuple[tuple[str, str], ...],
    skip_empty: bool,
) -> None:
    """Stack daily columns as steps one day wide, filled, and add a legend (top item first)."""
    base = np.zeros(len(ts))
    for column, label in columns:
        values = ts[column].to_numpy(dtype=float)
        if skip_empty and not values.any():
            continue
        top = base + values
        hatched = column == "n_ill"
        ax.stairs(
            top,
            edges,
            baseline=base.copy(),
            fill=True,
            facecolor=COLOURS[column],
            edgecolor=GREY if hatched else COLOURS[column],
            hatch="////" if hatched else None,
            linewidth=0.6 if hatched else 0.0,
            label=label,
        )
        base = top
    ax.set_ylim(bottom=0, top=max(1.0, float(base.max()) * 1.05))
    _legend(ax, reverse=True)


def _legend(ax: Axes, reverse: bool = False) -> None:
    """A legend to the right of the panel, clear of the data (top item first for stacks)."""
    handles, labels = ax.get_legend_handles_labels()
    if reverse:
        handles, labels = handles[::-1], labels[::-1]
    ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
