"""SafeTransfer and should_transfer's learning-curve correction."""

import numpy as np
import pytest
import sklearn
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from skntl import KMM, TCA, SafeTransfer, TargetSplit, fit_target_only, pack
from skntl.metrics import (
    NegativeTransferGap,
    _extrapolate,
    _half_per_class,
    should_transfer,
)

# many tiny fits: BLAS threads spinning against each other only slow them down
pytestmark = pytest.mark.usefixtures("one_thread")


def _problem(seed=0, n_labeled=45, swapped=False, n_source=300):
    """Three Gaussian classes; ``swapped`` renames the source's classes (it then hurts)."""
    rng = np.random.RandomState(seed)
    centers = 2.0 * np.eye(3, 5)
    ys = np.arange(n_source) % 3
    Xs = centers[ys] + 1.5 * rng.randn(n_source, 5)
    if swapped:
        ys = (ys + 1) % 3
    yt = np.arange(n_labeled + 300) % 3
    Xt = centers[yt] + 1.5 * rng.randn(len(yt), 5) + 0.3
    Xl, yl = Xt[:n_labeled], yt[:n_labeled]
    return Xs, ys, Xl, yl, Xt[: n_labeled + 60], Xt[-300:], yt[-300:]


# ------------------------------------------------------------------ SafeTransfer


def test_harmful_source_gives_the_target_only_model():
    Xs, ys, Xl, yl, Xu, Xte, yte = _problem(swapped=True)
    model = SafeTransfer(LogisticRegression(), random_state=0).fit(Xs, ys, Xl, yl, Xu)
    assert (model.choice_, model.decision_) == ("target only", "decisive")
    assert model.ntg_ > 0 and model.ntg_ci_[0] > 0
    assert model.ntg_ == model.cv_result_.ntg
    # the chosen model is the twin fitted on all the data
    twin = fit_target_only(LogisticRegression(), Xs, ys, Xl, yl, Xu)
    np.testing.assert_array_equal(model.predict(Xte), twin.predict(Xte))
    np.testing.assert_allclose(model.predict_proba(Xte), twin.predict_proba(Xte))
    assert model.score(Xte, yte) == twin.score(Xte, yte)
    np.testing.assert_array_equal(model.classes_, [0, 1, 2])


def test_helpful_source_gives_the_transfer_model():
    # 10 overlapping classes in 50-D: 40 target labels are too few, 600 source rows are not
    rng = np.random.RandomState(3)
    centers = 3.0 * np.eye(10, 50)
    ys, yt = np.arange(600) % 10, np.arange(140) % 10
    Xs = centers[ys] + 2.0 * rng.randn(600, 50)
    Xt = centers[yt] + 2.0 * rng.randn(140, 50) + 0.3
    model = SafeTransfer(LogisticRegression(), cv=5, n_repeats=2, fallback="target only",
                         random_state=0).fit(Xs, ys, Xt[:40], yt[:40], Xt)
    assert (model.choice_, model.decision_) == ("transfer", "decisive")
    ref = NegativeTransferGap(LogisticRegression()).fit(Xs, ys, Xt[:40], yt[:40], Xt)
    np.testing.assert_array_equal(model.predict(Xt), ref.estimator_.predict(Xt))


@pytest.mark.parametrize("fallback", ["transfer", "target only", "better_mean"])
def test_fallback_decides_when_the_interval_contains_zero(fallback):
    # a source that equals the target distribution: neither model is clearly better
    Xs, ys, Xl, yl, Xu, Xte, _ = _problem(seed=2, n_labeled=30)
    model = SafeTransfer(LogisticRegression(), confidence=0.99, fallback=fallback,
                         random_state=0).fit(Xs, ys, Xl, yl, Xu)
    assert model.decision_ == "fallback"
    assert model.ntg_ci_[0] <= 0 <= model.ntg_ci_[1]
    expected = fallback
    if fallback == "better_mean":
        expected = "target only" if model.ntg_ > 0 else "transfer"
    assert model.choice_ == expected
    ref = NegativeTransferGap(LogisticRegression()).fit(Xs, ys, Xl, yl, Xu)
    inner = ref.estimator_ if expected == "transfer" else ref.target_only_estimator_
    np.testing.assert_array_equal(model.predict(Xte), inner.predict(Xte))


def test_by_default_the_source_is_used_only_when_the_interval_shows_it_helps():
    # a source that equals the target distribution: the 60% interval contains 0
    Xs, ys, Xl, yl, Xu, Xte, _ = _problem(seed=3, n_labeled=30)
    model = SafeTransfer(LogisticRegression(), random_state=0).fit(Xs, ys, Xl, yl, Xu)
    assert model.ntg_ < 0 < model.ntg_ci_[1]  # the better mean would have transferred
    assert (model.choice_, model.decision_) == ("target only", "fallback")
    wider = SafeTransfer(LogisticRegression(), confidence=0.9, random_state=0)
    low, high = wider.fit(Xs, ys, Xl, yl, Xu).ntg_ci_
    assert low < model.ntg_ci_[0] and model.ntg_ci_[1] < high


@pytest.mark.parametrize("n_labeled", [0, 2])
def test_too_few_labels_to_cross_validate_transfers(n_labeled):
    Xs, ys, Xl, yl, Xu, Xte, _ = _problem(n_labeled=n_labeled)
    model = SafeTransfer(KMM(), fallback="target only").fit(Xs, ys, Xl, yl, Xu)
    assert (model.choice_, model.decision_) == ("transfer", "too few labels")
    assert np.isnan(model.ntg_) and np.isnan(model.ntg_ci_).all() and model.cv_result_ is None
    ref = KMM().fit(Xs, ys, Xl, yl, Xu)
    np.testing.assert_array_equal(model.predict(Xte), ref.predict(Xte))


@pytest.mark.slow
def test_it_refits_what_negative_transfer_gap_fits():
    """validate_safe_transfer.py scores SafeTransfer as the arm it chose: same models."""
    Xs, ys, Xl, yl, Xu, Xte, _ = _problem(swapped=True, n_labeled=30)
    ref = NegativeTransferGap(KMM()).fit(Xs, ys, Xl, yl, Xu)
    for fallback in ("transfer", "target only"):
        model = SafeTransfer(KMM(), confidence=0.999999, fallback=fallback, random_state=0)
        model.fit(Xs, ys, Xl, yl, Xu)
        inner = ref.estimator_ if model.choice_ == "transfer" else ref.target_only_estimator_
        np.testing.assert_array_equal(model.predict(Xte), inner.predict(Xte))
        if model.choice_ == "transfer":
            np.testing.assert_array_equal(model.estimator_.weights_, ref.estimator_.weights_)


@pytest.mark.slow
def test_cross_validation_is_the_one_should_transfer_runs_and_n_jobs_changes_nothing():
    Xs, ys, Xl, yl, Xu, _, _ = _problem(n_labeled=30)
    kw = dict(cv=4, n_repeats=2, confidence=0.8, random_state=3)
    model = SafeTransfer(LogisticRegression(), correction="learning_curve", **kw)
    model.fit(Xs, ys, Xl, yl, Xu)
    res = should_transfer(LogisticRegression(), Xs, ys, Xl, yl, Xu,
                          correction="learning_curve", **kw)
    assert model.ntg_ == res.ntg and model.ntg_ci_ == res.ci
    np.testing.assert_array_equal(model.cv_result_.folds["ntg"], res.folds["ntg"])
    parallel = clone(model).set_params(n_jobs=2).fit(Xs, ys, Xl, yl, Xu)
    assert parallel.ntg_ == model.ntg_ and parallel.choice_ == model.choice_


def test_transform_is_the_chosen_models():
    Xs, ys, Xl, yl, Xu, Xte, _ = _problem(swapped=True)
    model = SafeTransfer(TCA(n_components=2, random_state=0), random_state=0)
    Z = model.fit_transform(Xs, ys, Xl, yl, Xu)
    assert Z.shape == (len(Xs), 2)
    np.testing.assert_allclose(model.transform(Xte), model.estimator_.transform(Xte))
    assert not hasattr(SafeTransfer(LogisticRegression()), "transform")


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(fallback="undecided"), "'fallback' parameter"),
        (dict(correction="bootstrap"), "'correction' parameter"),
        (dict(cv=1), "'cv' parameter"),
        (dict(confidence=0.0), "'confidence' parameter"),
        (dict(estimator="LogisticRegression"), "'estimator' parameter"),
    ],
)
def test_bad_parameters_name_the_parameter_and_leave_nothing_fitted(params, match):
    Xs, ys, Xl, yl, Xu, _, _ = _problem()
    model = SafeTransfer(params.pop("estimator", LogisticRegression()), **params)
    with pytest.raises(InvalidParameterError, match=match):
        model.fit(Xs, ys, Xl, yl, Xu)
    assert [a for a in vars(model) if a.endswith("_")] == []


def test_failed_refit_keeps_the_previous_fit():
    Xs, ys, Xl, yl, Xu, Xte, _ = _problem(swapped=True)
    model = SafeTransfer(LogisticRegression(), random_state=0).fit(Xs, ys, Xl, yl, Xu)
    before = model.predict(Xte)
    with pytest.raises(ValueError, match="Xt_l has rows of shape"):
        model.fit(Xs, ys, Xl[:, :3], yl, Xu)
    np.testing.assert_array_equal(model.predict(Xte), before)
    assert model.choice_ == "target only"


@pytest.mark.slow
@pytest.mark.parametrize("routing", [False, True])
def test_grid_search_cross_validate_and_pipeline(routing):
    Xs, ys, Xl, yl, Xu, Xte, yte = _problem(swapped=True, n_labeled=90)
    X, y, sd = pack(Xs, ys, Xl, yl, Xu)
    before = sklearn.get_config()["enable_metadata_routing"]
    with sklearn.config_context(enable_metadata_routing=routing):
        est = SafeTransfer(LogisticRegression(), correction=None, random_state=0)
        if routing:
            est = est.set_fit_request(sample_domain=True)
        grid = GridSearchCV(est, {"fallback": ["transfer", "target only"]},
                            cv=TargetSplit(3, random_state=0))
        grid.fit(X, y, sample_domain=sd, groups=sd)
        assert np.isfinite(grid.cv_results_["mean_test_score"]).all()
        assert grid.best_estimator_.choice_ == "target only"
        extra = (dict(params={"sample_domain": sd, "groups": sd}) if routing
                 else dict(groups=sd, params={"sample_domain": sd}))
        cv = cross_validate(est, X, y, cv=TargetSplit(3, random_state=0),
                            return_estimator=True, **extra)
        assert all(m.choice_ == "target only" for m in cv["estimator"])
        pipe = make_pipeline(StandardScaler(), clone(est))
        pipe_params = ({"sample_domain": sd} if routing
                       else {"safetransfer__sample_domain": sd})
        pipe.fit(X, y, **pipe_params)
        assert pipe[-1].choice_ == "target only"
        assert pipe.score(Xte, yte) > 0.5
    assert sklearn.get_config()["enable_metadata_routing"] == before


@pytest.mark.slow
def test_with_a_small_gated_deep_estimator():
    from skntl import DANN

    Xs, ys, Xl, yl, Xu, Xte, yte = _problem(swapped=True, n_labeled=30, n_source=150)
    net = DANN(gate=True, hidden_layer_sizes=(16,), discriminator_hidden=(16,),
               max_epochs=10, lr=1e-2, random_state=0)
    model = SafeTransfer(net, correction=None, random_state=0).fit(Xs, ys, Xl, yl, Xu)
    assert model.choice_ in ("transfer", "target only")
    ref = NegativeTransferGap(net).fit(Xs, ys, Xl, yl, Xu)
    inner = ref.estimator_ if model.choice_ == "transfer" else ref.target_only_estimator_
    np.testing.assert_array_equal(model.predict(Xte), inner.predict(Xte))


# ------------------------------------------------------- the learning-curve correction


def test_extrapolation_follows_the_log_linear_curve():
    # d(m) = a + b log m through (10, 0.2) and (20, 0.1): d(40) = 0.0
    d = _extrapolate(np.array([0.1]), np.array([0.2]), np.array([20]), np.array([10]), 40)
    np.testing.assert_allclose(d, [0.0], atol=1e-12)
    # equal sizes keep the measured value; the result is clipped to [-1, 1]
    np.testing.assert_allclose(
        _extrapolate(np.array([0.3, 0.9]), np.array([0.0, -0.9]), np.array([5, 20]),
                     np.array([5, 10]), 10_000), [0.3, 1.0])


def test_half_subsets_keep_every_class_and_all_other_rows():
    rng = np.random.RandomState(0)
    y = np.r_[np.zeros(50), [0, 0, 0, 0, 0, 1, 1, 1, 2]]
    sd = np.r_[np.ones(50), -np.ones(9)]  # source, labeled target
    train = np.arange(59)
    half = _half_per_class(train, y, sd, rng)
    assert set(range(50)) <= set(half)
    labeled = half[half >= 50]
    assert sorted(np.bincount(y[labeled].astype(int)).tolist()) == [1, 2, 3]


@pytest.mark.slow
def test_should_transfer_with_the_correction_doubles_the_fits_and_reports_both_sizes():
    Xs, ys, Xl, yl, Xu, _, _ = _problem(n_labeled=30)
    args = (LogisticRegression(), Xs, ys, Xl, yl, Xu)
    plain = should_transfer(*args, cv=3, n_repeats=2, random_state=0)
    res = should_transfer(*args, cv=3, n_repeats=2, random_state=0, correction="learning_curve")
    f = res.folds
    # 20 training labels of 3 classes: ceil(n_c / 2) per class keeps 10 or 11
    assert np.all(f["n_train_labeled"] == 20)
    assert np.all((f["n_train_labeled_half"] >= 10) & (f["n_train_labeled_half"] <= 11))
    # the same folds as without the correction, then carried to the 30 labels
    np.testing.assert_array_equal(f["ntg_train"], plain.folds["ntg"])
    np.testing.assert_allclose(
        f["ntg"], _extrapolate(f["ntg_train"], f["ntg_half"], 20, f["n_train_labeled_half"], 30))
    np.testing.assert_allclose(
        f["ntg_half"], f["target_only_accuracy_half"] - f["transfer_accuracy_half"])
    assert res.ntg == pytest.approx(f["ntg"].mean())
    again = should_transfer(*args, cv=3, n_repeats=2, random_state=0,
                            correction="learning_curve")
    np.testing.assert_array_equal(again.folds["ntg"], f["ntg"])
