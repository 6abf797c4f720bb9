"""A ledger of finished runs: each kept on disk the moment it finishes, found again by its key.

Long jobs (comparisons, attribution, sweeps, calibration) are many independent runs. A
:class:`Ledger` is a folder with one ``<key>.npz`` file per finished run, so that a job that
is interrupted (Ctrl-C, a killed process, a lost cluster) keeps everything that finished and a
resumed job runs only the rest::

    ledger = Ledger(folder)
    key = Ledger.key({"scenario": ..., "label": "none", "seed": 7})  # what defines the run
    entry = ledger.get(key)            # an Entry if the run finished before, else None
    if entry is None:
        entry = Entry(document={...}, frames={"curves": frame})
        ledger.put(key, entry)         # atomic: the file is complete or absent

An :class:`Entry` is a JSON document plus named DataFrames; both come back exactly as they were
written (every column with its dtype, every float to the bit), so a resumed job's tables are
byte-identical to an uninterrupted job's. Files are NumPy ``.npz`` archives read with
``allow_pickle=False``: reading a ledger never runs code from it. An unreadable file counts as
a run that has not finished.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import threading
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from containment_sim._version import __version__

__all__ = ["Entry", "Ledger"]

_TEXT_KINDS = "OSUT"


@dataclass
class Entry:
    """What is kept of one run.

    Attributes:
        document: JSON-compatible data (a summary, the run's identity).
        frames: Named tables.
    """

    document: dict[str, Any]
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)


class Ledger:
    """A folder of finished runs, one file per run (see the module docstring).

    Attributes:
        folder: Where the runs are kept (created on the first :meth:`put`).
    """

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)

    @staticmethod
    def key(identity: Mapping[str, Any]) -> str:
        """A file-name-safe key for a run defined by ``identity`` (and the package version).

        Two runs have the same key exactly when their identities (as canonical JSON) and the
        package versions that ran them are equal.
        """
        text = json.dumps(
            {"identity": identity, "version": __version__}, sort_keys=True, default=str
        )
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:40]

    def __len__(self) -> int:
        return sum(1 for _ in self.folder.glob("*.npz")) if self.folder.is_dir() else 0

    def get(self, key: str) -> Entry | None:
        """The entry kept under ``key``, or ``None`` if there is none (or it is unreadable)."""
        path = self.folder / f"{key}.npz"
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as archive:
                return _decode(archive)
        except (OSError, ValueError, KeyError, zipfile.BadZipFile, json.JSONDecodeError):
            return None

    def put(self, key: str, entry: Entry) -> None:
        """Keep ``entry`` under ``key``; the file appears complete or not at all.

        Ctrl-C (SIGINT) or SIGTERM during the write is held back until the file is in place.
        """
        arrays: dict[str, Any] = _encode(entry)  # savez's keywords are typed beside allow_pickle
        tmp = self.folder / f".{key}.{os.getpid()}.tmp"
        with _signals_held():
            self.folder.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as stream:
                np.savez(stream, **arrays)
            os.replace(tmp, self.folder / f"{key}.npz")

    def discard(self) -> None:
        """Remove the ledger and everything in it."""
        shutil.rmtree(self.folder, ignore_errors=True)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold back SIGINT and SIGTERM during a short write, then deliver them (main thread)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    for signum in previous:
        signal.signal(signum, lambda number, frame: caught.append(number))
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for number in caught[:1]:
            signal.raise_signal(number)


def _encode(entry: Entry) -> dict[str, np.ndarray]:
    meta: dict[str, Any] = {"document": entry.document, "frames": {}}
    arrays: dict[str, np.ndarray] = {}
    for name, frame in entry.frames.items():
        columns = [str(c) for c in frame.columns]
        dtypes = [str(frame[c].dtype) for c in frame.columns]
        meta["frames"][name] = {"columns": columns, "dtypes": dtypes}
        for k, column in enumerate(frame.columns):
            series = frame[column]
            if series.dtype.kind in _TEXT_KINDS or pd.api.types.is_string_dtype(series):
                missing = series.isna().to_numpy()
                arrays[f"{name}.{k}.na"] = missing
                arrays[f"{name}.{k}"] = np.asarray(
                    series.where(~missing, "").astype(str), dtype=str
                )
            else:
                arrays[f"{name}.{k}"] = series.to_numpy()
    text = json.dumps(meta, default=_json_default)
    arrays["meta"] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    return arrays


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _decode(archive: Mapping[str, np.ndarray]) -> Entry:
    meta = json.loads(bytes(archive["meta"]).decode("utf-8"))
    frames = {}
    for name, spec in meta["frames"].items():
        data = {}
        for k, (column, dtype) in enumerate(zip(spec["columns"], spec["dtypes"], strict=True)):
            values = archive[f"{name}.{k}"]
            if f"{name}.{k}.na" in archive:
                objects = values.astype(object)
                objects[archive[f"{name}.{k}.na"]] = None
                data[column] = pd.Series(objects, dtype=dtype)
            else:
                data[column] = pd.Series(values, dtype=dtype)
        frames[name] = pd.DataFrame(data)
    return Entry(meta["document"], frames)
