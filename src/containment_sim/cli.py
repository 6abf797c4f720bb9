"""The ``containment-sim`` command line: a thin layer over the public API.

Exit codes: 0 success, 2 bad input (scenario, arguments, output folder), 1 a fault (the work
failed), 130 interrupted. Every failure is reported on stderr in one line (one per problem of a
scenario), never as a traceback (see :mod:`containment_sim.cli_support`).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from containment_sim._version import __version__
from containment_sim.cli_calibrate import add_calibrate_command
from containment_sim.cli_experiments import add_experiment_commands, positive_int
from containment_sim.cli_support import (
    EXIT_BAD_INPUT,
    EXIT_FAULT,
    Parser,
    add_input_options,
    add_output_options,
    add_verbosity,
    bad_input,
    check_cost,
    load_with_overrides,
    prepare_output,
    run_command,
    verbosity,
)
from containment_sim.errors import OutputError
from containment_sim.loading import (
    BUILTIN_SCENARIOS,
    DEFAULT_SCENARIO,
    builtin_scenario_path,
    scenario_json_schema,
)
from containment_sim.outputs import RESULT_DOCUMENTS
from containment_sim.progress import Progress, configure_logging

if TYPE_CHECKING:  # the engines (and pandas) are imported when a run starts, not for --help
    from containment_sim.results import Result
    from containment_sim.scenario import Scenario

__all__ = ["EXIT_BAD_INPUT", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit code."""

    def parse_and_run(_: argparse.Namespace) -> int:
        args = _parser().parse_args(argv)
        configure_logging(verbosity(args))
        return int(args.handler(args))

    return run_command(parse_and_run, argparse.Namespace())


def _parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="containment-sim",
        description="Simulate isolation-based containment of an outbreak in a city.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    scen_help = (
        f"scenario YAML file or built-in name ({', '.join(BUILTIN_SCENARIOS)}); "
        f"default: {DEFAULT_SCENARIO}"
    )

    _add_run(sub, scen_help)

    p = sub.add_parser("validate", help="check a scenario file and report every problem")
    p.add_argument("scenario", help=scen_help)
    add_input_options(p)
    add_verbosity(p)
    p.set_defaults(handler=_cmd_validate)

    p = sub.add_parser("schema", help="print the JSON Schema of scenario files")
    p.set_defaults(handler=_cmd_schema)

    p = sub.add_parser("init", help="write a copy of a built-in scenario to start from")
    p.add_argument(
        "path", type=Path, help="file to write (must not exist); its name names the scenario"
    )
    p.add_argument(
        "--from",
        dest="template",
        default=DEFAULT_SCENARIO,
        choices=BUILTIN_SCENARIOS,
        help=f"built-in scenario to copy (default {DEFAULT_SCENARIO})",
    )
    p.set_defaults(handler=_cmd_init)
    add_experiment_commands(sub, scen_help, load_with_overrides)
    add_calibrate_command(sub, scen_help)
    return parser


def _add_run(sub: Any, scen_help: str) -> None:
    """The ``run`` command and its options."""
    p = sub.add_parser(
        "run",
        help="run a scenario once and write its results, or reproduce saved results",
        description="Run a scenario once; write summary.json, time series and a chart. "
        "Given a saved folder (or its summary.json, comparison.json or sweep.json), rerun "
        "exactly what it records and report whether every table comes out byte for byte the "
        "same (exit code 0 if so, 1 if not).",
    )
    p.add_argument(
        "scenario",
        nargs="?",
        default=None,
        help=f"{scen_help}; or a saved results folder to reproduce",
    )
    p.add_argument(
        "--engine",
        choices=("vectorized", "des"),
        help="vectorized (fixed steps, fast) or des (SimPy events, the reference)",
    )
    p.add_argument(
        "--strategy",
        help="strategy to run, as named in the scenario "
        "(default: the scenario's `strategy`, usually none)",
    )
    p.add_argument("--seed", type=int, help="random seed (overrides the scenario's)")
    p.add_argument("--days", type=int, help="number of days to simulate")
    p.add_argument("--scale", type=float, help="fraction of the population to simulate, in (0, 1]")
    p.add_argument("--dt", type=float, help="step length in days (1, 0.5, 0.25, ...)")
    add_output_options(
        p,
        resumable=False,
        default="results/<scenario name>/, or results/<scenario name>-<strategy>/ for "
        "another strategy than none",
    )
    add_input_options(p)
    p.add_argument(
        "--no-plot", action="store_true", help="do not draw the epidemic curve (PNG, SVG and PDF)"
    )
    p.add_argument(
        "--workers",
        type=positive_int,
        default=1,
        help="when reproducing a comparison or sweep: local worker processes (default 1)",
    )
    add_verbosity(p)
    p.set_defaults(handler=_cmd_run)


_RUN_OPTIONS = ("engine", "strategy", "seed", "days", "scale", "dt", "out")


def run(scenario: Scenario, **options: Any) -> Result:
    """:func:`containment_sim.run`, imported when a run starts (not for ``--help``)."""
    from containment_sim.engines import run as run_engine

    return run_engine(scenario, **options)


def _cmd_run(args: argparse.Namespace) -> int:
    if args.scenario is not None and _saved(Path(args.scenario)):
        return _cmd_reproduce(args)
    scenario = load_with_overrides(args)
    check_cost(args, scenario)
    default = Path("results") / (
        scenario.name if scenario.strategy == "none" else f"{scenario.name}-{scenario.strategy}"
    )
    folder = prepare_output(args, default)  # checked (and writable) before the run
    started = time.perf_counter()
    with folder as staging:  # replaces the folder when all is written; removed on failure
        with Progress(
            scenario.days, scenario.name, "day", bar=False if args.quiet else None
        ) as bar:
            result = run(scenario, progress=bar)
        elapsed = time.perf_counter() - started
        result.write(staging, args.format)
        if not args.no_plot:
            result.plot(staging / "epidemic_curve")
    if not args.quiet:
        print(_summary_table(result, elapsed))
        print(f"results written to {args.out or default}/")
    return 0


def _saved(path: Path) -> bool:
    """Whether ``path`` is a saved results folder or one of its documents (not a scenario)."""
    return path.is_dir() or (path.is_file() and path.name in RESULT_DOCUMENTS)


def _cmd_reproduce(args: argparse.Namespace) -> int:
    from containment_sim.rerun import reproduce

    given = [f"--{name}" for name in _RUN_OPTIONS if getattr(args, name) is not None]
    given += ["--format"] * (args.format != "csv")
    if given:
        raise bad_input(
            "command line",
            f"{args.scenario} is rerun exactly as recorded; drop {', '.join(given)}",
        )
    report = reproduce(args.scenario, workers=args.workers, progress=not args.quiet)
    if not args.quiet or not report.identical:
        print(report)
    return 0 if report.identical else EXIT_FAULT


def _summary_table(result: Result, elapsed: float) -> str:
    s = result.summary
    rows: list[tuple[str, Any]] = [
        ("scenario", f"{s['scenario_name']} (seed {s['seed']}, scale {s['scale']}, dt {s['dt']})"),
        ("engine, strategy", f"{s['engine']}, {s['strategy']}"),
        ("period", f"{s['start_date']} + {s['days']} days"),
        ("population", f"{s['population']:,}"),
        ("infections", f"{s['total_infections']:,} ({s['attack_rate']:.1%} of the population)"),
        ("  imported", f"{s['imported_infections']:,} (of {s['returnees']:,} returnees)"),
        ("  local", f"{s['local_infections']:,}"),
        ("  exported", f"{s['exported_infections']:,} (infectious residents who left the city)"),
        ("deaths", f"{s['deaths']:,}"),
        *_measure_rows(result),
        (
            "peak",
            f"{s['peak_infected']:,} infected ({s['peak_prevalence']:.2%}) on day "
            f"{s['peak_day']} ({s['peak_date']})",
        ),
        (
            "last local infection",
            "none"
            if s["last_local_infection_day"] is None
            else f"day {s['last_local_infection_day']}",
        ),
        ("wall time", f"{elapsed:.1f} s"),
    ]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def _measure_rows(result: Result) -> list[tuple[str, str]]:
    """Summary lines about measures, only for those the strategy used."""
    s, ts, rows = result.summary, result.timeseries, []
    if "checkpoints" in result.tables:
        rows.append(
            (
                "checkpoints",
                f"{s['checkpoint_screened']:,} screened, "
                f"{s['checkpoint_detections']:,} detected, {s['checkpoint_registered']:,} "
                f"registered, {s['checkpoint_unchecked']:,} passed unchecked",
            )
        )
    if s["returnees_blocked"]:
        rows.append(("returnees turned away", f"{s['returnees_blocked']:,}"))
    if ts["new_quarantined"].sum():
        rows.append(
            (
                "home quarantine",
                f"{ts['new_quarantined'].sum():,} people, at most "
                f"{ts['n_home_quarantine'].max():,} at once",
            )
        )
    return rows


def _cmd_validate(args: argparse.Namespace) -> int:
    from containment_sim.reproduction import implied_r0, layer_rates
    from containment_sim.resources import estimate

    scenario = load_with_overrides(args)
    check_cost(args, scenario)
    rates = layer_rates(scenario)
    given = (
        ""
        if scenario.transmission.r0 is None
        else f" (transmission.r0 = {scenario.transmission.r0})"
    )
    layers = ", ".join(f"{name} {rate:.4g}" for name, rate in rates.items())
    print(
        f"{args.scenario}: valid scenario {scenario.name!r}: {sum(scenario.scaled_population()):,} "
        f"agents in {len(scenario.population.regions)} regions, {scenario.days} days; "
        f"R0 {implied_r0(scenario, rates):.2f}{given}; layer rates per day: {layers}; "
        f"{estimate(scenario)}"
    )
    return 0


def _cmd_schema(args: argparse.Namespace) -> int:
    print(json.dumps(scenario_json_schema(), indent=2, ensure_ascii=False))
    return 0


def _cmd_init(args: argparse.Namespace) -> int:
    import re

    from containment_sim.names import name_problem

    name = Path(args.path).stem
    problem = name_problem(name)
    if problem is not None:
        raise bad_input(
            "command line",
            f"the scenario is named after the file, {name!r}: {problem}; choose another name",
            str(args.path),
        )
    text = builtin_scenario_path(args.template).read_text(encoding="utf-8")
    text = re.sub(r"^name: .*$", f"name: {json.dumps(name, ensure_ascii=False)}", text,
                  count=1, flags=re.MULTILINE)  # fmt: skip
    try:
        with open(args.path, "x", encoding="utf-8") as stream:
            stream.write(text)
    except FileExistsError:
        raise OutputError(f"{args.path}: already exists; choose another path") from None
    except OSError as exc:
        raise OutputError(f"{args.path}: cannot write: {exc.strerror or exc}") from None
    print(f"wrote {args.path}: scenario {name!r}, a copy of the built-in {args.template!r}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
