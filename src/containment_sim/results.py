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
from containment_sim.report import (
    Flow,
    Layout,
    Report,
    Series,
    Stock,
    Table,
    column,
)
from containment_sim.scenario import Scenario
from containment_sim.world import STATE_COLUMNS, Source

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

__all__ = ["CORE", "Recorder", "Result", "summarize", "write_files"]

CORE = Report(
    "engine",
    flows=(
        Flow("new_infections", "infections", "cum_infections"),
        Flow("new_infections_local", "infections in the city"),
        Flow("new_infections_imported", "returnees arriving infected"),
        Flow("new_infections_seeded", "infections seeded at the start"),
        Flow("new_infections_household", "infections in the household layer"),
        Flow("new_infections_community", "infections in the community layer"),
        Flow("new_infections_region", "infections in the region layer"),
        Flow("new_infections_facility", "infections at quarantine sites"),
        Flow("new_infections_delivery", "infections by purchasing agents' deliveries"),
        Flow("new_symptomatic", "symptom onsets"),
        Flow("new_recoveries", "recoveries"),
        Flow("new_deaths", "deaths", "cum_deaths"),
        Flow("new_returnees", "returnees arriving from the epicentre"),
        Flow("new_returnees_blocked", "returnees kept away by closed roads or checkpoints"),
        Flow("new_exported", "infectious residents leaving the city"),
        Flow("new_isolated", "people isolated"),
        Flow("new_quarantined", "people put in home quarantine"),
        Flow("n_travellers", "trips made"),
    ),
    stocks=(
        Stock("n_away", "residents away in the epicentre"),
        Stock("n_home_quarantine", "people in home quarantine"),
        Stock("n_site_quarantine", "people at a quarantine site"),
        Stock("n_isolated", "people isolated"),
    ),
)
"""The engine's own columns: infections by source, natural history, travel, people kept
apart. Measures and services add theirs (:class:`~containment_sim.report.Report`)."""

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
    """Accumulates daily flows and end-of-day stocks per region during a run.

    Args:
        days: Days of the run.
        n_regions: Regions of the city.
        layout: The run's columns (default: the engine's own, :data:`CORE`).
    """

    def __init__(self, days: int, n_regions: int, layout: Layout | None = None):
        self.layout = layout or Layout([CORE])
        self.n_regions = n_regions
        self.flows = np.zeros((days, n_regions, len(self.layout.flows)), dtype=np.int64)
        self.stocks = np.zeros((days, n_regions, len(STATE_COLUMNS)), dtype=np.int64)
        self.other = np.zeros((days, n_regions, len(self.layout.stocks)), dtype=np.int64)
        self.tables: dict[str, list[dict[str, Any]]] = {}
        self._col = {name: k for k, name in enumerate(self.layout.flows)}
        self._stock = {name: k for k, name in enumerate(self.layout.stocks)}

    def column(self, name: str | None) -> int:
        """Index of the flow column ``name`` (-1 for ``None``).

        Raises:
            KeyError: No report of the run declares the column.
        """
        if name is None:
            return -1
        if name not in self._col:
            raise KeyError(f"flow column {name!r} is not declared by any report of this run")
        return self._col[name]

    def set_stock(self, day: int, name: str, counts: np.ndarray) -> None:
        """Record the end-of-day stock ``name`` of ``day``, by region.

        Raises:
            KeyError: No report of the run declares the stock.
        """
        if name not in self._stock:
            raise KeyError(f"stock column {name!r} is not declared by any report of this run")
        self.other[day, :, self._stock[name]] = counts

    def infection_columns(self, source: int) -> tuple[int, ...]:
        """Flow columns that one infection from ``source`` (a ``Source`` code) adds to."""
        names = ["new_infections", _SOURCE_COLUMN[Source(source)]]
        if source in _LOCAL:
            names.append("new_infections_local")
        return tuple(self._col[n] for n in names)

    def count(self, day: int, column: str, region: np.ndarray) -> None:
        """Add one event per entry of ``region`` (home regions) to a flow column."""
        k = self.column(column)
        if region.size == 1:  # one event (the discrete-event engine)
            self.flows[day, int(region[0]), k] += 1
        elif region.size:
            self.flows[day, :, k] += np.bincount(region, minlength=self.n_regions)

    def infections(self, day: int, region: np.ndarray, source: np.ndarray | int) -> None:
        """Record infections of agents with home ``region`` and ``Source`` code(s) ``source``."""
        if region.size == 0:
            return
        if np.ndim(source) == 0:  # one source for all: no masks needed
            counts = np.bincount(region, minlength=self.n_regions)
            for k in self.infection_columns(int(source)):
                self.flows[day, :, k] += counts
            return
        source = np.asarray(source)
        self.count(day, "new_infections", region)
        for code, name in _SOURCE_COLUMN.items():
            self.count(day, name, region[source == code])
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

    def _arrays(self) -> tuple[tuple[tuple[str, ...], np.ndarray], ...]:
        """Column names and the array holding them: states, other stocks, flows."""
        layout = self.layout
        return ((STATE_COLUMNS, self.stocks), (layout.stocks, self.other),
                (layout.flows, self.flows))  # fmt: skip

    def city(self) -> dict[str, np.ndarray]:
        """City-wide daily series (regions summed), derived stocks and cumulative counts."""
        out: dict[str, np.ndarray] = {}
        for names, array in self._arrays():
            total = array.sum(axis=1)
            for k, name in enumerate(names):
                out[name] = total[:, k]
        _derive(out, np.cumsum, self.layout.cumulative)
        return out

    def frames(self, scenario: Scenario) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The city-wide and per-region daily tables."""
        import pandas as pd

        days = self.flows.shape[0]
        regions = scenario.region_names
        day = np.repeat(np.arange(days), self.n_regions)
        by_region = pd.DataFrame({"day": day, "region": np.tile(regions, days)})
        for names, array in self._arrays():
            for k, name in enumerate(names):
                by_region[name] = array[:, :, k].ravel()
        total = by_region.drop(columns="region").groupby("day", sort=True).sum().reset_index()
        cumulative = self.layout.cumulative
        return (
            _finish(total, scenario, cumulative),
            _finish(by_region, scenario, cumulative, ["region"]),
        )


def _derive(columns: Any, cumsum: Callable[[Any], Any], cumulative: Mapping[str, str]) -> None:
    """Add the derived stocks and the cumulative counts to a table or a dict of series."""
    columns["n_infectious"] = (
        columns["n_presymptomatic"] + columns["n_asymptomatic"] + columns["n_symptomatic"]
    )
    columns["n_infected"] = columns["n_exposed"] + columns["n_infectious"] + columns["n_ill"]
    for flow, total in cumulative.items():
        columns[total] = cumsum(columns[flow])


def _finish(
    df: pd.DataFrame,
    scenario: Scenario,
    cumulative: Mapping[str, str],
    keys: list[str] | None = None,
) -> pd.DataFrame:
    """Add dates, derived stocks and cumulative columns; order the columns."""
    keys = keys or []
    grouped = df.groupby(keys, sort=False) if keys else None
    _derive(df, lambda s: s.cumsum() if grouped is None else grouped[s.name].cumsum(), cumulative)
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


def clearance_day(ts: Series) -> int | None:
    """The clearance day (清零).

    It is the first day from which active confirmed cases, suspected cases and contacts under
    observation are all zero for the rest of the run; ``None`` if that never happens (or
    nobody was ever confirmed, or the run has no case book's columns).
    """
    if "new_confirmed" not in ts or column(ts, "new_confirmed").sum() == 0:
        return None
    load = (
        column(ts, "n_confirmed_active")
        + column(ts, "n_suspected")
        + column(ts, "n_contacts_observed")
    )
    busy = np.flatnonzero(load > 0)
    last = int(busy[-1]) if busy.size else -1
    return last + 1 if last + 1 < len(load) else None


def summarize(
    scenario: Scenario,
    timeseries: Series,
    tables: Mapping[str, Table] | None = None,
    final: Mapping[str, Any] | None = None,
    layout: Layout | None = None,
) -> dict[str, Any]:
    """Summary outcomes of a run from its city-wide time series and named tables.

    The keys are the run's own (population, infections, deaths, peak, ...), then those each
    report of ``layout`` declares, in order, then the outcomes of containment (quarantine and
    overflow person-days, the clearance day, whether the outbreak was contained).
    ``peak_prevalence`` is the largest share of the population currently infected (E, P, A, I
    or C: an infection whose course is not over) at the end of any day, reached first on
    ``peak_day``.

    Args:
        scenario: The scenario run.
        timeseries: City-wide daily series.
        tables: Named tables (the recorder's rows or DataFrames).
        final: Values the run's parts know only at its end (e.g. ``deaths_confirmed``).
        layout: The run's reports (default: the engine's own).
    """
    tables, final = tables or {}, final or {}
    declared = {
        key.name: key.value(timeseries, tables, final) for key in (layout or Layout([CORE])).summary
    }
    return {
        **_run_summary(scenario, timeseries),
        **declared,
        "quarantine_person_days": _person_days(timeseries, QUARANTINE_STOCKS),
        "overflow_person_days": _person_days(timeseries, OVERFLOW_STOCKS),
        "clearance_day": clearance_day(timeseries),
        "contained": bool(column(timeseries, "n_infected")[-1] == 0),
        "version": __version__,
    }


def _run_summary(scenario: Scenario, timeseries: Series) -> dict[str, Any]:
    """The run's own summary keys: what was run, infections, deaths, peak, returnees."""

    def total(name: str) -> int:
        return int(column(timeseries, name).sum())

    population = int(sum(column(timeseries, c)[0] for c in STATE_COLUMNS))
    infected = column(timeseries, "n_infected")
    peak_day = int(np.argmax(infected))
    local = column(timeseries, "new_infections_local")
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
    }


QUARANTINE_STOCKS = ("n_home_quarantine", "n_site_quarantine")
"""The stocks whose person-days are ``quarantine_person_days``."""

OVERFLOW_STOCKS = ("n_site_overflow", "n_waiting_bed")
"""The stocks whose person-days are ``overflow_person_days``: contacts at home because the
quarantine sites were full, cases at home waiting for a hospital bed."""


def _person_days(ts: Series, stocks: tuple[str, ...]) -> int:
    """Person-days in the given stocks (those the run reports) over the run."""
    return sum(int(column(ts, name).sum()) for name in stocks if name in ts)


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
        return self._frame("timeseries")

    @property
    def by_region(self) -> pd.DataFrame:
        """Daily table per home region."""
        return self._frame("by_region")

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """Named per-day tables."""
        tables: dict[str, pd.DataFrame] = self._frame("tables")
        return tables

    @property
    def infections(self) -> pd.DataFrame | None:
        """Who infected whom, when, in which layer (``None`` when loaded from disk)."""
        return self._frame("infections")

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
