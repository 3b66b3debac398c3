"""TCA: the generalized eigenproblem, its scalable solvers, and the estimator."""

import numpy as np
import pytest
from scipy.linalg import eigh

from skntl import TCA, pack
from skntl.conventional._kernels import pairwise_kernel
from skntl.conventional.tca import tca_components


def _problem(n_s=50, n_t=40, d=6, seed=0):
    rng = np.random.RandomState(seed)
    Xs = rng.randn(n_s, d)
    ys = (Xs[:, 0] > 0).astype(int)
    Xt = rng.randn(n_t, d) * 1.5 + 1.0
    yt = (Xt[:, 0] > 1.0).astype(int)
    return Xs, ys, Xt, yt


def _brute_force(K, is_source, mu, k):
    """Dense TCA straight from the paper: eig of (KHK, KLK + mu I)."""
    n = len(K)
    e = np.where(is_source, 1.0 / is_source.sum(), -1.0 / (~is_source).sum())
    H = np.eye(n) - np.ones((n, n)) / n
    A, B = K @ H @ K, K @ np.outer(e, e) @ K + mu * np.eye(n)
    vals, W = eigh(A, B)
    return vals[::-1][:k], W[:, ::-1][:, :k], A, B


@pytest.mark.parametrize("kernel, gamma", [("rbf", 0.2), ("linear", None)])
@pytest.mark.parametrize("solver", ["dense", "arpack"])
def test_tca_components_match_brute_force(kernel, gamma, solver):
    Xs, _, Xt, _ = _problem()
    X = np.vstack([Xs, Xt])
    is_source = np.arange(len(X)) < len(Xs)
    K = pairwise_kernel(X, X, kernel, gamma)
    vals, W_ref, A, B = _brute_force(K, is_source, mu=0.5, k=4)
    e = np.where(is_source, 1.0 / len(Xs), -1.0 / len(Xt))
    W, got = tca_components(K, e, 0.5, 4, eigen_solver=solver, random_state=0)
    np.testing.assert_allclose(got, vals, rtol=1e-8)
    # same B-orthonormal eigenvectors up to sign: |W_ref^T B W| = I
    np.testing.assert_allclose(np.abs(W_ref.T @ B @ W), np.eye(4), atol=1e-6)
    np.testing.assert_allclose(W.T @ B @ W, np.eye(4), atol=1e-8)


def test_non_symmetric_shortcut_is_wrong_ours_is_not():
    """Calling eigh on inv(B) A (what two peers do) is not the TCA solution."""
    Xs, _, Xt, _ = _problem(seed=3)
    X = np.vstack([Xs, Xt])
    is_source = np.arange(len(X)) < len(Xs)
    K = pairwise_kernel(X, X, "rbf", 0.2)
    vals, W_ref, A, B = _brute_force(K, is_source, mu=1.0, k=3)
    naive_vals, naive_W = np.linalg.eigh(np.linalg.solve(B, A))  # eigh ignores asymmetry
    naive = naive_W[:, ::-1][:, :3]

    def angle(u, v):
        c = abs(u @ v) / (np.linalg.norm(u) * np.linalg.norm(v))
        return np.degrees(np.arccos(min(c, 1.0)))

    e = np.where(is_source, 1.0 / len(Xs), -1.0 / len(Xt))
    ours, _ = tca_components(K, e, 1.0, 3)
    assert max(angle(ours[:, i], W_ref[:, i]) for i in range(3)) < 1e-4
    assert max(angle(naive[:, i], W_ref[:, i]) for i in range(3)) > 1.0


def test_estimator_embedding_matches_brute_force_and_keeps_row_order():
    Xs, ys, Xt, _ = _problem()
    X = np.vstack([Xs, Xt])
    tca = TCA(n_components=3, kernel="rbf", gamma=0.2, mu=1.0).fit(Xs, ys, Xt_u=Xt)
    K = pairwise_kernel(X, X, "rbf", 0.2)
    _, W_ref, _, _ = _brute_force(K, np.arange(len(X)) < len(Xs), 1.0, 3)
    Z_ref = K @ W_ref
    Z = tca.transform(X)
    np.testing.assert_allclose(np.abs(Z), np.abs(Z_ref), atol=1e-6)
    # transform of a permutation is the permutation of the transform (input order)
    perm = np.random.RandomState(0).permutation(len(X))
    np.testing.assert_allclose(tca.transform(X[perm]), Z[perm])
    # fit_transform returns the rows of its first argument
    np.testing.assert_allclose(
        TCA(n_components=3, kernel="rbf", gamma=0.2).fit_transform(Xs, ys, Xt_u=Xt),
        Z[: len(Xs)],
    )


def test_linear_kernel_primal_equals_dual():
    Xs, ys, Xt, _ = _problem(d=4)
    X = np.vstack([Xs, Xt])
    tca = TCA(n_components=3, kernel="linear").fit(Xs, ys, Xt_u=Xt)
    assert tca.X_fit_ is None  # solved in the 4-d primal
    K = pairwise_kernel(X, X, "linear", None)
    vals, W_ref, _, _ = _brute_force(K, np.arange(len(X)) < len(Xs), 1.0, 3)
    np.testing.assert_allclose(tca.eigenvalues_, vals, rtol=1e-8)
    np.testing.assert_allclose(np.abs(tca.transform(X)), np.abs(K @ W_ref), atol=1e-6)


def test_nystroem_with_all_rows_is_exact_and_close_with_fewer():
    Xs, ys, Xt, yt = _problem(n_s=150, n_t=150, seed=1)
    exact = TCA(n_components=5, kernel="rbf", random_state=0).fit(Xs, ys, Xt_u=Xt)
    full = TCA(n_components=5, kernel="rbf", n_landmarks=300, random_state=0).fit(
        Xs, ys, Xt_u=Xt
    )
    np.testing.assert_allclose(full.eigenvalues_, exact.eigenvalues_, rtol=1e-6)
    approx = TCA(n_components=5, kernel="rbf", n_landmarks=100, random_state=0).fit(
        Xs, ys, Xt_u=Xt
    )
    assert approx.X_fit_.shape == (100, 6)
    assert abs(approx.score(Xt, yt) - exact.score(Xt, yt)) <= 0.05


def test_no_target_is_kernel_pca():
    Xs, ys, _, _ = _problem()
    tca = TCA(n_components=2, kernel="rbf", gamma=0.2).fit(Xs, ys)
    K = pairwise_kernel(Xs, Xs, "rbf", 0.2)
    H = np.eye(len(Xs)) - 1.0 / len(Xs)
    top = np.linalg.eigvalsh(H @ K @ K @ H)[::-1][:2]  # KHK = (HK)^T(HK): same spectrum
    np.testing.assert_allclose(tca.eigenvalues_, top, rtol=1e-8)


def test_tca_reduces_mmd_between_domains():
    Xs, ys, Xt, _ = _problem(n_s=80, n_t=80, seed=2)
    tca = TCA(n_components=2, kernel="linear", mu=0.1).fit(Xs, ys, Xt_u=Xt)
    pca = TCA(n_components=2, kernel="linear").fit(np.vstack([Xs, Xt]), np.r_[ys, ys])

    def mean_gap(model):
        return np.linalg.norm(model.transform(Xs).mean(0) - model.transform(Xt).mean(0)) / (
            np.linalg.norm(model.transform(np.vstack([Xs, Xt])).std(0))
        )

    assert mean_gap(tca) < 0.1 * mean_gap(pca)


def test_deterministic_and_both_forms_identical():
    Xs, ys, Xt, yt = _problem(n_s=120, n_t=60)
    Xl, yl = Xt[:10], yt[:10]
    kw = dict(n_components=4, kernel="rbf", eigen_solver="arpack", random_state=0)
    a = TCA(**kw).fit(Xs, ys, Xl, yl, Xt)
    X, y, sd = pack(Xs, ys, Xl, yl, Xt)
    b = TCA(**kw).fit(X, y, sample_domain=sd)
    np.testing.assert_array_equal(a.transform(Xt), b.transform(Xt))
    np.testing.assert_array_equal(a.predict_proba(Xt), b.predict_proba(Xt))


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(n_components=300, kernel="rbf"), "larger than possible: exact TCA on 90"),
        (dict(n_components=7, kernel="linear"), "n_components=7 is larger than possible"),
        (dict(n_components=5, kernel="rbf", n_landmarks=4), "n_landmarks=4"),
        (dict(kernel="poly"), "kernel"),
        (dict(mu=0.0), "mu"),
        (dict(eigen_solver="lobpcg"), "eigen_solver"),
    ],
)
def test_bad_parameters(params, match):
    Xs, ys, Xt, _ = _problem()
    params = {"n_components": 2, **params}
    with pytest.raises(ValueError, match=match):
        TCA(**params).fit(Xs, ys, Xt_u=Xt)


def test_tca_as_a_transformer_inside_a_pipeline():
    """TCA as an intermediate step; the next step also reads sample_domain."""
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    from skntl import KMM

    Xs, ys, Xt, yt = _problem(n_s=80, n_t=60)
    X, y, sd = pack(Xs, ys, Xt[:10], yt[:10], Xt)
    pipe = Pipeline([("scale", StandardScaler()), ("tca", TCA(n_components=3)),
                     ("kmm", KMM(random_state=0))])
    pipe.fit(X, y, tca__sample_domain=sd, kmm__sample_domain=sd)
    # the KMM step received the embedding of every row, with the domains
    Z = pipe[:2].transform(X)
    ref = KMM(random_state=0).fit(Z, y, sample_domain=sd)
    np.testing.assert_array_equal(pipe["kmm"].weights_, ref.weights_)
    assert pipe.predict(Xt).shape == (60,)
    assert pipe[:2].get_feature_names_out().tolist() == ["tca0", "tca1", "tca2"]
