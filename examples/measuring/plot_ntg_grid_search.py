"""
Negative transfer as the source degrades: grid search and ``should_transfer``
=============================================================================

The paper's characterization of negative transfer (Wang et al., 2019, Sec. 3;
:ref:`method-factors`): the same algorithm, the same target, a source of
decreasing quality. Here the source is Office-Caltech10 caltech and the
target amazon (SURF features, bundled), and the source labels are redrawn at
random with probability ε_y (``PerturbedSource``).

Two scikit-learn idioms measure the gap without touching the target test set:

* ``GridSearchCV`` over ε_y with ``NegativeTransferGap`` (which fits A(S, T)
  and its target-only twin A(∅, T) on each training fold),
  ``neg_ntg_scorer`` (−NTG per held-out fold) and ``TargetSplit`` (folds over
  the labeled target rows only; source and unlabeled target rows are in every
  training fold);
* ``should_transfer``, which turns the same cross-validation into an
  interval for NTG and a recommendation.

Both are checked against the NTG on the held-out target test half. The
algorithm is a logistic regression on source ∪ labeled target (any
classifier or skntl estimator works the same way).

Run::

    python examples/measuring/plot_ntg_grid_search.py [--labeled-ratio 0.1]

It takes well under a minute on two CPU cores, in the gallery too.
"""

# %%
# Data: the paper's target split
# ------------------------------
# Half of the target is held out for testing; L% = 10% of the other half is
# labeled (``--labeled-ratio``), and all of it is unlabeled target data.
import argparse

import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV

from skntl import (
    NegativeTransferGap,
    PerturbedSource,
    TargetSplit,
    neg_ntg_scorer,
    negative_transfer_gap,
    pack,
    should_transfer,
    split_target,
)
from skntl.datasets import load_office_caltech

parser = argparse.ArgumentParser(description="NTG as the source labels degrade")
parser.add_argument("--labeled-ratio", type=float, default=0.1)
args = parser.parse_args()

Xs, ys = load_office_caltech("caltech", return_X_y=True)
Xt, yt = load_office_caltech("amazon", return_X_y=True)
Xt_l, yt_l, Xt_u, Xt_test, yt_test = split_target(Xt, yt, args.labeled_ratio, random_state=0)
print(f"{len(Xs)} source rows, {len(Xt_l)} labeled + {len(Xt_u)} unlabeled target rows, "
      f"{len(Xt_test)} target test rows")

# %%
# NTG by cross-validation over ε_y
# --------------------------------
# The packed form ``(X, y, sample_domain)`` is what ``GridSearchCV`` slices;
# ``groups=sd`` tells ``TargetSplit`` which rows are labeled target. The
# ``random_state`` of ``PerturbedSource`` fixes the perturbation, so every
# fold sees the same corrupted source.
X, y, sd = pack(Xs, ys, Xt_l, yt_l, Xt_u)
model = NegativeTransferGap(PerturbedSource(LogisticRegression(max_iter=300), random_state=0))
eps_grid = [0.0, 0.25, 0.5, 0.75, 0.9, 1.0]
grid = GridSearchCV(
    model,
    {"estimator__eps_y": eps_grid},
    scoring={"accuracy": "accuracy", "neg_ntg": neg_ntg_scorer},
    refit="accuracy",
    cv=TargetSplit(5, random_state=0),
)
grid.fit(X, y, sample_domain=sd, groups=sd)
cv_ntg = -grid.cv_results_["mean_test_neg_ntg"]
cv_ntg_std = grid.cv_results_["std_test_neg_ntg"]
print("best ε_y by target accuracy:", grid.best_params_["estimator__eps_y"])

# %%
# The same gap on the held-out test half
# --------------------------------------
# ``negative_transfer_gap`` fits both models on all the training data and
# scores them on the test half, which the search above never saw.
test_ntg = []
for eps in eps_grid:
    est = PerturbedSource(LogisticRegression(max_iter=300), eps_y=eps, random_state=0)
    res = negative_transfer_gap(est, Xs, ys, Xt_l, yt_l, Xt_u, Xt_test, yt_test)
    test_ntg.append(res.ntg)
print(f"{'ε_y':>5} {'NTG (CV)':>12} {'NTG (test)':>11}")
for eps, ntg, std, t in zip(eps_grid, cv_ntg, cv_ntg_std, test_ntg):
    print(f"{eps:5.2f} {100 * ntg:6.1f} ± {100 * std:3.1f} {100 * t:11.1f}")

# %%
# Should I use this source?
# -------------------------
# ``should_transfer`` repeats the cross-validation over the labeled target
# and returns an interval for NTG: "transfer" when it lies below 0, "target
# only" when it lies above 0.
checks = {}
for eps in (0.0, 1.0):
    est = PerturbedSource(LogisticRegression(max_iter=300), eps_y=eps, random_state=0)
    checks[eps] = should_transfer(est, Xs, ys, Xt_l, yt_l, Xt_u, random_state=0)
    r = checks[eps]
    print(f"ε_y = {eps}: {r.recommendation!r}, NTG {100 * r.ntg:+.1f} points, "
          f"{100 * r.confidence:.0f}% interval [{100 * r.ci[0]:+.1f}, {100 * r.ci[1]:+.1f}]")

# %%
# NTG grows as the source labels degrade
# --------------------------------------
# Below zero the source helps; above zero it hurts. The error bars are the
# standard deviations over the cross-validation folds; the intervals at
# ε_y = 0 and 1 are ``should_transfer``'s.
fig, ax = plt.subplots(figsize=(6.5, 4), layout="constrained")
ax.errorbar(eps_grid, 100 * cv_ntg, yerr=100 * cv_ntg_std, marker="o", capsize=3,
            label="GridSearchCV + TargetSplit (labeled target only)")
ax.plot(eps_grid, 100 * np.array(test_ntg), "s--", label="held-out target test half")
for eps, r in checks.items():
    ax.plot([eps, eps], [100 * r.ci[0], 100 * r.ci[1]], color="C3", linewidth=6, alpha=0.4,
            label="should_transfer interval" if eps == 0 else None)
ax.axhline(0, color="k", linewidth=0.8)
ax.set_xlabel("ε_y (fraction of source labels redrawn)")
ax.set_ylabel("NTG (points)")
ax.set_title("caltech → amazon, logistic regression")
ax.legend(fontsize="small")
plt.show()
