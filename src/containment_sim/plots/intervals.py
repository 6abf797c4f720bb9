"""Intervals across replicates, and the two ways charts draw them.

Every chart of a comparison shows the median over replicates and the 90 % interval (5th to
95th percentile), not a mean: outcome distributions of outbreaks are skewed, and a run that
dies out early is as real as one that takes off. Daily curves are drawn as a median line over
a band (:func:`draw_band`); per-run outcomes as a dot and a whisker (:func:`draw_whisker`).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from containment_sim.plots.style import strategy_style
from containment_sim.scenario import Scenario

__all__ = [
    "INTERVAL",
    "INTERVAL_TEXT",
    "daily_values",
    "dates",
    "draw_band",
    "draw_whisker",
    "interval",
    "quantiles",
]

INTERVAL: tuple[float, float] = (5.0, 95.0)
"""Percentiles bounding the interval drawn around every median."""

INTERVAL_TEXT = "90 % interval"
"""How titles and legends name :data:`INTERVAL`."""


def quantiles(values: np.ndarray, q: Sequence[float]) -> np.ndarray:
    """Percentiles across replicates (axis 1) of a day x replicate array.

    Days with no value in any replicate (e.g. R_t before the first case) give ``nan``.

    Returns:
        One row per percentile in ``q``, one column per day.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-nan days
        out: np.ndarray = np.nanpercentile(np.asarray(values, dtype=float), list(q), axis=1)
        return out


def interval(values: pd.Series | np.ndarray) -> tuple[float, float, float]:
    """Low end, median and high end of :data:`INTERVAL` of one outcome over replicates.

    Missing values are ignored; with none left, all three are ``nan``.
    """
    x = pd.to_numeric(pd.Series(np.asarray(values).ravel()), errors="coerce").dropna()
    if x.empty:
        return (np.nan, np.nan, np.nan)
    lo, med, hi = np.percentile(x.to_numpy(dtype=float), [INTERVAL[0], 50.0, INTERVAL[1]])
    return (float(lo), float(med), float(hi))


def daily_values(frame: pd.DataFrame, column: str, **select: str) -> tuple[np.ndarray, np.ndarray]:
    """Days and a day x replicate array of one column, for the rows matching ``select``.

    Args:
        frame: A tidy table with ``day`` and ``replicate`` columns (``Comparison.curves``
            or ``Comparison.regions``).
        column: The daily column.
        **select: Column values the rows must have, e.g. ``strategy="none"``.
    """
    mask = np.ones(len(frame), dtype=bool)
    for key, value in select.items():
        mask &= (frame[key] == value).to_numpy()
    wide = frame.loc[mask].pivot(index="day", columns="replicate", values=column)
    return wide.index.to_numpy(), wide.to_numpy(dtype=float)


def dates(scenario: Scenario, days: np.ndarray) -> np.ndarray:
    """Calendar dates of simulation days (day 0 is the scenario's start date)."""
    return np.datetime64(scenario.start_date, "D") + np.asarray(days).astype("timedelta64[D]")


def draw_band(ax: Axes, x: np.ndarray, values: np.ndarray, k: int, label: str) -> None:
    """Median line of the k-th strategy over its 90 % band.

    The band is translucent and outlined by thin lines of its colour, so that overlapping
    bands of several strategies stay apart; the median carries the strategy's line style.
    """
    lo, med, hi = quantiles(values, [INTERVAL[0], 50.0, INTERVAL[1]])
    look = strategy_style(k)
    ax.fill_between(x, lo, hi, color=look["color"], alpha=0.15, linewidth=0)
    for edge in (lo, hi):
        ax.plot(x, edge, color=look["color"], linewidth=0.6, alpha=0.7)
    ax.plot(x, med, label=label, color=look["color"], linestyle=look["linestyle"])


def draw_whisker(ax: Axes, y: float, lo: float, med: float, hi: float, colour: str) -> None:
    """A dot at the median and a whisker over the interval, on a horizontal axis.

    Args:
        ax: The axes; values on x, categories on y.
        y: Position of the category.
        lo: Low end of the interval.
        med: Median.
        hi: High end of the interval.
        colour: Colour of the dot and whisker.
    """
    if not np.isfinite(med):
        return
    ax.plot([lo, hi], [y, y], color=colour, linewidth=2.2, solid_capstyle="butt")
    ax.plot([med], [y], "o", color=colour, markersize=6.5, markeredgecolor="white")
