"""Generated blocks of the model, measures and engines pages: see :mod:`producers.registry`.

Cheap blocks read the code: the default parameters with the citation written beside each in
``containment_sim/defaults.py`` and the measure modules, the age tables and the course
probabilities derived from them, what the natural history and the layer rates imply (R0,
generation interval, growth rate) for the built-in scenarios, and the step order of the
vectorized engine. Costly blocks run the Xianning scenario at full scale (its outcomes beside
the reported counts, when the package ships them) and the engine-agreement replicates.
"""

from __future__ import annotations

import ast
import functools
import inspect
import sys
from datetime import date, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from producers.registry import ROOT, block, save_figure, table

XIANNING_SEEDS = 5
"""Replicates of the full-scale Xianning block (seeds ``seed``, ``seed + 1``, ...)."""

XIANNING_STRATEGY = "combined"

XIANNING_SCALE = 1.0
"""The Xianning blocks run the whole city."""

REPORTED_FILE = "xianning-2020-reported.csv"
"""The reported counts, read from the package data (``containment_sim/data``) when shipped."""

CHECK_DATES = (date(2020, 1, 30), date(2020, 2, 2), date(2020, 2, 5), date(2020, 2, 13))
"""Dates of the official Xianning bulletins compared (13 Feb: the last laboratory-only day)."""

LAB_ONLY_UNTIL = date(2020, 2, 13)
"""Last day on which the reported count holds laboratory-confirmed cases only."""

AGREEMENT_REPLICATES = 200


# --- defaults and their citations --------------------------------------------------------------
def _commented_constants(path: Path) -> dict[str, tuple[str, str]]:
    """Module-level constants of a source file: name -> (value as written, its comment).

    The comment is the block of ``#`` lines just above the assignment, or the string just
    below it (an attribute docstring).
    """
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    tree = ast.parse(source)
    out: dict[str, tuple[str, str]] = {}
    body = tree.body
    previous = ""
    for k, node in enumerate(body):
        target = None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
        elif isinstance(node, ast.AnnAssign):
            target = node.target
        if not isinstance(target, ast.Name) or not target.id.isupper():
            continue
        comment: list[str] = []
        row = node.lineno - 2
        while row >= 0 and lines[row].lstrip().startswith("#"):
            text = lines[row].lstrip()[1:].strip()
            if not text.startswith("---"):  # a section heading, not the constant's comment
                comment.insert(0, text)
            row -= 1
        if not comment and previous and row >= 0 and lines[row].strip():
            comment = [out[previous][1]]  # a constant right below another shares its comment
        after = body[k + 1] if k + 1 < len(body) else None
        if (
            not comment
            and isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
            and isinstance(after.value.value, str)
        ):
            comment = [" ".join(after.value.value.split())]
        value = ast.get_source_segment(source, node.value) if node.value is not None else ""
        out[target.id] = (" ".join((value or "").split()), _cell_text(" ".join(comment)))
        previous = target.id
    return out


def _cell_text(text: str) -> str:
    """Source text fit for a Markdown table cell: inline code in single backticks, no pipes."""
    return text.replace("``", "`").replace("|", "\\|")


def _module_path(module: Any) -> Path:
    return Path(inspect.getfile(module))


def _duration(spec: dict[str, Any]) -> str:
    text = f"{spec['dist']}, mean {spec['mean']:g} d"
    return text + (f", sd {spec['sd']:g} d" if "sd" in spec else "")


def _band_values(values: tuple[float, ...], percent: bool = False) -> str:
    return ", ".join(f"{v * 100:.3g} %" if percent else f"{v:g}" for v in values)


DISEASE_DEFAULTS = (
    ("LATENT_PERIOD", "disease.latent_period", "infection to infectiousness (E)"),
    ("PRESYMPTOMATIC_PERIOD", "disease.presymptomatic_period", "infectious before onset (P)"),
    ("INFECTIOUS_AFTER_ONSET", "disease.infectious_after_onset", "infectious after onset (I)"),
    ("ASYMPTOMATIC_PERIOD", "disease.asymptomatic_period", "infectious after P, no symptoms (A)"),
    ("ONSET_TO_RECOVERY", "disease.onset_to_recovery", "onset to recovery, non-fatal cases"),
    ("ONSET_TO_DEATH", "disease.onset_to_death", "onset to death, fatal cases"),
    ("PCR_POSITIVE_AFTER_ONSET", "disease.pcr_positive_after_onset", "RT-PCR positive after onset"),
    ("ASYMPTOMATIC_FRACTION", "disease.asymptomatic_fraction", "never symptomatic, by age"),
    ("SEVERE_FRACTION", "disease.severe_fraction", "needs a hospital bed, by age"),
    ("INFECTION_FATALITY", "disease.infection_fatality", "infection fatality ratio, by age"),
    ("RELATIVE_INFECTIOUSNESS", "disease.relative_infectiousness", "weight of each phase"),
    ("DISPERSION", "transmission.dispersion", "shape k of individual infectiousness"),
    ("AGE_DISTRIBUTION", "population.age_distribution", "population by age band"),
    ("HOUSEHOLD_SIZE", "population.household_size", "households of size 1, 2, ..., 6+"),
    ("ROAD_SPEED_KMH", "mobility.speed_kmh", "travel speed (discrete-event engine)"),
    ("TRIP_HOURS", "mobility.trip_hours", "hours day trips set out (discrete-event engine)"),
)


def _default_text(value: Any) -> str:
    if isinstance(value, dict) and "dist" in value:
        return _duration(value)
    if isinstance(value, dict):
        return ", ".join(f"{k} {v:g}" for k, v in value.items())
    if isinstance(value, tuple) and len(value) == 9:
        return "by age band, see the age table"
    if isinstance(value, tuple):
        return ", ".join(f"{v:g}" for v in value)
    return f"{value:g}" if isinstance(value, float) else str(value)


@block("model-defaults")
def model_defaults() -> str:
    """The natural-history, population and mobility defaults with the citation beside each."""
    import pandas as pd

    from containment_sim import defaults

    comments = _commented_constants(_module_path(defaults))
    rows = []
    for name, field, meaning in DISEASE_DEFAULTS:
        value = getattr(defaults, name)
        rows.append(
            {
                "parameter": f"`{field}`",
                "meaning": meaning,
                "default": _default_text(value),
                "source (from `defaults.py`)": comments[name][1],
            }
        )
    return table(pd.DataFrame(rows))


MEASURE_CONSTANTS = (
    ("checkpoints", "FEVER_FRACTION", "`checkpoint.fever_fraction`"),
    ("care", "FEVER_DURING_ILLNESS", "`care_seeking.fever_fraction`"),
    ("testing", "PCR_SENSITIVITY", "`testing.sensitivity`"),
    ("testing", "CT_SENSITIVITY", "`testing.clinical_diagnosis.sensitivity`"),
    ("hospitals", "HOUSEHOLD_LEAK", "`hospital.household_leak`"),
    ("hospitals", "UNTREATED_FATALITY", "`hospital.untreated_fatality`"),
    ("tracing", "QUARANTINE_DAYS", "`tracing.quarantine_days`"),
    ("sites", "RESIDENTS_PER_STAFF", "`quarantine_site.sites[].residents_per_staff`"),
    ("closure", "HOUSEHOLDS_PER_AGENT", "`community_closure.households_per_agent`"),
    ("closure", "RESUPPLY_DAYS", "`community_closure.resupply_days`"),
    ("closure", "COMPLIANCE_DECAY", "`community_closure.decay`"),
)


@block("model-measure-defaults")
def model_measure_defaults() -> str:
    """The cited or assumed defaults of measure parameters, from the measure modules."""
    import importlib

    import pandas as pd

    rows = []
    for module_name, constant, field in MEASURE_CONSTANTS:
        module = importlib.import_module(f"containment_sim.measures.{module_name}")
        comment = _commented_constants(_module_path(module))[constant][1]
        rows.append(
            {
                "parameter": field,
                "default": f"{getattr(module, constant):g}",
                "source (from the measure's module)": comment,
            }
        )
    return table(pd.DataFrame(rows))


@block("model-age-table")
def model_age_table() -> str:
    """The age-banded defaults and the course probabilities the engines derive from them."""
    import numpy as np
    import pandas as pd

    from containment_sim import defaults
    from containment_sim.disease import Course
    from containment_sim.scenario import Disease

    course = Course.from_disease(Disease())
    given = np.asarray(defaults.AGE_DISTRIBUTION)
    ages = given / given.sum()
    rows = {
        "`age_distribution`": given,
        "`asymptomatic_fraction`": np.asarray(defaults.ASYMPTOMATIC_FRACTION),
        "`severe_fraction` (%)": 100 * np.asarray(defaults.SEVERE_FRACTION),
        "`infection_fatality` (%)": 100 * np.asarray(defaults.INFECTION_FATALITY),
        "P(severe \\| symptomatic) (%)": 100 * course.p_severe_given_symptomatic,
        "P(fatal \\| symptomatic) (%)": 100 * course.p_fatal_given_symptomatic,
    }
    frame = pd.DataFrame(
        [[name, *(f"{v:.3g}" for v in values)] for name, values in rows.items()],
        columns=["band", *defaults.AGE_BANDS],
    )
    asym = float(np.dot(ages, defaults.ASYMPTOMATIC_FRACTION))
    ifr = float(np.dot(ages, defaults.INFECTION_FATALITY))
    severe = float(np.dot(ages, np.maximum(defaults.SEVERE_FRACTION, defaults.INFECTION_FATALITY)))
    return (
        table(frame)
        + "\n\n"
        + f"With the default ages (normalised to add up to 1), {100 * asym:.1f} % of infections "
        f"never have symptoms, {100 * severe:.2f} % need a hospital bed and {100 * ifr:.2f} % "
        "are fatal."
    )


# --- what the natural history and the rates imply ----------------------------------------------
def _builtin(name: str) -> Any:
    import containment_sim as cs

    return cs.load_scenario(name)


@block("model-natural-history")
def model_natural_history() -> str:
    """Infectiousness-weighted days, timing of transmission and generation interval (defaults)."""
    import pandas as pd

    from containment_sim import defaults
    from containment_sim.disease import (
        infectious_days_by_phase,
        mean_generation_interval,
        mean_infectious_days,
    )
    from containment_sim.scenario import Disease

    disease, ages = Disease(), list(defaults.AGE_DISTRIBUTION)
    phases = infectious_days_by_phase(disease, ages)
    days = mean_infectious_days(disease, ages)
    before = phases["presymptomatic"] / (phases["presymptomatic"] + phases["symptomatic"])
    rows = [
        ("$E[\\int w\\,dt]$: infectiousness-weighted days of one infection", f"{days:.2f} d"),
        ("of which before onset, in symptomatic courses", f"{phases['presymptomatic']:.2f} d"),
        ("of which after onset, in symptomatic courses", f"{phases['symptomatic']:.2f} d"),
        ("of which in courses without symptoms", f"{phases['asymptomatic']:.2f} d"),
        ("share of a symptomatic case's transmission before onset", f"{100 * before:.0f} %"),
        (
            "share of all transmission left by isolating every symptomatic case at onset",
            f"{100 * (phases['presymptomatic'] + phases['asymptomatic']) / days:.0f} %",
        ),
        ("mean generation interval", f"{mean_generation_interval(disease, ages):.2f} d"),
    ]
    return table(pd.DataFrame(rows, columns=["quantity (default natural history)", "value"]))


@block("model-r0")
def model_r0() -> str:
    """R0 of the built-in scenarios, its parts, and the growth rate it implies."""
    import math

    import pandas as pd

    import containment_sim as cs
    from containment_sim.disease import growth_rate, mean_infectious_days
    from containment_sim.reproduction import household_offspring, infectious_weight, layer_rates

    rows = []
    for name in ("xianning", "small"):
        sc = _builtin(name)
        ages = list(sc.population.age_distribution)
        rates = layer_rates(sc)
        days = mean_infectious_days(sc.disease, ages)
        large = (rates["community"] + rates["region"]) * days
        r0 = cs.implied_r0(sc, rates)
        r = growth_rate(sc.disease, r0, ages)
        k = sc.transmission.dispersion
        w = infectious_weight(sc)
        rows.append(
            {
                "scenario": f"`{name}`",
                "beta (household, community, region)": ", ".join(
                    f"{rates[x]:.3g}" for x in ("household", "community", "region")
                ),
                "k": "none" if k is None else f"{k:g}",
                "community + region": f"{large:.2f}",
                "household (saturating)": f"{household_offspring(sc, rates['household']):.2f}",
                "household if unsaturated": f"{rates['household'] * days:.2f}",
                "R0": f"{r0:.2f}",
                "offspring dispersion (large layers)": f"{w.mean() ** 2 / w.var():.2f}",
                "growth rate r (per day)": f"{r:.3f}",
                "doubling time": f"{math.log(2) / r:.1f} d" if r > 0 else "none",
            }
        )
    return table(pd.DataFrame(rows))


@block("model-household-attack")
def model_household_attack() -> str:
    """Per-pair household infection probability by household size (Xianning's rates)."""
    import numpy as np
    import pandas as pd

    from containment_sim.reproduction import infectious_weight, layer_rates

    sc = _builtin("xianning")
    beta = layer_rates(sc)["household"]
    w = infectious_weight(sc)
    sizes = range(2, len(sc.population.household_size) + 1)
    rows = {f"{n}": f"{100 * float(np.mean(-np.expm1(-beta * w / (n - 1)))):.1f} %" for n in sizes}
    frame = pd.DataFrame([{"household size": "per-pair infection probability", **rows}])
    return (
        table(frame)
        + f"\n\n(Household rate {beta:g} per day, the `xianning` scenario; first generation, "
        "individual variation included.)"
    )


@block("model-step-order")
def model_step_order() -> str:
    """The order of a day, from the plan both engines play (``engines/plan.py``)."""
    from containment_sim.engines.plan import markdown

    return markdown()


# --- Xianning at full scale -----------------------------------------------------------------------
def _reported() -> Any | None:
    """The reported Xianning counts shipped with the package, or ``None``."""
    import pandas as pd

    path = resources.files("containment_sim") / "data" / REPORTED_FILE
    if not path.is_file():
        return None
    with path.open("r", encoding="utf-8") as handle:
        frame = pd.read_csv(handle, parse_dates=["date"])
    frame["date"] = frame["date"].dt.date
    return frame


@functools.cache
def _xianning_runs() -> tuple[Any, list[Any]]:
    """The full-scale Xianning runs of ``XIANNING_STRATEGY``: the scenario and the results."""
    import containment_sim as cs

    base = cs.load_scenario("xianning")
    runs = []
    for r in range(XIANNING_SEEDS):
        scenario = cs.with_overrides(
            base,
            {
                "strategy": XIANNING_STRATEGY,
                "population.scale": XIANNING_SCALE,
                "seed": base.seed + r,
            },
        )
        runs.append(cs.run(scenario))
    return base, runs


def _date(when: date) -> str:
    return f"{when.day} {when:%b}"


def _day(start: date, value: Any) -> str:
    if value is None:
        return "none"
    return _date(start + timedelta(days=int(value)))


def _on(start: date, ts: Any, when: date, column: str) -> float:
    row = (when - start).days
    return float(ts[column].iloc[row])


def _spread(values: list[float], fmt: str = ",.0f") -> str:
    import numpy as np

    x = np.asarray(values, dtype=float)
    return f"{np.mean(x):{fmt}} ({np.min(x):{fmt}}–{np.max(x):{fmt}})"


def _day_spread(start: date, values: list[Any]) -> str:
    import numpy as np

    days = [v for v in values if v is not None]
    if not days:
        return "none"
    mean = start + timedelta(days=float(np.mean(days)))
    return f"{_date(mean)} ({_day(start, min(days))}–{_day(start, max(days))})" + (
        f", none in {len(values) - len(days)} runs" if len(days) < len(values) else ""
    )


def _reported_daily(reported: Any) -> Any:
    """New confirmed cases on each reported day that follows a reported day (else NaN)."""
    import pandas as pd

    new = reported["cumulative_confirmed"].diff()
    gap = pd.to_datetime(reported["date"]).diff() != pd.Timedelta(days=1)
    return new.mask(gap)


def _reported_facts(reported: Any) -> dict[str, str]:
    """The reported figures beside each model row (daily counts from the cumulative ones)."""
    daily = _reported_daily(reported)
    lab = (reported["date"] <= LAB_ONLY_UNTIL) & daily.notna()
    peak = reported["date"][lab][daily[lab].idxmax()]
    increased = reported["date"][daily > 0]
    final = reported.iloc[-1]
    facts = {
        "confirmed": f"{int(final['cumulative_confirmed']):,} (final count)",
        "deaths": f"{int(final['cumulative_deaths']):,}",
        "peak": f"{_date(peak)} (laboratory-confirmed, to {_date(LAB_ONLY_UNTIL)})",
        "last": f"{_date(increased.iloc[-1])} (last rise of the count)",
    }
    by_date = dict(zip(reported["date"], reported["cumulative_confirmed"], strict=True))
    for when in CHECK_DATES:
        facts[str(when)] = f"{int(by_date[when]):,}" if when in by_date else "not reported"
    return facts


@block("model-xianning-outcomes", cost="costly")
def model_xianning_outcomes() -> str:
    """Xianning at full scale, strategy ``combined``: outcomes beside the reported figures."""
    import pandas as pd

    base, runs = _xianning_runs()
    start = base.start_date
    summaries = [r.summary for r in runs]
    series = [r.timeseries for r in runs]

    def column(key: str) -> list[float]:
        return [s[key] for s in summaries]

    rows = [
        ("total infections", _spread(column("total_infections")), None),
        ("imported infections", _spread(column("imported_infections")), None),
        ("returnees who came home", _spread(column("returnees")), None),
        ("confirmed", _spread(column("confirmed")), "confirmed"),
        ("confirmed by RT-PCR (lab)", _spread(column("confirmed_lab")), None),
        ("confirmed by clinical diagnosis", _spread(column("confirmed_clinical")), None),
        ("deaths", _spread(column("deaths")), "deaths"),
        ("contacts traced", _spread(column("contacts_traced")), None),
        ("peak of daily confirmed", _day_spread(start, column("peak_confirmed_day")), "peak"),
        ("last confirmed case", _day_spread(start, column("last_confirmed_day")), "last"),
    ]
    for when in CHECK_DATES:
        values = [_on(start, ts, when, "cum_confirmed_lab") for ts in series]
        rows.append((f"lab-confirmed by {_date(when)} (cumulative)", _spread(values), str(when)))
    reported = _reported()
    facts = _reported_facts(reported) if reported is not None else None
    frame = pd.DataFrame(
        [
            {
                "outcome": name,
                f"model: mean (range of {len(runs)} runs)": value,
                **(
                    {"reported": facts.get(key, "") if key is not None else ""}
                    if facts is not None
                    else {}
                ),
            }
            for name, value, key in rows
        ]
    )
    seeds = ", ".join(str(s["seed"]) for s in summaries)
    note = (
        f"Strategy `{XIANNING_STRATEGY}`, "
        + ("the whole city" if XIANNING_SCALE == 1 else f"scale {XIANNING_SCALE:g}")
        + f" ({summaries[0]['population']:,} agents), seeds {seeds}, `dt` {base.dt:g}."
    )
    if facts is None:
        note += (
            f" The reported counts are not shipped with this version of the package "
            f"(`containment_sim/data/{REPORTED_FILE}`), so they are not shown."
        )
    else:
        note += (
            " Reported: Hubei and Xianning Health Commission bulletins; the final count "
            "includes clinically diagnosed cases (counted from 12 February)."
        )
    return note + "\n\n" + table(frame) + "\n\n" + _xianning_figure(base, series, reported)


def _xianning_figure(base: Any, series: list[Any], reported: Any | None) -> str:
    """Daily confirmed cases: the model's range and mean, and the reported points."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    import pandas as pd

    dates = pd.to_datetime(series[0]["date"])
    daily = np.vstack([ts["new_confirmed"].to_numpy(float) for ts in series])
    figure, axes = plt.subplots(figsize=(8, 4), layout="constrained")
    axes.fill_between(
        dates, daily.min(axis=0), daily.max(axis=0), alpha=0.3, label="model: range of runs"
    )
    axes.plot(dates, daily.mean(axis=0), label="model: mean")
    if reported is not None:
        new = _reported_daily(reported)
        lab = reported["date"] <= LAB_ONLY_UNTIL
        later = ~lab & (new >= 0)
        when = pd.to_datetime(reported["date"])
        axes.plot(when[lab], new[lab], "o", ms=4, color="black", label="reported (lab only)")
        axes.plot(
            when[later],
            new[later],
            "o",
            ms=4,
            mfc="none",
            color="black",
            label=f"reported after {_date(LAB_ONLY_UNTIL)} (clinical cases, reclassifications)",
        )
    axes.set_xlim(dates.iloc[0], dates.iloc[0] + pd.Timedelta(days=75))
    axes.set_ylabel("confirmed cases per day")
    axes.legend(frameon=False)
    path = save_figure(figure, "xianning-confirmed")
    caption = (
        f"Daily confirmed cases in Xianning, strategy `{XIANNING_STRATEGY}`, "
        f"scale {XIANNING_SCALE:g}, {len(series)} runs."
    )
    return f"![{caption}]({path})\n\n*{caption}*"


@block("measures-xianning-returnees", cost="costly")
def measures_xianning_returnees() -> str:
    """When Xianning's returnees and imported infections arrived, against the measures' start."""
    import numpy as np

    import containment_sim as cs

    base = cs.load_scenario("xianning")
    overrides = {"strategy": "external", "population.scale": XIANNING_SCALE}
    result = cs.run(cs.with_overrides(base, overrides))
    ts, start = result.timeseries, base.start_date
    cutoff = (date(2020, 1, 24) - start).days
    came = ts["new_returnees"].to_numpy()
    imported = ts["new_infections_imported"].to_numpy()
    infected = result.infections
    local = infected[~infected["source"].isin(["imported", "seed"])]
    share_before = float(np.sum(came[:cutoff]) / max(np.sum(came), 1))
    return (
        f"One run of `external` at scale {XIANNING_SCALE:g} (seed {base.seed}): "
        f"{int(came.sum()):,} returnees came home, {100 * share_before:.1f} % of them "
        "before the external measures started on "
        f"24 January, bringing {int(imported[:cutoff].sum()):,} of the "
        f"{int(imported.sum()):,} imported infections; {len(local):,} local infections "
        f"followed."
    )


# --- engines ------------------------------------------------------------------------------
@block("engines-agreement", cost="costly")
def engines_agreement() -> str:
    """The agreement scenario with both engines: final size and peak day, KS tests vs the DES."""
    import os

    import numpy as np
    import pandas as pd
    from scipy import stats

    from containment_sim.experiments import make_tasks, run_tasks, tidy_outcomes

    sys.path.insert(0, str(ROOT / "tests"))
    from agreement import agreement_scenario

    configs = (("des", 0.25), ("vectorized", 1.0), ("vectorized", 0.5), ("vectorized", 0.25))
    results = {}
    for engine, dt in configs:
        scenario, label = agreement_scenario(engine, dt), f"{engine} dt={dt}"
        tasks = make_tasks(
            scenario,
            [label],
            AGREEMENT_REPLICATES,
            0,
            {label: tuple(scenario.strategies["test"])},
        )
        results[(engine, dt)] = tidy_outcomes(run_tasks(tasks, os.cpu_count() or 1))
    des = results[("des", 0.25)]
    rows = []
    for (engine, dt), frame in results.items():
        row = {"engine": f"`{engine}`, " + ("tick" if engine == "des" else "dt") + f" {dt:g}"}
        for column, name in (("total_infections", "final size"), ("peak_day", "peak day")):
            x = frame[column].to_numpy(float)
            row[f"{name} (mean ± SE)"] = f"{x.mean():,.1f} ± {x.std(ddof=1) / np.sqrt(x.size):.1f}"
            if engine == "des":
                row[f"KS p vs DES ({name})"] = "–"
            else:
                p = stats.ks_2samp(x, des[column].to_numpy(float)).pvalue
                row[f"KS p vs DES ({name})"] = "< 0.001" if p < 0.001 else f"{p:.3f}"
        rows.append(row)
    n = len(des)
    return (
        table(pd.DataFrame(rows)) + f"\n\n({n} replicates each, seeds 0–{n - 1}; the runs of "
        "`benchmarks/engine_agreement.py`.)"
    )


# --- measures -----------------------------------------------------------------------------
def _code_block(page: str, marker: str, language: str = "python") -> str:
    """The fenced code block of ``docs/<page>`` that contains ``marker``."""
    import re

    text = (ROOT / "docs" / page).read_text(encoding="utf-8")
    for match in re.finditer(rf"```{language}\n(.*?)```", text, re.DOTALL):
        if marker in match[1]:
            return match[1]
    raise LookupError(f"docs/{page}: no {language} block containing {marker!r}")


@block("measures-custom-example")
def measures_custom_example() -> str:
    """Runs the custom measure type of ``measures.md`` exactly as printed there."""
    import contextlib
    import io
    import types

    import containment_sim as cs

    code = _code_block("measures.md", "class FeverClinicSpec")
    module = types.ModuleType("measures_example")  # a real module, as a user's script is
    sys.modules[module.__name__] = module
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(code, "measures.md", "exec"), module.__dict__)
    finally:
        del sys.modules[module.__name__]
    baseline = cs.run(cs.load_scenario("small")).summary["total_infections"]
    printed = out.getvalue().strip()
    infections, isolated = printed.split()
    return (
        f"```text\n{printed}\n```\n\n"
        f"{int(infections):,} infections, {int(isolated):,} people isolated; the scenario "
        f"`small` without the measure has {baseline:,} infections (same seed)."
    )
