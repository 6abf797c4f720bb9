"""Result: summary keys, save and load, atomic writes."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from conftest import make_scenario
from containment_sim import Result, run

REQUIRED = {
    "population",
    "total_infections",
    "imported_infections",
    "local_infections",
    "deaths",
    "peak_prevalence",
    "peak_day",
    "seed",
    "version",
}
COLUMNS = {
    "n_susceptible",
    "n_exposed",
    "n_presymptomatic",
    "n_asymptomatic",
    "n_symptomatic",
    "n_recovered",
    "n_dead",
    "new_infections",
    "new_infections_imported",
    "new_deaths",
    "cum_infections",
}


@pytest.fixture(scope="module")
def result() -> Result:
    return run(make_scenario(days=30))


def test_summary_and_columns(result: Result) -> None:
    assert REQUIRED <= set(result.summary)
    assert COLUMNS <= set(result.timeseries.columns)
    assert {"day", "date", "region"} <= set(result.by_region.columns)
    s, ts = result.summary, result.timeseries
    assert s["population"] == 5000
    assert s["peak_day"] == int(ts["n_infected"].idxmax())
    assert s["peak_prevalence"] == ts["n_infected"].max() / 5000
    assert (
        s["total_infections"]
        == s["imported_infections"] + s["local_infections"] + s["seeded_infections"]
    )


def test_r_t_is_the_mean_offspring_of_each_day_s_infections(result: Result) -> None:
    """``r_t`` recomputed from the infections table by matching infectors to their rows."""
    inf = result.infections
    day = inf["time"].clip(lower=0).astype(int).clip(upper=29)
    day_of = dict(zip(inf["infectee"], day, strict=True))
    offspring = pd.Series([day_of[j] for j in inf["infector"] if j >= 0]).value_counts()
    cohort = day.value_counts()
    expected = (offspring.reindex(cohort.index, fill_value=0) / cohort).sort_index()
    r_t = result.timeseries["r_t"]
    assert expected.size > 5
    for d, value in expected.items():
        assert r_t[d] == pytest.approx(value)
    assert r_t[~r_t.index.isin(cohort.index)].isna().all()


def test_save_then_load_round_trip(result: Result, tmp_path: Path) -> None:
    out = result.save(tmp_path / "run")
    assert sorted(p.name for p in out.iterdir()) == [
        "summary.json",
        "timeseries.csv",
        "timeseries_by_region.csv",
    ]
    payload = json.loads((out / "summary.json").read_text())
    assert payload["scenario"]["seed"] == result.scenario.seed
    back = Result.load(out)
    assert back.scenario == result.scenario
    assert back.summary == result.summary
    pd.testing.assert_frame_equal(back.timeseries, result.timeseries, check_dtype=False)
    # the embedded scenario reproduces the run exactly
    again = run(back.scenario)
    pd.testing.assert_frame_equal(again.timeseries, result.timeseries)


def test_dates_are_datetimes_in_tables_and_iso_dates_in_files(result: Result, tmp_path) -> None:
    for frame in (result.timeseries, result.by_region):
        assert pd.api.types.is_datetime64_any_dtype(frame["date"])
    assert result.timeseries["date"].iloc[0] == pd.Timestamp(result.scenario.start_date)
    out = result.save(tmp_path / "run")
    assert (
        (out / "timeseries.csv")
        .read_text()
        .splitlines()[1]
        .startswith(f"0,{result.scenario.start_date.isoformat()},")
    )
    back = Result.load(out)
    pd.testing.assert_series_equal(back.timeseries["date"], result.timeseries["date"])
    pd.testing.assert_series_equal(back.by_region["date"], result.by_region["date"])


@pytest.mark.parquet
def test_every_table_as_parquet(result: Result, tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    import containment_sim as cs

    out = result.save(tmp_path / "run", format="parquet")
    assert sorted(p.name for p in out.iterdir()) == [
        "summary.json", "timeseries.parquet", "timeseries_by_region.parquet"
    ]  # fmt: skip
    back = Result.load(out)
    pd.testing.assert_frame_equal(back.timeseries, result.timeseries, check_dtype=False)
    assert pd.api.types.is_datetime64_any_dtype(back.timeseries["date"])
    assert cs.reproduce(out).identical


def test_parquet_without_pyarrow_is_refused_before_the_work(result, tmp_path, monkeypatch) -> None:
    import sys

    from containment_sim.errors import OutputError

    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(OutputError, match=r"containment-sim\[parquet\]"):
        result.save(tmp_path / "run", format="parquet")
    assert not (tmp_path / "run").exists()


def test_failed_save_leaves_nothing_half_written(
    result: Result, tmp_path: Path, monkeypatch
) -> None:
    out = tmp_path / "run"
    result.save(out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_csv", boom)
    with pytest.raises(OSError):
        result.save(out)
    after = {p.name: p.read_bytes() for p in out.iterdir()}
    assert after == before, "old files intact, no temporary files left"
