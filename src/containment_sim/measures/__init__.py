"""Measures: the interventions a strategy combines.

Importing this package registers the built-in measure types:

- 外防输入 (keep infection out, :mod:`~containment_sim.measures.external`): ``road_closure``,
  ``line_suspension``, ``checkpoint``, ``returnee_quarantine``.
"""

from containment_sim.measures import external
from containment_sim.measures.base import (
    IMPLEMENTATIONS,
    ContactFactors,
    Context,
    Crossing,
    Measure,
    build_measures,
    register,
    schedule_value,
)

__all__ = [
    "IMPLEMENTATIONS",
    "ContactFactors",
    "Context",
    "Crossing",
    "Measure",
    "build_measures",
    "external",
    "register",
    "schedule_value",
]
