"""Travellers on the roads in the discrete-event engine: one SimPy process per journey.

A journey follows the roads of its route in order. On reaching a road the traveller gets
through with today's probability for that road (closures 封路 and suspended lines 停运 set it,
the same ``road_pass`` the vectorized engine applies to whole routes); a staffed checkpoint
(值守卡点) at the start of the road is a queue for its ``lanes`` (a SimPy ``Resource``); then
the road takes ``length_km / speed_kmh``.

Three kinds of journey:

- ``trip``: a day trip between regions, setting out at a uniform time within
  ``mobility.trip_hours``. The traveller mixes in the destination from arrival to the end of
  the day; a trip that would arrive after midnight (a long queue) is over without a visit.
  Blocked, turned back or detected, the traveller stays (or goes back) home.
- ``arrival``: a returnee from the epicentre, at the city boundary at its planned time. A
  returnee whose way home is closed does not come (``Movement.arriving``, one draw over the
  route's roads, shared with the vectorized engine); one turned back at the entry road's
  checkpoint does not come either.
  The returnee enters the city (and is infected with the epicentre's prevalence) on leaving
  the entry road's checkpoint, or at the boundary if there is none, and is welcomed by the
  measures (e.g. quarantine) on reaching home.
- ``departure``: a resident leaving the city for the day on an entry road; one still
  infectious on crossing the boundary is counted as an exported infection.

A traveller out of ``patience`` at a checkpoint turns back, drives on unchecked, or takes
another road (``on_timeout``: ``turn_back``, ``pass``, ``reroute``). A returnee already inside
the city cannot turn back: it drives on unchecked.
"""

from __future__ import annotations

from collections.abc import Generator
from random import Random
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy

from containment_sim.disease import sample
from containment_sim.measures.base import Crossing
from containment_sim.measures.external import Checkpoint

if TYPE_CHECKING:
    from containment_sim.engines.des import DESEngine

__all__ = ["Journeys"]

KINDS = ("trip", "arrival", "departure")
"""Journey kinds, in the order of the rows of ``Movement.flows``."""

Outcome = str
"""How a checkpoint visit ended: ``screened``, ``detected``, ``turned_back``,
``passed_unchecked`` or ``reroute``."""


class Journeys:
    """Starts and runs the journeys of a discrete-event run.

    Args:
        engine: The running discrete-event engine.
    """

    def __init__(self, engine: DESEngine):
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
        self.scale = engine.scenario.population.scale
        self.checkpoints: list[list[Checkpoint]] = [[] for _ in range(self.network.n_roads)]
        for m in engine.measures:
            if isinstance(m, Checkpoint):
                self.checkpoints[self.network.index(m.spec.road)].append(m)
        self.lanes: dict[str, simpy.Resource] = {
            m.name: simpy.Resource(self.env, capacity=m.spec.lanes)
            for m in engine.measures
            if isinstance(m, Checkpoint)
        }

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
    ) -> simpy.Process:
        """Start one journey along ``path`` (roads in order) at time ``depart``."""
        return self.env.process(self._journey(agent, kind, path, origin, destination, depart))

    def _departure_times(self, day: int, n: int) -> np.ndarray:
        lo, hi = self.window
        return day + lo + (hi - lo) * self.rng.random(n)

    # --- one journey -----------------------------------------------------------------------
    def _journey(
        self, agent: int, kind: str, path: tuple[int, ...], node: int, destination: int, at: float
    ) -> Generator[simpy.Event, Any, None]:
        env, engine = self.env, self.engine
        if at > env.now:
            yield env.timeout(at - env.now)
        crossing = _Traveller(agent, kind, at)
        roads, k, avoid = list(path), 0, set()
        while k < len(roads):
            road = roads[k]
            if kind != "arrival" and self.random() >= engine.movement.road_pass[road]:
                return  # the road is closed to this traveller: back home
            outcome = "screened"
            for checkpoint in self.checkpoints[road]:
                if checkpoint.active(env.now):
                    outcome = yield from self._checkpoint(checkpoint, crossing, node < 0)
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
                if kind == "arrival" and node < 0:
                    engine.movement.blocked(crossing.agents)
                return
            if kind == "arrival" and node < 0:
                self._enter(crossing)
            engine.movement.flows[KINDS.index(kind), road] += 1
            if crossing.stopped:
                return  # detected and isolated
            if self.length[road] > 0:
                yield env.timeout(self.length[road] / self.km_per_day)
            a, b = self.ends[road]
            node = b if node == a else a
            k += 1
        self._arrive(crossing, destination)

    def _enter(self, crossing: _Traveller) -> None:
        """A returnee comes into the city now (once, however many checkpoints it passes)."""
        engine = self.engine
        if engine.world.present[crossing.agent]:
            return
        crossing.at = self.env.now  # measures see the time the returnee came into the city
        engine.movement.enter(crossing.agents, np.array([self.env.now]))
        engine.launch(crossing.agent)

    def _arrive(self, crossing: _Traveller, destination: int) -> None:
        """The journey is over: the traveller is in the destination (or out of the city)."""
        engine, agent = self.engine, crossing.agent
        if crossing.kind == "trip":
            if int(self.env.now) == int(crossing.at):  # a trip arriving after midnight is over
                engine.visit(agent, destination)
        elif crossing.kind == "departure":
            engine.movement.export(crossing.agents)
        else:
            self._enter(crossing)
            t = self.env.now
            engine.movement.welcome(crossing.record(), t, t + 1e-9)

    # --- checkpoints ----------------------------------------------------------------------
    def _checkpoint(
        self, checkpoint: Checkpoint, crossing: _Traveller, outside: bool
    ) -> Generator[simpy.Event, Any, Outcome]:
        """One traveller at a checkpoint: queue for a lane, give up, or be checked.

        Service times and patience are in the full city's time; in a city simulated at
        ``population.scale`` s they are divided by s, so that the queue keeps the full city's
        load per lane (the same utilisation and share of travellers out of patience).
        """
        spec, env = checkpoint.spec, self.env
        arrival = env.now
        checkpoint.counts["travellers"] += 1
        if spec.capacity == 0 and spec.service_time is None:  # nobody staffs it: all pass
            return self._log(checkpoint, crossing, arrival, np.nan, "passed_unchecked")
        lanes = self.lanes[checkpoint.name]
        patience = spec.patience / self.scale if spec.patience else None
        with lanes.request() as request:
            got = yield (request | env.timeout(patience)) if patience else request
            if patience and request not in got:
                if spec.on_timeout == "pass" or (crossing.kind == "arrival" and not outside):
                    outcome = "passed_unchecked"  # a returnee inside the city cannot turn back
                else:
                    outcome = "turned_back" if spec.on_timeout == "turn_back" else "reroute"
                return self._log(checkpoint, crossing, arrival, np.nan, outcome)
            start = env.now
            if spec.service_time is not None:
                duration = float(sample(spec.service_time, checkpoint.rng, 1)[0]) / self.scale
            else:
                duration = spec.mean_service_time(self.scale)
            yield env.timeout(duration)
        if crossing.kind == "arrival" and outside:
            self._enter(crossing)
        detected, registered = checkpoint.screen(
            self.engine, env.now, crossing.agents, crossing.kind
        )
        crossing.stopped |= bool(detected[0])
        crossing.registered |= bool(registered[0])
        return self._log(
            checkpoint, crossing, arrival, start, "detected" if detected[0] else "screened"
        )

    def _log(
        self,
        checkpoint: Checkpoint,
        crossing: _Traveller,
        arrival: float,
        start: float,
        outcome: str,
    ) -> Outcome:
        if outcome in ("turned_back", "passed_unchecked", "reroute"):
            checkpoint.counts["unchecked"] += 1
        end = self.env.now
        self.engine.record(
            "checkpoint_log",
            checkpoint=checkpoint.name,
            kind=crossing.kind,
            agent=crossing.agent,
            arrival=arrival,
            start=start,
            end=end,
            wait=(start if start == start else end) - arrival,
            outcome=outcome,
        )
        return outcome


class _Traveller:
    """One traveller on its way: who, which kind of journey, and what checkpoints decided.

    ``at`` is when the journey set out, or, for a returnee who came in, when it entered the
    city (the time ``after_arrival`` measures judge, e.g. against a quarantine's start).
    """

    __slots__ = ("agent", "at", "kind", "registered", "stopped")

    def __init__(self, agent: int, kind: str, at: float):
        self.agent, self.kind, self.at = agent, kind, at
        self.stopped = self.registered = False

    @property
    def agents(self) -> np.ndarray:
        """The traveller as a one-agent index array (for the shared array code)."""
        return np.array([self.agent])

    def record(self) -> Crossing:
        """The measures' view of the completed crossing (for ``after_arrival``)."""
        crossing = Crossing(
            self.kind,
            self.agents,
            np.zeros(1, np.int64),
            np.zeros((1, 0), bool),
            np.array([self.at]),
        )
        crossing.stopped[0], crossing.registered[0] = self.stopped, self.registered
        return crossing
