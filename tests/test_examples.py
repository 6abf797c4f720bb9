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
