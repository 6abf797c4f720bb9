"""Mixing layers: who meets whom, at what rate, and how a contact is picked.

A layer partitions the agents present into groups (households, villages and compounds,
regions, quarantine sites, a community's deliveries, ...). A susceptible agent i in group g of
layer l has hazard (DESIGN section 2)

    lambda_i = beta_l * scale_g * s_i * sum_{j in g} w_j f_j / D_g,

with ``w_j`` j's infectiousness, ``f_j`` and ``s_i`` the contact factors of the infectious and
the susceptible side (isolation, quarantine, closure), ``D_g = n_g - 1`` (frequency-dependent
mixing among the group's ``n_g`` members present) unless the layer gives its own divisor, and
``scale_g`` a multiplier of the group's rate (people staying at home).

Two kinds of object live here:

- a :class:`LayerDef` is a layer of the model: its name (the key of ``transmission.beta``), the
  ``Source`` code and result column of its infections, and how its groups are formed from the
  population. The built-in layers are ``household``, ``community`` and ``region``; a new one
  (workplaces, schools) is a new definition plus the population's group of each agent.
- a :class:`Mixing` is one layer during one step: the rate, the groups and their sizes, how a
  member of a group is picked (:class:`Slots`), and the factor functions, evaluated only on the
  agents the engine asks about (the infectious, and the contacts it draws).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from containment_sim.world import Source

__all__ = [
    "LAYERS",
    "LayerDef",
    "ListSlots",
    "Mixing",
    "RangeSlots",
    "RegionSlots",
    "Slots",
]

Factor = Callable[[np.ndarray], "np.ndarray | None"]
"""Contact factor of the given agents (``None``: 1 for all)."""


class Slots:
    """The members of each group one can meet, to pick uniformly among them.

    The slots of a group may include agents who are not there now (away, dead, travelling):
    a contact drawn on such a slot is simply lost, so the number of contact events of a group
    is drawn for all its slots and each slot receives contacts at the per-member rate.
    """

    def count(self, groups: np.ndarray) -> np.ndarray:
        """Number of slots of each group."""
        raise NotImplementedError

    def pick(self, groups: np.ndarray, u: np.ndarray) -> np.ndarray:
        """For each entry of ``groups``, the agent in slot ``floor(u * count)`` of that group."""
        raise NotImplementedError

    def agents(self, group: int) -> np.ndarray:
        """Every slot of one group, in slot order."""
        n = int(self.count(np.array([group]))[0])
        return self.pick(np.full(n, group), (np.arange(n) + 0.5) / max(n, 1))


@dataclass(frozen=True)
class RangeSlots(Slots):
    """Groups that are contiguous ranges of agents: group g is ``start[g]`` to ``start[g+1]-1``."""

    start: np.ndarray

    def count(self, groups: np.ndarray) -> np.ndarray:
        """Number of slots of each group."""
        out: np.ndarray = self.start[groups + 1] - self.start[groups]
        return out

    def pick(self, groups: np.ndarray, u: np.ndarray) -> np.ndarray:
        """For each entry of ``groups``, the agent in slot ``floor(u * count)`` of that group."""
        lo = self.start[groups]
        out: np.ndarray = lo + (u * (self.start[groups + 1] - lo)).astype(np.int64)
        return out


@dataclass(frozen=True)
class ListSlots(Slots):
    """Groups listed explicitly: ``order`` holds the members sorted by group, ``start`` offsets."""

    order: np.ndarray
    start: np.ndarray

    @classmethod
    def of(cls, members: np.ndarray, group: np.ndarray, n_groups: int) -> ListSlots:
        """Slots of ``members`` whose groups are ``group`` (one per member)."""
        order = np.argsort(group, kind="stable")
        start = np.searchsorted(group[order], np.arange(n_groups + 1))
        return cls(members[order], start)

    def count(self, groups: np.ndarray) -> np.ndarray:
        """Number of slots of each group."""
        out: np.ndarray = self.start[groups + 1] - self.start[groups]
        return out

    def pick(self, groups: np.ndarray, u: np.ndarray) -> np.ndarray:
        """For each entry of ``groups``, the agent in slot ``floor(u * count)`` of that group."""
        lo = self.start[groups]
        out: np.ndarray = self.order[lo + (u * (self.start[groups + 1] - lo)).astype(np.int64)]
        return out


@dataclass(frozen=True)
class RegionSlots(Slots):
    """A region's residents (a contiguous range) followed by today's visitors.

    A resident travelling elsewhere today still has a slot at home; a contact drawn on it is
    lost (the engine admits a contact in a region only if the agent is there).
    """

    start: np.ndarray
    visitors: ListSlots

    def count(self, groups: np.ndarray) -> np.ndarray:
        """Residents plus today's visitors of each region."""
        out: np.ndarray = self.start[groups + 1] - self.start[groups] + self.visitors.count(groups)
        return out

    def pick(self, groups: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Residents first, then visitors, in slot order."""
        lo, residents = self.start[groups], self.start[groups + 1] - self.start[groups]
        k = (u * self.count(groups)).astype(np.int64)
        home = k < residents
        out = np.empty(groups.size, dtype=np.int64)
        out[home] = lo[home] + k[home]
        away = ~home
        if away.any():
            g = groups[away]
            offset = k[away] - residents[away]
            out[away] = self.visitors.order[self.visitors.start[g] + offset]
        return out


@dataclass
class Mixing:
    """One layer during one step: what the transmission kernel needs.

    Attributes:
        key: Unique name in the step (several mixings may share a ``source``).
        source: The ``Source`` code recorded for infections in it.
        beta: Transmission rate (per day).
        group: Group of every agent (indexable by agent id; -1: in no group).
        size: Members present in each group (``n_g``).
        slots: How a member of a group is picked.
        infectious_factor: Contact factor of infectious agents (``None``: 1).
        susceptible_factor: Contact factor of susceptible agents (``None``: 1).
        denominator: Divisor of each group's summed infectiousness (default ``n_g - 1``).
        scale: Multiplier of each group's rate, at most 1 (default 1).
        present: Whether an agent drawn in group g is there now (``None``: if it is present in
            the city and alive, which the engine checks anyway).
    """

    key: str
    source: int
    beta: float
    group: np.ndarray
    size: np.ndarray
    slots: Slots
    infectious_factor: Factor | None = None
    susceptible_factor: Factor | None = None
    denominator: np.ndarray | None = None
    scale: np.ndarray | None = None
    present: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None

    def rate(self, groups: np.ndarray, total: np.ndarray) -> np.ndarray:
        """Hazard per unit susceptibility in ``groups`` whose summed ``w f`` is ``total``."""
        if self.denominator is None:
            size = self.size[groups]
            rate = np.where(size > 1, self.beta * total / np.maximum(size - 1, 1), 0.0)
        else:
            divisor = self.denominator[groups]
            rate = np.zeros(groups.size)
            np.divide(self.beta * total, divisor, out=rate, where=divisor > 0)
        return rate if self.scale is None else rate * self.scale[groups]

    def infectious(self, agents: np.ndarray) -> np.ndarray | None:
        """The infectious side's factor of ``agents`` (``None``: all 1)."""
        return None if self.infectious_factor is None else self.infectious_factor(agents)

    def susceptible(self, agents: np.ndarray) -> np.ndarray | None:
        """The susceptible side's factor of ``agents`` (``None``: all 1)."""
        return None if self.susceptible_factor is None else self.susceptible_factor(agents)


@dataclass(frozen=True)
class LayerDef:
    """A mixing layer of the model.

    Attributes:
        name: The layer's name: its key in ``transmission.beta`` and in contact factors.
        source: ``Source`` code of its infections (their ``source`` in the infections table).
        description: One line for the docs.
        group_attribute: The ``Population`` attribute giving each agent's group (static
            layers); ``None`` for the region layer, whose groups are where people are today.
    """

    name: str
    source: Source
    description: str
    group_attribute: str | None = None
    column: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "column", f"new_infections_{self.source.name.lower()}")


LAYERS: tuple[LayerDef, ...] = (
    LayerDef("household", Source.HOUSEHOLD, "members of the same household", "household"),
    LayerDef(
        "community",
        Source.COMMUNITY,
        "residents of the same village or residential compound (村/小区)",
        "community",
    ),
    LayerDef(
        "region",
        Source.REGION,
        "people in the same county-level region today (markets, work), visitors included",
    ),
)
"""The built-in layers, in the order their rates appear in ``transmission.beta``."""
