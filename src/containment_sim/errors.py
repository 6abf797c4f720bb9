"""The error types of the package, in the lowest layer so that every module can raise them.

Two families tell a caller (and the command line) what went wrong:

- :class:`InputError` (a ``ValueError``): the input is at fault (a scenario, an option, an
  output folder, a saved result folder). The command line prints its one-line message and
  exits with code 2.
- :class:`FaultError` (a ``RuntimeError``): the input was fine but the work failed (a model
  invariant broke, a worker process kept dying, a run raised). The command line prints one line
  and exits with code 1.

:class:`Interrupted` is a ``KeyboardInterrupt`` that also says how much finished work was kept
and where, so that the job can be resumed.
"""

from __future__ import annotations

__all__ = [
    "FaultError",
    "InputError",
    "Interrupted",
    "InvariantError",
    "OutputError",
    "ResultFolderError",
    "RunFailedError",
    "WorkerLostError",
    "invariant",
]


class InputError(ValueError):
    """Bad input: a scenario, an option, an output folder or a saved folder that is unusable.

    Its message is complete on its own (it names the file or option and what is allowed).
    """


class OutputError(InputError):
    """An output folder that may not or cannot be written (exists, escapes, unwritable)."""


class ResultFolderError(InputError):
    """A saved result folder that is incomplete, truncated or not one of ours."""


class FaultError(RuntimeError):
    """Work that failed although its input was accepted."""


class InvariantError(FaultError):
    """A model invariant does not hold (a count went negative, a facility over capacity, ...).

    Raised instead of ``assert`` so that the check also runs under ``python -O``.
    """


def invariant(holds: bool | object, message: str) -> None:
    """Raise :class:`InvariantError` with ``message`` unless ``holds`` is true.

    Used for the model's bookkeeping checks instead of ``assert``, which ``python -O`` strips.
    """
    if not holds:
        raise InvariantError(f"model invariant broken: {message}")


class RunFailedError(FaultError):
    """One run of an ensemble raised an error (the same error would recur on a retry)."""


class WorkerLostError(FaultError):
    """A worker process died (killed, out of memory) more often than the retries allow."""


class Interrupted(KeyboardInterrupt):
    """Work stopped by Ctrl-C (or SIGTERM); what had finished is kept.

    Attributes:
        finished: Number of runs finished (including those kept from before).
        total: Number of runs the job has.
        kept: Where the finished runs are kept (``None`` if nowhere).
        unit: What was counted (``runs``; ``generations`` for a calibration).
    """

    def __init__(self, finished: int, total: int, kept: str | None = None, unit: str = "runs"):
        self.finished = finished
        self.total = total
        self.kept = kept
        self.unit = unit
        where = f"; they are kept in {kept}" if kept else ""
        super().__init__(f"interrupted after {finished} of {total} {unit}{where}")
