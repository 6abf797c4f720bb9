"""Write the hostile-input corpus: scenario files that must each fail with one clear line.

    python tests/hostile/make_corpus.py

Every file is the valid scenario BASE with one thing broken (or none of it at all). The
expected line of each error is in ``EXPECTED`` of ``tests/test_hostile.py``; rerun this script
after changing BASE and check those lines.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).parent

BASE = """\
# A valid scenario; each corpus file breaks it in one place.
name: corpus
start_date: 2020-01-10
days: 20
seed: 1
population:
  scale: 1.0
  regions:
    - {name: North, population: 2500, communities: 4}
    - {name: South, population: 1500, communities: 3}
transmission:
  beta: {household: 0.03, community: 0.09, region: 0.12}
importation:
  prevalence:
    - [0, 0.001]
    - [20, 0.01]
  returnees:
    daily:
      - [0, 10]
      - [13, 30]
  lockdown: 13.4
  leakage: 0.02
  initial_infections: 5
mobility:
  roads:
    - {name: bridge, between: [North, South], length_km: 10}
  entry_roads:
    - {name: gate, region: North}
  trips:
    - {from: North, to: South, daily: 40}
measures:
  gate_check: {type: checkpoint, start: 5, road: gate, capacity: 50, sensitivity: 0.8}
  sites:
    type: quarantine_site
    start: 5
    sites:
      - {name: hotel, region: North, rooms: 20, staff: 4}
strategies:
  external: [gate_check]
  internal: [sites]
"""


def sub(old: str, new: str, text: str = BASE) -> str:
    """BASE with one exact substring replaced (it must occur)."""
    assert old in text, old
    return text.replace(old, new, 1)


def bomb(levels: int = 9, where: str = "population:\n  regions: *l{last}\n") -> str:
    """Billion laughs: ``levels`` anchors, each ten aliases of the one before."""
    lines = ["l0: &l0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    for k in range(1, levels):
        lines.append(f"l{k}: &l{k} [" + ", ".join([f"*l{k - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n" + where.format(last=levels - 1)


def many_returnees(n: int) -> str:
    points = "".join(f"      - [{k / 1000:.3f}, 1]\n" for k in range(n))
    return sub("      - [0, 10]\n      - [13, 30]\n", points + "      - [99, -1]\n")


TEXT: dict[str, str] = {
    # syntax
    "syntax-unclosed-flow.yaml": sub(
        "{name: South, population: 1500, communities: 3}",
        "{name: South, population: 1500, communities: 3",
    ),
    "syntax-bad-indent.yaml": sub("  initial_infections: 5", " initial_infections: 5"),
    "syntax-tab-indent.yaml": sub("  lockdown: 13.4", "\tlockdown: 13.4"),
    "syntax-duplicate-key.yaml": sub("seed: 1\n", "seed: 1\nseed: 2\n"),
    "syntax-two-documents.yaml": BASE + "---\nname: second\n",
    "syntax-empty.yaml": "",
    "syntax-only-comments.yaml": "# nothing here\n# at all\n",
    "syntax-top-level-list.yaml": "- name: corpus\n- days: 20\n",
    "syntax-top-level-scalar.yaml": "just a sentence\n",
    "syntax-unterminated-string.yaml": sub("name: corpus", 'name: "corpus'),
    "syntax-impossible-date.yaml": sub("start_date: 2020-01-10", "start_date: 2020-02-30"),
    "syntax-undefined-alias.yaml": sub("seed: 1", "seed: *nowhere"),
    # types
    "type-days-word.yaml": sub("days: 20", "days: twenty"),
    "type-population-list.yaml": sub("population: 2500", "population: [2500]"),
    "type-regions-mapping.yaml": sub(
        "  regions:\n    - {name: North, population: 2500, communities: 4}\n"
        "    - {name: South, population: 1500, communities: 3}\n",
        "  regions: {North: 2500, South: 1500}\n",
    ),
    "type-beta-word.yaml": sub("region: 0.12", "region: fast"),
    "type-measures-list.yaml": BASE[: BASE.index("measures:")]
    + "measures: [gate_check, sites]\nstrategies:\n  none: []\n",
    "type-unknown-key.yaml": sub("days: 20\n", "days: 20\nhorizon: 30\n"),
    "type-unknown-measure-type.yaml": sub("type: checkpoint", "type: teleporter"),
    "type-python-tag.yaml": sub("seed: 1", 'seed: !!python/object/apply:os.system ["echo hi"]'),
    "type-custom-tag.yaml": sub("seed: 1", "seed: !include other.yaml"),
    # ranges
    "range-negative-population.yaml": sub("population: 1500", "population: -1500"),
    "range-scale-zero.yaml": sub("scale: 1.0", "scale: 0"),
    "range-fraction-above-one.yaml": sub("leakage: 0.02", "leakage: 1.5"),
    "range-dt-not-a-divisor.yaml": sub("seed: 1\n", "seed: 1\ndt: 0.3\n"),
    "range-days-zero.yaml": sub("days: 20", "days: 0"),
    "range-window-reversed.yaml": sub(
        "start: 5, road: gate", "start: 9, end: 2020-01-12, road: gate"
    ),
    "range-too-many-initial-infections.yaml": sub(
        "initial_infections: 5", "initial_infections: 4001"
    ),
    "range-population-of-a-planet.yaml": sub("population: 2500", "population: 1e12"),
    "range-days-of-an-age.yaml": sub("days: 20", "days: 1000000000"),
    "range-negative-seed.yaml": sub("seed: 1", "seed: -1"),
    "range-unknown-region.yaml": sub("{from: North, to: South", "{from: North, to: Atlantis"),
    # aliases
    "alias-bomb-in-regions.yaml": bomb(),
    "alias-bomb-in-description.yaml": bomb(where="description: *l{last}\n"),
    "alias-bomb-of-mappings.yaml": (
        "m0: &m0 {a: 1, b: 1, c: 1, d: 1, e: 1, f: 1, g: 1, h: 1, i: 1, j: 1}\n"
        + "".join(
            f"m{k}: &m{k} {{" + ", ".join(f"k{j}: *m{k - 1}" for j in range(10)) + "}\n"
            for k in range(1, 9)
        )
        + BASE.replace("measures:\n", "unused: *m8\nmeasures:\n")
    ),
    "alias-bomb-in-unknown-key.yaml": BASE + bomb(where="horizon: *l{last}\n"),
    # nesting
    "nesting-flow-deep.yaml": sub("seed: 1", "seed: " + "[" * 5000 + "]" * 5000),
    "nesting-block-deep.yaml": BASE
    + "".join("  " * k + f"k{k}:\n" for k in range(200))
    + "  " * 200
    + "x: 1\n",
    "nesting-mapping-flow-deep.yaml": sub("seed: 1", "seed: " + "{a: " * 3000 + "1" + "}" * 3000),
    # size
    "size-over-the-limit.yaml": BASE
    + "description: >\n  "
    + "the quick brown fox " * 60_000
    + "\n",
    "size-many-values.yaml": many_returnees(2_000),
    # names
    "name-path-traversal.yaml": sub("name: corpus", "name: ../../../../x"),
    "name-dot-dot.yaml": sub("name: corpus", "name: '..'"),
    "name-strategy-traversal.yaml": sub(
        "  external: [gate_check]", "  ../../../../x: [gate_check]"
    ),
    "name-region-formula.yaml": BASE.replace("South", "'=HYPERLINK(\"http://x\")'"),
    "name-measure-formula.yaml": BASE.replace("gate_check", "'+cmd'"),
    "name-site-formula.yaml": sub("{name: hotel,", "{name: '@SUM(1)',"),
    "name-road-slash.yaml": BASE.replace("bridge", "a/b"),
    "name-empty.yaml": sub("name: corpus", 'name: ""'),
    "name-too-long.yaml": sub("name: corpus", "name: " + "x" * 200),
    "name-control-character.yaml": sub("name: corpus", 'name: "cor\\u0007pus"'),
    # numbers
    "number-nan.yaml": sub("region: 0.12", "region: .nan"),
    "number-inf-returnees.yaml": sub("- [13, 30]", "- [13, .inf]"),
    "number-minus-inf.yaml": sub("lockdown: 13.4", "lockdown: -.inf"),
    "number-huge-capacity.yaml": sub("capacity: 50", "capacity: 1e308"),
    "number-overflow-to-inf.yaml": sub("capacity: 50", "capacity: 1e400"),
    "number-huge-int.yaml": sub("rooms: 20", "rooms: 1000000000000000000000000000000"),
    "number-too-many-digits.yaml": sub("seed: 1", "seed: " + "9" * 5000),
    "number-tiny-dt.yaml": sub("seed: 1\n", "seed: 1\ndt: 1e-300\n"),
}

BYTES: dict[str, bytes] = {
    "encoding-latin1.yaml": sub("name: North", "name: Nörth")
    .replace("North", "Nörth")
    .encode("latin-1"),
    "encoding-utf16.yaml": BASE.encode("utf-16"),
    "encoding-utf16-without-bom.yaml": BASE.encode("utf-16-le"),
    "encoding-bad-byte-in-comment.yaml": BASE.replace("# A valid", "# A \udcff valid").encode(
        "utf-8", "surrogateescape"
    ),
    "encoding-binary.yaml": bytes(range(256)) * 4,
    "encoding-nul-byte.yaml": sub("seed: 1", "seed: 1\x00").encode(),
}


def main() -> None:
    for name, text in TEXT.items():
        (HERE / name).write_text(text, encoding="utf-8")
    for name, data in BYTES.items():
        (HERE / name).write_bytes(data)
    print(f"wrote {len(TEXT) + len(BYTES)} files to {HERE}")


if __name__ == "__main__":
    main()
