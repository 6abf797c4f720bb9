"""Natural history: duration draws, the course of each infection, and progression.

An infection goes S -> E (latent) -> P (presymptomatic, infectious) -> A (asymptomatic,
infectious) -> R, or -> I (symptomatic, infectious) -> C (still ill, no longer infectious) ->
R or D. At infection the agent's course is fixed by its age band (whether it will have
symptoms, need a hospital bed and die) and so is its individual infectiousness multiplier
(gamma, mean 1, shape ``transmission.dispersion``). Each state's duration is drawn when the
agent enters it; the next transition is scheduled at the exact (continuous) time, so the step
length of an engine does not change the durations. At onset (or at the end of P without
symptoms) the time the agent's RT-PCR test turns negative is drawn.

The module also computes what the natural history implies on its own: the expected
infectiousness-weighted days of an infection (hence R0 from the layer rates), the mean
generation interval, and the growth rate for a given R0 (Wallinga & Lipsitch 2007).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from containment_sim.scenario import Disease, Distribution, Transmission
from containment_sim.schedule import Calendar
from containment_sim.world import NO_INFECTOR, AgentView, Flag, Source, State, World

__all__ = [
    "Course",
    "Progression",
    "course_flags",
    "growth_rate",
    "implied_r0",
    "infectious_days_by_phase",
    "infectiousness_table",
    "mean_generation_interval",
    "mean_infectious_days",
    "sample",
    "transition_table",
]


def sample(dist: Distribution, rng: np.random.Generator, n: int) -> np.ndarray:
    """Draw ``n`` durations (days) from ``dist``."""
    if dist.dist == "fixed":
        return np.full(n, dist.mean)
    if dist.dist == "exponential":
        return rng.exponential(dist.mean, size=n)
    assert dist.sd is not None
    if dist.dist == "gamma":
        shape = (dist.mean / dist.sd) ** 2
        return rng.gamma(shape, dist.sd**2 / dist.mean, size=n)
    sigma2 = np.log1p((dist.sd / dist.mean) ** 2)
    return rng.lognormal(np.log(dist.mean) - sigma2 / 2, np.sqrt(sigma2), size=n)


# plain ints for the hot paths (attribute access on IntEnum classes is slow)
_SYM, _SEVERE, _FATAL_BIT = int(Flag.SYMPTOMATIC), int(Flag.SEVERE), int(Flag.FATAL)


@dataclass(frozen=True)
class Course:
    """Per-age-band probabilities of an infection's course, derived from ``Disease``.

    Attributes:
        p_symptomatic: P(symptoms | infected) by age band.
        p_severe_given_symptomatic: P(hospital bed | symptomatic); at least the fatal share.
        p_fatal_given_symptomatic: P(death | symptomatic) = IFR / P(symptoms).
    """

    p_symptomatic: np.ndarray
    p_severe_given_symptomatic: np.ndarray
    p_fatal_given_symptomatic: np.ndarray

    @classmethod
    def from_disease(cls, disease: Disease) -> Course:
        """Derive the course probabilities from the scenario's natural history."""
        p_sym = 1.0 - np.asarray(disease.asymptomatic_fraction)
        safe = np.where(p_sym > 0, p_sym, 1.0)
        fatal = np.where(p_sym > 0, np.asarray(disease.infection_fatality) / safe, 0.0)
        severe = np.maximum(np.asarray(disease.severe_fraction), disease.infection_fatality)
        severe = np.where(p_sym > 0, np.minimum(severe / safe, 1.0), 0.0)
        return cls(p_sym, severe, np.minimum(fatal, 1.0))

    def draw_flags(self, rng: np.random.Generator, age_band: np.ndarray) -> np.ndarray:
        """``Flag`` bits for newly infected agents of the given age bands."""
        n = age_band.size
        flags = course_flags(
            rng.random(n),
            rng.random(n),
            self.p_symptomatic[age_band],
            self.p_severe_given_symptomatic[age_band],
            self.p_fatal_given_symptomatic[age_band],
        )
        out: np.ndarray = flags.astype(np.uint8)
        return out


def course_flags(u_symptoms: Any, u_severity: Any, p_sym: Any, p_severe: Any, p_fatal: Any) -> Any:
    """The ``Flag`` bits of infections from two uniform draws each (the one rule for both engines).

    Works elementwise on arrays (the vectorized engine) and on plain floats (one agent in the
    discrete-event engine): symptomatic if ``u_symptoms < p_sym``; severe and fatal (given
    symptoms) if ``u_severity`` falls below the respective conditional probability.
    """
    sym = u_symptoms < p_sym
    severe = sym & (u_severity < p_severe)
    fatal = sym & (u_severity < p_fatal)
    return sym * _SYM | severe * _SEVERE | fatal * _FATAL_BIT


_E, _P, _A, _I, _C, _R, _D = (int(s) for s in list(State)[1:])

DURATIONS = (
    "latent", "presymptomatic", "asymptomatic", "infectious_after_onset",
    "ill_to_recovery", "ill_to_death",
)  # fmt: skip
"""Names of the durations drawn at transitions, indexed by ``transition_table``'s second array."""


def remainder(total: Distribution, part: Distribution) -> Distribution:
    """The distribution of ``total - part`` as a gamma with the difference of means and variances.

    The time ill after infectiousness ends (state C) is drawn so that onset-to-recovery and
    onset-to-death keep the mean (and, where possible, the variance) of their cited
    distributions; a variance that would be negative is floored at (10 % of the mean)^2.
    """
    mean = total.mean - part.mean
    var = _variance(total) - _variance(part)
    if var <= 0 and _variance(total) == 0:
        return Distribution(dist="fixed", mean=mean)
    sd = max(var, (0.1 * mean) ** 2) ** 0.5
    return Distribution(dist="gamma", mean=mean, sd=sd)


def _variance(dist: Distribution) -> float:
    if dist.dist == "fixed":
        return 0.0
    if dist.dist == "exponential":
        return dist.mean**2
    assert dist.sd is not None
    return dist.sd**2


def infectiousness_table(disease: Disease) -> np.ndarray:
    """Relative infectiousness by ``state * N_FLAG_KEYS + flags`` (0 where not infectious).

    A symptomatic course weighs ``presymptomatic`` in P and ``symptomatic`` in I; a course
    without symptoms weighs ``asymptomatic`` in P and A.
    """
    rel = disease.relative_infectiousness
    table = np.zeros(len(State) * N_FLAG_KEYS)
    for flags in range(N_FLAG_KEYS):
        sym = bool(flags & _SYM)
        table[_P * N_FLAG_KEYS + flags] = rel.presymptomatic if sym else rel.asymptomatic
        table[_A * N_FLAG_KEYS + flags] = rel.asymptomatic
        table[_I * N_FLAG_KEYS + flags] = rel.symptomatic
    return table


class Progression:
    """Moves infected agents through their states when their scheduled time comes.

    Args:
        disease: The natural history.
        rng: The progression stream.
        dispersion: Shape k of the individual infectiousness multiplier (``None``: all 1).
    """

    def __init__(self, disease: Disease, rng: np.random.Generator, dispersion: float | None = None):
        self.disease = disease
        self.course = Course.from_disease(disease)
        self.rng = rng
        self.dispersion = dispersion
        self.calendar: Calendar | None = None
        self.durations = (
            disease.latent_period,
            disease.presymptomatic_period,
            disease.asymptomatic_period,
            disease.infectious_after_onset,
            remainder(disease.onset_to_recovery, disease.infectious_after_onset),
            remainder(disease.onset_to_death, disease.infectious_after_onset),
        )
        self.weight = infectiousness_table(disease)
        self.next_state, self.next_duration = transition_table()
        self._next_list: list[int] = self.next_state.tolist()
        self._duration_list: list[int] = self.next_duration.tolist()
        self._draws = [_buffered(lambda n, d=d: sample(d, rng, n)) for d in self.durations]
        self._pcr = _buffered(lambda n: sample(disease.pcr_positive_after_onset, rng, n))
        self._multiplier = _buffered(self._multipliers)
        self._uniform = _buffered(rng.random)
        c = self.course
        self._course_lists = (
            c.p_symptomatic.tolist(),
            c.p_severe_given_symptomatic.tolist(),
            c.p_fatal_given_symptomatic.tolist(),
        )

    def _multipliers(self, n: int) -> np.ndarray:
        """Individual infectiousness multipliers: gamma(k, 1/k), mean 1 (all 1 without k)."""
        if self.dispersion is None:
            return np.ones(n)
        return self.rng.gamma(self.dispersion, 1.0 / self.dispersion, size=n)

    def infect(
        self,
        world: World,
        idx: np.ndarray,
        t: float | np.ndarray,
        source: int | np.ndarray,
        infector: int | np.ndarray,
    ) -> None:
        """Infect susceptible agents ``idx`` at time(s) ``t`` (they enter E).

        Args:
            world: The agents' state.
            idx: Indices of susceptible agents.
            t: Infection time, one for all or one per agent.
            source: ``Source`` code(s) of the infections.
            infector: Infector index (or indices); ``NO_INFECTOR`` for infections from outside.
        """
        world.state[idx] = State.EXPOSED
        world.flags[idx] = self.course.draw_flags(self.rng, world.population.age_band[idx])
        world.infection_time[idx] = t
        world.infector[idx] = infector
        world.source[idx] = source
        world.infectiousness[idx] = self._multipliers(idx.size)
        world.pcr_until[idx] = np.inf
        world.t_next[idx] = t + sample(self.disease.latent_period, self.rng, idx.size)
        if self.calendar is not None:
            self.calendar.file(idx, world.t_next[idx])

    def infect_imported(
        self, world: World, idx: np.ndarray, arrival: np.ndarray, growth: np.ndarray
    ) -> None:
        """Infect returnees who caught the infection in the epicentre before arriving.

        A returnee arriving infected at time ``a`` was infected ``age`` days earlier, with
        density proportional to ``exp(-growth * age)`` (in a growing epidemic recent infections
        outnumber old ones) among infections still active at arrival: ages are drawn from that
        truncated exponential and redrawn for courses already over by arrival. The course up
        to arrival happens outside the city and is not recorded.
        """
        pending, when, rate = idx, arrival, growth
        for _ in range(50):
            age = _truncated_exponential(self.rng, rate, IMPORT_MAX_AGE)
            self.infect(world, pending, when - age, Source.IMPORTED, NO_INFECTOR)
            self.advance(world, when, among=pending)
            over = world.state[pending] >= State.RECOVERED
            if not over.any():
                return
            pending, when, rate = pending[over], when[over], rate[over]
            world.state[pending] = State.SUSCEPTIBLE
        self.infect(world, pending, when, Source.IMPORTED, NO_INFECTOR)

    def advance(
        self, world: World, t: float | np.ndarray, among: np.ndarray | None = None
    ) -> dict[State, np.ndarray]:
        """Apply every transition due by time ``t`` (several per agent if durations are short).

        With a :attr:`calendar` (the vectorized engine), only the agents filed as due are read,
        and every agent's next transition is filed in it.

        Args:
            world: The agents' state.
            t: The time up to which transitions happen (one per agent of ``among`` allowed).
            among: Only these agents (default: everyone due).

        Returns:
            For each state entered, the agents that entered it (in the order processed).
        """
        entered: dict[State, list[np.ndarray]] = {}
        limit: float | np.ndarray
        if among is not None:
            limits = np.broadcast_to(np.asarray(t, dtype=float), among.shape)
            now = world.t_next[among] <= limits
            due, limit = among[now], limits[now]
        elif self.calendar is not None:
            due, limit = self.calendar.pop(float(t)), float(t)
            due = due[world.t_next[due] <= limit]  # stale entries have a later one
        else:
            due, limit = np.flatnonzero(world.t_next <= t), float(t)
        while due.size:
            for new_state, idx in self._transition(world, due).items():
                entered.setdefault(new_state, []).append(idx)
            keep = world.t_next[due] <= limit
            if self.calendar is not None:
                self.calendar.file(due[~keep], world.t_next[due[~keep]])
            due = due[keep]
            limit = limit if isinstance(limit, float) else limit[keep]
        return {s: np.concatenate(parts) for s, parts in entered.items()}

    def _transition(self, world: World, due: np.ndarray) -> dict[State, np.ndarray]:
        key = world.state[due].astype(np.intp) * N_FLAG_KEYS + world.flags[due]
        new, which = self.next_state[key], self.next_duration[key]
        when = world.t_next[due]
        world.state[due] = new
        after = np.full(due.size, np.inf)
        for k, part in _groups(which, len(self.durations)):
            after[part] = when[part] + sample(self.durations[k], self.rng, part.size)
        world.t_next[due] = after
        shedding = (new == _I) | (new == _A)
        if shedding.any():
            fatal = (world.flags[due[shedding]] & _FATAL_BIT).astype(bool)
            until = when[shedding] + sample(
                self.disease.pcr_positive_after_onset, self.rng, int(shedding.sum())
            )
            world.pcr_until[due[shedding]] = np.where(fatal, np.inf, until)
        return {State(state): due[part] for state, part in _groups(new, len(State)) if state > _E}

    # --- one agent at a time (the discrete-event engine) --------------------------------------
    def infect_one(self, agents: AgentView, i: int, t: float, source: int, infector: int) -> float:
        """Infect susceptible agent ``i`` at time ``t``; returns the time it becomes infectious.

        The same rules as :meth:`infect`, drawn from buffered streams so that one agent costs no
        array call.
        """
        p_sym, p_severe, p_fatal = self._course_lists
        band = agents.age_band[i]
        u = self._uniform
        t_next = t + self._draws[0]()
        agents.flags[i] = course_flags(u(), u(), p_sym[band], p_severe[band], p_fatal[band])
        agents.state[i] = _E
        agents.infection_time[i] = t
        agents.infector[i] = infector
        agents.source[i] = source
        agents.infectiousness[i] = self._multiplier()
        agents.pcr_until[i] = _INF
        agents.t_next[i] = t_next
        return t_next

    def advance_one(self, agents: AgentView, i: int, state: int) -> int:
        """Apply agent ``i``'s due transition out of ``state``; returns the state entered.

        Uses the same transition table as :meth:`advance`; the next transition time is set in
        ``t_next`` (``inf`` once the course is over).
        """
        flags = agents.flags[i]
        key = state * N_FLAG_KEYS + flags
        new, which = self._next_list[key], self._duration_list[key]
        agents.state[i] = new
        when = agents.t_next[i]
        agents.t_next[i] = when + self._draws[which]() if which >= 0 else _INF
        if new == _I or new == _A:
            agents.pcr_until[i] = _INF if flags & _FATAL_BIT else when + self._pcr()
        return new


_INF = float("inf")
N_FLAG_KEYS = 8
"""Distinct ``Flag`` combinations (3 bits): the stride of the transition table."""


def transition_table() -> tuple[np.ndarray, np.ndarray]:
    """The course of an infection as a table: the one rule set both engines apply.

    Returns:
        ``(next_state, next_duration)`` indexed by ``state * N_FLAG_KEYS + flags``: the state
        entered at the agent's next transition, and the index in ``Progression.durations`` of
        the time spent there (-1: none, the course is over). Unused entries are -1.
    """
    size = len(State) * N_FLAG_KEYS
    next_state = np.full(size, -1, dtype=np.int8)
    next_duration = np.full(size, -1, dtype=np.int8)
    latent, presymptomatic, asymptomatic, infectious, to_recovery, to_death = range(6)
    del latent  # the latent period is drawn at infection, not at a transition
    for flags in range(N_FLAG_KEYS):
        sym, fatal = bool(flags & _SYM), bool(flags & _FATAL_BIT)
        rules = {
            _E: (_P, presymptomatic),
            _P: (_I, infectious) if sym else (_A, asymptomatic),
            _A: (_R, -1),
            _I: (_C, to_death if fatal else to_recovery),
            _C: (_D if fatal else _R, -1),
        }
        for state, (new, duration) in rules.items():
            next_state[state * N_FLAG_KEYS + flags] = new
            next_duration[state * N_FLAG_KEYS + flags] = duration
    return next_state, next_duration


def _groups(codes: np.ndarray, n: int) -> list[tuple[int, np.ndarray]]:
    """Positions of each non-negative code below ``n`` (one stable counting sort)."""
    order = np.argsort(codes, kind="stable")
    counts = np.bincount(codes[codes >= 0].astype(np.intp), minlength=n)
    skip = int(np.count_nonzero(codes < 0))
    bounds = skip + np.concatenate([[0], np.cumsum(counts)])
    return [(k, order[bounds[k] : bounds[k + 1]]) for k in range(n) if counts[k]]


def _buffered(draw: Any) -> Callable[[], float]:
    """Scalar draws served from blocks of a vectorized sampler ``draw(n)`` (cheap per call)."""

    def values() -> Iterator[float]:
        while True:
            yield from draw(_BLOCK).tolist()

    return values().__next__


_BLOCK = 4096
"""Draws per block of a buffered scalar stream."""


IMPORT_MAX_AGE = 30.0
"""Oldest infection age (days) considered for returnees arriving infected."""


def _truncated_exponential(rng: np.random.Generator, rate: np.ndarray, upper: float) -> np.ndarray:
    """Draws on ``[0, upper]`` with density proportional to ``exp(-rate * x)`` (any sign)."""
    u = rng.random(rate.size)
    flat = np.abs(rate) < 1e-9
    safe = np.where(flat, 1.0, rate)
    x = -np.log1p(-u * -np.expm1(-safe * upper)) / safe
    return np.where(flat, u * upper, x)


# --- what the natural history implies ---------------------------------------------------------
def _phases(disease: Disease) -> list[tuple[str, float, list[Distribution], Distribution]]:
    """The infectious phases of each course: (course, weight, durations before, duration)."""
    rel, d = disease.relative_infectiousness, disease
    return [
        ("symptomatic", rel.presymptomatic, [d.latent_period], d.presymptomatic_period),
        (
            "symptomatic",
            rel.symptomatic,
            [d.latent_period, d.presymptomatic_period],
            d.infectious_after_onset,
        ),
        ("asymptomatic", rel.asymptomatic, [d.latent_period], d.presymptomatic_period),
        (
            "asymptomatic",
            rel.asymptomatic,
            [d.latent_period, d.presymptomatic_period],
            d.asymptomatic_period,
        ),
    ]


def _symptomatic_share(disease: Disease, age_distribution: list[float]) -> float:
    ages = np.asarray(age_distribution, dtype=float)
    return float(np.dot(ages / ages.sum(), Course.from_disease(disease).p_symptomatic))


def _laplace(dist: Distribution, r: float) -> float:
    """``E[exp(-r X)]`` of a duration X (the moment-generating function at ``-r``)."""
    if dist.dist == "fixed":
        return float(np.exp(-r * dist.mean))
    if dist.dist == "exponential":
        return 1.0 / (1.0 + r * dist.mean)
    assert dist.sd is not None
    if dist.dist == "gamma":
        shape, scale = (dist.mean / dist.sd) ** 2, dist.sd**2 / dist.mean
        return float((1.0 + r * scale) ** -shape)
    sigma2 = np.log1p((dist.sd / dist.mean) ** 2)
    mu = np.log(dist.mean) - sigma2 / 2
    nodes, weights = np.polynomial.hermite_e.hermegauss(80)
    x = np.exp(mu + np.sqrt(sigma2) * nodes)
    return float(np.dot(weights, np.exp(-r * x)) / np.sqrt(2 * np.pi))


def infectiousness_transform(disease: Disease, age_distribution: list[float], r: float) -> float:
    """``E[integral of w(tau) exp(-r tau) dtau]`` over an infection (tau: time since infection).

    ``w`` is the relative infectiousness of the course (the individual multiplier has mean 1
    and is independent of timing). At ``r = 0`` this is :func:`mean_infectious_days`; divided
    by it, it is the Laplace transform of the generation-interval distribution.
    """
    p_sym = _symptomatic_share(disease, age_distribution)
    share = {"symptomatic": p_sym, "asymptomatic": 1.0 - p_sym}
    total = 0.0
    for course, weight, before, length in _phases(disease):
        if r == 0:
            part = length.mean
        else:
            start = float(np.prod([_laplace(x, r) for x in before]))
            part = start * (1.0 - _laplace(length, r)) / r
        total += share[course] * weight * part
    return total


def infectious_days_by_phase(disease: Disease, age_distribution: list[float]) -> dict[str, float]:
    """Expected infectiousness-weighted days of one infection, split by phase.

    Keys: ``presymptomatic`` (P of symptomatic courses), ``symptomatic`` (I, after onset) and
    ``asymptomatic`` (P and A of courses without symptoms); they add up to
    :func:`mean_infectious_days`. Isolating every case at onset leaves
    ``presymptomatic + asymptomatic`` of it (Fraser C et al., PNAS 2004).
    """
    p_sym = _symptomatic_share(disease, age_distribution)
    names = ("presymptomatic", "symptomatic", "asymptomatic", "asymptomatic")
    out = dict.fromkeys(names, 0.0)
    for name, (course, weight, _, length) in zip(names, _phases(disease), strict=True):
        share = p_sym if course == "symptomatic" else 1.0 - p_sym
        out[name] += share * weight * length.mean
    return out


def mean_infectious_days(disease: Disease, age_distribution: list[float]) -> float:
    """Expected infectiousness-weighted days of one infection, E[integral of w(t) dt].

    Averages over the age distribution of infected people, taken as the population's.
    """
    return infectiousness_transform(disease, age_distribution, 0.0)


def mean_generation_interval(disease: Disease, age_distribution: list[float]) -> float:
    """Mean generation interval: infectiousness-weighted mean time from infection to infecting.

    ``E[integral of tau w(tau) dtau] / E[integral of w dtau]``; for a phase starting at S and
    lasting L, ``E[integral of tau] = E[S] E[L] + E[L^2] / 2`` (durations are independent).
    """
    p_sym = _symptomatic_share(disease, age_distribution)
    share = {"symptomatic": p_sym, "asymptomatic": 1.0 - p_sym}
    numerator = 0.0
    for course, weight, before, length in _phases(disease):
        start = sum(x.mean for x in before)
        second = length.mean**2 + _variance(length)
        numerator += share[course] * weight * (start * length.mean + second / 2)
    return numerator / mean_infectious_days(disease, age_distribution)


def growth_rate(disease: Disease, r0: float, age_distribution: list[float]) -> float:
    """Exponential growth rate r of an epidemic with reproduction number ``r0``.

    Solves ``r0 * L(r) = 1`` where L is the Laplace transform of the model's own generation
    interval distribution (Wallinga J & Lipsitch M, Proc R Soc B 2007).
    """
    from scipy.optimize import brentq

    days = mean_infectious_days(disease, age_distribution)

    def gap(r: float) -> float:
        return r0 * infectiousness_transform(disease, age_distribution, r) / days - 1.0

    if r0 == 1.0:
        return 0.0
    lo, hi = (1e-9, 5.0) if r0 > 1 else (-0.5, -1e-9)
    return float(brentq(gap, lo, hi))


def implied_r0(
    disease: Disease,
    transmission: Transmission,
    age_distribution: list[float],
    layers: tuple[str, ...] = ("household", "community", "region"),
) -> float:
    """Basic reproduction number implied by the rates in large groups.

    In a group much larger than one, an infectious agent causes ``beta_l * E[int w dt]``
    infections in layer ``l``; summing the layers gives R0. Households are small and saturate,
    so for them this is an upper bound (pass ``layers`` to leave them out).
    """
    days = mean_infectious_days(disease, age_distribution)
    out: float = sum(getattr(transmission.beta, layer) for layer in layers) * days
    return out
