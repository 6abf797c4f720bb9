"""Output folders: checked before the work, replaced as a whole, never written outside."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from containment_sim.errors import OutputError, ResultFolderError
from containment_sim.outputs import (
    OutputFolder,
    copy_data_files,
    read_tables,
    spreadsheet_safe,
    write_tables,
)


def results_folder(path: Path, *names: str) -> Path:
    path.mkdir(parents=True)
    (path / "summary.json").write_text("{}")
    for name in names:
        (path / name).write_text("old")
    return path


def test_a_new_folder_appears_whole_and_the_staging_folder_is_gone(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "out"
    folder = OutputFolder.prepare(target)
    assert folder.staging.parent == target.parent and folder.staging.name.startswith(".out.")
    with folder as staging:
        (staging / "summary.json").write_text("{}")
        assert not target.exists()
    assert sorted(p.name for p in target.iterdir()) == ["summary.json"]
    assert sorted(p.name for p in target.parent.iterdir()) == ["out"]
    assert oct(target.stat().st_mode & 0o777) == oct(0o777 & ~_umask())


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_an_existing_results_folder_needs_force_and_is_replaced_whole(tmp_path: Path) -> None:
    target = results_folder(tmp_path / "out", "checkpoints.csv", "old_chart.png")
    with pytest.raises(OutputError, match="already holds results; add --force"):
        OutputFolder.prepare(target)
    with OutputFolder.prepare(target, force=True) as staging:
        (staging / "summary.json").write_text('{"new": 1}')
    assert sorted(p.name for p in target.iterdir()) == ["summary.json"], "no stale tables"


def test_a_failure_leaves_the_old_folder_untouched(tmp_path: Path) -> None:
    target = results_folder(tmp_path / "out", "timeseries.csv")
    before = {p.name: p.read_bytes() for p in target.iterdir()}
    with pytest.raises(KeyboardInterrupt), OutputFolder.prepare(target, force=True) as staging:
        (staging / "summary.json").write_text("half")
        raise KeyboardInterrupt
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_folders_with_other_files_are_never_replaced(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("years of work")
    with pytest.raises(OutputError, match="not results of containment-sim"):
        OutputFolder.prepare(tmp_path / "mine", force=True)
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="not a folder"):
        OutputFolder.prepare(tmp_path / "file", force=True)


def test_the_working_directory_and_its_parents_are_never_replaced(
    tmp_path: Path, monkeypatch
) -> None:
    results_folder(tmp_path / "here")
    monkeypatch.chdir(tmp_path / "here")
    for path in (".", "..", str(tmp_path / "here")):
        with pytest.raises(OutputError, match="working directory"):
            OutputFolder.prepare(path, force=True)


def test_a_default_path_must_stay_inside_its_root(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    for escaping in ("results/..", "results/../../x", "results"):
        with pytest.raises(OutputError, match="must be inside results/"):
            OutputFolder.prepare(escaping, inside="results")
    (tmp_path / "results").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "results" / "link").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(OutputError, match="must be inside results/"):
        OutputFolder.prepare("results/link/x", inside="results")
    assert OutputFolder.prepare("results/fine", inside="results").target.name == "fine"


def test_an_unwritable_place_is_found_before_any_work(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root can write anywhere")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(OutputError, match="cannot write there: Permission denied"):
        OutputFolder.prepare(locked / "out")


def test_an_interrupted_job_is_named_and_resumable(tmp_path: Path) -> None:
    target = tmp_path / "out"
    (target / ".partial").mkdir(parents=True)
    (target / ".partial" / "abc.npz").write_bytes(b"x")
    with pytest.raises(OutputError, match=r"holds 1 finished runs .* --resume .* --force"):
        OutputFolder.prepare(target)
    OutputFolder.prepare(target, resume=True).abandon()
    assert (target / ".partial" / "abc.npz").exists(), "resume keeps the runs"
    OutputFolder.prepare(target, force=True).abandon()
    assert not (target / ".partial").exists(), "force starts over"


def test_staging_folders_of_killed_processes_are_removed(tmp_path: Path) -> None:
    target = tmp_path / "out"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".out.staging-{dead.pid}-abc"
    stale.mkdir()
    alive = tmp_path / f".out.staging-{os.getpid()}-abc"
    alive.mkdir()
    OutputFolder.prepare(target).abandon()
    assert not stale.exists() and alive.exists()


def test_spreadsheet_formulas_are_written_as_text() -> None:
    frame = pd.DataFrame(
        {"region": ["=HYPERLINK(1)", "North", "+1", "-x", "@SUM(1)", None], "n": range(6)}
    )
    safe = spreadsheet_safe(frame)
    assert list(safe["region"])[:5] == ["'=HYPERLINK(1)", "North", "'+1", "'-x", "'@SUM(1)"]
    assert safe["n"].tolist() == list(range(6)), "numbers (also negative ones) are untouched"
    assert spreadsheet_safe(pd.DataFrame({"=x": [1]})).columns.tolist() == ["'=x"]
    assert frame["region"][0] == "=HYPERLINK(1)", "the original is not changed"


def test_tables_are_checked_against_their_row_counts(tmp_path: Path) -> None:
    frame = pd.DataFrame({"day": range(10), "n": range(10)})
    write_tables(tmp_path, {"t": frame}, {"doc.json": {"rows": {"t": 10}}})
    assert len(read_tables(tmp_path, {"t": 10}, {"t": ["day"]})["t"]) == 10
    text = (tmp_path / "t.csv").read_text()
    (tmp_path / "t.csv").write_text(text[: len(text) // 2])
    with pytest.raises(ResultFolderError, match="rows, but the folder's document says 10"):
        read_tables(tmp_path, {"t": 10}, {})
    (tmp_path / "t.csv").write_bytes(b"\xff\xfe\x00garbage\n\x00\x01")
    with pytest.raises(ResultFolderError, match="cannot read the table"):
        read_tables(tmp_path, {"t": 10}, {})
    with pytest.raises(ResultFolderError, match="missing"):
        read_tables(tmp_path, {"u": None}, {})
    with pytest.raises(ResultFolderError, match="lacks the columns day"):
        write_tables(tmp_path, {"t": frame[["n"]]}, {})
        read_tables(tmp_path, {"t": None}, {"t": ["day"]})


def test_redrawing_carries_the_data_over_but_not_the_charts(tmp_path: Path) -> None:
    source = results_folder(
        tmp_path / "run", "timeseries.csv", "curve.png", "curve.svg", "curve.pdf"
    )
    (source / ".partial").mkdir()
    (source / ".partial" / "k.npz").write_text("run")
    staging = tmp_path / "staging"
    staging.mkdir()
    copy_data_files(source, staging, (".png", ".svg", ".pdf"))
    assert sorted(str(p.relative_to(staging)) for p in staging.rglob("*")) == [
        ".partial", ".partial/k.npz", "summary.json", "timeseries.csv"
    ]  # fmt: skip
