"""Validate the Xianning calibration at full scale and write the page that reports it.

Reads a calibration folder written by::

    containment-sim calibrate xianning --workers 2 --out results/xianning-calibration

runs the ``combined`` strategy of the built-in scenario at full scale, replicate r with the
parameters drawn from the posterior for its seed, checks the model against Xianning's reported
figures, runs the four strategies with posterior draws for the infections each averts, and
writes ``docs/xianning-calibration.md`` with the figures in ``docs/images/``. Every number on
that page comes from this script.

Usage::

    python docs/scripts/xianning_calibration.py results/xianning-calibration \
        --replicates 20 --counterfactual-replicates 20 --workers 2
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import containment_sim as cs
from containment_sim.calibration import dataset_path
from containment_sim.calibration.model import scenario_with
from containment_sim.posterior import Posterior
from containment_sim.runner import run_jobs

DOCS = Path(__file__).resolve().parents[1]
REPORTED_LAB = {"2020-01-30": 166, "2020-02-02": 296, "2020-02-05": 399, "2020-02-13": 534}
FINAL, DEATHS = 836, 15
PEAK_WINDOW = ("2020-01-30", "2020-02-07")
QUIET_AFTER = "2020-03-01"
CONTACTS_PER_CASE = (12.0, 24.0)


def _run(job: tuple[dict[str, Any], dict[str, float], int]) -> dict[str, Any]:
    """One full-scale run of ``combined`` with posterior values (in a worker process)."""
    data, values, seed = job
    result = cs.run(scenario_with(data, values, seed))
    ts = result.timeseries.set_index("date")
    s = result.summary
    daily, lab = ts["new_confirmed"], ts["new_confirmed_lab"]
    return {
        "seed": seed,
        **{f"lab_{d}": int(ts.at[d, "cum_confirmed_lab"]) for d in REPORTED_LAB},
        "confirmed": s["confirmed"],
        "confirmed_lab": s["confirmed_lab"],
        "deaths_confirmed": s["deaths_confirmed"],
        "deaths": s["deaths"],
        "contacts_traced": s["contacts_traced"],
        "peak_date": str(lab.idxmax()) if lab.sum() else None,
        "last_confirmed": str(daily[daily > 0].index[-1]) if daily.sum() else None,
        "infections": s["total_infections"],
        "daily_confirmed": daily.to_numpy().tolist(),
        "cum_lab": ts["cum_confirmed_lab"].to_numpy().tolist(),
        "dates": [str(d) for d in ts.index],
    }


def validate(posterior: Posterior, replicates: int, workers: int) -> pd.DataFrame:
    """Full-scale ``combined`` runs, replicate r drawn from the posterior for its seed."""
    scenario = cs.load_scenario("xianning")
    data = scenario.model_dump(mode="json", by_alias=True)
    data.update({"strategy": "combined", "calibration": None})
    data["population"]["scale"] = 1.0
    jobs = [(data, posterior.draw(scenario.seed + r), scenario.seed + r) for r in range(replicates)]
    return pd.DataFrame(run_jobs(_run, jobs, workers))


def _band(values: pd.Series, level: float) -> tuple[float, float]:
    tail = (100 - level) / 2
    lo, hi = np.percentile(values.astype(float), [tail, 100 - tail])
    return float(lo), float(hi)


def bars(runs: pd.DataFrame) -> list[dict[str, Any]]:
    """Each bar of the issue: reported, model median and band, and whether it is met."""
    rows = []
    for day, reported in REPORTED_LAB.items():
        lo, hi = _band(runs[f"lab_{day}"], 90)
        rows.append(
            {
                "check": f"lab-confirmed cumulative on {day}",
                "reported": reported,
                "model": f"{runs[f'lab_{day}'].median():,.0f} (90 %: {lo:,.0f}-{hi:,.0f})",
                "met": lo <= reported <= hi,
            }
        )
    lo, hi = _band(runs["confirmed"], 95)
    rows.append(
        {
            "check": "final total confirmed (lab + clinical)",
            "reported": FINAL,
            "model": f"{runs['confirmed'].median():,.0f} (95 %: {lo:,.0f}-{hi:,.0f})",
            "met": lo <= FINAL <= hi,
        }
    )
    peaks = pd.to_datetime(runs["peak_date"])
    inside = peaks.between(*PEAK_WINDOW).mean()
    rows.append(
        {
            "check": "peak of daily lab-confirmed cases in 30 Jan-7 Feb",
            "reported": "2-3 Feb",
            "model": f"median {peaks.median().date()}; {inside:.0%} of replicates inside",
            "met": bool(PEAK_WINDOW[0] <= str(peaks.median().date()) <= PEAK_WINDOW[1]),
        }
    )
    last = pd.to_datetime(runs["last_confirmed"])
    quiet = (last <= QUIET_AFTER).mean()
    lo_last, mid_last, hi_last = (d.date() for d in last.quantile([0.05, 0.5, 0.95]))
    rows.append(
        {
            "check": "no new confirmed case after 1 Mar (>= 90 % of replicates)",
            "reported": "last ~21 Feb",
            "model": f"{quiet:.0%} of replicates; last confirmed case {mid_last} "
            f"(90 %: {lo_last} to {hi_last})",
            "met": quiet >= 0.9,
        }
    )
    lo, hi = _band(runs["deaths_confirmed"], 95)
    rows.append(
        {
            "check": "deaths among confirmed cases",
            "reported": DEATHS,
            "model": f"{runs['deaths_confirmed'].median():,.0f} (95 %: {lo:,.0f}-{hi:,.0f})",
            "met": lo <= DEATHS <= hi,
        }
    )
    ratio = runs["contacts_traced"] / runs["confirmed"].clip(lower=1)
    lo, hi = _band(ratio, 95)
    rows.append(
        {
            "check": "traced contacts per confirmed case in 12-24",
            "reported": 17.8,
            "model": f"{ratio.median():.1f} (95 %: {lo:.1f}-{hi:.1f})",
            "met": CONTACTS_PER_CASE[0] <= ratio.median() <= CONTACTS_PER_CASE[1],
        }
    )
    return rows


def validation_chart(runs: pd.DataFrame, out: Path) -> None:
    """Daily confirmed and lab-confirmed cumulative at full scale against the reports."""
    from containment_sim.plots import save_figure
    from containment_sim.plots.style import count_axis, date_axis, new_figure, set_title

    reported = pd.read_csv(dataset_path("xianning-2020-reported"))
    reported["date"] = pd.to_datetime(reported["date"])
    dates = pd.to_datetime(runs["dates"].iloc[0])
    fig, (left, right) = new_figure(1, 2, size=(7.0, 3.2))
    for ax, column, title in (
        (left, "daily_confirmed", "new confirmed per day"),
        (right, "cum_lab", "laboratory-confirmed, cumulative"),
    ):
        values = np.array(runs[column].tolist(), dtype=float)
        lo, med, hi = np.percentile(values, [5, 50, 95], axis=0)
        ax.fill_between(dates, lo, hi, color="#0072B2", alpha=0.2, linewidth=0, label="90 % band")
        ax.plot(dates, med, color="#0072B2", label="median")
        ax.set_title(title, loc="left")
        ax.set_xlim(pd.Timestamp("2020-01-20"), pd.Timestamp("2020-03-15"))
        count_axis(ax.yaxis, ticks=5)
        date_axis(ax, "")
    daily = reported.set_index("date")["cumulative_confirmed"].diff()
    daily = daily[daily.index <= "2020-02-13"]
    left.plot(daily.index, daily.to_numpy(), "o", color="#D55E00", markersize=3, label="reported")
    lab = reported[reported["date"] <= "2020-02-13"]
    right.plot(
        lab["date"],
        lab["cumulative_confirmed"],
        "o",
        color="#D55E00",
        markersize=3,
        label="reported (to 13 Feb)",
    )
    for ax in (left, right):
        ax.legend(loc="upper left")
    set_title(
        fig,
        "Xianning, combined strategy, full scale, parameters drawn from the posterior",
        f"{len(runs)} replicates; reported daily counts to 13 Feb (lab-confirmed only)",
    )
    save_figure(fig, out, formats=("png",))


def counterfactuals(posterior: Posterior, replicates: int, scale: float, workers: int) -> Any:
    """The four strategies with common posterior draws: infections each one averts."""
    scenario = cs.with_overrides(cs.load_scenario("xianning"), {"population.scale": scale})
    return cs.compare(
        scenario,
        ["none", "external", "internal", "combined"],
        replicates,
        workers=workers,
        posterior=posterior,
    )


def _markdown(frame: pd.DataFrame) -> str:
    head = "| " + " | ".join(frame.columns) + " |"
    rule = "| " + " | ".join("---" for _ in frame.columns) + " |"
    body = ["| " + " | ".join(str(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([head, rule, *body])


def _fit_minutes(db: Path) -> float:
    """Wall time of the fit: from its start to the end of its last generation (pyabc history)."""
    import sqlite3

    with sqlite3.connect(db) as con:
        start = con.execute("SELECT start_time FROM abc_smc ORDER BY id LIMIT 1").fetchone()[0]
        end = con.execute("SELECT MAX(population_end_time) FROM populations").fetchone()[0]
    return (pd.Timestamp(end) - pd.Timestamp(start)).total_seconds() / 60


def _fit_tables(fit: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The posterior summary and the per-generation diagnostics, rounded for the page."""
    summary = pd.read_csv(fit / "summary.csv")
    diag = pd.read_csv(fit / "diagnostics.csv")
    post = summary[["parameter", "prior", "median", "lo95", "hi95"]].copy()
    for c in ("median", "lo95", "hi95"):
        post[c] = post[c].map(lambda v: f"{v:.4g}")
    diag = diag.assign(
        epsilon=diag["epsilon"].round(2),
        acceptance_rate=(diag["acceptance_rate"] * 100).round(1),
        ess=diag["ess"].round(0),
        seconds=diag["seconds"].round(0),
    )
    return post, diag


def _averted_rows(cmp: Any) -> list[dict[str, str]]:
    """Infections per strategy and infections averted against ``none``, with intervals."""
    table = cmp.table().set_index("strategy")
    rows = []
    for s in ("none", "external", "internal", "combined"):
        r = table.loc[s]
        averted = (
            ""
            if s == "none"
            else f"{r['infections_averted_median']:,.0f} "
            f"({r['infections_averted_lo95']:,.0f} to {r['infections_averted_hi95']:,.0f})"
        )
        infections = (
            f"{r['total_infections_median']:,.0f} "
            f"({r['total_infections_lo95']:,.0f}-{r['total_infections_hi95']:,.0f})"
        )
        rows.append(
            {
                "strategy": s,
                "infections, median (95 % interval)": infections,
                "confirmed, median": f"{r['confirmed_median']:,.0f}",
                "infections averted vs none, median (95 % interval)": averted,
            }
        )
    return rows


def _stopping(meta: dict[str, Any]) -> str:
    """How the fit decided to stop, from its settings."""
    settings = meta["calibration"]
    if settings.get("max_minutes") is not None:
        return (
            "The fit stops at the end of the first generation to end after `max_minutes` "
            f"({settings['max_minutes']:g}), so its length depends on the machine."
        )
    return (
        f"The fit runs a fixed number of generations ({settings['generations']}), so it gives "
        "the same posterior from its seed on any machine."
    )


def page(fit: Path, runs: pd.DataFrame, cmp: Any, seconds: dict[str, float], scale: float) -> str:
    """The generated page."""
    meta = json.loads((fit / "calibration.json").read_text())
    minutes = _fit_minutes(fit / "history.db")
    evaluations = int(pd.read_csv(fit / "diagnostics.csv")["evaluations"].sum())
    prior_sample = meta["calibration"]["population_size"]
    post, diag = _fit_tables(fit)
    check = pd.DataFrame(bars(runs)).assign(
        met=lambda f: f["met"].map({True: "yes", False: "**no**"})
    )
    rows = _averted_rows(cmp)
    lines = [
        "# The Xianning calibration: results",
        "",
        f"*Generated by `docs/scripts/xianning_calibration.py` on {date.today()} from the fit in "
        f"`{fit.name}/`; do not edit by hand. How the fit is set up: "
        "[Calibration](calibration.md).*",
        "",
        "## The fit",
        "",
        f"ABC-SMC, {meta['calibration']['population_size']} particles, {meta['generations']} "
        f"generations, {evaluations + prior_sample:,} simulations (with the prior sample that "
        f"sets the first tolerance) of `{meta['strategy']}` at scale {meta['scale']}, seed "
        f"{meta['seed']}: **{minutes:.1f} minutes** of wall time (from the fit's history) on a "
        f"2-core machine shared with other jobs (`--workers 2`). {_stopping(meta)}",
        "",
        _markdown(post),
        "",
        "Per generation:",
        "",
        _markdown(diag.rename(columns={"acceptance_rate": "acceptance (%)"})),
        "",
        "![Posterior predictive check](images/xianning_posterior_predictive.png)",
        "",
        "![Marginal posteriors](images/xianning_marginals.png)",
        "",
        "## Validation at full scale",
        "",
        f"`combined`, scale 1, {len(runs)} replicates, replicate r with parameters drawn from the "
        f"posterior for its seed ({seconds['validation']:.0f} s).",
        "",
        _markdown(check),
        "",
        "![Validation at full scale](images/xianning_validation.png)",
        "",
        "## What each side of the strategy averted, with parameter uncertainty",
        "",
        f"Four strategies at scale {scale:g}, {cmp.settings['replicates']} replicates with common "
        f"posterior draws and common random numbers ({seconds['counterfactuals']:.0f} s).",
        "",
        _markdown(pd.DataFrame(rows)),
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    """Run the validation and the counterfactuals; write the page and its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("fit", type=Path, help="folder written by containment-sim calibrate")
    parser.add_argument("--replicates", type=int, default=20)
    parser.add_argument("--counterfactual-replicates", type=int, default=20)
    parser.add_argument("--counterfactual-scale", type=float, default=1.0)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    posterior = Posterior.load(args.fit / "posterior.csv")
    images = DOCS / "images"
    for name in ("posterior_predictive", "marginals"):
        shutil.copyfile(args.fit / f"{name}.png", images / f"xianning_{name}.png")
    started = time.perf_counter()
    runs = validate(posterior, args.replicates, args.workers)
    seconds = {"validation": time.perf_counter() - started}
    validation_chart(runs, images / "xianning_validation")
    runs.drop(columns=["daily_confirmed", "cum_lab", "dates"]).to_csv(
        DOCS / "scripts" / "xianning_validation_runs.csv", index=False
    )
    started = time.perf_counter()
    cmp = counterfactuals(
        posterior, args.counterfactual_replicates, args.counterfactual_scale, args.workers
    )
    seconds["counterfactuals"] = time.perf_counter() - started
    text = page(args.fit, runs, cmp, seconds, args.counterfactual_scale)
    (DOCS / "xianning-calibration.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
