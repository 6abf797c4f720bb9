"""The ``compare``, ``sweep`` and ``plot`` commands of the command line."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import pandas as pd
from ruamel.yaml import YAML

from containment_sim.attribution import attribute, check_units
from containment_sim.experiments import OUTCOMES, Comparison, compare
from containment_sim.loading import Problem, ScenarioError, problems_from
from containment_sim.scenario import Scenario
from containment_sim.sweep import sweep

__all__ = ["add_experiment_commands"]


def add_experiment_commands(sub: Any, scenario_help: str, load: Any) -> None:
    """Register ``compare``, ``sweep`` and ``plot`` on the subcommand parser ``sub``.

    Args:
        sub: The ``add_subparsers`` object of the main parser.
        scenario_help: Help text of the scenario argument.
        load: ``load(args) -> Scenario`` applying the common overrides.
    """
    p = sub.add_parser(
        "compare",
        help="compare strategies over replicates",
        description="Run strategies x replicates with common random numbers; "
        "write tables, averted counts and charts.",
    )
    p.add_argument("scenario", nargs="?", default=None, help=scenario_help)
    p.add_argument("--strategies", help="comma-separated strategies (default: all, none first)")
    _common(p)
    p.add_argument(
        "--attribute",
        metavar="STRATEGY",
        help="also attribute the infections this strategy averts to its measures",
    )
    p.add_argument(
        "--group",
        action="append",
        default=[],
        metavar="NAME=M1+M2",
        help="with --attribute: treat these measures as one unit (repeatable)",
    )
    p.set_defaults(handler=lambda a: _cmd_compare(a, load(a)))

    p = sub.add_parser("sweep", help="sweep one or two parameters and chart an outcome")
    p.add_argument("scenario", nargs="?", default=None, help=scenario_help)
    p.add_argument(
        "--param",
        action="append",
        required=True,
        metavar="PATH=V1,V2,...",
        help="dotted scenario path and values, e.g. measures.tracing.capacity=100,300",
    )
    p.add_argument("--strategy", help="strategy to run (default: the scenario's)")
    p.add_argument("--outcome", default="total_infections", help="outcome to chart")
    _common(p, per="grid point")
    p.set_defaults(handler=lambda a: _cmd_sweep(a, load(a)))

    p = sub.add_parser("plot", help="redraw the charts of a saved run, comparison or sweep")
    p.add_argument("directory", type=Path)
    p.set_defaults(handler=_cmd_plot)


def positive_int(text: str) -> int:
    """An argparse type: an integer of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def output_folder(text: str) -> Path:
    """An argparse type: a folder to write into (it may exist, but not as a file)."""
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{path} exists and is not a folder")
    return path


def _common(p: argparse.ArgumentParser, per: str = "strategy") -> None:
    p.add_argument(
        "--replicates", type=positive_int, default=20, help=f"runs per {per} (default 20)"
    )
    p.add_argument(
        "--workers", type=positive_int, default=1, help="local worker processes (default 1)"
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on this Dask distributed scheduler instead (needs the dask extra)",
    )
    p.add_argument("--seed", type=int, help="base seed; replicate r uses seed + r")
    p.add_argument("--days", type=int, help="number of days to simulate")
    p.add_argument("--scale", type=float, help="fraction of the population to simulate")
    p.add_argument("--dt", type=float, help="step length in days")
    p.add_argument("--engine", choices=("vectorized", "des"), help="simulation engine")
    p.add_argument("--out", type=output_folder, help="output folder")
    p.add_argument("--no-plot", action="store_true", help="write tables only")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")


def _bar(total: int, quiet: bool, desc: str) -> Any:
    from tqdm import tqdm

    return tqdm(
        total=total, desc=desc, unit="run", disable=True if quiet else None, file=sys.stderr
    )


def _cmd_compare(args: argparse.Namespace, scenario: Scenario) -> int:
    strategies = args.strategies.split(",") if args.strategies else None
    try:
        units = _units(args.group) if args.group else None
        if args.attribute:  # fail before the comparison runs
            check_units(scenario, args.attribute, units)
        n = len(strategies or scenario.strategies) * args.replicates
        with _bar(n, args.quiet, "compare") as bar:
            cmp = compare(
                scenario,
                strategies,
                args.replicates,
                args.seed,
                args.workers,
                bar.update,
                args.scheduler,
            )
        if args.attribute:
            k = len(units) if units else len(scenario.strategies[args.attribute])
            with _bar(2**k * args.replicates, args.quiet, "attribute") as bar:
                cmp.attribution = attribute(
                    scenario,
                    args.attribute,
                    units,
                    args.replicates,
                    args.seed,
                    args.workers,
                    progress=bar.update,
                    scheduler=args.scheduler,
                )
    except (KeyError, ValueError) as exc:
        raise ScenarioError([Problem("command line", None, "", str(exc).strip("'\""))]) from None
    out = args.out or Path("results") / f"{scenario.name}-comparison"
    cmp.save(out)
    if not args.no_plot:
        from containment_sim.charts import save_comparison_charts

        save_comparison_charts(cmp, out)
    if not args.quiet:
        print(_comparison_text(cmp))
        print(f"results written to {out}/")
    return 0


def _units(groups: list[str]) -> dict[str, list[str]]:
    units = {}
    for group in groups:
        name, _, members = group.partition("=")
        if not members:
            raise ValueError(f"--group {group!r}: expected NAME=MEASURE1+MEASURE2")
        units[name] = members.split("+")
    return units


def _comparison_text(cmp: Comparison) -> str:
    table = cmp.table()
    lines = [
        f"{'strategy':<12}{'infections (95% interval)':>34}{'confirmed':>11}{'deaths':>9}"
        f"{'peak day':>10}{'contained':>11}{'averted':>12}"
    ]
    for _, row in table.iterrows():
        interval = (
            f"{row['total_infections_mean']:,.0f} ({row['total_infections_lo95']:,.0f}-"
            f"{row['total_infections_hi95']:,.0f})"
        )
        averted = row.get("infections_averted_mean", float("nan"))
        lines.append(
            f"{row['strategy']:<12}{interval:>34}{row['confirmed_mean']:>11,.0f}"
            f"{row['deaths_mean']:>9,.0f}{row['peak_day_mean']:>10.1f}"
            f"{row['probability_contained']:>11.0%}{averted:>12,.0f}"
        )
    if cmp.attribution is not None:
        lines.append("\nattribution (Shapley values of infections averted):")
        for _, row in cmp.attribution.iterrows():
            lines.append(f"  {row['unit']:<28}{row['shapley']:>14,.0f}  ({row['share']:+.1%})")
    return "\n".join(lines)


def _parse_params(specs: list[str]) -> dict[str, list[Any]]:
    params: dict[str, list[Any]] = {}
    yaml = YAML(typ="safe")
    for spec in specs:
        path, _, values = spec.partition("=")
        if not path or not values:
            raise ScenarioError(
                [
                    Problem(
                        "command line", None, "--param", f"expected PATH=V1,V2,... (got {spec!r})"
                    )
                ]
            )
        if path in ("seed", "strategy"):
            raise ScenarioError(
                [
                    Problem(
                        "command line",
                        None,
                        "--param",
                        f"sweep {path!r} with --{path} or replicates instead",
                    )
                ]
            )
        params[path] = [yaml.load(v) for v in values.split(",")]
    return params


def _cmd_sweep(args: argparse.Namespace, scenario: Scenario) -> int:
    from pydantic import ValidationError

    params = _parse_params(args.param)
    if args.outcome not in OUTCOMES:
        raise ScenarioError(
            [
                Problem(
                    "command line",
                    None,
                    "--outcome",
                    f"unknown outcome {args.outcome!r}; allowed: {', '.join(OUTCOMES)}",
                )
            ]
        )
    points = 1
    for values in params.values():
        points *= len(values)
    try:
        with _bar(points * args.replicates, args.quiet, "sweep") as bar:
            table = sweep(
                scenario,
                params,
                args.strategy,
                args.replicates,
                args.seed,
                args.workers,
                bar.update,
                args.scheduler,
            )
    except ValidationError as exc:
        raise ScenarioError(problems_from(exc, None, "--param")) from None
    except (KeyError, ValueError) as exc:
        message = str(exc).strip("'\"")
        raise ScenarioError([Problem("command line", None, "--param", message)]) from None
    out = args.out or Path("results") / f"{scenario.name}-sweep"
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "sweep.csv", index=False)
    meta = {"params": list(params), "outcome": args.outcome, "replicates": args.replicates}
    (out / "sweep.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    if not args.no_plot:
        _sweep_chart(table, list(params), args.outcome, out)
    if not args.quiet:
        print(table.groupby(list(params))[args.outcome].agg(["mean", "sem"]).to_string())
        print(f"results written to {out}/")
    return 0


def _sweep_chart(table: pd.DataFrame, params: list[str], outcome: str, out: Path) -> None:
    from containment_sim.charts import plot_sweep
    from containment_sim.plotting import save_figure

    fig = plot_sweep(table, params, outcome)
    fig.suptitle(
        f"{outcome.replace('_', ' ')}: strategy {table['strategy'].iloc[0]}, "
        f"{table['replicate'].nunique()} replicates per point"
    )
    for suffix in (".png", ".svg"):
        save_figure(fig, out / f"sweep{suffix}")


def _cmd_plot(args: argparse.Namespace) -> int:
    src: Path = args.directory
    if (src / "comparison.json").exists():
        from containment_sim.charts import save_comparison_charts

        files = save_comparison_charts(Comparison.load(src), src)
    elif (src / "sweep.json").exists():
        meta = json.loads((src / "sweep.json").read_text(encoding="utf-8"))
        _sweep_chart(pd.read_csv(src / "sweep.csv"), meta["params"], meta["outcome"], src)
        files = [src / "sweep.png", src / "sweep.svg"]
    elif (src / "summary.json").exists():
        from containment_sim.plotting import plot_epidemic_curve, save_figure
        from containment_sim.results import Result

        files = [save_figure(plot_epidemic_curve(Result.load(src)), src / "epidemic_curve.png")]
    else:
        raise ScenarioError(
            [
                Problem(
                    str(src),
                    None,
                    "",
                    "no saved run, comparison or sweep here "
                    "(expected summary.json, comparison.json or sweep.json)",
                )
            ]
        )
    print("\n".join(str(f) for f in files))
    return 0
