"""The discrete-event engine (SimPy): the same model in continuous time.

Natural history and transmission are timed events:

- every infected agent's next transition is an event at its exact time; it applies the
  transition table shared with the vectorized engine
  (:meth:`~containment_sim.disease.Progression.advance_one`);
- every infectious agent j makes contacts: in each layer l at rate ``beta_l * w_j`` (its
  relative infectiousness, times its individual multiplier, times its contact factor in
  that layer) with a member of its current group chosen uniformly among the n_g - 1 others; a
  susceptible contact is infected with probability equal to its own contact factor. A
  susceptible i in group g therefore has hazard ``beta_l * sum_j w_j / (n_g - 1)`` -- DESIGN
  section 2, the process the vectorized engine discretises. Contacts are drawn by thinning:
  candidate events at the upper rate ``m_j * w_max * sum_l beta_l`` (m_j: j's individual
  multiplier, fixed for its infection), each accepted with its current probability.

These one-agent events are SimPy timeouts with a callback (no generator per agent); how they
are kept cheap (memoryviews, a tally of plain numbers, the garbage collector) is explained
and measured in :mod:`~containment_sim.engines.fastpath`.

Travellers are SimPy processes on the roads (:mod:`~containment_sim.engines.journeys`), labs
and tracing teams are SimPy processes working through their queues
(:class:`~containment_sim.measures.base.Server`). Everything else is shared with the vectorized
engine (:class:`~containment_sim.engines.context.EngineContext`): measures and bookkeeping run on a
clock that ticks every ``dt`` (measures' ``before_transmission``, releases, contact factors).
As ``dt`` shrinks, the vectorized engine converges to this one.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Generator, Sequence
from math import log
from random import Random
from typing import Any, cast

import numpy as np
import simpy
from simpy.events import Timeout

from containment_sim.disease import N_FLAG_KEYS as _N_FLAG_KEYS
from containment_sim.engines.context import _ENTRY_COLUMN, _N_STATES, EngineContext, ProgressHook
from containment_sim.engines.fastpath import Tally, fewer_collections
from containment_sim.engines.journeys import Journeys
from containment_sim.engines.plan import STEP
from containment_sim.layers import Mixing
from containment_sim.measures.base import Measure, Server
from containment_sim.results import Result
from containment_sim.scenario import Scenario
from containment_sim.world import AgentView, Isolation, Source, State

__all__ = ["DESEngine"]

_S, _P, _I, _R, _D = (
    int(x)
    for x in (State.SUSCEPTIBLE, State.PRESYMPTOMATIC, State.SYMPTOMATIC, State.RECOVERED,
              State.DEAD)
)  # fmt: skip
_HOUSEHOLD_KIND, _COMMUNITY_KIND, _REGION_KIND, _EXTRA = range(4)
_BUILT_IN = {"household": _HOUSEHOLD_KIND, "community": _COMMUNITY_KIND, "region": _REGION_KIND}

_INF = float("inf")
_SITE = int(Isolation.SITE)

MAX_PICKS = 10_000
"""Rejection-sampling attempts to find a contact in a group before giving up."""


class DESEngine(EngineContext):
    """Runs one scenario in continuous time with SimPy.

    Args:
        scenario: The scenario to run (``dt`` sets the tick of the measures' clock).
        check: Verify the invariants at every tick (for tests; slower).
        gc_threshold: If given, the garbage collector's youngest generation runs every this
            many allocations during the run (e.g. 10,000 instead of Python's 700: faster, see
            :func:`~containment_sim.engines.fastpath.fewer_collections`); the setting is
            restored afterwards. By default the collector is left alone.
    """

    def __init__(self, scenario: Scenario, *, check: bool = False, gc_threshold: int | None = None):
        super().__init__(scenario, check=check)
        self.gc_threshold = gc_threshold
        self.env = simpy.Environment()
        pop = self.population
        w_max = float(self.progression.weight.max())
        bounds = dict(self.beta)
        for m in self.measures:
            for key, rate in m.extra_layer_rates().items():
                bounds[key] = max(bounds.get(key, 0.0), rate)
        self._declared = frozenset(bounds)
        # contacts by thinning: candidates at the constant rate w_max * sum of the bounds, a
        # layer chosen in proportion to its bound, accepted with beta_l w_j f_j / (bound_l w_max)
        self.keys = [k for k, b in bounds.items() if b > 0]
        self._kind = [_BUILT_IN.get(k, _EXTRA) for k in self.keys]
        self._bound = [bounds[k] * w_max for k in self.keys]
        self._contact_rate = float(sum(self._bound))
        self._mean_gap = 1.0 / self._contact_rate if self._contact_rate > 0 else _INF
        self._cum = np.cumsum(self._bound).tolist()
        self._last = len(self._cum) - 1
        self._single_layer = len(self._cum) == 1
        self._layer_at: list[Mixing | None] = [None] * len(self.keys)
        self._factor_at: list[np.ndarray | None] = [None] * len(self.keys)
        self._susceptible: list[np.ndarray | None] = [None] * len(self.keys)
        self._everyone = np.arange(pop.size)
        self._phases = [getattr(self, "_" + phase.name) for phase in STEP]
        self._accept = [0.0] * len(self.keys)
        self._w: list[float] = self.progression.weight.tolist()
        self._random = Random(int(self.rng("contacts").integers(2**63))).random
        self._total = self._cum[-1] if self._cum else 0.0
        self._transition_cb, self._contact_cb = self._on_transition, self._on_contact
        self.agents = AgentView.of(self.world)
        # one-agent bookings as plain numbers, added to the arrays by _flush
        self.tally = Tally(self.stocks, self.recorder.flows.shape[2])
        self._n_flows = self.tally.n_flows
        self._household_start: list[int] = pop.household_start.tolist()
        self._community_start: list[int] = pop.community_start.tolist()
        self._region_span: list[tuple[int, int, list[int]]] = []
        self._travellers_column = self.recorder.column("n_travellers")
        self._entry_column = [self.recorder.column(_ENTRY_COLUMN.get(s)) for s in range(len(State))]
        self._infection_columns = {int(s): self.recorder.infection_columns(s) for s in Source}
        self._progression_hooks = self._implementing("after_progression")
        self.layers: dict[str, Mixing] = {}
        self.members: dict[int, tuple[np.ndarray, list[int]]] = {}
        self.events = 0
        self.journeys = Journeys(self)
        self._clear_visitors()

    # --- the run -----------------------------------------------------------------------------
    def run(self, progress: ProgressHook | None = None) -> Result:
        """Simulate ``scenario.days`` days and return the result."""
        self._setup_run()
        for i in np.flatnonzero(np.isfinite(self.world.t_next)):
            self._launch(int(i))
        self.env.process(self._clock(progress))
        for m, server in self.servers:
            self.env.process(self._serve(m, server))
        with fewer_collections(self.gc_threshold):
            self.env.run(until=self.scenario.days)
        self._end_day(self.scenario.days - 1)
        if progress is not None:
            progress(1)
        return self._finish()

    def _setup_run(self) -> None:
        super()._setup_run()
        self.journeys.setup()
        for service in self._shared():
            service.start_processes(self.env)
        for m in self.measures:
            m.start_processes(self, self.env)

    def _clock(self, progress: ProgressHook | None) -> Generator[simpy.Event, Any, None]:
        """Day starts and ends, and the measures' tick every ``dt``."""
        sc = self.scenario
        for day in range(sc.days):
            if day > self.env.now:
                yield self.env.timeout(day - self.env.now)
            if day > 0:
                self._end_day(day - 1)
                if progress is not None:
                    progress(1)
            self.day = day
            self._start_day(day)
            for k in range(sc.steps_per_day):
                t = day + k * sc.dt
                if t > self.env.now:
                    yield self.env.timeout(t - self.env.now)
                self._tick(t)

    def _serve(self, measure: Measure, server: Server) -> Generator[simpy.Event, Any, None]:
        """A lab or tracing team: one unit of work at a time, then busy for ``1 / rate`` days.

        The busy time follows the rate as it changes (re-read at each tick of the measures'
        clock). With nothing to do (or closed) it looks again at the next tick.
        """
        env = self.env
        while True:
            t = env.now
            rate = server.rate(t) if measure.active(t) else 0.0
            if rate > 0 and server.work(self, t, 1):
                self.events += 1
                yield from self._busy(measure, server)
            else:
                yield env.timeout(self._next_tick(t) - t)

    def _busy(self, measure: Measure, server: Server) -> Generator[simpy.Event, Any, None]:
        """Spend one unit of capacity at the server's (possibly changing) rate."""
        env, left = self.env, 1.0
        while left > 1e-12:
            t = env.now
            rate = server.rate(t) if measure.active(t) else 0.0
            next_tick = self._next_tick(t)
            if rate > 0 and t + left / rate <= next_tick:
                yield env.timeout(left / rate)
                return
            left -= rate * (next_tick - t)
            yield env.timeout(next_tick - t)

    def _next_tick(self, t: float) -> float:
        dt = self.scenario.dt
        return float((np.floor(t / dt + 1e-9) + 1) * dt)

    def _tick(self, t: float) -> None:
        """The measures' tick: the phases of a step (engines.plan.STEP) at time ``t``."""
        for phase in self._phases:
            phase(t)
        if self.check:
            self._check()

    # --- the phases of a tick (engines.plan.STEP) ------------------------------------------
    def _progression(self, t: float) -> None:
        """Nothing at a tick: each transition is an event at its exact time."""

    def _servers(self, t: float) -> None:
        """Nothing at a tick: labs and tracing teams are SimPy processes."""

    def _transmission(self, t: float) -> None:
        """The layers' rates, contact factors and members for the contacts until the next tick.

        Contact events read per-agent factors one agent at a time, so the factors are laid
        out here for everyone.
        """
        everyone = self._everyone
        self.layers = {mx.key: mx for mx in self._mixings(t)}
        undeclared = sorted(set(self.layers) - self._declared)
        if undeclared:
            raise ValueError(
                f"extra mixing layer(s) {', '.join(undeclared)} not declared by the measure's "
                "extra_layer_rates(): the discrete-event engine draws contacts only in "
                "declared layers"
            )
        self.members = {}
        for k, key in enumerate(self.keys):
            mx = self.layers.get(key)
            self._layer_at[k] = mx
            self._accept[k] = 0.0 if mx is None else mx.beta / self._bound[k]
            self._factor_at[k] = None if mx is None else mx.infectious(everyone)
            same = mx is not None and mx.susceptible_factor is mx.infectious_factor
            self._susceptible[k] = (
                self._factor_at[k] if same or mx is None else mx.susceptible(everyone)
            )
            if mx is not None and self._kind[k] == _EXTRA:
                self.members[k] = _members(mx, self._susceptible[k])

    def _clear_visitors(self) -> None:
        """Each region's residents, and no visitors yet (everyone starts the day at home).

        ``visit`` appends day-trippers as they arrive; contact picks in the region layer draw
        from the residents' range and the visitors.
        """
        bounds = self.population.region_start.tolist()
        self._region_span = [
            (bounds[g], bounds[g + 1], []) for g in range(self.population.n_regions)
        ]

    # --- travel: journeys on the roads ---------------------------------------------------
    def _start_day(self, day: int) -> None:
        """Measures' day start, today's road conditions, and today's journeys set out."""
        for m in self.active_measures(day + 0.5, "start_day"):
            m.start_day(self, day)
        t, travel = day + 0.5, self.travel
        travel.road_conditions(t)
        visited = [a for _, _, visitors in self._region_span for a in visitors]
        self.world.location[visited] = self.population.region[visited]  # everyone home
        self.region_size = self.home_size.copy()
        self._clear_visitors()
        self.journeys.trips(day, *travel.trips(t, through_roads=False))
        self.journeys.departures(day, *travel.leavers(t, through_roads=False))

    def _arrivals(self, t: float) -> None:
        """Returnees due at the boundary before the next tick set out on their way home."""
        self.journeys.arrivals(*self.travel.arriving(t, t + self.scenario.dt))

    def visit(self, agent: int, region: int) -> None:
        """A day-tripper reaches ``region``: it mixes there until the end of the day."""
        agents = self.agents
        if agents.state[agent] == _D or self.world.isolation[agent] >= _SITE:
            return
        home = agents.location[agent]
        if home == region:
            return
        agents.location[agent] = region
        self.region_size[home] -= 1
        self.region_size[region] += 1
        self._region_span[region][2].append(agent)
        self.tally.flow[agents.region[agent] * self._n_flows + self._travellers_column] += 1

    def launch(self, agent: int) -> None:
        """Start the course of an agent infected outside the contact events (a returnee)."""
        if np.isfinite(self.world.t_next[agent]):
            self._launch(agent)

    # --- natural history ------------------------------------------------------------------
    def _launch(self, i: int) -> None:
        """Schedule infected agent ``i``'s next transition (and its contacts if infectious)."""
        agents = self.agents
        Timeout(self.env, max(agents.t_next[i] - self.env.now, 0.0), i).callbacks.append(
            self._on_transition
        )
        if _P <= agents.state[i] <= _I:
            self._start_contacts(i)

    def _on_transition(self, event: simpy.Event) -> None:
        """Agent ``i``'s scheduled transition(s): the shared table, applied to one agent.

        Books the stock change and the day's count as plain numbers (see :meth:`_flush`).
        """
        i = cast(int, event.value)
        env, agents = self.env, self.agents
        now, t_next = env.now, agents.t_next[i]
        if t_next > now:  # rescheduled (e.g. an imported course set again)
            if t_next < _INF:
                Timeout(env, t_next - now, i).callbacks.append(self._transition_cb)
            return
        self.events += 1
        advance, stocks, flows = self.progression.advance_one, self.tally.stock, self.tally.flow
        region = agents.region[i]
        base, flow_base = region * _N_STATES, region * self._n_flows
        while t_next <= now:
            old = agents.state[i]
            new = advance(agents, i, old)
            stocks[base + old] -= 1
            stocks[base + new] += 1
            column = self._entry_column[new]
            if column >= 0:
                flows[flow_base + column] += 1
            if new == _P:
                self._start_contacts(i)
            if new >= _R or self._progression_hooks:
                self._after_transition(i, new, now)
            t_next = agents.t_next[i]
        if t_next < _INF:
            Timeout(env, t_next - now, i).callbacks.append(self._transition_cb)

    def _after_transition(self, i: int, new: int, t: float) -> None:
        """The rarer consequences of a transition.

        A death leaves the groups and ends isolation; a recovery schedules the discharge of
        the isolated; measures react.
        """
        one = np.array([i])
        if new == _D:
            self._resize(one, -1)
        if self._progression_hooks:
            entered = {State(new): one}
            for m in self._progression_hooks:
                if m.active(t):
                    m.after_progression(self, t, entered)
        if new == _D:
            self.world.after_transitions(None, one)
        elif new == _R and self.world.isolation[i]:
            self.world.after_transitions(one, None)

    def _flush(self) -> None:
        """Add the one-agent bookings kept as plain numbers to the stock book and today's flows."""
        self.tally.flush(self.stocks, self.recorder.flows[self.day])

    def _end_day(self, day: int) -> None:
        self._flush()
        super()._end_day(day)

    def _check(self) -> None:
        self._flush()
        super()._check()

    # --- transmission ---------------------------------------------------------------------
    def _start_contacts(self, j: int) -> None:
        multiplier = self.agents.infectiousness[j]
        if self._contact_rate > 0 and multiplier > 0:
            delay = -log(1.0 - self._random()) * self._mean_gap / multiplier
            Timeout(self.env, delay, j).callbacks.append(self._contact_cb)

    def _on_contact(self, event: simpy.Event) -> None:
        """One candidate contact of infectious agent j (thinning at the constant upper rate)."""
        j = cast(int, event.value)
        agents, rand = self.agents, self._random
        self.events += 1
        state = agents.state[j]
        if state < _P or state > _I:
            return  # no longer infectious: its contact process ends
        gap = -log(1.0 - rand()) * self._mean_gap / agents.infectiousness[j]
        Timeout(self.env, gap, j).callbacks.append(self._contact_cb)
        k = (
            0
            if self._single_layer
            else min(bisect_right(self._cum, rand() * self._total), self._last)
        )
        layer = self._layer_at[k]
        if layer is None:
            return
        factor = self._factor_at[k]
        accept = self._accept[k] * self._w[state * _N_FLAG_KEYS + agents.flags[j]]
        if factor is not None:
            accept *= factor[j]
        if rand() >= accept:
            return
        target = self._pick(k, layer, j)
        if target < 0 or agents.state[target] != _S or not agents.present[target]:
            return
        susceptible = self._susceptible[k]
        if susceptible is not None and rand() >= susceptible[target]:
            return
        self._infect(target, j, layer.source)

    def _infect(self, i: int, infector: int, source: int) -> None:
        now = self.env.now
        t_next = self.progression.infect_one(self.agents, i, now, source, infector)
        self.log.add_one(i, infector)
        if self._infection_hooks:
            self._infected_now(now, np.array([i]), np.array([infector]))
        region = self.agents.region[i]
        stocks = self.tally.stock
        stocks[region * _N_STATES + _S] -= 1
        stocks[region * _N_STATES + _S + 1] += 1
        flows, base = self.tally.flow, region * self._n_flows
        for column in self._infection_columns[source]:
            flows[base + column] += 1
        Timeout(self.env, t_next - now, i).callbacks.append(self._transition_cb)

    def _pick(self, k: int, layer: Mixing, j: int) -> int:
        """A contact of j in its current group of ``layer``, uniformly; -1 if none.

        In the household, community and region layers, and in extra layers without their own
        ``denominator``, the contact is one of the n_g - 1 other members. In an extra layer
        with a ``denominator`` (two-sided mixing, e.g. deliveries), it is one of the group's
        n_T members on the other side, taken with probability n_T / D_g (at most the bound
        the layer declared). A per-group ``scale`` thins the contact further.
        """
        agents, kind = self.agents, self._kind[k]
        order: Any = None
        extra: Sequence[int]
        if kind == _REGION_KIND:
            g = agents.location[j]
            lo, hi, extra = self._region_span[g]
        elif kind == _HOUSEHOLD_KIND:
            g = agents.household[j]
            lo, hi, extra = self._household_start[g], self._household_start[g + 1], ()
        elif kind == _COMMUNITY_KIND:
            g = agents.community[j]
            lo, hi, extra = self._community_start[g], self._community_start[g + 1], ()
        else:
            order, starts = self.members[k]
            g = int(layer.group[j])
            lo, hi, extra = starts[g], starts[g + 1], ()
        rand = self._random
        if layer.scale is not None and rand() >= layer.scale[g]:
            return -1
        if layer.denominator is not None:
            count = hi - lo
            if count == 0 or rand() >= count / layer.denominator[g]:
                return -1
            return int(order[lo + int(rand() * count)])
        if layer.size[g] <= 1:
            return -1
        home = hi - lo
        span = home + len(extra)
        state, present, location = agents.state, agents.present, agents.location
        for _ in range(MAX_PICKS):
            pick = int(rand() * span)
            if pick < home:
                cand = lo + pick if order is None else int(order[lo + pick])
            else:
                cand = extra[pick - home]
            if cand != j and present[cand] and state[cand] != _D:
                if kind != _REGION_KIND or location[cand] == g:
                    return cand
        return -1


def _members(layer: Mixing, susceptible: np.ndarray | None) -> tuple[np.ndarray, list[int]]:
    """An extra layer's possible contacts, sorted by group, and each group's offset.

    The possible contacts are the agents who can be infected in the layer (present in a
    group, with a positive susceptible-side factor).
    """
    inside = np.flatnonzero(layer.group >= 0)
    if susceptible is not None:
        inside = inside[susceptible[inside] > 0]
    group = layer.group[inside]
    order = inside if np.all(group[1:] >= group[:-1]) else inside[np.argsort(group, kind="stable")]
    starts = np.searchsorted(layer.group[order], np.arange(layer.size.size + 1))
    return order, starts.tolist()
