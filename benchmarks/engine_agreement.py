"""The two engines on one scenario: outcome distributions side by side, and convergence in dt.

    python benchmarks/engine_agreement.py [--replicates 200] [--workers 2]

Runs the agreement scenario of the test suite (10,000 agents; households, communities,
regions, importation, care seeking, testing, tracing and a quarantine site) with the
discrete-event engine (measures' tick 0.25 d) and with the vectorized engine at dt = 1, 0.5
and 0.25, and prints mean +- SE of the final size and peak day, and the two-sample
Kolmogorov-Smirnov p-values against the DES. It reports; ``tests/test_des.py`` asserts.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from scipy import stats

from containment_sim.experiments import make_tasks, run_tasks, tidy_outcomes

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    from agreement import agreement_scenario

    results = {}
    for engine, dt in (
        ("des", 0.25),
        ("vectorized", 1.0),
        ("vectorized", 0.5),
        ("vectorized", 0.25),
    ):
        scenario, label = agreement_scenario(engine, dt), f"{engine} dt={dt}"
        tasks = make_tasks(
            scenario, [label], args.replicates, 0, {label: tuple(scenario.strategies["test"])}
        )
        start = time.perf_counter()
        results[label] = tidy_outcomes(run_tasks(tasks, args.workers))
        print(
            f"{label:<20} {time.perf_counter() - start:6.1f} s for {args.replicates} runs",
            file=sys.stderr,
        )
    des = results["des dt=0.25"]
    print(f"{'engine':<20}{'final size':>22}{'KS p':>8}{'peak day':>18}{'KS p':>8}")
    for label, table in results.items():
        cells = []
        for column in ("total_infections", "peak_day"):
            x = table[column].to_numpy(float)
            p = stats.ks_2samp(x, des[column].to_numpy(float)).pvalue
            cells.append(f"{x.mean():10,.1f} ± {x.std(ddof=1) / np.sqrt(x.size):6.1f}")
            cells.append(f"{p:8.3f}")
        print(f"{label:<20}{cells[0]:>22}{cells[1]}{cells[2]:>18}{cells[3]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
