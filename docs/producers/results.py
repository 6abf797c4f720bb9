"""Generated blocks of the docs: see :mod:`producers.registry`."""

from __future__ import annotations
