"""Closed management of communities (封闭管控, 全封闭、硬隔离) with purchasing agents (代购员).

While a community (village or residential compound) is closed, its households stay in: each
resident keeps ``1 - compliance`` of their community and region contacts and travels with
probability ``1 - compliance``. ``purchasing_agents`` residents per community shop and
deliver for everyone: they keep their community and region contacts, and meet the households
they serve in a small ``delivery`` layer (rate ``delivery_beta``; a resident's share of that
contact is ``delivery_contact``). Without purchasing agents, households must eventually go out
for supplies: compliance decays by a factor ``exp(-decay * days closed)``.

Closure is for all communities, for those of some regions, or reactive: a community closes
``reactive_delay`` days after its first confirmed case, for ``reactive_duration`` days.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field, NonNegativeFloat, NonNegativeInt, PositiveFloat

from containment_sim.measures.base import ContactFactors, Context, Measure, register
from containment_sim.measures.cases import CaseBook
from containment_sim.scenario import Fraction, FractionSchedule, MeasureSpec
from containment_sim.transmission import Layer
from containment_sim.world import Isolation, Source, State

__all__ = ["CommunityClosure", "CommunityClosureSpec"]

WORKING_AGES = (2, 3, 4, 5)
"""Age bands (20-59) from which purchasing agents are chosen."""


class CommunityClosureSpec(MeasureSpec):
    """Parameters of closed community management."""

    type: Literal["community_closure"] = "community_closure"
    scope: Literal["all", "regions", "reactive"] = "all"
    regions: list[str] = Field(default_factory=list)
    reactive_delay: NonNegativeFloat = 0.0
    reactive_duration: PositiveFloat = 14.0
    compliance: FractionSchedule
    purchasing_agents: NonNegativeInt = 0
    delivery_beta: NonNegativeFloat = 0.0
    delivery_contact: Fraction = 0.1
    decay: NonNegativeFloat = 0.0


@register(CommunityClosureSpec)
class CommunityClosure(Measure):
    """Closed communities: confined households, purchasing agents, decaying compliance."""

    spec: CommunityClosureSpec

    def setup(self, ctx: Context) -> None:
        pop, sc = ctx.population, ctx.scenario
        self.rng = ctx.rng(f"community_closure:{self.name}")
        n = pop.n_communities
        self.closed_from = np.full(n, np.inf)
        self.closed_until = np.full(n, np.inf)
        if self.spec.scope == "all":
            self.closed_from[:] = self.start
        elif self.spec.scope == "regions":
            regions = [sc.region_names.index(r) for r in self.spec.regions]
            self.closed_from[np.isin(pop.community_region, regions)] = self.start
        else:
            ctx.service(CaseBook).listeners.append(self._confirmed)
        self.closed_until = np.where(np.isfinite(self.closed_from), self.end, np.inf)
        self.agent = self._choose_purchasing_agents(ctx)
        self.closed = np.zeros(n, dtype=bool)
        self.days_closed = np.zeros(n)

    def _choose_purchasing_agents(self, ctx: Context) -> np.ndarray:
        """Mask of purchasing agents: up to k working-age residents per community, at random."""
        pop, k = ctx.population, self.spec.purchasing_agents
        agent = np.zeros(pop.size, dtype=bool)
        if k == 0:
            return agent
        eligible = np.flatnonzero(np.isin(pop.age_band, WORKING_AGES))
        order = eligible[np.argsort(self.rng.random(eligible.size), kind="stable")]
        order = order[np.argsort(pop.community[order], kind="stable")]
        community = pop.community[order]
        first = np.searchsorted(community, community, side="left")
        rank = np.arange(order.size) - first
        agent[order[rank < k]] = True
        return agent

    def _confirmed(self, ctx: Context, t: float, agents: np.ndarray) -> None:
        if not self.active(t):
            return
        community = np.unique(ctx.population.community[agents])
        new = community[~np.isfinite(self.closed_from[community])]
        self.closed_from[new] = t + self.spec.reactive_delay
        self.closed_until[new] = np.minimum(
            t + self.spec.reactive_delay + self.spec.reactive_duration, self.end
        )
        for c in new:
            ctx.record(
                "closure_events",
                closure=self.name,
                community=int(c),
                first_confirmed=t,
                closes=float(self.closed_from[c]),
                reopens=float(self.closed_until[c]),
            )

    def start_day(self, ctx: Context, day: int) -> None:
        t = day + 0.5
        self.closed = (self.closed_from <= t) & (t < self.closed_until)
        self.days_closed = np.where(self.closed, t - self.closed_from, 0.0)
        ctx.record("closures", closure=self.name, closed_communities=int(self.closed.sum()))

    def compliance(self, t: float) -> np.ndarray:
        """Compliance of each community's residents now (0 where the community is open)."""
        level = self.level(self.spec.compliance, t)
        if self.spec.purchasing_agents == 0 and self.spec.decay > 0:
            return np.where(self.closed, level * np.exp(-self.spec.decay * self.days_closed), 0.0)
        return np.where(self.closed, level, 0.0)

    def _confined(self, ctx: Context) -> np.ndarray:
        """Residents of closed communities, purchasing agents excepted."""
        return self.closed[ctx.population.community] & ~self.agent

    def contact_factors(self, ctx: Context, t: float, factors: ContactFactors) -> None:
        if not self.closed.any():
            return
        confined = np.flatnonzero(self._confined(ctx))
        keep = 1.0 - self.compliance(t)[ctx.population.community[confined]]
        factors.scale("community", confined, keep)
        factors.scale("region", confined, keep)

    def restrict_travel(self, ctx: Context, t: float, who: np.ndarray, free: np.ndarray) -> None:
        if not self.closed.any():
            return
        community = ctx.population.community[who]
        confined = np.flatnonzero(self.closed[community] & ~self.agent[who] & free)
        stays = self.rng.random(confined.size) < self.compliance(t)[community[confined]]
        free[confined[stays]] = False

    def extra_layer_rates(self) -> dict[int, float]:
        return {Source.DELIVERY: self.spec.delivery_beta if self.spec.purchasing_agents else 0.0}

    def extra_layers(self, ctx: Context, t: float) -> list[Layer]:
        if (
            self.spec.delivery_beta == 0
            or not self.closed.any()
            or self.spec.purchasing_agents == 0
        ):
            return []
        pop, world = ctx.population, ctx.world
        in_closed = self.closed[pop.community]
        factor = np.where(self.agent, 1.0, self.spec.delivery_contact).astype(np.float32)
        factor[~in_closed | (world.isolation >= Isolation.SITE)] = 0.0
        mixing = in_closed & world.present & (world.state != State.DEAD)
        size = np.bincount(pop.community[mixing], minlength=pop.n_communities)
        return [Layer(Source.DELIVERY, self.spec.delivery_beta, pop.community, size, factor)]
