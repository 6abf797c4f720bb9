"""Measures: the interventions a strategy combines.

Importing this package registers the built-in measure types:

- 外防输入 (keep infection out): ``road_closure``, ``line_suspension``
  (:mod:`~containment_sim.measures.roads`), ``checkpoint``
  (:mod:`~containment_sim.measures.checkpoints`), ``returnee_quarantine``
  (:mod:`~containment_sim.measures.returnees`).
- behaviour (:mod:`~containment_sim.measures.behaviour`): ``stay_home`` (宅家),
  ``gathering_ban``.
- 内防扩散 (stop spread inside): ``care_seeking`` (:mod:`~containment_sim.measures.care`),
  ``testing`` (:mod:`~containment_sim.measures.testing`), ``hospital``
  (:mod:`~containment_sim.measures.hospitals`); ``tracing``
  (:mod:`~containment_sim.measures.tracing`); ``quarantine_site``
  (:mod:`~containment_sim.measures.sites`); ``community_closure``
  (:mod:`~containment_sim.measures.closure`).
"""

from containment_sim.measures import (
    behaviour,
    care,
    checkpoints,
    closure,
    hospitals,
    returnees,
    roads,
    sites,
    testing,
    tracing,
)
from containment_sim.measures.base import (
    IMPLEMENTATIONS,
    Context,
    Crossing,
    LayerRates,
    Measure,
    Server,
    build_measures,
    register,
    schedule_value,
)

__all__ = [
    "IMPLEMENTATIONS",
    "Context",
    "Crossing",
    "LayerRates",
    "Measure",
    "Server",
    "behaviour",
    "build_measures",
    "care",
    "checkpoints",
    "closure",
    "hospitals",
    "register",
    "returnees",
    "roads",
    "schedule_value",
    "sites",
    "testing",
    "tracing",
]
