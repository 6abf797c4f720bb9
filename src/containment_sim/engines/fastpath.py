"""How the discrete-event engine keeps its one-agent events cheap, in one place.

Each event of the discrete-event engine (a transition, a contact attempt) touches one agent.
At about 2 µs per event the engine spends roughly as long on the model as SimPy spends on the
event itself, because of four choices, measured with ``benchmarks/bench_des.py``:

- **Timeouts with a callback** instead of a generator per agent (in ``engines/des.py``).
- **Memoryviews** of the agents' arrays (:class:`~containment_sim.world.AgentView`): indexing
  one reads a plain Python number at about half the cost of indexing a numpy array.
- **A tally of plain numbers** (:class:`Tally`): an event changes the stock book and today's
  flows by one; adding to a Python list is far cheaper than a numpy scalar update, and the
  tally is added to the arrays once a day (and before any check).
- **Optionally, fewer garbage collections** (:func:`fewer_collections`, the engine's
  ``gc_threshold`` option): events allocate short-lived objects without reference cycles, and
  at Python's default threshold (700) the collector runs every few hundred events and takes
  about a fifth of a run. The engine leaves the collector alone unless asked.

None of this changes a result: the same seed gives the same numbers with or without it.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

__all__ = ["Tally", "fewer_collections"]


class Tally:
    """Stock and flow changes of one-agent events, kept as plain numbers until flushed.

    The engine's event callbacks write into the flat lists directly (``stock[k] += 1``): the
    index of region ``r`` and state ``s`` is ``r * n_states + s``, that of region ``r`` and
    flow column ``c`` is ``r * n_flows + c``.

    Args:
        stocks: The stock book (regions x states) the tally is flushed into.
        n_flows: Flow columns of the recorder.

    Attributes:
        stock: Pending changes of the stock book, flat.
        flow: Pending counts of today's flows, flat.
    """

    def __init__(self, stocks: np.ndarray, n_flows: int):
        self.shape = stocks.shape
        self.n_flows = n_flows
        self.stock: list[int] = [0] * stocks.size
        self.flow: list[int] = [0] * (stocks.shape[0] * n_flows)

    def flush(self, stocks: np.ndarray, flows: np.ndarray) -> None:
        """Add the pending changes to the stock book and to one day's flows, then clear them.

        Args:
            stocks: The stock book (regions x states), changed in place.
            flows: One day's flows (regions x columns), changed in place.
        """
        stocks += np.array(self.stock, dtype=np.int64).reshape(self.shape)
        flows += np.array(self.flow, dtype=np.int64).reshape(flows.shape)
        self.stock = [0] * len(self.stock)
        self.flow = [0] * len(self.flow)


@contextmanager
def fewer_collections(threshold: int | None) -> Iterator[None]:
    """Run the garbage collector's youngest generation every ``threshold`` allocations.

    The setting is restored on leaving. ``None`` leaves the collector alone.
    """
    if threshold is None:
        yield
        return
    old = gc.get_threshold()
    gc.set_threshold(threshold, *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)
