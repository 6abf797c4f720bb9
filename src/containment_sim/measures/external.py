"""外防输入 — keep infection out: road closures, suspended lines, checkpoints, returnee quarantine.

- ``road_closure`` (封路): named roads, or every road of a region (entry roads included), are
  closed for a time window; a ``leakage`` share of trips still gets through.
- ``line_suspension`` (停运班线客运): passenger lines of the given modes (coach, rail, bus)
  stop; each road loses the share of its trips that travel by those modes.
- ``checkpoint`` (值守卡点): staff on a road screen up to ``capacity`` people a day; a
  symptomatic traveller with fever (``fever_fraction``) is detected with probability
  ``sensitivity * diligence``, isolated and tested as a suspected case (confirmed if
  positive, then traced like any case); returnees screened on arrival are registered with
  probability ``diligence``. People beyond the day's capacity pass unchecked.
- ``returnee_quarantine`` (返乡人员居家隔离): registered returnees (by a checkpoint, or by
  their community with probability ``coverage``) stay home for ``days`` days with a compliance
  level that household-level monitoring (三包一) can raise over time.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field, NonNegativeFloat, PositiveFloat, PositiveInt, model_validator

from containment_sim.measures.base import Context, Crossing, Measure, random_round, register
from containment_sim.measures.cases import CaseBook, Priority
from containment_sim.scenario import Distribution, Fraction, FractionSchedule, MeasureSpec
from containment_sim.world import Isolation, State

__all__ = [
    "Checkpoint",
    "CheckpointSpec",
    "LineSuspension",
    "LineSuspensionSpec",
    "ReturneeQuarantine",
    "ReturneeQuarantineSpec",
    "RoadClosure",
    "RoadClosureSpec",
]

COUNTS = ("travellers", "screened", "screened_symptomatic", "detected", "registered", "unchecked")
"""Daily counts of a checkpoint, the columns of the ``checkpoints`` table."""

FEVER_FRACTION = 0.438
"""Share of symptomatic COVID-19 patients with fever at presentation: 43.8 % on admission
(Guan WJ et al., NEJM 2020; 1,099 patients)."""


def _roads_of(ctx: Context, roads: list[str], regions: list[str]) -> np.ndarray:
    """Indices of the named roads plus every road touching the named regions."""
    net = ctx.network
    chosen = {net.index(name) for name in roads}
    for region in regions:
        chosen.update(net.roads_of_region(ctx.scenario.region_names.index(region)).tolist())
    return np.array(sorted(chosen), dtype=np.int64)


class RoadClosureSpec(MeasureSpec):
    """Parameters of a road closure (封路)."""

    type: Literal["road_closure"] = "road_closure"
    roads: list[str] = Field(default_factory=list)
    regions: list[str] = Field(default_factory=list)
    leakage: Fraction = 0.0

    @model_validator(mode="after")
    def _something_closed(self) -> RoadClosureSpec:
        if not self.roads and not self.regions:
            raise ValueError("name the roads or regions to close (roads: [...] or regions: [...])")
        return self


@register(RoadClosureSpec)
class RoadClosure(Measure):
    """Closed roads (封路): only ``leakage`` of the trips that would use them get through."""

    spec: RoadClosureSpec

    def setup(self, ctx: Context) -> None:
        self.roads = _roads_of(ctx, self.spec.roads, self.spec.regions)

    def road_pass(self, ctx: Context, t: float, road_pass: np.ndarray) -> None:
        road_pass[self.roads] *= self.spec.leakage


class LineSuspensionSpec(MeasureSpec):
    """Parameters of a suspension of passenger lines (停运班线客运)."""

    type: Literal["line_suspension"] = "line_suspension"
    modes: list[str] = Field(min_length=1)
    roads: list[str] = Field(default_factory=list)
    regions: list[str] = Field(default_factory=list)


class _Suspended:
    """Which (road, mode) lines are suspended today, shared by all line suspensions."""

    def __init__(self, ctx: Context):
        self.day = -1.0
        self.off = np.zeros((ctx.network.n_roads, len(ctx.network.modes)), dtype=bool)


@register(LineSuspensionSpec)
class LineSuspension(Measure):
    """Suspended lines: roads lose their trips by the suspended modes (all roads if none named).

    Two suspensions of the same mode on a road remove its share once.
    """

    spec: LineSuspensionSpec

    def setup(self, ctx: Context) -> None:
        net = ctx.network
        if self.spec.roads or self.spec.regions:
            self.roads = _roads_of(ctx, self.spec.roads, self.spec.regions)
        else:
            self.roads = np.arange(net.n_roads)
        names = list(net.modes)
        self.modes = [names.index(m) for m in self.spec.modes]
        self.share = np.stack([net.modes[m] for m in names], axis=1) if names else np.zeros((0, 0))
        self.suspended = ctx.service(_Suspended)

    def road_pass(self, ctx: Context, t: float, road_pass: np.ndarray) -> None:
        book = self.suspended
        if book.day != t:
            book.day, book.off[:] = t, False
        before = (self.share * book.off).sum(axis=1)
        rows = self.roads[:, None]
        book.off[rows, self.modes] = True
        after = (self.share * book.off).sum(axis=1)
        keep = np.clip(1.0 - after, 0.0, 1.0) / np.clip(1.0 - before, 1e-12, 1.0)
        road_pass[self.roads] *= keep[self.roads]


class CheckpointSpec(MeasureSpec):
    """Parameters of a checkpoint (值守卡点) on a road or entry road."""

    type: Literal["checkpoint"] = "checkpoint"
    road: str
    capacity: NonNegativeFloat
    sensitivity: Fraction
    fever_fraction: Fraction = FEVER_FRACTION
    diligence: FractionSchedule = 1.0
    lanes: PositiveInt = 1
    service_time: Distribution | None = None
    patience: PositiveFloat | None = None
    on_timeout: Literal["turn_back", "pass", "reroute"] = "turn_back"

    def mean_service_time(self, scale: float = 1.0) -> float:
        """Days one check takes in a lane of a population simulated at ``scale``.

        ``service_time``'s mean, or ``lanes / capacity``; divided by ``scale`` so that a scaled
        city, with fewer travellers, keeps the same queueing regime (``inf`` if no capacity).
        """
        if self.service_time is not None:
            return self.service_time.mean / scale
        return self.lanes / (self.capacity * scale) if self.capacity > 0 else float("inf")


@register(CheckpointSpec)
class Checkpoint(Measure):
    """A staffed checkpoint (值守卡点) screening everyone whose route uses its road.

    In the vectorized engine, ``capacity`` is checks per day at full scale (scaled with the
    population); screening order within a day is random and people beyond the capacity pass
    unchecked. In the discrete-event engine, every traveller reaching the checkpoint's road
    (trips, returnees, residents leaving) queues for one of its ``lanes`` (a SimPy resource,
    see :mod:`~containment_sim.engines.journeys`); a check takes ``service_time`` (default
    ``lanes / capacity`` days, the same throughput); a traveller who has waited ``patience``
    days turns back, drives on unchecked or takes another road (``on_timeout``). Either way a
    screened person is judged by :meth:`screen`.
    """

    spec: CheckpointSpec

    def setup(self, ctx: Context) -> None:
        self.road = ctx.network.index(self.spec.road)
        self.rng = ctx.rng(f"checkpoint:{self.name}")
        self.capacity = self.spec.capacity * ctx.scenario.population.scale
        self.left = 0
        self.counts = dict.fromkeys(COUNTS, 0)

    def start_day(self, ctx: Context, day: int) -> None:
        self.left = random_round(self.rng, self.capacity)
        self.counts = dict.fromkeys(self.counts, 0)

    def cross(self, ctx: Context, t: float, crossing: Crossing) -> None:
        here = np.flatnonzero(crossing.on_road(self.road) & ~crossing.stopped)
        if here.size == 0:
            return
        here = self.rng.permutation(here)
        n = min(here.size, self.left)
        screened, self.left = here[:n], self.left - n
        detected, registered = self.screen(ctx, t, crossing.agents[screened], crossing.kind)
        crossing.stopped[screened[detected]] = True
        crossing.registered[screened[registered]] = True
        self.counts["travellers"] += here.size
        self.counts["unchecked"] += here.size - n

    def screen(
        self, ctx: Context, t: float, agents: np.ndarray, kind: str
    ) -> tuple[np.ndarray, np.ndarray]:
        """Check people: detect febrile symptomatic ones, register arrivals.

        A person with symptoms (infectious or no longer: I or C) is detected with probability
        ``fever_fraction * sensitivity * diligence``, isolated and sent for a test as a
        suspected case (a lab, if the strategy has one, confirms the positive; confirmation
        starts tracing). An arriving returnee is registered with probability ``diligence``.

        Returns:
            Masks of the detected and of the registered.
        """
        n = agents.size
        diligence = self.level(self.spec.diligence, t)
        state = ctx.world.state[agents]
        sick = (state == State.SYMPTOMATIC) | (state == State.ILL)  # ill, infectious or not
        p = self.spec.fever_fraction * self.spec.sensitivity * diligence
        detected = sick & (self.rng.random(n) < p)
        if detected.any():
            found = np.sort(agents[detected])
            ctx.keep_apart(found, Isolation.ISOLATED, t)
            ctx.service(CaseBook).request_tests(found, Priority.SYMPTOMATIC, t, suspected=True)
        registered = np.zeros(n, dtype=bool)
        if kind == "arrival":
            registered = self.rng.random(n) < diligence
        c = self.counts
        c["screened"] += n
        c["screened_symptomatic"] += int(sick.sum())
        c["detected"] += int(detected.sum())
        c["registered"] += int(registered.sum())
        return detected, registered

    def end_day(self, ctx: Context, day: int) -> None:
        ctx.record(
            "checkpoints",
            checkpoint=self.name,
            road=self.spec.road,
            capacity=round(self.capacity),
            **self.counts,
        )


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
