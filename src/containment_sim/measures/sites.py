"""Centralised quarantine sites (集中隔离点): places, admission, and the facility layer.

- ``quarantine_site``: named sites, e.g. a hotel holding ~200 people with 40 staff (the
  Xianning report), each with ``capacity = min(rooms, staff x residents_per_staff)`` places
  (scaled with the population). Traced contacts of the site's region move in while it has
  room; a contact who finds it full waits in home quarantine up to ``admission_wait`` days and
  moves in first come first served as places free. Inside, people mix only in a small
  ``facility`` layer (rate ``facility_beta``).

The :class:`SiteRegistry` is the run's one list of sites and of who is in which, shared by the
site measures (which open sites) and tracing (which sends contacts to them).

In the vectorized engine places are counted at each step. In the discrete-event engine each
site's rooms are a SimPy ``Resource`` (:meth:`SiteRegistry.start_processes`): a contact takes a
room if one is free and nobody is waiting, or else waits at home in the site's queue, a room
request that gives up after ``admission_wait`` days; a resident is discharged at the exact end
of its quarantine, and the room passes at once to the first in the queue. People who leave
early (confirmed, dead) free their room at the next tick of the measures' clock.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
from pydantic import Field, NonNegativeFloat, NonNegativeInt, PositiveFloat, PositiveInt

from containment_sim.agentsets import AgentSet
from containment_sim.layers import ListSlots, Mixing
from containment_sim.measures.base import Context, Measure, Service, places, register
from containment_sim.report import Flow, Report, Series, SummaryKey, Table, table_column
from containment_sim.scenario import MeasureSpec, StrictModel
from containment_sim.world import Isolation, Source

if TYPE_CHECKING:
    import simpy
    from simpy.resources.resource import Request

__all__ = ["QuarantineSite", "QuarantineSiteSpec", "Site", "SiteRegistry"]

RESIDENTS_PER_STAFF = 5.0
"""A quarantine hotel held ~200 people with 40 staff (the Xianning report): 5 per staff."""


class SiteRegistry(Service):
    """The quarantine sites of a run and who is at each.

    Attributes:
        capacity: Places at each site (scaled with the population).
        region: Region of each site.
        names: Site names.
        site_of: Site of each agent currently in one (-1 otherwise).
        occupants: Everyone at a site (until the next :meth:`occupancy` notices who left).
    """

    def __init__(self, ctx: Context):
        super().__init__(ctx)
        self.names: list[str] = []
        self.region = np.empty(0, dtype=np.int64)
        self.capacity = np.empty(0, dtype=np.int64)
        self.site_of = np.full(ctx.population.size, -1, dtype=np.int32)
        self.occupants = AgentSet(ctx.population.size)
        self.window = np.empty((0, 2))
        self.wait = np.empty(0)
        self.queue = (np.empty(0, dtype=np.int64), np.empty(0), np.empty(0))
        self.admissions = np.zeros(0, dtype=np.int64)
        self.discharges = np.zeros(0, dtype=np.int64)
        self.admitted_listeners: list[Callable[[np.ndarray], None]] = []
        self.env: simpy.Environment | None = None
        self.rooms: list[simpy.Resource | None] = []
        self._held: dict[int, tuple[int, Request]] = {}
        self._queued: dict[int, list[Request]] = {}

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
        """People at each site now (after discharging those who left)."""
        inside = self.occupants.members()
        gone = self.ctx.world.isolation[inside] != Isolation.SITE
        left = inside[gone]
        if self._held:  # the discrete-event engine: their rooms are free again
            for agent in left.tolist():
                if agent in self._held:
                    self._leave(agent)
        self.discharges += np.bincount(self.site_of[left], minlength=len(self.names))
        self.site_of[left] = -1
        self.occupants.keep(~gone)
        return np.bincount(self.site_of[self.occupants.members()], minlength=len(self.names))

    def admit(self, agents: np.ndarray, t: float, until: np.ndarray) -> np.ndarray:
        """Admit agents to open sites of their home region while there is room.

        Returns:
            Mask of the agents admitted.
        """
        admitted = np.zeros(agents.size, dtype=bool)
        open_now = self.is_open(t)
        if not open_now.any() or agents.size == 0:
            return admitted
        if self.env is not None:
            return self._take_rooms(agents, t, until, open_now)
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
        self.occupants.add(chosen)
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
        if self.env is not None:
            for agent, end, days in zip(
                agents[queued].tolist(), until[queued].tolist(), patience[queued].tolist(),
                strict=True,
            ):  # fmt: skip
                self.env.process(self._wait(agent, end, days, open_now))
            return
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
        if self.env is not None:  # the queues are SimPy processes
            return np.empty(0, dtype=np.int64)
        agents, until, deadline = self._prune(t)
        if agents.size == 0:
            return agents
        admitted = self.admit(agents, t, until)
        self.queue = (agents[~admitted], until[~admitted], deadline[~admitted])
        out: np.ndarray = agents[admitted]
        return out

    def _prune(self, t: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Drop contacts whose wait is over or who are no longer in home quarantine."""
        agents, until, deadline = self.queue
        still = (deadline >= t) & (self.ctx.world.isolation[agents] == Isolation.HOME)
        self.queue = (agents[still], until[still], deadline[still])
        return self.queue

    def waiting(self, t: float) -> np.ndarray:
        """Contacts still waiting for a place at time ``t``, by home region."""
        if self.env is not None:
            queued = np.array(sorted(self._queued), dtype=np.int64)
            queued = queued[self.ctx.world.isolation[queued] == Isolation.HOME]
            return np.bincount(
                self.ctx.population.region[queued], minlength=self.ctx.population.n_regions
            )
        region = self.ctx.population.region[self._prune(t)[0]]
        return np.bincount(region, minlength=self.ctx.population.n_regions)

    # --- the discrete-event engine: rooms as SimPy resources ----------------------------------
    def start_processes(self, env: Any) -> None:
        """Each site's places become a SimPy ``Resource`` with that many rooms."""
        import simpy

        self.env = env
        self.rooms = [simpy.Resource(env, int(c)) if c > 0 else None for c in self.capacity]

    def _take_rooms(
        self, agents: np.ndarray, t: float, until: np.ndarray, open_now: np.ndarray
    ) -> np.ndarray:
        """Admit each agent to a free room of an open site of its region, if nobody waits."""
        self.occupancy()  # rooms of those who left are free again
        admitted = np.zeros(agents.size, dtype=bool)
        home = self.ctx.population.region[agents]
        for k, agent in enumerate(agents.tolist()):
            for site in np.flatnonzero(open_now & (self.region == home[k])).tolist():
                rooms = self.rooms[site]
                request = None if rooms is None else rooms.request()
                if request is not None and request.triggered:
                    self._held[agent] = (site, request)
                    self.site_of[agent] = site
                    self.admissions[site] += 1
                    admitted[k] = True
                    break
                if request is not None:
                    request.cancel()  # full, or others are waiting: not this one's turn
        chosen = agents[admitted]
        order = np.argsort(chosen)
        self.ctx.keep_apart(chosen[order], Isolation.SITE, t, until=until[admitted][order])
        self.occupants.add(chosen)
        self.ctx.count("new_site_admissions", chosen)
        assert self.env is not None
        for agent in chosen.tolist():
            self.env.process(self._stay(agent, self._held[agent][1]))
        return admitted

    def _stay(self, agent: int, request: Request) -> Generator[Any, Any, None]:
        """A resident holds its room until the exact end of its quarantine, then leaves."""
        env, world = self.env, self.ctx.world
        assert env is not None
        while True:
            held = self._held.get(agent)
            if held is None or held[1] is not request:
                return  # left early: the room was freed by occupancy()
            until = float(world.isolation_until[agent])
            if until > env.now:
                if until == np.inf:
                    return  # held until it leaves (seen by occupancy())
                yield env.timeout(until - env.now)
                continue
            if world.isolation[agent] == Isolation.SITE:
                world.end_isolation(np.array([agent]))
            self._leave(agent)
            return

    def _leave(self, agent: int) -> None:
        """Free an agent's room: the first in the site's queue takes it at once."""
        site, request = self._held.pop(agent)
        rooms = self.rooms[site]
        assert rooms is not None
        rooms.release(request)

    def _wait(
        self, agent: int, until: float, patience: float, open_now: np.ndarray
    ) -> Generator[Any, Any, None]:
        """A contact at home queues for a room of its region's open sites, up to ``patience``."""
        env = self.env
        assert env is not None
        region = self.ctx.population.region[agent]
        sites = np.flatnonzero(open_now & (self.region == region)).tolist()
        requests = [(site, rooms.request()) for site in sites if (rooms := self.rooms[site])]
        for old in self._queued.pop(agent, []):  # traced again: queued anew
            old.cancel()
        mine = [request for _, request in requests]
        self._queued[agent] = mine
        yield env.any_of([*mine, env.timeout(patience)])
        granted = [(site, request) for site, request in requests if request.triggered]
        for request in mine:
            request.cancel()
        current = self._queued.get(agent) is mine
        if current:
            del self._queued[agent]
        still_home = self.ctx.world.isolation[agent] == Isolation.HOME
        for k, (site, request) in enumerate(granted):
            if k > 0 or not current or not still_home:
                rooms = self.rooms[site]
                assert rooms is not None
                rooms.release(request)
        if granted and current and still_home:
            yield from self._move_in(agent, *granted[0], until)

    def _move_in(
        self, agent: int, site: int, request: Request, until: float
    ) -> Generator[Any, Any, None]:
        """A waiting contact takes the room it was given, now."""
        assert self.env is not None
        agents = np.array([agent])
        self._held[agent] = (site, request)
        self.site_of[agent] = site
        self.admissions[site] += 1
        self.ctx.keep_apart(agents, Isolation.SITE, self.env.now, until=np.array([until]))
        self.occupants.add(agents)
        self.ctx.count("new_site_admissions", agents)
        for listener in self.admitted_listeners:
            listener(agents)
        yield from self._stay(agent, request)


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
    references: ClassVar[dict[str, str]] = {"sites.region": "region"}
    sites: list[Site] = Field(min_length=1)
    facility_beta: NonNegativeFloat = 0.0
    admission_wait: NonNegativeFloat = 0.0


def _peak_occupancy(ts: Series, tables: Mapping[str, Table], final: Mapping[str, Any]) -> int:
    """The largest number of people at all the sites together at the end of a day."""
    if "sites" not in tables:
        return 0
    day = table_column(tables["sites"], "day")
    occupancy = np.bincount(day, weights=table_column(tables["sites"], "occupancy"))
    return int(occupancy.max()) if occupancy.size else 0


SITES = Report(
    "quarantine_site",
    flows=(Flow("new_site_admissions", "admissions to quarantine sites"),),
    summary=(SummaryKey("peak_site_occupancy", _peak_occupancy, "most people at the sites"),),
)
"""What quarantine sites report (their daily ``sites`` table too)."""


@register(QuarantineSiteSpec)
class QuarantineSite(Measure):
    """Sites open while the measure is active; residents mix only in the facility layer."""

    spec: QuarantineSiteSpec
    report = SITES

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
        self.mine = np.zeros(len(self.registry.names) + 1, dtype=bool)  # last: no site
        self.mine[self.index] = True

    def extra_layer_rates(self) -> dict[str, float]:
        return {f"facility:{self.name}": self.spec.facility_beta}

    def extra_layers(self, ctx: Context, t: float) -> list[Mixing]:
        if self.spec.facility_beta == 0:
            return []
        reg, world = self.registry, ctx.world
        self.mine = np.resize(self.mine, len(reg.names) + 1)
        inside = reg.occupants.members()
        kept = self.mine[reg.site_of[inside]] & (world.isolation[inside] == Isolation.SITE)
        inside = inside[kept]
        n = len(reg.names)
        size = np.bincount(reg.site_of[inside], minlength=n)

        def here(agents: np.ndarray) -> np.ndarray:
            site = reg.site_of[agents]
            ok = self.mine[site] & (world.isolation[agents] == Isolation.SITE)
            out: np.ndarray = ok.astype(np.float32)
            return out

        return [
            Mixing(
                key=f"facility:{self.name}",
                source=Source.FACILITY,
                beta=self.spec.facility_beta,
                group=reg.site_of,
                size=size,
                slots=ListSlots.of(inside, reg.site_of[inside], n),
                infectious_factor=here,
                susceptible_factor=here,
            )
        ]

    def end_day(self, ctx: Context, day: int) -> None:
        reg = self.registry
        occupancy = reg.occupancy()
        waiting = reg.waiting(day + 1.0)
        for k in self.index:
            if occupancy[k] > reg.capacity[k]:
                raise AssertionError("quarantine site above capacity")
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
