"""Report the gate design study and apply its selection rule.

The spec, its development tasks and the selection rule are in
``skntl/experiments/specs/gate_design.toml`` (written before any run was
looked at). Run from the repository root after::

    skntl run gate_design --results results/gate_design.sqlite --n-jobs 2
    python results/gate_design.py > results/gate_design.md

Accuracies and Δ (candidate − DANN on the same task, ε, L% and seed) are in
percentage points, means over seeds. ``ω ratio`` is the mean gate weight of
source rows whose label was changed by the perturbation (inputs intact)
divided by that of clean rows, per run at ε = 0.7, median over runs (a mean
of ratios is dominated by the few runs whose clean rows get a tiny ω): below
1 the gate distrusts wrong labels.
"""

import sys
from pathlib import Path

import pandas as pd

from skntl.experiments import expand_spec, load_results
from skntl.experiments._spec import load_spec
from skntl.experiments._tables import _markdown

HERE = Path(__file__).parent
BASELINE = "DANN (no gate)"


def candidate_of_runs(spec):
    """Map each run id to the name of the spec block (candidate) that made it."""
    names = {}
    for block in spec["grid"]:
        one = dict(spec, grid=[dict(block, twins=False)])
        for run in expand_spec(one):
            names.setdefault(run.run_id, block["name"])
    return names, [b["name"] for b in spec["grid"]]


def main(path=HERE / "gate_design.sqlite"):
    spec = load_spec("gate_design")
    names, order = candidate_of_runs(spec)
    df = load_results(path, include_errors=True)
    n_error = int((df["status"] != "ok").sum())
    df = df[df["role"] == "transfer"].copy()
    df["candidate"] = df["run_id"].map(names)
    df["acc"] = 100 * df["accuracy"]
    df["ntg_pp"] = 100 * df["ntg"]
    cell = ["task", "eps_x", "labeled_ratio", "seed"]
    base = df[df["candidate"] == BASELINE].set_index(cell)["acc"].rename("acc_dann")
    df = df.join(base, on=cell)
    df["delta"] = df["acc"] - df["acc_dann"]

    print("# Gate design study (development tasks only)\n")
    print("Made by `skntl run gate_design --results results/gate_design.sqlite --n-jobs 2` "
          "and `python results/gate_design.py`.")
    print(f"{len(df)} transfer runs stored, {n_error} failed runs.\n")

    print("## Δ = candidate − DANN (pp), mean over seeds, per task, ε and L%\n")
    wide = df[df["candidate"] != BASELINE].pivot_table(
        index="candidate", columns=["task", "eps_x", "labeled_ratio"], values="delta",
        aggfunc="mean")
    wide = wide.reindex([c for c in order if c in wide.index])
    for task in wide.columns.get_level_values(0).unique():
        sub = wide[task]
        sub.columns = [f"ε={e:g}, L%={100 * r:g}" for e, r in sub.columns]
        print(f"### {task}\n")
        print(_markdown(sub.round(1)))
        print()

    print("## DANN's accuracy and NTG (the baseline of every Δ)\n")
    b = df[df["candidate"] == BASELINE].pivot_table(
        index="task", columns=["eps_x", "labeled_ratio"], values=["acc", "ntg_pp"],
        aggfunc="mean")
    b.columns = [f"{v} ε={e:g} L%={100 * r:g}" for v, e, r in b.columns]
    print(_markdown(b.round(1)))
    base_ntg = df[df["candidate"] == BASELINE].groupby(
        ["task", "eps_x", "labeled_ratio"])["ntg_pp"].mean().mean()
    print(f"DANN's mean NTG over the 30 cells: {base_ntg:.2f} pp.\n")

    print("## Summary and the selection rule\n")
    rows = []
    for name in order:
        if name == BASELINE:
            continue
        c = df[df["candidate"] == name]
        if c.empty:
            continue
        cells = c.groupby(["task", "eps_x", "labeled_ratio"]).agg(
            delta=("delta", "mean"), ntg=("ntg_pp", "mean"))
        at0 = cells.xs(0.0, level="eps_x")["delta"].mean()
        noisy = cells[cells.index.get_level_values("eps_x") > 0]["delta"]
        e7 = c[c["eps_x"] == 0.7]
        ratio = (e7["omega_y_changed"] / e7["omega_clean"]).median()
        rows.append(dict(
            candidate=name, runs=len(c), collapsed=int(c["collapsed"].fillna(False).sum()),
            **{"Δ ε=0": at0, "Δ ε≥0.3": noisy.mean(),
               "cells Δ>0 (ε≥0.3)": f"{int((noisy > 0).sum())}/{len(noisy)}",
               "worst cell Δ": cells["delta"].min(), "mean NTG": cells["ntg"].mean(),
               "ω ratio ε=0.7": ratio},
        ))
    if not rows:
        print("No candidate has finished runs yet.")
        return
    summary = pd.DataFrame(rows).set_index("candidate")
    print(_markdown(summary.round(2)))
    print()
    complete = summary["runs"] == summary["runs"].max()
    eligible = summary[complete & (summary["collapsed"] == 0) & (summary["Δ ε=0"] >= -1.0)]
    if eligible.empty:
        print("No candidate is eligible.")
        return
    best = eligible["Δ ε≥0.3"].max()
    tied = [n for n in eligible.index if eligible.loc[n, "Δ ε≥0.3"] >= best - 0.5]
    print(f"Eligible (complete, no collapse, Δ at ε=0 ≥ −1 pp): {', '.join(eligible.index)}.")
    print(f"Best mean Δ over ε ≥ 0.3: {best:.2f} pp; within 0.5 pp: {', '.join(tied)}.")
    print(f"**Selected: {tied[0]}** (the first of the tied ones in the spec's order).")


if __name__ == "__main__":
    main(*sys.argv[1:])
