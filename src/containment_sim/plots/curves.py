"""Daily curves of a comparison: one median line and 90 % band per strategy, by date.

Epidemic curves, the reproduction number, new infections per region, and the load on
quarantine sites and checkpoints against their capacity. Every curve comes from
``Comparison.curves`` or ``Comparison.regions`` (one row per strategy, replicate and day).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from containment_sim.experiments import Comparison
from containment_sim.plots.intervals import INTERVAL_TEXT, daily_values, dates, draw_band
from containment_sim.plots.style import (
    GREY,
    count_axis,
    date_axis,
    log_count_axis,
    new_figure,
    scenario_note,
    set_title,
    strategy_style,
    styled,
)
from containment_sim.scenario import Scenario

__all__ = [
    "plot_checkpoint_load",
    "plot_curves",
    "plot_regions",
    "plot_rt",
    "plot_site_occupancy",
]


def _replicates(cmp: Comparison) -> int:
    return int(cmp.curves["replicate"].nunique())


def _method(cmp: Comparison) -> str:
    return f"line: median, band: {INTERVAL_TEXT} over {_replicates(cmp)} replicates"


def _legend(fig: Figure, ax: Axes) -> None:
    """One legend of the strategies for the whole figure, below the panels."""
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 6))


def _bands(ax: Axes, cmp: Comparison, column: str) -> None:
    """A median line and 90 % band of ``column`` for every strategy of the comparison."""
    for k, strategy in enumerate(cmp.strategies):
        days, values = daily_values(cmp.curves, column, strategy=strategy)
        draw_band(ax, dates(cmp.scenario, days), values, k, strategy)


@styled
def plot_curves(cmp: Comparison) -> Figure:
    """Epidemic curves per strategy: new infections per day and people currently infected.

    The vertical axes are logarithmic above 1 and linear below, so that both an epidemic of
    tens of thousands and a contained one of a few cases show, and zero too.

    Args:
        cmp: A comparison.

    Returns:
        Two panels sharing the date axis.
    """
    fig, (top, bottom) = new_figure(2, 1, (7.0, 6.5), sharex=True)
    _bands(top, cmp, "new_infections")
    top.set_ylabel("new infections\n(people per day, log scale)")
    _bands(bottom, cmp, "n_infected")
    bottom.set_ylabel("currently infected\n(people, log scale)")
    for ax in (top, bottom):
        log_count_axis(ax)
    date_axis(bottom)
    _legend(fig, top)
    set_title(
        fig,
        f"{cmp.scenario.name}: epidemic curves by strategy",
        _method(cmp),
        scenario_note(cmp.scenario),
    )
    return fig


@styled
def plot_rt(cmp: Comparison) -> Figure:
    """Case reproduction number by infection day, with the measures' start dates marked.

    Args:
        cmp: A comparison.

    Returns:
        One panel; a dotted line marks each date on which measures start.
    """
    fig, (ax,) = new_figure(1, 1, (7.0, 4.2))
    _bands(ax, cmp, "r_t")
    ax.axhline(1.0, color="black", linewidth=0.8)
    top = min(ax.get_ylim()[1], 6.0)
    ax.set_ylim(0, top)
    sc = cmp.scenario
    starts: dict[int, set[str]] = {}
    for s in cmp.strategies:
        for name in sc.strategies.get(s, []):
            starts.setdefault(int(sc.day_of(sc.measures[name].start)), set()).add(name)
    _mark_starts(ax, sc, starts, top)
    ax.set_ylabel("R_t (infections caused per case\ninfected that day)")
    date_axis(ax, "date of infection")
    _legend(fig, ax)
    set_title(
        fig,
        f"{sc.name}: reproduction number by infection day",
        f"{_method(cmp)}; the last two weeks are incomplete",
        scenario_note(sc),
    )
    return fig


def _mark_starts(ax: Axes, sc: Scenario, starts: dict[int, set[str]], top: float) -> None:
    """A dotted line on each day measures start, labelled; close labels are staggered."""
    previous, level = -(10**6), 0
    for day, names in sorted(starts.items()):
        level = (level + 1) % 3 if day - previous < 5 else 0
        previous = day
        x = dates(sc, np.array([day]))[0]
        ax.axvline(x, color=GREY, linewidth=0.8, linestyle=":")
        label = next(iter(names)) if len(names) == 1 else f"{len(names)} measures start"
        ax.annotate(
            label.replace("_", " "), (x, top * (1.0 - 0.3 * level)), rotation=90, va="top",
            ha="right", fontsize=7, color="0.3",
        )  # fmt: skip


@styled
def plot_regions(cmp: Comparison) -> Figure:
    """Small multiples: new infections per day in each home region, every strategy.

    Each region has its own vertical axis (regions differ in size); all share the dates.

    Args:
        cmp: A comparison.

    Returns:
        One panel per region, three per row, with one legend for the figure.
    """
    regions = list(dict.fromkeys(cmp.regions["region"]))
    ncols = min(3, len(regions))
    nrows = -(-len(regions) // ncols)
    fig, axes = new_figure(nrows, ncols, (7.0, 2.3 * nrows + 0.9), sharex=True)
    for ax, region in zip(axes, regions, strict=False):
        for k, strategy in enumerate(cmp.strategies):
            days, values = daily_values(
                cmp.regions, "new_infections", strategy=strategy, region=region
            )
            draw_band(ax, dates(cmp.scenario, days), values, k, strategy)
        ax.set_title(region)
        ax.set_ylabel("people per day")
        log_count_axis(ax)
    for k, ax in enumerate(axes):
        if k >= len(regions):
            ax.remove()
        elif k + ncols >= len(regions):  # lowest panel of its column: it shows the dates
            ax.xaxis.set_tick_params(labelbottom=True)
            date_axis(ax)
    _legend(fig, axes[0])
    set_title(
        fig,
        f"{cmp.scenario.name}: new infections by home region (log scale)",
        _method(cmp),
        scenario_note(cmp.scenario),
    )
    return fig


def _capacity_chart(
    cmp: Comparison, used: str, capacity: str, title: str, ylabel: str
) -> Figure | None:
    """Use of a resource (median and band) against its capacity, for the strategies with it."""
    curves = cmp.curves
    if used not in curves or curves[used].isna().all():
        return None
    present = [s for s in cmp.strategies if curves.loc[curves["strategy"] == s, used].notna().any()]
    fig, (ax,) = new_figure(1, 1, (7.0, 4.2))
    limits = {}
    for s in present:
        days, values = daily_values(curves, used, strategy=s)
        draw_band(ax, dates(cmp.scenario, days), values, cmp.strategies.index(s), f"{s}: median")
        limits[s] = curves[curves["strategy"] == s].groupby("day")[capacity].median()
    first = limits[present[0]]
    if all(cap.equals(first) for cap in limits.values()):
        _capacity_line(ax, cmp, first, GREY, "capacity" if len(present) == 1 else
                       "capacity (the same for every strategy)")  # fmt: skip
    else:
        for s, cap in limits.items():
            colour = strategy_style(cmp.strategies.index(s))["color"]
            _capacity_line(ax, cmp, cap, colour, f"{s}: capacity")
    ax.set_ylim(bottom=0)
    ax.set_ylabel(ylabel)
    count_axis(ax.yaxis)
    date_axis(ax)
    _legend(fig, ax)
    set_title(fig, f"{cmp.scenario.name}: {title}", _method(cmp), scenario_note(cmp.scenario))
    return fig


def _capacity_line(ax: Axes, cmp: Comparison, cap: pd.Series, colour: str, label: str) -> None:
    """A wide, pale step line of a daily capacity (it changes on the days measures start)."""
    ax.plot(
        dates(cmp.scenario, cap.index.to_numpy()),
        cap.to_numpy(dtype=float),
        drawstyle="steps-post",
        color=colour,
        linewidth=3.0,
        alpha=0.45,
        label=label,
    )


@styled
def plot_site_occupancy(cmp: Comparison) -> Figure | None:
    """People held in centralised quarantine sites (隔离点) against the sites' capacity.

    Returns:
        The figure, or ``None`` when no strategy of the comparison has quarantine sites.
    """
    return _capacity_chart(
        cmp, "site_occupancy", "site_capacity", "quarantine sites, people held and capacity",
        "people in quarantine sites",
    )  # fmt: skip


@styled
def plot_checkpoint_load(cmp: Comparison) -> Figure | None:
    """Travellers reaching checkpoints (卡点) against their daily capacity, all checkpoints.

    Returns:
        The figure, or ``None`` when no strategy of the comparison has checkpoints.
    """
    return _capacity_chart(
        cmp, "checkpoint_travellers", "checkpoint_capacity",
        "checkpoints, travellers and screening capacity", "travellers (people per day)",
    )  # fmt: skip
