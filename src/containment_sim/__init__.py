"""containment-sim: simulate isolation-based containment of an outbreak in a city.

The public API::

    import containment_sim as cs

    scenario = cs.load_scenario("scenarios/xianning.yaml")   # or a built-in name
    result = cs.run(scenario)
    result.timeseries          # pandas DataFrame, one row per day
    result.summary             # dict of outcomes
    result.save("results/xianning")

    comparison = cs.compare(scenario, ["none", "combined"], replicates=20, workers=2)
    comparison.table()         # one row per strategy: intervals, averted counts
    result.plot("results/curve")   # a matplotlib Figure, saved as PNG, SVG and PDF
    comparison.plot("averted")
    cs.reproduce("results/xianning")   # rerun a saved folder; are the tables identical?

Names are imported when first used, so ``import containment_sim`` is quick, a run that
needs no tables never imports pandas, and nothing imports matplotlib until a chart is drawn.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from containment_sim._version import __version__

if TYPE_CHECKING:
    from containment_sim.attribution import attribute
    from containment_sim.calibration import Calibration, calibrate
    from containment_sim.engines import run
    from containment_sim.experiments import Comparison, compare
    from containment_sim.loading import ScenarioError, load_scenario, validate_data
    from containment_sim.plots import plot_epidemic_curve, save_figure
    from containment_sim.reproduction import implied_r0
    from containment_sim.rerun import Reproduction, reproduce
    from containment_sim.results import Result
    from containment_sim.scenario import Scenario, with_overrides
    from containment_sim.sweeps import sweep

_WHERE = {
    "Calibration": "calibration",
    "calibrate": "calibration",
    "Comparison": "experiments",
    "Reproduction": "rerun",
    "Result": "results",
    "Scenario": "scenario",
    "ScenarioError": "loading",
    "attribute": "attribution",
    "compare": "experiments",
    "implied_r0": "reproduction",
    "load_scenario": "loading",
    "plot_epidemic_curve": "plots",
    "reproduce": "rerun",
    "run": "engines",
    "save_figure": "plots",
    "sweep": "sweeps",
    "validate_data": "loading",
    "with_overrides": "scenario",
}

__all__ = [
    "Calibration",
    "Comparison",
    "Reproduction",
    "Result",
    "Scenario",
    "ScenarioError",
    "__version__",
    "attribute",
    "calibrate",
    "compare",
    "implied_r0",
    "load_scenario",
    "plot_epidemic_curve",
    "reproduce",
    "run",
    "save_figure",
    "sweep",
    "validate_data",
    "with_overrides",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'containment_sim' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"containment_sim.{_WHERE[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
