"""Charts of a calibration: the posterior predictive check and the marginal posteriors.

- :func:`plot_predictive`: one panel per target. A time-series target shows the compared
  statistic (a level, or the increment since the previous observed date) on each observed
  date: the posterior predictive median over its 90 % and 95 % bands, and the observed points.
  A summary target shows the predictive median with 90 % and 95 % whiskers and the observed
  value.
- :func:`plot_marginals`: one panel per parameter: the weighted posterior histogram, the
  prior density, the median and the 95 % credible interval.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from containment_sim.calibration_spec import TargetSpec
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

if TYPE_CHECKING:
    from containment_sim.calibration import Calibration

__all__ = ["plot_marginals", "plot_predictive"]

_BAND = OKABE_ITO["blue"]
_OBSERVED = OKABE_ITO["vermillion"]


def _grid(n: int, width: float = 7.0, row: float = 2.4) -> tuple[Figure, list[Axes]]:
    cols = 1 if n == 1 else 2
    rows = math.ceil(n / cols)
    fig, axes = new_figure(rows, cols, size=(width, 1.2 + row * rows))
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


@styled
def plot_predictive(calibration: Calibration) -> Figure:
    """Observed points over the posterior predictive bands, one panel per target."""
    table = calibration.predictive()
    targets = calibration.fit.targets
    fig, axes = _grid(len(targets))
    for ax, target in zip(axes, targets, strict=True):
        rows = table[table["target"] == target.spec.label]
        if target.kind == "summary":
            _summary_panel(ax, rows)
        else:
            _series_panel(ax, rows)
        ax.set_title(_panel_title(target.spec), loc="left", fontsize=8)
    runs = len(calibration.runs)
    set_title(
        fig,
        "Posterior predictive check: observed points and the bands of runs drawn from the "
        "posterior",
        f"median, 90 % and 95 % bands of {runs} runs; counts scaled to the full city "
        f"({scale_note(calibration.fit.model.scale).split(';')[0]})",
    )
    return fig


def _panel_title(spec: TargetSpec) -> str:
    """``simulated`` (increments marked) over ``vs observed``, on two short lines."""
    kind = ", daily increments" if spec.increments else ""
    return f"{spec.simulated}{kind}\nvs {spec.observed}"


def _series_panel(ax: Axes, rows: object) -> None:
    import pandas as pd

    frame = pd.DataFrame(rows)
    x = pd.to_datetime(frame["date"]).to_numpy()
    ax.fill_between(x, frame["lo95"], frame["hi95"], color=_BAND, alpha=0.12, linewidth=0,
                    label="95 % band", step="mid")  # fmt: skip
    ax.fill_between(x, frame["lo90"], frame["hi90"], color=_BAND, alpha=0.22, linewidth=0,
                    label="90 % band", step="mid")  # fmt: skip
    ax.plot(x, frame["median"], color=_BAND, drawstyle="steps-mid", label="median")
    ax.plot(x, frame["observed"], "o", color=_OBSERVED, markersize=3.5, label="observed")
    count_axis(ax.yaxis, ticks=5)
    ax.set_ylim(bottom=0)
    date_axis(ax, "")
    ax.legend(loc="best")


def _summary_panel(ax: Axes, rows: object) -> None:
    import pandas as pd

    frame = pd.DataFrame(rows)
    row = frame.iloc[-1]
    ax.plot([row["lo95"], row["hi95"]], [0, 0], color=_BAND, linewidth=1.2, label="95 %")
    ax.plot([row["lo90"], row["hi90"]], [0, 0], color=_BAND, linewidth=4, alpha=0.6,
            solid_capstyle="butt", label="90 %")  # fmt: skip
    ax.plot([row["median"]], [0], "o", color=_BAND, markeredgecolor="white", label="median")
    ax.plot([row["observed"]], [0], "D", color=_OBSERVED, label=f"observed ({row['date']})")
    ax.set_yticks([])
    ax.set_ylim(-1, 1)
    count_axis(ax.xaxis, ticks=5)
    ax.legend(loc="upper center", ncols=2, fontsize=7)


@styled
def plot_marginals(calibration: Calibration) -> Figure:
    """Marginal posteriors of the fitted parameters against their priors."""
    from containment_sim.calibration.priors import prior_density

    post = calibration.posterior_samples
    summary = calibration.summary().set_index("parameter")
    params = calibration.fit.spec.parameters
    fig, axes = _grid(len(params), row=2.0)
    w = post["weight"].to_numpy()
    for ax, p in zip(axes, params, strict=True):
        x = post[p.path].to_numpy()
        log = p.prior in ("loguniform", "lognormal")
        lo, hi = summary.at[p.path, "prior_lo95"], summary.at[p.path, "prior_hi95"]
        lo, hi = min(lo, x.min()), max(hi, x.max())
        bins = np.geomspace(lo, hi, 25) if log and lo > 0 else np.linspace(lo, hi, 25)
        ax.hist(
            x, bins=list(bins), weights=w, density=True, color=_BAND, alpha=0.5, label="posterior"
        )
        grid = np.geomspace(lo, hi, 200) if log and lo > 0 else np.linspace(lo, hi, 200)
        ax.plot(grid, prior_density(p, grid), color=GREY, linestyle="--", label="prior")
        med, l95, h95 = (summary.at[p.path, k] for k in ("median", "lo95", "hi95"))
        ax.axvline(med, color=_OBSERVED, linewidth=1.2, label=f"median {med:.3g}")
        ax.axvspan(l95, h95, color=_OBSERVED, alpha=0.08, label=f"95 % CrI {l95:.3g}-{h95:.3g}")
        if log and lo > 0:
            ax.set_xscale("log")
        ax.set_yticks([])
        ax.set_title(p.path, loc="left")
        ax.legend(loc="best", fontsize=7)
    fit = calibration.fit
    set_title(
        fig,
        "Marginal posteriors of the fitted parameters",
        f"ABC-SMC, {fit.spec.population_size} particles, {len(calibration.diagnostics)} "
        f"generations, seed {fit.seed}; dashed: prior",
    )
    return fig
