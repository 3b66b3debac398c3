"""The KMM quadratic program: the exact projection and the two solvers."""

import warnings

import cvxpy as cp  # a hard dependency: these tests never skip
import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from skntl.conventional._kernels import median_heuristic_gamma
from skntl.conventional._kmm_solver import (
    _default_eps,
    _metric_step,
    _project_box_slab,
    kmm_weights,
)
from skntl.conventional.kmm import _kmm_kernel


def _qp(n_s=300, n_t=200, d=10, seed=0, kernel="rbf"):
    """K and kappa of a shifted-Gaussian problem, as KMM builds them."""
    rng = np.random.RandomState(seed)
    Xs = rng.randn(n_s, d)
    Xt = 0.6 * rng.randn(n_t, d) + 1.0 / np.sqrt(d)
    gamma = median_heuristic_gamma(np.vstack([Xs, Xt]), random_state=0)
    return _kmm_kernel(Xs, Xt, kernel, gamma)


def _violation(beta, B, lo, hi):
    s = beta.sum()
    return max(-beta.min(), beta.max() - B, s - hi, lo - s, 0.0)


def _objective(K, kappa, beta):
    return 0.5 * beta @ K @ beta - kappa @ beta


# -- the two solvers -----------------------------------------------------------


@pytest.mark.parametrize(
    "d, kernel, B, eps, binding",
    [
        pytest.param(10, "rbf", 1000.0, None, None, marks=pytest.mark.slow),  # paper's defaults
        pytest.param(10, "rbf", 1000.0, 0.01, "sum", marks=pytest.mark.slow),  # |sum-n| <= n eps
        pytest.param(10, "rbf", 2.0, None, "box", marks=pytest.mark.slow),  # many weights at B
        pytest.param(10, "rbf", 2.0, 0.01, "sum", marks=pytest.mark.slow),  # both
        pytest.param(2, "rbf", 1000.0, None, None, marks=pytest.mark.slow),  # K singular
        (5, "linear", 3.0, 0.05, None),  # rank-5 K: the minimiser is not unique
    ],
)
def test_apg_and_cvxpy_agree(d, kernel, B, eps, binding):
    K, kappa = _qp(d=d, kernel=kernel)
    n = len(kappa)
    e = _default_eps(n) if eps is None else eps
    lo, hi = n * (1 - e), n * (1 + e)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # both must converge
        b_apg, it_apg, f_apg = kmm_weights(K, kappa, B, eps)
        b_cvx, it_cvx, f_cvx = kmm_weights(K, kappa, B, eps, solver="cvxpy")
    assert it_apg >= 1 and it_cvx >= 1
    for beta, f in [(b_apg, f_apg), (b_cvx, f_cvx)]:
        assert _violation(beta, B, lo, hi) <= 1e-8
        assert f == pytest.approx(_objective(K, kappa, beta), rel=1e-12)
    assert abs(f_apg - f_cvx) <= 1e-4 * abs(f_cvx)
    # Tighter in practice: apg is never meaningfully worse than the interior point.
    assert f_apg <= f_cvx + 1e-7 * abs(f_cvx)
    if binding == "sum":
        assert abs(abs(b_apg.sum() - n) - n * eps) <= 1e-8 * n
        assert abs(abs(b_cvx.sum() - n) - n * eps) <= 1e-8 * n
    if binding == "box":
        assert np.sum(b_apg == B) >= 10
        assert np.sum(b_cvx >= B - 1e-6) >= 10


@pytest.mark.slow
def test_apg_matches_cvxpy_when_the_sum_constraint_binds_from_below():
    # kappa small everywhere: the weights want to shrink, sum(beta) >= lo binds.
    K, kappa = _qp(d=10)
    kappa = 0.2 * kappa
    n = len(kappa)
    b_apg, _, f_apg = kmm_weights(K, kappa, eps=0.1)
    b_cvx, _, f_cvx = kmm_weights(K, kappa, eps=0.1, solver="cvxpy")
    assert b_apg.sum() == pytest.approx(0.9 * n, rel=1e-12)
    assert abs(f_apg - f_cvx) <= 1e-6 * abs(f_cvx)


def test_apg_start_and_warning_name_the_knob():
    K, kappa = _qp(d=10)
    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        _, n_iter, _ = kmm_weights(K, kappa, max_iter=2)
    assert n_iter == 2
    # Target equal to the source: beta = 1 is optimal, reached at once.
    beta, n_iter, _ = kmm_weights(K, K @ np.ones(len(K)), tol=1e-8)
    np.testing.assert_allclose(beta, 1.0, atol=1e-10)
    assert n_iter == 1


def test_kmm_weights_rejects_infeasible_and_bad_input():
    K, kappa = _qp(n_s=50, n_t=30)
    with pytest.raises(ValueError, match="B=0.5 is too small for eps=0.1"):
        kmm_weights(K, kappa, B=0.5, eps=0.1)  # n B < n (1 - eps)
    with pytest.raises(ValueError, match="'B' parameter"):
        kmm_weights(K, kappa, B=0.0)
    with pytest.raises(ValueError, match="'solver' parameter"):
        kmm_weights(K, kappa, solver="lbfgs")
    with pytest.raises(ValueError, match="shape"):
        kmm_weights(K, kappa[:-1])
    with pytest.raises(ValueError, match="finite"):
        kmm_weights(K, np.r_[kappa[:-1], np.nan])


# -- the exact projection --------------------------------------------------------


def _cvxpy_projection(v, B, lo, hi, theta=None, ref=None):
    b = cp.Variable(len(v))
    obj = cp.sum_squares(b - v)
    if theta is not None:
        obj = obj + cp.square(cp.sum(b) - ref) / theta
    cons = [b >= 0, b <= B, cp.sum(b) >= lo, cp.sum(b) <= hi]
    # Clarabel's default tolerances leave ~1e-3 errors in the weights here.
    tight = dict(tol_gap_abs=1e-12, tol_gap_rel=1e-12, tol_feas=1e-12)
    cp.Problem(cp.Minimize(obj), cons).solve(solver=cp.CLARABEL, **tight)
    return b.value


@pytest.mark.parametrize(
    "shift, B, where",
    [
        (-0.7, 10.0, "inside"),  # clip(v) already sums into [lo, hi]
        (3.0, 10.0, "hi"),  # too much mass: sum = hi
        (-1.5, 10.0, "lo"),  # too little: sum = lo
        (6.0, 4.0, "hi"),  # the upper bound B binds too
    ],
)
def test_projection_is_exact(shift, B, where):
    rng = np.random.RandomState(1)
    v = 2.0 * rng.randn(200) + 1.0 + shift
    n = len(v)
    lo, hi = 0.8 * n, 1.2 * n
    total = np.clip(v, 0.0, B).sum()
    assert {"inside": lo <= total <= hi, "hi": total > hi, "lo": total < lo}[where]
    beta, tau = _project_box_slab(v, B, lo, hi)
    assert _violation(beta, B, lo, hi) <= 1e-10 * n
    # KKT: beta = clip(v - tau, 0, B), tau >= 0 at hi, <= 0 at lo, 0 inside.
    np.testing.assert_allclose(beta, np.clip(v - tau, 0.0, B), atol=1e-12)
    if where == "inside":
        assert tau == 0.0
    elif where == "hi":
        assert tau > 0 and beta.sum() == pytest.approx(hi, rel=1e-13)
    else:
        assert tau < 0 and beta.sum() == pytest.approx(lo, rel=1e-13)
    if where == "hi" and B == 4.0:
        assert np.sum(beta == B) > 0 and np.sum(beta == 0) > 0
    np.testing.assert_allclose(beta, _cvxpy_projection(v, B, lo, hi), atol=1e-6)
    # The objective value is what counts: exact is never worse than Clarabel.
    ref = _cvxpy_projection(v, B, lo, hi)
    assert np.sum((beta - v) ** 2) <= np.sum((ref - v) ** 2) + 1e-9


@pytest.mark.parametrize("theta, ref_shift", [(50.0, 0.0), (5.0, 40.0), (0.5, -150.0)])
def test_metric_step_is_exact(theta, ref_shift):
    """The APG step in the metric L I + c 1 1^T, checked against Clarabel."""
    rng = np.random.RandomState(2)
    v = 2.0 * rng.randn(150) + 1.0
    n, B = len(v), 5.0
    lo, hi = 0.5 * n, 1.5 * n
    ref = float(np.clip(v, 0, B).sum()) + ref_shift
    beta, tau = _metric_step(v, B, lo, hi, theta, ref, 0.0)
    expected = _cvxpy_projection(v, B, lo, hi, theta=theta, ref=ref)
    assert _violation(beta, B, lo, hi) <= 1e-10 * n
    np.testing.assert_allclose(beta, expected, atol=1e-6)
