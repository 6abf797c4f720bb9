"""Charts of results: pure functions from a ``Result`` to a matplotlib ``Figure``.

matplotlib is imported inside the functions (with the non-interactive Agg backend), so
importing the package stays fast and needs no display.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from containment_sim.results import Result

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["plot_epidemic_curve", "save_figure"]

# Okabe-Ito colour-blind-safe palette.
PALETTE = {
    "local": "#0072B2",
    "imported": "#E69F00",
    "seeded": "#999999",
    "exposed": "#F0E442",
    "presymptomatic": "#E69F00",
    "asymptomatic": "#56B4E9",
    "symptomatic": "#D55E00",
    "ill": "#CC79A7",
    "dead": "#000000",
}


def plot_epidemic_curve(result: Result) -> Figure:
    """Two panels: daily new infections by origin (stacked), and people currently infected.

    Args:
        result: A finished run.

    Returns:
        The figure (not shown; save it with :func:`save_figure`).
    """
    from matplotlib.figure import Figure

    ts = result.timeseries
    dates = ts["date"].astype("datetime64[ns]")
    fig = Figure(figsize=(9, 6.5), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True)
    top.bar(dates, ts["new_infections_local"], width=1.0, color=PALETTE["local"], label="local")
    top.bar(
        dates,
        ts["new_infections_imported"],
        width=1.0,
        bottom=ts["new_infections_local"],
        color=PALETTE["imported"],
        label="imported (returnees)",
    )
    top.bar(
        dates,
        ts["new_infections_seeded"],
        width=1.0,
        bottom=ts["new_infections_local"] + ts["new_infections_imported"],
        color=PALETTE["seeded"],
        label="seeded",
    )
    top.set_ylabel("new infections per day")
    top.legend(frameon=False, loc="upper left")
    s = result.summary
    top.set_title(
        f"{result.scenario.name}: {s['total_infections']:,} infections, "
        f"{s['deaths']:,} deaths (population {s['population']:,}, seed {s['seed']})"
    )
    stack = ["n_exposed", "n_presymptomatic", "n_asymptomatic", "n_symptomatic", "n_ill"]
    colours = [PALETTE[c.removeprefix("n_")] for c in stack]
    bottom.stackplot(
        dates, *(ts[c] for c in stack), colors=colours, labels=[c.removeprefix("n_") for c in stack]
    )
    bottom.set_ylabel("people currently infected")
    bottom.set_xlabel("date")
    deaths = bottom.twinx()
    deaths.plot(dates, ts["cum_deaths"], color=PALETTE["dead"], lw=1.5, label="cumulative deaths")
    deaths.set_ylabel("cumulative deaths")
    deaths.set_ylim(bottom=0)
    deaths.spines[["top"]].set_visible(False)
    handles, labels = bottom.get_legend_handles_labels()
    extra_h, extra_l = deaths.get_legend_handles_labels()
    bottom.legend(handles + extra_h, labels + extra_l, frameon=False, loc="upper left", ncols=2)
    for ax in (top, bottom):
        ax.grid(axis="y", alpha=0.3)
        ax.spines[["top", "right"]].set_visible(False)
    fig.autofmt_xdate()
    return fig


def save_figure(fig: Figure, path: str | Path, dpi: int = 150) -> Path:
    """Save a figure atomically (to a temporary file first), in the format of ``path``."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=path.suffix, prefix=".plot-")
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=dpi)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the usual permissions
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path
