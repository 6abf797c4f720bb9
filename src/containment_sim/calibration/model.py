"""What the ABC-SMC fit evaluates: the simulator as a model of parameters, and its distance.

:class:`FitModel` sets a particle's parameters in the scenario, runs it with a seed drawn
from the (seeded) global generator and returns the simulated statistics of the targets;
:class:`TargetDistance` compares them with the observed ones. Both are plain picklable
objects, so that they travel to worker processes and Dask workers.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from containment_sim.calibration.data import PreparedTarget
from containment_sim.calibration.priors import natural_values
from containment_sim.calibration.targets import distance, simulated_statistics
from containment_sim.calibration_spec import ParameterSpec
from containment_sim.engines import run
from containment_sim.posterior import apply_values
from containment_sim.results import Result
from containment_sim.scenario import Scenario

__all__ = ["FitModel", "TargetDistance", "observed_statistics", "scenario_with"]


def scenario_with(data: Mapping[str, Any], values: Mapping[str, float], seed: int) -> Scenario:
    """The scenario of plain ``data`` with parameter ``values`` set and the given seed."""
    changed = apply_values(copy.deepcopy(dict(data)), values)
    changed["seed"] = int(seed)
    return Scenario.model_validate(changed)


@dataclass
class FitModel:
    """The simulator as a pyabc model: internal parameters in, target statistics out.

    Attributes:
        scenario: The scenario simulated, as plain data (strategy and scale set).
        parameters: The fitted parameters.
        targets: The prepared targets.
        scale: The simulated scale (statistics are divided by it).
    """

    scenario: dict[str, Any]
    parameters: list[ParameterSpec]
    targets: list[PreparedTarget]
    scale: float

    def __call__(self, internal: Mapping[str, float]) -> dict[str, np.ndarray]:
        """Run the scenario with these parameters; return the targets' statistics."""
        # the sampler seeds the global generator per candidate (pyabc draws from it too)
        seed = int(np.random.randint(0, 2**31 - 1))  # noqa: NPY002
        return simulated_statistics(self.run(internal, seed), self.targets, self.scale)

    def run(self, internal: Mapping[str, float], seed: int) -> Result:
        """One run with internal parameter values and a seed."""
        values = natural_values(self.parameters, internal)
        return run(scenario_with(self.scenario, values, seed))


@dataclass
class TargetDistance:
    """The weighted distance between simulated and observed statistics (pyabc's signature)."""

    targets: list[PreparedTarget]

    def __call__(self, x: Mapping[str, np.ndarray], x0: Mapping[str, np.ndarray]) -> float:
        """Distance of simulated statistics ``x`` to observed ``x0``."""
        return distance(x, x0, self.targets)


def observed_statistics(targets: Sequence[PreparedTarget]) -> dict[str, np.ndarray]:
    """The observed statistics, keyed like the simulated ones."""
    return {t.key: np.asarray(t.observed, dtype=float) for t in targets}
