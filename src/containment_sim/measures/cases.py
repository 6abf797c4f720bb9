"""Case management shared by the internal measures (内防扩散).

The case book knows who is suspected, tested, confirmed or under observation as a close
contact. Measures talk to each other only through it: care seeking, checkpoints and tracing
request tests, testing confirms, and confirmation notifies its listeners (hospital beds,
tracing, reactive community closure). One book exists per run (``ctx.service(CaseBook)``).

Its work follows the cases, not the population: tests wait in one first-come-first-served
queue per priority (requests arrive in time order), and the people it follows (suspected,
confirmed and isolated, contacts under observation) are :class:`~containment_sim.agentsets.
AgentSet` s. A status closes when the person dies, or when a suspected case recovers and is no
longer PCR-positive.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from enum import IntEnum
from typing import Any

import numpy as np

from containment_sim.agentsets import AgentSet
from containment_sim.arrays import distinct
from containment_sim.errors import invariant
from containment_sim.measures.base import Context, Service
from containment_sim.report import (
    Flow,
    Report,
    Series,
    Stock,
    SummaryKey,
    SummaryValue,
    Table,
    column,
)
from containment_sim.world import Flag, Isolation, State, is_ill

__all__ = ["CASES", "CaseBook", "ContactStatus", "Priority"]


class Priority(IntEnum):
    """Order in which queued tests are run: symptomatic first, then traced contacts, others."""

    SYMPTOMATIC = 0
    CONTACT = 1
    OTHER = 2


class ContactStatus(IntEnum):
    """Where a traced close contact (密切接触者) is: exactly one of these while observed."""

    NONE = 0
    SITE = 1
    HOME = 2


ConfirmListener = Callable[[Context, float, np.ndarray], None]


def _confirmed(ts: Series, tables: Mapping[str, Table], final: Mapping[str, Any]) -> int:
    return int(column(ts, "new_confirmed").sum())


def _confirmed_day(last: bool) -> SummaryValue:
    def value(ts: Series, tables: Mapping[str, Table], final: Mapping[str, Any]) -> int | None:
        daily = column(ts, "new_confirmed")
        if not daily.sum():
            return None
        return int(np.flatnonzero(daily)[-1]) if last else int(np.argmax(daily))

    return value


def _total(name: str) -> SummaryValue:
    def value(ts: Series, tables: Mapping[str, Table], final: Mapping[str, Any]) -> int:
        return int(column(ts, name).sum())

    return value


def _deaths_confirmed(ts: Series, tables: Mapping[str, Table], final: Mapping[str, Any]) -> int:
    return int(final.get("deaths_confirmed", 0))


def _cfr(ts: Series, tables: Mapping[str, Table], final: Mapping[str, Any]) -> float | None:
    confirmed = _confirmed(ts, tables, final)
    return _deaths_confirmed(ts, tables, final) / confirmed if confirmed else None


CASES = Report(
    "cases",
    flows=(
        Flow("new_confirmed", "cases confirmed", "cum_confirmed"),
        Flow("new_confirmed_lab", "cases confirmed by a positive test", "cum_confirmed_lab"),
        Flow("new_confirmed_clinical", "cases diagnosed clinically"),
        Flow(
            "new_asymptomatic_found",
            "infections found by a positive test before any symptom and not counted as cases "
            "(with testing's confirm_without_symptoms false)",
        ),
    ),
    stocks=(
        Stock("n_suspected", "suspected cases awaiting a result"),
        Stock("n_confirmed_active", "confirmed cases still isolated"),
        Stock("n_contacts_observed", "traced contacts under observation"),
        Stock("n_site_overflow", "contacts at home because the quarantine sites were full"),
    ),
    summary=(
        SummaryKey("confirmed", _confirmed, "cases confirmed"),
        SummaryKey("confirmed_lab", _total("new_confirmed_lab"), "confirmed by a test"),
        SummaryKey("confirmed_clinical", _total("new_confirmed_clinical"), "clinically"),
        SummaryKey(
            "asymptomatic_found", _total("new_asymptomatic_found"), "asymptomatic infections found"
        ),
        SummaryKey("peak_confirmed_day", _confirmed_day(False), "day most cases were confirmed"),
        SummaryKey("last_confirmed_day", _confirmed_day(True), "last day a case was confirmed"),
        SummaryKey("deaths_confirmed", _deaths_confirmed, "deaths among confirmed cases"),
        SummaryKey("cfr_confirmed", _cfr, "case fatality ratio among confirmed cases"),
    ),
)
"""What the case book reports."""


class CaseBook(Service):
    """Suspected and confirmed cases, the test queue, the lab, and traced contacts.

    Attributes:
        confirmed_time: When each agent was confirmed (``inf`` if never).
        requested: Whether the agent has a test queued or in the lab.
        suspects: Suspected cases (care seekers and travellers detected with symptoms) until
            a result, death, or recovery with a negative PCR.
        contact: ``ContactStatus`` of each agent in its current tracing episode.
        observed: Contacts under observation (``contact`` not ``NONE``).
        overflow: Contacts at home because the quarantine sites were full.
        isolated_cases: Confirmed cases still isolated.
        asymptomatic: Asymptomatic infections found (无症状感染者) that may still develop
            symptoms (with ``confirm_without_symptoms`` off).
        confirm_without_symptoms: Whether a positive test confirms a case in someone who has
            had no symptoms (set by the labs; see ``TestingSpec``).
        listeners: Called with ``(ctx, t, agents)`` when agents are found infected: confirmed,
            or found as asymptomatic infections (a case confirmed at onset after being found
            is not announced again).
    """

    report = CASES

    def __init__(self, ctx: Context):
        super().__init__(ctx)
        n = ctx.population.size
        self.confirmed_time = np.full(n, np.inf)
        self.requested = np.zeros(n, dtype=bool)
        self.contact = np.zeros(n, dtype=np.int8)
        self.suspects = AgentSet(n)
        self.observed = AgentSet(n)
        self.overflow = AgentSet(n)
        self.isolated_cases = AgentSet(n)
        self.negatives = AgentSet(n)  # suspected cases whose RT-PCR test was negative
        self.asymptomatic = AgentSet(n)
        self.confirm_without_symptoms = True
        self._queues: list[deque[np.ndarray]] = [deque() for _ in Priority]
        self._lab: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.listeners: list[ConfirmListener] = []
        self.beds: Any = None  # the hospital measure, which places cases in beds

    @property
    def suspected(self) -> np.ndarray:
        """Mask of suspected cases."""
        return self.suspects.mask

    @property
    def site_overflow(self) -> np.ndarray:
        """Mask of contacts at home because the sites were full."""
        return self.overflow.mask

    @property
    def n_queued(self) -> int:
        """Tests waiting for lab capacity (entries of people who died meanwhile included)."""
        return sum(a.size for queue in self._queues for a in queue)

    def request_tests(
        self, agents: np.ndarray, priority: Priority, t: float, suspected: bool = False
    ) -> None:
        """Queue tests for agents not yet confirmed, not already waiting, and alive."""
        world = self.ctx.world
        agents = distinct(agents)
        ok = ~self.requested[agents] & ~np.isfinite(self.confirmed_time[agents])
        agents = agents[ok & (world.state[agents] != State.DEAD)]
        if agents.size == 0:
            return
        self.requested[agents] = True
        if suspected:
            self.suspects.add(agents)
            if self.beds is not None:
                self.beds.hold(self.ctx, t, agents)
        self._queues[int(priority)].append(agents)

    def take(
        self, capacity: int, eligible: Callable[[np.ndarray], np.ndarray] | None = None
    ) -> np.ndarray:
        """Remove up to ``capacity`` queued tests, by priority then request time.

        Entries of people who died while waiting are dropped on the way.

        Args:
            capacity: Tests available.
            eligible: Optional mask function restricting which queued agents this lab serves.
        """
        chosen: list[np.ndarray] = []
        left = capacity
        for queue in self._queues:
            kept: deque[np.ndarray] = deque()
            while queue and left > 0:
                chunk = self._alive(queue.popleft())
                mask = np.ones(chunk.size, dtype=bool) if eligible is None else eligible(chunk)
                take = np.flatnonzero(mask)[:left]
                chosen.append(chunk[take])
                left -= take.size
                rest = np.ones(chunk.size, dtype=bool)
                rest[take] = False
                if rest.any():
                    kept.append(chunk[rest])
            queue.extendleft(reversed(kept))
        if not chosen:
            return np.empty(0, dtype=np.int64)
        return np.concatenate(chosen)

    def _alive(self, agents: np.ndarray) -> np.ndarray:
        dead = self.ctx.world.state[agents] == State.DEAD
        if dead.any():
            self.requested[agents[dead]] = False
            self.suspects.discard(agents[dead])
        out: np.ndarray = agents[~dead]
        return out

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
        self.negatives.add(self.suspects.discard(agents[~positive]))
        if self.beds is not None:
            self.beds.let_go(self.ctx, t, agents[~positive])
        return agents, positive

    def deliver(self, t: float) -> None:
        """Deliver the lab results due by ``t``: positives are confirmed.

        Unless ``confirm_without_symptoms``, a positive person who has had no symptoms is an
        asymptomatic infection instead (:meth:`find_asymptomatic`).
        """
        agents, positive = self.results(t)
        if not agents.size:
            return
        found = agents[positive]
        if not self.confirm_without_symptoms:
            silent = ~self._had_symptoms(found)
            self.find_asymptomatic(found[silent], t)
            found = found[~silent]
        self.confirm(found, t)

    def _had_symptoms(self, agents: np.ndarray) -> np.ndarray:
        """Whether each agent is ill (I or C) or recovered from a symptomatic course."""
        world = self.ctx.world
        state = world.state[agents]
        symptomatic = (world.flags[agents] & Flag.SYMPTOMATIC).astype(bool)
        out: np.ndarray = (state >= State.SYMPTOMATIC) & symptomatic
        return out

    def find_asymptomatic(self, agents: np.ndarray, t: float) -> None:
        """Positive people without symptoms (无症状感染者): isolated and traced, not cases.

        They are isolated like cases, in centralised observation rather than hospital beds,
        until discharged; those still presymptomatic are confirmed when symptoms start.
        """
        agents = distinct(agents)
        agents = agents[~self.asymptomatic.mask[agents] & ~np.isfinite(self.confirmed_time[agents])]
        if agents.size == 0:
            return
        self.suspects.discard(agents)
        self.end_observation_of(agents)
        self.ctx.keep_apart(agents, Isolation.ISOLATED, t)
        self.asymptomatic.add(agents)
        self.ctx.count("new_asymptomatic_found", agents)
        for listener in self.listeners:
            listener(self.ctx, t, agents)

    def _confirm_at_onset(self, t: float) -> None:
        """Asymptomatic infections found earlier whose symptoms have started are confirmed."""
        members = self.asymptomatic.members()
        if members.size == 0:
            return
        state = self.ctx.world.state[members]
        onset = is_ill(state)
        self.asymptomatic.keep((state < State.SYMPTOMATIC) & (state != State.ASYMPTOMATIC))
        agents = members[onset]
        if agents.size:
            self.ctx.world.end_isolation(agents)  # from observation to a case's isolation
            self.confirm(agents, t, notify=False)

    def advance(self, t: float) -> None:
        """Lab results come back whether or not a lab is still open (every step or tick)."""
        self.deliver(t)
        self._confirm_at_onset(t)

    def confirm(
        self, agents: np.ndarray, t: float, how: str = "lab", notify: bool = True
    ) -> np.ndarray:
        """Confirm cases: isolate them and notify the listeners; returns the newly confirmed.

        ``how``: ``"lab"`` (a positive RT-PCR test) or ``"clinical"`` (clinically diagnosed).
        ``notify``: call the listeners (not for asymptomatic infections already announced).
        """
        agents = agents[~np.isfinite(self.confirmed_time[agents])]
        dead = self.ctx.world.state[agents] == State.DEAD
        self.suspects.discard(agents[dead])
        agents = distinct(agents[~dead])
        if agents.size == 0:
            return agents
        self.confirmed_time[agents] = t
        self.suspects.discard(agents)
        self.end_observation_of(agents)
        if self.beds is not None and self.beds.active(t):
            self.beds.take_in(self.ctx, t, agents)  # a bed, or isolated at home waiting
        else:
            self.ctx.keep_apart(agents, Isolation.ISOLATED, t)
        self.isolated_cases.add(agents)
        self.ctx.count("new_confirmed", agents)
        self.ctx.count(f"new_confirmed_{how}", agents)
        self.negatives.discard(agents)
        if notify:
            for listener in self.listeners:
                listener(self.ctx, t, agents)
        return agents

    def observe(self, agents: np.ndarray, status: ContactStatus) -> None:
        """Record that traced contacts are now under observation at a site or at home."""
        self.contact[agents] = status
        self.observed.add(agents)

    def end_observation_of(self, agents: np.ndarray) -> None:
        """These people are no longer observed contacts (confirmed, released, dead)."""
        self.contact[agents] = ContactStatus.NONE
        self.observed.discard(agents)
        self.overflow.discard(agents)

    def contact_under_observation(self) -> np.ndarray:
        """Mask of traced contacts still quarantined (at a site or at home)."""
        return self.observed.mask

    def end_observation(self) -> None:
        """Forget contacts whose quarantine has ended (released, confirmed or dead)."""
        members = self.observed.members()
        isolation = self.ctx.world.isolation[members]
        status = self.contact[members]
        still = ((status == ContactStatus.SITE) & (isolation == Isolation.SITE)) | (
            (status == ContactStatus.HOME) & (isolation == Isolation.HOME)
        )
        self.end_observation_of(members[~still])

    def close(self, t: float) -> None:
        """Close the statuses of people who died, recovered or were discharged.

        A suspected case who died, or recovered and is no longer PCR-positive, is no longer
        suspected; a confirmed case is active while isolated.
        """
        world = self.ctx.world
        self.end_observation()
        suspects = self.suspects.members()
        state = world.state[suspects]
        over = (state == State.DEAD) | (
            (state == State.RECOVERED) & (world.pcr_until[suspects] <= t)
        )
        self.requested[suspects[over & (state == State.DEAD)]] = False
        self.suspects.keep(~over)
        cases = self.isolated_cases.members()
        self.isolated_cases.keep(world.isolation[cases] >= Isolation.WAITING)

    def stocks(self, t: float) -> dict[str, np.ndarray]:
        """End-of-day stocks by home region (those of :data:`CASES`), after :meth:`close`."""
        self.close(t)
        region, n = self.ctx.population.region, self.ctx.population.n_regions
        return {
            "n_suspected": self.suspects.counts(region, n),
            "n_confirmed_active": self.isolated_cases.counts(region, n),
            "n_contacts_observed": self.observed.counts(region, n),
            "n_site_overflow": self.overflow.counts(region, n),
        }

    def final(self) -> dict[str, Any]:
        """Deaths among confirmed cases, for the summary."""
        confirmed = np.flatnonzero(np.isfinite(self.confirmed_time))
        dead = self.ctx.world.state[confirmed] == State.DEAD
        return {"deaths_confirmed": int(np.count_nonzero(dead))}

    def check(self) -> None:
        """Raise ``InvariantError`` unless the book agrees with the world."""
        self.end_observation()
        world = self.ctx.world
        site = self.contact == ContactStatus.SITE
        home = self.contact == ContactStatus.HOME
        invariant(
            np.all(world.isolation[site] == Isolation.SITE), "contact at a site not at a site"
        )
        invariant(np.all(world.isolation[home] == Isolation.HOME), "contact at home not at home")
        invariant(np.array_equal(self.observed.mask, site | home), "observed contacts")
        confirmed = np.isfinite(self.confirmed_time)
        invariant(not np.any(self.suspected & confirmed), "suspected and confirmed")
        invariant(
            np.all(world.isolation[confirmed & (world.state <= State.ILL)] >= Isolation.WAITING),
            "a confirmed, living case is not isolated or waiting for a bed",
        )
