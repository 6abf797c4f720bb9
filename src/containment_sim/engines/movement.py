"""Movement in the vectorized engine: trips on roads, returnees arriving, residents leaving.

Every crossing of a road goes through the active measures: first ``road_pass`` (closures and
suspended lines cut the probability of getting through each road), then ``cross`` (checkpoints
screen, stop and register people), then, for returnees, ``after_arrival`` (quarantine).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from containment_sim.measures.base import Crossing
from containment_sim.mobility import ReturneePlan, prevalence_curve, prevalence_growth
from containment_sim.world import Isolation, State

if TYPE_CHECKING:
    from containment_sim.engines.vectorized import VectorizedEngine

__all__ = ["Movement"]


class Movement:
    """Draws and applies the day's trips, departures and the step's arrivals.

    Args:
        engine: The running engine (its world, population, recorder and measures).
    """

    def __init__(self, engine: VectorizedEngine):
        self.engine = engine
        scenario = engine.scenario
        self.network = engine.network
        self.returnees = ReturneePlan.build(scenario, engine.population, engine.rng("returnees"))
        self.rng_travel = engine.rng("travel")
        self.rng_import = engine.rng("importation")
        self.rng_departure = engine.rng("departure")
        n = self.network.n_roads
        self.entry_routes = np.zeros((max(self.network.region_of_entry.size, 1), n), dtype=bool)
        for k in range(self.network.region_of_entry.size):
            self.entry_routes[k, self.network.first_entry + k] = True
        self.road_pass = np.ones(n)
        self.flows = np.zeros((3, n), dtype=np.int64)  # trips, arrivals, departures today
        engine.world.present[self.returnees.agent] = False

    def can_travel(self) -> np.ndarray:
        """Mask of agents free to travel today.

        Free are those in the city, alive and not isolated; people in home quarantine break it
        with probability ``1 - compliance``.
        """
        world = self.engine.world
        free = world.present & (world.state != State.DEAD)
        if world.n_kept_apart:
            home = world.isolation == Isolation.HOME
            breaks = self.rng_travel.random(int(home.sum())) >= world.compliance[home]
            free[np.flatnonzero(home)[~breaks]] = False
            free[world.isolation == Isolation.ISOLATED] = False
        return free

    def start_day(self, day: int) -> tuple[np.ndarray, np.ndarray]:
        """Today's road conditions, trips and departures; returns travellers and destinations."""
        engine = self.engine
        t = day + 0.5  # daily decisions use the state of measures at midday
        self.road_pass = np.ones(self.network.n_roads)
        for m in engine.active_measures(t):
            m.road_pass(engine, t, self.road_pass)
        self.flows[:] = 0
        free = self.can_travel()
        who, route = self.network.draw_trips(
            self.rng_travel, engine.population, free, self.road_pass
        )
        crossing = self._screen(Crossing("trip", who, route, self.network.route_roads), t)
        ok = ~crossing.stopped
        who, route = who[ok], route[ok]
        self.flows[0] = (
            np.bincount(route, minlength=self.network.route_daily.size) @ self.network.route_roads
        )
        self._departures(t, free)
        return who, self.network.route_destination[route]

    def _departures(self, t: float, free: np.ndarray) -> None:
        """Residents leaving the city on entry roads for the day; the infectious are exports."""
        net, engine = self.network, self.engine
        if net.outbound_daily.size == 0:
            return
        pop = engine.population
        sizes = pop.region_sizes()
        starts = np.concatenate([[0], np.cumsum(sizes)])
        gate = self.road_pass[net.first_entry :]
        counts = self.rng_departure.poisson(net.outbound_daily * gate)
        entry = np.repeat(np.arange(counts.size), counts)
        region = net.region_of_entry[entry]
        who = starts[region] + (self.rng_departure.random(entry.size) * sizes[region]).astype(
            np.int64
        )
        who, first = np.unique(who, return_index=True)
        entry = entry[first]
        keep = free[who]
        who, entry = who[keep], entry[keep]
        crossing = self._screen(Crossing("departure", who, entry, self.entry_routes), t)
        who, entry = who[~crossing.stopped], entry[~crossing.stopped]
        self.flows[2, net.first_entry :] += np.bincount(entry, minlength=counts.size)
        state = engine.world.state[who]
        infectious = (state >= State.PRESYMPTOMATIC) & (state <= State.SYMPTOMATIC)
        engine.recorder.count(engine.day, "new_exported", pop.region[who[infectious]])

    def arrivals(self, t0: float, t1: float) -> np.ndarray:
        """Returnees arriving in ``[t0, t1)``: entry roads, infection, screening, quarantine.

        Returns:
            The returnees who entered the city.
        """
        engine, plan = self.engine, self.returnees
        pos = plan.arriving(t0, t1)
        if pos.size == 0:
            return pos
        agents, when, entry = plan.agent[pos], plan.arrival[pos], plan.entry[pos]
        pop, world, rec = engine.population, engine.world, engine.recorder
        if self.network.region_of_entry.size:
            through = (
                self.rng_import.random(agents.size)
                < self.road_pass[self.network.first_entry + entry]
            )
            rec.count(engine.day, "new_returnees_blocked", pop.region[agents[~through]])
            agents, when, entry = agents[through], when[through], entry[through]
        world.present[agents] = True
        engine.join_mixing(agents)
        rec.count(engine.day, "new_returnees", pop.region[agents])
        infected = self.rng_import.random(agents.size) < prevalence_curve(engine.scenario, when)
        if infected.any():
            idx = agents[infected]
            engine.progression.infect_imported(
                world, idx, when[infected], prevalence_growth(engine.scenario, when[infected])
            )
            rec.infections(engine.day, pop.region[idx], world.source[idx])
        crossing = self._screen(Crossing("arrival", agents, entry, self.entry_routes), t0)
        if self.network.region_of_entry.size:
            self.flows[1, self.network.first_entry :] += np.bincount(
                entry, minlength=self.network.region_of_entry.size
            )
        for m in engine.active_measures(t0):
            m.after_arrival(engine, t0, crossing)
        return agents

    def _screen(self, crossing: Crossing, t: float) -> Crossing:
        for m in self.engine.active_measures(t):
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
