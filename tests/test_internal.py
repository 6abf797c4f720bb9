"""内防扩散 measures on tiny hand-built worlds: testing, tracing, quarantine sites, closures."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd

from containment_sim import Scenario, run
from containment_sim.engines import VectorizedEngine
from containment_sim.measures import Measure, register
from containment_sim.measures.cases import CaseBook
from containment_sim.measures.closure import CommunityClosure
from containment_sim.scenario import MeasureSpec
from containment_sim.world import Isolation, Source

FAST = {"dist": "fixed", "mean": 0.0}


def internal(sites: list[dict[str, Any]] | None = None, **over: Any) -> dict[str, Any]:
    measures: dict[str, Any] = {
        "care": {
            "type": "care_seeking",
            "delay": [[0, {"dist": "fixed", "mean": 1.0}]],
            "fever_fraction": 1.0,
        },
        "lab": {
            "type": "testing",
            "capacity": 1e6,
            "sensitivity": 1.0,
            "turnaround": {"dist": "fixed", "mean": 0.5},
        },
        "beds": {"type": "hospital", "beds": 50},
        "trace": {
            "type": "tracing",
            "delay": FAST,
            "capacity": 1e6,
            "home_compliance": 1.0,
            "community_contacts": 5,
        },
    }
    if sites is not None:
        measures["sites"] = {"type": "quarantine_site", "sites": sites}
    measures.update(over)
    return measures


def world(measures: dict[str, Any], days: int = 60, seed: int = 5, beta: float = 0.08) -> Scenario:
    return Scenario.model_validate(
        {
            "name": "town",
            "start_date": "2020-01-01",
            "days": days,
            "seed": seed,
            "population": {
                "regions": [
                    {"name": "A", "population": 15_000, "communities": 6},
                    {"name": "B", "population": 10_000, "communities": 4},
                ]
            },
            "transmission": {"beta": {"household": 0.1, "community": beta, "region": beta}},
            "importation": {"initial_infections": 30},
            "measures": measures,
            "strategies": {"test": list(measures)},
            "strategy": "test",
        }
    )


def big_sites(rooms: int = 100_000, staff: int = 100_000) -> list[dict[str, Any]]:
    return [{"name": f"site {r}", "region": r, "rooms": rooms, "staff": staff} for r in "AB"]


def test_invariants_hold_every_step_with_all_internal_measures() -> None:
    measures = internal(sites=[{"name": "small", "region": "A", "rooms": 40, "staff": 8}])
    measures["closure"] = {
        "type": "community_closure",
        "scope": "reactive",
        "reactive_delay": 1,
        "reactive_duration": 10,
        "compliance": 0.8,
        "purchasing_agents": 2,
        "delivery_beta": 0.2,
    }
    result = run(world(measures), check=True)  # world, stock book and case book every step
    sites, hospitals = result.tables["sites"], result.tables["hospitals"]
    assert (sites["occupancy"] <= sites["capacity"]).all() and sites["occupancy"].max() == 40
    change = sites["occupancy"].diff().fillna(sites["occupancy"].iloc[0])
    assert (change == sites["admissions"] - sites["discharges"]).all(), "admissions and discharges"
    assert (hospitals["occupied"] <= hospitals["beds"]).all()
    s, ts = result.summary, result.timeseries
    assert s["confirmed"] == ts["new_confirmed"].sum() > 30
    assert s["contacts_traced"] == ts["new_contacts_traced"].sum() > 100
    # contacts beyond the 40 places went home: overflow counts them, and cases without a bed
    overflow = ts["n_site_overflow"].sum() + hospitals["waiting"].sum()
    assert s["overflow_person_days"] == overflow and ts["n_site_overflow"].sum() > 0
    assert (ts["n_waiting_bed"].to_numpy() == hospitals.groupby("day")["waiting"].sum()).all()
    assert (ts["n_site_quarantine"] <= 40).all()


class _Snapshot(MeasureSpec):
    type: Literal["snapshot_test"] = "snapshot_test"


@register(_Snapshot)
class _SnapshotMeasure(Measure):
    """Records, before each step's transmission, who is at a quarantine site."""

    def setup(self, ctx):
        self.at_site: list[tuple[float, np.ndarray]] = []

    def before_transmission(self, ctx, t):
        self.at_site.append((t, np.flatnonzero(ctx.world.isolation == Isolation.SITE)))


def test_perfect_tracing_and_quarantine_stop_traced_contacts_infecting_anyone() -> None:
    measures = internal(sites=big_sites())
    measures["watch"] = {"type": "snapshot_test"}
    engine = VectorizedEngine(world(measures, days=50))
    result = engine.run()
    watch = next(m for m in engine.measures if m.name == "watch")
    log = result.infections
    assert log is not None
    step_of = np.floor(log["time"].to_numpy())  # infections of the step [t, t + 1)
    checked = infections = 0
    for t, at_site in watch.at_site:
        step = log[step_of == t]
        by_contacts = step[step["infector"].isin(at_site)]
        assert by_contacts.empty, by_contacts
        checked += at_site.size
        infections += len(step)
    assert checked > 1000, "many contacts were at sites"
    assert infections == len(log), "every step's infections were checked"
    assert result.summary["contacts_traced"] > 100


def test_no_room_at_the_sites_sends_every_contact_home() -> None:
    result = run(world(internal(sites=big_sites(rooms=10, staff=0))))
    ts = result.timeseries
    assert ts["n_site_quarantine"].max() == 0
    assert ts["n_home_quarantine"].max() > 0
    assert result.summary["contacts_traced"] > 0
    assert ts["n_site_overflow"].sum() == ts["n_home_quarantine"].sum()
    assert (result.tables["sites"]["occupancy"] == 0).all()


def test_reactive_closure_closes_the_right_community_on_time_and_reopens() -> None:
    measures = internal()
    measures["closure"] = {
        "type": "community_closure",
        "scope": "reactive",
        "reactive_delay": 2,
        "reactive_duration": 7,
        "compliance": 1.0,
    }
    engine = VectorizedEngine(world(measures, days=40))
    result = engine.run()
    cases = engine._services[CaseBook]
    closure = next(m for m in engine.measures if isinstance(m, CommunityClosure))
    confirmed = np.flatnonzero(np.isfinite(cases.confirmed_time))
    assert confirmed.size > 0
    first = (
        pd.Series(cases.confirmed_time[confirmed])
        .groupby(engine.population.community[confirmed])
        .min()
    )
    events = result.tables["closure_events"].set_index("community")
    assert set(events.index) == set(first.index)
    for community, t in first.items():
        assert events.loc[community, "closes"] == t + 2
        assert events.loc[community, "reopens"] == t + 2 + 7
        assert closure.closed_from[community] == t + 2
    daily = result.tables["closures"].set_index("day")["closed_communities"]
    for day, count in daily.items():
        noon = day + 0.5
        expected = ((first + 2 <= noon) & (noon < first + 9)).sum()
        assert count == expected


def test_quarantined_contacts_are_tested_and_confirmed_cases_isolated() -> None:
    result = run(world(internal(sites=big_sites()), days=120), check=True)
    ts, s = result.timeseries, result.summary
    # every traced contact is tested on entry and on exit, besides the care seekers
    assert ts["new_tests"].sum() >= 2 * ts["new_contacts_traced"].sum() * 0.9
    assert s["confirmed"] == ts["new_confirmed"].sum() > 30
    # 清零: the first day from which nobody is confirmed-active, suspected or observed
    load = ts["n_confirmed_active"] + ts["n_suspected"] + ts["n_contacts_observed"]
    assert load.iloc[-1] == 0, "the outbreak was cleared within 120 days"
    assert s["clearance_day"] == int(np.flatnonzero(load.to_numpy() > 0)[-1]) + 1


def test_closure_with_purchasing_agents_adds_delivery_infections_only_while_closed() -> None:
    measures = {
        "closure": {
            "type": "community_closure",
            "start": 5,
            "end": 25,
            "compliance": 0.9,
            "purchasing_agents": 2,
            "delivery_beta": 0.3,
        }
    }
    result = run(world(measures, days=40))
    log = result.infections
    assert log is not None
    delivery = log[log["source"] == Source.DELIVERY.name.lower()]
    assert len(delivery) > 5
    assert delivery["time"].between(5, 25).all()


def test_closure_without_supply_service_loses_compliance() -> None:
    base = {"type": "community_closure", "start": 5, "compliance": 0.95}
    kept, lost = 0, 0
    for seed in range(4):
        kept += run(world({"c": {**base, "decay": 0.0}}, days=60, seed=seed, beta=0.2)).summary[
            "total_infections"
        ]
        decaying = run(world({"c": {**base, "decay": 0.1}}, days=60, seed=seed, beta=0.2))
        lost += decaying.summary["total_infections"]
    assert lost > 1.5 * kept
    # without purchasing agents every closed day is unserved: compliance 0.95 e^(-0.1 days)
    table = decaying.tables["closures"]
    days_closed = table["day"] - 5
    assert np.allclose(table["compliance"], 0.95 * np.exp(-0.1 * days_closed.clip(lower=0)))


def test_clearance_day_needs_everything_at_zero() -> None:
    from containment_sim.results import clearance_day

    ts = pd.DataFrame(
        {
            "new_confirmed": [0, 1, 0, 0, 0],
            "n_confirmed_active": [0, 1, 1, 0, 0],
            "n_suspected": [0, 0, 0, 1, 0],
            "n_contacts_observed": [0, 3, 2, 0, 0],
        }
    )
    assert clearance_day(ts) == 4
    ts.loc[4, "n_suspected"] = 1
    assert clearance_day(ts) is None


def test_lab_results_come_back_after_the_lab_closes() -> None:
    measures = internal()
    measures["lab"] = {**measures["lab"], "end": 15, "turnaround": {"dist": "fixed", "mean": 3.0}}
    result = run(world(measures, days=40), check=True)
    ts = result.timeseries
    assert ts.loc[ts["day"] >= 15, "new_tests"].sum() == 0, "the lab is closed"
    late = ts.loc[(ts["day"] >= 15) & (ts["day"] <= 18), "new_confirmed"].sum()
    assert late > 0, "samples taken before closing still give results"
