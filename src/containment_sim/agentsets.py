"""Sets of agents kept up to date at the cost of their changes, not of the population.

Measures follow small groups of people (suspected cases, contacts under observation, people
at a site) inside a population of millions. An :class:`AgentSet` answers "is agent i in?" in
O(1) through a full-length mask, and lists its members at the cost of the members and the
changes since the last listing, never of the population.
"""

from __future__ import annotations

import numpy as np

from containment_sim.arrays import distinct

__all__ = ["AgentSet"]


class AgentSet:
    """A set of agent indices over a population of ``n``.

    Args:
        n: Population size.
    """

    def __init__(self, n: int):
        self.mask = np.zeros(n, dtype=bool)
        self._parts: list[np.ndarray] = []
        self._size = 0

    def add(self, agents: np.ndarray) -> np.ndarray:
        """Add agents; returns those that were not in the set."""
        agents = distinct(agents)
        new = agents[~self.mask[agents]]
        if new.size:
            self.mask[new] = True
            self._parts.append(new)
            self._size += new.size
        out: np.ndarray = new
        return out

    def discard(self, agents: np.ndarray) -> np.ndarray:
        """Remove agents; returns those that were in the set."""
        agents = distinct(agents)
        gone = agents[self.mask[agents]]
        self.mask[gone] = False
        self._size -= gone.size
        out: np.ndarray = gone
        return out

    def members(self) -> np.ndarray:
        """The members, sorted."""
        if len(self._parts) != 1 or self._parts[0].size != self._size:
            every = np.concatenate(self._parts) if self._parts else np.empty(0, np.int64)
            every = distinct(every[self.mask[every]])
            self._parts = [every]
        return self._parts[0]

    def keep(self, still: np.ndarray) -> np.ndarray:
        """Keep only the members for which ``still`` (aligned with :meth:`members`) is true.

        Returns:
            The members removed.
        """
        members = self.members()
        gone = members[~still]
        self.mask[gone] = False
        self._parts = [members[still]]
        self._size = self._parts[0].size
        out: np.ndarray = gone
        return out

    def counts(self, group: np.ndarray, n_groups: int) -> np.ndarray:
        """Members per group, where ``group`` is the group of every agent."""
        return np.bincount(group[self.members()], minlength=n_groups)

    def __contains__(self, agent: object) -> bool:
        return isinstance(agent, int | np.integer) and bool(self.mask[agent])

    def __len__(self) -> int:
        return self._size
