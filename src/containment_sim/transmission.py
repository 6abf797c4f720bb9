"""The transmission kernel of the vectorized engine: work in proportion to the epidemic.

Over a step of length ``dt`` a susceptible agent i in group g of a layer is infected with
probability ``1 - exp(-dt * sum_l lambda_il)`` (the hazards of :mod:`containment_sim.layers`),
the layer being chosen in proportion to the layers' hazards and the infector within the group
in proportion to ``w_j f_j``. The kernel draws exactly this without touching every agent:

1. For each layer, sum ``w_j f_j`` of the infectious agents over their groups: the groups
   touched and their rates ``F_g`` (hazard per unit susceptibility).
2. In each such group draw ``M_g ~ Poisson(slots_g * dt * F_g)`` contact events and give each to
   a slot picked uniformly: every slot receives a Poisson number of events of mean ``dt F_g``.
   (The independent ``M_g`` are drawn as their Poisson total, spread over the groups in
   proportion to their means: the same law, at the cost of the events, not of the groups.)
3. An event on an agent who is susceptible, present and in the group is accepted with
   probability ``s_i``, the agent's susceptible-side factor (thinning): the accepted events on
   i form a Poisson process of rate ``F_g s_i``. i is infected if it has at least one accepted
   event, over all layers -- probability ``1 - exp(-dt sum_l F_gl s_il)`` -- and its earliest
   event (uniform in the step) sets the time, the layer and, in proportion to ``w_j f_j``
   within the group, the infector.

The work is O(infectious + groups touched + events), not O(population).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from containment_sim.layers import Mixing

__all__ = ["Infections", "transmit"]


@dataclass(frozen=True)
class Infections:
    """Infections drawn in one step: who, by whom, in which layer (``Source`` code), when."""

    infectee: np.ndarray
    infector: np.ndarray
    source: np.ndarray
    time: np.ndarray

    @classmethod
    def none(cls) -> Infections:
        """No infections."""
        empty = np.empty(0, dtype=np.int64)
        return cls(empty, empty, empty.astype(np.int8), np.empty(0))


def transmit(
    rng: np.random.Generator,
    mixings: list[Mixing],
    infectious: np.ndarray,
    weight: np.ndarray,
    t: float,
    dt: float,
    state: np.ndarray,
    present: np.ndarray,
) -> Infections:
    """Draw the infections of the step ``[t, t + dt)``.

    Args:
        rng: The transmission stream.
        mixings: The layers mixing in this step.
        infectious: Indices of the infectious agents present, sorted.
        weight: Infectiousness ``w`` of each of them.
        t: Start of the step.
        dt: Step length in days.
        state: Disease state of every agent (0: susceptible).
        present: Whether every agent is in the city.

    Returns:
        The new infections (each agent at most once) with infectors, layers and times.
    """
    parts = [_layer(rng, mx, infectious, weight, t, dt, state, present) for mx in mixings]
    parts = [p for p in parts if p is not None]
    if not parts:
        return Infections.none()
    infectee, infector, source, time = (np.concatenate(x) for x in zip(*parts, strict=True))
    order = np.lexsort((time, infectee))
    infectee, infector, source, time = (a[order] for a in (infectee, infector, source, time))
    first = np.ones(infectee.size, dtype=bool)
    first[1:] = infectee[1:] != infectee[:-1]
    return Infections(infectee[first], infector[first], source[first], time[first])


MAX_EVENTS = 64.0
"""Most contact events per group member in one step: a member reached 64 times escapes with
probability e^-64 (per unit of susceptibility), so the cap changes nothing a rate can express."""


def _events(rng: np.random.Generator, mean: np.ndarray) -> np.ndarray:
    """Independent Poisson numbers of events with the given means, as one entry per event.

    Returns the index (into ``mean``) of each event, in increasing order: a Poisson total,
    then each event's group drawn in proportion to the means. The events' positions on the
    cumulated means are sorted uniforms (normalised partial sums of exponentials, Devroye 1986,
    section V.2), which makes the search for their groups a merge rather than random probes.
    """
    cum = np.cumsum(mean)
    if cum.size == 0 or cum[-1] <= 0:
        return np.empty(0, dtype=np.int64)
    n = rng.poisson(cum[-1])
    if n == 0:
        return np.empty(0, dtype=np.int64)
    spacing = np.cumsum(rng.standard_exponential(n + 1))
    position = spacing[:-1] * (cum[-1] / spacing[-1])
    which = np.searchsorted(cum, position, side="right")
    out: np.ndarray = np.minimum(which, mean.size - 1)
    return out


def _layer(
    rng: np.random.Generator,
    mx: Mixing,
    infectious: np.ndarray,
    weight: np.ndarray,
    t: float,
    dt: float,
    state: np.ndarray,
    present: np.ndarray,
) -> tuple[np.ndarray, ...] | None:
    """The accepted contact events of one layer: infectee, infector, source, time."""
    if mx.beta <= 0 or infectious.size == 0:
        return None
    factor = mx.infectious(infectious)
    w = weight if factor is None else weight * factor
    group = mx.group[infectious]
    on = (w > 0) & (group >= 0)
    if not on.any():
        return None
    source, w, group = infectious[on], w[on], group[on]
    if group.size > 1 and np.any(group[1:] < group[:-1]):
        order = np.argsort(group, kind="stable")
        source, w, group = source[order], w[order], group[order]
    start = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    groups = group[start]
    cum = np.cumsum(w)
    total = np.add.reduceat(w, start)
    members = mx.slots.count(groups)
    # Beyond MAX_EVENTS contact events per member and step every susceptible member is reached
    # anyway; the cap keeps absurd rates (beta of 1e12) from drawing billions of events.
    which = _events(rng, np.minimum(members * dt * mx.rate(groups, total), members * MAX_EVENTS))
    if which.size == 0:
        return None
    contact = mx.slots.pick(groups[which], rng.random(which.size))
    ok = (state[contact] == 0) & present[contact]
    if mx.present is not None:
        ok &= mx.present(contact, groups[which])
    contact, which = contact[ok], which[ok]
    s = mx.susceptible(contact)
    if s is not None:
        keep = rng.random(contact.size) < s
        contact, which = contact[keep], which[keep]
    if contact.size == 0:
        return None
    lo = start[which]
    end = np.r_[start[1:], group.size][which] - 1
    u = rng.random(contact.size)
    pos = lo.copy()  # a group with one infectious member: the infector is that member
    many = np.flatnonzero(end > lo)
    if many.size:
        first = lo[many]
        base = np.where(first > 0, cum[np.maximum(first - 1, 0)], 0.0)
        target = base + u[many] * total[which[many]]
        pos[many] = np.clip(np.searchsorted(cum, target, side="right"), first, end[many])
    time = t + dt * rng.random(contact.size)
    return contact, source[pos], np.full(contact.size, mx.source, dtype=np.int8), time
