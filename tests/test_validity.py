"""The model against closed forms and its own kernel.

- final size of an SIR epidemic (any infectious-period distribution, heterogeneous
  infectiousness included), at dt 1 and 0.25, within 3 standard errors of the replicates;
- offspring of early cases: mean R0 and variance R0 + R0^2 / k (negative binomial);
- extinction of one introduction: q = (1 + (R0/k)(1 - q))^(-k) (Lloyd-Smith et al. 2005);
- the mean generation interval measured from who infected whom equals the one computed from
  the natural history, and that lies within published estimates (5.0-6.2 d);
- the growth rate r of the epidemic equals Wallinga & Lipsitch's from R0 and the model's own
  generation-interval distribution;
- isolating every case at onset leaves R = R0 x (share of transmission before onset or
  without symptoms) (Fraser et al. 2004).

Standard errors are the replicates' (or the cases') own, never floored.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import one_region
from containment_sim import run
from containment_sim.defaults import AGE_DISTRIBUTION
from containment_sim.disease import (
    growth_rate,
    infectious_days_by_phase,
    mean_generation_interval,
)
from containment_sim.engines import VectorizedEngine
from containment_sim.measures import Measure, register
from containment_sim.scenario import Disease, MeasureSpec, Scenario
from containment_sim.theory import extinction_probability, final_size
from containment_sim.world import Isolation, State

AGES = list(AGE_DISTRIBUTION)

FIXED = {  # every case has the same infectiousness-weighted days: offspring are exactly NB
    "latent_period": {"dist": "fixed", "mean": 3.0},
    "presymptomatic_period": {"dist": "fixed", "mean": 2.0},
    "infectious_after_onset": {"dist": "fixed", "mean": 3.0},
    "asymptomatic_fraction": [0.0] * 9,
}


def attack_rates(n: int, r0: float, seeds: int, runs: int, dt: float) -> np.ndarray:
    return np.array(
        [
            run(one_region(n, r0, seeds, days=400, seed=100 + s, dt=dt)).summary["attack_rate"]
            for s in range(runs)
        ]
    )


def assert_final_size(attack: np.ndarray, r0: float, seeds: int, n: int) -> None:
    expected = final_size(r0, seeds / n)
    mean, se = attack.mean(), attack.std(ddof=1) / np.sqrt(attack.size)
    assert abs(mean - expected) < 3 * se, (mean, expected, se)


def test_final_size_matches_the_sir_closed_form() -> None:
    n, seeds, r0 = 40_000, 40, 1.5
    assert abs(final_size(r0) - 0.582812) < 1e-6
    assert_final_size(attack_rates(n, r0, seeds, runs=12, dt=1.0), r0, seeds, n)


@pytest.mark.slow
@pytest.mark.parametrize("dt", [1.0, 0.25])
def test_final_size_matches_the_closed_form_at_100000_agents(dt: float) -> None:
    n, seeds, r0 = 100_000, 50, 1.5
    assert_final_size(attack_rates(n, r0, seeds, runs=20, dt=dt), r0, seeds, n)


def offspring_of_seeds(scenario: Scenario) -> tuple[np.ndarray, VectorizedEngine]:
    engine = VectorizedEngine(scenario)
    log = engine.run().infections
    assert log is not None
    seeds = log.loc[log["source"] == "seed", "infectee"].to_numpy()
    infector = log["infector"].to_numpy()
    counts = np.bincount(infector[infector >= 0], minlength=engine.population.size)
    return counts[seeds], engine


@pytest.mark.parametrize("k", [0.5, None])
def test_offspring_of_early_cases_are_negative_binomial(k: float | None) -> None:
    r0, n, seeds = 2.0, 1_000_000, 3000
    offspring, engine = offspring_of_seeds(
        one_region(n, r0, seeds, days=12, seed=5, dispersion=k, disease=FIXED)
    )
    assert (engine.world.state[engine.world.source == 4] >= State.ILL).all(), "no longer infectious"
    var = r0 + (r0**2 / k if k else 0.0)
    mean_se = np.sqrt(var / offspring.size)
    assert abs(offspring.mean() - r0) < 3 * mean_se, (offspring.mean(), mean_se)
    centred = offspring - offspring.mean()
    m4 = np.mean(centred**4)
    var_se = np.sqrt((m4 - offspring.var() ** 2) / offspring.size)
    assert abs(offspring.var(ddof=1) - var) < 3 * var_se, (offspring.var(ddof=1), var, var_se)


def extinct_share(r0: float, k: float, runs: int) -> tuple[float, float]:
    extinct = 0
    for s in range(runs):
        result = run(one_region(5000, r0, 1, days=60, seed=s, dispersion=k, disease=FIXED))
        extinct += result.summary["total_infections"] < 200
    share = extinct / runs
    return share, np.sqrt(share * (1 - share) / runs)


@pytest.mark.slow
@pytest.mark.parametrize("k", [0.2, 1.0])
def test_one_introduction_dies_out_with_the_negative_binomial_probability(k: float) -> None:
    share, se = extinct_share(2.0, k, runs=600)
    expected = extinction_probability(2.0, k)
    assert abs(share - expected) < 3 * se, (share, expected, se)


def test_one_introduction_dies_out_more_often_with_superspreading() -> None:
    share, se = extinct_share(2.0, 0.2, runs=150)
    expected = extinction_probability(2.0, 0.2)
    assert abs(share - expected) < 3 * se, (share, expected, se)
    assert share > extinction_probability(2.0) + 3 * se  # Poisson offspring: 0.203


def test_mean_generation_interval_is_the_one_the_natural_history_implies() -> None:
    expected = mean_generation_interval(Disease(), AGES)
    assert 5.0 <= expected <= 6.2, expected
    engine = VectorizedEngine(one_region(2_000_000, 2.2, 2000, days=25, seed=8))
    log = engine.run().infections
    assert log is not None
    time = np.full(engine.population.size, np.nan)
    time[log["infectee"].to_numpy()] = log["time"].to_numpy()
    seeds = log.loc[log["source"] == "seed", "infectee"].to_numpy()
    children = log[log["infector"].isin(seeds)]
    gaps = children["time"].to_numpy() - time[children["infector"].to_numpy()]
    assert gaps.size > 3000
    assert abs(gaps.mean() - expected) < 0.3, (gaps.mean(), expected)


def test_growth_rate_matches_wallinga_lipsitch_for_the_model_kernel() -> None:
    """Log-linear slope of daily infections, days 8-23, 3 runs (under 1.5 % depleted)."""
    r0 = 2.2
    expected = growth_rate(Disease(), r0, AGES)
    days = np.arange(8, 24)
    slopes = []
    for seed in range(3):
        scenario = one_region(2_000_000, r0, 400, days=24, seed=seed, dispersion=None)
        daily = run(scenario).timeseries["new_infections"].to_numpy()
        slopes.append(np.polyfit(days, np.log(daily[days]), 1)[0])
    assert abs(np.mean(slopes) / expected - 1) < 0.05, (slopes, expected)


class _IsolateAtOnset(MeasureSpec):
    type: str = "isolate_at_onset_test"


@register(_IsolateAtOnset)
class _IsolateAtOnsetMeasure(Measure):
    """Perfect isolation of every case at symptom onset."""

    def after_progression(self, ctx, t, entered):  # type: ignore[no-untyped-def]
        onset = entered.get(State.SYMPTOMATIC)
        if onset is not None and onset.size:
            ctx.keep_apart(np.sort(onset), Isolation.ISOLATED, t)


def test_isolation_at_onset_leaves_presymptomatic_and_asymptomatic_transmission() -> None:
    r0 = 2.5
    base = one_region(1_000_000, r0, 3000, days=30, seed=11)
    data = base.model_dump(mode="json")
    data.update(
        measures={"iso": {"type": "isolate_at_onset_test"}},
        strategies={"iso": ["iso"]},
        strategy="iso",
    )
    offspring, _ = offspring_of_seeds(Scenario.model_validate(data))
    phases = infectious_days_by_phase(Disease(), AGES)
    expected = r0 * (phases["presymptomatic"] + phases["asymptomatic"]) / sum(phases.values())
    se = offspring.std(ddof=1) / np.sqrt(offspring.size)
    assert abs(offspring.mean() - expected) < 3 * se, (offspring.mean(), expected, se)
    assert expected < 0.65 * r0


def test_r0_set_directly_is_the_mean_offspring_of_early_cases_households_included() -> None:
    """With ``transmission.r0`` the rates are scaled so that early cases infect R0 people on
    average, household infections (which saturate) included."""
    from containment_sim import implied_r0, with_overrides
    from containment_sim.reproduction import layer_rates

    base = Scenario.model_validate(
        {
            "name": "households",
            "start_date": "2020-01-01",
            "days": 30,
            "seed": 4,
            "population": {"regions": [{"name": "A", "population": 1_000_000, "communities": 5}]},
            "disease": {"infection_fatality": [0.0] * 9},
            "transmission": {"beta": {"household": 0.3, "community": 0.1, "region": 0.1},
                             "r0": 2.0},
            "importation": {"initial_infections": 3000},
        }
    )  # fmt: skip
    rates = layer_rates(base)
    assert abs(implied_r0(base, rates) - 2.0) < 0.01
    assert rates["household"] / rates["community"] == pytest.approx(3.0)
    offspring, _ = offspring_of_seeds(base)
    se = offspring.std(ddof=1) / np.sqrt(offspring.size)
    assert abs(offspring.mean() - 2.0) < 3 * se, (offspring.mean(), se)
    doubled = with_overrides(base, {"transmission.r0": 4.0})
    assert layer_rates(doubled)["community"] > 2 * rates["community"], "households saturate"
