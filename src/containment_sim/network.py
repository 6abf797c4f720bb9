"""The road network: regions are nodes, roads are edges, entry roads cross the city boundary.

Daily trips between regions (origin-destination demands) follow the shortest path by road
length; each directed demand is a *route* that uses a set of roads. Entry roads (进城道路) link
the epicentre to a region: returnees arrive on them and residents leave the city on them.
Measures act on roads by setting, each day, the probability that a trip gets through each
road (closures, suspended passenger lines); a trip whose route crosses several roads must get
through all of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from containment_sim.population import Population
from containment_sim.scenario import EntryRoad, Road, Scenario

__all__ = ["RoadNetwork"]


@dataclass(frozen=True)
class RoadNetwork:
    """Roads, entry roads and the routes of daily trips (scaled to the simulated population).

    Attributes:
        names: Road names: internal roads first, then entry roads.
        region_of_entry: For each entry road, the region it enters.
        modes: For each mode of public transport, its share of each road's trips.
        route_origin: Origin region of each route (directed trip demand).
        route_destination: Destination region of each route.
        route_daily: Expected trips per day on each route (already scaled).
        route_roads: ``(n_routes, n_roads)`` whether each route uses each road.
        outbound_daily: Residents leaving the city per day on each entry road (scaled).
        entry_route_roads: ``(n_entry * n_regions, n_roads)`` the roads between the
            epicentre and a home region: route ``k * n_regions + r`` is entry road ``k`` then
            the shortest path from the region it enters to region ``r``.
        route_path: The roads of each trip route in the order travelled.
        entry_route_path: The roads of each entry route, from the boundary inwards.
        length_km: Length of each road.
        ends: ``(n_roads, 2)`` regions at the two ends of each road (-1 outside the city).
    """

    names: tuple[str, ...]
    region_of_entry: np.ndarray
    modes: dict[str, np.ndarray]
    route_origin: np.ndarray
    route_destination: np.ndarray
    route_daily: np.ndarray
    route_roads: np.ndarray
    outbound_daily: np.ndarray
    entry_route_roads: np.ndarray
    route_path: tuple[tuple[int, ...], ...]
    entry_route_path: tuple[tuple[int, ...], ...]
    length_km: np.ndarray
    ends: np.ndarray

    @property
    def n_roads(self) -> int:
        """Number of roads, entry roads included."""
        return len(self.names)

    @property
    def first_entry(self) -> int:
        """Index of the first entry road (entry road k is road ``first_entry + k``)."""
        return self.n_roads - self.region_of_entry.size

    def index(self, name: str) -> int:
        """Index of the road called ``name``."""
        try:
            return self.names.index(name)
        except ValueError:
            raise KeyError(f"unknown road {name!r}; roads: {', '.join(self.names)}") from None

    def roads_of_region(self, region: int) -> np.ndarray:
        """Indices of every road touching ``region``, entry roads included."""
        return np.flatnonzero((self.ends == region).any(axis=1))

    @classmethod
    def build(cls, scenario: Scenario) -> RoadNetwork:
        """The network of a scenario; raises ``ValueError`` if a trip has no road to follow."""
        mob = scenario.mobility
        index = {name: i for i, name in enumerate(scenario.region_names)}
        every_road: list[Road | EntryRoad] = [*mob.roads, *mob.entry_roads]
        names = tuple(r.name for r in every_road)
        all_modes = sorted({m for r in every_road for m in r.modes})
        modes = {m: np.array([r.modes.get(m, 0.0) for r in every_road]) for m in all_modes}
        ends = [(index[r.between[0]], index[r.between[1]]) for r in mob.roads]
        ends += [(-1, index[e.region]) for e in mob.entry_roads]
        length = [r.length_km for r in every_road]
        paths = _shortest_paths(scenario, ends, length)
        demands = _demands(scenario, index, paths)
        route_roads = np.zeros((len(demands), len(names)), dtype=bool)
        for f, (_, _, _, route) in enumerate(demands):
            route_roads[f, route] = True
        n_regions = len(index)
        entry_routes = np.zeros((len(mob.entry_roads) * n_regions, len(names)), dtype=bool)
        entry_paths = []
        for k, entry in enumerate(mob.entry_roads):
            for r in range(n_regions):
                roads = [len(mob.roads) + k, *paths(index[entry.region], r)]
                entry_routes[k * n_regions + r, roads] = True
                entry_paths.append(tuple(roads))
        scale = scenario.population.scale
        outbound = np.array([e.outbound_daily for e in mob.entry_roads], dtype=float)
        return cls(
            names=names,
            region_of_entry=np.array([index[e.region] for e in mob.entry_roads], dtype=np.int64),
            modes=modes,
            route_origin=np.array([d[0] for d in demands], dtype=np.int64),
            route_destination=np.array([d[1] for d in demands], dtype=np.int64),
            route_daily=np.array([d[2] for d in demands], dtype=float) * scale,
            route_roads=route_roads,
            outbound_daily=outbound * scale,
            entry_route_roads=entry_routes,
            route_path=tuple(tuple(d[3]) for d in demands),
            entry_route_path=tuple(entry_paths),
            length_km=np.array(length, dtype=float),
            ends=np.array(ends, dtype=np.int64).reshape(-1, 2),
        )

    def detour(self, origin: int, destination: int, avoid: set[int]) -> list[int] | None:
        """The shortest path between two regions on roads other than ``avoid``.

        Entry roads are never used. Returns the roads in the order travelled, or ``None`` if
        no such path exists.
        """
        usable = [k for k in range(self.first_entry) if k not in avoid]
        n = max(int(self.ends.max(initial=-1)), origin, destination) + 1
        return _ShortestPaths(self.ends.tolist(), self.length_km.tolist(), usable, n).path(
            origin, destination
        )

    def draw_trips(
        self,
        rng: np.random.Generator,
        population: Population,
        road_pass: np.ndarray | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Draw today's travellers and the route of each.

        Each route's count is Poisson with the route's mean; travellers are residents of the
        origin drawn at random. Those drawn twice, and those stopped by a road on the route
        (``road_pass``: the probability of getting through each road; ``None`` leaves the
        roads to the caller) stay home; whether the others are free to travel is for the
        caller to decide.

        Returns:
            Traveller indices and their routes.
        """
        if self.route_daily.size == 0:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        starts = population.region_start
        counts = rng.poisson(self.route_daily)
        route = np.repeat(np.arange(self.route_daily.size), counts)
        lo, hi = starts[self.route_origin[route]], starts[self.route_origin[route] + 1]
        who = lo + (rng.random(route.size) * (hi - lo)).astype(np.int64)
        once = population.once(who)
        who, route = who[once], route[once]
        if road_pass is None:
            return who, route
        gets_through = rng.random(who.size) < self.route_pass(road_pass)[route]
        return who[gets_through], route[gets_through]

    def route_pass(self, road_pass: np.ndarray, routes: np.ndarray | None = None) -> np.ndarray:
        """Probability of getting through every road of each route (default: the trip routes)."""
        routes = self.route_roads if routes is None else routes
        out: np.ndarray = np.prod(np.where(routes, road_pass[None, :], 1.0), axis=1)
        return out


def _demands(
    scenario: Scenario, index: dict[str, int], paths: Callable[[int, int], list[int]]
) -> list[tuple[int, int, float, list[int]]]:
    """Directed daily demands (origin, destination, trips, roads used)."""
    demands: list[tuple[int, int, float, list[int]]] = []
    for k, road in enumerate(scenario.mobility.roads):
        a, b = (index[x] for x in road.between)
        if road.daily > 0:
            demands += [(a, b, road.daily, [k]), (b, a, road.daily, [k])]
    for trip in scenario.mobility.trips:
        a, b = index[trip.origin], index[trip.destination]
        route = paths(a, b)
        demands.append((a, b, trip.daily, route))
        if trip.both_ways:
            demands.append((b, a, trip.daily, route[::-1]))
    return demands


def _shortest_paths(
    scenario: Scenario, ends: list[tuple[int, int]], length: list[float]
) -> Callable[[int, int], list[int]]:
    """A function giving the roads (indices) on the shortest path between two regions."""
    n_internal = len(scenario.mobility.roads)
    if not n_internal:
        return lambda a, b: []  # no road network: trips go directly
    search = _ShortestPaths(ends, length, range(n_internal), len(scenario.region_names))

    def path(a: int, b: int) -> list[int]:
        found = search.path(a, b)
        if found is None:
            names = scenario.region_names
            raise ValueError(f"mobility: no road connects {names[a]} and {names[b]}")
        return found

    return path


class _ShortestPaths:
    """All-pairs shortest paths on regions joined by the shortest of their usable roads.

    Floyd-Warshall on the few regions of a city (a county-level division has a handful to a
    few dozen), keeping each pair's predecessor to rebuild the path.

    Args:
        ends: The two regions at the ends of each road.
        length: Length of each road (km).
        roads: The roads that may be used.
        n: Number of regions.
    """

    def __init__(
        self, ends: list[tuple[int, int]], length: list[float], roads: Iterable[int], n: int
    ):
        self.best: dict[tuple[int, int], tuple[float, int]] = {}
        for k in roads:
            a, b = sorted(ends[k])
            if (a, b) not in self.best or length[k] < self.best[(a, b)][0]:
                self.best[(a, b)] = (length[k], k)
        distance = np.full((n, n), np.inf)
        np.fill_diagonal(distance, 0.0)
        predecessor = np.full((n, n), -1, dtype=np.int64)
        for (a, b), (km, _) in self.best.items():
            distance[a, b] = distance[b, a] = km
            predecessor[a, b], predecessor[b, a] = a, b
        for k in range(n):
            through = distance[:, k, None] + distance[None, k, :]
            shorter = through < distance - 1e-12
            distance = np.where(shorter, through, distance)
            predecessor = np.where(shorter, predecessor[k][None, :], predecessor)
        self.distance, self.predecessors = distance, predecessor

    def path(self, a: int, b: int) -> list[int] | None:
        """Roads from ``a`` to ``b`` in the order travelled; ``None`` if unconnected."""
        if a == b:
            return []
        if not np.isfinite(self.distance[a, b]):
            return None
        out, node = [], b
        while node != a:
            prev = int(self.predecessors[a, node])
            out.append(self.best[(min(prev, node), max(prev, node))][1])
            node = prev
        return out[::-1]
