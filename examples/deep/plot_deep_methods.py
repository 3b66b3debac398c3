"""
The six deep methods with and without the gate, in the Table 2 setting
======================================================================

Every deep method of the paper — DANN, DAN, DeepCORAL, ADDA, PADA and GTA —
trained on a perturbed source with and without the discriminator gate, next
to its target-only twin (``fit_target_only``, :ref:`decision D16
<decision-d16>`), on two real tasks found offline:

* Office-Caltech10 amazon → webcam, SURF features (bundled with skntl), the
  default MLP;
* digits MNIST → USPS at 32×32 with GTA's modified LeNet (a subsample, so
  that the twelve networks train in minutes on a CPU).

The setting is Table 2's (:ref:`method-table2`): ε_x = ε_y = 0.7, L% = 10% of the
target-train half labeled, at most 3 labels per class (``--max-per-class``).
Each row prints the target-test accuracy of the method, of its gated version
and of its twin, the two NTGs (acc(twin) − acc(method), positive = negative
transfer), Δ = acc(gated) − acc(method), and the gate discriminator's mean
output D on clean and on perturbed source rows (:ref:`decisions D4
<decision-d4>` and :ref:`D27 <decision-d27>`: the quantity of Fig. 4(h);
ω = D/(1−D), so a lower D means a lower weight).

Run::

    python examples/deep/plot_deep_methods.py [--seeds 3] [--tasks office digits]
                                               [--paper-gate] [--omega-normalize]

The digits task needs ``SKNTL_DATA`` (or ``--data-home``). The full study
(3 seeds, 60 epochs on A→W and 10 on MNIST→USPS) takes over an hour on two CPU
cores (A→W about 6 minutes, MNIST→USPS about an hour); its committed output is
at the end of this page. The documentation gallery
sets ``SKNTL_GALLERY=1``, which makes the defaults 1 seed, the office task
only, 15 epochs and 1 thread (under a minute).
"""

# %%
# Settings
# --------
# Command-line flags, with the gallery's quicker defaults.
import argparse
import os
import sys
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.base import clone

from skntl import ADDA, DAN, DANN, GTA, PADA, DeepCORAL, fit_target_only, split_target
from skntl.datasets import load_digits_pair, load_office_caltech
from skntl.perturbation import perturb_source

METHODS = {"DANN": DANN, "DAN": DAN, "DeepCORAL": DeepCORAL, "ADDA": ADDA, "PADA": PADA,
           "GTA": GTA}


def office_task(data_home):
    Xs, ys = load_office_caltech("amazon", return_X_y=True)
    Xt, yt = load_office_caltech("webcam", return_X_y=True)
    return "A→W (Office-Caltech10 SURF, MLP)", Xs, ys, Xt, yt, dict(max_epochs=60)


def digits_task(data_home, n_source=1000, n_target=1000):
    Xs, ys, Xt, yt = load_digits_pair("mnist", "usps", data_home=data_home, return_X_y=True)
    rng = np.random.RandomState(0)
    s = rng.choice(len(Xs), n_source, replace=False)
    t = rng.choice(len(Xt), n_target, replace=False)
    params = dict(module="lenet", max_epochs=10, discriminator_hidden=(500, 500))
    return "MNIST→USPS (32×32, LeNet)", Xs[s], ys[s], Xt[t], yt[t], params


TASKS = {"office": office_task, "digits": digits_task}

parser = argparse.ArgumentParser(description="Six deep methods ± gate, Table 2 setting")
parser.add_argument("--seeds", type=int, default=3)
parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
parser.add_argument("--eps", type=float, default=0.7)
parser.add_argument("--labeled-ratio", type=float, default=0.1)
parser.add_argument("--max-per-class", type=int, default=3,
                    help="cap on labels per class (Table 2: 3); 0 for no cap")
parser.add_argument("--omega-normalize", action="store_true",
                    help="divide the gate's ω by its batch mean (skntl's gate does already)")
parser.add_argument("--paper-gate", action="store_true",
                    help="use the paper's gate (one adversarial discriminator, ω as is) "
                         "instead of skntl's")
parser.add_argument("--data-home", default=None)
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--max-epochs", type=int, default=None,
                    help="override each task's number of epochs (e.g. 2 for a smoke run)")
if os.environ.get("SKNTL_GALLERY"):  # the documentation build (docs/conf.py)
    parser.set_defaults(seeds=1, tasks=["office"], max_epochs=15, threads=1)
args = parser.parse_args()
torch.set_num_threads(args.threads)

# %%
# Train every method, its gated version and its twin
# --------------------------------------------------
# The gated version is the same network with ``gate=True``; ``predict_weights``
# returns the gate discriminator's output D and the weight ω per source row.


def run_task(name, Xs, ys, Xt, yt, params, methods, seeds, eps, labeled_ratio, max_per_class):
    acc = {(m, kind): [] for m in methods for kind in ("plain", "gate", "twin")}
    d_mean = {(m, group): [] for m in methods for group in ("clean", "pert")}
    t0 = time.perf_counter()
    for seed in range(seeds):
        Xl, yl, Xu, Xte, yte = split_target(
            Xt, yt, labeled_ratio, max_labeled_per_class=max_per_class, random_state=seed
        )
        Xp, yp, x_mask, y_mask = perturb_source(Xs, ys, eps, eps, random_state=seed)
        perturbed = x_mask | y_mask  # input or label perturbed
        for m in methods:
            net = METHODS[m](random_state=seed, **params)
            gated = clone(net).set_params(gate=True).fit(Xp, yp, Xl, yl, Xu)
            models = {
                "plain": clone(net).fit(Xp, yp, Xl, yl, Xu),
                "gate": gated,
                "twin": fit_target_only(net, Xp, yp, Xl, yl, Xu),
            }
            for kind, est in models.items():
                acc[m, kind].append(100 * est.score(Xte, yte))
            d, _ = gated.predict_weights(Xp, yp)
            d_mean[m, "clean"].append(d[~perturbed].mean())
            d_mean[m, "pert"].append(d[perturbed].mean())
            print(f"  [{name.split()[0]} seed {seed}] {m} done, "
                  f"{time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    cap = "" if max_per_class is None else f", ≤{max_per_class} labels per class"
    print(f"\n{name}: eps_x = eps_y = {eps}, L% = {100 * labeled_ratio:.0f}{cap}, "
          f"{seeds} seed(s), {time.perf_counter() - t0:.0f} s")
    print(f"  {'method':<10} {'acc':>6} {'gated':>6} {'twin':>6} {'NTG':>6} {'NTG_g':>6} "
          f"{'Δ':>6} {'D clean':>8} {'D pert':>7}")
    for m in methods:
        a, g, t = (np.mean(acc[m, kind]) for kind in ("plain", "gate", "twin"))
        print(f"  {m:<10} {a:6.1f} {g:6.1f} {t:6.1f} {t - a:6.1f} {t - g:6.1f} {g - a:6.1f} "
              f"{np.mean(d_mean[m, 'clean']):8.3f} {np.mean(d_mean[m, 'pert']):7.3f}")
    return acc, d_mean


results = {}
for task in args.tasks:
    name, Xs, ys, Xt, yt, params = TASKS[task](args.data_home)
    if args.max_epochs is not None:
        params["max_epochs"] = args.max_epochs
    if args.paper_gate:
        params["gate_variant"] = "paper"
    if args.omega_normalize:
        params["omega_normalize"] = True
    results[name] = run_task(name, Xs, ys, Xt, yt, params, args.methods, args.seeds, args.eps,
                             args.labeled_ratio, args.max_per_class or None)

# %%
# Accuracy with and without the gate, and what the gate sees
# ----------------------------------------------------------
# Left: each method (bars) and its gated version, with the twin as a tick, so
# a bar below its tick is negative transfer. Right: the gate discriminator's
# mean output D on clean and on perturbed source rows; a gate that spots the
# perturbation gives the perturbed rows a lower D, hence a lower weight ω.
fig, axes = plt.subplots(len(results), 2, figsize=(11, 3.8 * len(results)),
                         layout="constrained", squeeze=False)
x = np.arange(len(args.methods))
for (ax_acc, ax_d), (name, (acc, d_mean)) in zip(axes, results.items()):
    for k, (kind, label) in enumerate([("plain", "method"), ("gate", "gated")]):
        ax_acc.bar(x + (k - 0.5) * 0.4, [np.mean(acc[m, kind]) for m in args.methods], 0.4,
                   label=label)
    ax_acc.plot(x, [np.mean(acc[m, "twin"]) for m in args.methods], "_", color="k",
                markersize=24, markeredgewidth=2, label="twin A(∅, T)")
    ax_acc.set_xticks(x, args.methods)
    ax_acc.set_ylabel("target test accuracy (%)")
    ax_acc.set_title(name, fontsize="medium")
    ax_acc.legend(fontsize="small")
    for k, (group, label) in enumerate([("clean", "clean rows"), ("pert", "perturbed rows")]):
        ax_d.bar(x + (k - 0.5) * 0.4, [np.mean(d_mean[m, group]) for m in args.methods], 0.4,
                 label=label, color=["C2", "C3"][k])
    ax_d.set_xticks(x, args.methods)
    ax_d.set_ylabel("mean D of the gated version")
    ax_d.set_title("gate discriminator on source rows", fontsize="medium")
    ax_d.legend(fontsize="small")
plt.show()

# %%
# The full study
# --------------
# The numbers above come from the quick settings. The committed output of the
# full study, with the commands that produced it
# (``examples/deep/plot_deep_methods.txt``):
#
# .. literalinclude:: plot_deep_methods.txt
#    :language: text
