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
from typing import Any

from containment_sim._version import __version__
from containment_sim.cli_calibrate import add_calibrate_command
from containment_sim.cli_experiments import add_experiment_commands
from containment_sim.cli_support import (
    EXIT_BAD_INPUT,
    Parser,
    add_input_options,
    add_output_options,
    check_cost,
    load_with_overrides,
    prepare_output,
    run_command,
)
from containment_sim.engines import run
from containment_sim.errors import OutputError
from containment_sim.loading import (
    BUILTIN_SCENARIOS,
    DEFAULT_SCENARIO,
    builtin_scenario_path,
    scenario_json_schema,
)
from containment_sim.resources import estimate
from containment_sim.results import Result
from containment_sim.scenario import Scenario

__all__ = ["EXIT_BAD_INPUT", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit code."""

    def parse_and_run(_: argparse.Namespace) -> int:
        args = _parser().parse_args(argv)
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
    p.set_defaults(handler=_cmd_validate)

    p = sub.add_parser("schema", help="print the JSON Schema of scenario files")
    p.set_defaults(handler=_cmd_schema)

    p = sub.add_parser("init", help="write a copy of a built-in scenario to start from")
    p.add_argument("path", type=Path, help="file to write (must not exist)")
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
        help="run a scenario once and write its results",
        description="Run a scenario once; write summary.json, time series and a chart.",
    )
    p.add_argument("scenario", nargs="?", default=None, help=scen_help)
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
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    p.set_defaults(handler=_cmd_run)


def _cmd_run(args: argparse.Namespace) -> int:
    scenario = load_with_overrides(args)
    check_cost(args, scenario)
    default = Path("results") / (
        scenario.name if scenario.strategy == "none" else f"{scenario.name}-{scenario.strategy}"
    )
    folder = prepare_output(args, default)  # checked (and writable) before the run
    started = time.perf_counter()
    with folder as staging:  # replaces the folder when all is written; removed on failure
        result = _run_with_progress(scenario, quiet=args.quiet)
        elapsed = time.perf_counter() - started
        result.write(staging)
        if not args.no_plot:
            result.plot(staging / "epidemic_curve")
    if not args.quiet:
        print(_summary_table(result, elapsed))
        print(f"results written to {args.out or default}/")
    return 0


def _run_with_progress(scenario: Scenario, quiet: bool) -> Result:
    from tqdm import tqdm

    disable = True if quiet else None  # None: show only on a terminal
    with tqdm(
        total=scenario.days, desc=scenario.name, unit="day", disable=disable, file=sys.stderr
    ) as bar:
        return run(scenario, progress=bar.update)


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
    text = builtin_scenario_path(args.template).read_text(encoding="utf-8")
    try:
        with open(args.path, "x", encoding="utf-8") as stream:
            stream.write(text)
    except FileExistsError:
        raise OutputError(f"{args.path}: already exists; choose another path") from None
    except OSError as exc:
        raise OutputError(f"{args.path}: cannot write: {exc.strerror or exc}") from None
    print(f"wrote {args.path} (a copy of the built-in {args.template!r} scenario)")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
