"""Cutting the roads of import and export (外防输入): road closures and suspended lines.

- ``road_closure`` (封路): named roads, or every road of a region (entry roads included), are
  closed for a time window; a ``leakage`` share of trips still gets through.
- ``line_suspension`` (停运班线客运): passenger lines of the given modes (coach, rail, bus)
  stop; each road loses the share of its trips that travel by those modes.

Both act through ``road_pass``: each day, the probability that a traveller gets through each
road (the vectorized engine applies it to whole routes, the discrete-event engine road by
road).
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np
from pydantic import Field, model_validator

from containment_sim.measures.base import Context, Measure, register
from containment_sim.scenario import Fraction, MeasureSpec

__all__ = ["LineSuspension", "LineSuspensionSpec", "RoadClosure", "RoadClosureSpec", "roads_of"]


def roads_of(ctx: Context, roads: list[str], regions: list[str]) -> np.ndarray:
    """Indices of the named roads plus every road touching the named regions."""
    net = ctx.network
    chosen = {net.index(name) for name in roads}
    for region in regions:
        chosen.update(net.roads_of_region(ctx.scenario.region_names.index(region)).tolist())
    return np.array(sorted(chosen), dtype=np.int64)


class RoadClosureSpec(MeasureSpec):
    """Parameters of a road closure (封路)."""

    type: Literal["road_closure"] = "road_closure"
    references: ClassVar[dict[str, str]] = {"roads": "road", "regions": "region"}
    roads: list[str] = Field(default_factory=list)
    regions: list[str] = Field(default_factory=list)
    leakage: Fraction = 0.0

    @model_validator(mode="after")
    def _something_closed(self) -> RoadClosureSpec:
        if not self.roads and not self.regions:
            raise ValueError("name the roads or regions to close (roads: [...] or regions: [...])")
        return self


@register(RoadClosureSpec)
class RoadClosure(Measure):
    """Closed roads (封路): only ``leakage`` of the trips that would use them get through."""

    spec: RoadClosureSpec

    def setup(self, ctx: Context) -> None:
        self.roads = roads_of(ctx, self.spec.roads, self.spec.regions)

    def road_pass(self, ctx: Context, t: float, road_pass: np.ndarray) -> None:
        road_pass[self.roads] *= self.spec.leakage


class LineSuspensionSpec(MeasureSpec):
    """Parameters of a suspension of passenger lines (停运班线客运)."""

    type: Literal["line_suspension"] = "line_suspension"
    references: ClassVar[dict[str, str]] = {"modes": "mode", "roads": "road", "regions": "region"}
    modes: list[str] = Field(min_length=1)
    roads: list[str] = Field(default_factory=list)
    regions: list[str] = Field(default_factory=list)


class _Suspended:
    """Which (road, mode) lines are suspended today, shared by all line suspensions."""

    def __init__(self, ctx: Context):
        self.day = -1.0
        self.off = np.zeros((ctx.network.n_roads, len(ctx.network.modes)), dtype=bool)


@register(LineSuspensionSpec)
class LineSuspension(Measure):
    """Suspended lines: roads lose their trips by the suspended modes (all roads if none named).

    Two suspensions of the same mode on a road remove its share once.
    """

    spec: LineSuspensionSpec

    def setup(self, ctx: Context) -> None:
        net = ctx.network
        if self.spec.roads or self.spec.regions:
            self.roads = roads_of(ctx, self.spec.roads, self.spec.regions)
        else:
            self.roads = np.arange(net.n_roads)
        names = list(net.modes)
        self.modes = [names.index(m) for m in self.spec.modes]
        self.share = np.stack([net.modes[m] for m in names], axis=1) if names else np.zeros((0, 0))
        self.suspended = ctx.service(_Suspended)

    def road_pass(self, ctx: Context, t: float, road_pass: np.ndarray) -> None:
        book = self.suspended
        if book.day != t:
            book.day, book.off[:] = t, False
        before = (self.share * book.off).sum(axis=1)
        rows = self.roads[:, None]
        book.off[rows, self.modes] = True
        after = (self.share * book.off).sum(axis=1)
        keep = np.clip(1.0 - after, 0.0, 1.0) / np.clip(1.0 - before, 1e-12, 1.0)
        road_pass[self.roads] *= keep[self.roads]
