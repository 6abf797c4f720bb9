"""Hospital beds for cases (应收尽收): designated hospitals (定点医院) and makeshift ones (方舱).

- ``hospital``: a confirmed case needs a bed. With one, it is isolated in hospital (no contact
  with anyone) until discharged (recovered and PCR-negative). Without one, it waits isolated
  at home, in the order it was confirmed (severe cases first, by default): it keeps
  ``household_leak`` of its household contacts and ``community_leak`` of the others, and a
  severe case waiting without care dies with an extra hazard ``untreated_fatality`` per day.
  Designated beds (``beds``, a schedule) take every case; makeshift hospitals
  (``makeshift``, each opened on a date with its own beds) take only cases that are not severe,
  as Wuhan's 方舱 hospitals did. With ``suspected``, suspected cases also need a bed while they
  wait for their result, and leave it when the result is negative.

In the discrete-event engine a case in a bed is discharged at the exact time it may leave
(recovered and PCR-negative), and the bed goes at once to the first waiting case by triage;
a death frees its bed at once too. The number of beds follows the ``beds`` schedule, so they
are a triaged waiting list rather than a fixed-size SimPy resource.

Outputs: the ``hospitals`` table (beds, occupancy, people waiting, severe among them) and the
daily columns ``n_waiting_bed``, ``new_waiting_bed``, ``new_infections_waiting`` (infections
caused by cases waiting at home) and ``new_deaths_waiting``.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import Field, NonNegativeFloat

from containment_sim.agentsets import AgentSet
from containment_sim.measures.base import Context, Measure, places, register
from containment_sim.measures.cases import CaseBook
from containment_sim.report import Flow, Report, Stock
from containment_sim.scenario import Fraction, MeasureSpec, Schedule, StrictModel, TimePoint
from containment_sim.world import Flag, Isolation, State, is_ill

__all__ = ["Hospital", "HospitalSpec", "MakeshiftHospital"]

HOUSEHOLD_LEAK = 0.5
"""Share of its household transmission a confirmed case keeps while isolating at home. Li F et
al. (Lancet Infect Dis 2021; 27,101 Wuhan households) found that centralised isolation of cases
and quarantine of household contacts, with the lockdown, cut the household reproductive number
of primary cases by 52 %; home isolation is taken to keep the other half (an assumption)."""

UNTREATED_FATALITY = 0.03
"""Extra hazard of death per day for a severe case waiting at home without a bed (an
assumption: about one in four after ten days without care)."""


class MakeshiftHospital(StrictModel):
    """A makeshift hospital (方舱医院): beds for cases that are not severe, from a date."""

    name: str
    start: TimePoint
    end: TimePoint | None = None
    beds: NonNegativeFloat


class HospitalSpec(MeasureSpec):
    """Parameters of the hospital beds for cases."""

    type: Literal["hospital"] = "hospital"
    beds: Schedule
    makeshift: list[MakeshiftHospital] = Field(default_factory=list)
    household_leak: Fraction = HOUSEHOLD_LEAK
    community_leak: Fraction = 0.0
    untreated_fatality: NonNegativeFloat = UNTREATED_FATALITY
    triage: Literal["severe_first", "confirmation"] = "severe_first"
    suspected: bool = False


BEDS = Report(
    "hospital",
    flows=(
        Flow("new_waiting_bed", "cases starting to wait at home for a bed"),
        Flow("new_infections_waiting", "infections caused by cases waiting for a bed"),
        Flow("new_deaths_waiting", "deaths of cases waiting for a bed"),
    ),
    stocks=(Stock("n_waiting_bed", "cases isolated at home waiting for a bed"),),
)
"""What hospitals report (their daily ``hospitals`` table too)."""


@register(HospitalSpec)
class Hospital(Measure):
    """Beds for cases (full-scale counts, scaled); the others wait isolated at home."""

    spec: HospitalSpec
    report = BEDS

    def setup(self, ctx: Context) -> None:
        n, sc = ctx.population.size, ctx.scenario
        self.scale = sc.population.scale
        self.rng = ctx.rng(f"hospital:{self.name}")
        self.cases = ctx.service(CaseBook)
        self.cases.beds = self
        ctx.world.leak[Isolation.WAITING] = (self.spec.household_leak, self.spec.community_leak)
        self.designated = AgentSet(n)
        self.makeshift = AgentSet(n)
        self.waiting = AgentSet(n)
        self.held = AgentSet(n)  # suspected cases in a bed or waiting for one
        self.since = np.full(n, np.inf)
        self.windows = [
            (sc.day_of(m.start), np.inf if m.end is None else sc.day_of(m.end), m.beds)
            for m in self.spec.makeshift
        ]
        self.env: Any = None  # the discrete-event engine's SimPy environment, if any

    # --- capacity ---------------------------------------------------------------------------
    def capacity(self, t: float) -> tuple[int, int]:
        """Designated and makeshift beds open at ``t`` (scaled with the population)."""
        designated = places(self.level(self.spec.beds, t) * self.scale)
        makeshift = sum(beds for start, end, beds in self.windows if start <= t < end)
        return designated, places(makeshift * self.scale)

    # --- who needs a bed ----------------------------------------------------------------------
    def take_in(self, ctx: Context, t: float, agents: np.ndarray) -> None:
        """Cases (or suspected cases) needing a bed: in one if free, else waiting at home."""
        if agents.size == 0:
            return
        newly = ctx.keep_apart(agents, Isolation.WAITING, t)
        ctx.count("new_waiting_bed", newly)
        self.since[newly] = t
        self.waiting.add(newly)
        self._admit(ctx, t)

    def hold(self, ctx: Context, t: float, agents: np.ndarray) -> None:
        """Suspected cases awaiting a result take a bed too (with ``suspected``)."""
        if self.spec.suspected and self.active(t):
            self.held.add(agents)
            self.take_in(ctx, t, agents)

    def let_go(self, ctx: Context, t: float, agents: np.ndarray) -> None:
        """Suspected cases whose result was negative leave their bed or the waiting list."""
        gone = self.held.discard(agents)
        if gone.size:
            kept = gone[ctx.world.isolation[gone] >= Isolation.WAITING]
            ctx.world.reschedule(kept, t)  # released at the next release

    def _prune(self, ctx: Context) -> None:
        """Forget who left a bed (discharged, dead) or the waiting list (admitted elsewhere)."""
        isolation = ctx.world.isolation
        for pool in (self.designated, self.makeshift):
            pool.keep(isolation[pool.members()] == Isolation.ISOLATED)
        self.waiting.keep(isolation[self.waiting.members()] == Isolation.WAITING)

    def _admit(self, ctx: Context, t: float) -> None:
        """Waiting people take the free beds: severe ones designated beds only."""
        world = ctx.world
        self._prune(ctx)
        waiting = self.waiting.members()
        if waiting.size == 0:
            return
        severe = (world.flags[waiting] & Flag.SEVERE).astype(bool)
        first = ~severe if self.spec.triage == "severe_first" else np.zeros(waiting.size, bool)
        order = np.lexsort((self.since[waiting], first))
        waiting, severe = waiting[order], severe[order]
        designated, makeshift = self.capacity(t)
        free_m = max(makeshift - len(self.makeshift), 0)
        mild = np.flatnonzero(~severe)[:free_m]
        into_makeshift = waiting[mild]
        rest = np.ones(waiting.size, dtype=bool)
        rest[mild] = False
        free_d = max(designated - len(self.designated), 0)
        into_designated = waiting[rest][:free_d]
        for pool, agents in ((self.makeshift, into_makeshift), (self.designated, into_designated)):
            if agents.size:
                ctx.keep_apart(agents, Isolation.ISOLATED, t)
                pool.add(agents)
                self.waiting.discard(agents)

    # --- hooks ------------------------------------------------------------------------------
    def before_transmission(self, ctx: Context, t: float) -> None:
        self._admit(ctx, t)
        self._untreated(ctx, t)

    def _untreated(self, ctx: Context, t: float) -> None:
        """Severe cases ill at home without a bed may die of it (their course turns fatal)."""
        rate = self.spec.untreated_fatality
        if rate == 0 or len(self.waiting) == 0:
            return
        world = ctx.world
        waiting = self.waiting.members()
        state, flags = world.state[waiting], world.flags[waiting]
        ill = is_ill(state)
        at_risk = waiting[ill & ((flags & Flag.SEVERE) > 0) & ((flags & Flag.FATAL) == 0)]
        dt = ctx.scenario.dt
        dies = at_risk[self.rng.random(at_risk.size) < -np.expm1(-rate * dt)]
        world.flags[dies] |= Flag.FATAL

    def after_progression(self, ctx: Context, t: float, entered: dict[State, np.ndarray]) -> None:
        dead = entered.get(State.DEAD)
        if dead is not None and dead.size:
            ctx.count("new_deaths_waiting", dead[ctx.world.isolation[dead] == Isolation.WAITING])
        if self.env is not None:
            self._free_beds_on_time(entered)

    # --- the discrete-event engine: beds free at the exact time -------------------------------
    def start_processes(self, ctx: Context, env: Any) -> None:
        self.env, self.ctx = env, ctx

    def _in_bed(self, agents: np.ndarray) -> np.ndarray:
        """Those of ``agents`` in a designated or makeshift bed."""
        out: np.ndarray = agents[self.designated.mask[agents] | self.makeshift.mask[agents]]
        return out

    def _free_beds_on_time(self, entered: dict[State, np.ndarray]) -> None:
        """A case in a bed recovered or died (one agent at a time, at its exact time).

        The engine books the death or sets the discharge time right after this hook, so the
        bed is seen to at once, after that (a timeout of zero days).
        """
        for state in (State.RECOVERED, State.DEAD):
            agents = entered.get(state)
            if agents is not None and agents.size:
                for agent in self._in_bed(agents).tolist():
                    self.env.timeout(0.0, agent).callbacks.append(self._discharge_at_end)

    def _discharge_at_end(self, event: Any) -> None:
        """Wait for the case's discharge time (now, if it died), then free its bed."""
        agent, world, now = int(event.value), self.ctx.world, self.env.now
        until = float(world.isolation_until[agent])
        if world.isolation[agent] == Isolation.ISOLATED and now < until < np.inf:
            self.env.timeout(until - now, agent).callbacks.append(self._discharge)
            return
        self._discharge(event)

    def _discharge(self, event: Any) -> None:
        """The case leaves its bed now; the first waiting case by triage takes it."""
        agent, world, now = int(event.value), self.ctx.world, self.env.now
        if world.isolation[agent] == Isolation.ISOLATED and world.isolation_until[agent] <= now:
            world.end_isolation(np.array([agent]))
        if self.active(now):
            self._admit(self.ctx, now)

    def after_infection(
        self, ctx: Context, t: float, infectee: np.ndarray, infector: np.ndarray
    ) -> None:
        waiting = ctx.world.isolation[infector] == Isolation.WAITING
        if waiting.any():
            ctx.count("new_infections_waiting", infectee[waiting])

    def stocks(self, ctx: Context, day: int) -> dict[str, np.ndarray]:
        return {"n_waiting_bed": ctx.world.apart[:, Isolation.WAITING]}

    def end_day(self, ctx: Context, day: int) -> None:
        designated, makeshift = self.capacity(day + 1.0)  # beds open at the end of the day
        self._prune(ctx)
        waiting = self.waiting.members()
        ctx.record(
            "hospitals",
            hospital=self.name,
            beds=designated,
            occupied=len(self.designated),
            makeshift_beds=makeshift,
            makeshift_occupied=len(self.makeshift),
            waiting=int(waiting.size),
            waiting_severe=int(np.count_nonzero(ctx.world.flags[waiting] & Flag.SEVERE)),
        )
