"""The command line, run as a user would: exit codes, messages, files written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from containment_sim.cli import main


def test_run_writes_results_and_plot(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    assert main(["run", "small", "--days", "30", "--out", str(out)]) == 0
    charts = {"epidemic_curve.png", "epidemic_curve.svg", "epidemic_curve.pdf"}
    assert {"summary.json", "timeseries.csv", "timeseries_by_region.csv", *charts} <= {
        p.name for p in out.iterdir()
    }
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]
    printed = capsys.readouterr().out
    assert "infections" in printed and "peak" in printed
    summary = json.loads((out / "summary.json").read_text())
    assert summary["days"] == 30


def test_bare_run_uses_the_builtin_default(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    # the default scenario at a small scale (the full-scale run is in benchmarks/)
    assert main(["run", "--scale", "0.01", "--days", "20", "--no-plot", "--quiet"]) == 0
    summary = json.loads((tmp_path / "results" / "xianning" / "summary.json").read_text())
    assert summary["scenario_name"] == "xianning" and summary["scale"] == 0.01


def test_unknown_key_exits_2_with_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    text = Path(__file__).parents[1].joinpath("scenarios", "small.yaml").read_text()
    bad.write_text(text.replace("days: 90", "days: 90\nhorizon: 12"))
    proc = subprocess.run(
        [sys.executable, "-m", "containment_sim", "run", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"{bad}:6: horizon: unknown key 'horizon'")
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "results").exists()


def test_bad_override_exits_2(capsys) -> None:
    assert main(["run", "small", "--scale", "1.5"]) == 2
    assert "--scale" in capsys.readouterr().err


def test_validate_schema_init(tmp_path: Path, capsys) -> None:
    assert main(["validate", "small"]) == 0
    assert "valid scenario 'small'" in capsys.readouterr().out
    assert main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "Scenario"
    target = tmp_path / "mine.yaml"
    assert main(["init", str(target), "--from", "small"]) == 0
    assert main(["validate", str(target)]) == 0
    assert main(["init", str(target)]) == 2


def test_init_names_the_scenario_after_the_file(tmp_path: Path, capsys) -> None:
    target = tmp_path / "my-city.yaml"
    assert main(["init", str(target)]) == 0
    assert '\nname: "my-city"\n' in target.read_text()
    capsys.readouterr()
    assert main(["validate", str(target)]) == 0
    assert "valid scenario 'my-city'" in capsys.readouterr().out
    assert main(["init", str(tmp_path / "..bad.yaml")]) == 2


# Every failure: one line on stderr, exit 2 for bad input, 1 for a fault, never a traceback.

QUICK = ["--days", "10", "--no-plot", "--quiet"]


def one_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_an_existing_results_folder_is_refused_then_replaced_whole(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    assert main(["run", "small", *QUICK, "--out", str(out)]) == 0
    (out / "checkpoints.csv").write_text("from an earlier run")
    (out / "epidemic_curve.png").write_text("an old chart")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert main(["run", "small", *QUICK, "--out", str(out)]) == 2
    assert one_line(capsys) == f"{out}: already holds results; add --force to replace them"
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert main(["run", "small", *QUICK, "--out", str(out), "--force"]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "summary.json", "timeseries.csv", "timeseries_by_region.csv"
    ], "nothing of the earlier run is left"  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"], "no staging folder left"


def test_default_folders_stay_inside_results(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    text = Path(__file__).parents[1].joinpath("scenarios", "small.yaml").read_text()
    scenario = tmp_path / "s.yaml"
    scenario.write_text(text.replace("  none: []", "  none: []\n  ../../../../x: []"))
    assert main(["run", str(scenario), "--strategy", "../../../../x", *QUICK]) == 2
    scenario.write_text(text.replace("  none: []", "  none: []\n  mine: []"))
    assert main(["run", str(scenario), "--strategy", "mine", *QUICK]) == 0
    assert [p.name for p in (tmp_path / "results").iterdir()] == ["small-mine"]


def test_an_unwritable_out_is_found_before_the_run(tmp_path: Path, capsys, monkeypatch) -> None:
    import containment_sim.cli as cli

    ran = []
    monkeypatch.setattr(cli, "run", lambda *a, **k: ran.append(1))
    (tmp_path / "file").write_text("x")
    assert main(["run", "small", *QUICK, "--out", str(tmp_path / "file" / "out")]) == 2
    assert one_line(capsys).startswith(f"{tmp_path / 'file' / 'out'}: cannot write there:")
    assert ran == []


def test_usage_errors_are_one_line(capsys) -> None:
    assert main(["run", "small", "--days", "many"]) == 2
    line = one_line(capsys)
    assert line.startswith("containment-sim run: argument --days: invalid int value")
    assert main(["compare", "small", "--workers", "0"]) == 2
    assert "--workers: must be at least 1" in one_line(capsys)
    assert main(["compare", "small", "--replicates", "10000000"]) == 2
    assert "must be at most 100,000" in one_line(capsys)
    assert main(["nonsense"]) == 2
    assert "invalid choice" in one_line(capsys)
    assert main(["run", "small", "--max-file-size", "lots"]) == 2
    assert "expected a size such as 5MB" in one_line(capsys)


def test_a_file_over_the_size_limit_can_be_allowed(tmp_path: Path, capsys) -> None:
    text = Path(__file__).parents[1].joinpath("scenarios", "small.yaml").read_text()
    big = tmp_path / "big.yaml"
    big.write_text(text + "#" * 300_000 + "\n")
    assert main(["validate", str(big)]) == 2
    assert "larger than the limit of 256 kB" in one_line(capsys)
    assert main(["validate", str(big), "--max-file-size", "1MB"]) == 0


def test_bad_yaml_in_a_param_is_one_line(tmp_path: Path, capsys) -> None:
    args = ["sweep", "small", "--replicates", "1", *QUICK, "--out", str(tmp_path / "sw")]
    assert main([*args, "--param", "transmission.beta.region=[1"]) == 2
    line = one_line(capsys)
    assert line.startswith("command line: --param: transmission.beta.region: cannot read '[1'")
    assert main([*args, "--param", "transmission.beta.region=.nan"]) == 2
    assert "finite number" in one_line(capsys)
    assert main([*args, "--param", "transmission.beta.nope=1"]) == 2
    assert "unknown key 'nope'; allowed keys: household" in one_line(capsys)
    assert not (tmp_path / "sw").exists()


def test_plot_refuses_a_truncated_or_corrupted_folder(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    assert main(["run", "small", *QUICK, "--out", str(out)]) == 0
    table = out / "timeseries.csv"
    text = table.read_text()
    table.write_text(text[: len(text) // 2])
    assert main(["plot", str(out)]) == 2
    assert "rows, but the folder's document says 10" in one_line(capsys)
    table.write_bytes(b"\x00\xff" * 100)
    assert main(["plot", str(out)]) == 2
    assert "cannot read the table" in one_line(capsys)
    (out / "summary.json").write_text('{"scenario": 3')
    assert main(["plot", str(out)]) == 2
    assert "not a valid JSON document" in one_line(capsys)
    assert not (out / "epidemic_curve.png").exists()


def test_plot_redraws_into_a_whole_new_folder(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    assert main(["run", "small", "--days", "10", "--quiet", "--out", str(out)]) == 0
    (out / "stale.png").write_text("an old chart")
    data = {p.name: p.read_bytes() for p in out.iterdir() if p.suffix == ".csv"}
    assert main(["plot", str(out)]) == 0
    assert capsys.readouterr().out.split() == [
        str(out / f"epidemic_curve.{fmt}") for fmt in ("png", "svg", "pdf")
    ]
    assert not (out / "stale.png").exists()
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.suffix == ".csv"} == data


@pytest.mark.dask
def test_an_unreachable_scheduler_is_one_line(capsys, monkeypatch) -> None:
    import containment_sim.runner as runner

    pytest.importorskip("distributed")  # the dask extra
    monkeypatch.setattr(runner, "DASK_CONNECT_SECONDS", 1)
    args = ["compare", "small", "--replicates", "1", *QUICK, "--scheduler", "tcp://127.0.0.1:9"]
    assert main(args) == 2
    assert one_line(capsys).startswith("cannot reach the Dask scheduler at tcp://127.0.0.1:9")


def test_workers_are_capped_at_the_cores(tmp_path: Path, capsys) -> None:
    from containment_sim.cli_support import cores

    args = ["compare", "small", "--strategies", "none", "--replicates", "2", *QUICK]
    assert main([*args, "--workers", "1000", "--out", str(tmp_path / "a")]) == 0
    if cores() < 2:
        assert f"--workers 1000: using {cores()}" in capsys.readouterr().err


def test_faults_are_one_line_with_exit_1(tmp_path: Path, capsys, monkeypatch) -> None:
    import containment_sim.cli as cli
    from containment_sim.errors import InvariantError

    def broken(*args, **kwargs):
        raise InvariantError("quarantine site above capacity")

    monkeypatch.setattr(cli, "run", broken)
    assert main(["run", "small", *QUICK, "--out", str(tmp_path / "a")]) == 1
    assert one_line(capsys) == "error: quarantine site above capacity"
    monkeypatch.setattr(cli, "run", lambda *a, **k: {}["surprise"])
    assert main(["run", "small", *QUICK, "--out", str(tmp_path / "a")]) == 1
    assert one_line(capsys) == "internal error: KeyError: 'surprise'"
    assert not (tmp_path / "a").exists() and list(tmp_path.iterdir()) == []


def test_ctrl_c_during_a_run_writes_nothing(tmp_path: Path, capsys, monkeypatch) -> None:
    import containment_sim.cli as cli

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "run", interrupted)
    assert main(["run", "small", *QUICK, "--out", str(tmp_path / "a")]) == 130
    assert one_line(capsys) == "interrupted; nothing was written"
    assert list(tmp_path.iterdir()) == []


def test_init_into_an_unwritable_place_is_one_line(tmp_path: Path, capsys) -> None:
    (tmp_path / "file").write_text("x")
    assert main(["init", str(tmp_path / "file" / "new.yaml")]) == 2
    assert one_line(capsys).startswith(f"{tmp_path / 'file' / 'new.yaml'}: cannot write:")


def test_help_and_validate_do_not_import_the_simulation() -> None:
    code = (
        "import sys\n"
        "from containment_sim.cli import main\n"
        "for argv in (['--help'], ['run', '--help'], ['validate', 'small']):\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "    heavy = ['pandas', 'scipy', 'simpy', 'matplotlib', 'containment_sim.engines']\n"
        "    print('imported:', argv[0], [m for m in heavy if m in sys.modules])\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("imported:")]
    assert lines == ["imported: --help []", "imported: run []", "imported: validate []"]
