"""The examples run as plain scripts with their flags and print what they promise.

The documentation build runs them again in the gallery, with ``SKNTL_GALLERY=1``
(docs/conf.py); here they run as a user runs them, so that variable is removed.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

# Every test runs an example as a script in a fresh interpreter: 5-35 s each.
pytestmark = pytest.mark.slow

ENV = {k: v for k, v in os.environ.items() if k != "SKNTL_GALLERY"} | {"MPLBACKEND": "Agg"}


def _run_example(path, *flags):
    """Run an example as a user does and return what it printed."""
    return subprocess.run(
        [sys.executable, str(path), *flags],
        capture_output=True, text=True, check=True, timeout=300, env=ENV,
    ).stdout


EXAMPLE = Path(__file__).parents[1] / "examples" / "conventional" / "plot_tca_kmm_office_caltech.py"


def test_office_caltech_example_prints_accuracy_and_ntg():
    out = _run_example(EXAMPLE, "--seeds", "2")
    rows = [line.split() for line in out.splitlines() if re.match(r"^[CADW]→[CADW] ", line)]
    assert len(rows) == 4 * 3  # 4 tasks x (TCA, KMM, LogReg)
    for _task, method, acc, _pm, _std, acc_t, ntg, _secs in rows:
        assert method in {"TCA", "KMM", "LogReg"}
        # NTG = acc(A(∅,T)) - acc(A(S,T)), both printed in %
        assert abs(float(ntg) - (float(acc_t) - float(acc))) <= 0.11
        assert 0 <= float(acc) <= 100 and 0 <= float(acc_t) <= 100


DEEP_EXAMPLE = Path(__file__).parents[1] / "examples" / "deep" / "plot_dann_gate.py"


def test_dann_gate_example_prints_accuracy_ntg_and_weights():
    out = _run_example(DEEP_EXAMPLE, "--seeds", "2", "--tasks", "office", "--max-epochs", "2",
                       "--threads", "1")
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines()
            if re.match(r"^  DANN", line)}
    assert set(rows) == {"DANN", "DANN_gate", "DANN_oracle", "DANN_T"}
    acc_t = float(rows["DANN_T"][0])
    for name in ("DANN", "DANN_gate", "DANN_oracle"):
        acc, _std, ntg = map(float, rows[name])
        assert abs(ntg - (acc_t - acc)) <= 0.11  # NTG = acc(A(∅,T)) - acc(A(S,T))
    assert re.search(r"clean \d+\.\d+, x only \d+\.\d+, y only \d+\.\d+, x and y \d+", out)


def test_readme_ten_line_example_runs():
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Ten lines", 1)[1].split("```python", 1)[1].split("```", 1)[0]
    namespace = {}
    exec(compile(block, "README.md", "exec"), namespace)
    # NTG is a difference of two accuracies, in [-1, 1]
    assert -1 <= namespace["ntg"] <= 1
    safe = namespace["safe"]
    assert safe.choice_ in ("transfer", "target only")
    assert safe.estimator_.score(namespace["Xt_test"], namespace["yt_test"]) == safe.score(
        namespace["Xt_test"], namespace["yt_test"])
    assert namespace["ntg"] == (
        namespace["twin"].score(namespace["Xt_test"], namespace["yt_test"])
        - namespace["tca"].score(namespace["Xt_test"], namespace["yt_test"])
    )


ALL_DEEP_EXAMPLE = Path(__file__).parents[1] / "examples" / "deep" / "plot_deep_methods.py"


def test_all_deep_methods_example_prints_every_method_with_and_without_gate():
    out = _run_example(ALL_DEEP_EXAMPLE, "--seeds", "1", "--tasks", "office", "--max-epochs", "1",
                       "--threads", "1")
    rows = {line.split()[0]: list(map(float, line.split()[1:])) for line in out.splitlines()
            if re.match(r"^  (DANN|DAN|DeepCORAL|ADDA|PADA|GTA) ", line)}
    assert set(rows) == {"DANN", "DAN", "DeepCORAL", "ADDA", "PADA", "GTA"}
    for acc, gated, twin, ntg, ntg_g, delta, d_clean, d_pert in rows.values():
        assert abs(ntg - (twin - acc)) <= 0.11 and abs(ntg_g - (twin - gated)) <= 0.11
        assert abs(delta - (gated - acc)) <= 0.11
        assert 0 <= d_clean <= 1 and 0 <= d_pert <= 1  # D is a probability


MEASURING_EXAMPLE = Path(__file__).parents[1] / "examples" / "measuring" / "plot_ntg_grid_search.py"


def test_ntg_grid_search_example_measures_ntg_rising_with_label_noise():
    out = _run_example(MEASURING_EXAMPLE)
    rows = [line.split() for line in out.splitlines() if re.match(r"^ *[01]\.\d\d ", line)]
    eps = [float(r[0]) for r in rows]
    assert eps == [0.0, 0.25, 0.5, 0.75, 0.9, 1.0]
    cv_ntg = [float(r[1]) for r in rows]
    test_ntg = [float(r[4]) for r in rows]
    # NTG in points; redrawing every source label turns help into harm
    assert all(-100 <= v <= 100 for v in cv_ntg + test_ntg)
    assert test_ntg[0] < 0 < test_ntg[-1] and cv_ntg[0] < cv_ntg[-1]
    verdicts = re.findall(r"ε_y = ([\d.]+): '([a-z ]+)', NTG ([+-][\d.]+) points, 90% interval "
                          r"\[([+-][\d.]+), ([+-][\d.]+)\]", out)
    assert [v[0] for v in verdicts] == ["0.0", "1.0"]
    for _, verdict, ntg, low, high in verdicts:
        assert float(low) <= float(ntg) <= float(high)
        expected = ("transfer" if float(high) < 0 else
                    "target only" if float(low) > 0 else "undecided")
        assert verdict == expected
    assert verdicts[-1][1] == "target only"
