"""Calibrate a scenario to a town's reported cases, then compare strategies with the posterior.

    python examples/03_calibrate.py [--population-size 60] [--generations 5] [--workers 2]
                                    [--out results/example-calibration]

A worked example of docs/calibration.md that runs in a few minutes. The town is the built-in
``small`` scenario with care seeking, testing and tracing. Its "reported" cases are simulated
here with known values (R0 2.4, 60 % of symptomatic people seeking care), as a stand-in for
your city's bulletin: replace ``reported.csv`` by your own file with a ``date`` column and a
cumulative count. The fit then recovers R0 and the care-seeking share with their credible
intervals, writes the posterior, charts and the calibrated scenario, and a comparison draws
every replicate's parameters from the posterior.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import containment_sim as cs
from containment_sim.calibration_spec import CalibrationSpec

MEASURES = {
    "care_seeking": {"type": "care_seeking", "start": 10, "share": 0.6,
                     "delay": [[0, {"dist": "gamma", "mean": 3.0, "sd": 2.0}]]},
    "testing": {"type": "testing", "start": 10, "capacity": 2000,
                "turnaround": {"dist": "fixed", "mean": 1.0}},
    "tracing": {"type": "tracing", "start": 20, "community_contacts": 10, "capacity": 200,
                "home_compliance": 0.8, "delay": {"dist": "gamma", "mean": 1.0, "sd": 0.5}},
}  # fmt: skip

CALIBRATION = {
    "data": ["reported.csv"],
    "strategy": "response",
    "parameters": [
        {"path": "transmission.r0", "prior": "normal", "mean": 2.5, "sd": 0.5, "low": 1.5,
         "high": 4.0, "source": "Li et al. 2020; Wu et al. 2020"},
        {"path": "measures.care_seeking.share", "prior": "uniform", "low": 0.2, "high": 1.0},
    ],
    "targets": [
        {"observed": "cumulative_confirmed", "simulated": "cum_confirmed", "increments": True,
         "distance": "negative_binomial"},
        {"observed": "cumulative_confirmed", "simulated": "confirmed",
         "distance": "negative_binomial"},
    ],
}  # fmt: skip


def town(r0: float, share: float, days: int) -> cs.Scenario:
    """The small town with a response strategy (care seeking, testing, tracing)."""
    base = cs.load_scenario("small").model_dump(mode="json", by_alias=True)
    base["days"] = days
    base["transmission"]["r0"] = r0
    base["measures"] = {**MEASURES, "care_seeking": {**MEASURES["care_seeking"], "share": share}}
    base["strategies"] = {"none": [], "response": list(MEASURES)}
    return cs.Scenario.model_validate(base)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--population-size", type=int, default=60)
    parser.add_argument("--generations", type=int, default=5)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--replicates", type=int, default=10)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("results/example-calibration"))
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)

    # 1. The "reported" series: every third day of one run with known values.
    truth = cs.with_overrides(town(2.4, 0.6, args.days), {"strategy": "response", "seed": 99})
    ts = cs.run(truth).timeseries.iloc[12::3]
    data = args.out.parent / "reported.csv"
    ts[["date", "cum_confirmed"]].rename(columns={"cum_confirmed": "cumulative_confirmed"}).to_csv(
        data, index=False
    )

    # 2. Fit R0 and the care-seeking share (priors and targets as in a `calibration:` section).
    spec = CalibrationSpec.model_validate(
        {**CALIBRATION, "population_size": args.population_size, "generations": args.generations}
    )
    fit = cs.calibrate(town(2.5, 0.8, args.days), spec, base_dir=data.parent,
                       workers=args.workers, predictive=20)  # fmt: skip
    print(fit.summary()[["parameter", "median", "lo95", "hi95"]].round(3).to_string(index=False))
    print("true values: transmission.r0 2.4, measures.care_seeking.share 0.6")
    print(fit.diagnostics.round(3).to_string(index=False))
    fit.save(args.out)

    # 3. Strategies with parameter uncertainty: replicate r draws from the posterior.
    calibrated = fit.calibrated_scenario()
    comparison = cs.compare(calibrated, ["none", "response"], args.replicates,
                            workers=args.workers, posterior=fit.posterior())  # fmt: skip
    table = comparison.table().set_index("strategy")
    columns = ["total_infections_median", "infections_averted_median", "infections_averted_lo95",
               "infections_averted_hi95"]  # fmt: skip
    print(table[columns].round(0).to_string())
    print(f"saved to {args.out}/")


if __name__ == "__main__":
    main()
