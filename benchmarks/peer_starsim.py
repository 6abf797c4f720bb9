"""Peer model for the benchmark: a Starsim 3.7.2 SEIR epidemic on a random contact network.

A plain agent-based SEIR run with parameters comparable to the Xianning scenario:

- ``ss.RandomNet(n_contacts=10)``: every agent has about 10 contacts a day, redrawn every step
  (the network is dynamic with edge duration 0);
- daily steps (``dt = 1 day``), ``--days`` steps;
- latent period gamma(mean 2.9 d, SD 1.8 d), the default ``LATENT_PERIOD`` of containment-sim;
- infectious period gamma(mean 5.3 d, SD 2.5 d): containment-sim's presymptomatic (2.3 d) plus
  infectious-after-onset (2.5 d) periods of symptomatic cases (80 %), and presymptomatic plus
  asymptomatic (5.0 d) periods of the others;
- per-contact, per-day transmission probability ``R0 / (n_contacts * 5.3)`` (``ss.probperday``),
  so that R0 = 2.2 (the scenario's target, Li et al. 2020);
- no deaths, births or other modules; ``--init-prev`` of the agents infected at the start.

It prints the infections and the time spent in each phase, and a last line
``RESULT {json}`` that ``bench_peer.py`` reads. Nothing is saved or plotted.

Usage::

    python benchmarks/peer_starsim.py [--agents 1000000] [--days 120] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import time

T_START = time.perf_counter()

LATENT_MEAN, LATENT_SD = 2.9, 1.8
INFECTIOUS_MEAN, INFECTIOUS_SD = 5.3, 2.5


def gamma_days(ss, mean: float, sd: float):
    """A Starsim gamma distribution of durations in days with the given mean and SD."""
    return ss.gamma(a=(mean / sd) ** 2, scale=ss.days(sd**2 / mean))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--n-contacts", type=int, default=10, help="contacts per agent per day")
    parser.add_argument("--r0", type=float, default=2.2)
    parser.add_argument("--init-prev", type=float, default=1e-4, help="share infected at start")
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    import starsim as ss

    t1 = time.perf_counter()
    p_contact = args.r0 / (args.n_contacts * INFECTIOUS_MEAN)
    seir = ss.SEIR(
        beta=ss.probperday(p_contact),
        dur_exp=gamma_days(ss, LATENT_MEAN, LATENT_SD),
        dur_inf=gamma_days(ss, INFECTIOUS_MEAN, INFECTIOUS_SD),
        p_death=0,
        init_prev=ss.bernoulli(p=args.init_prev),
    )
    sim = ss.Sim(
        n_agents=args.agents,
        diseases=seir,
        networks=ss.RandomNet(n_contacts=args.n_contacts),
        start=ss.days(0),
        dur=ss.days(args.days),
        dt=ss.days(1),
        rand_seed=args.seed,
        verbose=0,
    )
    sim.init()
    seeded = int(sim.diseases.seir.infected.sum())
    t2 = time.perf_counter()
    sim.run()
    t3 = time.perf_counter()

    res = sim.results.seir
    infections = seeded + int(res.cum_infections[-1])
    out = {
        "model": f"starsim {ss.__version__}",
        "agents": len(sim.people),
        "days": args.days,
        "steps": int(sim.t.npts - 1),
        "p_contact_day": p_contact,
        "seeded": seeded,
        "total_infections": infections,
        "attack_rate": infections / args.agents,
        "import_s": t1 - t0,
        "setup_s": t2 - t1,
        "loop_s": t3 - t2,
        "main_s": t3 - T_START,
    }
    print(f"Starsim {ss.__version__} SEIR, RandomNet(n_contacts={args.n_contacts}), dt = 1 day")
    print(f"agents {out['agents']:,}, steps {out['steps']}, p/contact/day {p_contact:.5f}")
    print(f"infections {infections:,} ({seeded:,} seeded), attack rate {out['attack_rate']:.3f}")
    times = (out["import_s"], out["setup_s"], out["loop_s"])
    print("import {:.2f} s, setup {:.2f} s, loop {:.2f} s".format(*times))
    print("RESULT " + json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
