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
"""

from containment_sim._version import __version__
from containment_sim.attribution import attribute
from containment_sim.engines import run
from containment_sim.experiments import Comparison, compare
from containment_sim.loading import ScenarioError, load_scenario, validate_data
from containment_sim.plotting import plot_epidemic_curve, save_figure
from containment_sim.results import Result
from containment_sim.scenario import Scenario, with_overrides
from containment_sim.sweep import sweep

__all__ = [
    "Comparison",
    "Result",
    "Scenario",
    "ScenarioError",
    "__version__",
    "attribute",
    "compare",
    "load_scenario",
    "plot_epidemic_curve",
    "run",
    "save_figure",
    "sweep",
    "validate_data",
    "with_overrides",
]
