"""The examples run as documented."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).parents[1] / "examples"


def test_run_default_example(tmp_path: Path) -> None:
    out = tmp_path / "example"
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / "01_run_default.py"), "--scale", "0.02", "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "infections by region" in proc.stdout
    assert (out / "summary.json").exists() and (out / "epidemic_curve.png").exists()
