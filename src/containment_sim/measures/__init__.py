"""Measures: the interventions a strategy combines.

Importing this package registers the built-in measure types:

- 外防输入 (keep infection out): ``road_closure``, ``line_suspension``
  (:mod:`~containment_sim.measures.roads`), ``checkpoint``
  (:mod:`~containment_sim.measures.checkpoints`), ``returnee_quarantine``
  (:mod:`~containment_sim.measures.returnees`).
- behaviour (:mod:`~containment_sim.measures.behaviour`): ``stay_home`` (宅家),
  ``gathering_ban``.
- 内防扩散 (stop spread inside): ``care_seeking`` and ``symptom_survey``
  (:mod:`~containment_sim.measures.care`),
  ``testing`` (:mod:`~containment_sim.measures.testing`), ``hospital``
  (:mod:`~containment_sim.measures.hospitals`); ``tracing``
  (:mod:`~containment_sim.measures.tracing`); ``quarantine_site``
  (:mod:`~containment_sim.measures.sites`); ``community_closure``
  (:mod:`~containment_sim.measures.closure`).

Every result reports the columns and summary keys of the built-in measures
(:data:`STANDARD_REPORTS`), so that results of different strategies line up; a measure type
registered elsewhere adds its own ``report`` to the runs that use it.
"""

from containment_sim.measures import (
    behaviour,
    care,
    cases,
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
    Service,
    build_measures,
    register,
    schedule_value,
)
from containment_sim.report import Report

STANDARD_REPORTS: tuple[Report, ...] = (
    checkpoints.CHECKPOINTS,
    care.SURVEY,
    testing.TESTS,
    cases.CASES,
    tracing.TRACED,
    sites.SITES,
    hospitals.BEDS,
)
"""The built-in measures' reports, in the order of their columns: in every result."""


def reports(measures: list[Measure]) -> list[Report]:
    """The reports of a run with ``measures``: the standard ones, then the others, once each."""
    out = list(STANDARD_REPORTS)
    for m in measures:
        if m.report is not None and m.report not in out:
            out.append(m.report)
    return out


__all__ = [
    "IMPLEMENTATIONS",
    "STANDARD_REPORTS",
    "Context",
    "Crossing",
    "LayerRates",
    "Measure",
    "Server",
    "Service",
    "behaviour",
    "build_measures",
    "care",
    "cases",
    "checkpoints",
    "closure",
    "hospitals",
    "register",
    "reports",
    "returnees",
    "roads",
    "schedule_value",
    "sites",
    "testing",
    "tracing",
]
