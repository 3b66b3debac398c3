"""TargetSplit and split_target."""

import numpy as np
import pytest
import sklearn
from sklearn.model_selection import GridSearchCV, cross_validate

from skntl import TCA, TargetSplit, pack, split_target


@pytest.fixture(scope="module")
def packed():
    rng = np.random.RandomState(0)
    Xs, ys = rng.randn(60, 4), np.arange(60) % 3
    Xl, yl = rng.randn(18, 4) + 0.5, np.arange(18) % 3
    Xu = rng.randn(25, 4) + 0.5
    return pack(Xs, ys, Xl, yl, Xu)


def test_target_split_folds(packed):
    X, y, sd = packed
    cv = TargetSplit(3, random_state=0)
    seen = []
    for train, test in cv.split(X, y, groups=sd):
        assert np.all(sd[test] == -1)  # test: labeled-target rows only
        assert set(np.flatnonzero(sd != -1)) <= set(train)  # all source + unlabeled
        assert not set(train) & set(test)
        seen.extend(test)
    assert sorted(seen) == np.flatnonzero(sd == -1).tolist()  # a partition
    assert cv.get_n_splits() == 3


def test_target_split_is_reproducible_and_shuffles(packed):
    X, y, sd = packed
    a = [t.tolist() for _, t in TargetSplit(3, random_state=1).split(X, y, sd)]
    b = [t.tolist() for _, t in TargetSplit(3, random_state=1).split(X, y, sd)]
    c = [t.tolist() for _, t in TargetSplit(3, shuffle=False).split(X, y, sd)]
    assert a == b
    assert c[0] == np.flatnonzero(sd == -1)[:6].tolist()


def test_target_split_errors(packed):
    X, y, sd = packed
    with pytest.raises(ValueError, match="groups=sample_domain"):
        next(TargetSplit(3).split(X, y))
    with pytest.raises(ValueError, match="at least 30 labeled-target rows"):
        next(TargetSplit(30).split(X, y, sd))
    with pytest.raises(ValueError, match="n_splits must be at least 2"):
        TargetSplit(1)


@pytest.mark.parametrize("routing", [False, True])
def test_grid_search_with_and_without_metadata_routing(packed, routing):
    X, y, sd = packed
    before = sklearn.get_config()["enable_metadata_routing"]
    with sklearn.config_context(enable_metadata_routing=routing):
        est = TCA(n_components=2)
        if routing:
            est = est.set_fit_request(sample_domain=True)
        grid = GridSearchCV(est, {"mu": [0.1, 10.0]}, cv=TargetSplit(3, random_state=0))
        grid.fit(X, y, sample_domain=sd, groups=sd)
        # the refit model saw the packed data with its domains
        assert grid.best_estimator_.n_features_in_ == 4
        assert np.isfinite(grid.cv_results_["mean_test_score"]).all()
        # with routing, groups travels in params; without, as its own argument
        extra = dict(params={"sample_domain": sd, "groups": sd}) if routing else dict(
            groups=sd, params={"sample_domain": sd}
        )
        cv = cross_validate(est, X, y, cv=TargetSplit(3, random_state=0), **extra)
        assert len(cv["test_score"]) == 3
    assert sklearn.get_config()["enable_metadata_routing"] == before


def test_grid_search_scores_target_rows_with_per_fold_domains(packed, monkeypatch):
    """Each CV fit receives the sample_domain rows of its own training fold."""
    X, y, sd = packed
    seen = []
    original = TCA.fit

    def spy(self, X, y=None, *args, sample_domain=None, **kw):
        sd_copy = None if sample_domain is None else np.asarray(sample_domain).copy()
        seen.append((len(X), sd_copy))
        return original(self, X, y, *args, sample_domain=sample_domain, **kw)

    monkeypatch.setattr(TCA, "fit", spy)
    GridSearchCV(TCA(n_components=2), {"mu": [1.0]}, cv=TargetSplit(3, random_state=0),
                 refit=False).fit(X, y, sample_domain=sd, groups=sd)
    assert len(seen) == 3
    for n, sd_fold in seen:
        assert sd_fold is not None and len(sd_fold) == n
        counts = [(sd_fold > 0).sum(), (sd_fold == -1).sum(), (sd_fold == -2).sum()]
        assert counts == [60, 12, 25]


def test_importing_skntl_does_not_touch_sklearn_config():
    import importlib

    import skntl

    before = sklearn.get_config()
    importlib.reload(skntl)
    assert sklearn.get_config() == before


def test_split_target_protocol():
    rng = np.random.RandomState(0)
    yt = np.repeat(np.arange(4), [40, 30, 20, 10])
    Xt = rng.randn(100, 3)
    Xl, yl, Xu, Xte, yte = split_target(Xt, yt, 0.3, random_state=0)
    assert len(Xu) == 50 and len(Xte) == 50
    assert len(Xl) == 15  # round(0.3 * 50)
    # stratified halves
    np.testing.assert_array_equal(np.bincount(yte), [20, 15, 10, 5])
    # labeled rows are target-train rows; train and test are disjoint
    rows = {tuple(r) for r in Xu}
    assert all(tuple(r) in rows for r in Xl)
    assert not rows & {tuple(r) for r in Xte}
    # the labels are the rows' own labels
    lookup = {tuple(r): c for r, c in zip(Xt, yt)}
    assert [lookup[tuple(r)] for r in Xl] == yl.tolist()


def test_split_target_cap_and_zero_ratio():
    rng = np.random.RandomState(1)
    yt = np.repeat(np.arange(3), 40)
    Xt = rng.randn(120, 2)
    Xl, yl, *_ = split_target(Xt, yt, 0.5, max_labeled_per_class=3, random_state=0)
    assert np.bincount(yl, minlength=3).max() <= 3 and len(yl) == 9
    Xl, yl, Xu, _, _ = split_target(Xt, yt, 0.0, random_state=0)
    assert Xl.shape == (0, 2) and yl.shape == (0,) and len(Xu) == 60


def test_split_target_reproducible_and_seed_dependent():
    rng = np.random.RandomState(2)
    Xt, yt = rng.randn(80, 2), np.arange(80) % 4
    a = split_target(Xt, yt, 0.2, random_state=3)
    b = split_target(Xt, yt, 0.2, random_state=3)
    c = split_target(Xt, yt, 0.2, random_state=4)
    for x, z in zip(a, b):
        np.testing.assert_array_equal(x, z)
    assert not np.array_equal(a[0], c[0])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(labeled_ratio=1.5), "labeled_ratio"),
        (dict(labeled_ratio=0.1, test_size=0.0), "test_size"),
        (dict(labeled_ratio=0.1, max_labeled_per_class=0), "max_labeled_per_class"),
    ],
)
def test_split_target_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        split_target(np.zeros((10, 2)), np.arange(10) % 2, **kwargs)

