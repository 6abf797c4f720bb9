"""Many runs: strategies x replicates on a process pool, with common random numbers.

Replicate ``r`` of every strategy uses the seed ``seed + r``, so strategies are compared on
the same random numbers decision by decision (each decision has its own named stream), and
differences between strategies are signal, not reseeding noise. Each run is a pure function
of (scenario, strategy, seed): results are identical whatever the number of workers.

Given a ``ledger`` folder, every finished run is kept there as it finishes (see
:mod:`containment_sim.ledger`) and runs already kept are read instead of run again, so an
interrupted comparison resumes where it stopped, with byte-identical tables. Workers that die
are replaced and their runs retried (:mod:`containment_sim.runner`).
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from pydantic import ValidationError

from containment_sim._version import __version__
from containment_sim.engines import run
from containment_sim.errors import ResultFolderError
from containment_sim.ledger import Entry, Ledger
from containment_sim.names import name_problem
from containment_sim.outputs import (
    OutputFolder,
    check_format,
    read_document,
    read_tables,
    write_tables,
)
from containment_sim.posterior import Posterior, apply_values
from containment_sim.progress import ProgressArg, progress_hook
from containment_sim.provenance import run_settings
from containment_sim.results import Result
from containment_sim.runner import run_jobs
from containment_sim.scenario import Scenario, with_overrides

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "OUTCOMES",
    "Comparison",
    "Task",
    "as_posterior",
    "compare",
    "make_tasks",
    "run_tasks",
]

OUTCOMES: tuple[str, ...] = (
    "total_infections", "local_infections", "imported_infections", "exported_infections",
    "confirmed", "deaths", "peak_prevalence", "peak_day", "clearance_day", "contained",
    "quarantine_person_days", "overflow_person_days", "contacts_traced",
    "checkpoint_detections", "last_local_infection_day",
)  # fmt: skip
"""Per-run outcomes kept in the tidy replicates table."""

CURVES: tuple[str, ...] = (
    "n_infected", "new_infections", "new_infections_imported", "new_confirmed", "new_deaths",
    "cum_infections", "n_home_quarantine", "n_site_quarantine", "n_isolated", "r_t",
)  # fmt: skip
"""Daily columns kept from every run for charts."""

TABLE_TOTALS: dict[str, dict[str, str]] = {
    "sites": {"occupancy": "site_occupancy", "capacity": "site_capacity"},
    "hospitals": {"occupied": "hospital_occupied", "beds": "hospital_beds",
                  "waiting": "hospital_waiting"},
    "checkpoints": {"travellers": "checkpoint_travellers", "screened": "checkpoint_screened",
                    "unchecked": "checkpoint_unchecked", "capacity": "checkpoint_capacity"},
}  # fmt: skip
"""Daily city totals kept from a run's named tables: table -> {column: curve name}."""


@dataclass(frozen=True)
class Task:
    """One run: a scenario (as JSON data), a strategy or an explicit set of measures, a seed.

    Attributes:
        scenario: ``Scenario.model_dump(mode="json", by_alias=True)``.
        label: Name under which the run is reported (a strategy or a measure subset).
        replicate: Replicate number.
        seed: Seed of the run.
        measures: If given, run exactly these measures instead of the strategy ``label``.
        values: Parameter values drawn from a posterior, as ``(dotted path, value)`` pairs
            set in the scenario before the run.
    """

    scenario: dict[str, Any]
    label: str
    replicate: int
    seed: int
    measures: tuple[str, ...] | None = None
    values: tuple[tuple[str, float], ...] = ()


@dataclass
class RunRecord:
    """What is kept of one run: its summary and the daily curves for charts."""

    label: str
    replicate: int
    summary: dict[str, Any]
    curves: pd.DataFrame
    regions: pd.DataFrame


def _execute(task: Task) -> RunRecord:
    """Run one task (in a worker process)."""
    data = task.scenario
    if task.values:
        data = apply_values(copy.deepcopy(data), dict(task.values))
    scenario = Scenario.model_validate(data)
    changes: dict[str, Any] = {"seed": task.seed, "strategy": task.label}
    if task.measures is not None:  # any label; the run's strategy needs a safe name
        name = task.label if name_problem(task.label) is None else "measures"
        changes = {"seed": task.seed, "strategy": name,
                   "strategies": {**scenario.strategies, name: list(task.measures)}}  # fmt: skip
    result = run(with_overrides(scenario, changes))
    return _record(task, result)


def _record(task: Task, result: Result) -> RunRecord:
    ts = result.timeseries
    curves = ts[["day", *CURVES]].copy()
    for table, columns in TABLE_TOTALS.items():
        if table in result.tables:
            daily = result.tables[table].groupby("day")[list(columns)].sum()
            for column, name in columns.items():
                curves[name] = daily[column].reindex(curves["day"]).to_numpy()
    regions = result.by_region[["day", "region", "new_infections", "n_infected"]].copy()
    for frame in (curves, regions):
        frame.insert(0, "replicate", task.replicate)
        frame.insert(0, "strategy", task.label)
    return RunRecord(task.label, task.replicate, result.summary, curves, regions)


def run_tasks(
    tasks: Sequence[Task],
    workers: int = 1,
    progress: ProgressArg = None,
    scheduler: str | None = None,
    ledger: Ledger | str | Path | None = None,
    desc: str = "runs",
) -> list[RunRecord]:
    """Run tasks on local processes, or on a Dask cluster, and return them in task order.

    Args:
        tasks: The runs.
        workers: Number of local worker processes (1: in this process); no more are started
            than there are tasks.
        progress: Called with the number of runs just finished (runs read from the ledger
            count at the start); ``True`` reports progress with the time left (a bar on a
            terminal, log lines elsewhere: :class:`~containment_sim.progress.Progress`).
        scheduler: Address of a running Dask distributed scheduler (``tcp://host:8786``);
            needs the ``dask`` extra. Overrides ``workers``.
        ledger: A folder (or :class:`~containment_sim.ledger.Ledger`) keeping every finished
            run; runs already in it are read, not run again.
        desc: What the progress report calls the work.

    Returns:
        One record per task, in the order of ``tasks``, whatever runs them: every task is a
        pure function of its scenario, label and seed.

    Raises:
        containment_sim.errors.RunFailedError: A run raised.
        containment_sim.errors.WorkerLostError: A worker kept dying on the same run.
        containment_sim.errors.Interrupted: Ctrl-C; finished runs are in the ledger.
    """
    book = Ledger(ledger) if isinstance(ledger, str | Path) else ledger
    digests: dict[int, str] = {}  # tasks usually share one scenario: hash it once
    keys = [task_key(t, digests) for t in tasks] if book is not None else []
    done: dict[int, RunRecord] = {}
    for i, key in enumerate(keys):
        entry = book.get(key) if book is not None else None
        if entry is not None:
            done[i] = _from_entry(entry)

    def keep(i: int, record: RunRecord) -> None:
        if book is not None:
            book.put(keys[i], _to_entry(record))

    hook, report = progress_hook(progress, len(tasks), desc, "run")
    try:
        return run_jobs(
            _execute,
            tasks,
            workers=workers,
            scheduler=scheduler,
            progress=hook,
            done=done,
            on_result=keep,
            describe=_describe,
            kept=str(book.folder) if book is not None else None,
        )
    finally:
        if report is not None:
            report.close()


def task_key(task: Task, digests: dict[int, str] | None = None) -> str:
    """The ledger key of a task: every field of it, and the package version.

    Args:
        task: The task.
        digests: A cache of scenario digests by ``id`` of the scenario data, for many tasks
            sharing one scenario.
    """
    digests = {} if digests is None else digests
    if id(task.scenario) not in digests:
        digests[id(task.scenario)] = Ledger.key(task.scenario)
    fields = {f.name: getattr(task, f.name) for f in dataclasses.fields(task)}
    return Ledger.key({"kind": "run", **fields, "scenario": digests[id(task.scenario)]})


def _describe(task: Task) -> str:
    return f"{task.label!r} replicate {task.replicate} (seed {task.seed})"


def _to_entry(record: RunRecord) -> Entry:
    document = {"label": record.label, "replicate": record.replicate, "summary": record.summary}
    return Entry(document, {"curves": record.curves, "regions": record.regions})


def _from_entry(entry: Entry) -> RunRecord:
    doc = entry.document
    return RunRecord(
        doc["label"], doc["replicate"], doc["summary"], entry.frames["curves"],
        entry.frames["regions"],
    )  # fmt: skip


def replicate_seed(seed: int, replicate: int) -> int:
    """The seed of replicate ``replicate`` (the same for every strategy)."""
    return seed + replicate


def make_tasks(
    scenario: Scenario,
    labels: Iterable[str],
    replicates: int,
    seed: int,
    measures: dict[str, tuple[str, ...]] | None = None,
    posterior: Posterior | None = None,
) -> list[Task]:
    """Tasks for labels x replicates, with common seeds per replicate.

    With a ``posterior``, replicate r runs with the parameters drawn for its seed
    (:meth:`~containment_sim.posterior.Posterior.draw`): the same for every label.

    Raises:
        containment_sim.errors.InputError: A posterior path the scenario does not have.
    """
    data = scenario.model_dump(mode="json", by_alias=True)
    draws: list[tuple[tuple[str, float], ...]] = [()] * replicates
    if posterior is not None:
        posterior.check(data)
        draws = [tuple(posterior.draw(replicate_seed(seed, r)).items()) for r in range(replicates)]
    return [
        Task(data, label, r, replicate_seed(seed, r), (measures or {}).get(label), draws[r])
        for label in labels
        for r in range(replicates)
    ]


def as_posterior(posterior: Posterior | str | Path | None) -> Posterior | None:
    """A posterior given as an object or a file (``posterior.csv``), or ``None``."""
    if posterior is None or isinstance(posterior, Posterior):
        return posterior
    return Posterior.load(posterior)


@dataclass
class Comparison:
    """Outcomes of strategies over replicates, with paired differences against ``none``.

    Attributes:
        scenario: The scenario compared (with the base seed).
        strategies: Strategies in the order given.
        replicates: Tidy table: strategy, replicate, seed and one column per outcome.
        curves: Daily curves per strategy and replicate (for charts).
        regions: Daily new infections and infected per region, strategy and replicate.
        attribution: Shapley values per measure, if computed.
        settings: Replicates and base seed (and what else the comparison records).
        provenance: Versions and git commit recorded with a saved comparison (``None`` for a
            fresh one; :meth:`save` records the current ones).
    """

    scenario: Scenario
    strategies: list[str]
    replicates: pd.DataFrame
    curves: pd.DataFrame
    regions: pd.DataFrame
    attribution: pd.DataFrame | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] | None = None

    def __repr__(self) -> str:
        from containment_sim.display import comparison_repr

        return comparison_repr(self)

    def _repr_html_(self) -> str:
        from containment_sim.display import comparison_html

        return comparison_html(self)

    def table(self) -> pd.DataFrame:
        """One row per strategy: mean, median, 95 % interval of each outcome; averted counts."""
        from containment_sim.statistics import comparison_table

        return comparison_table(self.replicates, self.strategies)

    def plot(self, chart: str = "curves", path: str | Path | None = None) -> Figure:
        """Draw one chart of the comparison.

        Imports matplotlib (and the charts) on first use; nothing is shown and no global
        matplotlib setting changes (see :mod:`containment_sim.plots.comparison`).

        Args:
            chart: ``curves``, ``outcomes``, ``averted``, ``attribution``, ``rt``,
                ``regions``, ``site_occupancy`` or ``checkpoint_load``.
            path: If given, also save the chart there as PNG, SVG and PDF (``out/averted``
                gives ``out/averted.png``, ``.svg`` and ``.pdf``; the folder must exist).

        Returns:
            The matplotlib figure.

        Raises:
            ValueError: An unknown chart, or one that does not apply (``averted`` without
                ``none``, ``attribution`` without an attribution, a measure's load when no
                strategy has the measure).
        """
        from containment_sim.plots import draw_chart, save_figure

        fig = draw_chart(self, chart)
        if path is not None:
            save_figure(fig, path)
        return fig

    def save(self, directory: str | Path, force: bool = True, format: str = "csv") -> Path:
        """Write the comparison's tables, charts' data and ``comparison.json`` to ``directory``.

        The tables are ``comparison.csv``, ``replicates.csv`` (and ``replicates.parquet``
        when pyarrow is installed), ``curves.csv``, ``regions.csv`` and, if computed,
        ``attribution.csv``. They are written to a staging folder that then replaces
        ``directory`` as a whole (:class:`~containment_sim.outputs.OutputFolder`): no file of
        an earlier comparison is left beside them, and an error leaves ``directory`` as it was.

        Args:
            directory: The folder.
            force: Replace a folder that holds results (with ``False``, refuse it).
            format: ``csv`` or ``parquet`` (every table as ``<name>.parquet`` instead; needs
                the ``parquet`` extra).

        Raises:
            containment_sim.errors.OutputError: The folder may not or cannot be written.
        """
        check_format(format)
        folder = OutputFolder.prepare(directory, force=force)
        with folder as staging:
            self.write(staging, format)
        return folder.target

    def write(self, folder: str | Path, format: str = "csv") -> Path:
        """Write the files of :meth:`save` into ``folder`` in place (e.g. a staging folder)."""
        frames = {
            "comparison": self.table(),
            "replicates": self.replicates,
            "curves": self.curves,
            "regions": self.regions,
        }
        if self.attribution is not None:
            frames["attribution"] = self.attribution
        replicates = int(self.settings.get("replicates", self.replicates["replicate"].nunique()))
        meta = {"version": __version__, "strategies": self.strategies, **self.settings,
                "attribution": self.attribution is not None,
                "rows": {name: len(frame) for name, frame in frames.items()}, "format": format,
                **run_settings(self.scenario, replicates, self.settings.get("seed"))}  # fmt: skip
        if self.provenance is not None:
            meta["provenance"] = self.provenance
        parquet = ("replicates",) if _has_pyarrow() else ()
        return write_tables(folder, frames, {"comparison.json": meta}, parquet, format)

    @classmethod
    def load(cls, directory: str | Path) -> Comparison:
        """Read a comparison written by :meth:`save`, checking that it is complete.

        Raises:
            containment_sim.errors.ResultFolderError: A file is missing, unreadable or has
                another number of rows than ``comparison.json`` records.
        """
        src = Path(directory)
        meta = read_document(src, "comparison.json")
        try:
            scenario = Scenario.model_validate(meta.pop("scenario"))
            strategies = [str(s) for s in meta.pop("strategies")]
        except (KeyError, TypeError, ValidationError):
            raise ResultFolderError(
                f"{src / 'comparison.json'}: lacks a valid scenario or strategy list"
            ) from None
        meta.pop("version", None)
        meta.pop("scale", None)
        meta.pop("format", None)
        provenance = meta.pop("provenance", None)
        rows: dict[str, int | None] = dict.fromkeys(_TABLES)
        rows.update(meta.pop("rows", None) or {})
        if not meta.pop("attribution", (src / "attribution.csv").exists()):
            rows.pop("attribution", None)
        rows.pop("comparison", None)
        tables = read_tables(src, rows, _COLUMNS)
        return cls(
            scenario, strategies, tables["replicates"], tables["curves"], tables["regions"],
            tables.get("attribution"), meta,
            provenance if isinstance(provenance, dict) else None,
        )  # fmt: skip


_TABLES = ("replicates", "curves", "regions", "attribution")
_COLUMNS = {
    "replicates": ["strategy", "replicate", "seed", *OUTCOMES],
    "curves": ["strategy", "replicate", "day", *CURVES],
    "regions": ["strategy", "replicate", "day", "region", "new_infections", "n_infected"],
    "attribution": ["unit", "measures", "shapley", "share", "outcome", "total_averted"],
}


def compare(
    scenario: Scenario,
    strategies: Sequence[str] | None = None,
    replicates: int = 20,
    seed: int | None = None,
    workers: int = 1,
    progress: ProgressArg = None,
    scheduler: str | None = None,
    ledger: Ledger | str | Path | None = None,
    posterior: Posterior | str | Path | None = None,
) -> Comparison:
    """Run strategies x replicates with common random numbers and compare them.

    Args:
        scenario: The scenario; its ``strategies`` name the measures of each strategy.
        strategies: Strategies to compare (default: all the scenario defines, ``none`` first).
        replicates: Runs per strategy.
        seed: Base seed (default: the scenario's); replicate r uses ``seed + r``.
        workers: Local worker processes; results do not depend on it.
        progress: Called with 1 after each run, or ``True`` to report progress with the time
            left (:class:`~containment_sim.progress.Progress`).
        scheduler: Address of a Dask distributed scheduler to run on instead (``dask`` extra).
        ledger: Folder keeping every finished run; runs already there are not run again
            (see :func:`run_tasks`).
        posterior: A calibration's posterior (or its file): replicate r runs with the
            parameters drawn for it, the same for every strategy.
    """
    names = list(strategies) if strategies is not None else _default_order(scenario)
    unknown = [s for s in names if s not in scenario.strategies]
    if unknown:
        known = ", ".join(scenario.strategies)
        raise KeyError(f"unknown strategies {unknown}; the scenario defines: {known}")
    base = scenario.seed if seed is None else seed
    drawn = as_posterior(posterior)
    tasks = make_tasks(scenario, names, replicates, base, posterior=drawn)
    records = run_tasks(tasks, workers, progress, scheduler, ledger, desc="compare")
    settings: dict[str, Any] = {"replicates": replicates, "seed": base}
    if drawn is not None:
        settings["posterior"] = drawn.source
    return Comparison(
        scenario,
        names,
        tidy_outcomes(records, tasks),
        pd.concat([r.curves for r in records], ignore_index=True),
        pd.concat([r.regions for r in records], ignore_index=True),
        settings=settings,
    )


def tidy_outcomes(
    records: Sequence[RunRecord], tasks: Sequence[Task] | None = None
) -> pd.DataFrame:
    """One row per run: strategy, replicate, seed, the outcomes, and drawn parameters.

    Args:
        records: The runs.
        tasks: Their tasks, in the same order; parameters drawn from a posterior are added
            as columns named by their paths.
    """
    rows = [
        {
            "strategy": r.label,
            "replicate": r.replicate,
            "seed": r.summary["seed"],
            **{k: r.summary.get(k) for k in OUTCOMES},
            **(dict(tasks[i].values) if tasks is not None else {}),
        }
        for i, r in enumerate(records)
    ]
    frame = pd.DataFrame(rows)
    frame["clearance_day"] = frame["clearance_day"].astype("Float64")
    frame["last_local_infection_day"] = frame["last_local_infection_day"].astype("Float64")
    return frame


def _default_order(scenario: Scenario) -> list[str]:
    canonical = [s for s in Scenario.CANONICAL_STRATEGIES if s in scenario.strategies]
    return canonical + [s for s in scenario.strategies if s not in canonical]


def _has_pyarrow() -> bool:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True
