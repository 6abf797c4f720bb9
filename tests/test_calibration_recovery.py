"""Calibration recovers known parameters from data simulated with them (slow)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import containment_sim as cs
from containment_sim.calibration import calibrate, prepare
from containment_sim.calibration_spec import CalibrationSpec

TRUTH = {"transmission.r0": 2.2, "measures.care.share": 0.6}

SCENARIO: dict[str, Any] = {
    "name": "recovery",
    "start_date": "2020-01-01",
    "days": 45,
    "seed": 11,
    "population": {"regions": [{"name": "A", "population": 6000, "communities": 4}]},
    "transmission": {"beta": {"household": 0.05, "community": 0.1, "region": 0.15},
                     "r0": TRUTH["transmission.r0"]},
    "importation": {"initial_infections": 20},
    "measures": {
        "care": {"type": "care_seeking", "share": TRUTH["measures.care.share"],
                 "delay": [[0, {"dist": "gamma", "mean": 3, "sd": 2}]]},
        "lab": {"type": "testing", "capacity": 5000, "turnaround": {"dist": "fixed", "mean": 1}},
    },
    "strategies": {"none": [], "testing": ["care", "lab"]},
    "strategy": "testing",
}  # fmt: skip

SPEC = {
    "data": ["observed.csv"],
    "population_size": 50,
    "generations": 4,
    "parameters": [
        {"path": "transmission.r0", "prior": "uniform", "low": 1.2, "high": 3.5},
        {"path": "measures.care.share", "prior": "uniform", "low": 0.2, "high": 1.0},
    ],
    "targets": [
        {"observed": "confirmed", "simulated": "cum_confirmed", "increments": True},
        {"observed": "infections", "simulated": "cum_infections", "distance": "log1p"},
    ],
}


@pytest.mark.slow
def test_true_values_are_inside_the_95_percent_credible_intervals(tmp_path: Path) -> None:
    truth = cs.Scenario.model_validate(SCENARIO)
    ts = cs.run(truth).timeseries.iloc[4::3]
    observed = pd.DataFrame({"date": ts["date"], "confirmed": ts["cum_confirmed"],
                             "infections": ts["cum_infections"]})  # fmt: skip
    observed.to_csv(tmp_path / "observed.csv", index=False)
    start = {**SCENARIO, "seed": 12345, "transmission": {**SCENARIO["transmission"], "r0": 2.0}}
    scenario = cs.Scenario.model_validate(start)
    fit = prepare(scenario, CalibrationSpec.model_validate(SPEC), base_dir=tmp_path)
    result = calibrate(fit, workers=2, predictive=0)
    summary = result.summary().set_index("parameter")
    for path, value in TRUTH.items():
        lo, hi = summary.at[path, "lo95"], summary.at[path, "hi95"]
        assert lo <= value <= hi, (path, value, lo, hi)
    assert summary.at["transmission.r0", "hi95"] - summary.at["transmission.r0", "lo95"] < 2.0
