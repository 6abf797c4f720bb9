"""Charts of a calibration: the posterior predictive check and the marginal posteriors.

- :func:`plot_predictive`: one panel per target. A time-series target shows the compared
  statistic (a level, or the increment since the previous observed date) on each observed
  date: the posterior predictive median over its 90 % and 95 % bands, and the observed points.
  A summary target shows the predictive median with 90 % and 95 % whiskers and the observed
  value.
- :func:`plot_marginals`: one panel per parameter: the weighted posterior histogram, the
  prior density, the median and the 95 % credible interval.

Both draw a :class:`FitCharts`: what the charts show, taken from a fit in memory
(:meth:`FitCharts.of`) or read back from the folder it was saved to (:meth:`FitCharts.load`,
used by ``containment-sim plot``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from containment_sim.calibration_spec import CalibrationSpec, ParameterSpec, TargetSpec
from containment_sim.errors import ResultFolderError
from containment_sim.outputs import read_document, read_tables
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

__all__ = ["FitCharts", "plot_marginals", "plot_predictive"]

_BAND = OKABE_ITO["blue"]
_OBSERVED = OKABE_ITO["vermillion"]


_PREDICTIVE = ["target", "date", "observed", "median", "lo90", "hi90", "lo95", "hi95"]
_SUMMARY = ["parameter", "median", "lo95", "hi95", "prior_lo95", "prior_hi95"]


@dataclass(frozen=True)
class FitCharts:
    """What the calibration charts show.

    Attributes:
        targets: Each target's spec and kind (``"series"`` or ``"summary"``), in order.
        predictive: Observed points against the predictive bands
            (``Calibration.predictive()``).
        runs: Number of posterior predictive runs.
        scale: The simulated fraction of the city.
        parameters: The fitted parameters.
        posterior: Weighted particles (parameter paths, ``weight``).
        summary: One row per parameter (``Calibration.summary()``).
        population_size: Particles per generation.
        generations: Generations run.
        seed: Seed of the fit.
    """

    targets: list[tuple[TargetSpec, str]]
    predictive: pd.DataFrame
    runs: int
    scale: float
    parameters: list[ParameterSpec]
    posterior: pd.DataFrame
    summary: pd.DataFrame
    population_size: int
    generations: int
    seed: int

    @classmethod
    def of(cls, calibration: Calibration) -> FitCharts:
        """The charts of a fit in memory."""
        fit = calibration.fit
        return cls(
            targets=[(t.spec, t.kind) for t in fit.targets],
            predictive=calibration.predictive(),
            runs=len(calibration.runs),
            scale=fit.model.scale,
            parameters=list(fit.spec.parameters),
            posterior=calibration.posterior_samples,
            summary=calibration.summary(),
            population_size=fit.spec.population_size,
            generations=len(calibration.diagnostics),
            seed=fit.seed,
        )

    @classmethod
    def load(cls, folder: str | Path) -> FitCharts:
        """The charts of a calibration saved to ``folder``, its tables checked against its document.

        Raises:
            ResultFolderError: A missing or damaged document or table.
        """
        meta = read_document(folder, "calibration.json")
        try:
            spec = CalibrationSpec.model_validate(meta["calibration"])
            rows, scale, seed = dict(meta["rows"]), float(meta["scale"]), int(meta["seed"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ResultFolderError(
                f"{Path(folder) / 'calibration.json'}: not a calibration's document ({exc})"
            ) from None
        paths = [p.path for p in spec.parameters]
        columns = {"predictive": _PREDICTIVE, "summary": _SUMMARY, "posterior": [*paths, "weight"],
                   "diagnostics": ["generation"], "predictive_runs": ["run"]}  # fmt: skip
        tables = read_tables(folder, {name: rows.get(name) for name in columns}, columns)
        curves = set(tables["predictive_runs"].columns)
        return cls(
            targets=[(t, "series" if t.simulated in curves else "summary") for t in spec.targets],
            predictive=tables["predictive"],
            runs=int(tables["predictive_runs"]["run"].nunique()),
            scale=scale,
            parameters=list(spec.parameters),
            posterior=tables["posterior"],
            summary=tables["summary"],
            population_size=spec.population_size,
            generations=len(tables["diagnostics"]),
            seed=seed,
        )


def _grid(n: int, width: float = 7.0, row: float = 2.4) -> tuple[Figure, list[Axes]]:
    cols = 1 if n == 1 else 2
    rows = math.ceil(n / cols)
    fig, axes = new_figure(rows, cols, size=(width, 1.2 + row * rows))
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


@styled
def plot_predictive(charts: FitCharts | Calibration) -> Figure:
    """Observed points over the posterior predictive bands, one panel per target."""
    charts = charts if isinstance(charts, FitCharts) else FitCharts.of(charts)
    table = charts.predictive
    fig, axes = _grid(len(charts.targets))
    for ax, (spec, kind) in zip(axes, charts.targets, strict=True):
        rows = table[table["target"] == spec.label]
        if kind == "summary":
            _summary_panel(ax, rows)
        else:
            _series_panel(ax, rows)
        ax.set_title(_panel_title(spec), loc="left", fontsize=8)
    set_title(
        fig,
        "Posterior predictive check: observed points and the bands of runs drawn from the "
        "posterior",
        f"median, 90 % and 95 % bands of {charts.runs} runs; counts scaled to the full city "
        f"({scale_note(charts.scale).split(';')[0]})",
    )
    return fig


def _panel_title(spec: TargetSpec) -> str:
    """``simulated`` (increments marked) over ``vs observed``, on two short lines."""
    kind = ", daily increments" if spec.increments else ""
    return f"{spec.simulated}{kind}\nvs {spec.observed}"


def _series_panel(ax: Axes, rows: object) -> None:
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
def plot_marginals(charts: FitCharts | Calibration) -> Figure:
    """Marginal posteriors of the fitted parameters against their priors."""
    from containment_sim.calibration.priors import prior_density

    charts = charts if isinstance(charts, FitCharts) else FitCharts.of(charts)
    post = charts.posterior
    summary = charts.summary.set_index("parameter")
    params = charts.parameters
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
    set_title(
        fig,
        "Marginal posteriors of the fitted parameters",
        f"ABC-SMC, {charts.population_size} particles, {charts.generations} generations, "
        f"seed {charts.seed}; dashed: prior",
    )
    return fig
