"""The examples run as documented."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parents[1] / "examples"


def test_run_default_example(tmp_path: Path) -> None:
    out = tmp_path / "example"
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / "01_run_default.py"), "--scale", "0.02", "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "infections by region" in proc.stdout
    assert (out / "summary.json").exists()
    assert all((out / f"epidemic_curve.{fmt}").exists() for fmt in ("png", "svg", "pdf"))


def test_compare_strategies_example(tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    proc = subprocess.run(
        [
            sys.executable,
            str(EXAMPLES / "02_compare_strategies.py"),
            "--replicates",
            "2",
            "--scale",
            "0.005",
            "--days",
            "40",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "combined" in proc.stdout and "averted" in proc.stdout
    assert (out / "comparison.csv").exists() and (out / "curves.pdf").exists()


def test_the_notebook_tutorial_runs_from_scenario_to_chart(tmp_path: Path, monkeypatch) -> None:
    """Every code cell of ``examples/tutorial.ipynb`` runs in order, at a small scale (the
    cell tagged ``parameters`` is followed by smaller values, as papermill would inject)."""
    import json

    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    notebook = json.loads((EXAMPLES / "tutorial.ipynb").read_text(encoding="utf-8"))
    namespace: dict = {}
    ran = 0
    for cell in notebook["cells"]:
        if cell["cell_type"] != "code":
            continue
        exec(compile("".join(cell["source"]), f"tutorial.ipynb[{ran}]", "exec"), namespace)
        ran += 1
        if "parameters" in cell["metadata"].get("tags", []):
            namespace.update(SCALE=0.005, REPLICATES=2, WORKERS=1, DAYS=40)
    assert ran >= 6
    assert len(namespace["table"]) == len(namespace["scenario"].strategies)
    assert set(namespace["comparison"].replicates["replicate"]) == {0, 1}


def test_the_documented_example_scenario_validates_and_runs() -> None:
    """``examples/two-towns.yaml``, the scenario the getting-started page shows in full."""
    import containment_sim as cs

    scenario = cs.load_scenario(EXAMPLES / "two-towns.yaml")
    result = cs.run(cs.with_overrides(scenario, {"days": 20, "strategy": "external"}))
    assert result.summary["days"] == 20


def test_custom_measure_example_reports_its_column_on_both_engines(tmp_path: Path) -> None:
    for engine in ("vectorized", "des"):
        proc = subprocess.run(
            [sys.executable, str(EXAMPLES / "04_custom_measure.py"), "--engine", engine,
             "--days", "60"],
            capture_output=True,
            text=True,
            check=False,
            cwd=tmp_path,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        masks = [line for line in proc.stdout.splitlines() if line.lstrip().startswith("masks")]
        assert len(masks) == 1 and f"({engine})" in masks[0] and "masks," in masks[0]


@pytest.mark.slow
def test_calibrate_example(tmp_path: Path) -> None:
    out = tmp_path / "cal" / "out"
    args = ["--population-size", "6", "--generations", "2", "--days", "40", "--replicates", "2"]
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / "03_calibrate.py"), *args, "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "transmission.r0" in proc.stdout and "response" in proc.stdout
    assert (out / "posterior.csv").exists() and (out / "marginals.png").exists()
