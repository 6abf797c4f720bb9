"""Returnees (arrivals, lockdown leakage, infection on arrival) and trips between regions."""

from __future__ import annotations

import numpy as np

from conftest import make_scenario
from containment_sim.engines import VectorizedEngine
from containment_sim.epicentre import ReturneePlan, prevalence_curve
from containment_sim.network import RoadNetwork
from containment_sim.population import generate_population
from containment_sim.rng import stream


def returnee_scenario(**importation):
    return make_scenario(
        population={
            "regions": [
                {"name": "A", "population": 200_000, "communities": 20},
                {"name": "B", "population": 100_000, "communities": 10},
            ]
        },
        importation={
            "returnees": {"daily": [[0, 2000], [20, 2000]]},
            "initial_infections": 0,
            **importation,
        },
        transmission={"beta": {"household": 0.0, "community": 0.0, "region": 0.0}},
        days=25,
    )


def test_lockdown_cuts_arrivals_to_the_leakage_fraction() -> None:
    sc = returnee_scenario(lockdown=10, leakage=0.2)
    plan = ReturneePlan.build(sc, generate_population(sc), stream(1, "returnees"))
    n = plan.arrival.size
    assert abs(n - 40_000) < 4 * np.sqrt(40_000)
    before = plan.arrival < 10
    assert plan.admitted[before].all()
    after = plan.admitted[~before]
    se = np.sqrt(0.2 * 0.8 / after.size)
    assert abs(after.mean() - 0.2) < 3 * se
    # arrivals follow the flat curve: half before day 10
    assert abs(before.mean() - 0.5) < 3 * np.sqrt(0.25 / n)
    assert np.unique(plan.agent).size == n, "each returnee is a distinct resident"
    share_a = (generate_population(sc).region[plan.agent] == 0).mean()
    assert abs(share_a - 2 / 3) < 3 * np.sqrt(2 / 9 / n)


def test_returnees_arrive_infected_with_the_prevalence() -> None:
    sc = returnee_scenario(prevalence=[[0, 0.05], [25, 0.05]])
    result = VectorizedEngine(sc).run()
    s = result.summary
    assert s["returnees"] > 30_000
    p = s["imported_infections"] / s["returnees"]
    assert abs(p - 0.05) < 3 * np.sqrt(0.05 * 0.95 / s["returnees"])
    ts = result.timeseries
    assert (ts["n_away"].diff().dropna() == -ts["new_returnees"].iloc[1:]).all()


def test_prevalence_is_log_linear_between_points() -> None:
    sc = returnee_scenario(prevalence=[[0, 0.001], [10, 0.004]])
    assert np.allclose(
        prevalence_curve(sc, np.array([-5.0, 0.0, 5.0, 10.0, 30.0])),
        [0.001, 0.001, 0.002, 0.004, 0.004],
    )


def test_trips_follow_the_flows() -> None:
    sc = make_scenario(
        mobility={"trips": [{"from": "A", "to": "B", "daily": 300, "both_ways": False}]}
    )
    pop = generate_population(sc)
    net = RoadNetwork.build(sc)
    rng = stream(1, "travel")
    counts = []
    for _ in range(200):
        who, route = net.draw_trips(rng, pop, np.ones(net.n_roads))
        assert np.all(pop.region[who] == 0) and np.all(net.route_destination[route] == 1)
        counts.append(who.size)
    # Poisson(300) thinned slightly by duplicates among 3,000 residents
    expected = 3000 * (1 - np.exp(-300 / 3000))
    assert abs(np.mean(counts) - expected) < 3 * np.sqrt(300 / len(counts))


def test_more_planned_returnees_than_residents_does_not_crash() -> None:
    sc = returnee_scenario(
        returnees={"daily": [[0, 50_000], [10, 50_000]], "destination": {"B": 1}}
    )
    plan = ReturneePlan.build(sc, generate_population(sc), stream(1, "returnees"))
    assert plan.agent.size == plan.arrival.size == 100_000  # every resident of B
    assert np.all(np.diff(plan.arrival) >= 0)


def test_every_route_is_a_walk_from_its_origin_to_its_destination() -> None:
    """Routes (both directions of two-way trips, entry routes) list their roads in order."""
    from containment_sim import load_scenario
    from containment_sim.network import RoadNetwork

    scenario = load_scenario("xianning")
    net = RoadNetwork.build(scenario)
    ends = net.ends.tolist()

    def walk(start: int, path: tuple[int, ...]) -> int:
        node = start
        for road in path:
            a, b = ends[road]
            assert node in (a, b), f"road {net.names[road]} does not touch region {node}"
            node = b if node == a else a
        return node

    for r, path in enumerate(net.route_path):
        assert walk(int(net.route_origin[r]), path) == net.route_destination[r]
    n_regions = len(scenario.region_names)
    for r, path in enumerate(net.entry_route_path):
        assert walk(-1, path) == r % n_regions
    assert net.detour(0, 1, set()) is not None
