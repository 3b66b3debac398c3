"""The transfer-data contract: pack / unpack and the mixin's validation."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from skntl import pack, unpack
from skntl._data import check_sample_domain


def _labels(kind, n, seed):
    rng = np.random.RandomState(seed)
    if kind == "int":
        return rng.randint(-1, 3, size=n)  # -1 is a real class here, not a sentinel
    if kind == "str":
        return np.array(["cat", "dog", "unlabeled"])[rng.randint(0, 3, size=n)]
    return rng.randint(0, 2, size=n).astype(bool)


@settings(max_examples=60, deadline=None)
@given(
    n_s=st.integers(1, 6),
    n_l=st.integers(0, 4),
    n_u=st.integers(0, 4),
    width=st.integers(1, 3),
    kind=st.sampled_from(["int", "str", "bool"]),
    seed=st.integers(0, 1000),
    use_none=st.booleans(),
)
def test_pack_unpack_round_trip(n_s, n_l, n_u, width, kind, seed, use_none):
    rng = np.random.RandomState(seed)
    Xs, Xl, Xu = (rng.randn(n, width) for n in (n_s, n_l, n_u))
    ys, yl = _labels(kind, n_s, seed), _labels(kind, n_l, seed + 1)
    if use_none and n_l == 0:
        Xl = yl = None
    if use_none and n_u == 0:
        Xu = None
    copies = [None if a is None else a.copy() for a in (Xs, ys, Xl, yl, Xu)]

    X, y, sd = pack(Xs, ys, Xl, yl, Xu)
    assert len(X) == len(y) == len(sd) == n_s + n_l + n_u
    assert set(np.unique(sd)) <= {1, -1, -2}
    parts = unpack(X, y, sd)
    for orig, back in zip((Xs, ys, Xl, yl, Xu), parts):
        if orig is None or len(orig) == 0:
            assert back is None or len(back) == 0
        else:
            np.testing.assert_array_equal(orig, back)
            assert back.dtype == orig.dtype
    for orig, copy in zip((Xs, ys, Xl, yl, Xu), copies):  # never mutated
        if orig is not None:
            np.testing.assert_array_equal(orig, copy)


@settings(max_examples=30, deadline=None)
@given(X=hnp.arrays(np.float64, st.tuples(st.integers(1, 8), st.integers(1, 3))),
       data=st.data())
def test_unpack_pack_round_trip_for_any_valid_sample_domain(X, data):
    n = len(X)
    sd = np.array(data.draw(st.lists(st.sampled_from([1, 2, -1, -2]), min_size=n, max_size=n)))
    y = np.arange(n)
    Xs, ys, Xl, yl, Xu = unpack(X, y, sd)
    X2, y2, sd2 = pack(Xs, ys, Xl, yl, Xu)
    # pack orders rows source, labeled, unlabeled: compare as multisets per kind
    for rows_in, code_out in ((sd > 0, 1), (sd == -1, -1), (sd == -2, -2)):
        np.testing.assert_array_equal(X[rows_in], X2[sd2 == code_out])
        if code_out != -2:
            np.testing.assert_array_equal(y[rows_in], y2[sd2 == code_out])


def test_string_labels_and_placeholder_never_adds_a_class():
    Xs, ys = np.zeros((3, 2)), np.array(["a", "b", "a"])
    X, y, sd = pack(Xs, ys, Xt_u=np.ones((2, 2)))
    assert set(y) == {"a", "b"}
    np.testing.assert_array_equal(sd, [1, 1, 1, -2, -2])


def test_images_pack():
    Xs, Xu = np.zeros((2, 1, 4, 4)), np.ones((3, 1, 4, 4))
    X, y, sd = pack(Xs, [0, 1], Xt_u=Xu)
    assert X.shape == (5, 1, 4, 4)
    with pytest.raises(ValueError, match="Xt_u"):
        pack(Xs, [0, 1], Xt_u=np.ones((3, 1, 5, 4)))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(Xt_l=np.zeros((2, 2))), "Xt_l was given without yt_l"),
        (dict(yt_l=[0, 1]), "yt_l was given without Xt_l"),
        (dict(Xt_l=np.zeros((2, 2)), yt_l=[0]), "yt_l has 1 entries but Xt_l has 2"),
        (dict(Xt_u=np.zeros((2, 3))), "Xt_u has rows of shape"),
    ],
)
def test_pack_errors_name_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        pack(np.zeros((3, 2)), [0, 1, 0], **kwargs)


def test_pack_rejects_mismatched_source_lengths():
    with pytest.raises(ValueError, match="ys has 2 entries but Xs has 3"):
        pack(np.zeros((3, 2)), [0, 1])


@pytest.mark.parametrize(
    "sd, match",
    [
        ([1, 1], "sample_domain has 2 entries but X has 3 rows"),
        ([1, 0, -1], "sample_domain contains 0"),
        ([1, -3, -1], r"sample_domain contains \[-3\]"),
        ([1.5, 1, -1], "sample_domain must hold integers"),
        ([[1, 1, -1]], "sample_domain must be 1-D"),
    ],
)
def test_sample_domain_errors(sd, match):
    with pytest.raises(ValueError, match=match):
        check_sample_domain(sd, 3)
