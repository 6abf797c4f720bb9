"""Release hygiene: one version everywhere, a versioned changelog, a complete citation."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import containment_sim

ROOT = Path(__file__).parents[1]


def test_an_uninstalled_checkout_reports_its_version(tmp_path: Path) -> None:
    src = ROOT / "src"
    code = (
        f"import sys; sys.path.insert(0, {str(src)!r}); import containment_sim as cs; "
        "print(cs.__version__); print(cs.__file__)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    version, where = proc.stdout.split()
    assert version == containment_sim.__version__
    assert Path(where).is_relative_to(src)
    assert re.fullmatch(r"\d+\.\d+\.\d+", version), "a released version"


def test_the_changelog_is_versioned() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## (.+)$", text, flags=re.MULTILINE)
    assert headings[0] == "Unreleased"
    version, _, date = headings[1].partition(" — ")
    assert version == containment_sim.__version__
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", date)


def test_the_citation_is_complete_and_current() -> None:
    from ruamel.yaml import YAML

    cff = YAML(typ="safe").load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    required = {"cff-version", "message", "title", "version", "date-released", "authors",
                "license", "abstract", "keywords"}  # fmt: skip
    assert required <= set(cff)
    assert str(cff["version"]) == containment_sim.__version__
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"## {cff['version']} — {cff['date-released']}" in changelog
    assert cff["authors"] and cff["keywords"] and len(cff["abstract"]) > 100
