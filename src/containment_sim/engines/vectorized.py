"""The vectorized engine: the city as numpy arrays, advanced in fixed steps of ``dt``.

Each day plays the plan of :mod:`~containment_sim.engines.plan` (a day start, ``1 / dt``
steps, a day end); each step covers ``[t, t + dt)``. The work of a step follows the epidemic,
not the population: transitions are read from a calendar, the infectious are a sorted list
kept up to date, transmission draws contact events only in the groups the infectious are in
(:func:`~containment_sim.transmission.transmit`), and measures follow their own few people.

Agents away in the epicentre and dead agents take no part in mixing: they are excluded from
the group sizes ``n_g`` as well as from the sums. Agents kept apart stay in ``n_g``.
"""

from __future__ import annotations

import numpy as np

from containment_sim.disease import N_FLAG_KEYS
from containment_sim.engines.context import EngineContext, ProgressHook
from containment_sim.engines.plan import STEP
from containment_sim.measures.base import random_round
from containment_sim.results import Result
from containment_sim.schedule import Calendar
from containment_sim.transmission import transmit
from containment_sim.world import State

__all__ = ["ProgressHook", "VectorizedEngine"]

_P, _I = int(State.PRESYMPTOMATIC), int(State.SYMPTOMATIC)


class VectorizedEngine(EngineContext):
    """Runs one scenario (its selected ``strategy``) with the fixed-step vectorized model.

    Args:
        scenario: The scenario to run.
        check: Verify the invariants after every step (for tests; slower).
    """

    def __init__(self, scenario: object, *, check: bool = False):
        super().__init__(scenario, check=check)  # type: ignore[arg-type]
        self.progression.calendar = Calendar(
            self.scenario.dt, self.scenario.days, self.population.size
        )
        self.infectious = np.empty(0, dtype=np.int64)
        self._joining: list[np.ndarray] = []
        self._phases = [getattr(self, "_" + phase.name) for phase in STEP]

    def run(self, progress: ProgressHook | None = None) -> Result:
        """Simulate ``scenario.days`` days and return the result."""
        sc = self.scenario
        self._setup_run()
        for day in range(sc.days):
            self.day = day
            self._start_day(day)
            for k in range(sc.steps_per_day):
                t = day + k * sc.dt
                for phase in self._phases:
                    phase(t)
                if self.check:
                    self._check()
            self._end_day(day)
            if progress is not None:
                progress(1)
        return self._finish()

    # --- the phases of a step (engines.plan.STEP) ------------------------------------------
    def _arrivals(self, t: float) -> None:
        """Returnees arriving in ``[t, t + dt)``."""
        self.travel.arrivals(t, t + self.scenario.dt)

    def _progression(self, t: float) -> None:
        mid = t + self.scenario.dt / 2
        entered = self.progression.advance(self.world, mid)
        if State.PRESYMPTOMATIC in entered:
            self._joining.append(entered[State.PRESYMPTOMATIC])
        self._transitions(mid, entered)

    def _release(self, t: float) -> None:
        super()._release(t + self.scenario.dt / 2)

    def _servers(self, t: float) -> None:
        """Labs and tracing teams spend this step's capacity (rounded at random)."""
        dt = self.scenario.dt
        for m, server in self.servers:
            if m.active(t):
                n = random_round(self.rng(f"server:{server.name}"), server.rate(t) * dt)
                if n:
                    server.work(self, t, n)

    def _transmission(self, t: float) -> None:
        world = self.world
        infectious = self._update_infectious()
        if infectious.size == 0:
            return
        key = world.state[infectious].astype(np.intp) * N_FLAG_KEYS + world.flags[infectious]
        weight = self.progression.weight[key] * world.infectiousness[infectious]
        dt = self.scenario.dt
        rng = self.rng("transmission")
        new = transmit(rng, self._mixings(t), infectious, weight, t, dt, world.state, world.present)
        if new.infectee.size == 0:
            return
        self.progression.infect(world, new.infectee, new.time, new.source, new.infector)
        self.log.add(new.infectee, new.infector)
        self._infected_now(t, new.infectee, new.infector)
        self._move(new.infectee, State.SUSCEPTIBLE, State.EXPOSED)
        self.recorder.infections(self.day, self.population.region[new.infectee], new.source)

    # --- the infectious, kept up to date ------------------------------------------------------
    def imported(self, agents: np.ndarray) -> None:
        """Book returnees who arrived infected; the infectious among them join the list."""
        super().imported(agents)
        state = self.world.state[agents]
        self._joining.append(agents[(state >= _P) & (state <= _I)])

    def _update_infectious(self) -> np.ndarray:
        """The infectious agents now, sorted: last step's still infectious, and who joined."""
        state = self.world.state[self.infectious]
        infectious = self.infectious[(state >= _P) & (state <= _I)]
        if self._joining:
            joining = np.sort(np.concatenate(self._joining))
            self._joining = []
            state = self.world.state[joining]
            keep = (state >= _P) & (state <= _I)
            keep[1:] &= joining[1:] != joining[:-1]
            joining = joining[keep]
            at = np.searchsorted(infectious, joining)
            if infectious.size:  # an arrival already on the list is not added twice
                known = infectious[np.minimum(at, infectious.size - 1)] == joining
                joining, at = joining[~known], at[~known]
            infectious = np.insert(infectious, at, joining)
        self.infectious = infectious
        return infectious
