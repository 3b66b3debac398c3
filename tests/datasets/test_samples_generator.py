import numpy as np
import pytest
from sklearn.neighbors import KNeighborsClassifier

from skntl.datasets import make_transfer_blobs


def _class_means(X, y, n_classes):
    return np.stack([X[y == k].mean(axis=0) for k in range(n_classes)])


def _one_nn(Xs, ys, Xt, yt):
    return KNeighborsClassifier(n_neighbors=1).fit(Xs, ys).score(Xt, yt)


def test_shapes_dtypes_and_balanced_labels():
    Xs, ys, Xt, yt = make_transfer_blobs(101, 50, n_features=4, n_classes=5, random_state=0)
    assert Xs.shape == (101, 4) and Xt.shape == (50, 4)
    assert Xs.dtype == Xt.dtype == np.float64 and ys.dtype == yt.dtype == np.int64
    assert sorted(np.bincount(ys).tolist()) == [20, 20, 20, 20, 21]
    assert np.bincount(yt).tolist() == [10] * 5


def test_random_state():
    a = make_transfer_blobs(random_state=3, marginal_shift=1.0, conditional_shift=0.5)
    b = make_transfer_blobs(random_state=3, marginal_shift=1.0, conditional_shift=0.5)
    c = make_transfer_blobs(random_state=4, marginal_shift=1.0, conditional_shift=0.5)
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    assert not np.allclose(a[0], c[0])
    rng = np.random.RandomState(3)
    d = make_transfer_blobs(random_state=rng, marginal_shift=1.0, conditional_shift=0.5)
    assert all(np.array_equal(u, v) for u, v in zip(a, d))


def test_no_shift_means_same_distribution():
    Xs, ys, Xt, yt = make_transfer_blobs(6000, 6000, n_classes=3, random_state=0)
    np.testing.assert_allclose(_class_means(Xs, ys, 3), _class_means(Xt, yt, 3), atol=0.1)


@pytest.mark.parametrize("shift", [2.0, 7.5])
def test_marginal_shift_translates_every_class_by_the_same_vector(shift):
    Xs, ys, Xt, yt = make_transfer_blobs(
        6000, 6000, n_features=3, n_classes=4, marginal_shift=shift, random_state=1
    )
    moves = _class_means(Xt, yt, 4) - _class_means(Xs, ys, 4)
    np.testing.assert_allclose(np.linalg.norm(moves, axis=1), shift, atol=0.12)
    np.testing.assert_allclose(moves, np.broadcast_to(moves.mean(axis=0), moves.shape), atol=0.12)
    # Undoing the translation restores the within-domain structure.
    aligned = Xt - moves.mean(axis=0)
    assert _one_nn(Xs, ys, aligned, yt) > 0.9 * _one_nn(Xs, ys, Xs, ys) - 0.1


def test_conditional_shift_moves_classes_onto_each_other():
    kwargs = dict(n_classes=4, cluster_std=0.3, center_box=(-10, 10), random_state=2)
    Xs, ys, Xt, yt = make_transfer_blobs(2000, 2000, **kwargs)
    assert _one_nn(Xs, ys, Xt, yt) > 0.95
    Xs1, ys1, Xt1, yt1 = make_transfer_blobs(2000, 2000, conditional_shift=1.0, **kwargs)
    assert np.array_equal(Xs1, Xs)  # the source does not depend on the shift
    assert _one_nn(Xs1, ys1, Xt1, yt1) < 0.05  # every target class sits on another class
    src, tgt = _class_means(Xs1, ys1, 4), _class_means(Xt1, yt1, 4)
    partner = np.argmin(((tgt[:, None] - src[None]) ** 2).sum(-1), axis=1)
    assert sorted(partner.tolist()) == [0, 1, 2, 3] and np.all(partner != np.arange(4))
    half = make_transfer_blobs(2000, 2000, conditional_shift=0.5, **kwargs)
    np.testing.assert_allclose(
        _class_means(half[2], half[3], 4), (src + src[partner]) / 2, atol=0.05
    )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_classes": 1}, r"'n_classes' parameter .* an int in the range \[2, inf\)"),
        ({"n_source": 2}, "n_source must be >= n_classes=3"),
        ({"n_target": 2}, "n_target must be >= n_classes=3"),
        ({"n_target": 2.0}, "'n_target' parameter of make_transfer_blobs must be an int"),
        ({"n_features": 0}, r"'n_features' parameter .* an int in the range \[1, inf\)"),
        ({"marginal_shift": -1}, r"'marginal_shift' parameter .* range \[0.0, inf\)"),
        ({"marginal_shift": np.inf}, "'marginal_shift' parameter of make_transfer_blobs"),
        ({"conditional_shift": 1.5}, r"'conditional_shift' parameter .* range \[0.0, 1.0\]"),
        ({"cluster_std": 0}, r"'cluster_std' parameter .* range \(0.0, inf\)"),
        ({"center_box": (1, 1)}, "center_box must be a pair"),
        ({"center_box": 5}, "'center_box' parameter of make_transfer_blobs"),
        ({"random_state": "seed"}, "'random_state' parameter of make_transfer_blobs"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_transfer_blobs(**kwargs)
