"""The package version: the one place it is written (``pyproject.toml`` reads it from here).

Kept as a plain string so that a source checkout that is not installed reports the same
version, and importing it costs nothing.
"""

__version__ = "0.2.0.dev0"
