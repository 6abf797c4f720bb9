"""A calendar of agents due at future times, bucketed by engine step.

The vectorized engine advances in steps of ``dt``; at step ``k`` it handles everything due by
the step's middle ``(k + 1/2) dt``. Instead of scanning every agent for what is due, agents are
filed, when their time is set, in the bucket of the first step whose middle is at or after that
time; a step then reads its own bucket only. Times can change after filing (a course restarted,
a quarantine extended), so a bucket may hold stale entries: the owner checks each popped agent
against its current time, and every current time has its own entry.
"""

from __future__ import annotations

import math

import numpy as np

from containment_sim.arrays import distinct

__all__ = ["Calendar"]


class Calendar:
    """Agents filed by the step at whose middle they become due.

    Args:
        dt: Step length (days).
        horizon: Days simulated; entries due after the last step are not kept.
        population: Number of agents (for de-duplicating in linear time).
    """

    def __init__(self, dt: float, horizon: float, population: int = 0):
        self.dt = dt
        self.n_steps = round(horizon / dt) + 1
        self._buckets: list[list[np.ndarray]] = [[] for _ in range(self.n_steps)]
        self._next = 0  # buckets before this one have been read
        self._step_type = np.int16 if self.n_steps < 2**15 else np.int32
        self._last_seen = np.zeros(population, dtype=np.int32)  # for de-duplication

    def step_of(self, times: np.ndarray) -> np.ndarray:
        """The step at whose middle each time is due: the smallest k with (k + 1/2) dt >= t."""
        return np.ceil(np.asarray(times, dtype=float) / self.dt - 0.5 - 1e-9).astype(np.int64)

    def file(self, agents: np.ndarray, times: np.ndarray | float) -> None:
        """File ``agents`` as due at ``times`` (``inf`` and times past the horizon are dropped)."""
        if agents.size == 0:
            return
        when = np.broadcast_to(np.asarray(times, dtype=float), agents.shape)
        finite = np.isfinite(when)
        agents, when = agents[finite], when[finite]
        if agents.size == 0:
            return
        step = np.maximum(self.step_of(when), self._next)
        keep = step < self.n_steps
        agents, step = agents[keep], step[keep]
        if agents.size == 0:
            return
        if agents.size == 1 or step.min() == step.max():
            self._buckets[int(step[0])].append(agents)
            return
        order = np.argsort(step.astype(self._step_type), kind="stable")  # a radix sort
        agents, step = agents[order], step[order]
        cuts = np.flatnonzero(np.diff(step)) + 1
        for part, k in zip(np.split(agents, cuts), step[np.r_[0, cuts]].tolist(), strict=True):
            self._buckets[k].append(part)

    def pop(self, t: float) -> np.ndarray:
        """Agents of every unread bucket that may hold entries due by time ``t`` (each once).

        At a step's middle every entry returned is due (at most stale). At other times (the
        discrete-event engine's ticks) the last bucket may hold entries due later: the caller
        checks each agent against its current due time and files the ones not yet due again.
        """
        last = min(math.ceil(t / self.dt + 0.5 - 1e-9) - 1, self.n_steps - 1)
        parts: list[np.ndarray] = []
        while self._next <= last:
            parts.extend(self._buckets[self._next])
            self._buckets[self._next] = []
            self._next += 1
        if not parts:
            return np.empty(0, dtype=np.int64)
        return self._distinct(np.concatenate(parts))

    def _distinct(self, agents: np.ndarray) -> np.ndarray:
        """``agents`` without repeats, in O(len(agents)) (the order is not kept)."""
        if agents.size < 2:
            return agents
        if self._last_seen.size <= int(agents.max()):
            return distinct(agents)
        position = np.arange(agents.size, dtype=np.int32)
        self._last_seen[agents] = position
        out: np.ndarray = agents[self._last_seen[agents] == position]
        return out

    def __len__(self) -> int:
        """Entries still filed (stale ones included)."""
        return sum(a.size for bucket in self._buckets[self._next :] for a in bucket)
