"""Named random streams derived from one scenario seed.

Every stochastic decision in the model draws from its own stream (population, progression,
transmission, importation, mobility, ...). A stream is a function of the seed and the stream
name only, so adding a new decision or changing how many values another decision consumes does
not shift the numbers a stream produces: runs that share a seed share their randomness decision
by decision (common random numbers), whatever process runs them.
"""

from __future__ import annotations

import zlib

import numpy as np

__all__ = ["stream"]


def stream(seed: int, name: str, *extra: int) -> np.random.Generator:
    """Return the generator of stream ``name`` for ``seed``.

    Args:
        seed: The scenario seed (a non-negative integer).
        name: The decision the stream serves, e.g. ``"transmission"``.
        *extra: Further non-negative integers distinguishing sub-streams (e.g. a replicate).

    Returns:
        A fresh ``numpy.random.Generator`` (PCG64); the same arguments always give the same
        sequence of numbers.
    """
    key = (zlib.crc32(name.encode("utf-8")), *extra)
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))
