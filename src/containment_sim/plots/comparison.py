"""The charts of a comparison, by name: drawing one, or saving every one that applies.

The names are the file names the command line writes (``curves.png``, ``averted.svg``, ...):

========================  ==========================================================
``curves``                epidemic curves per strategy (:func:`.curves.plot_curves`)
``outcomes``              outcomes per strategy (:func:`.outcomes.plot_outcomes`)
``averted``               averted against ``none`` (:func:`.outcomes.plot_averted`)
``attribution``           Shapley values per measure (:func:`.outcomes.plot_attribution`)
``rt``                    reproduction number (:func:`.curves.plot_rt`)
``regions``               new infections per region (:func:`.curves.plot_regions`)
``site_occupancy``        quarantine sites against capacity
``checkpoint_load``       checkpoint travellers against capacity
========================  ==========================================================
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from matplotlib.figure import Figure

from containment_sim.experiments import Comparison
from containment_sim.plots.curves import (
    plot_checkpoint_load,
    plot_curves,
    plot_regions,
    plot_rt,
    plot_site_occupancy,
)
from containment_sim.plots.outcomes import plot_attribution, plot_averted, plot_outcomes
from containment_sim.plots.save import FORMATS, save_figure

__all__ = ["CHARTS", "applicable_charts", "draw_chart", "save_comparison_charts"]

CHARTS: dict[str, Callable[[Comparison], Figure | None]] = {
    "curves": plot_curves,
    "outcomes": plot_outcomes,
    "averted": plot_averted,
    "attribution": plot_attribution,
    "rt": plot_rt,
    "regions": plot_regions,
    "site_occupancy": plot_site_occupancy,
    "checkpoint_load": plot_checkpoint_load,
}
"""Every chart of a comparison, by name."""

_MEASURE_CURVES = {"site_occupancy": "site_occupancy", "checkpoint_load": "checkpoint_travellers"}


def applicable_charts(cmp: Comparison) -> list[str]:
    """Names of the charts that apply to a comparison, in the order of :data:`CHARTS`.

    ``averted`` needs ``none`` and another strategy, ``attribution`` an attribution table,
    and ``site_occupancy`` / ``checkpoint_load`` a strategy with that measure.
    """
    names = []
    for name in CHARTS:
        if name == "averted" and not ("none" in cmp.strategies and len(cmp.strategies) > 1):
            continue
        if name == "attribution" and cmp.attribution is None:
            continue
        column = _MEASURE_CURVES.get(name)
        if column is not None and (column not in cmp.curves or cmp.curves[column].isna().all()):
            continue
        names.append(name)
    return names


def draw_chart(cmp: Comparison, name: str) -> Figure:
    """Draw one chart of a comparison.

    Raises:
        ValueError: An unknown name, or a chart that does not apply (see
            :func:`applicable_charts`).
    """
    if name not in CHARTS:
        raise ValueError(f"unknown chart {name!r}; allowed: {', '.join(CHARTS)}")
    fig = CHARTS[name](cmp)
    if fig is None:
        raise ValueError(f"the chart {name!r} does not apply: no strategy has the measure")
    return fig


def save_comparison_charts(
    cmp: Comparison, directory: str | Path, formats: Sequence[str] = FORMATS
) -> list[Path]:
    """Draw every chart that applies to a comparison and save it in each format.

    Args:
        cmp: The comparison.
        directory: An existing folder; each chart is ``<name>.<format>`` in it.
        formats: Formats to write (default PNG, SVG and PDF).

    Returns:
        The files written, chart by chart.
    """
    out = Path(directory)
    written: list[Path] = []
    for name in applicable_charts(cmp):
        written += save_figure(draw_chart(cmp, name), out / name, formats)
    return written
