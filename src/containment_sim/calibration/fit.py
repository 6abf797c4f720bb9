"""Fitting a scenario to observed data by ABC-SMC (pyabc), resumable from its database.

:func:`prepare` checks everything a fit needs before the first run: the data files and
targets (:mod:`~containment_sim.calibration.data`), and that the scenario accepts every
parameter over its prior's range. :func:`calibrate` then runs approximate Bayesian
computation by sequential Monte Carlo (Toni et al. 2009; pyabc, Schälte et al. 2022): each
generation proposes particles by perturbing the previous population (a multivariate normal
kernel), simulates them and keeps those whose distance to the data is below a tolerance,
the median distance of the previous generation. The history is kept in an SQLite database
after every generation, so an interrupted fit loses at most the generation in progress and
``resume`` continues from the last one kept.
"""

from __future__ import annotations

import copy
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

from containment_sim.calibration.data import (
    CalibrationInputError,
    PreparedTarget,
    prepare_targets,
    read_observed,
)
from containment_sim.calibration.model import (
    FitModel,
    TargetDistance,
    observed_statistics,
    scenario_with,
)
from containment_sim.calibration.priors import prior_quantiles, require_pyabc
from containment_sim.calibration.result import Calibration, history_tables, predictive_runs
from containment_sim.calibration_spec import CalibrationSpec, set_path
from containment_sim.ledger import Ledger
from containment_sim.scenario import Scenario

__all__ = ["Fit", "calibrate", "prepare"]

Progress = Callable[[int, int, int, int], None]
"""``progress(generation, accepted, population size, evaluated)``."""


@dataclass
class Fit:
    """A fit checked and ready to run.

    Attributes:
        scenario: The scenario as given.
        spec: The calibration settings.
        model: The simulator as a model of the parameters.
        targets: The prepared targets.
        seed: Seed of the fit.
    """

    scenario: Scenario
    spec: CalibrationSpec
    model: FitModel
    targets: list[PreparedTarget]
    seed: int

    def digest(self) -> str:
        """A key of what determines the particles (to refuse resuming another fit).

        The stopping rules (``generations``, ``min_acceptance_rate``, ``max_minutes``) are left
        out (a fit may be resumed to run more generations), and so are the scenario's values of
        the fitted paths, which every particle sets (the calibrated scenario resumes its fit).
        """
        stops = {"generations", "min_acceptance_rate", "max_minutes"}
        spec = self.spec.model_dump(mode="json", by_alias=True, exclude=stops)
        base = copy.deepcopy(self.model.scenario)
        for p in self.spec.parameters:
            for path in (p.path, *p.tied):
                set_path(base, path, 0.0)
        return Ledger.key({"spec": spec, "scenario": base, "seed": self.seed})


def prepare(
    scenario: Scenario,
    spec: CalibrationSpec | None = None,
    base_dir: str | Path | None = None,
    where: Callable[[str], str] | None = None,
) -> Fit:
    """Check a calibration completely, without running anything.

    Args:
        scenario: The scenario to fit.
        spec: The calibration (default: the scenario's ``calibration`` section).
        base_dir: Folder that relative data paths start from (the scenario file's).
        where: Names a field in messages (default: the field path).

    Raises:
        CalibrationInputError: No calibration, unusable data or targets, or a parameter
            value in the prior's range that the scenario does not accept.
    """
    spec = spec if spec is not None else scenario.calibration
    if spec is None:
        raise CalibrationInputError(
            f"scenario {scenario.name!r} has no calibration section; add one or give the "
            "parameters and targets (see docs/calibration.md)"
        )
    name = where or (lambda field: field)
    observed = read_observed(spec.data, Path(base_dir) if base_dir is not None else None)
    strategy = spec.strategy or scenario.strategy
    scale = spec.scale or scenario.population.scale
    base = scenario.model_dump(mode="json", by_alias=True)
    base.update({"strategy": strategy, "calibration": None})
    base["population"]["scale"] = scale
    simulated = Scenario.model_validate(base)
    targets = prepare_targets(spec, simulated, observed, name)
    _check_ranges(spec, base, name)
    seed = spec.seed if spec.seed is not None else scenario.seed
    return Fit(scenario, spec, FitModel(base, list(spec.parameters), targets, scale), targets, seed)


def _check_ranges(spec: CalibrationSpec, base: dict[str, Any], name: Callable[[str], str]) -> None:
    """Every parameter's prior range (0.1 % to 99.9 %) must be accepted by the scenario."""
    for k, p in enumerate(spec.parameters):
        for value in prior_quantiles(p, [0.001, 0.5, 0.999]):
            values = {p.path: value, **{path: value * r for path, r in p.tied.items()}}
            try:
                scenario_with(base, values, 0)
            except (ValueError, KeyError) as exc:
                first = str(exc).strip().splitlines()
                detail = first[-1].strip() if first else type(exc).__name__
                raise CalibrationInputError(
                    f"{name(f'calibration.parameters.{k}')}: the scenario does not accept "
                    f"{p.path} = {value:.4g} from the prior's range ({detail}); narrow the prior"
                ) from None


def calibrate(
    scenario: Scenario | Fit,
    spec: CalibrationSpec | None = None,
    *,
    base_dir: str | Path | None = None,
    db: str | Path | None = None,
    resume: bool = False,
    workers: int = 1,
    scheduler: str | None = None,
    progress: Progress | None = None,
    predictive: int = 50,
) -> Calibration:
    """Fit a scenario's parameters to observed data by ABC-SMC; return the posterior.

    Args:
        scenario: The scenario (its ``calibration`` section is used unless ``spec`` is
            given), or a :class:`Fit` from :func:`prepare`.
        spec: The calibration settings, if not the scenario's.
        base_dir: Folder that relative data paths start from.
        db: The SQLite file keeping the fit's history (default: a temporary file).
        resume: Continue the fit kept in ``db`` (made with the same settings).
        workers: Local worker processes; the result does not depend on it.
        scheduler: Address of a Dask distributed scheduler to run on instead.
        progress: Called as candidates finish.
        predictive: Runs drawn from the posterior for the posterior predictive check.

    Returns:
        The :class:`Calibration`: posterior, summary, diagnostics, predictive check.

    Raises:
        CalibrationInputError: Bad input (before any run), or a database to resume that
            holds another fit.
        containment_sim.errors.Interrupted: Ctrl-C; finished generations stay in ``db``.
    """
    pyabc = require_pyabc()
    fit = scenario if isinstance(scenario, Fit) else prepare(scenario, spec, base_dir)
    for name in ("ABC", "pyabc", "ABC.History", "ABC.Sampler", "ABC.Distance", "ABC.Epsilon"):
        logging.getLogger(name).setLevel(logging.WARNING)
    started = time.perf_counter()
    if db is None:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            history = _run(pyabc, fit, Path(tmp) / "fit.db", False, workers, scheduler, progress)
            tables = history_tables(history, fit.spec.parameters)
    else:
        history = _run(pyabc, fit, Path(db), resume, workers, scheduler, progress)
        tables = history_tables(history, fit.spec.parameters)
    fit_seconds = time.perf_counter() - started
    runs = predictive_runs(fit, tables.posterior, predictive, workers, scheduler)
    return Calibration(fit, tables, runs, fit_seconds, time.perf_counter() - started - fit_seconds)


def _run(
    pyabc: Any,
    fit: Fit,
    db: Path,
    resume: bool,
    workers: int,
    scheduler: str | None,
    progress: Progress | None,
) -> Any:
    """Run (or continue) the ABC-SMC fit; return its pyabc history."""
    from containment_sim.calibration.sampler import DeterministicSampler

    spec = fit.spec
    np.random.seed(fit.seed % 2**32)  # noqa: NPY002 - pyabc draws from the global generator
    sampler = DeterministicSampler(fit.seed, workers, scheduler, progress)
    from containment_sim.calibration.priors import prior_distribution

    abc = pyabc.ABCSMC(fit.model, prior_distribution(spec.parameters), TargetDistance(fit.targets),
                       population_size=spec.population_size, sampler=sampler,
                       eps=pyabc.MedianEpsilon())  # fmt: skip
    url = f"sqlite:///{db}"
    stamp = db.with_suffix(".json")
    if resume and db.exists():
        _check_stamp(stamp, fit)
        abc.load(url, 1)
    else:
        db.unlink(missing_ok=True)
        db.parent.mkdir(parents=True, exist_ok=True)
        stamp.write_text(json.dumps({"digest": fit.digest()}) + "\n", encoding="utf-8")
        abc.new(url, observed_statistics(fit.targets))
    remaining = spec.generations - (abc.history.max_t + 1)
    if remaining <= 0:
        return abc.history
    wall = timedelta(minutes=spec.max_minutes) if spec.max_minutes is not None else None
    return abc.run(minimum_epsilon=0.0, max_nr_populations=remaining,
                   min_acceptance_rate=spec.min_acceptance_rate, max_walltime=wall)  # fmt: skip


def _check_stamp(stamp: Path, fit: Fit) -> None:
    try:
        saved = json.loads(stamp.read_text(encoding="utf-8")).get("digest")
    except (OSError, ValueError, AttributeError):
        saved = None
    if saved != fit.digest():
        raise CalibrationInputError(
            f"{stamp.parent}: the kept fit was made with another scenario, calibration or "
            "seed; use --force to start over"
        )
