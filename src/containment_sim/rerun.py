"""Reproduce a saved run, comparison or sweep and check that every table comes out the same.

A folder's document (``summary.json``, ``comparison.json`` or ``sweep.json``) embeds the
scenario, seed, scale, engine and replicates (:func:`containment_sim.provenance.run_settings`).
:func:`reproduce` reruns exactly that into a scratch folder and compares every table file byte
for byte with the saved one::

    report = cs.reproduce("results/xianning")
    report.identical            # True when every table matches
    print(report)               # what matched, what differs, versions that changed
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from containment_sim.errors import ResultFolderError
from containment_sim.outputs import read_document
from containment_sim.progress import log
from containment_sim.provenance import provenance
from containment_sim.scenario import Scenario

__all__ = ["Reproduction", "reproduce"]

_TABLE_SUFFIXES = (".csv", ".parquet")
_NOT_OUTCOMES = ("version", "provenance")


@dataclass
class Reproduction:
    """What a rerun of a saved folder gave, file by file.

    Attributes:
        folder: The saved folder.
        kind: ``run``, ``comparison`` or ``sweep``.
        matching: Files that came out byte for byte the same.
        differing: Files that came out different (for ``summary.json``: its outcomes).
        missing: Files the rerun wrote that the folder lacks.
        recorded: The provenance the folder records (``{}`` if none).
        current: The provenance of this rerun.
    """

    folder: Path
    kind: str
    matching: list[str] = field(default_factory=list)
    differing: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    recorded: dict[str, Any] = field(default_factory=dict)
    current: dict[str, Any] = field(default_factory=dict)

    @property
    def identical(self) -> bool:
        """Whether every file matched."""
        return not self.differing and not self.missing and bool(self.matching)

    def version_changes(self) -> list[str]:
        """Versions (package, Python, dependencies, commit) that differ from the recorded ones."""
        if not self.recorded:
            return ["the folder records no versions"]

        def flat(p: dict[str, Any]) -> dict[str, Any]:
            deps = p.get("dependencies") or {}
            return {
                "containment-sim": p.get("version"),
                "Python": p.get("python"),
                **deps,
                "commit": p.get("git_commit"),
            }

        old, new = flat(self.recorded), flat(self.current)
        return [f"{k} {old.get(k)} -> {new.get(k)}" for k in new if old.get(k) != new.get(k)]

    def __str__(self) -> str:
        n = len(self.matching) + len(self.differing) + len(self.missing)
        if self.identical:
            lines = [f"{self.folder}: reproduced; all {n} files identical"]
        else:
            lines = [f"{self.folder}: NOT reproduced; {len(self.matching)} of {n} files identical"]
            lines += [f"  differs: {name}" for name in self.differing]
            lines += [f"  missing from the folder: {name}" for name in self.missing]
        changes = self.version_changes()
        if changes:
            lines.append("  versions changed since: " + "; ".join(changes))
        return "\n".join(lines)


def reproduce(
    folder: str | Path,
    workers: int = 1,
    progress: Callable[[int], None] | bool | None = None,
) -> Reproduction:
    """Rerun a saved run, comparison or sweep exactly and compare its tables byte for byte.

    Args:
        folder: A folder written by ``run``, ``compare`` or ``sweep`` (or its
            ``summary.json``, ``comparison.json`` or ``sweep.json``).
        workers: Local worker processes for comparisons and sweeps (results do not depend
            on it).
        progress: As for :func:`containment_sim.run` (days) or
            :func:`containment_sim.compare` (runs).

    Returns:
        The report; ``report.identical`` says whether every table matched.

    Raises:
        containment_sim.errors.ResultFolderError: Not a folder of saved results, or one that
            records too little to be rerun (e.g. a comparison with an attribution).
    """
    src = Path(folder)
    if src.is_file() and src.name in _RERUN:
        src = src.parent
    for document, rerun in _RERUN.items():
        if (src / document).is_file():
            meta = read_document(src, document)
            recorded = meta.get("provenance")
            report = Reproduction(src, document.removesuffix(".json").replace("summary", "run"))
            report.recorded = recorded if isinstance(recorded, dict) else {}
            report.current = provenance()
            log(f"{src}: rerunning the {report.kind} its {document} records", logging.DEBUG)
            with tempfile.TemporaryDirectory(prefix="containment-sim-reproduce-") as tmp:
                rerun(meta, Path(tmp), workers, progress)
                _compare(src, Path(tmp), document, report)
            return report
    raise ResultFolderError(
        f"{src}: no saved run, comparison or sweep here "
        "(expected summary.json, comparison.json or sweep.json)"
    )


def _scenario(meta: dict[str, Any], where: str) -> Scenario:
    from pydantic import ValidationError

    try:
        return Scenario.model_validate(meta["scenario"])
    except (KeyError, TypeError, ValidationError):
        raise ResultFolderError(f"{where}: lacks a valid scenario; cannot rerun") from None


def _rerun_run(meta: dict[str, Any], out: Path, workers: int, progress: Any) -> None:
    from containment_sim.engines import run

    result = run(_scenario(meta, "summary.json"), progress=progress)
    result.write(out, format=meta.get("format", "csv"))


def _rerun_comparison(meta: dict[str, Any], out: Path, workers: int, progress: Any) -> None:
    from containment_sim.experiments import compare

    if meta.get("attribution"):
        raise ResultFolderError(
            "comparison.json: a comparison with an attribution is rerun with the same "
            "`containment-sim compare --attribute` command; reproduce checks the others"
        )
    try:
        strategies = [str(s) for s in meta["strategies"]]
        replicates, seed = int(meta["replicates"]), int(meta["seed"])
    except (KeyError, TypeError, ValueError):
        raise ResultFolderError("comparison.json: lacks strategies, replicates or seed") from None
    cmp = compare(_scenario(meta, "comparison.json"), strategies, replicates, seed, workers,
                  progress, posterior=meta.get("posterior"))  # fmt: skip
    cmp.write(out, format=meta.get("format", "csv"))


def _rerun_sweep(meta: dict[str, Any], out: Path, workers: int, progress: Any) -> None:
    from containment_sim.outputs import write_tables
    from containment_sim.sweeps import sweep

    values, strategy = meta.get("values"), meta.get("strategy")
    if not isinstance(values, dict) or not isinstance(strategy, str):
        raise ResultFolderError(
            "sweep.json: records no parameter values or strategy (written by an older "
            "version); cannot rerun"
        )
    try:
        replicates, seed = int(meta["replicates"]), int(meta["seed"])
    except (KeyError, TypeError, ValueError):
        raise ResultFolderError("sweep.json: lacks replicates or seed") from None
    table = sweep(_scenario(meta, "sweep.json"), values, strategy, replicates, seed, workers,
                  progress, posterior=meta.get("posterior"))  # fmt: skip
    write_tables(out, {"sweep": table}, {}, format=meta.get("format", "csv"))


_RERUN = {
    "summary.json": _rerun_run,
    "comparison.json": _rerun_comparison,
    "sweep.json": _rerun_sweep,
}


def _compare(saved: Path, rerun: Path, document: str, report: Reproduction) -> None:
    """Compare every table the rerun wrote; for a run, also the summary's outcomes."""
    for path in sorted(rerun.iterdir()):
        if path.suffix not in _TABLE_SUFFIXES:
            continue
        log(f"comparing {path.name}", logging.DEBUG)
        mine = saved / path.name
        if (
            path.suffix == ".parquet"
            and not mine.is_file()
            and (saved / f"{path.stem}.csv").is_file()
        ):
            continue  # a Parquet copy written because pyarrow is installed now, not then
        if not mine.is_file():
            report.missing.append(path.name)
        elif mine.read_bytes() == path.read_bytes():
            report.matching.append(path.name)
        else:
            report.differing.append(path.name)
    if document == "summary.json":
        old, new = read_document(saved, document), read_document(rerun, document)
        same = _outcomes(old) == _outcomes(new)
        (report.matching if same else report.differing).append("summary.json (outcomes)")


def _outcomes(summary: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in summary.items() if k not in _NOT_OUTCOMES}
