"""The hostile-input corpus: every file fails with one line naming it, quickly and in little memory.

The files in ``tests/hostile/`` are written by ``tests/hostile/make_corpus.py``: syntax, types,
ranges, aliases, nesting, size, encodings, names and numbers (NaN, infinite, huge, tiny).
``EXPECTED`` holds the line each error names (``None``: the problem has no single line).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from containment_sim.cli import main

CORPUS = Path(__file__).parent / "hostile"
SECONDS = 10.0
MEGABYTES = 300.0

EXPECTED: dict[str, int | None] = {
    "alias-bomb-in-description.yaml": 6, "alias-bomb-in-regions.yaml": 6,
    "alias-bomb-in-unknown-key.yaml": 46, "alias-bomb-of-mappings.yaml": 5,
    "encoding-bad-byte-in-comment.yaml": 1, "encoding-binary.yaml": 2, "encoding-latin1.yaml": 9,
    "encoding-nul-byte.yaml": 5, "encoding-utf16-without-bom.yaml": 1, "encoding-utf16.yaml": 1,
    "name-control-character.yaml": 2, "name-dot-dot.yaml": 2, "name-empty.yaml": 2,
    "name-measure-formula.yaml": 32, "name-path-traversal.yaml": 2,
    "name-region-formula.yaml": 10, "name-road-slash.yaml": 26, "name-site-formula.yaml": 37,
    "name-strategy-traversal.yaml": 39, "name-too-long.yaml": 2, "nesting-block-deep.yaml": 81,
    "nesting-flow-deep.yaml": 5, "nesting-mapping-flow-deep.yaml": 5,
    "number-huge-capacity.yaml": 32, "number-huge-int.yaml": 37,
    "number-inf-returnees.yaml": 20, "number-minus-inf.yaml": 21, "number-nan.yaml": 12,
    "number-overflow-to-inf.yaml": 32, "number-tiny-dt.yaml": 6,
    "number-too-many-digits.yaml": 5, "range-days-of-an-age.yaml": None, "range-days-zero.yaml": 4,
    "range-dt-not-a-divisor.yaml": 6, "range-fraction-above-one.yaml": 22,
    "range-negative-population.yaml": 10, "range-negative-seed.yaml": 5,
    "range-population-of-a-planet.yaml": None, "range-scale-zero.yaml": 7,
    "range-too-many-initial-infections.yaml": 23, "range-unknown-region.yaml": 30,
    "range-window-reversed.yaml": 32, "size-many-values.yaml": 2019,
    "size-over-the-limit.yaml": None, "syntax-bad-indent.yaml": 23,
    "syntax-duplicate-key.yaml": 6, "syntax-empty.yaml": 1, "syntax-impossible-date.yaml": 3,
    "syntax-only-comments.yaml": 1, "syntax-tab-indent.yaml": 21,
    "syntax-top-level-list.yaml": 1, "syntax-top-level-scalar.yaml": 1,
    "syntax-two-documents.yaml": 41, "syntax-unclosed-flow.yaml": 11,
    "syntax-undefined-alias.yaml": 5, "syntax-unterminated-string.yaml": 41,
    "type-beta-word.yaml": 12, "type-custom-tag.yaml": 5, "type-days-word.yaml": 4,
    "type-measures-list.yaml": 31, "type-population-list.yaml": 9, "type-python-tag.yaml": 5,
    "type-regions-mapping.yaml": 8, "type-unknown-key.yaml": 5,
    "type-unknown-measure-type.yaml": 31,
}  # fmt: skip

FILES = sorted(EXPECTED)


def test_the_corpus_has_every_file_and_at_least_forty() -> None:
    on_disk = sorted(p.name for p in CORPUS.glob("*.yaml"))
    assert on_disk == FILES
    assert len(FILES) >= 40
    kinds = {name.split("-")[0] for name in FILES}
    assert kinds == {"syntax", "type", "range", "alias", "nesting", "size", "encoding", "name",
                     "number"}  # fmt: skip


def check_one_line(name: str, code: int, err: str) -> None:
    path = str(CORPUS / name)
    assert code == 2, (name, err)
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, lines
    line = EXPECTED[name]
    prefix = f"{path}:{line}: " if line is not None else f"{path}: "
    assert lines[0].startswith(prefix), (lines[0], prefix)
    for internal in ("Commented", "Tagged", "Scalar", "ordereddict", "Error("):
        assert internal not in lines[0], lines[0]


def _rss_megabytes(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def _reset_peak() -> bool:
    """Reset this process's peak RSS (Linux ``clear_refs``); False where not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


@pytest.mark.parametrize("name", FILES)
def test_a_hostile_file_fails_in_one_line_quickly(name: str, capsys) -> None:
    measured = _reset_peak()
    before = _rss_megabytes("VmRSS")
    started = time.perf_counter()
    code = main(["validate", str(CORPUS / name)])
    elapsed = time.perf_counter() - started
    grown = _rss_megabytes("VmHWM") - before
    captured = capsys.readouterr()
    check_one_line(name, code, captured.err)
    assert captured.out == ""
    assert elapsed < SECONDS, f"{name}: {elapsed:.1f} s"
    if measured:
        assert grown < MEGABYTES, f"{name}: {grown:.0f} MB"


_PEAK = """
import atexit, os, runpy, sys

def _peak():
    with open("/proc/self/status") as status, open(os.environ["PEAK_FILE"], "w") as out:
        out.write(next(line for line in status if line.startswith("VmHWM")).split()[1])

atexit.register(_peak)
sys.argv = ["containment-sim", *sys.argv[1:]]
runpy.run_module("containment_sim", run_name="__main__", alter_sys=True)
"""
"""Runs the command line and, at exit, writes the process's own peak RSS (kB) to PEAK_FILE.
The peak is read from /proc (``VmHWM`` belongs to the new process image), not from
``ru_maxrss``, which Linux carries over from the forked parent across ``exec``."""


def _run_cli(name: str, out: Path) -> tuple[int, str, float, float]:
    """``containment-sim run FILE`` in a fresh process: exit code, stderr, seconds, peak MB."""
    started = time.perf_counter()
    peak = out.with_suffix(".peak")
    proc = subprocess.run(
        [sys.executable, "-c", _PEAK, "run", str(CORPUS / name), "--out", str(out)],
        capture_output=True,
        text=True,
        env={**os.environ, "PEAK_FILE": str(peak)},
        check=False,
    )
    seconds = time.perf_counter() - started
    return proc.returncode, proc.stderr, seconds, int(peak.read_text()) / 1024


@pytest.mark.slow
def test_every_hostile_file_fails_the_same_way_in_a_fresh_process(tmp_path: Path) -> None:
    with ThreadPoolExecutor(2) as pool:
        outcomes = dict(
            zip(FILES, pool.map(lambda n: _run_cli(n, tmp_path / n), FILES), strict=True)
        )
    for name, (code, err, seconds, megabytes) in outcomes.items():
        check_one_line(name, code, err)
        assert seconds < SECONDS, f"{name}: {seconds:.1f} s"
        assert megabytes < MEGABYTES, f"{name}: {megabytes:.0f} MB"
        assert not (tmp_path / name).exists(), "nothing written"
