"""Running many jobs: retries after a dead worker, clear failures, Ctrl-C keeps what finished."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from containment_sim.errors import Interrupted, RunFailedError, WorkerLostError
from containment_sim.runner import run_jobs


def square(job: tuple[int, str]) -> int:
    """A job: the square of its number; if given a folder, its worker dies once per number."""
    number, folder = job
    if folder:
        mark = Path(folder) / f"{number}.died"
        if number % 3 == 0 and not mark.exists():
            mark.write_text("")
            os.kill(os.getpid(), signal.SIGKILL)
    return number * number


def always_dies(job: int) -> int:
    os.kill(os.getpid(), signal.SIGKILL)
    return job


def fails_on_three(job: int) -> int:
    if job == 3:
        raise ValueError("three is not allowed\nsecond line")
    return job


@pytest.mark.parametrize("workers", [1, 2])
def test_results_come_back_in_job_order(workers: int) -> None:
    assert run_jobs(square, [(k, "") for k in range(7)], workers=workers) == [
        k * k for k in range(7)
    ]


def test_a_dead_worker_is_replaced_and_its_jobs_run_again(tmp_path: Path) -> None:
    kept: dict[int, int] = {}
    results = run_jobs(
        square,
        [(k, str(tmp_path)) for k in range(8)],
        workers=2,
        on_result=kept.__setitem__,
    )
    assert results == [k * k for k in range(8)]
    assert kept == {k: k * k for k in range(8)}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["0.died", "3.died", "6.died"]


def test_a_job_that_keeps_killing_its_worker_is_named() -> None:
    with pytest.raises(WorkerLostError, match=r"run 5: its worker process died 3 times"):
        run_jobs(always_dies, [5, 6], workers=2, retries=2, describe=str)


def test_a_job_that_raises_is_not_retried_and_is_named() -> None:
    for workers in (1, 2):
        with pytest.raises(RunFailedError) as info:
            run_jobs(fails_on_three, list(range(5)), workers=workers, describe=lambda j: f"#{j}")
        assert str(info.value) == "run #3 failed: ValueError: three is not allowed"


def test_known_results_are_not_run_again() -> None:
    ran: list[int] = []
    counted: list[int] = []

    def job(k: int) -> int:
        ran.append(k)
        return k

    assert run_jobs(job, [0, 1, 2, 3], done={1: 1, 3: 3}, progress=counted.append) == [0, 1, 2, 3]
    assert ran == [0, 2] and counted == [2, 1, 1]


@pytest.mark.parametrize("workers", [1, 2])
def test_ctrl_c_keeps_what_finished(workers: int) -> None:
    kept: dict[int, int] = {}

    def progress(n: int) -> None:
        if len(kept) >= 2:
            raise KeyboardInterrupt

    with pytest.raises(Interrupted) as info:
        run_jobs(
            square, [(k, "") for k in range(20)], workers=workers, progress=progress,
            on_result=kept.__setitem__, kept="here",
        )  # fmt: skip
    assert info.value.finished == len(kept) >= 2 and info.value.total == 20
    assert info.value.kept == "here"
    assert isinstance(info.value, KeyboardInterrupt)
