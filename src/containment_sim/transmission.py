"""Force of infection by group aggregation, infection draws and infector attribution.

A layer (household, community, region, ...) partitions the agents present into groups. A
susceptible agent i in group g of layer l has hazard (DESIGN section 2)

    lambda_i = beta_l * sum_{j in g, j != i} w_j / (n_g - 1),

where ``w_j`` is j's current infectiousness (times any isolation factor) and ``n_g`` is the
number of agents present in g. Sums run over groups with ``np.bincount``; no Python loop touches
single agents. Over a step of length dt, i is infected with probability 1 - exp(-dt sum_l
lambda_i,l); the layer is then chosen in proportion to the layers' hazards and the infector
within the group in proportion to w.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Infections", "Layer", "transmit"]


@dataclass(frozen=True)
class Layer:
    """One mixing layer for one step.

    A susceptible agent i in group g has hazard ``beta * scale_g * s_i * sum_j w_j f_j / D_g``
    with ``f`` the ``factor`` of infectious members, ``s`` the ``susceptibility`` (the same
    ``factor`` unless given) and ``D_g`` the ``denominator`` (``n_g - 1`` unless given).

    Attributes:
        source: The ``Source`` code recorded for infections in this layer.
        beta: Transmission rate (per day).
        group: Group of every agent (indexable by agent id).
        size: Number of agents present in each group.
        factor: Per-agent contact multiplier in this layer (quarantine, isolation, closure),
            applied to infectiousness, and to susceptibility unless ``susceptibility`` is
            given; ``None`` means 1 for all.
        susceptibility: Per-agent multiplier of being infected, for layers in which the two
            sides differ (e.g. purchasing agents infect the residents they serve and are
            infected by them, residents never infect each other).
        denominator: Per-group divisor of the summed infectiousness (default ``n_g - 1``:
            frequency-dependent mixing among the group's members).
        scale: Per-group multiplier of the rate (e.g. people staying at home in some regions).
        key: Unique name of the layer in a step (two layers may share a ``source``).
    """

    source: int
    beta: float
    group: np.ndarray
    size: np.ndarray
    factor: np.ndarray | None = None
    susceptibility: np.ndarray | None = None
    denominator: np.ndarray | None = None
    scale: np.ndarray | None = None
    key: str = ""

    def group_rate(self, total: np.ndarray) -> np.ndarray:
        """Hazard per unit susceptibility in each group, from the groups' summed ``w f``."""
        if self.denominator is None:
            rate = np.where(self.size > 1, self.beta * total / np.maximum(self.size - 1, 1), 0.0)
        else:
            rate = self.beta * total / np.maximum(self.denominator, 1e-12)
        return rate if self.scale is None else rate * self.scale

    def susceptible_factor(self) -> np.ndarray | None:
        """The per-agent multiplier of being infected (``None``: 1 for all)."""
        return self.factor if self.susceptibility is None else self.susceptibility


@dataclass(frozen=True)
class Infections:
    """Infections drawn in one step: who, by whom, in which layer (``Source`` code)."""

    infectee: np.ndarray
    infector: np.ndarray
    source: np.ndarray


def transmit(
    rng: np.random.Generator,
    layers: list[Layer],
    susceptible: np.ndarray,
    infectious: np.ndarray,
    weight: np.ndarray,
    dt: float,
) -> Infections:
    """Draw the infections of one step.

    Args:
        rng: The transmission stream.
        layers: The mixing layers.
        susceptible: Indices of susceptible agents present (sorted).
        infectious: Indices of infectious agents present.
        weight: Infectiousness ``w`` of each agent in ``infectious``.
        dt: Step length in days.

    Returns:
        The new infections with their infectors and layers.
    """
    active = [ly for ly in layers if ly.beta > 0]
    if not active or infectious.size == 0 or susceptible.size == 0:
        empty = np.empty(0, dtype=np.int64)
        return Infections(empty, empty, empty.astype(np.int8))
    rates, sums, weights, used = [], [], [], []
    for ly in active:
        w = weight if ly.factor is None else weight * ly.factor[infectious]
        if not w.any():
            continue  # nobody infectious mixes in this layer now
        total = np.bincount(ly.group[infectious], weights=w, minlength=ly.size.size)
        rates.append(ly.group_rate(total))
        sums.append(total)
        weights.append(w)
        used.append(ly)
    active = used
    if not active:
        empty = np.empty(0, dtype=np.int64)
        return Infections(empty, empty, empty.astype(np.int8))
    hazard = np.zeros(susceptible.size)
    for ly, rate in zip(active, rates, strict=True):
        hazard += _agent_rate(ly, rate, susceptible)
    hit = rng.random(susceptible.size) < -np.expm1(-dt * hazard)
    infectee = susceptible[hit]
    per_layer = np.stack(
        [_agent_rate(ly, rate, infectee) for ly, rate in zip(active, rates, strict=True)]
    )
    cum = np.cumsum(per_layer, axis=0)
    pick = (rng.random(infectee.size) * cum[-1] >= cum).sum(axis=0)
    pick = np.minimum(pick, len(active) - 1)
    infector = np.empty(infectee.size, dtype=np.int64)
    for k, ly in enumerate(active):
        mine = pick == k
        infector[mine] = _pick_infectors(rng, ly, infectee[mine], infectious, weights[k], sums[k])
    source = np.array([ly.source for ly in active], dtype=np.int8)[pick]
    return Infections(infectee, infector, source)


def _agent_rate(layer: Layer, rate: np.ndarray, agents: np.ndarray) -> np.ndarray:
    """Hazard of ``agents`` in ``layer``: their group's rate times their own contact factor."""
    out = rate[layer.group[agents]]
    susceptibility = layer.susceptible_factor()
    return out if susceptibility is None else out * susceptibility[agents]


def _pick_infectors(
    rng: np.random.Generator,
    layer: Layer,
    infectee: np.ndarray,
    infectious: np.ndarray,
    weight: np.ndarray,
    group_weight: np.ndarray,
) -> np.ndarray:
    """For each infectee, an infectious member of its group chosen with probability ∝ w."""
    if infectee.size == 0:
        return np.empty(0, dtype=np.int64)
    groups = layer.group[infectious]
    order = np.argsort(groups, kind="stable")
    sorted_groups = groups[order]
    cum = np.cumsum(weight[order])
    g = layer.group[infectee]
    first = np.searchsorted(sorted_groups, g, side="left")
    last = np.searchsorted(sorted_groups, g, side="right") - 1
    base = np.where(first > 0, cum[np.maximum(first - 1, 0)], 0.0)
    target = base + rng.random(infectee.size) * group_weight[g]
    pos = np.clip(np.searchsorted(cum, target, side="right"), first, last)
    return infectious[order[pos]]
