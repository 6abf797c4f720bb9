"""What a run will cost, estimated before it starts, and whether this machine can afford it.

The estimate is deliberately simple and on the generous side. It follows the figures in
``benchmarks/README.md`` and ``docs/engines.md`` (2-core machine, Python 3.11):

- **memory**: the interpreter and libraries (about 120 MB), about 160 bytes per agent
  (the synthetic city, the agents' state, the infection log) and about 2 kB per (day, region)
  for the daily tables and the DataFrames built from them. We allow 250 bytes per agent and
  150 MB for the rest.
- **time**: the vectorized engine spends about 1 ms per step on fixed work and about
  20 ns per agent and step (9 s for the full Xianning city, 2.66 million agents, 120 steps);
  the discrete-event engine about 40 us per agent over a run, 2 us per candidate contact
  (bounded by every agent infected at the layers' rates) and 1 ms per tick of the measures'
  clock.

:func:`check_resources` compares the estimate with the memory this machine (or its container)
has available and with a time limit, and raises :class:`ResourceError` with what was estimated
and how to go ahead anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from containment_sim.errors import InputError
from containment_sim.scenario import Scenario

__all__ = [
    "DEFAULT_MAX_HOURS",
    "Estimate",
    "ResourceError",
    "available_memory",
    "check_resources",
    "estimate",
]

BASE_BYTES = 150_000_000
BYTES_PER_AGENT = 250
BYTES_PER_REGION_DAY = 2_000
SECONDS_PER_STEP = 1e-3
SECONDS_PER_AGENT_STEP = 2e-8
DES_SECONDS_PER_AGENT = 4e-5
DES_SECONDS_PER_EVENT = 2e-6
INFECTIOUS_DAYS = 10.0

DEFAULT_MAX_HOURS = 12.0
"""Longest single run allowed without ``--no-resource-check``, by the estimate."""


class ResourceError(InputError):
    """A run that would need more memory or time than this machine or the limit allows."""


@dataclass(frozen=True)
class Estimate:
    """The estimated cost of one run.

    Attributes:
        agents: Simulated agents.
        steps: Engine steps (days / dt).
        memory_bytes: Peak memory of the process running it.
        seconds: Wall time on one core.
    """

    agents: int
    steps: int
    memory_bytes: int
    seconds: float

    def __str__(self) -> str:
        return (
            f"about {_bytes(self.memory_bytes)} of memory and {_duration(self.seconds)} per run "
            f"({self.agents:,} agents, {self.steps:,} steps)"
        )


def estimate(scenario: Scenario) -> Estimate:
    """The estimated memory and time of one run of ``scenario`` (see the module docstring)."""
    agents = sum(scenario.scaled_population())
    steps = scenario.days * scenario.steps_per_day
    regions = len(scenario.population.regions)
    memory = BASE_BYTES + BYTES_PER_AGENT * agents + BYTES_PER_REGION_DAY * regions * scenario.days
    if scenario.engine == "des":
        events = agents * _contacts_per_agent(scenario)
        seconds = DES_SECONDS_PER_AGENT * agents + DES_SECONDS_PER_EVENT * events
        seconds += SECONDS_PER_STEP * steps
    else:
        seconds = steps * (SECONDS_PER_STEP + SECONDS_PER_AGENT_STEP * agents)
    return Estimate(agents, steps, memory, float(seconds))


def _contacts_per_agent(scenario: Scenario) -> float:
    """Candidate contacts the discrete-event engine draws per agent, on the generous side.

    Every agent infected, each infectious for ``INFECTIOUS_DAYS`` at the largest relative
    infectiousness, making contacts at the sum of the layer rates (or, with
    ``transmission.r0``, r0 per case).
    """
    beta = scenario.transmission.beta
    relative = scenario.disease.relative_infectiousness
    w_max = max(relative.presymptomatic, relative.asymptomatic, relative.symptomatic, 1.0)
    rate = (beta.household + beta.community + beta.region) * INFECTIOUS_DAYS
    return w_max * (rate + (scenario.transmission.r0 or 0.0))


def available_memory() -> int | None:
    """Memory available to this process, in bytes: free RAM, within a container's limit.

    Returns:
        ``None`` where it cannot be read (not Linux); then memory is not checked.
    """
    free = _meminfo_available()
    limit = _cgroup_room()
    options = [x for x in (free, limit) if x is not None]
    return min(options) if options else None


def _meminfo_available() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _cgroup_room() -> int | None:
    """A cgroup (v2) memory limit minus what is in use, if there is a limit."""
    root = Path("/sys/fs/cgroup")
    try:
        limit = (root / "memory.max").read_text().strip()
        used = (root / "memory.current").read_text().strip()
    except OSError:
        return None
    if not limit.isdigit() or not used.isdigit():
        return None
    return max(0, int(limit) - int(used))


def check_resources(
    scenario: Scenario,
    concurrent: int = 1,
    max_hours: float = DEFAULT_MAX_HOURS,
    memory: int | None = None,
) -> Estimate:
    """Check that ``concurrent`` runs of ``scenario`` fit in memory and one fits in time.

    Args:
        scenario: The scenario, with every override applied.
        concurrent: Runs at the same time (worker processes).
        max_hours: Longest estimated run allowed.
        memory: Bytes available (default: :func:`available_memory`).

    Returns:
        The estimate.

    Raises:
        ResourceError: The estimate exceeds the memory or the time limit.
    """
    cost = estimate(scenario)
    room = available_memory() if memory is None else memory
    need = cost.memory_bytes * concurrent
    override = "lower population.scale, days or --workers, or pass --no-resource-check"
    if room is not None and need > room:
        who = f"{concurrent} runs at once need" if concurrent > 1 else "a run needs"
        raise ResourceError(
            f"{who} {_bytes(need)} of memory by our estimate "
            f"({cost.agents:,} agents, {scenario.days:,} days), but {_bytes(room)} is "
            f"available; {override}"
        )
    if cost.seconds > max_hours * 3600:
        raise ResourceError(
            f"a run would take {_duration(cost.seconds)} by our estimate "
            f"({cost.agents:,} agents, {cost.steps:,} steps), more than the limit of "
            f"{max_hours:g} h; {override.replace(' or --workers', ', or dt')}"
        )
    return cost


def _bytes(n: float) -> str:
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if n >= size:
            return f"{n / size:,.3g} {unit}"
    return f"{n / 1e3:,.3g} kB"


def _duration(seconds: float) -> str:
    if seconds >= 86400 * 365:
        return f"{seconds / (86400 * 365):,.3g} years"
    if seconds >= 86400:
        return f"{seconds / 86400:,.3g} days"
    if seconds >= 3600:
        return f"{seconds / 3600:.3g} h"
    if seconds >= 60:
        return f"{seconds / 60:.3g} min"
    return f"{seconds:.2g} s"
