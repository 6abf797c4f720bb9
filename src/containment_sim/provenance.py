"""Where a result comes from: what every output folder records so that it can be reproduced.

Every document of an output folder (``summary.json``, ``comparison.json``, ``sweep.json``,
``calibration.json``) holds :func:`run_settings`: the scenario as run, the base seed, the
simulated scale and the number of replicates, and a ``provenance`` block with the package
version, the Python version, the versions of the main dependencies and, when the package is
imported from a git checkout, the commit (and whether files were modified since). Finding the
commit never fails: without git, or outside a checkout, it is ``None``.
"""

from __future__ import annotations

import functools
import importlib.metadata
import platform
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

from containment_sim._version import __version__

if TYPE_CHECKING:
    from containment_sim.scenario import Scenario

__all__ = ["DEPENDENCIES", "git_commit", "provenance", "run_settings"]

DEPENDENCIES: tuple[str, ...] = ("numpy", "scipy", "pandas", "simpy", "pydantic")
"""Distributions whose versions are recorded (those that can change the numbers)."""

_INSTALLED = ("site-packages", "dist-packages")


def run_settings(scenario: Scenario, replicates: int, seed: int | None = None) -> dict[str, Any]:
    """What an output folder's document records about the work that produced it.

    Args:
        scenario: The scenario as run (for sweeps, the base scenario before the grid).
        replicates: Runs per strategy or grid point (1 for a single run).
        seed: The base seed, if not the scenario's.

    Returns:
        ``scenario`` (as JSON data), ``seed``, ``scale``, ``replicates``, ``version`` and
        ``provenance`` (see :func:`provenance`).
    """
    return {
        "seed": scenario.seed if seed is None else seed,
        "scale": scenario.population.scale,
        "replicates": replicates,
        "version": __version__,
        "provenance": provenance(),
        "scenario": scenario.model_dump(mode="json", by_alias=True),
    }


def provenance() -> dict[str, Any]:
    """The versions of this package, Python and the main dependencies, and the git commit.

    Returns:
        ``{"version", "python", "dependencies": {name: version}, "git_commit",
        "git_modified"}``; a dependency that is not installed has the version ``None``, and
        the git fields are ``None`` unless the package is imported from a git checkout.
    """
    commit, modified = git_commit()
    return {
        "version": __version__,
        "python": platform.python_version(),
        "dependencies": {name: _version(name) for name in DEPENDENCIES},
        "git_commit": commit,
        "git_modified": modified,
    }


def _version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


@functools.cache
def git_commit() -> tuple[str | None, bool | None]:
    """The commit of the git checkout this package is imported from, and whether it is modified.

    Returns:
        ``(commit, modified)``; ``(None, None)`` for an installed package, outside a
        checkout, or when git is missing or fails.
    """
    package = Path(__file__).resolve().parent
    root = next((p for p in package.parents if (p / ".git").exists()), None)
    if root is None or any(part in _INSTALLED for part in package.relative_to(root).parts):
        return None, None
    commit = _git(package, "rev-parse", "HEAD")
    if commit is None:
        return None, None
    status = _git(package, "status", "--porcelain", "--untracked-files=no", "--", ".")
    return commit, None if status is None else bool(status)


def _git(where: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(where), *args],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None
