"""The README's main-job command runs and prints what it promises."""

import re
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).parents[1] / "examples" / "conventional" / "plot_tca_kmm_office_caltech.py"


def test_office_caltech_example_prints_accuracy_and_ntg():
    out = subprocess.run(
        [sys.executable, str(EXAMPLE), "--seeds", "2"],
        capture_output=True, text=True, check=True, timeout=300,
    ).stdout
    rows = [line.split() for line in out.splitlines() if re.match(r"^[CADW]→[CADW] ", line)]
    assert len(rows) == 4 * 3  # 4 tasks x (TCA, KMM, LogReg)
    for _task, method, acc, _pm, _std, acc_t, ntg, _secs in rows:
        assert method in {"TCA", "KMM", "LogReg"}
        # NTG = acc(A(∅,T)) - acc(A(S,T)), both printed in %
        assert abs(float(ntg) - (float(acc_t) - float(acc))) <= 0.11
        assert 0 <= float(acc) <= 100 and 0 <= float(acc_t) <= 100


def test_readme_ten_line_example_runs():
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Ten lines", 1)[1].split("```python", 1)[1].split("```", 1)[0]
    namespace = {}
    exec(compile(block, "README.md", "exec"), namespace)
    # NTG is a difference of two accuracies, in [-1, 1]
    assert -1 <= namespace["ntg"] <= 1
    assert namespace["ntg"] == (
        namespace["twin"].score(namespace["Xt_test"], namespace["yt_test"])
        - namespace["tca"].score(namespace["Xt_test"], namespace["yt_test"])
    )
