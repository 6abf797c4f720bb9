"""Engines: turn a scenario into a result.

``vectorized`` (fixed steps of numpy arrays, the fast path) and ``des`` (SimPy events in
continuous time, the reference); ``run`` dispatches on ``scenario.engine``.
"""

from __future__ import annotations

from containment_sim.engines.base import ProgressHook
from containment_sim.engines.des import DESEngine
from containment_sim.engines.vectorized import VectorizedEngine
from containment_sim.results import Result
from containment_sim.scenario import Scenario

__all__ = ["DESEngine", "VectorizedEngine", "run"]


def run(scenario: Scenario, *, progress: ProgressHook | None = None, check: bool = False) -> Result:
    """Run a scenario once with the engine it names and return its result.

    Args:
        scenario: The scenario (its ``seed`` fixes every random draw).
        progress: Called with the number of days completed after each day.
        check: Verify the world's invariants after every step (slower; for tests).
    """
    engine = DESEngine if scenario.engine == "des" else VectorizedEngine
    return engine(scenario, check=check).run(progress)
