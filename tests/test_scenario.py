"""Scenario validation: clear errors that name file, line and field; schema; overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from containment_sim import Scenario, ScenarioError, load_scenario, with_overrides
from containment_sim.loading import BUILTIN_SCENARIOS

GOOD = """\
name: test
start_date: 2020-01-10
days: 10
population:
  regions:
    - {name: A, population: 1000, communities: 2}
transmission:
  beta: {household: 0.1, region: 0.1}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path: Path) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return info.value


def test_good_file_loads(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, GOOD))
    assert scenario.name == "test" and scenario.transmission.beta.community == 0.0


def test_unknown_key_names_file_line_and_field(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("  beta:", "  betta: 3\n  beta:"))
    err = error_of(path)
    assert len(err.problems) == 1
    line = str(err)
    assert line.count("\n") == 0
    assert line.startswith(f"{path}:8: transmission.betta: unknown key 'betta'")
    assert "allowed keys: beta" in line


def test_negative_population_names_file_line_and_field(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("population: 1000", "population: -5"))
    err = error_of(path)
    assert str(err) == (
        f"{path}:6: population.regions[0].population: Input should be greater than 0 (got -5)"
    )


def test_wrong_type_names_file_line_and_field(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("days: 10", "days: ten"))
    err = error_of(path)
    assert str(err).startswith(f"{path}:3: days: Input should be a valid integer")
    assert "(got 'ten')" in str(err)


def test_missing_field_and_bad_time_and_unknown_region(tmp_path: Path) -> None:
    text = GOOD.replace("days: 10\n", "") + "importation:\n  lockdown: soon\n  initial_region: Z\n"
    problems = [str(p) for p in error_of(write(tmp_path, text)).problems]
    assert any(
        p.startswith(f"{tmp_path}/scenario.yaml:1: days: required field is missing")
        for p in problems
    )
    assert any(":9: importation.lockdown: expected a day number, a date" in p for p in problems)


def test_cross_reference_error_names_the_region(tmp_path: Path) -> None:
    text = GOOD + "mobility:\n  trips:\n    - {from: A, to: Nowhere, daily: 5}\n"
    assert "unknown region 'Nowhere'; allowed: A" in str(error_of(write(tmp_path, text)))


def test_every_broken_cross_reference_is_reported_at_once(tmp_path: Path) -> None:
    text = GOOD + (
        "mobility:\n  trips:\n    - {from: A, to: Nowhere, daily: 5}\n"
        "measures:\n"
        "  cp: {type: checkpoint, road: Missing, capacity: 10, sensitivity: 0.5}\n"
        "  home: {type: stay_home, regions: [Atlantis]}\n"
        "strategies:\n  s: [cp, home, ghost]\n"
    )
    path = write(tmp_path, text)
    lines = [line for line in str(error_of(path)).splitlines() if line.startswith(str(path))]
    assert len(lines) == 4, lines
    assert f"{path}:11: mobility.trips[0].to: unknown region 'Nowhere'" in lines[0]
    assert f"{path}:13: measures.cp.road: unknown road 'Missing'" in lines[1]
    assert f"{path}:14: measures.home.regions[0]: unknown region 'Atlantis'" in lines[2]
    assert f"{path}:16: strategies.s[2]: unknown measure 'ghost'; defined: cp, home" in lines[3]


def test_a_key_that_is_a_mapping_is_reported_at_its_parent(tmp_path: Path) -> None:
    text = GOOD + "measures:\n  tests:\n    type: testing\n    {dist: fixed, mean: 1.0}: 3\n"
    message = str(error_of(write(tmp_path, text)))
    assert "measures.tests: a key must be text, got {" in message
    assert "ordereddict" not in message


def test_yaml_syntax_error_and_missing_file(tmp_path: Path) -> None:
    err = error_of(write(tmp_path, GOOD + "  bad: [unclosed\n"))
    assert "YAML syntax error" in str(err) and str(tmp_path) in str(err)
    assert "cannot read" in str(error_of(tmp_path / "nope.yaml"))


def test_unknown_measure_type_is_an_error(tmp_path: Path) -> None:
    text = GOOD + "measures:\n  m1: {type: teleport}\n"
    assert "unknown type 'teleport'" in str(error_of(write(tmp_path, text)))


def test_builtins_load_and_match_census() -> None:
    for name in BUILTIN_SCENARIOS:
        assert load_scenario(name).name == name
    xianning = load_scenario(Path(__file__).parents[1] / "scenarios" / "xianning.yaml")
    pops = {r.name_zh: r.population for r in xianning.population.regions}
    assert pops == {
        "咸安区": 657600,
        "赤壁市": 470400,
        "崇阳县": 427100,
        "通城县": 426300,
        "通山县": 391300,
        "嘉鱼县": 285600,
    }
    assert xianning.start_date.isoformat() == "2020-01-10" and xianning.days == 120
    assert xianning.day_of(xianning.importation.lockdown) == pytest.approx(13 + 10 / 24)


def test_xianning_returnees_before_the_cordon_are_about_five_percent_of_five_million() -> None:
    import numpy as np

    from containment_sim.epicentre import piecewise_linear

    sc = load_scenario("xianning")
    times, daily = piecewise_linear(sc, sc.importation.returnees.daily)
    cordon = sc.day_of(sc.importation.lockdown)
    grid = np.linspace(times[0], cordon, 100_001)
    before = np.trapezoid(np.interp(grid, times, daily), grid)
    assert abs(before - 0.0518 * 5_000_000) < 0.02 * 259_000


def test_overrides_are_validated() -> None:
    sc = load_scenario("small")
    assert with_overrides(sc, {"population.scale": 0.5, "seed": 9}).population.scale == 0.5
    with pytest.raises(ScenarioError, match=r"^overrides: population\.scale: "):
        with_overrides(sc, {"population.scale": 0.0})
    with pytest.raises(ScenarioError, match=r"^overrides: dt: "):
        with_overrides(sc, {"dt": 0.3})


def test_override_errors_name_the_measure_and_field() -> None:
    sc = load_scenario("xianning")
    with pytest.raises(ScenarioError) as caught:
        with_overrides(sc, {"measures.tracing.coverage.community": 3})
    assert str(caught.value) == (
        "overrides: measures.tracing.coverage.community: Input should be less than or equal "
        "to 1 (got 3)"
    )
    with pytest.raises(ScenarioError, match=r"^overrides: measures\.tracing\.capacty: unknown "
                       r"key 'capacty'; allowed keys: type, start"):  # fmt: skip
        with_overrides(sc, {"measures.tracing.capacty": 30})
    with pytest.raises(KeyError) as missing:  # a path leading nowhere: also a KeyError
        with_overrides(sc, {"measures.tracin.capacity": 30})
    assert str(missing.value).startswith(
        "overrides: measures.tracin.capacity: measures has no 'tracin'; it has: "
    )


def test_json_schema_forbids_unknown_keys() -> None:
    schema = Scenario.model_json_schema(by_alias=True)
    assert schema["additionalProperties"] is False
    assert "from" in schema["$defs"]["Trip"]["properties"]


def test_dump_and_reload_round_trip() -> None:
    sc = load_scenario("xianning")
    again = Scenario.model_validate(sc.model_dump(mode="json", by_alias=True))
    assert again == sc


def test_entry_roads_must_reach_every_region_and_fractions_are_bounded(tmp_path: Path) -> None:
    text = GOOD.replace(
        "    - {name: A, population: 1000, communities: 2}",
        "    - {name: A, population: 1000, communities: 2}\n"
        "    - {name: C, population: 500, communities: 1}",
    )
    roads = (
        "mobility:\n  roads:\n    - {name: r, between: [A, A]}\n"
        "  entry_roads:\n    - {name: gate, region: A}\n"
    )
    err = str(error_of(write(tmp_path, text + roads)))
    assert "mobility.entry_roads[0].region: no road leads from A to C" in err
    quarantine = "measures:\n  q: {type: returnee_quarantine, compliance: [[0, 1.5]]}\n"
    err = str(error_of(write(tmp_path, GOOD + quarantine)))
    assert "measures.q.compliance" in err
