"""What a run produces: the daily recorder, the ``Result`` type, its summary, save and load.

Time series are daily. Row ``day = d`` holds the stocks (``n_*``) at the end of day d (time
``d``) and the flows (``new_*``) during day d, i.e. over ``[d - 1, d)``; row 0 holds the stocks
at the start and the infections seeded at time 0. ``cum_*`` columns accumulate the flows.
Per-region series attribute everything to the agents' home region.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from containment_sim._version import __version__
from containment_sim.scenario import Scenario
from containment_sim.world import STATE_COLUMNS, Source

__all__ = ["FLOW_COLUMNS", "Recorder", "Result", "summarize"]

FLOW_COLUMNS: tuple[str, ...] = (
    "new_infections", "new_infections_local", "new_infections_imported", "new_infections_seeded",
    "new_infections_household", "new_infections_community", "new_infections_region",
    "new_symptomatic", "new_recoveries", "new_deaths", "new_returnees",
)  # fmt: skip
"""Daily flow columns, in order."""

_SOURCE_COLUMN = {
    Source.HOUSEHOLD: "new_infections_household",
    Source.COMMUNITY: "new_infections_community",
    Source.REGION: "new_infections_region",
    Source.IMPORTED: "new_infections_imported",
    Source.SEED: "new_infections_seeded",
}
_LOCAL = (Source.HOUSEHOLD, Source.COMMUNITY, Source.REGION)


class Recorder:
    """Accumulates daily flows and end-of-day stocks per region during a run."""

    def __init__(self, days: int, n_regions: int):
        self.n_regions = n_regions
        self.flows = np.zeros((days + 1, n_regions, len(FLOW_COLUMNS)), dtype=np.int64)
        self.stocks = np.zeros((days + 1, n_regions, len(STATE_COLUMNS)), dtype=np.int64)
        self.away = np.zeros((days + 1, n_regions), dtype=np.int64)
        self.travellers = np.zeros((days + 1, n_regions), dtype=np.int64)
        self._col = {name: k for k, name in enumerate(FLOW_COLUMNS)}

    def count(self, day: int, column: str, region: np.ndarray) -> None:
        """Add one event per entry of ``region`` (home regions) to a flow column."""
        if region.size:
            self.flows[day, :, self._col[column]] += np.bincount(region, minlength=self.n_regions)

    def infections(self, day: int, region: np.ndarray, source: np.ndarray | int) -> None:
        """Record infections of agents with home ``region`` and ``Source`` code(s) ``source``."""
        if region.size == 0:
            return
        source = np.broadcast_to(np.asarray(source), region.shape)
        self.count(day, "new_infections", region)
        for code, column in _SOURCE_COLUMN.items():
            self.count(day, column, region[source == code])
        self.count(day, "new_infections_local", region[np.isin(source, _LOCAL)])

    def frames(self, scenario: Scenario) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The city-wide and per-region daily tables."""
        days = self.flows.shape[0]
        regions = scenario.region_names
        day = np.repeat(np.arange(days), self.n_regions)
        by_region = pd.DataFrame({"day": day, "region": np.tile(regions, days)})
        for k, name in enumerate(STATE_COLUMNS):
            by_region[name] = self.stocks[:, :, k].ravel()
        by_region["n_away"] = self.away.ravel()
        by_region["n_travellers"] = self.travellers.ravel()
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
    start = pd.Timestamp(scenario.start_date)
    df["date"] = (start + pd.to_timedelta(df["day"], unit="D")).dt.strftime("%Y-%m-%d")
    front = ["day", "date", *keys]
    return df[front + [c for c in df.columns if c not in front]]


def summarize(scenario: Scenario, timeseries: pd.DataFrame) -> dict[str, Any]:
    """Summary outcomes of a run from its city-wide time series.

    ``peak_prevalence`` is the largest share of the population currently infected (E, P, A or
    I) at the end of any day, reached first on ``peak_day``.
    """
    ts = timeseries
    population = int(ts.loc[0, list(STATE_COLUMNS)].sum())
    infected = ts["n_infected"].to_numpy()
    peak_day = int(np.argmax(infected))
    local = ts["new_infections_local"].to_numpy()
    last_local = int(np.flatnonzero(local)[-1]) if local.any() else None
    total = int(ts["new_infections"].sum())
    return {
        "scenario_name": scenario.name,
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
        "attack_rate": total / population,
        "deaths": int(ts["new_deaths"].sum()),
        "peak_infected": int(infected[peak_day]),
        "peak_prevalence": float(infected[peak_day]) / population,
        "peak_day": peak_day,
        "peak_date": (scenario.start_date + timedelta(days=peak_day)).isoformat(),
        "last_local_infection_day": last_local,
        "returnees": int(ts["new_returnees"].sum()),
        "version": __version__,
    }


@dataclass
class Result:
    """The outcome of one run: daily tables, a summary, and the scenario that produced it.

    Attributes:
        scenario: The scenario run (with the seed used).
        timeseries: City-wide daily table (see the module docstring for the row convention).
        by_region: The same per home region, one row per (day, region).
        summary: Summary outcomes (``summarize``) plus the package version.
        infections: One row per infection (``infectee``, ``infector``, ``time``, ``source``,
            ``region``), or ``None`` when loaded from disk.
    """

    scenario: Scenario
    timeseries: pd.DataFrame
    by_region: pd.DataFrame
    summary: dict[str, Any]
    infections: pd.DataFrame | None = None

    def save(self, directory: str | Path) -> Path:
        """Write ``timeseries.csv``, ``timeseries_by_region.csv`` and ``summary.json``.

        Files are written to a temporary folder beside ``directory`` and moved into place
        only when complete, so a failed save leaves no half-written file. ``summary.json``
        embeds the scenario, so the run can be reproduced from it.

        Returns:
            The output directory.
        """
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        payload = {**self.summary, "scenario": self.scenario.model_dump(mode="json", by_alias=True)}
        with tempfile.TemporaryDirectory(dir=out, prefix=".saving-") as tmp:
            staged = Path(tmp)
            self.timeseries.to_csv(staged / "timeseries.csv", index=False)
            self.by_region.to_csv(staged / "timeseries_by_region.csv", index=False)
            (staged / "summary.json").write_text(
                json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
            )
            for item in staged.iterdir():
                os.replace(item, out / item.name)
        return out

    @classmethod
    def load(cls, directory: str | Path) -> Result:
        """Read a result written by :meth:`save`."""
        src = Path(directory)
        payload = json.loads((src / "summary.json").read_text(encoding="utf-8"))
        scenario = Scenario.model_validate(payload.pop("scenario"))
        ts = pd.read_csv(src / "timeseries.csv")
        by_region = pd.read_csv(src / "timeseries_by_region.csv")
        return cls(scenario, ts, by_region, payload)
