"""Imports flow one way: scenario -> population/world/disease -> ... -> engines -> cli."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).parents[1] / "src" / "containment_sim"

# Lower number = lower layer; a module may import only from layers at or below its own.
LAYER = {
    "_version": 0,
    "rng": 0,
    "defaults": 0,
    "theory": 0,
    "errors": 0,
    "names": 0,
    "arrays": 0,
    "safe_yaml": 1,
    "outputs": 1,
    "ledger": 1,
    "runner": 1,
    "checks": 1,
    "scenario": 1,
    "references": 1,
    "loading": 2,
    "resources": 2,
    "population": 3,
    "schedule": 3,
    "agentsets": 3,
    "network": 4,
    "world": 4,
    "disease": 5,
    "transmission": 5,
    "layers": 5,
    "reproduction": 6,
    "mobility": 5,
    "results": 5,
    "measures": 6,
    "engines": 7,
    "experiments": 8,
    "statistics": 0,
    "attribution": 8,
    "sweep": 8,
    "charts": 9,
    "cli_experiments": 10,
    "cli_support": 10,
    "plotting": 9,
    "cli": 10,
    "__init__": 11,
    "__main__": 12,
}


def module_layer(path: Path) -> int:
    rel = path.relative_to(SRC)
    return LAYER[rel.parts[0].removesuffix(".py")]


def test_imports_flow_one_way() -> None:
    for path in SRC.rglob("*.py"):
        mine = module_layer(path)
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.ImportFrom)
                and node.module
                and node.module.startswith("containment_sim.")
            ):
                target = node.module.split(".")[1]
                assert LAYER[target] <= mine, f"{path.name} imports {node.module}"


def test_files_stay_small() -> None:
    for path in SRC.rglob("*.py"):
        assert len(path.read_text().splitlines()) <= 600, path
