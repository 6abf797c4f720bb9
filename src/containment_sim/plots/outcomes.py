"""Per-run outcomes of a comparison: totals, what each strategy averts, and who averts it.

Outcomes are drawn as a dot (the median over replicates) and a whisker (the 90 % interval),
never as bars: a bar on a logarithmic axis has no meaningful base, and a bar hides the spread.
Every panel has an axis of its own, so that a strategy that averts 3,000 infections is as
readable as one that averts 104,000; the median is also written beside each whisker.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from containment_sim.experiments import Comparison
from containment_sim.plots.intervals import INTERVAL_TEXT, dates, draw_whisker, interval
from containment_sim.plots.style import (
    OKABE_ITO,
    count_axis,
    date_axis,
    format_count,
    log_count_axis,
    new_figure,
    outcome_label,
    scenario_note,
    set_title,
    strategy_style,
    styled,
)
from containment_sim.statistics import paired_difference

__all__ = ["OUTCOME_PANELS", "plot_attribution", "plot_averted", "plot_outcomes"]

OUTCOME_PANELS: tuple[str, ...] = ("total_infections", "confirmed", "deaths", "peak_day")
"""Outcomes drawn by :func:`plot_outcomes`, one panel each."""

_LOG_SPAN = 30.0
"""A count panel is logarithmic when its largest value exceeds its smallest by this factor."""


def _strategy_axis(ax: Axes, strategies: list[str]) -> None:
    """Strategies on the vertical axis, the first at the top."""
    ax.set_yticks(range(len(strategies)), strategies)
    ax.set_ylim(len(strategies) - 0.5, -0.5)
    ax.set_ylabel("strategy")
    ax.grid(axis="y", visible=False)


def _note(ax: Axes, x: float, y: float, text: str) -> None:
    """Write a value just above its dot."""
    ax.annotate(
        text, (x, y), xytext=(0, 5), textcoords="offset points", ha="center", va="bottom",
        fontsize=7,
    )  # fmt: skip


def _count_panel(ax: Axes, cmp: Comparison, outcome: str) -> None:
    """Dot and whisker of a count outcome per strategy; logarithmic if it spans decades."""
    stats = [interval(cmp.replicates.loc[cmp.replicates["strategy"] == s, outcome])
             for s in cmp.strategies]  # fmt: skip
    for k, (lo, med, hi) in enumerate(stats):
        draw_whisker(ax, k, lo, med, hi, strategy_style(k)["color"])
        if np.isfinite(med):
            _note(ax, med, k, format_count(med))
    finite = np.array([v for row in stats for v in row if np.isfinite(v)])
    spread = finite.size and finite.max() > _LOG_SPAN * max(1.0, finite.min())
    if spread:
        log_count_axis(ax, "x")
        ax.set_xlim(left=0, right=finite.max() * 3)
    else:
        count_axis(ax.xaxis, ticks=4)
        ax.set_xlim(left=0, right=max(1.0, finite.max() * 1.1 if finite.size else 1.0))
    ax.set_xlabel(outcome_label(outcome, "log scale" if spread else ""))


def _date_panel(ax: Axes, cmp: Comparison, outcome: str) -> None:
    """Dot and whisker of a day outcome (e.g. the peak day) per strategy, as dates."""
    for k, s in enumerate(cmp.strategies):
        lo, med, hi = interval(cmp.replicates.loc[cmp.replicates["strategy"] == s, outcome])
        if not np.isfinite(med):
            continue
        x = dates(cmp.scenario, np.array([lo, med, hi]).round())
        draw_whisker(ax, k, x[0], x[1], x[2], strategy_style(k)["color"])
        day = pd.Timestamp(x[1])
        _note(ax, x[1], k, f"{day.day} {day:%b}")
    ax.margins(x=0.08)
    date_axis(ax, f"{outcome_label(outcome).split(' (')[0]} (date)")


@styled
def plot_outcomes(cmp: Comparison) -> Figure:
    """Small multiples of outcomes per strategy: median and 90 % interval over replicates.

    Args:
        cmp: A comparison.

    Returns:
        One panel per outcome of :data:`OUTCOME_PANELS`, each with an axis of its own.
    """
    height = 1.2 + 0.45 * len(cmp.strategies)
    fig, axes = new_figure(2, 2, (7.0, 2 * height + 0.6))
    for ax, outcome in zip(axes, OUTCOME_PANELS, strict=True):
        _strategy_axis(ax, cmp.strategies)
        if outcome.endswith("_day"):
            _date_panel(ax, cmp, outcome)
        else:
            _count_panel(ax, cmp, outcome)
    n = cmp.replicates["replicate"].nunique()
    set_title(
        fig,
        f"{cmp.scenario.name}: outcomes by strategy",
        f"dot: median, line: {INTERVAL_TEXT} over {n} replicates",
        scenario_note(cmp.scenario),
    )
    return fig


def _averted_panel(ax: Axes, values: pd.Series, colour: str, what: str) -> None:
    """One strategy, one outcome: dot and whisker of the paired differences, with zero."""
    lo, med, hi = interval(values)
    ax.axvline(0.0, color="black", linewidth=0.9)
    draw_whisker(ax, 0, lo, med, hi, colour)
    if np.isfinite(med):
        ax.text(
            0.01, 0.96, f"median {format_count(med)}; {INTERVAL_TEXT} {format_count(lo)} to "
            f"{format_count(hi)}", transform=ax.transAxes, ha="left", va="top", fontsize=7,
            bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.0},
        )  # fmt: skip
    left, right = min(0.0, lo), max(0.0, hi)
    pad = 0.12 * (right - left) if right > left else 1.0
    ax.set_xlim(left - pad, right + pad)
    ax.set_ylim(0.7, -0.5)
    ax.set_yticks([])
    ax.grid(axis="y", visible=False)
    count_axis(ax.xaxis, ticks=4)
    ax.set_xlabel(f"{what} averted (people)")


@styled
def plot_averted(cmp: Comparison) -> Figure:
    """Infections and deaths each strategy averts against ``none``, paired by replicate.

    One panel per strategy and outcome, each with an axis of its own that includes zero
    (drawn), so that small effects and their uncertainty stay readable beside large ones.

    Args:
        cmp: A comparison of ``none`` and at least one other strategy.

    Returns:
        A grid of panels: strategies in rows, infections and deaths in columns.

    Raises:
        ValueError: The comparison lacks ``none`` or any other strategy.
    """
    others = [s for s in cmp.strategies if s != "none"]
    if "none" not in cmp.strategies or not others:
        raise ValueError("averted counts need 'none' and at least one other strategy")
    outcomes = (("total_infections", "infections"), ("deaths", "deaths"))
    fig, axes = new_figure(len(others), 2, (7.0, 1.15 * len(others) + 1.1))
    for row, s in enumerate(others):
        colour = strategy_style(cmp.strategies.index(s))["color"]
        for col, (outcome, what) in enumerate(outcomes):
            ax = axes[2 * row + col]
            _averted_panel(ax, paired_difference(cmp.replicates, s, outcome), colour, what)
            ax.set_ylabel(s, rotation=0, ha="right", va="center")
    n = cmp.replicates["replicate"].nunique()
    set_title(
        fig,
        f"{cmp.scenario.name}: averted against 'none'; each panel has its own scale",
        f"dot: median, line: {INTERVAL_TEXT} of the differences paired by replicate "
        f"over {n} replicates",
        scenario_note(cmp.scenario),
    )
    return fig


@styled
def plot_attribution(cmp: Comparison) -> Figure:
    """Shapley value of each measure (or group) in what its strategy averts.

    The values add up to the total averted; a negative value is a measure that, on average
    over the orders in which measures can be added, increases the outcome.

    Args:
        cmp: A comparison with an attribution table.

    Returns:
        Horizontal bars from zero on a linear axis, each labelled with its share.

    Raises:
        ValueError: The comparison has no attribution.
    """
    table = cmp.attribution
    if table is None:
        raise ValueError("the comparison has no attribution to plot")
    order = table.sort_values("shapley", ascending=False).reset_index(drop=True)
    fig, (ax,) = new_figure(1, 1, (7.0, 0.45 * len(order) + 1.9))
    ax.barh(order.index, order["shapley"], color=OKABE_ITO["blue"], height=0.6)
    ax.axvline(0.0, color="black", linewidth=0.9)
    for y, (value, share) in enumerate(zip(order["shapley"], order["share"], strict=True)):
        ax.annotate(
            f"{format_count(value)} ({share:.0%})".replace("-", "\N{MINUS SIGN}"), (value, y),
            va="center", fontsize=7,
            xytext=(4 if value >= 0 else -4, 0), textcoords="offset points",
            ha="left" if value >= 0 else "right",
        )  # fmt: skip
    ax.set_yticks(order.index, order["unit"])
    ax.set_ylim(len(order) - 0.5, -0.5)
    ax.grid(axis="y", visible=False)
    lo, hi = min(0.0, order["shapley"].min()), max(0.0, order["shapley"].max())
    span = (hi - lo) or 1.0  # room for the labels beside the bars
    ax.set_xlim(lo - (0.25 if lo < 0 else 0.02) * span, hi + 0.25 * span)
    count_axis(ax.xaxis)
    what = str(table["outcome"].iloc[0]).replace("total_", "").replace("_", " ")
    ax.set_xlabel(f"{what} averted (people), Shapley value")
    ax.set_ylabel("measure or group of measures")
    set_title(
        fig,
        f"{cmp.scenario.name}: contribution of each measure to the {what} averted",
        f"total averted {format_count(float(table['total_averted'].iloc[0]))}; "
        "values add up to the total",
        scenario_note(cmp.scenario),
    )
    return fig
