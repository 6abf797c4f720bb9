"""Finding cases (早发现): care seeking at fever clinics (发热门诊) and symptom surveys (排查).

- ``care_seeking``: a symptomatic person seeks care after a delay whose distribution depends
  on the date of symptom onset (in Hubei it shortened from over a week in early January to a
  few days in February); febrile patients go to fever clinics and are tested as suspected
  cases, even if they are no longer infectious by then (the illness outlasts infectiousness).
- ``symptom_survey``: community workers visit every household (拉网式排查, the "universal
  symptom survey" of Hubei from 17 Feb 2020) and send the ill they find to be tested as
  suspected cases, whether or not those would have sought care themselves.

Labs are in :mod:`~containment_sim.measures.testing`, beds in
:mod:`~containment_sim.measures.hospitals`.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from containment_sim.disease import sample
from containment_sim.measures.base import Context, Measure, register
from containment_sim.measures.cases import CaseBook, Priority
from containment_sim.report import Flow, Report
from containment_sim.scenario import Distribution, Fraction, MeasureSpec, TimePoint
from containment_sim.world import Isolation, State, is_ill

__all__ = ["SURVEY", "CareSeeking", "CareSeekingSpec", "SymptomSurvey", "SymptomSurveySpec"]

FEVER_DURING_ILLNESS = 0.887
"""Share of COVID-19 patients with fever at some point of their illness: 88.7 % (Guan WJ et
al., NEJM 2020; 1,099 patients)."""


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


SURVEY = Report(
    "symptom_survey",
    flows=(
        Flow("new_found_by_survey", "ill people found by a symptom survey and sent to be tested"),
    ),
)
"""What a symptom survey reports."""


class SymptomSurveySpec(MeasureSpec):
    """Parameters of a door-to-door symptom survey (拉网式排查)."""

    type: Literal["symptom_survey"] = "symptom_survey"
    interval: float = Field(default=1.0, ge=1.0)
    sensitivity: Fraction = FEVER_DURING_ILLNESS


@register(SymptomSurveySpec)
class SymptomSurvey(Measure):
    """Households are visited every ``interval`` days; the ill found there are tested.

    Each day a household is visited with probability ``1 / interval`` (visits at a random
    phase), and a visit finds each ill member (symptomatic, or ill after infectiousness)
    with probability ``sensitivity`` (by default the share of patients with fever,
    :data:`FEVER_DURING_ILLNESS`: a temperature check). People found are tested as suspected
    cases with symptomatic priority; those already confirmed or waiting for a result are
    skipped. People away from the city, at a quarantine site or isolated are not visited
    (home-quarantined people are).

    The survey follows the ill, not the population: it keeps the set of people with
    symptoms from one full scan when it starts, then adds those whose symptoms start.
    """

    spec: SymptomSurveySpec
    report = SURVEY

    def setup(self, ctx: Context) -> None:
        self.rng = ctx.rng(f"symptom_survey:{self.name}")
        self.cases = ctx.service(CaseBook)
        self.ill = np.empty(0, dtype=np.int64)
        self.scanned = False

    def after_progression(self, ctx: Context, t: float, entered: dict[State, np.ndarray]) -> None:
        onset = entered.get(State.SYMPTOMATIC)
        if self.scanned and onset is not None and onset.size:
            self.ill = np.concatenate([self.ill, onset])

    def start_day(self, ctx: Context, day: int) -> None:
        world = ctx.world
        if not self.scanned:
            self.scanned = True
            state = world.state
            self.ill = np.flatnonzero(is_ill(state))
        state = world.state[self.ill]
        self.ill = self.ill[is_ill(state)]
        if self.ill.size == 0:
            return
        at_home = world.present[self.ill] & (world.isolation[self.ill] <= Isolation.HOME)
        p = self.spec.sensitivity / self.spec.interval
        found = self.ill[at_home & (self.rng.random(self.ill.size) < p)]
        if found.size:
            found = found[
                ~self.cases.requested[found] & ~np.isfinite(self.cases.confirmed_time[found])
            ]
            ctx.count("new_found_by_survey", found)
            self.cases.request_tests(
                found, Priority.SYMPTOMATIC, max(float(day), self.start), suspected=True
            )
