"""Is ``SafeTransfer`` never worse than target-only? Validation on the study's tasks.

For every (task, estimator, ε, L%, seed): split the target 50/50 with L% of the
train half labeled (``split_target``, no cap per class), perturb the source with
ε_x = ε_y = ε (``perturb_source``), then

* run the cross-validation ``SafeTransfer`` runs (``should_transfer`` with
  SafeTransfer's defaults: ``cv=3, n_repeats=1, confidence=0.9,
  correction="learning_curve", random_state=seed``), keeping every fold's
  numbers at both label counts;
* fit the transfer model A(S, T) and its target-only twin A(∅, T) on all the
  data and score both on the held-out test half (the true NTG).

``SafeTransfer.fit`` refits exactly one of those two models (same clone, same
parameters, same ``random_state``), so its test accuracy is that of the arm it
chooses; ``tests/test_safe.py`` checks that identity. Recording the folds lets
one set of fits answer every fallback rule and both corrections.

Protocol, fixed before any run
------------------------------
* Test tasks (the study's, named by the issue): ``decaf6:W->D``, ``surf:C->A``,
  ``surf:D->A``, ``digits:mnist_jda->usps_jda``; ε ∈ {0, 0.3, 0.7, 0.9};
  L% ∈ {10, 30}; seeds 0-4; estimators ``DANN(gate=True)`` (defaults,
  ``random_state=seed``) and ``KMM()``.
* Development tasks: ``surf:A->W``, ``surf:W->C``, ``surf:A->C``,
  ``digits:usps_jda->mnist_jda``, same grid, KMM only, seeds 0-2 (a DANN
  development grid did not fit this machine's budget).
* Candidates: ``correction`` ∈ {"learning_curve", None} × ``fallback`` ∈
  {"transfer", "target only", "better_mean"}. Selection rule: the candidate
  with the lowest mean *regret* over the development cells,
  regret = acc(better of the two arms) − acc(SafeTransfer); a candidate within
  0.1 pp of the best loses to the issue's default (learning_curve, transfer).
  The test tasks are then reported once with the selected candidate; the other
  candidates' test numbers are printed for completeness, not for choosing.

Round 2: a conservative decision, on the recorded folds (written before it was run)
--------------------------------------------------------------------------------------
Round 1's choice misses the L% = 30 target on the test tasks: with 8-16 held-out
rows per fold the fold NTGs are noisy, and "the better mean" picks the losing
transfer on one seed in five where it loses by 14 pp. Round 2 asks whether deciding
*against* transfer unless the folds show it helps does better, using the same
fits (every rule below is a function of a cell's recorded folds; no new fits):

* Candidates: ``fallback="target only"`` with ``confidence`` ∈ {0.2, 0.4, 0.6,
  0.8} (transfer only when the interval's upper end is below 0; confidence → 0 is
  round 1's "better mean"), and the fixed margins "transfer only when the mean
  NTG < −m" for m ∈ {1, 2, 4} pp; each with ``correction`` ∈ {None,
  "learning_curve"}; plus round 1's selection (None, "better_mean").
* Selection rule, on the development cells only (KMM, seeds 0-2): a candidate is
  *feasible* when its mean regret over all development cells is ≤ 1.5 pp and its
  mean NTG ≤ 0 (the issue's average targets). Among feasible candidates, the
  lowest worst development cell NTG at L% = 30 wins; candidates within 0.5 pp of
  that worst-cell value are tied and the lowest mean regret among them wins (a
  remaining tie: the smaller departure from round 1, i.e. lower confidence or
  margin). With no feasible candidate, round 1's selection stays.
* The winner is then reported once on the test cells; every candidate's
  development and test numbers are printed (``--round 2``).

Amendment, after the first ``--round 2`` run and before any default changed: the
rule selected (learning_curve, target only, 0.6), but the test cells after the 31st
KMM one were fitted at one label count (round 1 selected ``correction=None``), so
no learning-curve candidate can be checked on the test tasks without refitting
them. The same rule over the candidates the test cells can answer (correction
None) selects (None, target only, 0.6), 0.05 pp of development regret behind at
half the cost; that is what ``SafeTransfer``'s defaults became. The first run
printed every candidate's test numbers together with the selection, so they were
seen before this amendment; the amendment follows from the development numbers
alone (``select_round2(dev, testable_only=True)``).

Added after round 2's adoption, used by no selection: ``--dev-dann`` runs the
development cells with ``DANN(gate=True)`` too (seeds 0-2, both label counts), so
that a later round has development evidence for the deep estimator; ``--round 2``
reports every candidate on them. Every selection above reads the KMM development
cells only.

Round 3: a second repeat of the folds (written before it was run)
-----------------------------------------------------------------
Round 2's defaults miss two targets with DANN_gate on the test tasks (mean regret
1.76 pp; the worst L% = 30 cell +1.04): with three folds of 8-16 held-out rows the
interval is wide, so a source that helps by a few points is rarely shown to help,
and one seed in five showed a losing transfer as a winning one. A second repeat of
the 3-fold split averages more held-out predictions and narrows the interval.

* Candidates: ``n_repeats`` ∈ {1, 2} × ``confidence`` ∈ {0.4, 0.6, 0.8}, each with
  ``cv=3``, ``fallback="target only"``, ``correction=None`` (round 2's adopted
  default is (1, 0.6)).
* New fits: the second repeat only. ``should_transfer`` draws one fold seed per
  repeat from ``RandomState(seed)``, in order, so its second repeat is
  ``should_transfer(..., n_repeats=1, random_state=rng)`` with ``rng`` a
  ``RandomState(seed)`` that has made its first draw; the first repeat is the
  recorded one. Stored in ``safe_transfer_repeat2_rows.jsonl``. (Checked on two
  cells: the second repeat equals ``should_transfer(..., n_repeats=2)``'s. A refit
  of the first repeat matches the recorded one exactly only when the cell's KMM
  is deterministic: round 1 fits ``KMM()`` with ``random_state=None``, whose
  median heuristic subsamples above 1000 rows; the folds are the same.)
* Selection: round 2's rule (feasible = mean regret ≤ 1.5 pp and mean NTG ≤ 0;
  lowest worst L% = 30 cell; within 0.5 pp, lowest regret; a remaining tie goes
  to the earlier candidate in the order (1, 0.6), (1, 0.4), (1, 0.8), (2, 0.6),
  (2, 0.4), (2, 0.8)) on the KMM development cells only (seeds 0-2). With no
  feasible candidate, round 2's default stays.
* Only if the winner has ``n_repeats=2`` are the test cells' second repeats
  fitted (KMM, then DANN_gate); the test tasks are then reported once with the
  winner, and every candidate's test numbers are printed for completeness. If
  the winner meets every target that round 2's default meets on the test cells
  and is no worse on the others, ``SafeTransfer``'s defaults become the winner.

Run (resumable: finished cells are kept in the ``--rows`` JSON-lines file)::

    SKNTL_DATA=/path/to/shared/data python benchmarks/validate_safe_transfer.py --n-jobs 2
    python benchmarks/validate_safe_transfer.py --report-only
    SKNTL_DATA=/path/to/shared/data python benchmarks/validate_safe_transfer.py --round 3
"""

import argparse
import json
import os
import platform
import time
import warnings
from contextlib import contextmanager
from itertools import product

import numpy as np
from joblib import Parallel, delayed

ROOT = os.path.dirname(os.path.abspath(__file__))
DEFAULT_ROWS = os.path.join(ROOT, "results", "safe_transfer_rows.jsonl")
DEFAULT_OUT = os.path.join(ROOT, "results", "safe_transfer.md")
REPEAT2_ROWS = os.path.join(ROOT, "results", "safe_transfer_repeat2_rows.jsonl")

TEST_TASKS = ["decaf6:W->D", "surf:C->A", "surf:D->A", "digits:mnist_jda->usps_jda"]
DEV_TASKS = ["surf:A->W", "surf:W->C", "surf:A->C", "digits:usps_jda->mnist_jda"]
EPS = (0.0, 0.3, 0.7, 0.9)
RATIOS = (0.1, 0.3)
CV, N_REPEATS, CONFIDENCE = 3, 1, 0.9
CORRECTIONS = ("learning_curve", None)
FALLBACKS = ("transfer", "target only", "better_mean")
DEFAULT_CANDIDATE = ("learning_curve", "transfer")
#: What round 1's rule selected on the development cells (``--report-only`` recomputes it
#: and checks it is still this); SafeTransfer's defaults were set to it until round 2. The
#: first 31 KMM test cells ran before the selection was known, with both sizes.
SELECTED = (None, "better_mean")


def _cells(n_test_seeds, n_dev_seeds, dev_estimators=("KMM",)):
    """Cells in run order: KMM development, KMM test, DANN test (seed-major), then the
    development cells of any other ``dev_estimators`` (``--dev-dann``)."""
    cells = []
    for seed, task, eps, ratio in product(range(n_dev_seeds), DEV_TASKS, EPS, RATIOS):
        cells.append(("dev", task, "KMM", eps, ratio, seed))
    for seed, task, eps, ratio in product(range(n_test_seeds), TEST_TASKS, EPS, RATIOS):
        cells.append(("test", task, "KMM", eps, ratio, seed))
    for seed, task, eps, ratio in product(range(n_test_seeds), TEST_TASKS, EPS, RATIOS):
        cells.append(("test", task, "DANN_gate", eps, ratio, seed))
    for name in dev_estimators:
        if name != "KMM":
            for seed, task, eps, ratio in product(range(n_dev_seeds), DEV_TASKS, EPS, RATIOS):
                cells.append(("dev", task, name, eps, ratio, seed))
    return cells


def _key(cell):
    return "|".join(map(str, cell))


def _estimator(name, seed):
    from skntl import DANN, KMM

    return DANN(gate=True, random_state=seed) if name == "DANN_gate" else KMM()


@contextmanager
def _one_thread_quiet():
    """One BLAS and one torch thread per worker; the fits' ConvergenceWarnings muted."""
    import torch
    from sklearn.exceptions import ConvergenceWarning
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def _cell_data(cell, data_home):
    """The perturbed source and the target split of one cell."""
    from skntl import split_target
    from skntl.experiments._tasks import load_task
    from skntl.perturbation import perturb_source

    _, task, _, eps, ratio, seed = cell
    Xs, ys, Xt, yt = load_task(task, data_home)
    Xl, yl, Xu, Xte, yte = split_target(Xt, yt, ratio, random_state=seed)
    Xp, yp, _, _ = perturb_source(Xs, ys, eps, eps, random_state=seed)
    return Xp, yp, Xl, yl, Xu, Xte, yte


def run_cell(cell, data_home):
    from skntl.metrics import NegativeTransferGap, should_transfer

    split, task, name, eps, ratio, seed = cell
    with _one_thread_quiet():
        Xp, yp, Xl, yl, Xu, Xte, yte = _cell_data(cell, data_home)
        t0 = time.perf_counter()
        # the development cells fit both sizes, so that every candidate can be scored;
        # the test cells fit what the selected candidate needs (see SELECTED)
        correction = "learning_curve" if split == "dev" else SELECTED[0]
        res = should_transfer(_estimator(name, seed), Xp, yp, Xl, yl, Xu, cv=CV,
                              n_repeats=N_REPEATS, confidence=CONFIDENCE,
                              correction=correction, random_state=seed)
        t1 = time.perf_counter()
        both = NegativeTransferGap(_estimator(name, seed)).fit(Xp, yp, Xl, yl, Xu)
        t2 = time.perf_counter()
        acc = float(both.estimator_.score(Xte, yte))
        acc_t = float(both.target_only_estimator_.score(Xte, yte))
    return dict(
        key=_key(cell), split=split, task=task, estimator=name, eps=eps, ratio=ratio,
        seed=seed, n_labeled=len(yl), n_test=len(yte), acc=acc, acc_t=acc_t,
        folds={k: np.asarray(v).tolist() for k, v in res.folds.items()},
        cv_seconds=t1 - t0, final_seconds=t2 - t1,
    )


# ----------------------------------------------------------------------- policies


def decide(row, correction, fallback, confidence=CONFIDENCE):
    """What SafeTransfer(correction=..., fallback=..., confidence=...) chooses for one cell.

    ``fallback`` may also be ``("margin", m)``: round 2's rule, transfer only when
    the mean NTG is below ``-m`` (unless the interval is decisive).
    """
    from skntl.metrics import _ntg_interval, _recommend
    from skntl.safe import _choose

    f = {k: np.asarray(v) for k, v in row["folds"].items()}
    if correction == "learning_curve" and "ntg_half" not in f:
        return None  # a cell fitted at one size only
    d = f["ntg"] if correction == "learning_curve" else f.get("ntg_train", f["ntg"])
    mean, low, high = _ntg_interval(d, f["n_test"], f["n_train_labeled"], confidence)
    recommendation = _recommend(low, high)
    if isinstance(fallback, tuple):
        if recommendation != "undecided":
            return recommendation, "decisive", mean, low, high
        return ("transfer" if mean < -fallback[1] else "target only"), "fallback", mean, low, high
    choice, decision = _choose(recommendation, mean, fallback)
    return choice, decision, mean, low, high


def _evaluate(rows, correction, fallback, confidence=CONFIDENCE):
    out = []
    for r in rows:
        decided = decide(r, correction, fallback, confidence)
        if decided is None:
            continue
        choice, decision, mean, low, high = decided
        acc_safe = r["acc"] if choice == "transfer" else r["acc_t"]
        true_ntg = r["acc_t"] - r["acc"]
        out.append(dict(r, choice=choice, decision=decision, est=mean, low=low, high=high,
                        acc_safe=acc_safe, ntg_safe=r["acc_t"] - acc_safe, true_ntg=true_ntg,
                        regret=max(r["acc"], r["acc_t"]) - acc_safe))
    return out


def _mean(rows, key):
    return float(np.mean([r[key] for r in rows])) if rows else float("nan")


def select(dev_rows):
    """The selection rule of the module docstring; returns (candidate, table rows)."""
    scores = {(c, f): _mean(_evaluate(dev_rows, c, f), "regret")
              for c, f in product(CORRECTIONS, FALLBACKS)}
    best = min(scores.values())
    chosen = min(scores, key=scores.get)
    if scores[DEFAULT_CANDIDATE] - best <= 0.001:
        chosen = DEFAULT_CANDIDATE
    return chosen, scores


def _pp(x):
    return f"{100 * x:+.1f}"


def report(rows, args, elapsed=None):
    dev = [r for r in rows if r["split"] == "dev" and r["estimator"] == "KMM"]
    test = [r for r in rows if r["split"] == "test"]
    chosen, scores = select(dev) if dev else (SELECTED, {})
    if dev and chosen != SELECTED:
        raise RuntimeError(f"the rule now selects {chosen}, not SELECTED = {SELECTED}")
    lines = [
        "# `SafeTransfer` on the study's tasks",
        "",
        "Made by `benchmarks/validate_safe_transfer.py` (protocol, candidates and selection "
        "rule in its docstring, fixed before any run):",
        "",
        "```",
        "SKNTL_DATA=/work/shared/data python benchmarks/validate_safe_transfer.py --n-jobs 2",
        "python benchmarks/validate_safe_transfer.py --report-only",
        "```",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}; one BLAS/torch thread per joblib worker."
        + (f" This invocation: {elapsed / 60:.0f} min." if elapsed else ""),
        "",
        "NTG = acc(target-only) − acc(chosen) in points (positive: worse than target-only). "
        "*regret* = acc(better arm) − acc(SafeTransfer). SafeTransfer's accuracy is that of the "
        "arm it chooses, both arms fitted on all the data and scored on the test half.",
        "",
        f"Cells finished: {len(dev)} development (KMM), {len(test)} test "
        f"({sum(r['estimator'] == 'KMM' for r in test)} KMM, "
        f"{sum(r['estimator'] == 'DANN_gate' for r in test)} DANN_gate) of "
        f"{len(_cells(args.seeds, args.dev_seeds, _dev_estimators(args)))} planned.",
        "",
        "## Selection on the development tasks (KMM)",
        "",
        "| correction | fallback | mean regret (pp) |",
        "|---|---|---|",
    ]
    for (c, f), v in scores.items():
        mark = " **← selected**" if (c, f) == chosen else ""
        lines.append(f"| {c} | {f} | {100 * v:.2f}{mark} |")
    lines += ["", f"Selected: correction={chosen[0]!r}, fallback={chosen[1]!r}.", ""]
    for name in ("DANN_gate", "KMM"):
        sub = [r for r in test if r["estimator"] == name]
        if sub:
            lines += _test_section(sub, name, chosen)
    if test:
        lines += ["## Every candidate on the test tasks (for completeness, not for choosing)",
                  "", "| estimator | correction | fallback | mean NTG | max cell NTG at L%=30 "
                  "| mean regret | chose transfer |", "|---|---|---|---|---|---|---|"]
        for name, (c, f) in product(("DANN_gate", "KMM"), product(CORRECTIONS, FALLBACKS)):
            ev = _evaluate([r for r in test if r["estimator"] == name], c, f)
            if not ev:
                continue
            cells = _by_cell(ev)
            worst = max((_mean(v, "ntg_safe") for k, v in cells.items() if k[2] == 0.3),
                        default=float("nan"))
            lines.append(f"| {name} | {c} | {f} | {_pp(_mean(ev, 'ntg_safe'))} | {_pp(worst)} | "
                         f"{100 * _mean(ev, 'regret'):.2f} | "
                         f"{sum(r['choice'] == 'transfer' for r in ev)}/{len(ev)} |")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------- round 2

#: Round 2's candidates: (correction, fallback, confidence), in order of departure
#: from round 1 (its selection first).
ROUND2 = [(None, "better_mean", CONFIDENCE)] + [
    (c, *rule)
    for c in (None, "learning_curve")
    for rule in [("target only", conf) for conf in (0.2, 0.4, 0.6, 0.8)]
    + [(("margin", m), CONFIDENCE) for m in (0.01, 0.02, 0.04)]
]


def _name(candidate):
    correction, fallback, confidence = candidate
    if isinstance(fallback, tuple):
        rule = f"transfer iff mean NTG < −{100 * fallback[1]:.0f} pp"
    elif fallback == "target only":
        rule = f"target only unless decisive at confidence {confidence}"
    else:
        rule = f"{fallback} (confidence {confidence})"
    return f"{rule}, correction={correction}"


def _scores(rows, candidate):
    ev = _evaluate(rows, *candidate)
    cells = _by_cell(ev)
    worst = max((_mean(v, "ntg_safe") for k, v in cells.items() if k[2] == 0.3),
                default=float("nan"))
    return dict(regret=_mean(ev, "regret"), ntg=_mean(ev, "ntg_safe"), worst30=worst,
                transfer=sum(r["choice"] == "transfer" for r in ev), n=len(ev))


def _feasible(score):
    """Round 2's feasibility: the issue's average targets (regret ≤ 1.5 pp, mean NTG ≤ 0)."""
    return score["regret"] <= 0.015 and score["ntg"] <= 0


def _score_cells(score):
    """The table cells of one candidate's ``_scores``: regret, NTG, worst cell, choices."""
    return (f"{100 * score['regret']:.2f} | {_pp(score['ntg'])} | "
            f"{100 * score['worst30']:+.2f} | {score['transfer']}/{score['n']}")


def select_round2(dev_rows, testable_only=False):
    """Round 2's selection rule (module docstring); returns (candidate, scores).

    ``testable_only`` restricts it to the candidates every test cell can answer
    (correction None; the amendment).
    """
    pool = [c for c in ROUND2 if c[0] is None] if testable_only else ROUND2
    scores = {c: _scores(dev_rows, c) for c in ROUND2}
    return _conservative_pick(pool, scores), scores


def _conservative_pick(pool, scores):
    """Round 2's rule over ``pool`` (in tie-breaking order); ``pool[0]`` if none is feasible.

    Feasible: the issue's average targets; then the lowest worst L%=30 cell, and
    within 0.5 pp of it the lowest regret.
    """
    feasible = [c for c in pool if _feasible(scores[c])]
    if not feasible:
        return pool[0]
    best_worst = min(scores[c]["worst30"] for c in feasible)
    tied = [c for c in feasible if scores[c]["worst30"] <= best_worst + 0.005]
    low = min(scores[c]["regret"] for c in tied)
    return next(c for c in tied if scores[c]["regret"] == low)


def report_round2(rows):
    dev = [r for r in rows if r["split"] == "dev" and r["estimator"] == "KMM"]
    dev_dann = [r for r in rows if r["split"] == "dev" and r["estimator"] == "DANN_gate"]
    test = [r for r in rows if r["split"] == "test"]
    selected, dev_scores = select_round2(dev)
    chosen, _ = select_round2(dev, testable_only=True)
    lines = [
        "# `SafeTransfer`, round 2: conservative decisions on the recorded folds",
        "",
        "Made by `python benchmarks/validate_safe_transfer.py --round 2` from "
        "`safe_transfer_rows.jsonl` (the fits of round 1; no new fits). Candidates and the "
        "selection rule are in the script's docstring, written before this was run.",
        "",
        "## Development cells (KMM, seeds 0-2): the selection",
        "",
        "| candidate | mean regret | mean NTG | worst L%=30 cell NTG | chose transfer | feasible |",
        "|---|---|---|---|---|---|",
    ]
    for c in ROUND2:
        mark = {selected: " **← selected**", chosen: " **← adopted**"}.get(c, "")
        if c == selected == chosen:
            mark = " **← selected, adopted**"
        ok = "yes" if _feasible(dev_scores[c]) else "no"
        lines.append(f"| {_name(c)}{mark} | {_score_cells(dev_scores[c])} | {ok} |")
    lines += ["", f"Selected by the rule: {_name(selected)}. Adopted (the rule over the "
              f"candidates the test cells can answer; see the amendment in the docstring): "
              f"{_name(chosen)}. These are `SafeTransfer`'s defaults.", ""]
    if dev_dann:
        seeds = sorted({r["seed"] for r in dev_dann})
        lines += [
            f"## Development tasks with DANN_gate (seeds {', '.join(map(str, seeds))}; "
            f"{len(dev_dann)} cells, run after round 2's adoption, used by no selection)",
            "", "| candidate | mean regret | mean NTG | worst L%=30 cell NTG | chose transfer |",
            "|---|---|---|---|---|"]
        for c in ROUND2:
            mark = " **← adopted**" if c == chosen else ""
            lines.append(f"| {_name(c)}{mark} | {_score_cells(_scores(dev_dann, c))} |")
        lines.append("")
    for name in ("DANN_gate", "KMM"):
        sub = [r for r in test if r["estimator"] == name]
        if sub:
            lines += _test_section(sub, name, chosen)
    lines += ["## Every candidate on the test tasks (for completeness, not for choosing)", "",
              "| estimator | candidate | mean regret | mean NTG | worst L%=30 cell NTG | "
              "chose transfer |", "|---|---|---|---|---|---|"]
    for name in ("DANN_gate", "KMM"):
        sub = [r for r in test if r["estimator"] == name]
        for c in ROUND2:
            v = _scores(sub, c)
            if v["n"]:
                lines.append(f"| {name} | {_name(c)} | {_score_cells(v)} |")
    return "\n".join(lines) + "\n"


def _by_cell(ev):
    cells = {}
    for r in ev:
        cells.setdefault((r["task"], r["eps"], r["ratio"]), []).append(r)
    return cells


def _test_section(sub, name, chosen):
    ev = _evaluate(sub, *chosen)
    confidence = chosen[2] if len(chosen) > 2 else CONFIDENCE
    cells = _by_cell(ev)
    seeds = sorted({r["seed"] for r in ev})
    lines = [
        f"## Test tasks, {name} (seeds {', '.join(map(str, seeds))})",
        "",
        "| task | ε | L% | n | acc transfer | acc target-only | acc SafeTransfer | "
        "SafeTransfer NTG | better / worse arm | chose transfer / target only | "
        "decisive | est. NTG | true NTG | covered |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (task, eps, ratio), v in sorted(cells.items()):
        better = np.mean([max(r["acc"], r["acc_t"]) for r in v])
        worse = np.mean([min(r["acc"], r["acc_t"]) for r in v])
        ch = [r["choice"] for r in v]
        lines.append(
            f"| {task} | {eps} | {100 * ratio:.0f} | {len(v)} | {100 * _mean(v, 'acc'):.1f} | "
            f"{100 * _mean(v, 'acc_t'):.1f} | {100 * _mean(v, 'acc_safe'):.1f} | "
            f"{_pp(_mean(v, 'ntg_safe'))} | {100 * better:.1f} / {100 * worse:.1f} | "
            f"{ch.count('transfer')} / {ch.count('target only')} | "
            f"{sum(r['decision'] == 'decisive' for r in v)} | {_pp(_mean(v, 'est'))} | "
            f"{_pp(_mean(v, 'true_ntg'))} | "
            f"{sum(r['low'] <= r['true_ntg'] <= r['high'] for r in v)}/{len(v)} |"
        )
    cell_ntg = {k: _mean(v, "ntg_safe") for k, v in cells.items()}
    worst30 = max((x for k, x in cell_ntg.items() if k[2] == 0.3), default=float("nan"))
    gap = _mean(ev, "regret")
    est_err = np.array([r["est"] - r["true_ntg"] for r in ev])
    covered = np.mean([r["low"] <= r["true_ntg"] <= r["high"] for r in ev])
    lines += [
        "",
        "| target | value | verdict |",
        "|---|---|---|",
        f"| SafeTransfer's NTG ≤ +1 pp in every L% = 30 cell (worst cell) | {100 * worst30:+.2f} | "
        f"{'met' if worst30 <= 0.01 else 'missed'} |",
        f"| SafeTransfer's NTG ≤ 0 on average over all cells | {_pp(_mean(ev, 'ntg_safe'))} | "
        f"{'met' if _mean(ev, 'ntg_safe') <= 0 else 'missed'} |",
        f"| mean accuracy within 1.5 pp of the better arm (mean regret) | {100 * gap:.2f} pp | "
        f"{'met' if gap <= 0.015 else 'missed'} |",
        "",
        f"The NTG estimate against the true NTG: bias {_pp(est_err.mean())} pp, mean absolute "
        f"error {100 * np.abs(est_err).mean():.1f} pp, coverage of the {confidence:.0%} "
        f"interval {100 * covered:.0f}% (the true NTG has its own test-set noise). Mean "
        f"fit time per cell: cross-validation {_mean(sub, 'cv_seconds'):.0f} s, both final "
        f"fits {_mean(sub, 'final_seconds'):.0f} s.",
        "",
    ]
    return lines


# ----------------------------------------------------------------------- round 3

#: (n_repeats, confidence), in the order that breaks remaining ties
ROUND3 = [(1, 0.6), (1, 0.4), (1, 0.8), (2, 0.6), (2, 0.4), (2, 0.8)]


def run_second_repeat(cell, data_home):
    """The second repeat of ``should_transfer``'s folds for one cell (correction None)."""
    from skntl.metrics import should_transfer

    _, _, name, _, _, seed = cell
    with _one_thread_quiet():
        Xp, yp, Xl, yl, Xu, _, _ = _cell_data(cell, data_home)
        rng = np.random.RandomState(seed)
        rng.randint(np.iinfo(np.int32).max)  # the first repeat's fold seed
        t0 = time.perf_counter()
        res = should_transfer(_estimator(name, seed), Xp, yp, Xl, yl, Xu, cv=CV,
                              n_repeats=1, correction=None, random_state=rng)
        seconds = time.perf_counter() - t0
    keep = ("ntg", "n_test", "n_train_labeled")
    return dict(key=_key(cell), folds={k: np.asarray(res.folds[k]).tolist() for k in keep},
                cv_seconds=seconds)


def _two_repeats(rows, second):
    """The rows that have a second repeat, with both repeats' uncorrected folds."""
    out = []
    for r in rows:
        extra = second.get(r["key"])
        if extra is None:
            continue
        f, g = r["folds"], extra["folds"]
        folds = {"ntg": list(f.get("ntg_train", f["ntg"])) + g["ntg"],
                 "n_test": list(f["n_test"]) + g["n_test"],
                 "n_train_labeled": list(f["n_train_labeled"]) + g["n_train_labeled"]}
        out.append(dict(r, folds=folds, cv_seconds=r["cv_seconds"] + extra["cv_seconds"]))
    return out


def _round3_scores(rows, second):
    both = _two_repeats(rows, second)
    return {(n, conf): _scores(rows if n == 1 else both, (None, "target only", conf))
            for n, conf in ROUND3}


def select_round3(dev_rows, second):
    """Round 3's selection rule (module docstring); returns (candidate, scores)."""
    scores = _round3_scores(dev_rows, second)
    return _conservative_pick(ROUND3, scores), scores


def _adoption_checks(name, old, new):
    """Per target: (estimator, target, old, new, acceptable). Acceptable: the winner
    meets a target round 2's default meets, and is no worse on one it misses."""
    targets = (("worst L%=30 cell NTG ≤ +1 pp", "worst30", 0.01),
               ("mean NTG ≤ 0", "ntg", 0.0), ("mean regret ≤ 1.5 pp", "regret", 0.015))
    out = []
    for target, key, bound in targets:
        ok = new[key] <= bound if old[key] <= bound else new[key] <= old[key]
        out.append((name, target, f"{100 * old[key]:+.2f}", f"{100 * new[key]:+.2f}", ok))
    return out


def _round3_name(candidate):
    n, conf = candidate
    return f"n_repeats={n}, confidence={conf}"


def _run_cells(cells, path, fn, data_home, n_jobs):
    """Fit the cells of ``cells`` not yet in ``path`` with ``fn``, appending each row."""
    done = _load(path)
    todo = [c for c in cells if _key(c) not in done]
    print(f"{len(cells) - len(todo)} of {len(cells)} cells done, {len(todo)} to run",
          flush=True)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "a") as fh:
        jobs = Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
            delayed(fn)(c, data_home) for c in todo)
        for i, row in enumerate(jobs, 1):
            fh.write(json.dumps(row) + "\n")
            fh.flush()
            print(f"[{i}/{len(todo)}] {row['key']} cv={row['cv_seconds']:.0f}s", flush=True)
    return _load(path)


def round3(args, data_home):
    rows = list(_load(args.rows).values())
    cells = _cells(args.seeds, args.dev_seeds)
    dev_cells = [c for c in cells if c[0] == "dev" and c[2] == "KMM"]
    second = _run_cells(dev_cells, REPEAT2_ROWS, run_second_repeat, data_home, args.n_jobs)
    dev = [r for r in rows if r["split"] == "dev" and r["estimator"] == "KMM"]
    selected, dev_scores = select_round3(dev, second)
    print(f"round 3 selects {_round3_name(selected)}", flush=True)
    if selected[0] == 2:
        test_cells = [c for c in cells if c[0] == "test"]  # KMM first, then DANN_gate
        second = _run_cells(test_cells, REPEAT2_ROWS, run_second_repeat, data_home,
                            args.n_jobs)
    return report_round3(rows, second, selected, dev_scores)


def report_round3(rows, second, selected, dev_scores):
    lines = [
        "# `SafeTransfer`, round 3: a second repeat of the folds",
        "",
        "Made by `SKNTL_DATA=/path/to/data python benchmarks/validate_safe_transfer.py "
        "--round 3` from `safe_transfer_rows.jsonl` (the first repeat, round 1's fits) and "
        "`safe_transfer_repeat2_rows.jsonl` (the second repeat, fitted for this round). "
        "Candidates and the selection rule are in the script's docstring, written before "
        "this was run. Every candidate: `cv=3`, `fallback=\"target only\"`, "
        "`correction=None`.",
        "",
        "## Development cells (KMM, seeds 0-2): the selection",
        "",
        "| candidate | mean regret | mean NTG | worst L%=30 cell NTG | chose transfer | "
        "feasible |",
        "|---|---|---|---|---|---|",
    ]
    for c in ROUND3:
        mark = " **← selected**" if c == selected else ""
        ok = "yes" if _feasible(dev_scores[c]) else "no"
        lines.append(f"| {_round3_name(c)}{mark} | {_score_cells(dev_scores[c])} | {ok} |")
    lines += ["", f"Selected by the rule: {_round3_name(selected)}.", ""]
    test = [r for r in rows if r["split"] == "test"]
    if selected[0] == 2:
        both = _two_repeats(test, second)
        for name in ("DANN_gate", "KMM"):
            sub = [r for r in both if r["estimator"] == name]
            if sub:
                lines += _test_section(sub, name, (None, "target only", selected[1]))
        lines += ["## Every candidate on the test tasks (for completeness, not for choosing)",
                  "", "| estimator | candidate | mean regret | mean NTG | worst L%=30 cell NTG "
                  "| chose transfer |", "|---|---|---|---|---|---|"]
        verdicts = []
        for name in ("DANN_gate", "KMM"):
            sub = [r for r in test if r["estimator"] == name]
            scores = _round3_scores(sub, second)
            for c, v in scores.items():
                if v["n"]:
                    lines.append(f"| {name} | {_round3_name(c)} | {_score_cells(v)} |")
            verdicts += _adoption_checks(name, scores[ROUND3[0]], scores[selected])
        adopted = all(ok for *_, ok in verdicts)
        lines += ["", "## Adoption (the rule in the docstring)", "",
                  "| estimator | target | round 2's default | winner | winner acceptable |",
                  "|---|---|---|---|---|"]
        lines += [f"| {name} | {target} | {old} | {new} | {'yes' if ok else 'no'} |"
                  for name, target, old, new, ok in verdicts]
        lines += ["", f"{'Adopted' if adopted else 'Not adopted'}: the winner "
                  f"{'meets' if adopted else 'does not meet'} every target round 2's default "
                  "meets on the test cells without being worse on the others. "
                  + ("" if adopted else "`SafeTransfer`'s defaults stay round 2's."), ""]
    else:
        lines += ["The winner needs no second repeat, so no test cell was refitted and "
                  "round 2's defaults stay.", ""]
    return "\n".join(lines) + "\n"


def _dev_estimators(args):
    return ("KMM", "DANN_gate") if args.dev_dann else ("KMM",)


def _load(path):
    rows = {}
    if os.path.exists(path):
        with open(path) as fh:
            for line in fh:
                if line.strip():
                    row = json.loads(line)
                    rows[row["key"]] = row
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="test seeds (default 5)")
    parser.add_argument("--dev-seeds", type=int, default=3)
    parser.add_argument("--dev-dann", action="store_true",
                        help="also run the development cells with DANN_gate (after round 2)")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--rows", default=DEFAULT_ROWS)
    parser.add_argument("--out", default=DEFAULT_OUT)
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument("--round", type=int, choices=(1, 2, 3), default=1,
                        help="2: report round 2 (no fits) to results/safe_transfer_round2.md; "
                        "3: fit the second repeats and report to "
                        "results/safe_transfer_round3.md")
    args = parser.parse_args()
    data_home = os.environ.get("SKNTL_DATA")
    t0 = time.perf_counter()
    if args.round == 3:
        text = round3(args, data_home)
        with open(os.path.join(ROOT, "results", "safe_transfer_round3.md"), "w") as fh:
            fh.write(text)
        print(text)
        return
    if args.round == 2:
        text = report_round2(list(_load(args.rows).values()))
        with open(os.path.join(ROOT, "results", "safe_transfer_round2.md"), "w") as fh:
            fh.write(text)
        print(text)
        return
    if not args.report_only:
        cells = _cells(args.seeds, args.dev_seeds, _dev_estimators(args))
        _run_cells(cells, args.rows, run_cell, data_home, args.n_jobs)
    rows = list(_load(args.rows).values())
    text = report(rows, args, None if args.report_only else time.perf_counter() - t0)
    with open(args.out, "w") as fh:
        fh.write(text)
    print(text)


if __name__ == "__main__":
    main()
