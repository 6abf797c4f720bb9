"""The basic reproduction number R0 of a scenario, and the layer rates that give a chosen R0.

R0 here is the mean number of people a typical case infects early in an epidemic, in a fully
susceptible city with no measure (the quantity the offspring test checks):

- in a large group (community, region) a case of infectiousness-weighted days W causes
  ``beta_l * W`` infections, ``beta_l * E[W]`` on average;
- in its household of n, each of the n - 1 others escapes with probability
  ``exp(-beta_h * W / (n - 1))``, so the household part is ``E[(n - 1)(1 - exp(-beta_h W /
  (n - 1)))]``, with n drawn from the size-biased household-size distribution (a case lives in
  a household of n with probability proportional to n times the share of such households)
  and W including the individual multiplier (dispersion). Households saturate: this is less
  than ``beta_h * E[W]``.

``transmission.r0``, when set, scales all layer rates by one factor so that this R0 is the one
asked for (:func:`layer_rates`); the engines run with those rates.
"""

from __future__ import annotations

import numpy as np

from containment_sim.disease import Course, mean_infectious_days, sample
from containment_sim.layers import LAYERS
from containment_sim.scenario import Scenario

__all__ = ["household_offspring", "implied_r0", "layer_rates"]

SAMPLES = 40_000
"""Draws of one infection's course used to average the household part (a fixed stream)."""


def infectious_weight(scenario: Scenario, n: int = SAMPLES) -> np.ndarray:
    """Infectiousness-weighted days of ``n`` infections drawn from the natural history.

    Each is its phases' durations times their relative infectiousness, times the individual
    multiplier; ages follow the population's. Drawn from a fixed stream, so the result is the
    same for the same scenario.
    """
    rng = np.random.default_rng(20200123)
    d, rel = scenario.disease, scenario.disease.relative_infectiousness
    ages = np.asarray(scenario.population.age_distribution, dtype=float)
    band = rng.choice(ages.size, size=n, p=ages / ages.sum())
    sym = rng.random(n) < Course.from_disease(d).p_symptomatic[band]
    pre = sample(d.presymptomatic_period, rng, n)
    after = np.where(
        sym, sample(d.infectious_after_onset, rng, n), sample(d.asymptomatic_period, rng, n)
    )
    w = np.where(sym, rel.presymptomatic * pre + rel.symptomatic * after,
                 rel.asymptomatic * (pre + after))  # fmt: skip
    k = scenario.transmission.dispersion
    return w if k is None else w * rng.gamma(k, 1.0 / k, size=n)


def household_offspring(
    scenario: Scenario, beta_household: float, weight: np.ndarray | None = None
) -> float:
    """Expected household infections of a case (first generation), households saturating.

    ``weight``: infectiousness-weighted days of sampled infections (default: drawn here).
    """
    if beta_household <= 0:
        return 0.0
    shares = np.asarray(scenario.population.household_size, dtype=float)
    sizes = np.arange(1, shares.size + 1)
    biased = shares * sizes / np.dot(shares, sizes)
    w = infectious_weight(scenario) if weight is None else weight
    total = 0.0
    for n, p in zip(sizes[1:], biased[1:], strict=True):
        total += p * (n - 1) * float(np.mean(-np.expm1(-beta_household * w / (n - 1))))
    return total


def implied_r0(
    scenario: Scenario, beta: dict[str, float] | None = None, weight: np.ndarray | None = None
) -> float:
    """R0 of the scenario (or of the layer rates ``beta``): see the module docstring.

    Without ``beta`` the rates are those the engines run with (:func:`layer_rates`): with
    ``transmission.r0`` set, R0 is that value (to the bisection's precision).
    """
    rates = beta if beta is not None else layer_rates(scenario)
    days = mean_infectious_days(scenario.disease, list(scenario.population.age_distribution))
    large = sum(rate for name, rate in rates.items() if name != "household") * days
    return large + household_offspring(scenario, rates.get("household", 0.0), weight)


def layer_rates(scenario: Scenario) -> dict[str, float]:
    """The rate of each layer the engines use: as given, or scaled to ``transmission.r0``.

    Scaling keeps the ratios of the given rates; the factor is found by bisection (R0 grows
    with it, less than in proportion because households saturate).
    """
    given = _given(scenario)
    target = scenario.transmission.r0
    if target is None or not any(given.values()):
        return given

    weight = infectious_weight(scenario)

    def r0_at(factor: float) -> float:
        return implied_r0(scenario, {k: v * factor for k, v in given.items()}, weight)

    lo, hi = 0.0, 1.0
    while r0_at(hi) < target:
        hi *= 2.0
        if hi > 1e6:
            raise ValueError(f"transmission.r0 = {target} cannot be reached with these rates")
    for _ in range(40):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if r0_at(mid) < target else (lo, mid)
    factor = (lo + hi) / 2
    return {k: v * factor for k, v in given.items()}


def _given(scenario: Scenario) -> dict[str, float]:
    beta = scenario.transmission.beta
    return {layer.name: float(getattr(beta, layer.name)) for layer in LAYERS}
