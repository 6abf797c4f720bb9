"""Parameter sweeps: outcomes over a grid of one or two scenario parameters.

A parameter is named by its dotted path in the scenario (e.g.
``measures.tracing.coverage.community`` or ``transmission.beta.region``). Every grid point
runs the same replicate seeds, so neighbouring points differ only by the parameter.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from containment_sim.experiments import as_posterior, make_tasks, run_tasks, tidy_outcomes
from containment_sim.ledger import Ledger
from containment_sim.posterior import Posterior
from containment_sim.progress import ProgressArg
from containment_sim.scenario import Scenario, with_overrides

__all__ = ["grid", "sweep"]


def grid(
    scenario: Scenario, params: Mapping[str, Sequence[Any]], strategy: str | None = None
) -> list[tuple[tuple[Any, ...], Scenario]]:
    """Every grid point of a sweep and its scenario (validated), in sweep order.

    Raises:
        ValueError: Not one or two parameters.
        KeyError: A path that does not lead to a field.
        pydantic.ValidationError: A value the scenario does not allow.
    """
    if not 1 <= len(params) <= 2:
        raise ValueError(f"sweep one or two parameters, got {len(params)}")
    name = strategy or scenario.strategy
    return [
        (
            point,
            with_overrides(scenario, {**dict(zip(params, point, strict=True)), "strategy": name}),
        )
        for point in itertools.product(*params.values())
    ]


def sweep(
    scenario: Scenario,
    params: Mapping[str, Sequence[Any]],
    strategy: str | None = None,
    replicates: int = 20,
    seed: int | None = None,
    workers: int = 1,
    progress: ProgressArg = None,
    scheduler: str | None = None,
    ledger: Ledger | str | Path | None = None,
    posterior: Posterior | str | Path | None = None,
) -> pd.DataFrame:
    """Run a strategy over the grid of one or two parameters.

    Args:
        scenario: The base scenario.
        params: ``{dotted path: [values]}`` for one or two parameters.
        strategy: Strategy to run (default: the scenario's).
        replicates: Replicates per grid point (common seeds across points).
        seed: Base seed (default: the scenario's).
        workers: Local worker processes.
        progress: Called with 1 after each run, or ``True`` to report progress with the
            time left (:class:`~containment_sim.progress.Progress`).
        scheduler: Address of a Dask distributed scheduler to run on instead.
        ledger: Folder keeping every finished run; runs already there are not run again.
        posterior: A calibration's posterior (or its file): replicate r runs with the
            parameters drawn for it at every grid point (the swept parameters excepted).

    Returns:
        Tidy table: one column per parameter, then replicate, seed and the outcomes.

    Raises:
        ValueError: Not one or two parameters, or a value the scenario does not allow.
    """
    name = strategy or scenario.strategy
    base = scenario.seed if seed is None else seed
    drawn = as_posterior(posterior)
    if drawn is not None:
        drawn = drawn.without(list(params))
    tasks, where = [], []
    for point, changed in grid(scenario, params, name):
        tasks += make_tasks(changed, [name], replicates, base, posterior=drawn)
        where += [point] * replicates
    table = tidy_outcomes(
        run_tasks(tasks, workers, progress, scheduler, ledger, desc="sweep"), tasks
    )
    for k, path in enumerate(params):
        table.insert(k, path, [p[k] for p in where])
    return table.drop(columns="strategy").assign(strategy=name)
