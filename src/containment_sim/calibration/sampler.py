"""A pyabc sampler whose populations do not depend on the number of workers.

pyabc's parallel samplers keep the first particles to be accepted, in the order the workers
happen to finish, so two runs of the same fit differ. This sampler evaluates candidates in
batches; candidate i of batch b of generation t runs with its own seed derived from (fit
seed, t, b, i), and the population is the first n accepted candidates in candidate order.
The batches run through :func:`containment_sim.runner.run_jobs`: in this process, on a local
process pool (workers that die are replaced, Ctrl-C stops them) or on a Dask cluster, with
the same particles in every case.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Any

import numpy as np

from containment_sim.calibration.priors import require_pyabc
from containment_sim.runner import run_jobs

__all__ = ["DeterministicSampler", "candidate_seed"]

_T_OFFSET = 1_000
"""Added to the generation index (pyabc calls the prior calibration sample t = -1)."""


def candidate_seed(seed: int, t: int, batch: int, index: int) -> int:
    """The seed of one candidate particle (a 32-bit integer for ``numpy.random.seed``)."""
    sequence = np.random.SeedSequence([seed, t + _T_OFFSET, batch, index])
    return int(sequence.generate_state(1)[0])


def _simulate_chunk(job: tuple[bytes, list[int]]) -> list[Any]:
    """Evaluate candidates, each after seeding the global generators pyabc draws from."""
    import cloudpickle

    payload, seeds = job
    simulate_one = cloudpickle.loads(payload)
    out = []
    for seed in seeds:
        np.random.seed(seed)  # noqa: NPY002 - pyabc proposes from the global generator
        random.seed(seed)
        out.append(simulate_one())
    return out


def _sampler_base() -> type:
    return require_pyabc().sampler.Sampler  # type: ignore[no-any-return]


class DeterministicSampler(_sampler_base()):  # type: ignore[misc]
    """Evaluate candidates in seeded batches; keep the first n accepted in candidate order.

    Args:
        seed: Seed of the fit.
        workers: Local worker processes (1: in this process).
        scheduler: Address of a Dask distributed scheduler to run on instead.
        progress: Called as ``progress(t, accepted, n, evaluated)`` as candidates finish.
    """

    def __init__(
        self,
        seed: int,
        workers: int = 1,
        scheduler: str | None = None,
        progress: Callable[[int, int, int, int], None] | None = None,
    ):
        super().__init__()
        self.seed = seed
        self.workers = workers
        self.scheduler = scheduler
        self.progress = progress

    def sample_until_n_accepted(
        self,
        n: int,
        simulate_one: Callable[[], Any],
        t: int,
        *,
        max_eval: float = np.inf,
        all_accepted: bool = False,
        ana_vars: Any = None,
    ) -> Any:
        """Sample candidates in batches until ``n`` are accepted or ``max_eval`` are run."""
        import cloudpickle

        payload = cloudpickle.dumps(simulate_one)
        sample = self._create_empty_sample()
        accepted = evaluated = batch = 0
        while accepted < n and evaluated < max_eval:
            size = self._batch_size(n, accepted, evaluated, max_eval)
            seeds = [candidate_seed(self.seed, t, batch, i) for i in range(size)]
            found = [accepted, evaluated]

            def seen(_: int, chunk: list[Any], found: list[int] = found) -> None:
                found[0] += sum(1 for particle in chunk if particle.accepted)
                found[1] += len(chunk)
                if self.progress is not None:
                    self.progress(t, min(found[0], n), n, found[1])

            chunks = self._chunks(seeds)
            results = run_jobs(_simulate_chunk, [(payload, c) for c in chunks], self.workers,
                               self.scheduler, on_result=seen)  # fmt: skip
            for particle in (p for chunk in results for p in chunk):
                if accepted >= n or evaluated >= max_eval:
                    break
                sample.append(particle)
                evaluated += 1
                accepted += bool(particle.accepted)
            batch += 1
        self.nr_evaluations_ = evaluated
        if accepted < n:
            sample.ok = False
        return sample

    def _batch_size(self, n: int, accepted: int, evaluated: int, max_eval: float) -> int:
        """Candidates in the next batch: enough for the rest at the rate seen so far."""
        if evaluated == 0:
            size = n
        else:
            rate = max(accepted, 1) / evaluated
            size = math.ceil((n - accepted) / rate * 1.2)
        size = max(size, self.workers, 1)
        size = min(size, 20 * n)
        if math.isfinite(max_eval):
            size = min(size, max(int(max_eval) - evaluated, 1))
        return size

    def _chunks(self, seeds: list[int]) -> list[list[int]]:
        """Split seeds into a few chunks per worker (fewer pickles, balanced load)."""
        parts = max(1, min(len(seeds), 4 * max(self.workers, 1)))
        if self.workers <= 1 and self.scheduler is None:
            parts = max(1, min(len(seeds), 16))
        size = math.ceil(len(seeds) / parts)
        return [seeds[i : i + size] for i in range(0, len(seeds), size)]
