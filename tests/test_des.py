"""The discrete-event engine: conservation, closed forms, shared measures, agreement."""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from agreement import agreement_scenario
from conftest import make_scenario, one_region
from containment_sim import Scenario, run, with_overrides
from containment_sim.engines import DESEngine, VectorizedEngine
from containment_sim.experiments import make_tasks, run_tasks, tidy_outcomes
from containment_sim.layers import ListSlots, Mixing
from containment_sim.measures import Context, Measure, register
from containment_sim.measures.cases import CaseBook, ContactStatus, Priority
from containment_sim.measures.tracing import SiteRegistry
from containment_sim.scenario import MeasureSpec
from containment_sim.theory import final_size
from containment_sim.world import STATE_COLUMNS, Isolation, Source


def test_des_conserves_agents_and_is_reproducible() -> None:
    scenario = make_scenario(days=40, engine="des")
    a = run(scenario, check=True)
    assert (a.timeseries[list(STATE_COLUMNS)].sum(axis=1) == 5000).all()
    assert a.summary["engine"] == "des" and a.summary["total_infections"] > 10
    b = run(scenario)
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries)
    log = a.infections
    assert log is not None and (log.loc[log["source"] == "household", "infector"] >= 0).all()


def test_des_final_size_matches_sir_closed_form() -> None:
    n, seeds = 10_000, 20
    attack = [
        run(with_overrides(one_region(n, 2.0, seeds, 250, seed=s), {"engine": "des"})).summary[
            "attack_rate"
        ]
        for s in range(4)
    ]
    se = max(np.std(attack, ddof=1) / 2, 1 / np.sqrt(n))
    assert abs(np.mean(attack) - final_size(2.0, seeds / n)) < 3 * se


def full_site_world(engine: str) -> Scenario:
    """One infectious person in a household of five; a site with three places."""
    return Scenario.model_validate(
        {
            "name": "site",
            "start_date": "2020-01-01",
            "days": 12,
            "seed": 3,
            "engine": engine,
            "population": {
                "regions": [{"name": "A", "population": 5, "communities": 1}],
                "household_size": [0, 0, 0, 0, 1],
            },
            "transmission": {"beta": {}},
            "importation": {"initial_infections": 1},
            "measures": {
                "care": {
                    "type": "care_seeking",
                    "delay": [[0, {"dist": "fixed", "mean": 0.0}]],
                    "fever_fraction": 1.0,
                },
                "lab": {
                    "type": "testing",
                    "capacity": 10,
                    "sensitivity": 1.0,
                    "turnaround": {"dist": "fixed", "mean": 0.0},
                },
                "trace": {
                    "type": "tracing",
                    "capacity": 10,
                    "home_compliance": 1.0,
                    "delay": {"dist": "fixed", "mean": 0.0},
                },
                "site": {
                    "type": "quarantine_site",
                    "sites": [
                        {
                            "name": "hotel",
                            "region": "A",
                            "rooms": 3,
                            "staff": 1,
                            "residents_per_staff": 3,
                        }
                    ],
                },
            },
            "strategies": {"t": ["care", "lab", "trace", "site"]},
            "strategy": "t",
        }
    )


@pytest.mark.parametrize("engine_class", [VectorizedEngine, DESEngine])
def test_a_full_site_sends_the_fourth_contact_home(engine_class) -> None:
    scenario = full_site_world("des" if engine_class is DESEngine else "vectorized")
    for seed in range(40):  # the index case must be symptomatic to be found
        engine = engine_class(with_overrides(scenario, {"seed": seed}))
        result = engine.run()
        if result.summary["confirmed"]:
            break
    else:
        pytest.fail("no confirmed case")
    contacts = engine._services[CaseBook].contact
    ts = result.timeseries
    assert ts["new_site_admissions"].sum() == 3
    assert ts["n_site_quarantine"].max() == 3
    assert ts["new_quarantined"].sum() == 1, "the fourth contact went home"
    assert result.summary["contacts_traced"] == 4
    assert set(contacts[contacts != ContactStatus.NONE]) <= {ContactStatus.SITE, ContactStatus.HOME}
    assert (engine.world.isolation != Isolation.SITE).sum() >= 2


def test_a_contact_waiting_for_a_place_moves_in_at_the_next_step() -> None:
    scenario = full_site_world("vectorized")
    engine = VectorizedEngine(with_overrides(scenario, {"measures.site.admission_wait": 2.0}))
    engine._setup_run()
    sites, world = engine._services[SiteRegistry], engine.world
    contacts, until = np.array([1, 2, 3, 4]), np.full(4, 15.0)
    admitted = sites.admit(contacts, 1.0, until)
    assert admitted.tolist() == [True, True, True, False]
    engine.keep_apart(contacts[~admitted], Isolation.HOME, 1.0, until=15.0)
    sites.enqueue(contacts[~admitted], 1.0, until[~admitted])
    assert sites.admit_waiting(1.5).size == 0 and sites.waiting(1.5).tolist() == [1]
    world.reschedule(np.array([2]), 1.6)  # one leaves the site early
    world.release(1.7)
    assert sites.admit_waiting(1.8).tolist() == [4]
    assert world.isolation[4] == Isolation.SITE and sites.occupancy().tolist() == [3]
    # a contact whose wait is over stays home
    world.reschedule(np.array([3]), 1.9)
    world.release(1.9)
    engine.keep_apart(np.array([2]), Isolation.HOME, 1.9, until=15.0)
    sites.enqueue(np.array([2]), 1.9, np.array([15.0]))
    world.reschedule(np.array([1]), 4.0)
    world.release(4.0)
    assert sites.admit_waiting(4.0).size == 0 and sites.waiting(4.0).tolist() == [0]
    assert world.isolation[2] == Isolation.HOME


def test_a_waiting_contact_takes_the_room_at_the_exact_time_it_frees() -> None:
    """In the discrete-event engine the site's rooms are a SimPy resource with a queue."""
    scenario = full_site_world("des")
    engine = DESEngine(with_overrides(scenario, {"measures.site.admission_wait": 2.0}))
    engine._setup_run()
    env, sites, world = engine.env, engine._services[SiteRegistry], engine.world
    env.run(until=1.0)
    contacts, until = np.array([1, 2, 3, 4]), np.array([1.6, 15.0, 15.0, 15.0])
    admitted = sites.admit(contacts, 1.0, until)
    assert admitted.tolist() == [True, True, True, False]
    engine.keep_apart(contacts[~admitted], Isolation.HOME, 1.0, until=15.0)
    sites.enqueue(contacts[~admitted], 1.0, until[~admitted])
    env.run(until=1.599)
    assert world.isolation[4] == Isolation.HOME and sites.waiting(1.599).tolist() == [1]
    env.run(until=1.6001)  # agent 1 is discharged at 1.6, and agent 4 moves in then
    assert world.isolation[1] == Isolation.NONE and world.isolation[4] == Isolation.SITE
    assert sites.waiting(1.6).tolist() == [0] and sites.occupancy().tolist() == [3]
    assert engine.recorder.flows[:, :, engine.recorder.column("new_site_admissions")].sum() == 4
    # a contact whose wait is over stays home
    env.run(until=1.9)
    engine.keep_apart(np.array([1]), Isolation.HOME, 1.9, until=15.0)
    sites.enqueue(np.array([1]), 1.9, np.array([15.0]))
    env.run(until=3.8)
    assert sites.waiting(3.8).tolist() == [1]
    env.run(until=4.0)
    assert world.isolation[1] == Isolation.HOME and sites.waiting(4.0).tolist() == [0]


@pytest.mark.slow
def test_engines_agree_statistically() -> None:
    """>= 200 replicates per engine on a 10,000-agent scenario with households, communities,
    regions, importation, tracing and a quarantine site: final size and peak day agree (KS
    two-sample test at alpha = 0.01, means within 3 SE); with dt = 0.25 the vectorized engine's
    mean final size is not significantly farther from the DES's than with dt = 1."""
    replicates = 200
    outcomes = {}
    for engine, dt in (("des", 0.25), ("vectorized", 0.25), ("vectorized", 1.0)):
        scenario, label = agreement_scenario(engine, dt), f"{engine}@{dt}"
        measures = {label: tuple(scenario.strategies["test"])}
        tasks = make_tasks(scenario, [label], replicates, 0, measures)
        outcomes[(engine, dt)] = tidy_outcomes(run_tasks(tasks, workers=2))
    des, vec, coarse = (
        outcomes[("des", 0.25)],
        outcomes[("vectorized", 0.25)],
        outcomes[("vectorized", 1.0)],
    )
    for column in ("total_infections", "peak_day"):
        a, b = des[column].to_numpy(float), vec[column].to_numpy(float)
        assert stats.ks_2samp(a, b).pvalue > 0.01, column
        se = np.hypot(a.std(ddof=1) / np.sqrt(a.size), b.std(ddof=1) / np.sqrt(b.size))
        assert abs(a.mean() - b.mean()) < 3 * se, (column, a.mean(), b.mean(), se)
    # The finer step is not significantly farther from the DES than the coarse one: the gap
    # |fine - des| - |coarse - des| stays below 3 SE of the difference of the two means.
    target, fine, rough = (o["total_infections"].to_numpy(float) for o in (des, vec, coarse))
    se = np.sqrt(sum(x.var(ddof=1) / x.size for x in (fine, rough)))
    gap = abs(fine.mean() - target.mean()) - abs(rough.mean() - target.mean())
    assert gap < 3 * se, (fine.mean(), rough.mean(), target.mean(), se)


def checkpoint_engine(
    data: dict, road: str, checkpoint: dict, others: dict | None = None
) -> DESEngine:
    """A set-up DES engine of ``data`` with one checkpoint ``k`` on ``road`` (one lane,
    fixed 0.1-day checks unless ``checkpoint`` says otherwise) and the ``others`` measures."""
    spec = {"type": "checkpoint", "road": road, "capacity": 10, "sensitivity": 1.0}
    spec |= {"service_time": {"dist": "fixed", "mean": 0.1}, **checkpoint}
    measures = {"k": spec, **(others or {})}
    data = {**data, "measures": measures, "strategies": {"t": list(measures)}, "strategy": "t"}
    engine = DESEngine(Scenario.model_validate(data))
    engine._setup_run()
    return engine


def queue_engine(roads: list[dict] | None = None, **checkpoint) -> DESEngine:
    """Regions A and B joined by road AB (24 km: 0.025 days at 40 km/h) with a checkpoint."""
    data = {
        "name": "queue",
        "start_date": "2020-01-01",
        "days": 2,
        "seed": 1,
        "engine": "des",
        "population": {
            "regions": [
                {"name": "A", "population": 50, "communities": 1},
                {"name": "B", "population": 50, "communities": 1},
            ]
        },
        "transmission": {"beta": {}},
        "mobility": {
            "roads": [{"name": "AB", "between": ["A", "B"], "length_km": 24}, *(roads or [])],
            "speed_kmh": 40,
        },
    }
    return checkpoint_engine(data, "AB", checkpoint)


ROAD_TIME = 24 / (40 * 24)  # days to drive road AB


def trace(engine: DESEngine, when: list[float], until: float = 1.0) -> pd.DataFrame:
    """Travellers 0, 1, 2, ... of region A set out for B on road AB at times ``when``."""
    for agent, at in enumerate(when):
        engine.journeys.travel(agent, "trip", (0,), 0, 1, at)
    engine.env.run(until=until)
    return pd.DataFrame(engine.recorder.tables["checkpoint_log"]).set_index("agent").sort_index()


def test_three_travellers_one_lane_fixed_service_times() -> None:
    engine = queue_engine()
    log = trace(engine, [0.25, 0.25, 0.30], until=0.39)
    assert list(log.index) == [0] and np.isclose(log.loc[0, "end"], 0.35)
    lanes = engine.measures[0].lanes  # the checkpoint owns its lanes
    assert lanes.count == 1 and len(lanes.queue) == 1, "one in service, one waiting"
    engine.env.run(until=1.0)
    log = pd.DataFrame(engine.recorder.tables["checkpoint_log"]).set_index("agent").sort_index()
    assert np.allclose(log["start"], [0.25, 0.35, 0.45])
    assert np.allclose(log["end"], [0.35, 0.45, 0.55])
    assert np.allclose(log["wait"], [0.0, 0.10, 0.15])
    assert (log["outcome"] == "screened").all()
    assert list(engine.world.location[:3]) == [1, 1, 1], "all three reached B"
    assert engine.travel.flows[0, 0] == 3


def test_travellers_reach_the_destination_after_the_road() -> None:
    engine = queue_engine()
    trace(engine, [0.25, 0.25], until=0.35 + ROAD_TIME - 1e-9)
    assert engine.world.location[0] == 0, "still on the road"
    engine.env.run(until=0.35 + ROAD_TIME + 1e-9)
    assert engine.world.location[0] == 1 and engine.world.location[1] == 0
    assert engine.region_size.tolist() == [49, 51]


def test_a_traveller_out_of_patience_turns_back_home() -> None:
    engine = queue_engine(patience=0.12)
    log = trace(engine, [0.25, 0.25, 0.30])
    assert list(log["outcome"]) == ["screened", "screened", "turned_back"]
    assert np.isclose(log.loc[2, "end"], 0.42) and np.isnan(log.loc[2, "start"])
    assert engine.world.location[2] == 0, "never reached B"
    assert engine.measures[0].counts["unchecked"] == 1


def test_a_traveller_out_of_patience_takes_another_road() -> None:
    engine = queue_engine(
        roads=[{"name": "AB2", "between": ["A", "B"], "length_km": 48}],
        patience=0.12,
        on_timeout="reroute",
    )
    trace(engine, [0.25, 0.25, 0.30], until=0.42 + 2 * ROAD_TIME - 1e-9)
    assert engine.world.location[2] == 0, "on the longer road"
    engine.env.run(until=0.42 + 2 * ROAD_TIME + 1e-9)
    assert engine.world.location[2] == 1
    assert engine.travel.flows[0].tolist() == [2, 1], "two through AB, one on AB2"


def test_two_lanes_serve_in_parallel() -> None:
    log = trace(queue_engine(lanes=2), [0.25, 0.25, 0.30])
    assert np.allclose(log["start"], [0.25, 0.25, 0.35])
    assert np.allclose(log["end"], [0.35, 0.35, 0.45])


def test_a_closed_road_stops_the_journey() -> None:
    engine = queue_engine()
    engine.travel.road_pass[0] = 0.0
    trace_log = engine.recorder.tables.get("checkpoint_log")
    for agent in range(3):
        engine.journeys.travel(agent, "trip", (0,), 0, 1, 0.25)
    engine.env.run(until=1.0)
    assert trace_log is None and "checkpoint_log" not in engine.recorder.tables
    assert list(engine.world.location[:3]) == [0, 0, 0]


def test_a_lone_case_seeks_care_and_is_confirmed_in_both_engines() -> None:
    confirmed = {}
    for engine in ("vectorized", "des"):
        hits = 0
        for seed in range(12):
            sc = with_overrides(full_site_world(engine), {"seed": seed, "days": 30})
            sc = with_overrides(sc, {"measures.care.delay": [[0, {"dist": "fixed", "mean": 1.0}]]})
            hits += run(sc).summary["confirmed"] > 0
        confirmed[engine] = hits
    assert confirmed["des"] == confirmed["vectorized"] > 0


def test_des_checkpoint_throughput_scales_with_the_population() -> None:
    engine = queue_engine()
    spec = engine.measures[0].spec
    assert spec.mean_service_time(0.1) == pytest.approx(spec.mean_service_time(1.0) / 0.1)
    free = queue_engine(capacity=0, service_time=None)
    log = trace(free, [0.3, 0.3])
    assert (log["outcome"] == "passed_unchecked").all()


def entry_engine(others: dict | None = None, **checkpoint) -> DESEngine:
    """Region A behind entry road E1 (24 km) with a checkpoint; returnees planned on days 0-2."""
    data = {
        "name": "entry",
        "start_date": "2020-01-01",
        "days": 3,
        "seed": 2,
        "engine": "des",
        "population": {"regions": [{"name": "A", "population": 200, "communities": 1}]},
        "transmission": {"beta": {}},
        "importation": {"returnees": {"daily": [[0, 20], [2, 20]]}},
        "mobility": {
            "entry_roads": [{"name": "E1", "region": "A", "length_km": 24}],
            "speed_kmh": 40,
        },
    }
    return checkpoint_engine(data, "E1", checkpoint, others)


def test_returnees_queue_at_the_entry_checkpoint_and_enter_when_served() -> None:
    engine = entry_engine()
    first, second = engine.travel.returnees.agent[:2].tolist()
    assert not engine.world.present[[first, second]].any()
    engine.journeys.arrivals(np.array([first, second]), np.array([0.25, 0.25]), np.array([0, 0]))
    engine.env.run(until=0.36)
    assert engine.world.present[first] and not engine.world.present[second]
    engine.env.run(until=0.46)
    assert engine.world.present[second]
    log = pd.DataFrame(engine.recorder.tables["checkpoint_log"]).set_index("agent")
    assert np.allclose(log.loc[[first, second], "end"], [0.35, 0.45])
    assert (log["kind"] == "arrival").all() and engine.travel.flows[1, 0] == 2
    assert engine.recorder.flows[0, 0, engine.recorder.column("new_returnees")] == 2
    assert engine.away[0] == engine.travel.returnees.agent.size - 2


def test_a_returnee_who_comes_in_after_a_quarantine_starts_is_quarantined() -> None:
    """Planned at the boundary at 0.25, checked until 0.35: a quarantine from 0.3 applies."""
    quarantine = {"type": "returnee_quarantine", "start": 0.3, "coverage": 1.0}
    engine = entry_engine(others={"rq": quarantine})
    agent = int(engine.travel.returnees.agent[0])
    engine.journeys.arrivals(np.array([agent]), np.array([0.25]), np.array([0]))
    engine.env.run(until=1.0)
    assert engine.world.isolation[agent] == Isolation.HOME


def test_a_returnee_turned_back_at_the_boundary_never_enters() -> None:
    engine = entry_engine(patience=0.05)
    first, second = engine.travel.returnees.agent[:2].tolist()
    engine.journeys.arrivals(np.array([first, second]), np.array([0.25, 0.25]), np.array([0, 0]))
    engine.env.run(until=1.0)
    assert engine.world.present[first] and not engine.world.present[second]
    rec = engine.recorder
    assert rec.flows[0, 0, rec.column("new_returnees_blocked")] == 1
    assert rec.flows[0, 0, rec.column("new_returnees")] == 1


def test_a_returnee_screened_by_two_checkpoints_on_one_road_enters_once() -> None:
    engine = entry_engine()
    spec = engine.scenario.measures["k"]
    second = type(engine.measures[0])("k2", spec, engine.scenario)
    second.setup(engine)
    engine.journeys.stops[0].append(second)
    agent = int(engine.travel.returnees.agent[0])
    away = engine.away.copy()
    engine.journeys.arrivals(np.array([agent]), np.array([0.25]), np.array([0]))
    engine.env.run(until=1.0)
    assert engine.world.present[agent] and engine.away[0] == away[0] - 1
    assert engine.recorder.flows[0, 0, engine.recorder.column("new_returnees")] == 1
    log = pd.DataFrame(engine.recorder.tables["checkpoint_log"])
    assert list(log["checkpoint"]) == ["k", "k2"] and np.allclose(log["end"], [0.35, 0.45])
    engine._check()


def test_a_trip_arriving_after_midnight_is_over_without_a_visit() -> None:
    engine = queue_engine()
    trace(engine, [0.95], until=1.2)  # checked until 1.05, then 0.025 days on the road
    engine._flush()
    assert engine.world.location[0] == 0
    assert engine.recorder.flows[:, 0, engine.recorder.column("n_travellers")].sum() == 0


def test_a_lab_follows_its_capacity_schedule_mid_test() -> None:
    """Half a test a day until day 1, then 100: the second test is run at 1 + 0.5/100."""
    data = {
        "name": "lab",
        "start_date": "2020-01-01",
        "days": 3,
        "engine": "des",
        "population": {"regions": [{"name": "A", "population": 20, "communities": 1}]},
        "transmission": {"beta": {}},
        "measures": {
            "lab": {
                "type": "testing",
                "capacity": [[0, 0.5], [1, 100]],
                "turnaround": {"dist": "fixed", "mean": 5.0},
            }
        },
        "strategies": {"t": ["lab"]},
        "strategy": "t",
    }
    engine = DESEngine(Scenario.model_validate(data))
    engine._setup_run()
    engine.service(CaseBook).request_tests(np.array([1, 2, 3]), Priority.SYMPTOMATIC, 0.0)
    tested = []
    ((measure, server),) = engine.servers
    work = server.work

    def logged(ctx, t, n):
        done = work(ctx, t, n)
        tested.extend([t] * done)
        return done

    engine.env.process(engine._serve(measure, replace(server, work=logged)))
    engine.env.run(until=1.1)
    assert np.allclose(tested, [0.0, 1.005, 1.015])


def test_queue_statistics_are_time_averaged_over_the_day() -> None:
    """Two travellers queue behind one in service for 0.1 and 0.2 days: the daily means are
    the integrals, not a midnight sample (which would read 0)."""
    engine = queue_engine()
    trace(engine, [0.25, 0.25, 0.25], until=1.0)
    checkpoint = engine.measures[0]
    mean_waiting, longest, busy = checkpoint.queue.day(1.0)
    # waiting: 2 people for 0.1 d, then 1 for 0.1 d -> 0.3 person-days over one day
    assert np.isclose(mean_waiting, 0.3) and longest == 2
    assert np.isclose(busy, 0.3), "one lane busy for 0.3 days"


class _GymSpec(MeasureSpec):
    type: Literal["undeclared_gym"] = "undeclared_gym"


@register(_GymSpec)
class _UndeclaredGym(Measure):
    """Adds a layer without declaring its rate (``extra_layer_rates``)."""

    def extra_layers(self, ctx: Context, t: float) -> list[Mixing]:
        n = ctx.population.size
        group, everyone = np.zeros(n, dtype=np.int64), np.arange(n)
        slots = ListSlots.of(everyone, group, 1)
        return [Mixing("gym", Source.COMMUNITY, 0.1, group, np.array([n]), slots)]


def test_an_extra_layer_without_a_declared_rate_is_an_error_not_ignored() -> None:
    scenario = with_overrides(
        make_scenario(days=5, engine="des"),
        {"measures": {"gym": {"type": "undeclared_gym"}}, "strategies": {"g": ["gym"]},
         "strategy": "g"},
    )  # fmt: skip
    with pytest.raises(ValueError, match=r"gym.*extra_layer_rates"):
        run(scenario)
    run(with_overrides(scenario, {"engine": "vectorized"}))  # the vectorized engine mixes it
