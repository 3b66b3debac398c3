"""Bad input gives one clear error and leaves nothing behind (issue 15).

One regression test per root cause; ``rcNN`` in a test's name is the root
cause it covers. The CLI's causes (14-17) are in
``tests/experiments/test_cli_errors.py``.
"""

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted
from skorch.callbacks import EarlyStopping

from skntl import (
    DANN,
    GTA,
    KMM,
    TCA,
    NegativeTransferGap,
    PerturbedSource,
    pack,
    perturb_source,
    should_transfer,
)

_FAST = dict(hidden_layer_sizes=(8,), discriminator_hidden=(8,), max_epochs=1, random_state=0)


def _data(seed=0, n_features=4):
    rng = np.random.RandomState(seed)
    Xs = rng.randn(40, n_features)
    ys = (Xs[:, 0] > 0).astype(int)
    Xt = rng.randn(30, n_features) + 0.5
    yt = (Xt[:, 0] > 0.5).astype(int)
    return Xs, ys, Xt[:10], yt[:10], Xt


def _state(est):
    """Everything ``fit`` may set: attribute names, and predictions when fitted."""
    state = {"attrs": sorted(vars(est))}
    try:
        check_is_fitted(est)
    except NotFittedError:
        state["fitted"] = False
        return state
    Xs = _data()[0]
    state["fitted"] = True
    state["pred"] = est.predict(Xs)
    return state


def _assert_same_state(before, after):
    assert after["attrs"] == before["attrs"]
    assert after["fitted"] == before["fitted"]
    if before["fitted"]:
        np.testing.assert_array_equal(after["pred"], before["pred"])


def _noise_of_wrong_shape(X, rng):
    return X[:1]


_FAILING_FITS = [
    # (estimator that fits, parameters that make it fail, data changes that make
    # it fail, error type, message)
    (TCA(n_components=2), {"n_components": 10}, {}, ValueError,
     "n_components=10 is larger than possible"),
    (TCA(n_components=2), {}, {"y": np.zeros(40, dtype=int)}, ValueError, "class"),
    (KMM(), {"B": 0.01, "eps": 0.0}, {}, ValueError, "B=0.01 is too small"),
    (KMM(), {"final_estimator": LogisticRegression}, {}, TypeError,
     "final_estimator must be an estimator instance"),
    (NegativeTransferGap(LogisticRegression()), {"estimator": LogisticRegression}, {},
     TypeError, "estimator must be an estimator instance"),
    (PerturbedSource(LogisticRegression()), {"estimator": LogisticRegression}, {},
     TypeError, "estimator must be an estimator instance"),
    (PerturbedSource(LogisticRegression(), eps_x=1.0), {"x_noise": _noise_of_wrong_shape},
     {}, ValueError, "x_noise returned an array of shape"),
    (DANN(**_FAST), {"device": "tpu9"}, {}, ValueError, "device='tpu9'"),
    (DANN(**_FAST), {}, {"X": np.full((40, 4), 1e39)}, ValueError, "float32"),
]


def _ids(case):
    name = type(case[0]).__name__
    return f"{name}-{sorted(case[1])}-{sorted(case[2])}"


@pytest.mark.parametrize("case", _FAILING_FITS, ids=[_ids(c) for c in _FAILING_FITS])
@pytest.mark.parametrize("fitted_before", [False, True], ids=["unfitted", "fitted"])
def test_rc01_failed_fit_leaves_estimator_unchanged(case, fitted_before):
    good, bad_params, changes, error, match = case
    Xs, ys, Xl, yl, Xu = _data()
    est = clone(good)
    if fitted_before:
        if "device" in bad_params:
            pytest.skip("skorch moves a fitted net to the device in set_params itself")
        est.fit(Xs, ys, Xl, yl, Xu)
    est.set_params(**bad_params)
    before = _state(est)
    data = {**dict(X=Xs, y=ys, Xt_l=Xl, yt_l=yl, Xt_u=Xu), **changes}
    if "y" in changes:
        data.update(Xt_l=None, yt_l=None)  # a one-class source and no other labels
    with pytest.raises(error, match=match):
        est.fit(**data)
    _assert_same_state(before, _state(est))


def test_rc01_deep_failed_fit_leaves_no_label_encoder():
    Xs, ys, Xl, yl, Xu = _data()
    est = DANN(device="cuda" if not torch.cuda.is_available() else "tpu9", **_FAST)
    with pytest.raises(ValueError, match="device"):
        est.fit(Xs, ys, Xl, yl, Xu)
    assert not any(a.endswith("_") for a in vars(est))
    with pytest.raises(NotFittedError):
        est.predict(Xs)


@pytest.mark.parametrize(
    "estimator", [TCA(n_components=2), KMM(), DANN(**_FAST)], ids=["TCA", "KMM", "DANN"]
)
def test_rc02_mixed_label_types_name_the_argument(estimator):
    Xs, ys, Xl, yl, Xu = _data()
    mixed = ys.astype(object)
    mixed[0] = "a"
    with pytest.raises(ValueError, match=r"^y mixes labels of different types"):
        clone(estimator).fit(Xs, mixed, Xl, yl, Xu)
    mixed_t = yl.astype(object)
    mixed_t[0] = "a"
    with pytest.raises(ValueError, match=r"^yt_l mixes labels"):
        clone(estimator).fit(Xs, ys, Xl, mixed_t, Xu)
    with pytest.raises(ValueError, match=r"^yt_l holds strings but y holds numbers"):
        clone(estimator).fit(Xs, ys, Xl, yl.astype(str), Xu)
    X, y, sd = pack(Xs, ys, Xl, yl, Xu)
    y = y.astype(object)
    y[sd == -1] = "a"
    with pytest.raises(ValueError, match=r"^y mixes labels"):
        clone(estimator).fit(X, y, sample_domain=sd)


def test_rc02_should_transfer_mixed_labels():
    Xs, ys, Xl, yl, Xu = _data()
    mixed = yl.astype(object)
    mixed[0] = "a"
    with pytest.raises(ValueError, match=r"^yt_l mixes labels"):
        should_transfer(LogisticRegression(), Xs, ys, Xl, mixed, cv=2)


@pytest.mark.parametrize("where", ["X", "Xt_l", "Xt_u"])
def test_rc03_deep_rejects_values_beyond_float32(where):
    Xs, ys, Xl, yl, Xu = _data()
    parts = dict(X=Xs.copy(), Xt_l=Xl.copy(), Xt_u=Xu.copy())
    parts[where][0, 0] = 1e39
    est = DANN(**_FAST)
    with pytest.raises(ValueError, match=rf"^{where} has values up to 1e\+39.*float32"):
        est.fit(parts["X"], ys, parts["Xt_l"], yl, parts["Xt_u"])
    est.fit(Xs, ys, Xl, yl, Xu)
    X_big = Xs.copy()
    X_big[3, 1] = -1e300
    with pytest.raises(ValueError, match=r"^X has values up to 1e\+300"):
        est.predict(X_big)
    with pytest.raises(ValueError, match="float32"):
        est.predict_proba(X_big)


@pytest.mark.parametrize(
    "estimator",
    [TCA(n_components=2), TCA(n_components=2, kernel="rbf"),
     TCA(n_components=2, kernel="rbf", n_landmarks=10), KMM(), KMM(kernel="linear")],
    ids=["TCA-linear", "TCA-rbf", "TCA-nystroem", "KMM-rbf", "KMM-linear"],
)
@pytest.mark.parametrize("scale", [1e39, 1e160, 1e300])
def test_rc04_huge_inputs_say_scale_the_features(estimator, scale):
    Xs, ys, Xl, yl, Xu = _data()
    est = clone(estimator)
    try:
        est.fit(Xs * scale, ys, Xl * scale, yl, Xu * scale)
    except ValueError as exc:
        assert "Scale the features" in str(exc)
    else:  # solvable at this scale: then the answer is usable
        assert np.isfinite(est.predict_proba(Xu * scale)).all()


@pytest.mark.parametrize(
    "params", [{}, {"kernel": "rbf"}, {"kernel": "rbf", "n_landmarks": 10}],
    ids=["linear", "rbf", "nystroem"],
)
def test_rc05_tca_tiny_mu_is_rejected_with_its_bound(params):
    Xs, ys, Xl, yl, Xu = _data()
    with pytest.raises(ValueError, match=r"^mu=1e-300 vanishes .* use mu >= "):
        TCA(n_components=2, mu=1e-300, **params).fit(Xs, ys, Xl, yl, Xu)


@pytest.mark.parametrize("method", [DANN, GTA], ids=["DANN", "GTA"])
def test_rc06_warm_start_refit_checks_features_and_classes(method):
    Xs, ys, Xl, yl, Xu = _data()
    params = dict(_FAST, warm_start=True)
    if method is GTA:
        params.update(generator_hidden=(8,), noise_dim=4)
    est = method(**params).fit(Xs, ys, Xl, yl, Xu)
    before = _state(est)
    with pytest.raises(ValueError, match=r"^X has 3 features, but \w+ is expecting 4 .*warm_st"):
        est.fit(Xs[:, :3], ys, Xl[:, :3], yl, Xu[:, :3])
    _assert_same_state(before, _state(est))
    ys3 = ys.copy()
    ys3[:5] = 2
    with pytest.raises(ValueError, match=r"^warm_start=True: y contains the class\(es\) \[2\]"):
        est.fit(Xs, ys3, Xl, yl, Xu)
    _assert_same_state(before, _state(est))
    # a subset of the classes continues training the same network
    est.fit(Xs[ys == 0], ys[ys == 0], Xt_u=Xu)
    np.testing.assert_array_equal(est.classes_, [0, 1])
    assert est.predict_proba(Xu).shape == (len(Xu), 2)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks a CPU-only torch")
def test_rc07_cuda_on_cpu_only_torch_is_checked_first():
    Xs, ys, Xl, yl, Xu = _data()
    est = DANN(device="cuda", **_FAST)
    with pytest.raises(ValueError, match=r"^device='cuda', but torch.cuda.is_available"):
        est.fit(Xs, ys, Xl, yl, Xu)
    with pytest.raises(NotFittedError):
        est.predict(Xs)


def test_rc07_invalid_device_string():
    Xs, ys, Xl, yl, Xu = _data()
    with pytest.raises(ValueError, match=r"^device='tpu9' is not a torch device"):
        DANN(device="tpu9", **_FAST).fit(Xs, ys, Xl, yl, Xu)


def test_rc08_early_stopping_on_valid_loss_needs_a_split():
    Xs, ys, Xl, yl, Xu = _data()
    est = DANN(callbacks=[EarlyStopping(patience=1)], **_FAST)
    with pytest.raises(ValueError, match=r"monitors 'valid_loss'.*train_split=.*ValidSplit"):
        est.fit(Xs, ys, Xl, yl, Xu)
    from skorch.dataset import ValidSplit

    est.set_params(train_split=ValidSplit(2), max_epochs=2).fit(Xs, ys, Xl, yl, Xu)
    assert "valid_loss" in est.history[-1]


def test_rc09_should_transfer_object_inputs():
    Xs, ys, Xl, yl, Xu = _data()
    kw = dict(cv=2, n_repeats=1, random_state=0)
    res = should_transfer(LogisticRegression(), Xs.astype(object), ys, Xl.astype(object), yl, **kw)
    ref = should_transfer(LogisticRegression(), Xs, ys, Xl, yl, **kw)
    assert res.ci == ref.ci
    X_str = Xs.astype(object)
    X_str[0, 0] = "x"
    with pytest.raises(ValueError, match="could not convert string to float"):
        should_transfer(LogisticRegression(), X_str, ys, Xl, yl, cv=2, n_repeats=1)


def test_rc10_two_labels_of_one_class_are_undecided():
    Xs, ys, _, _, _ = _data()
    # two labels of class 1 where the source says 0: every fold's NTG is exactly 1
    Xl, yl = np.array([[-3.0, 0, 0, 0], [-2.5, 0, 0, 0]]), np.array([1, 1])
    res = should_transfer(LogisticRegression(), Xs, ys, Xl, yl, cv=2, random_state=0)
    np.testing.assert_array_equal(res.folds["ntg"], 1.0)
    low, high = res.ci
    assert low < 0 < 1 < high
    assert res.recommendation == "undecided"


def test_rc11_perturb_source_keeps_whole_labels():
    Xs = np.zeros((30, 2))
    ys = np.array(["a", "b"] * 15)
    _, yp, _, y_mask = perturb_source(
        Xs, ys, eps_y=1.0, classes=["alpha", "beta"], random_state=0
    )
    assert set(yp) == {"alpha", "beta"} and y_mask.all()
    assert ys[0] == "a"  # the input is untouched
    with pytest.raises(ValueError, match=r"^classes holds numbers but ys holds strings"):
        perturb_source(Xs, ys, eps_y=1.0, classes=[0, 1], random_state=0)


def test_rc12_perturbation_that_removes_a_labeled_class_says_so():
    Xs, ys, Xl, yl, Xu = _data()
    ys = ys.copy()
    ys[0] = 2  # one source row of class 2
    yl = yl.copy()
    yl[0] = 2
    # a seed whose redrawn labels take class 2's only row away and give it no other
    seed = next(
        s for s in range(3000) if 2 not in perturb_source(Xs, ys, eps_y=0.1, random_state=s)[1]
    )
    model = PerturbedSource(LogisticRegression(), eps_y=0.1, random_state=seed)
    with pytest.raises(ValueError, match=r"perturbation \(eps_y=0.1\) redrew every source row "
                                         r"of class\(es\) \[2\]"):
        model.fit(Xs, ys, Xl, yl, Xu)


@pytest.mark.parametrize("part", ["Xt_l", "Xt_u"])
def test_rc13_target_dataframe_columns_must_match_the_source(part):
    pd = pytest.importorskip("pandas")
    Xs, ys, Xl, yl, Xu = _data()
    cols = ["a", "b", "c", "d"]
    frames = dict(
        X=pd.DataFrame(Xs, columns=cols),
        Xt_l=pd.DataFrame(Xl, columns=cols),
        Xt_u=pd.DataFrame(Xu, columns=cols),
    )
    frames[part] = frames[part][["b", "a", "c", "d"]]
    for est in (TCA(n_components=2), DANN(**_FAST)):
        with pytest.raises(ValueError, match=rf"^{part} has the columns of X in another order"):
            clone(est).fit(frames["X"], ys, frames["Xt_l"], yl, frames["Xt_u"])
    with pytest.raises(ValueError, match=rf"^{part} has the columns of Xs in another order"):
        pack(frames["X"], ys, frames["Xt_l"], yl, frames["Xt_u"])
    frames[part] = frames[part].rename(columns={"b": "z"})
    with pytest.raises(ValueError, match=rf"^{part}'s column names differ .* missing \['b'\]"):
        TCA(n_components=2).fit(frames["X"], ys, frames["Xt_l"], yl, frames["Xt_u"])


def test_tca_default_n_components_follows_the_data():
    Xs, ys, Xl, yl, Xu = _data()
    assert TCA().fit(Xs, ys, Xl, yl, Xu).n_components_ == 4  # the rank: 4 features
    assert TCA(kernel="rbf").fit(Xs, ys, Xl, yl, Xu).n_components_ == 30
    assert TCA(n_components=3).fit(Xs, ys, Xl, yl, Xu).n_components_ == 3


def test_float16_inputs_are_computed_in_float64():
    Xs, ys, Xl, yl, Xu = _data()
    a = TCA(n_components=2).fit(Xs.astype(np.float16), ys, Xl, yl, Xu)
    b = TCA(n_components=2).fit(Xs.astype(np.float16).astype(np.float64), ys, Xl, yl, Xu)
    np.testing.assert_allclose(a.transform(Xu), b.transform(Xu))
