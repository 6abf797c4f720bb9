"""Producers of the generated blocks of the docs (see ``registry``)."""
