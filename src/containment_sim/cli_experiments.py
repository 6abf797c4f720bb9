"""The ``compare``, ``sweep`` and ``plot`` commands of the command line.

``compare`` and ``sweep`` keep every finished run in ``<out>/.partial`` as it finishes
(:mod:`containment_sim.ledger`); ``--resume`` reads those instead of running them again, and
the folder is replaced as a whole once everything is written
(:class:`~containment_sim.outputs.OutputFolder`). ``plot`` checks a saved folder against its
document before drawing, and replaces its charts as a whole too.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from containment_sim.cli_support import (
    MAX_REPLICATES,
    add_input_options,
    add_output_options,
    add_verbosity,
    announce,
    bad_input,
    cap_workers,
    check_cost,
    prepare_output,
)
from containment_sim.errors import Interrupted, ResultFolderError
from containment_sim.loading import OverrideError, ScenarioError
from containment_sim.names import name_problem
from containment_sim.outputs import (
    OutputFolder,
    copy_data_files,
    read_document,
    read_tables,
    write_tables,
)
from containment_sim.progress import Progress
from containment_sim.provenance import run_settings
from containment_sim.safe_yaml import Limits, YamlInputError, load_text, to_plain
from containment_sim.scenario import Scenario

if TYPE_CHECKING:  # the simulation and pandas are imported when a command runs, not for --help
    import pandas as pd

    from containment_sim.experiments import Comparison
    from containment_sim.posterior import Posterior
    from containment_sim.results import Result

__all__ = ["add_experiment_commands", "add_parallel_options", "positive_int"]


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
    _common(p, "results/<scenario name>-comparison/")
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
    _common(p, "results/<scenario name>-sweep/", per="grid point")
    p.set_defaults(handler=lambda a: _cmd_sweep(a, load(a)))

    p = sub.add_parser(
        "plot",
        help="redraw the charts of a saved run, comparison, sweep or calibration",
        description="Check a saved folder against its document and redraw its charts.",
    )
    p.add_argument("directory", type=Path)
    add_verbosity(p)
    p.set_defaults(handler=_cmd_plot)


def positive_int(text: str) -> int:
    """An argparse type: an integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _replicates(text: str) -> int:
    value = positive_int(text)
    if value > MAX_REPLICATES:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_REPLICATES:,}, got {value:,}")
    return value


def add_parallel_options(p: argparse.ArgumentParser, workers_help: str) -> None:
    """``--workers``, ``--oversubscribe`` and ``--scheduler``: where the runs are done."""
    p.add_argument("--workers", type=positive_int, default=1, help=workers_help)
    p.add_argument(
        "--oversubscribe",
        action="store_true",
        help="allow more --workers than this machine has cores",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on this Dask distributed scheduler instead (needs the dask extra)",
    )


def _common(p: argparse.ArgumentParser, default_out: str, per: str = "strategy") -> None:
    p.add_argument(
        "--replicates", type=_replicates, default=20, help=f"runs per {per} (default 20)"
    )
    add_parallel_options(p, "local worker processes (default 1; at most the number of cores)")
    p.add_argument("--seed", type=int, help="base seed; replicate r uses seed + r")
    p.add_argument(
        "--posterior",
        type=Path,
        metavar="FILE",
        help="posterior.csv of a calibration: replicate r draws its parameters from it "
        "(the same for every strategy), so intervals carry parameter uncertainty",
    )
    p.add_argument("--days", type=int, help="number of days to simulate")
    p.add_argument("--scale", type=float, help="fraction of the population to simulate")
    p.add_argument("--dt", type=float, help="step length in days")
    p.add_argument("--engine", choices=("vectorized", "des"), help="simulation engine")
    add_output_options(p, resumable=True, default=default_out)
    add_input_options(p)
    p.add_argument("--no-plot", action="store_true", help="write tables only")
    add_verbosity(p)


def _bar(total: int, quiet: bool, desc: str) -> Progress:
    return Progress(total, desc, "run", bar=False if quiet else None)


def _cmd_compare(args: argparse.Namespace, scenario: Scenario) -> int:
    from containment_sim.attribution import attribute, check_units
    from containment_sim.experiments import compare

    strategies = args.strategies.split(",") if args.strategies else None
    units = _units(args.group) if args.group else None
    try:
        if strategies is not None:
            unknown = [s for s in strategies if s not in scenario.strategies]
            if unknown:
                known = ", ".join(scenario.strategies)
                raise KeyError(f"unknown strategies {unknown}; the scenario defines: {known}")
        if args.attribute:  # fail before the comparison runs
            check_units(scenario, args.attribute, units)
    except (KeyError, ValueError) as exc:
        raise bad_input("command line", str(exc).strip("'\"")) from None
    posterior = _posterior(args, scenario)
    n = len(strategies or scenario.strategies) * args.replicates
    workers = cap_workers(args, n)
    check_cost(args, scenario, 1 if args.scheduler else workers)
    folder = prepare_output(args, Path("results") / f"{scenario.name}-comparison")
    total = n + (2 ** len(units or scenario.strategies[args.attribute]) * args.replicates
                 if args.attribute else 0)  # fmt: skip
    announce("compare", scenario, total, None if args.scheduler else workers)
    with _resumable(folder, total), folder as staging:
        with _bar(n, args.quiet, "compare") as bar:
            cmp = compare(
                scenario, strategies, args.replicates, args.seed, workers, bar,
                args.scheduler, folder.ledger, posterior,
            )  # fmt: skip
        if args.attribute:
            k = len(units) if units else len(scenario.strategies[args.attribute])
            with _bar(2**k * args.replicates, args.quiet, "attribute") as bar:
                cmp.attribution = attribute(
                    scenario, args.attribute, units, args.replicates, args.seed, workers,
                    progress=bar, scheduler=args.scheduler, ledger=folder.ledger,
                    posterior=posterior,
                )  # fmt: skip
        cmp.write(staging, args.format)
        if not args.no_plot:
            from containment_sim.plots import save_comparison_charts

            save_comparison_charts(cmp, staging)
    if not args.quiet:
        print(_comparison_text(cmp))
        print(f"results written to {args.out or folder.target}/")
    return 0


def _posterior(args: argparse.Namespace, scenario: Scenario) -> Posterior | None:
    """The ``--posterior`` file, read and checked against the scenario before any run."""
    if args.posterior is None:
        return None
    from containment_sim.posterior import Posterior

    posterior = Posterior.load(args.posterior)
    posterior.check(scenario.model_dump(mode="json", by_alias=True))
    return posterior


@contextlib.contextmanager
def _resumable(folder: OutputFolder, total: int) -> Iterator[None]:
    """Ctrl-C between or after the runs: say that the finished runs are kept, and where."""
    try:
        yield
    except Interrupted:
        raise
    except KeyboardInterrupt:
        from containment_sim.ledger import Ledger

        kept = len(Ledger(folder.ledger))
        raise Interrupted(kept, total, str(folder.ledger) if kept else None) from None


def _units(groups: list[str]) -> dict[str, list[str]]:
    units = {}
    for group in groups:
        name, _, members = group.partition("=")
        if not members:
            raise bad_input("command line", f"expected NAME=MEASURE1+MEASURE2 (got {group!r})",
                            "--group")  # fmt: skip
        problem = name_problem(name)
        if problem is not None:
            raise bad_input("command line", f"{problem} (got {name!r})", "--group")
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
    limits = Limits(max_bytes=10_000, max_depth=10, max_nodes=1_000)
    for spec in specs:
        path, _, values = spec.partition("=")
        if not path or not values:
            raise bad_input("command line", f"expected PATH=V1,V2,... (got {spec!r})", "--param")
        if path in ("seed", "strategy"):
            raise bad_input(
                "command line", f"sweep {path!r} with --{path} or replicates instead", "--param"
            )
        parsed = []
        for value in values.split(","):
            try:
                parsed.append(to_plain(load_text(value, limits)))
            except YamlInputError as exc:
                raise bad_input(
                    "command line", f"{path}: cannot read {value!r}: {exc.message}", "--param"
                ) from None
        params[path] = parsed
    return params


def _cmd_sweep(args: argparse.Namespace, scenario: Scenario) -> int:
    from containment_sim.experiments import OUTCOMES
    from containment_sim.sweeps import grid, sweep

    params = _parse_params(args.param)
    if args.outcome not in OUTCOMES:
        raise bad_input(
            "command line", f"unknown outcome {args.outcome!r}; allowed: {', '.join(OUTCOMES)}",
            "--outcome",
        )  # fmt: skip
    try:
        points = grid(scenario, params, args.strategy)
    except OverrideError as exc:
        raise ScenarioError([replace(p, source="--param") for p in exc.problems]) from None
    except (KeyError, ValueError) as exc:
        raise bad_input("command line", str(exc).strip("'\""), "--param") from None
    posterior = _posterior(args, scenario)
    n = len(points) * args.replicates
    workers = cap_workers(args, n)
    for _, changed in points:
        check_cost(args, changed, 1 if args.scheduler else workers)
    folder = prepare_output(args, Path("results") / f"{scenario.name}-sweep")
    announce("sweep", scenario, n, None if args.scheduler else workers)
    with _resumable(folder, n), folder as staging:
        with _bar(n, args.quiet, "sweep") as bar:
            table = sweep(
                scenario, params, args.strategy, args.replicates, args.seed, workers,
                bar, args.scheduler, folder.ledger, posterior,
            )  # fmt: skip
        meta = {"params": list(params), "values": params, "outcome": args.outcome,
                "strategy": args.strategy or scenario.strategy, "rows": {"sweep": len(table)},
                "format": args.format,
                **run_settings(scenario, args.replicates, args.seed)}  # fmt: skip
        if posterior is not None:
            meta["posterior"] = posterior.source
        write_tables(staging, {"sweep": table}, {"sweep.json": meta}, format=args.format)
        if not args.no_plot:
            _sweep_chart(table, list(params), args.outcome, scenario.population.scale, staging)
    if not args.quiet:
        print(table.groupby(list(params))[args.outcome].agg(["mean", "sem"]).to_string())
        print(f"results written to {args.out or folder.target}/")
    return 0


def _sweep_chart(
    table: pd.DataFrame, params: list[str], outcome: str, scale: float | None, out: Path
) -> list[Path]:
    from containment_sim.plots import plot_sweep, save_figure

    return save_figure(plot_sweep(table, params, outcome, scale), out / "sweep")


def _cmd_plot(args: argparse.Namespace) -> int:
    from containment_sim.plots import FORMATS

    src: Path = args.directory
    draw = _reader(src)  # reads and checks the folder; returns what draws its charts
    folder = OutputFolder.prepare(src, force=True)
    with folder as staging:
        copy_data_files(src, staging, tuple(f".{fmt}" for fmt in FORMATS))
        try:
            names = draw(staging)
        except (KeyError, ValueError, IndexError, TypeError) as exc:
            raise ResultFolderError(
                f"{src}: cannot draw the charts; the tables do not match their document "
                f"({type(exc).__name__}: {exc})"
            ) from None
    print("\n".join(str(src / name) for name in names))
    return 0


def _reader(src: Path) -> Any:
    """Read and check a saved folder; return ``draw(folder) -> [chart file names]``."""
    from containment_sim.experiments import OUTCOMES, Comparison
    from containment_sim.results import Result

    if not src.is_dir():
        raise ResultFolderError(f"{src}: no such folder")
    if (src / "comparison.json").exists():
        from containment_sim.plots import save_comparison_charts

        cmp = Comparison.load(src)
        return lambda out: [p.name for p in save_comparison_charts(cmp, out)]
    if (src / "sweep.json").exists():
        meta = read_document(src, "sweep.json")
        params, outcome = meta.get("params"), meta.get("outcome")
        if not (isinstance(params, list) and 1 <= len(params) <= 2 and outcome in OUTCOMES):
            raise ResultFolderError(f"{src / 'sweep.json'}: lacks valid params and outcome")
        rows = (meta.get("rows") or {}).get("sweep")
        columns = {"sweep": [*map(str, params), "replicate", "strategy", outcome]}
        table = read_tables(src, {"sweep": rows}, columns)["sweep"]
        scale = meta.get("scale")
        if not (isinstance(scale, int | float) and 0 < scale <= 1):
            scale = None  # written before sweeps recorded their scale

        def draw(out: Path) -> list[str]:
            files = _sweep_chart(table, [str(p) for p in params], str(outcome), scale, out)
            return [p.name for p in files]

        return draw
    if (src / "summary.json").exists():
        result = Result.load(src)
        return lambda out: _run_chart(result, out)
    if (src / "calibration.json").exists():
        return _calibration_charts(src)
    raise ResultFolderError(
        f"{src}: no saved run, comparison, sweep or calibration here "
        "(expected summary.json, comparison.json, sweep.json or calibration.json)"
    )


def _calibration_charts(src: Path) -> Any:
    """Read a calibration folder; return what redraws its predictive check and marginals."""
    from containment_sim.plots import save_figure
    from containment_sim.plots.calibration import FitCharts, plot_marginals, plot_predictive

    charts = FitCharts.load(src)

    def draw(out: Path) -> list[str]:
        files = save_figure(plot_predictive(charts), out / "posterior_predictive")
        files += save_figure(plot_marginals(charts), out / "marginals")
        return [p.name for p in files]

    return draw


def _run_chart(result: Result, out: Path) -> list[str]:
    from containment_sim.plots import plot_epidemic_curve, save_figure

    return [p.name for p in save_figure(plot_epidemic_curve(result), out / "epidemic_curve")]
