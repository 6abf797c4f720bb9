"""Testing labs (核酸检测): RT-PCR tests with a daily capacity, sensitivity and turnaround.

- ``testing``: a lab runs up to ``capacity`` tests a day (symptomatic first, then traced
  contacts, then others); an RT-PCR test is positive with probability ``sensitivity`` from the
  start of infectiousness until the person's viral RNA shedding ends
  (``disease.pcr_positive_after_onset``, well after infectiousness and often after recovery);
  results come back after ``turnaround``; a positive result confirms the case, which is then
  isolated until discharged (recovered and PCR-negative).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from containment_sim.disease import sample
from containment_sim.measures.base import Context, Measure, Server, register
from containment_sim.measures.cases import CaseBook
from containment_sim.scenario import Distribution, Fraction, MeasureSpec, Schedule

__all__ = ["Testing", "TestingSpec"]

PCR_SENSITIVITY = 0.8
"""RT-PCR sensitivity while the virus is detectable: about 80 % around symptom onset
(false-negative rate ~20 % on days 3-5 after exposure onwards; Kucirka LM et al., Ann Intern
Med 2020), taken as constant over the positivity window."""


class TestingSpec(MeasureSpec):
    """Parameters of a testing lab (核酸检测)."""

    type: Literal["testing"] = "testing"
    capacity: Schedule
    sensitivity: Fraction = PCR_SENSITIVITY
    turnaround: Distribution
    regions: list[str] = Field(default_factory=list)


@register(TestingSpec)
class Testing(Measure):
    """A lab running up to ``capacity`` tests a day (full-scale count, scaled with the city).

    With ``regions`` it serves only residents of those regions (several labs may share the
    queue); otherwise everyone.
    """

    spec: TestingSpec

    def setup(self, ctx: Context) -> None:
        self.rng = ctx.rng(f"testing:{self.name}")
        self.cases = ctx.service(CaseBook)
        self.scale = ctx.scenario.population.scale
        names = ctx.scenario.region_names
        self.serves = np.zeros(len(names), dtype=bool)
        self.serves[[names.index(r) for r in self.spec.regions] or slice(None)] = True
        self.region = ctx.population.region

    def before_transmission(self, ctx: Context, t: float) -> None:
        self.cases.deliver(t)

    def servers(self) -> list[Server]:
        return [Server(f"lab:{self.name}", self._rate, self._run_tests)]

    def _rate(self, t: float) -> float:
        """Tests per day at time ``t`` in the simulated (scaled) city."""
        return self.level(self.spec.capacity, t) * self.scale

    def _run_tests(self, ctx: Context, t: float, n: int) -> int:
        """Run up to ``n`` queued tests now (priority, then request time).

        Results come back after the turnaround. Returns the number of tests run.
        """
        eligible = None if self.serves.all() else (lambda a: self.serves[self.region[a]])
        tested = self.cases.take(n, eligible)
        if tested.size == 0:
            return 0
        detectable = ctx.world.pcr_positive(tested, t)
        positive = detectable & (self.rng.random(tested.size) < self.spec.sensitivity)
        when = t + sample(self.spec.turnaround, self.rng, tested.size)
        self.cases.to_lab(tested, when, positive)
        ctx.count("new_tests", tested)
        return int(tested.size)
