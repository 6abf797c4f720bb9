"""Calibration: input checked before any run, a tiny fit end to end, resume, posterior draws."""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import containment_sim as cs
from containment_sim.calibration import calibrate, prepare
from containment_sim.cli import main
from containment_sim.errors import InputError
from containment_sim.loading import field_line
from containment_sim.posterior import Posterior
from containment_sim.sweeps import sweep

SCENARIO: dict[str, Any] = {
    "name": "tiny",
    "start_date": "2020-01-10",
    "days": 20,
    "seed": 7,
    "population": {"regions": [{"name": "A", "population": 1500, "communities": 2}]},
    "transmission": {"beta": {"household": 0.05, "community": 0.1, "region": 0.15}, "r0": 2.0},
    "importation": {"initial_infections": 10},
    "measures": {
        "care": {"type": "care_seeking", "delay": [[0, {"dist": "gamma", "mean": 3, "sd": 2}]],
                 "share": 0.8},
        "lab": {"type": "testing", "capacity": 1000, "turnaround": {"dist": "fixed", "mean": 1}},
    },
    "strategies": {"none": [], "internal": ["care", "lab"]},
    "strategy": "internal",
    "calibration": {
        "data": ["cases.csv"],
        "population_size": 4,
        "generations": 2,
        "parameters": [
            {"path": "transmission.r0", "prior": "normal", "mean": 2.0, "sd": 0.5, "low": 1.0,
             "high": 3.5},
            {"path": "measures.care.share", "prior": "uniform", "low": 0.3, "high": 1.0},
        ],
        "targets": [
            {"observed": "confirmed", "simulated": "cum_confirmed", "increments": True},
            {"observed": "confirmed", "simulated": "confirmed"},
        ],
    },
}  # fmt: skip

CASES = "date,confirmed\n2020-01-15,1\n2020-01-18,4\n2020-01-21,9\n2020-01-24,15\n2020-01-27,20\n"


def write_case(tmp_path: Path, changes: dict[str, Any] | None = None, cases: str = CASES) -> Path:
    data = copy.deepcopy(SCENARIO)
    for key, value in (changes or {}).items():
        data["calibration"][key] = value
    (tmp_path / "cases.csv").write_text(cases)
    path = tmp_path / "tiny.yaml"
    path.write_text(json.dumps(data, indent=2))  # JSON is YAML
    return path


@pytest.fixture
def no_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any simulation fails the test (bad input must be reported before the first run)."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a simulation ran")

    monkeypatch.setattr("containment_sim.calibration.model.run", refuse)
    monkeypatch.setattr("containment_sim.calibration.result.run_jobs", refuse)


BAD_INPUT = [
    ({"targets": [{"observed": "cases", "simulated": "confirmed"}]}, CASES,
     "calibration.targets.0.observed: column 'cases' is not in the data"),
    ({"parameters": [{"path": "transmission.r0", "prior": "uniform", "low": 3, "high": 1}]},
     CASES, "low must be below high (got low 3, high 1: width -2)"),
    ({"parameters": [{"path": "transmission.r00", "prior": "uniform", "low": 1, "high": 3}]},
     CASES, "unknown parameter path: transmission.r00"),
    (None, "", "the data file is empty"),
    (None, "date,confirmed\n", "the data file has a header but no rows"),
    ({"targets": [{"observed": "confirmed", "simulated": "nonsense"}]}, CASES,
     "'nonsense' is neither a time-series column nor a summary key"),
    ({"parameters": [{"path": "measures.care.share", "prior": "uniform", "low": 0.5,
                      "high": 1.5}]}, CASES, "the scenario does not accept measures.care.share"),
]  # fmt: skip


@pytest.mark.parametrize(("changes", "cases", "message"), BAD_INPUT)
def test_bad_input_is_one_line_exit_2_before_any_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_runs: None, changes: Any, cases: str,
    message: str,
) -> None:  # fmt: skip
    path = write_case(tmp_path, changes, cases)
    code = main(["calibrate", str(path), "--out", str(tmp_path / "out"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1, err
    assert message in err
    assert str(tmp_path) in err  # names the file
    assert not (tmp_path / "out").exists()


def test_errors_in_the_section_name_the_line(tmp_path: Path) -> None:
    path = write_case(tmp_path, {"targets": [{"observed": "cases", "simulated": "confirmed"}]})
    scenario = cs.load_scenario(path)
    lines = path.read_text().splitlines()
    with pytest.raises(InputError) as info:
        prepare(scenario, base_dir=tmp_path,
                where=lambda f: f"{path}:{field_line(path, f)}: {f}")  # fmt: skip
    line = int(str(info.value).split(":")[1])
    assert '"observed": "cases"' in lines[line - 1]


def test_missing_pyabc_names_the_extra(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pyabc", None)
    code = main(["calibrate", str(write_case(tmp_path)), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and "pip install 'containment-sim[calibrate]'" in err
    assert len(err.strip().splitlines()) == 1


def test_tiny_fit_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, out = write_case(tmp_path), tmp_path / "out"
    code = main(["calibrate", str(path), "--out", str(out), "--predictive", "4", "--no-plot"])
    assert code == 0, capsys.readouterr().err
    posterior = pd.read_csv(out / "posterior.csv")
    assert list(posterior.columns) == ["transmission.r0", "measures.care.share", "weight"]
    assert len(posterior) == 4 and posterior["weight"].sum() == pytest.approx(1.0)
    assert posterior["transmission.r0"].between(1.0, 3.5).all()
    summary = pd.read_csv(out / "summary.csv").set_index("parameter")
    assert (summary["lo95"] <= summary["median"]).all()
    assert (summary["median"] <= summary["hi95"]).all()
    diagnostics = pd.read_csv(out / "diagnostics.csv")
    assert list(diagnostics["generation"]) == [0, 1]
    assert (diagnostics["epsilon"].diff().dropna() < 0).all()
    assert diagnostics["acceptance_rate"].between(0, 1).all()
    assert (diagnostics["ess"] <= 4 + 1e-9).all()
    predictive = pd.read_csv(out / "predictive.csv")
    assert len(predictive) == 6 and (predictive["lo95"] <= predictive["hi95"]).all()
    calibrated = cs.load_scenario(out / "tiny-calibrated.yaml")
    assert calibrated.transmission.r0 == pytest.approx(summary.at["transmission.r0", "median"],
                                                       rel=1e-3)  # fmt: skip
    text = (out / "tiny-calibrated.yaml").read_text()
    assert "transmission.r0: calibrated: median" in text and "95 % CrI" in text
    assert (out / "history.db").exists() and (out / "calibration.json").exists()


def test_resume_continues_the_kept_generations(tmp_path: Path) -> None:
    path = write_case(tmp_path)
    scenario = cs.load_scenario(path)
    spec = scenario.calibration
    assert spec is not None
    one = prepare(scenario, spec.model_copy(update={"generations": 1}), tmp_path)
    two = prepare(scenario, spec, tmp_path)
    calibrate(one, db=tmp_path / "a.db", predictive=0)
    resumed = calibrate(two, db=tmp_path / "a.db", resume=True, predictive=0)
    straight = calibrate(two, db=tmp_path / "b.db", predictive=0)
    assert len(resumed.diagnostics) == 2
    pd.testing.assert_frame_equal(resumed.posterior_samples, straight.posterior_samples)
    other = prepare(scenario, spec.model_copy(update={"seed": 99}), tmp_path)
    with pytest.raises(ValueError, match="made with another scenario"):
        calibrate(other, db=tmp_path / "a.db", resume=True, predictive=0)


def test_posterior_draws_are_common_across_strategies(tiny: cs.Scenario) -> None:
    frame = pd.DataFrame({"transmission.beta.region": [0.1, 0.2, 0.3], "weight": [1, 1, 2]})
    posterior = Posterior.from_frame(frame)
    tiny.strategies["twice"] = []
    cmp = cs.compare(tiny, ["none", "twice"], replicates=4, posterior=posterior)
    table = cmp.replicates
    drawn = table.pivot(index="replicate", columns="strategy", values="transmission.beta.region")
    assert (drawn.nunique(axis=1) == 1).all()  # the same draw for every strategy
    expected = [posterior.draw(tiny.seed + r)["transmission.beta.region"] for r in range(4)]
    assert list(drawn.iloc[:, 0]) == expected
    assert set(expected) <= {0.1, 0.2, 0.3}


def test_posterior_file_with_an_unknown_path_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "p.csv").write_text("transmission.nothing,weight\n1,1\n")
    code = main(["compare", "small", "--posterior", str(tmp_path / "p.csv"), "--replicates", "1",
                 "--out", str(tmp_path / "o"), "--quiet"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "transmission has no 'nothing'" in err


def test_posterior_draw_is_a_weighted_resample() -> None:
    posterior = Posterior.from_frame(pd.DataFrame({"x": [0.0, 1.0], "weight": [1, 3]}))
    draws = np.array([posterior.draw(s)["x"] for s in range(2000)])
    assert 0.72 < draws.mean() < 0.78


def test_the_xianning_calibration_is_ready_to_run() -> None:
    fit = prepare(cs.load_scenario("xianning"))  # shipped data, targets, priors: no run
    lab = fit.targets[0]
    assert lab.spec.simulated == "cum_confirmed_lab" and lab.dates[-1].isoformat() == "2020-02-13"
    assert lab.observed.sum() == 534
    assert [t.observed[0] for t in fit.targets[1:3]] == [836, 15]
    assert fit.model.scale == 0.25 and fit.model.scenario["strategy"] == "combined"


def test_a_sweep_draws_all_but_the_swept_parameters(tiny: cs.Scenario) -> None:
    frame = pd.DataFrame(
        {"transmission.beta.region": [0.1, 0.3], "transmission.beta.community": [0.05, 0.2],
         "weight": [1, 1]}
    )  # fmt: skip
    posterior = Posterior.from_frame(frame)
    table = sweep(tiny, {"transmission.beta.region": [0.0, 0.2]}, replicates=2,
                     posterior=posterior)  # fmt: skip
    assert "transmission.beta.community" in table.columns
    assert set(table["transmission.beta.region"]) == {0.0, 0.2}  # the swept value wins
    per_replicate = table.groupby("replicate")["transmission.beta.community"].nunique()
    assert (per_replicate == 1).all()  # the same draw at every grid point


def test_calibrating_again_replaces_the_earlier_note_of_a_value() -> None:
    import io

    from ruamel.yaml import YAML

    from containment_sim.calibration.report import _comment

    yaml = YAML()
    data = yaml.load(
        "a: 1  # a source; [0] calibrated: median 1 (95 % CrI 0-2); [1] calibrated: median 5\n"
        "b: 2\n"
    )
    _comment(data, "a", "[1] calibrated: median 6 (95 % CrI 4-8)")
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    line = buffer.getvalue().splitlines()[0]
    assert line.count("[1] calibrated") == 1 and "median 6 (95 % CrI 4-8)" in line
    assert "median 5" not in line
    assert "a source" in line and "[0] calibrated: median 1 (95 % CrI 0-2)" in line


def test_plot_redraws_a_saved_calibration_from_its_tables(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from containment_sim.plots.calibration import FitCharts

    scenario = cs.load_scenario(write_case(tmp_path))
    calibration = calibrate(prepare(scenario, None, tmp_path), db=tmp_path / "f.db", predictive=3)
    out = calibration.save(tmp_path / "out")
    saved, live = FitCharts.load(out), FitCharts.of(calibration)
    assert [(t.label, k) for t, k in saved.targets] == [(t.label, k) for t, k in live.targets]
    assert [k for _, k in saved.targets] == ["series", "summary"]
    assert (saved.runs, saved.generations, saved.seed) == (3, 2, live.seed)
    columns = ["target", "date", "observed", "median", "lo95", "hi95"]
    pd.testing.assert_frame_equal(saved.predictive[columns], live.predictive[columns],
                                  check_dtype=False)  # fmt: skip
    for chart in ("posterior_predictive", "marginals"):
        (out / f"{chart}.png").unlink()
    assert main(["plot", str(out), "--quiet"]) == 0, capsys.readouterr().err
    assert (out / "posterior_predictive.png").exists() and (out / "marginals.png").exists()
    assert (out / "tiny-calibrated.yaml").exists()  # the data is carried over
    table = pd.read_csv(out / "posterior.csv")
    table.iloc[:-1].to_csv(out / "posterior.csv", index=False)  # one particle lost
    assert main(["plot", str(out)]) == 2
    assert "posterior" in capsys.readouterr().err
