"""Charts of comparisons and sweeps: pure functions from saved tables to matplotlib Figures.

Colours come from the Okabe-Ito palette (distinguishable with colour-vision deficiencies and
in greyscale through line styles); text is sized to stay readable when printed. Every
function takes a :class:`~containment_sim.experiments.Comparison` (or a sweep table) and
returns a ``Figure``; :func:`save_comparison_charts` writes all that apply as PNG and SVG.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from containment_sim.experiments import Comparison
from containment_sim.plotting import save_figure
from containment_sim.statistics import describe, paired_difference

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "plot_attribution",
    "plot_averted",
    "plot_checkpoint_load",
    "plot_curves",
    "plot_outcomes",
    "plot_regions",
    "plot_rt",
    "plot_site_occupancy",
    "plot_sweep",
    "save_comparison_charts",
]

OKABE_ITO = ("#000000", "#0072B2", "#009E73", "#D55E00", "#CC79A7", "#E69F00", "#56B4E9")
"""Okabe-Ito colours without its yellow, which is too pale on white paper."""
LINESTYLES = ("-", "--", "-.", ":")
STYLE = {"font.size": 10, "axes.titlesize": 11, "axes.labelsize": 10, "legend.fontsize": 9,
         "xtick.labelsize": 9, "ytick.labelsize": 9, "lines.linewidth": 1.8}  # fmt: skip


def _figure(
    nrows: int = 1, ncols: int = 1, size: tuple[float, float] = (8, 4.5)
) -> tuple[Figure, np.ndarray]:
    import matplotlib as mpl
    from matplotlib.figure import Figure

    mpl.rcParams.update(STYLE)
    fig = Figure(figsize=size, layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.spines[["top", "right"]].set_visible(False)
    return fig, axes


def _style(k: int) -> dict[str, object]:
    return {
        "color": OKABE_ITO[(k + 1) % len(OKABE_ITO)] if k else OKABE_ITO[0],
        "linestyle": LINESTYLES[k % len(LINESTYLES)],
    }


def _dates(cmp: Comparison, day: np.ndarray) -> np.ndarray:
    return np.datetime64(cmp.scenario.start_date) + day.astype("timedelta64[D]")


def _quantiles(values: np.ndarray, q: list[float]) -> np.ndarray:
    """Percentiles across replicates (axis 1); days with no value at all give ``nan``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-nan days (e.g. R_t, no cases)
        return np.nanpercentile(values, q, axis=1)


def _bands(ax: Axes, cmp: Comparison, column: str, log: bool = False) -> None:
    """Median and 50 % / 95 % bands of a daily curve, one colour per strategy."""
    for k, strategy in enumerate(cmp.strategies):
        mine = cmp.curves[cmp.curves["strategy"] == strategy]
        wide = mine.pivot(index="day", columns="replicate", values=column).astype(float)
        q = _quantiles(wide.to_numpy(), [2.5, 25, 50, 75, 97.5])
        x, style = _dates(cmp, wide.index.to_numpy()), _style(k)
        ax.fill_between(x, q[0], q[4], color=style["color"], alpha=0.12, lw=0)
        ax.fill_between(x, q[1], q[3], color=style["color"], alpha=0.25, lw=0)
        ax.plot(x, q[2], label=strategy, **style)
    if log:
        ax.set_yscale("symlog", linthresh=1.0)
        ax.set_ylim(bottom=0)


def plot_curves(cmp: Comparison) -> Figure:
    """Epidemic curves per strategy: median with 50 % and 95 % bands over replicates."""
    fig, (top, bottom) = _figure(2, 1, (8, 7))
    _bands(top, cmp, "new_infections", log=True)
    top.set_ylabel("new infections per day")
    top.legend(frameon=False, ncols=len(cmp.strategies))
    _bands(bottom, cmp, "n_infected", log=True)
    bottom.set_ylabel("people currently infected")
    fig.suptitle(
        f"{cmp.scenario.name}: median, 50 % and 95 % bands over "
        f"{cmp.replicates['replicate'].nunique()} replicates (log scale)"
    )
    fig.autofmt_xdate()
    return fig


def _interval_bars(
    ax: Axes, labels: list[str], stats: list[dict[str, float]], colours: list[str]
) -> None:
    means = np.array([s["mean"] for s in stats])
    lo = np.array([s["lo95"] for s in stats])
    hi = np.array([s["hi95"] for s in stats])
    ax.bar(labels, means, color=colours, edgecolor="black", linewidth=0.6)
    ax.errorbar(labels, means, yerr=[means - lo, hi - means], fmt="none", ecolor="black", capsize=4)


def plot_outcomes(cmp: Comparison) -> Figure:
    """Mean outcomes per strategy with 95 % intervals over replicates."""
    outcomes = [
        ("total_infections", "infections"),
        ("confirmed", "confirmed cases"),
        ("deaths", "deaths"),
        ("peak_day", "peak day"),
    ]
    fig, axes = _figure(1, len(outcomes), (11, 4))
    colours = [str(_style(k)["color"]) for k in range(len(cmp.strategies))]
    for ax, (column, title) in zip(axes, outcomes, strict=True):
        stats = [
            describe(cmp.replicates.loc[cmp.replicates["strategy"] == s, column])
            for s in cmp.strategies
        ]
        _interval_bars(ax, cmp.strategies, stats, colours)
        ax.set_title(title)
        if column != "peak_day":
            ax.set_yscale("symlog", linthresh=10)
        ax.tick_params(axis="x", rotation=30)
    fig.suptitle("mean and 95 % interval over replicates")
    return fig


def plot_averted(cmp: Comparison) -> Figure:
    """Infections and deaths averted against ``none``, paired by replicate."""
    others = [s for s in cmp.strategies if s != "none"]
    fig, axes = _figure(1, 2, (10, 4))
    colours = [str(_style(cmp.strategies.index(s))["color"]) for s in others]
    for ax, (column, title) in zip(
        axes,
        (("total_infections", "infections averted"), ("deaths", "deaths averted")),
        strict=True,
    ):
        stats = [describe(paired_difference(cmp.replicates, s, column)) for s in others]
        _interval_bars(ax, others, stats, colours)
        ax.set_title(title)
        ax.axhline(0, color="black", lw=0.8)
    fig.suptitle("averted against 'none': mean and 95 % interval of paired differences")
    return fig


def plot_attribution(cmp: Comparison) -> Figure:
    """Shapley value of each measure (or group) in the infections its strategy averts."""
    table = cmp.attribution
    if table is None:
        raise ValueError("the comparison has no attribution to plot")
    fig, (ax,) = _figure(1, 1, (8, 0.5 * len(table) + 2))
    order = table.sort_values("shapley")
    ax.barh(order["unit"], order["shapley"], color=OKABE_ITO[1], edgecolor="black", lw=0.6)
    for y, (value, share) in enumerate(zip(order["shapley"], order["share"], strict=True)):
        ax.annotate(
            f"{share:.0%}",
            (value, y),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=9,
        )
    ax.set_xlabel(f"Shapley value: {table['outcome'].iloc[0].replace('_', ' ')} averted")
    ax.set_title(
        f"contribution of each measure (total averted {table['total_averted'].iloc[0]:,.0f})"
    )
    return fig


def _table_plot(
    cmp: Comparison, used: str, capacity: str, title: str, ylabel: str
) -> Figure | None:
    curves = cmp.curves
    if used not in curves or curves[used].isna().all():
        return None
    strategies = [
        s for s in cmp.strategies if curves.loc[curves["strategy"] == s, used].notna().any()
    ]
    fig, (ax,) = _figure()
    for s in strategies:
        k = cmp.strategies.index(s)
        mine = curves[curves["strategy"] == s]
        wide = mine.pivot(index="day", columns="replicate", values=used).astype(float)
        q = _quantiles(wide.to_numpy(), [2.5, 50, 97.5])
        x, style = _dates(cmp, wide.index.to_numpy()), _style(k)
        ax.fill_between(x, q[0], q[2], color=style["color"], alpha=0.15, lw=0)
        ax.plot(x, q[1], label=f"{s}: median", **style)
        cap = mine.groupby("day")[capacity].median()
        ax.plot(
            _dates(cmp, cap.index.to_numpy()),
            cap.to_numpy(),
            color=style["color"],
            lw=1,
            drawstyle="steps-post",
            alpha=0.8,
            label=f"{s}: capacity",
        )
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.legend(frameon=False)
    fig.autofmt_xdate()
    return fig


def plot_site_occupancy(cmp: Comparison) -> Figure | None:
    """Quarantine-site occupancy against capacity (median and 95 % band)."""
    return _table_plot(
        cmp,
        "site_occupancy",
        "site_capacity",
        "quarantine sites: occupancy and capacity",
        "people",
    )


def plot_checkpoint_load(cmp: Comparison) -> Figure | None:
    """People arriving at checkpoints against their daily capacity (all checkpoints)."""
    return _table_plot(
        cmp,
        "checkpoint_travellers",
        "checkpoint_capacity",
        "checkpoints: people crossing and capacity",
        "people per day",
    )


def plot_regions(cmp: Comparison) -> Figure:
    """Small multiples: median daily new infections per region, one line per strategy."""
    regions = list(dict.fromkeys(cmp.regions["region"]))
    ncols = 3
    nrows = int(np.ceil(len(regions) / ncols))
    fig, axes = _figure(nrows, ncols, (11, 3 * nrows))
    med = cmp.regions.groupby(["strategy", "region", "day"])["new_infections"].median()
    for ax, region in zip(axes, regions, strict=False):
        for k, s in enumerate(cmp.strategies):
            series = med.loc[(s, region)]
            ax.plot(_dates(cmp, series.index.to_numpy()), series.to_numpy(), label=s, **_style(k))
        ax.set_title(region)
        ax.set_yscale("symlog", linthresh=1.0)
        ax.tick_params(axis="x", rotation=30)
    for ax in axes[len(regions) :]:
        ax.set_visible(False)
    axes[0].legend(frameon=False)
    fig.suptitle("daily new infections by region (median over replicates, log scale)")
    return fig


def plot_rt(cmp: Comparison) -> Figure:
    """Case reproduction number by infection day, with the measures' start dates marked."""
    fig, (ax,) = _figure(1, 1, (9, 4.5))
    _bands(ax, cmp, "r_t")
    ax.axhline(1.0, color="black", lw=0.8)
    sc = cmp.scenario
    starts: dict[int, set[str]] = {}
    for s in cmp.strategies:
        for name in sc.strategies.get(s, []):
            starts.setdefault(int(sc.day_of(sc.measures[name].start)), set()).add(name)
    top = ax.get_ylim()[1]
    for day, names in sorted(starts.items()):
        x = _dates(cmp, np.array([day]))[0]
        ax.axvline(x, color="grey", lw=0.8, ls=":")
        label = next(iter(names)) if len(names) == 1 else f"{len(names)} measures start"
        ax.annotate(label, (x, top), rotation=90, va="top", ha="right", fontsize=8)
    ax.set_ylabel("R_t: infections per case infected that day")
    ax.set_ylim(0, min(top, 6))
    ax.legend(frameon=False)
    ax.set_title("reproduction number by infection day (the last two weeks are incomplete)")
    fig.autofmt_xdate()
    return fig


def plot_sweep(table: pd.DataFrame, params: list[str], outcome: str) -> Figure:
    """A heatmap (two parameters) or a line with 95 % intervals (one) of an outcome's mean."""
    if len(params) == 1:
        fig, (ax,) = _figure()
        stats = table.groupby(params[0])[outcome].apply(lambda x: pd.Series(describe(x))).unstack()
        ax.errorbar(
            stats.index,
            stats["mean"],
            yerr=1.96 * stats["se"],
            marker="o",
            capsize=4,
            color=OKABE_ITO[5],
        )
        ax.set_xlabel(params[0])
        ax.set_ylabel(f"{outcome.replace('_', ' ')} (mean ± 1.96 SE)")
        return fig
    fig, (ax,) = _figure(1, 1, (7, 5.5))
    grid = table.groupby(params)[outcome].mean().unstack(params[1])
    image = ax.imshow(grid.to_numpy(dtype=float), origin="lower", cmap="cividis", aspect="auto")
    ax.set_xticks(
        range(grid.shape[1]), [f"{v:g}" if isinstance(v, float) else str(v) for v in grid.columns]
    )
    ax.set_yticks(
        range(grid.shape[0]), [f"{v:g}" if isinstance(v, float) else str(v) for v in grid.index]
    )
    ax.set_xlabel(params[1])
    ax.set_ylabel(params[0])
    for (i, j), value in np.ndenumerate(grid.to_numpy(dtype=float)):
        ax.text(
            j,
            i,
            f"{value:,.0f}",
            ha="center",
            va="center",
            fontsize=8,
            color="white" if value < np.nanmean(grid.to_numpy(dtype=float)) else "black",
        )
    fig.colorbar(image, ax=ax, label=f"mean {outcome.replace('_', ' ')}")
    ax.grid(False)
    return fig


def save_comparison_charts(cmp: Comparison, directory: str | Path) -> list[Path]:
    """Draw every chart that applies to a comparison as PNG and SVG; return the files."""
    out = Path(directory)
    charts = {
        "curves": plot_curves(cmp), "outcomes": plot_outcomes(cmp), "regions": plot_regions(cmp),
        "rt": plot_rt(cmp), "site_occupancy": plot_site_occupancy(cmp),
        "checkpoint_load": plot_checkpoint_load(cmp),
    }  # fmt: skip
    if "none" in cmp.strategies and len(cmp.strategies) > 1:
        charts["averted"] = plot_averted(cmp)
    if cmp.attribution is not None:
        charts["attribution"] = plot_attribution(cmp)
    written = []
    for name, fig in charts.items():
        if fig is None:
            continue
        for suffix in (".png", ".svg"):
            written.append(save_figure(fig, out / f"{name}{suffix}"))
    return written
