"""Property tests of loading: a mutated scenario is valid and runs, or fails with clear lines.

A valid scenario with measures is changed in one place (a value replaced by something odd, a
key removed or added, the YAML text cut or spliced). Whatever the change, exactly one of these
holds: the scenario does not load and every problem is one line naming the file; its estimated
cost is refused with one line; or it runs on its engine to the end, invariants checked.
"""

from __future__ import annotations

import copy
import math
import warnings
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from containment_sim import ScenarioError, load_scenario, run, validate_data
from containment_sim.resources import ResourceError, check_resources

TEXT = """\
name: prop
start_date: 2020-01-10
days: 8
seed: 3
population:
  regions:
    - {name: North, population: 500, communities: 2}
    - {name: South, population: 300, communities: 1}
transmission:
  beta: {household: 0.05, community: 0.1, region: 0.2}
importation:
  prevalence: [[0, 0.001], [8, 0.01]]
  returnees: {daily: [[0, 5], [5, 10]]}
  lockdown: 4.5
  leakage: 0.1
  initial_infections: 4
mobility:
  roads:
    - {name: bridge, between: [North, South], length_km: 5, daily: 20}
  entry_roads:
    - {name: gate, region: North, outbound_daily: 3}
  trips:
    - {from: South, to: North, daily: 30}
measures:
  check: {type: checkpoint, start: 2, road: gate, capacity: 20, sensitivity: 0.8,
          diligence: [[2, 0.5], [5, 0.9]]}
  tests: {type: testing, start: 1, end: 7, capacity: 30, sensitivity: 0.9,
          turnaround: {dist: fixed, mean: 1.0}}
  sites:
    type: quarantine_site
    start: 3
    sites: [{name: hotel, region: South, rooms: 10, staff: 2}]
strategies:
  both: [check, tests, sites]
strategy: both
"""

ODD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-5, max_value=5),
    st.text(max_size=12),
    st.sampled_from(["../x", "=SUM(1)", "..", "", "2020-01-32", "1e400", "des", "none", "North"]),
    st.dates(min_value=date(2019, 1, 1), max_value=date(2021, 1, 1)),
    st.lists(st.integers(min_value=-3, max_value=30), max_size=3),
    st.dictionaries(st.sampled_from(["a", "name", "type", "start"]), st.integers(0, 9), max_size=2),
)


EDGE_NUMBERS = st.one_of(
    st.sampled_from([0, 1, 2, 1e-9, 0.5, 0.999999, 1.0, 7.99, 8, 9, 1e3, 1e6, 1e9, 1e12]),
    st.floats(min_value=0, max_value=50),
)
"""Numbers a field may well accept: zero, shares near 1, days near the horizon, huge counts."""


def base() -> dict[str, Any]:
    from containment_sim.safe_yaml import load_text, to_plain

    return to_plain(load_text(TEXT))


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value in the data (collections and leaves)."""
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            out += paths(value, (*prefix, key))
    elif isinstance(node, list):
        for k, value in enumerate(node):
            out += paths(value, (*prefix, k))
    return out


def parent_of(data: Any, path: tuple[Any, ...]) -> Any:
    for key in path[:-1]:
        data = data[key]
    return data


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, Any]:
    data = base()
    where = draw(st.sampled_from(paths(data)))
    parent, key = parent_of(data, where), where[-1]
    action = draw(st.sampled_from(["replace", "replace", "number", "number", "delete", "add"]))
    value = parent[key]
    if action == "number" and isinstance(value, int | float) and not isinstance(value, bool):
        edge = draw(EDGE_NUMBERS)
        parent[key] = int(edge) if isinstance(value, int) and edge == int(edge) else edge
    elif action in ("replace", "number"):
        parent[key] = draw(ODD_VALUES)
    elif action == "delete":
        del parent[key]
    elif isinstance(parent, dict):
        parent[draw(st.sampled_from(["extra", "end", "dt", "engine", "scale", "name"]))] = draw(
            ODD_VALUES
        )
    else:
        parent.append(draw(ODD_VALUES))
    return data


def one_line_problems(error: ScenarioError, source: str) -> None:
    assert error.problems, "a ScenarioError names its problems"
    for problem in error.problems:
        text = str(problem)
        assert "\n" not in text and text.startswith(source), text
        assert len(text) < 600, text
        for internal in ("Commented", "TaggedScalar", "ordereddict", "<class", "object at 0x"):
            assert internal not in text, text


def valid_and_runs_or_one_clear_error(load: Any, source: str) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            scenario = load()
        except ScenarioError as error:
            one_line_problems(error, source)
            return "invalid"
    try:
        check_resources(scenario, max_hours=1 / 3600)  # at most a second by the estimate
    except ResourceError as error:
        assert "\n" not in str(error)
        return "too costly"
    result = run(scenario, check=True)
    summary = result.summary
    assert summary["days"] == scenario.days
    assert all(
        not isinstance(v, float) or math.isfinite(v) or k == "cfr_confirmed"
        for k, v in summary.items()
    )
    counts = result.timeseries.select_dtypes("integer")
    assert (counts >= 0).all().all(), "no count is negative"
    return "ran"


SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)


def test_the_base_scenario_runs() -> None:
    assert valid_and_runs_or_one_clear_error(lambda: validate_data(base(), "p.yaml"), "p") == "ran"


def mutated_case(data: dict[str, Any]) -> None:
    outcome = valid_and_runs_or_one_clear_error(
        lambda: validate_data(copy.deepcopy(data), "p.yaml"), "p.yaml"
    )
    event(outcome)


def spliced_case(folder: Path, at: int, cut: int, insert: str) -> None:
    path = folder / "s.yaml"
    path.write_text(TEXT[:at] + insert + TEXT[at + cut :], encoding="utf-8")
    event(valid_and_runs_or_one_clear_error(lambda: load_scenario(path), str(path)))


SPLICES = st.text(alphabet=":-[]{}&*!|>'\"#\n\t ,.0123456789abcxyz=@%\\", max_size=12)
MANY = settings(max_examples=600, deadline=None, suppress_health_check=list(HealthCheck))


@SETTINGS
@given(mutated())
def test_a_mutated_scenario_runs_or_fails_in_clear_lines(data: dict[str, Any]) -> None:
    mutated_case(data)


@SETTINGS
@given(st.integers(0, len(TEXT)), st.integers(0, 20), SPLICES)
def test_a_spliced_file_runs_or_fails_in_clear_lines(
    tmp_path_factory, at: int, cut: int, insert: str
) -> None:
    spliced_case(Path(tmp_path_factory.mktemp("splice")), at, cut, insert)


@pytest.mark.slow
@MANY
@given(mutated())
def test_many_mutated_scenarios_run_or_fail_in_clear_lines(data: dict[str, Any]) -> None:
    mutated_case(data)


@pytest.mark.slow
@MANY
@given(st.integers(0, len(TEXT)), st.integers(0, 20), SPLICES)
def test_many_spliced_files_run_or_fail_in_clear_lines(
    tmp_path_factory, at: int, cut: int, insert: str
) -> None:
    spliced_case(Path(tmp_path_factory.mktemp("splice")), at, cut, insert)
