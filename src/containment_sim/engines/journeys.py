"""Travellers on the roads in the discrete-event engine.

A journey follows the roads of its route in order. On reaching a road the traveller gets
through with today's probability for that road (closures 封路 and suspended lines 停运 set it,
the same ``road_pass`` the vectorized engine applies to whole routes); measures that stop
travellers on that road (:meth:`~containment_sim.measures.base.Measure.stop`, e.g. a
checkpoint's lanes) have their say; then the road takes ``length_km / speed_kmh``.

Three kinds of journey:

- ``trip``: a day trip between regions, setting out at a uniform time within
  ``mobility.trip_hours``. The traveller mixes in the destination from arrival to the end of
  the day; a trip that would arrive after midnight (a long queue) is over without a visit.
  Blocked, turned back or detected, the traveller stays (or goes back) home.
- ``arrival``: a returnee from the epicentre, at the city boundary at its planned time. A
  returnee whose way home is closed does not come (``Travel.arriving``, one draw over the
  route's roads, shared with the vectorized engine); one turned back at the entry road's
  checkpoint does not come either. The returnee enters the city (and is infected with the
  epicentre's prevalence) on leaving the entry road's stop, or at the boundary if there is
  none, and is welcomed by the measures (e.g. quarantine) on reaching home.
- ``departure``: a resident leaving the city for the day on an entry road; one still
  infectious on crossing the boundary is counted as an exported infection.

A journey with no stop on its route needs no process: the roads' pass draws are made as it
sets out and its end (and a returnee's entry) are single timed events. The others are SimPy
processes. A traveller told to ``reroute`` takes the shortest way that avoids the road.
"""

from __future__ import annotations

from collections.abc import Generator
from random import Random
from typing import TYPE_CHECKING, Any, Protocol, cast

import numpy as np
import simpy
from simpy.events import Timeout

from containment_sim.measures.base import Context, Measure, Traveller

if TYPE_CHECKING:
    from containment_sim.engines.travel import Travel

__all__ = ["Journeys", "Roadside"]

KINDS = ("trip", "arrival", "departure")
"""Journey kinds, in the order of the rows of ``Travel.flows``."""


class Roadside(Context, Protocol):
    """What journeys need from the engine running them: the narrow travel interface.

    Besides the measures' context (the stops on a road act through it): the SimPy
    environment, the measures of the run, the day's travel decisions shared with the
    vectorized engine (road pass probabilities, entering, welcoming, blocking and exporting
    people), and two things only the discrete-event engine does: a day-tripper reaching its
    destination (``visit``) and the course of a returnee infected on entering (``launch``).
    """

    env: simpy.Environment
    measures: list[Measure]
    travel: Travel

    def visit(self, agent: int, region: int) -> None:
        """A day-tripper reaches ``region`` and mixes there until the end of the day."""
        ...

    def launch(self, agent: int) -> None:
        """Start the course of an agent infected on entering the city."""
        ...


class Journeys:
    """Starts and runs the journeys of a discrete-event run.

    Args:
        engine: The running discrete-event engine, seen through :class:`Roadside`.
    """

    def __init__(self, engine: Roadside):
        self.engine = engine
        self.env = engine.env
        self.network = engine.network
        mobility = engine.scenario.mobility
        self.km_per_day = mobility.speed_kmh * 24.0
        self.window = (mobility.trip_hours[0] / 24.0, mobility.trip_hours[1] / 24.0)
        self.length: list[float] = self.network.length_km.tolist()
        self.ends: list[list[int]] = self.network.ends.tolist()
        self.rng = engine.rng("journeys")
        self.random = Random(int(self.rng.integers(2**63))).random
        self.stops: list[list[Measure]] = [[] for _ in range(self.network.n_roads)]

    def setup(self) -> None:
        """Find the measures that stop travellers on each road (after the measures' setup)."""
        for m in self.engine.measures:
            if type(m).stop is not Measure.stop:
                for road in m.roads_checked():
                    self.stops[road].append(m)

    # --- starting journeys -----------------------------------------------------------------
    def trips(self, day: int, who: np.ndarray, route: np.ndarray) -> None:
        """Start today's trips (``route``: rows of the network's trip routes)."""
        net = self.network
        depart = self._departure_times(day, who.size)
        for agent, r, at in zip(who.tolist(), route.tolist(), depart.tolist(), strict=True):
            origin, destination = int(net.route_origin[r]), int(net.route_destination[r])
            self.travel(agent, "trip", net.route_path[r], origin, destination, at)

    def departures(self, day: int, who: np.ndarray, route: np.ndarray) -> None:
        """Start today's departures of residents leaving on an entry road."""
        net, home = self.network, self.engine.population.region
        depart = self._departure_times(day, who.size)
        for agent, r, at in zip(who.tolist(), route.tolist(), depart.tolist(), strict=True):
            path = net.entry_route_path[r][::-1]  # from home out to the boundary
            self.travel(agent, "departure", path, int(home[agent]), -1, at)

    def arrivals(self, agents: np.ndarray, when: np.ndarray, route: np.ndarray) -> None:
        """Start the journeys of returnees due at the city boundary at times ``when``."""
        net, home = self.network, self.engine.population.region
        for agent, r, at in zip(agents.tolist(), route.tolist(), when.tolist(), strict=True):
            path = net.entry_route_path[r] if r >= 0 else ()
            self.travel(agent, "arrival", path, -1, int(home[agent]), at)

    def travel(
        self,
        agent: int,
        kind: str,
        path: tuple[int, ...],
        origin: int,
        destination: int,
        depart: float,
    ) -> None:
        """Start one journey along ``path`` (roads in order) at time ``depart``."""
        if any(self.stops[road] for road in path):
            self.env.process(self._journey(agent, kind, path, origin, destination, depart))
            return
        start = Timeout(self.env, max(depart - self.env.now, 0.0), (agent, kind, path, destination))
        start.callbacks.append(self._set_out)

    def _departure_times(self, day: int, n: int) -> np.ndarray:
        lo, hi = self.window
        return day + lo + (hi - lo) * self.rng.random(n)

    # --- a journey without stops: timed events only -------------------------------------------
    def _set_out(self, event: simpy.Event) -> None:
        """Roads drawn as the traveller sets out; its entry and arrival are single events."""
        start = cast(tuple[int, str, tuple[int, ...], int], event.value)
        agent, kind, path, destination = start
        engine, env, flows = self.engine, self.env, self.engine.travel.flows
        row, hours = KINDS.index(kind), 0.0
        traveller = Traveller(agent, kind, env.now, lambda: None)
        traveller.enter = lambda: self._enter(traveller)
        if kind == "arrival":
            self._enter(traveller)
        for road in path:
            if kind != "arrival" and self.random() >= engine.travel.road_pass[road]:
                return  # the road is closed to this traveller: back home
            flows[row, road] += 1
            hours += self.length[road] / self.km_per_day
        end = Timeout(env, hours, (traveller, destination))
        end.callbacks.append(self._arrive_event)

    def _arrive_event(self, event: simpy.Event) -> None:
        self._arrive(*cast(tuple[Traveller, int], event.value))

    # --- a journey with stops: a SimPy process --------------------------------------------
    def _journey(
        self, agent: int, kind: str, path: tuple[int, ...], node: int, destination: int, at: float
    ) -> Generator[simpy.Event, Any, None]:
        env, engine = self.env, self.engine
        if at > env.now:
            yield env.timeout(at - env.now)
        traveller = Traveller(agent, kind, at, lambda: None)
        traveller.enter = lambda: self._enter(traveller)
        roads, k, avoid = list(path), 0, set()
        while k < len(roads):
            road = roads[k]
            if kind != "arrival" and self.random() >= engine.travel.road_pass[road]:
                return  # the road is closed to this traveller: back home
            outcome = "screened"
            for stop in self.stops[road]:
                if stop.active(env.now):
                    outcome = yield from stop.stop(engine, env, traveller)
                    if outcome != "screened":
                        break
            if outcome == "reroute":
                avoid.add(road)
                detour = (
                    self.network.detour(node, destination, avoid)
                    if node >= 0 and destination >= 0
                    else None
                )
                if detour is not None:
                    roads, k = detour, 0
                    continue
                outcome = "turned_back"
            if outcome == "turned_back":
                if kind == "arrival" and traveller.outside:
                    engine.travel.blocked(traveller.agents)
                return
            if kind == "arrival" and traveller.outside:
                self._enter(traveller)
            engine.travel.flows[KINDS.index(kind), road] += 1
            if traveller.stopped:
                return  # detected and isolated
            if self.length[road] > 0:
                yield env.timeout(self.length[road] / self.km_per_day)
            a, b = self.ends[road]
            node = b if node == a else a
            k += 1
        self._arrive(traveller, destination)

    # --- ends of journeys -----------------------------------------------------------------
    def _enter(self, traveller: Traveller) -> None:
        """A returnee comes into the city now (once, however many stops it passes)."""
        engine = self.engine
        if not traveller.outside:
            return
        traveller.outside = False
        traveller.at = self.env.now  # measures see the time the returnee came into the city
        engine.travel.enter(traveller.agents, np.array([self.env.now]))
        engine.launch(traveller.agent)

    def _arrive(self, traveller: Traveller, destination: int) -> None:
        """The journey is over: the traveller is in the destination (or out of the city)."""
        engine, agent = self.engine, traveller.agent
        if traveller.kind == "trip":
            if int(self.env.now) == int(traveller.at):  # a trip arriving after midnight is over
                engine.visit(agent, destination)
        elif traveller.kind == "departure":
            engine.travel.export(traveller.agents)
        else:
            self._enter(traveller)
            t = self.env.now
            engine.travel.welcome(traveller.record(), t, t + 1e-9)
