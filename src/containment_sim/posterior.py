"""Parameter draws from a calibration's posterior, for runs that carry parameter uncertainty.

A posterior file (``posterior.csv``, written by ``containment-sim calibrate``) has one row per
particle: a ``weight`` column and one column per scenario parameter, named by its dotted path
(``transmission.r0``, ``measures.stay_home.compliance.0.1``); ``distance`` and
``generation`` columns, if present, are ignored. Replicate r of a comparison, attribution or
sweep draws one particle by weighted resampling with a random stream derived from the
replicate's seed, so every strategy (subset, grid point) of replicate r runs with the same
parameters and the same random numbers: differences between strategies stay paired, and
intervals across replicates carry parameter as well as chance uncertainty.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from containment_sim.calibration_spec import get_path, set_path
from containment_sim.errors import InputError

__all__ = ["DRAW_STREAM", "RESERVED_COLUMNS", "Posterior", "apply_values"]

RESERVED_COLUMNS = ("weight", "distance", "generation", "particle")
"""Columns of a posterior file that are not parameters."""

DRAW_STREAM = 0x706F7374
"""Salt of the random stream that picks a replicate's particle (independent of the run's)."""


@dataclass(frozen=True)
class Posterior:
    """Weighted particles: one row per particle, one column per parameter path.

    Attributes:
        samples: The parameter values (columns: dotted paths).
        weights: Normalised importance weights, one per row.
        source: Where the particles were read from (for messages).
    """

    samples: pd.DataFrame
    weights: np.ndarray
    source: str = "posterior"

    @classmethod
    def load(cls, path: str | Path) -> Posterior:
        """Read a posterior file.

        Raises:
            InputError: Missing or unreadable file, no parameter column, a value that is not
                a finite number, or weights that are negative or all zero.
        """
        try:
            frame = pd.read_csv(path)
        except FileNotFoundError:
            raise InputError(f"{path}: no such posterior file") from None
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: cannot read the posterior: {_first(exc)}") from None
        return cls.from_frame(frame, str(path))

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, source: str = "posterior") -> Posterior:
        """Particles from a table with a ``weight`` column and parameter columns.

        Raises:
            InputError: As :meth:`load`.
        """
        columns = [str(c) for c in frame.columns if c not in RESERVED_COLUMNS]
        if frame.empty or not columns:
            raise InputError(f"{source}: needs rows and at least one parameter column")
        values = frame[columns].apply(pd.to_numeric, errors="coerce")
        if not np.isfinite(values.to_numpy(dtype=float)).all():
            raise InputError(f"{source}: every parameter value must be a finite number")
        if "weight" in frame.columns:
            weights = pd.to_numeric(frame["weight"], errors="coerce").to_numpy(dtype=float)
        else:
            weights = np.ones(len(frame))
        if not np.isfinite(weights).all() or (weights < 0).any() or weights.sum() <= 0:
            raise InputError(f"{source}: weights must be finite, non-negative, not all zero")
        return cls(values.reset_index(drop=True), weights / weights.sum(), source)

    @property
    def paths(self) -> list[str]:
        """The parameter paths, in column order."""
        return [str(c) for c in self.samples.columns]

    def without(self, paths: Sequence[str]) -> Posterior:
        """The same particles without the columns ``paths`` (e.g. parameters a sweep sets)."""
        keep = [p for p in self.paths if p not in paths]
        if not keep:
            raise InputError(f"{self.source}: every parameter is also swept; nothing to draw")
        return Posterior(self.samples[keep], self.weights, self.source)

    def index(self, replicate_seed: int) -> int:
        """The particle drawn for the replicate whose runs use ``replicate_seed``."""
        rng = np.random.default_rng([DRAW_STREAM, int(replicate_seed)])
        return int(rng.choice(len(self.weights), p=self.weights))

    def draw(self, replicate_seed: int) -> dict[str, float]:
        """The parameter values of the replicate whose runs use ``replicate_seed``."""
        row = self.samples.iloc[self.index(replicate_seed)]
        return {path: float(row[path]) for path in self.paths}

    def check(self, scenario_data: Mapping[str, Any]) -> None:
        """Check that every path leads to a number of the scenario (plain JSON data).

        Raises:
            InputError: A path the scenario does not have.
        """
        for path in self.paths:
            try:
                value = get_path(scenario_data, path)
            except KeyError as exc:
                raise InputError(f"{self.source}: {str(exc).strip(chr(34))}") from None
            if isinstance(value, bool) or not isinstance(value, int | float | None):
                raise InputError(f"{self.source}: {path} is not a number of the scenario")


def apply_values(data: dict[str, Any], values: Mapping[str, float]) -> dict[str, Any]:
    """Set dotted-path values in plain scenario data (in place); return the data."""
    for path, value in values.items():
        set_path(data, path, value)
    return data


def _first(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
