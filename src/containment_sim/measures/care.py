"""Finding cases (早发现): care seeking at fever clinics (发热门诊).

- ``care_seeking``: a symptomatic person seeks care after a delay whose distribution depends
  on the date of symptom onset (in Hubei it shortened from over a week in early January to a
  few days in February); febrile patients go to fever clinics and are tested as suspected
  cases, even if they are no longer infectious by then (the illness outlasts infectiousness).

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
from containment_sim.scenario import Distribution, Fraction, MeasureSpec, TimePoint
from containment_sim.world import State

__all__ = ["CareSeeking", "CareSeekingSpec"]

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
