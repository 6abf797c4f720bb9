"""The discrete-event engine's speed work changes no result and no global setting."""

from __future__ import annotations

import gc

import numpy as np
import pandas as pd

from conftest import make_scenario
from containment_sim.engines import DESEngine
from containment_sim.engines.fastpath import Tally, fewer_collections


def test_fewer_collections_only_when_asked_and_restored_afterwards() -> None:
    before = gc.get_threshold()
    with fewer_collections(None):
        assert gc.get_threshold() == before
    with fewer_collections(12_345):
        assert gc.get_threshold()[0] == 12_345
    assert gc.get_threshold() == before


def test_the_gc_threshold_option_changes_no_result() -> None:
    scenario = make_scenario(days=30, engine="des")
    before = gc.get_threshold()
    plain = DESEngine(scenario).run()
    fewer = DESEngine(scenario, gc_threshold=10_000).run()
    assert gc.get_threshold() == before
    pd.testing.assert_frame_equal(plain.timeseries, fewer.timeseries)


def test_a_tally_adds_its_plain_numbers_once_and_starts_again() -> None:
    stocks = np.zeros((2, 3), dtype=np.int64)
    flows = np.zeros((2, 4), dtype=np.int64)
    tally = Tally(stocks, n_flows=4)
    tally.stock[1 * 3 + 2] += 1  # region 1, state 2
    tally.flow[0 * 4 + 3] += 2  # region 0, column 3
    tally.flush(stocks, flows)
    tally.flush(stocks, flows)
    assert stocks[1, 2] == 1 and stocks.sum() == 1
    assert flows[0, 3] == 2 and flows.sum() == 2
