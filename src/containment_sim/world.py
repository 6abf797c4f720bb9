"""The dynamic state of every agent, the state and infection-source codes, and invariants.

Every agent is in exactly one disease state at every time: susceptible (S), exposed (E,
infected but not yet infectious), presymptomatic (P), asymptomatic (A), symptomatic and
infectious (I), still ill but no longer infectious (C), recovered (R) or dead (D).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

import numpy as np

from containment_sim.arrays import distinct_first
from containment_sim.errors import invariant
from containment_sim.population import Population
from containment_sim.schedule import Calendar

__all__ = ["AgentView", "Flag", "InfectionLog", "Isolation", "Source", "State", "World", "is_ill"]


class State(IntEnum):
    """Disease state of an agent."""

    SUSCEPTIBLE = 0
    EXPOSED = 1
    PRESYMPTOMATIC = 2
    ASYMPTOMATIC = 3
    SYMPTOMATIC = 4
    ILL = 5
    RECOVERED = 6
    DEAD = 7


STATE_COLUMNS: tuple[str, ...] = (
    "n_susceptible", "n_exposed", "n_presymptomatic", "n_asymptomatic",
    "n_symptomatic", "n_ill", "n_recovered", "n_dead",
)  # fmt: skip
"""Stock column of each state, in state order."""

INFECTIOUS_STATES = (State.PRESYMPTOMATIC, State.ASYMPTOMATIC, State.SYMPTOMATIC)
"""The states in which an agent can infect others (a contiguous range of codes)."""


def is_ill(state: np.ndarray) -> np.ndarray:
    """Whether agents in ``state`` are ill: symptomatic (I) or clinically ill (C).

    Infectious or not. The one test of illness used by whoever looks for the ill: care seeking,
    the symptom survey, checkpoints' temperature checks, clinical diagnosis and the case book.
    """
    out: np.ndarray = (state == State.SYMPTOMATIC) | (state == State.ILL)
    return out


class Source(IntEnum):
    """Where an infection was acquired: a mixing layer, importation or initial seeding.

    ``FACILITY`` is contact inside a quarantine site; ``DELIVERY`` is contact with a purchasing
    agent (代购员) serving a closed community.
    """

    HOUSEHOLD = 0
    COMMUNITY = 1
    REGION = 2
    IMPORTED = 3
    SEED = 4
    FACILITY = 5
    DELIVERY = 6


class Flag:
    """Bits of ``World.flags``, fixed at infection: the course the infection will take."""

    SYMPTOMATIC = np.uint8(1)
    SEVERE = np.uint8(2)
    FATAL = np.uint8(4)


class Isolation(IntEnum):
    """Where an agent is kept apart, from least to most strict.

    Not at all; in home quarantine (居家隔离); in a centralised quarantine site (集中隔离点);
    a case isolated at home while it waits for a hospital bed (居家隔离治疗); isolated in a
    hospital (定点医院 or 方舱). From ``SITE`` on, nobody travels; ``WAITING`` keeps part of its
    household contacts (``World.leak``).
    """

    NONE = 0
    HOME = 1
    SITE = 2
    WAITING = 3
    ISOLATED = 4


NO_INFECTOR = -1
"""``World.infector`` of agents infected from outside (imported or seeded) or not infected."""


@dataclass
class World:
    """Per-agent dynamic arrays (structure of arrays) over a fixed population.

    Attributes:
        population: The static population.
        state: ``State`` of each agent.
        t_next: Time (days) of the agent's next scheduled state change; ``inf`` if none.
        flags: ``Flag`` bits of the agent's infection.
        present: Whether the agent is in the city (``False`` while away in the epicentre).
        location: Region whose region layer the agent mixes in today (home unless travelling).
        infection_time: Time of infection (``nan`` if never infected).
        infectiousness: The agent's individual infectiousness multiplier (mean 1 over
            infections; drawn at infection from a gamma distribution with shape
            ``transmission.dispersion``).
        pcr_until: When the agent's RT-PCR test turns negative for good (``inf`` until it is
            known, and for fatal courses, which stay positive until death).
        infector: Index of the infector (``NO_INFECTOR`` if none or from outside).
        source: ``Source`` of the infection (-1 if never infected).
        isolation: ``Isolation`` status of each agent.
        isolation_until: When quarantine ends, or isolation (discharge: recovered and
            PCR-negative); ``inf`` while not kept apart, and while an isolated person has not
            recovered.
        apart: Agents by home region and ``Isolation`` status, kept up to date.
        compliance: For agents in home quarantine, the share of their contacts outside the
            household they avoid.
    """

    population: Population
    state: np.ndarray = field(init=False)
    t_next: np.ndarray = field(init=False)
    flags: np.ndarray = field(init=False)
    present: np.ndarray = field(init=False)
    location: np.ndarray = field(init=False)
    infection_time: np.ndarray = field(init=False)
    infectiousness: np.ndarray = field(init=False)
    pcr_until: np.ndarray = field(init=False)
    infector: np.ndarray = field(init=False)
    source: np.ndarray = field(init=False)
    isolation: np.ndarray = field(init=False)
    isolation_until: np.ndarray = field(init=False)
    compliance: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        n = self.population.size
        self.state = np.zeros(n, dtype=np.int8)
        self.t_next = np.full(n, np.inf)
        self.flags = np.zeros(n, dtype=np.uint8)
        self.present = np.ones(n, dtype=bool)
        self.location = self.population.region.copy()
        self.infection_time = np.full(n, np.nan, dtype=np.float32)
        self.infectiousness = np.ones(n, dtype=np.float32)
        self.pcr_until = np.full(n, np.inf, dtype=np.float32)
        self.infector = np.full(n, NO_INFECTOR, dtype=np.int32)
        self.source = np.full(n, -1, dtype=np.int8)
        self.isolation = np.zeros(n, dtype=np.int8)
        self.isolation_until = np.full(n, np.inf, dtype=np.float32)  # days: 1 s resolution
        self.compliance = np.zeros(n, dtype=np.float32)
        self.apart = np.zeros((self.population.n_regions, len(Isolation)), dtype=np.int64)
        self.apart[:, Isolation.NONE] = self.population.region_sizes()
        self.releases: Calendar | None = None
        self.leak: dict[int, tuple[float, float]] = {Isolation.WAITING: (1.0, 0.0)}

    @property
    def n_kept_apart(self) -> int:
        """Agents kept apart now (in home quarantine, at a site or isolated)."""
        return int(self.apart[:, 1:].sum())

    def use_calendar(self, dt: float, horizon: float) -> None:
        """File the ends of quarantine and isolation in a calendar of steps of ``dt``.

        Without one, :meth:`release` scans everyone kept apart.
        """
        self.releases = Calendar(dt, horizon, self.state.size)

    def contact_factor(self, layer: str, idx: np.ndarray) -> np.ndarray | None:
        """Contact multiplier of agents ``idx`` in ``layer`` from their isolation status.

        Isolation and quarantine sites remove every household, community and region contact
        (sites have their own facility layer). Home quarantine keeps household contacts and
        keeps ``1 - compliance`` of the others. A case waiting at home for a bed keeps
        ``leak[WAITING]`` (household share, other share). ``None`` when nobody is kept apart.
        """
        if not self.apart[:, 1:].any():
            return None
        status = self.isolation[idx]
        factor = (status < Isolation.SITE).astype(np.float32)
        household, other = self.leak[Isolation.WAITING]
        waiting = status == Isolation.WAITING
        if layer != "household":
            home = status == Isolation.HOME
            factor[home] = 1.0 - self.compliance[idx[home]]
            factor[waiting] = other
        else:
            factor[waiting] = household
        out: np.ndarray | None = factor
        return out

    def keep_apart(
        self,
        idx: np.ndarray,
        status: Isolation,
        until: float | np.ndarray,
        compliance: float = 1.0,
    ) -> np.ndarray:
        """Keep living agents ``idx`` apart with ``status`` until ``until``.

        Nobody is moved to a less strict status (a confirmed case stays isolated), and the dead
        are never kept apart. For those already under the same status, a later end replaces an
        earlier one. Isolation (``ISOLATED``) lasts until discharge: for a recovered person the
        end of PCR positivity, otherwise until recovery (then the same) or death.

        Returns:
            The agents whose status changed.
        """
        ends = np.broadcast_to(np.asarray(until, dtype=float), idx.shape)
        idx, first = distinct_first(idx)
        ends = ends[first]
        keep = (self.state[idx] != State.DEAD) & (self.isolation[idx] <= status)
        idx, ends = idx[keep], ends[keep]
        if status >= Isolation.WAITING:
            recovered = self.state[idx] == State.RECOVERED
            ends = np.where(recovered, self.pcr_until[idx], np.inf)
        same = self.isolation[idx] == status
        self.isolation_until[idx] = np.where(
            same, np.maximum(self.isolation_until[idx], ends), ends
        )
        if status == Isolation.HOME:
            self.compliance[idx] = compliance
        self._set_status(idx, status)
        self._file(idx)
        out: np.ndarray = idx[~same]
        return out

    def _set_status(self, idx: np.ndarray, status: int | np.ndarray) -> None:
        """Change the isolation status of ``idx``, keeping the per-region counts."""
        region = self.population.region[idx].astype(np.int64)
        n = len(Isolation)
        flat = self.apart.reshape(-1)
        flat -= np.bincount(region * n + self.isolation[idx], minlength=flat.size)
        self.isolation[idx] = status
        flat += np.bincount(region * n + self.isolation[idx], minlength=flat.size)

    def end_isolation(self, idx: np.ndarray) -> None:
        """End the quarantine or isolation of ``idx`` now (an exact discharge).

        Their entries in the release calendar become stale and are skipped.
        """
        self.isolation_until[idx] = np.inf
        self._set_status(idx, Isolation.NONE)

    def reschedule(self, idx: np.ndarray, until: float | np.ndarray) -> None:
        """Move the end of the quarantine or isolation of ``idx`` (kept apart) to ``until``."""
        self.isolation_until[idx] = until
        self._file(idx)

    def _file(self, idx: np.ndarray) -> None:
        if self.releases is not None:
            self.releases.file(idx, self.isolation_until[idx])

    def pcr_positive(self, idx: np.ndarray, t: float) -> np.ndarray:
        """Whether an RT-PCR test of agents ``idx`` at time ``t`` can be positive.

        A test can be positive from the start of infectiousness until ``pcr_until``, which for
        survivors lies well after the end of infectiousness and often after recovery
        (viral RNA shedding, Zhou F et al., Lancet 2020); never in the exposed (latent) state
        or after death.
        """
        state = self.state[idx]
        out: np.ndarray = (
            (state >= State.PRESYMPTOMATIC) & (state <= State.RECOVERED) & (t < self.pcr_until[idx])
        )
        return out

    def after_transitions(self, recovered: np.ndarray | None, dead: np.ndarray | None) -> None:
        """End isolation at death; schedule the discharge of isolated people who recovered.

        An isolated person is discharged once recovered and no longer PCR-positive (China's
        discharge criteria: two consecutive negative RT-PCR tests).
        """
        if dead is not None and dead.size:
            apart = dead[self.isolation[dead] != Isolation.NONE]
            if apart.size:
                self.isolation_until[apart] = np.inf
                self._set_status(apart, Isolation.NONE)
        if recovered is not None and recovered.size:
            isolated = recovered[self.isolation[recovered] >= Isolation.WAITING]
            if isolated.size:
                self.isolation_until[isolated] = self.pcr_until[isolated]
                self._file(isolated)

    def release(self, t: float) -> np.ndarray:
        """End quarantines and isolations due by ``t``.

        Returns:
            The agents released (sorted).
        """
        if self.releases is None:
            due = np.flatnonzero(self.isolation != Isolation.NONE)
        else:
            due = self.releases.pop(t)
            due = due[self.isolation[due] != Isolation.NONE]
        when = self.isolation_until[due]
        ended = when <= t
        later = due[~ended & (when < np.inf)]
        if self.releases is not None and later.size:
            self.releases.file(later, self.isolation_until[later])
        released = due[ended]
        if released.size:
            self.isolation_until[released] = np.inf
            self._set_status(released, Isolation.NONE)
        return released

    def counts_by_region(self) -> np.ndarray:
        """Agents in each (region, state), shape ``(n_regions, 7)``, by home region."""
        n_states = len(State)
        key = self.population.region.astype(np.int64) * n_states + self.state
        flat = np.bincount(key, minlength=self.population.n_regions * n_states)
        return flat.reshape(self.population.n_regions, n_states)

    def check_invariants(self) -> None:
        """Raise :class:`~containment_sim.errors.InvariantError` if the state arrays disagree.

        Checks that every agent has exactly one valid state, that agents not infected carry no
        infection record and infected ones do, and that only infected, living agents have a
        scheduled transition.
        """
        s = self.state
        invariant(s.min() >= State.SUSCEPTIBLE and s.max() <= State.DEAD, "state out of range")
        infected = s != State.SUSCEPTIBLE
        invariant(np.all(np.isnan(self.infection_time) == ~infected), "infection record mismatch")
        invariant(np.all((self.source >= 0) == infected), "infection source mismatch")
        active = (s >= State.EXPOSED) & (s <= State.ILL)
        invariant(np.all(np.isfinite(self.t_next) == active), "schedule mismatch")
        invariant(np.all(self.present[active]), "an infected agent is away")
        invariant(not np.any(self.isolation[s == State.DEAD]), "the dead are not kept apart")
        invariant(not np.any(self.isolation[~self.present]), "people away are not kept apart")
        region = self.population.region.astype(np.int64) * len(Isolation) + self.isolation
        apart = np.bincount(region, minlength=self.apart.size).reshape(self.apart.shape)
        invariant(np.array_equal(apart, self.apart), "isolation counts")
        invariant(
            np.all(self.isolation_until[self.isolation == Isolation.NONE] == np.inf),
            "people not kept apart have no release time",
        )
        counts = self.counts_by_region()
        invariant(counts.sum() == self.population.size and counts.min() >= 0, "conservation")


class InfectionLog:
    """Who infected whom, in the order infections happened (local infections only).

    Tracing asks it for the people index cases infected; it answers at the cost of the
    infections so far, not of the population.
    """

    def __init__(self) -> None:
        self._infectee = np.empty(1024, dtype=np.int32)  # agent indices fit in 32 bits
        self._infector = np.empty(1024, dtype=np.int32)
        self._n = 0
        self._pending: list[tuple[int, int]] = []

    def add(self, infectee: np.ndarray, infector: np.ndarray) -> None:
        """Record infections (``infector`` < 0: from outside, not recorded)."""
        local = infector >= 0
        infectee, infector = infectee[local], infector[local]
        self._flush()
        need = self._n + infectee.size
        if need > self._infectee.size:  # grow by half: amortised O(1), little slack
            size = max(need, self._infectee.size * 3 // 2)
            self._infectee = _grown(self._infectee, self._n, size)
            self._infector = _grown(self._infector, self._n, size)
        self._infectee[self._n : need] = infectee
        self._infector[self._n : need] = infector
        self._n = need

    def add_one(self, infectee: int, infector: int) -> None:
        """Record one infection (cheap: kept as plain numbers until asked)."""
        self._pending.append((infectee, infector))

    def _flush(self) -> None:
        if self._pending:
            pairs = np.array(self._pending, dtype=np.int64).reshape(-1, 2)
            self._pending = []
            self.add(pairs[:, 0], pairs[:, 1])

    def infectees_of(self, agents: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The people ``agents`` infected, and the infector of each."""
        self._flush()
        infector = self._infector[: self._n]
        mine = np.isin(infector, agents)
        return self._infectee[: self._n][mine].astype(np.int64), infector[mine].astype(np.int64)


def _grown(array: np.ndarray, used: int, size: int) -> np.ndarray:
    """A larger array of the same type holding the first ``used`` entries of ``array``."""
    out = np.empty(size, dtype=array.dtype)
    out[:used] = array[:used]
    return out


@dataclass(frozen=True)
class AgentView:
    """Memoryviews of a world's per-agent arrays, for paths that touch one agent at a time.

    Indexing a view reads or writes the same memory as the array, as a plain Python number,
    which costs about half of indexing the array (the discrete-event engine's events touch
    one agent each). The arrays must not be replaced while a view is in use; every update of
    ``World`` and ``Population`` arrays is in place.
    """

    state: memoryview
    flags: memoryview
    t_next: memoryview[float]
    present: memoryview
    location: memoryview
    infection_time: memoryview[float]
    infectiousness: memoryview[float]
    pcr_until: memoryview[float]
    infector: memoryview
    source: memoryview
    region: memoryview
    household: memoryview
    community: memoryview
    age_band: memoryview

    @classmethod
    def of(cls, world: World) -> AgentView:
        """Views of ``world``'s arrays and of its population's."""
        pop = world.population
        arrays = {
            name: getattr(world, name)
            for name in (
                "state", "flags", "t_next", "present", "location", "infection_time",
                "infectiousness", "pcr_until", "infector", "source",
            )
        }  # fmt: skip
        arrays.update(
            region=pop.region, household=pop.household, community=pop.community,
            age_band=pop.age_band,
        )  # fmt: skip
        views: dict[str, memoryview[Any]] = {name: memoryview(a) for name, a in arrays.items()}
        return cls(**views)
