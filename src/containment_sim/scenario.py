"""The scenario: every input of a simulation, as validated pydantic models.

A scenario is plain data. It is written in YAML (``scenarios/*.yaml``), validated here with
unknown keys forbidden, and handed to an engine. Loading a file and turning validation errors
into messages that name the file, line and field lives in :mod:`containment_sim.loading`.

Times inside the model are days (floats) since ``start_date`` at 00:00; a scenario may give a
time as a day number, a date (``2020-01-23``) or a date and time (``2020-01-23 10:00``).
"""

from __future__ import annotations

import importlib
import math
from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    SerializeAsAny,
    ValidationError,
    field_validator,
    model_validator,
)

from containment_sim import defaults, references
from containment_sim.calibration_spec import CalibrationSpec
from containment_sim.checks import check_scenario
from containment_sim.names import SafeName

__all__ = [
    "MEASURE_TYPES",
    "AgeTable",
    "Disease",
    "Distribution",
    "EntryRoad",
    "FractionSchedule",
    "Importation",
    "MeasureSpec",
    "Mobility",
    "Population",
    "Region",
    "Returnees",
    "Road",
    "Scenario",
    "Schedule",
    "TimePoint",
    "Transmission",
    "Trip",
    "measure_types",
    "register_measure_type",
    "with_overrides",
]

TimePoint = date | datetime | float
"""A point in time: a day number since the start, a date, or a date and time."""

MIN_DT = 1.0 / 1440.0
"""Shortest step: one minute (the discrete-event engine is the tool for finer time)."""

MAX_SEED = 2**62
"""Largest seed (replicate seeds ``seed + r`` stay 64-bit integers)."""

Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
AgeTable = Annotated[list[Fraction], Field(min_length=9, max_length=9)]
"""Nine values, one per age band 0-9, 10-19, ..., 70-79, 80+."""


class StrictModel(BaseModel):
    """Base of every scenario model: unknown keys are errors, values are checked on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)


class Distribution(StrictModel):
    """A distribution of durations in days, given by its mean (and SD where it has one).

    ``fixed`` is the constant ``mean``; ``exponential`` has mean ``mean``; ``gamma`` and
    ``lognormal`` are parametrised by ``mean`` and ``sd``.
    """

    dist: Literal["fixed", "exponential", "gamma", "lognormal"]
    mean: NonNegativeFloat
    sd: NonNegativeFloat | None = None

    @model_validator(mode="after")
    def _check_shape(self) -> Distribution:
        if self.dist in ("gamma", "lognormal"):
            if self.sd is None or self.sd <= 0 or self.mean <= 0:
                raise ValueError(f"a {self.dist} distribution needs mean > 0 and sd > 0")
        elif self.sd is not None:
            raise ValueError(f"a {self.dist} distribution takes no sd (only mean)")
        return self


class Region(StrictModel):
    """A county-level division (区/县/市): its population and number of communities."""

    name: SafeName
    name_zh: str | None = None
    population: PositiveInt
    communities: PositiveInt


class Population(StrictModel):
    """The synthetic city: regions, household sizes and ages, and the simulated fraction."""

    scale: Annotated[float, Field(gt=0.0, le=1.0)] = 1.0
    regions: list[Region] = Field(min_length=1)
    household_size: list[NonNegativeFloat] = Field(
        default_factory=lambda: list(defaults.HOUSEHOLD_SIZE), min_length=1
    )
    age_distribution: AgeTable = Field(default_factory=lambda: list(defaults.AGE_DISTRIBUTION))
    community_size_cv: NonNegativeFloat = 0.5

    @field_validator("household_size", "age_distribution")
    @classmethod
    def _positive_total(cls, v: list[float]) -> list[float]:
        if sum(v) <= 0:
            raise ValueError("weights must not all be zero")
        return v

    @model_validator(mode="after")
    def _unique_regions(self) -> Population:
        names = [r.name for r in self.regions]
        if len(set(names)) != len(names):
            raise ValueError(f"region names must be unique, got {names}")
        return self


class Disease(StrictModel):
    """Natural history S -> E -> P -> (A | I -> C) -> (R | D); defaults cited in ``defaults``.

    The infectious period is not the clinical course: a symptomatic case is infectious before
    onset (P) and for ``infectious_after_onset`` days after it (I), then stays ill without
    infecting anyone (C) until it recovers (``onset_to_recovery`` days after onset) or dies
    (``onset_to_death``). An infection without symptoms is infectious through P and A. RT-PCR
    tests stay positive for ``pcr_positive_after_onset`` days after onset (after the time
    symptoms would have started, without symptoms), and until death in fatal courses.
    """

    latent_period: Distribution = Field(
        default_factory=lambda: Distribution.model_validate(defaults.LATENT_PERIOD)
    )
    presymptomatic_period: Distribution = Field(
        default_factory=lambda: Distribution.model_validate(defaults.PRESYMPTOMATIC_PERIOD)
    )
    asymptomatic_period: Distribution = Field(
        default_factory=lambda: Distribution.model_validate(defaults.ASYMPTOMATIC_PERIOD)
    )
    infectious_after_onset: Distribution = Field(
        default_factory=lambda: Distribution.model_validate(defaults.INFECTIOUS_AFTER_ONSET)
    )
    onset_to_recovery: Distribution = Field(
        default_factory=lambda: Distribution.model_validate(defaults.ONSET_TO_RECOVERY)
    )
    onset_to_death: Distribution = Field(
        default_factory=lambda: Distribution.model_validate(defaults.ONSET_TO_DEATH)
    )
    pcr_positive_after_onset: Distribution = Field(
        default_factory=lambda: Distribution.model_validate(defaults.PCR_POSITIVE_AFTER_ONSET)
    )
    asymptomatic_fraction: AgeTable = Field(
        default_factory=lambda: list(defaults.ASYMPTOMATIC_FRACTION)
    )
    severe_fraction: AgeTable = Field(default_factory=lambda: list(defaults.SEVERE_FRACTION))
    infection_fatality: AgeTable = Field(default_factory=lambda: list(defaults.INFECTION_FATALITY))
    relative_infectiousness: RelativeInfectiousness = Field(
        default_factory=lambda: RelativeInfectiousness(**defaults.RELATIVE_INFECTIOUSNESS)
    )

    @model_validator(mode="after")
    def _fatal_cases_are_symptomatic(self) -> Disease:
        for band, (asym, ifr) in enumerate(
            zip(self.asymptomatic_fraction, self.infection_fatality, strict=True)
        ):
            if ifr > 1.0 - asym + 1e-12:
                raise ValueError(
                    f"infection_fatality[{band}] = {ifr} exceeds the symptomatic share "
                    f"1 - asymptomatic_fraction[{band}] = {1.0 - asym}; deaths are symptomatic"
                )
        return self

    @model_validator(mode="after")
    def _illness_outlasts_infectiousness(self) -> Disease:
        infectious = self.infectious_after_onset.mean
        for name in ("onset_to_recovery", "onset_to_death"):
            if getattr(self, name).mean <= infectious:
                raise ValueError(
                    f"{name} (mean {getattr(self, name).mean}) must be longer on average than "
                    f"infectious_after_onset (mean {infectious}): the clinical course goes on "
                    "after infectiousness ends"
                )
        return self


class RelativeInfectiousness(StrictModel):
    """Infectiousness relative to a symptomatic case.

    ``presymptomatic`` and ``symptomatic`` weigh the two phases of a symptomatic infection;
    ``asymptomatic`` weighs the whole of an infection that never develops symptoms.
    """

    presymptomatic: NonNegativeFloat = 1.0
    asymptomatic: NonNegativeFloat = 0.35
    symptomatic: NonNegativeFloat = 1.0


Disease.model_rebuild()


class Transmission(StrictModel):
    """Transmission rate beta (per day) in each mixing layer (DESIGN section 2).

    A susceptible agent in group g of layer l has hazard
    ``beta_l * sum_{j in g, j != i} w_j / (n_g - 1)``, where ``w_j`` includes j's individual
    infectiousness multiplier: a gamma variate of mean 1 and shape ``dispersion`` (k), drawn
    at infection (with a fixed infectious period, offspring counts would be negative binomial
    with dispersion k; the variable period makes them somewhat more overdispersed); ``null``
    means no individual variation. With ``r0`` the rates keep their ratios and are scaled so that a
    typical early case infects ``r0`` people (:mod:`containment_sim.reproduction`).
    """

    beta: LayerRates
    dispersion: PositiveFloat | None = defaults.DISPERSION
    r0: PositiveFloat | None = None


class LayerRates(StrictModel):
    """Per-day transmission rates by layer: household, community (village/compound), region."""

    household: NonNegativeFloat = 0.0
    community: NonNegativeFloat = 0.0
    region: NonNegativeFloat = 0.0


Transmission.model_rebuild()


class Returnees(StrictModel):
    """Residents returning from the epicentre: daily arrivals (full-scale counts).

    ``daily`` lists ``[time, arrivals per day]`` points; arrivals are interpolated linearly
    between points and are zero before the first and after the last point. Returnees' home
    regions are shared by ``destination`` weights (default: by population), independently of
    when they arrive. ``entry_roads`` gives, for a home region, the weights of the entry roads
    its returnees use (e.g. ``{Jiayu: {Wuhan-Shenzhen expressway: 1}}``); regions not listed use
    the roads' own ``share``.
    """

    daily: list[tuple[TimePoint, NonNegativeFloat]] = Field(default_factory=list)
    destination: dict[str, NonNegativeFloat] | None = None
    entry_roads: dict[str, dict[str, NonNegativeFloat]] = Field(default_factory=dict)


class Importation(StrictModel):
    """Infection entering from the epicentre (origin): prevalence, returnees, lockdown.

    ``prevalence`` lists ``[time, fraction currently infected]`` points, interpolated
    log-linearly (exponential growth between points) and held constant outside them.
    After ``lockdown`` the returnee flow is cut to ``leakage`` times its planned size.
    ``initial_infections`` agents are infected at time 0 (in ``initial_region`` or anywhere).
    """

    origin: str = "epicentre"
    prevalence: list[tuple[TimePoint, Fraction]] = Field(default_factory=list)
    returnees: Returnees = Field(default_factory=Returnees)
    lockdown: TimePoint | None = None
    leakage: Fraction = 0.0
    initial_infections: NonNegativeInt = 0
    initial_region: str | None = None


Schedule = float | Annotated[list[tuple[TimePoint, float]], Field(min_length=1)]
"""A level that may change over time: a constant, or ``[[time, value], ...]`` steps (the value
of the latest point at or before t; the first value before the first point)."""

FractionSchedule = Fraction | Annotated[list[tuple[TimePoint, Fraction]], Field(min_length=1)]
"""A schedule whose values are shares between 0 and 1 (compliance, diligence)."""


class Trip(StrictModel):
    """Daily trips (full-scale count) from one region to another."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, allow_inf_nan=False)

    origin: str = Field(alias="from")
    destination: str = Field(alias="to")
    daily: NonNegativeFloat
    both_ways: bool = True


class Road(StrictModel):
    """A road (edge) between two regions; trips between regions follow the shortest roads.

    ``modes`` gives the share of the road's trips travelling by each kind of public transport
    (e.g. ``{coach: 0.15, rail: 0.1, bus: 0.05}``), the share a line suspension removes.
    """

    name: SafeName
    between: tuple[str, str]
    length_km: PositiveFloat = 1.0
    daily: NonNegativeFloat = 0.0
    modes: dict[str, Fraction] = Field(default_factory=dict)

    @field_validator("modes")
    @classmethod
    def _shares_add_up(cls, v: dict[str, float]) -> dict[str, float]:
        if sum(v.values()) > 1.0 + 1e-9:
            raise ValueError(f"mode shares must add up to at most 1, got {sum(v.values()):.3g}")
        return v


class EntryRoad(StrictModel):
    """A road crossing the city boundary from the epicentre into a region (进城道路).

    Returnees enter on the entry roads in proportion to ``share``; ``outbound_daily`` residents
    of ``region`` leave the city on it each day (day trips, full-scale count).
    """

    name: SafeName
    region: str
    share: NonNegativeFloat = 1.0
    outbound_daily: NonNegativeFloat = 0.0
    modes: dict[str, Fraction] = Field(default_factory=dict)
    length_km: PositiveFloat = 1.0


class Mobility(StrictModel):
    """Travel: trips between regions along the roads, and the city's entry roads.

    ``trips`` are daily origin-destination demands routed on the shortest path (by
    ``length_km``) over ``roads``; a road's own ``daily`` adds trips between its two ends. With
    no roads, trips go directly. Travellers mix in the region layer of the region they visit.

    The discrete-event engine moves each traveller along the roads of its route at
    ``speed_kmh``; day trips set out at a uniform time between ``trip_hours`` (hours of the
    day) and the traveller mixes in the destination from arrival to the end of the day.
    """

    roads: list[Road] = Field(default_factory=list)
    entry_roads: list[EntryRoad] = Field(default_factory=list)
    trips: list[Trip] = Field(default_factory=list)
    speed_kmh: PositiveFloat = defaults.ROAD_SPEED_KMH
    trip_hours: tuple[float, float] = defaults.TRIP_HOURS

    @field_validator("trip_hours")
    @classmethod
    def _within_a_day(cls, v: tuple[float, float]) -> tuple[float, float]:
        if not 0.0 <= v[0] < v[1] <= 24.0:
            raise ValueError(f"need 0 <= first < second <= 24 (hours of the day), got {list(v)}")
        return v


class MeasureSpec(StrictModel):
    """A measure in a scenario: its ``type`` and time window ``[start, end)``.

    Measure types subclass this, add their parameters and register themselves with
    :func:`register_measure_type`.
    """

    type: str
    start: TimePoint = 0.0
    end: TimePoint | None = None

    references: ClassVar[dict[str, str]] = {}
    """Fields naming something the scenario defines: field (dotted through lists) -> kind
    (``region``, ``road`` or ``mode``); checked by :mod:`containment_sim.references`."""


MEASURE_TYPES: dict[str, type[MeasureSpec]] = {}
"""Registered measure types, from YAML ``type`` to the model of its parameters (the built-in
ones are there once :func:`measure_types` has been called or the measures imported)."""


def measure_types() -> dict[str, type[MeasureSpec]]:
    """The registered measure types, the built-in ones included.

    The built-in types register themselves when :mod:`containment_sim.measures` is imported,
    which happens here on first use (measures are plug-ins of the scenario format).
    """
    importlib.import_module("containment_sim.measures")
    return MEASURE_TYPES


_M = TypeVar("_M", bound=MeasureSpec)


def register_measure_type(cls: type[_M]) -> type[_M]:
    """Class decorator registering a measure parameter model under its ``type`` default."""
    name = cls.model_fields["type"].default
    if not isinstance(name, str):
        raise TypeError(f"{cls.__name__} needs a default string `type` to be registered")
    MEASURE_TYPES[name] = cls
    return cls


class Scenario(StrictModel):
    """A complete simulation input (see ``docs/getting-started.md`` for a worked example)."""

    CANONICAL_STRATEGIES: ClassVar[tuple[str, ...]] = ("none", "external", "internal", "combined")

    name: SafeName
    description: str = ""
    start_date: date
    days: PositiveInt
    seed: Annotated[int, Field(ge=0, le=MAX_SEED)] = 0
    dt: Annotated[float, Field(gt=0.0, le=1.0)] = 1.0
    engine: Literal["vectorized", "des"] = "vectorized"
    population: Population
    disease: Disease = Field(default_factory=Disease)
    transmission: Transmission
    importation: Importation = Field(default_factory=Importation)
    mobility: Mobility = Field(default_factory=Mobility)
    measures: dict[SafeName, SerializeAsAny[MeasureSpec]] = Field(default_factory=dict)
    strategies: dict[SafeName, list[str]] = Field(default_factory=lambda: {"none": list[str]()})
    strategy: str = "none"
    calibration: CalibrationSpec | None = None

    @field_validator("dt")
    @classmethod
    def _whole_steps_per_day(cls, v: float) -> float:
        if v < MIN_DT:
            raise ValueError(f"dt must be at least 1/1440 (one minute), got {v:g}")
        steps = 1.0 / v
        if abs(steps - round(steps)) > 1e-9:
            raise ValueError(
                f"dt must divide one day into whole steps (1, 0.5, 0.25, ...), got {v}"
            )
        return v

    @field_validator("measures", mode="before")
    @classmethod
    def _measure_types(cls, v: Any) -> Any:
        if not isinstance(v, dict):
            return v
        out: dict[str, Any] = {}
        for name, spec in v.items():
            kind = spec.get("type") if isinstance(spec, dict) else getattr(spec, "type", None)
            if not isinstance(kind, str) or kind not in measure_types():
                known = ", ".join(sorted(MEASURE_TYPES)) or "none registered yet"
                raise ValueError(f"measure {name!r}: unknown type {kind!r}; allowed: {known}")
            model = MEASURE_TYPES[kind]
            out[name] = spec if isinstance(spec, model) else model.model_validate(spec)
        return out

    @model_validator(mode="after")
    def _cross_references(self) -> Scenario:
        self.strategies.setdefault("none", [])
        references.check(self)  # every name used is defined (containment_sim.references)
        check_scenario(self)  # finite, bounded, safe names (containment_sim.checks)
        return self

    def day_of(self, when: TimePoint) -> float:
        """Convert a time point to days since ``start_date`` at 00:00."""
        if isinstance(when, datetime):
            start = datetime.combine(self.start_date, datetime.min.time())
            return (when - start).total_seconds() / 86400.0
        if isinstance(when, date):
            return float((when - self.start_date).days)
        return float(when)

    @property
    def steps_per_day(self) -> int:
        """Number of engine steps in one day (``1 / dt``)."""
        return round(1.0 / self.dt)

    @property
    def region_names(self) -> list[str]:
        """Region names in scenario order (the order of every per-region output)."""
        return [r.name for r in self.population.regions]

    def scaled_population(self) -> list[int]:
        """Number of simulated agents in each region (census population times ``scale``)."""
        return [
            max(1, math.floor(r.population * self.population.scale + 0.5))
            for r in self.population.regions
        ]


def with_overrides(scenario: Scenario, changes: dict[str, Any]) -> Scenario:
    """A copy of ``scenario`` with dotted-path fields replaced, validated again.

    Args:
        scenario: The scenario to change.
        changes: ``{"population.scale": 0.1, "seed": 3, ...}``; ``None`` values are skipped.

    Raises:
        containment_sim.loading.OverrideError: A path does not lead to a field of the
            scenario, or a changed value is not allowed; one problem per field, named like
            the errors of a scenario file (``overrides: measures.tracing.capacity: ...``). It
            is a ``ValueError`` and, for compatibility, a ``KeyError``.
    """
    data = scenario.model_dump(by_alias=True)
    for path, value in changes.items():
        if value is None:
            continue
        *parents, leaf = path.split(".")
        node = data
        for depth, key in enumerate(parents):
            if not isinstance(node, dict) or key not in node:
                where = ".".join(parents[:depth]) or "the scenario"
                known = (", ".join(node) if isinstance(node, dict) else "") or "nothing"
                raise _override_error(path, f"{where} has no {key!r}; it has: {known}")
            node = node[key]
        if not isinstance(node, dict):
            raise _override_error(path, f"{'.'.join(parents)} has no fields to set")
        node[leaf] = value
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        from containment_sim.loading import OverrideError, measure_problems, problems_from

        problems = measure_problems(data, OVERRIDES) or problems_from(exc, data, OVERRIDES)
        raise OverrideError(problems) from None


OVERRIDES = "overrides"
"""How :func:`with_overrides` names the source of a problem in its errors."""


def _override_error(path: str, message: str) -> Exception:
    from containment_sim.loading import OverrideError, Problem

    return OverrideError([Problem(OVERRIDES, None, path, message)])
