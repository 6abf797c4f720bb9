"""The transmission kernel draws the same process as the dense reference, at a fraction of the work.

- One step, many draws from one state: the number of infections per layer matches the sum of
  every susceptible agent's infection probability (the dense hazards), within 4 SE, and every
  infector is in its infectee's group.
- Whole runs: total infections, peak day and confirmed cases of 200 replicates of a small city
  have the same distribution with the engine's kernel as with the dense reference (two-sample
  Kolmogorov-Smirnov at alpha = 0.01), with no measure and with every measure.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest
from scipy import stats

from containment_sim import load_scenario, with_overrides
from containment_sim.disease import N_FLAG_KEYS
from containment_sim.engines import VectorizedEngine
from containment_sim.scenario import Scenario
from containment_sim.transmission import transmit
from containment_sim.world import State
from reference_kernel import DenseEngine, dense_hazards

OUTCOMES = ("total_infections", "peak_day", "confirmed")


def run_days(engine: VectorizedEngine, days: int) -> None:
    """Play the first ``days`` days of a run."""
    sc = engine.scenario
    engine._setup_run()
    for day in range(days):
        engine.day = day
        engine._start_day(day)
        for k in range(sc.steps_per_day):
            for phase in engine._phases:
                phase(day + k * sc.dt)
        engine._end_day(day)


def city(strategy: str, scale: float = 0.02, days: int = 120, seed: int = 1) -> Scenario:
    return with_overrides(
        load_scenario("xianning"),
        {"population.scale": scale, "strategy": strategy, "days": days, "seed": seed},
    )


@pytest.mark.parametrize("strategy", ["none", "combined"])
def test_one_step_draws_match_the_dense_hazards(strategy: str) -> None:
    day, scale = (40, 0.05) if strategy == "none" else (20, 0.2)
    engine = VectorizedEngine(city(strategy, scale=scale))
    run_days(engine, day)
    world, t, dt = engine.world, float(day), engine.scenario.dt
    infectious = engine._update_infectious()
    assert infectious.size > 30
    key = world.state[infectious].astype(np.intp) * N_FLAG_KEYS + world.flags[infectious]
    weight = engine.progression.weight[key] * world.infectiousness[infectious]
    mixings = engine._mixings(t)
    susceptible = np.flatnonzero((world.state == State.SUSCEPTIBLE) & world.present)
    used, hazards, _ = dense_hazards(mixings, infectious, weight, susceptible)
    total = np.vstack(hazards).sum(axis=0)
    p = -np.expm1(-dt * total)
    share = np.divide(np.vstack(hazards), total, out=np.zeros_like(np.vstack(hazards)),
                      where=total > 0)  # fmt: skip
    expected = {mx.key: float(np.sum(p * share[k])) for k, mx in enumerate(used)}
    draws = 300
    counts = {key: np.zeros(draws) for key in expected}
    for r in range(draws):
        new = transmit(np.random.default_rng(r), mixings, infectious, weight, t, dt,
                       world.state, world.present)  # fmt: skip
        assert np.unique(new.infectee).size == new.infectee.size
        assert np.all(world.state[new.infectee] == State.SUSCEPTIBLE)
        for mx in used:
            mine = new.source == mx.source
            if mx.key in ("household", "community"):
                assert np.array_equal(mx.group[new.infectee[mine]], mx.group[new.infector[mine]])
            counts[mx.key][r] = np.count_nonzero(mine) if mx.key in counts else 0
    by_source: dict[int, float] = {}
    for mx in used:
        by_source[mx.source] = by_source.get(mx.source, 0.0) + expected[mx.key]
    for mx in used:
        if mx.key not in ("household", "community", "region"):
            continue
        observed = counts[mx.key]
        se = observed.std(ddof=1) / np.sqrt(draws)
        assert abs(observed.mean() - by_source[mx.source]) < 4 * se + 1e-9, (
            mx.key, observed.mean(), by_source[mx.source], se
        )  # fmt: skip
    assert sum(expected.values()) > 5, "the state has transmission to test"


def _summary(args: tuple[dict, bool]) -> tuple[float, ...]:
    data, dense = args
    scenario = Scenario.model_validate(data)
    engine = (DenseEngine if dense else VectorizedEngine)(scenario)
    summary = engine.run().summary
    return tuple(float(summary[k]) for k in OUTCOMES)


def replicate_outcomes(strategy: str, dense: bool, n: int) -> np.ndarray:
    base = city(strategy, scale=0.005)
    tasks = [
        (with_overrides(base, {"seed": 1000 + r}).model_dump(mode="json", by_alias=True), dense)
        for r in range(n)
    ]
    with ProcessPoolExecutor(max_workers=2) as pool:
        return np.array(list(pool.map(_summary, tasks, chunksize=10)))


@pytest.mark.slow
@pytest.mark.parametrize("strategy", ["none", "combined"])
def test_runs_have_the_distribution_of_the_dense_kernel(strategy: str) -> None:
    sparse = replicate_outcomes(strategy, dense=False, n=200)
    dense = replicate_outcomes(strategy, dense=True, n=200)
    for k, outcome in enumerate(OUTCOMES):
        if outcome == "confirmed" and strategy == "none":
            continue  # nobody is tested without measures
        p = stats.ks_2samp(sparse[:, k], dense[:, k]).pvalue
        assert p > 0.01, (strategy, outcome, p, sparse[:, k].mean(), dense[:, k].mean())
