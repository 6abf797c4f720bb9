"""What every engine shares: the context measures act through, bookkeeping and results.

An engine owns the world (agents' states), the road network and travel, the measures of the
selected strategy and the recorder. Engines differ only in how time advances and how
transmission and natural history are simulated (fixed steps in
:mod:`~containment_sim.engines.vectorized`, events in :mod:`~containment_sim.engines.des`);
everything a measure sees (:class:`~containment_sim.measures.base.Context`) is here, so
measures run unchanged on both. Both play the day of :mod:`~containment_sim.engines.plan`.

Nothing here scans the population during a run: stocks, group sizes, the people kept apart
and the cases are counted as they change.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import numpy as np

from containment_sim.arrays import stable_order
from containment_sim.disease import Progression
from containment_sim.engines.travel import Travel
from containment_sim.errors import invariant
from containment_sim.layers import (
    LAYERS,
    LayerDef,
    ListSlots,
    Mixing,
    RangeSlots,
    RegionSlots,
    Slots,
)
from containment_sim.measures import LayerRates, Measure, build_measures, reports
from containment_sim.measures.base import Server, Service
from containment_sim.network import RoadNetwork
from containment_sim.population import Population, generate_population
from containment_sim.report import Layout
from containment_sim.reproduction import layer_rates
from containment_sim.results import CORE, Recorder, Result, case_reproduction, summarize
from containment_sim.rng import stream
from containment_sim.scenario import Scenario
from containment_sim.world import NO_INFECTOR, Flag, InfectionLog, Isolation, Source, State, World

__all__ = ["EngineContext", "ProgressHook"]

_S = TypeVar("_S")

# plain ints for per-event paths (attribute access on IntEnum classes is slow)
_E, _P, _A, _I, _C, _R, _D = (int(s) for s in list(State)[1:])
_N_STATES = len(State)
_PREVIOUS = {_P: _E, _A: _P, _I: _P, _C: _I, _D: _C}
"""The state each state is entered from (recovery comes from A or C)."""
_ENTRY_COLUMN = {_I: "new_symptomatic", _R: "new_recoveries", _D: "new_deaths"}
_APART_COLUMNS = {"n_home_quarantine": Isolation.HOME, "n_site_quarantine": Isolation.SITE,
                  "n_isolated": Isolation.ISOLATED}  # fmt: skip
"""The end-of-day stocks read from the world's isolation counts."""

ProgressHook = Callable[[int], None]
"""Called with the number of days just completed."""


class EngineContext:
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
        self.world.use_calendar(scenario.dt, scenario.days)
        self.network = RoadNetwork.build(scenario)
        self.progression = Progression(
            scenario.disease, self.rng("progression"), scenario.transmission.dispersion
        )
        self.measures: list[Measure] = build_measures(scenario, scenario.strategy)
        self.layout = Layout([CORE, *reports(self.measures)])
        self.recorder = Recorder(scenario.days, self.population.n_regions, self.layout)
        self.beta = layer_rates(scenario)
        self.travel = Travel(self)
        self.log = InfectionLog()
        pop, world = self.population, self.world
        self.group_sizes = {
            layer.name: np.bincount(
                self._group_of(layer)[world.present], minlength=self._n_groups(layer)
            )
            for layer in LAYERS
        }
        self.home_size = self.group_sizes["region"].copy()
        self._slots = {layer.name: self._static_slots(layer) for layer in LAYERS}
        self._travellers = np.empty(0, dtype=np.int64)
        self._visitors = ListSlots.of(self._travellers, self._travellers, pop.n_regions)
        # kept up to date as agents move, instead of rescanning every agent each day
        self.stocks = world.counts_by_region()
        self.away = np.bincount(pop.region[~world.present], minlength=pop.n_regions)
        self.servers: list[tuple[Measure, Server]] = []
        self._hooks: dict[str, list[Measure]] = {}
        self._factor_measures = self._implementing("contact_factor")
        self._infection_hooks = self._implementing("after_infection")

    # --- layers -----------------------------------------------------------------------------
    @property
    def region_size(self) -> np.ndarray:
        """People in each region today (residents at home and visitors), alive, in the city."""
        return self.group_sizes["region"]

    @region_size.setter
    def region_size(self, value: np.ndarray) -> None:
        self.group_sizes["region"] = value

    def _group_of(self, layer: LayerDef) -> np.ndarray:
        """Each agent's group in a built-in layer (the region layer: where it is today)."""
        if layer.group_attribute is None:
            return self.world.location
        return getattr(self.population, layer.group_attribute)  # type: ignore[no-any-return]

    def _n_groups(self, layer: LayerDef) -> int:
        if layer.group_attribute is None:
            return self.population.n_regions
        return int(self._group_of(layer).max(initial=-1)) + 1

    def _static_slots(self, layer: LayerDef) -> RangeSlots | None:
        """Contiguous ranges for layers whose groups follow the agents' order."""
        if layer.group_attribute is None:
            return None
        group = self._group_of(layer)
        if group.size and np.any(group[1:] < group[:-1]):
            raise ValueError(f"layer {layer.name}: agents must be sorted by their group")
        return RangeSlots(np.searchsorted(group, np.arange(self._n_groups(layer) + 1)))

    def _factor(self, t: float, layer: str, agents: np.ndarray) -> np.ndarray | None:
        """Contact factor of ``agents`` in ``layer``: isolation, then every measure's."""
        factor = self.world.contact_factor(layer, agents)
        for m in self._factor_measures:
            if m.active(t):
                more = m.contact_factor(self, t, layer, agents)
                if more is not None:
                    factor = more if factor is None else factor * more
        return factor

    def _mixings(self, t: float) -> list[Mixing]:
        """The layers mixing at time ``t``: the built-in ones and those measures add."""
        rates = LayerRates({layer.name: self._n_groups(layer) for layer in LAYERS})
        for m in self.active_measures(t, "scale_rates"):
            m.scale_rates(self, t, rates)
        out = []
        for layer in LAYERS:
            rate = self.beta[layer.name]
            if rate <= 0:
                continue
            factor = partial(self._factor, t, layer.name)
            slots: Slots | None = self._slots[layer.name]
            present = None
            if slots is None:  # the region layer: residents at home and today's visitors
                slots = RegionSlots(self.population.region_start, self._visitors)
                present = self._in_region
            out.append(
                Mixing(layer.name, layer.source, rate, self._group_of(layer),
                       self.group_sizes[layer.name], slots, factor, factor,
                       scale=rates.get(layer.name), present=present)
            )  # fmt: skip
        for m in self.active_measures(t, "extra_layers"):
            out.extend(m.extra_layers(self, t))
        return out

    def _in_region(self, agents: np.ndarray, region: np.ndarray) -> np.ndarray:
        out: np.ndarray = self.world.location[agents] == region
        return out

    # --- the context measures act through (measures.base.Context) -----------------------
    def rng(self, name: str) -> np.random.Generator:
        """The random stream of a named decision (created on first use)."""
        if name not in self._streams:
            self._streams[name] = stream(self.scenario.seed, name)
        return self._streams[name]

    def service(self, factory: Callable[[EngineContext], _S]) -> _S:
        """The run's single instance of a shared service, created on first use."""
        if factory not in self._services:
            self._services[factory] = factory(self)
        out: _S = self._services[factory]
        return out

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
        plan = self.travel.returnees
        lo, hi = np.searchsorted(plan.arrival, [t0, t1], side="left")
        agents, arrival = plan.agent[lo:hi], plan.arrival[lo:hi]
        here = self.world.present[agents]
        return agents[here], arrival[here]

    def active_measures(self, t: float, hook: str | None = None) -> list[Measure]:
        """Measures in force at time ``t`` (only those implementing ``hook``, if named)."""
        measures = self.measures if hook is None else self._implementing(hook)
        return [m for m in measures if m.start <= t < m.end]

    def _implementing(self, hook: str) -> list[Measure]:
        """The measures whose class implements ``hook`` (not the base's no-op)."""
        if hook not in self._hooks:
            base = getattr(Measure, hook)
            self._hooks[hook] = [m for m in self.measures if getattr(type(m), hook) is not base]
        return self._hooks[hook]

    def join_mixing(self, agents: np.ndarray) -> None:
        """Add agents who came into the city to the group sizes of every layer."""
        self._resize(agents, +1)

    def group_size(self, layer: str) -> np.ndarray:
        """Agents present (alive, in the city) in each group of a built-in layer now."""
        return self.group_sizes[layer]

    def infectees_of(self, agents: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The people ``agents`` infected so far, and the infector of each."""
        return self.log.infectees_of(agents)

    # --- the run -----------------------------------------------------------------------------
    def _start_day(self, day: int) -> None:
        for m in self.active_measures(day + 0.5, "start_day"):
            m.start_day(self, day)
        pop = self.population
        who, dest = self.travel.start_day(day)
        self._travel(who, dest)
        self.recorder.count(day, "n_travellers", pop.region[who])
        n = pop.n_regions
        self.region_size = (
            self.home_size
            - np.bincount(pop.region[who], minlength=n)
            + np.bincount(dest, minlength=n)
        )

    def _travel(self, who: np.ndarray, dest: np.ndarray) -> None:
        """Today's travellers: yesterday's come home, today's are at their destinations."""
        world, pop = self.world, self.population
        world.location[self._travellers] = pop.region[self._travellers]
        world.location[who] = dest
        self._travellers = who
        away = who[dest != pop.region[who]]
        self._visitors = ListSlots.of(away, world.location[away], pop.n_regions)

    def _check(self) -> None:
        """Verify the world's invariants and every incrementally kept count (tests only)."""
        world, pop = self.world, self.population
        world.check_invariants()
        for service in self._shared():
            service.check()
        invariant(np.array_equal(self.stocks, world.counts_by_region()), "stock book")
        invariant(
            np.array_equal(
                self.away, np.bincount(pop.region[~world.present], minlength=self.away.size)
            ),
            "count of people away",
        )
        mixing = world.present & (world.state != State.DEAD)
        invariant(
            np.array_equal(
                self.home_size, np.bincount(pop.region[mixing], minlength=pop.n_regions)
            ),
            "count of people mixing at home",
        )
        for layer in LAYERS:
            expected = np.bincount(self._group_of(layer)[mixing], minlength=self._n_groups(layer))
            invariant(np.array_equal(self.group_sizes[layer.name], expected), layer.name)

    def _move(self, agents: np.ndarray, old: int | np.ndarray, new: int | np.ndarray) -> None:
        """Record in the stock book that ``agents`` left state(s) ``old`` for ``new``."""
        if agents.size == 0:
            return
        flat = self.stocks.reshape(-1)
        key = self.population.region[agents].astype(np.int64) * _N_STATES
        flat -= np.bincount(key + old, minlength=flat.size)
        flat += np.bincount(key + new, minlength=flat.size)

    def _end_day(self, day: int) -> None:
        rec = self.recorder
        rec.stocks[day] = self.stocks
        rec.set_stock(day, "n_away", self.away)
        for name, status in _APART_COLUMNS.items():
            rec.set_stock(day, name, self.world.apart[:, status])
        for service in self._shared():
            for name, counts in service.stocks(day + 1.0).items():
                rec.set_stock(day, name, counts)
        for m in self._implementing("stocks"):
            for name, counts in m.stocks(self, day).items():
                rec.set_stock(day, name, counts)
        for m in self.active_measures(day + 0.5, "end_day"):
            m.end_day(self, day)
        if self.network.n_roads:
            self.travel.record_roads(day)

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
        for layer in LAYERS:  # O(agents), whatever the number of groups
            np.add.at(self.group_sizes[layer.name], self._group_of(layer)[agents], sign)
        np.add.at(self.home_size, self.population.region[agents], sign)

    def _book_transitions(self, entered: dict[State, np.ndarray]) -> None:
        """Update the stock book from the states agents entered (each from its one predecessor)."""
        for state, agents in entered.items():
            if agents.size == 0:
                continue
            if state == _R:
                sick = (self.world.flags[agents] & Flag.SYMPTOMATIC).astype(bool)
                self._move(agents, np.where(sick, _C, _A), _R)
            else:
                self._move(agents, _PREVIOUS[state], state)

    def imported(self, agents: np.ndarray) -> None:
        """Book returnees who arrived infected (from S to the state they arrived in)."""
        self._move(agents, State.SUSCEPTIBLE, self.world.state[agents])

    def _shared(self) -> list[Service]:
        """The shared services created so far (``ctx.service``), in order of creation."""
        return [s for s in self._services.values() if isinstance(s, Service)]

    def _final(self) -> dict[str, Any]:
        """Values for the summary the services know only at the end of the run."""
        out: dict[str, Any] = {}
        for service in self._shared():
            out.update(service.final())
        return out

    def _infected(self) -> dict[str, np.ndarray]:
        """Everyone infected, in order of infection: infectee, infector, time, source, region."""
        world = self.world
        idx = np.flatnonzero(world.source >= 0).astype(np.int32)
        idx = idx[stable_order(world.infection_time[idx])]
        return {
            "infectee": idx,
            "infector": world.infector[idx],
            "time": world.infection_time[idx],
            "source": world.source[idx],
            "region": self.population.region[idx],
        }

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
        for m in self.active_measures(t, "after_progression"):
            m.after_progression(self, t, entered)
        self.world.after_transitions(entered.get(State.RECOVERED), entered.get(State.DEAD))

    def _infected_now(self, t: float, infectee: np.ndarray, infector: np.ndarray) -> None:
        """Measures that follow infections (``after_infection``) see the new ones."""
        for m in self._infection_hooks:
            if m.active(t):
                m.after_infection(self, t, infectee, infector)

    def _release(self, t: float) -> None:
        """Quarantines and isolations due by ``t`` end."""
        self.world.release(t)

    def _results(self, t: float) -> None:
        """Lab results come back whether or not a lab is still open (every step or tick)."""
        for service in self._shared():
            service.advance(t)

    def _measures(self, t: float) -> None:
        """Measures' ``before_transmission``."""
        for m in self.active_measures(t, "before_transmission"):
            m.before_transmission(self, t)

    def _setup_run(self) -> None:
        for m in self.measures:
            m.setup(self)
        self.servers = [(m, server) for m in self.measures for server in m.servers()]
        self._seed_infections()

    def _finish(self) -> Result:
        """Assemble the result once the last day has been recorded (no pandas needed)."""
        sc = self.scenario
        series = self.recorder.city()
        infected = self._infected()
        infector = infected["infector"]
        infector_time = np.where(
            infector >= 0, self.world.infection_time[np.maximum(infector, 0)], np.nan
        )
        r_t = case_reproduction(infected["time"], infector_time, sc.days)
        series["r_t"] = r_t
        summary = summarize(sc, series, self.recorder.tables, self._final(), self.layout)
        build = partial(_frames, sc, self.recorder, infected, r_t)
        return Result(sc, None, None, summary, build=build)


def _frames(
    scenario: Scenario, recorder: Recorder, infected: dict[str, np.ndarray], r_t: np.ndarray
) -> dict[str, Any]:
    """The pandas tables of a result, made when first asked for."""
    import pandas as pd

    timeseries, by_region = recorder.frames(scenario)
    timeseries["r_t"] = r_t
    infections = pd.DataFrame(infected)
    infections["source"] = pd.Categorical.from_codes(
        infected["source"], [s.name.lower() for s in Source]
    )
    infections["region"] = pd.Categorical.from_codes(infected["region"], scenario.region_names)
    return {
        "timeseries": timeseries,
        "by_region": by_region,
        "tables": recorder.table_frames(scenario),
        "infections": infections,
    }
