"""Testing labs (核酸检测): RT-PCR tests with a daily capacity, sensitivity and turnaround.

- ``testing``: a lab runs up to ``capacity`` tests a day (symptomatic first, then traced
  contacts, then others); an RT-PCR test is positive with probability ``sensitivity`` from the
  start of infectiousness until the person's viral RNA shedding ends
  (``disease.pcr_positive_after_onset``, well after infectiousness and often after recovery);
  results come back after ``turnaround``; a positive result confirms the case, which is then
  isolated until discharged (recovered and PCR-negative). With ``confirm_without_symptoms:
  false`` a positive person who has had no symptoms is an asymptomatic infection instead
  (isolated and traced, counted in ``new_asymptomatic_found``), confirmed if symptoms start.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np
from pydantic import Field

from containment_sim.disease import sample
from containment_sim.measures.base import Context, Measure, Server, register
from containment_sim.measures.cases import CaseBook
from containment_sim.report import Flow, Report
from containment_sim.scenario import (
    Distribution,
    Fraction,
    MeasureSpec,
    Schedule,
    StrictModel,
    TimePoint,
)
from containment_sim.world import is_ill

__all__ = ["Testing", "TestingSpec"]

PCR_SENSITIVITY = 0.8
"""RT-PCR sensitivity while the virus is detectable: about 80 % around symptom onset
(false-negative rate ~20 % on days 3-5 after exposure onwards; Kucirka LM et al., Ann Intern
Med 2020), taken as constant over the positivity window."""


CT_SENSITIVITY = 0.97
"""Share of COVID-19 patients with pneumonia on chest CT: 97 % (580/601) of RT-PCR-positive
patients in Wuhan (Ai T et al., Radiology 2020)."""


class ClinicalDiagnosis(StrictModel):
    """Clinical diagnosis (临床诊断病例) of suspected cases whose RT-PCR test was negative.

    From ``start``, such a case still ill is confirmed on chest CT with probability
    ``sensitivity``. Hubei counted clinically diagnosed cases as confirmed from 12 February
    2020 (the 5th edition of the national diagnosis protocol); cases held as suspected with
    negative tests were then added at once (Xianning's count jumped by 306 on 14-15 February).
    """

    start: TimePoint
    sensitivity: Fraction = CT_SENSITIVITY


class TestingSpec(MeasureSpec):
    """Parameters of a testing lab (核酸检测)."""

    type: Literal["testing"] = "testing"
    references: ClassVar[dict[str, str]] = {"regions": "region"}
    capacity: Schedule
    sensitivity: Fraction = PCR_SENSITIVITY
    turnaround: Distribution
    regions: list[str] = Field(default_factory=list)
    clinical_diagnosis: ClinicalDiagnosis | None = None
    confirm_without_symptoms: bool = True
    """Whether a positive test confirms a case in someone who has had no symptoms yet. With
    ``False`` (China's case definition in 2020: a confirmed case is a suspected case, which
    has symptoms, with a positive test; NHC diagnosis and treatment protocol, 5th-7th
    editions), such a person is an asymptomatic infection (无症状感染者): isolated and traced
    like a case but not counted as one, and confirmed if symptoms start."""


TESTS = Report("testing", flows=(Flow("new_tests", "tests run"),))
"""What labs report."""


@register(TestingSpec)
class Testing(Measure):
    """A lab running up to ``capacity`` tests a day (full-scale count, scaled with the city).

    With ``regions`` it serves only residents of those regions (several labs may share the
    queue); otherwise everyone.
    """

    spec: TestingSpec
    report = TESTS

    def setup(self, ctx: Context) -> None:
        self.rng = ctx.rng(f"testing:{self.name}")
        self.cases = ctx.service(CaseBook)
        if not self.spec.confirm_without_symptoms:
            self.cases.confirm_without_symptoms = False
        self.scale = ctx.scenario.population.scale
        names = ctx.scenario.region_names
        self.serves = np.zeros(len(names), dtype=bool)
        self.serves[[names.index(r) for r in self.spec.regions] or slice(None)] = True
        self.region = ctx.population.region
        clinical = self.spec.clinical_diagnosis
        self.clinical_start = np.inf if clinical is None else ctx.scenario.day_of(clinical.start)

    def before_transmission(self, ctx: Context, t: float) -> None:
        self.cases.deliver(t)
        clinical = self.spec.clinical_diagnosis
        if clinical is not None and t >= self.clinical_start:
            self._diagnose(ctx, t, clinical.sensitivity)

    def _diagnose(self, ctx: Context, t: float, sensitivity: float) -> None:
        """Suspected cases with a negative test are reviewed once: still ill, CT may confirm."""
        reviewed = self.cases.negatives.members()
        if reviewed.size == 0:
            return
        self.cases.negatives.keep(np.zeros(reviewed.size, dtype=bool))
        state = ctx.world.state[reviewed]
        ill = is_ill(state)
        found = reviewed[ill & (self.rng.random(reviewed.size) < sensitivity)]
        self.cases.confirm(found, t, how="clinical")

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
