"""The symptom survey (拉网式排查): who it finds, how fast, and what it leaves alone."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from containment_sim import Scenario, run
from containment_sim.engines import VectorizedEngine
from containment_sim.measures.cases import CaseBook
from containment_sim.world import Source, State

LAB = {"type": "testing", "capacity": 1e6, "sensitivity": 1.0,
       "turnaround": {"dist": "fixed", "mean": 0.0}}  # fmt: skip
START = 12  # the survey's first day: most seeded infections are ill by then


def town(survey: dict[str, Any], engine: str = "vectorized", seed: int = 5) -> Scenario:
    """No transmission, no deaths, 3,000 seeded infections, ill people PCR-positive 60 days."""
    measures = {"lab": LAB, "survey": {"type": "symptom_survey", "start": START, **survey}}
    return Scenario.model_validate(
        {
            "name": "survey",
            "start_date": "2020-01-01",
            "days": 30,
            "seed": seed,
            "engine": engine,
            "population": {"regions": [{"name": "A", "population": 20_000, "communities": 8}]},
            "disease": {
                "infection_fatality": [0.0] * 9,
                "pcr_positive_after_onset": {"dist": "fixed", "mean": 60.0},
            },
            "transmission": {"beta": {}},
            "importation": {"initial_infections": 3000},
            "measures": measures,
            "strategies": {"test": list(measures)},
            "strategy": "test",
        }
    )


@pytest.mark.parametrize("engine", ["vectorized", "des"])
@pytest.mark.parametrize(("interval", "sensitivity"), [(1.0, 0.887), (3.0, 0.6)])
def test_a_visit_finds_each_ill_person_with_probability_sensitivity_over_interval(
    engine: str, interval: float, sensitivity: float
) -> None:
    survey = {"interval": interval, "sensitivity": sensitivity}
    ts = run(town(survey, engine)).timeseries
    before = ts.iloc[START - 1]
    ill = int(before["n_symptomatic"] + before["n_ill"])  # nobody is confirmed before
    assert ill > 1000 and ts["new_confirmed"].iloc[:START].sum() == 0
    p = sensitivity / interval
    found = int(ts["new_found_by_survey"].iloc[START])
    se = np.sqrt(ill * p * (1 - p))
    assert abs(found - ill * p) < 3 * se, (found, ill * p, se)
    assert ts["new_found_by_survey"].iloc[:START].sum() == 0


def test_with_daily_visits_and_full_sensitivity_every_ill_person_is_confirmed() -> None:
    engine = VectorizedEngine(town({"interval": 1.0, "sensitivity": 1.0}))
    ts = engine.run().timeseries
    world, cases = engine.world, engine.service(CaseBook)
    seeds = np.flatnonzero(world.source == Source.SEED)
    symptomatic = (world.flags[seeds] & 1).astype(bool)
    confirmed = np.isfinite(cases.confirmed_time[seeds])
    before = ts.iloc[START - 1]
    ill = int(before["n_symptomatic"] + before["n_ill"])
    later = int(ts["new_symptomatic"].iloc[START:-1].sum())  # found the day after onset
    assert ill > 1000 and later > 20
    found = ts["new_found_by_survey"].to_numpy()
    assert found.sum() == ill + later
    assert confirmed.sum() == found[:-1].sum()  # with no turnaround: confirmed the next step
    # an asymptomatic person is never found (no tracing, no care seeking); a symptomatic one
    # is missed only if their illness was over before the first visit
    assert not confirmed[~symptomatic].any()
    missed = seeds[symptomatic & ~confirmed]
    assert np.all(world.state[missed] == State.RECOVERED)
    assert missed.size <= before["n_recovered"]


def test_nobody_is_found_after_the_survey_ends() -> None:
    ts = run(town({"end": START + 2})).timeseries
    assert ts["new_found_by_survey"].iloc[START : START + 2].sum() > 0
    assert ts["new_found_by_survey"].iloc[START + 2 :].sum() == 0


def test_people_still_incubating_are_found_the_day_after_their_symptoms_start() -> None:
    ts = run(town({"interval": 1.0, "sensitivity": 1.0})).timeseries
    onsets = ts["new_symptomatic"].to_numpy()[START:-1]
    found = ts["new_found_by_survey"].to_numpy()[START + 1 :]
    assert onsets.sum() > 20
    assert np.array_equal(found, onsets)
