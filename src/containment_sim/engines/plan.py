"""The order of a day, written once: the plan both engines play.

A day starts (``DAY_START``), then its steps run (``STEP``, ``1 / dt`` of them: the vectorized
engine's steps, the discrete-event engine's ticks), then it ends (``DAY_END``). Each phase
names the engine method that plays it (``_<name>``) and says what each engine does there; the
discrete-event engine runs natural history, transmission and travel as events in continuous
time between its ticks, so some of its phases only refresh what those events read.

``python -m containment_sim.engines.plan`` prints the plan as the Markdown list of the docs.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DAY_END", "DAY_START", "STEP", "Phase", "markdown"]


@dataclass(frozen=True)
class Phase:
    """One phase of a day.

    Attributes:
        name: The engine method that plays it is ``_<name>``.
        vectorized: What the vectorized engine does (at time t, the step being [t, t + dt)).
        des: What the discrete-event engine does at its tick.
    """

    name: str
    vectorized: str
    des: str


DAY_START: tuple[Phase, ...] = (
    Phase(
        "start_day",
        "measures' `start_day`; each road's pass probability from closures and suspended "
        "lines (`road_pass`); the day's trips and departures are drawn and screened by "
        "checkpoints (`cross`); travellers mix in the region they visit all day; infectious "
        "residents leaving the city count as exported",
        "the same decisions; trips and departures then travel as SimPy processes, road by "
        "road, queueing at checkpoint lanes",
    ),
)

STEP: tuple[Phase, ...] = (
    Phase(
        "arrivals",
        "returnees due in the step reach the city: blocked by closed roads, infected with "
        "the epicentre's prevalence, screened at checkpoints, then quarantined if registered "
        "(`after_arrival`)",
        "returnees due before the next tick set out on their roads as SimPy processes",
    ),
    Phase(
        "progression",
        "every transition of natural history due by the middle of the step happens (read "
        "from a calendar, not a scan); measures react (`after_progression`)",
        "nothing: each transition is an event at its exact time",
    ),
    Phase(
        "release",
        "quarantines that ended and isolations of the discharged end (a calendar)",
        "the same",
    ),
    Phase(
        "results",
        "the shared services advance (`Service.advance`): lab results due come back; "
        "positives are confirmed",
        "the same",
    ),
    Phase(
        "measures",
        "measures' `before_transmission` (care seeking, tracing reaches contacts, admissions "
        "to sites and beds)",
        "the same",
    ),
    Phase(
        "servers",
        "labs and tracing teams spend `random_round(rate x dt)` units of work",
        "nothing: they are SimPy processes, busy `1 / rate` days per unit",
    ),
    Phase(
        "transmission",
        "infections of the step, drawn per layer from the groups the infectious are in "
        "(`transmission.transmit`), timed uniformly within the step",
        "the layers' rates, contact factors and members for the contact events until the next tick",
    ),
)

DAY_END: tuple[Phase, ...] = (
    Phase(
        "end_day",
        "stocks per region (the engine's, then each service's and each measure's `stocks`); "
        "measures' `end_day` (their tables); the roads table",
        "the same",
    ),
)


def markdown() -> str:
    """The plan as a numbered Markdown list (the docs' step list)."""
    lines = []
    number = 1
    for title, phases in (("At the start of a day", DAY_START), ("In every step", STEP),
                          ("At the end of a day", DAY_END)):  # fmt: skip
        for phase in phases:
            lines.append(
                f"{number}. **{phase.name}** ({title.lower()}): {phase.vectorized}. "
                f"*Discrete-event engine:* {phase.des}."
            )
            number += 1
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    print(markdown())
