"""Run the built-in Xianning scenario from Python, inspect the results and plot them.

    python examples/01_run_default.py [--scale 0.05] [--out results/example]

Uses the public API only: load a scenario, adjust it, run it, look at the daily table and the
summary, save everything, and draw the epidemic curve.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import containment_sim as cs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scale", type=float, default=0.05, help="fraction of the city to simulate"
    )
    parser.add_argument("--out", type=Path, default=Path("results/example"))
    args = parser.parse_args()

    # 1. Load the built-in scenario (or a file: cs.load_scenario("scenarios/xianning.yaml")).
    scenario = cs.load_scenario("xianning")
    scenario = cs.with_overrides(scenario, {"population.scale": args.scale})

    # 2. Run it: same scenario and seed give the same result.
    result = cs.run(scenario)

    # 3. Inspect the daily table (a pandas DataFrame) and the summary.
    ts = result.timeseries
    print(
        ts[["date", "n_infected", "new_infections", "new_infections_imported", "cum_deaths"]]
        .iloc[::15]
        .to_string(index=False)
    )
    weekly = ts.assign(week=ts["day"] // 7).groupby("week")["new_infections"].sum()
    print(f"busiest week: week {weekly.idxmax()} with {weekly.max():,} infections")
    by_region = result.by_region.groupby("region")["new_infections"].sum()
    print("infections by region:\n" + by_region.to_string())
    s = result.summary
    print(
        f"{s['total_infections']:,} infections ({s['imported_infections']:,} imported), "
        f"{s['deaths']:,} deaths; peak {s['peak_prevalence']:.1%} on {s['peak_date']}"
    )

    # 4. Save the tables and summary, and draw the epidemic curve (PNG, SVG and PDF).
    result.save(args.out)
    result.plot(args.out / "epidemic_curve")
    print(f"saved to {args.out}/")


if __name__ == "__main__":
    main()
