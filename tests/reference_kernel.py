"""A dense reference for the transmission kernel: every susceptible agent's hazard, every step.

This is how the vectorized engine drew infections before its cost followed the epidemic: for
each layer, the rate of every group from the summed infectiousness of its members, then each
susceptible agent present is infected with probability ``1 - exp(-dt * sum of its hazards)``,
the layer chosen in proportion to the hazards and the infector within the group in proportion
to ``w f``. It reads the same :class:`~containment_sim.layers.Mixing` objects as the engine,
evaluating their factors for everyone. Tests compare the engine against it.
"""

from __future__ import annotations

import numpy as np

from containment_sim.disease import N_FLAG_KEYS
from containment_sim.engines import VectorizedEngine
from containment_sim.layers import Mixing
from containment_sim.transmission import Infections
from containment_sim.world import State


def dense_hazards(
    mixings: list[Mixing], infectious: np.ndarray, weight: np.ndarray, candidates: np.ndarray
) -> tuple[list[Mixing], list[np.ndarray], list[tuple[np.ndarray, np.ndarray, np.ndarray]]]:
    """Each layer's hazard on ``candidates``, and what picking infectors needs."""
    used, hazards, pickers = [], [], []
    for mx in mixings:
        factor = mx.infectious(infectious)
        w = weight if factor is None else weight * factor
        group = mx.group[infectious]
        on = (w > 0) & (group >= 0)
        if not on.any() or mx.beta <= 0:
            continue
        n_groups = mx.size.size
        total = np.bincount(group[on], weights=w[on], minlength=n_groups)
        rate = mx.rate(np.arange(n_groups), total)
        g = mx.group[candidates]
        inside = g >= 0
        if mx.present is not None:
            inside &= mx.present(candidates, np.where(inside, g, 0))
        hazard = np.where(inside, rate[np.where(inside, g, 0)], 0.0)
        s = mx.susceptible(candidates)
        if s is not None:
            hazard = hazard * s
        used.append(mx)
        hazards.append(hazard)
        pickers.append((infectious[on], w[on], total))
    return used, hazards, pickers


def dense_transmit(
    rng: np.random.Generator,
    mixings: list[Mixing],
    infectious: np.ndarray,
    weight: np.ndarray,
    t: float,
    dt: float,
    susceptible: np.ndarray,
) -> Infections:
    """The infections of one step, drawn agent by agent for every susceptible agent present."""
    used, hazards, pickers = dense_hazards(mixings, infectious, weight, susceptible)
    if not used:
        return Infections.none()
    stack = np.vstack(hazards)
    hit = rng.random(susceptible.size) < -np.expm1(-dt * stack.sum(axis=0))
    infectee, stack = susceptible[hit], stack[:, hit]
    cum = np.cumsum(stack, axis=0)
    pick = np.minimum((rng.random(infectee.size) * cum[-1] >= cum).sum(axis=0), len(used) - 1)
    infector = np.empty(infectee.size, dtype=np.int64)
    for k, (mx, (source, w, total)) in enumerate(zip(used, pickers, strict=True)):
        mine = np.flatnonzero(pick == k)
        group = mx.group[source]
        order = np.argsort(group, kind="stable")
        cumw, sorted_group = np.cumsum(w[order]), group[order]
        g = mx.group[infectee[mine]]
        first = np.searchsorted(sorted_group, g, side="left")
        base = np.where(first > 0, cumw[np.maximum(first - 1, 0)], 0.0)
        pos = np.searchsorted(cumw, base + rng.random(mine.size) * total[g], side="right")
        last = np.searchsorted(sorted_group, g, side="right") - 1
        infector[mine] = source[order[np.clip(pos, first, last)]]
    source = np.array([mx.source for mx in used], dtype=np.int8)[pick]
    time = t + dt * rng.random(infectee.size)
    return Infections(infectee, infector, source, time)


class DenseEngine(VectorizedEngine):
    """The vectorized engine with the dense reference kernel."""

    def _transmission(self, t: float) -> None:
        world = self.world
        infectious = self._update_infectious()
        if infectious.size == 0:
            return
        key = world.state[infectious].astype(np.intp) * N_FLAG_KEYS + world.flags[infectious]
        weight = self.progression.weight[key] * world.infectiousness[infectious]
        susceptible = np.flatnonzero((world.state == State.SUSCEPTIBLE) & world.present)
        dt = self.scenario.dt
        new = dense_transmit(
            self.rng("transmission"), self._mixings(t), infectious, weight, t, dt, susceptible
        )
        if new.infectee.size == 0:
            return
        self.progression.infect(world, new.infectee, new.time, new.source, new.infector)
        self.log.add(new.infectee, new.infector)
        self._move(new.infectee, State.SUSCEPTIBLE, State.EXPOSED)
        self.recorder.infections(self.day, self.population.region[new.infectee], new.source)
