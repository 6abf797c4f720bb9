"""Observed data of a calibration, and the targets prepared from it before any simulation.

Data files are CSV tables with a ``date`` column (``YYYY-MM-DD``), one row per reported day;
several files are joined on the date. Datasets shipped with the package
(:data:`DATASETS`) load by name. :func:`prepare_targets` checks every target against the
data and the scenario (the column exists, the window holds values, the dates fall inside the
simulated period, the simulated name is a time-series column or a summary key) and turns it
into the arrays the distance compares, so that bad input is reported before the first run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from containment_sim.calibration_spec import CalibrationSpec, TargetSpec
from containment_sim.errors import InputError
from containment_sim.measures import build_measures, reports
from containment_sim.report import Layout
from containment_sim.results import CORE, summarize
from containment_sim.scenario import Scenario
from containment_sim.world import STATE_COLUMNS

__all__ = [
    "DATASETS",
    "CalibrationInputError",
    "PreparedTarget",
    "dataset_path",
    "prepare_targets",
    "read_observed",
    "series_columns",
    "summary_keys",
]

DATASETS = ("xianning-2020-reported", "xianning-2020-contacts")
"""Observed data shipped with the package (``containment_sim/data/<name>.csv``)."""

MAX_DATA_BYTES = 20_000_000
"""Largest data file read."""


class CalibrationInputError(InputError):
    """Calibration input that cannot be used: data, targets or parameters (one line)."""


@dataclass(frozen=True)
class PreparedTarget:
    """A target ready to compare: what is observed on which simulated days.

    Attributes:
        spec: The target as written.
        key: Its key in the simulated summary statistics (``t0``, ``t1``, ...).
        kind: ``"series"`` (a time-series column) or ``"summary"`` (a summary key).
        days: Simulated days compared (series), in order.
        dates: Their calendar dates.
        baseline_day: For increments, the day the first increment starts from (``None``:
            from the start).
        observed: Observed values (increments, levels, or the one summary value).
    """

    spec: TargetSpec
    key: str
    kind: str
    days: np.ndarray
    dates: list[date]
    baseline_day: int | None
    observed: np.ndarray


def dataset_path(name: str) -> Path:
    """The file of a dataset shipped with the package."""
    return Path(str(resources.files("containment_sim") / "data" / f"{name}.csv"))


def _resolve(entry: str, base: Path | None) -> Path:
    if entry in DATASETS:
        return dataset_path(entry)
    path = Path(entry)
    return path if path.is_absolute() or base is None else base / path


def read_observed(entries: list[str], base: Path | None = None) -> pd.DataFrame:
    """Read and join the data files (on ``date``); the index is the date.

    Args:
        entries: File paths (relative to ``base``) or dataset names.
        base: Folder of the scenario file.

    Raises:
        CalibrationInputError: A file missing, too large, empty, without a ``date`` column,
            with a date that cannot be read or repeats, or a column in two files.
    """
    frames: list[pd.DataFrame] = []
    for entry in entries:
        path = _resolve(entry, base)
        frame = _read_one(path)
        clash = [c for c in frame.columns if any(c in f.columns for f in frames)]
        if clash:
            raise CalibrationInputError(f"{path}: columns {clash} are also in another data file")
        frames.append(frame)
    joined = frames[0]
    for frame in frames[1:]:
        joined = joined.join(frame, how="outer")
    return joined.sort_index()


def _read_one(path: Path) -> pd.DataFrame:
    try:
        size = path.stat().st_size
    except OSError:
        names = ", ".join(DATASETS)
        raise CalibrationInputError(
            f"{path}: no such data file (or a dataset name: {names})"
        ) from None
    if size > MAX_DATA_BYTES:
        raise CalibrationInputError(f"{path}: larger than {MAX_DATA_BYTES:,} bytes")
    try:
        frame = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise CalibrationInputError(f"{path}: the data file is empty") from None
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        line = str(exc).strip().splitlines()
        raise CalibrationInputError(f"{path}: cannot read: {line[0] if line else exc}") from None
    if frame.empty:
        raise CalibrationInputError(f"{path}: the data file has a header but no rows")
    if "date" not in frame.columns:
        raise CalibrationInputError(
            f"{path}: needs a 'date' column (YYYY-MM-DD); it has: {', '.join(frame.columns)}"
        )
    dates = pd.to_datetime(frame["date"], format="%Y-%m-%d", errors="coerce")
    if dates.isna().any():
        row = int(np.flatnonzero(dates.isna())[0]) + 2
        raise CalibrationInputError(f"{path}:{row}: date {frame['date'].iloc[row - 2]!r} "
                                    "is not a date (YYYY-MM-DD)")  # fmt: skip
    if dates.duplicated().any():
        raise CalibrationInputError(f"{path}: the date {dates[dates.duplicated()].iloc[0].date()} "
                                    "appears more than once")  # fmt: skip
    frame.index = pd.Index([d.date() for d in dates], name="date")
    return frame.drop(columns="date")


def _layout(scenario: Scenario, strategy: str | None = None) -> Layout:
    """The result columns and summary keys of a run of ``strategy`` (default: the scenario's)."""
    measures = build_measures(scenario, strategy or scenario.strategy)
    return Layout([CORE, *reports(measures)])


def series_columns(scenario: Scenario, strategy: str | None = None) -> list[str]:
    """Columns of a result's daily time series a target may name.

    They depend on the measures of the strategy: each declares its own.
    """
    layout = _layout(scenario, strategy)
    derived = ["n_infectious", "n_infected", *layout.cumulative.values()]
    return [*STATE_COLUMNS, *layout.flows, *layout.stocks, *derived]


def summary_keys(scenario: Scenario, strategy: str | None = None) -> list[str]:
    """Numeric summary keys of a run of ``scenario`` (read off a summary of an empty run)."""
    days = scenario.days
    columns = series_columns(scenario, strategy)
    zeros: dict[str, Any] = {c: np.zeros(days) for c in columns}
    zeros["n_susceptible"] = np.ones(days)
    summary = summarize(scenario, zeros, layout=_layout(scenario, strategy))
    return [
        k for k, v in summary.items()
        if isinstance(v, int | float | type(None)) and not isinstance(v, bool)
        and k not in ("seed", "scale", "dt", "days")
    ]  # fmt: skip


def _naming(where: Callable[[str], str], field: str) -> Callable[[], str]:
    """``where(field)``, deferred until a message needs it."""
    return lambda: where(field)


def prepare_targets(
    spec: CalibrationSpec,
    scenario: Scenario,
    observed: pd.DataFrame,
    where: Callable[[str], str],
) -> list[PreparedTarget]:
    """Check every target against the data and the scenario; return them ready to compare.

    Args:
        spec: The calibration.
        scenario: The scenario simulated.
        observed: The joined data (:func:`read_observed`).
        where: Names a field for messages (``"file:line: calibration.targets[0].observed"``).

    Raises:
        CalibrationInputError: The first target that cannot be used, in one line.
    """
    strategy = spec.strategy or scenario.strategy
    series = set(series_columns(scenario, strategy))
    summary = set(summary_keys(scenario, strategy))
    prepared = []
    for k, target in enumerate(spec.targets):
        field = f"calibration.targets.{k}"
        if target.observed not in observed.columns:
            have = ", ".join(map(str, observed.columns))
            raise CalibrationInputError(
                f"{where(field + '.observed')}: column {target.observed!r} is not in the data; "
                f"it has: {have}"
            )
        if target.simulated not in series | summary:
            raise CalibrationInputError(
                f"{where(field + '.simulated')}: {target.simulated!r} is neither a time-series "
                f"column nor a summary key; allowed: {', '.join(sorted(series | summary))}"
            )
        kind = "series" if target.simulated in series else "summary"
        prepared.append(_prepare(target, k, kind, scenario, observed, _naming(where, field)))
    return prepared


def _prepare(
    target: TargetSpec,
    k: int,
    kind: str,
    scenario: Scenario,
    observed: pd.DataFrame,
    where: Callable[[], str],
) -> PreparedTarget:
    column = pd.to_numeric(observed[target.observed], errors="coerce").dropna()
    before = column[column.index < target.start] if target.start is not None else column.iloc[:0]
    window = column
    if target.start is not None:
        window = window[window.index >= target.start]
    if target.until is not None:
        window = window[window.index <= target.until]
    if window.empty:
        span = f"{target.start or 'the start'} and {target.until or 'the end'}"
        raise CalibrationInputError(
            f"{where()}: no observed {target.observed!r} values between {span}"
        )
    if (window < 0).any():
        raise CalibrationInputError(f"{where()}: observed {target.observed!r} has negative values")
    if kind == "summary":
        if target.increments:
            raise CalibrationInputError(
                f"{where()}: increments apply to time-series columns, not the summary key "
                f"{target.simulated!r}"
            )
        last = window.index[-1]
        return PreparedTarget(target, f"t{k}", kind, np.array([], dtype=np.int64), [last],
                              None, np.array([float(window.iloc[-1])]))  # fmt: skip
    days = np.array([(d - scenario.start_date).days for d in window.index], dtype=np.int64)
    if days.min() < 0 or days.max() >= scenario.days:
        raise CalibrationInputError(
            f"{where()}: observed dates {window.index[0]} to {window.index[-1]} are not all "
            f"inside the simulated period ({scenario.start_date} + {scenario.days} days)"
        )
    values = window.to_numpy(dtype=float)
    baseline_day = None
    if target.increments:
        start = float(before.iloc[-1]) if not before.empty else 0.0
        if not before.empty:
            baseline_day = (before.index[-1] - scenario.start_date).days
            if baseline_day < 0:
                baseline_day, start = None, 0.0
        values = np.diff(values, prepend=start)
        if (values < 0).any():
            raise CalibrationInputError(
                f"{where()}: {target.observed!r} falls between some dates; increments need a "
                "cumulative series that never falls (end the window before a reclassification)"
            )
    return PreparedTarget(target, f"t{k}", kind, days, list(window.index), baseline_day, values)
