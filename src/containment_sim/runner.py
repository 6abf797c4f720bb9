"""Running many independent jobs: in this process, on a local process pool, or on Dask.

:func:`run_jobs` runs ``fn(job)`` for every job and returns the results in job order, whatever
ran them. It is built to lose as little as possible:

- every result is handed to ``on_result`` the moment it arrives (to be kept on disk), and jobs
  whose results are already known (``done``) are not run again;
- on the local pool at most ``workers`` jobs are in flight; a worker process that dies (killed,
  out of memory) breaks the pool, which is rebuilt, and the jobs that were in flight are run
  again, each at most ``retries`` more times before :class:`~containment_sim.errors.
  WorkerLostError` is raised; on Dask the scheduler does the same;
- a job that raises is not retried (it would raise again): :class:`~containment_sim.errors.
  RunFailedError` names the job and the error;
- Ctrl-C (or SIGTERM, which the command line turns into Ctrl-C) cancels what has not started,
  stops the workers at once, and raises :class:`~containment_sim.errors.Interrupted` with the
  number of finished jobs. Worker processes ignore Ctrl-C; the main process stops them.
"""

from __future__ import annotations

import signal
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from containment_sim.errors import (
    FaultError,
    InputError,
    Interrupted,
    RunFailedError,
    WorkerLostError,
)

__all__ = ["DASK_CONNECT_SECONDS", "DEFAULT_RETRIES", "run_jobs"]

DEFAULT_RETRIES = 2
"""How many more times a job is run after the worker running it died."""

DASK_CONNECT_SECONDS = 10
"""How long to try to reach a Dask scheduler before giving up."""

J = TypeVar("J")
R = TypeVar("R")


def run_jobs(
    fn: Callable[[J], R],
    jobs: Sequence[J],
    workers: int = 1,
    scheduler: str | None = None,
    progress: Callable[[int], None] | None = None,
    done: Mapping[int, R] | None = None,
    on_result: Callable[[int, R], None] | None = None,
    retries: int = DEFAULT_RETRIES,
    describe: Callable[[J], str] = repr,
    kept: str | None = None,
) -> list[R]:
    """Run ``fn`` on every job; return the results in the order of ``jobs``.

    Args:
        fn: A picklable function (it runs in worker processes).
        jobs: The jobs.
        workers: Local worker processes (1: in this process).
        scheduler: Address of a Dask distributed scheduler to run on instead.
        progress: Called with a count of newly finished jobs (first with ``len(done)``).
        done: Results already known, by job index; those jobs are not run.
        on_result: Called with ``(index, result)`` as each job finishes, in this process.
        retries: Reruns allowed per job after its worker died (local pool).
        describe: Names a job in error messages.
        kept: Where ``on_result`` keeps results, for the message of ``Interrupted``.

    Raises:
        RunFailedError: A job raised; the message names it.
        WorkerLostError: A job's worker died more than ``retries`` times.
        InputError: The Dask scheduler cannot be reached.
        Interrupted: Ctrl-C; finished results were handed to ``on_result``.
    """
    results: dict[int, R] = dict(done or {})
    if progress is not None and results:
        progress(len(results))

    def store(index: int, result: R) -> None:
        results[index] = result
        if on_result is not None:
            on_result(index, result)
        if progress is not None:
            progress(1)

    todo = [i for i in range(len(jobs)) if i not in results]
    try:
        if scheduler is not None:
            _on_dask(fn, jobs, todo, scheduler, store, describe)
        elif workers <= 1 or len(todo) <= 1:
            for i in todo:
                store(i, _call(fn, jobs[i], describe))
        else:
            _on_pool(fn, jobs, todo, workers, store, retries, describe)
    except KeyboardInterrupt:
        raise Interrupted(len(results), len(jobs), kept) from None
    return [results[i] for i in range(len(jobs))]


def _call(fn: Callable[[J], R], job: J, describe: Callable[[J], str]) -> R:
    try:
        return fn(job)
    except (FaultError, InputError):
        raise
    except Exception as exc:
        raise _failed(job, exc, describe) from exc


def _failed(job: Any, exc: BaseException, describe: Callable[[Any], str]) -> BaseException:
    if isinstance(exc, FaultError | InputError):
        return exc
    text = str(exc).strip().splitlines()
    detail = f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
    return RunFailedError(f"run {describe(job)} failed: {detail}")


def _worker_init() -> None:
    """In a worker process: leave Ctrl-C and SIGTERM to the main process's handling."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _on_pool(
    fn: Callable[[J], R],
    jobs: Sequence[J],
    todo: list[int],
    workers: int,
    store: Callable[[int, R], None],
    retries: int,
    describe: Callable[[J], str],
) -> None:
    pending = deque(todo)
    deaths: dict[int, int] = {}
    while pending:
        pool = ProcessPoolExecutor(max_workers=min(workers, len(pending)), initializer=_worker_init)
        running: dict[Future[R], int] = {}
        try:
            while pending or running:
                while pending and len(running) < workers:
                    i = pending.popleft()
                    running[pool.submit(fn, jobs[i])] = i
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                broken = False
                for future in sorted(finished, key=running.__getitem__):
                    exc = future.exception()
                    if isinstance(exc, BrokenProcessPool):
                        broken = True
                        continue
                    i = running.pop(future)
                    if exc is not None:
                        raise _failed(jobs[i], exc, describe) from exc
                    store(i, future.result())
                if broken:
                    raise BrokenProcessPool
        except BrokenProcessPool:
            lost = sorted(running.values())
            for i in lost:
                deaths[i] = deaths.get(i, 0) + 1
                if deaths[i] > retries:
                    _stop(pool)
                    raise WorkerLostError(
                        f"run {describe(jobs[i])}: its worker process died {deaths[i]} times "
                        "(killed, or out of memory?); finished runs are kept"
                    ) from None
            pending.extendleft(reversed(lost))
            _stop(pool)
        except BaseException:
            _stop(pool)
            raise
        else:
            pool.shutdown(wait=True)


def _stop(pool: ProcessPoolExecutor) -> None:
    """Cancel what has not started and end the worker processes now."""
    procs = list((getattr(pool, "_processes", None) or {}).values())  # no public way
    for proc in procs:
        if proc.is_alive():
            proc.terminate()
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        proc.join(timeout=5)


def _on_dask(
    fn: Callable[[J], R],
    jobs: Sequence[J],
    todo: list[int],
    scheduler: str,
    store: Callable[[int, R], None],
    describe: Callable[[J], str],
) -> None:
    try:
        from dask.distributed import Client, as_completed
    except ImportError:  # pragma: no cover - depends on the environment
        raise InputError(
            "running on a Dask cluster needs the dask extra: pip install 'containment-sim[dask]'"
        ) from None
    try:
        client = Client(scheduler, timeout=DASK_CONNECT_SECONDS)  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        text = str(exc).strip().splitlines()
        raise InputError(
            f"cannot reach the Dask scheduler at {scheduler}: {text[0] if text else exc!r}"
        ) from None
    with client:
        futures = client.map(fn, [jobs[i] for i in todo], pure=False)
        where = {future.key: i for future, i in zip(futures, todo, strict=True)}
        try:
            for future in as_completed(futures):  # type: ignore[no-untyped-call]
                i = where[future.key]
                try:
                    result = future.result()
                except Exception as exc:
                    if type(exc).__name__ == "KilledWorker":
                        raise WorkerLostError(
                            f"run {describe(jobs[i])}: the Dask workers running it kept dying; "
                            "finished runs are kept"
                        ) from None
                    raise _failed(jobs[i], exc, describe) from exc
                store(i, result)
        except BaseException:
            client.cancel(futures)  # type: ignore[no-untyped-call]
            raise
