"""How much each measure contributes: Shapley values over the factorial design.

For a strategy built from k measures (or k groups of measures), every subset S of them is run
over the same replicates (common random numbers); v(S) is the mean number of infections
averted by S against no measures. The Shapley value of measure i,

    phi_i = sum over S not containing i of |S|! (k - |S| - 1)! / k! * (v(S + i) - v(S)),

is its average marginal contribution over all orders in which the measures could be added.
The values add up to v(all measures), the total averted (efficiency). The design costs
2^k x replicates runs, so the exact computation is limited to k <= 6 (64 subsets); group
measures into fewer units for larger strategies.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from itertools import combinations
from pathlib import Path

import pandas as pd

from containment_sim.experiments import as_posterior, make_tasks, run_tasks, tidy_outcomes
from containment_sim.ledger import Ledger
from containment_sim.posterior import Posterior
from containment_sim.progress import ProgressArg
from containment_sim.scenario import Scenario

__all__ = ["MAX_UNITS", "attribute", "check_units", "shapley_values"]

MAX_UNITS = 6
"""Largest number of units for which the factorial design is run (2^6 = 64 subsets)."""


def shapley_values(
    value: Callable[[frozenset[str]], float], units: Sequence[str]
) -> dict[str, float]:
    """Exact Shapley values of a cooperative game.

    Args:
        value: The worth v(S) of every coalition S (``frozenset`` of unit names); v(empty)
            is subtracted, so it need not be 0.
        units: The players.

    Returns:
        Each unit's Shapley value; they add up to v(all) - v(empty).
    """
    k = len(units)
    phi = dict.fromkeys(units, 0.0)
    for i in units:
        others = [u for u in units if u != i]
        for size in range(k):
            weight = math.factorial(size) * math.factorial(k - size - 1) / math.factorial(k)
            for subset in combinations(others, size):
                s = frozenset(subset)
                phi[i] += weight * (value(s | {i}) - value(s))
    return phi


def check_units(
    scenario: Scenario, strategy: str, units: Mapping[str, Sequence[str]] | None
) -> dict[str, list[str]]:
    """The units of an attribution, checked.

    They must cover the strategy's measures exactly once, and be at most ``MAX_UNITS``.

    Raises:
        KeyError: Unknown strategy.
        ValueError: Bad units.
    """
    if strategy not in scenario.strategies:
        raise KeyError(f"unknown strategy {strategy!r}; defined: {', '.join(scenario.strategies)}")
    measures = scenario.strategies[strategy]
    groups = {m: [m] for m in measures} if units is None else {k: list(v) for k, v in units.items()}
    if sorted(m for ms in groups.values() for m in ms) != sorted(measures):
        raise ValueError(f"units must cover the measures of {strategy!r} exactly once: {measures}")
    if len(groups) > MAX_UNITS:
        raise ValueError(
            f"{len(groups)} units need 2^{len(groups)} subsets; group them into at most "
            f"{MAX_UNITS} units (units={{name: [measures]}} or --group)"
        )
    return groups


def attribute(
    scenario: Scenario,
    strategy: str,
    units: Mapping[str, Sequence[str]] | None = None,
    replicates: int = 10,
    seed: int | None = None,
    workers: int = 1,
    outcome: str = "total_infections",
    progress: ProgressArg = None,
    scheduler: str | None = None,
    ledger: Ledger | str | Path | None = None,
    posterior: Posterior | str | Path | None = None,
) -> pd.DataFrame:
    """Shapley attribution of ``outcome`` averted by a strategy to its measures.

    Args:
        scenario: The scenario.
        strategy: The strategy to decompose.
        units: Optional grouping ``{unit name: [measure, ...]}``; default: one unit per
            measure of the strategy.
        replicates: Replicates per subset (common seeds across subsets).
        seed: Base seed (default: the scenario's).
        workers: Local worker processes.
        outcome: The outcome whose reduction is attributed.
        progress: Called with 1 after each run, or ``True`` to report progress with the
            time left (:class:`~containment_sim.progress.Progress`).
        scheduler: Address of a Dask distributed scheduler to run on instead.
        ledger: Folder keeping every finished run; runs already there are not run again.
        posterior: A calibration's posterior (or its file): replicate r runs with the
            parameters drawn for it in every subset.

    Returns:
        One row per unit: its measures, Shapley value (mean averted), and the share of the
        total; plus the run count in ``runs``.

    Raises:
        ValueError: More than ``MAX_UNITS`` units, or units that do not cover the strategy.
    """
    groups = check_units(scenario, strategy, units)
    names = list(groups)
    subsets = [frozenset(c) for r in range(len(names) + 1) for c in combinations(names, r)]
    labels = {s: _label(s, names) for s in subsets}
    members = {labels[s]: tuple(m for u in sorted(s) for m in groups[u]) for s in subsets}
    base = scenario.seed if seed is None else seed
    tasks = make_tasks(
        scenario, list(members), replicates, base, members, posterior=as_posterior(posterior)
    )
    table = tidy_outcomes(run_tasks(tasks, workers, progress, scheduler, ledger, desc="attribute"))
    mean = table.groupby("strategy")[outcome].mean()
    empty = mean[labels[frozenset()]]

    def averted(s: frozenset[str]) -> float:
        return float(empty - mean[labels[s]])

    phi = shapley_values(averted, names)
    total = averted(frozenset(names))
    return pd.DataFrame(
        {
            "unit": names,
            "measures": ["+".join(groups[u]) for u in names],
            "shapley": [phi[u] for u in names],
            "share": [phi[u] / total if total else float("nan") for u in names],
            "outcome": outcome,
            "total_averted": total,
            "runs": len(tasks),
        }
    )


def _label(subset: frozenset[str], names: list[str]) -> str:
    """A subset's run label, a safe strategy name: ``subset 0110`` (which units it has)."""
    return "subset " + "".join("1" if u in subset else "0" for u in names)
