"""The chart of a parameter sweep: an outcome over one or two scenario parameters.

One parameter gives a dot (median over replicates) and a whisker (90 % interval) per value;
two give a heatmap of the mean, each cell labelled with its value. A share outcome
(``contained``) is drawn as the share of replicates at each point.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from containment_sim.plots.intervals import INTERVAL_TEXT, interval
from containment_sim.plots.style import (
    OKABE_ITO,
    SHARE_OUTCOMES,
    count_axis,
    format_count,
    is_count,
    label_values,
    new_figure,
    outcome_label,
    percent_axis,
    scale_note,
    set_title,
    styled,
)

__all__ = ["plot_sweep"]

_CMAP = "cividis"
"""Perceptually uniform and readable with colour-vision deficiencies."""


def _note(params: list[str], scale: float | None) -> str:
    if "population.scale" in params:
        return "simulated at the scale of each grid point; counts at that scale"
    return scale_note(scale)


def _value_axis(ax: Axes, outcome: str, which: str = "y") -> None:
    axis = ax.yaxis if which == "y" else ax.xaxis
    if outcome in SHARE_OUTCOMES:
        percent_axis(axis)
    elif is_count(outcome):
        count_axis(axis)


def _format(outcome: str, value: float) -> str:
    if not np.isfinite(value):
        return "n/a"
    if outcome in SHARE_OUTCOMES:
        return f"{value:.0%}"
    return format_count(value)


@styled
def plot_sweep(
    table: pd.DataFrame, params: list[str], outcome: str, scale: float | None = None
) -> Figure:
    """An outcome over the grid of a sweep of one or two parameters.

    Args:
        table: The sweep table (:func:`containment_sim.sweeps.sweep`): one column per
            parameter, ``replicate``, ``strategy`` and the outcomes.
        params: The swept parameters (dotted scenario paths), one or two.
        outcome: The outcome to draw (a column of ``table``).
        scale: ``population.scale`` of the swept scenario, stated in the title (``None``:
            not recorded).

    Returns:
        A dot-and-whisker chart (one parameter) or a heatmap of means (two).

    Raises:
        ValueError: Not one or two parameters.
    """
    if not 1 <= len(params) <= 2:
        raise ValueError(f"a sweep chart shows one or two parameters, got {len(params)}")
    strategy = str(table["strategy"].iloc[0]) if "strategy" in table else "?"
    n = int(table.groupby(params)["replicate"].nunique().max()) if len(table) else 0
    name = outcome_label(outcome).split(" (")[0]
    if len(params) == 1:
        fig = _line(table, params[0], outcome)
        method = f"dot: median, line: {INTERVAL_TEXT} over {n} replicates per point"
        if outcome in SHARE_OUTCOMES:
            method = f"share of {n} replicates per point"
        title = f"{name} by {params[0]}"
    else:
        fig = _heatmap(table, params, outcome)
        method = f"mean over {n} replicates per point"
        title = f"{name} by {params[0]} and {params[1]}"
    set_title(fig, title, f"strategy '{strategy}'; {method}", _note(params, scale))
    return fig


def _line(table: pd.DataFrame, param: str, outcome: str) -> Figure:
    """Dot and whisker of the outcome at each value of one parameter."""
    fig, (ax,) = new_figure(1, 1, (7.0, 4.2))
    groups = table.groupby(param, sort=True)[outcome]
    values = list(groups.groups)
    numeric = all(isinstance(v, int | float | np.number) and not isinstance(v, bool)
                  for v in values)  # fmt: skip
    x = np.asarray(values, dtype=float) if numeric else np.arange(len(values), dtype=float)
    if outcome in SHARE_OUTCOMES:
        med = groups.apply(lambda v: v.astype(float).mean()).to_numpy(dtype=float)
        lo = hi = med
    else:
        lo, med, hi = np.array([interval(groups.get_group(v)) for v in values]).T
    colour = OKABE_ITO["blue"]
    ax.plot(x, med, color=colour, linewidth=0.8, alpha=0.6)
    ax.vlines(x, lo, hi, color=colour, linewidth=2.2)
    ax.plot(x, med, "o", color=colour, markersize=6.5, markeredgecolor="white")
    if numeric:
        count_axis(ax.xaxis)
    else:
        ax.set_xticks(x, label_values(values))
    ax.set_xlabel(param)
    ax.set_ylabel(outcome_label(outcome))
    _value_axis(ax, outcome)
    if outcome in SHARE_OUTCOMES or is_count(outcome):
        ax.set_ylim(bottom=0)
    return fig


def _heatmap(table: pd.DataFrame, params: list[str], outcome: str) -> Figure:
    """Mean outcome at each point of a two-parameter grid, each cell labelled."""
    fig, (ax,) = new_figure(1, 1, (7.0, 5.2))
    means = table.assign(**{outcome: table[outcome].astype(float)})
    grid = means.groupby(params)[outcome].mean().unstack(params[1])
    values = grid.to_numpy(dtype=float)
    finite = values[np.isfinite(values)]
    norm = Normalize(*(finite.min(), finite.max()) if finite.size else (0.0, 1.0))
    image = ax.imshow(values, origin="lower", cmap=_CMAP, norm=norm, aspect="auto")
    ax.set_xticks(range(grid.shape[1]), label_values(list(grid.columns)))
    ax.set_yticks(range(grid.shape[0]), label_values(list(grid.index)))
    ax.set_xlabel(params[1])
    ax.set_ylabel(params[0])
    ax.grid(False)
    for (i, j), value in np.ndenumerate(values):
        red, green, blue, _ = image.cmap(norm(value)) if np.isfinite(value) else (1, 1, 1, 1)
        dark = 0.299 * red + 0.587 * green + 0.114 * blue < 0.5
        ax.text(j, i, _format(outcome, value), ha="center", va="center", fontsize=8,
                color="white" if dark else "black")  # fmt: skip
    bar = fig.colorbar(image, ax=ax, label=f"mean {outcome_label(outcome)}")
    _value_axis(bar.ax, outcome)
    return fig
