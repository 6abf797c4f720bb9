"""Natural history: duration draws, course probabilities, progression through the states."""

from __future__ import annotations

import numpy as np
import pytest

from containment_sim.disease import Course, Progression, implied_r0, mean_infectious_days, sample
from containment_sim.population import generate_population
from containment_sim.rng import stream
from containment_sim.scenario import Disease, Distribution, Transmission
from containment_sim.world import AgentView, Flag, Source, State, World


@pytest.mark.parametrize(
    "spec",
    [
        {"dist": "gamma", "mean": 5.2, "sd": 3.0},
        {"dist": "lognormal", "mean": 5.2, "sd": 3.9},
        {"dist": "exponential", "mean": 2.0},
        {"dist": "fixed", "mean": 3.0},
    ],
)
def test_sampled_durations_have_the_stated_mean_and_sd(spec: dict) -> None:
    dist = Distribution(**spec)
    x = sample(dist, stream(1, "test"), 200_000)
    sd = dist.sd if dist.sd is not None else (dist.mean if dist.dist == "exponential" else 0.0)
    assert abs(x.mean() - dist.mean) <= 4 * sd / np.sqrt(x.size) + 1e-12
    if sd > 0:
        assert abs(x.std() - sd) < 0.02 * sd


def test_course_probabilities_match_the_age_tables() -> None:
    disease = Disease()
    course = Course.from_disease(disease)
    ages = np.repeat(np.arange(9, dtype=np.int8), 100_000)
    flags = course.draw_flags(stream(2, "test"), ages)
    sym = (flags & Flag.SYMPTOMATIC).astype(bool)
    fatal = (flags & Flag.FATAL).astype(bool)
    severe = (flags & Flag.SEVERE).astype(bool)
    assert not np.any(fatal & ~sym) and not np.any(fatal & ~severe)
    for band in range(9):
        mine = ages == band
        p = 1 - disease.asymptomatic_fraction[band]
        assert abs(sym[mine].mean() - p) < 4 * np.sqrt(p * (1 - p) / mine.sum())
        ifr = disease.infection_fatality[band]
        assert abs(fatal[mine].mean() - ifr) < 4 * np.sqrt(ifr * (1 - ifr) / mine.sum()) + 1e-9


def test_progression_visits_states_in_order_with_the_stated_durations() -> None:
    from conftest import make_scenario

    scenario = make_scenario(
        population={"regions": [{"name": "A", "population": 50_000, "communities": 5}]},
        mobility={"trips": []},
    )
    world = World(generate_population(scenario))
    prog = Progression(scenario.disease, stream(3, "test"))
    everyone = np.arange(world.population.size)
    prog.infect(world, everyone, 0.0, Source.SEED, -1)
    onset = np.full(everyone.size, np.nan)
    t = 0.0
    while np.isfinite(world.t_next).any():
        t += 0.25
        entered = prog.advance(world, t)
        if State.SYMPTOMATIC in entered:
            onset[entered[State.SYMPTOMATIC]] = t
        world.check_invariants()
    assert set(np.unique(world.state)) <= {State.RECOVERED, State.DEAD}
    incubation = onset[np.isfinite(onset)]
    d = scenario.disease
    mean = d.latent_period.mean + d.presymptomatic_period.mean
    # onsets are observed at the end of 0.25-day steps: on average 0.125 d late
    assert abs(incubation.mean() - 0.125 - mean) < 0.05
    dead = world.state == State.DEAD
    assert np.all(world.flags[dead] & Flag.FATAL)


VALID_FLAGS = (0, 1, 3, 7)  # asymptomatic, mild, severe, fatal (fatal implies severe)


def expected_next(state: State, flags: int) -> State:
    if state == State.EXPOSED:
        return State.PRESYMPTOMATIC
    if state == State.PRESYMPTOMATIC:
        return State.SYMPTOMATIC if flags & 1 else State.ASYMPTOMATIC
    if state == State.SYMPTOMATIC:
        return State.ILL
    return State.DEAD if state == State.ILL and flags & 4 else State.RECOVERED


def expected_stay(d: Disease, state: State, flags: int) -> Distribution | None:
    """How long an agent stays in the state it enters next (``None``: the course is over)."""
    if state == State.EXPOSED:
        return d.presymptomatic_period
    if state == State.PRESYMPTOMATIC:
        return d.infectious_after_onset if flags & 1 else d.asymptomatic_period
    if state == State.SYMPTOMATIC:  # the rest of the clinical course after infectiousness
        total = d.onset_to_death if flags & 4 else d.onset_to_recovery
        return Distribution(
            dist="gamma",
            mean=total.mean - d.infectious_after_onset.mean,
            sd=(total.sd**2 - d.infectious_after_onset.sd**2) ** 0.5,
        )
    return None


def test_one_agent_path_applies_the_same_course_as_the_arrays() -> None:
    """``advance_one`` (the DES) and ``advance`` (the vectorized engine) follow one table."""
    from conftest import make_scenario

    scenario = make_scenario(
        population={"regions": [{"name": "A", "population": 32_000, "communities": 4}]},
        mobility={"trips": []},
    )
    arrays, single = (World(generate_population(scenario)) for _ in range(2))
    n = arrays.population.size
    keys = [(s, f) for s in list(State)[1:6] for f in VALID_FLAGS]
    which = np.arange(n) % len(keys)
    for world in (arrays, single):
        world.state[:] = [keys[k][0] for k in which]
        world.flags[:] = [keys[k][1] for k in which]
        world.t_next[:] = 0.0
    Progression(scenario.disease, stream(4, "a")).advance(arrays, 0.0)
    prog, view = Progression(scenario.disease, stream(4, "b")), AgentView.of(single)
    for i in range(n):
        prog.advance_one(view, i, int(single.state[i]))
    expected = [expected_next(*keys[k]) for k in which]
    assert np.array_equal(arrays.state, expected) and np.array_equal(single.state, expected)
    d = scenario.disease
    for k, (state, flags) in enumerate(keys):
        mine = which == k
        dist = expected_stay(d, state, flags)
        for world in (arrays, single):
            if dist is None:
                assert np.all(np.isinf(world.t_next[mine]))
                continue
            se = dist.sd / np.sqrt(mine.sum())
            assert abs(world.t_next[mine].mean() - dist.mean) < 4 * se


def test_one_agent_infections_have_the_course_probabilities() -> None:
    from conftest import make_scenario

    scenario = make_scenario(
        population={"regions": [{"name": "A", "population": 40_000, "communities": 4}]},
        mobility={"trips": []},
    )
    world = World(generate_population(scenario))
    prog, view = Progression(scenario.disease, stream(6, "b")), AgentView.of(world)
    n = world.population.size
    for i in range(n):
        prog.infect_one(view, i, 1.0, int(Source.SEED), -1)
    world.check_invariants()
    d, band = scenario.disease, world.population.age_band
    p_sym = (1 - np.asarray(d.asymptomatic_fraction))[band].mean()
    observed = np.mean(world.flags & Flag.SYMPTOMATIC > 0)
    assert abs(observed - p_sym) < 4 * np.sqrt(p_sym * (1 - p_sym) / n)
    latent = world.t_next - 1.0
    assert abs(latent.mean() - d.latent_period.mean) < 4 * d.latent_period.sd / np.sqrt(n)
    assert np.all(world.infection_time == 1.0) and np.all(world.state == State.EXPOSED)


def test_implied_r0_sums_layers() -> None:
    disease = Disease()
    days = mean_infectious_days(disease, [1 / 9] * 9)
    rel = disease.relative_infectiousness
    assert days > rel.presymptomatic * disease.presymptomatic_period.mean
    tr = Transmission(beta={"household": 0.0, "community": 0.1, "region": 0.2})
    assert implied_r0(disease, tr, [1 / 9] * 9) == pytest.approx(0.3 * days)


def test_broken_bookkeeping_raises_an_invariant_error_even_without_asserts() -> None:
    """The checks raise ``InvariantError`` (not ``assert``), so ``python -O`` keeps them."""
    from conftest import make_scenario
    from containment_sim.errors import InvariantError

    world = World(generate_population(make_scenario()))
    world.check_invariants()
    world.state[0] = State.EXPOSED  # infected, but with no infection record or schedule
    with pytest.raises(InvariantError, match="infection record"):
        world.check_invariants()


def test_the_public_implied_r0_of_a_scenario_with_r0_set_is_that_r0() -> None:
    """``cs.implied_r0(scenario)`` uses the rates the engines run with, scaled to
    ``transmission.r0``, not the rates as written."""
    import containment_sim as cs

    scenario = cs.with_overrides(cs.load_scenario("small"), {"transmission.r0": 3.3})
    assert cs.implied_r0(scenario) == pytest.approx(3.3, abs=0.01)
    assert cs.load_scenario("small").transmission.r0 is None
    assert cs.implied_r0(cs.load_scenario("small")) < 3.0
