"""Closed management of communities (封闭管控, 全封闭、硬隔离) with purchasing agents (代购员).

While a community (village or residential compound) is closed, its households stay in: each
resident keeps ``1 - compliance`` of their community and region contacts and travels with
probability ``1 - compliance``. ``purchasing_agents`` residents per community shop and deliver
for everyone (Tongshan's Chuangwang town: two party members per village, "线上下单、统一代购、
分批采购、线下配送"). Supply is a quantity: a household needs a delivery every
``resupply_days`` days and an agent can serve ``households_per_agent`` households a day, so a
community's *served share* is ``min(1, serving agents x households_per_agent / (households /
resupply_days))``. Agents who are ill (symptomatic), isolated or quarantined stop serving; with
``replace_after`` they are replaced by another working-age resident after that many days.
Compliance decays with unmet need: ``compliance x exp(-decay x unserved days)``, where the
unserved days add up ``1 - served share`` per day closed (with no agents at all, every closed
day is unserved).

Deliveries are the only contact between a closed community's residents and its agents: the
``delivery`` layer is bipartite. A handover passes infection with probability ``delivery_beta``
(for an infectious partner of relative infectiousness 1); with ``h`` handovers per agent per
day spread over the community's ``n`` residents, a resident's hazard is
``delivery_beta * h * sum(w of agents) / n`` and an agent's ``delivery_beta * h * sum(w of
residents) / n``. Residents never infect each other in this layer.

Closure is for all communities, for those of some regions, or reactive: a community closes
``reactive_delay`` days after its first confirmed case, for ``reactive_duration`` days.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np
from pydantic import Field, NonNegativeFloat, NonNegativeInt, PositiveFloat

from containment_sim.arrays import distinct
from containment_sim.layers import Mixing, RangeSlots
from containment_sim.measures.base import Context, Measure, register
from containment_sim.measures.cases import CaseBook
from containment_sim.scenario import FractionSchedule, MeasureSpec
from containment_sim.world import Isolation, Source, State, is_ill

__all__ = ["CommunityClosure", "CommunityClosureSpec"]

WORKING_AGES = (2, 3, 4, 5)
"""Age bands (20-59) from which purchasing agents are chosen."""

HOUSEHOLDS_PER_AGENT = 150.0
"""Households one purchasing agent serves a day. An assumption: the Xianning report gives two
agents per village (about 900 households at ~2.6 people each) buying "for the whole village"
in batches, which is met when each serves ~150 households a day with a delivery every 3 days."""

RESUPPLY_DAYS = 3.0
"""Days between a closed household's deliveries (an assumption; batched purchasing)."""

COMPLIANCE_DECAY = 0.1
"""Loss of compliance per day of unmet need (an assumption): households left without supplies
for a week keep e^-0.7 = half of their compliance."""


class CommunityClosureSpec(MeasureSpec):
    """Parameters of closed community management."""

    type: Literal["community_closure"] = "community_closure"
    references: ClassVar[dict[str, str]] = {"regions": "region"}
    scope: Literal["all", "regions", "reactive"] = "all"
    regions: list[str] = Field(default_factory=list)
    reactive_delay: NonNegativeFloat = 0.0
    reactive_duration: PositiveFloat = 14.0
    compliance: FractionSchedule
    purchasing_agents: NonNegativeInt = 0
    households_per_agent: NonNegativeFloat = HOUSEHOLDS_PER_AGENT
    resupply_days: PositiveFloat = RESUPPLY_DAYS
    replace_after: PositiveFloat | None = None
    delivery_beta: NonNegativeFloat = 0.0
    decay: NonNegativeFloat = COMPLIANCE_DECAY


@register(CommunityClosureSpec)
class CommunityClosure(Measure):
    """Closed communities: confined households, purchasing agents, supply-driven compliance."""

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
        self.agents = np.flatnonzero(self.agent)
        self.serving = np.zeros(pop.size, dtype=bool)
        self.out_since = np.full(pop.size, np.inf)
        self.closed = np.zeros(n, dtype=bool)
        self._now = (np.nan, np.zeros(n))
        self._dense: tuple[float, np.ndarray] = (np.nan, np.zeros(0, dtype=np.float32))
        self.unserved_days = np.zeros(n)
        self.served = np.ones(n)
        self.handovers = np.zeros(n)
        self.households = np.bincount(pop.household_community, minlength=n)

    def _choose_purchasing_agents(self, ctx: Context) -> np.ndarray:
        """Mask of purchasing agents: up to k working-age residents per community, at random.

        Candidates are drawn in each community's range of agents (O(communities), not
        O(population)); a community where the draws found fewer than k is searched in full.
        """
        pop, k = ctx.population, self.spec.purchasing_agents
        agent = np.zeros(pop.size, dtype=bool)
        if k == 0:
            return agent
        lo, size = pop.community_start[:-1], np.diff(pop.community_start)
        trials = 8 * k + 8
        community = np.repeat(np.arange(size.size), trials)
        candidate = lo[community] + (self.rng.random(community.size) * size[community]).astype(
            np.int64
        )
        ok = np.isin(pop.age_band[candidate], WORKING_AGES) & pop.once(candidate)
        candidate, community = candidate[ok], community[ok]
        rank = np.arange(community.size) - np.searchsorted(community, community, side="left")
        agent[candidate[rank < k]] = True
        found = np.bincount(community[rank < k], minlength=size.size)
        for c in np.flatnonzero(found < np.minimum(k, size)):
            members = np.arange(lo[c], lo[c] + size[c])
            members = members[np.isin(pop.age_band[members], WORKING_AGES) & ~agent[members]]
            extra = self.rng.permutation(members)[: k - found[c]]
            agent[extra] = True
        return agent

    def _confirmed(self, ctx: Context, t: float, agents: np.ndarray) -> None:
        if not self.active(t):
            return
        community = distinct(ctx.population.community[agents])
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
        was_closed = self.closed
        self.closed = (self.closed_from <= t) & (t < self.closed_until)
        self.unserved_days[~self.closed] = 0.0
        if self.spec.replace_after is not None:
            self._replace_agents(ctx, t)
        serving = self._serving(ctx)
        self.serving[self.agents] = False
        self.serving[serving] = True
        self._supply(ctx, serving)
        self.unserved_days[self.closed & was_closed] += 1.0 - self.served[self.closed & was_closed]
        ctx.record(
            "closures",
            closure=self.name,
            closed_communities=int(self.closed.sum()),
            serving_agents=int(serving.size),
            served_share=float(self.served[self.closed].mean()) if self.closed.any() else 1.0,
            compliance=float(self.compliance(t)[self.closed].mean()) if self.closed.any() else 0.0,
        )

    def _serving(self, ctx: Context) -> np.ndarray:
        """Purchasing agents of closed communities able to serve now.

        They are alive, not ill, not kept apart and in the city.
        """
        world, agents = ctx.world, self.agents
        state = world.state[agents]
        ill = is_ill(state) | (state == State.DEAD)
        ok = ~ill & (world.isolation[agents] == Isolation.NONE) & world.present[agents]
        out: np.ndarray = agents[ok & self.closed[ctx.population.community[agents]]]
        return out

    def _supply(self, ctx: Context, serving: np.ndarray) -> None:
        """Each community's served share and handovers per serving agent today."""
        pop, spec = ctx.population, self.spec
        active = np.bincount(pop.community[serving], minlength=pop.n_communities)
        demand = self.households / spec.resupply_days
        capacity = active * spec.households_per_agent
        with np.errstate(invalid="ignore", divide="ignore"):
            self.served = np.where(demand > 0, np.minimum(capacity / demand, 1.0), 1.0)
            self.handovers = np.where(active > 0, np.minimum(demand, capacity) / active, 0.0)

    def _replace_agents(self, ctx: Context, t: float) -> None:
        """Agents out of service for ``replace_after`` days hand over to a healthy resident."""
        agents, after = self.agents, self.spec.replace_after
        if after is None:
            return
        out = ~np.isin(agents, self._serving(ctx)) & self.closed[ctx.population.community[agents]]
        self.out_since[agents[~out]] = np.inf
        self.out_since[agents[out]] = np.minimum(self.out_since[agents[out]], t)
        due = agents[out & (t - self.out_since[agents] >= after)]
        if due.size == 0:
            return
        pop, world = ctx.population, ctx.world
        for old in due:
            lo, hi = (
                pop.community_start[pop.community[old]],
                pop.community_start[pop.community[old] + 1],
            )
            members = np.arange(lo, hi)
            free = members[
                ~self.agent[members]
                & np.isin(pop.age_band[members], WORKING_AGES)
                & (world.isolation[members] == Isolation.NONE)
                & (world.state[members] != State.DEAD)
                & world.present[members]
            ]
            if free.size == 0:
                continue
            new = free[self.rng.integers(free.size)]
            self.agent[old], self.agent[new] = False, True
            self.out_since[old] = np.inf
            self.agents = np.flatnonzero(self.agent)
            ctx.record("agent_replacements", closure=self.name, community=int(pop.community[old]),
                       replaced=int(old), by=int(new))  # fmt: skip

    def compliance(self, t: float) -> np.ndarray:
        """Compliance of each community's residents now (0 where the community is open)."""
        if self._now[0] == t:
            return self._now[1]
        level = self.level(self.spec.compliance, t)
        decay = np.exp(-self.spec.decay * self.unserved_days) if self.spec.decay > 0 else 1.0
        self._now = (t, np.where(self.closed, level * decay, 0.0))
        return self._now[1]

    def _confined(self, ctx: Context, agents: np.ndarray) -> np.ndarray:
        """Which of ``agents`` live in a closed community (purchasing agents excepted)."""
        out: np.ndarray = self.closed[ctx.population.community[agents]] & ~self.agent[agents]
        return out

    def contact_factor(
        self, ctx: Context, t: float, layer: str, agents: np.ndarray
    ) -> np.ndarray | None:
        if layer not in ("community", "region") or not self.closed.any():
            return None
        everyone = agents.size == ctx.population.size  # the DES lays factors out for all
        if everyone and self._dense[0] == t:
            return self._dense[1]
        keep = 1.0 - self.compliance(t)[ctx.population.community[agents]]
        factor = np.where(self._confined(ctx, agents), keep, 1.0).astype(np.float32)
        if everyone:
            self._dense = (t, factor)
        return factor

    def restrict_travel(self, ctx: Context, t: float, who: np.ndarray, free: np.ndarray) -> None:
        if not self.closed.any():
            return
        community = ctx.population.community[who]
        confined = np.flatnonzero(self.closed[community] & ~self.agent[who] & free)
        stays = self.rng.random(confined.size) < self.compliance(t)[community[confined]]
        free[confined[stays]] = False

    def extra_layer_rates(self) -> dict[str, float]:
        # agents' side: n_T / D_g = handovers per agent <= households_per_agent; residents'
        # side: agents x handovers / residents <= households / resupply_days / residents <= 1
        spec = self.spec
        if not spec.purchasing_agents or spec.delivery_beta == 0:
            return {}
        return {
            f"delivery:{self.name}:agents": spec.delivery_beta * spec.households_per_agent,
            f"delivery:{self.name}:residents": spec.delivery_beta / spec.resupply_days,
        }

    def extra_layers(self, ctx: Context, t: float) -> list[Mixing]:
        if self.spec.delivery_beta == 0 or not self.closed.any() or not self.agent.any():
            return []
        pop, world = ctx.population, ctx.world
        size = ctx.group_size("community")
        agents = np.bincount(pop.community[self.agents], minlength=pop.n_communities)
        residents = np.maximum(size - agents, 0)  # deliveries spread over every household
        denominator = np.zeros(pop.n_communities)
        np.divide(residents, self.handovers, out=denominator, where=self.handovers > 0)
        serving = self.serving

        def agent_side(x: np.ndarray) -> np.ndarray:
            out: np.ndarray = serving[x].astype(np.float32)
            return out

        def resident_side(x: np.ndarray) -> np.ndarray:
            ok = self._confined(ctx, x) & (world.isolation[x] < Isolation.SITE)
            out: np.ndarray = ok.astype(np.float32)
            return out

        slots, beta, name = RangeSlots(pop.community_start), self.spec.delivery_beta, self.name
        return [
            Mixing(f"delivery:{name}:agents", Source.DELIVERY, beta, pop.community, size, slots,
                   agent_side, resident_side, denominator),
            Mixing(f"delivery:{name}:residents", Source.DELIVERY, beta, pop.community, size,
                   slots, resident_side, agent_side, denominator),
        ]  # fmt: skip
