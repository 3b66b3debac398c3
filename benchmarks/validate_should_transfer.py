"""Does ``should_transfer`` agree with the true negative transfer gap?

On Office-Caltech10, for every (task, ε, L%, seed): split the target 50/50
(``split_target``), perturb the source with ε_x = ε_y = ε (``perturb_source``),
then

* ask ``should_transfer`` (cross-validation over the labeled target rows only),
* measure the true NTG on the held-out target test half
  (``negative_transfer_gap``, models fitted on all labeled rows),

and compare the recommendation with the sign of the true NTG. Writes a markdown
report (default ``benchmarks/results/should_transfer_office_caltech.md``).

Run (≈ 5-10 min on 2 cores)::

    SKNTL_DATA=/path/to/shared/data python benchmarks/validate_should_transfer.py
"""

import argparse
import os
import platform
import sys
import time
import warnings
from itertools import product

import numpy as np
import sklearn
from joblib import Parallel, delayed
from scipy import stats
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from skntl import split_target
from skntl.datasets import load_office_caltech
from skntl.metrics import negative_transfer_gap, should_transfer
from skntl.perturbation import perturb_source

# (source, target, features)
TASKS = [
    ("caltech", "amazon", "surf"),
    ("amazon", "caltech", "surf"),
    ("dslr", "amazon", "surf"),
    ("webcam", "caltech", "surf"),
    ("webcam", "dslr", "decaf6"),
    ("dslr", "webcam", "decaf6"),
]
EPS = (0.0, 0.7, 0.9)
RATIOS = (0.1, 0.3)
DEFAULT_OUT = os.path.join(os.path.dirname(__file__), "results",
                           "should_transfer_office_caltech.md")


def _estimator():
    return LogisticRegression(max_iter=1000)


def _task_name(source, target, features):
    return f"{source[0].upper()}→{target[0].upper()} ({features})"


def run_one(data, task, eps, ratio, seed, cv, n_repeats, confidence):
    Xs, ys, Xt, yt = data
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        t0 = time.perf_counter()
        Xt_l, yt_l, Xt_u, Xt_test, yt_test = split_target(Xt, yt, ratio, random_state=seed)
        Xp, yp, _, _ = perturb_source(Xs, ys, eps, eps, random_state=seed)
        est = should_transfer(_estimator(), Xp, yp, Xt_l, yt_l, Xt_u, cv=cv,
                              n_repeats=n_repeats, confidence=confidence, random_state=seed)
        t1 = time.perf_counter()
        true = negative_transfer_gap(_estimator(), Xp, yp, Xt_l, yt_l, Xt_u, Xt_test, yt_test)
    rows = est.row_ntg  # per-row held-out NTG: for the paired interval compared below
    return dict(row_mean=rows.mean(), row_se=rows.std(ddof=1) / np.sqrt(len(rows)),
                task=task, eps=eps, ratio=ratio, seed=seed, n_labeled=len(yt_l),
                n_test=len(yt_test), recommendation=est.recommendation, est_ntg=est.ntg,
                ci_low=est.ci[0], ci_high=est.ci[1], true_ntg=true.ntg,
                true_acc=true.transfer_accuracy, true_acc_t=true.target_only_accuracy,
                seconds=t1 - t0)


def _agrees(rec, true_ntg):
    if rec == "transfer":
        return true_ntg < 0
    if rec == "target only":
        return true_ntg > 0
    return None


def _summary(rows):
    n = len(rows)
    decided = [r for r in rows if r["recommendation"] != "undecided"]
    agree = sum(_agrees(r["recommendation"], r["true_ntg"]) for r in decided)
    sign_agree = sum(np.sign(r["est_ntg"]) == np.sign(r["true_ntg"]) for r in rows)
    covered = sum(r["ci_low"] <= r["true_ntg"] <= r["ci_high"] for r in rows)
    return n, len(decided), agree, sign_agree, covered


def _pct(a, b):
    return f"{100 * a / b:.0f}%" if b else "–"


def report(rows, args, elapsed):
    lines = [
        "# `should_transfer` vs the true NTG on Office-Caltech10",
        "",
        "Command:",
        "",
        "```",
        "SKNTL_DATA=/work/shared/data python benchmarks/validate_should_transfer.py"
        + (f" --seeds {args.seeds}" if args.seeds != 5 else ""),
        "```",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, scikit-learn {sklearn.__version__}, "
        f"numpy {np.__version__}; {args.n_jobs} joblib workers with 1 BLAS thread each; "
        f"total {elapsed / 60:.1f} min.",
        "",
        "Protocol. For each task, ε ∈ {0, 0.7, 0.9} (ε_x = ε_y = ε, feature-vector noise of "
        "`perturb_source`), L% ∈ {10, 30} and seeds 0-"
        f"{args.seeds - 1} (the seed fixes the target split, the labeled subset, the "
        "perturbation and the folds): `split_target` gives labeled / unlabeled / test target "
        f"parts; `should_transfer(LogisticRegression(max_iter=1000), ..., cv={args.cv}, "
        f"n_repeats={args.n_repeats}, confidence={args.confidence})` sees only the source "
        "and the target-train half; the **true NTG** is `negative_transfer_gap` on the "
        "held-out test half, with both models fitted on all labeled rows. SURF features are "
        "the GFK release (800-d), DeCAF6 (4096-d) exists offline for dslr and webcam only.",
        "",
        "A recommendation **agrees** when \"transfer\" meets true NTG < 0 or \"target only\" "
        "meets true NTG > 0. \"Undecided\" is counted apart, never as agreement. *Sign of "
        "the estimate* compares the sign of the estimated NTG with the true one on every "
        "setting (what a user who ignores the interval would get). *Coverage* is how often "
        "the interval contains the true NTG. It is only indicative: the interval is for "
        "models fitted on (cv−1)/cv of the labels, and the true NTG carries its own "
        "test-set noise.",
        "",
    ]
    n, n_dec, agree, sign_agree, covered = _summary(rows)
    lines += [
        "## Headline",
        "",
        f"* Settings: {n} (= {len(TASKS)} tasks × 3 ε × 2 L% × {args.seeds} seeds).",
        f"* Decisive recommendations: {n_dec}/{n} ({_pct(n_dec, n)}); undecided: "
        f"{n - n_dec}/{n} ({_pct(n - n_dec, n)}).",
        f"* **Agreement of decisive recommendations with the true NTG: {agree}/{n_dec} "
        f"({_pct(agree, n_dec)})**.",
        f"* Sign of the point estimate agrees with the true NTG: {sign_agree}/{n} "
        f"({_pct(sign_agree, n)}).",
        f"* Coverage of the {args.confidence:.0%} interval: {covered}/{n} ({_pct(covered, n)}).",
        "",
        "## By ε and L%",
        "",
        "| ε | L% | settings | true NTG > 0 | decisive | agree (of decisive) | undecided "
        "| sign agrees | mean true NTG | mean est. NTG |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for eps, ratio in product(EPS, RATIOS):
        sub = [r for r in rows if r["eps"] == eps and r["ratio"] == ratio]
        n, n_dec, agree, sign_agree, _ = _summary(sub)
        pos = sum(r["true_ntg"] > 0 for r in sub)
        lines.append(
            f"| {eps} | {100 * ratio:.0f} | {n} | {pos} | {n_dec} | {agree} "
            f"({_pct(agree, n_dec)}) | {n - n_dec} | {sign_agree} ({_pct(sign_agree, n)}) | "
            f"{100 * np.mean([r['true_ntg'] for r in sub]):+.1f} | "
            f"{100 * np.mean([r['est_ntg'] for r in sub]):+.1f} |"
        )
    # other confidence levels: the same centre, the half-width scaled by the ratio of
    # t quantiles (J - 1 degrees of freedom); and, for comparison, a naive paired
    # t-interval over the labeled rows' held-out NTGs (result.row_ntg)
    J = args.cv * args.n_repeats
    lines += [
        "",
        "## Interval: confidence level and method (same runs)",
        "",
        "`corrected t` is `should_transfer`'s interval (Nadeau-Bengio corrected t over the "
        f"{J} fold NTGs), rescaled to other levels. `paired rows` is a plain t-interval "
        "over the labeled rows' held-out NTGs (`result.row_ntg`), which ignores that rows "
        "of one fold share their models; it was the alternative considered.",
        "",
        "| method | confidence | decisive | agree (of decisive) | undecided | coverage |",
        "|---|---|---|---|---|---|",
    ]
    for method, level in product(("corrected t", "paired rows"), (0.8, 0.9, 0.95)):
        rescaled = []
        for r in rows:
            if method == "corrected t":
                q = stats.t.ppf(0.5 + level / 2, J - 1) / stats.t.ppf(
                    0.5 + args.confidence / 2, J - 1)
                centre, half = r["est_ntg"], q * (r["ci_high"] - r["ci_low"]) / 2
            else:
                q = stats.t.ppf(0.5 + level / 2, r["n_labeled"] - 1)
                centre, half = r["row_mean"], q * r["row_se"]
            low, high = centre - half, centre + half
            rec = "transfer" if high < 0 else "target only" if low > 0 else "undecided"
            rescaled.append({**r, "recommendation": rec, "ci_low": low, "ci_high": high})
        n, n_dec, agree, _, covered = _summary(rescaled)
        lines.append(f"| {method} | {level} | {n_dec}/{n} ({_pct(n_dec, n)}) | {agree}/{n_dec} "
                     f"({_pct(agree, n_dec)}) | {n - n_dec} | {covered}/{n} "
                     f"({_pct(covered, n)}) |")
    lines += [
        "",
        "## By task (NTG in accuracy points × 100, mean over seeds)",
        "",
        "| task | ε | L% | labeled | test | acc A(S,T) | acc A(∅,T) | true NTG | est. NTG "
        "| transfer / target only / undecided | agree |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for task, eps, ratio in product([_task_name(*t) for t in TASKS], EPS, RATIOS):
        sub = [r for r in rows if (r["task"], r["eps"], r["ratio"]) == (task, eps, ratio)]
        recs = [r["recommendation"] for r in sub]
        _, n_dec, agree, _, _ = _summary(sub)
        lines.append(
            f"| {task} | {eps} | {100 * ratio:.0f} | {sub[0]['n_labeled']} | "
            f"{sub[0]['n_test']} | {100 * np.mean([r['true_acc'] for r in sub]):.1f} | "
            f"{100 * np.mean([r['true_acc_t'] for r in sub]):.1f} | "
            f"{100 * np.mean([r['true_ntg'] for r in sub]):+.1f} | "
            f"{100 * np.mean([r['est_ntg'] for r in sub]):+.1f} | "
            f"{recs.count('transfer')} / {recs.count('target only')} / "
            f"{recs.count('undecided')} | {agree}/{n_dec} |"
        )
    wrong = [r for r in rows if _agrees(r["recommendation"], r["true_ntg"]) is False]
    lines += ["", "## Decisive recommendations that disagree", ""]
    if not wrong:
        lines.append("None.")
    else:
        lines += ["| task | ε | L% | seed | recommendation | est. NTG [interval] | true NTG |",
                  "|---|---|---|---|---|---|---|"]
        for r in wrong:
            lines.append(
                f"| {r['task']} | {r['eps']} | {100 * r['ratio']:.0f} | {r['seed']} | "
                f"{r['recommendation']} | {100 * r['est_ntg']:+.1f} "
                f"[{100 * r['ci_low']:+.1f}, {100 * r['ci_high']:+.1f}] | "
                f"{100 * r['true_ntg']:+.1f} |"
            )
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--cv", type=int, default=5)
    parser.add_argument("--n-repeats", type=int, default=3)
    parser.add_argument("--confidence", type=float, default=0.9)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--out", default=DEFAULT_OUT)
    args = parser.parse_args()

    data = {}
    for source, target, features in TASKS:
        Xs, ys = load_office_caltech(source, features=features, return_X_y=True)
        Xt, yt = load_office_caltech(target, features=features, return_X_y=True)
        data[_task_name(source, target, features)] = (Xs, ys, Xt, yt)
    grid = list(product(data, EPS, RATIOS, range(args.seeds)))
    t0 = time.perf_counter()
    rows = Parallel(n_jobs=args.n_jobs, verbose=5)(
        delayed(run_one)(data[task], task, eps, ratio, seed, args.cv, args.n_repeats,
                         args.confidence)
        for task, eps, ratio, seed in grid
    )
    elapsed = time.perf_counter() - t0
    text = report(rows, args, elapsed)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(text)
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
