"""The paper's Tables 1–4 rendered from a results frame (:ref:`method-experiments`).

Accuracies are in %, mean ± sample std over seeds (:ref:`decisions D5
<decision-d5>` and :ref:`D30 <decision-d30>`); NTG = mean acc(A_T) − mean
acc(A) (:ref:`decision D19 <decision-d19>`; positive = negative transfer);
Δ = acc(X_gate) − acc(X). "Avg" columns are means of the cells.
"""

import numpy as np
import pandas as pd

__all__ = ["make_table", "table_frame"]

_TABLE2_METHODS = ("TCA", "KMM", "DAN", "DeepCORAL", "DANN", "ADDA", "PADA", "GTA")
_TABLE3_METHODS = ("DAN", "DANN", "GTA")
_TABLE4_ROWS = (
    "DANN", "DANN_T", "DANN_oracle", "DANN_gate-only", "DANN_label-only", "DANN_joint",
    "DANN_marginal", "DANN_none", "DANN_gate-paper", "DANN_gate",
)


def _cell_stats(rows):
    """Mean/std accuracy, NTG (in %) and count of one cell's runs (NaNs and 0 when empty)."""
    if not len(rows):
        return np.nan, np.nan, np.nan, 0
    acc = 100 * rows["accuracy"].to_numpy(float)
    twin = 100 * rows["acc_twin"].to_numpy(float)
    std = acc.std(ddof=1) if len(acc) > 1 else np.nan
    ntg = np.nanmean(twin) - acc.mean() if np.isfinite(twin).any() else np.nan
    return acc.mean(), std, ntg, len(acc)


def _fmt(value, signed=False):
    if value is None or not np.isfinite(value):
        return "–"
    value = round(float(value), 1) + 0.0  # no "-0.0"
    return f"{value:+.1f}" if signed else f"{value:.1f}"


def _acc_ntg(acc, ntg):
    return f"{_fmt(acc)} ({_fmt(ntg)})"


def _setting(row):
    return f"ε_x={row.eps_x:g}, ε_y={row.eps_y:g}, L%={100 * row.labeled_ratio:g}"


def _only_one_setting(df, what):
    settings = df[["eps_x", "eps_y", "labeled_ratio", "max_labeled_per_class"]].drop_duplicates()
    if len(settings) > 1:
        listed = "; ".join(_setting(r) for r in settings.itertuples())
        raise ValueError(f"{what} needs runs of a single setting; the store has: {listed}.")


def _transfer(df):
    return df[df["role"] == "transfer"]


def _table1(df):
    runs = _transfer(df)
    runs = runs[(runs["method"] == "DANN") & (runs["eps_x"] == runs["eps_y"])
                & runs["name"].isin(["DANN", "DANN_gate", "DANN_gate-paper"])
                & runs["max_labeled_per_class"].isna()]
    if runs.empty or not {"DANN", "DANN_gate"} & set(runs["name"]):
        raise ValueError("Table 1 needs DANN and DANN_gate transfer runs with ε_x = ε_y.")
    # Rows per (task, L%): DANN and its NTG, then each gate with its NTG and Δ.
    gates = [(n, f"NTG{i + 2}", "Δ" if n == "DANN_gate" else "Δpaper")
             for i, n in enumerate(g for g in ("DANN_gate", "DANN_gate-paper")
                                   if g in set(runs["name"]))]
    epsilons = sorted(runs["eps_x"].unique())
    columns = [f"ε={e:g}" for e in epsilons] + ["Avg"]
    index, rows = [], []
    for task in runs["task"].unique():
        for ratio in sorted(runs.loc[runs["task"] == task, "labeled_ratio"].unique()):
            cells = {}
            for name in ["DANN", *(g for g, _, _ in gates)]:
                for e in epsilons:
                    sel = runs[(runs["task"] == task) & (runs["labeled_ratio"] == ratio)
                               & (runs["eps_x"] == e) & (runs["name"] == name)]
                    cells[name, e] = _cell_stats(sel)
            block = {"DANN": [(cells["DANN", e][0], cells["DANN", e][1]) for e in epsilons],
                     "NTG1": [cells["DANN", e][2] for e in epsilons]}
            for name, ntg, delta in gates:
                block[name] = [(cells[name, e][0], cells[name, e][1]) for e in epsilons]
                block[ntg] = [cells[name, e][2] for e in epsilons]
                block[delta] = [cells[name, e][0] - cells["DANN", e][0] for e in epsilons]
            for label, values in block.items():
                if label.startswith("DANN"):
                    means = [m for m, _ in values]
                    cells_txt = [f"{_fmt(m)} ± {_fmt(s)}" for m, s in values]
                else:
                    means = values
                    cells_txt = [_fmt(v, signed=label.startswith("Δ")) for v in values]
                cells_txt.append(_fmt(np.nanmean(means), signed=label.startswith("Δ")))
                index.append((task, f"{100 * ratio:g}%", label))
                rows.append(cells_txt)
    return pd.DataFrame(rows, index=pd.MultiIndex.from_tuples(index, names=["task", "L%", ""]),
                        columns=columns)


def _table2(df):
    runs = _transfer(df)
    runs = runs[~runs["gate"] | runs["name"].str.endswith(("_gate", "_gate-paper"))]
    if runs.empty:
        raise ValueError("Table 2 needs transfer runs.")
    _only_one_setting(runs, "Table 2")
    tasks = list(runs["task"].unique())
    index, rows = [], []
    deltas = {t: [] for t in tasks}
    paper_deltas = {t: [] for t in tasks}
    for method in [m for m in _TABLE2_METHODS if m in set(runs["method"])]:
        stats = {}
        for name in (method, f"{method}_gate", f"{method}_gate-paper"):
            sel = runs[runs["name"] == name]
            if sel.empty:
                continue
            stats[name] = {t: _cell_stats(sel[sel["task"] == t]) for t in tasks}
            accs = [stats[name][t][0] for t in tasks]
            ntgs = [stats[name][t][2] for t in tasks]
            row = [_acc_ntg(a, n) for a, n in zip(accs, ntgs)]
            row.append(_acc_ntg(np.nanmean(accs), np.nanmean(ntgs)))
            index.append(name)
            rows.append(row)
        for gated, label, store in ((f"{method}_gate", f"Δ_{method}", deltas),
                                    (f"{method}_gate-paper", f"Δpaper_{method}", paper_deltas)):
            if gated not in stats or method not in stats:
                continue
            d = [stats[gated][t][0] - stats[method][t][0] for t in tasks]
            for t, v in zip(tasks, d):
                store[t].append(v)
            index.append(label)
            rows.append([_fmt(v, signed=True) for v in d] + [_fmt(np.nanmean(d), signed=True)])
    for label, store in (("ΔAvg", deltas), ("ΔpaperAvg", paper_deltas)):
        if any(store.values()):
            avg = [np.nanmean(store[t]) if store[t] else np.nan for t in tasks]
            index.append(label)
            rows.append([_fmt(v, signed=True) for v in avg]
                        + [_fmt(np.nanmean(avg), signed=True)])
    return pd.DataFrame(rows, index=pd.Index(index, name="method"), columns=tasks + ["Avg"])


def _settings_table(runs, names, what, ascending=False):
    """Rows = display names, columns = (ε, L%) settings in the paper's order."""
    settled = runs[runs["role"].isin(["transfer", "oracle"])]  # twins have no ε
    keys = settled[["eps_x", "eps_y", "labeled_ratio"]].drop_duplicates().sort_values(
        ["eps_x", "labeled_ratio"], ascending=ascending)
    if runs["task"].nunique() > 1:
        raise ValueError(f"{what} needs runs of a single task; the store has "
                         f"{sorted(runs['task'].unique())}.")
    columns = [_setting(k) for k in keys.itertuples()]
    index, rows = [], []
    for name in names:
        cells = []
        for k in keys.itertuples():
            sel = runs[(runs["name"] == name) & (runs["labeled_ratio"] == k.labeled_ratio)]
            if not name.endswith("_T"):  # twins do not depend on ε (:ref:`decision-d18`)
                sel = sel[(sel["eps_x"] == k.eps_x) & (sel["eps_y"] == k.eps_y)]
            cells.append(_cell_stats(sel))
        if all(c[3] == 0 for c in cells):
            continue
        index.append(name)
        rows.append(cells)
    return index, rows, columns


def _table3(df):
    runs = df[df["role"].isin(["transfer"]) & (df["eps_y"] == 0) & ~df["gate"]]
    if runs.empty:
        raise ValueError("Table 3 needs transfer runs with ε_y = 0.")
    names = [m for m in _TABLE3_METHODS if m in set(runs["method"])]
    names += sorted(set(runs["method"]) - set(names))
    index, rows, columns = _settings_table(runs, names, "Table 3", ascending=True)
    text = [[_acc_ntg(a, n) for a, _, n, _ in r] for r in rows]
    return pd.DataFrame(text, index=pd.Index(index, name="method"), columns=columns)


def _table4(df):
    runs = df[(df["method"] == "DANN") & df["role"].isin(["transfer", "twin", "oracle"])]
    if runs.empty:
        raise ValueError("Table 4 needs DANN runs (variants, twins, oracle).")
    index, rows, columns = _settings_table(runs, _TABLE4_ROWS, "Table 4")
    if not rows:
        raise ValueError("Table 4 needs DANN runs (variants, twins, oracle).")
    text = [[_fmt(a) for a, _, _, _ in r] + [_fmt(np.nanmean([c[0] for c in r]))] for r in rows]
    return pd.DataFrame(text, index=pd.Index(index, name="method"), columns=columns + ["Avg"])


_TABLES = {1: _table1, 2: _table2, 3: _table3, 4: _table4}


def table_frame(results, number):
    """Return one of the paper's tables as a DataFrame of formatted cells.

    Parameters
    ----------
    results : pandas.DataFrame
        A frame from :func:`load_results`.
    number : {1, 2, 3, 4}
        Which table: 1 DANN vs DANN_gate over ε × L% (per task); 2 every
        method ± gate at one setting, cells "accuracy (NTG)"; 3 the covariate
        shift runs (ε_y = 0); 4 DANN's ablation variants, twin and oracle.

    Returns
    -------
    table : pandas.DataFrame
    """
    if number not in _TABLES:
        raise ValueError(f"number must be one of 1, 2, 3, 4, got {number!r}.")
    return _TABLES[number](results)


def _markdown(frame):
    index_names = [n or "" for n in frame.index.names]
    lines = ["| " + " | ".join(index_names + list(map(str, frame.columns))) + " |"]
    lines.append("|" + "---|" * (len(index_names) + len(frame.columns)))
    for idx, row in frame.iterrows():
        idx = idx if isinstance(idx, tuple) else (idx,)
        lines.append("| " + " | ".join(list(map(str, idx)) + list(map(str, row))) + " |")
    return "\n".join(lines) + "\n"


def make_table(results, number, fmt="markdown"):
    """Render one of the paper's tables as text.

    Parameters
    ----------
    results : pandas.DataFrame
        A frame from :func:`load_results`.
    number : {1, 2, 3, 4}
        See :func:`table_frame`.
    fmt : {"markdown", "csv"}, default="markdown"
        Output format.

    Returns
    -------
    text : str
        In markdown, a last line counts the fits whose classifier stayed at
        chance level (collapsed) among the runs in the store.
    """
    frame = table_frame(results, number)
    if fmt == "markdown":
        return _markdown(frame) + "\n" + collapse_note(results) + "\n"
    if fmt == "csv":
        return frame.to_csv()
    raise ValueError(f"fmt must be 'markdown' or 'csv', got {fmt!r}.")


def collapse_note(results):
    """Return one line counting the collapsed fits of a results frame.

    A fit collapsed when its classifier stayed at chance level in training
    (the deep engine's ``ConvergenceWarning``; recorded as ``collapsed``).

    Parameters
    ----------
    results : pandas.DataFrame
        A frame from :func:`load_results`.

    Returns
    -------
    text : str
    """
    if "collapsed" not in results:
        return "Collapsed fits: not recorded in this store."
    flags = results["collapsed"]
    known = flags.notna()
    collapsed = results[known & flags.astype("boolean").fillna(False)]
    names = ", ".join(
        f"{name} {n}" for name, n in collapsed.groupby("name").size().items()
    )
    return (f"Collapsed fits (classifier at chance level in training): {len(collapsed)} of "
            f"{int(known.sum())}" + (f" ({names})." if names else "."))


def demo_table(results):
    """Format the demo's answer: accuracy, NTG and Δ of each model, one line each.

    Parameters
    ----------
    results : pandas.DataFrame
        A frame from :func:`load_results` with one task and setting.

    Returns
    -------
    text : str
    """
    rows = results[results["role"].isin(["transfer", "twin"])]
    names = list(dict.fromkeys(rows.sort_values(["gate", "role"])["name"]))
    stats = {name: _cell_stats(rows[rows["name"] == name]) for name in names}
    lines = [f"{'model':12s} {'accuracy %':>15s} {'NTG':>7s} {'Δ vs base':>10s}"]
    for name in names:
        acc, std, ntg, n = stats[name]
        row = rows[rows["name"] == name].iloc[0]
        base = stats.get(row["method"]) if row["gate"] else None
        lines.append(f"{name:12s} {_fmt(acc):>7s} ± {_fmt(std):>5s} "
                     f"{'' if row['role'] == 'twin' else _fmt(ntg):>7s} "
                     f"{'' if base is None else _fmt(acc - base[0], signed=True):>10s}")
    lines.append(f"({n} seeds; NTG = acc(target-only) − acc(model), > 0 means negative transfer; "
                 "Δ = gated − ungated)")
    for name in names:
        if not name.endswith("_gate") or name[:-5] not in stats:
            continue
        base, ntg_base, ntg_gate = name[:-5], stats[name[:-5]][2], stats[name][2]
        if ntg_base > 0:
            answer = f"negative transfer: {base} is {ntg_base:.1f} pp below its twin"
        else:
            answer = f"no negative transfer: {base} is {-ntg_base:.1f} pp above its twin"
        if ntg_gate <= 0 < ntg_base:
            verdict = "the gate avoids it"
        elif ntg_gate < ntg_base:
            verdict = "the gate helps"
        else:
            verdict = "the gate does not help here"
        lines.append(f"Answer: {answer}; {verdict} ({name} NTG {_fmt(ntg_gate)}, "
                     f"Δ {_fmt(stats[name][0] - stats[base][0], signed=True)}).")
    return "\n".join(lines)
