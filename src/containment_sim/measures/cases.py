"""Case management shared by the internal measures (内防扩散).

The case book knows who is suspected, tested, confirmed or under observation as a close
contact.

Measures talk to each other only through this book: care seeking and tracing request tests,
testing confirms, and confirmation notifies its listeners (hospital beds, tracing, reactive
community closure). One book exists per run (``ctx.service(CaseBook)``).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum

import numpy as np

from containment_sim.measures.base import Context
from containment_sim.world import Isolation, State

__all__ = ["CaseBook", "ContactStatus", "Priority"]


class Priority(IntEnum):
    """Order in which queued tests are run: symptomatic first, then traced contacts, others."""

    SYMPTOMATIC = 0
    CONTACT = 1
    OTHER = 2


class ContactStatus(IntEnum):
    """Where a traced close contact (密切接触者) is: exactly one of these while traced."""

    NONE = 0
    SITE = 1
    HOME = 2


ConfirmListener = Callable[[Context, float, np.ndarray], None]


class CaseBook:
    """Suspected and confirmed cases, the test queue, the lab, and traced contacts.

    Attributes:
        confirmed_time: When each agent was confirmed (``inf`` if never).
        requested: Whether the agent has a test queued or in the lab.
        suspected: Whether the agent is a suspected case (a care seeker awaiting a result).
        contact: ``ContactStatus`` of each agent in its current tracing episode.
        site_overflow: Whether a contact was sent home because the sites were full.
    """

    def __init__(self, ctx: Context):
        n = ctx.population.size
        self.ctx = ctx
        self.confirmed_time = np.full(n, np.inf)
        self.requested = np.zeros(n, dtype=bool)
        self.suspected = np.zeros(n, dtype=bool)
        self.contact = np.zeros(n, dtype=np.int8)
        self.site_overflow = np.zeros(n, dtype=bool)
        self._queue: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._lab: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.listeners: list[ConfirmListener] = []

    @property
    def n_queued(self) -> int:
        """Tests waiting for lab capacity."""
        return sum(a.size for a, _, _ in self._queue)

    def request_tests(
        self, agents: np.ndarray, priority: Priority, t: float, suspected: bool = False
    ) -> None:
        """Queue tests for agents not yet confirmed, not already waiting, and alive."""
        world = self.ctx.world
        agents = np.unique(agents)
        ok = ~self.requested[agents] & ~np.isfinite(self.confirmed_time[agents])
        agents = agents[ok & (world.state[agents] != State.DEAD)]
        if agents.size == 0:
            return
        self.requested[agents] = True
        self.suspected[agents] |= suspected
        self._queue.append((agents, np.full(agents.size, int(priority)), np.full(agents.size, t)))

    def take(
        self, capacity: int, eligible: Callable[[np.ndarray], np.ndarray] | None = None
    ) -> np.ndarray:
        """Remove up to ``capacity`` queued tests, by priority then request time.

        Args:
            capacity: Tests available.
            eligible: Optional mask function restricting which queued agents this lab serves.
        """
        if not self._queue or capacity <= 0:
            return np.empty(0, dtype=np.int64)
        agents, prio, when = (np.concatenate(parts) for parts in zip(*self._queue, strict=True))
        alive = self.ctx.world.state[agents] != State.DEAD
        self.requested[agents[~alive]] = False
        self.suspected[agents[~alive]] = False
        agents, prio, when = agents[alive], prio[alive], when[alive]
        order = np.lexsort((when, prio))
        candidates = order if eligible is None else order[eligible(agents[order])]
        chosen = candidates[:capacity]
        keep = np.ones(agents.size, dtype=bool)
        keep[chosen] = False
        self._queue = [(agents[keep], prio[keep], when[keep])] if keep.any() else []
        return agents[chosen]

    def to_lab(self, agents: np.ndarray, result_time: np.ndarray, positive: np.ndarray) -> None:
        """Samples taken: results come back at ``result_time``."""
        if agents.size:
            self._lab.append((agents, result_time, positive))

    def results(self, t: float) -> tuple[np.ndarray, np.ndarray]:
        """Results due by ``t``: the agents and whether each is positive."""
        if not self._lab:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=bool)
        agents, when, positive = (np.concatenate(parts) for parts in zip(*self._lab, strict=True))
        due = when <= t
        self._lab = [(agents[~due], when[~due], positive[~due])] if (~due).any() else []
        agents, positive = agents[due], positive[due]
        self.requested[agents] = False
        self.suspected[agents[~positive]] = False
        return agents, positive

    def deliver(self, t: float) -> None:
        """Deliver the lab results due by ``t``: positives are confirmed."""
        agents, positive = self.results(t)
        if agents.size:
            self.confirm(agents[positive], t)

    def confirm(self, agents: np.ndarray, t: float) -> np.ndarray:
        """Confirm cases: isolate them and notify the listeners; returns the newly confirmed."""
        agents = agents[~np.isfinite(self.confirmed_time[agents])]
        agents = agents[self.ctx.world.state[agents] != State.DEAD]
        if agents.size == 0:
            return agents
        self.confirmed_time[agents] = t
        self.suspected[agents] = False
        self.contact[agents] = ContactStatus.NONE
        self.site_overflow[agents] = False
        self.ctx.keep_apart(np.sort(agents), Isolation.ISOLATED, t)
        self.ctx.count("new_confirmed", agents)
        for listener in self.listeners:
            listener(self.ctx, t, agents)
        return agents

    def contact_under_observation(self) -> np.ndarray:
        """Mask of traced contacts still quarantined (at a site or at home)."""
        return (self.contact == ContactStatus.SITE) | (self.contact == ContactStatus.HOME)

    def check(self) -> None:
        """Assert the book agrees with the world (for tests)."""
        world = self.ctx.world
        site = self.contact == ContactStatus.SITE
        home = self.contact == ContactStatus.HOME
        assert np.all(world.isolation[site] == Isolation.SITE), "contact at a site not at a site"
        assert np.all(world.isolation[home] == Isolation.HOME), "contact at home not at home"
        confirmed = np.isfinite(self.confirmed_time)
        assert not np.any(self.suspected & confirmed), "suspected and confirmed"
        assert np.all(world.isolation[confirmed & (world.state <= State.ILL)] == Isolation.ISOLATED)

    def end_observation(self) -> None:
        """Forget contacts whose quarantine has ended (released, confirmed or dead)."""
        world = self.ctx.world
        site = (self.contact == ContactStatus.SITE) & (world.isolation != Isolation.SITE)
        home = (self.contact == ContactStatus.HOME) & (world.isolation != Isolation.HOME)
        ended = site | home
        self.contact[ended] = ContactStatus.NONE
        self.site_overflow[ended] = False
