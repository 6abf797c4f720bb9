"""Saving charts: PNG for screens, SVG and PDF for print, all written atomically.

A chart is saved as ``<name>.png``, ``<name>.svg`` and ``<name>.pdf`` side by side. Each file
is first rendered to a temporary file in the same folder; only when every format has been
rendered are the temporary files renamed over their targets (``os.replace``, atomic on one
file system). A failure leaves no temporary file and no partly written chart, and an older
chart of the same name stays as it was.

The files are reproducible: the same figure gives the same bytes (no creation dates, fixed
SVG identifiers).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Sequence
from pathlib import Path

from matplotlib.figure import Figure

from containment_sim.plots.style import style

__all__ = ["FORMATS", "chart_files", "save_figure"]

FORMATS: tuple[str, ...] = ("png", "svg", "pdf")
"""Formats every chart is saved in: a raster for screens, two vector formats for print."""

_METADATA: dict[str, dict[str, None]] = {
    "png": {},
    "svg": {"Date": None},
    "pdf": {"CreationDate": None},
}

_KNOWN = frozenset({*FORMATS, "jpg", "jpeg", "eps", "ps", "tif", "tiff", "webp"})


def chart_files(path: str | Path, formats: Sequence[str] = FORMATS) -> list[Path]:
    """The files :func:`save_figure` writes for ``path``, in the order of ``formats``.

    A suffix naming an image format (``curve.png``) is replaced; any other is kept
    (``curve.v2`` gives ``curve.v2.png``, ...).
    """
    base = Path(path)
    if base.suffix.lstrip(".").lower() in _KNOWN:
        base = base.with_suffix("")
    return [base.with_name(f"{base.name}.{fmt}") for fmt in formats]


def save_figure(
    fig: Figure, path: str | Path, formats: Sequence[str] = FORMATS, dpi: int = 200
) -> list[Path]:
    """Save a figure in each format, atomically, as a set.

    Args:
        fig: The figure.
        path: Where to save, with or without a suffix: ``out/curve`` and ``out/curve.png``
            both give ``out/curve.png``, ``out/curve.svg`` and ``out/curve.pdf``.
        formats: Formats to write (matplotlib format names).
        dpi: Resolution of raster formats, in dots per inch.

    Returns:
        The files written, in the order of ``formats``.

    Raises:
        OSError: The folder cannot be written; nothing was replaced.
        ValueError: A format matplotlib cannot write; nothing was replaced.
    """
    targets = chart_files(path, formats)
    staged: list[tuple[Path, Path]] = []
    try:
        with style():  # the same settings as when the chart was drawn
            for fmt, target in zip(formats, targets, strict=True):
                temporary = _temporary(target)
                staged.append((temporary, target))
                with temporary.open("r+b") as fh:
                    fig.savefig(fh, format=fmt, dpi=dpi, metadata=_METADATA.get(fmt))
        for temporary, target in staged:
            os.replace(temporary, target)
    finally:
        for temporary, _ in staged:
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()
    return targets


def _temporary(target: Path) -> Path:
    """Create an empty, hidden file beside ``target`` (with the usual permissions)."""
    while True:
        candidate = target.with_name(f".{target.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
        try:
            fd = os.open(candidate, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)  # minus umask
        except FileExistsError:
            continue
        os.close(fd)
        return candidate
