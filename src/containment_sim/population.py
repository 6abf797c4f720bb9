"""The synthetic city: agents in households, households in communities, communities in regions.

Agents are stored as a structure of arrays and ordered by region, then community, then
household, so each household, community and region occupies a contiguous range of agent
indices. Generation is vectorized and deterministic for a seed (stream ``"population"``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from containment_sim.rng import stream
from containment_sim.scenario import Scenario

__all__ = ["Population", "generate_population"]


@dataclass(frozen=True)
class Population:
    """Static per-agent attributes of the synthetic city.

    Attributes:
        region: Home region index of each agent (order of ``region_names``).
        community: Global community (village or residential compound, 村/小区) index.
        household: Global household index.
        age_band: Age band 0..8 (0-9, 10-19, ..., 80+).
        region_names: Region names in scenario order.
        community_region: Region of each community.
        household_community: Community of each household.
    """

    region: np.ndarray
    community: np.ndarray
    household: np.ndarray
    age_band: np.ndarray
    region_names: tuple[str, ...]
    community_region: np.ndarray
    household_community: np.ndarray

    @property
    def size(self) -> int:
        """Number of agents."""
        return int(self.region.size)

    @property
    def n_regions(self) -> int:
        """Number of regions."""
        return len(self.region_names)

    @property
    def n_communities(self) -> int:
        """Number of communities in the whole city."""
        return int(self.community_region.size)

    @property
    def n_households(self) -> int:
        """Number of households in the whole city."""
        return int(self.household_community.size)

    @cached_property
    def region_start(self) -> np.ndarray:
        """First agent index of each region, and the population size at the end.

        Region ``r``'s residents are agents ``region_start[r]`` to ``region_start[r + 1] - 1``.
        """
        sizes = np.bincount(self.region, minlength=self.n_regions)
        return np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)

    @cached_property
    def household_start(self) -> np.ndarray:
        """First agent index of each household, and the population size at the end.

        Agents are sorted by household: household ``h`` is agents ``household_start[h]`` to
        ``household_start[h + 1] - 1``.
        """
        return np.searchsorted(self.household, np.arange(self.n_households + 1))

    @cached_property
    def community_start(self) -> np.ndarray:
        """First agent index of each community (agents are sorted by community), then the size."""
        return np.searchsorted(self.community, np.arange(self.n_communities + 1))

    def region_sizes(self) -> np.ndarray:
        """Number of agents living in each region."""
        return np.diff(self.region_start)

    @cached_property
    def _position(self) -> np.ndarray:
        return np.zeros(self.size, dtype=np.int32)

    def once(self, agents: np.ndarray) -> np.ndarray:
        """Mask keeping one entry of each agent in ``agents`` (repeats dropped).

        O(len(agents)), without sorting (draws of people may repeat someone); the same input
        always keeps the same entries.
        """
        position = np.arange(agents.size, dtype=np.int32)
        scratch = self._position
        scratch[agents] = position
        out: np.ndarray = scratch[agents] == position
        return out


def generate_population(scenario: Scenario) -> Population:
    """Build the synthetic population of a scenario (deterministic for ``scenario.seed``)."""
    rng = stream(scenario.seed, "population")
    spec = scenario.population
    size_probs = np.asarray(spec.household_size, dtype=float)
    size_probs /= size_probs.sum()
    hh_sizes, hh_comm, comm_region = [], [], []
    n_comm_total = 0
    for r, (region_spec, n_agents) in enumerate(
        zip(spec.regions, scenario.scaled_population(), strict=True)
    ):
        sizes = _household_sizes(rng, n_agents, size_probs)
        n_comm = min(region_spec.communities, sizes.size)
        comm_of_hh = _assign_communities(rng, sizes.size, n_comm, spec.community_size_cv)
        hh_sizes.append(sizes)
        hh_comm.append(comm_of_hh + n_comm_total)
        comm_region.append(np.full(n_comm, r, dtype=np.int16))
        n_comm_total += n_comm
    sizes = np.concatenate(hh_sizes)
    household_community = np.concatenate(hh_comm).astype(np.int32)
    community_region = np.concatenate(comm_region)
    household = np.repeat(np.arange(sizes.size, dtype=np.int32), sizes)
    community = household_community[household]
    region = community_region[community]
    age_band = _ages(rng, np.asarray(spec.age_distribution, dtype=float), sizes)
    return Population(
        region=region.astype(np.int16),
        community=community.astype(np.int32),
        household=household,
        age_band=age_band,
        region_names=tuple(scenario.region_names),
        community_region=community_region,
        household_community=household_community,
    )


ADULT_BANDS = 2
"""The first age band of household heads (20 and over): every household has an adult."""


def _ages(rng: np.random.Generator, distribution: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Age bands of everyone, household by household: an adult head, then the others.

    Every family household has a householder (户主) who is an adult (the census's household
    definition); heads are drawn from the adult part of the age distribution, and the other
    members from what the heads leave of it, so the whole population keeps the distribution
    (a band the heads would exhaust is drawn for heads only, and the rest renormalised).
    """
    probs = distribution / distribution.sum()
    n, heads = int(sizes.sum()), sizes.size
    head = np.where(np.arange(probs.size) >= ADULT_BANDS, probs, 0.0)
    head /= head.sum()
    others = np.maximum(n * probs - heads * head, 0.0)
    others = others / others.sum() if others.sum() > 0 else probs
    age = rng.choice(probs.size, size=n, p=others).astype(np.int8)
    start = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    age[start] = rng.choice(probs.size, size=heads, p=head)
    return age


def _household_sizes(rng: np.random.Generator, n_agents: int, probs: np.ndarray) -> np.ndarray:
    """Household sizes (1..len(probs)) summing exactly to ``n_agents``; the last is trimmed."""
    mean = float(np.dot(np.arange(1, probs.size + 1), probs))
    draw = int(n_agents / mean * 1.1) + 16
    while True:
        sizes = rng.choice(probs.size, size=draw, p=probs) + 1
        total = np.cumsum(sizes)
        if total[-1] >= n_agents:
            break
        draw *= 2
    n_hh = int(np.searchsorted(total, n_agents)) + 1
    sizes = sizes[:n_hh].copy()
    sizes[-1] -= int(total[n_hh - 1] - n_agents)
    return sizes.astype(np.int32)


def _assign_communities(
    rng: np.random.Generator, n_households: int, n_communities: int, cv: float
) -> np.ndarray:
    """Split consecutive households into communities with gamma-distributed relative sizes."""
    if cv > 0:
        weights = rng.gamma(1.0 / cv**2, size=n_communities)
    else:
        weights = np.ones(n_communities)
    bounds = np.cumsum(weights) / weights.sum()
    position = (np.arange(n_households) + 0.5) / n_households
    return np.minimum(np.searchsorted(bounds, position), n_communities - 1).astype(np.int32)
