"""Travel: the day's trips on the roads, returnees arriving, residents leaving the city.

The decisions are shared by both engines: who travels and by which route, each road's pass
probability today, who arrives from the epicentre and infected or not, who is exported. The
vectorized engine also applies the crossings here, one draw per route; the discrete-event
engine sends each traveller along the roads of its route (:mod:`~containment_sim.engines.
journeys`) and comes back here when a returnee enters, is welcomed or is blocked.

Every crossing of a road goes through the active measures: first ``road_pass`` (closures and
suspended lines cut the probability of getting through each road), then ``cross`` (checkpoints
screen, stop and register people), then, for returnees, ``after_arrival`` (quarantine).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from containment_sim.epicentre import Epicentre, ReturneePlan
from containment_sim.measures.base import Crossing
from containment_sim.world import Isolation, State

if TYPE_CHECKING:
    from containment_sim.engines.context import EngineContext

__all__ = ["Travel"]


class Travel:
    """Draws and applies the day's trips, departures and the step's arrivals.

    Args:
        engine: The running engine (its world, population, recorder and measures).
    """

    def __init__(self, engine: EngineContext):
        self.engine = engine
        scenario = engine.scenario
        self.network = engine.network
        self.returnees = ReturneePlan.build(scenario, engine.population, engine.rng("returnees"))
        self.epicentre = Epicentre(scenario)
        self.rng_travel = engine.rng("travel")
        self.rng_import = engine.rng("importation")
        self.rng_departure = engine.rng("departure")
        n = self.network.n_roads
        self.n_regions = engine.population.n_regions
        self.road_pass = np.ones(n)
        self.flows = np.zeros((3, n), dtype=np.int64)  # trips, arrivals, departures today
        engine.world.present[self.returnees.agent] = False

    def may_travel(self, who: np.ndarray, t: float) -> np.ndarray:
        """Which of the would-be travellers ``who`` actually set out today.

        Those away, dead, isolated or at a quarantine site stay; people in home quarantine
        break it with probability ``1 - compliance``; measures may keep others home
        (``restrict_travel``).
        """
        world, engine = self.engine.world, self.engine
        free = world.present[who] & (world.state[who] != State.DEAD)
        status = world.isolation[who]
        free &= status < Isolation.SITE
        home = np.flatnonzero(status == Isolation.HOME)
        stays = self.rng_travel.random(home.size) < world.compliance[who[home]]
        free[home[stays]] = False
        for m in engine.active_measures(t, "restrict_travel"):
            m.restrict_travel(engine, t, who, free)
        out: np.ndarray = free
        return out

    def road_conditions(self, t: float) -> None:
        """Today's probability of getting through each road (closures, suspended lines)."""
        engine = self.engine
        self.road_pass = np.ones(self.network.n_roads)
        for m in engine.active_measures(t, "road_pass"):
            m.road_pass(engine, t, self.road_pass)
        self.flows[:] = 0

    def start_day(self, day: int) -> tuple[np.ndarray, np.ndarray]:
        """Today's road conditions, trips and departures; returns travellers and destinations."""
        t = day + 0.5  # daily decisions use the state of measures at midday
        self.road_conditions(t)
        who, route = self.trips(t, through_roads=True)
        crossing = self._screen(Crossing("trip", who, route, self.network.route_roads), t)
        ok = ~crossing.stopped
        who, route = who[ok], route[ok]
        self.flows[0] = self._road_counts(route, self.network.route_roads)
        self._departures(t)
        return who, self.network.route_destination[route]

    def trips(self, t: float, through_roads: bool) -> tuple[np.ndarray, np.ndarray]:
        """Today's travellers free to go and their routes.

        Args:
            t: Time of the decision.
            through_roads: Keep only those who get through every road of their route (the
                vectorized engine); otherwise the roads are left to the journeys.
        """
        road_pass = self.road_pass if through_roads else None
        who, route = self.network.draw_trips(self.rng_travel, self.engine.population, road_pass)
        go = self.may_travel(who, t)
        return who[go], route[go]

    def leavers(self, t: float, through_roads: bool) -> tuple[np.ndarray, np.ndarray]:
        """Residents leaving the city for the day today and their entry routes (reversed)."""
        net = self.network
        if net.outbound_daily.size == 0:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        pop, rng = self.engine.population, self.rng_departure
        starts, sizes = pop.region_start, pop.region_sizes()
        entry = np.repeat(np.arange(net.outbound_daily.size), rng.poisson(net.outbound_daily))
        region = net.region_of_entry[entry]
        who = starts[region] + (rng.random(entry.size) * sizes[region]).astype(np.int64)
        once = pop.once(who)
        who = who[once]
        route = entry[once] * self.n_regions + pop.region[who]
        keep = np.ones(who.size, dtype=bool)
        if through_roads:
            passing = net.route_pass(self.road_pass, net.entry_route_roads)[route]
            keep = rng.random(who.size) < passing
        keep[keep] = self.may_travel(who[keep], t)
        return who[keep], route[keep]

    def _departures(self, t: float) -> None:
        """Residents leaving the city on entry roads for the day; the infectious are exports."""
        net = self.network
        who, route = self.leavers(t, through_roads=True)
        if who.size == 0:
            return
        crossing = self._screen(Crossing("departure", who, route, net.entry_route_roads), t)
        who, route = crossing.agents[~crossing.stopped], crossing.route[~crossing.stopped]
        self.flows[2] += self._road_counts(route, net.entry_route_roads)
        self.export(who)

    def export(self, who: np.ndarray) -> None:
        """Count the infectious among residents who left the city as exported infections."""
        engine = self.engine
        state = engine.world.state[who]
        infectious = (state >= State.PRESYMPTOMATIC) & (state <= State.SYMPTOMATIC)
        engine.recorder.count(engine.day, "new_exported", engine.population.region[who[infectious]])

    def arriving(self, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Returnees due at the city boundary in ``[t0, t1)`` whose way home is open today.

        Each gets through the roads of its entry route with their product of today's pass
        probabilities (one draw); the others are counted as blocked and do not come.

        Returns:
            Agents, their times at the boundary, and their entry routes (-1 for all when the
            city has no entry roads).
        """
        plan, net = self.returnees, self.network
        pos = plan.arriving(t0, t1)
        agents, when = plan.agent[pos], plan.arrival[pos]
        if net.region_of_entry.size == 0:
            return agents, when, np.full(agents.size, -1, dtype=np.int64)
        route = plan.entry[pos] * self.n_regions + self.engine.population.region[agents]
        passing = net.route_pass(self.road_pass, net.entry_route_roads)[route]
        through = self.rng_import.random(agents.size) < passing
        self.blocked(agents[~through])
        return agents[through], when[through], route[through]

    def arrivals(self, t0: float, t1: float) -> np.ndarray:
        """Returnees arriving in ``[t0, t1)``: entry roads, infection, screening, quarantine.

        Returns:
            The returnees who entered the city.
        """
        net = self.network
        agents, when, route = self.arriving(t0, t1)
        if agents.size == 0:
            return agents
        routes = net.entry_route_roads
        if net.region_of_entry.size == 0:  # one route that uses no road
            routes = np.zeros((1, net.n_roads), dtype=bool)
            route = np.zeros(agents.size, dtype=np.int64)
        self.enter(agents, when)
        crossing = self._screen(Crossing("arrival", agents, route, routes, when), t0)
        self.flows[1] += self._road_counts(route, routes)
        self.welcome(crossing, t0, t1)
        return agents

    def blocked(self, agents: np.ndarray) -> None:
        """Count returnees who could not get into the city."""
        engine = self.engine
        engine.recorder.count(engine.day, "new_returnees_blocked", engine.population.region[agents])

    def enter(self, agents: np.ndarray, when: np.ndarray) -> None:
        """Returnees come into the city at times ``when``.

        Each is infected with the epicentre's prevalence at its time and joins its home's groups.
        """
        engine = self.engine
        pop, world, rec = engine.population, engine.world, engine.recorder
        world.present[agents] = True
        engine.join_mixing(agents)
        engine.away -= np.bincount(pop.region[agents], minlength=engine.away.size)
        rec.count(engine.day, "new_returnees", pop.region[agents])
        infected = self.rng_import.random(agents.size) < self.epicentre.prevalence(when)
        if infected.any():
            idx = agents[infected]
            growth = self.epicentre.growth(when[infected])
            engine.progression.infect_imported(world, idx, when[infected], growth)
            engine.imported(idx)
            rec.infections(engine.day, pop.region[idx], world.source[idx])

    def welcome(self, crossing: Crossing, t0: float, t1: float) -> None:
        """Measures act on returnees who came in (e.g. quarantine) during ``[t0, t1)``."""
        engine = self.engine
        for m in engine.measures:
            if m.start < t1 and t0 < m.end:  # in force for part of the step at least
                m.after_arrival(engine, t0, crossing)

    @staticmethod
    def _road_counts(route: np.ndarray, routes: np.ndarray) -> np.ndarray:
        """People on each road, from the routes they took."""
        out: np.ndarray = np.bincount(route, minlength=routes.shape[0]) @ routes
        return out

    def _screen(self, crossing: Crossing, t: float) -> Crossing:
        for m in self.engine.active_measures(t, "cross"):
            m.cross(self.engine, t, crossing)
        return crossing

    def record_roads(self, day: int) -> None:
        """Add today's flow on each road to the ``roads`` table."""
        for k, name in enumerate(self.network.names):
            self.engine.recorder.record(
                "roads",
                day,
                road=name,
                trips=int(self.flows[0, k]),
                arrivals=int(self.flows[1, k]),
                departures=int(self.flows[2, k]),
            )
