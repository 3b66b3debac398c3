"""Does ``audit_source`` find the corrupted source rows?

For every (task, corruption, estimator, seed): split the target
(``split_target``, 30% of the target-train half labeled), corrupt the source
with one kind of noise at ε = 0.7 (``perturb_source``), run ``audit_source``
and score how well a low weight finds the corrupted rows (ROC AUC). Writes a
markdown report (default ``benchmarks/results/source_audit.md``).

* ``label``: ``perturb_source(Xs, ys, 0.0, 0.7)``; the positives are the rows
  whose label actually changed. A label redrawn to its own class leaves a
  clean row that is neither positive nor negative, so those rows are left out.
* ``input``: ``perturb_source(Xs, ys, 0.7, 0.0)``; the positives are the rows
  whose features were corrupted (``x_mask``).

Estimators: ``DANN(gate=True, max_epochs=30)`` (skntl's default gate, the
study's epochs) and ``KMM()``. Tasks: the study's DeCAF6 W→D, SURF C→A and
D→A, and the JDA digits MNIST→USPS.

``--study rule`` instead compares suspect rules (a threshold on the relative
weight against the lowest fraction of the rows) on the development tasks
SURF A→W and W→C only, with a clean source as well, and writes
``benchmarks/results/source_audit_rule.md``.

``--study score`` compares suspicion scores on the same development tasks:
the audit's weight order against how well each row's label agrees with
classifiers fitted on the source (out of fold) or on the labeled target, and
rank sums of them; it writes ``benchmarks/results/source_audit_score.md``.

Run (≈ 3-5 min on 2 shared cores; the rule study ≈ 1.5 min, the score study ≈ 1 min)::

    SKNTL_DATA=/path/to/data python benchmarks/validate_source_audit.py --n-jobs 2
    SKNTL_DATA=/path/to/data python benchmarks/validate_source_audit.py --study rule
    SKNTL_DATA=/path/to/data python benchmarks/validate_source_audit.py --study score
"""

import argparse
import os
import platform
import sys
import time
import warnings
from functools import partial
from itertools import product

import numpy as np
import sklearn
import torch
from joblib import Parallel, delayed
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import roc_auc_score
from threadpoolctl import threadpool_limits

from skntl import DANN, KMM, split_target
from skntl.audit import _given_label_proba, _weight_order, audit_source
from skntl.experiments._tasks import load_task
from skntl.perturbation import perturb_source

TASKS = ["decaf6:W->D", "surf:C->A", "surf:D->A", "digits:mnist_jda->usps_jda"]
DEV_TASKS = ["surf:A->W", "surf:W->C"]
EPS = 0.7
LABELED_RATIO = 0.3
#: corruption -> (eps_x, eps_y)
CORRUPTIONS = {"label": (0.0, EPS), "input": (EPS, 0.0)}
DEV_CORRUPTIONS = {"clean": (0.0, 0.0), **CORRUPTIONS}
ESTIMATORS = ("DANN_gate", "KMM")
TARGET_AUC = 0.8
#: suspect rules compared by ``--study rule``: name -> (kind, parameter)
RULES = {
    "relative weight < 0.1": ("threshold", 0.1),
    "relative weight < 0.25": ("threshold", 0.25),
    "relative weight < 0.5": ("threshold", 0.5),
    "lowest 5%": ("fraction", 0.05),
    "lowest 10% (default)": ("fraction", 0.1),
    "lowest 20%": ("fraction", 0.2),
}
RESULTS = os.path.join(os.path.dirname(__file__), "results")
DEFAULT_OUT = {
    "validation": os.path.join(RESULTS, "source_audit.md"),
    "rule": os.path.join(RESULTS, "source_audit_rule.md"),
    "score": os.path.join(RESULTS, "source_audit_score.md"),
}


def _estimator(name, seed):
    if name == "DANN_gate":
        return DANN(gate=True, max_epochs=30, random_state=seed)
    # random_state only fixes the median heuristic's subsample (> 1000 rows)
    return KMM(random_state=seed)


def _rule_counts(audit, positives, rows):
    """Per suspect rule: rows flagged, flagged positives (among ``rows``), all flagged."""
    relative = audit["relative_weight"].to_numpy()
    rank = audit["rank"].to_numpy()
    out = {}
    for name, (kind, value) in RULES.items():
        if kind == "threshold":
            flagged = relative < value
        else:
            flagged = rank <= int(np.ceil(value * len(rank) - 1e-9))
        out[name] = (
            int(flagged[rows].sum()),
            int((flagged & positives)[rows].sum()),
            float(flagged.mean()),
        )
    return out


def _positives(ys, yp, x_mask, y_mask, eps_y):
    """The corrupted rows and the rows scored (labels redrawn to their own class: left out)."""
    if eps_y > 0:
        positives = y_mask & (yp != ys)
        return positives, ~y_mask | positives
    return x_mask.copy(), np.ones(len(ys), dtype=bool)


def run_one(task, corruption, estimator, seed, eps_x, eps_y, order="agreement"):
    torch.set_num_threads(1)
    Xs, ys, Xt, yt = load_task(task)
    with threadpool_limits(1), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        t0 = time.perf_counter()
        Xt_l, yt_l, Xt_u, _, _ = split_target(Xt, yt, LABELED_RATIO, random_state=seed)
        Xp, yp, x_mask, y_mask = perturb_source(Xs, ys, eps_x, eps_y, random_state=seed)
        audit = audit_source(
            _estimator(estimator, seed), Xp, yp, Xt_l, yt_l, Xt_u, order=order, random_state=seed
        )
        seconds = time.perf_counter() - t0
    collapsed = any(issubclass(w.category, ConvergenceWarning) for w in caught)
    positives, rows = _positives(ys, yp, x_mask, y_mask, eps_y)
    weight = audit["weight"].to_numpy()
    weight_order = _weight_order(audit["discriminator"].to_numpy(), weight)
    relative = audit["relative_weight"].to_numpy()
    rank = audit["rank"].to_numpy()
    suspect = audit["suspect"].to_numpy()
    has_both = 0 < positives[rows].sum() < rows.sum()
    return dict(
        task=task,
        corruption=corruption,
        estimator=estimator,
        seed=seed,
        n_source=len(ys),
        n_rows=int(rows.sum()),
        n_positive=int(positives[rows].sum()),
        auc_weight=roc_auc_score(positives[rows], -weight[rows]) if has_both else np.nan,
        auc_rank=roc_auc_score(positives[rows], -rank[rows]) if has_both else np.nan,
        auc_weight_order=(
            roc_auc_score(positives[rows], -weight_order[rows]) if has_both else np.nan
        ),
        n_suspect=int(suspect[rows].sum()),
        suspect_hits=int((suspect & positives)[rows].sum()),
        rel_positive=float(relative[positives].mean()) if positives.any() else np.nan,
        rel_negative=float(relative[rows & ~positives].mean()),
        at_min=float(np.mean(weight == weight.min())),
        rules=_rule_counts(audit, positives, rows),
        collapsed=collapsed,
        label_aware=audit.attrs["label_aware"],
        seconds=seconds,
    )


#: suspicion scores compared by ``--study score`` (higher = more suspicious)
SCORES = (
    "weight",
    "model agreement",
    "source CV agreement",
    "target agreement",
    "weight + model agreement",
    "weight + source CV agreement",
    "weight + target agreement",
    # second round, after seeing the first
    "source CV agreement, C=0.1",
    "source kNN agreement",
    "source CV + target agreement",
    "weight + source CV + target agreement",
    # third round: the gate's label-conditional part, log ω(x, y) − log ω(x)
    "conditional weight",
    "conditional weight + target agreement",
    # fourth round (written before its runs): label agreement read in the fitted
    # method's own feature space F(x) (``transform``; KMM, which has none: the
    # inputs), a source-CV model that also trains on the labeled target rows,
    # and one that first drops the half of each training fold it trusts least
    "feature target agreement",
    "feature source CV agreement",
    "pooled CV agreement",
    "cleaned CV agreement",
    "weight + feature target agreement",
    "weight + pooled CV agreement",
    "weight + cleaned CV agreement",
    # fifth round (written before its runs): the adopted agreement combined with the
    # weight so that either can flag a row; adopted only if its smallest development
    # cell beats the agreement's (0.82) by at least 0.01
    "most suspicious of weight, cleaned CV agreement",
    "2 × cleaned CV agreement + weight",
)
#: reported next to the candidates, never selected: a source-CV model fitted on
#: the *true* labels, a ceiling for any label-agreement score on these features
ORACLES = ("oracle: clean-label CV agreement",)


def _linear_model(C=1.0):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=500))


def _knn_agreement(X, y, k=10):
    """Share of each row's k nearest other source rows (standardised) with its label."""
    from sklearn.neighbors import NearestNeighbors
    from sklearn.preprocessing import StandardScaler

    Z = StandardScaler().fit_transform(X)
    _, idx = NearestNeighbors(n_neighbors=min(k + 1, len(Z))).fit(Z).kneighbors(Z)
    return (y[idx[:, 1:]] == y[:, None]).mean(axis=1)


def _scores(audit, model, Xs, ys, Xt_l, yt_l, seed, ys_true):
    """Every candidate suspicion score of ``SCORES`` for the source rows."""
    from scipy.stats import rankdata
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    base = -audit["discriminator"].to_numpy()
    if not np.isfinite(base).all():
        base = -audit["weight"].to_numpy()
    model_p = _given_label_proba(model.predict_proba(Xs), model.classes_, ys)
    counts = np.bincount(np.unique(ys, return_inverse=True)[1])
    folds = StratifiedKFold(min(5, int(counts.min())) if counts.min() >= 2 else 2,
                            shuffle=True, random_state=seed)
    cv_proba = cross_val_predict(_linear_model(), Xs, ys, cv=folds, method="predict_proba")
    cv_p = _given_label_proba(cv_proba, np.unique(ys), ys)
    cv_proba01 = cross_val_predict(_linear_model(0.1), Xs, ys, cv=folds, method="predict_proba")
    cv01_p = _given_label_proba(cv_proba01, np.unique(ys), ys)
    target = _linear_model().fit(Xt_l, yt_l)
    target_p = _given_label_proba(target.predict_proba(Xs), target.classes_, ys)

    def rank(v):
        return rankdata(v) / len(v)

    single = {
        "weight": base,
        "model agreement": -model_p,
        "source CV agreement": -cv_p,
        "target agreement": -target_p,
    }
    out = dict(single)
    for name in ("model agreement", "source CV agreement", "target agreement"):
        out[f"weight + {name}"] = rank(base) + rank(single[name])
    out["source CV agreement, C=0.1"] = -cv01_p
    out["source kNN agreement"] = -_knn_agreement(np.asarray(Xs, dtype=float), np.asarray(ys))
    out["source CV + target agreement"] = rank(-cv_p) + rank(-target_p)
    out["weight + source CV + target agreement"] = rank(base) + rank(-cv_p) + rank(-target_p)
    conditional = base  # KMM has no discriminator: its weight
    if hasattr(model, "_source_gate_logits") and audit.attrs["label_aware"]:
        Xf = model._predict_input(Xs)
        marginal = np.asarray(model._eval_chunks(
            lambda xb: model._source_gate_logits(xb, None), Xf), dtype=float)
        d = np.clip(audit["discriminator"].to_numpy(), 1e-12, 1 - 1e-12)
        conditional = -(np.log(d) - np.log1p(-d) - marginal)
    out["conditional weight"] = conditional
    out["conditional weight + target agreement"] = rank(conditional) + rank(-target_p)

    # fourth round
    deep = hasattr(model, "transform") and hasattr(model, "predict_weights")
    Fs, Ft = (model.transform(Xs), model.transform(Xt_l)) if deep else (Xs, Xt_l)
    feature_target = _linear_model().fit(Ft, yt_l)
    feature_target_p = _given_label_proba(feature_target.predict_proba(Fs),
                                          feature_target.classes_, ys)
    out["feature target agreement"] = -feature_target_p
    out["feature source CV agreement"] = -_fold_agreement(Fs, ys, folds)
    pooled_p = _fold_agreement(Xs, ys, folds, extra=(Xt_l, yt_l))
    out["pooled CV agreement"] = -pooled_p
    # keep, in each training fold, the half of the rows the out-of-fold model
    # agreed with most (the first stage: the plain source CV agreement)
    keep = cv_p >= np.median(cv_p)
    cleaned_p = _fold_agreement(Xs, ys, folds, extra=(Xt_l, yt_l), keep=keep)
    out["cleaned CV agreement"] = -cleaned_p
    out["weight + feature target agreement"] = rank(base) + rank(-feature_target_p)
    out["weight + pooled CV agreement"] = rank(base) + rank(-pooled_p)
    out["weight + cleaned CV agreement"] = rank(base) + rank(-cleaned_p)
    # fifth round: a row counts as suspicious as its more suspicious score says
    out["most suspicious of weight, cleaned CV agreement"] = np.maximum(
        rank(base), rank(-cleaned_p))
    out["2 × cleaned CV agreement + weight"] = 2 * rank(-cleaned_p) + rank(base)
    out["oracle: clean-label CV agreement"] = -_fold_agreement(Xs, ys, folds, fit_y=ys_true)
    return out


def _fold_agreement(X, y, folds, *, extra=None, keep=None, fit_y=None):
    """Out-of-fold probability of each row's label ``y`` under a standardised
    logistic regression fitted on the other folds' rows (only those in ``keep``,
    with the labels ``fit_y``, default ``y``) plus the rows ``extra``."""
    X = np.asarray(X, dtype=float)
    fit_y = y if fit_y is None else fit_y
    keep = np.ones(len(y), dtype=bool) if keep is None else keep
    p = np.zeros(len(y))
    for train, test in folds.split(X, y):
        train = train[keep[train]]
        Xf, yf = X[train], fit_y[train]
        if extra is not None:
            Xf = np.concatenate([Xf, np.asarray(extra[0], dtype=float)])
            yf = np.concatenate([yf, extra[1]])
        clf = _linear_model().fit(Xf, yf)
        p[test] = _given_label_proba(clf.predict_proba(X[test]), clf.classes_, y[test])
    return p


def run_score(task, corruption, estimator, seed, eps_x, eps_y):
    torch.set_num_threads(1)
    Xs, ys, Xt, yt = load_task(task)
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        Xt_l, yt_l, Xt_u, _, _ = split_target(Xt, yt, LABELED_RATIO, random_state=seed)
        Xp, yp, x_mask, y_mask = perturb_source(Xs, ys, eps_x, eps_y, random_state=seed)
        model = _estimator(estimator, seed).fit(Xp, yp, Xt_l, yt_l, Xt_u)
        audit = audit_source(model, Xp, yp, refit=False)
        scores = _scores(audit, model, Xp, yp, Xt_l, yt_l, seed, ys)
    positives, rows = _positives(ys, yp, x_mask, y_mask, eps_y)
    return dict(
        task=task, corruption=corruption, estimator=estimator, seed=seed,
        auc={k: roc_auc_score(positives[rows], v[rows]) for k, v in scores.items()},
    )


def report_score(rows, args, elapsed):
    lines = ["# `audit_source`: which suspicion score? (development tasks only)", ""]
    lines += _header(args, elapsed, len(rows), _command(args))
    lines += [
        f"Protocol. Development tasks {', '.join(f'`{t}`' for t in DEV_TASKS)} only, seeds "
        f"0-{args.seeds - 1}, the validation's protocol (`split_target(..., "
        f"{LABELED_RATIO})`, ε = {EPS} label-only or input-only corruption, "
        "`DANN(gate=True, max_epochs=30)` and `KMM()`, the same positives). Each candidate "
        "orders the rows of one fit; the cell is the mean ROC AUC over seeds.",
        "",
        "Candidates: **weight**, the audit's order (D's output for the gate, the weight "
        "for KMM); **model agreement**, low probability of the row's own label under the "
        "fitted model (`predict_proba` on the source rows it was trained on); **source CV "
        "agreement**, the same from a standardised logistic regression fitted on the "
        "source alone, out of fold (5-fold); **target agreement**, the same from a "
        "standardised logistic regression fitted on the labeled target rows; "
        "**weight + X**, the mean of the two rows' percentile ranks. A second round, "
        "added after reading the first round's table (same tasks and seeds): the source "
        "CV agreement with `C=0.1`; **source kNN agreement**, the share of a row's 10 "
        "nearest source rows (standardised, Euclidean) that carry its label; and sums of "
        "the percentile ranks of two or three scores. A third round: **conditional "
        "weight**, the gate's joint logit minus its marginal logit on the same row, "
        "log ω(x, y) − log ω(x): the label's part of ω with the input's part taken out "
        "(KMM: its weight). A fourth round, written before its runs: **feature target "
        "agreement**, the target logistic regression fitted and read in the fitted "
        "method's own feature space F(x) (`transform`; KMM has none: its inputs); "
        "**feature source CV agreement**, the source CV model in that space; **pooled CV "
        "agreement**, the source CV model whose training folds also hold every labeled "
        "target row; **cleaned CV agreement**, the pooled model fitted only on the half of "
        "each training fold with the highest source CV agreement; and each plus the "
        "weight. **oracle: clean-label CV agreement** is the source CV model fitted on the "
        "*true* labels: a ceiling for label-agreement scores on these features, never a "
        "candidate. A fifth round, after the adoption and written before its runs: the "
        "adopted agreement with the weight, as the larger of the two percentile ranks (a "
        "row as suspicious as its more suspicious score says) or as twice the agreement's "
        "rank plus the weight's; adopted only if it beats the agreement's smallest cell by "
        "0.01 or more (the rule's tie margin).",
        "",
        "Adoption rule for the fourth round, written before its runs: the winner goes into "
        "`audit_source` only if its smallest DANN_gate development cell is at least "
        f"{TARGET_AUC}; only then are the validation tasks run with it, once.",
        "",
        "Selection rule, written before the runs: the candidate with the highest *smallest* "
        "cell over DANN_gate's (task, corruption) cells; within 0.01 of it, the one with "
        "fewer extra fits. KMM's cells are reported, not used.",
        "",
        "| estimator | score | " + " | ".join(
            f"{t} {c}" for t, c in product(DEV_TASKS, CORRUPTIONS)) + " | smallest |",
        "|---|---|" + "---|" * (len(DEV_TASKS) * len(CORRUPTIONS) + 1),
    ]
    smallest = {}
    for estimator, score in product(ESTIMATORS, SCORES + ORACLES):
        cells = []
        for task, corruption in product(DEV_TASKS, CORRUPTIONS):
            sub = _select(rows, task, corruption, estimator)
            cells.append(np.mean([r["auc"][score] for r in sub]))
        lines.append(f"| {estimator} | {score} | " + " | ".join(f"{c:.2f}" for c in cells)
                     + f" | {min(cells):.2f} |")
        if estimator == "DANN_gate" and score in SCORES:
            smallest[score] = min(cells)
    best = max(smallest.values())
    winner = next(s for s in SCORES if smallest[s] >= best - 0.01)
    adopted = smallest[winner] >= TARGET_AUC
    lines += [
        "",
        f"By the rule: **{winner}** (smallest cell {smallest[winner]:.2f}; the audit's "
        f"weight order: {smallest['weight']:.2f}).",
        "",
        (
            f"It reaches {TARGET_AUC} on every development cell, so by the fourth round's "
            "adoption rule it became `audit_source`'s label agreement and its default order "
            '(`order="agreement"`; `order="weight"` keeps the weight order). It does not '
            "use the transfer method: a second opinion next to the weight. The validation "
            "tasks were run with it once, afterwards (`benchmarks/results/source_audit.md`)."
            if adopted
            else f"No candidate reaches {TARGET_AUC} on every development cell; none is "
            "adopted, and the validation tasks have not been looked at with any of them."
        ),
    ]
    return "\n".join(lines) + "\n"


def _pm(values, digits=2):
    values = np.asarray(values, dtype=float)
    return f"{np.nanmean(values):.{digits}f} ± {np.nanstd(values, ddof=1):.{digits}f}"


def _header(args, elapsed, n_runs, command):
    return [
        "Command:",
        "",
        "```",
        command,
        "```",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, torch {torch.__version__}, scikit-learn "
        f"{sklearn.__version__}, numpy {np.__version__}; {args.n_jobs} joblib workers with "
        f"1 BLAS and 1 torch thread each, shared with other work; {n_runs} runs, total "
        f"{elapsed / 60:.1f} min.",
        "",
    ]


def _command(args):
    command = "SKNTL_DATA=/path/to/data python benchmarks/validate_source_audit.py"
    if args.study != "validation":
        command += f" --study {args.study}"
    if args.seeds != (5 if args.study == "validation" else 3):
        command += f" --seeds {args.seeds}"
    return command + f" --n-jobs {args.n_jobs}"


def report(rows, args, elapsed):
    lines = ["# `audit_source`: does it find the corrupted source rows?", ""]
    lines += _header(args, elapsed, len(rows), _command(args))
    lines += [
        f"Protocol. Tasks {', '.join(f'`{t}`' for t in TASKS)} (the study's, loaded with "
        f"`skntl.experiments._tasks.load_task`), seeds 0-{args.seeds - 1}. The seed fixes "
        f"`split_target(Xt, yt, {LABELED_RATIO}, random_state=seed)` (30% of the "
        "target-train half labeled, all of it unlabeled target), the perturbation and the "
        f"estimator. Two corruptions at ε = {EPS}, run separately: **label**, "
        f"`perturb_source(Xs, ys, 0.0, {EPS}, random_state=seed)`, positives = rows whose "
        "label actually changed (`y_mask & (yp != ys)`); rows whose label was redrawn to "
        "its own class are clean rows that were touched, and are left out of every number "
        f"below; **input**, `perturb_source(Xs, ys, {EPS}, 0.0, random_state=seed)` "
        "(feature-vector noise), positives = `x_mask`. Estimators: "
        "`DANN(gate=True, max_epochs=30, random_state=seed)` (skntl's default gate) and "
        "`KMM(random_state=seed)` (defaults; the seed only fixes the median heuristic's "
        "subsample), each fitted by `audit_source(est, Xp, yp, Xt_l, yt_l, Xt_u, "
        'random_state=seed)` with its defaults (`order="agreement"`, `fraction=0.1`).',
        "",
        "Metrics, mean ± std over seeds: **AUC(rank)**, the ROC AUC of `-audit.rank` for the "
        "positives (`sklearn.metrics.roc_auc_score`; 0.5 = chance, 1 = every corrupted row "
        "ranked before every clean one): the audit's default order, the label agreement; "
        "**AUC(−weight)**, the same for `-audit.weight`; **AUC(weight order)**, the same "
        'for the order of `order="weight"`, which for the gate follows D\'s output and '
        "so also orders the rows whose ω sits at its clamp (weights tied at the minimum: "
        "column *at min*); **suspects**: the share of `audit.suspect` rows that are "
        "positives, against the share of positives among all rows (*base*); **rel. "
        "weight**: mean `relative_weight` of positives / of clean rows. The suspect rule, "
        "the weight order's tie-break and the label agreement were chosen on the "
        "development tasks SURF A→W and W→C only (`--study rule`, `--study score`), never "
        "on these tasks; nothing here was tuned on them.",
        "",
    ]
    for key, what in (
        ("auc_rank", "the audit's order (label agreement, the default)"),
        ("auc_weight", "the weight alone (AUC(−weight))"),
    ):
        lines += [
            f"## Verdict: AUC ≥ {TARGET_AUC} at ε = {EPS} on every task with the default "
            f"gate (DANN), by {what}",
            "",
            "| task | label | input |",
            "|---|---|---|",
        ]
        verdicts = {}
        for task in TASKS:
            cells = []
            for corruption in CORRUPTIONS:
                sub = _select(rows, task, corruption, "DANN_gate")
                auc = np.nanmean([r[key] for r in sub])
                ok = auc >= TARGET_AUC
                verdicts[(task, corruption)] = ok
                cells.append(f"{auc:.3f} {'✓' if ok else '✗'}")
            lines.append(f"| {task} | " + " | ".join(cells) + " |")
        met = {c: all(verdicts[(t, c)] for t in TASKS) for c in CORRUPTIONS}
        lines += [
            "",
            *(
                f"* {c}-only corruption: **target {'met' if met[c] else 'not met'}** "
                f"({sum(verdicts[(t, c)] for t in TASKS)} of {len(TASKS)} tasks)."
                for c in CORRUPTIONS
            ),
            "",
        ]
    lines += [
        "## By task, corruption and estimator",
        "",
        "| task | corruption | estimator | rows | positives | AUC(rank) | AUC(−weight) "
        "| AUC(weight order) | suspects: positives (base) | rel. weight pos / clean "
        "| at min | collapsed | s per fit |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for task, corruption, estimator in product(TASKS, CORRUPTIONS, ESTIMATORS):
        sub = _select(rows, task, corruption, estimator)
        hits = sum(r["suspect_hits"] for r in sub)
        flagged = sum(r["n_suspect"] for r in sub)
        base = sum(r["n_positive"] for r in sub) / sum(r["n_rows"] for r in sub)
        lines.append(
            f"| {task} | {corruption} | {estimator} "
            f"| {np.mean([r['n_rows'] for r in sub]):.0f} "
            f"| {np.mean([r['n_positive'] for r in sub]):.0f} "
            f"| {_pm([r['auc_rank'] for r in sub])} | {_pm([r['auc_weight'] for r in sub])} "
            f"| {_pm([r['auc_weight_order'] for r in sub])} "
            f"| {hits / max(flagged, 1):.0%} ({base:.0%}) "
            f"| {np.mean([r['rel_positive'] for r in sub]):.2f} / "
            f"{np.mean([r['rel_negative'] for r in sub]):.2f} "
            f"| {np.mean([r['at_min'] for r in sub]):.0%} "
            f"| {sum(r['collapsed'] for r in sub)} "
            f"| {np.mean([r['seconds'] for r in sub]):.1f} |"
        )
    lines += [
        "",
        "*rows*: source rows scored (label corruption: all but the labels redrawn to their "
        "own class) and *positives*: corrupted rows among them, means over seeds; *at min*: "
        "share of the source rows tied at the smallest weight (the gate's ω clamp, KMM's "
        "zero weights); *collapsed*: fits that raised skntl's ConvergenceWarning.",
        "",
        "## Per seed: AUC(rank) / AUC(−weight)",
        "",
        "| task | corruption | estimator | "
        + " | ".join(f"seed {s}" for s in range(args.seeds))
        + " |",
        "|---|---|---|" + "---|" * args.seeds,
    ]
    for task, corruption, estimator in product(TASKS, CORRUPTIONS, ESTIMATORS):
        sub = sorted(_select(rows, task, corruption, estimator), key=lambda r: r["seed"])
        cells = [f"{r['auc_rank']:.2f} / {r['auc_weight']:.2f}" for r in sub]
        lines.append(f"| {task} | {corruption} | {estimator} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def report_rule(rows, args, elapsed):
    lines = ["# `audit_source`: which suspect rule? (development tasks only)", ""]
    lines += _header(args, elapsed, len(rows), _command(args))
    lines += [
        f"Protocol. Development tasks {', '.join(f'`{t}`' for t in DEV_TASKS)} only (none of "
        f"the validation tasks), seeds 0-{args.seeds - 1}, the validation's protocol "
        f"(`split_target(..., {LABELED_RATIO})`, `DANN(gate=True, max_epochs=30)` and "
        "`KMM()`), with three sources: **clean** (ε = 0), **label** (ε_y = 0.7; positives "
        "= labels that changed, labels redrawn to their own class left out) and **input** "
        "(ε_x = 0.7; positives = `x_mask`). Each rule flags rows of the same audit: "
        "*relative weight < t*, or the *lowest fraction* by `rank` (rows tied with the "
        "last one flagged are flagged too).",
        "",
        "*flagged*: share of the source rows flagged (on a clean source every flag is a "
        "false alarm); *precision*: share of the flagged rows that are positives (the "
        "base rate is the share of positives); *recall*: share of the positives flagged.",
        "",
        "| estimator | rule | clean: flagged | label: flagged | precision | recall "
        "| input: flagged | precision | recall |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for estimator, rule in product(ESTIMATORS, RULES):
        cells = []
        for corruption in DEV_CORRUPTIONS:
            sub = [r for r in rows if (r["estimator"], r["corruption"]) == (estimator, corruption)]
            frac = np.mean([r["rules"][rule][2] for r in sub])
            cells.append(f"{frac:.0%}")
            if corruption == "clean":
                continue
            flagged = sum(r["rules"][rule][0] for r in sub)
            hits = sum(r["rules"][rule][1] for r in sub)
            positives = sum(r["n_positive"] for r in sub)
            cells += [f"{hits / max(flagged, 1):.0%}", f"{hits / positives:.0%}"]
        lines.append(f"| {estimator} | {rule} | " + " | ".join(cells) + " |")
    lines += ["", "Base rates and AUCs of the same runs:", ""]
    lines += [
        "| estimator | corruption | base rate | AUC(−weight) | AUC(rank) | at min |",
        "|---|---|---|---|---|---|",
    ]
    for estimator, corruption in product(ESTIMATORS, CORRUPTIONS):
        sub = [r for r in rows if (r["estimator"], r["corruption"]) == (estimator, corruption)]
        base = sum(r["n_positive"] for r in sub) / sum(r["n_rows"] for r in sub)
        lines.append(
            f"| {estimator} | {corruption} | {base:.0%} | {_pm([r['auc_weight'] for r in sub])} "
            f"| {_pm([r['auc_rank'] for r in sub])} "
            f"| {np.mean([r['at_min'] for r in sub]):.0%} |"
        )
    return "\n".join(lines) + "\n"


def _select(rows, task, corruption, estimator):
    return [
        r
        for r in rows
        if (r["task"], r["corruption"], r["estimator"]) == (task, corruption, estimator)
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", choices=("validation", "rule", "score"), default="validation")
    parser.add_argument(
        "--seeds",
        type=int,
        default=None,
        help="number of seeds (default: 5 for validation, 3 for rule)",
    )
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    if args.seeds is None:
        args.seeds = 5 if args.study == "validation" else 3
    tasks, corruptions = {
        "validation": (TASKS, CORRUPTIONS),
        "rule": (DEV_TASKS, DEV_CORRUPTIONS),
        "score": (DEV_TASKS, CORRUPTIONS),
    }[args.study]
    for task in tasks:
        load_task(task)  # fail early when the data folder is missing
    grid = list(product(tasks, corruptions, ESTIMATORS, range(args.seeds)))
    # the slow fits first, so that the two workers finish together
    grid.sort(key=lambda g: (g[2] != "DANN_gate", g[0] not in ("digits:mnist_jda->usps_jda",)))
    run = {
        "validation": run_one,
        "rule": partial(run_one, order="weight"),  # the rules were compared on the weight order
        "score": run_score,
    }[args.study]
    t0 = time.perf_counter()
    rows = Parallel(n_jobs=args.n_jobs, verbose=5)(
        delayed(run)(task, corruption, estimator, seed, *corruptions[corruption])
        for task, corruption, estimator, seed in grid
    )
    elapsed = time.perf_counter() - t0
    text = {"validation": report, "rule": report_rule, "score": report_score}[args.study](
        rows, args, elapsed
    )
    out = args.out or DEFAULT_OUT[args.study]
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w", encoding="utf-8") as f:
        f.write(text)
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
