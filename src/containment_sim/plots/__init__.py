"""Publication-ready charts of runs, comparisons and sweeps.

Every chart is a pure function returning a ``matplotlib.figure.Figure`` (no pyplot, no change
to ``matplotlib.rcParams``); :func:`save_figure` writes it as PNG, SVG and PDF, atomically.

Modules:
    style: palette, style context, tick formatters, titles that state the simulated scale.
    intervals: medians and 90 % intervals across replicates, as bands and whiskers.
    run: the chart of one :class:`~containment_sim.results.Result`.
    curves: daily curves of a :class:`~containment_sim.experiments.Comparison`.
    outcomes: per-run outcomes of a comparison: totals, averted, attribution.
    comparison: the charts of a comparison by name; saving all that apply.
    sweep: the chart of a parameter sweep.
    save: atomic saving in several formats.

Example::

    import containment_sim as cs
    from containment_sim.plots import plot_curves, save_figure

    fig = cs.run(scenario).plot("out/curve")        # the run chart, saved as out/curve.*
    save_figure(plot_curves(comparison), "out/curves")
"""

from __future__ import annotations

from containment_sim.plots.comparison import (
    CHARTS,
    applicable_charts,
    draw_chart,
    save_comparison_charts,
)
from containment_sim.plots.curves import (
    plot_checkpoint_load,
    plot_curves,
    plot_regions,
    plot_rt,
    plot_site_occupancy,
)
from containment_sim.plots.outcomes import plot_attribution, plot_averted, plot_outcomes
from containment_sim.plots.run import plot_epidemic_curve
from containment_sim.plots.save import FORMATS, chart_files, save_figure
from containment_sim.plots.sweep import plot_sweep

__all__ = [
    "CHARTS",
    "FORMATS",
    "applicable_charts",
    "chart_files",
    "draw_chart",
    "plot_attribution",
    "plot_averted",
    "plot_checkpoint_load",
    "plot_curves",
    "plot_epidemic_curve",
    "plot_outcomes",
    "plot_regions",
    "plot_rt",
    "plot_site_occupancy",
    "plot_sweep",
    "save_comparison_charts",
    "save_figure",
]
