"""Engines: turn a scenario into a result.

``vectorized`` (fixed steps of numpy arrays, the fast path) and ``des`` (SimPy events in
continuous time, the reference); ``run`` dispatches on ``scenario.engine``. The
discrete-event engine (and SimPy) is imported only when used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from containment_sim.engines.vectorized import VectorizedEngine
from containment_sim.progress import ProgressArg, progress_hook
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


def run(scenario: Scenario, *, progress: ProgressArg = None, check: bool = False) -> Result:
    """Run a scenario once with the engine it names and return its result.

    Args:
        scenario: The scenario (its ``seed`` fixes every random draw).
        progress: Called with the number of days completed after each day, or ``True`` to
            report progress with the time left (a bar on a terminal, log lines elsewhere:
            :class:`~containment_sim.progress.Progress`).
        check: Verify the world's invariants after every step (slower; for tests).
    """
    hook, report = progress_hook(progress, scenario.days, scenario.name, "day")
    try:
        if scenario.engine == "des":
            from containment_sim.engines.des import DESEngine

            return DESEngine(scenario, check=check).run(hook)
        return VectorizedEngine(scenario, check=check).run(hook)
    finally:
        if report is not None:
            report.close()
