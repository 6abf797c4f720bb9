"""What a scenario must satisfy beyond the type of each field, so that a valid scenario runs.

:func:`check_scenario` runs at the end of :class:`~containment_sim.scenario.Scenario`
validation (after the cross-references): every number is finite and at most
:data:`MAX_MAGNITUDE` in size, every name a measure gives (quarantine sites) is a safe name,
every measure's window ends after it starts, there are no more initial infections than
people to infect, and no more daily trips leave a region than it has residents. A failed
check is reported like any validation error, with the dotted path of the field (so a file's
line can be found for it).

:func:`scenario_warnings` lists what is allowed but probably not meant: measures whose window
lies outside the simulated days, a lockdown after the last day. Memory and time are checked
against the machine in :mod:`containment_sim.resources`, not here.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import date
from typing import TYPE_CHECKING, Any

from pydantic_core import PydanticCustomError

from containment_sim.names import name_problem

if TYPE_CHECKING:
    from containment_sim.scenario import Scenario

__all__ = ["MAX_MAGNITUDE", "check_scenario", "fail", "scenario_warnings"]

MAX_MAGNITUDE = 1e12
"""Largest absolute value of any number in a scenario (but the seed): a trillion is more than
any count, rate or capacity of a city needs, and keeps every product of them finite."""

_UNBOUNDED = {("seed",)}


def fail(path: str, message: str) -> None:
    """Raise a validation error about the field at dotted ``path`` (list items as numbers)."""
    raise PydanticCustomError("cross_reference", "{message}", {"message": message, "path": path})


def check_scenario(scenario: Scenario) -> None:
    """Check a scenario whose fields and cross-references are valid (see module docstring).

    Raises:
        pydantic_core.PydanticCustomError: The first problem found, with its field path.
    """
    data = scenario.model_dump(mode="python", by_alias=True)
    for path, value in _numbers(data, ()):
        if path in _UNBOUNDED:
            continue
        where = ".".join(str(k) for k in path)
        if isinstance(value, float) and not math.isfinite(value):
            fail(where, f"must be a finite number, got {value}")
        if abs(value) > MAX_MAGNITUDE:
            fail(where, f"must be at most {MAX_MAGNITUDE:.0e} in size, got {_size(value)}")
    for name, spec in scenario.measures.items():
        for k, site in enumerate(getattr(spec, "sites", None) or []):
            problem = name_problem(site.name)
            if problem is not None:
                fail(f"measures.{name}.sites.{k}.name", problem)
        if spec.end is not None:
            start, end = scenario.day_of(spec.start), scenario.day_of(spec.end)
            if end <= start:
                fail(
                    f"measures.{name}.end",
                    f"the measure ends (day {end:g}) before or when it starts (day {start:g}), "
                    "so it would never act; end must come after start",
                )
    _check_initial_infections(scenario)
    _check_travel(scenario)


def _check_travel(scenario: Scenario) -> None:
    """Daily trips leaving a region are at most its residents (each travels once a day)."""
    mob = scenario.mobility
    people = {r.name: r.population for r in scenario.population.regions}
    leaving = dict.fromkeys(people, 0.0)
    demands = [
        (f"mobility.roads.{k}.daily", (a, b), r.daily)
        for k, r in enumerate(mob.roads)
        for a, b in [r.between, r.between[::-1]]
    ]
    demands += [
        (f"mobility.trips.{k}.daily", (t.origin, t.destination), t.daily)
        for k, t in enumerate(mob.trips)
    ]
    demands += [
        (f"mobility.trips.{k}.daily", (t.destination, t.origin), t.daily)
        for k, t in enumerate(mob.trips)
        if t.both_ways
    ]
    demands += [(f"mobility.entry_roads.{k}.outbound_daily", (e.region, ""), e.outbound_daily)
                for k, e in enumerate(mob.entry_roads)]  # fmt: skip
    for path, (origin, _), daily in demands:
        leaving[origin] += daily
        if leaving[origin] > people[origin]:
            fail(
                path,
                f"daily trips leaving {origin} add up to {leaving[origin]:,.0f}, more than its "
                f"{people[origin]:,} residents; each resident travels at most once a day",
            )


def _check_initial_infections(scenario: Scenario) -> None:
    imp = scenario.importation
    sizes = dict(zip(scenario.region_names, scenario.scaled_population(), strict=True))
    people = sizes[imp.initial_region] if imp.initial_region is not None else sum(sizes.values())
    if imp.initial_infections > people:
        where = f"region {imp.initial_region}" if imp.initial_region is not None else "the city"
        fail(
            "importation.initial_infections",
            f"{imp.initial_infections:,} initial infections, but {where} has only "
            f"{people:,} simulated people (population times scale {scenario.population.scale:g})",
        )


def _numbers(value: Any, path: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...], float]]:
    """Every int and float in dumped scenario data, with its path (booleans are not numbers)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _numbers(item, (*path, key))
    elif isinstance(value, list | tuple):
        for k, item in enumerate(value):
            yield from _numbers(item, (*path, k))
    elif isinstance(value, int | float) and not isinstance(value, bool):
        yield path, value


def scenario_warnings(scenario: Scenario) -> list[tuple[str, str]]:
    """What is allowed but probably not meant, as ``(dotted field path, message)`` pairs."""
    out = []
    last = scenario.days
    for name, spec in scenario.measures.items():
        start = scenario.day_of(spec.start)
        end = math.inf if spec.end is None else scenario.day_of(spec.end)
        if start >= last:
            out.append(
                (
                    f"measures.{name}.start",
                    f"starts on {_day(start, spec.start)}, after the last simulated day "
                    f"{last - 1}; it never acts",
                )
            )
        elif end <= 0:
            out.append(
                (
                    f"measures.{name}.end",
                    f"ends on {_day(end, spec.end)}, before the start date; it never acts",
                )
            )
    lockdown = scenario.importation.lockdown
    if lockdown is not None and scenario.day_of(lockdown) >= last:
        out.append(
            (
                "importation.lockdown",
                f"comes on day {scenario.day_of(lockdown):g}, after the last simulated day "
                f"{last - 1}; it has no effect",
            )
        )
    return out


def _day(day: float, point: Any) -> str:
    """``day 14`` or ``day 14 (2020-01-24)`` when the scenario gave a date."""
    return f"day {day:g} ({point.isoformat()})" if isinstance(point, date) else f"day {day:g}"


def _size(value: float) -> str:
    try:
        return f"{float(value):.3g}"
    except OverflowError:
        return f"about 10^{int(abs(int(value)).bit_length() * math.log10(2))}"
