"""What every command of the command line shares: options, loading, output folders, failures.

Every failure ends in :func:`run_command` as one line on stderr and an exit code: 2 for bad
input (:class:`~containment_sim.errors.InputError`: a scenario, an option, an output folder, a
saved folder), 1 for a fault (:class:`~containment_sim.errors.FaultError`, out of memory, a
disk error, anything unexpected), 130 for Ctrl-C or SIGTERM (with how to resume when runs were
kept). A traceback is printed only when the environment variable ``CONTAINMENT_SIM_DEBUG`` is
set.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import sys
import traceback
import warnings
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from types import FrameType
from typing import NoReturn

from containment_sim.errors import FaultError, InputError, Interrupted
from containment_sim.loading import (
    DEFAULT_SCENARIO,
    OverrideError,
    Problem,
    ScenarioError,
    ScenarioWarning,
    load_scenario,
)
from containment_sim.outputs import FORMATS, OutputFolder, check_format
from containment_sim.resources import ResourceError, check_resources, estimate
from containment_sim.safe_yaml import DEFAULT_LIMITS, Limits, format_bytes
from containment_sim.scenario import Scenario, with_overrides

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_FAULT",
    "EXIT_INTERRUPTED",
    "MAX_REPLICATES",
    "Parser",
    "add_input_options",
    "add_output_options",
    "add_verbosity",
    "announce",
    "bad_input",
    "cap_workers",
    "check_cost",
    "cores",
    "load_with_overrides",
    "prepare_output",
    "run_command",
    "verbosity",
]

EXIT_FAULT = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130

MAX_REPLICATES = 100_000
"""Most replicates per strategy or grid point accepted on the command line."""

_OPTIONS = {"population.scale": "--scale", "seed": "--seed", "days": "--days", "dt": "--dt",
            "strategy": "--strategy", "engine": "--engine"}  # fmt: skip


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (and exit code 2 through ``run_command``)."""

    def error(self, message: str) -> NoReturn:
        """Report a usage error as :class:`~containment_sim.errors.InputError`."""
        raise InputError(f"{self.prog}: {message} (see {self.prog} --help)")


def bad_input(where: str, message: str, field: str = "") -> ScenarioError:
    """A one-problem :class:`ScenarioError` about an option or value."""
    return ScenarioError([Problem(where, None, field, message)])


def run_command(handler: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run a command; turn every failure into one line on stderr and an exit code."""
    try:
        with _sigterm_as_interrupt():
            return int(handler(args))
    except Interrupted as exc:
        print(_interrupted(exc), file=sys.stderr)
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        print("interrupted; nothing was written", file=sys.stderr)
        return EXIT_INTERRUPTED
    except InputError as exc:
        _report(str(exc))
        return EXIT_BAD_INPUT
    except FaultError as exc:
        _report(f"error: {exc}")
        return EXIT_FAULT
    except MemoryError:
        _report("error: out of memory; lower population.scale, days or --workers")
        return EXIT_FAULT
    except BrokenPipeError:
        return EXIT_FAULT
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        _report(f"error: {where}{exc.strerror or exc}")
        return EXIT_FAULT
    except Exception as exc:
        _report(f"internal error: {type(exc).__name__}: {_first_line(exc)}")
        return EXIT_FAULT


def _report(message: str) -> None:
    if os.environ.get("CONTAINMENT_SIM_DEBUG"):
        traceback.print_exc()
    print(message, file=sys.stderr)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else "(no message)"


def _interrupted(exc: Interrupted) -> str:
    unit = getattr(exc, "unit", "runs")
    if not exc.kept or exc.finished == 0:
        return f"interrupted after {exc.finished} of {exc.total} {unit}; nothing was written"
    return (
        f"interrupted: {exc.finished} of {exc.total} {unit} finished and are kept in "
        f"{exc.kept}; run the same command with --resume to continue"
    )


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM like Ctrl-C while a command runs (so staging folders are cleaned up)."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _size(text: str) -> int:
    """An argparse type: a size such as ``5MB``, ``500kB``, ``2GB`` or a number of bytes."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmMgG]?)[bB]?\s*", text)
    if match is None:
        raise argparse.ArgumentTypeError(f"expected a size such as 5MB or 500kB, got {text!r}")
    scale = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9}[match.group(2).lower()]
    value = int(float(match.group(1)) * scale)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 byte, got {text!r}")
    return value


def add_input_options(p: argparse.ArgumentParser) -> None:
    """``--max-file-size`` and ``--no-resource-check``."""
    p.add_argument(
        "--max-file-size",
        type=_size,
        default=DEFAULT_LIMITS.max_bytes,
        metavar="SIZE",
        help=f"largest scenario file read (default {format_bytes(DEFAULT_LIMITS.max_bytes)})",
    )
    p.add_argument(
        "--no-resource-check",
        action="store_true",
        help="run even if the estimated memory or time exceeds what this machine has",
    )


def add_verbosity(p: argparse.ArgumentParser) -> None:
    """``-v/--verbose`` and ``-q/--quiet``: how much is logged on stderr."""
    p.add_argument(
        "-v", "--verbose", action="count", default=0, help="log more (progress lines, details)"
    )
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")


def verbosity(args: argparse.Namespace) -> int:
    """-1 for ``--quiet``, else the number of ``-v``."""
    return -1 if getattr(args, "quiet", False) else int(getattr(args, "verbose", 0) or 0)


def announce(what: str, scenario: Scenario, runs: int, workers: int | None) -> None:
    """Log the size of a job and its estimated time before it starts."""
    from containment_sim.progress import format_duration, log

    cost = estimate(scenario)
    text = f"{what}: {runs:,} runs, {cost}"
    if workers is not None:
        total = cost.seconds * runs / max(workers, 1)
        text += f"; about {format_duration(total)} in all on {workers} worker(s)"
    log(text)


def add_output_options(p: argparse.ArgumentParser, resumable: bool, default: str) -> None:
    """``--out``, ``--force``, ``--format`` and (for jobs of many runs) ``--resume``."""
    p.add_argument("--out", type=Path, help=f"output folder (default {default})")
    p.add_argument(
        "--format",
        choices=FORMATS,
        default="csv",
        help="table format: csv (default) or parquet (needs the parquet extra: pyarrow)",
    )
    p.add_argument(
        "--force", action="store_true", help="replace the output folder if it holds results"
    )
    if resumable:
        p.add_argument(
            "--resume",
            action="store_true",
            help="keep the finished runs of an interrupted job in the output folder and run "
            "only the rest (same scenario and options)",
        )


def load_with_overrides(args: argparse.Namespace) -> Scenario:
    """Load ``args.scenario`` within the limits, apply the common overrides, print warnings."""
    limits = Limits(max_bytes=getattr(args, "max_file_size", DEFAULT_LIMITS.max_bytes))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ScenarioWarning)
        scenario = load_scenario(args.scenario, limits)
    for warning in caught:
        if isinstance(warning.message, ScenarioWarning):
            print(str(warning.message), file=sys.stderr)
    changes = {
        "seed": getattr(args, "seed", None),
        "days": getattr(args, "days", None),
        "population.scale": getattr(args, "scale", None),
        "dt": getattr(args, "dt", None),
        "strategy": getattr(args, "strategy", None),
        "engine": getattr(args, "engine", None),
    }
    try:
        return with_overrides(scenario, changes)
    except OverrideError as exc:
        raise ScenarioError(
            [
                replace(p, source="command line", field=_OPTIONS.get(p.field, p.field))
                for p in exc.problems
            ]
        ) from None


def check_cost(args: argparse.Namespace, scenario: Scenario, concurrent: int = 1) -> None:
    """Check memory and time of a run unless ``--no-resource-check``; name the scenario file."""
    if getattr(args, "no_resource_check", False):
        return
    try:
        check_resources(scenario, concurrent)
    except ResourceError as exc:
        source = args.scenario if args.scenario is not None else DEFAULT_SCENARIO
        raise ResourceError(f"{source}: {exc}") from None


def prepare_output(args: argparse.Namespace, default: Path) -> OutputFolder:
    """The checked output folder of a command: ``--out``, or ``default`` inside ``results/``."""
    check_format(getattr(args, "format", "csv"))
    force, resume = args.force, getattr(args, "resume", False)
    if args.out is not None:
        return OutputFolder.prepare(args.out, force=force, resume=resume)
    return OutputFolder.prepare(default, force=force, resume=resume, inside="results")


def cores() -> int:
    """CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def cap_workers(args: argparse.Namespace, runs: int) -> int:
    """``--workers``, at most the number of runs and (unless ``--oversubscribe``) of cores."""
    workers = min(args.workers, max(runs, 1))
    if not args.oversubscribe and workers > cores():
        print(
            f"--workers {args.workers}: using {cores()}, the number of cores "
            "(add --oversubscribe to use more)",
            file=sys.stderr,
        )
        workers = cores()
    out: int = workers
    return out
