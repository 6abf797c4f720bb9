"""Hospital beds that matter (应收尽收), supply that scales with purchasing agents, and 清零
bookkeeping that closes when people die."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from containment_sim import Scenario, run, with_overrides
from containment_sim.engines import DESEngine, VectorizedEngine
from containment_sim.measures.cases import CaseBook, Priority
from containment_sim.measures.closure import CommunityClosure
from containment_sim.measures.hospitals import Hospital
from containment_sim.population import generate_population
from containment_sim.world import Flag, Isolation, State

FIXED0 = {"dist": "fixed", "mean": 0.0}


def ward(beds: float, days: int = 50, seed: int = 1, **hospital: Any) -> Scenario:
    """Households of four; cases seek care at once and are confirmed; beds are scarce or not."""
    measures = {
        "care": {"type": "care_seeking", "delay": [[0, {"dist": "fixed", "mean": 1.0}]],
                 "fever_fraction": 1.0},
        "lab": {"type": "testing", "capacity": 1e6, "sensitivity": 1.0, "turnaround": FIXED0},
        "beds": {"type": "hospital", "beds": beds, **hospital},
    }  # fmt: skip
    return Scenario.model_validate(
        {
            "name": "ward",
            "start_date": "2020-01-01",
            "days": days,
            "seed": seed,
            "population": {
                "regions": [{"name": "A", "population": 20_000, "communities": 10}],
                "household_size": [0, 0, 0, 1],
            },
            "transmission": {"beta": {"household": 0.3}, "dispersion": None},
            "importation": {"initial_infections": 400},
            "measures": measures,
            "strategies": {"test": list(measures)},
            "strategy": "test",
        }
    )


def test_without_beds_more_household_infections_and_deaths_than_with_the_same_seeds() -> None:
    household, deaths, waiting = [], [], []
    for seed in range(8):
        few = run(ward(5, seed=seed, untreated_fatality=0.3))
        ample = run(ward(1e6, seed=seed, untreated_fatality=0.3))
        household.append(
            few.timeseries["new_infections_household"].sum()
            - ample.timeseries["new_infections_household"].sum()
        )
        deaths.append(few.summary["deaths"] - ample.summary["deaths"])
        waiting.append(few.timeseries["new_infections_waiting"].sum())
        assert ample.timeseries["n_waiting_bed"].max() == 0
    for diff in (household, deaths):
        d = np.asarray(diff, dtype=float)
        assert d.mean() > 3 * d.std(ddof=1) / np.sqrt(d.size), diff
    assert min(waiting) > 0, "cases waiting at home infected their households"


def test_beds_are_never_exceeded_and_severe_cases_go_first() -> None:
    scenario = ward(20, makeshift=[{"name": "fangcang", "start": 10, "beds": 30}])
    result = run(scenario, check=True)
    table = result.tables["hospitals"]
    assert (table["occupied"] <= table["beds"]).all() and table["occupied"].max() == 20
    assert (table["makeshift_occupied"] <= table["makeshift_beds"]).all()
    assert table.loc[table["day"] < 9, "makeshift_beds"].eq(0).all()  # opens at 10.0 = end of day 9
    assert table["makeshift_occupied"].max() == 30
    ts = result.timeseries
    assert (ts["n_waiting_bed"] == table.groupby("day")["waiting"].sum().to_numpy()).all()
    assert ts["new_deaths_waiting"].sum() <= ts["new_deaths"].sum()


def test_makeshift_beds_take_mild_cases_and_designated_beds_severe_ones_first() -> None:
    engine = VectorizedEngine(ward(2, makeshift=[{"name": "f", "start": 0, "beds": 3}]))
    engine._setup_run()
    hospital = next(m for m in engine.measures if isinstance(m, Hospital))
    world = engine.world
    cases = np.arange(0, 40, 4)  # ten people in different households
    world.state[cases] = State.SYMPTOMATIC
    world.flags[cases] = Flag.SYMPTOMATIC
    world.flags[cases[[7, 9]]] |= Flag.SEVERE
    hospital.take_in(engine, 1.0, cases)
    assert set(hospital.designated.members()) == {cases[7], cases[9]}, "severe first"
    assert set(hospital.makeshift.members()) == set(cases[:3]), "mild ones, in order"
    waiting = cases[[3, 4, 5, 6, 8]]
    assert (world.isolation[waiting] == Isolation.WAITING).all()
    assert (world.isolation[hospital.designated.members()] == Isolation.ISOLATED).all()


def test_suspected_cases_can_need_a_bed_and_leave_it_when_negative() -> None:
    engine = VectorizedEngine(ward(1e6, suspected=True))
    engine._setup_run()
    cases, world = engine.service(CaseBook), engine.world
    sick = np.array([0, 4])
    world.state[sick] = State.SYMPTOMATIC  # sick, but no infection record: tests are negative
    cases.request_tests(sick, Priority.SYMPTOMATIC, 1.0, suspected=True)
    assert (world.isolation[sick] == Isolation.ISOLATED).all()
    cases.to_lab(sick, np.array([2.0, 2.0]), np.array([False, False]))
    cases.deliver(2.0)
    engine._release(2.0)
    assert (world.isolation[sick] == Isolation.NONE).all()
    assert not cases.suspected[sick].any()


@pytest.mark.parametrize("engine_class", [VectorizedEngine, DESEngine])
def test_a_suspected_case_who_dies_leaves_the_suspected_count_that_day(engine_class) -> None:
    scenario = ward(1e6)
    engine = engine_class(with_overrides(scenario, {"engine": "des" if engine_class is DESEngine
                                                     else "vectorized"}))  # fmt: skip
    engine._setup_run()
    cases, world = engine.service(CaseBook), engine.world
    cases.request_tests(np.array([0, 4]), Priority.SYMPTOMATIC, 1.0, suspected=True)
    assert cases.stocks(1.5)["n_suspected"].sum() == 2
    engine._move(np.array([4]), int(world.state[4]), State.DEAD)
    world.state[4] = State.DEAD
    assert cases.stocks(2.0)["n_suspected"].sum() == 1


def test_a_bed_passes_to_the_next_case_at_the_exact_discharge_time() -> None:
    engine = DESEngine(with_overrides(ward(1.0), {"engine": "des"}))
    engine._setup_run()
    env, world = engine.env, engine.world
    hospital = next(m for m in engine.measures if isinstance(m, Hospital))
    first, second = 0, 4
    env.run(until=1.0)
    hospital.take_in(engine, 1.0, np.array([first]))
    hospital.take_in(engine, 1.0, np.array([second]))
    assert world.isolation[first] == Isolation.ISOLATED
    assert world.isolation[second] == Isolation.WAITING
    env.run(until=2.0)  # the first recovers; PCR-negative, and discharged, at 2.3
    world.state[first], world.pcr_until[first] = State.RECOVERED, 2.3
    hospital.after_progression(engine, 2.0, {State.RECOVERED: np.array([first])})
    world.after_transitions(np.array([first]), None)
    env.run(until=2.299)
    assert world.isolation[second] == Isolation.WAITING
    env.run(until=2.301)  # not at the next tick (2.5 with dt = 0.5, 3.0 with dt = 1)
    assert world.isolation[first] == Isolation.NONE
    assert world.isolation[second] == Isolation.ISOLATED


# --- supply: purchasing agents as a quantity ----------------------------------------------
def village(agents: int, seed: int = 3, **closure: Any) -> Scenario:
    spec = {"type": "community_closure", "start": 5, "compliance": 0.9, "decay": 0.1,
            "purchasing_agents": agents, "households_per_agent": 60, **closure}  # fmt: skip
    return Scenario.model_validate(
        {
            "name": "village",
            "start_date": "2020-01-01",
            "days": 45,
            "seed": seed,
            "population": {"regions": [{"name": "A", "population": 30_000, "communities": 12}]},
            "transmission": {"beta": {"household": 0.1, "community": 0.25, "region": 0.1}},
            "importation": {"initial_infections": 40},
            "measures": {"closure": spec},
            "strategies": {"test": ["closure"]},
            "strategy": "test",
        }
    )


def test_compliance_and_infections_vary_smoothly_with_agents_per_village() -> None:
    counts = (0, 1, 2, 3, 5, 8)
    compliance, infections = [], []
    for k in counts:
        outcomes = [run(village(k, seed=s)) for s in range(4)]
        table = outcomes[0].tables["closures"]
        compliance.append(table["compliance"].iloc[-1])
        infections.append(np.mean([r.summary["total_infections"] for r in outcomes]))
        # every household needs a delivery every 3 days; each agent makes 60 a day
        households = np.bincount(generate_population(village(k, seed=0)).household_community)
        expected = np.minimum(1.0, k * 60 / (households / 3)).mean()
        assert table["served_share"].iloc[-1] == pytest.approx(expected, abs=0.02)
    assert all(np.diff(compliance) >= 0) and compliance[-1] > compliance[0] + 0.3
    assert infections[0] > infections[-1]
    assert np.corrcoef(counts, infections)[0, 1] < -0.7


def test_an_outbreak_among_purchasing_agents_lowers_compliance() -> None:
    engine = VectorizedEngine(village(2, replace_after=None, households_per_agent=10_000))
    engine._setup_run()
    closure = next(m for m in engine.measures if isinstance(m, CommunityClosure))
    pop, world = engine.population, engine.world
    for day in range(5, 12):
        if day == 7:  # every agent of village 0 falls ill
            sick = closure.agents[pop.community[closure.agents] == 0]
            world.state[sick] = State.SYMPTOMATIC
        closure.start_day(engine, day)
    compliance = closure.compliance(11.5)
    assert compliance[0] < 0.9 * np.exp(-0.1 * 3)  # unserved for four days at least
    assert np.allclose(compliance[1:], compliance[1])
    assert compliance[1] > compliance[0]


def test_sick_agents_are_replaced_after_the_delay() -> None:
    engine = VectorizedEngine(village(2, replace_after=2, households_per_agent=10_000))
    engine._setup_run()
    closure = next(m for m in engine.measures if isinstance(m, CommunityClosure))
    pop, world = engine.population, engine.world
    closure.start_day(engine, 5)
    sick = closure.agents[pop.community[closure.agents] == 0]
    world.state[sick] = State.SYMPTOMATIC
    for day in range(6, 10):
        closure.start_day(engine, day)
    now = closure.agents[pop.community[closure.agents] == 0]
    assert now.size == 2 and not np.isin(now, sick).any()
    assert closure.served[0] == pytest.approx(closure.served[1])
