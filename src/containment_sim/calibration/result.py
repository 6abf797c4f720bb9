"""The outcome of a fit: posterior, summary, diagnostics and the posterior predictive check.

:class:`Calibration` holds the last generation's weighted particles (the posterior), the
per-generation diagnostics (tolerance, acceptance rate, effective sample size, wall time) and
runs drawn from the posterior (their target statistics and daily curves). It writes them as
tables, charts and a calibrated scenario (:mod:`~containment_sim.calibration.report`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from containment_sim.calibration.priors import internal_names, natural_frame_values
from containment_sim.calibration.targets import simulated_statistics
from containment_sim.calibration_spec import ParameterSpec
from containment_sim.errors import FaultError
from containment_sim.posterior import Posterior
from containment_sim.runner import run_jobs
from containment_sim.scenario import Scenario

if TYPE_CHECKING:
    from containment_sim.calibration.fit import Fit

__all__ = ["Calibration", "HistoryTables", "history_tables", "predictive_runs", "weighted_quantile"]

PREDICTIVE_STREAM = 0x70726564
"""Salt of the random stream that picks the particles of the posterior predictive runs."""


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: Sequence[float]) -> np.ndarray:
    """Quantiles of weighted samples (midpoint interpolation of the weighted ECDF)."""
    order = np.argsort(values)
    x, w = np.asarray(values, dtype=float)[order], np.asarray(weights, dtype=float)[order]
    cdf = (np.cumsum(w) - 0.5 * w) / w.sum()
    return np.asarray(np.interp(np.asarray(q, dtype=float), cdf, x), dtype=float)


@dataclass
class HistoryTables:
    """What is read off the fit's history.

    Attributes:
        posterior: The last generation: one column per parameter path (tied paths
            included), then ``weight``.
        diagnostics: One row per generation: ``generation``, ``epsilon``, ``evaluations``,
            ``accepted``, ``acceptance_rate``, ``ess``, ``seconds``.
    """

    posterior: pd.DataFrame
    diagnostics: pd.DataFrame


def history_tables(history: Any, parameters: Sequence[ParameterSpec]) -> HistoryTables:
    """The posterior (last generation) and per-generation diagnostics of a pyabc history."""
    t = history.max_t
    if t < 0:
        raise FaultError("the fit kept no generation (stopped before the first one ended)")
    frame, weights = history.get_distribution(m=0, t=t)
    posterior = pd.DataFrame(index=range(len(frame)))
    for name, p in zip(internal_names(parameters), parameters, strict=True):
        values = natural_frame_values(p, frame[name].to_numpy())
        posterior[p.path] = values
        for path, ratio in p.tied.items():
            posterior[path] = values * ratio
    posterior["weight"] = np.asarray(weights, dtype=float) / np.sum(weights)
    pops = history.get_all_populations().sort_values("t").reset_index(drop=True)
    ends = pd.to_datetime(pops["population_end_time"])  # t = -1: the prior sample
    rows = []
    for k, row in pops.iterrows():
        if row["t"] < 0:
            continue
        _, w = history.get_distribution(m=0, t=int(row["t"]))
        w = np.asarray(w, dtype=float) / np.sum(w)
        seconds = (ends[k] - ends[k - 1]).total_seconds() if k > 0 else float("nan")
        rows.append({"generation": int(row["t"]), "epsilon": float(row["epsilon"]),
                     "evaluations": int(row["samples"]), "accepted": int(row["particles"]),
                     "acceptance_rate": float(row["particles"]) / max(int(row["samples"]), 1),
                     "ess": float(1.0 / np.sum(w**2)), "seconds": seconds})  # fmt: skip
    return HistoryTables(posterior, pd.DataFrame(rows))


@dataclass
class PredictiveRun:
    """One run drawn from the posterior: its particle, target statistics and daily curves."""

    particle: int
    statistics: dict[str, np.ndarray]
    curves: pd.DataFrame


def _predict(job: tuple[Any, dict[str, float], int, int]) -> PredictiveRun:
    """Run the scenario with one particle's values (in a worker process)."""
    from containment_sim.calibration.model import scenario_with
    from containment_sim.engines import run

    model, values, seed, particle = job
    result = run(scenario_with(model.scenario, values, seed))
    columns = sorted({t.spec.simulated for t in model.targets if t.kind == "series"})
    curves = result.timeseries[["day", *columns]].copy()
    for column in columns:
        curves[column] = curves[column] / model.scale
    return PredictiveRun(particle, simulated_statistics(result, model.targets, model.scale), curves)


def predictive_runs(
    fit: Fit, posterior: pd.DataFrame, runs: int, workers: int = 1, scheduler: str | None = None
) -> list[PredictiveRun]:
    """Runs of particles resampled from the posterior by weight (seeded by the fit's seed)."""
    if runs <= 0:
        return []
    rng = np.random.default_rng([PREDICTIVE_STREAM, fit.seed])
    weights = posterior["weight"].to_numpy(dtype=float)
    picks = rng.choice(len(posterior), size=runs, p=weights / weights.sum())
    seeds = rng.integers(0, 2**31 - 1, size=runs)
    paths = [c for c in posterior.columns if c != "weight"]
    jobs = [
        (fit.model, {p: float(posterior.at[int(i), p]) for p in paths}, int(s), int(i))
        for i, s in zip(picks, seeds, strict=True)
    ]
    return run_jobs(_predict, jobs, workers, scheduler, describe=lambda j: f"particle {j[3]}")


@dataclass
class Calibration:
    """A finished fit (see the module docstring).

    Attributes:
        fit: The prepared fit (scenario, settings, targets, seed).
        tables: Posterior and diagnostics.
        runs: Posterior predictive runs.
        fit_seconds: Wall time of the ABC-SMC fit (this session, if resumed).
        predictive_seconds: Wall time of the predictive runs.
    """

    fit: Fit
    tables: HistoryTables
    runs: list[PredictiveRun]
    fit_seconds: float
    predictive_seconds: float

    @property
    def posterior_samples(self) -> pd.DataFrame:
        """The weighted particles of the last generation (parameter paths, ``weight``)."""
        return self.tables.posterior

    @property
    def diagnostics(self) -> pd.DataFrame:
        """One row per generation: tolerance, acceptance rate, effective sample size."""
        return self.tables.diagnostics

    def posterior(self) -> Posterior:
        """The posterior, for ``compare(..., posterior=...)`` and the like."""
        return Posterior.from_frame(self.tables.posterior, "calibration")

    def summary(self) -> pd.DataFrame:
        """One row per fitted parameter: prior, posterior mean, median, 95 % credible interval."""
        from containment_sim.calibration.priors import prior_quantiles

        post = self.tables.posterior
        w = post["weight"].to_numpy()
        rows = []
        for p in self.fit.spec.parameters:
            x = post[p.path].to_numpy()
            lo, med, hi = weighted_quantile(x, w, [0.025, 0.5, 0.975])
            plo, phi = prior_quantiles(p, [0.025, 0.975])
            rows.append({"parameter": p.path, "prior": _describe_prior(p),
                         "prior_lo95": plo, "prior_hi95": phi,
                         "mean": float(np.sum(w * x) / w.sum()), "median": float(med),
                         "lo95": float(lo), "hi95": float(hi), "source": p.source})  # fmt: skip
        return pd.DataFrame(rows)

    def predictive(self) -> pd.DataFrame:
        """Observed points against the posterior predictive: median, 90 % and 95 % bands."""
        rows = []
        for target in self.fit.targets:
            sims = np.array([r.statistics[target.key] for r in self.runs])
            q = np.percentile(sims, [2.5, 5, 50, 95, 97.5], axis=0) if len(sims) else None
            for j, when in enumerate(target.dates):
                obs = float(target.observed[j])
                lo95, lo90, med, hi90, hi95 = q[:, j] if q is not None else [np.nan] * 5
                rows.append({"target": target.spec.label, "observed_column": target.spec.observed,
                             "simulated": target.spec.simulated, "date": when.isoformat(),
                             "observed": obs, "median": med, "lo90": lo90, "hi90": hi90,
                             "lo95": lo95, "hi95": hi95, "inside90": bool(lo90 <= obs <= hi90),
                             "inside95": bool(lo95 <= obs <= hi95)})  # fmt: skip
        return pd.DataFrame(rows)

    def calibrated_scenario(self) -> Scenario:
        """The scenario with every fitted parameter at its posterior median."""
        from containment_sim.calibration.model import scenario_with

        medians = self.medians()
        data = self.fit.scenario.model_dump(mode="json", by_alias=True)
        return scenario_with(data, medians, self.fit.scenario.seed)

    def medians(self) -> dict[str, float]:
        """Posterior medians of every parameter path (tied paths at median x ratio)."""
        out: dict[str, float] = {}
        table = self.summary().set_index("parameter")
        for p in self.fit.spec.parameters:
            out[p.path] = float(table.at[p.path, "median"])
            for path, ratio in p.tied.items():
                out[path] = out[p.path] * ratio
        return out

    def save(self, directory: str | Path, force: bool = True, source: Path | None = None) -> Path:
        """Write every output to ``directory``, replacing it as a whole (see ``report``)."""
        from containment_sim.calibration.report import save

        return save(self, directory, force=force, source=source)


def _describe_prior(p: ParameterSpec) -> str:
    if p.prior in ("uniform", "loguniform"):
        return f"{p.prior}({p.low:g}, {p.high:g})"
    body = f"normal({p.mean:g}, sd {p.sd:g})" if p.prior == "normal" else (
        f"lognormal(median {p.median:g}, sdlog {p.sdlog:g})")  # fmt: skip
    if p.low is not None or p.high is not None:
        body += f" on [{'-inf' if p.low is None else f'{p.low:g}'}, "
        body += f"{'inf' if p.high is None else f'{p.high:g}'}]"
    return body
