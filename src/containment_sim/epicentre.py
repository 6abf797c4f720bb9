"""The epicentre (e.g. Wuhan): its prevalence curve, its lockdown, and the residents coming home.

Returnees (返乡人员) are residents who were away in the epicentre when the simulation starts.
They come back on the scenario's daily-arrival curve; each arrives infected with probability
equal to the epicentre's prevalence on the day of arrival. After the epicentre's lockdown only a
``leakage`` fraction of the planned arrivals gets through; the others stay away.

Returnees' home regions are drawn independently of their arrival times, so every region gets
its share of returnees in every week. Each returnee enters on one of the city's entry roads,
chosen by the weights given for its home region (``returnees.entry_roads``) or else in
proportion to the roads' ``share``. Trips within the city are in
:mod:`containment_sim.network`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from containment_sim.population import Population
from containment_sim.scenario import Scenario, TimePoint

__all__ = [
    "Epicentre",
    "ReturneePlan",
    "piecewise_linear",
    "prevalence_curve",
    "prevalence_growth",
]


def piecewise_linear(
    scenario: Scenario, points: list[tuple[TimePoint, float]]
) -> tuple[np.ndarray, np.ndarray]:
    """Times (days) and values of a ``[[time, value], ...]`` schedule, sorted by time."""
    times = np.array([scenario.day_of(t) for t, _ in points], dtype=float)
    values = np.array([v for _, v in points], dtype=float)
    order = np.argsort(times, kind="stable")
    return times[order], values[order]


class Epicentre:
    """The epicentre's prevalence curve, read once from the scenario.

    Prevalence is log-linear between the points (exponential growth) and constant outside;
    with a zero among the points it is linear.
    """

    def __init__(self, scenario: Scenario):
        points = scenario.importation.prevalence
        times, values = piecewise_linear(scenario, points) if points else (np.zeros(0), np.zeros(0))
        self.times: np.ndarray = times
        self.values: np.ndarray = values
        self.log_linear = bool(self.values.size) and bool(np.all(self.values > 0))
        logs = np.log(np.maximum(self.values, 1e-300))
        self.logs = logs
        self.slopes = (
            np.diff(logs) / np.maximum(np.diff(self.times), 1e-12)
            if self.values.size > 1
            else np.zeros(0)
        )

    def prevalence(self, t: np.ndarray) -> np.ndarray:
        """Share of the epicentre currently infected at times ``t``."""
        if self.values.size == 0:
            return np.zeros_like(t, dtype=float)
        if not self.log_linear:
            linear: np.ndarray = np.interp(t, self.times, self.values)
            return linear
        out: np.ndarray = np.exp(np.interp(t, self.times, self.logs))
        return out

    def growth(self, t: np.ndarray) -> np.ndarray:
        """Exponential growth rate (per day) of the prevalence at times ``t``.

        The slope of log prevalence on the segment containing each time; 0 outside the points.
        """
        if self.slopes.size == 0:
            return np.zeros_like(t, dtype=float)
        k = np.searchsorted(self.times, t, side="right") - 1
        inside = (k >= 0) & (k < self.slopes.size)
        return np.where(inside, self.slopes[np.clip(k, 0, self.slopes.size - 1)], 0.0)


def prevalence_curve(scenario: Scenario, t: np.ndarray) -> np.ndarray:
    """Epicentre prevalence at times ``t``: log-linear between points, constant outside."""
    return Epicentre(scenario).prevalence(t)


def prevalence_growth(scenario: Scenario, t: np.ndarray) -> np.ndarray:
    """Exponential growth rate (per day) of the epicentre prevalence at times ``t``."""
    return Epicentre(scenario).growth(t)


@dataclass(frozen=True)
class ReturneePlan:
    """Who is away at the start and when each would come back.

    Attributes:
        agent: Indices of residents away in the epicentre at time 0, sorted by ``arrival``.
        arrival: Planned arrival time (days) of each.
        admitted: Whether each gets out of the epicentre (always before the lockdown, with
            probability ``leakage`` after it).
        entry: Entry road of each (index into ``mobility.entry_roads``; 0 if there are none).
    """

    agent: np.ndarray
    arrival: np.ndarray
    admitted: np.ndarray
    entry: np.ndarray

    @classmethod
    def build(
        cls, scenario: Scenario, population: Population, rng: np.random.Generator
    ) -> ReturneePlan:
        """Draw the returnees of a scenario: how many, who, when, and who gets through."""
        imp = scenario.importation
        empty = cls(np.empty(0, np.int64), np.empty(0), np.empty(0, bool), np.empty(0, np.int64))
        if len(imp.returnees.daily) < 2:
            return empty
        times, daily = piecewise_linear(scenario, imp.returnees.daily)
        area = np.concatenate([[0.0], np.cumsum(np.diff(times) * (daily[1:] + daily[:-1]) / 2)])
        expected = area[-1] * scenario.population.scale
        n = min(int(rng.poisson(expected)), population.size)
        if n == 0:
            return empty
        arrival = np.sort(_inverse_trapezoid(times, daily, area, rng.random(n)))
        # residents come region by region: shuffle them so that home and arrival time are
        # independent (each region's share of returnees is the same in every week)
        agent = rng.permutation(_pick_residents(scenario, population, rng, n))
        if agent.size < n:  # fewer residents in the destination regions than returnees planned
            keep = np.sort(rng.choice(n, agent.size, replace=False))
            arrival = arrival[keep]
            n = agent.size
        admitted = np.ones(n, dtype=bool)
        if imp.lockdown is not None:
            after = arrival >= scenario.day_of(imp.lockdown)
            admitted[after] = rng.random(int(after.sum())) < imp.leakage
        entry = _entry_roads(scenario, population.region[agent], rng)
        return cls(agent, arrival, admitted, entry)

    def arriving(self, t0: float, t1: float) -> np.ndarray:
        """Positions (into ``agent``) of admitted returnees arriving in ``[t0, t1)``."""
        lo, hi = np.searchsorted(self.arrival, [t0, t1], side="left")
        pos = np.arange(lo, hi)
        out: np.ndarray = pos[self.admitted[pos]]
        return out


def _entry_roads(scenario: Scenario, home: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The entry road of each returnee: by its home region's weights, or the roads' shares."""
    roads = scenario.mobility.entry_roads
    shares = np.array([e.share for e in roads] or [1.0], dtype=float)
    weights = np.tile(shares / shares.sum(), (len(scenario.region_names), 1))
    names = [e.name for e in roads]
    for region, given in scenario.importation.returnees.entry_roads.items():
        row = np.array([given.get(name, 0.0) for name in names])
        weights[scenario.region_names.index(region)] = row / row.sum()
    cumulative = np.cumsum(weights, axis=1)
    u = rng.random(home.size)[:, None]
    entry = (u >= cumulative[home]).sum(axis=1)
    out: np.ndarray = np.minimum(entry, shares.size - 1).astype(np.int64)
    return out


def _inverse_trapezoid(
    times: np.ndarray, daily: np.ndarray, area: np.ndarray, u: np.ndarray
) -> np.ndarray:
    """Invert the cumulative of a piecewise-linear density at probabilities ``u``."""
    target = u * area[-1]
    k = np.clip(np.searchsorted(area, target, side="right") - 1, 0, times.size - 2)
    width = times[k + 1] - times[k]
    a, b = daily[k], daily[k + 1]
    slope = (b - a) / np.where(width > 0, width, 1.0)
    rem = target - area[k]
    with np.errstate(invalid="ignore", divide="ignore"):
        quad = (-a + np.sqrt(np.maximum(a * a + 2 * slope * rem, 0.0))) / slope
    lin = rem / np.where(a > 0, a, 1.0)
    x = np.where(np.abs(slope) > 1e-12, quad, lin)
    out: np.ndarray = times[k] + np.clip(np.nan_to_num(x), 0.0, width)
    return out


def _pick_residents(
    scenario: Scenario, population: Population, rng: np.random.Generator, n: int
) -> np.ndarray:
    """Choose up to ``n`` distinct residents, spread over regions by the destination weights.

    A region cannot send more returnees than it has residents; the excess is dropped.
    """
    weights = scenario.importation.returnees.destination
    sizes = population.region_sizes()  # residents, in region order
    if weights is None:
        share = sizes / sizes.sum()
    else:
        share = np.array([weights.get(name, 0.0) for name in population.region_names])
        share = share / share.sum()
    per_region = np.minimum(rng.multinomial(n, share), sizes)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    chosen = [
        start + rng.choice(size, k, replace=False)
        for start, size, k in zip(starts, sizes, per_region, strict=True)
    ]
    return np.concatenate(chosen).astype(np.int64)
