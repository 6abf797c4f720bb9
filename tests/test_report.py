"""Measures declare the columns and summary keys they add to a result."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pytest

import containment_sim as cs
from containment_sim.measures import Context, Measure, register
from containment_sim.report import Flow, Layout, Report, Series, Stock, SummaryKey, Table, column
from containment_sim.results import CORE, Recorder
from containment_sim.scenario import MeasureSpec
from containment_sim.world import State


class _OnsetWatchSpec(MeasureSpec):
    type: Literal["onset_watch"] = "onset_watch"


def _onsets(series: Series, tables: Mapping[str, Table], final: Mapping[str, Any]) -> int:
    return int(column(series, "new_onsets_seen").sum())


@register(_OnsetWatchSpec)
class _OnsetWatch(Measure):
    """Counts symptom onsets and reports how many symptomatic people there are."""

    report = Report(
        "onset_watch",
        flows=(Flow("new_onsets_seen", "onsets seen", cumulative="cum_onsets_seen"),),
        stocks=(Stock("n_watched", "symptomatic people at the end of the day"),),
        summary=(SummaryKey("onsets_seen", _onsets, "onsets seen over the run"),),
    )

    def after_progression(self, ctx: Context, t: float, entered: dict[State, np.ndarray]) -> None:
        onset = entered.get(State.SYMPTOMATIC)
        if onset is not None and onset.size:
            ctx.count("new_onsets_seen", onset)

    def stocks(self, ctx: Context, day: int) -> dict[str, np.ndarray]:
        ill = ctx.world.state == State.SYMPTOMATIC
        return {"n_watched": np.bincount(ctx.population.region[ill], minlength=2)}


def _scenario(engine: str, strategy: str) -> cs.Scenario:
    return cs.with_overrides(
        cs.load_scenario("small"),
        {
            "engine": engine,
            "days": 40,
            "measures": {"watch": {"type": "onset_watch"}},
            "strategies": {"none": [], "watch": ["watch"]},
            "strategy": strategy,
        },
    )


@pytest.mark.parametrize("engine", ["vectorized", "des"])
def test_a_users_measure_adds_its_column_stock_and_summary_key(engine: str) -> None:
    result = cs.run(_scenario(engine, "watch"))
    ts = result.timeseries
    assert ts["new_onsets_seen"].sum() == ts["new_symptomatic"].sum() > 0
    assert ts["cum_onsets_seen"].iloc[-1] == ts["new_onsets_seen"].sum()
    assert np.array_equal(ts["n_watched"], ts["n_symptomatic"])
    assert result.summary["onsets_seen"] == ts["new_symptomatic"].sum()
    assert "new_onsets_seen" in result.by_region.columns


def test_a_run_without_the_measure_has_no_such_column() -> None:
    result = cs.run(_scenario("vectorized", "none"))
    assert "new_onsets_seen" not in result.timeseries.columns
    assert "onsets_seen" not in result.summary
    assert "new_confirmed" in result.timeseries.columns  # the built-in measures' columns stay


def test_an_undeclared_column_is_refused_by_name() -> None:
    recorder = Recorder(3, 2)
    with pytest.raises(KeyError, match="new_masks"):
        recorder.count(0, "new_masks", np.array([0, 1]))
    with pytest.raises(KeyError, match="n_masked"):
        recorder.set_stock(0, "n_masked", np.zeros(2))


def test_two_owners_cannot_declare_the_same_column() -> None:
    twice = Report("other", flows=(Flow("new_deaths", "again"),))
    with pytest.raises(ValueError, match="new_deaths"):
        Layout([CORE, twice])


def test_the_layout_lists_each_owner_once_in_order() -> None:
    extra = Report("extra", flows=(Flow("new_x", "x"),), stocks=(Stock("n_x", "x"),))
    layout = Layout([CORE, extra, extra])
    assert layout.flows[-1] == "new_x" and layout.flows.count("new_x") == 1
    assert layout.stocks[-1] == "n_x"
    assert layout.cumulative["new_infections"] == "cum_infections"
