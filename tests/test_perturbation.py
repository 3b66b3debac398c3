"""Source perturbation: perturb_source, SourcePerturbation, PerturbedSource, the noises."""

import numpy as np
import pytest
import sklearn
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import NearestNeighbors
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from skntl import TCA, TargetSplit, pack
from skntl.metrics import NegativeTransferGap
from skntl.perturbation import (
    PerturbedSource,
    SourcePerturbation,
    perturb_features,
    perturb_images,
    perturb_source,
)

# Many tiny LogisticRegression fits: on a busy 2-core machine, OpenBLAS threads
# spinning against each other made this file ~4x slower than one thread.
pytestmark = pytest.mark.usefixtures("one_thread")


def _blobs(n, rng, n_classes=4, n_features=20, spread=1.0, shift=0.0):
    centers = 4.0 * np.eye(n_classes, n_features)
    y = np.arange(n) % n_classes
    return centers[y] + spread * rng.randn(n, n_features) + shift, y


@pytest.fixture(scope="module")
def packed():
    rng = np.random.RandomState(0)
    Xs, ys = _blobs(120, rng, n_classes=3, n_features=5)
    Xl, yl = _blobs(30, rng, n_classes=3, n_features=5, shift=0.5)
    Xu, _ = _blobs(40, rng, n_classes=3, n_features=5, shift=0.5)
    return pack(Xs, ys, Xl, yl, Xu)


# ------------------------------------------------------------- sklearn contract


# TCA's own check_fit2d_1sample lowers TCA.n_components to 1; through a wrapper it
# cannot, and TCA(n_components=2) then refuses one row with its own clear message.
_TCA_1SAMPLE = {"check_fit2d_1sample": "wrapped TCA(n_components=2) cannot fit 1 row"}


def _expected_failures(estimator):
    return _TCA_1SAMPLE if isinstance(estimator.get_params().get("estimator"), TCA) else {}


@pytest.mark.slow  # ~250 checks, a few seconds in all
@parametrize_with_checks(
    [
        SourcePerturbation(),
        SourcePerturbation(0.3, 0.3, random_state=0),
        PerturbedSource(LogisticRegression()),
        PerturbedSource(LogisticRegression(), 0.2, 0.2, random_state=0),
        PerturbedSource(TCA(n_components=2), eps_x=0.2, random_state=0),
    ],
    expected_failed_checks=_expected_failures,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


# ------------------------------------------------------------- the draws


@pytest.mark.parametrize("eps_x, eps_y", [(0.3, 0.6), (0.7, 0.7), (0.9, 0.1)])
def test_rates_match_eps_within_binomial_tolerance(eps_x, eps_y):
    rng = np.random.RandomState(1)
    n, K = 4000, 4
    Xs, ys = _blobs(n, rng, n_classes=K, n_features=3)
    _, yp, x_mask, y_mask = perturb_source(Xs, ys, eps_x, eps_y, random_state=2)

    def close(observed, p):
        return abs(observed - p) < 4 * np.sqrt(p * (1 - p) / n)

    assert close(x_mask.mean(), eps_x)
    assert close(y_mask.mean(), eps_y)
    assert close((x_mask & y_mask).mean(), eps_x * eps_y)  # independent draws
    # D3: the random label is uniform over the K classes, so it may be the true one
    assert close((yp != ys).mean(), eps_y * (K - 1) / K)
    assert np.all(yp[~y_mask] == ys[~y_mask])


def test_masks_mark_exactly_the_changed_rows():
    rng = np.random.RandomState(0)
    Xs, ys = _blobs(500, rng)
    Xp, yp, x_mask, y_mask = perturb_source(Xs, ys, 0.5, 0.5, random_state=0)
    changed = np.any(Xp != Xs, axis=1)
    np.testing.assert_array_equal(changed, x_mask)
    assert np.all(yp[~y_mask] == ys[~y_mask])
    assert set(np.unique(yp[y_mask])) <= set(np.unique(ys))


def test_same_seed_same_perturbation_and_nested_masks():
    rng = np.random.RandomState(0)
    Xs, ys = _blobs(300, rng)
    a = perturb_source(Xs, ys, 0.4, 0.4, random_state=7)
    b = perturb_source(Xs, ys, 0.4, 0.4, random_state=7)
    c = perturb_source(Xs, ys, 0.4, 0.4, random_state=8)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[2], c[2])
    # for one seed, the rows perturbed at a lower eps are perturbed at a higher one
    low = perturb_source(Xs, ys, 0.3, 0.3, random_state=7)
    high = perturb_source(Xs, ys, 0.8, 0.8, random_state=7)
    assert np.all(high[2][low[2]]) and np.all(high[3][low[3]])


def test_eps_zero_is_the_identity_and_inputs_are_not_modified():
    rng = np.random.RandomState(0)
    Xs, ys = _blobs(50, rng)
    Xs.setflags(write=False)
    ys.setflags(write=False)
    Xp, yp, x_mask, y_mask = perturb_source(Xs, ys, 0.0, 0.0, random_state=0)
    np.testing.assert_array_equal(Xp, Xs)
    np.testing.assert_array_equal(yp, ys)
    assert not x_mask.any() and not y_mask.any()
    assert Xp is not Xs and yp is not ys
    Xp, yp, _, _ = perturb_source(Xs, ys, 1.0, 1.0, random_state=0)  # read-only input is fine


def test_source_perturbation_never_touches_target_rows(packed):
    X, y, sd = packed
    pert = SourcePerturbation(1.0, 1.0, random_state=0)
    Xp, yp = pert.fit_resample(X, y, sample_domain=sd)
    target = sd < 0
    np.testing.assert_array_equal(Xp[target], X[target])
    np.testing.assert_array_equal(yp[target], y[target])
    assert not pert.x_perturbed_[target].any() and not pert.y_perturbed_[target].any()
    assert pert.x_perturbed_[~target].all() and pert.y_perturbed_[~target].all()
    assert np.any(Xp[~target] != X[~target], axis=1).all()
    np.testing.assert_array_equal(pert.classes_, [0, 1, 2])
    # fit draws the same masks as fit_resample
    fitted = clone(pert).fit(X, y, sample_domain=sd)
    np.testing.assert_array_equal(fitted.x_perturbed_, pert.x_perturbed_)


def test_string_labels_are_redrawn_among_source_classes():
    rng = np.random.RandomState(0)
    Xs, ys = _blobs(200, rng, n_classes=3)
    names = np.array(["cat", "dog", "eel"])[ys]
    _, yp, _, y_mask = perturb_source(Xs, names, 0.0, 1.0, random_state=0)
    assert set(yp) == {"cat", "dog", "eel"} and y_mask.all()


# ------------------------------------------------------------- the noises


def test_feature_noise_makes_rows_unrelated_to_their_class():
    """A perturbed row's nearest clean neighbour no longer shares its class."""
    rng = np.random.RandomState(0)
    K = 4
    X, y = _blobs(400, rng, n_classes=K)
    nn = NearestNeighbors(n_neighbors=2).fit(X)

    def neighbour_agreement(Q):
        # the first neighbour of a clean row is the row itself: take the second
        idx = nn.kneighbors(Q, return_distance=False)
        first = np.where(idx[:, 0] == np.arange(len(Q)), idx[:, 1], idx[:, 0])
        return np.mean(y[first] == y)

    Xp, _, x_mask, _ = perturb_source(X, y, 1.0, 0.0, random_state=0)
    assert x_mask.all()
    assert neighbour_agreement(X) > 0.95  # clean: neighbours share the class
    assert neighbour_agreement(Xp) < 1 / K + 0.15  # perturbed: about chance
    # a permutation keeps each row's values, so norms stay realistic
    Xn = perturb_features(X, random_state=0, salt_pepper=0.0)
    np.testing.assert_allclose(np.linalg.norm(Xn, axis=1), np.linalg.norm(X, axis=1))


def test_feature_noise_salt_and_pepper_uses_column_extremes():
    rng = np.random.RandomState(0)
    X = rng.rand(200, 30)
    lo, hi = np.full(30, -5.0), np.full(30, 5.0)
    Xn = perturb_features(X, random_state=0, salt_pepper=0.2, low=lo, high=hi)
    hit = (Xn == -5.0) | (Xn == 5.0)
    assert abs(hit.mean() - 0.2) < 0.02
    assert abs((Xn == 5.0).sum() / hit.sum() - 0.5) < 0.05


def _gradient_images(n=20, H=16):
    rows = np.arange(H, dtype=np.float32)[:, None] * np.ones(H, dtype=np.float32)
    return np.repeat(rows[None, None], n, axis=0) / (H - 1)  # (n, 1, H, H) in [0, 1]


def test_image_flip_and_salt_pepper():
    X = np.random.RandomState(0).rand(30, 3, 12, 12).astype(np.float32)
    # every op on, but rotation by 0 and a zoom of the full area are identities
    Xn = perturb_images(X, random_state=0, p=1.0, max_angle=0.0, zoom_area=(1.0, 1.0))
    assert Xn.dtype == np.float32 and Xn.shape == X.shape
    lo, hi = X.min(), X.max()
    for x, xn in zip(X, Xn):
        clean = (xn != lo) & (xn != hi)
        flips = [x[:, :, ::-1], x[:, ::-1, :]]
        assert any(np.allclose(xn[clean], f[clean], atol=1e-5) for f in flips)
        assert 0.03 < (~clean).mean() < 0.2  # salt & pepper on ~10% of pixel-channels


def test_image_rotation_fills_corners_with_black():
    X = np.ones((20, 1, 16, 16), dtype=np.float64)
    Xn = perturb_images(
        X, random_state=0, p=1.0, salt_pepper=0.0, zoom_area=(1.0, 1.0), low=0.0, high=1.0
    )
    assert np.all(Xn[:, :, 8, 8] > 0.99)  # the centre stays
    assert np.mean([(x == 0).any() for x in Xn]) > 0.9  # corners filled with 0


def test_image_zoom_crop_enlarges_content():
    X = _gradient_images()
    Xn = perturb_images(X, random_state=0, p=1.0, max_angle=0.0, salt_pepper=0.0,
                        zoom_area=(0.5, 0.5))
    # a crop of half the area spans sqrt(0.5) ~ 0.71 of the intensity range
    spans = Xn.max(axis=(1, 2, 3)) - Xn.min(axis=(1, 2, 3))
    assert np.all((spans > 0.6) & (spans < 0.8))


def test_image_series_is_non_empty_and_grayscale_3d_works():
    X = np.random.RandomState(0).rand(40, 10, 10)  # (n, H, W)
    Xn = perturb_images(X, random_state=0, p=0.2)
    assert Xn.shape == X.shape
    assert np.all(np.any(Xn != X, axis=(1, 2)))  # at least one op on every image
    X4 = np.random.RandomState(1).rand(60, 1, 8, 8).astype(np.float32)
    y = np.arange(60) % 3
    Xp, _, x_mask, _ = perturb_source(X4, y, 0.5, 0.0, random_state=0)
    assert np.all(np.any(Xp[x_mask] != X4[x_mask], axis=(1, 2, 3)))
    np.testing.assert_array_equal(Xp[~x_mask], X4[~x_mask])


def test_callable_x_noise():
    calls = []

    def negate(rows, random_state):
        calls.append((rows.shape, type(random_state)))
        return -rows

    rng = np.random.RandomState(0)
    Xs, ys = _blobs(100, rng)
    Xp, _, x_mask, _ = perturb_source(Xs, ys, 0.5, 0.0, x_noise=negate, random_state=0)
    np.testing.assert_array_equal(Xp[x_mask], -Xs[x_mask])
    assert calls == [((x_mask.sum(), 20), np.random.RandomState)]
    with pytest.raises(ValueError, match="x_noise returned an array of shape"):
        perturb_source(Xs, ys, 0.5, x_noise=lambda r, s: r[:1], random_state=0)


# ------------------------------------------------------------- bad input


@pytest.mark.parametrize("name", ["eps_x", "eps_y"])
@pytest.mark.parametrize("value", [-0.1, 1.5])
def test_eps_outside_unit_interval(name, value):
    rng = np.random.RandomState(0)
    Xs, ys = _blobs(20, rng)
    with pytest.raises(ValueError, match=f"'{name}' parameter"):
        perturb_source(Xs, ys, **{name: value})
    with pytest.raises(ValueError, match=f"'{name}' parameter of SourcePerturbation"):
        SourcePerturbation(**{name: value}).fit(Xs, ys)
    with pytest.raises(ValueError, match=f"'{name}' parameter of PerturbedSource"):
        PerturbedSource(LogisticRegression(), **{name: value}).fit(Xs, ys)


def test_images_of_unsupported_dtype():
    X = (np.random.RandomState(0).rand(10, 3, 8, 8) * 255).astype(np.uint8)
    y = np.arange(10) % 2
    with pytest.raises(ValueError, match="needs a floating dtype, got images of dtype uint8"):
        perturb_source(X, y, 0.5, random_state=0)
    with pytest.raises(ValueError, match="floating dtype"):
        SourcePerturbation(0.5).fit_resample(X, y)
    with pytest.raises(ValueError, match="floating dtype"):
        perturb_images(X)


@pytest.mark.parametrize(
    "function, kwargs, name",
    [
        (perturb_images, {"p": 0.0}, "p"),  # every image needs at least one operation
        (perturb_images, {"salt_pepper": 1.5}, "salt_pepper"),
        (perturb_images, {"max_angle": -1.0}, "max_angle"),
        (perturb_features, {"salt_pepper": -0.1}, "salt_pepper"),
    ],
)
def test_noise_parameters_name_the_argument(function, kwargs, name):
    X = np.zeros((2, 1, 4, 4)) if function is perturb_images else np.zeros((2, 3))
    with pytest.raises(ValueError, match=f"'{name}' parameter of {function.__name__}"):
        function(X, **kwargs)


def test_noise_kind_must_fit_the_shape():
    X2, y = np.zeros((6, 4)), np.arange(6) % 2
    with pytest.raises(ValueError, match="x_noise='image' needs images"):
        perturb_source(X2, y, 0.5, x_noise="image")
    with pytest.raises(ValueError, match="x_noise='features' needs feature vectors"):
        perturb_source(np.zeros((6, 1, 2, 2)), y, 0.5, x_noise="features")
    with pytest.raises(ValueError, match="x_noise='auto' handles"):
        perturb_source(np.zeros((6, 1, 2, 2, 2)), y, 0.5)
    with pytest.raises(ValueError, match="x_noise"):
        SourcePerturbation(x_noise="gaussian").fit(X2, y)


# ------------------------------------------------------------- PerturbedSource


def test_perturbed_source_at_eps_zero_equals_the_estimator(packed):
    X, y, sd = packed
    for est in (TCA(n_components=2), LogisticRegression()):
        model = PerturbedSource(est, random_state=0).fit(X, y, sample_domain=sd)
        if isinstance(est, TCA):
            ref = clone(est).fit(X, y, sample_domain=sd)
        else:  # a plain classifier: source ∪ labeled target
            ref = clone(est).fit(X[sd != -2], y[sd != -2])
        np.testing.assert_array_equal(model.predict(X), ref.predict(X))
        np.testing.assert_allclose(model.predict_proba(X), ref.predict_proba(X))


def test_perturbed_source_explicit_form_and_masks():
    rng = np.random.RandomState(0)
    Xs, ys = _blobs(80, rng)
    Xl, yl = _blobs(12, rng)
    Xu, _ = _blobs(20, rng)
    parts = [Xs, ys, Xl, yl, Xu]
    copies = [p.copy() for p in parts]
    a = PerturbedSource(TCA(n_components=2), 0.5, 0.5, random_state=0).fit(*parts)
    for p, c in zip(parts, copies):
        np.testing.assert_array_equal(p, c)
    X, y, sd = pack(*parts)
    b = PerturbedSource(TCA(n_components=2), 0.5, 0.5, random_state=0).fit(
        X, y, sample_domain=sd
    )
    np.testing.assert_array_equal(a.predict(Xu), b.predict(Xu))
    np.testing.assert_array_equal(a.x_perturbed_, b.x_perturbed_)
    assert a.x_perturbed_.shape == (112,) and not a.x_perturbed_[80:].any()
    assert 0 < a.x_perturbed_[:80].mean() < 1
    # the wrapper's perturbation is the functional one on the source rows
    _, _, x_mask, y_mask = perturb_source(Xs, ys, 0.5, 0.5, random_state=0)
    np.testing.assert_array_equal(a.x_perturbed_[:80], x_mask)
    np.testing.assert_array_equal(a.y_perturbed_[:80], y_mask)


def test_perturbed_source_on_images():
    rng = np.random.RandomState(0)
    X = rng.rand(60, 1, 8, 8).astype(np.float32)
    y = np.arange(60) % 2
    X[y == 1, :, :4] += 1.0  # class 1 is brighter in the top half
    flat = make_pipeline(FunctionTransformer(lambda a: a.reshape(len(a), -1)),
                         LogisticRegression())
    model = PerturbedSource(flat, eps_x=0.5, random_state=0).fit(X, y)
    assert model.predict(X).shape == (60,)
    assert 0 < model.x_perturbed_.mean() < 1


def test_twin_of_a_perturbed_source_is_unperturbed(packed):
    X, y, sd = packed
    wrapped = PerturbedSource(LogisticRegression(), eps_x=1.0, eps_y=1.0, random_state=0)
    model = NegativeTransferGap(wrapped).fit(X, y, sample_domain=sd)
    ref = LogisticRegression().fit(X[sd == -1], y[sd == -1])
    np.testing.assert_array_equal(model.target_only_estimator_.predict(X), ref.predict(X))
    assert model.estimator_.y_perturbed_[sd > 0].all()


@pytest.mark.slow
@pytest.mark.parametrize("routing", [False, True])
def test_grid_search_over_eps_and_estimator_params(packed, routing):
    X, y, sd = packed
    before = sklearn.get_config()["enable_metadata_routing"]
    with sklearn.config_context(enable_metadata_routing=routing):
        est = PerturbedSource(TCA(n_components=2), random_state=0)
        if routing:
            est = est.set_fit_request(sample_domain=True)
        grid = GridSearchCV(
            est,
            {"eps_x": [0.0, 0.9], "eps_y": [0.0, 1.0], "estimator__mu": [0.1, 1.0]},
            cv=TargetSplit(3, random_state=0),
        )
        grid.fit(X, y, sample_domain=sd, groups=sd)
        scores = grid.cv_results_["mean_test_score"]
        assert len(scores) == 8 and np.isfinite(scores).all()
        # the clean source is the best choice on this well-separated problem
        assert grid.best_params_["eps_y"] == 0.0
        best = grid.best_estimator_
        assert not best.y_perturbed_[sd < 0].any()
        # a pipeline step works the same way; without routing, fit params by step name
        pipe = make_pipeline(StandardScaler(), PerturbedSource(LogisticRegression(),
                                                               random_state=0))
        if routing:
            pipe[-1].set_fit_request(sample_domain=True)
            params = dict(sample_domain=sd, groups=sd)
        else:
            params = dict(perturbedsource__sample_domain=sd, groups=sd)
        grid = GridSearchCV(pipe, {"perturbedsource__eps_y": [0.0, 1.0]},
                            cv=TargetSplit(3, random_state=0)).fit(X, y, **params)
        step = grid.best_estimator_[-1]
        assert step.x_perturbed_.shape == (len(X),)  # it received sample_domain
        assert grid.cv_results_["mean_test_score"][0] > grid.cv_results_["mean_test_score"][1]
    assert sklearn.get_config()["enable_metadata_routing"] == before
