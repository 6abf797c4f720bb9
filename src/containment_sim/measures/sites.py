"""Centralised quarantine sites (集中隔离点): places, admission, and the facility layer.

- ``quarantine_site``: named sites, e.g. a hotel holding ~200 people with 40 staff (the
  Xianning report), each with ``capacity = min(rooms, staff x residents_per_staff)`` places
  (scaled with the population). Traced contacts of the site's region move in while it has
  room; a contact who finds it full waits in home quarantine up to ``admission_wait`` days and
  moves in first come first served as places free. Inside, people mix only in a small
  ``facility`` layer (rate ``facility_beta``).

The :class:`SiteRegistry` is the run's one list of sites and of who is in which, shared by the
site measures (which open sites) and tracing (which sends contacts to them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field, NonNegativeFloat, NonNegativeInt, PositiveFloat, PositiveInt

from containment_sim.agentsets import AgentSet
from containment_sim.layers import ListSlots, Mixing
from containment_sim.measures.base import Context, Measure, Service, places, register
from containment_sim.report import Flow, Report, Series, SummaryKey, Table, table_column
from containment_sim.scenario import MeasureSpec, StrictModel
from containment_sim.world import Isolation, Source

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
        region = self.ctx.population.region[self._prune(t)[0]]
        return np.bincount(region, minlength=self.ctx.population.n_regions)


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
