import re
import shutil
import subprocess

import pytest
from matplotlib.image import imread

from skntl.cli import main

SPEC = """
name = "cli"
seeds = 2
[params.TCA]
n_components = 10
[[grid]]
tasks = ["surf:C->A"]
methods = ["TCA"]
eps = 0.5
"""


@pytest.mark.slow  # a subprocess
def test_console_script_is_installed():
    exe = shutil.which("skntl")
    assert exe is not None
    out = subprocess.run([exe, "--help"], capture_output=True, text=True, check=True).stdout
    assert all(cmd in out for cmd in ("demo", "run", "table", "figure"))


def test_run_list_shows_the_bundled_specs(capsys):
    assert main(["run", "--list"]) == 0
    out = capsys.readouterr().out
    for name in ("demo", "table1", "table2", "table3", "table4", "figure3", "figure4"):
        assert re.search(rf"^{name}\s+\d+ runs", out, re.M), name


@pytest.mark.slow
def test_run_then_dry_run_then_table(tmp_path, capsys):
    spec = tmp_path / "cli.toml"
    spec.write_text(SPEC)
    store = tmp_path / "cli.sqlite"
    assert main(["run", str(spec), "--results", str(store), "--n-jobs", "1", "--no-progress"]) == 0
    assert "4 runs: 0 already in" in capsys.readouterr().out
    assert main(["run", str(spec), "--results", str(store), "--dry-run"]) == 0
    assert "cli: 4 runs, 0 pending" in capsys.readouterr().out
    assert main(["table", "2", str(store)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "| method | surf:C->A | Avg |"
    assert re.search(r"^\| TCA \| \d+\.\d \(-?\d+\.\d\) \|", out, re.M)


def test_table_and_figure_errors_are_one_line(fixture_store, capsys, tmp_path):
    assert main(["table", "2", str(fixture_store.path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("skntl table: error:") and "single setting" in err
    assert main(["table", "1", str(tmp_path / "none.sqlite")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["run", "table9"]) == 2
    assert "bundled spec" in capsys.readouterr().err


@pytest.mark.slow
def test_figure_and_table_files(fixture_store, tmp_path, capsys):
    png = tmp_path / "f3.png"
    assert main(["figure", "3", str(fixture_store.path), "--task", "surf:C->A", "--eps", "0.3",
                 "--labeled-ratio", "0.1", "--cap", "0", "-o", str(png)]) == 0
    assert imread(png).shape[1] > 400
    md = tmp_path / "t1.md"
    assert main(["table", "1", str(fixture_store.path), "-o", str(md)]) == 0
    assert md.read_text().startswith("| task | L% |")


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_demo_prints_the_answer_and_writes_the_weights_png(tmp_path, capsys):
    out_dir = tmp_path / "demo"
    assert main(["demo", "--seeds", "1", "--out", str(out_dir), "--no-progress"]) == 0
    out = capsys.readouterr().out
    rows = {m[0]: m for m in re.findall(
        r"^(DANN\S*)\s+(\d+\.\d) ±\s+(\S+)\s*(-?\d+\.\d)?\s*([+-]\d+\.\d)?$", out, re.M)}
    assert set(rows) == {"DANN", "DANN_gate", "DANN_T"}
    acc = {k: float(v[1]) for k, v in rows.items()}
    # NTG = acc(DANN_T) - acc(model); Δ = acc(DANN_gate) - acc(DANN), as printed (±0.1 rounding)
    assert float(rows["DANN"][3]) == pytest.approx(acc["DANN_T"] - acc["DANN"], abs=0.11)
    assert float(rows["DANN_gate"][4]) == pytest.approx(acc["DANN_gate"] - acc["DANN"], abs=0.11)
    png = out_dir / "demo_weights.png"
    assert png.stat().st_size > 10_000
    # a second call finds every run in the store
    assert main(["demo", "--seeds", "1", "--out", str(out_dir), "--no-progress"]) == 0
    assert "3 runs: 3 already in" in capsys.readouterr().out


def test_run_with_another_joblib_backend(tmp_path, capsys):
    spec = tmp_path / "cli.toml"
    spec.write_text(SPEC.replace("surf:C->A", "surf:D->W"))
    store = tmp_path / "b.sqlite"
    assert main(["run", str(spec), "--results", str(store), "--backend", "threading",
                 "--n-jobs", "2", "--no-progress"]) == 0
    assert "4 runs: 0 already in" in capsys.readouterr().out
