"""Returnees from the epicentre (返乡人员): registered and kept at home (居家隔离).

- ``returnee_quarantine``: registered returnees (by a checkpoint, or by their community with
  probability ``coverage``) stay home for ``days`` days with a compliance level that
  household-level monitoring (三包一: three cadres responsible for one household) can raise over
  time.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import PositiveFloat

from containment_sim.measures.base import Context, Crossing, Measure, register
from containment_sim.scenario import Fraction, FractionSchedule, MeasureSpec
from containment_sim.world import Isolation

__all__ = ["ReturneeQuarantine", "ReturneeQuarantineSpec"]


class ReturneeQuarantineSpec(MeasureSpec):
    """Parameters of home quarantine for returnees from the epicentre."""

    type: Literal["returnee_quarantine"] = "returnee_quarantine"
    days: PositiveFloat = 14.0
    compliance: FractionSchedule = 1.0
    coverage: Fraction = 0.0
    lookback: bool = True


@register(ReturneeQuarantineSpec)
class ReturneeQuarantine(Measure):
    """Home quarantine of registered returnees (居家隔离), with a compliance schedule.

    When the measure starts, returnees who arrived within the last ``days`` days are
    registered by their community with probability ``coverage`` and quarantined for the rest
    of their ``days`` (``lookback``). Afterwards each arriving returnee registered by a
    checkpoint, or by the community with probability ``coverage``, is quarantined on arrival.
    Each day the compliance of everyone this measure quarantined follows the schedule.
    """

    spec: ReturneeQuarantineSpec

    def setup(self, ctx: Context) -> None:
        self.rng = ctx.rng(f"returnee_quarantine:{self.name}")
        self.members = np.empty(0, dtype=np.int64)
        self.looked_back = not self.spec.lookback

    def start_day(self, ctx: Context, day: int) -> None:
        t = max(float(day), self.start)
        if not self.looked_back:
            self.looked_back = True
            agents, arrival = ctx.arrived_returnees(t - self.spec.days, t)
            take = self.rng.random(agents.size) < self.spec.coverage
            order = np.argsort(agents[take])
            self._quarantine(ctx, agents[take][order], t, arrival[take][order] + self.spec.days)
        world = ctx.world
        self.members = self.members[world.isolation[self.members] == Isolation.HOME]
        world.compliance[self.members] = self.level(self.spec.compliance, t)

    def after_arrival(self, ctx: Context, t: float, crossing: Crossing) -> None:
        take = crossing.registered | (self.rng.random(crossing.agents.size) < self.spec.coverage)
        take &= ~crossing.stopped
        if crossing.when is not None:
            take &= (crossing.when >= self.start) & (crossing.when < self.end)
        if take.any():
            self._quarantine(ctx, np.sort(crossing.agents[take]), t, t + self.spec.days)

    def _quarantine(
        self, ctx: Context, agents: np.ndarray, t: float, until: float | np.ndarray
    ) -> None:
        level = self.level(self.spec.compliance, t)
        newly = ctx.keep_apart(agents, Isolation.HOME, t, until=until, compliance=level)
        self.members = np.concatenate([self.members, newly])
