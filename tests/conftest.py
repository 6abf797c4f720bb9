"""Shared helpers: tiny scenarios built in code."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from containment_sim import Scenario

BASE: dict[str, Any] = {
    "name": "tiny",
    "start_date": "2020-01-10",
    "days": 30,
    "seed": 7,
    "population": {
        "regions": [
            {"name": "A", "population": 3000, "communities": 3},
            {"name": "B", "population": 2000, "communities": 2},
        ]
    },
    "transmission": {"beta": {"household": 0.05, "community": 0.1, "region": 0.15}},
    "importation": {"initial_infections": 10},
    "mobility": {"trips": [{"from": "A", "to": "B", "daily": 100}]},
}


def make_scenario(**changes: Any) -> Scenario:
    """The tiny base scenario with top-level sections replaced or deep-merged."""
    data = copy.deepcopy(BASE)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return Scenario.model_validate(data)


def one_region(
    population: int,
    r0: float,
    seeds: int,
    days: int,
    seed: int = 1,
    dt: float = 1.0,
    dispersion: float | str | None = "default",
    disease: dict[str, Any] | None = None,
) -> Scenario:
    """A single well-mixed region (region layer only, no deaths) with the given R0.

    ``disease`` changes the natural history (deaths stay off); ``dispersion`` sets
    ``transmission.dispersion`` (``"default"`` keeps the model's default).
    """
    from containment_sim.defaults import AGE_DISTRIBUTION
    from containment_sim.disease import mean_infectious_days
    from containment_sim.scenario import Disease

    disease_model = Disease(**{"infection_fatality": [0.0] * 9, **(disease or {})})
    beta = r0 / mean_infectious_days(disease_model, list(AGE_DISTRIBUTION))
    transmission: dict[str, Any] = {"beta": {"region": beta}}
    if dispersion != "default":
        transmission["dispersion"] = dispersion
    return Scenario.model_validate(
        {
            "name": "well-mixed",
            "start_date": "2020-01-01",
            "days": days,
            "seed": seed,
            "dt": dt,
            "population": {
                "regions": [{"name": "city", "population": population, "communities": 1}]
            },
            "disease": disease_model.model_dump(),
            "transmission": transmission,
            "importation": {"initial_infections": seeds},
        }
    )


@pytest.fixture
def tiny() -> Scenario:
    return make_scenario()
