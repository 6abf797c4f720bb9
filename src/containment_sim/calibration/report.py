"""Writing a calibration: tables, charts, and the calibrated scenario beside its posterior.

A calibration folder holds:

- ``posterior.csv``: the weighted particles of the last generation (one column per parameter
  path, ``weight``), the file ``--posterior`` reads;
- ``summary.csv``: per parameter its prior, posterior mean, median and 95 % credible interval;
- ``diagnostics.csv``: per generation the tolerance (epsilon), evaluations, acceptance rate,
  effective sample size and wall time;
- ``predictive.csv``: every observed point against the posterior predictive median and its
  90 % and 95 % bands; ``predictive_runs.csv``: the daily curves of those runs;
- ``<name>-calibrated.yaml``: the scenario with every fitted value at its posterior median,
  each marked with a comment giving its 95 % credible interval;
- ``posterior_predictive`` and ``marginals`` charts (PNG, SVG, PDF);
- ``history.db``: the pyabc history (SQLite), from which ``--resume`` continues;
- ``calibration.json``: the settings, seed, wall times and row counts.

Everything is written into a staging folder that replaces the target as a whole
(:class:`~containment_sim.outputs.OutputFolder`).
"""

from __future__ import annotations

import io
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from containment_sim._version import __version__
from containment_sim.calibration.data import DATASETS
from containment_sim.calibration.result import Calibration
from containment_sim.outputs import OutputFolder, write_tables

__all__ = ["calibrated_yaml", "save", "write"]


def save(
    calibration: Calibration,
    directory: str | Path,
    force: bool = True,
    source: Path | None = None,
    history: Path | None = None,
    charts: bool = True,
) -> Path:
    """Write a calibration's outputs to ``directory``, replacing it as a whole."""
    folder = OutputFolder.prepare(directory, force=force)
    with folder as staging:
        write(calibration, staging, source, history, charts)
    return folder.target


def write(
    calibration: Calibration,
    folder: Path,
    source: Path | None = None,
    history: Path | None = None,
    charts: bool = True,
) -> list[str]:
    """Write the outputs into ``folder`` in place (a staging folder); return the file names.

    Args:
        calibration: The fit.
        folder: Where to write.
        source: The scenario file fitted (its comments are kept in the calibrated copy).
        history: The fit's SQLite history, copied as ``history.db``.
        charts: Also draw the charts.
    """
    fit = calibration.fit
    curves = _curves(calibration)
    frames = {"posterior": calibration.posterior_samples, "summary": calibration.summary(),
              "diagnostics": calibration.diagnostics, "predictive": calibration.predictive(),
              "predictive_runs": curves}  # fmt: skip
    name = f"{fit.scenario.name}-calibrated.yaml"
    meta = _document(calibration, frames, name)
    write_tables(folder, frames, {"calibration.json": meta})
    text = source.read_text(encoding="utf-8") if source is not None else None
    base = source.parent if source is not None else None
    (folder / name).write_text(calibrated_yaml(calibration, text, base), encoding="utf-8")
    if history is not None and history.exists():
        shutil.copyfile(history, folder / "history.db")
    if charts:
        from containment_sim.plots import save_figure
        from containment_sim.plots.calibration import plot_marginals, plot_predictive

        save_figure(plot_predictive(calibration), folder / "posterior_predictive")
        save_figure(plot_marginals(calibration), folder / "marginals")
    return sorted(p.name for p in folder.iterdir())


def _curves(calibration: Calibration) -> pd.DataFrame:
    frames = []
    for k, run in enumerate(calibration.runs):
        frame = run.curves.copy()
        frame.insert(0, "particle", run.particle)
        frame.insert(0, "run", k)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame({"run": []})


def _document(
    calibration: Calibration, frames: dict[str, pd.DataFrame], name: str
) -> dict[str, Any]:
    fit = calibration.fit
    diagnostics = calibration.diagnostics
    return {
        "version": __version__,
        "scenario_name": fit.scenario.name,
        "strategy": fit.model.scenario["strategy"],
        "scale": fit.model.scale,
        "seed": fit.seed,
        "method": "ABC-SMC (pyabc), median tolerance schedule, multivariate normal kernel",
        "calibration": fit.spec.model_dump(mode="json", by_alias=True),
        "generations": len(diagnostics),
        "evaluations": int(diagnostics["evaluations"].sum()) if len(diagnostics) else 0,
        "fit_seconds": round(calibration.fit_seconds, 1),
        "predictive_runs": len(calibration.runs),
        "predictive_seconds": round(calibration.predictive_seconds, 1),
        "calibrated_scenario": name,
        "start_date": fit.scenario.start_date.isoformat(),
        "rows": {key: len(frame) for key, frame in frames.items()},
    }


def calibrated_yaml(calibration: Calibration, text: str | None, base: Path | None) -> str:
    """The scenario YAML with the fitted values at their posterior medians, marked.

    Args:
        calibration: The fit.
        text: The scenario file's text (comments kept); ``None``: written from the model.
        base: The scenario file's folder: relative data paths are made absolute, so the
            copy can be fitted again from anywhere.
    """
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096  # keep long flow-style lines as written
    yaml.indent(mapping=2, sequence=4, offset=2)  # the style of the shipped scenarios
    if text is None:
        buffer = io.StringIO()
        yaml.dump(calibration.fit.scenario.model_dump(mode="json", by_alias=True,
                                                      exclude_none=True), buffer)  # fmt: skip
        text = buffer.getvalue()
    data = yaml.load(text)
    summary = calibration.summary().set_index("parameter")
    loose: list[str] = []
    for p in calibration.fit.spec.parameters:
        row = summary.loc[p.path]
        note = (
            f"calibrated: median {row['median']:.4g} (95 % CrI {row['lo95']:.4g}-{row['hi95']:.4g})"
        )
        if not _set(data, p.path, float(row["median"]), note):
            loose.append(f"{p.path}: {note}")
        for path, ratio in p.tied.items():
            _set(
                data,
                path,
                float(row["median"]) * ratio,
                f"calibrated: tied to {p.path} x {ratio:g}",
            )
    section = data.get("calibration")
    if section is not None and base is not None:
        entries = section["data"]
        entries = [entries] if isinstance(entries, str) else list(entries)
        section["data"] = [
            e if e in DATASETS or Path(e).is_absolute() else str((base / e).resolve())
            for e in entries
        ]
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    return _header(calibration, loose) + buffer.getvalue()


def _header(calibration: Calibration, loose: list[str]) -> str:
    fit, diag = calibration.fit, calibration.diagnostics
    lines = [
        f"Calibrated by containment-sim {__version__} on {date.today().isoformat()}: ABC-SMC "
        f"(pyabc), {fit.spec.population_size} particles, {len(diag)} generations, seed "
        f"{fit.seed}, strategy {fit.model.scenario['strategy']}, scale {fit.model.scale:g}.",
        "Fitted values are posterior medians; their 95 % credible intervals are in the "
        "comments. The weighted posterior is posterior.csv beside this file (use it with "
        "--posterior).",
    ]
    import textwrap

    wrapped = [w for line in lines + loose for w in textwrap.wrap(line, 96)]
    return "".join(f"# {line}\n" for line in wrapped)


def _set(data: Any, path: str, value: float, note: str) -> bool:
    """Set a value in ruamel data; comment it on the deepest block-style key on its path.

    Returns:
        Whether the comment was placed (not in a file written all in flow style).
    """
    keys = path.split(".")
    node, spots = data, []
    for depth, key in enumerate(keys):
        if isinstance(node, dict) and not _flow(node):
            spots.append((node, key, keys[depth + 1 :]))
        if depth < len(keys) - 1:
            node = node[int(key) if isinstance(node, list) else key]
    leaf = int(keys[-1]) if isinstance(node, list) else keys[-1]
    old = node.get(leaf) if isinstance(node, dict) else node[leaf]  # a mapping may lack it
    whole = isinstance(old, int) and not isinstance(old, bool)
    node[leaf] = round(value) if whole else float(f"{value:.4g}")
    if not spots:
        return False
    holder, key, rest = spots[-1]
    where = "".join(f"[{k}]" if k.isdigit() else f".{k}" for k in rest)
    _comment(holder, key, f"{where} {note}" if where else note)
    return True


def _flow(node: Any) -> bool:
    style = getattr(node, "fa", None)
    return bool(style is not None and style.flow_style())


def _comment(holder: Any, key: str, text: str) -> None:
    """Add ``text`` to the end-of-line comment of ``key`` (keeping comments that follow it).

    A note of an earlier calibration of the same value (``"<where> calibrated: ..."``) is
    replaced, so a scenario calibrated again carries only its latest interval.
    """
    existing = holder.ca.items.get(key)
    token = existing[2] if existing and len(existing) > 2 else None
    if token is None:
        holder.yaml_add_eol_comment(text, key)
        return
    old_text = token.value
    if not old_text.startswith("\n") and old_text.strip():
        first, sep, after = old_text.partition("\n")
        body = first.strip().lstrip("#").strip()
        stale = text.partition("calibrated:")[0] + "calibrated:"
        kept = [part for part in body.split("; ") if part and not part.startswith(stale)]
        body = "; ".join([*kept, text])
        token.value = f"  # {body}{sep}{after}"
    else:
        token.value = f"  # {text}" + (old_text if old_text.startswith("\n") else "\n")
