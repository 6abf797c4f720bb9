"""The vectorized engine: the whole city as numpy arrays, advanced in fixed steps of ``dt``.

Step order (each step covers ``[t, t + dt)``; a day has ``1 / dt`` steps):

1. At the start of a day: measures' ``start_day``; roads' pass probabilities from closures
   and suspended lines (``road_pass``); the day's trips and departures are drawn and screened
   by checkpoints (``cross``). Travellers mix in the region layer of the region they visit for
   the whole day (household and community contacts continue); infectious residents leaving
   the city are counted as exported.
2. Returnees due during the step arrive on their entry roads: blocked by closed roads,
   infected with the epicentre's prevalence at arrival (at an infection age drawn for a
   growing epidemic), screened at checkpoints, then registered returnees are quarantined
   (``after_arrival``).
3. Natural history: every transition scheduled before the middle of the step happens;
   quarantines that have ended and isolation of the recovered and dead are released.
4. Measures' ``before_transmission``.
5. Transmission per layer by group aggregation (``transmission.transmit``), with each agent's
   contact factor from quarantine or isolation; new infections are timed uniformly within
   the step and record their infector and layer.
6. At the end of a day: stocks per region, measures' ``end_day``, the roads table.

Agents away in the epicentre and dead agents take no part in mixing: they are excluded from
the group sizes ``n_g`` as well as from the sums. Agents kept apart stay in ``n_g``.
"""

from __future__ import annotations

import numpy as np

from containment_sim.disease import N_FLAG_KEYS
from containment_sim.engines.base import EngineBase, ProgressHook
from containment_sim.measures.base import random_round
from containment_sim.results import Result
from containment_sim.transmission import transmit
from containment_sim.world import State

__all__ = ["ProgressHook", "VectorizedEngine"]


class VectorizedEngine(EngineBase):
    """Runs one scenario (its selected ``strategy``) with the fixed-step vectorized model.

    Args:
        scenario: The scenario to run.
        check: Verify the invariants after every step (for tests; slower).
    """

    def run(self, progress: ProgressHook | None = None) -> Result:
        """Simulate ``scenario.days`` days and return the result."""
        sc = self.scenario
        self._setup_run()
        for day in range(sc.days):
            self.day = day
            self._start_day(day)
            for k in range(sc.steps_per_day):
                self._step(day + k * sc.dt)
            self._end_day(day)
            if progress is not None:
                progress(1)
        return self._finish()

    def _step(self, t: float) -> None:
        dt = self.scenario.dt
        self._arrivals(t, t + dt)
        mid = t + dt / 2
        self._transitions(mid, self.progression.advance(self.world, mid))
        if self.world.n_kept_apart:
            self.world.release(mid)
        self._deliver_results(t)
        for m in self.active_measures(t):
            m.before_transmission(self, t)
        self._serve(t)
        self._transmit(t)
        if self.check:
            self._check()

    def _serve(self, t: float) -> None:
        """Labs and tracing teams spend this step's capacity (rounded at random)."""
        dt = self.scenario.dt
        for m, server in self.servers:
            if m.active(t):
                n = random_round(self.rng(f"server:{server.name}"), server.rate(t) * dt)
                if n:
                    server.work(self, t, n)

    def _transmit(self, t: float) -> None:
        world = self.world
        state = world.state
        infectious = np.flatnonzero((state >= State.PRESYMPTOMATIC) & (state <= State.SYMPTOMATIC))
        if infectious.size == 0:
            return
        susceptible = np.flatnonzero((state == State.SUSCEPTIBLE) & world.present)
        key = state[infectious].astype(np.intp) * N_FLAG_KEYS + world.flags[infectious]
        weight = self.progression.weight[key] * world.infectiousness[infectious]
        dt = self.scenario.dt
        rng = self.rng("transmission")
        new = transmit(rng, self._layers(t), susceptible, infectious, weight, dt)
        if new.infectee.size == 0:
            return
        # infections happen at a uniform time within the step (a constant hazard over a short
        # step): timing them all at one point would bias the phase of every later transition
        when = t + dt * rng.random(new.infectee.size)
        self.progression.infect(world, new.infectee, when, new.source, new.infector)
        self._move(new.infectee, State.SUSCEPTIBLE, State.EXPOSED)
        self.recorder.infections(self.day, self.population.region[new.infectee], new.source)
