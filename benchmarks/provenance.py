"""The header every benchmark script prints first: when, what, where and on which code."""

from __future__ import annotations

import datetime as dt
import os
import platform
import shlex
import subprocess
import sys
from pathlib import Path


def header() -> str:
    """Date, command line, git commit (if any), machine and load average, one per line."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    command = "python " + shlex.join([f"benchmarks/{Path(sys.argv[0]).name}", *sys.argv[1:]])
    load = "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    return "\n".join(
        [
            f"date:    {dt.datetime.now().strftime('%Y-%m-%d %H:%M')}",
            f"command: {command}",
            f"commit:  {commit}",
            f"machine: {os.cpu_count()} cores, {platform.python_implementation()} "
            f"{platform.python_version()}, load average at start {load} (1, 5, 15 min)",
        ]
    )
