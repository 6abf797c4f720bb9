"""Interrupted work: a killed worker, Ctrl-C and a kill during the save lose nothing finished.

Each test interrupts a comparison in a different way, resumes it, and checks that the folder
it ends with is byte for byte the folder of an uninterrupted comparison.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from containment_sim.cli import main

ARGS = ["compare", "small", "--strategies", "none", "--replicates", "12", "--days", "20",
        "--no-plot", "--quiet"]  # fmt: skip


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict[str, bytes]:
    """The folder of an uninterrupted comparison (in this process, one worker)."""
    out = tmp_path_factory.mktemp("reference") / "cmp"
    assert main([*ARGS, "--out", str(out)]) == 0
    return files(out)


def cli(*args: str) -> subprocess.Popen[str]:
    """The command line in a fresh process, in its own process group (as from a terminal)."""
    return subprocess.Popen(
        [sys.executable, "-m", "containment_sim", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        # Ctrl-C as from a terminal, even if this process was started with SIGINT ignored (as
        # a background job of a shell script is): the child then installs Python's handler
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def wait_for_runs(ledger: Path, n: int, proc: subprocess.Popen[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while len(list(ledger.glob("*.npz"))) < n:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the job did not start"
        time.sleep(0.02)


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def test_ctrl_c_keeps_finished_runs_and_resume_is_byte_identical(
    tmp_path: Path, reference, capsys, monkeypatch
) -> None:
    import containment_sim.experiments as experiments

    out = tmp_path / "cmp"
    calls = []
    real = experiments._execute

    def interrupt_on_the_fifth(task):
        calls.append(task)
        if len(calls) == 5 and not interrupted:
            interrupted.append(True)
            raise KeyboardInterrupt
        return real(task)

    interrupted: list[bool] = []

    monkeypatch.setattr(experiments, "_execute", interrupt_on_the_fifth)
    assert main([*ARGS, "--out", str(out)]) == 130
    err = capsys.readouterr().err.strip()
    assert err == (
        f"interrupted: 4 of 12 runs finished and are kept in {out.resolve()}/.partial; "
        "run the same command with --resume to continue"
    )
    assert sorted(p.name for p in out.iterdir()) == [".partial"]
    assert main([*ARGS, "--out", str(out)]) == 2
    assert "holds 4 finished runs of an interrupted job" in capsys.readouterr().err
    calls.clear()
    assert main([*ARGS, "--out", str(out), "--resume"]) == 0
    assert len(calls) == 8, "only the unfinished runs ran"
    assert files(out) == reference
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cmp"]


@pytest.mark.slow
def test_ctrl_c_with_two_workers_stops_at_once_and_resumes(tmp_path: Path, reference) -> None:
    out = tmp_path / "cmp"
    proc = cli(*ARGS, "--replicates", "40", "--workers", "2", "--out", str(out))
    wait_for_runs(out / ".partial", 3, proc)
    os.killpg(proc.pid, signal.SIGINT)
    started = time.monotonic()
    _, err = proc.communicate(timeout=60)
    assert time.monotonic() - started < 10, "it does not wait for the rest of the job"
    assert proc.returncode == 130, err
    assert err.count("\n") == 1 and "Traceback" not in err and "--resume" in err
    kept = len(list((out / ".partial").glob("*.npz")))
    assert 3 <= kept < 40
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cmp"], "no staging folder left"
    assert main([*ARGS, "--replicates", "40", "--workers", "2", "--out", str(out), "--resume"]) == 0
    assert main([*ARGS, "--replicates", "40", "--out", str(tmp_path / "whole")]) == 0
    assert files(out) == files(tmp_path / "whole")


@pytest.mark.slow
def test_a_killed_worker_is_replaced_and_the_job_completes(tmp_path: Path, reference) -> None:
    out = tmp_path / "cmp"
    proc = cli(*ARGS, "--replicates", "30", "--workers", "2", "--oversubscribe", "--out", str(out))
    wait_for_runs(out / ".partial", 2, proc)
    workers = children(proc.pid)
    assert workers, "the pool has worker processes"
    os.kill(workers[0], signal.SIGKILL)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert main([*ARGS, "--replicates", "30", "--out", str(tmp_path / "whole")]) == 0
    assert files(out) == files(tmp_path / "whole")


KILL_DURING_SAVE = """
import os, signal, sys
import pandas as pd
from containment_sim.cli import main

real = pd.DataFrame.to_csv
written = []

def to_csv(self, *args, **kwargs):
    written.append(1)
    if len(written) == 2:  # the second table of the save
        os.kill(os.getpid(), signal.SIGKILL)
    return real(self, *args, **kwargs)

pd.DataFrame.to_csv = to_csv
sys.exit(main(sys.argv[1:]))
"""


def test_a_kill_during_the_save_leaves_the_old_folder_and_resumes(
    tmp_path: Path, reference
) -> None:
    out = tmp_path / "cmp"
    out.mkdir()
    (out / "comparison.json").write_text("{}")
    (out / "attribution.csv").write_text("an older comparison's table")
    before = files(out)
    proc = subprocess.run(
        [sys.executable, "-c", KILL_DURING_SAVE, *ARGS, "--out", str(out), "--force"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == -signal.SIGKILL
    assert files(out) == before
    assert len(list((out / ".partial").glob("*.npz"))) == 12, "every run was kept"
    staging = [p for p in tmp_path.iterdir() if p.name.startswith(".cmp.staging-")]
    assert len(staging) == 1, "the killed save left its staging folder"
    assert main([*ARGS, "--out", str(out), "--resume"]) == 0
    assert files(out) == reference
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cmp"], "stale staging removed"


@pytest.mark.dask
def test_a_resumed_comparison_on_dask_is_identical(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")  # the dask extra
    from containment_sim import load_scenario, with_overrides
    from containment_sim.errors import Interrupted
    from containment_sim.experiments import compare

    scenario = with_overrides(load_scenario("small"), {"days": 20})
    local = compare(scenario, ["none"], replicates=6)
    ledger = tmp_path / "ledger"
    done = []

    def stop_after_three(n: int) -> None:
        done.append(n)
        if len(done) == 3:
            raise KeyboardInterrupt

    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        address = cluster.scheduler_address
        with pytest.raises(Interrupted) as info:
            compare(scenario, ["none"], 6, None, 1, stop_after_three, address, ledger)
        assert info.value.finished == 3 and len(list(ledger.glob("*.npz"))) == 3
        resumed = compare(scenario, ["none"], 6, scheduler=address, ledger=ledger)
    local.write(tmp_path / "local")
    resumed.write(tmp_path / "resumed")
    assert files(tmp_path / "local") == files(tmp_path / "resumed")


def test_a_ledger_from_other_settings_is_not_reused(tmp_path: Path, capsys, monkeypatch) -> None:
    import containment_sim.experiments as experiments

    args = [*ARGS, "--replicates", "2", "--out", str(tmp_path / "cmp")]
    seeds: list[int] = []
    real = experiments._execute

    def counting(task):
        seeds.append(task.seed)
        if seeds == [1, 2] and not interrupted:  # interrupt the first job on its second run
            interrupted.append(True)
            raise KeyboardInterrupt
        return real(task)

    interrupted: list[bool] = []
    monkeypatch.setattr(experiments, "_execute", counting)
    assert main(args) == 130
    seeds.clear()
    assert main([*args, "--seed", "5", "--resume"]) == 0
    assert seeds == [5, 6], "other seeds: nothing reused"
    seeds.clear()
    assert main([*args, "--force"]) == 0
    assert seeds == [1, 2], "--force started over"


def test_ctrl_c_during_the_save_keeps_every_run(
    tmp_path: Path, reference, capsys, monkeypatch
) -> None:
    from containment_sim.experiments import Comparison

    out = tmp_path / "cmp"
    real = Comparison.write

    def interrupted_write(self, folder, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(Comparison, "write", interrupted_write)
    assert main([*ARGS, "--out", str(out)]) == 130
    assert capsys.readouterr().err.strip() == (
        f"interrupted: 12 of 12 runs finished and are kept in {out.resolve()}/.partial; "
        "run the same command with --resume to continue"
    )
    monkeypatch.setattr(Comparison, "write", real)
    assert main([*ARGS, "--out", str(out), "--resume"]) == 0
    assert files(out) == reference
