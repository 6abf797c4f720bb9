"""One-command reproduction: every output folder records what made it and can be rerun."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

import containment_sim as cs
from conftest import make_scenario
from containment_sim.cli import main
from containment_sim.progress import Progress
from containment_sim.provenance import DEPENDENCIES, git_commit


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("saved") / "run"
    cs.run(make_scenario(days=20)).save(out)
    return out


def test_a_saved_run_records_what_reproduces_it(saved: Path) -> None:
    summary = json.loads((saved / "summary.json").read_text())
    assert summary["seed"] == 7 and summary["scale"] == 1.0 and summary["replicates"] == 1
    assert summary["scenario"]["name"] == "tiny"
    record = summary["provenance"]
    assert record["version"] == cs.__version__ and record["python"].count(".") == 2
    assert set(record["dependencies"]) == set(DEPENDENCIES)
    assert record["dependencies"]["numpy"]
    assert "git_commit" in record


def test_a_saved_run_is_reproduced_byte_for_byte(saved: Path, capsys) -> None:
    report = cs.reproduce(saved)
    assert report.identical and report.kind == "run"
    assert {"timeseries.csv", "timeseries_by_region.csv"} <= set(report.matching)
    assert main(["run", str(saved / "summary.json")]) == 0
    assert "reproduced; all" in capsys.readouterr().out


def test_a_changed_table_is_reported(saved: Path, tmp_path: Path, capsys) -> None:
    copy = tmp_path / "copy"
    copy.mkdir()
    for item in saved.iterdir():
        (copy / item.name).write_bytes(item.read_bytes())
    table = copy / "timeseries.csv"
    table.write_text(table.read_text().replace(",", ";", 1))
    report = cs.reproduce(copy)
    assert not report.identical and report.differing == ["timeseries.csv"]
    assert main(["run", str(copy)]) == 1
    out = capsys.readouterr().out
    assert "NOT reproduced" in out and "differs: timeseries.csv" in out


def test_reproduction_refuses_options_that_would_change_the_run(saved: Path, capsys) -> None:
    assert main(["run", str(saved), "--seed", "3"]) == 2
    assert "drop --seed" in capsys.readouterr().err


def test_comparisons_and_sweeps_record_and_reproduce(tmp_path: Path) -> None:
    scenario = make_scenario(days=15)
    cmp = cs.compare(scenario, ["none"], replicates=2)
    cmp.save(tmp_path / "cmp")
    meta = json.loads((tmp_path / "cmp" / "comparison.json").read_text())
    assert meta["seed"] == 7 and meta["replicates"] == 2 and meta["scale"] == 1.0
    assert meta["provenance"]["version"] == cs.__version__
    assert cs.reproduce(tmp_path / "cmp").identical
    assert cs.Comparison.load(tmp_path / "cmp").provenance == meta["provenance"]

    out = tmp_path / "sweep"
    yaml = tmp_path / "tiny.yaml"
    yaml.write_text(json.dumps(scenario.model_dump(mode="json", by_alias=True)))
    args = ["sweep", str(yaml), "--param", "importation.initial_infections=5,10",
            "--replicates", "2", "--no-plot", "--quiet", "--out", str(out)]  # fmt: skip
    assert main(args) == 0
    meta = json.loads((out / "sweep.json").read_text())
    assert {"scenario", "version", "scale", "seed", "provenance", "values"} <= set(meta)
    report = cs.reproduce(out)
    assert report.identical and report.matching == ["sweep.csv"]


def test_no_git_is_no_commit(monkeypatch) -> None:
    git_commit.cache_clear()
    monkeypatch.setenv("PATH", "")
    try:
        assert git_commit() == (None, None)
    finally:
        git_commit.cache_clear()


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_progress_logs_lines_with_the_time_left() -> None:
    logger, handler = logging.getLogger("containment_sim"), Lines()
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        with Progress(10, "compare", "run", bar=False, spacing=0.0) as progress:
            for _ in range(10):
                progress(1)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    lines = handler.lines
    assert lines[0].startswith("compare: 1 of 10 runs (10%), ") and "left" in lines[0]
    assert len(lines) == 10 and lines[-1].startswith("compare: 10 runs done in ")


def test_progress_true_from_python(capsys) -> None:
    result = cs.run(make_scenario(days=5), progress=True)
    assert result.summary["days"] == 5
    cmp = cs.compare(make_scenario(days=5), ["none"], replicates=1, progress=True)
    assert len(cmp.replicates) == 1


def test_short_repr_and_html_of_results_and_comparisons() -> None:
    result = cs.run(make_scenario(days=10))
    text = repr(result)
    assert text.startswith("<Result tiny, strategy none, vectorized engine, 10 days")
    assert len(text.splitlines()) == 2 and len(text) < 400 and "infections" in text
    assert result._repr_html_().count("<tr>") == 5
    cmp = cs.compare(make_scenario(days=10), ["none"], replicates=2)
    text = repr(cmp)
    assert text.startswith("<Comparison tiny: 1 strategy x 2 replicates")
    assert len(text.splitlines()) == 3 and "none" in text.splitlines()[2]
    assert cmp._repr_html_().count("<tr>") == 2


@pytest.mark.parquet
def test_parquet_folders_plot_and_reproduce(tmp_path: Path, capsys) -> None:
    pytest.importorskip("pyarrow")
    out = tmp_path / "cmp"
    args = ["compare", "small", "--strategies", "none", "--replicates", "2", "--days", "15",
            "--format", "parquet", "--quiet", "--out", str(out)]  # fmt: skip
    assert main(args) == 0
    assert not list(out.glob("*.csv")) and (out / "replicates.parquet").exists()
    assert main(["plot", str(out)]) == 0
    assert main(["run", str(out), "--quiet"]) == 0


def test_a_missing_table_is_reported(saved: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    copy.mkdir()
    for item in saved.iterdir():
        if item.name != "timeseries_by_region.csv":
            (copy / item.name).write_bytes(item.read_bytes())
    report = cs.reproduce(copy / "summary.json")
    assert not report.identical and report.missing == ["timeseries_by_region.csv"]
    assert "missing from the folder: timeseries_by_region.csv" in str(report)
