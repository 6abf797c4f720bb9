"""Semantic checks: a valid scenario runs; what is allowed but probably not meant is a warning."""

from __future__ import annotations

import math
import warnings

import pytest
from pydantic import ValidationError

from conftest import BASE, make_scenario
from containment_sim import ScenarioError, validate_data
from containment_sim.loading import ScenarioWarning

TESTING = {"type": "testing", "capacity": 100, "sensitivity": 0.9,
           "turnaround": {"dist": "fixed", "mean": 1.0}}  # fmt: skip


def problem(**changes) -> str:
    with pytest.raises(ValidationError) as info:
        make_scenario(**changes)
    return str(info.value)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_numbers_must_be_finite(value: float) -> None:
    assert "finite number" in problem(transmission={"beta": {"region": value}})
    assert "finite number" in problem(
        mobility={"trips": [{"from": "A", "to": "B", "daily": value}]}
    )


def test_numbers_must_be_at_most_a_trillion() -> None:
    assert "at most 1e+12" in problem(mobility={"trips": [{"from": "A", "to": "B", "daily": 1e13}]})
    regions = [
        {"name": "A", "population": 10**30, "communities": 1},
        BASE["population"]["regions"][1],
    ]
    text = problem(population={"regions": regions})
    assert "at most 1e+12" in text and "1e+30" in text
    assert make_scenario(seed=2**40).seed == 2**40, "the seed is not bounded that way"


def test_a_measure_must_end_after_it_starts() -> None:
    bad = {"t": {**TESTING, "start": 10, "end": 5}}
    assert "ends (day 5) before or when it starts (day 10)" in problem(
        measures=bad, strategies={"s": ["t"]}
    )
    dated = {"t": {**TESTING, "start": "2020-01-20", "end": 10}}  # 2020-01-20 is day 10
    assert "before or when it starts" in problem(measures=dated, strategies={"s": ["t"]})
    fine = {"t": {**TESTING, "start": 5, "end": "2020-01-20"}}
    assert make_scenario(measures=fine, strategies={"s": ["t"]}).measures["t"].end


def test_no_more_initial_infections_than_people() -> None:
    assert "5,001 initial infections, but the city has only 5,000" in problem(
        importation={"initial_infections": 5001}
    )
    text = problem(importation={"initial_infections": 2001, "initial_region": "B"})
    assert "region B has only 2,000" in text
    scaled = problem(population={**BASE["population"], "scale": 0.001})
    assert "has only 5 simulated people" in scaled and "scale 0.001" in scaled


def test_names_must_be_safe_everywhere() -> None:
    regions = [{"name": "../A", "population": 3000, "communities": 3}]
    assert "character '/'" in problem(population={"regions": regions}, mobility={})
    assert "must not start with '='" not in problem(strategies={"=x": []})
    assert "character '='" in problem(strategies={"=x": []})
    site = {"type": "quarantine_site", "sites": [{"name": "@x", "region": "A", "rooms": 5,
                                                  "staff": 1}]}  # fmt: skip
    assert "character '@'" in problem(measures={"q": site}, strategies={"s": ["q"]})


def test_steps_shorter_than_a_minute_are_refused() -> None:
    assert "at least 1/1440" in problem(dt=1e-6)
    assert make_scenario(dt=1 / 1440).steps_per_day == 1440


def test_measures_outside_the_simulated_days_are_warnings_with_lines() -> None:
    data = {**BASE, "measures": {"t": {**TESTING, "start": 40}}, "strategies": {"s": ["t"]},
            "importation": {"initial_infections": 10, "lockdown": "2021-01-01"}}  # fmt: skip
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        validate_data(data, "mine.yaml")
    messages = [str(w.message) for w in caught if issubclass(w.category, ScenarioWarning)]
    assert messages == [
        "mine.yaml: warning: measures.t.start: starts on day 40, after the last simulated "
        "day 29; it never acts",
        "mine.yaml: warning: importation.lockdown: comes on day 357, after the last simulated "
        "day 29; it has no effect",
    ]


def test_messages_show_values_shortly_and_never_twice() -> None:
    with pytest.raises(ScenarioError) as info:
        validate_data({**BASE, "dt": 0.3}, "x.yaml")
    assert str(info.value).count("got 0.3") == 1
    huge = {**BASE, "population": {"regions": [[1] * 10**6]}}
    with pytest.raises(ScenarioError) as info:
        validate_data(huge, "x.yaml")
    assert len(str(info.value)) < 300 and "..." in str(info.value)
