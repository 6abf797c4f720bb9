"""Behaviour before mandates: staying at home (宅家) and a ban on gatherings (禁止聚集).

People answered the call to stay at home well before closed management: "人民群众积极响应
防控要求'宅'在家里" (the Xianning report), and gatherings stopped (a Chongyang village group
leader was dismissed for leading an ancestor-worship outing on the first day of the new
year). These measures scale a layer's transmission rate directly, for everyone in the regions
they cover, rather than the contacts of named people:

- ``stay_home``: the ``community`` and ``region`` layers' rates are multiplied by
  ``1 - reduction x compliance(t)`` (each layer its own reduction); day trips from the covered
  regions are cut by the region reduction times compliance.
- ``gathering_ban``: the community layer's rate (village and compound gatherings: banquets,
  weddings, temple and ancestor-worship outings) is multiplied by ``1 - reduction x
  compliance(t)``.

With ``regions`` the measure covers the communities of those regions and people mixing in
them; otherwise the whole city.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np
from pydantic import Field

from containment_sim.measures.base import Context, LayerRates, Measure, register
from containment_sim.scenario import Fraction, FractionSchedule, MeasureSpec

__all__ = ["GatheringBan", "GatheringBanSpec", "StayHome", "StayHomeSpec"]


class StayHomeSpec(MeasureSpec):
    """Parameters of staying at home (宅家): reductions of the layers' rates at full compliance."""

    type: Literal["stay_home"] = "stay_home"
    references: ClassVar[dict[str, str]] = {"regions": "region"}
    community: Fraction = 0.0
    region: Fraction = 0.0
    compliance: FractionSchedule = 1.0
    regions: list[str] = Field(default_factory=list)


class GatheringBanSpec(MeasureSpec):
    """Parameters of a ban on gatherings (禁止聚集): a reduction of the community layer's rate."""

    type: Literal["gathering_ban"] = "gathering_ban"
    references: ClassVar[dict[str, str]] = {"regions": "region"}
    reduction: Fraction
    compliance: FractionSchedule = 1.0
    regions: list[str] = Field(default_factory=list)


class _LayerRateMeasure(Measure):
    """Multiplies some layers' rates in the covered regions by ``1 - reduction x compliance``."""

    spec: StayHomeSpec | GatheringBanSpec

    def reductions(self) -> dict[str, float]:
        """Reduction of each layer's rate at full compliance."""
        raise NotImplementedError

    def setup(self, ctx: Context) -> None:
        names = ctx.scenario.region_names
        regions = [names.index(r) for r in self.spec.regions] or list(range(len(names)))
        self.regions = np.array(regions, dtype=np.int64)
        self.communities = np.flatnonzero(np.isin(ctx.population.community_region, self.regions))

    def multiplier(self, layer: str, t: float) -> float:
        """The factor applied to ``layer``'s rate in the covered regions at time ``t``."""
        return 1.0 - self.reductions().get(layer, 0.0) * self.level(self.spec.compliance, t)

    def scale_rates(self, ctx: Context, t: float, rates: LayerRates) -> None:
        for layer in self.reductions():
            factor = self.multiplier(layer, t)
            if factor == 1.0:
                continue
            groups = self.communities if layer == "community" else self.regions
            rates.scale(layer, groups, factor)


@register(StayHomeSpec)
class StayHome(_LayerRateMeasure):
    """People stay at home: fewer community and region contacts and fewer day trips."""

    spec: StayHomeSpec

    def setup(self, ctx: Context) -> None:
        super().setup(ctx)
        self.rng = ctx.rng(f"stay_home:{self.name}")
        self.covered = np.zeros(ctx.population.n_regions, dtype=bool)
        self.covered[self.regions] = True

    def reductions(self) -> dict[str, float]:
        return {"community": self.spec.community, "region": self.spec.region}

    def restrict_travel(self, ctx: Context, t: float, who: np.ndarray, free: np.ndarray) -> None:
        stay = self.spec.region * self.level(self.spec.compliance, t)
        if stay == 0:
            return
        candidates = np.flatnonzero(free & self.covered[ctx.population.region[who]])
        free[candidates[self.rng.random(candidates.size) < stay]] = False


@register(GatheringBanSpec)
class GatheringBan(_LayerRateMeasure):
    """No gatherings: the community layer's rate is cut."""

    spec: GatheringBanSpec

    def reductions(self) -> dict[str, float]:
        return {"community": self.spec.reduction}
