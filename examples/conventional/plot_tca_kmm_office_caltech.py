"""
TCA and KMM on Office-Caltech10: accuracy and negative transfer gap
===================================================================

Fits Transfer Component Analysis and Kernel Mean Matching on Office-Caltech10
SURF features (bundled with skntl) following the paper's protocol: the target
is split 50/50 into train and test, every target-train row is unlabeled
target data and L% = 10% of them are also labeled (``split_target``). Each
method is compared with its own target-only twin A(∅, T) (``fit_target_only``,
:ref:`decision D16 <decision-d16>`), which gives the negative transfer gap

    NTG = acc(A(∅, T)) − acc(A(S, T))     (positive = negative transfer).

A plain logistic regression on source ∪ labeled target is shown for reference.
The settings are those of :ref:`decision D28 <decision-d28>` (TCA: linear
kernel, 30 components, μ = 1; KMM: RBF kernel with the median heuristic,
B = 1000, ε = (√n_s − 1)/√n_s).

Run::

    python examples/conventional/plot_tca_kmm_office_caltech.py [--seeds 3]

The default is 3 seeds (under a minute on two CPU cores); the documentation
gallery runs it with these settings too.
"""

# %%
# Settings
# --------
import argparse
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LogisticRegression

from skntl import KMM, TCA, fit_target_only, split_target
from skntl.datasets import load_office_caltech

parser = argparse.ArgumentParser(description="TCA and KMM on Office-Caltech10")
parser.add_argument("--seeds", type=int, default=3)
parser.add_argument("--labeled-ratio", type=float, default=0.1)
args = parser.parse_args()

TASKS = [("caltech", "amazon"), ("amazon", "caltech"), ("webcam", "dslr"), ("dslr", "amazon")]
METHODS = {
    "TCA": TCA(n_components=30),
    "KMM": KMM(),
    "LogReg": LogisticRegression(max_iter=1000),
}

# %%
# Fit each method and its target-only twin
# ----------------------------------------
# ``fit_target_only`` fits the same algorithm with the labeled target as its
# only labeled data; for the plain classifier, A(S, T) is fitted on source ∪
# labeled target.


def run(seeds, labeled_ratio):
    rows = []
    for source, target in TASKS:
        Xs, ys = load_office_caltech(source, return_X_y=True)
        Xt, yt = load_office_caltech(target, return_X_y=True)
        for name, est in METHODS.items():
            acc, acc_t = [], []
            t0 = time.perf_counter()
            for seed in range(seeds):
                Xt_l, yt_l, Xt_u, Xt_test, yt_test = split_target(
                    Xt, yt, labeled_ratio, random_state=seed
                )
                if "random_state" in est.get_params():
                    est = est.set_params(random_state=seed)
                if name == "LogReg":  # plain classifier: A(S, T) on source ∪ labeled target
                    model = est.fit(np.vstack([Xs, Xt_l]), np.r_[ys, yt_l])
                else:
                    model = est.fit(Xs, ys, Xt_l, yt_l, Xt_u)
                twin = fit_target_only(est, Xs, ys, Xt_l, yt_l, Xt_u)
                acc.append(model.score(Xt_test, yt_test))
                acc_t.append(twin.score(Xt_test, yt_test))
            rows.append((f"{source[0].upper()}→{target[0].upper()}", name, np.mean(acc),
                         np.std(acc, ddof=1) if seeds > 1 else 0.0, np.mean(acc_t),
                         np.mean(acc_t) - np.mean(acc), time.perf_counter() - t0))
    return rows


rows = run(args.seeds, args.labeled_ratio)

# %%
# Results
# -------
print(f"Office-Caltech10 SURF, L% = {100 * args.labeled_ratio:.0f}, {args.seeds} seeds "
      "(accuracy in %, NTG in points; NTG > 0 means negative transfer)")
print(f"{'task':5s} {'method':7s} {'A(S,T)':>14s} {'A(∅,T)':>8s} {'NTG':>7s} {'time s':>7s}")
for task, name, acc, std, acc_t, ntg, secs in rows:
    print(f"{task:5s} {name:7s} {100 * acc:8.1f} ± {100 * std:3.1f} {100 * acc_t:8.1f} "
          f"{100 * ntg:+7.1f} {secs:7.1f}")

# %%
# Accuracy with the source (bars) next to the target-only twin (ticks), and
# the gap between them: bars below zero on the right mean the source helped.
tasks = list(dict.fromkeys(task for task, *_ in rows))
width = 0.8 / len(METHODS)
fig, (ax_acc, ax_ntg) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
for k, name in enumerate(METHODS):
    mine = [r for r in rows if r[1] == name]
    x = np.arange(len(tasks)) + (k - (len(METHODS) - 1) / 2) * width
    bars = ax_acc.bar(x, [100 * r[2] for r in mine], width,
                      yerr=[100 * r[3] for r in mine], label=name)
    ax_acc.plot(x, [100 * r[4] for r in mine], "_", color="k", markersize=14,
                label="A(∅, T)" if k == 0 else None)
    ax_ntg.bar(x, [100 * r[5] for r in mine], width, color=bars.patches[0].get_facecolor())
for ax in (ax_acc, ax_ntg):
    ax.set_xticks(np.arange(len(tasks)), tasks)
    ax.set_xlabel("source → target")
ax_acc.set_ylabel("target test accuracy (%)")
ax_acc.set_title("A(S, T) (bars) and A(∅, T) (ticks)")
ax_acc.legend(fontsize="small")
ax_ntg.axhline(0, color="k", linewidth=0.8)
ax_ntg.set_ylabel("NTG (points)")
ax_ntg.set_title("NTG = acc(A(∅, T)) − acc(A(S, T))")
plt.show()
