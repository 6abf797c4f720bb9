"""Regenerate every number, table and figure quoted in the docs, or check that none is stale.

Usage::

    python docs/build.py                 # run every producer, rewrite the generated blocks
    python docs/build.py NAME [NAME...]  # only these blocks
    python docs/build.py --check         # fail (exit 1) if a page differs from what the code
                                         # produces: cheap blocks are run again, costly ones
                                         # compared by fingerprint (docs/producers/registry.py)
    python docs/build.py --list          # the blocks, their cost and the pages that use them

Generated blocks live in ``docs/*.md`` and ``README.md`` between ``<!-- generated: NAME -->``
and ``<!-- /generated -->``. Text outside the markers is never touched.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import re
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from producers.registry import BLOCKS, DOCS, ROOT  # noqa: E402

PRODUCERS = ("producers.results", "producers.model", "producers.speed")
LOCK = DOCS / "generated.lock.json"
MARKER = re.compile(
    r"(?P<open><!-- generated: (?P<name>[a-z0-9-]+) -->\n)"
    r"(?P<body>.*?)(?P<close><!-- /generated -->)",
    re.DOTALL,
)
FINGERPRINTED = ("src/containment_sim", "docs/producers", "examples")


def pages() -> list[Path]:
    """The Markdown files that may hold generated blocks."""
    return [*sorted(DOCS.rglob("*.md")), ROOT / "README.md", ROOT / "benchmarks" / "README.md"]


def fingerprint() -> str:
    """Hash of everything a costly block depends on (sources, scenarios, producers, examples)."""
    digest = hashlib.sha256()
    for folder in FINGERPRINTED:
        for path in sorted((ROOT / folder).rglob("*")):
            if path.is_file() and path.suffix in {".py", ".yaml", ".csv", ".json"}:
                digest.update(str(path.relative_to(ROOT)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def used_blocks() -> dict[str, list[Path]]:
    """Each block name found in the pages, with the pages using it."""
    found: dict[str, list[Path]] = {}
    for page in pages():
        for match in MARKER.finditer(page.read_text(encoding="utf-8")):
            found.setdefault(match["name"], []).append(page)
    return found


def body_hash(text: str) -> str:
    """A short hash of a block's text, recorded in the lock file."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def write_blocks(outputs: dict[str, str]) -> list[Path]:
    """Put each produced text between its markers; return the pages that changed."""

    def replace(match: re.Match[str]) -> str:
        if match["name"] not in outputs:
            return match[0]
        return match["open"] + outputs[match["name"]] + match["close"]

    changed = []
    for page in pages():
        text = page.read_text(encoding="utf-8")
        new = MARKER.sub(replace, text)
        if new != text:
            page.write_text(new, encoding="utf-8")
            changed.append(page)
    return changed


def current_bodies() -> dict[str, str]:
    """The text between the markers of every block in the pages."""
    bodies: dict[str, str] = {}
    for page in pages():
        for match in MARKER.finditer(page.read_text(encoding="utf-8")):
            bodies[match["name"]] = match["body"].rstrip("\n") + "\n"
    return bodies


def build(names: list[str]) -> int:
    """Run the producers of ``names``, write their blocks and record them in the lock file."""
    lock = json.loads(LOCK.read_text()) if LOCK.exists() else {}
    outputs: dict[str, str] = {}
    for name in names:
        started = time.perf_counter()
        outputs[name] = BLOCKS[name].produce().rstrip("\n") + "\n"
        print(f"{name}: {time.perf_counter() - started:.1f} s", flush=True)
    for page in write_blocks(outputs):
        print(f"updated {page.relative_to(ROOT)}")
    bodies, stamp = current_bodies(), fingerprint()
    for name in names:
        lock[name] = {"fingerprint": stamp, "body": body_hash(bodies[name])}
    LOCK.write_text(json.dumps(dict(sorted(lock.items())), indent=2) + "\n", encoding="utf-8")
    return 0


def check() -> int:
    """Exit status 1 with one line per stale, edited or unknown block."""
    lock = json.loads(LOCK.read_text()) if LOCK.exists() else {}
    bodies, stamp, problems = current_bodies(), fingerprint(), []
    for name, where in used_blocks().items():
        pages_ = ", ".join(str(p.relative_to(ROOT)) for p in where)
        if name not in BLOCKS:
            problems.append(f"{pages_}: no producer for the generated block {name!r}")
            continue
        if BLOCKS[name].cost == "cheap":
            try:
                produced = BLOCKS[name].produce().rstrip("\n") + "\n"
            except Exception as error:
                problems.append(f"{pages_}: block {name!r} cannot be produced: {error}")
                continue
            if produced != bodies[name]:
                problems.append(f"{pages_}: block {name!r} differs from what the code produces")
            continue
        entry = lock.get(name, {})
        if entry.get("body") != body_hash(bodies[name]):
            problems.append(f"{pages_}: block {name!r} was edited by hand; rebuild it")
        elif entry.get("fingerprint") != stamp:
            problems.append(f"{pages_}: block {name!r} is stale (the code changed); rebuild it")
    for problem in problems:
        print(problem)
    print(f"{len(used_blocks())} generated blocks checked, {len(problems)} problems")
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    """The command line of the docs build (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="blocks to build (default: all used ones)")
    parser.add_argument("--check", action="store_true", help="fail if the docs are stale")
    parser.add_argument("--list", action="store_true", help="list the blocks and exit")
    args = parser.parse_args(argv)
    for module in PRODUCERS:
        importlib.import_module(module)
    used = used_blocks()
    if args.list:
        for name, blk in sorted(BLOCKS.items()):
            where = ", ".join(str(p.relative_to(ROOT)) for p in used.get(name, [])) or "unused"
            print(f"{name:32} {blk.cost:7} {where}")
        return 0
    if args.check:
        return check()
    unknown = [n for n in args.names if n not in BLOCKS]
    if unknown:
        parser.error(f"unknown blocks: {', '.join(unknown)}; see --list")
    return build(args.names or [n for n in used if n in BLOCKS])


if __name__ == "__main__":
    sys.exit(main())
