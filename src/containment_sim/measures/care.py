"""Finding cases (早发现): care seeking, testing, and isolation in designated hospitals.

- ``care_seeking``: a symptomatic person seeks care after a delay whose distribution depends
  on the date of symptom onset (in Hubei it shortened from over a week in early January to a
  few days in February); febrile patients go to fever clinics (发热门诊) and are tested, even
  if they are no longer infectious by then (the illness outlasts infectiousness).
- ``testing``: a lab runs up to ``capacity`` tests a day (symptomatic first, then traced
  contacts, then others); an RT-PCR test is positive with probability ``sensitivity`` from the
  start of infectiousness until the person's viral RNA shedding ends
  (``disease.pcr_positive_after_onset``, well after infectiousness and often after recovery);
  results come back after ``turnaround``; a positive result confirms the case, which is then
  isolated until discharged (recovered and PCR-negative).
- ``hospital`` (定点医院): designated hospital beds for confirmed cases; a confirmed case with
  no free bed is still isolated but counted as overflow until a bed frees up.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field, NonNegativeFloat

from containment_sim.disease import sample
from containment_sim.measures.base import Context, Measure, Server, places, register
from containment_sim.measures.cases import CaseBook, Priority
from containment_sim.scenario import Distribution, Fraction, MeasureSpec, Schedule, TimePoint
from containment_sim.world import Isolation, State

__all__ = [
    "CareSeeking",
    "CareSeekingSpec",
    "Hospital",
    "HospitalSpec",
    "Testing",
    "TestingSpec",
]

FEVER_DURING_ILLNESS = 0.887
"""Share of COVID-19 patients with fever at some point of their illness: 88.7 % (Guan WJ et
al., NEJM 2020; 1,099 patients)."""

PCR_SENSITIVITY = 0.8
"""RT-PCR sensitivity while the virus is detectable: about 80 % around symptom onset
(false-negative rate ~20 % on days 3-5 after exposure onwards; Kucirka LM et al., Ann Intern
Med 2020), taken as constant over the positivity window."""


class CareSeekingSpec(MeasureSpec):
    """Parameters of care seeking (就医) by symptomatic people."""

    type: Literal["care_seeking"] = "care_seeking"
    delay: list[tuple[TimePoint, Distribution]] = Field(min_length=1)
    share: Fraction = 1.0
    fever_fraction: Fraction = FEVER_DURING_ILLNESS


@register(CareSeekingSpec)
class CareSeeking(Measure):
    """Symptomatic people seek care after an onset-date-dependent delay; febrile ones are tested.

    ``delay`` lists ``[onset date, distribution]`` steps: a person whose symptoms start at t
    uses the latest step at or before t (the first before the first step).
    """

    spec: CareSeekingSpec

    def setup(self, ctx: Context) -> None:
        self.rng = ctx.rng(f"care_seeking:{self.name}")
        self.cases = ctx.service(CaseBook)
        steps = sorted(
            ((ctx.scenario.day_of(w), d) for w, d in self.spec.delay), key=lambda x: x[0]
        )
        self.step_times = np.array([w for w, _ in steps])
        self.step_delays = [d for _, d in steps]
        self.pending_agent = np.empty(0, dtype=np.int64)
        self.pending_time = np.empty(0)

    def after_progression(self, ctx: Context, t: float, entered: dict[State, np.ndarray]) -> None:
        onset = entered.get(State.SYMPTOMATIC)
        if onset is not None and onset.size:
            p = self.spec.share * self.spec.fever_fraction
            seekers = onset[self.rng.random(onset.size) < p]
            k = max(int(np.searchsorted(self.step_times, t, side="right")) - 1, 0)
            delay = sample(self.step_delays[k], self.rng, seekers.size)
            self.pending_agent = np.concatenate([self.pending_agent, seekers])
            self.pending_time = np.concatenate([self.pending_time, t + delay])
        self._seek_care(ctx, t)

    def before_transmission(self, ctx: Context, t: float) -> None:
        self._seek_care(ctx, t)  # the discrete-event engine has no progression every tick

    def _seek_care(self, ctx: Context, t: float) -> None:
        """Care seekers whose delay is over are tested (the case book skips the dead)."""
        due = self.pending_time <= t
        if due.any():
            agents = self.pending_agent[due]
            self.pending_agent, self.pending_time = (
                self.pending_agent[~due],
                self.pending_time[~due],
            )
            self.cases.request_tests(agents, Priority.SYMPTOMATIC, t, suspected=True)


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


class HospitalSpec(MeasureSpec):
    """Parameters of the designated hospitals (定点医院) for confirmed cases."""

    type: Literal["hospital"] = "hospital"
    beds: NonNegativeFloat


@register(HospitalSpec)
class Hospital(Measure):
    """Beds for confirmed cases (full-scale count, scaled); overflow waits for a free bed.

    Overflow patients are isolated like the others; they are counted, and admitted in order
    of confirmation as beds free up. Occupancy never exceeds the beds.
    """

    spec: HospitalSpec

    def setup(self, ctx: Context) -> None:
        self.beds = places(self.spec.beds * ctx.scenario.population.scale)
        self.admitted = np.empty(0, dtype=np.int64)
        self.waiting = np.empty(0, dtype=np.int64)
        ctx.service(CaseBook).listeners.append(self._confirmed)

    def _confirmed(self, ctx: Context, t: float, agents: np.ndarray) -> None:
        if self.active(t):
            self.waiting = np.concatenate([self.waiting, agents])
            self._admit(ctx)

    def _admit(self, ctx: Context) -> None:
        world = ctx.world
        self.admitted = self.admitted[world.isolation[self.admitted] == Isolation.ISOLATED]
        self.waiting = self.waiting[world.isolation[self.waiting] == Isolation.ISOLATED]
        free = max(self.beds - self.admitted.size, 0)
        self.admitted = np.concatenate([self.admitted, self.waiting[:free]])
        self.waiting = self.waiting[free:]

    def before_transmission(self, ctx: Context, t: float) -> None:
        self._admit(ctx)

    def end_day(self, ctx: Context, day: int) -> None:
        self._admit(ctx)
        assert self.admitted.size <= self.beds, "hospital above capacity"
        ctx.record(
            "hospitals",
            hospital=self.name,
            beds=self.beds,
            occupied=int(self.admitted.size),
            overflow=int(self.waiting.size),
        )
