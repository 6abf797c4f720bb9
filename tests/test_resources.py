"""The cost of a run, estimated before it starts and checked against the machine."""

from __future__ import annotations

import pytest

from conftest import make_scenario
from containment_sim.resources import ResourceError, available_memory, check_resources, estimate


def test_the_estimate_grows_with_agents_days_and_steps() -> None:
    small = estimate(make_scenario())
    assert small.agents == 5000 and small.steps == 30
    assert 150e6 < small.memory_bytes < 200e6 and small.seconds < 1
    assert estimate(make_scenario(dt=0.25)).steps == 120
    assert estimate(make_scenario(days=3000)).memory_bytes > small.memory_bytes
    assert "agents" in str(small) and "MB" in str(small)


def test_a_run_larger_than_memory_is_refused_with_what_to_do() -> None:
    scenario = make_scenario(days=10**9)
    with pytest.raises(ResourceError, match=r"a run needs 4 TB .* but 1 GB is available"):
        check_resources(scenario, memory=10**9)
    with pytest.raises(ResourceError, match="--no-resource-check"):
        check_resources(scenario, memory=10**9)


def test_concurrent_runs_count_together() -> None:
    scenario = make_scenario()
    check_resources(scenario, concurrent=1, memory=400_000_000)
    with pytest.raises(ResourceError, match="4 runs at once need"):
        check_resources(scenario, concurrent=4, memory=400_000_000)


def test_a_run_longer_than_the_limit_is_refused() -> None:
    scenario = make_scenario(days=40_000, dt=1 / 1440)
    with pytest.raises(ResourceError, match=r"would take .* more than the limit of 12 h"):
        check_resources(scenario, memory=10**12)
    check_resources(scenario, memory=10**12, max_hours=10**6)


def test_this_machine_reports_its_memory() -> None:
    room = available_memory()
    assert room is None or room > 0
