"""What every measure shares: a time window, schedules, the hooks an engine calls, a registry.

A measure type is a pair: a parameter model (a :class:`~containment_sim.scenario.MeasureSpec`
subclass, validated from the scenario's ``measures:`` entry with its ``type``) and an
implementation (a :class:`Measure` subclass) that acts on the simulation through the hooks
below. ``@register(SpecClass)`` on the implementation registers both, so a user can add a
measure type in their own module without touching the engines::

    @register_measure_type
    class CurfewSpec(MeasureSpec):
        type: Literal["curfew"] = "curfew"
        share: float

    @register(CurfewSpec)
    class Curfew(Measure):
        def before_transmission(self, ctx, t): ...

Hooks are called by the vectorized engine in its step order (see ``engines/vectorized.py``)
and only while the measure is active (``start <= t < end``).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, TypeVar

import numpy as np

from containment_sim.layers import Mixing
from containment_sim.network import RoadNetwork
from containment_sim.population import Population
from containment_sim.report import Report
from containment_sim.scenario import MeasureSpec, Scenario, Schedule, register_measure_type
from containment_sim.world import Isolation, State, World

__all__ = [
    "IMPLEMENTATIONS",
    "Context",
    "Crossing",
    "LayerRates",
    "Measure",
    "Server",
    "Service",
    "Traveller",
    "build_measures",
    "places",
    "random_round",
    "register",
    "schedule_value",
]


_S = TypeVar("_S")


def compile_schedule(scenario: Scenario, schedule: Schedule) -> tuple[list[float], list[float]]:
    """A step schedule as sorted times (days) and their values (a constant: one step)."""
    if isinstance(schedule, int | float):
        return [0.0], [float(schedule)]
    steps = sorted(
        ((scenario.day_of(when), float(v)) for when, v in schedule), key=lambda step: step[0]
    )
    return [w for w, _ in steps], [v for _, v in steps]


def schedule_value(scenario: Scenario, schedule: Schedule, t: float) -> float:
    """Value of a schedule at time ``t`` (a constant, or the latest step at or before t)."""
    times, values = compile_schedule(scenario, schedule)
    return values[max(bisect_right(times, t) - 1, 0)]


def random_round(rng: np.random.Generator, amount: float) -> int:
    """``amount`` rounded down or up at random, up with probability its fractional part.

    Unbiased: capacities per day or per step (tests, checks, index cases) keep their mean
    at any population scale.
    """
    whole = int(amount)
    return whole + int(rng.random() < amount - whole)


def places(amount: float) -> int:
    """A scaled capacity (beds, rooms) in whole places: rounded half up, at least 1 if any."""
    return max(int(amount + 0.5), 1 if amount > 0 else 0)


class Context(Protocol):
    """What a measure may read and change in a running simulation (either engine)."""

    scenario: Scenario
    population: Population
    world: World
    network: RoadNetwork

    def rng(self, name: str) -> np.random.Generator:
        """The random stream of a decision, e.g. ``"checkpoint:G107"``."""
        ...

    def service(self, factory: Callable[[Context], _S]) -> _S:
        """The run's single instance of a shared service (created by ``factory(ctx)``)."""
        ...

    def keep_apart(
        self,
        idx: np.ndarray,
        status: Isolation,
        t: float,
        until: float | np.ndarray = np.inf,
        compliance: float = 1.0,
    ) -> np.ndarray:
        """Quarantine (``HOME``) or isolate (``ISOLATED``) agents; returns the newly kept apart."""
        ...

    def record(self, table: str, **row: Any) -> None:
        """Add a row to a named per-day output table (``day`` is added)."""
        ...

    def count(self, column: str, agents: np.ndarray) -> None:
        """Add today's events of ``agents`` (by home region) to a daily flow column."""
        ...

    def arrived_returnees(self, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray]:
        """Returnees who entered the city in ``[t0, t1)`` and their arrival times."""
        ...

    def group_size(self, layer: str) -> np.ndarray:
        """Agents present (alive, in the city) in each group of a built-in layer now."""
        ...

    def infectees_of(self, agents: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The people ``agents`` infected so far, and the infector of each."""
        ...


class LayerRates:
    """Multipliers of the layers' transmission rates for one step, per group of each layer.

    Measures scale a layer's rate in some of its groups (:meth:`scale`): e.g. people staying at
    home cut the community and region rates in the regions they cover. Multipliers are at most
    1 (the discrete-event engine thins contacts with them). An array is allocated only for a
    layer something scales.

    Args:
        n_groups: Number of groups of each layer (regions for ``region``).
    """

    def __init__(self, n_groups: dict[str, int]):
        self._n_groups = n_groups
        self._rates: dict[str, np.ndarray] = {}

    def scale(self, layer: str, groups: np.ndarray | slice, factor: float | np.ndarray) -> None:
        """Multiply the rate of ``layer`` in ``groups`` by ``factor`` (at most 1)."""
        if layer not in self._rates:
            self._rates[layer] = np.ones(self._n_groups[layer])
        self._rates[layer][groups] *= np.minimum(factor, 1.0)

    def get(self, layer: str) -> np.ndarray | None:
        """The per-group multipliers of a layer, or ``None`` if they are all 1."""
        return self._rates.get(layer)


@dataclass
class Crossing:
    """People crossing roads now: trips in the city, returnees arriving, residents leaving.

    Attributes:
        kind: ``"trip"``, ``"arrival"`` or ``"departure"``.
        agents: The people crossing.
        route: Route of each (row of ``route_roads``).
        route_roads: ``(n_routes, n_roads)`` whether a route uses a road.
        stopped: Set by measures: the person is stopped (e.g. detected and isolated) and does
            not complete the crossing.
        when: Time of each crossing, where known (returnee arrivals).
        registered: Set by measures: the person was registered (登记) on arrival.
    """

    kind: str
    agents: np.ndarray
    route: np.ndarray
    route_roads: np.ndarray
    when: np.ndarray | None = None
    stopped: np.ndarray = field(init=False)
    registered: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.stopped = np.zeros(self.agents.size, dtype=bool)
        self.registered = np.zeros(self.agents.size, dtype=bool)

    def on_road(self, road: int) -> np.ndarray:
        """Mask of people whose route uses ``road``."""
        out: np.ndarray = self.route_roads[self.route, road]
        return out


class Traveller:
    """One traveller on the roads in the discrete-event engine, as stops on the way see it.

    Attributes:
        agent: Who.
        kind: ``"trip"``, ``"arrival"`` (a returnee) or ``"departure"`` (leaving the city).
        at: When the journey set out, or, for a returnee who came in, when it entered the city
            (the time ``after_arrival`` measures judge, e.g. against a quarantine's start).
        outside: Whether the traveller is still outside the city (a returnee before entering).
        stopped: Set by a stop: detected and isolated; the journey ends.
        registered: Set by a stop: registered (登记) on arrival.
        enter: Brings a returnee into the city now (once, however many stops it passes).
    """

    __slots__ = ("agent", "at", "enter", "kind", "outside", "registered", "stopped")

    def __init__(self, agent: int, kind: str, at: float, enter: Callable[[], None]):
        self.agent, self.kind, self.at, self.enter = agent, kind, at, enter
        self.outside = kind == "arrival"
        self.stopped = self.registered = False

    @property
    def agents(self) -> np.ndarray:
        """The traveller as a one-agent index array (for the shared array code)."""
        return np.array([self.agent])

    def record(self) -> Crossing:
        """The measures' view of the completed crossing (for ``after_arrival``)."""
        crossing = Crossing(
            self.kind,
            self.agents,
            np.zeros(1, np.int64),
            np.zeros((1, 0), bool),
            np.array([self.at]),
        )
        crossing.stopped[0], crossing.registered[0] = self.stopped, self.registered
        return crossing


class Measure:
    """Base of measure implementations: the time window and no-op hooks.

    Args:
        name: The measure's key in the scenario's ``measures:``.
        spec: Its validated parameters.
        scenario: The scenario (for dates and scale).
    """

    spec_type: ClassVar[type[MeasureSpec]] = MeasureSpec
    report: ClassVar[Report | None] = None
    """The columns and summary keys this measure type adds to a run's result."""

    def __init__(self, name: str, spec: MeasureSpec, scenario: Scenario):
        self.name = name
        self.spec = spec
        self.scenario = scenario
        self.start = scenario.day_of(spec.start)
        self.end = np.inf if spec.end is None else scenario.day_of(spec.end)
        self._schedules: dict[int, tuple[list[float], list[float]]] = {}

    def active(self, t: float) -> bool:
        """Whether the measure is in force at time ``t``."""
        return self.start <= t < self.end

    def level(self, schedule: Schedule, t: float) -> float:
        """A schedule's value at time ``t`` (schedules are read once, then looked up)."""
        if isinstance(schedule, int | float):
            return float(schedule)
        compiled = self._schedules.get(id(schedule))
        if compiled is None:
            compiled = self._schedules[id(schedule)] = compile_schedule(self.scenario, schedule)
        times, values = compiled
        return values[max(bisect_right(times, t) - 1, 0)]

    def setup(self, ctx: Context) -> None:
        """Called once before the first step (resolve names to indices here)."""

    def start_day(self, ctx: Context, day: int) -> None:
        """Called at the start of each day, before travel is drawn."""

    def road_pass(self, ctx: Context, t: float, road_pass: np.ndarray) -> None:
        """Multiply ``road_pass`` (probability of getting through each road) in place."""

    def cross(self, ctx: Context, t: float, crossing: Crossing) -> None:
        """Act on people crossing roads (screen, stop, register)."""

    def after_arrival(self, ctx: Context, t: float, crossing: Crossing) -> None:
        """Act on returnees who have just arrived (after every ``cross``).

        Called for every measure whose window overlaps the step; ``crossing.when`` tells
        who arrived inside the window.
        """

    def after_progression(self, ctx: Context, t: float, entered: dict[State, np.ndarray]) -> None:
        """Called in every step after natural history, with the agents that entered each state."""

    def before_transmission(self, ctx: Context, t: float) -> None:
        """Called in every step just before transmission."""

    def after_infection(
        self, ctx: Context, t: float, infectee: np.ndarray, infector: np.ndarray
    ) -> None:
        """Called with the infections of a step (one at a time in the discrete-event engine)."""

    def contact_factor(
        self, ctx: Context, t: float, layer: str, agents: np.ndarray
    ) -> np.ndarray | None:
        """This measure's multiplier of the contacts of ``agents`` in ``layer`` now.

        Applied on both sides of a contact (infectious and susceptible), on top of isolation
        and quarantine; ``None`` means 1 for all (e.g. only residents of closed communities
        get a factor). Called with the few agents the engine needs, never the population.
        """
        return None

    def scale_rates(self, ctx: Context, t: float, rates: LayerRates) -> None:
        """Scale layers' transmission rates in some of their groups (e.g. people at home)."""

    def restrict_travel(self, ctx: Context, t: float, who: np.ndarray, free: np.ndarray) -> None:
        """Clear ``free[k]`` for would-be travellers ``who[k]`` this measure keeps home."""

    def extra_layers(self, ctx: Context, t: float) -> list[Mixing]:
        """Mixing layers this measure adds for this step (e.g. a quarantine site's facility)."""
        return []

    def extra_layer_rates(self) -> dict[str, float]:
        """Upper bound of each extra layer's contact rate, by the layer's ``key``.

        For a layer mixing its members (no ``denominator``) the bound is its largest ``beta``;
        with a ``denominator`` it is ``beta`` times the largest n_T / D_g (members on the other
        side per unit of the divisor). The discrete-event engine draws contacts by thinning at
        these rates, so a layer a measure adds without declaring it here is not simulated there.
        """
        return {}

    def servers(self) -> list[Server]:
        """Staff or equipment this measure works through a queue with (after ``setup``)."""
        return []

    def roads_checked(self) -> list[int]:
        """Roads on which this measure stops travellers in the discrete-event engine."""
        return []

    def stop(self, ctx: Context, env: Any, traveller: Traveller) -> Generator[Any, Any, str]:
        """A traveller reaching one of :meth:`roads_checked` (a SimPy process step).

        Returns the outcome: ``screened`` (carry on), ``detected`` (``traveller.stopped``
        set), ``turned_back``, ``passed_unchecked`` or ``reroute``.
        """
        raise NotImplementedError
        yield  # a generator

    def end_day(self, ctx: Context, day: int) -> None:
        """Called at the end of each day (record the day's outputs here)."""

    def start_processes(self, ctx: Context, env: Any) -> None:
        """Discrete-event engine only: create SimPy resources or processes in ``env``.

        Called once for every measure of the strategy, after every ``setup``.
        """

    def stocks(self, ctx: Context, day: int) -> dict[str, np.ndarray]:
        """The end-of-day stocks this measure's ``report`` declares, by home region.

        Called at the end of every day, in force or not (a quarantine outlives its measure),
        before any measure's ``end_day``.
        """
        return {}


class Service:
    """A part of the model that several measures share, one per run: the case book, the sites.

    Measures reach it with ``ctx.service(ServiceClass)``, which creates it (``Service(ctx)``)
    on first use. The engines call the hooks below on every service created so far, whatever
    measures are in force; they know no service by name.

    Args:
        ctx: The running simulation.
    """

    report: ClassVar[Report | None] = None
    """The columns and summary keys this service adds to a run's result."""

    def __init__(self, ctx: Context):
        self.ctx = ctx

    def advance(self, t: float) -> None:
        """Called at every step (or tick) before the measures act: e.g. lab results come back."""

    def stocks(self, t: float) -> dict[str, np.ndarray]:
        """The end-of-day stocks its ``report`` declares, by home region (at time ``t``)."""
        return {}

    def final(self) -> dict[str, Any]:
        """Values for the summary known only at the end of the run."""
        return {}

    def start_processes(self, env: Any) -> None:
        """Discrete-event engine only: create its SimPy resources and processes in ``env``."""

    def check(self) -> None:
        """Raise ``InvariantError`` unless the service agrees with the world (tests only)."""


@dataclass(frozen=True)
class Server:
    """Staff or equipment working through a queue at a rate: a lab (检测), tracing teams (流调).

    What one unit of work does (run one test, trace one index case) is ``work``, the same rule
    in both engines; the engines differ only in how they spend the rate. The vectorized engine
    does ``random_round(rate * dt)`` units at each step, after the measures'
    ``before_transmission``. The discrete-event engine runs a SimPy process that does one unit
    and is then busy for ``1 / rate`` days; when there is no work it looks again at the next
    tick of the measures' clock.

    Attributes:
        name: Unique name (it names the random stream of the vectorized engine's rounding).
        rate: Units per day at time ``t``, scaled to the simulated population.
        work: ``work(ctx, t, n)`` does up to ``n`` units at time ``t`` and returns how many
            it did (fewer when the queue runs out).
    """

    name: str
    rate: Callable[[float], float]
    work: Callable[[Context, float, int], int]


IMPLEMENTATIONS: dict[str, type[Measure]] = {}
"""Registered measure implementations, by YAML ``type``."""

_I = TypeVar("_I", bound=type[Measure])


def register(spec: type[MeasureSpec]) -> Callable[[_I], _I]:
    """Class decorator: register a measure implementation and its parameter model."""

    def decorate(cls: _I) -> _I:
        register_measure_type(spec)
        cls.spec_type = spec
        IMPLEMENTATIONS[spec.model_fields["type"].default] = cls
        return cls

    return decorate


def build_measures(scenario: Scenario, strategy: str) -> list[Measure]:
    """The measures of a strategy, in the order the strategy lists them."""
    if strategy not in scenario.strategies:
        known = ", ".join(sorted(scenario.strategies))
        raise KeyError(f"unknown strategy {strategy!r}; the scenario defines: {known}")
    out = []
    for name in scenario.strategies[strategy]:
        spec = scenario.measures[name]
        out.append(IMPLEMENTATIONS[spec.type](name, spec, scenario))
    return out
