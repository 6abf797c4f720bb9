"""Calibration: fitting a scenario to reported data by likelihood-free inference (ABC-SMC).

The fit is described by the scenario's ``calibration:`` section
(:mod:`containment_sim.calibration_spec`) or built in code, checked without running anything
(:func:`prepare`), run by pyabc's ABC-SMC with a sampler whose result does not depend on the
number of workers (:func:`calibrate`), and written as a posterior, summary, diagnostics,
posterior predictive check, charts and a calibrated scenario
(:meth:`Calibration.save`). The posterior feeds ``compare``, ``attribute`` and ``sweep``
(``posterior=``), so their intervals carry parameter uncertainty.

Modules:
    data: observed data files and the targets prepared from them.
    targets: simulated statistics and distances.
    priors: priors on the sampler's scale; the optional pyabc dependency.
    model: the simulator as a model of its parameters.
    sampler: a pyabc sampler independent of the number of workers.
    fit: checking and running a fit.
    result: the posterior, summary, diagnostics and predictive check.
    report: writing the outputs and the calibrated scenario.
"""

from __future__ import annotations

from containment_sim.calibration.data import (
    DATASETS,
    CalibrationInputError,
    dataset_path,
    read_observed,
)
from containment_sim.calibration.fit import Fit, calibrate, prepare
from containment_sim.calibration.priors import EXTRA_MESSAGE, require_pyabc
from containment_sim.calibration.result import Calibration, weighted_quantile

__all__ = [
    "DATASETS",
    "EXTRA_MESSAGE",
    "Calibration",
    "CalibrationInputError",
    "Fit",
    "calibrate",
    "dataset_path",
    "prepare",
    "read_observed",
    "require_pyabc",
    "weighted_quantile",
]
