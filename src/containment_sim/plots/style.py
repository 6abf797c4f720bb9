"""The look of every chart: palette, style context, tick formatters and titles.

Colours come from the Okabe-Ito palette, which stays distinguishable with the common
colour-vision deficiencies; its yellow is left out because it is too pale on white paper.
Strategies also differ by line style, so charts stay readable in greyscale.

Every chart function runs inside :func:`styled`, a ``matplotlib.rc_context``: the style
applies to the figure being drawn and never to the user's own figures, and
``matplotlib.rcParams`` is the same after a chart is drawn as before. Figures are plain
``matplotlib.figure.Figure`` objects, not pyplot figures, so no backend is selected and an
interactive session is left as it was.

All counts in a run are at the simulated scale (``population.scale``); every chart says so in
its title (:func:`scale_note`).
"""

from __future__ import annotations

import functools
import textwrap
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Literal, ParamSpec, TypeVar

import matplotlib as mpl
import matplotlib.dates as mdates
import numpy as np
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, NullFormatter, PercentFormatter

from containment_sim.scenario import Scenario

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

__all__ = [
    "GREY",
    "LINESTYLES",
    "OKABE_ITO",
    "SHARE_OUTCOMES",
    "STRATEGY_COLOURS",
    "STYLE",
    "count_axis",
    "date_axis",
    "format_count",
    "is_count",
    "label_values",
    "log_count_axis",
    "new_figure",
    "outcome_label",
    "percent_axis",
    "scale_note",
    "scenario_note",
    "set_title",
    "strategy_style",
    "style",
    "styled",
]

OKABE_ITO: dict[str, str] = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
}
"""The eight colours of Okabe & Ito (2008), *Color Universal Design*, by name."""

GREY = "#999999"
"""Neutral grey for reference marks (capacities, start dates) and seeded infections."""

STRATEGY_COLOURS: tuple[str, ...] = tuple(
    OKABE_ITO[name]
    for name in ("black", "green", "vermillion", "purple", "blue", "orange", "sky_blue")
)
"""Colour of the k-th strategy of a comparison (the first is usually ``none``)."""

LINESTYLES: tuple[str, ...] = ("-", "--", "-.", ":")
"""Line style of the k-th strategy (cycled), so the lines differ in greyscale too."""

STYLE: dict[RcKeyType, Any] = {
    "font.size": 9,
    "axes.titlesize": 9,
    "axes.labelsize": 9,
    "figure.titlesize": 10,
    "legend.fontsize": 8,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "lines.linewidth": 1.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.alpha": 0.35,
    "grid.linewidth": 0.6,
    "legend.frameon": False,
    "hatch.linewidth": 0.8,
    "pdf.fonttype": 42,
    "svg.hashsalt": "containment-sim",
}
"""Settings applied while a chart is drawn and saved (text sized for print at 7 inches)."""

P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def style() -> Iterator[None]:
    """Apply :data:`STYLE` for the duration of the block, then restore the user's settings."""
    with mpl.rc_context(STYLE):
        yield


def styled(function: Callable[P, R]) -> Callable[P, R]:
    """Decorate a chart function so that it draws inside :func:`style`."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with style():
            return function(*args, **kwargs)

    return wrapper


def new_figure(
    nrows: int = 1,
    ncols: int = 1,
    size: tuple[float, float] = (7.0, 4.0),
    **subplots: Any,
) -> tuple[Figure, list[Axes]]:
    """A figure with a grid of axes, laid out by the constrained layout engine.

    Args:
        nrows: Rows of axes.
        ncols: Columns of axes.
        size: Width and height in inches.
        **subplots: Passed to ``Figure.subplots`` (``sharex``, ``height_ratios``, ...).

    Returns:
        The figure and its axes, row by row.
    """
    fig = Figure(figsize=size, layout="constrained")
    axes = np.asarray(fig.subplots(nrows, ncols, squeeze=False, **subplots))
    return fig, list(axes.ravel())


def strategy_style(k: int) -> dict[str, str]:
    """Colour and line style of the k-th strategy of a comparison."""
    return {
        "color": STRATEGY_COLOURS[k % len(STRATEGY_COLOURS)],
        "linestyle": LINESTYLES[k % len(LINESTYLES)],
    }


def format_count(value: float) -> str:
    """A count for a tick label: thousands separators, decimals only below ten.

    >>> format_count(104000.0), format_count(2.5), format_count(-3000.0)
    ('104,000', '2.5', '−3,000')
    """
    if not np.isfinite(value):
        return ""
    if abs(value) >= 10 or float(value).is_integer():
        text = f"{value:,.0f}"
    else:
        text = f"{value:.2g}"
    return text.replace("-", "\N{MINUS SIGN}")


def count_axis(axis: Axis, ticks: int | None = None) -> None:
    """Label the ticks of a count axis with thousands separators (``12,000``).

    Args:
        axis: A linear axis (for a logarithmic one see :func:`log_count_axis`).
        ticks: At most this many ticks, for narrow panels where long labels would touch.
            Ticks are whole numbers: nobody is half a person.
    """
    nbins: int | Literal["auto"] = "auto" if ticks is None else ticks
    axis.set_major_locator(MaxNLocator(nbins=nbins, steps=[1, 2, 2.5, 5, 10], integer=True))
    _count_labels(axis)


def _count_labels(axis: Axis) -> None:
    axis.set_major_formatter(FuncFormatter(lambda value, _: format_count(value)))


def log_count_axis(ax: Axes, which: str = "y") -> None:
    """A logarithmic count axis that still shows zero (linear below 1), labelled as counts."""
    axis = ax.yaxis if which == "y" else ax.xaxis
    if which == "y":
        ax.set_yscale("symlog", linthresh=1.0, linscale=0.5)
        ax.set_ylim(bottom=0)
    else:
        ax.set_xscale("symlog", linthresh=1.0, linscale=0.5)
    _count_labels(axis)
    axis.set_minor_formatter(NullFormatter())


def percent_axis(axis: Axis) -> None:
    """Label the ticks of an axis of shares (0 to 1) as percentages."""
    axis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))


def date_axis(ax: Axes, label: str = "date") -> None:
    """Dates on the x axis, labelled concisely: month names at month starts, then days.

    Call it once the data is drawn: the year (and, within a single month, the month) is
    written once, at the end of the axis.
    """
    locator = mdates.AutoDateLocator(minticks=3, maxticks=8)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    low, high = ax.get_xlim()
    offsets = ["", "%Y", "%Y" if high - low > 31 else "%Y %b", "%Y", "%Y", "%Y"]
    formatter = mdates.ConciseDateFormatter(  # type: ignore[no-untyped-call]
        locator, offset_formats=offsets
    )
    ax.xaxis.set_major_formatter(formatter)
    ax.set_xlabel(label)


def scale_note(scale: float | None, people: int | None = None) -> str:
    """Say at which scale a run was simulated, since every count is at that scale.

    Args:
        scale: ``population.scale`` of the scenario, or ``None`` if it was not recorded.
        people: Number of simulated people, if known.

    Returns:
        E.g. ``"simulated at 10 % of the city (301,223 people); counts at that scale"``.
    """
    if scale is None:
        return "simulated scale not recorded; counts at the simulated scale"
    size = f" ({people:,} people)" if people is not None else ""
    if scale >= 1.0:
        return f"simulated at full scale{size}"
    return f"simulated at {scale * 100:.3g} % of the city{size}; counts at that scale"


def scenario_note(scenario: Scenario) -> str:
    """:func:`scale_note` of a scenario, with its number of simulated people."""
    return scale_note(scenario.population.scale, sum(scenario.scaled_population()))


def set_title(fig: Figure, title: str, *details: str) -> None:
    """Title a figure: the title, then each detail (method, scale note) on its own line.

    Lines are wrapped to the figure's width, so that no title runs off the page.
    """
    width = max(40, int(fig.get_figwidth() * 13.5))  # characters of 10-point text per line
    lines = [wrapped for text in (title, *details) for wrapped in textwrap.wrap(text, width)]
    fig.suptitle("\n".join(lines))


_OUTCOMES: dict[str, tuple[str, str]] = {
    "total_infections": ("infections", "people"),
    "local_infections": ("local infections", "people"),
    "imported_infections": ("imported infections", "people"),
    "exported_infections": ("exported infections", "people"),
    "confirmed": ("confirmed cases", "people"),
    "deaths": ("deaths", "people"),
    "peak_prevalence": ("peak prevalence", "share of the population"),
    "peak_day": ("peak day", "days since the start"),
    "clearance_day": ("clearance day", "days since the start"),
    "contained": ("contained", "share of replicates"),
    "quarantine_person_days": ("quarantine", "person-days"),
    "overflow_person_days": ("quarantine beyond site capacity", "person-days"),
    "contacts_traced": ("contacts traced", "people"),
    "checkpoint_detections": ("checkpoint detections", "people"),
    "last_local_infection_day": ("last local infection", "days since the start"),
}

SHARE_OUTCOMES = frozenset({"peak_prevalence", "contained"})
"""Outcomes that are shares (0 to 1), drawn on percentage axes."""


def outcome_label(outcome: str, extra: str = "") -> str:
    """Axis label of a per-run outcome with its unit, e.g. ``"infections (people)"``.

    Args:
        outcome: A column of the replicates table.
        extra: Words added after the unit (e.g. ``"log scale"``).
    """
    name, unit = _OUTCOMES.get(outcome, (outcome.replace("_", " "), "value"))
    return f"{name} ({unit}{', ' + extra if extra else ''})"


def is_count(outcome: str) -> bool:
    """Whether an outcome counts people or person-days (drawn with thousands separators)."""
    return _OUTCOMES.get(outcome, ("", ""))[1] in ("people", "person-days")


def label_values(values: Sequence[Any]) -> list[str]:
    """Tick labels for parameter values: numbers with thousands separators, others as text."""
    out = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int | float | np.number):
            out.append(str(value))
        elif float(value).is_integer():
            out.append(f"{value:,.0f}")
        else:
            out.append(f"{value:,.6g}")
    return out
