"""Engines: turn a scenario into a result.

``vectorized`` (fixed steps of numpy arrays, the fast path) and ``des`` (SimPy events in
continuous time, the reference); ``run`` dispatches on ``scenario.engine``. The
discrete-event engine (and SimPy) is imported only when used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from containment_sim.engines.context import ProgressHook
from containment_sim.engines.vectorized import VectorizedEngine
from containment_sim.results import Result
from containment_sim.scenario import Scenario

if TYPE_CHECKING:
    from containment_sim.engines.des import DESEngine

__all__ = ["DESEngine", "VectorizedEngine", "run"]


def __getattr__(name: str) -> Any:
    if name == "DESEngine":
        from containment_sim.engines.des import DESEngine

        return DESEngine
    raise AttributeError(f"module 'containment_sim.engines' has no attribute {name!r}")


def run(scenario: Scenario, *, progress: ProgressHook | None = None, check: bool = False) -> Result:
    """Run a scenario once with the engine it names and return its result.

    Args:
        scenario: The scenario (its ``seed`` fixes every random draw).
        progress: Called with the number of days completed after each day.
        check: Verify the world's invariants after every step (slower; for tests).
    """
    if scenario.engine == "des":
        from containment_sim.engines.des import DESEngine

        return DESEngine(scenario, check=check).run(progress)
    return VectorizedEngine(scenario, check=check).run(progress)
