"""Progress of long work, with an estimate of the time left, on a terminal or in a log.

On a terminal a bar is drawn on stderr; elsewhere (a log file, a batch job, a notebook) a line
is logged through the ``containment_sim`` logger at level INFO about every 10 % of the work or
every 30 seconds, whichever comes first::

    compare: 12 of 120 runs (10%), 4.1 s so far, about 37 s left

When logging is not configured at all, those lines go to stderr, so ``progress=True`` shows
something from Python too. The command line configures the logger (``-v``, ``--quiet``).
"""

from __future__ import annotations

import logging
import math
import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

__all__ = [
    "LOGGER",
    "Progress",
    "ProgressArg",
    "configure_logging",
    "format_duration",
    "log",
    "progress_hook",
]

LOGGER = "containment_sim"
"""Name of the package's logger."""

logger = logging.getLogger(LOGGER)

ProgressArg = Callable[[int], None] | bool | None
"""What ``progress=`` accepts: a callable (given the units just finished), ``True`` for a
:class:`Progress` report, or ``None``/``False`` for none."""


def log(message: str, level: int = logging.INFO) -> None:
    """Log ``message``; with logging not configured at all, print it to stderr instead."""
    if logger.hasHandlers():
        logger.log(level, message)
    elif level >= logging.INFO:
        print(message, file=sys.stderr)


def configure_logging(verbosity: int) -> None:
    """Log to stderr: warnings only (``verbosity`` < 0), INFO (0) or DEBUG (> 0)."""
    level = logging.WARNING if verbosity < 0 else logging.DEBUG if verbosity > 0 else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    for old in [h for h in logger.handlers if getattr(h, "_containment_sim", False)]:
        logger.removeHandler(old)
    handler._containment_sim = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False


def format_duration(seconds: float) -> str:
    """A duration for people: ``4.2 s``, ``3 min 05 s``, ``2 h 10 min``."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class Progress:
    """Counts finished units of work and reports them with the time left.

    Use it as the ``progress`` callable of :func:`containment_sim.run`,
    :func:`containment_sim.compare` and the other long functions, and close it (or use it as
    a context manager) when the work is done.

    Args:
        total: Units of work (days of a run, runs of a comparison).
        desc: What is being done (``compare``, a scenario name).
        unit: Name of one unit (``day``, ``run``).
        bar: Draw a bar (``True``), log lines (``False``), or decide by whether stderr is a
            terminal (``None``).
        every: Log a line each time another this share of the work is done ...
        interval: ... or this many seconds have passed since the last line ...
        spacing: ... but never two lines less than this many seconds apart (quick work
            logs nothing but its end).
    """

    def __init__(
        self,
        total: int,
        desc: str,
        unit: str,
        bar: bool | None = None,
        every: float = 0.1,
        interval: float = 30.0,
        spacing: float = 2.0,
    ):
        self.total, self.desc, self.unit = max(int(total), 0), desc, unit
        self.done = 0
        self.every, self.interval, self.spacing = every, interval, spacing
        self.started = self._last = time.monotonic()
        self._next = every
        self._bar: Any = None
        if bar if bar is not None else _terminal():
            from tqdm import tqdm

            self._bar = tqdm(total=self.total, desc=desc, unit=unit, file=sys.stderr)

    def __call__(self, n: int = 1) -> None:
        """Record ``n`` more finished units."""
        self.done += n
        if self._bar is not None:
            self._bar.update(n)
            return
        now = time.monotonic()
        share = self.done / self.total if self.total else 1.0
        since = now - self._last
        if (share + 1e-9 >= self._next and since >= self.spacing) or since >= self.interval:
            self._next = (math.floor(share / self.every + 1e-9) + 1) * self.every
            self._last = now
            if self.done < self.total:
                log(self.message(now))

    def message(self, now: float | None = None) -> str:
        """The progress line: done, share, time so far and the estimated time left."""
        elapsed = (time.monotonic() if now is None else now) - self.started
        share = self.done / self.total if self.total else 1.0
        text = (
            f"{self.desc}: {self.done:,} of {self.total:,} {self.unit}s ({share:.0%}), "
            f"{format_duration(elapsed)} so far"
        )
        if 0 < share < 1:
            text += f", about {format_duration(elapsed * (1 - share) / share)} left"
        return text

    def close(self) -> None:
        """Finish the bar, or log the total time."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self.done:
            elapsed = time.monotonic() - self.started
            level = logging.INFO if elapsed >= self.spacing else logging.DEBUG
            log(
                f"{self.desc}: {self.done:,} {self.unit}s done in {format_duration(elapsed)}", level
            )

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif kind is None:
            self.close()


def _terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def progress_hook(
    progress: ProgressArg, total: int, desc: str, unit: str
) -> tuple[Callable[[int], None] | None, Progress | None]:
    """Turn a ``progress=`` argument into a callable and, for ``True``, the report to close.

    Returns:
        ``(hook, report)``: ``hook`` is given the units just finished (``None``: no
        progress); ``report`` is the :class:`Progress` made for ``progress=True``.
    """
    if progress is True:
        report = Progress(total, desc, unit)
        return report, report
    if progress is None or progress is False:
        return None, None
    return progress, None
