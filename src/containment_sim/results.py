"""What a run produces: the daily recorder, the ``Result`` type, its summary, save and load.

Time series are daily. Row ``day = d`` (dated ``start_date + d``) holds the flows (``new_*``)
during that day, i.e. over ``[d, d + 1)``, and the stocks (``n_*``) at its end (time ``d + 1``);
infections seeded at time 0 count in row 0. ``cum_*`` columns accumulate the flows.
Per-region series attribute everything to the agents' home region. Named tables (per road,
per checkpoint, ...) hold one row per day and item.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from containment_sim._version import __version__
from containment_sim.errors import ResultFolderError
from containment_sim.outputs import OutputFolder, read_document, read_tables, write_tables
from containment_sim.scenario import Scenario
from containment_sim.world import STATE_COLUMNS, Source

__all__ = ["FLOW_COLUMNS", "Recorder", "Result", "summarize", "write_files"]

FLOW_COLUMNS: tuple[str, ...] = (
    "new_infections", "new_infections_local", "new_infections_imported", "new_infections_seeded",
    "new_infections_household", "new_infections_community", "new_infections_region",
    "new_infections_facility", "new_infections_delivery",
    "new_symptomatic", "new_recoveries", "new_deaths", "new_returnees", "new_returnees_blocked",
    "new_exported", "new_isolated", "new_quarantined", "n_travellers",
    "new_tests", "new_confirmed", "new_contacts_traced", "new_site_admissions",
)  # fmt: skip
"""Daily flow columns, in order (``n_travellers``: trips made that day)."""

OTHER_STOCKS: tuple[str, ...] = (
    "n_away", "n_home_quarantine", "n_site_quarantine", "n_isolated",
    "n_suspected", "n_confirmed_active", "n_contacts_observed", "n_site_overflow",
)  # fmt: skip
"""End-of-day stocks besides the disease states: away in the epicentre; in home quarantine,
at a quarantine site, isolated; suspected cases awaiting a result; confirmed cases still
isolated; traced contacts under observation; contacts at home because the sites were full."""

_SOURCE_COLUMN = {
    Source.HOUSEHOLD: "new_infections_household",
    Source.COMMUNITY: "new_infections_community",
    Source.REGION: "new_infections_region",
    Source.IMPORTED: "new_infections_imported",
    Source.SEED: "new_infections_seeded",
    Source.FACILITY: "new_infections_facility",
    Source.DELIVERY: "new_infections_delivery",
}
_LOCAL = (Source.HOUSEHOLD, Source.COMMUNITY, Source.REGION, Source.FACILITY, Source.DELIVERY)


class Recorder:
    """Accumulates daily flows and end-of-day stocks per region during a run."""

    def __init__(self, days: int, n_regions: int):
        self.n_regions = n_regions
        self.flows = np.zeros((days, n_regions, len(FLOW_COLUMNS)), dtype=np.int64)
        self.stocks = np.zeros((days, n_regions, len(STATE_COLUMNS)), dtype=np.int64)
        self.other = np.zeros((days, n_regions, len(OTHER_STOCKS)), dtype=np.int64)
        self.tables: dict[str, list[dict[str, Any]]] = {}
        self._col = {name: k for k, name in enumerate(FLOW_COLUMNS)}

    def column(self, name: str | None) -> int:
        """Index of the flow column ``name`` (-1 for ``None``)."""
        return -1 if name is None else self._col[name]

    def infection_columns(self, source: int) -> tuple[int, ...]:
        """Flow columns that one infection from ``source`` (a ``Source`` code) adds to."""
        names = ["new_infections", _SOURCE_COLUMN[Source(source)]]
        if source in _LOCAL:
            names.append("new_infections_local")
        return tuple(self._col[n] for n in names)

    def count(self, day: int, column: str, region: np.ndarray) -> None:
        """Add one event per entry of ``region`` (home regions) to a flow column."""
        if region.size == 1:  # one event (the discrete-event engine)
            self.flows[day, int(region[0]), self._col[column]] += 1
        elif region.size:
            self.flows[day, :, self._col[column]] += np.bincount(region, minlength=self.n_regions)

    def infections(self, day: int, region: np.ndarray, source: np.ndarray | int) -> None:
        """Record infections of agents with home ``region`` and ``Source`` code(s) ``source``."""
        if region.size == 0:
            return
        if np.ndim(source) == 0:  # one source for all: no masks needed
            counts = np.bincount(region, minlength=self.n_regions)
            for column in self.infection_columns(int(source)):
                self.flows[day, :, column] += counts
            return
        source = np.asarray(source)
        self.count(day, "new_infections", region)
        for code, column in _SOURCE_COLUMN.items():
            self.count(day, column, region[source == code])
        self.count(day, "new_infections_local", region[np.isin(source, _LOCAL)])

    def record(self, table: str, day: int, **row: Any) -> None:
        """Add a row (e.g. one checkpoint on one day) to the named table."""
        self.tables.setdefault(table, []).append({"day": day, **row})

    def table_frames(self, scenario: Scenario) -> dict[str, pd.DataFrame]:
        """The named tables as DataFrames with dates."""
        out = {}
        for name, rows in self.tables.items():
            df = pd.DataFrame(rows)
            df.insert(1, "date", _dates(scenario, df["day"]))
            out[name] = df
        return out

    def frames(self, scenario: Scenario) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The city-wide and per-region daily tables."""
        days = self.flows.shape[0]
        regions = scenario.region_names
        day = np.repeat(np.arange(days), self.n_regions)
        by_region = pd.DataFrame({"day": day, "region": np.tile(regions, days)})
        for k, name in enumerate(STATE_COLUMNS):
            by_region[name] = self.stocks[:, :, k].ravel()
        for k, name in enumerate(OTHER_STOCKS):
            by_region[name] = self.other[:, :, k].ravel()
        for k, name in enumerate(FLOW_COLUMNS):
            by_region[name] = self.flows[:, :, k].ravel()
        total = by_region.drop(columns="region").groupby("day", sort=True).sum().reset_index()
        return _finish(total, scenario), _finish(by_region, scenario, ["region"])


def _finish(df: pd.DataFrame, scenario: Scenario, keys: list[str] | None = None) -> pd.DataFrame:
    """Add dates, derived stocks and cumulative columns; order the columns."""
    keys = keys or []
    df["n_infectious"] = df["n_presymptomatic"] + df["n_asymptomatic"] + df["n_symptomatic"]
    df["n_infected"] = df["n_exposed"] + df["n_infectious"]
    grouped = df.groupby(keys, sort=False) if keys else df
    df["cum_infections"] = grouped["new_infections"].cumsum()
    df["cum_deaths"] = grouped["new_deaths"].cumsum()
    df["date"] = _dates(scenario, df["day"])
    front = ["day", "date", *keys]
    return df[front + [c for c in df.columns if c not in front]]


def write_files(
    directory: str | Path,
    frames: dict[str, pd.DataFrame],
    documents: dict[str, Any],
    parquet: tuple[str, ...] = (),
) -> Path:
    """Write tables (``<name>.csv``) and JSON documents as the whole content of ``directory``.

    Everything is written to a staging folder that then replaces ``directory`` in one step
    (:class:`~containment_sim.outputs.OutputFolder`), so a failure leaves the previous folder
    intact and no partial file behind, and no file of an earlier save stays beside the new
    ones. Tables named in ``parquet`` are also written as Parquet.

    Returns:
        The directory.

    Raises:
        containment_sim.errors.OutputError: ``directory`` holds files that are not results,
            or cannot be written.
    """
    folder = OutputFolder.prepare(directory, force=True)
    with folder as staging:
        write_tables(staging, frames, documents, parquet)
    return folder.target


def _dates(scenario: Scenario, day: pd.Series) -> pd.Series:
    start = pd.Timestamp(scenario.start_date)
    return (start + pd.to_timedelta(day, unit="D")).dt.strftime("%Y-%m-%d")


def case_reproduction(infections: pd.DataFrame, days: int) -> np.ndarray:
    """R_t by infection day: the mean number of people infected by those infected on day t.

    This is the case (cohort) reproduction number. Cohorts of the last weeks of a run have
    not finished infecting others, so their values are too low; days with no infections are
    ``nan``.
    """
    day = np.floor(infections["time"].to_numpy()).astype(np.int64).clip(0, days - 1)
    cohort = np.bincount(day, minlength=days).astype(float)
    by_id = pd.Series(day, index=infections["infectee"].to_numpy())
    infector = infections["infector"].to_numpy()
    local = infector >= 0
    offspring = np.bincount(by_id.loc[infector[local]].to_numpy(), minlength=days)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(cohort > 0, offspring / cohort, np.nan)


def clearance_day(ts: pd.DataFrame) -> int | None:
    """The clearance day (清零).

    It is the first day from which active confirmed cases, suspected cases and contacts under
    observation are all zero for the rest of the run; ``None`` if that never happens (or
    nobody was ever confirmed).
    """
    if ts["new_confirmed"].sum() == 0:
        return None
    load = (ts["n_confirmed_active"] + ts["n_suspected"] + ts["n_contacts_observed"]).to_numpy()
    busy = np.flatnonzero(load > 0)
    last = int(busy[-1]) if busy.size else -1
    return last + 1 if last + 1 < len(ts) else None


def summarize(
    scenario: Scenario,
    timeseries: pd.DataFrame,
    tables: dict[str, pd.DataFrame] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Summary outcomes of a run from its city-wide time series and named tables.

    ``peak_prevalence`` is the largest share of the population currently infected (E, P, A or
    I) at the end of any day, reached first on ``peak_day``. ``checkpoint_*`` sum the
    ``checkpoints`` table over days and checkpoints (0 without checkpoints).
    """
    ts = timeseries
    population = int(ts.loc[0, list(STATE_COLUMNS)].sum())
    infected = ts["n_infected"].to_numpy()
    peak_day = int(np.argmax(infected))
    local = ts["new_infections_local"].to_numpy()
    last_local = int(np.flatnonzero(local)[-1]) if local.any() else None
    total = int(ts["new_infections"].sum())
    tables = tables or {}
    return {
        "scenario_name": scenario.name,
        "strategy": scenario.strategy,
        "engine": scenario.engine,
        "seed": scenario.seed,
        "scale": scenario.population.scale,
        "dt": scenario.dt,
        "days": scenario.days,
        "start_date": scenario.start_date.isoformat(),
        "population": population,
        "total_infections": total,
        "imported_infections": int(ts["new_infections_imported"].sum()),
        "seeded_infections": int(ts["new_infections_seeded"].sum()),
        "local_infections": int(local.sum()),
        "exported_infections": int(ts["new_exported"].sum()),
        "attack_rate": total / population,
        "deaths": int(ts["new_deaths"].sum()),
        "peak_infected": int(infected[peak_day]),
        "peak_prevalence": float(infected[peak_day]) / population,
        "peak_day": peak_day,
        "peak_date": (scenario.start_date + timedelta(days=peak_day)).isoformat(),
        "last_local_infection_day": last_local,
        "returnees": int(ts["new_returnees"].sum()),
        "returnees_blocked": int(ts["new_returnees_blocked"].sum()),
        **_measure_summary(ts, tables, extra),
        "version": __version__,
    }


def _measure_summary(
    ts: pd.DataFrame, tables: dict[str, pd.DataFrame], extra: dict[str, Any] | None
) -> dict[str, Any]:
    """The summary keys about measures: checkpoints, cases, tracing, quarantine, clearance."""
    checkpoints = tables.get("checkpoints")

    def checked(column: str) -> int:
        return 0 if checkpoints is None else int(checkpoints[column].sum())

    confirmed = int(ts["new_confirmed"].sum())
    sites, hospitals = tables.get("sites"), tables.get("hospitals")
    hospital_overflow = 0 if hospitals is None else int(hospitals["overflow"].sum())

    return {
        "checkpoint_screened": checked("screened"),
        "checkpoint_detections": checked("detected"),
        "checkpoint_unchecked": checked("unchecked"),
        "checkpoint_registered": checked("registered"),
        "confirmed": confirmed,
        "deaths_confirmed": int((extra or {}).get("deaths_confirmed", 0)),
        "cfr_confirmed": (extra or {}).get("deaths_confirmed", 0) / confirmed
        if confirmed
        else None,
        "contacts_traced": int(ts["new_contacts_traced"].sum()),
        "quarantine_person_days": int(
            ts["n_home_quarantine"].sum() + ts["n_site_quarantine"].sum()
        ),
        "overflow_person_days": int(ts["n_site_overflow"].sum()) + hospital_overflow,
        "peak_site_occupancy": 0
        if sites is None
        else int(sites.groupby("day")["occupancy"].sum().max()),
        "clearance_day": clearance_day(ts),
        "contained": bool(ts["n_infected"].iloc[-1] == 0),
    }


@dataclass
class Result:
    """The outcome of one run: daily tables, a summary, and the scenario that produced it.

    Attributes:
        scenario: The scenario run (with the seed used).
        timeseries: City-wide daily table (see the module docstring for the row convention).
        by_region: The same per home region, one row per (day, region).
        summary: Summary outcomes (``summarize``) plus the package version.
        tables: Named per-day tables, e.g. ``roads`` (flow per road) and ``checkpoints``
            (travellers, screened, detected, registered, unchecked per checkpoint).
        infections: One row per infection (``infectee``, ``infector``, ``time``, ``source``,
            ``region``), or ``None`` when loaded from disk.
    """

    scenario: Scenario
    timeseries: pd.DataFrame
    by_region: pd.DataFrame
    summary: dict[str, Any]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    infections: pd.DataFrame | None = None

    def save(self, directory: str | Path, force: bool = True) -> Path:
        """Write the tables, one CSV per named table, and ``summary.json``.

        The files are ``timeseries.csv``, ``timeseries_by_region.csv``, ``<name>.csv`` for
        each named table and ``summary.json``, which embeds the scenario so the run can be
        reproduced. They replace the folder's content as a whole (see :func:`write_files`).

        Args:
            directory: The folder.
            force: Replace a folder that holds results (with ``False``, refuse it).

        Returns:
            The output directory.
        """
        folder = OutputFolder.prepare(directory, force=force)
        with folder as staging:
            self.write(staging)
        return folder.target

    def write(self, folder: str | Path) -> Path:
        """Write the files of :meth:`save` into ``folder`` in place (e.g. a staging folder)."""
        frames = {"timeseries": self.timeseries, "timeseries_by_region": self.by_region,
                  **self.tables}  # fmt: skip
        payload = {
            **self.summary,
            "tables": sorted(self.tables),
            "rows": {name: len(frame) for name, frame in frames.items()},
            "scenario": self.scenario.model_dump(mode="json", by_alias=True),
        }
        return write_tables(folder, frames, {"summary.json": payload})

    @classmethod
    def load(cls, directory: str | Path) -> Result:
        """Read a result written by :meth:`save`, checking that it is complete.

        Raises:
            containment_sim.errors.ResultFolderError: A file is missing, unreadable or has
                another number of rows than ``summary.json`` records.
        """
        src = Path(directory)
        payload = read_document(src, "summary.json")
        try:
            scenario = Scenario.model_validate(payload.pop("scenario"))
            names = [str(n) for n in payload.pop("tables", [])]
        except (KeyError, TypeError, ValidationError):
            raise ResultFolderError(
                f"{src / 'summary.json'}: lacks a valid scenario or table list"
            ) from None
        days, regions = scenario.days, len(scenario.population.regions)
        rows: dict[str, int | None] = {
            "timeseries": days, "timeseries_by_region": days * regions, **dict.fromkeys(names)
        }  # fmt: skip
        rows.update(payload.pop("rows", None) or {})
        tables = read_tables(src, rows, _COLUMNS)
        ts, by_region = tables.pop("timeseries"), tables.pop("timeseries_by_region")
        return cls(scenario, ts, by_region, payload, tables)


_COLUMNS = {
    "timeseries": ["day", "date", *STATE_COLUMNS, "new_infections_local",
                   "new_infections_imported", "new_infections_seeded", "cum_deaths"],
    "timeseries_by_region": ["day", "region"],
}  # fmt: skip
"""Columns a saved run must have for its chart."""
