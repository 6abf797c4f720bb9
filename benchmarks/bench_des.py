"""Throughput of the discrete-event engine beside raw SimPy, and its wall time on Xianning.

    python benchmarks/bench_des.py [--repeats 3] [--scale 0.04] [--strategies none,combined]

1. Raw SimPy: 1,000 processes each waiting on 200 timeouts (a bare event loop), events per
   second, with delays drawn by Python's ``random`` (the fastest loop, the headline ratio),
   drawn one at a time by numpy, and fixed.
2. The DES engine on a 20,000-agent well-mixed epidemic: model events (natural-history
   transitions and contact attempts) per second, and the ratio to raw SimPy measured in the
   same run.
3. Xianning at ``--scale`` (100,000 agents at 0.04) for 120 days with the DES engine, for the
   ``--strategies`` (default ``none`` and ``combined``, all measures): wall time and events.

Medians of ``--repeats`` runs. It only reports; nothing is asserted.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import simpy

import containment_sim as cs
from containment_sim.engines import DESEngine

sys.path.insert(0, str(Path(__file__).parent))
from provenance import header

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))


def raw_simpy(delay: str, processes: int = 1_000, timeouts: int = 200) -> float:
    """Events per second of a bare SimPy loop: processes each waiting on ``timeouts`` timeouts.

    ``delay`` is ``"exponential"`` (drawn with Python's ``random``, the cheapest draw),
    ``"numpy"`` (drawn one at a time from a numpy generator) or ``"fixed"`` (always 1).
    """
    env = simpy.Environment()
    draw = random.Random(1).random
    rng = np.random.default_rng(1)

    def proc(env: simpy.Environment):
        for _ in range(timeouts):
            if delay == "fixed":
                yield env.timeout(1.0)
            elif delay == "numpy":
                yield env.timeout(rng.exponential(1.0))
            else:
                yield env.timeout(-math.log(1.0 - draw()))

    for _ in range(processes):
        env.process(proc(env))
    start = time.perf_counter()
    env.run()
    return processes * timeouts / (time.perf_counter() - start)


def engine_rate(scenario: cs.Scenario) -> tuple[float, int, float]:
    """Model events per second, events, and wall seconds of one DES run."""
    engine = DESEngine(scenario, gc_threshold=10_000)
    start = time.perf_counter()
    engine.run()
    wall = time.perf_counter() - start
    return engine.events / wall, engine.events, wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--scale", type=float, default=0.04)
    parser.add_argument("--strategies", default="none,combined", help="comma-separated")
    args = parser.parse_args()
    print(header(), flush=True)
    from conftest import one_region

    kinds = ("exponential", "numpy", "fixed")
    raw: dict[str, list[float]] = {k: [] for k in kinds}
    model = []
    for seed in range(args.repeats):
        for kind in kinds:
            raw[kind].append(raw_simpy(kind))
        scenario = cs.with_overrides(one_region(20_000, 2.0, 20, 200, seed=seed), {"engine": "des"})
        model.append(engine_rate(scenario)[0])
    m = statistics.median(model)
    print(f"Throughput (median of {args.repeats}; ratio = DES engine / bare loop):")
    for kind in kinds:
        r = statistics.median(raw[kind])
        print(f"  bare SimPy loop, {kind:<11} delays {r:12,.0f} events/s   ratio {m / r:.2f}")
    print(f"  DES engine, 20,000 agents           {m:12,.0f} model events/s")
    base = cs.load_scenario("xianning")
    print(f"\nXianning, scale {args.scale}, 120 days, DES engine (median of {args.repeats}):")
    for strategy in args.strategies.split(","):
        sc = cs.with_overrides(
            base, {"population.scale": args.scale, "strategy": strategy, "engine": "des"}
        )
        runs = [engine_rate(cs.with_overrides(sc, {"seed": s})) for s in range(args.repeats)]
        wall = statistics.median(w for _, _, w in runs)
        events = statistics.median(e for _, e, _ in runs)
        agents = sum(sc.scaled_population())
        print(
            f"  {strategy:<9} {agents:,} agents  {wall:6.1f} s   {events:12,.0f} events   "
            f"target 120 s: ratio {wall / 120:.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
