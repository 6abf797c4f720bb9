"""containment-sim: simulate isolation-based containment of an outbreak in a city.

The public API::

    import containment_sim as cs

    scenario = cs.load_scenario("scenarios/xianning.yaml")   # or a built-in name
    result = cs.run(scenario)
    result.timeseries          # pandas DataFrame, one row per day
    result.summary             # dict of outcomes
    result.save("results/xianning")
"""

from containment_sim._version import __version__
from containment_sim.engines import run
from containment_sim.loading import ScenarioError, load_scenario, validate_data
from containment_sim.plotting import plot_epidemic_curve, save_figure
from containment_sim.results import Result
from containment_sim.scenario import Scenario, with_overrides

__all__ = [
    "Result",
    "Scenario",
    "ScenarioError",
    "__version__",
    "load_scenario",
    "plot_epidemic_curve",
    "run",
    "save_figure",
    "validate_data",
    "with_overrides",
]
