"""The scenario used to check that the two engines simulate one process."""

from __future__ import annotations

from typing import Any

from containment_sim import Scenario


def agreement_scenario(engine: str, dt: float, seed: int = 0, population: int = 10_000) -> Scenario:
    """Two regions, households, communities, importation, care seeking, testing, tracing and
    a quarantine site: every mechanism both engines share. Measures start on day 20; most
    introductions cause short chains and a few grow (mean about 45 infections per 10,000, with a
    long right tail), so the final size depends on when cases are found."""
    fixed = {"dist": "fixed", "mean": 0.5}
    data: dict[str, Any] = {
        "name": "agreement",
        "start_date": "2020-01-01",
        "days": 150,
        "seed": seed,
        "dt": dt,
        "engine": engine,
        "population": {
            "regions": [
                {"name": "A", "population": population * 2 // 3, "communities": 6},
                {"name": "B", "population": population // 3, "communities": 3},
            ]
        },
        "transmission": {"beta": {"household": 0.06, "community": 0.08, "region": 0.1}},
        "importation": {
            "prevalence": [[0, 0.01], [20, 0.01]],
            "returnees": {"daily": [[0, 40], [20, 40]]},
            "initial_infections": 5,
        },
        "mobility": {"trips": [{"from": "A", "to": "B", "daily": 150}]},
        "measures": {
            "care": {
                "type": "care_seeking",
                "start": 20,
                "delay": [[0, {"dist": "gamma", "mean": 3.0, "sd": 2.0}]],
            },
            "lab": {"type": "testing", "start": 20, "capacity": 100, "turnaround": fixed},
            "trace": {
                "type": "tracing",
                "start": 20,
                "delay": fixed,
                "capacity": 30,
                "home_compliance": 0.7,
                "community_contacts": 5,
                "coverage": {"household": 0.9, "infector": 0.5, "infectees": 0.5, "community": 0.5},
            },
            "site": {
                "type": "quarantine_site",
                "start": 20,
                "facility_beta": 0.05,
                "sites": [{"name": "hotel", "region": "A", "rooms": 60, "staff": 12}],
            },
        },
        "strategies": {"test": ["care", "lab", "trace", "site"]},
        "strategy": "test",
    }
    return Scenario.model_validate(data)
