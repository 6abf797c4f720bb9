"""The dynamic state of every agent, the state and infection-source codes, and invariants.

Every agent is in exactly one disease state at every time: susceptible (S), exposed (E,
infected but not yet infectious), presymptomatic (P), asymptomatic (A), symptomatic (I),
recovered (R) or dead (D).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np

from containment_sim.population import Population

__all__ = ["Flag", "Source", "State", "World"]


class State(IntEnum):
    """Disease state of an agent."""

    SUSCEPTIBLE = 0
    EXPOSED = 1
    PRESYMPTOMATIC = 2
    ASYMPTOMATIC = 3
    SYMPTOMATIC = 4
    RECOVERED = 5
    DEAD = 6


STATE_COLUMNS: tuple[str, ...] = (
    "n_susceptible", "n_exposed", "n_presymptomatic", "n_asymptomatic",
    "n_symptomatic", "n_recovered", "n_dead",
)  # fmt: skip
"""Stock column of each state, in state order."""


class Source(IntEnum):
    """Where an infection was acquired: a mixing layer, importation or initial seeding."""

    HOUSEHOLD = 0
    COMMUNITY = 1
    REGION = 2
    IMPORTED = 3
    SEED = 4


class Flag:
    """Bits of ``World.flags``, fixed at infection: the course the infection will take."""

    SYMPTOMATIC = np.uint8(1)
    SEVERE = np.uint8(2)
    FATAL = np.uint8(4)


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
        infector: Index of the infector (``NO_INFECTOR`` if none or from outside).
        source: ``Source`` of the infection (-1 if never infected).
    """

    population: Population
    state: np.ndarray = field(init=False)
    t_next: np.ndarray = field(init=False)
    flags: np.ndarray = field(init=False)
    present: np.ndarray = field(init=False)
    location: np.ndarray = field(init=False)
    infection_time: np.ndarray = field(init=False)
    infector: np.ndarray = field(init=False)
    source: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        n = self.population.size
        self.state = np.zeros(n, dtype=np.int8)
        self.t_next = np.full(n, np.inf)
        self.flags = np.zeros(n, dtype=np.uint8)
        self.present = np.ones(n, dtype=bool)
        self.location = self.population.region.copy()
        self.infection_time = np.full(n, np.nan, dtype=np.float32)
        self.infector = np.full(n, NO_INFECTOR, dtype=np.int32)
        self.source = np.full(n, -1, dtype=np.int8)

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
        active = (s >= State.EXPOSED) & (s <= State.SYMPTOMATIC)
        assert np.all(np.isfinite(self.t_next) == active), "schedule mismatch"
        assert np.all(self.present[active]), "an infected agent is away"
        counts = self.counts_by_region()
        assert counts.sum() == self.population.size and counts.min() >= 0, "conservation"
