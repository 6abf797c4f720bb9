"""Stopping spread inside (内防扩散): contact tracing and centralised quarantine sites.

- ``tracing`` (追踪密接): when a case is confirmed, a tracing team finds its close contacts:
  household members, its infector, the people it infected and a sample of its community,
  each found with a per-kind ``coverage``. Teams handle ``capacity`` index cases a day (the
  rest wait in a backlog, first come first served) and need ``delay`` to reach the contacts.
  A reached contact goes to a quarantine site while one in its region has room, otherwise
  home; quarantine lasts ``quarantine_days`` from the last exposure (the index case's
  isolation), with a test on entry and on exit; a contact who develops symptoms is tested at
  once.
- ``quarantine_site`` (集中隔离点): named sites with rooms and staff (capacity = min(rooms,
  staff x residents_per_staff)); inside, people mix only in a small ``facility`` layer.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field, NonNegativeFloat, NonNegativeInt, PositiveFloat, PositiveInt

from containment_sim.disease import sample
from containment_sim.measures.base import Context, Measure, Server, places, register
from containment_sim.measures.cases import CaseBook, ContactStatus, Priority
from containment_sim.scenario import (
    Distribution,
    Fraction,
    FractionSchedule,
    MeasureSpec,
    Schedule,
    StrictModel,
)
from containment_sim.transmission import Layer
from containment_sim.world import Isolation, Source, State

__all__ = [
    "QuarantineSite",
    "QuarantineSiteSpec",
    "SiteRegistry",
    "Tracing",
    "TracingSpec",
]

QUARANTINE_DAYS = 14.0
"""Medical observation of close contacts: 14 days from the last exposure (National Health
Commission of China, Protocol for Prevention and Control of COVID-19, 2020)."""

RESIDENTS_PER_STAFF = 5.0
"""A quarantine hotel held ~200 people with 40 staff (the Xianning report): 5 per staff."""


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


class SiteRegistry:
    """The quarantine sites of a run, shared by tracing and the site measures.

    Attributes:
        capacity: Places at each site (scaled with the population).
        region: Region of each site.
        names: Site names.
        site_of: Site of each agent currently in one (-1 otherwise).
    """

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.names: list[str] = []
        self.region = np.empty(0, dtype=np.int64)
        self.capacity = np.empty(0, dtype=np.int64)
        self.site_of = np.full(ctx.population.size, -1, dtype=np.int32)
        self.window = np.empty((0, 2))
        self.wait = np.empty(0)
        self.queue = (np.empty(0, dtype=np.int64), np.empty(0), np.empty(0))

    def add(
        self,
        names: list[str],
        regions: list[int],
        capacity: list[int],
        window: tuple[float, float],
        wait: float = 0.0,
    ) -> np.ndarray:
        """Register sites open during ``window`` = (start, end); returns their indices.

        ``wait`` is how long (days) a contact who finds them full may wait for a place.
        """
        first = len(self.names)
        self.names += names
        self.region = np.concatenate([self.region, regions]).astype(np.int64)
        self.capacity = np.concatenate([self.capacity, capacity]).astype(np.int64)
        self.window = np.concatenate([self.window, np.tile(window, (len(names), 1))])
        self.wait = np.concatenate([self.wait, np.full(len(names), wait)])
        self.admissions = np.zeros(len(self.names), dtype=np.int64)
        self.discharges = np.zeros(len(self.names), dtype=np.int64)
        return np.arange(first, len(self.names))

    def is_open(self, t: float) -> np.ndarray:
        """Mask of the sites taking people in at time ``t``."""
        return (self.window[:, 0] <= t) & (t < self.window[:, 1])

    def occupancy(self) -> np.ndarray:
        """People at each site now (after releasing those who left)."""
        world = self.ctx.world
        inside = np.flatnonzero(self.site_of >= 0)
        gone = inside[world.isolation[inside] != Isolation.SITE]
        self.discharges += np.bincount(self.site_of[gone], minlength=len(self.names))
        self.site_of[gone] = -1
        return np.bincount(self.site_of[self.site_of >= 0], minlength=len(self.names))

    def admit(self, agents: np.ndarray, t: float, until: np.ndarray) -> np.ndarray:
        """Admit agents to open sites of their home region while there is room.

        Returns:
            Mask of the agents admitted.
        """
        admitted = np.zeros(agents.size, dtype=bool)
        open_now = self.is_open(t)
        if not open_now.any() or agents.size == 0:
            return admitted
        room = self.capacity - self.occupancy()
        home = self.ctx.population.region[agents]
        for site in np.flatnonzero(open_now & (room > 0)):
            waiting = np.flatnonzero(~admitted & (home == self.region[site]))[: room[site]]
            admitted[waiting] = True
            self.site_of[agents[waiting]] = site
            self.admissions[site] += waiting.size
        chosen = agents[admitted]
        order = np.argsort(chosen)
        self.ctx.keep_apart(chosen[order], Isolation.SITE, t, until=until[admitted][order])
        self.ctx.count("new_site_admissions", chosen)
        return admitted

    def enqueue(self, agents: np.ndarray, t: float, until: np.ndarray) -> None:
        """Put contacts who found no place in the admission queue of their region's sites.

        A contact waits (in home quarantine) up to the longest ``wait`` of the open sites of
        its home region; contacts whose region has no such site are not queued.
        """
        open_now = self.is_open(t)
        if agents.size == 0 or not open_now.any():
            return
        wait = np.zeros(self.ctx.population.n_regions)
        np.maximum.at(wait, self.region[open_now], self.wait[open_now])
        patience = wait[self.ctx.population.region[agents]]
        queued = patience > 0
        again = np.isin(self.queue[0], agents[queued])  # traced again: queued anew
        self.queue = tuple(  # type: ignore[assignment]
            np.concatenate([old[~again], new])
            for old, new in zip(
                self.queue, (agents[queued], until[queued], t + patience[queued]), strict=True
            )
        )

    def admit_waiting(self, t: float) -> np.ndarray:
        """Admit queued contacts, first come first served, as places free up.

        Contacts leave the queue when admitted, when their wait is over, or when they are no
        longer in home quarantine (released, confirmed, dead). Returns the admitted.
        """
        agents, until, deadline = self._prune(t)
        if agents.size == 0:
            return agents
        admitted = self.admit(agents, t, until)
        self.queue = (agents[~admitted], until[~admitted], deadline[~admitted])
        return agents[admitted]

    def _prune(self, t: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Drop contacts whose wait is over or who are no longer in home quarantine."""
        agents, until, deadline = self.queue
        still = (deadline >= t) & (self.ctx.world.isolation[agents] == Isolation.HOME)
        self.queue = (agents[still], until[still], deadline[still])
        return self.queue

    def waiting(self, t: float) -> np.ndarray:
        """Contacts still waiting for a place at time ``t``, by home region."""
        region = self.ctx.population.region[self._prune(t)[0]]
        return np.bincount(region, minlength=self.ctx.population.n_regions)


@register(TracingSpec)
class Tracing(Measure):
    """Contact tracing teams working through confirmed cases (see the module docstring)."""

    spec: TracingSpec

    def setup(self, ctx: Context) -> None:
        self.rng = ctx.rng(f"tracing:{self.name}")
        self.cases = ctx.service(CaseBook)
        self.sites = ctx.service(SiteRegistry)
        self.cases.listeners.append(self._confirmed)
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
        moved = self.sites.admit_waiting(t)
        self.cases.contact[moved] = ContactStatus.SITE
        self.cases.site_overflow[moved] = False

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
        infectees = np.flatnonzero(np.isin(world.infector, index))
        order = np.argsort(index)
        owner = order[np.searchsorted(index[order], world.infector[infectees])]
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
        agents, first = np.unique(agents, return_index=True)
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
        cases.contact[agents[at_site]] = ContactStatus.SITE
        cases.contact[home] = ContactStatus.HOME
        cases.site_overflow[home] = self.sites.is_open(t).any()
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


class Site(StrictModel):
    """A quarantine site (隔离点), e.g. a hotel: its region, rooms and staff."""

    name: str
    region: str
    rooms: PositiveInt
    staff: NonNegativeInt
    residents_per_staff: PositiveFloat = RESIDENTS_PER_STAFF


class QuarantineSiteSpec(MeasureSpec):
    """Parameters of centralised quarantine sites (集中隔离点)."""

    type: Literal["quarantine_site"] = "quarantine_site"
    sites: list[Site] = Field(min_length=1)
    facility_beta: NonNegativeFloat = 0.0
    admission_wait: NonNegativeFloat = 0.0


@register(QuarantineSiteSpec)
class QuarantineSite(Measure):
    """Sites open while the measure is active; residents mix only in the facility layer."""

    spec: QuarantineSiteSpec

    def setup(self, ctx: Context) -> None:
        scale = ctx.scenario.population.scale
        names = ctx.scenario.region_names
        capacity = [
            places(min(s.rooms, s.staff * s.residents_per_staff) * scale) for s in self.spec.sites
        ]
        self.registry = ctx.service(SiteRegistry)
        regions = [names.index(s.region) for s in self.spec.sites]
        names_ = [s.name for s in self.spec.sites]
        self.index = self.registry.add(
            names_, regions, capacity, (self.start, self.end), self.spec.admission_wait
        )

    def extra_layer_rates(self) -> dict[str, float]:
        return {f"facility:{self.name}": self.spec.facility_beta}

    def extra_layers(self, ctx: Context, t: float) -> list[Layer]:
        if self.spec.facility_beta == 0:
            return []
        reg = self.registry
        inside = np.isin(reg.site_of, self.index) & (ctx.world.isolation == Isolation.SITE)
        group = np.where(inside, reg.site_of, len(reg.names)).astype(np.int64)
        size = np.bincount(group[inside], minlength=len(reg.names) + 1)
        return [
            Layer(
                Source.FACILITY,
                self.spec.facility_beta,
                group,
                size,
                inside.astype(np.float32),
                key=f"facility:{self.name}",
            )
        ]

    def end_day(self, ctx: Context, day: int) -> None:
        reg = self.registry
        occupancy = reg.occupancy()
        waiting = reg.waiting(day + 1.0)
        for k in self.index:
            assert occupancy[k] <= reg.capacity[k], "quarantine site above capacity"
            ctx.record(
                "sites",
                site=reg.names[k],
                capacity=int(reg.capacity[k]),
                occupancy=int(occupancy[k]),
                admissions=int(reg.admissions[k]),
                discharges=int(reg.discharges[k]),
                waiting=int(waiting[reg.region[k]]),
            )
        reg.admissions[self.index] = 0
        reg.discharges[self.index] = 0
