"""containment-sim side of the peer benchmark: the Xianning scenario at about ``--agents`` agents.

Loads the built-in scenario with ``cs.load_scenario``, sets ``population.scale`` so the city has
about ``--agents`` agents (the full city is 2,658,300), sets the strategy (and ``--days`` and
``--seed`` if given) with ``cs.with_overrides``, and runs it with ``cs.run``. Only the public API
is used. Nothing is saved or plotted.

It prints the infections, the confirmed cases and the time spent in each phase, and a last line
``RESULT {json}`` that ``bench_peer.py`` reads.

Usage::

    python benchmarks/peer_containment.py [--agents 1000000] [--strategy none|combined]
                                          [--days 120] [--seed N] [--scenario xianning]
"""

from __future__ import annotations

import argparse
import json
import time

T_START = time.perf_counter()

# Population of the full Xianning scenario (sum of its six divisions), used when the scenario's
# regions cannot be read.
XIANNING_POPULATION = 2_658_300


def full_population(scenario) -> int:
    """Agents of the scenario at scale 1: the sum of its regions, else Xianning's."""
    try:
        return int(sum(region.population for region in scenario.population.regions))
    except (AttributeError, TypeError):
        return XIANNING_POPULATION


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=1_000_000)
    parser.add_argument("--strategy", default="none", help="none, combined or any other")
    parser.add_argument("--days", type=int, default=None, help="default: the scenario's (120)")
    parser.add_argument("--seed", type=int, default=None, help="default: the scenario's")
    parser.add_argument("--scenario", default="xianning")
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    import containment_sim as cs

    t1 = time.perf_counter()
    base = cs.load_scenario(args.scenario)
    scale = args.agents / full_population(base)
    changes: dict[str, object] = {"population.scale": scale, "strategy": args.strategy}
    if args.days is not None:
        changes["days"] = args.days
    if args.seed is not None:
        changes["seed"] = args.seed
    scenario = cs.with_overrides(base, changes)
    t2 = time.perf_counter()
    result = cs.run(scenario)
    t3 = time.perf_counter()

    summary = result.summary
    out = {
        "model": f"containment-sim {cs.__version__}",
        "scenario": args.scenario,
        "strategy": args.strategy,
        "scale": scale,
        "agents": int(summary["population"]),
        "days": int(summary["days"]),
        "total_infections": int(summary["total_infections"]),
        "confirmed": int(summary["confirmed"]),
        "attack_rate": float(summary["attack_rate"]),
        "import_s": t1 - t0,
        "setup_s": t2 - t1,
        "loop_s": t3 - t2,
        "main_s": t3 - T_START,
    }
    print(f"containment-sim {cs.__version__}, {args.scenario}, strategy {args.strategy}")
    print(f"agents {out['agents']:,} (scale {scale:.4f}), days {out['days']}")
    print(f"infections {out['total_infections']:,}, confirmed {out['confirmed']:,}")
    print(f"import {out['import_s']:.2f} s, load {out['setup_s']:.2f} s, run {out['loop_s']:.2f} s")
    print("RESULT " + json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
