"""Imports flow one way: scenario -> population/world/disease -> ... -> engines -> cli."""

from __future__ import annotations

import ast
import subprocess
import sys
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
    "progress": 1,
    "provenance": 1,
    "ledger": 1,
    "runner": 1,
    "checks": 1,
    "scenario": 1,
    "calibration_spec": 1,
    "posterior": 2,
    "references": 1,
    "report": 1,
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
    "epicentre": 5,
    "results": 5,
    "measures": 6,
    "engines": 7,
    "experiments": 8,
    "statistics": 0,
    "attribution": 8,
    "sweeps": 8,
    "calibration": 8,
    "plots": 9,
    "display": 9,
    "rerun": 9,
    "cli_experiments": 10,
    "cli_calibrate": 10,
    "cli_support": 10,
    "cli": 10,
    "__init__": 11,
    "__main__": 12,
}


def module_layer(path: Path) -> int:
    rel = path.relative_to(SRC)
    return LAYER[rel.parts[0].removesuffix(".py")]


LAZY = {"plots", "display", "loading"}
"""Modules a lower layer may import inside a function body (e.g. ``Result.plot``, or
``with_overrides`` reporting its problems like the loader)."""


def imports(tree: ast.AST) -> list[tuple[str, bool]]:
    """``(module, inside a function)`` for every ``from containment_sim.x import ...``."""
    found: list[tuple[str, bool]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.ImportFrom) and (child.module or "").startswith(
                "containment_sim."
            ):
                found.append((child.module or "", in_function))
            visit(child, inner)

    visit(tree, False)
    return found


def test_imports_flow_one_way() -> None:
    for path in SRC.rglob("*.py"):
        mine = module_layer(path)
        for module, in_function in imports(ast.parse(path.read_text())):
            target = module.split(".")[1]
            if target in LAZY and in_function:
                continue
            assert LAYER[target] <= mine, f"{path.name} imports {module}"


def test_only_the_command_line_and_lazy_bodies_import_the_charts() -> None:
    for path in SRC.rglob("*.py"):
        owner = path.relative_to(SRC).parts[0].removesuffix(".py")
        for module, in_function in imports(ast.parse(path.read_text())):
            if module.split(".")[1] == "plots" and owner != "plots":
                assert owner.startswith("cli") or owner == "__init__" or in_function, (
                    f"{path.relative_to(SRC)} imports {module} at module level"
                )


def test_the_imports_are_found() -> None:
    found = imports(
        ast.parse(
            "from containment_sim.a import x\ndef f():\n    from containment_sim.b import y\n"
        )
    )
    assert found == [("containment_sim.a", False), ("containment_sim.b", True)]


def test_importing_the_package_loads_no_charts() -> None:
    code = (
        "import sys, containment_sim as cs\n"
        "cs.Result, cs.Comparison, cs.load_scenario, cs.run, cs.compare\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'matplotlib'"
        " or m == 'containment_sim.plots')\n"
        "assert not loaded, loaded\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_files_stay_small() -> None:
    for path in SRC.rglob("*.py"):
        assert len(path.read_text().splitlines()) <= 600, path


def test_engines_import_no_concrete_measure() -> None:
    for path in (SRC / "engines").glob("*.py"):
        for module, _ in imports(ast.parse(path.read_text())):
            if module.startswith("containment_sim.measures."):
                assert module == "containment_sim.measures.base", f"{path.name} imports {module}"
