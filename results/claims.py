"""Check the paper's claims C1–C28 (REFERENCE.md §12) against our results stores.

Prints, claim by claim, the numbers REPRODUCTION.md quotes. Run from the
repository root after the stores exist (see results/README.md)::

    python results/claims.py            # all claims
    python results/claims.py C1 C12     # some

Accuracies, NTG and Δ are in percentage points, means over seeds; NTG =
mean acc(A_T) − mean acc(A) (D19).
"""

import sys
from pathlib import Path

import numpy as np

from skntl.experiments import load_results

HERE = Path(__file__).parent
CLOSE, FAR = "decaf6:W->D", "surf:C->A"
#: The gates the claims about "the gate" are checked for: skntl's default and the paper's.
GATES = {"DANN_gate": "skntl's gate (the default)", "DANN_gate-paper": "the paper's gate"}


def _load(name):
    path = HERE / f"{name}.sqlite"
    return load_results(path) if path.exists() else None


def _cells(df, by):
    """Mean accuracy, NTG and count per cell (percentage points)."""
    g = df.groupby(by)
    out = g.agg(acc=("accuracy", "mean"), twin=("acc_twin", "mean"), n=("accuracy", "size"))
    out["acc"] *= 100
    out["twin"] *= 100
    out["ntg"] = out["twin"] - out["acc"]
    return out


def _t1():
    df = _load("table1")
    df = df[df["role"] == "transfer"]
    return _cells(df, ["task", "labeled_ratio", "eps_x", "name"])


def _series(cells, task, ratio, name, col="ntg"):
    s = cells.xs((task, ratio), level=("task", "labeled_ratio"))
    return s.xs(name, level="name")[col]


def _fmt(values):
    return ", ".join(f"{v:+.1f}" for v in values)


def _monotone(values, tol=0.0):
    return all(b >= a - tol for a, b in zip(values, values[1:]))


def c1_c2_c5_c6_c15_c17_c18_c19_c20():
    cells = _t1()
    tasks = cells.index.get_level_values("task").unique()
    ratios = sorted(cells.index.get_level_values("labeled_ratio").unique())
    epsilons = sorted(cells.index.get_level_values("eps_x").unique())
    print("Table 1 (skntl table 1 results/table1.sqlite)")
    mono, sign = 0, []
    for task in tasks:
        for r in ratios:
            ntg = _series(cells, task, r, "DANN").to_numpy()
            mono += _monotone(list(ntg))
            print(f"  C1 {task} L%={100 * r:g}: NTG1 over ε {epsilons} = {_fmt(ntg)}"
                  f"{'  (monotone)' if _monotone(list(ntg)) else ''}")
            if (ntg <= 0).any() and (ntg > 0).any():
                sign.append(f"{task} L%={100 * r:g}")
    print(f"  C1 monotone in {mono} of {len(tasks) * len(ratios)} (task, L%) rows")
    print(f"  C2 NTG1 changes sign with ε in: {', '.join(sign) or 'none'}")
    mono5, n5 = 0, 0
    for task in tasks:
        for e in epsilons:
            ntg = [_series(cells, task, r, "DANN").loc[e] for r in ratios]
            mono5 += _monotone(ntg)
            n5 += 1
            print(f"  C5 {task} ε={e:g}: NTG1 over L% {[f'{100 * r:g}' for r in ratios]} = "
                  f"{_fmt(ntg)}")
    print(f"  C5 monotone in L% in {mono5} of {n5} (task, ε) rows")
    for task in tasks:
        ntg0 = _series(cells, task, 0.0, "DANN").to_numpy()
        print(f"  C6 {task} L%=0: NTG1 = {_fmt(ntg0)}")
    for gate in GATES:
        print(f"  [{gate}: {GATES[gate]}]")
        print(f"  C15 Δ = {gate} − DANN over ε:")
        for task in tasks:
            for r in ratios:
                d = (_series(cells, task, r, gate, "acc")
                     - _series(cells, task, r, "DANN", "acc")).to_numpy()
                print(f"    {task} L%={100 * r:g}: {_fmt(d)}")
        all_d = np.concatenate([(_series(cells, t, r, gate, "acc")
                                 - _series(cells, t, r, "DANN", "acc")).to_numpy()
                                for t in tasks for r in ratios])
        print(f"  C15 over all {len(all_d)} cells: mean Δ {all_d.mean():+.2f}, Δ > 0 in "
              f"{(all_d > 0).sum()}, range {all_d.min():+.1f} … {all_d.max():+.1f}")
        d0 = [(_series(cells, CLOSE, r, gate, "acc")
               - _series(cells, CLOSE, r, "DANN", "acc")).loc[0.0] for r in ratios]
        print(f"  C17 {CLOSE} ε=0, Δ per L%: {_fmt(d0)}")
        ntg2 = np.concatenate([_series(cells, t, r, gate).to_numpy()
                               for t in tasks for r in ratios])
        print(f"  C18 NTG2 ≤ 0 in {(ntg2 <= 0).sum()} of {len(ntg2)} cells")
        for task in tasks:
            d = (_series(cells, task, 0.0, gate, "acc")
                 - _series(cells, task, 0.0, "DANN", "acc")).to_numpy()
            print(f"  C19 {task} L%=0: Δ = {_fmt(d)}")
        d = [(_series(cells, FAR, r, gate, "acc")
              - _series(cells, FAR, r, "DANN", "acc")).loc[0.0] for r in ratios if r > 0]
        print(f"  C20 {FAR} ε=0, Δ at L% > 0: {_fmt(d)}")


def c3_c7_c16():
    df = _load("figure3")
    if df is None:
        return
    print("Figure 3 (skntl figure 3 results/figure3.sqlite)")
    a = df[(df["max_labeled_per_class"] == 3) & (df["labeled_ratio"] == 0.2)]
    dann = 100 * a[a["name"] == "DANN"].groupby("eps_x")["accuracy"].mean()
    gate = 100 * a[a["name"] == "DANN_gate"].groupby("eps_x")["accuracy"].mean()
    twin = 100 * a.loc[a["name"] == "DANN_T", "accuracy"].mean()
    net_s = 100 * df[df["name"] == "Net_S"].groupby("eps_x")["accuracy"].mean()
    print(f"  (a) ε: {list(dann.index)}")
    print(f"  C3 DANN      : {', '.join(f'{v:.1f}' for v in dann)}")
    print(f"  C3 DANN_gate : {', '.join(f'{v:.1f}' for v in gate)}")
    print(f"  C3 DANN_T    : {twin:.1f} (flat)")
    print(f"  C3 Net_S     : {', '.join(f'{v:.1f}' for v in net_s)}")
    below = [e for e, v in dann.items() if v < twin]
    print(f"  C3 DANN below DANN_T from ε = {below[0] if below else 'never'}")
    print(f"  C16 ε=1.0: DANN_gate {gate.iloc[-1]:.1f} vs DANN_T {twin:.1f}")
    b = df[df["max_labeled_per_class"].isna()]
    b_dann = 100 * b[(b["name"] == "DANN") & (b["eps_x"] == 0.2)].groupby(
        "labeled_ratio")["accuracy"].mean()
    b_gate = 100 * b[(b["name"] == "DANN_gate") & (b["eps_x"] == 0.2)].groupby(
        "labeled_ratio")["accuracy"].mean()
    b_twin = 100 * b[b["name"] == "DANN_T"].groupby("labeled_ratio")["accuracy"].mean()
    print(f"  (b) L%: {[f'{100 * r:g}' for r in b_dann.index]}")
    print(f"  C7 DANN      : {', '.join(f'{v:.1f}' for v in b_dann)}")
    print(f"  C7 DANN_T    : {', '.join(f'{v:.1f}' for v in b_twin)}")
    print(f"  C7 DANN_gate : {', '.join(f'{v:.1f}' for v in b_gate)}")
    over = [r for r in b_dann.index if b_twin.loc[r] > b_dann.loc[r]]
    print(f"  C7 DANN_T above DANN at L% = {[f'{100 * r:g}' for r in over] or 'never'}")


def c4():
    df = _load("table3")
    if df is None:
        return
    cells = _cells(df[df["role"] == "transfer"], ["eps_x", "labeled_ratio", "name"])
    print("Table 3 (skntl table 3 results/table3.sqlite)")
    for (e, r, name), row in cells.iterrows():
        print(f"  C4 ε_x={e:g} L%={100 * r:g} {name}: acc {row.acc:.1f}, NTG {row.ntg:+.1f}")


def c8_to_c14():
    df = _load("table2")
    if df is None:
        return
    cells = _cells(df[df["role"] == "transfer"], ["name", "task"])
    ntg = cells["ntg"].unstack("task")
    acc = cells["acc"].unstack("task")
    print("Table 2 (skntl table 2 results/table2.sqlite)")
    print("  NTG per task:")
    print("    " + ntg.round(1).to_string().replace("\n", "\n    "))
    avg = ntg.mean(axis=1)
    print(f"  C8 avg NTG KMM {avg.get('KMM', np.nan):+.1f} vs TCA {avg.get('TCA', np.nan):+.1f};"
          f" KMM < TCA on {(ntg.loc['KMM'] < ntg.loc['TCA']).sum()} of {ntg.shape[1]} tasks")
    deep = ["DAN", "DeepCORAL", "DANN", "ADDA", "PADA", "GTA"]
    base = avg[deep]
    print(f"  C9 avg NTG of base deep methods: {base.round(1).to_dict()}; "
          f"lowest: {base.idxmin()}; highest avg acc: {acc.loc[deep].mean(axis=1).idxmax()}")
    low = ntg.loc[deep].idxmin()
    print(f"  C9 lowest NTG per task: {low.to_dict()}")
    for m in ("DAN", "DeepCORAL"):
        print(f"  C10 {m} avg NTG {avg[m]:+.1f} vs DANN {avg['DANN']:+.1f}; smaller on "
              f"{(ntg.loc[m] < ntg.loc['DANN']).sum()} of {ntg.shape[1]} tasks")
    print(f"  C11 ADDA avg NTG {avg['ADDA']:+.1f} vs DANN {avg['DANN']:+.1f}; larger on "
          f"{(ntg.loc['ADDA'] > ntg.loc['DANN']).sum()} of {ntg.shape[1]} tasks")
    for suffix in ("_gate-paper", "_gate"):
        gate = "DANN" + suffix
        delta = acc.loc[[m + suffix for m in deep]].to_numpy() - acc.loc[deep].to_numpy()
        print(f"  [{GATES[gate]}]")
        print(f"  C12 Δ > 0 in {(delta > 0).sum()} of {delta.size} (method, task) pairs; "
              f"per-method mean Δ: {dict(zip(deep, np.round(delta.mean(axis=1), 1).tolist()))}")
        gated = avg[[m + suffix for m in deep]]
        print(f"  C13 avg NTG DANN {avg['DANN']:+.1f} → {gate} {avg[gate]:+.1f}; "
              f"gated avg NTG: {gated.round(1).to_dict()}")
    twin = (cells["twin"].unstack("task").loc[deep]).mean()
    print(f"  C14 mean Δ (skntl's gate) per task: "
          f"{dict(zip(acc.columns, np.round(delta.mean(axis=0), 1).tolist()))}; "
          f"target-only accuracy per task: {twin.round(1).to_dict()}")


def c21_to_c25():
    df = _load("table4")
    if df is None:
        return
    cells = _cells(df[df["role"].isin(["transfer", "oracle"])],
                   ["name", "eps_x", "labeled_ratio"])
    acc = cells["acc"].unstack(["eps_x", "labeled_ratio"])
    acc = acc[sorted(acc.columns, reverse=True)]
    twin = 100 * df[df["role"] == "twin"].groupby("labeled_ratio")["accuracy"].mean()
    print("Table 4 (skntl table 4 results/table4.sqlite)")
    print("    " + acc.round(1).to_string().replace("\n", "\n    "))
    print(f"    DANN_T by L%: {twin.round(1).to_dict()}")
    row = acc.mean(axis=1)
    paper = "DANN_gate-paper"  # the paper's full gate, which its ablation compares against
    for v in ("DANN_gate-only", "DANN_label-only"):
        beats = (acc.loc[v] > acc.loc["DANN"]).sum()
        below = (acc.loc[v] < acc.loc[paper]).sum()
        print(f"  C21 {v}: > DANN in {beats}/4, < {paper} in {below}/4; avg {row[v]:.1f} "
              f"(DANN {row['DANN']:.1f}, {paper} {row[paper]:.1f}, "
              f"skntl's DANN_gate {row['DANN_gate']:.1f})")
    order = (acc.loc["DANN_joint"] > acc.loc["DANN_marginal"]) & (
        acc.loc["DANN_marginal"] > acc.loc["DANN_none"])
    print(f"  C22 joint > marginal > none in {order.sum()}/4; avg {row['DANN_joint']:.1f} / "
          f"{row['DANN_marginal']:.1f} / {row['DANN_none']:.1f}")
    diff = acc.loc["DANN_joint"] - acc.loc[paper]
    print(f"  C23 joint − paper gate per setting (ε, L%): {diff.round(1).to_dict()}")
    for gate in GATES:
        diff = acc.loc[gate] - acc.loc["DANN_oracle"]
        print(f"  C24 {gate} − oracle per setting (ε, L%): {diff.round(1).to_dict()}")
    ntg = {c: round(float(twin[c[1]] - acc.loc["DANN", c]), 1) for c in acc.columns}
    print(f"  C25 NTG(DANN) per setting: {ntg}")


def c26_c27():
    df = _load("figure4")
    if df is None:
        return
    print("Figure 4 (skntl figure 4 results/figure4.sqlite)")
    folder = HERE / "figure4.artifacts"
    for name in ("DANN", "DANN_gate-paper", "DANN_gate"):
        rows = df[(df["name"] == name) & (df["role"] == "transfer")]
        if rows.empty:
            continue
        with np.load(folder / f"{rows.iloc[0]['run_id']}.npz") as f:
            d, pert = f["d"], f["x_mask"] | f["y_mask"]
        hist, edges = np.histogram(d, bins=100, range=(0, 1))
        print(f"  C26 {name}: D on source rows: mean {d.mean():.3f}, mode bin "
              f"{edges[hist.argmax()]:.2f}, 5–95% range {np.percentile(d, 5):.3f}–"
              f"{np.percentile(d, 95):.3f}, share < 0.4: {(d < 0.4).mean():.0%}")
        omega = d / (1 - d)
        print(f"  C27 {name}: mean D perturbed {d[pert].mean():.3f} vs unperturbed "
              f"{d[~pert].mean():.3f} ({pert.mean():.0%} of rows perturbed); mean ω "
              f"perturbed / unperturbed {omega[pert].mean() / omega[~pert].mean():.2f}")


def gate_groups():
    """Whom each gate distrusts: mean ω per source group in the gated runs."""
    df = _load("table1")
    g = df[df["name"].isin(GATES) & (df["eps_x"] > 0) & (df["labeled_ratio"] > 0)]
    cols = ["omega_clean", "omega_x_only", "omega_y_only", "omega_both"]
    t = g.groupby(["name", "task", "labeled_ratio", "eps_x"])[cols].mean()
    for c in cols[1:]:
        t[c.replace("omega_", "") + "/clean"] = t[c] / t["omega_clean"]
    print("Mean ω per source group of both gates (Table 1 runs, L% > 0, ε > 0; D4 groups)")
    print("    " + t.round(2).to_string().replace("\n", "\n    "))
    t4 = _load("table4")
    t4 = t4[t4["role"] != "twin"]
    cols = ["d_clean", "d_perturbed", "omega_clean", "omega_x_only", "omega_y_only"]
    print("Table 4 runs: mean D output and ω per source group, by variant (all 4 settings)")
    print("    " + t4.groupby("name")[cols].mean().round(2).to_string().replace("\n", "\n    "))
    t2 = _load("table2")
    t2 = t2[t2["gate"]]
    print("Table 2 gated runs: mean D output and ω per source group, and labeled target rows")
    cols = cols + ["n_labeled"]
    print("    " + t2.groupby("name")[cols].mean().round(2).to_string().replace("\n", "\n    "))


CHECKS = {
    ("C1", "C2", "C5", "C6", "C15", "C17", "C18", "C19", "C20"): c1_c2_c5_c6_c15_c17_c18_c19_c20,
    ("C3", "C7", "C16"): c3_c7_c16,
    ("C4",): c4,
    ("C8", "C9", "C10", "C11", "C12", "C13", "C14"): c8_to_c14,
    ("C21", "C22", "C23", "C24", "C25"): c21_to_c25,
    ("C26", "C27"): c26_c27,
    ("gate",): gate_groups,
}

if __name__ == "__main__":
    wanted = set(sys.argv[1:])
    for claims, check in CHECKS.items():
        if not wanted or wanted & set(claims):
            check()
            print()
