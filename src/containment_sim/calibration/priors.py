"""Priors of the fitted parameters, in the space where the sampler perturbs them.

Parameters with a ``loguniform`` or ``lognormal`` prior are fitted on the log scale (the
perturbation kernel of ABC-SMC then moves them by factors, not by amounts); the others on
their own scale. Truncation (``low``, ``high``) bounds the prior; proposals outside have
prior density 0 and are never simulated. Each parameter is named ``p0``, ``p1``, ... inside
the fit and by its dotted path everywhere else.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy import stats

from containment_sim.calibration_spec import ParameterSpec
from containment_sim.errors import InputError

__all__ = [
    "EXTRA_MESSAGE",
    "internal_names",
    "natural_frame_values",
    "natural_values",
    "prior_density",
    "prior_distribution",
    "prior_quantiles",
    "require_pyabc",
]

EXTRA_MESSAGE = (
    "calibration needs the calibrate extra (pyabc): pip install 'containment-sim[calibrate]'"
)


def require_pyabc() -> Any:
    """Import pyabc, or raise :class:`InputError` naming the extra to install."""
    try:
        import pyabc
    except ImportError:
        raise InputError(EXTRA_MESSAGE) from None
    return pyabc


def internal_names(parameters: Sequence[ParameterSpec]) -> list[str]:
    """Names of the parameters inside the fit: ``p0``, ``p1``, ..."""
    return [f"p{k}" for k in range(len(parameters))]


def _is_log(p: ParameterSpec) -> bool:
    return p.prior in ("loguniform", "lognormal")


def _scipy(p: ParameterSpec) -> Any:
    """The prior on the internal scale, as a frozen scipy distribution."""
    low, high = p.bounds()
    if p.prior in ("uniform", "loguniform"):
        a, b = (math.log(low), math.log(high)) if _is_log(p) else (low, high)
        return stats.uniform(a, b - a)
    if p.prior == "normal":
        loc, scale = float(p.mean), float(p.sd)  # type: ignore[arg-type]
    else:
        loc, scale = math.log(float(p.median)), float(p.sdlog)  # type: ignore[arg-type]
        low = math.log(low) if low > 0 else -math.inf
        high = math.log(high) if math.isfinite(high) else math.inf
    return stats.truncnorm((low - loc) / scale, (high - loc) / scale, loc=loc, scale=scale)


def prior_distribution(parameters: Sequence[ParameterSpec]) -> Any:
    """The joint prior as a ``pyabc.Distribution`` (independent parameters)."""
    pyabc = require_pyabc()
    rvs = {}
    for name, p in zip(internal_names(parameters), parameters, strict=True):
        dist = _scipy(p)
        if p.prior in ("uniform", "loguniform"):
            low, high = dist.support()
            rvs[name] = pyabc.RV("uniform", low, high - low)
        else:
            a, b = dist.args
            rvs[name] = pyabc.RV("truncnorm", a, b, **dist.kwds)
    return pyabc.Distribution(**rvs)


def natural_values(
    parameters: Sequence[ParameterSpec], internal: Mapping[str, float]
) -> dict[str, float]:
    """Scenario values ``{dotted path: value}`` of internal values, tied paths included."""
    out: dict[str, float] = {}
    for name, p in zip(internal_names(parameters), parameters, strict=True):
        value = float(internal[name])
        value = math.exp(value) if _is_log(p) else value
        out[p.path] = value
        for path, ratio in p.tied.items():
            out[path] = value * ratio
    return out


def natural_frame_values(p: ParameterSpec, internal: np.ndarray) -> np.ndarray:
    """Natural values of one parameter from an array of internal values."""
    return np.exp(internal) if _is_log(p) else np.asarray(internal, dtype=float)


def prior_quantiles(p: ParameterSpec, q: Sequence[float]) -> list[float]:
    """Quantiles of a parameter's prior on its natural scale."""
    internal = _scipy(p).ppf(np.asarray(q, dtype=float))
    return [float(v) for v in natural_frame_values(p, internal)]


def prior_density(p: ParameterSpec, x: np.ndarray) -> np.ndarray:
    """The prior density on the natural scale at ``x`` (for charts)."""
    x = np.asarray(x, dtype=float)
    if _is_log(p):
        with np.errstate(divide="ignore", invalid="ignore"):
            density: np.ndarray = np.where(
                x > 0, _scipy(p).pdf(np.log(np.maximum(x, 1e-300))) / x, 0.0
            )
            return density
    return np.asarray(_scipy(p).pdf(x), dtype=float)
