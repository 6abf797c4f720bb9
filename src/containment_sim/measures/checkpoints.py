"""Staffed checkpoints (值守卡点) on the roads into and across the city.

- ``checkpoint``: staff on a road screen travellers; a person with symptoms with fever
  (``fever_fraction``) is detected with probability ``sensitivity * diligence``, isolated and
  tested as a suspected case; returnees screened on arrival are registered with probability
  ``diligence``. In the vectorized engine up to ``capacity`` people a day are checked and the
  others pass unchecked; in the discrete-event engine travellers queue for the checkpoint's
  lanes and may run out of patience.

The checkpoint owns everything about itself in both engines: its spec, its screening rule, its
daily counts, and in the discrete-event engine its lanes (a SimPy resource), queue, patience,
visit log and queue statistics.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import NonNegativeFloat, PositiveFloat, PositiveInt

from containment_sim.disease import sample
from containment_sim.measures.base import (
    Context,
    Crossing,
    Measure,
    Traveller,
    random_round,
    register,
)
from containment_sim.measures.cases import CaseBook, Priority
from containment_sim.report import Report, Series, SummaryKey, SummaryValue, Table, table_sum
from containment_sim.scenario import Distribution, Fraction, FractionSchedule, MeasureSpec
from containment_sim.world import Isolation, is_ill

__all__ = ["COUNTS", "Checkpoint", "CheckpointSpec", "QueueMeter"]

COUNTS = ("travellers", "screened", "screened_symptomatic", "detected", "registered", "unchecked")
"""Daily counts of a checkpoint, the columns of the ``checkpoints`` table."""

FEVER_FRACTION = 0.438
"""Share of symptomatic COVID-19 patients with fever at presentation: 43.8 % on admission
(Guan WJ et al., NEJM 2020; 1,099 patients)."""


class CheckpointSpec(MeasureSpec):
    """Parameters of a checkpoint (值守卡点) on a road or entry road."""

    type: Literal["checkpoint"] = "checkpoint"
    references: ClassVar[dict[str, str]] = {"road": "road"}
    road: str
    capacity: NonNegativeFloat
    sensitivity: Fraction
    fever_fraction: Fraction = FEVER_FRACTION
    diligence: FractionSchedule = 1.0
    lanes: PositiveInt = 1
    service_time: Distribution | None = None
    patience: PositiveFloat | None = None
    on_timeout: Literal["turn_back", "pass", "reroute"] = "turn_back"

    def mean_service_time(self, scale: float = 1.0) -> float:
        """Days one check takes in a lane of a population simulated at ``scale``.

        ``service_time``'s mean, or ``lanes / capacity``; divided by ``scale`` so that a scaled
        city, with fewer travellers, keeps the same queueing regime (``inf`` if no capacity).
        """
        if self.service_time is not None:
            return self.service_time.mean / scale
        return self.lanes / (self.capacity * scale) if self.capacity > 0 else float("inf")


def _checkpoint_total(name: str) -> SummaryValue:
    def value(ts: Series, tables: Mapping[str, Table], final: Mapping[str, Any]) -> int:
        return table_sum(tables, "checkpoints", name)

    return value


CHECKPOINTS = Report(
    "checkpoint",
    summary=tuple(
        SummaryKey(f"checkpoint_{key}", _checkpoint_total(column), f"{column}, all checkpoints")
        for key, column in (
            ("screened", "screened"),
            ("detections", "detected"),
            ("unchecked", "unchecked"),
            ("registered", "registered"),
        )
    ),
)
"""What checkpoints report: the ``checkpoints`` table summed over days and checkpoints."""


@register(CheckpointSpec)
class Checkpoint(Measure):
    """A staffed checkpoint (值守卡点) screening everyone whose route uses its road.

    In the vectorized engine, ``capacity`` is checks per day at full scale (scaled with the
    population); screening order within a day is random and people beyond the capacity pass
    unchecked (:meth:`cross`). In the discrete-event engine, every traveller reaching the
    checkpoint's road (trips, returnees, residents leaving) queues for one of its ``lanes``, a
    SimPy resource the checkpoint owns (:meth:`stop`); a check takes ``service_time``
    (default ``lanes / capacity`` days, the same throughput); a traveller who has waited
    ``patience`` days turns back, drives on unchecked or takes another road (``on_timeout``).
    Either way a screened person is judged by :meth:`screen`.
    """

    spec: CheckpointSpec
    report = CHECKPOINTS

    def setup(self, ctx: Context) -> None:
        self.road = ctx.network.index(self.spec.road)
        self.rng = ctx.rng(f"checkpoint:{self.name}")
        self.scale = ctx.scenario.population.scale
        self.capacity = self.spec.capacity * self.scale
        self.left = 0
        self.counts = dict.fromkeys(COUNTS, 0)
        self.lanes: Any = None  # a simpy.Resource, made by the first traveller in a DES run
        self.queue = QueueMeter()

    def roads_checked(self) -> list[int]:
        return [self.road]

    def start_day(self, ctx: Context, day: int) -> None:
        self.left = random_round(self.rng, self.capacity)
        self.counts = dict.fromkeys(self.counts, 0)

    def cross(self, ctx: Context, t: float, crossing: Crossing) -> None:
        here = np.flatnonzero(crossing.on_road(self.road) & ~crossing.stopped)
        if here.size == 0:
            return
        here = self.rng.permutation(here)
        n = min(here.size, self.left)
        screened, self.left = here[:n], self.left - n
        detected, registered = self.screen(ctx, t, crossing.agents[screened], crossing.kind)
        crossing.stopped[screened[detected]] = True
        crossing.registered[screened[registered]] = True
        self.counts["travellers"] += here.size
        self.counts["unchecked"] += here.size - n

    def screen(
        self, ctx: Context, t: float, agents: np.ndarray, kind: str
    ) -> tuple[np.ndarray, np.ndarray]:
        """Check people: detect febrile symptomatic ones, register arrivals.

        A person with symptoms (infectious or no longer: I or C) is detected with probability
        ``fever_fraction * sensitivity * diligence``, isolated and sent for a test as a
        suspected case (a lab, if the strategy has one, confirms the positive; confirmation
        starts tracing). An arriving returnee is registered with probability ``diligence``.

        Returns:
            Masks of the detected and of the registered.
        """
        n = agents.size
        diligence = self.level(self.spec.diligence, t)
        state = ctx.world.state[agents]
        sick = is_ill(state)
        p = self.spec.fever_fraction * self.spec.sensitivity * diligence
        detected = sick & (self.rng.random(n) < p)
        if detected.any():
            found = np.sort(agents[detected])
            ctx.keep_apart(found, Isolation.ISOLATED, t)
            ctx.service(CaseBook).request_tests(found, Priority.SYMPTOMATIC, t, suspected=True)
        registered = np.zeros(n, dtype=bool)
        if kind == "arrival":
            registered = self.rng.random(n) < diligence
        c = self.counts
        c["screened"] += n
        c["screened_symptomatic"] += int(sick.sum())
        c["detected"] += int(detected.sum())
        c["registered"] += int(registered.sum())
        return detected, registered

    def end_day(self, ctx: Context, day: int) -> None:
        ctx.record(
            "checkpoints",
            checkpoint=self.name,
            road=self.spec.road,
            capacity=round(self.capacity),
            **self.counts,
        )
        if self.lanes is not None:
            mean_waiting, max_waiting, mean_busy = self.queue.day(day + 1.0)
            ctx.record(
                "checkpoint_queues",
                checkpoint=self.name,
                mean_waiting=mean_waiting,
                max_waiting=max_waiting,
                mean_lanes_busy=mean_busy,
            )

    # --- the discrete-event engine: a queue for the lanes ---------------------------------
    def stop(self, ctx: Context, env: Any, traveller: Traveller) -> Generator[Any, Any, str]:
        """One traveller at the checkpoint: queue for a lane, give up, or be checked.

        Service times and patience are in the full city's time; in a city simulated at
        ``population.scale`` s they are divided by s, so that the queue keeps the full city's
        load per lane (the same utilisation and share of travellers out of patience).

        Returns:
            The outcome: ``screened``, ``detected``, ``turned_back``, ``passed_unchecked`` or
            ``reroute``.
        """
        spec, arrival = self.spec, env.now
        self.counts["travellers"] += 1
        if spec.capacity == 0 and spec.service_time is None:  # nobody staffs it: all pass
            return self._log(ctx, env, traveller, arrival, np.nan, "passed_unchecked")
        if self.lanes is None:
            import simpy

            self.lanes = simpy.Resource(env, capacity=spec.lanes)
        lanes, patience = self.lanes, spec.patience / self.scale if spec.patience else None
        with lanes.request() as request:
            self.queue.observe(env.now, len(lanes.queue), lanes.count)
            got = yield (request | env.timeout(patience)) if patience else request
            timed_out = bool(patience) and request not in got
            self.queue.observe(env.now, len(lanes.queue) - timed_out, lanes.count)
            if timed_out:
                outcome = self._out_of_patience(traveller)
                return self._log(ctx, env, traveller, arrival, np.nan, outcome)
            start = env.now
            yield env.timeout(self._service_time())
        self.queue.observe(env.now, len(lanes.queue), lanes.count)
        if traveller.kind == "arrival" and traveller.outside:
            traveller.enter()
        detected, registered = self.screen(ctx, env.now, traveller.agents, traveller.kind)
        traveller.stopped |= bool(detected[0])
        traveller.registered |= bool(registered[0])
        outcome = "detected" if detected[0] else "screened"
        return self._log(ctx, env, traveller, arrival, start, outcome)

    def _out_of_patience(self, traveller: Traveller) -> str:
        on_timeout = self.spec.on_timeout
        if on_timeout == "pass" or (traveller.kind == "arrival" and not traveller.outside):
            return "passed_unchecked"  # a returnee inside the city cannot turn back
        return "turned_back" if on_timeout == "turn_back" else "reroute"

    def _service_time(self) -> float:
        if self.spec.service_time is not None:
            return float(sample(self.spec.service_time, self.rng, 1)[0]) / self.scale
        return self.spec.mean_service_time(self.scale)

    def _log(
        self, ctx: Context, env: Any, traveller: Traveller, arrival: float, start: float,
        outcome: str,
    ) -> str:  # fmt: skip
        if outcome in ("turned_back", "passed_unchecked", "reroute"):
            self.counts["unchecked"] += 1
        end = env.now
        ctx.record(
            "checkpoint_log",
            checkpoint=self.name,
            kind=traveller.kind,
            agent=traveller.agent,
            arrival=arrival,
            start=start,
            end=end,
            wait=(start if start == start else end) - arrival,
            outcome=outcome,
        )
        return outcome


class QueueMeter:
    """Time-weighted length of a queue and of the lanes in use, and the day's longest queue.

    The discrete-event engine reports each change (:meth:`observe`); the day's mean is the
    integral of the length over the day, so a queue is seen whenever it exists, not only at
    the moments the day is sampled.
    """

    def __init__(self) -> None:
        self.since, self.waiting, self.busy = 0.0, 0, 0
        self.area = self.busy_area = 0.0
        self.longest = 0
        self.day_start = 0.0

    def observe(self, t: float, waiting: int, busy: int) -> None:
        """The queue has ``waiting`` people and ``busy`` lanes from time ``t`` on."""
        self.area += self.waiting * (t - self.since)
        self.busy_area += self.busy * (t - self.since)
        self.since, self.waiting, self.busy = t, max(waiting, 0), busy
        self.longest = max(self.longest, self.waiting)

    def day(self, t: float) -> tuple[float, int, float]:
        """Mean waiting, longest queue and mean lanes in use since the last day, up to ``t``."""
        self.observe(t, self.waiting, self.busy)
        span = max(t - self.day_start, 1e-12)
        out = (self.area / span, self.longest, self.busy_area / span)
        self.area = self.busy_area = 0.0
        self.longest, self.day_start = self.waiting, t
        return out
