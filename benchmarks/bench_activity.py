"""How the vectorized engine's loop time grows: with the epidemic, not with the population.

Two series of runs of the built-in ``xianning`` scenario with no measures (strategy ``none``):

1. fixed population (``--scale``, default 0.3762: 1,000,000 agents), ``transmission.r0`` from
   0.8 to 3.0: loop time against the number of infections;
2. fixed ``transmission.r0`` (default: the scenario's), scale 0.1 to 1.0 of the city: loop time
   against the population, with the infections of each run.

Each point is a fresh interpreter (so memory and caches start cold) that builds the engine and
times ``engine.run()`` (the loop and the result tables) with ``time.perf_counter`` and
``time.process_time``; the table gives the median of ``--repeats`` runs. The figure
``activity_scaling.png`` (next to this script, or ``--plot``) draws both series.

Usage::

    python benchmarks/bench_activity.py [--repeats 3] [--scale 0.3762]
                                        [--r0 0.8,1.2,1.6,2.0,2.5,3.0]
                                        [--scales 0.1,0.25,0.5,0.75,1.0] [--plot PATH]

It only reports; nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from provenance import header

HERE = Path(__file__).resolve().parent


def one_run(scale: float, r0: float | None, seed: int) -> dict[str, float]:
    """In this process: build the engine and time its run (child mode)."""
    import time

    import containment_sim as cs
    from containment_sim.engines import VectorizedEngine

    changes: dict[str, object] = {"population.scale": scale, "strategy": "none", "seed": seed}
    if r0 is not None:
        changes["transmission.r0"] = r0
    scenario = cs.with_overrides(cs.load_scenario("xianning"), changes)
    engine = VectorizedEngine(scenario)
    wall, cpu = time.perf_counter(), time.process_time()
    result = engine.run()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "agents": result.summary["population"],
        "infections": result.summary["total_infections"],
        "loop_s": wall,
        "loop_cpu_s": cpu,
    }


def in_child(scale: float, r0: float | None, seed: int) -> dict[str, float]:
    """``one_run`` in a fresh interpreter."""
    cmd = [sys.executable, __file__, "--child", json.dumps([scale, r0, seed])]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
    point: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return point


def series(points: list[tuple[float, float | None]], repeats: int) -> list[dict[str, float]]:
    """Median loop time of ``repeats`` runs (seeds 1..repeats) at each (scale, r0)."""
    rows = []
    for scale, r0 in points:
        runs = [in_child(scale, r0, seed) for seed in range(1, repeats + 1)]
        row = {
            "scale": scale,
            "r0": r0 if r0 is not None else float("nan"),
            "agents": runs[0]["agents"],
            "infections": statistics.median(r["infections"] for r in runs),
            "loop_s": statistics.median(r["loop_s"] for r in runs),
            "loop_cpu_s": statistics.median(r["loop_cpu_s"] for r in runs),
        }
        rows.append(row)
        shown = "scenario" if r0 is None else f"{r0:g}"
        print(f"  scale {scale:g} r0 {shown}: {row['loop_s']:.2f} s", file=sys.stderr)
    return rows


def print_rows(title: str, rows: list[dict[str, float]]) -> None:
    """A table of one series, with the loop time per million infections."""
    print(title)
    header = ["scale", "R0", "agents", "infections", "loop s", "loop CPU s", "s/M infections"]
    lines = [header]
    for r in rows:
        per = r["loop_s"] / max(r["infections"], 1) * 1e6
        r0 = "scenario" if r["r0"] != r["r0"] else f"{r['r0']:g}"
        lines.append([f"{r['scale']:g}", r0, f"{int(r['agents']):,}",
                      f"{int(r['infections']):,}", f"{r['loop_s']:.2f}",
                      f"{r['loop_cpu_s']:.2f}", f"{per:.2f}"])  # fmt: skip
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for k, line in enumerate(lines):
        print("  ".join(c.rjust(w) for c, w in zip(line, widths, strict=True)))
        if k == 0:
            print("  ".join("-" * w for w in widths))
    print()


def plot(by_r0: list[dict[str, float]], by_size: list[dict[str, float]], path: Path) -> None:
    """Loop time against infections (fixed population) and against agents (fixed R0)."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    thousands = FuncFormatter(lambda x, _: f"{x:,.0f}")
    fig = Figure(figsize=(10, 4), layout="constrained")
    left, right = fig.subplots(1, 2)
    left.plot([r["infections"] for r in by_r0], [r["loop_s"] for r in by_r0], "o-")
    for r in by_r0:
        left.annotate(f"R0 {r['r0']:g}", (r["infections"], r["loop_s"]), fontsize=8,
                      xytext=(4, -10), textcoords="offset points")  # fmt: skip
    left.set(xlabel="infections in 120 days", ylabel="loop time (s)",
             title=f"{int(by_r0[0]['agents']):,} agents, R0 varied")  # fmt: skip
    right.plot([r["agents"] for r in by_size], [r["loop_s"] for r in by_size], "o-",
               label="loop time")  # fmt: skip
    right.set(xlabel="agents", ylabel="loop time (s)", title="scenario R0, population varied")
    twin = right.twinx()
    twin.plot([r["agents"] for r in by_size], [r["infections"] for r in by_size], "s--",
              color="tab:orange", label="infections")  # fmt: skip
    twin.set_ylabel("infections in 120 days")
    for ax in (left, right, twin):
        ax.yaxis.set_major_formatter(thousands if ax is twin else ax.yaxis.get_major_formatter())
    left.xaxis.set_major_formatter(thousands)
    right.xaxis.set_major_formatter(thousands)
    left.set_ylim(bottom=0)
    right.set_ylim(bottom=0)
    twin.set_ylim(bottom=0)
    fig.legend(loc="upper left", bbox_to_anchor=(0.55, 0.95), fontsize=8)
    fig.suptitle("containment-sim vectorized engine, Xianning scenario, no measures")
    tmp = path.with_name(path.name + ".tmp.png")
    fig.savefig(tmp, dpi=120)
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    """Run both series, print their tables and draw the figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--scale", type=float, default=0.3762, help="of the R0 series")
    parser.add_argument("--r0", default="0.8,1.2,1.6,2.0,2.5,3.0")
    parser.add_argument("--scales", default="0.1,0.25,0.5,0.75,1.0")
    parser.add_argument("--plot", type=Path, default=HERE / "activity_scaling.png")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not args.child:
        print(header(), flush=True)
    if args.child:
        print(json.dumps(one_run(*json.loads(args.child))))
        return 0
    print("load: {:.2f} {:.2f} {:.2f} (1, 5, 15 min); {} cores".format(
        *os.getloadavg(), len(os.sched_getaffinity(0))))  # fmt: skip
    r0s = [float(x) for x in args.r0.split(",")]
    scales = [float(x) for x in args.scales.split(",")]
    by_r0 = series([(args.scale, r0) for r0 in r0s], args.repeats)
    by_size = series([(scale, None) for scale in scales], args.repeats)
    print_rows(f"Fixed population (scale {args.scale:g}), R0 varied; median of {args.repeats}:",
               by_r0)  # fmt: skip
    print_rows(f"Scenario R0, population varied; median of {args.repeats}:", by_size)
    plot(by_r0, by_size, args.plot)
    print(f"figure: {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
