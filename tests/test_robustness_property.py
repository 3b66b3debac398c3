"""Property test: malformed transfer problems give a clear error or a usable fit (issue 15).

For every public estimator, hypothesis draws a small transfer problem and one
malformation of it (a shape, a dtype, a NaN/inf/huge value, a label kind, a
``sample_domain`` value, a DataFrame with reordered columns). Either ``fit``
raises a ``ValueError``/``TypeError`` whose message names the offending
argument, and the estimator is left unfitted; or it fits and its predictions
are finite. The caller's arrays are never modified.
"""

import hashlib
import pickle

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

from skntl import (
    ADDA,
    DAN,
    DANN,
    GTA,
    KMM,
    PADA,
    TCA,
    DeepCORAL,
    NegativeTransferGap,
    PerturbedSource,
    pack,
)

_TINY = dict(hidden_layer_sizes=(4,), discriminator_hidden=(4,), max_epochs=1, batch_size=16)

ESTIMATORS = [
    TCA(),
    TCA(kernel="rbf"),
    KMM(max_iter=50),
    *(m(**_TINY) for m in (DANN, DAN, DeepCORAL, ADDA, PADA)),
    GTA(generator_hidden=(4,), noise_dim=2, **_TINY),
    NegativeTransferGap(LogisticRegression()),
    PerturbedSource(LogisticRegression(), eps_x=0.5, eps_y=0.5, random_state=0),
]

_INPUTS = ("X", "Xt_l", "Xt_u")


def _digest(data):
    return hashlib.sha256(pickle.dumps(data)).hexdigest()


# Each malformation changes the explicit parts ``d`` (or packs them) and says
# which argument names an error may blame.
def _wrong_width(d, draw):
    part = draw(st.sampled_from(["Xt_l", "Xt_u"]))
    d[part] = d[part][:, :2]
    return [part]


def _length_mismatch(d, draw):
    d["yt_l"] = d["yt_l"][:-1]
    return ["yt_l", "Xt_l"]


def _bad_value(d, draw):
    part = draw(st.sampled_from(_INPUTS))
    value = draw(st.sampled_from([np.nan, np.inf, -np.inf, 1e39, -1e300]))
    d[part] = d[part].copy()
    d[part][draw(st.integers(0, len(d[part]) - 1)), draw(st.integers(0, 3))] = value
    # a kernel overflow is a property of all inputs together
    return [part] + (["inputs"] if np.isfinite(value) else [])


def _dtype(d, draw):
    part = draw(st.sampled_from(_INPUTS))
    kind = draw(st.sampled_from(["object", "str", "bool", "int", "float32", "float16"]))
    if kind == "str":
        d[part] = d[part].astype(str)
    elif kind == "bool":
        d[part] = d[part] > 0
    elif kind == "int":
        d[part] = np.round(d[part]).astype(int)
    else:
        d[part] = d[part].astype(kind)
    return [part]


def _labels(d, draw):
    kind = draw(st.sampled_from(["mixed", "mixed_t", "str_vs_int", "nan", "unseen", "one"]))
    if kind == "mixed":
        d["y"] = d["y"].astype(object)
        d["y"][0] = "a"
        return ["y"]
    if kind == "mixed_t":
        d["yt_l"] = d["yt_l"].astype(object)
        d["yt_l"][0] = "a"
        return ["yt_l"]
    if kind == "str_vs_int":
        d["yt_l"] = d["yt_l"].astype(str)
        return ["yt_l"]
    if kind == "nan":
        d["y"] = d["y"].astype(float)
        d["y"][0] = np.nan
        return ["y"]
    if kind == "unseen":
        d["yt_l"] = d["yt_l"].copy()
        d["yt_l"][0] = 7
        return ["yt_l"]
    d["y"] = np.zeros_like(d["y"])
    d.update(Xt_l=None, yt_l=None)
    return ["y", "class"]


def _sample_domain(d, draw):
    X, y, sd = pack(d["X"], d["y"], d["Xt_l"], d["yt_l"], d["Xt_u"])
    sd = sd.astype(float)
    sd[draw(st.integers(0, len(sd) - 1))] = draw(st.sampled_from([0, -3, 1.5, np.nan, 2]))
    d.clear()
    d.update(X=X, y=y, sample_domain=sd)
    return ["sample_domain"]


def _dataframe(d, draw):
    pd = pytest.importorskip("pandas")
    cols = ["a", "b", "c", "d"]
    part = draw(st.sampled_from(["Xt_l", "Xt_u"]))
    for name in _INPUTS:
        d[name] = pd.DataFrame(d[name], columns=cols)
    d[part] = d[part][["b", "a", "c", "d"]]
    return [part]


_MALFORMATIONS = [
    _wrong_width, _length_mismatch, _bad_value, _dtype, _labels, _sample_domain, _dataframe,
]


@st.composite
def _problems(draw):
    seed = draw(st.integers(0, 2**16))
    rng = np.random.RandomState(seed)
    n_s, n_l, n_u = draw(st.integers(8, 20)), draw(st.integers(2, 6)), draw(st.integers(2, 10))
    Xs, Xt = rng.randn(n_s, 4), rng.randn(n_l + n_u, 4) + 0.5
    ys = np.arange(n_s) % 2
    d = dict(X=Xs, y=ys, Xt_l=Xt[:n_l], yt_l=np.arange(n_l) % 2, Xt_u=Xt[n_l:])
    malformation = draw(st.sampled_from(_MALFORMATIONS))
    names = malformation(d, draw)
    return d, names


def _ids(est):
    return type(est).__name__ + ("-rbf" if getattr(est, "kernel", None) == "rbf" else "")


# The fast subset keeps one estimator of each kind (conventional, deep, meta).
_FAST = (ESTIMATORS[0], ESTIMATORS[2], ESTIMATORS[3], ESTIMATORS[-2])


@pytest.mark.parametrize("estimator", [
    pytest.param(est, id=_ids(est), marks=[] if any(est is f for f in _FAST) else pytest.mark.slow)
    for est in ESTIMATORS
])
@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(problem=_problems())
def test_malformed_problems_give_a_clear_error_or_a_usable_fit(estimator, problem):
    data, names = problem
    est = clone(estimator)
    attrs = sorted(vars(est))
    digest = _digest(data)
    try:
        est.fit(**data)
    except (ValueError, TypeError) as exc:
        message = str(exc)
        assert any(name in message for name in names), (names, message)
        assert sorted(vars(est)) == attrs  # nothing half-fitted
        with pytest.raises(NotFittedError):
            check_is_fitted(est)
    else:
        X = data["X"]
        proba = est.predict_proba(X)
        assert proba.shape == (len(X), len(est.classes_))
        assert np.isfinite(proba).all()
        assert set(est.predict(X)) <= set(est.classes_)
    assert _digest(data) == digest  # inputs untouched
