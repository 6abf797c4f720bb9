"""Wall time and peak memory of ``containment-sim run`` at several scales and strategies.

For each strategy and scale the CLI
(``containment-sim run SCENARIO --strategy X --scale S --no-plot --quiet``) runs
``--repeats`` times under ``/usr/bin/time -v``; the table gives the median, minimum and maximum
wall time, the median peak resident set size, the wall time per million agent-days, and the
peak memory per agent above the interpreter's baseline (the peak RSS of the same command at
scale 0.001, whose agents take under 1 MB), against the target of 150 bytes per
agent. A second table splits one in-process run per scale (in a fresh interpreter) into import,
scenario loading, engine construction (population, movement plans) and the simulation loop
(``VectorizedEngine.run``, result tables included), against the target of a 3 s loop for the
full city with every measure (``combined``).

Usage::

    python benchmarks/bench_run.py [--repeats 3] [--scales 0.01,0.1,1.0] [--scenario xianning]
                                   [--strategies none,external,combined]

It only reports; nothing is asserted. MB are 10**6 bytes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from provenance import header

TARGET_LOOP_S = 3.0
TARGET_BYTES_PER_AGENT = 150.0
TIME_BIN = "/usr/bin/time"


@dataclass(frozen=True)
class Sample:
    """One CLI run: wall seconds, peak RSS in MB, simulated agents and days."""

    wall_s: float
    rss_mb: float
    agents: int
    days: int


def machine_info() -> list[str]:
    """Lines describing the machine: cores, CPU, memory, versions and current load."""
    import numpy as np

    cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.MULTILINE)
    meminfo = Path("/proc/meminfo").read_text(encoding="utf-8", errors="replace")
    mem = re.search(r"^MemTotal:\s*(\d+) kB", meminfo, re.MULTILINE)
    return [
        f"nproc:  {len(os.sched_getaffinity(0))}",
        f"cpu:    {model.group(1).strip() if model else 'unknown'}",
        f"memory: {int(mem.group(1)) / 1024**2:.1f} GiB" if mem else "memory: unknown",
        f"python: {platform.python_version()}   numpy: {np.__version__}",
        "load:   {:.2f} {:.2f} {:.2f} (1, 5, 15 min)".format(*os.getloadavg()),
    ]


def cli_command() -> list[str]:
    """The ``containment-sim`` entry point next to this interpreter, else ``python -m``."""
    beside = Path(sys.executable).parent / "containment-sim"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("containment-sim")
    return [found] if found else [sys.executable, "-m", "containment_sim"]


def parse_elapsed(text: str) -> float:
    """Seconds of a GNU time ``Elapsed`` value, ``m:ss.cc`` or ``h:mm:ss``."""
    seconds = 0.0
    for part in text.split(":"):
        seconds = seconds * 60 + float(part)
    return seconds


def run_cli(scenario: str, scale: float, strategy: str = "none") -> Sample:
    """Run the CLI once under ``/usr/bin/time -v`` and return what it measured."""
    with tempfile.TemporaryDirectory(prefix="bench_run_") as tmp:
        out = Path(tmp) / "out"
        cmd = [TIME_BIN, "-v", *cli_command(), "run", scenario, "--scale", str(scale)]
        cmd += ["--strategy", strategy]
        cmd += ["--no-plot", "--quiet", "--out", str(out)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr[-2000:]}")
        wall = re.search(r"Elapsed \(wall clock\) time.*: (\S+)", proc.stderr)
        rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
        if wall is None or rss is None:
            raise RuntimeError(f"cannot parse {TIME_BIN} output:\n{proc.stderr[-2000:]}")
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return Sample(
        wall_s=parse_elapsed(wall.group(1)),
        rss_mb=int(rss.group(1)) * 1024 / 1e6,
        agents=int(summary["population"]),
        days=int(summary["days"]),
    )


def baseline_rss_mb(scenario: str) -> float:
    """Peak RSS (MB) of the same CLI run at scale 0.001 (2,658 agents for Xianning).

    What every run holds whatever its size: the interpreter, the imported packages (numpy,
    pandas for the tables), the scenario. The agents' own share of it is under 1 MB.
    """
    return statistics.median(run_cli(scenario, 0.001, "none").rss_mb for _ in range(3))


def breakdown(scenario: str, scale: float, strategy: str = "none") -> dict[str, float]:
    """In this process: seconds to import, load, build the engine and run (child mode)."""
    t0 = time.perf_counter()
    import containment_sim as cs
    from containment_sim.engines import VectorizedEngine

    t1 = time.perf_counter()
    changes = {"population.scale": scale, "strategy": strategy}
    sc = cs.with_overrides(cs.load_scenario(scenario), changes)
    t2 = time.perf_counter()
    engine = VectorizedEngine(sc)
    t3 = time.perf_counter()
    engine.run()
    t4 = time.perf_counter()
    return {"import": t1 - t0, "load": t2 - t1, "build": t3 - t2, "run": t4 - t3}


def breakdown_in_child(scenario: str, scale: float, strategy: str) -> dict[str, float]:
    """Run ``breakdown`` in a fresh interpreter so imports and memory start cold."""
    cmd = [sys.executable, __file__, "--scenario", scenario, "--child-breakdown", str(scale)]
    cmd += ["--strategies", strategy]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
    result: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def print_table(header: list[str], rows: list[list[str]]) -> None:
    """Print a right-aligned text table."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)))


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="CLI runs per scale (default 3)")
    parser.add_argument("--scales", default="0.01,0.1,1.0", help="comma-separated scales")
    parser.add_argument("--scenario", default="xianning", help="scenario name or YAML file")
    parser.add_argument("--strategies", default="none", help="comma-separated strategies")
    parser.add_argument("--child-breakdown", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_breakdown is None:
        print(header(), flush=True)
    if args.child_breakdown is not None:
        print(json.dumps(breakdown(args.scenario, args.child_breakdown, args.strategies)))
        return 0
    if not Path(TIME_BIN).exists():
        print(f"{TIME_BIN} not found (install GNU time)", file=sys.stderr)
        return 2
    scales = [float(s) for s in args.scales.split(",") if s.strip()]
    strategies = [s for s in args.strategies.split(",") if s.strip()]

    print("\n".join(machine_info()))
    print(f"scenario: {args.scenario}   repeats: {args.repeats}   cli: {' '.join(cli_command())}")
    print(f"targets at full scale: loop <= {TARGET_LOOP_S:.0f} s (combined), "
          f"<= {TARGET_BYTES_PER_AGENT:.0f} bytes per agent above the baseline")  # fmt: skip
    base = baseline_rss_mb(args.scenario)
    print(f"baseline (the same run at scale 0.001): {base:.0f} MB peak RSS\n")

    rows: list[list[str]] = []
    parts_rows: list[list[str]] = []
    for strategy, scale in [(st, sc) for st in strategies for sc in scales]:
        samples: list[Sample] = []
        for k in range(args.repeats):
            samples.append(run_cli(args.scenario, scale, strategy))
            print(
                f"  {strategy} scale {scale:g} run {k + 1}: {samples[-1].wall_s:.2f} s",
                file=sys.stderr,
            )
        walls = [s.wall_s for s in samples]
        wall = statistics.median(walls)
        rss = statistics.median(s.rss_mb for s in samples)
        agents, days = samples[0].agents, samples[0].days
        rows.append(
            [
                strategy,
                f"{scale:g}",
                f"{agents:,}",
                f"{wall:.2f}",
                f"{min(walls):.2f}/{max(walls):.2f}",
                f"{rss:.0f}",
                f"{wall / (agents * days / 1e6):.3f}",
                f"{(rss - base) * 1e6 / agents:.0f}",
                f"{(rss - base) * 1e6 / agents / TARGET_BYTES_PER_AGENT:.2f}",
            ]
        )
        p = breakdown_in_child(args.scenario, scale, strategy)
        total = sum(p.values())
        parts_rows.append(
            [strategy, f"{scale:g}", f"{agents:,}"]
            + [f"{p[k]:.2f}" for k in ("import", "load", "build", "run")]
            + [f"{total:.2f}", f"{p['run'] / total:.0%}", f"{p['run'] / TARGET_LOOP_S:.2f}"]
            + [f"{(wall - total):.2f}"]
        )

    print(f"CLI runs (median of {args.repeats}):")
    print_table(
        ["strategy", "scale", "agents", "wall s", "min/max s", "RSS MB", "s/M agent-days",
         "B/agent", "B/150"],
        rows,
    )  # fmt: skip
    print("\nIn-process breakdown (one run each, fresh interpreter), seconds:")
    print_table(
        ["strategy", "scale", "agents", "import", "load", "build", "run", "total", "run %",
         "run/3s", "CLI rest"],
        parts_rows,
    )  # fmt: skip
    print("\nB/agent = (peak RSS - baseline) / agents; B/150 = that over the 150-byte target.")
    print("build = VectorizedEngine(scenario); run = .run() incl. result tables (the loop);")
    print("CLI rest = CLI median wall - this separate run's total (start-up, writing results;")
    print("differences of separate runs, so within run-to-run noise at large scales).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
