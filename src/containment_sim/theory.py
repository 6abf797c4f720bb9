"""Closed forms used to validate the model (and useful for calibration).

References: final size of an SIR epidemic (Kermack & McKendrick 1927; any infectious-period
distribution, homogeneous mixing); branching-process extinction with negative-binomial
offspring (Lloyd-Smith JO et al., Nature 2005); growth rate and R for a gamma generation
interval (Wallinga J & Lipsitch M, Proc R Soc B 2007).
"""

from __future__ import annotations

import math

from scipy.optimize import brentq

__all__ = ["extinction_probability", "final_size", "growth_rate_gamma"]


def final_size(r0: float, initial_fraction: float = 0.0) -> float:
    """Final attack rate z (share ever infected, initial cases included) of an SIR epidemic.

    Solves ``1 - z = (1 - e) exp(-r0 z)`` with ``e`` the initially infected share; with
    ``e = 0`` this is ``z = 1 - exp(-r0 z)`` and ``z = 0`` when ``r0 <= 1``.
    """
    s0 = 1.0 - initial_fraction
    if r0 <= 1.0 and initial_fraction == 0.0:
        return 0.0

    def gap(z: float) -> float:
        return 1.0 - z - s0 * math.exp(-r0 * z)

    return float(brentq(gap, max(initial_fraction, 1e-12), 1.0))


def extinction_probability(r0: float, k: float | None = None) -> float:
    """Probability that a branching process from one case dies out.

    Offspring are negative binomial with mean ``r0`` and dispersion ``k`` (Poisson if
    ``k`` is None): ``q = (1 + (r0/k)(1 - q))^(-k)``.
    """
    if r0 <= 1.0:
        return 1.0

    def pgf(q: float) -> float:
        if k is None:
            return math.exp(-r0 * (1.0 - q))
        out: float = (1.0 + (r0 / k) * (1.0 - q)) ** (-k)
        return out

    return float(brentq(lambda q: pgf(q) - q, 0.0, 1.0 - 1e-12))


def growth_rate_gamma(r0: float, mean: float, sd: float) -> float:
    """Exponential growth rate r for reproduction number ``r0`` and a gamma generation interval.

    ``r = (mean / sd^2) (r0^(sd^2 / mean^2) - 1)`` (Wallinga & Lipsitch 2007).
    """
    out: float = (mean / sd**2) * (r0 ** (sd**2 / mean**2) - 1.0)
    return out
