"""The command line, run as a user would: exit codes, messages, files written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from containment_sim.cli import main


def test_run_writes_results_and_plot(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    assert main(["run", "small", "--days", "30", "--out", str(out)]) == 0
    assert {"summary.json", "timeseries.csv", "timeseries_by_region.csv", "epidemic_curve.png"} <= {
        p.name for p in out.iterdir()
    }
    printed = capsys.readouterr().out
    assert "infections" in printed and "peak" in printed
    summary = json.loads((out / "summary.json").read_text())
    assert summary["days"] == 30


def test_bare_run_uses_the_builtin_default(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    # the default scenario at a small scale (the full-scale run is in benchmarks/)
    assert main(["run", "--scale", "0.01", "--days", "20", "--no-plot", "--quiet"]) == 0
    summary = json.loads((tmp_path / "results" / "xianning" / "summary.json").read_text())
    assert summary["scenario_name"] == "xianning" and summary["scale"] == 0.01


def test_unknown_key_exits_2_with_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    text = Path(__file__).parents[1].joinpath("scenarios", "small.yaml").read_text()
    bad.write_text(text.replace("days: 90", "days: 90\nhorizon: 12"))
    proc = subprocess.run(
        [sys.executable, "-m", "containment_sim", "run", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"{bad}:6: horizon: unknown key 'horizon'")
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "results").exists()


def test_bad_override_exits_2(capsys) -> None:
    assert main(["run", "small", "--scale", "1.5"]) == 2
    assert "--scale" in capsys.readouterr().err


def test_validate_schema_init(tmp_path: Path, capsys) -> None:
    assert main(["validate", "small"]) == 0
    assert "valid scenario 'small'" in capsys.readouterr().out
    assert main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "Scenario"
    target = tmp_path / "mine.yaml"
    assert main(["init", str(target), "--from", "small"]) == 0
    assert main(["validate", str(target)]) == 0
    assert main(["init", str(target)]) == 2
