"""Synthetic population: sizes, ordering, distributions, determinism."""

from __future__ import annotations

import numpy as np

from conftest import make_scenario
from containment_sim.population import generate_population


def test_sizes_ordering_and_determinism() -> None:
    scenario = make_scenario()
    pop = generate_population(scenario)
    assert pop.size == 5000
    assert list(pop.region_sizes()) == [3000, 2000]
    # contiguous: region, community and household ids never decrease along the agents
    for ids in (pop.region, pop.community, pop.household):
        assert np.all(np.diff(ids) >= 0)
    assert np.array_equal(pop.community_region[pop.community], pop.region)
    assert np.array_equal(pop.household_community[pop.household], pop.community)
    again = generate_population(scenario)
    assert np.array_equal(pop.household, again.household)
    assert np.array_equal(pop.age_band, again.age_band)


def test_household_sizes_and_ages_follow_the_distributions() -> None:
    scenario = make_scenario(
        population={
            "regions": [{"name": "A", "population": 200_000, "communities": 80}],
            "household_size": [0.2, 0.3, 0.3, 0.2],
        },
        mobility={"trips": []},
    )
    pop = generate_population(scenario)
    sizes = np.bincount(pop.household)
    share = np.bincount(sizes, minlength=5)[1:] / sizes.size
    expected = np.array([0.2, 0.3, 0.3, 0.2])
    se = np.sqrt(expected * (1 - expected) / sizes.size)
    assert np.all(np.abs(share - expected) < 4 * se + 1.0 / sizes.size)  # last household trimmed
    ages = np.bincount(pop.age_band, minlength=9) / pop.size
    probs = np.asarray(scenario.population.age_distribution)
    probs = probs / probs.sum()
    assert np.all(np.abs(ages - probs) < 4 * np.sqrt(probs * (1 - probs) / pop.size))
    assert pop.n_communities == 80
    assert np.bincount(pop.community).min() > 0


def test_scale_simulates_a_fraction() -> None:
    scenario = make_scenario(
        population={
            "scale": 0.1,
            "regions": [{"name": "A", "population": 30_000, "communities": 5}],
        },
        mobility={"trips": []},
    )
    assert generate_population(scenario).size == 3000


def test_every_household_has_an_adult_and_the_ages_still_follow_the_census() -> None:
    scenario = make_scenario(
        population={"regions": [{"name": "A", "population": 300_000, "communities": 80}]},
        mobility={"trips": []},
    )
    pop = generate_population(scenario)
    adult = pop.age_band >= 2  # 20 and over
    adults_per_household = np.bincount(pop.household, weights=adult)
    assert adults_per_household.min() >= 1, "no household without a person of 18 or over"
    sizes = np.bincount(pop.household)
    alone = np.flatnonzero(sizes[pop.household] == 1)
    assert alone.size > 10_000 and (pop.age_band[alone] >= 2).all(), "nobody under 20 lives alone"
    ages = np.bincount(pop.age_band, minlength=9) / pop.size
    probs = np.asarray(scenario.population.age_distribution)
    probs = probs / probs.sum()
    # households are drawn independently: the count of a band is a sum of independent
    # per-household counts, whose SE is below that of independent agents times sqrt(max size)
    assert np.all(np.abs(ages - probs) < 4 * np.sqrt(6 * probs * (1 - probs) / pop.size))
    expected = np.asarray(scenario.population.household_size)
    share = np.bincount(sizes, minlength=7)[1:] / sizes.size
    assert np.all(np.abs(share - expected) < 4 * np.sqrt(expected * (1 - expected) / sizes.size))
