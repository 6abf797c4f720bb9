"""The vectorized engine: conservation, reproducibility, zero transmission, step length."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import make_scenario
from containment_sim import load_scenario, run, with_overrides
from containment_sim.resources import ResourceError, check_resources
from containment_sim.world import STATE_COLUMNS


def test_every_agent_in_exactly_one_state_every_day() -> None:
    scenario = with_overrides(load_scenario("small"), {"days": 60})
    result = run(scenario, check=True)  # check_invariants() after every step
    ts, reg = result.timeseries, result.by_region
    population = sum(scenario.scaled_population())
    assert (ts[list(STATE_COLUMNS)].sum(axis=1) == population).all()
    sizes = dict(zip(scenario.region_names, scenario.scaled_population(), strict=True))
    region_total = reg[list(STATE_COLUMNS)].sum(axis=1)
    assert (region_total == reg["region"].map(sizes)).all()
    assert len(reg) == len(ts) * len(sizes)
    numeric = ts.select_dtypes("number").drop(columns="r_t")
    assert (numeric >= 0).all().all(), "no negative counts"
    assert (ts["r_t"].dropna() >= 0).all()
    assert ts["cum_infections"].iloc[-1] == ts["new_infections"].sum()
    # flows and stocks agree: infections ever = population - susceptible
    assert ts["cum_infections"].iloc[-1] == population - ts["n_susceptible"].iloc[-1]
    assert ts["cum_deaths"].iloc[-1] == ts["n_dead"].iloc[-1]
    sources = ["new_infections_household", "new_infections_community", "new_infections_region"]
    assert (ts[sources].sum(axis=1) == ts["new_infections_local"]).all()
    parts = ts["new_infections_local"] + ts["new_infections_imported"] + ts["new_infections_seeded"]
    assert (parts == ts["new_infections"]).all()


def test_same_seed_same_result_other_seed_different() -> None:
    scenario = make_scenario(days=40)
    a, b = run(scenario), run(scenario)
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries)
    pd.testing.assert_frame_equal(a.by_region, b.by_region)
    assert a.infections is not None and b.infections is not None
    pd.testing.assert_frame_equal(a.infections, b.infections)
    assert a.summary == b.summary
    c = run(with_overrides(scenario, {"seed": scenario.seed + 1}))
    assert not c.timeseries["new_infections"].equals(a.timeseries["new_infections"])


def test_zero_beta_means_no_local_infections() -> None:
    scenario = with_overrides(
        load_scenario("small"),
        {"transmission.beta": {"household": 0.0, "community": 0.0, "region": 0.0}},
    )
    result = run(scenario)
    s = result.summary
    assert s["local_infections"] == 0
    assert s["imported_infections"] > 0 and s["seeded_infections"] == 5
    assert s["total_infections"] == s["imported_infections"] + s["seeded_infections"]


def test_infection_log_records_infector_and_layer() -> None:
    result = run(make_scenario(days=40))
    log = result.infections
    assert log is not None and len(log) == result.summary["total_infections"]
    local = log[log["source"].isin(["household", "community", "region"])]
    assert (local["infector"] >= 0).all()
    outside = log[~log.index.isin(local.index)]
    assert (outside["infector"] == -1).all()
    infector_time = log.set_index("infectee")["time"].reindex(local["infector"]).to_numpy()
    assert np.all(infector_time < local["time"].to_numpy()), "infectors were infected earlier"


def test_household_infections_stay_in_the_household() -> None:
    scenario = make_scenario(days=40, transmission={"beta": {"household": 0.3}})
    engine_result = run(scenario)
    from containment_sim.population import generate_population

    pop = generate_population(scenario)
    log = engine_result.infections
    assert log is not None
    hh = log[log["source"] == "household"]
    assert len(hh) > 0
    assert np.array_equal(pop.household[hh["infectee"]], pop.household[hh["infector"]])
    comm = log[log["source"] == "community"]
    assert np.array_equal(pop.community[comm["infectee"]], pop.community[comm["infector"]])


def test_smaller_steps_run_and_conserve() -> None:
    scenario = make_scenario(days=20, dt=0.25)
    result = run(scenario, check=True)
    assert len(result.timeseries) == 20
    assert result.summary["total_infections"] >= 10


def test_an_absurd_transmission_rate_infects_everyone_reached_without_exhausting_memory() -> None:
    """A rate of 1e12 per day asks for ~1e14 contact events a step; the engine caps the events
    per member (every susceptible member is reached anyway) instead of allocating them."""
    rates = {"household": 1e12, "community": 1e12, "region": 1e12}
    scenario = make_scenario(days=6, transmission={"beta": rates, "dispersion": None})
    result = run(scenario, check=True)
    ts = result.timeseries
    population = sum(scenario.scaled_population())
    assert ts["cum_infections"].iloc[-1] > 0.99 * population
    # the discrete-event engine draws every contact: the estimate refuses the run up front
    with pytest.raises(ResourceError, match="more than the limit"):
        check_resources(with_overrides(scenario, {"engine": "des"}))
    check_resources(with_overrides(make_scenario(days=6), {"engine": "des"}))
