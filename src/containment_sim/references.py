"""Cross-references in a scenario: every name it uses must be defined, all checked at once.

A scenario names regions (in trips, roads, entry roads, returnee weights), roads (in measures)
and transport modes; measures name what they act on. A measure type declares which of its
fields refer to what (``MeasureSpec.references``, e.g. ``{"road": "road", "regions":
"region", "sites.region": "region"}``), so the check needs no knowledge of measure types, and a
user's measure type gets its references checked too. Every problem is reported, not only the
first.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from pydantic_core import PydanticCustomError

from containment_sim.calibration_spec import path_problems

if TYPE_CHECKING:
    from containment_sim.scenario import EntryRoad, Road, Scenario

__all__ = ["check", "reference_problems"]

Problem = tuple[str, str]
"""A dotted field path (list items as numbers) and what is wrong there."""


def check(scenario: Scenario) -> None:
    """Raise one validation error listing every broken reference (``ctx["problems"]``)."""
    problems = list(reference_problems(scenario))
    if problems:
        path, message = problems[0]
        raise PydanticCustomError(
            "cross_reference",
            "{message}",
            {"message": message, "path": path, "problems": problems},
        )


def reference_problems(scenario: Scenario) -> Iterator[Problem]:
    """Every broken reference of the scenario, in the order of the file."""
    regions = set(scenario.region_names)
    yield from _mobility(scenario, regions)
    yield from _importation(scenario, regions)
    yield from _roads_connect(scenario)
    yield from _measures(scenario, regions)
    yield from _strategies(scenario)
    yield from _calibration(scenario)


def _unknown(what: str, name: str, allowed: Iterable[str]) -> str:
    known = ", ".join(sorted(allowed)) or f"no {what}s defined"
    return f"unknown {what} {name!r}; allowed: {known}"


def _region(name: str, regions: set[str], path: str) -> Iterator[Problem]:
    if name not in regions:
        yield path, _unknown("region", name, regions)


def _mobility(scenario: Scenario, regions: set[str]) -> Iterator[Problem]:
    mob = scenario.mobility
    for k, trip in enumerate(mob.trips):
        yield from _region(trip.origin, regions, f"mobility.trips.{k}.from")
        yield from _region(trip.destination, regions, f"mobility.trips.{k}.to")
    for k, road in enumerate(mob.roads):
        for j, where in enumerate(road.between):
            yield from _region(where, regions, f"mobility.roads.{k}.between.{j}")
    for k, entry in enumerate(mob.entry_roads):
        yield from _region(entry.region, regions, f"mobility.entry_roads.{k}.region")
    names = [r.name for r in mob.roads] + [e.name for e in mob.entry_roads]
    if len(set(names)) != len(names):
        yield "mobility", f"road names must be unique, got {names}"
    if mob.entry_roads and sum(e.share for e in mob.entry_roads) <= 0:
        yield "mobility.entry_roads", "the entry roads' shares must not all be zero"


def _importation(scenario: Scenario, regions: set[str]) -> Iterator[Problem]:
    imp = scenario.importation
    if imp.initial_region is not None:
        yield from _region(imp.initial_region, regions, "importation.initial_region")
    weights = imp.returnees.destination
    for where in weights or {}:
        yield from _region(where, regions, f"importation.returnees.destination.{where}")
    if weights is not None and sum(weights.values()) <= 0:
        yield "importation.returnees.destination", "weights must not all be zero"
    entries = {e.name for e in scenario.mobility.entry_roads}
    for where, roads in imp.returnees.entry_roads.items():
        path = f"importation.returnees.entry_roads.{where}"
        yield from _region(where, regions, path)
        for road in roads:
            if road not in entries:
                yield f"{path}.{road}", _unknown("entry road", road, entries)
        if sum(roads.values()) <= 0:
            yield path, "weights must not all be zero"


def _roads_connect(scenario: Scenario) -> Iterator[Problem]:
    """With roads, every trip and every entry road's region must be reachable by road."""
    mob, names = scenario.mobility, scenario.region_names
    known = set(names)
    if not mob.roads or any(x not in known for r in mob.roads for x in r.between):
        return
    parent = list(range(len(names)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for road in mob.roads:
        a, b = (names.index(x) for x in road.between)
        parent[root(a)] = root(b)
    for k, trip in enumerate(mob.trips):
        if {trip.origin, trip.destination} <= known and root(names.index(trip.origin)) != root(
            names.index(trip.destination)
        ):
            yield f"mobility.trips.{k}", f"no road connects {trip.origin} and {trip.destination}"
    for k, entry in enumerate(mob.entry_roads):  # returnees travel on to every region
        if entry.region not in known:
            continue
        home = root(names.index(entry.region))
        cut_off = [r for r in names if root(names.index(r)) != home]
        if cut_off:
            yield (
                f"mobility.entry_roads.{k}.region",
                f"no road leads from {entry.region} to {', '.join(cut_off)}",
            )


def _measures(scenario: Scenario, regions: set[str]) -> Iterator[Problem]:
    """What measures name, as their types declare it (``MeasureSpec.references``)."""
    mob = scenario.mobility
    every_road: list[Road | EntryRoad] = [*mob.roads, *mob.entry_roads]
    defined: dict[str, set[str]] = {
        "region": regions,
        "road": {r.name for r in every_road},
        "mode": {m for r in every_road for m in r.modes},
    }
    words = {"region": "region", "road": "road", "mode": "transport mode"}
    for name, spec in scenario.measures.items():
        for field, kind in type(spec).references.items():
            for path, value in _values(spec, field.split(".")):
                if value not in defined[kind]:
                    yield f"measures.{name}.{path}", _unknown(words[kind], value, defined[kind])


def _values(node: Any, parts: list[str], path: str = "") -> Iterator[tuple[str, str]]:
    """The named values at a dotted field path, through lists (``sites.region``)."""
    value = getattr(node, parts[0], None)
    here = f"{path}.{parts[0]}" if path else parts[0]
    items = list(enumerate(value)) if isinstance(value, list) else [(None, value)]
    for k, item in items:
        where = here if k is None else f"{here}.{k}"
        if item is None:
            continue
        if len(parts) > 1:
            yield from _values(item, parts[1:], where)
        elif isinstance(item, str):
            yield where, item


def _strategies(scenario: Scenario) -> Iterator[Problem]:
    for strategy, names in scenario.strategies.items():
        for k, name in enumerate(names):
            if name not in scenario.measures:
                known = ", ".join(sorted(scenario.measures)) or "no measures defined"
                yield f"strategies.{strategy}.{k}", f"unknown measure {name!r}; defined: {known}"
    if scenario.strategy not in scenario.strategies:
        known = ", ".join(sorted(scenario.strategies))
        yield "strategy", f"unknown strategy {scenario.strategy!r}; defined: {known}"


def _calibration(scenario: Scenario) -> Iterator[Problem]:
    spec = scenario.calibration
    if spec is None:
        return
    if spec.strategy is not None and spec.strategy not in scenario.strategies:
        yield "calibration.strategy", _unknown("strategy", spec.strategy, scenario.strategies)
    data = scenario.model_dump(mode="json", by_alias=True, exclude={"calibration"})
    yield from path_problems(spec, data)
