"""What a run produces: the daily recorder, the ``Result`` type, its summary, save and load.

A run records plain numpy arrays; pandas tables are made from them when first asked for
(``result.timeseries``, ``result.tables``, ...), so a run that only needs its summary never
imports pandas. Time series are daily. Row ``day = d`` (dated ``start_date + d``) holds the
flows (``new_*``) during that day, i.e. over ``[d, d + 1)``, and the stocks (``n_*``) at its
end (time ``d + 1``); infections seeded at time 0 count in row 0. ``cum_*`` columns accumulate
the flows.
Per-region series attribute everything to the agents' home region. Named tables (per road,
per checkpoint, ...) hold one row per day and item.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import ValidationError

from containment_sim._version import __version__
from containment_sim.errors import ResultFolderError
from containment_sim.outputs import (
    OutputFolder,
    check_format,
    read_document,
    read_tables,
    write_tables,
)
from containment_sim.provenance import run_settings
from containment_sim.scenario import Scenario
from containment_sim.world import STATE_COLUMNS, Source

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

__all__ = ["FLOW_COLUMNS", "Recorder", "Result", "summarize", "write_files"]

FLOW_COLUMNS: tuple[str, ...] = (
    "new_infections", "new_infections_local", "new_infections_imported", "new_infections_seeded",
    "new_infections_household", "new_infections_community", "new_infections_region",
    "new_infections_facility", "new_infections_delivery",
    "new_symptomatic", "new_recoveries", "new_deaths", "new_returnees", "new_returnees_blocked",
    "new_exported", "new_isolated", "new_quarantined", "n_travellers",
    "new_tests", "new_confirmed", "new_confirmed_lab", "new_confirmed_clinical",
    "new_contacts_traced", "new_site_admissions",
    "new_waiting_bed", "new_infections_waiting", "new_deaths_waiting",
)  # fmt: skip
"""Daily flow columns, in order (``n_travellers``: trips made that day)."""

OTHER_STOCKS: tuple[str, ...] = (
    "n_away", "n_home_quarantine", "n_site_quarantine", "n_isolated",
    "n_suspected", "n_confirmed_active", "n_contacts_observed", "n_site_overflow",
    "n_waiting_bed",
)  # fmt: skip
"""End-of-day stocks besides the disease states: away in the epicentre; in home quarantine,
at a quarantine site, isolated; suspected cases awaiting a result; confirmed cases still
isolated; traced contacts under observation; contacts at home because the sites were full;
cases isolated at home waiting for a hospital bed."""

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
        import pandas as pd

        out = {}
        for name, rows in self.tables.items():
            df = pd.DataFrame(rows)
            df.insert(1, "date", _dates(scenario, df["day"]))
            out[name] = df
        return out

    def city(self) -> dict[str, np.ndarray]:
        """City-wide daily series (regions summed), derived stocks and cumulative counts."""
        out: dict[str, np.ndarray] = {}
        for names, array in ((STATE_COLUMNS, self.stocks), (OTHER_STOCKS, self.other),
                             (FLOW_COLUMNS, self.flows)):  # fmt: skip
            total = array.sum(axis=1)
            for k, name in enumerate(names):
                out[name] = total[:, k]
        _derive(out, np.cumsum)
        return out

    def frames(self, scenario: Scenario) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The city-wide and per-region daily tables."""
        import pandas as pd

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


def _derive(columns: Any, cumsum: Callable[[Any], Any]) -> None:
    """Add the derived stocks and the cumulative counts to a table or a dict of series."""
    columns["n_infectious"] = (
        columns["n_presymptomatic"] + columns["n_asymptomatic"] + columns["n_symptomatic"]
    )
    columns["n_infected"] = columns["n_exposed"] + columns["n_infectious"] + columns["n_ill"]
    for flow, total in CUMULATIVE.items():
        columns[total] = cumsum(columns[flow])


CUMULATIVE = {"new_infections": "cum_infections", "new_deaths": "cum_deaths",
              "new_confirmed": "cum_confirmed", "new_confirmed_lab": "cum_confirmed_lab",
              "new_contacts_traced": "cum_contacts_traced"}  # fmt: skip
"""Cumulative columns and the daily flow each adds up."""


def _finish(df: pd.DataFrame, scenario: Scenario, keys: list[str] | None = None) -> pd.DataFrame:
    """Add dates, derived stocks and cumulative columns; order the columns."""
    keys = keys or []
    grouped = df.groupby(keys, sort=False) if keys else None
    _derive(df, lambda s: s.cumsum() if grouped is None else grouped[s.name].cumsum())
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
    import pandas as pd

    start = pd.Timestamp(scenario.start_date)
    return (start + pd.to_timedelta(day, unit="D")).astype("datetime64[s]")


def _parse_dates(column: pd.Series, folder: Path) -> pd.Series:
    import pandas as pd

    try:
        return pd.to_datetime(column, format="%Y-%m-%d").astype("datetime64[s]")
    except (ValueError, TypeError):
        raise ResultFolderError(
            f"{folder}: a date column holds a value that is not a date"
        ) from None


def case_reproduction(time: np.ndarray, infector_time: np.ndarray, days: int) -> np.ndarray:
    """R_t by infection day: the mean number of people infected by those infected on day t.

    This is the case (cohort) reproduction number. Cohorts of the last weeks of a run have
    not finished infecting others, so their values are too low; days with no infections are
    ``nan``.

    Args:
        time: Infection time of everyone infected (each once).
        infector_time: Infection time of each one's infector (``nan``: infected from outside).
        days: Days of the run.
    """
    day = np.floor(time).astype(np.int64).clip(0, days - 1)
    cohort = np.bincount(day, minlength=days).astype(float)
    local = infector_time[np.isfinite(infector_time)]
    offspring = np.bincount(np.floor(local).astype(np.int64).clip(0, days - 1), minlength=days)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(cohort > 0, offspring / cohort, np.nan)


Series = Mapping[str, Any]
"""Daily city-wide series by column name: a ``DataFrame`` or a dict of numpy arrays."""

Table = Any
"""A named table: a ``DataFrame`` or the recorder's list of row dicts."""


def _column(series: Series, name: str) -> np.ndarray:
    return np.asarray(series[name])


def _table_column(table: Table, name: str) -> np.ndarray:
    if isinstance(table, list):
        return np.array([row[name] for row in table])
    return np.asarray(table[name])


def clearance_day(ts: Series) -> int | None:
    """The clearance day (清零).

    It is the first day from which active confirmed cases, suspected cases and contacts under
    observation are all zero for the rest of the run; ``None`` if that never happens (or
    nobody was ever confirmed).
    """
    if _column(ts, "new_confirmed").sum() == 0:
        return None
    load = sum(_column(ts, c) for c in ("n_confirmed_active", "n_suspected", "n_contacts_observed"))
    busy = np.flatnonzero(load > 0)
    last = int(busy[-1]) if busy.size else -1
    return last + 1 if last + 1 < len(load) else None


def summarize(
    scenario: Scenario,
    timeseries: Series,
    tables: Mapping[str, Table] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Summary outcomes of a run from its city-wide time series and named tables.

    ``peak_prevalence`` is the largest share of the population currently infected (E, P, A, I
    or C: an infection whose course is not over) at the end of any day, reached first on
    ``peak_day``. ``checkpoint_*`` sum the ``checkpoints`` table over days and checkpoints (0
    without checkpoints).
    """

    def total(name: str) -> int:
        return int(_column(timeseries, name).sum())

    population = int(sum(_column(timeseries, c)[0] for c in STATE_COLUMNS))
    infected = _column(timeseries, "n_infected")
    peak_day = int(np.argmax(infected))
    local = _column(timeseries, "new_infections_local")
    last_local = int(np.flatnonzero(local)[-1]) if local.any() else None
    infections = total("new_infections")
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
        "total_infections": infections,
        "imported_infections": total("new_infections_imported"),
        "seeded_infections": total("new_infections_seeded"),
        "local_infections": int(local.sum()),
        "exported_infections": total("new_exported"),
        "attack_rate": infections / population,
        "deaths": total("new_deaths"),
        "peak_infected": int(infected[peak_day]),
        "peak_prevalence": float(infected[peak_day]) / population,
        "peak_day": peak_day,
        "peak_date": (scenario.start_date + timedelta(days=peak_day)).isoformat(),
        "last_local_infection_day": last_local,
        "returnees": total("new_returnees"),
        "returnees_blocked": total("new_returnees_blocked"),
        **_measure_summary(timeseries, tables or {}, extra or {}),
        "version": __version__,
    }


def _measure_summary(
    ts: Series, tables: Mapping[str, Table], extra: dict[str, Any]
) -> dict[str, Any]:
    """The summary keys about measures: checkpoints, cases, tracing, quarantine, clearance."""

    def table_sum(table: str, column: str) -> int:
        return int(_table_column(tables[table], column).sum()) if table in tables else 0

    daily = _column(ts, "new_confirmed")
    confirmed = int(daily.sum())
    deaths_confirmed = int(extra.get("deaths_confirmed", 0))
    peak = int(np.argmax(daily)) if confirmed else None
    last = int(np.flatnonzero(daily)[-1]) if confirmed else None
    quarantine = _column(ts, "n_home_quarantine").sum() + _column(ts, "n_site_quarantine").sum()
    peak_site = 0
    if "sites" in tables:
        day = _table_column(tables["sites"], "day")
        occupancy = np.bincount(day, weights=_table_column(tables["sites"], "occupancy"))
        peak_site = int(occupancy.max()) if occupancy.size else 0
    return {
        "checkpoint_screened": table_sum("checkpoints", "screened"),
        "checkpoint_detections": table_sum("checkpoints", "detected"),
        "checkpoint_unchecked": table_sum("checkpoints", "unchecked"),
        "checkpoint_registered": table_sum("checkpoints", "registered"),
        "confirmed": confirmed,
        "confirmed_lab": int(_column(ts, "new_confirmed_lab").sum()),
        "confirmed_clinical": int(_column(ts, "new_confirmed_clinical").sum()),
        "peak_confirmed_day": peak,
        "last_confirmed_day": last,
        "deaths_confirmed": deaths_confirmed,
        "cfr_confirmed": deaths_confirmed / confirmed if confirmed else None,
        "contacts_traced": int(_column(ts, "new_contacts_traced").sum()),
        "quarantine_person_days": int(quarantine),
        "overflow_person_days": int(_column(ts, "n_site_overflow").sum())
        + int(_column(ts, "n_waiting_bed").sum()),
        "peak_site_occupancy": peak_site,
        "clearance_day": clearance_day(ts),
        "contained": bool(_column(ts, "n_infected")[-1] == 0),
    }


class Result:
    """The outcome of one run: daily tables, a summary, and the scenario that produced it.

    The tables are pandas DataFrames, made when first used: a run whose summary is all one
    needs never builds them.

    Attributes:
        scenario: The scenario run (with the seed used).
        summary: Summary outcomes (``summarize``) plus the package version.
        timeseries: City-wide daily table (see the module docstring for the row convention).
        by_region: The same per home region, one row per (day, region).
        tables: Named per-day tables, e.g. ``roads`` (flow per road) and ``checkpoints``
            (travellers, screened, detected, registered, unchecked per checkpoint).
        infections: One row per infection (``infectee``, ``infector``, ``time``, ``source``,
            ``region``), or ``None`` when loaded from disk.
        provenance: Versions and git commit recorded with a saved result (``None`` for a
            fresh run; :meth:`save` records the current ones, see
            :func:`containment_sim.provenance.provenance`).
    """

    def __init__(
        self,
        scenario: Scenario,
        timeseries: pd.DataFrame | None,
        by_region: pd.DataFrame | None,
        summary: dict[str, Any],
        tables: dict[str, pd.DataFrame] | None = None,
        infections: pd.DataFrame | None = None,
        *,
        build: Callable[[], dict[str, Any]] | None = None,
    ):
        self.scenario = scenario
        self.summary = summary
        self._frames: dict[str, Any] = {
            "timeseries": timeseries,
            "by_region": by_region,
            "tables": tables if tables is not None else ({} if build is None else None),
            "infections": infections,
        }
        self._build = build
        self.provenance: dict[str, Any] | None = None

    def __repr__(self) -> str:
        from containment_sim.display import result_repr

        return result_repr(self.summary)

    def _repr_html_(self) -> str:
        from containment_sim.display import result_html

        return result_html(self.summary)

    def _frame(self, name: str) -> Any:
        if self._frames[name] is None and self._build is not None:
            self._frames.update(self._build())
            self._build = None
        return self._frames[name]

    @property
    def timeseries(self) -> pd.DataFrame:
        """City-wide daily table."""
        return self._frame("timeseries")  # type: ignore[no-any-return]

    @property
    def by_region(self) -> pd.DataFrame:
        """Daily table per home region."""
        return self._frame("by_region")  # type: ignore[no-any-return]

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """Named per-day tables."""
        return self._frame("tables")  # type: ignore[no-any-return]

    @property
    def infections(self) -> pd.DataFrame | None:
        """Who infected whom, when, in which layer (``None`` when loaded from disk)."""
        return self._frame("infections")  # type: ignore[no-any-return]

    def plot(self, path: str | Path | None = None) -> Figure:
        """Draw the run's chart: new infections by source, people infected by stage, deaths.

        Imports matplotlib (and the charts) on first use; nothing is shown and no global
        matplotlib setting changes (see :func:`containment_sim.plots.plot_epidemic_curve`).

        Args:
            path: If given, also save the chart there as PNG, SVG and PDF (``out/curve``
                gives ``out/curve.png``, ``.svg`` and ``.pdf``; the folder must exist).

        Returns:
            The matplotlib figure.
        """
        from containment_sim.plots import plot_epidemic_curve, save_figure

        fig = plot_epidemic_curve(self)
        if path is not None:
            save_figure(fig, path)
        return fig

    def save(self, directory: str | Path, force: bool = True, format: str = "csv") -> Path:
        """Write the tables, one file per named table, and ``summary.json``.

        The files are ``timeseries.csv``, ``timeseries_by_region.csv``, ``<name>.csv`` for
        each named table (``.parquet`` instead with ``format="parquet"``) and
        ``summary.json``, which embeds the scenario, seed, scale, versions and git commit so
        the run can be reproduced (:func:`containment_sim.reproduce`). They replace the
        folder's content as a whole (see :func:`write_files`).

        Args:
            directory: The folder.
            force: Replace a folder that holds results (with ``False``, refuse it).
            format: ``csv`` or ``parquet`` (needs the ``parquet`` extra).

        Returns:
            The output directory.
        """
        check_format(format)
        folder = OutputFolder.prepare(directory, force=force)
        with folder as staging:
            self.write(staging, format)
        return folder.target

    def write(self, folder: str | Path, format: str = "csv") -> Path:
        """Write the files of :meth:`save` into ``folder`` in place (e.g. a staging folder)."""
        frames = {"timeseries": self.timeseries, "timeseries_by_region": self.by_region,
                  **self.tables}  # fmt: skip
        payload = {
            **self.summary,
            "tables": sorted(self.tables),
            "rows": {name: len(frame) for name, frame in frames.items()},
            "format": format,
            **run_settings(self.scenario, replicates=1),
        }
        if self.provenance is not None:
            payload["provenance"] = self.provenance
        return write_tables(folder, frames, {"summary.json": payload}, format=format)

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
        for frame in tables.values():
            if "date" in frame.columns:  # ISO dates in CSV files; datetime64 in Parquet
                frame["date"] = _parse_dates(frame["date"], src)
        ts, by_region = tables.pop("timeseries"), tables.pop("timeseries_by_region")
        provenance = payload.pop("provenance", None)
        payload.pop("replicates", None)
        payload.pop("format", None)
        result = cls(scenario, ts, by_region, payload, tables)
        result.provenance = provenance if isinstance(provenance, dict) else None
        return result


_COLUMNS = {
    "timeseries": ["day", "date", *STATE_COLUMNS, "new_infections_local",
                   "new_infections_imported", "new_infections_seeded", "cum_deaths"],
    "timeseries_by_region": ["day", "region"],
}  # fmt: skip
"""Columns a saved run must have for its chart."""
