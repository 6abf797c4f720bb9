"""The engine against closed forms: SIR final size and the reproduction number of early cases."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import one_region
from containment_sim import run
from containment_sim.engines import VectorizedEngine
from containment_sim.theory import final_size
from containment_sim.world import State


def test_final_size_matches_sir_closed_form() -> None:
    """Well-mixed region, R0 = 2, N = 100,000: mean attack rate within 3 SE of the closed form."""
    n, seeds, r0 = 100_000, 20, 2.0
    expected = final_size(r0, seeds / n)
    assert abs(final_size(r0) - 0.796812) < 1e-6
    attack = []
    for rep in range(6):
        result = run(one_region(n, r0, seeds, days=300, seed=100 + rep))
        ts = result.timeseries
        assert ts["n_infected"].iloc[-1] == 0, "the epidemic must be over"
        attack.append(result.summary["total_infections"] / n)
    mean, se = np.mean(attack), np.std(attack, ddof=1) / np.sqrt(len(attack))
    se = max(se, 1.0 / np.sqrt(n))  # floor: binomial SE of one run
    assert abs(mean - expected) < 3 * se, (mean, expected, se)


def test_secondary_infections_of_early_cases_equal_r0() -> None:
    """Mean offspring of cases infected while the population is untouched ~ R0 (3 SE)."""
    r0 = 2.5
    engine = VectorizedEngine(one_region(500_000, r0, seeds=200, days=45, seed=3))
    result = engine.run()
    log = result.infections
    assert log is not None
    early = log.loc[log["time"] < 8.0, "infectee"].to_numpy()
    # most offspring of early cases are infected by day 20, while 99 % are still susceptible
    assert result.timeseries["cum_infections"].iloc[20] < 0.01 * 500_000, "too much depletion"
    offspring = np.bincount(
        log["infector"].to_numpy()[log["infector"].to_numpy() >= 0], minlength=500_000
    )[early]
    # every early case has finished being infectious by the end of the run
    assert np.isin(engine.world.state[early], [State.RECOVERED, State.DEAD]).all()
    mean, se = offspring.mean(), offspring.std(ddof=1) / np.sqrt(offspring.size)
    assert early.size > 300
    assert abs(mean - r0) < 3 * se, (mean, se, early.size)


@pytest.mark.slow
def test_final_size_r0_3_large_population() -> None:
    n, seeds, r0 = 400_000, 40, 3.0
    attack = [
        run(one_region(n, r0, seeds, days=250, seed=s)).summary["attack_rate"] for s in range(4)
    ]
    se = max(np.std(attack, ddof=1) / 2, 1 / np.sqrt(n))
    assert abs(np.mean(attack) - final_size(r0, seeds / n)) < 3 * se
