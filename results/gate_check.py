"""Check skntl's gate against the targets it was held to, on the study's own tasks.

The default of ``gate=True`` was chosen on development tasks only
(``results/gate_design.py``); this script reads the re-run study on the test
tasks (DeCAF6 W→D, SURF C→A, SURF D→A, JDA MNIST→USPS) once and prints each
target with the number that meets or misses it. Run from the repository root
after the stores exist (see results/README.md)::

    python results/gate_check.py > results/gate_check.md

Accuracies, NTG and Δ (gated − ungated on the same task, ε, L% and seed set)
are percentage points, means over seeds. The ω ratio is the mean gate weight
of source rows whose label the perturbation changed (inputs intact) over that
of the rows it left alone, pooled over seeds: below 1 the gate distrusts the
wrong labels.
"""

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from skntl.experiments import load_results
from skntl.experiments._tables import _markdown

HERE = Path(__file__).parent
DEEP = ["DAN", "DeepCORAL", "DANN", "ADDA", "PADA", "GTA"]
STORES = ["table1", "table2", "table3", "table4", "figure3", "figure4", "gate_weights"]


def _load(name):
    path = HERE / f"{name}.sqlite"
    return load_results(path, include_errors=True) if path.exists() else None


def _verdict(ok):
    return "**met**" if ok else "**missed**"


def _acc_cells(df, by):
    out = df.groupby(by).agg(acc=("accuracy", "mean"), twin=("acc_twin", "mean"))
    return 100 * out.assign(ntg=out["twin"] - out["acc"])


def table1(df):
    print("## Table 1: DANN vs DANN_gate, ε × L%, DeCAF6 W→D and SURF C→A, 5 seeds\n")
    df = df[(df["role"] == "transfer") & (df["status"] == "ok")]
    cells = _acc_cells(df, ["task", "eps_x", "labeled_ratio", "name"])["acc"].unstack("name")
    if not {"DANN", "DANN_gate", "DANN_gate-paper"} <= set(cells.columns):
        print("The store does not have all three of DANN, DANN_gate, DANN_gate-paper yet.\n")
        return
    cells["Δ"] = cells["DANN_gate"] - cells["DANN"]
    cells["Δpaper"] = cells["DANN_gate-paper"] - cells["DANN"]
    print(_markdown(cells.round(1)))
    print()
    eps = cells.index.get_level_values("eps_x")
    ratio = cells.index.get_level_values("labeled_ratio")
    noisy = cells[(eps >= 0.3) & (ratio >= 0.1)]
    clean = cells[eps == 0]
    print("| target | skntl's gate | the paper's gate | verdict |\n|---|---|---|---|")
    print(f"| mean Δ over the {len(noisy)} cells with ε ≥ 0.3, L% ≥ 10: ≥ +3 pp | "
          f"{noisy['Δ'].mean():+.2f} | {noisy['Δpaper'].mean():+.2f} | "
          f"{_verdict(noisy['Δ'].mean() >= 3)} |")
    print(f"| mean Δ over the {len(clean)} cells with ε = 0: ≥ −1 pp | "
          f"{clean['Δ'].mean():+.2f} | {clean['Δpaper'].mean():+.2f} | "
          f"{_verdict(clean['Δ'].mean() >= -1)} |")
    print(f"| cells with Δ > 0 (ε ≥ 0.3, L% ≥ 10) | {(noisy['Δ'] > 0).sum()}/{len(noisy)} | "
          f"{(noisy['Δpaper'] > 0).sum()}/{len(noisy)} | |")
    c10 = clean[clean.index.get_level_values("labeled_ratio") >= 0.1]
    print(f"| mean Δ at ε = 0, L% ≥ 10 only | {c10['Δ'].mean():+.2f} | "
          f"{c10['Δpaper'].mean():+.2f} | |")
    print()


def table2(df):
    print("## Table 2: six deep methods ± gate, ε = 0.7, L% = 10, ≤ 3 labels per class, "
          "5 seeds\n")
    df = df[(df["role"] == "transfer") & (df["status"] == "ok")]
    cells = _acc_cells(df, ["name", "task"])
    acc, ntg = cells["acc"].unstack("task"), cells["ntg"].unstack("task")
    rows = {}
    for kind, suffix in (("skntl's gate", "_gate"), ("the paper's gate", "_gate-paper")):
        delta = pd.DataFrame({m: acc.loc[m + suffix] - acc.loc[m] for m in DEEP}).T
        rows[kind] = delta
        print(f"Δ = {{method}}{suffix} − {{method}} (pp):\n")
        print(_markdown(delta.round(1).rename_axis("method")))
        print()
    d, p = rows["skntl's gate"].to_numpy(), rows["the paper's gate"].to_numpy()
    gap = ntg.loc["DANN"].mean() - ntg.loc["DANN_gate"].mean()
    gap_p = ntg.loc["DANN"].mean() - ntg.loc["DANN_gate-paper"].mean()
    print("| target | skntl's gate | the paper's gate | verdict |\n|---|---|---|---|")
    print(f"| (method, task) pairs with Δ > 0: ≥ 16 of {d.size} | {(d > 0).sum()} | "
          f"{(p > 0).sum()} | {_verdict((d > 0).sum() >= 16)} |")
    print(f"| mean Δ: ≥ +1.5 pp | {d.mean():+.2f} | {p.mean():+.2f} | "
          f"{_verdict(d.mean() >= 1.5)} |")
    print(f"| worst pair: ≥ −3 pp | {d.min():+.1f} | {p.min():+.1f} | "
          f"{_verdict(d.min() >= -3)} |")
    print(f"| DANN's mean NTG ({ntg.loc['DANN'].mean():+.2f}) minus DANN_gate's: ≥ 3 pp | "
          f"{gap:+.2f} | {gap_p:+.2f} | {_verdict(gap >= 3)} |")
    print()


def weights(df):
    print("## ω of label-changed over clean source rows, ε = 0.7, L% = 30, 5 seeds\n")
    print("Mean ω of the rows whose label was changed (input intact) over the mean ω of "
          "clean rows, each the mean over seeds of the per-run group means "
          "(`skntl run gate_weights`).\n")
    df = df[(df["role"] == "transfer") & (df["status"] == "ok") & df["gate"]]
    g = df.groupby(["name", "task"])
    ratio = (g["omega_y_changed"].mean() / g["omega_clean"].mean()).unstack("task")
    names = [f"{m}_gate" for m in DEEP] + ["DANN_gate-paper"]
    ratio = ratio.reindex([n for n in names if n in ratio.index])
    print(_markdown(ratio.round(2).rename_axis("method")))
    print()
    per_run = (df["omega_y_changed"] / df["omega_clean"]).groupby(
        [df["name"], df["task"]]).agg(["median", "min", "max"])
    print("The same ratio per run (median, and range over the 5 seeds): a run whose rows "
          "get a few very large ω moves the pooled means above.\n")
    cell = per_run.apply(lambda r: f"{r['median']:.2f} ({r['min']:.2f}–{r['max']:.2f})", axis=1)
    cell = cell.unstack("task").reindex(ratio.index)
    print(_markdown(cell.rename_axis("method")))
    print()
    if "DANN_gate" in ratio.index:
        worst = ratio.loc["DANN_gate"].max()
        print(f"Target: DANN_gate's ratio ≤ 0.6 on every test task. Worst task: {worst:.2f} "
              f"({_verdict(worst <= 0.6)}).\n")


def collapsed(stores):
    print("## Collapsed fits and failed runs in the re-run study\n")
    print("| store | runs | failed | collapsed |\n|---|---|---|---|")
    for name, df in stores.items():
        ok = df["status"] == "ok"
        print(f"| {name} | {len(df)} | {int((~ok).sum())} | "
              f"{int(df.loc[ok, 'collapsed'].fillna(False).astype(bool).sum())} |")
    print()


def main():
    stores = {name: df for name in STORES if (df := _load(name)) is not None}
    print("# skntl's gate on the test tasks\n")
    print("Made by `python results/gate_check.py` from the stores of the re-run study "
          "(commands in results/README.md).\n")
    if "table1" in stores:
        table1(stores["table1"])
    if "table2" in stores:
        table2(stores["table2"])
    if "gate_weights" in stores:
        weights(stores["gate_weights"])
    collapsed(stores)


if __name__ == "__main__":
    np.set_printoptions(precision=2)
    sys.exit(main())
