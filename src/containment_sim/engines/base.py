"""What every engine shares: the context measures act through, bookkeeping and results.

An engine owns the world (agents' states), the road network and movement, the measures of the
selected strategy and the recorder. Engines differ only in how time advances and how
transmission and natural history are simulated (fixed steps in
:mod:`~containment_sim.engines.vectorized`, events in :mod:`~containment_sim.engines.des`);
everything a measure sees (:class:`~containment_sim.measures.base.Context`) is here, so
measures run unchanged on both.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from containment_sim.disease import Progression
from containment_sim.engines.movement import Movement
from containment_sim.measures import ContactFactors, Measure, build_measures
from containment_sim.measures.base import Server
from containment_sim.measures.cases import CaseBook
from containment_sim.network import RoadNetwork
from containment_sim.population import Population, generate_population
from containment_sim.results import Recorder, Result, case_reproduction, summarize
from containment_sim.rng import stream
from containment_sim.scenario import Scenario
from containment_sim.transmission import Layer
from containment_sim.world import NO_INFECTOR, Flag, Isolation, Source, State, World

__all__ = ["EngineBase", "ProgressHook"]

_S = TypeVar("_S")

# plain ints for per-event paths (attribute access on IntEnum classes is slow)
_E, _P, _A, _I, _C, _R, _D = (int(s) for s in list(State)[1:])
_N_STATES = len(State)
_PREVIOUS = {_P: _E, _A: _P, _I: _P, _C: _I, _D: _C}
"""The state each state is entered from (recovery comes from A or C)."""
_ENTRY_COLUMN = {_I: "new_symptomatic", _R: "new_recoveries", _D: "new_deaths"}

ProgressHook = Callable[[int], None]
"""Called with the number of days just completed."""


class EngineBase:
    """State, context and bookkeeping shared by the engines.

    Args:
        scenario: The scenario to run (its selected ``strategy``).
        check: Verify the invariants after every step or tick (for tests; slower).
    """

    def __init__(self, scenario: Scenario, *, check: bool = False):
        self.scenario = scenario
        self.check = check
        self.day = 0
        self._streams: dict[str, np.random.Generator] = {}
        self._services: dict[Callable[..., Any], Any] = {}
        self.population: Population = generate_population(scenario)
        self.world = World(self.population)
        self.network = RoadNetwork.build(scenario)
        self.progression = Progression(
            scenario.disease, self.rng("progression"), scenario.transmission.dispersion
        )
        self.recorder = Recorder(scenario.days, self.population.n_regions)
        self.measures: list[Measure] = build_measures(scenario, scenario.strategy)
        self.movement = Movement(self)
        pop, world = self.population, self.world
        mixing = world.present & (world.state != State.DEAD)
        self.household_size = np.bincount(pop.household[mixing], minlength=pop.n_households)
        self.community_size = np.bincount(pop.community[mixing], minlength=pop.n_communities)
        self.home_size = np.bincount(pop.region[mixing], minlength=pop.n_regions)
        self.region_size = self.home_size.copy()
        # kept up to date as agents move, instead of rescanning every agent each day
        self.stocks = world.counts_by_region()
        self.away = np.bincount(pop.region[~world.present], minlength=pop.n_regions)
        self.servers: list[tuple[Measure, Server]] = []

    # --- the context measures act through (measures.base.Context) -----------------------
    def rng(self, name: str) -> np.random.Generator:
        """The random stream of a named decision (created on first use)."""
        if name not in self._streams:
            self._streams[name] = stream(self.scenario.seed, name)
        return self._streams[name]

    def service(self, factory: Callable[[EngineBase], _S]) -> _S:
        """The run's single instance of a shared service, created on first use."""
        if factory not in self._services:
            self._services[factory] = factory(self)
        return self._services[factory]

    def keep_apart(
        self,
        idx: np.ndarray,
        status: Isolation,
        t: float,
        until: float | np.ndarray = np.inf,
        compliance: float = 1.0,
    ) -> np.ndarray:
        """Quarantine at home or isolate in hospital; returns and counts the newly kept apart."""
        newly = self.world.keep_apart(idx, status, until, compliance)
        column = {Isolation.ISOLATED: "new_isolated", Isolation.HOME: "new_quarantined"}.get(status)
        if column is not None:
            self.recorder.count(self.day, column, self.population.region[newly])
        return newly

    def count(self, column: str, agents: np.ndarray) -> None:
        """Add today's events of ``agents`` (by home region) to a daily flow column."""
        self.recorder.count(self.day, column, self.population.region[agents])

    def record(self, table: str, **row: Any) -> None:
        """Add a row for today to a named output table."""
        self.recorder.record(table, self.day, **row)

    def arrived_returnees(self, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray]:
        """Returnees who entered the city in ``[t0, t1)`` and their arrival times."""
        plan = self.movement.returnees
        lo, hi = np.searchsorted(plan.arrival, [t0, t1], side="left")
        agents, arrival = plan.agent[lo:hi], plan.arrival[lo:hi]
        here = self.world.present[agents]
        return agents[here], arrival[here]

    def active_measures(self, t: float) -> list[Measure]:
        """Measures in force at time ``t``."""
        return [m for m in self.measures if m.active(t)]

    def join_mixing(self, agents: np.ndarray) -> None:
        """Add agents who came into the city to the group sizes of every layer."""
        self._resize(agents, +1)

    # --- the run -----------------------------------------------------------------------------
    def _start_day(self, day: int) -> None:
        for m in self.active_measures(day + 0.5):
            m.start_day(self, day)
        world, pop = self.world, self.population
        who, dest = self.movement.start_day(day)
        world.location[:] = pop.region
        world.location[who] = dest
        self.recorder.count(day, "n_travellers", pop.region[who])
        n = pop.n_regions
        self.region_size = (
            self.home_size
            - np.bincount(pop.region[who], minlength=n)
            + np.bincount(dest, minlength=n)
        )

    def _check(self) -> None:
        """Verify the world's invariants and every incrementally kept count (tests only)."""
        world, pop = self.world, self.population
        world.check_invariants()
        cases = self._services.get(CaseBook)
        if cases is not None:
            cases.end_observation()
            cases.check()
        assert np.array_equal(self.stocks, world.counts_by_region()), "stock book"
        assert np.array_equal(
            self.away, np.bincount(pop.region[~world.present], minlength=self.away.size)
        )
        mixing = world.present & (world.state != State.DEAD)
        assert np.array_equal(
            self.home_size, np.bincount(pop.region[mixing], minlength=pop.n_regions)
        )
        assert np.array_equal(
            self.region_size, np.bincount(world.location[mixing], minlength=pop.n_regions)
        )
        assert np.array_equal(
            self.household_size, np.bincount(pop.household[mixing], minlength=pop.n_households)
        )

    def _move(self, agents: np.ndarray, old: int | np.ndarray, new: int | np.ndarray) -> None:
        """Record in the stock book that ``agents`` left state(s) ``old`` for ``new``."""
        if agents.size == 0:
            return
        flat = self.stocks.reshape(-1)
        if agents.size == 1 and not isinstance(old, np.ndarray) and not isinstance(new, np.ndarray):
            key = int(self.population.region[agents[0]]) * _N_STATES
            flat[key + int(old)] -= 1
            flat[key + int(new)] += 1
            return
        key = self.population.region[agents].astype(np.int64) * _N_STATES
        flat -= np.bincount(key + old, minlength=flat.size)
        flat += np.bincount(key + new, minlength=flat.size)

    def _end_day(self, day: int) -> None:
        pop, rec = self.population, self.recorder
        rec.stocks[day] = self.stocks
        rec.other[day, :, 0] = self.away
        for k, mask in enumerate(self._kept_apart_masks(), start=1):
            if mask is not None:
                rec.other[day, :, k] = np.bincount(
                    pop.region[np.flatnonzero(mask)], minlength=pop.n_regions
                )
        for m in self.active_measures(day + 0.5):
            m.end_day(self, day)
        if self.network.n_roads:
            self.movement.record_roads(day)

    def _kept_apart_masks(self) -> list[np.ndarray | None]:
        """Masks behind the ``OTHER_STOCKS`` after ``n_away`` (``None``: nobody)."""
        world = self.world
        masks: list[np.ndarray | None] = [None] * 7
        if world.n_kept_apart:
            masks[0] = world.isolation == Isolation.HOME
            masks[1] = world.isolation == Isolation.SITE
            masks[2] = world.isolation == Isolation.ISOLATED
        cases = self._services.get(CaseBook)
        if cases is not None:
            cases.end_observation()
            masks[3] = cases.suspected
            masks[4] = np.isfinite(cases.confirmed_time) & (world.isolation == Isolation.ISOLATED)
            masks[5] = cases.contact_under_observation()
            masks[6] = cases.site_overflow
        return masks

    def _seed_infections(self) -> None:
        imp = self.scenario.importation
        if imp.initial_infections == 0:
            return
        rng = self.rng("seeding")
        pool = np.flatnonzero(self.world.present)
        if imp.initial_region is not None:
            r = self.scenario.region_names.index(imp.initial_region)
            pool = pool[self.population.region[pool] == r]
        chosen = np.sort(
            rng.choice(pool, size=min(imp.initial_infections, pool.size), replace=False)
        )
        self.progression.infect(self.world, chosen, 0.0, Source.SEED, NO_INFECTOR)
        self._move(chosen, State.SUSCEPTIBLE, State.EXPOSED)
        self.recorder.infections(0, self.population.region[chosen], Source.SEED)

    def _resize(self, agents: np.ndarray, sign: int) -> None:
        """Add (``+1``) or remove (``-1``) agents from the group sizes of every layer."""
        pop, world = self.population, self.world
        if agents.size == 1:  # one agent (the discrete-event engine): no full-length counts
            i = agents[0]
            self.household_size[pop.household[i]] += sign
            self.community_size[pop.community[i]] += sign
            self.region_size[world.location[i]] += sign
            self.home_size[pop.region[i]] += sign
            return
        self.household_size += sign * np.bincount(pop.household[agents], minlength=pop.n_households)
        self.community_size += sign * np.bincount(
            pop.community[agents], minlength=pop.n_communities
        )
        self.region_size += sign * np.bincount(world.location[agents], minlength=pop.n_regions)
        self.home_size += sign * np.bincount(pop.region[agents], minlength=pop.n_regions)

    def _book_transitions(self, entered: dict[State, np.ndarray]) -> None:
        """Update the stock book from the states agents entered (each from its one predecessor)."""
        for state, agents in entered.items():
            if agents.size == 0:
                continue
            if state == _R:
                sick = (self.world.flags[agents] & Flag.SYMPTOMATIC).astype(bool)
                previous: int | np.ndarray = (
                    np.where(sick, _C, _A) if agents.size > 1 else (_C if sick[0] else _A)
                )
                self._move(agents, previous, _R)
            else:
                self._move(agents, _PREVIOUS[state], state)

    def imported(self, agents: np.ndarray) -> None:
        """Book returnees who arrived infected (from S to the state they arrived in)."""
        self._move(agents, State.SUSCEPTIBLE, self.world.state[agents])

    def _extra_summary(self) -> dict[str, Any]:
        cases = self._services.get(CaseBook)
        if cases is None:
            return {}
        dead = self.world.state == State.DEAD
        return {"deaths_confirmed": int(np.count_nonzero(dead & np.isfinite(cases.confirmed_time)))}

    def _infection_log(self) -> pd.DataFrame:
        world = self.world
        idx = np.flatnonzero(world.source >= 0)
        idx = idx[np.argsort(world.infection_time[idx], kind="stable")]
        return pd.DataFrame(
            {
                "infectee": idx,
                "infector": world.infector[idx],
                "time": world.infection_time[idx],
                "source": pd.Categorical.from_codes(
                    world.source[idx], [s.name.lower() for s in Source]
                ),
                "region": pd.Categorical.from_codes(
                    world.population.region[idx], list(self.population.region_names)
                ),
            }
        )

    def _layers(self, t: float) -> list[Layer]:
        beta, pop, world = self.scenario.transmission.beta, self.population, self.world
        factors = ContactFactors(
            pop.size,
            world.contact_factor(household=True),
            world.contact_factor(household=False),
            {"household": pop.n_households, "community": pop.n_communities,
             "region": pop.n_regions},
        )  # fmt: skip
        active = self.active_measures(t)
        for m in active:
            m.contact_factors(self, t, factors)
        layers = [
            Layer(
                Source.HOUSEHOLD,
                beta.household,
                pop.household,
                self.household_size,
                factors.get("household"),
                scale=factors.rate_scale("household"),
                key="household",
            ),
            Layer(
                Source.COMMUNITY,
                beta.community,
                pop.community,
                self.community_size,
                factors.get("community"),
                scale=factors.rate_scale("community"),
                key="community",
            ),
            Layer(
                Source.REGION,
                beta.region,
                world.location,
                self.region_size,
                factors.get("region"),
                scale=factors.rate_scale("region"),
                key="region",
            ),
        ]
        for m in active:
            layers.extend(m.extra_layers(self, t))
        return layers

    def _transitions(self, t: float, entered: dict[State, np.ndarray]) -> None:
        """Book and count the transitions of natural history, then let measures react."""
        region, rec, day = self.population.region, self.recorder, self.day
        self._book_transitions(entered)
        for state, agents in entered.items():
            if agents.size == 0:
                continue
            column = _ENTRY_COLUMN.get(state)
            if column is not None:
                rec.count(day, column, region[agents])
            if state == _D:
                self._resize(agents, -1)
        for m in self.active_measures(t):
            m.after_progression(self, t, entered)

    def _deliver_results(self, t: float) -> None:
        """Lab results come back whether or not a lab is still open (every step or tick)."""
        cases = self._services.get(CaseBook)
        if cases is not None:
            cases.deliver(t)

    def _arrivals(self, t0: float, t1: float) -> None:
        """Returnees arriving in ``[t0, t1)``."""
        self.movement.arrivals(t0, t1)

    def _setup_run(self) -> None:
        for m in self.measures:
            m.setup(self)
        self.servers = [(m, server) for m in self.measures for server in m.servers()]
        self._seed_infections()

    def _finish(self) -> Result:
        """Assemble the result once the last day has been recorded."""
        sc = self.scenario
        timeseries, by_region = self.recorder.frames(sc)
        log = self._infection_log()
        timeseries["r_t"] = case_reproduction(log, sc.days)
        tables = self.recorder.table_frames(sc)
        summary = summarize(sc, timeseries, tables, self._extra_summary())
        return Result(sc, timeseries, by_region, summary, tables, log)
