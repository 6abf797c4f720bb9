"""外防输入 measures on tiny hand-built worlds: closures, suspensions, checkpoints, quarantine."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pytest

from containment_sim import Scenario, run
from containment_sim.engines import VectorizedEngine
from containment_sim.measures import Measure, register
from containment_sim.scenario import MeasureSpec
from containment_sim.world import STATE_COLUMNS, Isolation, State


def world(measures: dict[str, Any], beta: float = 0.0, **extra: Any) -> Scenario:
    """Two regions joined by one road, one entry road into A; strategy 'test' = all measures."""
    data: dict[str, Any] = {
        "name": "roads",
        "start_date": "2020-01-01",
        "days": 30,
        "seed": 11,
        "population": {
            "regions": [
                {"name": "A", "population": 20_000, "communities": 4},
                {"name": "B", "population": 20_000, "communities": 4},
            ]
        },
        "transmission": {"beta": {"household": beta, "community": beta, "region": beta}},
        "mobility": {
            "roads": [{"name": "AB", "between": ["A", "B"], "modes": {"coach": 0.3, "bus": 0.1}}],
            "entry_roads": [{"name": "gate", "region": "A", "outbound_daily": 200}],
            "trips": [{"from": "A", "to": "B", "daily": 1000}],
        },
        "measures": measures,
        "strategies": {"test": list(measures)},
        "strategy": "test",
    }
    data.update(extra)
    return Scenario.model_validate(data)


def road_trips(scenario: Scenario, road: str = "AB") -> int:
    table = run(scenario).tables["roads"]
    return int(table.loc[table["road"] == road, "trips"].sum())


def test_closed_road_carries_no_trips_or_its_leakage() -> None:
    open_trips = road_trips(world({}))
    assert open_trips > 50_000
    closed = {"c": {"type": "road_closure", "roads": ["AB"], "leakage": 0.0}}
    assert road_trips(world(closed)) == 0
    leaky = {"c": {"type": "road_closure", "roads": ["AB"], "leakage": 0.2}}
    # same seed and no epidemic: the same travellers set out, each gets through with p = 0.2
    share = road_trips(world(leaky)) / open_trips
    assert abs(share - 0.2) < 3 * np.sqrt(0.2 * 0.8 / open_trips)


def test_closing_a_region_closes_its_entry_roads_and_stops_exports() -> None:
    sc = world({"c": {"type": "road_closure", "regions": ["A"]}})
    result = run(sc)
    assert result.tables["roads"]["departures"].sum() == 0
    assert result.summary["exported_infections"] == 0


def test_line_suspension_removes_the_mode_share() -> None:
    open_trips = road_trips(world({}))
    share = (
        road_trips(world({"s": {"type": "line_suspension", "modes": ["coach", "bus"]}}))
        / open_trips
    )
    assert abs(share - 0.6) < 3 * np.sqrt(0.6 * 0.4 / open_trips)
    with pytest.raises(ValueError, match=r"unknown transport mode .ferry."):
        run(world({"s": {"type": "line_suspension", "modes": ["ferry"]}}))


def checkpoint(**params: Any) -> dict[str, Any]:
    return {"k": {"type": "checkpoint", "road": "AB", "sensitivity": 0.8, **params}}


def test_checkpoint_never_screens_more_than_its_capacity() -> None:
    table = run(world(checkpoint(capacity=300))).tables["checkpoints"]
    assert (table["screened"] <= 300).all()
    assert (table["screened"] + table["unchecked"] == table["travellers"]).all()
    assert table["unchecked"].sum() > 0 and (table["screened"] == 300).any()


def test_checkpoint_detects_symptomatic_febrile_travellers_at_sensitivity_times_diligence() -> None:
    sc = world(
        checkpoint(capacity=1e6, fever_fraction=1.0, diligence=[[0, 0.5]]),
        beta=0.08,
        importation={"initial_infections": 200},
        days=60,
    )
    table = run(sc).tables["checkpoints"]
    sick, detected = table["screened_symptomatic"].sum(), table["detected"].sum()
    assert sick > 300
    p = 0.8 * 0.5
    assert abs(detected / sick - p) < 3 * np.sqrt(p * (1 - p) / sick)


def test_detected_travellers_are_isolated_not_dropped() -> None:
    sc = world(
        checkpoint(capacity=1e6, fever_fraction=1.0),
        beta=0.08,
        importation={"initial_infections": 200},
        days=40,
    )
    result = run(sc, check=True)
    detected = result.summary["checkpoint_detections"]
    assert detected > 0
    assert result.timeseries["new_isolated"].sum() == detected
    states = result.timeseries[list(STATE_COLUMNS)].sum(axis=1)
    assert (states == 40_000).all()


def returnee_world(quarantine: bool) -> Scenario:
    measures = (
        {"q": {"type": "returnee_quarantine", "days": 100, "coverage": 1.0, "compliance": 1.0}}
        if quarantine
        else {}
    )
    return world(
        measures,
        beta=0.1,
        days=40,
        importation={"prevalence": [[0, 1.0]], "returnees": {"daily": [[0, 200], [10, 200]]}},
    )


def test_fully_compliant_quarantined_returnee_infects_nobody_outside_the_household() -> None:
    def by_returnees(sc: Scenario):
        engine = VectorizedEngine(sc)
        result = engine.run()
        log = result.infections
        returnees = set(engine.travel.returnees.agent.tolist())
        return log[log["infector"].isin(returnees)]

    free = by_returnees(returnee_world(quarantine=False))
    assert (free["source"] != "household").sum() > 50  # without quarantine they do
    kept = by_returnees(returnee_world(quarantine=True))
    assert len(kept) > 20
    assert (kept["source"] == "household").all()


def test_quarantine_and_isolation_never_apply_to_the_dead() -> None:
    sc = returnee_world(quarantine=True)
    engine = VectorizedEngine(sc, check=True)  # check_invariants asserts it every step
    engine.run()
    assert not np.any(engine.world.isolation[engine.world.state == State.DEAD])


def test_lookback_quarantines_earlier_returnees() -> None:
    sc = world(
        {"q": {"type": "returnee_quarantine", "start": 10, "days": 14, "coverage": 1.0}},
        days=12,
        importation={"returnees": {"daily": [[0, 100], [12, 100]]}},
    )
    result = run(sc)
    ts = result.timeseries
    arrived_before = ts.loc[ts["day"] < 10, "new_returnees"].sum()
    assert ts.loc[10, "new_quarantined"] >= arrived_before


class _IsolateAllSymptomaticSpec(MeasureSpec):
    type: Literal["isolate_all_symptomatic_test"] = "isolate_all_symptomatic_test"


@register(_IsolateAllSymptomaticSpec)
class _IsolateAllSymptomatic(Measure):
    """A user-defined measure type, added without touching the engine."""

    def before_transmission(self, ctx, t):
        sick = np.flatnonzero(ctx.world.state == State.SYMPTOMATIC)
        ctx.keep_apart(sick, Isolation.ISOLATED, t)


def test_a_user_measure_type_plugs_in_without_engine_changes() -> None:
    base = dict(beta=0.1, importation={"initial_infections": 50}, days=40)
    plain = run(world({}, **base)).summary["total_infections"]
    result = run(world({"m": {"type": "isolate_all_symptomatic_test", "start": 0}}, **base))
    assert result.timeseries["new_isolated"].sum() > 0
    assert result.summary["total_infections"] < plain


def test_two_suspensions_of_one_mode_remove_its_share_once() -> None:
    open_trips = road_trips(world({}))
    both = {
        "s1": {"type": "line_suspension", "modes": ["bus"]},
        "s2": {"type": "line_suspension", "modes": ["bus", "coach"], "roads": ["AB"]},
    }
    share = road_trips(world(both)) / open_trips
    assert abs(share - 0.6) < 3 * np.sqrt(0.6 * 0.4 / open_trips)


def test_a_quarantine_starting_mid_day_covers_that_days_later_arrivals() -> None:
    def quarantined(start: float) -> tuple[int, int]:
        sc = world(
            {
                "q": {
                    "type": "returnee_quarantine",
                    "start": start,
                    "coverage": 1.0,
                    "lookback": False,
                }
            },
            days=8,
            importation={"returnees": {"daily": [[0, 400], [8, 400]]}},
        )
        engine = VectorizedEngine(sc)
        engine.run()
        plan = engine.travel.returnees
        after = plan.agent[(plan.arrival >= start) & (plan.arrival < 6)]
        return int((engine.world.isolation[after] == Isolation.HOME).sum()), after.size

    kept, arrived = quarantined(5.5)
    assert arrived > 0 and kept == arrived
