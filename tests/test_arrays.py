"""The sort-based set helpers return exactly what numpy.unique returns."""

from __future__ import annotations

import numpy as np
import pytest

from containment_sim.arrays import distinct, distinct_first, stable_order


@pytest.mark.parametrize("size", [0, 1, 2, 17, 5_000])
def test_distinct_matches_numpy_unique(size: int) -> None:
    values = np.random.default_rng(size).integers(0, max(size // 3, 1), size)
    assert np.array_equal(distinct(values), np.unique(values))
    unique, first = distinct_first(values)
    expected, expected_first = np.unique(values, return_index=True)
    assert np.array_equal(unique, expected)
    assert np.array_equal(first, expected_first)  # the first occurrence, as numpy gives it


def test_distinct_does_not_alias_its_input() -> None:
    values = np.array([3])
    out = distinct(values)
    out[0] = 9
    assert values[0] == 3


def test_stable_order_is_argsort_stable_with_many_ties() -> None:
    rng = np.random.default_rng(4)
    time = rng.integers(0, 50, 3_000).astype(float)  # many ties
    time[::7] = rng.random(time[::7].size) * 50
    assert np.array_equal(stable_order(time), np.argsort(time, kind="stable"))
