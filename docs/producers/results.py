"""Generated blocks of the docs: what the command line prints, and the Xianning comparison.

See :mod:`producers.registry`. The command-line blocks run the installed ``containment-sim``
in a scratch folder and quote its output (the ``wall time`` line, which differs from run to
run, is left out). The comparison blocks run the built-in Xianning scenario at the scale and
replicates they state; their tables and charts come from the same comparison.
"""

from __future__ import annotations

import functools
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from producers.registry import ROOT, block, save_figure, table

COMPARE_SCALE = 0.1
COMPARE_REPLICATES = 20
ATTRIBUTE_REPLICATES = 10
VARYING = ("wall time", "results written")
PROGRESS = re.compile(r": \d+ of \d+ \w+ \(\d+%\), |: \d+ \w+ done in ")
"""Progress lines (logged with their timings when the output is not a terminal)."""


def cli(command: str, files: dict[str, str] | None = None) -> str:
    """Run ``containment-sim COMMAND`` in a scratch folder; its output as a console block.

    The folder holds a copy of ``scenarios/`` and ``files`` (name: text). Lines starting with
    a phrase of ``VARYING`` (timings, output paths) and progress lines are left out.
    """
    with tempfile.TemporaryDirectory() as scratch:
        shutil.copytree(ROOT / "scenarios", Path(scratch) / "scenarios")
        for name, text in (files or {}).items():
            (Path(scratch) / name).write_text(text, encoding="utf-8")
        env = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1"}
        proc = subprocess.run(
            [sys.executable, "-m", "containment_sim", *shlex.split(command)],
            cwd=scratch,
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
    lines = (proc.stdout + proc.stderr).rstrip().splitlines()
    shown = [
        line for line in lines if not line.strip().startswith(VARYING) and not PROGRESS.search(line)
    ]
    return "```console\n$ containment-sim " + command + "\n" + "\n".join(shown) + "\n```"


@block("gs-run-small")
def run_small() -> str:
    """The small built-in scenario, run from the clone."""
    return cli("run scenarios/small.yaml --out out/ --no-plot")


@block("gs-run-external")
def run_external() -> str:
    """Xianning's external measures at 5 % scale."""
    return cli("run xianning --scale 0.05 --strategy external --out out/xn-ext --no-plot")


@block("gs-validate")
def validate() -> str:
    """What ``validate`` prints for the built-in scenarios."""
    return cli("validate xianning") + "\n\n" + cli("validate small")


@functools.cache
def comparison() -> Any:
    """Xianning's four strategies at ``COMPARE_SCALE``, ``COMPARE_REPLICATES`` replicates."""
    import containment_sim as cs

    scenario = cs.with_overrides(cs.load_scenario("xianning"), {"population.scale": COMPARE_SCALE})
    return cs.compare(scenario, replicates=COMPARE_REPLICATES, workers=os.cpu_count() or 1)


def _scale_note() -> str:
    full = round(1 / COMPARE_SCALE)
    return (
        f"Xianning at {COMPARE_SCALE:.0%} scale, {COMPARE_REPLICATES} replicates per strategy "
        f"with common random numbers; counts are at the simulated scale (multiply by about "
        f"{full} for the whole city)."
    )


@block("compare-table", cost="costly")
def compare_table() -> str:
    """Means and 95 % ranges of the outcomes of each strategy, and what it averts."""
    frame = comparison().table()
    columns = {
        "strategy": "strategy",
        "total_infections_mean": "infections",
        "total_infections_lo95": "2.5 %",
        "total_infections_hi95": "97.5 %",
        "confirmed_mean": "confirmed",
        "deaths_mean": "deaths",
        "peak_day_mean": "peak day",
        "probability_contained": "P(contained)",
        "infections_averted_mean": "averted",
        "infections_averted_se": "averted SE",
    }
    shown = frame[[c for c in columns if c in frame.columns]].rename(columns=columns).round(1)
    shown["P(contained)"] = [f"{100 * v:.0f} %" for v in frame["probability_contained"]]
    return _scale_note() + "\n\n" + table(shown)


CHARTS = {
    "curves": "New infections per day and people infected: median and 90 % interval.",
    "outcomes": "Outcomes per strategy: median (dot) and 90 % interval (line).",
    "averted": "Infections and deaths averted against `none`, paired by replicate.",
    "rt": "Reproduction number by day of infection: median and 90 % interval.",
    "regions": "Daily new infections by region: median and 90 % interval.",
    "site_occupancy": "People at quarantine sites and their capacity.",
    "checkpoint_load": "People crossing checkpoints per day and their capacity.",
}


def _chart_block(chart: str, caption: str) -> None:
    def produce() -> str:
        path = save_figure(comparison().plot(chart), f"compare-{chart.replace('_', '-')}")
        return f"![{caption}]({path})\n\n*{caption} {_scale_note()}*"

    block(f"chart-{chart.replace('_', '-')}", cost="costly")(produce)


for _chart, _caption in CHARTS.items():
    _chart_block(_chart, _caption)


@block("compare-console", cost="costly")
def compare_console() -> str:
    """What ``compare`` prints for Xianning (the same runs as the tables and charts)."""
    return cli(
        f"compare xianning --replicates {COMPARE_REPLICATES} --scale {COMPARE_SCALE} "
        "--workers 2 --out cmp/ --no-plot"
    )


@block("compare-findings", cost="costly")
def compare_findings() -> str:
    """The comparison's main findings, as sentences with their figures."""
    frame = comparison().table().set_index("strategy")
    reps = comparison().replicates
    none = frame.loc["none", "total_infections_mean"]
    lines = []
    for name in [s for s in frame.index if s != "none"]:
        row = frame.loc[name]
        averted, se = row["infections_averted_mean"], row["infections_averted_se"]
        share = averted / none if none else float("nan")
        lines.append(
            f"- `{name}` averts {averted:,.0f} infections on average (paired SE {se:,.0f}), "
            f"{share:.1%} of `none`'s {none:,.0f}; it ends with nobody infected in "
            f"{row['probability_contained']:.0%} of replicates and confirms "
            f"{row['confirmed_mean']:,.0f} cases ({row['confirmed_mean'] / COMPARE_SCALE:,.0f} "
            "for the whole city)."
        )
    if {"internal", "combined"} <= set(frame.index):
        paired = _paired(reps, "internal", "combined")
        lines.append(
            f"- Adding the external measures to the internal ones (`combined` against "
            f"`internal`) averts {paired.mean():,.0f} ± {_se(paired):,.0f} "
            f"(mean ± SE) more infections; `combined` has fewer infections in "
            f"{(paired > 0).sum()} of {len(paired)} replicates."
        )
    imported = reps.groupby("strategy")["imported_infections"].mean()
    lines.append(
        "- Imported infections average "
        + ", ".join(f"{imported[s]:,.1f} under `{s}`" for s in frame.index if s in imported)
        + "."
    )
    return _scale_note() + "\n\n" + "\n".join(lines)


def _se(values: Any) -> float:
    return float(values.std(ddof=1) / len(values) ** 0.5)


def _paired(reps: Any, base: str, other: str) -> Any:
    by = reps.pivot(index="replicate", columns="strategy", values="total_infections")
    return by[base] - by[other]


@block("attribution", cost="costly")
def attribution() -> str:
    """Shapley attribution of the infections `combined` averts to 外防输入 and 内防扩散."""
    import containment_sim as cs

    scenario = cs.with_overrides(cs.load_scenario("xianning"), {"population.scale": COMPARE_SCALE})
    units = {
        "外防输入 (external)": scenario.strategies["external"],
        "内防扩散 (internal)": scenario.strategies["internal"],
    }
    frame = cs.attribute(
        scenario, "combined", units, replicates=COMPARE_REPLICATES, workers=os.cpu_count() or 1
    )
    note = (
        f"Xianning at {COMPARE_SCALE:.0%} scale, {COMPARE_REPLICATES} replicates of each of the "
        "four subsets (none, external, internal, both) with common random numbers; counts at "
        "the simulated scale."
    )
    shown = frame.drop(columns=[c for c in ("measures", "runs") if c in frame.columns])
    shown = shown.assign(share=[f"{100 * v:.1f} %" for v in shown["share"]])
    return note + "\n\n" + table(shown.round(1))


GROUPS = {
    "travel": "rail_suspension+chibi_bus_suspension+bus_and_coach_suspension"
    "+tongcheng_border_closure",
    "checkpoints": "checkpoint_g4+checkpoint_g107+checkpoint_wuhan_shenzhen+checkpoint_tongcheng",
    "returnee_quarantine": "returnee_quarantine",
    "case_finding": "care_seeking+symptom_survey+testing+hospital",
    "tracing": "tracing+quarantine_sites",
    "distancing": "stay_home+gathering_ban+community_closure",
}
ATTRIBUTE_SCALE = 0.05
ATTRIBUTE_REPS = 5
SWEEP = (
    "sweep xianning --strategy internal --scale 0.05 --replicates 10 "
    "--param measures.tracing.capacity=30,100,300 "
    "--param measures.tracing.coverage.community=0.3,0.6,0.9 --workers 2 --out sweep/"
)


def _cli_with_chart(command: str, folder: str, chart: str, name: str) -> tuple[str, str]:
    """Run a command that writes ``folder/chart.png``; its console block and the chart path."""
    from producers.registry import IMAGES

    with tempfile.TemporaryDirectory() as keep:
        text = cli(command.replace(f"--out {folder}/", f"--out {keep}/{folder}/"))
        text = text.replace(f"{keep}/", "")
        IMAGES.mkdir(exist_ok=True)
        shutil.copyfile(Path(keep) / folder / f"{chart}.png", IMAGES / f"{name}.png")
    return text, f"images/{name}.png"


@functools.cache
def _attribute_run() -> tuple[str, str]:
    groups = " ".join(f"--group {k}={v}" for k, v in GROUPS.items())
    command = (
        f"compare xianning --replicates {ATTRIBUTE_REPS} --scale {ATTRIBUTE_SCALE} --workers 2 "
        f"--out cmp/ --attribute combined {groups}"
    )
    return _cli_with_chart(command, "cmp", "attribution", "attribution")


@block("attribute-console", cost="costly")
def attribute_console() -> str:
    """``compare --attribute combined`` with six groups of measures."""
    return _attribute_run()[0]


@block("chart-attribution", cost="costly")
def chart_attribution() -> str:
    """The attribution chart of the six units."""
    caption = (
        f"Shapley values of the six units of `combined` (Xianning at {ATTRIBUTE_SCALE:.0%} "
        f"scale, {ATTRIBUTE_REPS} replicates per subset)."
    )
    return f"![{caption}]({_attribute_run()[1]})\n\n*{caption}*"


@functools.cache
def _sweep_run() -> tuple[str, str]:
    return _cli_with_chart(SWEEP, "sweep", "sweep", "sweep")


@block("sweep-console", cost="costly")
def sweep_console() -> str:
    """A two-parameter sweep of tracing under `internal`."""
    return _sweep_run()[0]


@block("chart-sweep", cost="costly")
def chart_sweep() -> str:
    """The sweep's heatmap."""
    caption = "Mean infections over tracing capacity and community coverage (5 % scale)."
    return f"![{caption}]({_sweep_run()[1]})\n\n*{caption}*"


@block("gs-two-towns")
def two_towns() -> str:
    """The example scenario of the getting-started page, from ``examples/two-towns.yaml``."""
    text = (ROOT / "examples" / "two-towns.yaml").read_text(encoding="utf-8").rstrip()
    return "```yaml\n" + text + "\n```"


@block("gs-two-towns-validate")
def two_towns_validate() -> str:
    """What ``validate`` prints for the example."""
    text = (ROOT / "examples" / "two-towns.yaml").read_text(encoding="utf-8")
    return cli("validate two-towns.yaml", {"two-towns.yaml": text})


@block("gs-cross-references")
def cross_references() -> str:
    """Two broken cross-references in the example, reported together."""
    text = (ROOT / "examples" / "two-towns.yaml").read_text(encoding="utf-8")
    text = text.replace("road: river road", "road: river rd")
    text = text.replace("external: [bridge_closed, gate_check]", "external: [bridge_closed, gate]")
    return cli("validate two-towns.yaml", {"two-towns.yaml": text})
