"""The discrete-event engine (SimPy): the same model in continuous time.

Natural history and transmission are timed events:

- every infected agent is a process that waits for its next scheduled transition (the
  durations are drawn by the same :class:`~containment_sim.disease.Progression` as in the
  vectorized engine) and applies it at the exact time;
- every infectious agent j is a process making contacts: in each layer l at rate
  ``beta_l * w_j`` (its infectiousness times its contact factor in that layer) with a member
  of its current group chosen uniformly among the n_g - 1 others; a susceptible contact is
  infected with probability equal to its own contact factor. A susceptible i in group g
  therefore has hazard ``beta_l * sum_j w_j / (n_g - 1)`` -- DESIGN section 2, the process
  the vectorized engine discretises. Contacts are drawn by thinning: candidate events at the
  constant upper rate ``w_max * sum_l beta_l``, each accepted with its current probability.

Everything else is shared with the vectorized engine (:class:`~containment_sim.engines.base.
EngineBase`): movement, measures and bookkeeping run on a clock that ticks every ``dt``
(returnee arrivals, measures' ``before_transmission``, releases, contact factors), with travel
drawn at the start of each day. As ``dt`` shrinks, the vectorized engine converges to this one.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from containment_sim.disease import sample
from containment_sim.engines.base import EngineBase, ProgressHook
from containment_sim.measures.external import Checkpoint
from containment_sim.results import Result
from containment_sim.scenario import Scenario
from containment_sim.transmission import Layer
from containment_sim.world import Source, State

__all__ = ["DESEngine"]

_S, _P, _I, _D = (
    int(x) for x in (State.SUSCEPTIBLE, State.PRESYMPTOMATIC, State.SYMPTOMATIC, State.DEAD)
)
_HOUSEHOLD, _COMMUNITY, _REGION = (
    int(x) for x in (Source.HOUSEHOLD, Source.COMMUNITY, Source.REGION)
)

MAX_PICKS = 10_000
"""Rejection-sampling attempts to find a contact in a group before giving up."""


class DESEngine(EngineBase):
    """Runs one scenario in continuous time with SimPy.

    Args:
        scenario: The scenario to run (``dt`` sets the tick of the measures' clock).
        check: Verify the invariants at every tick (for tests; slower).
    """

    def __init__(self, scenario: Scenario, *, check: bool = False):
        super().__init__(scenario, check=check)
        self.env = simpy.Environment()
        self.rng_contacts = self.rng("contacts")
        pop = self.population
        self.household_start = np.searchsorted(pop.household, np.arange(pop.n_households + 1))
        self.community_start = np.searchsorted(pop.community, np.arange(pop.n_communities + 1))
        self.launched = np.zeros(pop.size, dtype=bool)
        self.w_max = float(self.infectiousness.max())
        beta = scenario.transmission.beta
        bounds = {Source.HOUSEHOLD: beta.household, Source.COMMUNITY: beta.community,
                  Source.REGION: beta.region}  # fmt: skip
        for m in self.measures:
            for source, rate in m.extra_layer_rates().items():
                bounds[source] = max(bounds.get(source, 0.0), rate)
        self.sources = [s for s, b in bounds.items() if b > 0]
        self.bound = np.array([bounds[s] for s in self.sources])
        self.layers: dict[int, Layer] = {}
        self.members: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self.visitors = (np.empty(0, dtype=np.int64), np.zeros(pop.n_regions + 1, dtype=np.int64))
        self.events = 0
        self.lanes: dict[str, simpy.Resource] = {}

    # --- the run -----------------------------------------------------------------------------
    def run(self, progress: ProgressHook | None = None) -> Result:
        """Simulate ``scenario.days`` days and return the result."""
        self._setup_run()
        for i in np.flatnonzero(np.isfinite(self.world.t_next)):
            self._launch(int(i))
        self.env.process(self._clock(progress))
        self.env.run(until=self.scenario.days)
        self._end_day(self.scenario.days - 1)
        if progress is not None:
            progress(1)
        return self._finish()

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
            self._index_visitors()
            for k in range(sc.steps_per_day):
                t = day + k * sc.dt
                if t > self.env.now:
                    yield self.env.timeout(t - self.env.now)
                self._tick(t)

    def _tick(self, t: float) -> None:
        self._arrivals(t, t + self.scenario.dt)
        for i in np.flatnonzero(np.isfinite(self.world.t_next) & ~self.launched):
            self._launch(int(i))  # returnees who arrived infected
        if self.world.n_kept_apart:
            self.world.release(t)
        self._deliver_results(t)
        for m in self.active_measures(t):
            m.before_transmission(self, t)
        self.layers = {ly.source: ly for ly in self._layers(t)}
        self.members = {s: _members(ly) for s, ly in self.layers.items() if s > Source.REGION}
        for name, lanes in self.lanes.items():
            self.record(
                "checkpoint_queues",
                time=t,
                checkpoint=name,
                waiting=len(lanes.queue),
                in_service=lanes.count,
            )
        if self.check:
            self._check()

    def _index_visitors(self) -> None:
        """Travellers of the day grouped by the region they visit (for contact picks)."""
        away = np.flatnonzero(self.world.location != self.population.region)
        order = away[np.argsort(self.world.location[away], kind="stable")]
        starts = np.searchsorted(
            self.world.location[order], np.arange(self.population.n_regions + 1)
        )
        self.visitors = (order, starts)

    # --- checkpoints with lanes -------------------------------------------------------------
    def checkpoint_queue(self, checkpoint: Checkpoint, agents: np.ndarray, t: float) -> None:
        """Today's travellers reach ``checkpoint`` between 06:00 and 18:00 and queue there."""
        day = float(np.floor(t))
        self.enqueue(checkpoint, agents, day + 0.25 + 0.5 * checkpoint.rng.random(agents.size))

    def enqueue(self, checkpoint: Checkpoint, agents: np.ndarray, when: np.ndarray) -> None:
        """Travellers ``agents`` reach the checkpoint at times ``when`` (one process each)."""
        if checkpoint.name not in self.lanes:
            self.lanes[checkpoint.name] = simpy.Resource(self.env, capacity=checkpoint.spec.lanes)
        lanes = self.lanes[checkpoint.name]
        for agent, at in zip(agents.tolist(), when.tolist(), strict=True):
            self.env.process(self._traveller(checkpoint, lanes, agent, at))

    def _traveller(
        self, checkpoint: Checkpoint, lanes: simpy.Resource, agent: int, at: float
    ) -> Generator[simpy.Event, Any, None]:
        """One traveller at a checkpoint.

        The traveller queues for a lane, gives up after ``patience``, or is checked for
        ``service_time`` and screened.
        """
        spec, env = checkpoint.spec, self.env
        if at > env.now:
            yield env.timeout(at - env.now)
        if spec.capacity == 0 and spec.service_time is None:  # nobody staffs it: all pass
            checkpoint.counts["unchecked"] += 1
            self._log(checkpoint, agent, at, np.nan, env.now, "passed_unchecked")
            return
        with lanes.request() as request:
            waited = yield (request | env.timeout(spec.patience)) if spec.patience else request
            if spec.patience and request not in waited:
                outcome = "turned_back" if spec.on_timeout == "turn_back" else "passed_unchecked"
                if outcome == "turned_back":
                    self._cancel_trip(agent)
                checkpoint.counts["unchecked"] += 1
                self._log(checkpoint, agent, at, np.nan, env.now, outcome)
                return
            start = env.now
            service = spec.service_time
            duration = (
                sample(service, checkpoint.rng, 1)[0] if service else spec.mean_service_time()
            )
            yield env.timeout(duration)
        detected, _ = checkpoint.screen(self, env.now, np.array([agent]), "trip")
        if detected[0]:
            self._cancel_trip(agent)
        self._log(checkpoint, agent, at, start, env.now, "detected" if detected[0] else "screened")

    def _log(
        self,
        checkpoint: Checkpoint,
        agent: int,
        arrival: float,
        start: float,
        end: float,
        outcome: str,
    ) -> None:
        self.record(
            "checkpoint_log",
            checkpoint=checkpoint.name,
            agent=agent,
            arrival=arrival,
            start=start,
            end=end,
            wait=(start if start == start else end) - arrival,
            outcome=outcome,
        )

    def _cancel_trip(self, agent: int) -> None:
        """A traveller who turns back (or is isolated) spends the day in their home region."""
        world, home = self.world, int(self.population.region[agent])
        away = int(world.location[agent])
        if away != home:
            world.location[agent] = home
            if world.present[agent] and world.state[agent] != _D:
                self.region_size[away] -= 1
                self.region_size[home] += 1

    # --- natural history ------------------------------------------------------------------
    def _launch(self, i: int) -> None:
        self.launched[i] = True
        self.env.process(self._life(i))
        state = self.world.state[i]
        if State.PRESYMPTOMATIC <= state <= State.SYMPTOMATIC:
            self.env.process(self._contacts(i))

    def _life(self, i: int) -> Generator[simpy.Event, Any, None]:
        """An infected agent's course: each transition at its scheduled time."""
        world, one = self.world, np.array([i])
        while np.isfinite(world.t_next[i]):
            wait = world.t_next[i] - self.env.now
            if wait > 0:
                yield self.env.timeout(wait)
            self.events += 1
            entered = self.progression.advance(world, self.env.now, among=one)
            self._transitions(self.env.now, entered)
            if _P in entered:
                self.env.process(self._contacts(i))

    # --- transmission ---------------------------------------------------------------------
    def _contacts(self, j: int) -> Generator[simpy.Event, Any, None]:
        """Contacts of infectious agent j, by thinning a Poisson process at the upper rate."""
        total = float(self.bound.sum()) * self.w_max
        if total <= 0:
            return
        rng, world = self.rng_contacts, self.world
        cum = np.cumsum(self.bound).tolist()
        last = len(cum) - 1
        while True:
            yield self.env.timeout(rng.exponential(1.0 / total))
            self.events += 1
            state = world.state[j]
            if not _P <= state <= _I:
                return
            k = min(bisect_right(cum, rng.random() * cum[-1]), last)
            layer = self.layers.get(self.sources[k])
            if layer is None:
                continue
            f_j = 1.0 if layer.factor is None else float(layer.factor[j])
            accept = (layer.beta / self.bound[k]) * (self.infectiousness[state] * f_j / self.w_max)
            if rng.random() >= accept:
                continue
            target = self._pick(layer, j)
            if target < 0 or world.state[target] != _S or not world.present[target]:
                continue
            if layer.factor is not None and rng.random() >= layer.factor[target]:
                continue
            self._infect(target, j, layer.source)

    def _infect(self, i: int, infector: int, source: int) -> None:
        one = np.array([i])
        self.progression.infect(self.world, one, self.env.now, source, infector)
        self._move(one, _S, _S + 1)  # susceptible -> exposed
        self.recorder.infections(self.day, self.population.region[one], source)
        self._launch(i)

    def _pick(self, layer: Layer, j: int) -> int:
        """A member of j's current group in ``layer`` other than j, uniformly; -1 if none."""
        pop, world = self.population, self.world
        source, extra = layer.source, None
        if source == _HOUSEHOLD:
            g = int(pop.household[j])
            lo, hi, n = self.household_start[g], self.household_start[g + 1], layer.size[g]
        elif source == _COMMUNITY:
            g = int(pop.community[j])
            lo, hi, n = self.community_start[g], self.community_start[g + 1], layer.size[g]
        elif source == _REGION:
            g = int(world.location[j])
            lo, hi, n = pop.region_start[g], pop.region_start[g + 1], layer.size[g]
            order, starts = self.visitors
            extra = order[starts[g] : starts[g + 1]]
        else:
            order, starts = self.members[source]
            g = int(layer.group[j])
            lo, hi, n = 0, 0, layer.size[g]
            extra = order[starts[g] : starts[g + 1]]
        if n <= 1:
            return -1
        n_extra = 0 if extra is None else extra.size
        span = hi - lo + n_extra
        rng = self.rng_contacts
        for _ in range(MAX_PICKS):
            k = int(rng.random() * span)
            cand = lo + k if k < hi - lo else int(extra[k - (hi - lo)])  # type: ignore[index]
            if cand != j and world.present[cand] and world.state[cand] != _D:
                if source != _REGION or world.location[cand] == g:
                    return cand
        return -1


def _members(layer: Layer) -> tuple[np.ndarray, np.ndarray]:
    """Agents with a positive factor in an extra layer, sorted by group, and group offsets."""
    assert layer.factor is not None, "extra layers give every agent a factor"
    inside = np.flatnonzero(layer.factor > 0)
    order = inside[np.argsort(layer.group[inside], kind="stable")]
    starts = np.searchsorted(layer.group[order], np.arange(layer.size.size + 1))
    return order, starts
