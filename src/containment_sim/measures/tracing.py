"""Contact tracing (流调, 追踪密接): finding and quarantining the close contacts of cases.

- ``tracing``: when a case is confirmed, a tracing team finds its close contacts:
  household members, its infector, the people it infected and a sample of its community,
  each found with a per-kind ``coverage``. Teams handle ``capacity`` index cases a day (the
  rest wait in a backlog, first come first served) and need ``delay`` to reach the contacts.
  A reached contact goes to a quarantine site while one in its region has room, otherwise
  home; quarantine lasts ``quarantine_days`` from the last exposure (the index case's
  isolation), with a test on entry and on exit; a contact who develops symptoms is tested at
  once. A contact tracing did not find is followed like anyone nobody traced.

Quarantine sites are in :mod:`~containment_sim.measures.sites`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
from pydantic import Field, NonNegativeInt, PositiveFloat

from containment_sim.arrays import distinct_first
from containment_sim.disease import sample
from containment_sim.measures.base import Context, Measure, Server, register
from containment_sim.measures.cases import CaseBook, ContactStatus, Priority
from containment_sim.measures.sites import SiteRegistry
from containment_sim.report import Flow, Report, Series, SummaryKey, Table, column
from containment_sim.scenario import (
    Distribution,
    Fraction,
    FractionSchedule,
    MeasureSpec,
    Schedule,
    StrictModel,
)
from containment_sim.world import Isolation, State

__all__ = ["Tracing", "TracingSpec"]

QUARANTINE_DAYS = 14.0
"""Medical observation of close contacts: 14 days from the last exposure (National Health
Commission of China, Protocol for Prevention and Control of COVID-19, 2020)."""


class Coverage(StrictModel):
    """Probability that tracing finds each kind of close contact."""

    household: Fraction = 1.0
    infector: Fraction = 1.0
    infectees: Fraction = 1.0
    community: Fraction = 1.0


class TracingSpec(MeasureSpec):
    """Parameters of contact tracing (流调, 追踪密接)."""

    type: Literal["tracing"] = "tracing"
    coverage: Coverage = Field(default_factory=Coverage)
    community_contacts: NonNegativeInt = 0
    delay: Distribution
    capacity: Schedule
    quarantine_days: PositiveFloat = QUARANTINE_DAYS
    home_compliance: FractionSchedule
    test_on_entry: bool = True
    test_on_exit: bool = True


def _traced(ts: Series, tables: Mapping[str, Table], final: Mapping[str, Any]) -> int:
    return int(column(ts, "new_contacts_traced").sum())


TRACED = Report(
    "tracing",
    flows=(Flow("new_contacts_traced", "close contacts traced", "cum_contacts_traced"),),
    summary=(SummaryKey("contacts_traced", _traced, "close contacts traced"),),
)
"""What tracing reports."""


@register(TracingSpec)
class Tracing(Measure):
    """Contact tracing teams working through confirmed cases (see the module docstring)."""

    spec: TracingSpec
    report = TRACED

    def setup(self, ctx: Context) -> None:
        self.rng = ctx.rng(f"tracing:{self.name}")
        self.cases = ctx.service(CaseBook)
        self.sites = ctx.service(SiteRegistry)
        self.cases.listeners.append(self._confirmed)
        self.sites.admitted_listeners.append(self._moved_in)
        self.backlog = np.empty(0, dtype=np.int64)
        self.backlog_time = np.empty(0)
        self.pending: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.exit_tests: list[tuple[np.ndarray, np.ndarray]] = []
        self.traced_today = 0
        self.scale = ctx.scenario.population.scale

    def _confirmed(self, ctx: Context, t: float, agents: np.ndarray) -> None:
        if self.active(t):
            self.backlog = np.concatenate([self.backlog, agents])
            self.backlog_time = np.concatenate([self.backlog_time, np.full(agents.size, t)])

    def start_day(self, ctx: Context, day: int) -> None:
        self.traced_today = 0

    def after_progression(self, ctx: Context, t: float, entered: dict[State, np.ndarray]) -> None:
        onset = entered.get(State.SYMPTOMATIC)
        if onset is not None and onset.size:
            watched = onset[self.cases.contact[onset] != ContactStatus.NONE]
            self.cases.request_tests(watched, Priority.SYMPTOMATIC, t)

    def before_transmission(self, ctx: Context, t: float) -> None:
        self.cases.end_observation()
        self._admit_waiting(t)
        self._reach_contacts(ctx, t)
        self._exit_tests(t)

    def _admit_waiting(self, t: float) -> None:
        """Contacts waiting at home for a site place move in as places free up."""
        self._moved_in(self.sites.admit_waiting(t))

    def _moved_in(self, moved: np.ndarray) -> None:
        """Contacts who waited at home are now at a site (discrete-event: as a room frees)."""
        self.cases.observe(moved, ContactStatus.SITE)
        self.cases.overflow.discard(moved)

    def servers(self) -> list[Server]:
        return [Server(f"tracing:{self.name}", self._rate, self._work_backlog)]

    def _rate(self, t: float) -> float:
        """Index cases the teams can work up per day at time ``t`` (scaled city)."""
        return self.level(self.spec.capacity, t) * self.scale

    def _work_backlog(self, ctx: Context, t: float, n: int) -> int:
        """Work up to ``n`` index cases of the backlog (first come, first served) now.

        Their close contacts are listed, to be reached after the delay. Returns the number of
        index cases worked.
        """
        if self.backlog.size == 0 or n == 0:
            return 0
        index, exposure = self.backlog[:n], self.backlog_time[:n]
        self.backlog, self.backlog_time = self.backlog[n:], self.backlog_time[n:]
        contacts, last_exposure, found = self._contacts_of(ctx, index, exposure)
        # a contact tracing did not find is followed like anyone nobody traced
        contacts, last_exposure = contacts[found], last_exposure[found]
        reach = t + sample(self.spec.delay, self.rng, contacts.size)
        self.pending.append((contacts, reach, last_exposure))
        return int(index.size)

    def _contacts_of(
        self, ctx: Context, index: np.ndarray, exposure: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Close contacts of index cases: who, when last exposed, and whether found."""
        cov, world, pop = self.spec.coverage, ctx.world, ctx.population
        listed: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

        def add(agents: np.ndarray, owner: np.ndarray, p: float) -> None:
            listed.append((agents, exposure[owner], self.rng.random(agents.size) < p))

        members, owner = _ranges(pop.household_start, pop.household[index])
        add(members, owner, cov.household)
        has_infector = world.infector[index] >= 0
        add(world.infector[index][has_infector], np.flatnonzero(has_infector), cov.infector)
        infectees, infector = ctx.infectees_of(index)
        order = np.argsort(index)
        owner = order[np.searchsorted(index[order], infector)]
        add(infectees, owner, cov.infectees)
        k = self.spec.community_contacts
        if k:
            lo = pop.community_start[pop.community[index]]
            size = pop.community_start[pop.community[index] + 1] - lo
            owner = np.repeat(np.arange(index.size), k)
            picks = lo[owner] + (self.rng.random(owner.size) * size[owner]).astype(np.int64)
            add(picks, owner, cov.community)
        agents, last, found = (np.concatenate(part) for part in zip(*listed, strict=True))
        not_index = ~np.isin(agents, index)
        return agents[not_index], last[not_index], found[not_index]

    def _reach_contacts(self, ctx: Context, t: float) -> None:
        if not self.pending:
            return
        agents, reach, last = (np.concatenate(p) for p in zip(*self.pending, strict=True))
        due = reach <= t
        self.pending = [(agents[~due], reach[~due], last[~due])] if (~due).any() else []
        agents, last = agents[due], last[due]
        agents, first = distinct_first(agents)
        last = last[first]
        world, cases = ctx.world, self.cases
        ok = (world.state[agents] != State.DEAD) & ~np.isfinite(cases.confirmed_time[agents])
        ok &= world.present[agents]  # returnees still away cannot be quarantined
        ok &= world.isolation[agents] < Isolation.SITE
        agents, last = agents[ok], last[ok]
        if agents.size == 0:
            return
        until = last + self.spec.quarantine_days
        at_site = self.sites.admit(agents, t, until)
        home = agents[~at_site]
        ctx.keep_apart(
            home,
            Isolation.HOME,
            t,
            until=until[~at_site],
            compliance=self.level(self.spec.home_compliance, t),
        )
        cases.observe(agents[at_site], ContactStatus.SITE)
        cases.observe(home, ContactStatus.HOME)
        cases.overflow.discard(agents[at_site])
        if self.sites.is_open(t).any():
            cases.overflow.add(home)
        else:
            cases.overflow.discard(home)
        self.sites.enqueue(home, t, until[~at_site])
        self.traced_today += agents.size
        ctx.count("new_contacts_traced", agents)
        if self.spec.test_on_entry:
            cases.request_tests(agents, Priority.CONTACT, t)
        if self.spec.test_on_exit:
            self.exit_tests.append((agents, until))

    def _exit_tests(self, t: float) -> None:
        if not self.exit_tests:
            return
        agents, when = (np.concatenate(p) for p in zip(*self.exit_tests, strict=True))
        due = when <= t
        self.exit_tests = [(agents[~due], when[~due])] if (~due).any() else []
        self.cases.request_tests(agents[due], Priority.CONTACT, t)

    def end_day(self, ctx: Context, day: int) -> None:
        ctx.record(
            "tracing",
            tracing=self.name,
            backlog=int(self.backlog.size),
            contacts_reached=self.traced_today,
            contacts_pending=sum(p[0].size for p in self.pending),
        )


def _ranges(start: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All members of each group (contiguous agent ranges) and the position of their group."""
    lo, hi = start[groups], start[groups + 1]
    size = hi - lo
    owner = np.repeat(np.arange(groups.size), size)
    offset = np.arange(owner.size) - np.repeat(np.cumsum(size) - size, size)
    return lo[owner] + offset, owner
