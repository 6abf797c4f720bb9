"""Charts: labelled axes, the scale in every title, readable numbers, no leaked settings,
and atomic saving in three formats."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.container import BarContainer
from matplotlib.figure import Figure
from matplotlib.patches import StepPatch

from containment_sim import load_scenario, run, with_overrides
from containment_sim.experiments import CURVES, OUTCOMES, Comparison
from containment_sim.plots import (
    CHARTS,
    applicable_charts,
    draw_chart,
    plot_epidemic_curve,
    plot_sweep,
    save_comparison_charts,
    save_figure,
)
from containment_sim.plots.style import format_count, scale_note
from containment_sim.results import Result

STRATEGIES = ["none", "external", "internal", "combined"]
AVERTED = {"none": 0, "external": 3_000, "internal": 104_000, "combined": 105_000}
REPLICATES = 5
DAYS = 60


def synthetic_comparison() -> Comparison:
    """Four strategies at 10 % scale; ``external`` averts 3,000 infections, ``internal`` 104,000."""
    scenario = with_overrides(load_scenario("xianning"), {"population.scale": 0.1, "days": DAYS})
    rng = np.random.default_rng(5)
    outcomes, curves, regions = [], [], []
    day = np.arange(DAYS)
    for s in STRATEGIES:
        for r in range(REPLICATES):
            averted = AVERTED[s] * (1 + 0.08 * (r - 2))  # spread grows with the effect
            total = 120_000 + 1_000 * r - int(averted) + int(rng.integers(-800, 800))
            outcomes.append({**dict.fromkeys(OUTCOMES, 0), "strategy": s, "replicate": r,
                             "seed": r, "total_infections": total, "confirmed": total // 40,
                             "deaths": total // 200 + r, "peak_day": 30 + r, "contained": r == 0,
                             "peak_prevalence": total / 300_000})  # fmt: skip
            new = np.round(40_000 * total / 120_000 * np.exp(-(((day - 35 - r) / 9.0) ** 2)))
            frame = pd.DataFrame({c: np.zeros(DAYS) for c in CURVES})
            frame = frame.assign(strategy=s, replicate=r, day=day, new_infections=new,
                                 n_infected=np.cumsum(new) * 0.3, r_t=2.0 - day / 40)  # fmt: skip
            if s in ("internal", "combined"):
                frame = frame.assign(site_occupancy=np.minimum(new, 180.0), site_capacity=200.0)
            if s in ("external", "combined"):
                frame = frame.assign(checkpoint_travellers=1_500 + 10 * r, checkpoint_capacity=2e3)
            curves.append(frame)
            for k, region in enumerate(scenario.region_names):
                regions.append(pd.DataFrame({"strategy": s, "replicate": r, "day": day,
                                             "region": region, "new_infections": new // (k + 2),
                                             "n_infected": 0}))  # fmt: skip
    attribution = pd.DataFrame({"unit": ["tracing", "closure", "testing"],
                                "measures": ["tracing", "community_closure", "testing"],
                                "shapley": [20_000.0, 90_000.0, -6_000.0],
                                "share": [0.19, 0.87, -0.06], "outcome": "total_infections",
                                "total_averted": 104_000.0})  # fmt: skip
    return Comparison(scenario, STRATEGIES, pd.DataFrame(outcomes), pd.concat(curves),
                      pd.concat(regions), attribution)  # fmt: skip


@pytest.fixture(scope="module")
def comparison() -> Comparison:
    return synthetic_comparison()


@pytest.fixture(scope="module")
def result() -> Result:
    # seed 2 takes off within the 60 days (seed 1 dies out at this scale)
    changes = {"days": DAYS, "population.scale": 0.5, "seed": 2}
    return run(with_overrides(load_scenario("small"), changes))


def sweep_table(two: bool) -> pd.DataFrame:
    rows = []
    for capacity in (100, 1_000, 3_000):
        for coverage in (0.2, 0.8) if two else (0.5,):
            for r in range(4):
                rows.append({"measures.tracing.capacity": capacity, "replicate": r,
                             "measures.tracing.coverage.community": coverage,
                             "strategy": "internal", "contained": r % 2 == 0,
                             "total_infections": 50_000 // (1 + capacity // 100) + r})  # fmt: skip
    return pd.DataFrame(rows)


PARAMS = ["measures.tracing.capacity", "measures.tracing.coverage.community"]


def every_chart(result: Result, comparison: Comparison) -> dict[str, Callable[[], Figure]]:
    charts: dict[str, Callable[[], Figure]] = {
        name: (lambda name=name: draw_chart(comparison, name)) for name in CHARTS
    }
    charts["run"] = lambda: plot_epidemic_curve(result)
    charts["sweep1"] = lambda: plot_sweep(sweep_table(False), PARAMS[:1], "total_infections", 0.1)
    charts["sweep2"] = lambda: plot_sweep(sweep_table(True), PARAMS, "total_infections", 0.1)
    return charts


NAMES = [*CHARTS, "run", "sweep1", "sweep2"]


@pytest.fixture(scope="module")
def figures(result, comparison) -> Callable[[str], Figure]:
    """Each chart by name, drawn once for the tests that only read it."""
    charts, cache = every_chart(result, comparison), {}

    def get(name: str) -> Figure:
        if name not in cache:
            cache[name] = charts[name]()
        return cache[name]

    return get


def drawn(fig: Figure) -> list[Axes]:
    """The visible axes of a figure, after a draw that lays out ticks and labels."""
    fig.draw_without_rendering()
    return [ax for ax in fig.axes if ax.get_visible()]


def shown(labels: list) -> list[str]:
    return [t.get_text() for t in labels if t.get_visible() and t.get_text()]


@pytest.mark.parametrize("name", NAMES)
def test_every_axis_with_tick_labels_has_a_label(name, figures) -> None:
    fig = figures(name)
    assert isinstance(fig, Figure)
    for ax in drawn(fig):
        if shown(ax.get_xticklabels()):
            assert ax.get_xlabel().strip(), f"{name}: x axis without a label"
        if shown(ax.get_yticklabels()) or ax.get_ylabel():
            assert ax.get_ylabel().strip(), f"{name}: y axis without a label"
    assert any(ax.get_xlabel() for ax in fig.axes) and any(ax.get_ylabel() for ax in fig.axes)


@pytest.mark.parametrize("name", NAMES)
def test_every_title_states_the_simulated_scale(name, figures) -> None:
    title = figures(name).get_suptitle()
    expected = "50 % of the city (20,000 people)" if name == "run" else "10 % of the city"
    assert expected in title.replace("\n", " ")
    assert "counts at that scale" in title.replace("\n", " ")


def test_the_scale_note_names_the_fraction_and_full_scale() -> None:
    assert scale_note(0.005) == "simulated at 0.5 % of the city; counts at that scale"
    assert scale_note(1.0, 3_012_345) == "simulated at full scale (3,012,345 people)"
    assert "not recorded" in scale_note(None)


def count_ticks(ax: Axes, axis: str) -> list[tuple[float, str]]:
    which = ax.yaxis if axis == "y" else ax.xaxis
    low, high = sorted(which.get_view_interval())
    labels = [t.get_text() for t in which.get_majorticklabels()]
    return [(v, s) for v, s in zip(which.get_majorticklocs(), labels, strict=True)
            if low <= v <= high and s]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "axis"),
    [("run", "y"), ("curves", "y"), ("regions", "y"), ("averted", "x"), ("outcomes", "x"),
     ("attribution", "x"), ("checkpoint_load", "y"), ("sweep1", "y")],
)  # fmt: skip
def test_count_ticks_have_thousands_separators(name, axis, figures) -> None:
    fig = figures(name)
    label = Axes.get_xlabel if axis == "x" else Axes.get_ylabel
    counts = [ax for ax in drawn(fig) if "date" not in label(ax)]  # dates are not counts
    big = [(v, s) for ax in counts for v, s in count_ticks(ax, axis) if abs(v) >= 1000]
    assert big, f"{name}: no tick of 1,000 or more to check"
    for value, label in big:
        assert "," in label and label.replace(",", "").lstrip("−").isdigit(), (value, label)


def test_format_count() -> None:
    assert [format_count(v) for v in (0.0, 2.5, 10.0, 1_000.0, 104_000.0, -3_000.0)] == [
        "0", "2.5", "10", "1,000", "104,000", "−3,000"
    ]  # fmt: skip


def test_dates_are_dates(result, comparison) -> None:
    fig = plot_epidemic_curve(result)
    labels = shown(drawn(fig)[-1].get_xticklabels())
    assert any(month in labels for month in ("Feb", "Mar")), labels
    assert all(not label.replace(".", "").isdigit() or int(label) <= 31 for label in labels)


@pytest.mark.parametrize("name", NAMES)
def test_no_bars_on_logarithmic_axes(name, figures) -> None:
    for ax in drawn(figures(name)):
        if "log" in ax.get_xscale() or "log" in ax.get_yscale():
            assert not [c for c in ax.containers if isinstance(c, BarContainer)], name


def test_outcomes_are_dots_and_whiskers(comparison) -> None:
    fig = draw_chart(comparison, "outcomes")
    infections = drawn(fig)[0]
    assert "infections" in infections.get_xlabel() and not infections.containers
    whiskers = [line for line in infections.lines if len(line.get_xdata()) == 2]
    assert len(whiskers) == len(STRATEGIES)
    none = whiskers[0].get_xdata()
    assert none[0] < none[1]  # an interval, not a point


def test_every_strategy_averts_on_its_own_readable_axis(comparison) -> None:
    fig = draw_chart(comparison, "averted")
    panels = {ax.get_ylabel(): ax for ax in drawn(fig) if "infections" in ax.get_xlabel()}
    assert set(panels) == {"external", "internal", "combined"}
    for strategy, ax in panels.items():
        low, high = ax.get_xlim()
        assert low <= 0 <= high
        zero = [line for line in ax.lines if list(line.get_xdata()) == [0, 0]]
        assert zero, f"{strategy}: no zero line"
        whisker = next(line for line in ax.lines if len(line.get_xdata()) == 2 and line not in zero)
        lo, hi = sorted(whisker.get_xdata())
        assert (hi - lo) / (high - low) > 0.05, f"{strategy}: interval too small to see"
        median = AVERTED[strategy]
        assert lo < median * 1.1 + 1000 and hi > median * 0.9 - 1000
    external = panels["external"].get_xlim()
    assert external[1] < 20_000  # not squeezed onto the 104,000 axis


def test_the_run_chart_has_one_colour_per_meaning_and_days_without_gaps(result) -> None:
    fig = plot_epidemic_curve(result)
    meanings = {}
    for ax in drawn(fig):
        legend = ax.get_legend()
        for handle, text in zip(legend.legend_handles, legend.get_texts(), strict=True):
            colour = mpl.colors.to_hex(
                handle.get_facecolor() if hasattr(handle, "get_facecolor") else handle.get_color()
            )
            hatch = handle.get_hatch() if hasattr(handle, "get_hatch") else None
            meanings[text.get_text()] = (colour, hatch)
    assert len(meanings) >= 7
    assert len(set(meanings.values())) == len(meanings), meanings
    assert not {colour for colour, _ in meanings.values()} & {"#f0e442"}  # no pale yellow
    steps = [p for p in fig.axes[0].patches if isinstance(p, StepPatch)]
    edges = steps[0].get_data().edges
    assert np.allclose(np.diff(edges), 1.0)  # one day wide, each day starting where the last ends


def test_overlapping_bands_are_outlined_in_their_colour(comparison) -> None:
    ax = drawn(draw_chart(comparison, "curves"))[0]
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == len(STRATEGIES)
    for band in bands:
        colour = mpl.colors.to_hex(band.get_facecolor()[0], keep_alpha=False)
        alpha = band.get_facecolor()[0][3]
        assert alpha < 0.5
        same = [line for line in ax.lines if mpl.colors.to_hex(line.get_color()) == colour]
        assert len(same) >= 3  # the median and both edges of the band


def test_drawing_and_saving_leave_matplotlib_settings_unchanged(
    result, comparison, tmp_path: Path
) -> None:
    user = {"font.size": 13.0, "axes.grid": False, "legend.frameon": True, "lines.linewidth": 3}
    with mpl.rc_context(user):  # a user's own settings, unlike the charts' style
        before = {key: dict.__getitem__(mpl.rcParams, key) for key in mpl.rcParams}
        for name, draw in every_chart(result, comparison).items():
            save_figure(draw(), tmp_path / name, formats=("png",))
        after = {key: dict.__getitem__(mpl.rcParams, key) for key in mpl.rcParams}
    assert {k for k in before if before[k] != after[k]} == set()
    assert after["font.size"] == 13.0


def test_charts_need_no_pyplot_and_select_no_backend(tmp_path: Path) -> None:
    code = (
        "import sys, matplotlib, containment_sim as cs\n"
        "backend = dict.__getitem__(matplotlib.rcParams, 'backend')\n"
        "sc = cs.with_overrides(cs.load_scenario('small'), {'days': 5})\n"
        f"cs.run(sc).plot({str(tmp_path / 'curve')!r})\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
        "assert dict.__getitem__(matplotlib.rcParams, 'backend') is backend\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["curve.pdf", "curve.png", "curve.svg"]


def small_figure() -> Figure:
    fig = Figure(figsize=(2, 2))
    fig.subplots().plot([0, 1], [0, 1])
    return fig


def test_save_writes_png_svg_and_pdf_beside_each_other(tmp_path: Path) -> None:
    written = save_figure(small_figure(), tmp_path / "chart.png")
    assert written == [tmp_path / f"chart.{fmt}" for fmt in ("png", "svg", "pdf")]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chart.pdf", "chart.png", "chart.svg"]
    assert (tmp_path / "chart.png").read_bytes().startswith(b"\x89PNG")
    assert (tmp_path / "chart.pdf").read_bytes().startswith(b"%PDF")
    assert b"<svg" in (tmp_path / "chart.svg").read_bytes()[:2000]


def test_saving_the_same_figure_twice_gives_the_same_bytes(tmp_path: Path) -> None:
    fig = small_figure()
    first = [p.read_bytes() for p in save_figure(fig, tmp_path / "a")]
    second = [p.read_bytes() for p in save_figure(fig, tmp_path / "b")]
    assert first == second


class Exploding(Exception):
    pass


def test_a_failed_save_leaves_the_old_chart_and_no_temporary_file(
    tmp_path: Path, monkeypatch
) -> None:
    (tmp_path / "chart.png").write_bytes(b"old chart")
    fig = small_figure()
    real = fig.savefig

    def savefig(fh, format: str, **kwargs) -> None:
        if format == "pdf":
            fh.write(b"half a pdf")
            raise Exploding
        real(fh, format=format, **kwargs)

    monkeypatch.setattr(fig, "savefig", savefig)
    with pytest.raises(Exploding):
        save_figure(fig, tmp_path / "chart")
    assert [p.name for p in tmp_path.iterdir()] == ["chart.png"]
    assert (tmp_path / "chart.png").read_bytes() == b"old chart"


def test_result_and_comparison_plot_return_figures_and_save(
    result, comparison, tmp_path: Path
) -> None:
    assert isinstance(result.plot(), Figure)
    fig = comparison.plot("averted", tmp_path / "averted")
    assert isinstance(fig, Figure) and (tmp_path / "averted.pdf").exists()
    with pytest.raises(ValueError, match="unknown chart 'pie'"):
        comparison.plot("pie")


def test_only_the_charts_that_apply_are_drawn(comparison, tmp_path: Path) -> None:
    assert applicable_charts(comparison) == list(CHARTS)
    alone = Comparison(
        comparison.scenario, ["internal"],
        comparison.replicates[comparison.replicates["strategy"] == "internal"],
        comparison.curves[comparison.curves["strategy"] == "internal"], comparison.regions,
    )  # fmt: skip
    names = applicable_charts(alone)
    assert "averted" not in names and "attribution" not in names
    assert "checkpoint_load" not in names and "site_occupancy" in names
    with pytest.raises(ValueError, match="does not apply"):
        alone.plot("checkpoint_load")
    files = save_comparison_charts(alone, tmp_path, formats=("svg",))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{n}.svg" for n in names)
    assert files == [tmp_path / f"{n}.svg" for n in names]
