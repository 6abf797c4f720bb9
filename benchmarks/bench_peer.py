"""Peer benchmark: whole-process CPU time of containment-sim against Starsim 3.7.2.

For each strategy (default ``none`` and ``combined``) the two peer scripts run as separate
processes, in turn: containment-sim (``peer_containment.py``), then Starsim
(``peer_starsim.py``), ``--repeats`` times (A B A B ...). For every child the script takes its
CPU time (user + system, from the child's resource usage returned by ``os.wait4``), its wall
time and its peak resident set size. The table gives the medians and the median of the pair
ratios (Starsim CPU / containment-sim CPU of each A B pair).

Before measuring, each script runs once with a small population (not measured), so one-off
work such as compiling and caching Starsim's numba kernels is not counted.

If Starsim is not installed (``pip install -e ".[bench]"``), only containment-sim runs and the
Starsim columns are empty.

Usage::

    python benchmarks/bench_peer.py [--agents 1000000] [--days 120] [--repeats 3]
                                    [--strategies none,combined] [--no-warmup]

Progress goes to stderr and the tables to stdout. It only reports; nothing is asserted.
MB are 10**6 bytes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from provenance import header as provenance_header

HERE = Path(__file__).resolve().parent
CONTAINMENT = HERE / "peer_containment.py"
STARSIM = HERE / "peer_starsim.py"


@dataclass(frozen=True)
class Sample:
    """One child process: CPU and wall seconds, peak RSS in MB, and its ``RESULT`` line."""

    cpu_s: float
    wall_s: float
    rss_mb: float
    result: dict


def machine_info() -> list[str]:
    """Lines describing the machine: cores, CPU, memory, versions and current load."""
    import numpy as np

    cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.MULTILINE)
    meminfo = Path("/proc/meminfo").read_text(encoding="utf-8", errors="replace")
    mem = re.search(r"^MemTotal:\s*(\d+) kB", meminfo, re.MULTILINE)
    return [
        f"date:   {dt.date.today().isoformat()}",
        f"nproc:  {len(os.sched_getaffinity(0))}",
        f"cpu:    {model.group(1).strip() if model else 'unknown'}",
        f"memory: {int(mem.group(1)) / 1024**2:.1f} GiB" if mem else "memory: unknown",
        f"python: {platform.python_version()}   numpy: {np.__version__}",
        "load at start: {:.2f} {:.2f} {:.2f} (1, 5, 15 min)".format(*os.getloadavg()),
    ]


def run_child(script: Path, args: list[str]) -> Sample:
    """Run ``python script args`` as a child process and measure it with ``os.wait4``."""
    cmd = [sys.executable, str(script), *args]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", errors="replace")
        stderr = err.read().decode("utf-8", errors="replace")
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited with {proc.returncode}:\n{stderr[-2000:]}")
    lines = [line for line in stdout.splitlines() if line.startswith("RESULT ")]
    if not lines:
        raise RuntimeError(f"{' '.join(cmd)} printed no RESULT line:\n{stdout[-2000:]}")
    return Sample(
        cpu_s=usage.ru_utime + usage.ru_stime,
        wall_s=wall,
        rss_mb=usage.ru_maxrss * 1024 / 1e6,  # ru_maxrss is in KiB on Linux
        result=json.loads(lines[-1].removeprefix("RESULT ")),
    )


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def fmt(value: float, spec: str) -> str:
    return "-" if value != value else format(value, spec)  # NaN -> "-"


def table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(h.rjust(w) for h, w in zip(header, widths, strict=True)),
        "  ".join("-" * w for w in widths),
    ]
    lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--strategies", default="none,combined")
    parser.add_argument("--seed", type=int, default=1, help="Starsim's random seed")
    parser.add_argument("--no-warmup", action="store_true", help="skip the small warm-up runs")
    args = parser.parse_args(argv)
    print(provenance_header(), flush=True)
    strategies = [s.strip() for s in args.strategies.split(",") if s.strip()]

    have_starsim = importlib.util.find_spec("starsim") is not None
    if not have_starsim:
        print(
            'Starsim is not installed (pip install -e ".[bench]"); running containment-sim only.',
            file=sys.stderr,
        )

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    cs_args = ["--agents", str(args.agents), "--days", str(args.days)]
    ss_args = ["--agents", str(args.agents), "--days", str(args.days), "--seed", str(args.seed)]
    header_lines = machine_info()

    if not args.no_warmup:
        log("warm-up (not measured)")
        run_child(CONTAINMENT, ["--agents", "10000", "--days", "5"])
        if have_starsim:
            run_child(STARSIM, ["--agents", "10000", "--days", "5"])

    samples: dict[str, list[tuple[Sample, Sample | None]]] = {}
    for strategy in strategies:
        pairs = samples.setdefault(strategy, [])
        for k in range(args.repeats):
            a = run_child(CONTAINMENT, [*cs_args, "--strategy", strategy])
            log(f"{strategy} #{k + 1}: containment-sim {a.cpu_s:.2f} s CPU, {a.wall_s:.2f} s wall")
            b = None
            if have_starsim:
                b = run_child(STARSIM, ss_args)
                log(f"{strategy} #{k + 1}: Starsim {b.cpu_s:.2f} s CPU, {b.wall_s:.2f} s wall")
            pairs.append((a, b))

    print("\n".join(header_lines))
    print("load at end: {:.2f} {:.2f} {:.2f} (1, 5, 15 min)".format(*os.getloadavg()))
    print(f"command: python benchmarks/bench_peer.py {' '.join(argv or sys.argv[1:])}".rstrip())
    print(f"agents {args.agents:,}, days {args.days}, repeats {args.repeats}")
    if not have_starsim:
        print("Starsim: not installed, skipped")
    print()

    rows, detail = [], []
    for strategy, pairs in samples.items():
        a_list = [a for a, _ in pairs]
        b_list = [b for _, b in pairs if b is not None]
        ratios = [b.cpu_s / a.cpu_s for a, b in pairs if b is not None]
        rows.append(
            [
                strategy,
                fmt(median([a.cpu_s for a in a_list]), ".2f"),
                fmt(median([b.cpu_s for b in b_list]), ".2f"),
                fmt(median(ratios), ".1f") + ("x" if ratios else ""),
                fmt(min(ratios, default=float("nan")), ".1f"),
                fmt(max(ratios, default=float("nan")), ".1f"),
            ]
        )
        for name, runs in (("containment-sim", a_list), ("Starsim 3.7.2", b_list)):
            if not runs:
                continue
            detail.append(
                [
                    strategy,
                    name,
                    f"{runs[0].result['agents']:,}",
                    fmt(median([r.cpu_s for r in runs]), ".2f"),
                    fmt(median([r.wall_s for r in runs]), ".2f"),
                    fmt(median([r.result["loop_s"] for r in runs]), ".2f"),
                    fmt(median([r.rss_mb for r in runs]), ".0f"),
                    f"{int(median([r.result['total_infections'] for r in runs])):,}",
                    " ".join(f"{r.cpu_s:.2f}" for r in runs),
                ]
            )

    print(f"Whole-process CPU time (user + sys), median of {args.repeats}:")
    header = ["strategy", "containment-sim CPU s", "Starsim CPU s", "ratio", "min", "max"]
    print(table(rows, header))
    print("ratio = median over A B pairs of Starsim CPU / containment-sim CPU")
    print()
    print("Per model (medians):")
    header = [
        "strategy",
        "model",
        "agents",
        "CPU s",
        "wall s",
        "loop s",
        "RSS MB",
        "infections",
        "CPU s of each run",
    ]
    print(table(detail, header))
    print("loop s = the model's own run call: cs.run (incl. building the city) / sim.run")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
