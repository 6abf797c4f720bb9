"""Model corrections: returnee regions and entry roads, tracing coverage, detection after
recovery, checkpoint detections as cases, two-sided deliveries, people staying at home."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pytest

from containment_sim import Scenario, load_scenario, run, with_overrides
from containment_sim.engines import VectorizedEngine
from containment_sim.epicentre import ReturneePlan
from containment_sim.measures.cases import CaseBook, ContactStatus, Priority
from containment_sim.measures.checkpoints import Checkpoint
from containment_sim.measures.closure import CommunityClosure
from containment_sim.measures.tracing import Tracing
from containment_sim.population import generate_population
from containment_sim.rng import stream
from containment_sim.world import Flag, Isolation, Source, State


# --- 1. returnees: home regions independent of arrival time; entry roads by home region ------
def test_returnees_home_regions_follow_the_destination_shares_in_every_week() -> None:
    scenario = with_overrides(load_scenario("xianning"), {"population.scale": 0.1})
    pop = generate_population(scenario)
    plan = ReturneePlan.build(scenario, pop, stream(1, "returnees"))
    share = pop.region_sizes() / pop.size  # no destination weights: by population
    week = (plan.arrival // 7).astype(int)
    checked = 0
    for w in np.unique(week):
        mine = week == w
        n = int(mine.sum())
        if n < 200:
            continue
        counts = np.bincount(pop.region[plan.agent[mine]], minlength=pop.n_regions)
        se = np.sqrt(share * (1 - share) / n)
        assert np.all(np.abs(counts / n - share) < 3 * se), (w, counts / n, share)
        checked += 1
    assert checked >= 2


def test_returnees_of_a_region_use_the_entry_roads_given_for_it() -> None:
    base = load_scenario("xianning")
    entry = {"Jiayu": {"Wuhan-Shenzhen expressway": 1.0}, "Chibi": {"G4 expressway": 1.0}}
    scenario = with_overrides(
        base, {"population.scale": 0.05, "importation.returnees.entry_roads": entry}
    )
    pop = generate_population(scenario)
    plan = ReturneePlan.build(scenario, pop, stream(2, "returnees"))
    names = [e.name for e in scenario.mobility.entry_roads]
    region = np.array(pop.region_names)[pop.region[plan.agent]]
    jiayu, chibi = region == "Jiayu", region == "Chibi"
    assert jiayu.sum() > 100 and chibi.sum() > 100
    assert np.all(plan.entry[jiayu] == names.index("Wuhan-Shenzhen expressway"))
    assert np.all(plan.entry[chibi] == names.index("G4 expressway"))
    others = ~jiayu & ~chibi  # the roads' shares, as before
    shares = np.array([e.share for e in scenario.mobility.entry_roads])
    shares = shares / shares.sum()
    counts = np.bincount(plan.entry[others], minlength=len(names)) / others.sum()
    assert np.all(np.abs(counts - shares) < 3 * np.sqrt(shares * (1 - shares) / others.sum()))


def test_entry_roads_by_region_name_only_known_roads_and_regions() -> None:
    from containment_sim.loading import ScenarioError, validate_data

    data: dict[str, Any] = load_scenario("xianning").model_dump(mode="json", by_alias=True)
    data["importation"]["returnees"]["entry_roads"] = {"Jiayu": {"No such road": 1.0}}
    with pytest.raises(ScenarioError, match=r"entry_roads\.Jiayu\.No such road"):
        validate_data(data)
    data["importation"]["returnees"]["entry_roads"] = {"Atlantis": {"G4 expressway": 1.0}}
    with pytest.raises(ScenarioError, match="unknown region 'Atlantis'"):
        validate_data(data)


# --- 2. tracing: a contact not reached is followed like someone nobody traced --------------
def town(measures: dict[str, Any], days: int = 30, **changes: Any) -> Scenario:
    data: dict[str, Any] = {
        "name": "town",
        "start_date": "2020-01-01",
        "days": days,
        "seed": 4,
        "population": {"regions": [{"name": "A", "population": 20_000, "communities": 8}]},
        "transmission": {"beta": {}},
        "measures": measures,
        "strategies": {"test": list(measures)},
        "strategy": "test",
    }
    data.update(changes)
    return Scenario.model_validate(data)


LAB = {"type": "testing", "capacity": 1e6, "sensitivity": 1.0,
       "turnaround": {"dist": "fixed", "mean": 0.0}}  # fmt: skip


def test_share_of_listed_contacts_tested_at_onset_follows_coverage() -> None:
    coverage = 0.3
    trace = {
        "type": "tracing",
        "delay": {"dist": "fixed", "mean": 0.0},
        "capacity": 1e6,
        "home_compliance": 1.0,
        "coverage": {"household": coverage, "infector": 0, "infectees": 0, "community": 0},
        "test_on_entry": False,
        "test_on_exit": False,
    }
    engine = VectorizedEngine(town({"lab": LAB, "trace": trace}))
    engine._setup_run()
    pop, cases = engine.population, engine.service(CaseBook)
    tracing = next(m for m in engine.measures if isinstance(m, Tracing))
    start = pop.household_start
    big = np.flatnonzero(np.diff(start) >= 2)
    index = start[big]  # the first member of every household of two or more
    cases.confirm(index, 1.0)
    tracing._work_backlog(engine, 1.0, index.size)
    tracing.before_transmission(engine, 1.0)  # contacts reached now (no delay)
    listed = np.setdiff1d(np.arange(start[big[0]], start[big[-1] + 1]), index)
    listed = listed[np.isin(pop.household[listed], pop.household[index])]
    reached = cases.contact[listed] != ContactStatus.NONE
    assert abs(reached.mean() - coverage) < 3 * np.sqrt(coverage * (1 - coverage) / listed.size)
    engine.world.state[listed] = State.SYMPTOMATIC  # every listed contact falls ill now
    tracing.after_progression(engine, 2.0, {State.SYMPTOMATIC: listed})
    tested = cases.requested[listed]
    se = np.sqrt(coverage * (1 - coverage) / listed.size)
    assert abs(tested.mean() - coverage) < 3 * se, (tested.mean(), coverage)
    assert np.array_equal(tested, reached), "exactly the reached contacts are tested at onset"


# --- 3. detection after recovery: a test is positive while the RNA is detectable ------------
def test_a_case_seeking_care_after_its_infectious_period_is_confirmed_and_traced() -> None:
    late = {"dist": "fixed", "mean": 9.0}  # after infectiousness, inside the PCR window
    care = {"type": "care_seeking", "delay": [[0, late]], "fever_fraction": 1.0}
    trace = {"type": "tracing", "delay": {"dist": "fixed", "mean": 0.0}, "capacity": 1e6,
             "home_compliance": 1.0}  # fmt: skip
    scenario = town(
        {"care": care, "lab": LAB, "trace": trace},
        days=40,
        importation={"initial_infections": 400},
        disease={"infection_fatality": [0.0] * 9},
    )
    engine = VectorizedEngine(scenario)
    result = engine.run()
    world, cases = engine.world, engine.service(CaseBook)
    seeds = np.flatnonzero(world.source == Source.SEED)
    sick = seeds[(world.flags[seeds] & 1).astype(bool)]
    assert sick.size > 200
    confirmed = np.isfinite(cases.confirmed_time[sick])
    # onset + 9 d: well past infectiousness (mean 2.5 d after onset), inside the PCR window
    # (20.5 +/- 5.5 d after onset, P(< 9 d) ~ 0.2 %)
    assert confirmed.mean() > 0.97
    ts = result.timeseries
    assert result.summary["confirmed"] == ts["new_confirmed"].sum() >= confirmed.sum()
    household = np.diff(engine.population.household_start)[engine.population.household[sick]]
    assert result.summary["contacts_traced"] >= (household[confirmed] - 1).sum() * 0.9


# --- 7. checkpoint detections follow the path of every suspected case ------------------------
def road_town(measures: dict[str, Any]) -> Scenario:
    return Scenario.model_validate(
        {
            "name": "road",
            "start_date": "2020-01-01",
            "days": 30,
            "seed": 2,
            "population": {
                "regions": [
                    {"name": "A", "population": 10_000, "communities": 4},
                    {"name": "B", "population": 10_000, "communities": 4},
                ]
            },
            "disease": {  # nobody dies, and every ill person tests positive
                "infection_fatality": [0.0] * 9,
                "pcr_positive_after_onset": {"dist": "fixed", "mean": 60.0},
            },
            "transmission": {"beta": {}},
            "importation": {"initial_infections": 2000, "initial_region": "A"},
            "mobility": {
                "roads": [{"name": "AB", "between": ["A", "B"]}],
                "trips": [{"from": "A", "to": "B", "daily": 3000}],
            },
            "measures": measures,
            "strategies": {"test": list(measures)},
            "strategy": "test",
        }
    )


def test_people_detected_at_a_checkpoint_are_tested_confirmed_and_traced() -> None:
    checkpoint = {"type": "checkpoint", "road": "AB", "capacity": 1e6, "sensitivity": 1.0,
                  "fever_fraction": 1.0}  # fmt: skip
    trace = {"type": "tracing", "delay": {"dist": "fixed", "mean": 0.0}, "capacity": 1e6,
             "home_compliance": 1.0}  # fmt: skip
    # nobody seeks care: every confirmation comes from a checkpoint detection (all of them
    # are ill and PCR-positive, and the test is perfect)
    engine = VectorizedEngine(road_town({"cp": checkpoint, "lab": LAB}))
    result = engine.run()
    table = result.tables["checkpoints"]
    detected = int(table["detected"].sum())
    assert detected > 50
    # results of the last day's detections come back after the run ends (next step)
    before_last = int(table.loc[table["day"] < table["day"].max(), "detected"].sum())
    confirmed = result.timeseries["new_confirmed"].sum()
    assert result.summary["confirmed"] == confirmed
    assert before_last <= confirmed <= detected
    cases = engine.service(CaseBook)
    confirmed = np.isfinite(cases.confirmed_time)
    ill = confirmed & (engine.world.state <= State.ILL)
    assert np.all(engine.world.isolation[ill] == Isolation.ISOLATED)
    # and they are traced: their household members become contacts under observation
    traced = run(road_town({"cp": checkpoint, "lab": LAB, "trace": trace})).summary
    assert traced["confirmed"] >= detected and traced["contacts_traced"] > detected


# --- 8. deliveries: only purchasing agents and the residents they serve ---------------------
def test_delivery_infections_always_join_a_purchasing_agent_and_a_resident() -> None:
    closure = {"type": "community_closure", "compliance": 1.0, "purchasing_agents": 3,
               "households_per_agent": 300, "delivery_beta": 0.05}  # fmt: skip
    scenario = town(
        {"closure": closure},
        days=40,
        importation={"initial_infections": 300},
        transmission={"beta": {}, "dispersion": None},
    )
    engine = VectorizedEngine(scenario)
    result = engine.run()
    log = result.infections
    assert log is not None
    agent = next(m for m in engine.measures if isinstance(m, CommunityClosure)).agent
    delivery = log[log["source"] == "delivery"]
    assert len(delivery) > 100
    by_agent = agent[delivery["infector"].to_numpy()]
    to_agent = agent[delivery["infectee"].to_numpy()]
    assert np.all(by_agent != to_agent), "one side is an agent, the other a resident"
    assert by_agent.sum() > 0 and to_agent.sum() > 0


@pytest.mark.parametrize("engine", ["vectorized", "des"])
def test_isolated_agents_deliver_nothing_and_nobody_else_mixes(engine: str) -> None:
    closure = {"type": "community_closure", "compliance": 1.0, "purchasing_agents": 2,
               "delivery_beta": 0.5}  # fmt: skip
    scenario = town(
        {"closure": closure, "isolate": {"type": "isolate_infected_test"}},
        days=20,
        importation={"initial_infections": 50},
        engine=engine,
    )
    result = run(scenario, check=True)
    assert result.summary["local_infections"] == 0, "isolated seeds infect nobody"


from containment_sim.measures import Measure, register  # noqa: E402
from containment_sim.scenario import MeasureSpec  # noqa: E402


class _IsolateInfectedSpec(MeasureSpec):
    type: str = "isolate_infected_test"


@register(_IsolateInfectedSpec)
class _IsolateInfected(Measure):
    def before_transmission(self, ctx, t):  # type: ignore[no-untyped-def]
        state = ctx.world.state
        infected = np.flatnonzero((state >= State.EXPOSED) & (state <= State.ILL))
        ctx.keep_apart(infected, Isolation.ISOLATED, t)


# --- 宅家: staying at home scales layer rates directly ---------------------------------------
def test_stay_home_scales_the_rates_of_the_regions_it_covers() -> None:
    measures = {
        "home": {
            "type": "stay_home",
            "start": 5,
            "regions": ["A"],
            "community": 0.6,
            "region": 0.4,
            "compliance": [[5, 0.5], [10, 1.0]],
        }
    }
    two = {"regions": [{"name": "A", "population": 6000, "communities": 3},
                       {"name": "B", "population": 4000, "communities": 2}]}  # fmt: skip
    beta = {"beta": {"household": 0.1, "community": 0.1, "region": 0.1}}
    engine = VectorizedEngine(town(measures, population=two, transmission=beta))
    engine._setup_run()
    pop = engine.population
    in_a = pop.community_region == 0
    for t, compliance in ((4.0, 0.0), (6.0, 0.5), (12.0, 1.0)):
        layers = {ly.key: ly for ly in engine._mixings(t)}
        community, region = layers["community"].scale, layers["region"].scale
        if compliance == 0:
            assert community is None and region is None
            continue
        assert community is not None and region is not None
        assert np.allclose(community[in_a], 1 - 0.6 * compliance)
        assert np.allclose(community[~in_a], 1.0)
        assert np.allclose(region, [1 - 0.4 * compliance, 1.0])
        assert layers["household"].scale is None


def test_staying_home_fully_stops_community_and_region_infections() -> None:
    measures = {"home": {"type": "stay_home", "start": 10, "community": 1.0, "region": 1.0,
                         "compliance": 1.0}}  # fmt: skip
    scenario = town(
        measures,
        days=40,
        transmission={"beta": {"household": 0.1, "community": 0.3, "region": 0.3}},
        importation={"initial_infections": 50},
    )
    log = run(scenario).infections
    assert log is not None
    after = log[log["time"] >= 10]
    assert len(after) > 0 and set(after["source"]) <= {"household"}
    assert (log[log["time"] < 10]["source"] != "household").any()


def test_a_gathering_ban_cuts_the_community_layer() -> None:
    measures = {"ban": {"type": "gathering_ban", "start": 0, "reduction": 0.5}}
    beta = {"beta": {"community": 0.1, "region": 0.1}}
    engine = VectorizedEngine(town(measures, transmission=beta))
    engine._setup_run()
    layers = {ly.key: ly for ly in engine._mixings(1.0)}
    assert np.allclose(layers["community"].scale, 0.5)
    assert layers["region"].scale is None


def test_checkpoints_count_symptomatic_people_also_after_infectiousness() -> None:
    engine = VectorizedEngine(
        town(
            {"cp": {"type": "checkpoint", "road": "x", "capacity": 10, "sensitivity": 1.0}},
            mobility={"roads": [], "entry_roads": [{"name": "x", "region": "A"}]},
        )
    )
    engine._setup_run()
    cp = next(m for m in engine.measures if isinstance(m, Checkpoint))
    engine.world.state[:4] = [State.SYMPTOMATIC, State.ILL, State.RECOVERED, State.ASYMPTOMATIC]
    cp.screen(engine, 1.0, np.arange(4), "trip")
    assert cp.counts["screened_symptomatic"] == 2


# --- 9. case definition: a positive person without symptoms is not (yet) a case ---------------
class _TestEveryoneSpec(MeasureSpec):
    """Test every infected person once, on ``start`` (a probe for the case definition)."""

    type: Literal["test_every_infected_once"] = "test_every_infected_once"


@register(_TestEveryoneSpec)
class _TestEveryone(Measure):
    def setup(self, ctx: Any) -> None:
        self.done = False
        self.states: np.ndarray | None = None

    def before_transmission(self, ctx: Any, t: float) -> None:
        if not self.done:
            self.done = True
            infected = np.flatnonzero(ctx.world.state != State.SUSCEPTIBLE)
            self.states = ctx.world.state.copy()
            ctx.service(CaseBook).request_tests(infected, Priority.CONTACT, t)


def _case_definition_run(confirm_without_symptoms: bool) -> tuple[Any, VectorizedEngine]:
    lab = {**LAB, "confirm_without_symptoms": confirm_without_symptoms}
    probe = {"type": "test_every_infected_once", "start": 4}
    scenario = town(
        {"lab": lab, "probe": probe},
        days=40,
        importation={"initial_infections": 3000},
        disease={"infection_fatality": [0.0] * 9},
    )
    engine = VectorizedEngine(scenario)
    return engine.run(), engine


def test_without_symptoms_a_positive_is_an_asymptomatic_infection_confirmed_at_onset() -> None:
    result, engine = _case_definition_run(confirm_without_symptoms=False)
    world, cases = engine.world, engine.service(CaseBook)
    probe = next(m for m in engine.measures if isinstance(m, _TestEveryone))
    assert probe.states is not None
    seeds = np.flatnonzero(world.source == Source.SEED)
    at_test = probe.states[seeds]
    course = (world.flags[seeds] & Flag.SYMPTOMATIC).astype(bool)
    positive = (at_test >= State.PRESYMPTOMATIC) & (world.pcr_until[seeds] > 4.0)
    presymptomatic = seeds[positive & course & (at_test == State.PRESYMPTOMATIC)]
    ill = seeds[positive & course & (at_test >= State.SYMPTOMATIC)]  # ill, or recovered from it
    silent = seeds[positive & ~course]  # incl. asymptomatic courses over, still PCR-positive
    assert presymptomatic.size > 100 and silent.size > 100 and ill.size > 100
    result_time = 5.0  # tested on day 4, no turnaround: results at the next step
    # every test is positive (sensitivity 1, PCR-positive from the start of infectiousness).
    # At the result the ill are cases at once, and so are the presymptomatic whose symptoms
    # have started meanwhile; the others are asymptomatic infections, never cases if they
    # stay asymptomatic, cases at onset if not
    assert np.all(cases.confirmed_time[ill] == result_time)
    assert not np.isfinite(cases.confirmed_time[silent]).any()
    onset_confirmed = cases.confirmed_time[presymptomatic]
    assert np.isfinite(onset_confirmed).all() and np.all(onset_confirmed >= result_time)
    later = int(np.count_nonzero(onset_confirmed > result_time))
    assert later > 0.5 * presymptomatic.size
    assert result.timeseries["new_asymptomatic_found"].sum() == silent.size + later
    assert result.summary["asymptomatic_found"] == silent.size + later
    assert result.summary["confirmed"] == ill.size + presymptomatic.size
    # found people are isolated (and released once recovered and PCR-negative)
    assert np.all(world.isolation[silent] != Isolation.NONE) or np.all(
        world.pcr_until[silent[world.isolation[silent] == Isolation.NONE]] <= 40.0
    )


def test_by_default_a_positive_test_confirms_a_case_with_or_without_symptoms() -> None:
    result, engine = _case_definition_run(confirm_without_symptoms=True)
    probe = next(m for m in engine.measures if isinstance(m, _TestEveryone))
    assert probe.states is not None
    infectious = np.isin(
        probe.states, [State.PRESYMPTOMATIC, State.ASYMPTOMATIC, State.SYMPTOMATIC]
    )
    assert result.summary["asymptomatic_found"] == 0
    confirmed = engine.service(CaseBook).confirmed_time
    assert np.all(confirmed[infectious] == 5.0)  # results at the step after the test
