"""The dynamic state of every agent, the state and infection-source codes, and invariants.

Every agent is in exactly one disease state at every time: susceptible (S), exposed (E,
infected but not yet infectious), presymptomatic (P), asymptomatic (A), symptomatic and
infectious (I), still ill but no longer infectious (C), recovered (R) or dead (D).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np

from containment_sim.population import Population

__all__ = ["AgentView", "Flag", "Isolation", "Source", "State", "World"]


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
    isolated as a confirmed case (in a designated hospital, 定点医院).
    """

    NONE = 0
    HOME = 1
    SITE = 2
    ISOLATED = 3


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
        isolation_until: When home quarantine ends (``inf`` for hospital isolation, which
            ends at recovery or death).
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
        self.isolation_until = np.full(n, np.inf)
        self.compliance = np.zeros(n, dtype=np.float32)
        self.n_kept_apart = 0

    def contact_factor(self, household: bool) -> np.ndarray | None:
        """Per-agent multiplier of contacts in a layer, or ``None`` if nobody is kept apart.

        Isolation and quarantine sites remove every household, community and region contact
        (sites have their own facility layer). Home quarantine keeps household contacts and
        keeps ``1 - compliance`` of the others.
        """
        if self.n_kept_apart == 0:
            return None
        factor = np.ones(self.state.size, dtype=np.float32)
        if not household:
            home = self.isolation == Isolation.HOME
            factor[home] = 1.0 - self.compliance[home]
        factor[self.isolation >= Isolation.SITE] = 0.0
        return factor

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
        earlier one. Isolation (``ISOLATED``) lasts until recovery or death.

        Returns:
            The agents whose status changed.
        """
        until = np.broadcast_to(np.asarray(until, dtype=float), idx.shape)
        keep = (self.state[idx] != State.DEAD) & (self.isolation[idx] <= status)
        idx, until = idx[keep], until[keep]
        if status == Isolation.ISOLATED:
            until = np.full(idx.size, np.inf)
        same = self.isolation[idx] == status
        self.isolation_until[idx] = np.where(
            same, np.maximum(self.isolation_until[idx], until), until
        )
        if status == Isolation.HOME:
            self.compliance[idx] = compliance
        newly = idx[~same]
        self.isolation[idx] = status
        self.n_kept_apart = int(np.count_nonzero(self.isolation))
        return newly

    def pcr_positive(self, idx: np.ndarray, t: float) -> np.ndarray:
        """Whether an RT-PCR test of agents ``idx`` at time ``t`` can be positive.

        A test can be positive from the start of infectiousness until ``pcr_until``, which for
        survivors lies well after the end of infectiousness and often after recovery
        (viral RNA shedding, Zhou F et al., Lancet 2020); never in the exposed (latent) state
        or after death.
        """
        state = self.state[idx]
        return (
            (state >= State.PRESYMPTOMATIC) & (state <= State.RECOVERED) & (t < self.pcr_until[idx])
        )

    def release(self, t: float) -> np.ndarray:
        """End quarantines due by ``t``, isolation of the discharged, and all of it for the dead.

        An isolated person is discharged once recovered and no longer PCR-positive (China's
        discharge criteria: two consecutive negative RT-PCR tests).

        Returns:
            The agents released.
        """
        ended = self.isolation_until <= t  # inf for the isolated and for those not kept apart
        recovered = (
            (self.isolation == Isolation.ISOLATED)
            & (self.state == State.RECOVERED)
            & (self.pcr_until <= t)
        )
        dead = (self.isolation != Isolation.NONE) & (self.state == State.DEAD)
        released = np.flatnonzero(ended | recovered | dead)
        self.isolation[released] = Isolation.NONE
        self.isolation_until[released] = np.inf
        self.n_kept_apart -= released.size
        return released

    def counts_by_region(self) -> np.ndarray:
        """Agents in each (region, state), shape ``(n_regions, 7)``, by home region."""
        n_states = len(State)
        key = self.population.region.astype(np.int64) * n_states + self.state
        flat = np.bincount(key, minlength=self.population.n_regions * n_states)
        return flat.reshape(self.population.n_regions, n_states)

    def check_invariants(self) -> None:
        """Raise ``AssertionError`` if the state arrays are inconsistent.

        Checks that every agent has exactly one valid state, that agents not infected carry no
        infection record and infected ones do, and that only infected, living agents have a
        scheduled transition.
        """
        s = self.state
        assert s.min() >= State.SUSCEPTIBLE and s.max() <= State.DEAD, "state out of range"
        infected = s != State.SUSCEPTIBLE
        assert np.all(np.isnan(self.infection_time) == ~infected), "infection record mismatch"
        assert np.all((self.source >= 0) == infected), "infection source mismatch"
        active = (s >= State.EXPOSED) & (s <= State.ILL)
        assert np.all(np.isfinite(self.t_next) == active), "schedule mismatch"
        assert np.all(self.present[active]), "an infected agent is away"
        assert not np.any(self.isolation[s == State.DEAD]), "the dead are not kept apart"
        assert not np.any(self.isolation[~self.present]), "people away are not kept apart"
        assert self.n_kept_apart == np.count_nonzero(self.isolation), "isolation count"
        counts = self.counts_by_region()
        assert counts.sum() == self.population.size and counts.min() >= 0, "conservation"


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
    t_next: memoryview
    present: memoryview
    location: memoryview
    infection_time: memoryview
    infectiousness: memoryview
    pcr_until: memoryview
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
        return cls(**{name: memoryview(a) for name, a in arrays.items()})
