"""The package version: the one place it is written (``pyproject.toml`` reads it from here).

Kept as a plain string so that a source checkout that is not installed reports the same
version, and importing it costs nothing. The same number heads the released section of
``CHANGELOG.md`` and is ``version`` in ``CITATION.cff`` (``tests/test_release.py`` checks).
Between releases it is the last release's; saved results also record the git commit
(:mod:`containment_sim.provenance`).
"""

__version__ = "0.2.0"
