"""NTG: negative_transfer_gap, NegativeTransferGap, neg_ntg_scorer, should_transfer."""

import pickle

import numpy as np
import pytest
import sklearn
from sklearn.base import clone
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.utils.estimator_checks import parametrize_with_checks

from skntl import KMM, TCA, TargetSplit, fit_target_only, pack
from skntl.metrics import (
    NegativeTransferGap,
    ShouldTransferResult,
    neg_ntg_scorer,
    negative_transfer_gap,
    should_transfer,
)
from skntl.perturbation import PerturbedSource

# Many tiny LogisticRegression fits: on a busy 2-core machine, OpenBLAS threads
# spinning against each other made this file ~4x slower than one thread.
pytestmark = pytest.mark.usefixtures("one_thread")


K = 3
DERANGEMENT = np.array([1, 2, 0])  # class k is called DERANGEMENT[k] in a "permuted" source


def _domain(n, rng, shift=0.0, spread=1.5, n_features=6):
    """K overlapping Gaussian classes; the target is a shifted copy of the source."""
    centers = 2.0 * np.eye(K, n_features)
    y = np.arange(n) % K
    return centers[y] + spread * rng.randn(n, n_features) + shift, y


def _problem(seed=0, n_source=300, n_labeled=150, permuted=False):
    rng = np.random.RandomState(seed)
    Xs, ys = _domain(n_source, rng)
    if permuted:
        ys = DERANGEMENT[ys]
    Xt, yt = _domain(n_labeled + 60 + 300, rng, shift=0.3)
    Xl, yl = Xt[:n_labeled], yt[:n_labeled]
    Xu = Xt[: n_labeled + 60]
    return Xs, ys, Xl, yl, Xu, Xt[-300:], yt[-300:]


# ------------------------------------------------------------- sklearn contract

# TCA's own check_fit2d_1sample lowers TCA.n_components to 1; through a wrapper it
# cannot, and TCA(n_components=2) then refuses one row with its own clear message.
_TCA_1SAMPLE = {"check_fit2d_1sample": "wrapped TCA(n_components=2) cannot fit 1 row"}


@pytest.mark.slow  # ~165 checks, a few seconds in all
@parametrize_with_checks(
    [
        NegativeTransferGap(LogisticRegression()),
        NegativeTransferGap(TCA(n_components=2)),
        NegativeTransferGap(PerturbedSource(KMM(), eps_y=0.2, random_state=0)),
    ],
    expected_failed_checks=lambda est: _TCA_1SAMPLE if isinstance(est.estimator, TCA) else {},
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


# ------------------------------------------------------------- NTG sign convention


def test_permuted_source_with_large_labeled_target_is_negative_transfer():
    res = negative_transfer_gap(LogisticRegression(), *_problem(permuted=True))
    assert res.ntg > 0.2  # the source's wrong class names dominate A(S, T)
    assert res.ntg == pytest.approx(res.target_only_accuracy - res.transfer_accuracy)
    assert res.target_only_accuracy > 1.5 / K  # the twin learned the target


@pytest.mark.parametrize("estimator", [LogisticRegression(), TCA(n_components=4)],
                         ids=["logreg", "tca"])
def test_clean_related_source_with_few_labels_is_positive_transfer(estimator):
    ntg = [negative_transfer_gap(estimator, *_problem(seed, n_labeled=6)).ntg
           for seed in range(3)]
    assert np.mean(ntg) < 0


@pytest.mark.parametrize("estimator", [LogisticRegression(), TCA(n_components=2), KMM()],
                         ids=["logreg", "tca", "kmm"])
def test_ntg_is_twin_accuracy_minus_transfer_accuracy(estimator):
    Xs, ys, Xl, yl, Xu, Xte, yte = _problem(n_labeled=30)
    res = negative_transfer_gap(estimator, Xs, ys, Xl, yl, Xu, Xte, yte)
    if isinstance(estimator, LogisticRegression):  # plain classifier: source ∪ labeled target
        ref = clone(estimator).fit(np.vstack([Xs, Xl]), np.r_[ys, yl])
    else:
        ref = clone(estimator).fit(Xs, ys, Xl, yl, Xu)
    twin = fit_target_only(estimator, Xs, ys, Xl, yl, Xu)
    assert res.transfer_accuracy == pytest.approx(ref.score(Xte, yte))
    assert res.target_only_accuracy == pytest.approx(twin.score(Xte, yte))
    assert res.ntg == pytest.approx(twin.score(Xte, yte) - ref.score(Xte, yte))
    assert isinstance(res.estimator, NegativeTransferGap)
    assert res.estimator.gap(Xte, yte) == pytest.approx(res.ntg)


def test_deep_estimator_and_its_twin():
    pytest.importorskip("torch")
    from skntl import DANN

    Xs, ys, Xl, yl, Xu, Xte, yte = _problem(n_source=120, n_labeled=30)
    net = DANN(hidden_layer_sizes=(8,), discriminator_hidden=(8,), max_epochs=2,
               random_state=0)
    res = negative_transfer_gap(PerturbedSource(net, eps_y=0.5, random_state=0),
                                *(a.astype(np.float32) if a.dtype.kind == "f" else a
                                  for a in (Xs, ys, Xl, yl, Xu, Xte, yte)))
    twin = res.estimator.target_only_estimator_
    assert isinstance(twin, DANN)  # the same algorithm, fitted without the source
    assert res.ntg == pytest.approx(res.target_only_accuracy - res.transfer_accuracy)


def test_without_labeled_target_the_twin_is_chance():
    Xs, ys, Xl, yl, Xu, Xte, yte = _problem()
    res = negative_transfer_gap(LogisticRegression(), Xs, ys, Xl[:0], yl[:0], Xu, Xte, yte)
    assert isinstance(res.estimator.target_only_estimator_, DummyClassifier)
    assert abs(res.target_only_accuracy - 1 / K) < 0.1
    res = negative_transfer_gap(LogisticRegression(), Xs, ys, None, None, None, Xte, yte)
    assert abs(res.target_only_accuracy - 1 / K) < 0.1


def test_single_class_labeled_target_gives_a_constant_twin():
    Xs, ys, Xl, yl, Xu, Xte, yte = _problem()
    one = yl == 0
    model = NegativeTransferGap(LogisticRegression()).fit(Xs, ys, Xl[one], yl[one], Xu)
    assert np.all(model.target_only_estimator_.predict(Xte) == 0)


def test_meta_estimator_fits_both_models_on_the_same_data():
    Xs, ys, Xl, yl, Xu, Xte, yte = _problem(n_labeled=30)
    X, y, sd = pack(Xs, ys, Xl, yl, Xu)
    a = NegativeTransferGap(TCA(n_components=2)).fit(Xs, ys, Xl, yl, Xu)
    b = NegativeTransferGap(TCA(n_components=2)).fit(X, y, sample_domain=sd)
    np.testing.assert_array_equal(a.predict(Xte), b.predict(Xte))
    np.testing.assert_array_equal(a.predict(Xte), TCA(n_components=2).fit(*_problem(
        n_labeled=30)[:5]).predict(Xte))
    np.testing.assert_array_equal(a.target_only_estimator_.predict(Xte),
                                  TCA(n_components=2).fit(Xl, yl, Xt_u=Xu).predict(Xte))
    assert a.score(Xte, yte) == pytest.approx(a.estimator_.score(Xte, yte))
    assert a.n_features_in_ == 6


# ------------------------------------------------------------- the scorer


def _packed(seed=0):
    Xs, ys, Xl, yl, Xu, _, _ = _problem(seed, n_source=120, n_labeled=30, permuted=True)
    return pack(Xs, ys, Xl, yl, Xu)


@pytest.mark.parametrize("routing", [False, pytest.param(True, marks=pytest.mark.slow)])
def test_scorer_in_grid_search_and_cross_validate_with_target_split(routing):
    X, y, sd = _packed()
    before = sklearn.get_config()["enable_metadata_routing"]
    scoring = {"accuracy": "accuracy", "neg_ntg": neg_ntg_scorer}
    with sklearn.config_context(enable_metadata_routing=routing):
        est = NegativeTransferGap(TCA(n_components=2))
        if routing:
            est = est.set_fit_request(sample_domain=True)
        grid = GridSearchCV(est, {"estimator__mu": [0.1, 10.0]}, scoring=scoring,
                            refit="accuracy", cv=TargetSplit(3, random_state=0))
        grid.fit(X, y, sample_domain=sd, groups=sd)
        res = grid.cv_results_
        assert np.isfinite(res["mean_test_neg_ntg"]).all()
        assert grid.best_estimator_.target_only_estimator_ is not None
        extra = (dict(params={"sample_domain": sd, "groups": sd}) if routing
                 else dict(groups=sd, params={"sample_domain": sd}))
        cv = cross_validate(est, X, y, cv=TargetSplit(3, random_state=0), scoring=scoring,
                            return_estimator=True, return_indices=True, **extra)
    assert sklearn.get_config()["enable_metadata_routing"] == before
    # each fold's value is acc(A(S,T)) - acc(A(∅,T)) on its held-out target rows
    for model, test, value, acc in zip(cv["estimator"], cv["indices"]["test"],
                                       cv["test_neg_ntg"], cv["test_accuracy"]):
        assert np.all(sd[test] == -1)
        ref = model.target_only_estimator_.score(X[test], y[test])
        assert value == pytest.approx(acc - ref)
    # the permuted source hurts: NTG > 0, so the scorer (greater is better) is < 0
    assert np.mean(cv["test_neg_ntg"]) < 0


def test_scorer_needs_the_meta_estimator_and_pickles():
    X, y, sd = _packed()
    tca = TCA(n_components=2).fit(X, y, sample_domain=sd)
    with pytest.raises(TypeError, match=r"wrap the estimator: NegativeTransferGap\(estimator\)"):
        neg_ntg_scorer(tca, X, y)
    assert pickle.loads(pickle.dumps(neg_ntg_scorer)) is neg_ntg_scorer


# ------------------------------------------------------------- should_transfer


def test_should_transfer_recommends_target_only_for_a_permuted_source():
    Xs, ys, Xl, yl, Xu, _, _ = _problem(permuted=True, n_labeled=60)
    res = should_transfer(LogisticRegression(), Xs, ys, Xl, yl, Xu, cv=3, n_repeats=2,
                          random_state=0)
    assert isinstance(res, ShouldTransferResult)
    assert res.recommendation == "target only"
    assert res.ci[0] > 0 and res.ntg > 0


def test_should_transfer_recommends_transfer_for_a_clean_source_and_few_labels():
    # 10 overlapping classes in 50-D: 40 target labels are too few, 600 source rows are not
    rng = np.random.RandomState(3)
    centers = 3.0 * np.eye(10, 50)
    ys, yt = np.arange(600) % 10, np.arange(140) % 10
    Xs = centers[ys] + 2.0 * rng.randn(600, 50)
    Xt = centers[yt] + 2.0 * rng.randn(140, 50) + 0.3
    res = should_transfer(LogisticRegression(), Xs, ys, Xt[:40], yt[:40], Xt, cv=5, n_repeats=2,
                          random_state=0)
    assert res.recommendation == "transfer"
    assert res.ci[1] < 0 and res.transfer_accuracy > res.target_only_accuracy


@pytest.mark.slow
def test_should_transfer_result_is_consistent_and_reproducible():
    Xs, ys, Xl, yl, Xu, _, _ = _problem(n_labeled=20)
    args = (LogisticRegression(), Xs, ys, Xl, yl, Xu)
    res = should_transfer(*args, cv=4, n_repeats=2, confidence=0.8, random_state=1)
    folds = res.folds
    assert len(folds["ntg"]) == 8
    np.testing.assert_array_equal(folds["repeat"], np.repeat([0, 1], 4))
    assert np.all(folds["n_test"] == 5) and np.all(folds["n_train_labeled"] == 15)
    np.testing.assert_allclose(folds["ntg"],
                               folds["target_only_accuracy"] - folds["transfer_accuracy"])
    assert res.ntg == pytest.approx(folds["ntg"].mean())
    assert res.ci[0] <= res.ntg <= res.ci[1] and res.confidence == 0.8
    # same seed: same folds and numbers; a higher confidence widens the interval
    wider = should_transfer(*args, cv=4, n_repeats=2, confidence=0.99, random_state=1)
    np.testing.assert_array_equal(wider.folds["ntg"], folds["ntg"])
    assert wider.ci[0] < res.ci[0] and wider.ci[1] > res.ci[1]
    # row_ntg: each labeled row's held-out NTG, averaged over the repeats
    assert res.row_ntg.shape == (20,)
    assert res.row_ntg.mean() == pytest.approx(
        (folds["ntg"] * folds["n_test"]).sum() / folds["n_test"].sum())
    assert "recommendation=" in repr(res) and "folds" not in repr(res)


def test_should_transfer_hides_held_out_rows_from_the_unlabeled_target(monkeypatch):
    """split_target puts the labeled inputs in Xt_u too: a fold's test rows must leave it."""
    Xs, ys, Xl, yl, Xu, _, _ = _problem(n_labeled=20)  # Xu[:20] is Xl
    seen = []
    original = TCA.fit

    def spy(self, X, y=None, *args, sample_domain=None, **kw):
        if sample_domain is not None:
            seen.append((X[sample_domain == -2].copy(), X[sample_domain == -1].copy()))
        return original(self, X, y, *args, sample_domain=sample_domain, **kw)

    monkeypatch.setattr(TCA, "fit", spy)
    should_transfer(TCA(n_components=2), Xs, ys, Xl, yl, Xu, cv=4, n_repeats=1,
                    random_state=0)
    transfer_fits = [s for s in seen if len(s[1])]  # the twin's fits have no -1 rows
    assert len(transfer_fits) == 4
    for unlabeled, labeled in transfer_fits:
        assert len(unlabeled) == len(Xu) - 5
        held_out = {r.tobytes() for r in Xl} - {r.tobytes() for r in labeled}
        assert len(held_out) == 5
        assert not held_out & {r.tobytes() for r in unlabeled}


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(cv=5, n_labeled=4), r"cv=5 needs at least 5 labeled target rows \(Xt_l\), got 4"),
        (dict(cv=1), "'cv' parameter"),
        (dict(confidence=1.0), "'confidence' parameter"),
        (dict(no_labels=True), "needs labeled target rows"),
    ],
)
def test_should_transfer_bad_input(kwargs, match):
    n_labeled = kwargs.pop("n_labeled", 10)
    no_labels = kwargs.pop("no_labels", False)
    Xs, ys, Xl, yl, Xu, _, _ = _problem(n_labeled=n_labeled)
    if no_labels:
        Xl = yl = None
    with pytest.raises(ValueError, match=match):
        should_transfer(LogisticRegression(), Xs, ys, Xl, yl, Xu, **kwargs)


def test_negative_transfer_gap_bad_test_set():
    Xs, ys, Xl, yl, Xu, Xte, yte = _problem(n_labeled=20)
    with pytest.raises(ValueError, match=r"X_test has rows of shape \(5,\) but Xs has rows"):
        negative_transfer_gap(LogisticRegression(), Xs, ys, Xl, yl, Xu, Xte[:, :5], yte)
    with pytest.raises(ValueError, match="y_test has 10 entries but X_test has 300 rows"):
        negative_transfer_gap(LogisticRegression(), Xs, ys, Xl, yl, Xu, Xte, yte[:10])
    model = NegativeTransferGap(LogisticRegression()).fit(Xs, ys, Xl, yl, Xu)
    with pytest.raises(ValueError, match="X has 5 features"):
        model.gap(Xte[:, :5], yte)
