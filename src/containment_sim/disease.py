"""Natural history: duration draws, the course of each infection, and progression.

An infection goes S -> E (latent) -> P (presymptomatic, infectious) -> A (asymptomatic) or
I (symptomatic) -> R or D. At infection the agent's course is fixed by its age band: whether
it will have symptoms, need a hospital bed (severe) and die. Each state's duration is drawn
when the agent enters it; the next transition is scheduled at the exact (continuous) time, so
the step length of an engine does not change the durations.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from containment_sim.scenario import Disease, Distribution, Transmission
from containment_sim.world import NO_INFECTOR, AgentView, Flag, Source, State, World

__all__ = [
    "Course",
    "Progression",
    "course_flags",
    "implied_r0",
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
        return flags.astype(np.uint8)


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


_E, _P, _A, _I, _R, _D = (int(s) for s in list(State)[1:])


class Progression:
    """Moves infected agents through their states when their scheduled time comes."""

    def __init__(self, disease: Disease, rng: np.random.Generator):
        self.disease = disease
        self.course = Course.from_disease(disease)
        self.rng = rng
        self.durations = (
            disease.latent_period,
            disease.presymptomatic_period,
            disease.asymptomatic_period,
            disease.symptomatic_period,
            disease.onset_to_death,
        )
        self.next_state, self.next_duration = transition_table()
        self._next_list: list[int] = self.next_state.tolist()
        self._duration_list: list[int] = self.next_duration.tolist()
        self._draws = [_buffered(lambda n, d=d: sample(d, rng, n)) for d in self.durations]
        self._uniform = _buffered(rng.random)
        c = self.course
        self._course_lists = (
            c.p_symptomatic.tolist(),
            c.p_severe_given_symptomatic.tolist(),
            c.p_fatal_given_symptomatic.tolist(),
        )

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
        world.t_next[idx] = t + sample(self.disease.latent_period, self.rng, idx.size)

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

        Args:
            world: The agents' state.
            t: The time up to which transitions happen (one per agent of ``among`` allowed).
            among: Only these agents (default: everyone).

        Returns:
            For each state entered, the agents that entered it (in the order processed).
        """
        entered: dict[State, list[np.ndarray]] = {}
        limit: float | np.ndarray
        if among is None:
            due, limit = np.flatnonzero(world.t_next <= t), float(t)  # type: ignore[arg-type]
        else:
            limits = np.broadcast_to(np.asarray(t, dtype=float), among.shape)
            now = world.t_next[among] <= limits
            due, limit = among[now], limits[now]
        while due.size:
            for new_state, idx in self._transition(world, due).items():
                entered.setdefault(new_state, []).append(idx)
            keep = world.t_next[due] <= limit
            due = due[keep]
            limit = limit if isinstance(limit, float) else limit[keep]
        return {s: np.concatenate(parts) for s, parts in entered.items()}

    def _transition(self, world: World, due: np.ndarray) -> dict[State, np.ndarray]:
        key = world.state[due].astype(np.intp) * N_FLAG_KEYS + world.flags[due]
        new, which = self.next_state[key], self.next_duration[key]
        world.state[due] = new
        for k, dist in enumerate(self.durations):
            idx = due[which == k]
            if idx.size:
                world.t_next[idx] += sample(dist, self.rng, idx.size)
        world.t_next[due[which < 0]] = np.inf
        out: dict[State, np.ndarray] = {}
        for state in (_P, _A, _I, _R, _D):
            idx = due[new == state]
            if idx.size:
                out[state] = idx  # type: ignore[index]  # plain int keys hash as the members
        return out

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
        agents.t_next[i] = t_next
        return t_next

    def advance_one(self, agents: AgentView, i: int, state: int) -> int:
        """Apply agent ``i``'s due transition out of ``state``; returns the state entered.

        Uses the same transition table as :meth:`advance`; the next transition time is set in
        ``t_next`` (``inf`` once the course is over).
        """
        key = state * N_FLAG_KEYS + agents.flags[i]
        new, which = self._next_list[key], self._duration_list[key]
        agents.state[i] = new
        agents.t_next[i] = agents.t_next[i] + self._draws[which]() if which >= 0 else _INF
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
    latent, presymptomatic, asymptomatic, symptomatic, to_death = range(5)
    del latent  # the latent period is drawn at infection, not at a transition
    for flags in range(N_FLAG_KEYS):
        sym, fatal = bool(flags & _SYM), bool(flags & _FATAL_BIT)
        rules = {
            _E: (_P, presymptomatic),
            _P: (_I, to_death if fatal else symptomatic) if sym else (_A, asymptomatic),
            _A: (_R, -1),
            _I: (_D if fatal else _R, -1),
        }
        for state, (new, duration) in rules.items():
            next_state[state * N_FLAG_KEYS + flags] = new
            next_duration[state * N_FLAG_KEYS + flags] = duration
    return next_state, next_duration


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


def mean_infectious_days(disease: Disease, age_distribution: list[float]) -> float:
    """Expected infectiousness-weighted days of one infection, E[integral of w(t) dt].

    Averages over the age distribution of infected people, taken as the population's.
    """
    ages = np.asarray(age_distribution, dtype=float)
    ages /= ages.sum()
    course = Course.from_disease(disease)
    rel = disease.relative_infectiousness
    p_sym = float(np.dot(ages, course.p_symptomatic))
    p_fatal = float(np.dot(ages, course.p_symptomatic * course.p_fatal_given_symptomatic))
    symptomatic_days = (
        p_sym - p_fatal
    ) * disease.symptomatic_period.mean + p_fatal * disease.onset_to_death.mean
    return (
        rel.presymptomatic * disease.presymptomatic_period.mean
        + rel.asymptomatic * (1.0 - p_sym) * disease.asymptomatic_period.mean
        + rel.symptomatic * symptomatic_days
    )


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
    return sum(getattr(transmission.beta, layer) for layer in layers) * days
