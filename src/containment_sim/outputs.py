"""Output folders written as a whole: checked before the work starts, replaced in one step.

Every command that writes results (a run, a comparison, a sweep, a calibration, redrawn
charts) owns one folder and writes it like this::

    folder = OutputFolder.prepare(path, force=args.force, resume=args.resume)  # before work
    ...                                          # the long work (may keep runs in folder.ledger)
    with folder as staging:                      # a fresh sibling folder
        write_tables(staging, frames, documents) # tables, documents, charts
    # on success the staging folder has replaced ``path`` (old files, old charts and the
    # ledger are gone); on an error or Ctrl-C it is removed and ``path`` is untouched

:meth:`OutputFolder.prepare` refuses (with :class:`~containment_sim.errors.OutputError`) a
folder that already holds results unless ``force`` (or ``resume``) is given, a folder that
holds anything else even with ``force``, a path that leaves the folder it must stay in
(``inside``), and the working directory or one of its parents; it creates the parent folders
and the staging folder at once, so a folder that cannot be written is reported before the
work starts. Staging folders left by a killed process (``.<name>.staging-<pid>-*``) are
removed the next time the same folder is prepared.

The replacement is one ``renameat2(RENAME_EXCHANGE)`` on Linux; elsewhere it is two renames
(target aside, staging in), with the old folder kept aside until the second has succeeded.

Tables are written by :func:`write_tables`: CSV cells that a spreadsheet would read as a
formula (starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return) get a leading
``'``, and the row count of every table is recorded so that :func:`read_tables` can tell a
complete folder from a truncated one.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime
import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from containment_sim.errors import OutputError, ResultFolderError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "FORMATS",
    "LEDGER_FOLDER",
    "RESULT_DOCUMENTS",
    "OutputFolder",
    "check_format",
    "copy_data_files",
    "read_document",
    "read_tables",
    "spreadsheet_safe",
    "write_tables",
]

RESULT_DOCUMENTS = ("summary.json", "comparison.json", "sweep.json", "calibration.json")
"""Files that mark a folder as results of this package (one per kind of output)."""

LEDGER_FOLDER = ".partial"
"""Subfolder of an output folder keeping the finished runs of an unfinished job."""

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a cell as a formula."""


class OutputFolder:
    """A results folder being produced: its checked path, staging folder and ledger folder.

    Attributes:
        target: The resolved folder the results go to.
        staging: The sibling folder they are written to first.
        ledger: Where finished runs of a resumable job are kept (``target/.partial``).
    """

    def __init__(self, target: Path, staging: Path):
        self.target = target
        self.staging = staging
        self.ledger = target / LEDGER_FOLDER

    @classmethod
    def prepare(
        cls,
        path: str | Path,
        force: bool = False,
        resume: bool = False,
        inside: str | Path | None = None,
    ) -> OutputFolder:
        """Check the folder ``path`` and create its staging folder (see the module docstring).

        Args:
            path: The output folder.
            force: Replace a folder that holds results, and discard the finished runs of an
                interrupted job in it.
            resume: Replace a folder that holds results, and keep the finished runs of an
                interrupted job in it.
            inside: A folder ``path`` must lie inside (for default paths under ``results/``).

        Raises:
            OutputError: The folder may not or cannot be written; the message says why and
                what to do.
        """
        target = Path(os.path.abspath(path))
        real = target.resolve()
        if inside is not None:
            root = Path(inside).resolve()
            if real == root or not real.is_relative_to(root):
                raise OutputError(f"{path}: the output folder must be inside {inside}/")
        _refuse_special(path, real)
        _check_state(path, real, force, resume)
        try:
            real.parent.mkdir(parents=True, exist_ok=True)
            _remove_stale(real)
            staging = Path(tempfile.mkdtemp(prefix=_staging_prefix(real), dir=real.parent))
            staging.chmod(0o777 & ~_umask())
        except OSError as exc:
            raise OutputError(f"{path}: cannot write there: {exc.strerror or exc}") from None
        if force and not resume:
            shutil.rmtree(real / LEDGER_FOLDER, ignore_errors=True)
        return cls(real, staging)

    def __enter__(self) -> Path:
        return self.staging

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if kind is None:
            self.commit()
        else:
            self.abandon()

    def commit(self) -> Path:
        """Replace the target folder with the staging folder; return the target."""
        old = _swap(self.staging, self.target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return self.target

    def abandon(self) -> None:
        """Remove the staging folder; the target stays as it was."""
        shutil.rmtree(self.staging, ignore_errors=True)


def _refuse_special(path: str | Path, real: Path) -> None:
    cwd = Path.cwd().resolve()
    if real == cwd or real in cwd.parents or real == Path.home().resolve():
        raise OutputError(
            f"{path}: refusing to replace the working directory, one of its parents or the "
            "home folder; name a folder for the results"
        )
    if real.exists() and not real.is_dir():
        raise OutputError(f"{path}: exists and is not a folder")


def _check_state(path: str | Path, real: Path, force: bool, resume: bool) -> None:
    """Refuse an existing folder unless it holds our results and ``force``/``resume`` says so."""
    if not real.is_dir():
        return
    try:
        names = {p.name for p in real.iterdir()}
    except OSError as exc:
        raise OutputError(f"{path}: cannot read the folder: {exc.strerror or exc}") from None
    if not names:
        return
    ours = bool(names & set(RESULT_DOCUMENTS)) or LEDGER_FOLDER in names
    if not ours:
        raise OutputError(
            f"{path}: the folder holds files that are not results of containment-sim; "
            "choose a new or empty folder"
        )
    if LEDGER_FOLDER in names and not (force or resume):
        runs = sum(1 for _ in (real / LEDGER_FOLDER).glob("*.npz"))
        raise OutputError(
            f"{path}: holds {runs} finished runs of an interrupted job; add --resume to "
            "continue it, or --force to start over"
        )
    if not (force or resume):
        raise OutputError(f"{path}: already holds results; add --force to replace them")


def _staging_prefix(real: Path) -> str:
    return f".{real.name}.staging-{os.getpid()}-"


def _remove_stale(real: Path) -> None:
    """Remove staging folders of ``real`` left by processes that no longer run."""
    for item in real.parent.glob(f".{real.name}.staging-*"):
        pid = item.name.removeprefix(f".{real.name}.staging-").split("-")[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(item, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _swap(staging: Path, target: Path) -> Path | None:
    """Put ``staging`` in place of ``target``; return where the old folder went (or None)."""
    if not target.exists():
        os.rename(staging, target)
        return None
    if _exchange(staging, target):
        return staging
    aside = Path(tempfile.mkdtemp(prefix=_staging_prefix(target), dir=target.parent))
    os.rmdir(aside)
    os.rename(target, aside)
    try:
        os.rename(staging, target)
    except OSError:
        os.rename(aside, target)
        raise
    return aside


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2``); ``False`` where that is unavailable."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    out: bool = result == 0
    return out


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with text cells (and headers) that start like a formula prefixed by ``'``."""
    import pandas as pd

    out = frame
    for column in frame.columns:
        series = frame[column]
        if series.dtype.kind not in "OSU" and not pd.api.types.is_string_dtype(series):
            continue
        values = pd.unique(series.dropna())
        bad = {v for v in values if isinstance(v, str) and v.startswith(FORMULA_START)}
        if bad:
            if out is frame:
                out = frame.copy()
            out[column] = series.map(lambda v, bad=bad: "'" + v if v in bad else v)
    renamed = {
        c: "'" + c for c in out.columns if isinstance(c, str) and c.startswith(FORMULA_START)
    }
    return out.rename(columns=renamed) if renamed else out


FORMATS = ("csv", "parquet")
"""Formats tables can be written in (Parquet needs the ``parquet`` extra: pyarrow)."""


def check_format(format: str) -> None:
    """Check that tables can be written in ``format``, before any work is done.

    Raises:
        OutputError: An unknown format, or Parquet without pyarrow installed.
    """
    if format not in FORMATS:
        raise OutputError(f"unknown table format {format!r}; allowed: {', '.join(FORMATS)}")
    if format == "parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise OutputError(
                "Parquet tables need pyarrow: pip install 'containment-sim[parquet]'"
            ) from None


def write_tables(
    folder: str | Path,
    frames: Mapping[str, pd.DataFrame],
    documents: Mapping[str, Any],
    parquet: tuple[str, ...] = (),
    format: str = "csv",
) -> Path:
    """Write tables and JSON documents into ``folder``.

    This writes in place; use it on the staging folder of an :class:`OutputFolder`. Every
    name must be a plain file name (no folder separators).

    Args:
        folder: The folder.
        frames: Tables by name.
        documents: JSON documents by file name.
        parquet: Tables also written as ``<name>.parquet`` beside their CSV.
        format: ``csv`` (``<name>.csv``, spreadsheet-safe) or ``parquet``
            (``<name>.parquet`` instead, for every table).

    Returns:
        The folder.
    """
    check_format(format)
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        if format == "parquet":
            frame.to_parquet(_inside(out, f"{name}.parquet"), index=False)
        else:
            spreadsheet_safe(frame).to_csv(_inside(out, f"{name}.csv"), index=False)
    for name in parquet if format == "csv" else ():
        frames[name].to_parquet(_inside(out, f"{name}.parquet"), index=False)
    for name, document in documents.items():
        text = json.dumps(document, indent=2, ensure_ascii=False, default=_json_default)
        _inside(out, name).write_text(text + "\n", encoding="utf-8")
    return out


def _inside(folder: Path, name: str) -> Path:
    path = folder / name
    if path.parent != folder or name in ("", ".", ".."):
        raise OutputError(f"{name!r}: not a plain file name")
    return path


def _json_default(value: Any) -> Any:
    import numpy as np  # only for values JSON cannot write (numpy is not needed for --help)

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, datetime.date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def read_document(folder: str | Path, name: str) -> dict[str, Any]:
    """Read a JSON document of a result folder.

    Raises:
        ResultFolderError: Missing, unreadable or not a JSON object.
    """
    path = Path(folder) / name
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ResultFolderError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ResultFolderError(f"{path}: not a valid JSON document ({exc})") from None
    if not isinstance(data, dict):
        raise ResultFolderError(f"{path}: not a JSON object")
    return data


def read_tables(
    folder: str | Path, rows: Mapping[str, int | None], columns: Mapping[str, list[str]]
) -> dict[str, pd.DataFrame]:
    """Read ``<name>.csv`` (or ``<name>.parquet``) tables, checking rows and columns.

    Args:
        folder: The result folder.
        rows: Expected rows per table (``None``: not checked).
        columns: Columns each table must have (tables not named: none required).

    Raises:
        ResultFolderError: A table is missing, unreadable, truncated or lacks a column.
    """
    import pandas as pd

    out = {}
    for name, expected in rows.items():
        path = Path(folder) / f"{name}.csv"
        if not path.exists() and path.with_suffix(".parquet").exists():
            path = path.with_suffix(".parquet")
        try:
            frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
        except FileNotFoundError:
            raise ResultFolderError(f"{path}: missing; the folder is incomplete") from None
        except (OSError, ValueError, ImportError, UnicodeDecodeError, pd.errors.ParserError) as exc:
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ResultFolderError(f"{path}: cannot read the table: {message}") from None
        if expected is not None and len(frame) != expected:
            raise ResultFolderError(
                f"{path}: has {len(frame):,} rows, but the folder's document says "
                f"{expected:,}; the table is truncated or was changed"
            )
        missing = [c for c in columns.get(name, []) if c not in frame.columns]
        if missing:
            raise ResultFolderError(f"{path}: lacks the columns {', '.join(missing)}")
        out[name] = frame
    return out


def copy_data_files(source: Path, staging: Path, skip_suffixes: tuple[str, ...]) -> None:
    """Copy (hard-link where possible) everything in ``source`` but files with these suffixes.

    Used to redraw the charts of a folder: the data is carried over, the old charts are not.
    """
    for item in source.rglob("*"):
        relative = item.relative_to(source)
        dest = staging / relative
        if item.is_dir() and not item.is_symlink():
            dest.mkdir(parents=True, exist_ok=True)
        elif item.parent == source and item.suffix in skip_suffixes:
            continue
        elif item.is_file():
            dest.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileExistsError):
                try:
                    os.link(item, dest)
                except OSError:
                    shutil.copy2(item, dest)
