"""Summaries over replicates: means, medians, 95 % intervals, paired differences."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["SUMMARISED", "comparison_table", "describe", "paired_difference"]

SUMMARISED: tuple[str, ...] = (
    "total_infections", "confirmed", "deaths", "peak_prevalence", "peak_day", "clearance_day",
    "quarantine_person_days", "overflow_person_days",
)  # fmt: skip
"""Outcomes summarised per strategy in ``comparison.csv``."""


def describe(values: pd.Series) -> dict[str, float]:
    """Mean, standard error, median and 2.5 / 97.5 percentiles (missing values ignored)."""
    x = pd.to_numeric(values, errors="coerce").dropna().to_numpy(dtype=float)
    if x.size == 0:
        return {"mean": np.nan, "se": np.nan, "median": np.nan, "lo95": np.nan, "hi95": np.nan}
    se = x.std(ddof=1) / np.sqrt(x.size) if x.size > 1 else np.nan
    lo, med, hi = np.percentile(x, [2.5, 50, 97.5])
    return {"mean": x.mean(), "se": se, "median": med, "lo95": lo, "hi95": hi}


def paired_difference(
    replicates: pd.DataFrame, strategy: str, outcome: str, reference: str = "none"
) -> pd.Series:
    """``reference - strategy`` per replicate (positive: the strategy averts it)."""
    wide = replicates.pivot(index="replicate", columns="strategy", values=outcome)
    return (wide[reference] - wide[strategy]).astype(float)


def comparison_table(replicates: pd.DataFrame, strategies: list[str]) -> pd.DataFrame:
    """One row per strategy with the summaries of every outcome and the averted counts."""
    rows = []
    for strategy in strategies:
        mine = replicates[replicates["strategy"] == strategy]
        row: dict[str, object] = {"strategy": strategy, "replicates": len(mine)}
        for outcome in SUMMARISED:
            for stat, value in describe(mine[outcome]).items():
                row[f"{outcome}_{stat}"] = value
        row["clearance_share"] = float(mine["clearance_day"].notna().mean())
        row["probability_contained"] = float(mine["contained"].astype(float).mean())
        if "none" in strategies:
            for outcome, name in (
                ("total_infections", "infections_averted"),
                ("deaths", "deaths_averted"),
            ):
                for stat, value in describe(
                    paired_difference(replicates, strategy, outcome)
                ).items():
                    row[f"{name}_{stat}"] = value
        rows.append(row)
    return pd.DataFrame(rows)
