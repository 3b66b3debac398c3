"""KMM, the estimator: weights from data, the final estimator, bad input."""

import numpy as np
import pytest
from scipy.stats import multivariate_normal, spearmanr
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.svm import SVC

from skntl import KMM, pack
from skntl.conventional._kernels import median_heuristic_gamma
from skntl.conventional.kmm import _kmm_kernel


def test_without_target_all_weights_are_one():
    rng = np.random.RandomState(0)
    X, y = rng.randn(120, 3), rng.randint(0, 3, 120)
    kmm = KMM().fit(X, y)
    np.testing.assert_allclose(kmm.weights_, 1.0, rtol=0, atol=1e-10)
    assert kmm.n_iter_ >= 1
    assert kmm.eps_ == pytest.approx((np.sqrt(120) - 1) / np.sqrt(120))
    assert kmm.gamma_ == pytest.approx(median_heuristic_gamma(X))
    assert kmm.eps is None and kmm.gamma is None  # params never overwritten
    # weights of 1 give plain logistic regression on X
    ref = LogisticRegression().fit(X, y)
    np.testing.assert_allclose(kmm.predict_proba(X), ref.predict_proba(X), atol=1e-8)


def _covariate_shift(seed=0, n_s=300, n_t=200):
    """Wide source, narrow shifted target, and a curved boundary, so a linear
    model has to choose which region to fit well."""
    rng = np.random.RandomState(seed)
    Xs = 2.0 * rng.randn(n_s, 2)
    center = np.array([2.0, 2.0])
    Xt = center + 0.5 * rng.randn(n_t, 2)

    def label(X):
        return (X[:, 1] > 0.5 * X[:, 0] ** 2).astype(int)

    density = multivariate_normal(center, 0.25 * np.eye(2)).pdf(Xs)
    return Xs, label(Xs), Xt, label(Xt), density


def test_weights_favour_the_target_region_and_help_the_target():
    Xs, ys, Xt, yt, density = _covariate_shift()
    kmm = KMM(random_state=0).fit(Xs, ys, Xt_u=Xt)
    w = kmm.weights_
    near = density >= np.quantile(density, 0.75)
    # The quarter of the source closest to the target carries nearly all the
    # weight (a uniform weighting would give it a quarter).
    assert w[near].sum() >= 0.8 * w.sum()
    assert w[near].mean() > 10 * w[~near].mean()
    # KMM weights are sparse (most rows get exactly 0, all tied), so rank
    # agreement with the target density is checked among the weighted rows.
    kept = w > 0
    assert kept.sum() >= 10
    assert spearmanr(w[kept], density[kept]).statistic > 0.5
    weighted = kmm.score(Xt, yt)
    unweighted = LogisticRegression().fit(Xs, ys).score(Xt, yt)
    assert weighted >= unweighted + 0.15, (weighted, unweighted)


def test_explicit_and_packed_forms_match():
    Xs, ys, Xt, yt, _ = _covariate_shift(seed=1)
    Xl, yl, Xu = Xt[:15], yt[:15], Xt[15:]
    a = KMM(random_state=0).fit(Xs, ys, Xl, yl, Xu)
    X, y, sd = pack(Xs, ys, Xl, yl, Xu)
    b = KMM(random_state=0).fit(X, y, sample_domain=sd)
    np.testing.assert_array_equal(a.weights_, b.weights_)
    np.testing.assert_array_equal(a.predict_proba(Xt), b.predict_proba(Xt))
    assert a.n_iter_ == b.n_iter_ and a.objective_ == b.objective_


def test_weights_follow_the_order_of_source_rows_in_packed_data():
    rng = np.random.RandomState(3)
    Xs = rng.randn(150, 8)
    ys = (Xs[:, 0] > 0).astype(int)
    Xu = 0.7 * rng.randn(100, 8) + 0.4
    X, y, sd = pack(Xs, ys, Xt_u=Xu)
    perm = rng.permutation(len(X))  # interleave source and target rows
    ref = KMM(gamma=0.05).fit(Xs, ys, Xt_u=Xu)
    got = KMM(gamma=0.05).fit(X[perm], y[perm], sample_domain=sd[perm])
    order = np.argsort(perm[sd[perm] > 0])  # source rows of X[perm], in Xs order
    np.testing.assert_allclose(got.weights_[order], ref.weights_, atol=1e-6)


def test_labeled_rows_repeated_in_unlabeled_are_counted_once():
    Xs, ys, Xt, yt, _ = _covariate_shift(seed=2)
    only_u = KMM(random_state=0).fit(Xs, ys, Xt_u=Xt)
    with_l = KMM(random_state=0).fit(Xs, ys, Xt[:20], yt[:20], Xt)
    np.testing.assert_array_equal(only_u.weights_, with_l.weights_)
    # a labeled row that is not among the unlabeled ones does count
    extra = Xt[:20] + 0.5
    other = KMM(random_state=0).fit(Xs, ys, extra, yt[:20], Xt)
    assert not np.allclose(other.weights_, only_u.weights_)


def test_fit_leaves_the_callers_arrays_alone():
    Xs, ys, Xt, yt, _ = _covariate_shift(seed=3)
    parts = [Xs, ys, Xt[:10], yt[:10], Xt]
    copies = [p.copy() for p in parts]
    KMM(random_state=0).fit(*parts)
    for p, c in zip(parts, copies):
        np.testing.assert_array_equal(p, c)
    X, y, sd = pack(*parts)
    packed = [X, y, sd]
    copies = [p.copy() for p in packed]
    KMM(random_state=0).fit(X, y, sample_domain=sd)
    for p, c in zip(packed, copies):
        np.testing.assert_array_equal(p, c)


def test_linear_kernel_and_fixed_gamma():
    Xs, ys, Xt, _, _ = _covariate_shift(seed=4)
    lin = KMM(kernel="linear", B=5.0).fit(Xs, ys, Xt_u=Xt)
    assert lin.gamma_ is None
    K, kappa = _kmm_kernel(Xs, Xt, "linear", None)
    np.testing.assert_allclose(K, Xs @ Xs.T)
    np.testing.assert_allclose(kappa, len(Xs) * Xs @ Xt.mean(axis=0))
    fixed = KMM(gamma=0.3).fit(Xs, ys, Xt_u=Xt)
    assert fixed.gamma_ == 0.3
    K, kappa = _kmm_kernel(Xs, Xt, "rbf", 0.3)
    d2 = ((Xs[:, None] - Xs[None]) ** 2).sum(-1)
    np.testing.assert_allclose(K, np.exp(-0.3 * d2), atol=1e-12)
    assert np.array_equal(K, K.T) and np.all(np.diag(K) == 1.0)
    d2t = ((Xs[:, None] - Xt[None]) ** 2).sum(-1)
    np.testing.assert_allclose(kappa, len(Xs) / len(Xt) * np.exp(-0.3 * d2t).sum(1))


def test_cvxpy_solver_in_the_estimator():
    Xs, ys, Xt, _, _ = _covariate_shift(seed=5, n_s=120, n_t=80)
    apg = KMM(random_state=0).fit(Xs, ys, Xt_u=Xt)
    ref = KMM(solver="cvxpy", random_state=0).fit(Xs, ys, Xt_u=Xt)
    assert abs(apg.objective_ - ref.objective_) <= 1e-4 * abs(ref.objective_)


def test_final_estimator_methods_are_delegated():
    Xs, ys, Xt, _, _ = _covariate_shift(seed=6, n_s=120, n_t=80)
    svc = KMM(SVC(kernel="linear"), random_state=0).fit(Xs, ys, Xt_u=Xt)
    assert not hasattr(svc, "predict_proba")
    assert not hasattr(svc, "predict_log_proba")
    assert svc.decision_function(Xt).shape == (80,)
    assert isinstance(svc.final_estimator_, SVC)
    assert svc.final_estimator is not svc.final_estimator_  # cloned
    lr = KMM(random_state=0).fit(Xs, ys, Xt_u=Xt)
    np.testing.assert_allclose(np.exp(lr.predict_log_proba(Xt)), lr.predict_proba(Xt))
    np.testing.assert_array_equal(lr.classes_, [0, 1])


@pytest.mark.parametrize(
    "params, fit_kwargs, match",
    [
        (dict(B=0.0), {}, "'B' parameter"),
        (dict(B=-1.0), {}, "'B' parameter"),
        (dict(eps=1.0), {}, "'eps' parameter"),
        (dict(solver="sgd"), {}, "'solver' parameter"),
        (dict(kernel="poly"), {}, "'kernel' parameter"),
        (dict(final_estimator="lr"), {}, "'final_estimator' parameter"),
        (dict(B=0.5, eps=0.1), {}, "B=0.5 is too small"),
        (dict(final_estimator=KNeighborsClassifier()), {}, "final_estimator=.*sample_weight"),
        ({}, dict(Xt_u="short"), "Xt_u has rows of shape"),
        ({}, dict(Xt_u="nan"), "Xt_u contains NaN"),
        ({}, dict(yt_l="alone"), "yt_l was given without Xt_l"),
    ],
)
def test_bad_input_names_the_argument(params, fit_kwargs, match):
    Xs, ys, Xt, yt, _ = _covariate_shift(seed=7, n_s=60, n_t=40)
    bad = {
        "short": Xt[:, :1],
        "nan": np.where(np.arange(Xt.size).reshape(Xt.shape) == 3, np.nan, Xt),
        "alone": yt,
    }
    kwargs = {"Xt_u": Xt, **{key: bad[how] for key, how in fit_kwargs.items()}}
    with pytest.raises(ValueError, match=match):
        KMM(**params).fit(Xs, ys, **kwargs)


def test_refit_and_clone_give_the_same_model():
    Xs, ys, Xt, _, _ = _covariate_shift(seed=8, n_s=150, n_t=100)
    kmm = KMM(random_state=0).fit(Xs, ys, Xt_u=Xt)
    first = kmm.weights_.copy()
    kmm.fit(Xs, ys, Xt_u=Xt)
    np.testing.assert_array_equal(kmm.weights_, first)
    np.testing.assert_array_equal(clone(kmm).fit(Xs, ys, Xt_u=Xt).weights_, first)
