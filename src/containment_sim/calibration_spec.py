"""The ``calibration:`` section of a scenario: what to fit, with which priors, to which data.

A calibration names the observed data (CSV files with a ``date`` column), the scenario
parameters to fit (dotted paths, each with a prior), the targets (an observed column matched
to a column of the result's daily time series or to a summary key, with a distance) and the
settings of the ABC-SMC fit. It is validated with the rest of the scenario, so an error names
the file, line and field; whether the paths lead to fields of the scenario, and whether the
columns exist in the data, is checked before the fit starts
(:mod:`containment_sim.calibration`).

Example::

    calibration:
      data: [cases.csv]
      strategy: combined
      scale: 0.25
      population_size: 200
      generations: 8
      parameters:
        - {path: transmission.r0, prior: normal, mean: 2.5, sd: 0.5, low: 1.5, high: 4}
        - {path: measures.stay_home.compliance.0.1, prior: uniform, low: 0.2, high: 1}
      targets:
        - {observed: cumulative_confirmed, simulated: cum_confirmed_lab, increments: true,
           until: 2020-02-13}
        - {observed: cumulative_deaths, simulated: deaths_confirmed}
"""

from __future__ import annotations

import math
from datetime import date
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeFloat,
    PositiveFloat,
    field_validator,
    model_validator,
)

__all__ = ["DISTANCES", "PRIORS", "CalibrationSpec", "ParameterSpec", "TargetSpec"]

PRIORS = ("uniform", "loguniform", "normal", "lognormal")
"""Prior families of a fitted parameter."""

DISTANCES = ("sqrt", "log1p", "squared", "poisson", "negative_binomial")
"""Distances between simulated and observed counts (see :mod:`containment_sim.calibration`)."""

_PATH = r"^[A-Za-z_][A-Za-z0-9_ -]*(\.[A-Za-z0-9_ -]+)*$"


class _Strict(BaseModel):
    model_config = ConfigDict(
        extra="forbid", validate_assignment=True, allow_inf_nan=False, populate_by_name=True
    )


class ParameterSpec(_Strict):
    """A scenario parameter to fit, by its dotted path, and its prior.

    ``uniform`` and ``loguniform`` are bounded by ``low`` and ``high``. ``normal`` has ``mean``
    and ``sd``; ``lognormal`` has ``median`` and ``sdlog`` (the SD of the log); both may be
    truncated to ``[low, high]``. ``tied`` sets other paths to the fitted value times a ratio
    (e.g. the earlier points of a prevalence curve, so that its growth rate is kept).
    ``source`` cites where the prior comes from.
    """

    path: Annotated[str, Field(pattern=_PATH, max_length=200)]
    prior: Literal["uniform", "loguniform", "normal", "lognormal"]
    low: float | None = None
    high: float | None = None
    mean: float | None = None
    sd: PositiveFloat | None = None
    median: PositiveFloat | None = None
    sdlog: PositiveFloat | None = None
    tied: dict[Annotated[str, Field(pattern=_PATH, max_length=200)], float] = Field(
        default_factory=dict
    )
    source: str = ""

    @model_validator(mode="after")
    def _check_prior(self) -> ParameterSpec:
        needs = {"uniform": ("low", "high"), "loguniform": ("low", "high"),
                 "normal": ("mean", "sd"), "lognormal": ("median", "sdlog")}  # fmt: skip
        missing = [k for k in needs[self.prior] if getattr(self, k) is None]
        if missing:
            raise ValueError(f"a {self.prior} prior needs {' and '.join(missing)}")
        unused = {"mean", "sd", "median", "sdlog"} - set(needs[self.prior])
        given = sorted(k for k in unused if getattr(self, k) is not None)
        if given:
            raise ValueError(f"a {self.prior} prior takes no {', '.join(given)}")
        if self.low is not None and self.high is not None and not self.low < self.high:
            raise ValueError(
                f"low must be below high (got low {self.low:g}, high {self.high:g}: "
                f"width {self.high - self.low:g})"
            )
        positive = self.prior in ("loguniform", "lognormal")
        if positive and self.low is not None and self.low <= 0:
            raise ValueError(f"a {self.prior} prior needs low > 0, got {self.low:g}")
        return self

    def bounds(self) -> tuple[float, float]:
        """The support of the prior: ``[low, high]``, infinite where not truncated."""
        low = (
            self.low if self.low is not None else (0.0 if self.prior == "lognormal" else -math.inf)
        )
        return low, self.high if self.high is not None else math.inf


class TargetSpec(_Strict):
    """An observed column matched to a simulated quantity.

    ``simulated`` is a column of the result's daily time series (compared on the dates of
    the observed rows between ``from`` and ``until``) or a summary key (compared with the last
    observed value in that window). With ``increments``, a cumulative series is compared by
    its increments between consecutive observed dates (the first since the row before
    ``from``, or since the start). Simulated counts are divided by the simulated scale.
    ``distance`` (``sqrt``, ``log1p``, ``squared``, ``poisson``, ``negative_binomial`` with
    ``dispersion``) is averaged over the compared points and multiplied by ``weight``.
    """

    observed: Annotated[str, Field(min_length=1, max_length=100)]
    simulated: Annotated[str, Field(min_length=1, max_length=100)]
    start: date | None = Field(default=None, alias="from")
    until: date | None = None
    increments: bool = False
    distance: Literal["sqrt", "log1p", "squared", "poisson", "negative_binomial"] = "sqrt"
    weight: NonNegativeFloat = 1.0
    dispersion: PositiveFloat = 10.0

    @model_validator(mode="after")
    def _check_window(self) -> TargetSpec:
        if self.start is not None and self.until is not None and self.until < self.start:
            raise ValueError(f"until ({self.until}) is before from ({self.start})")
        return self

    @property
    def label(self) -> str:
        """``observed -> simulated`` (with ``increments`` marked)."""
        kind = " (daily increments)" if self.increments else ""
        return f"{self.observed} -> {self.simulated}{kind}"


class CalibrationSpec(_Strict):
    """How to fit a scenario to observed data by ABC-SMC (see the module docstring).

    ``data`` lists CSV files (relative to the scenario file) or names of datasets shipped
    with the package (``xianning-2020-reported``), joined on their ``date`` column.
    ``strategy`` is the strategy simulated (default: the scenario's); ``scale`` the simulated
    fraction of the population (default: the scenario's), counts being compared scaled to
    the full city. The fit stops after ``generations`` populations of ``population_size``
    particles, when the acceptance rate falls below ``min_acceptance_rate``, or after
    ``max_minutes`` of wall time (checked at the end of each generation; the number of
    generations then depends on the machine, so a reproducible fit fixes ``generations``);
    ``seed`` makes it reproducible (default: the scenario's).
    """

    data: Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)]
    strategy: str | None = None
    scale: Annotated[float, Field(gt=0.0, le=1.0)] | None = None
    population_size: Annotated[int, Field(ge=2, le=100_000)] = 100
    generations: Annotated[int, Field(ge=1, le=100)] = 8
    min_acceptance_rate: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.01
    max_minutes: PositiveFloat | None = None
    seed: Annotated[int, Field(ge=0, le=2**62)] | None = None
    parameters: Annotated[list[ParameterSpec], Field(min_length=1, max_length=50)]
    targets: Annotated[list[TargetSpec], Field(min_length=1, max_length=100)]

    @field_validator("data", mode="before")
    @classmethod
    def _one_or_many(cls, v: object) -> object:
        return [v] if isinstance(v, str) else v

    @field_validator("parameters")
    @classmethod
    def _unique_paths(cls, v: list[ParameterSpec]) -> list[ParameterSpec]:
        seen: set[str] = set()
        for p in v:
            for path in (p.path, *p.tied):
                if path in seen:
                    raise ValueError(f"the path {path!r} is set by more than one parameter")
                seen.add(path)
        return v


def get_path(data: object, path: str) -> object:
    """The value at a dotted path in plain scenario data (list items by number).

    Raises:
        KeyError: The path does not lead to a value; the message says where it stops and
            what is there.
    """
    node = data
    keys = path.split(".")
    for depth, key in enumerate(keys):
        where = ".".join(keys[:depth]) or "the scenario"
        if isinstance(node, dict):
            if key not in node:
                known = ", ".join(map(str, node)) or "nothing"
                raise KeyError(f"{path}: {where} has no {key!r}; it has: {known}")
            node = node[key]
        elif isinstance(node, list | tuple):
            if not key.isdigit() or int(key) >= len(node):
                raise KeyError(f"{path}: {where} is a list of {len(node)}; {key!r} is no index")
            node = node[int(key)]
        else:
            raise KeyError(f"{path}: {where} is a single value, with no {key!r} in it")
    return node


def set_path(data: object, path: str, value: float) -> None:
    """Set the number at a dotted path of plain scenario data in place.

    A whole number stays whole (the value is rounded); an unset value (``null``, such as
    ``transmission.r0``) becomes the number. Tuples on the way are not supported:
    use data from ``model_dump(mode="json")``.

    Raises:
        KeyError: The path does not lead to a number.
    """
    *parents, leaf = path.split(".")
    node = get_path(data, ".".join(parents)) if parents else data
    old = get_path(data, path)
    if isinstance(old, bool) or not isinstance(old, int | float | None):
        raise KeyError(f"{path}: not a number (got {type(old).__name__}); only numbers are fitted")
    if isinstance(node, dict):
        node[leaf] = round(value) if isinstance(old, int) else float(value)
    elif isinstance(node, list):
        node[int(leaf)] = round(value) if isinstance(old, int) else float(value)
    else:  # pragma: no cover - get_path has checked the path
        raise KeyError(f"{path}: cannot be set")


def path_problems(spec: CalibrationSpec, data: dict[str, object]) -> list[tuple[str, str]]:
    """Paths of ``spec`` that do not lead to a number of the scenario ``data`` (plain JSON).

    Returns:
        ``(field path of the calibration section, message)`` for each bad path.
    """
    problems = []
    for k, p in enumerate(spec.parameters):
        for where, path in [(f"calibration.parameters.{k}.path", p.path)] + [
            (f"calibration.parameters.{k}.tied", tied) for tied in p.tied
        ]:
            try:
                value = get_path(data, path)
            except KeyError as exc:
                problems.append((where, f"unknown parameter path: {str(exc).strip(chr(34))}"))
                continue
            if isinstance(value, bool) or not isinstance(value, int | float | None):
                problems.append((where, f"{path} is not a number; only numbers can be fitted"))
    return problems
