"""Keep infection out (外防输入): Xianning with and without its external measures.

    python examples/02_external_measures.py [--replicates 20] [--scale 0.1]

Runs the ``none`` and ``external`` strategies of the built-in Xianning scenario over several
replicates (replicate r uses seed r for both strategies) and prints the mean and standard
error of the main outcomes, and of the paired differences.
"""

from __future__ import annotations

import argparse

import numpy as np

import containment_sim as cs

OUTCOMES = (
    "imported_infections",
    "total_infections",
    "local_infections",
    "exported_infections",
    "deaths",
    "peak_day",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=20)
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--days", type=int, default=None)
    args = parser.parse_args()
    base = cs.load_scenario("xianning")
    results: dict[str, dict[str, list[float]]] = {}
    for strategy in ("none", "external"):
        results[strategy] = {k: [] for k in OUTCOMES}
        for rep in range(args.replicates):
            changes = {
                "strategy": strategy,
                "seed": rep,
                "population.scale": args.scale,
                "days": args.days,
            }
            summary = cs.run(cs.with_overrides(base, changes)).summary
            for k in OUTCOMES:
                results[strategy][k].append(summary[k])
    print(f"{args.replicates} replicates, scale {args.scale}: mean ± standard error")
    print(f"{'outcome':<22}{'none':>22}{'external':>22}{'external - none':>24}")
    for k in OUTCOMES:
        none, ext = np.array(results["none"][k]), np.array(results["external"][k])
        cells = [_mean_se(none), _mean_se(ext), _mean_se(ext - none)]
        print(f"{k:<22}" + "".join(f"{c:>22}" for c in cells[:2]) + f"{cells[2]:>24}")


def _mean_se(x: np.ndarray) -> str:
    se = x.std(ddof=1) / np.sqrt(x.size) if x.size > 1 else float("nan")
    return f"{x.mean():,.1f} ± {se:,.1f}"


if __name__ == "__main__":
    main()
