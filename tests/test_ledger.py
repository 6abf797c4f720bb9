"""The ledger of finished runs: exact round trips, atomic files, safe reading."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from containment_sim.ledger import Entry, Ledger


def awkward_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "strategy": ["none", "a b", "咸安"],
            "replicate": np.array([0, 1, 2], dtype=np.int64),
            "r_t": [np.nan, 1 / 3, 1e-300],
            "occupancy": pd.Series([1.0, np.nan, 3.0]),
            "whole": np.array([1, 2, 3], dtype=np.int32),
            "flag": [True, False, True],
            "nullable": pd.Series([1.5, None, 2.0], dtype="Float64"),
            "text_with_gap": pd.Series(["x", None, "z"], dtype=object),
        }
    )


def test_an_entry_comes_back_exactly(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger")
    frame = awkward_frame()
    document = {"label": "none", "summary": {"peak": 0.1 + 0.2, "day": None, "ok": True}}
    key = Ledger.key({"label": "none", "seed": 7})
    ledger.put(key, Entry(document, {"curves": frame}))
    back = ledger.get(key)
    assert back is not None and back.document == document
    pd.testing.assert_frame_equal(back.frames["curves"], frame, check_exact=True)
    assert back.frames["curves"].to_csv() == frame.to_csv()
    assert len(ledger) == 1


def test_keys_follow_the_identity_only(tmp_path: Path) -> None:
    assert Ledger.key({"a": 1, "b": [1, 2]}) == Ledger.key({"b": [1, 2], "a": 1})
    assert Ledger.key({"a": 1}) != Ledger.key({"a": 2})
    assert len(Ledger.key({"a": 1})) == 40


def test_a_missing_or_damaged_file_is_a_run_not_yet_done(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    assert ledger.get("nothing") is None
    (tmp_path / "broken.npz").write_bytes(b"PK\x03\x04 not really a zip")
    assert ledger.get("broken") is None
    ledger.put("good", Entry({"x": 1}))
    (tmp_path / "good.npz").write_bytes((tmp_path / "good.npz").read_bytes()[:50])
    assert ledger.get("good") is None


def test_a_ledger_never_unpickles(tmp_path: Path) -> None:
    np.savez(tmp_path / "evil.npz", meta=np.array([object()], dtype=object))
    assert Ledger(tmp_path).get("evil") is None


def test_files_appear_complete_and_leave_no_temporary_behind(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l")
    for k in range(3):
        ledger.put(f"k{k}", Entry({"k": k}, {"f": awkward_frame()}))
    assert sorted(p.name for p in (tmp_path / "l").iterdir()) == ["k0.npz", "k1.npz", "k2.npz"]
    ledger.discard()
    assert not (tmp_path / "l").exists() and len(ledger) == 0


def test_ctrl_c_during_a_write_waits_for_the_file(tmp_path: Path, monkeypatch) -> None:
    import signal

    import containment_sim.ledger as ledger_module

    real = np.savez

    def interrupted_savez(stream, **arrays):
        signal.raise_signal(signal.SIGINT)  # Ctrl-C in the middle of the write
        real(stream, **arrays)

    monkeypatch.setattr(ledger_module.np, "savez", interrupted_savez)
    # Ctrl-C as in a terminal, even when this process was started with SIGINT ignored (as a
    # background job of a shell script is)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    ledger = Ledger(tmp_path)
    try:
        with pytest.raises(KeyboardInterrupt):
            ledger.put("k", Entry({"x": 1}, {"f": awkward_frame()}))
    finally:
        signal.signal(signal.SIGINT, previous)
    monkeypatch.setattr(ledger_module.np, "savez", real)
    back = ledger.get("k")
    assert back is not None and back.document == {"x": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k.npz"]
