"""Simulated statistics of a run and their distance to the observed targets.

A run is reduced to one array per target: the simulated column on the observed dates (its
increments between them, for ``increments``), or the summary value, divided by the simulated
scale so that it counts people of the full city. The distance of a run to the data is

    sum over targets of  weight x mean over the target's points of d(simulated, observed)

with ``d`` one of:

- ``sqrt``: (√s − √o)², the squared difference after the variance-stabilising transform
  of counts (≈ (s − o)² / 4o: a chi-square-like scale shared by counts of any size);
- ``log1p``: (log(1 + s) − log(1 + o))², relative errors;
- ``squared``: (s − o)², on the scale of the counts (weights must then balance targets);
- ``poisson``: the Poisson deviance 2 (o log(o/s) − (o − s)), s floored at 0.5;
- ``negative_binomial``: the negative-binomial deviance with the target's ``dispersion`` k,
  2 (o log(o/s) − (o + k) log((o + k)/(s + k))), for overdispersed counts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from containment_sim.calibration.data import PreparedTarget
from containment_sim.results import Result

__all__ = ["distance", "point_distance", "simulated_statistics"]


def simulated_statistics(
    result: Result, targets: Sequence[PreparedTarget], scale: float
) -> dict[str, np.ndarray]:
    """One array per target (keyed ``t0``, ``t1``, ...), in full-city counts."""
    out: dict[str, np.ndarray] = {}
    ts = result.timeseries
    for target in targets:
        if target.kind == "summary":
            value = result.summary.get(target.spec.simulated)
            out[target.key] = np.array([float(value or 0.0) / scale])
            continue
        column = ts[target.spec.simulated].to_numpy(dtype=float)
        values = column[target.days]
        if target.spec.increments:
            start = column[target.baseline_day] if target.baseline_day is not None else 0.0
            values = np.diff(values, prepend=start)
        out[target.key] = values / scale
    return out


def point_distance(
    simulated: np.ndarray, observed: np.ndarray, kind: str, dispersion: float = 10.0
) -> np.ndarray:
    """The distance of each simulated point to its observed point (see the module docstring)."""
    s = np.maximum(np.asarray(simulated, dtype=float), 0.0)
    o = np.asarray(observed, dtype=float)
    if kind == "sqrt":
        out: np.ndarray = (np.sqrt(s) - np.sqrt(o)) ** 2
        return out
    if kind == "log1p":
        out = (np.log1p(s) - np.log1p(o)) ** 2
        return out
    if kind == "squared":
        out = (s - o) ** 2
        return out
    mean = np.maximum(s, 0.5)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(o > 0, o * np.log(o / mean), 0.0)
    if kind == "poisson":
        out = 2.0 * (ratio - (o - mean))
        return out
    if kind == "negative_binomial":
        k = dispersion
        out = 2.0 * (ratio - (o + k) * np.log((o + k) / (mean + k)))
        return out
    raise ValueError(f"unknown distance {kind!r}")


def distance(
    simulated: Mapping[str, np.ndarray],
    observed: Mapping[str, np.ndarray],
    targets: Sequence[PreparedTarget],
) -> float:
    """The weighted distance of a run's statistics to the observed ones."""
    total = 0.0
    for target in targets:
        spec = target.spec
        d = point_distance(simulated[target.key], observed[target.key], spec.distance,
                           spec.dispersion)  # fmt: skip
        total += spec.weight * float(np.mean(d))
    return total
