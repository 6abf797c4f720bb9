"""Generated blocks of the docs from the CLI and the benchmark scripts' saved output.

See :mod:`producers.registry`. Benchmark figures are measured by the scripts in
``benchmarks/`` (their output is saved under ``benchmarks/results/``); the docs quote those
files and never type a figure in.
"""

from __future__ import annotations

import contextlib
import io
import os

from producers.registry import ROOT, block


def _help(args: list[str]) -> str:
    from containment_sim.cli import main

    out = io.StringIO()
    os.environ["COLUMNS"] = "100"  # argparse wraps at the terminal's width
    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
        main([*args, "--help"])
    return out.getvalue().rstrip()


@block("cli-help")
def cli_help() -> str:
    """``--help`` of the program and of each command."""
    from containment_sim.cli import _parser

    commands = list(_parser()._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
    parts = ["```text", "$ containment-sim --help", _help([]), "```"]
    for command in commands:
        parts += ["", f"## `{command}`", "", "```text", _help([command]), "```"]
    return "\n".join(parts)


def saved(name: str) -> str:
    """A benchmark script's saved output, as a text block with the command that produced it."""
    path = ROOT / "benchmarks" / "results" / f"{name}.txt"
    return "```text\n" + path.read_text(encoding="utf-8").rstrip() + "\n```"


def _saved_block(name: str) -> None:
    block(f"bench-{name.removeprefix('bench_').replace('_', '-')}")(lambda: saved(name))


for _name in ("bench_run", "bench_peer", "bench_des"):
    _saved_block(_name)


@block("bench-activity")
def bench_activity() -> str:
    """The activity benchmark's tables and its figure (drawn by the benchmark script)."""
    figure = "![Loop time against infections and against population](results/activity_scaling.png)"
    return saved("bench_activity") + "\n\n" + figure
