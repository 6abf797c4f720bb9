"""The ``calibrate`` command: fit a scenario to reported data and write the posterior.

Everything is checked before the first run (the scenario and its ``calibration:`` section,
the options, the data files and targets, the priors' ranges, pyabc being installed, the
output folder): bad input is one line on stderr and exit code 2. The fit's history is kept
in ``<out>/.partial/fit.db`` after every generation; Ctrl-C keeps the finished generations
and ``--resume`` continues from them. The folder is replaced as a whole once everything is
written (:class:`~containment_sim.outputs.OutputFolder`).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from containment_sim.calibration_spec import CalibrationSpec, ParameterSpec, TargetSpec
from containment_sim.cli_experiments import add_parallel_options, positive_int
from containment_sim.cli_support import (
    add_input_options,
    add_output_options,
    bad_input,
    cap_workers,
    check_cost,
    load_with_overrides,
    prepare_output,
)
from containment_sim.errors import Interrupted
from containment_sim.loading import (
    BUILTIN_SCENARIOS,
    DEFAULT_SCENARIO,
    ScenarioError,
    builtin_scenario_path,
    field_line,
    problems_from,
)
from containment_sim.safe_yaml import Limits, YamlInputError, load_text, to_plain
from containment_sim.scenario import Scenario

if TYPE_CHECKING:  # the fit and its libraries are imported when the command runs, not for --help
    from containment_sim.calibration import Calibration

__all__ = ["add_calibrate_command"]


def add_calibrate_command(sub: Any, scenario_help: str) -> None:
    """Register ``calibrate`` on the subcommand parser ``sub``."""
    p = sub.add_parser(
        "calibrate",
        help="fit a scenario's parameters to reported data (ABC-SMC) and write the posterior",
        description="Fit the parameters named in the scenario's calibration section (or given "
        "here) to observed data by ABC-SMC; write the posterior, its summary, diagnostics, "
        "posterior predictive check, charts and the calibrated scenario.",
    )
    p.add_argument("scenario", nargs="?", default=None, help=scenario_help)
    _fit_options(p)
    _run_options(p)
    p.set_defaults(handler=_cmd_calibrate)


def _fit_options(p: argparse.ArgumentParser) -> None:
    """Options that replace parts of the calibration section."""
    p.add_argument(
        "--data",
        action="append",
        metavar="FILE",
        help="observed CSV file (with a date column) or dataset name; repeatable; "
        "replaces the calibration section's data",
    )
    p.add_argument(
        "--parameter",
        action="append",
        metavar="YAML",
        help="a parameter to fit, e.g. '{path: transmission.r0, prior: uniform, "
        "low: 1.5, high: 4}'; repeatable; replaces the section's parameters",
    )
    p.add_argument(
        "--target",
        action="append",
        metavar="YAML",
        help="a target, e.g. '{observed: cumulative_confirmed, simulated: "
        "cum_confirmed, increments: true}'; repeatable; replaces the section's",
    )
    p.add_argument("--population-size", type=positive_int, help="particles per generation")
    p.add_argument("--generations", type=positive_int, help="most generations to run")
    p.add_argument("--min-acceptance-rate", type=float, help="stop below this acceptance rate")
    p.add_argument("--max-minutes", type=float, help="stop the fit after this wall time")
    p.add_argument(
        "--scale",
        dest="fit_scale",
        type=float,
        help="simulated fraction of the population (counts are scaled to the city)",
    )
    p.add_argument("--strategy", dest="fit_strategy", help="strategy simulated")
    p.add_argument("--seed", dest="fit_seed", type=int, help="seed of the fit")


def _run_options(p: argparse.ArgumentParser) -> None:
    """Options of how the fit runs and what it writes."""
    p.add_argument(
        "--predictive",
        type=int,
        default=50,
        metavar="N",
        help="runs drawn from the posterior for the predictive check (default 50)",
    )
    add_parallel_options(p, "local worker processes (default 1); the result does not depend on it")
    add_output_options(p, resumable=True, default="results/<scenario name>-calibration/")
    add_input_options(p)
    p.add_argument("--no-plot", action="store_true", help="write tables only")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")


def _source(args: argparse.Namespace) -> Path:
    name = args.scenario if args.scenario is not None else DEFAULT_SCENARIO
    path = Path(name)
    if not path.exists() and path.suffix == "" and name in BUILTIN_SCENARIOS:
        return builtin_scenario_path(name)
    return path


def _cmd_calibrate(args: argparse.Namespace) -> int:
    from containment_sim.calibration import calibrate, prepare, require_pyabc
    from containment_sim.calibration.report import write

    scenario = load_with_overrides(args)
    source = _source(args)
    spec = _spec(args, scenario)
    require_pyabc()

    def where(field: str) -> str:
        if field.startswith("calibration.") and _from_options(args, field):
            return f"command line: {field}"
        line = field_line(source, field)
        return f"{source}:{line}: {field}" if line is not None else f"{source}: {field}"

    fit = prepare(scenario, spec, base_dir=source.parent, where=where)
    runs = fit.spec.population_size
    workers = cap_workers(args, runs)
    check_cost(args, Scenario.model_validate(fit.model.scenario), 1 if args.scheduler else workers)
    folder = prepare_output(args, Path("results") / f"{scenario.name}-calibration")
    db = folder.ledger / "fit.db"
    if args.resume and not db.exists() and (folder.target / "history.db").exists():
        db.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(folder.target / "history.db", db)
        shutil.copyfile(folder.target / "history.json", db.with_suffix(".json"))
    with _Progress(fit.spec.generations, runs, args.quiet) as bar:
        try:
            cal = calibrate(fit, db=db, resume=args.resume, workers=workers,
                            scheduler=args.scheduler, progress=bar.update,
                            predictive=max(args.predictive, 0))  # fmt: skip
        except KeyboardInterrupt:
            folder.abandon()
            done = _generations(db)
            raise Interrupted(done, fit.spec.generations, str(db) if done else None,
                              "generations") from None  # fmt: skip
    with folder as staging:
        write(cal, staging, source if source.exists() else None, db, charts=not args.no_plot)
        shutil.copyfile(db.with_suffix(".json"), staging / "history.json")
    if not args.quiet:
        print(_report(cal))
        print(f"results written to {args.out or folder.target}/")
    return 0


def _from_options(args: argparse.Namespace, field: str) -> bool:
    kind = field.split(".")[1]
    return bool(getattr(args, {"parameters": "parameter", "targets": "target"}.get(kind, ""), None))


def _spec(args: argparse.Namespace, scenario: Scenario) -> CalibrationSpec:
    """The scenario's calibration section with the options applied, validated."""
    base = scenario.calibration.model_dump(by_alias=True) if scenario.calibration else {}
    changes: dict[str, Any] = {
        "data": args.data, "population_size": args.population_size,
        "generations": args.generations, "min_acceptance_rate": args.min_acceptance_rate,
        "max_minutes": args.max_minutes, "scale": args.fit_scale,
        "strategy": args.fit_strategy, "seed": args.fit_seed,
        "parameters": _parsed(args.parameter, "--parameter", ParameterSpec),
        "targets": _parsed(args.target, "--target", TargetSpec),
    }  # fmt: skip
    base.update({k: v for k, v in changes.items() if v is not None})
    missing = [k for k in ("data", "parameters", "targets") if not base.get(k)]
    if missing:
        raise bad_input(
            "command line",
            f"scenario {scenario.name!r} has no calibration section; give "
            + ", ".join(f"--{m.rstrip('s')}" for m in missing),
        )
    try:
        spec = CalibrationSpec.model_validate(base)
    except ValidationError as exc:
        raise ScenarioError(problems_from(exc, None, "command line")) from None
    if spec.strategy is not None and spec.strategy not in scenario.strategies:
        known = ", ".join(scenario.strategies)
        raise bad_input("command line", f"unknown strategy {spec.strategy!r}; allowed: {known}",
                        "--strategy")  # fmt: skip
    return spec


def _parsed(texts: list[str] | None, option: str, model: type[BaseModel]) -> list[Any] | None:
    if not texts:
        return None
    limits = Limits(max_bytes=10_000, max_depth=10, max_nodes=1_000)
    out = []
    for text in texts:
        try:
            value = to_plain(load_text(text, limits))
        except YamlInputError as exc:
            raise bad_input(
                "command line", f"cannot read {text!r}: {exc.message}", option
            ) from None
        try:
            out.append(model.model_validate(value).model_dump(by_alias=True))
        except ValidationError as exc:
            raise ScenarioError(problems_from(exc, None, f"command line {option}")) from None
    return out


def _generations(db: Path) -> int:
    """Generations kept in a fit's database (0 if none or unreadable)."""
    import sqlite3

    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db) as con:
            row = con.execute("SELECT COUNT(*) FROM populations WHERE t >= 0").fetchone()
    except sqlite3.Error:
        return 0
    return int(row[0]) if row else 0


class _Progress:
    """A bar of accepted particles over all generations, with the estimated time left."""

    def __init__(self, generations: int, particles: int, quiet: bool):
        from tqdm import tqdm

        self.particles = particles
        self.bar = tqdm(total=(generations + 1) * particles, desc="calibrate", unit="particle",
                        disable=True if quiet else None, file=sys.stderr)  # fmt: skip
        self.accepted: dict[int, int] = {}

    def update(self, t: int, accepted: int, n: int, evaluated: int) -> None:
        """Called by the sampler as candidates finish."""
        self.accepted[t] = max(self.accepted.get(t, 0), accepted)
        position = sum(self.accepted.values())
        if position > self.bar.n:
            self.bar.update(position - self.bar.n)
        label = "prior sample" if t < 0 else f"generation {t + 1}"
        self.bar.set_description(label, refresh=False)
        self.bar.set_postfix_str(f"{evaluated:,} runs", refresh=False)

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.close()


def _report(cal: Calibration) -> str:
    summary = cal.summary()
    lines = [f"{'parameter':<44}{'median':>12}{'95% credible interval':>26}"]
    for _, row in summary.iterrows():
        interval = f"{row['lo95']:.4g} - {row['hi95']:.4g}"
        lines.append(f"{row['parameter']:<44}{row['median']:>12.4g}{interval:>26}")
    diag = cal.diagnostics
    last = diag.iloc[-1]
    lines.append(
        f"{len(diag)} generations, {int(diag['evaluations'].sum()):,} runs, "
        f"{cal.fit_seconds:.0f} s; last: epsilon {last['epsilon']:.4g}, acceptance "
        f"{last['acceptance_rate']:.1%}, effective sample size {last['ess']:.0f}"
    )
    predictive = cal.predictive()
    if len(predictive):
        lines.append(
            f"observed points inside the 95% predictive band: "
            f"{int(predictive['inside95'].sum())} of {len(predictive)}"
        )
    return "\n".join(lines)
