"""Comparisons: common random numbers, paired averted counts, Shapley attribution, sweeps."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from containment_sim import load_scenario, with_overrides
from containment_sim.attribution import attribute, shapley_values
from containment_sim.cli import main
from containment_sim.experiments import compare
from containment_sim.statistics import paired_difference
from containment_sim.sweeps import sweep

GAME = {
    frozenset(): 0.0, frozenset("a"): 10.0, frozenset("b"): 20.0, frozenset("c"): 30.0,
    frozenset("ab"): 40.0, frozenset("ac"): 50.0, frozenset("bc"): 60.0, frozenset("abc"): 90.0,
}  # fmt: skip


def test_shapley_values_of_a_hand_computed_game() -> None:
    phi = shapley_values(GAME.__getitem__, ["a", "b", "c"])
    # by hand: phi_a = 10/3 + 20/6 + 20/6 + 30/3 = 20; phi_b = 30; phi_c = 40
    assert phi == pytest.approx({"a": 20.0, "b": 30.0, "c": 40.0})
    assert sum(phi.values()) == pytest.approx(GAME[frozenset("abc")] - GAME[frozenset()])


def small_xianning(**changes):
    return with_overrides(
        load_scenario("xianning"), {"population.scale": 0.01, "days": 60, **changes}
    )


def test_attribution_adds_up_to_the_total_averted() -> None:
    sc = small_xianning()
    units = {
        "closures": ["tongcheng_border_closure"],
        "quarantine": ["returnee_quarantine"],
        "lines": ["rail_suspension", "chibi_bus_suspension", "bus_and_coach_suspension"],
        "checkpoints": [
            "checkpoint_g4",
            "checkpoint_g107",
            "checkpoint_wuhan_shenzhen",
            "checkpoint_tongcheng",
        ],
    }
    table = attribute(sc, "external", units, replicates=2)
    assert table["shapley"].sum() == pytest.approx(table["total_averted"].iloc[0])
    assert table["runs"].iloc[0] == 2**4 * 2
    with pytest.raises(ValueError, match="at most 6 units"):
        attribute(sc, "combined", replicates=1)


def test_averted_counts_are_paired_by_replicate() -> None:
    cmp = compare(small_xianning(), ["none", "internal"], replicates=4)
    reps = cmp.replicates
    seeds = reps.pivot(index="replicate", columns="strategy", values="seed")
    assert (seeds["none"] == seeds["internal"]).all(), "common seeds per replicate"
    diff = paired_difference(reps, "internal", "total_infections")
    wide = reps.pivot(index="replicate", columns="strategy", values="total_infections")
    assert np.array_equal(diff.to_numpy(), (wide["none"] - wide["internal"]).to_numpy())
    row = cmp.table().set_index("strategy").loc["internal"]
    assert row["infections_averted_mean"] == pytest.approx(diff.mean())
    assert (
        row["total_infections_lo95"]
        <= row["total_infections_median"]
        <= row["total_infections_hi95"]
    )


def test_workers_do_not_change_the_results(tmp_path: Path) -> None:
    args = [
        "compare",
        "small",
        "--strategies",
        "none",
        "--replicates",
        "3",
        "--days",
        "30",
        "--no-plot",
        "--quiet",
    ]
    assert main([*args, "--workers", "1", "--out", str(tmp_path / "w1")]) == 0
    assert main([*args, "--workers", "2", "--out", str(tmp_path / "w2")]) == 0
    names = sorted(p.name for p in (tmp_path / "w1").iterdir())
    assert "comparison.csv" in names and "replicates.csv" in names
    assert names == sorted(p.name for p in (tmp_path / "w2").iterdir())
    for name in names:
        assert (tmp_path / "w1" / name).read_bytes() == (tmp_path / "w2" / name).read_bytes(), name


def test_compare_cli_writes_tables_and_charts(tmp_path: Path, capsys) -> None:
    out = tmp_path / "cmp"
    code = main(
        [
            "compare",
            "xianning",
            "--scale",
            "0.005",
            "--days",
            "50",
            "--replicates",
            "2",
            "--out",
            str(out),
            "--attribute",
            "internal",
            "--group",
            "finding=care_seeking+symptom_survey+testing+hospital",
            "--group",
            "tracing=tracing+quarantine_sites",
            "--group",
            "distancing=community_closure+stay_home+gathering_ban",
        ]
    )
    assert code == 0
    files = {p.name for p in out.iterdir()}
    for name in (
        "comparison.csv",
        "replicates.csv",
        "comparison.json",
        "curves.csv",
        "attribution.csv",
    ):
        assert name in files, name
    charts = ("curves", "outcomes", "averted", "attribution", "rt", "regions",
              "site_occupancy", "checkpoint_load")  # fmt: skip
    drawn = {f"{chart}.{fmt}" for chart in charts for fmt in ("png", "svg", "pdf")}
    assert drawn == {name for name in files if name.endswith((".png", ".svg", ".pdf"))}
    text = capsys.readouterr().out
    assert "combined" in text and "attribution" in text
    assert main(["plot", str(out)]) == 0
    assert sorted(capsys.readouterr().out.split()) == sorted(str(out / name) for name in drawn)
    table = pd.read_csv(out / "comparison.csv")
    assert list(table["strategy"]) == ["none", "external", "internal", "combined"]


def test_unknown_strategy_is_a_clear_error(capsys) -> None:
    assert main(["compare", "small", "--strategies", "nope", "--replicates", "1", "--quiet"]) == 2
    assert "unknown strategies ['nope']" in capsys.readouterr().err


def test_sweep_over_two_parameters(tmp_path: Path) -> None:
    sc = small_xianning(strategy="internal")
    table = sweep(
        sc,
        {
            "measures.tracing.capacity": [10, 1000],
            "measures.tracing.coverage.community": [0.0, 0.9],
        },
        replicates=2,
    )
    assert len(table) == 2 * 2 * 2
    assert set(table["measures.tracing.capacity"]) == {10, 1000}
    assert (
        main(
            [
                "sweep",
                "small",
                "--param",
                "transmission.beta.region=0.05,0.2",
                "--replicates",
                "2",
                "--days",
                "30",
                "--out",
                str(tmp_path / "sw"),
                "--quiet",
            ]
        )
        == 0
    )
    assert {"sweep.png", "sweep.svg", "sweep.pdf"} <= {p.name for p in (tmp_path / "sw").iterdir()}
    assert json.loads((tmp_path / "sw" / "sweep.json").read_text())["scale"] == 1.0
    assert main(["plot", str(tmp_path / "sw")]) == 0


@pytest.mark.dask
def test_a_dask_cluster_gives_the_same_results() -> None:
    distributed = pytest.importorskip("distributed")  # the dask extra
    scenario = with_overrides(load_scenario("small"), {"days": 30})
    local = compare(scenario, ["none"], replicates=3, workers=1)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        remote = compare(scenario, ["none"], replicates=3, scheduler=cluster.scheduler_address)
    pd.testing.assert_frame_equal(local.replicates, remote.replicates)
    pd.testing.assert_frame_equal(local.curves, remote.curves)


def test_the_public_sweep_is_the_function_after_its_module_is_imported() -> None:
    import containment_sim as cs
    import containment_sim.sweeps

    assert callable(cs.sweep) and cs.sweep.__name__ == "sweep"
