"""The vectorized engine: the whole city as numpy arrays, advanced in fixed steps of ``dt``.

Step order (each step covers ``[t, t + dt)``; a day has ``1 / dt`` steps):

1. At the start of a day, draw the day's travellers; each mixes in the region layer of the
   region visited for the whole day (household and community contacts continue).
2. Returnees planned to arrive during the step come home; each is infected with probability
   equal to the epicentre's prevalence at its arrival time (recorded as imported).
3. Natural history: every transition scheduled at or before ``t`` happens.
4. Transmission per layer by group aggregation (``transmission.transmit``); new infections
   are timed at the middle of the step and record their infector and layer.
5. At the end of a day, the stocks per region are recorded.

Agents away in the epicentre and dead agents take no part in mixing: they are excluded from
the group sizes ``n_g`` as well as from the sums.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from containment_sim.disease import Progression
from containment_sim.mobility import ReturneePlan, TripPlan, prevalence_curve
from containment_sim.population import Population, generate_population
from containment_sim.results import Recorder, Result, summarize
from containment_sim.rng import stream
from containment_sim.scenario import Scenario
from containment_sim.transmission import Layer, transmit
from containment_sim.world import NO_INFECTOR, Source, State, World

__all__ = ["VectorizedEngine"]

ProgressHook = Callable[[int], None]
"""Called with the number of days just completed."""


class VectorizedEngine:
    """Runs one scenario with the fixed-step vectorized model.

    Args:
        scenario: The scenario to run.
        check: Verify ``World.check_invariants`` after every step (for tests; slower).
    """

    def __init__(self, scenario: Scenario, *, check: bool = False):
        self.scenario = scenario
        self.check = check
        seed = scenario.seed
        self.population: Population = generate_population(scenario)
        self.world = World(self.population)
        self.progression = Progression(scenario.disease, stream(seed, "progression"))
        self.returnees = ReturneePlan.build(scenario, self.population, stream(seed, "returnees"))
        self.trips = TripPlan.build(scenario)
        self.rng_travel = stream(seed, "travel")
        self.rng_import = stream(seed, "importation")
        self.rng_transmission = stream(seed, "transmission")
        self.recorder = Recorder(scenario.days, self.population.n_regions)
        rel = scenario.disease.relative_infectiousness
        self.infectiousness = np.zeros(len(State))
        self.infectiousness[State.PRESYMPTOMATIC] = rel.presymptomatic
        self.infectiousness[State.ASYMPTOMATIC] = rel.asymptomatic
        self.infectiousness[State.SYMPTOMATIC] = rel.symptomatic
        self.world.present[self.returnees.agent] = False
        pop = self.population
        mixing = self._mixing()
        self.household_size = np.bincount(pop.household[mixing], minlength=pop.n_households)
        self.community_size = np.bincount(pop.community[mixing], minlength=pop.n_communities)
        self.region_size = np.bincount(self.world.location[mixing], minlength=pop.n_regions)

    def run(self, progress: ProgressHook | None = None) -> Result:
        """Simulate ``scenario.days`` days and return the result."""
        sc = self.scenario
        self._seed_infections()
        self._record_stocks(0)
        for day in range(sc.days):
            self._travel(day + 1)
            for k in range(sc.steps_per_day):
                self._step(day + k * sc.dt, day + 1)
            self._record_stocks(day + 1)
            if progress is not None:
                progress(1)
        timeseries, by_region = self.recorder.frames(sc)
        return Result(sc, timeseries, by_region, summarize(sc, timeseries), self._infection_log())

    def _step(self, t: float, row: int) -> None:
        self._arrivals(t, t + self.scenario.dt, row)
        self._progress(t, row)
        self._transmit(t, row)
        if self.check:
            self.world.check_invariants()
            assert np.all(self.household_size >= 0) and np.all(self.region_size >= 0)

    def _mixing(self) -> np.ndarray:
        """Mask of agents taking part in mixing: present in the city and alive."""
        return self.world.present & (self.world.state != State.DEAD)

    def _seed_infections(self) -> None:
        imp = self.scenario.importation
        n = imp.initial_infections
        if n == 0:
            return
        rng = stream(self.scenario.seed, "seeding")
        pool = np.flatnonzero(self._mixing())
        if imp.initial_region is not None:
            r = self.scenario.region_names.index(imp.initial_region)
            pool = pool[self.population.region[pool] == r]
        chosen = np.sort(rng.choice(pool, size=min(n, pool.size), replace=False))
        self.progression.infect(self.world, chosen, 0.0, Source.SEED, NO_INFECTOR)
        self.recorder.infections(0, self.population.region[chosen], Source.SEED)

    def _travel(self, row: int) -> None:
        world, pop = self.world, self.population
        world.location[:] = pop.region
        who, dest = self.trips.draw(self.rng_travel, pop, world.present)
        alive = world.state[who] != State.DEAD
        who, dest = who[alive], dest[alive]
        world.location[who] = dest
        self.recorder.travellers[row] += np.bincount(pop.region[who], minlength=pop.n_regions)
        self.region_size = np.bincount(world.location[self._mixing()], minlength=pop.n_regions)

    def _arrivals(self, t0: float, t1: float, row: int) -> None:
        pos = self.returnees.arriving(t0, t1)
        if pos.size == 0:
            return
        agents, when = self.returnees.agent[pos], self.returnees.arrival[pos]
        world, pop = self.world, self.population
        world.present[agents] = True
        self._resize(agents, +1)
        region = pop.region[agents]
        self.recorder.count(row, "new_returnees", region)
        infected = self.rng_import.random(agents.size) < prevalence_curve(self.scenario, when)
        if infected.any():
            self.progression.infect(
                world, agents[infected], when[infected], Source.IMPORTED, NO_INFECTOR
            )
        self.recorder.infections(row, region[infected], Source.IMPORTED)

    def _resize(self, agents: np.ndarray, sign: int) -> None:
        """Add (``+1``) or remove (``-1``) agents from the group sizes of every layer."""
        pop, world = self.population, self.world
        self.household_size += sign * np.bincount(pop.household[agents], minlength=pop.n_households)
        self.community_size += sign * np.bincount(
            pop.community[agents], minlength=pop.n_communities
        )
        self.region_size += sign * np.bincount(world.location[agents], minlength=pop.n_regions)

    def _progress(self, t: float, row: int) -> None:
        entered = self.progression.advance(self.world, t)
        region = self.population.region
        empty = np.empty(0, dtype=np.int64)
        self.recorder.count(row, "new_symptomatic", region[entered.get(State.SYMPTOMATIC, empty)])
        self.recorder.count(row, "new_recoveries", region[entered.get(State.RECOVERED, empty)])
        dead = entered.get(State.DEAD, empty)
        self.recorder.count(row, "new_deaths", region[dead])
        if dead.size:
            self._resize(dead, -1)

    def _layers(self) -> list[Layer]:
        beta, pop = self.scenario.transmission.beta, self.population
        return [
            Layer(Source.HOUSEHOLD, beta.household, pop.household, self.household_size),
            Layer(Source.COMMUNITY, beta.community, pop.community, self.community_size),
            Layer(Source.REGION, beta.region, self.world.location, self.region_size),
        ]

    def _transmit(self, t: float, row: int) -> None:
        world = self.world
        state = world.state
        infectious = np.flatnonzero((state >= State.PRESYMPTOMATIC) & (state <= State.SYMPTOMATIC))
        if infectious.size == 0:
            return
        susceptible = np.flatnonzero((state == State.SUSCEPTIBLE) & world.present)
        weight = self.infectiousness[state[infectious]]
        new = transmit(
            self.rng_transmission, self._layers(), susceptible, infectious, weight, self.scenario.dt
        )
        if new.infectee.size == 0:
            return
        self.progression.infect(
            world, new.infectee, t + self.scenario.dt / 2, new.source, new.infector
        )
        self.recorder.infections(row, self.population.region[new.infectee], new.source)

    def _record_stocks(self, row: int) -> None:
        world, pop = self.world, self.population
        self.recorder.stocks[row] = world.counts_by_region()
        away = ~world.present
        self.recorder.away[row] = np.bincount(pop.region[away], minlength=pop.n_regions)

    def _infection_log(self) -> pd.DataFrame:
        world = self.world
        idx = np.flatnonzero(world.source >= 0)
        order = np.argsort(world.infection_time[idx], kind="stable")
        idx = idx[order]
        return pd.DataFrame(
            {
                "infectee": idx,
                "infector": world.infector[idx],
                "time": world.infection_time[idx],
                "source": pd.Categorical.from_codes(
                    world.source[idx], [s.name.lower() for s in Source]
                ),
                "region": world.population.region[idx],
            }
        )
