"""Engines: turn a scenario into a result.

Only the vectorized engine exists so far; ``run`` dispatches on ``scenario.engine``.
"""

from __future__ import annotations

from containment_sim.engines.vectorized import ProgressHook, VectorizedEngine
from containment_sim.results import Result
from containment_sim.scenario import Scenario

__all__ = ["VectorizedEngine", "run"]


def run(scenario: Scenario, *, progress: ProgressHook | None = None, check: bool = False) -> Result:
    """Run a scenario once with the engine it names and return its result.

    Args:
        scenario: The scenario (its ``seed`` fixes every random draw).
        progress: Called with the number of days completed after each day.
        check: Verify the world's invariants after every step (slower; for tests).
    """
    return VectorizedEngine(scenario, check=check).run(progress)
