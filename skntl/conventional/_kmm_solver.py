r"""The Kernel Mean Matching quadratic program and its solvers, as pure functions.

:func:`kmm_weights` solves

.. math::

    \min_\beta \ \tfrac12 \beta^\top K \beta - \kappa^\top \beta
    \quad \text{s.t.} \quad 0 \le \beta_i \le B, \quad
    n (1 - \varepsilon) \le \sum_i \beta_i \le n (1 + \varepsilon)

(Huang et al., NIPS 2007, eq. 6) for a given source kernel matrix ``K`` and
linear term ``kappa``; :class:`~skntl.conventional.KMM` builds both from data
and calls it.  Two solvers:

* ``"apg"``: accelerated projected gradient (FISTA with adaptive restart) in
  the metric ``L I + c 1 1^T``, whose step is an exact projection onto the
  box-and-slab feasible set found by a safeguarded Newton search on a scalar
  multiplier (:func:`_tau_root`, :func:`_project_box_slab`,
  :func:`_metric_step`); once the pattern of weights at 0 / free / at ``B``
  settles, a primal active-set method finishes exactly
  (:func:`_active_set_finish`).
* ``"cvxpy"``: the reference, the same program solved by Clarabel through
  cvxpy, then projected exactly.

No function here keeps state or touches its inputs; the maths of each step is
in :func:`kmm_weights`' docstring.
"""

import warnings
from numbers import Integral, Real

import numpy as np
from scipy.linalg import LinAlgError, cho_factor, cho_solve, eigh, eigvalsh
from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

from ..utils._param_validation import Interval, StrOptions, validate_params

__all__ = ["kmm_weights"]

# Kernel entries (32 MB) alive at once when a large kernel block is processed a
# few rows at a time: the source-target block that kmm.py reduces to the kernel
# mean map, and the row sums of K in the Lanczos fallback below.
_CHUNK_ENTRIES = 1 << 22

# The APG solver updates K @ beta from the change of beta only. Gathering the
# changed rows of K beats one full product while they are at most this share.
_SPARSE_UPDATE_MAX_SHARE = 0.25

# The active-set finish starts once the pattern of weights at 0 / free / at B
# has held this many iterations, with at most this many free weights (a step
# costs a dense solve of that size), and waits this many iterations, doubled
# after every try that does not finish, before trying again.
_FINISH_AFTER = 3
_FINISH_MAX_FREE = 300
_FINISH_WAIT = 10


def _default_eps(n_source):
    """Return the paper's slack on the weight sum, (sqrt(n_s) - 1) / sqrt(n_s)."""
    root = np.sqrt(n_source)
    return float((root - 1.0) / root)


@validate_params(
    {
        "K": ["array-like"],
        "kappa": ["array-like"],
        "B": [Interval(Real, 0, None, closed="neither")],
        "eps": [Interval(Real, 0, 1, closed="left"), None],
        "solver": [StrOptions({"apg", "cvxpy"})],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "beta0": ["array-like", None],
    },
    prefer_skip_nested_validation=True,
)
def kmm_weights(K, kappa, B=1000.0, eps=None, *, solver="apg", tol=1e-6, max_iter=1000, beta0=None):
    r"""Solve the Kernel Mean Matching quadratic program.

    .. math::

        \min_\beta \ f(\beta) = \tfrac12 \beta^\top K \beta - \kappa^\top \beta
        \quad \text{s.t.} \quad 0 \le \beta_i \le B, \quad
        n (1 - \varepsilon) \le \sum_i \beta_i \le n (1 + \varepsilon)

    where :math:`n` is the number of source samples (Huang et al. 2007, eq. 6).

    ``solver="apg"`` is accelerated projected gradient (FISTA, Beck and
    Teboulle 2009) with adaptive gradient restart (O'Donoghue and Candès
    2015), in the metric :math:`M = L I + c \mathbf{1}\mathbf{1}^\top`. From
    :math:`\beta_0` (projected onto the feasible set :math:`C`) it iterates

    .. math::

        \beta_{k+1} = \operatorname*{arg\,min}_{\beta \in C}\
            \nabla f(y_k)^\top \beta + \tfrac12 (\beta - y_k)^\top M (\beta - y_k),
        \qquad
        y_{k+1} = \beta_{k+1} + \tfrac{t_k - 1}{t_{k+1}} (\beta_{k+1} - \beta_k),

    with :math:`t_{k+1} = (1 + \sqrt{1 + 4 t_k^2}) / 2`, restarting the
    momentum (:math:`t = 1`, :math:`y = \beta`) whenever
    :math:`(y_k - \beta_{k+1})^\top M (\beta_{k+1} - \beta_k) > 0`.
    :math:`c = \mathbf{1}^\top K \mathbf{1} / n^2` takes the kernel's mean, so
    :math:`L` only has to bound :math:`\lambda_{\max}(K - c \mathbf{1}
    \mathbf{1}^\top)` (Lanczos estimate times 1.02, raised whenever a step's
    curvature shows :math:`M \not\succeq K` along it); for an RBF kernel this
    is typically 10 to 20 times smaller than :math:`\lambda_{\max}(K)`, which
    the near-constant top eigenvector of :math:`K` dominates. The step is
    solved exactly: :math:`\beta_{k+1} = \mathrm{clip}(v - \tau, 0, B)` with
    :math:`v = y_k - \nabla f(y_k) / L` and a scalar :math:`\tau` found by a
    safeguarded Newton search on a piecewise-linear monotone function; with
    :math:`c = 0` it is the Euclidean projection :math:`P` onto :math:`C`
    (:math:`\tau = 0` when :math:`\mathrm{clip}(v, 0, B)` already sums into
    :math:`[lo, hi]`, else the :math:`\tau` at which the sum equals the
    violated bound). :math:`K\beta` is updated from the rows of :math:`K` whose
    weights changed, so once most weights sit at 0 or :math:`B` an iteration
    costs far less than a product with :math:`K`.

    The iterations quickly find which weights are 0, free or at :math:`B`,
    but converge slowly on the free ones when :math:`K` is ill-conditioned.
    So once that pattern has held for a few iterations (and at most 300
    weights are free), a primal active-set method (Nocedal and Wright,
    *Numerical Optimization*, Alg. 16.3) takes over from the current point:
    it minimises exactly on the current face, adds blocking bounds and
    releases bounds whose multipliers have the wrong sign, lowering
    :math:`f` at every step. It stops when the KKT conditions hold to
    :math:`10^{-9} \max_i |\kappa_i|`; if it does not get there within its
    step budget, the iterations resume from its (better) point. Otherwise the
    iterations stop when the step is small,
    :math:`\|\beta_{k+1} - y_k\| \le \mathrm{tol} \max(1, \|\beta_{k+1}\|)`,
    a step that is zero exactly at a minimiser.

    When :math:`K` is numerically singular (an RBF kernel on inputs of very
    few dimensions, or a linear kernel with fewer features than samples) the
    minimiser is not unique. ``"apg"`` then returns one with many weights at
    exactly 0, while an interior-point method returns a denser one with the
    same objective. With one to three features and several hundred samples,
    hundreds of weights can stay free along flat directions; the active-set
    finish is then skipped or runs out of steps and ``"apg"`` may stop at
    ``max_iter`` with a ``ConvergenceWarning`` although its objective is
    within about 1e-4 (relative) of the minimum: raise ``max_iter`` or
    ``tol``, or use ``"cvxpy"``.

    ``solver="cvxpy"`` is the reference: the same program in cvxpy, solved by
    the interior-point solver Clarabel with its own tolerances (``tol`` is not
    used). Clarabel's answer may violate the constraints by about 1e-9, so it
    is passed through the exact projection :math:`P`; both solvers return
    weights that satisfy the constraints to rounding (well within 1e-8).

    Parameters
    ----------
    K : array-like of shape (n, n)
        Symmetric positive semi-definite kernel matrix of the source samples.
        Not modified.
    kappa : array-like of shape (n,)
        Linear term, :math:`\kappa_i = \frac{n}{n_t} \sum_j k(x_i, x'_j)` over
        the target inputs :math:`x'_j`.
    B : float, default=1000.0
        Upper bound on every weight. Must be at least ``1 - eps`` (otherwise
        the constraints cannot be met).
    eps : float, default=None
        Relative slack on the weight sum. None means
        :math:`(\sqrt{n} - 1) / \sqrt{n}`.
    solver : {"apg", "cvxpy"}, default="apg"
        Which solver to use.
    tol : float, default=1e-6
        Stopping tolerance of ``"apg"``.
    max_iter : int, default=1000
        Maximum number of iterations (passed to Clarabel for ``"cvxpy"``).
    beta0 : array-like of shape (n,), default=None
        Starting point of ``"apg"``; None means all ones, the optimum when the
        target equals the source. Projected onto the feasible set first.

    Returns
    -------
    beta : ndarray of shape (n,)
        The weights.
    n_iter : int
        Number of iterations run, at least 1: accelerated iterations for
        ``"apg"`` (active-set steps not counted), Clarabel's for ``"cvxpy"``.
    objective : float
        :math:`f(\beta)` at the returned weights.

    Warns
    -----
    ConvergenceWarning
        When the solver stops at ``max_iter`` before meeting ``tol``.

    References
    ----------
    .. [1] J. Huang, A. Smola, A. Gretton, K. Borgwardt and B. Schölkopf,
       "Correcting Sample Selection Bias by Unlabeled Data", NIPS 2007.
    .. [2] A. Beck and M. Teboulle, "A Fast Iterative Shrinkage-Thresholding
       Algorithm for Linear Inverse Problems", SIAM J. Imaging Sci. 2009.
    .. [3] B. O'Donoghue and E. Candès, "Adaptive Restart for Accelerated
       Gradient Schemes", Found. Comput. Math. 2015.

    Examples
    --------
    >>> import numpy as np
    >>> from skntl.conventional.kmm import kmm_weights
    >>> K = np.array([[1.0, 0.5], [0.5, 1.0]])
    >>> beta, n_iter, objective = kmm_weights(K, K.sum(axis=1))
    >>> beta, n_iter
    (array([1., 1.]), 1)
    """
    K = np.asarray(K, dtype=np.float64)
    kappa = np.asarray(kappa, dtype=np.float64)
    n = kappa.shape[0]
    if kappa.ndim != 1 or K.shape != (n, n):
        raise ValueError(
            f"K must have shape (n, n) and kappa shape (n,); got K {K.shape} and "
            f"kappa {kappa.shape}."
        )
    if not (np.isfinite(K).all() and np.isfinite(kappa).all()):
        raise ValueError("K and kappa must be finite.")
    eps = _default_eps(n) if eps is None else float(eps)
    lo, hi = n * (1.0 - eps), n * (1.0 + eps)
    if n * B < lo:
        raise ValueError(
            f"B={B} is too small for eps={eps}: the weights cannot sum to "
            f"n * (1 - eps) = {lo:g} with each at most B. Use B >= 1 - eps."
        )
    if beta0 is None:
        beta0 = np.ones(n)
    else:
        beta0 = np.asarray(beta0, dtype=np.float64)
        if beta0.shape != (n,):
            raise ValueError(f"beta0 must have shape ({n},), got {beta0.shape}.")
    if solver == "cvxpy":
        return _kmm_cvxpy(K, kappa, B, lo, hi, max_iter, beta0)
    return _kmm_apg(K, kappa, B, lo, hi, tol, max_iter, beta0)


def _tau_root(v, B, theta, target, tau=0.0):
    """Root of the non-decreasing ``F(tau) = theta tau + target - s(tau)``.

    ``s(tau) = sum(clip(v - tau, 0, B))`` is non-increasing and piecewise
    linear, so ``F`` is too (with slope ``theta + #free``). Newton steps are
    exact once ``tau`` is on the root's linear piece; a bracket and, after 20
    steps, every other step bisecting guarantee termination. ``tau`` on input
    is a warm start. Needs ``theta >= 0`` and, when ``theta == 0``,
    ``0 <= target <= n B``.

    Returns ``clip(v - tau, 0, B)``, ``tau`` and its sum.
    """
    n = len(v)
    a, b = float(v.min()) - B, float(v.max())  # s(a) = n B, s(b) = 0
    if theta > 0:
        a, b = min(a, (n * B - target) / theta), max(b, -target / theta)
    if not a < tau < b:
        tau = 0.5 * (a + b)
    w, beta = np.empty_like(v), np.empty_like(v)
    scale = max(abs(target), 1.0)
    for k in range(200):
        np.subtract(v, tau, out=w)
        np.clip(w, 0.0, B, out=beta)
        total = beta.sum()
        F = theta * tau + target - total
        if abs(F) <= 1e-13 * max(scale, abs(theta * tau)):
            break
        if F > 0:
            b = tau
        else:
            a = tau
        slope = theta + np.count_nonzero((w > 0.0) & (w < B))
        new = tau - F / slope if slope > 0 and (k < 20 or k % 2) else 0.5 * (a + b)
        if not a < new < b:
            new = 0.5 * (a + b)
        if new == tau:  # the bracket is down to rounding
            break
        tau = new
    return beta, tau, total


def _project_box_slab(v, B, lo, hi, tau=0.0):
    """Exact Euclidean projection onto ``{0 <= b <= B, lo <= sum(b) <= hi}``.

    The minimiser of ``||b - v||^2`` on that set is ``clip(v - tau, 0, B)``
    (KKT; ``tau`` is the multiplier of the sum constraint): ``tau = 0`` when
    ``clip(v, 0, B)`` already sums into ``[lo, hi]``, otherwise the root of
    ``sum(clip(v - tau, 0, B)) = hi`` (or ``lo``). ``tau`` on input is a warm
    start for that root. Needs ``0 <= lo <= hi`` and ``lo <= n B``.

    Returns
    -------
    beta : ndarray of shape (n,)
    tau : float
    """
    beta = np.clip(v, 0.0, B)
    total = beta.sum()
    if lo <= total <= hi:
        return beta, 0.0
    beta, tau, _ = _tau_root(v, B, 0.0, hi if total > hi else lo, tau)
    return beta, tau


def _metric_step(v, B, lo, hi, theta, ref_sum, tau):
    """Minimise ``||b - v||^2 + (1/theta) (sum(b) - ref_sum)^2`` on the feasible set.

    This is the projected-gradient step in the metric ``L I + c 1 1^T``
    (``theta = L / c``): KKT gives ``b = clip(v - tau, 0, B)`` with
    ``theta tau = sum(b) - ref_sum`` when the sum constraint is slack, and the
    plain projection's ``tau`` when that sum falls outside ``[lo, hi]``.
    ``theta = inf`` is the plain projection.
    """
    if np.isinf(theta):
        return _project_box_slab(v, B, lo, hi, tau)
    beta, tau, total = _tau_root(v, B, theta, ref_sum, tau)
    if total > hi or total < lo:
        beta, tau, _ = _tau_root(v, B, 0.0, hi if total > hi else lo, tau)
    return beta, tau


def _lambda_max_deflated(K, c):
    """Largest eigenvalue of ``K - c 1 1^T`` (Lanczos; dense when small)."""
    n = K.shape[0]
    if n <= 256:
        return float(eigvalsh(K - c, subset_by_index=[n - 1, n - 1])[0])
    op = LinearOperator((n, n), matvec=lambda x: K @ x - c * x.sum(), dtype=np.float64)
    v0 = np.random.RandomState(0).uniform(-1.0, 1.0, n)  # fixed: a pure function
    try:
        return float(
            eigsh(op, k=1, which="LA", tol=1e-3, ncv=12, v0=v0, return_eigenvectors=False)[0]
        )
    except ArpackNoConvergence:
        # Upper bound: lambda_max(K - c 1 1^T) <= lambda_max(K) <= max row sum of |K|.
        step = max(1, _CHUNK_ENTRIES // n)
        return max(float(np.abs(K[i : i + step]).sum(axis=1).max()) for i in range(0, n, step))


def _matvec_update(K, d):
    """Return ``K @ d`` for symmetric ``K``, reading only rows where ``d != 0``."""
    idx = np.flatnonzero(d)
    if len(idx) > _SPARSE_UPDATE_MAX_SHARE * len(d):
        return K @ d
    if not len(idx):
        return np.zeros_like(d)
    return d[idx] @ K[idx]


def _face_direction(K_ff, g_f, on_slab, tol_grad):
    """Step that minimises the objective on the current face, or a descent ray.

    Minimises ``d^T K_ff d / 2 + g_f^T d`` over ``d`` (with ``sum(d) = 0`` when
    the sum constraint is in the working set) through an eigendecomposition
    of the reduced Hessian, so a singular ``K_ff`` is handled: when the
    gradient has a component along a zero-curvature direction the face is
    unbounded below along ``-`` that component, which is returned as a ray.

    Returns ``(d, is_ray)``.
    """
    m = len(g_f)
    if m < (2 if on_slab else 1):  # nothing can move on this face
        return np.zeros(m), False
    if on_slab:
        u = np.full(m, 1.0 / np.sqrt(m))
        u[0] -= 1.0
        u /= np.linalg.norm(u)
        Q = np.eye(m)[:, 1:] - 2.0 * np.outer(u, u[1:])  # orthonormal basis of 1^perp
        H, q = Q.T @ K_ff @ Q, Q.T @ g_f
    else:
        Q, H, q = None, K_ff, g_f
    try:  # fast path: clearly positive definite
        factor = cho_factor(H, check_finite=False)
        diag = np.abs(np.diag(factor[0]))
        if diag.size and diag.min() ** 2 > 1e-10 * diag.max() ** 2:
            p = -cho_solve(factor, q, check_finite=False)
            return (p if Q is None else Q @ p), False
    except LinAlgError:
        pass
    w, V = eigh(H, check_finite=False)
    curved = w > 1e-10 * max(float(w[-1]), 0.0)
    qv = V.T @ q
    flat = qv[~curved]
    if flat.size and np.linalg.norm(flat) > tol_grad:
        p, is_ray = -(V[:, ~curved] @ flat), True
    else:
        p, is_ray = -(V[:, curved] @ (qv[curved] / w[curved])), False
    return (p if Q is None else Q @ p), is_ray


def _active_set_finish(K, kappa, B, lo, hi, x, Kx):
    """Finish from a good feasible ``x`` with a primal active-set method.

    The working set holds the weights fixed at 0 or ``B`` and, possibly, the
    sum constraint at ``lo`` or ``hi``. Each step moves towards the minimiser
    of the objective on that face (or along a descent ray when the face is
    flat) as far as feasibility allows, adding the blocking constraint; at
    the face's minimiser it releases the constraint whose multiplier has the
    wrong sign, or stops when none has (Nocedal and Wright, *Numerical
    Optimization*, Alg. 16.3). Every step lowers the objective. It works on
    the small free set that the accelerated iterations have found: a step
    costs an eigendecomposition of that size and reading that many rows of K.

    Returns ``(x, K x, done)``, where ``done`` means the KKT conditions hold
    to ``1e-9 max|kappa|``, or None when the free set is too large.
    """
    free = (x > 0.0) & (x < B)
    upper = x >= B
    if np.count_nonzero(free) > _FINISH_MAX_FREE:
        return None
    x, Kx = x.copy(), Kx.copy()
    total = x.sum()
    slab = hi if total >= hi * (1 - 1e-12) else lo if total <= lo * (1 + 1e-12) else None
    tol_grad = 1e-9 * max(1.0, float(np.abs(kappa).max()))
    for _ in range(np.count_nonzero(free) + 50):
        idx = np.flatnonzero(free)
        rows = K[idx]  # (m, n): gives K_FF and updates K x
        grad_f = Kx[idx] - kappa[idx]
        d, is_ray = _face_direction(rows[:, idx], grad_f, slab is not None, tol_grad)
        # Longest feasible step along d: at most 1 unless d is a descent ray.
        alpha, block = (np.inf if is_ray else 1.0), None
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(d < 0, x[idx] / -d, np.where(d > 0, (B - x[idx]) / d, np.inf))
        if len(idx) and ratio.min() < alpha:
            j = int(np.argmin(ratio))
            alpha, block = max(float(ratio[j]), 0.0), ("box", j)
        dsum = d.sum()
        if slab is None and dsum != 0.0:
            room = (hi - x.sum()) / dsum if dsum > 0 else (x.sum() - lo) / -dsum
            if room < alpha:
                alpha, block = max(room, 0.0), ("slab", hi if dsum > 0 else lo)
        if not np.isfinite(alpha):
            return x, Kx, False
        if len(idx) and alpha > 0:
            step = alpha * d
            x[idx] += step
            Kx += step @ rows
        if block is not None and block[0] == "box":
            j = idx[block[1]]
            free[j] = False
            x[j], upper[j] = (B, True) if d[block[1]] > 0 else (0.0, False)
            continue
        if block is not None:
            slab = block[1]
            continue
        # At the face's minimiser: check the multipliers.
        grad = Kx - kappa
        nu = -float(grad[idx].mean()) if slab is not None and len(idx) else 0.0
        h = grad + nu  # reduced gradient: 0 on free weights
        viol_zero = np.where(~free & ~upper, -h, -np.inf)
        viol_upper = np.where(upper, h, -np.inf)
        viol_slab = (-nu if slab == hi else nu) if slab is not None else -np.inf
        worst = max(viol_zero.max(), viol_upper.max(), viol_slab)
        if worst <= tol_grad:
            return x, Kx, True
        if viol_slab == worst:
            slab = None
        elif viol_zero.max() == worst:
            free[int(np.argmax(viol_zero))] = True
        else:
            j = int(np.argmax(viol_upper))
            upper[j], free[j] = False, True
    return x, Kx, False


def _kmm_apg(K, kappa, B, lo, hi, tol, max_iter, beta0):
    """FISTA with adaptive restart in the metric ``L I + c 1 1^T``; see kmm_weights."""
    n = len(kappa)
    ones = np.ones(n)
    eps_machine = np.finfo(np.float64).eps
    with threadpool_limits(limits=1, user_api="blas"):
        K1 = K @ ones
        c = max(float(K1.sum()) / n**2, 0.0)
        lam = _lambda_max_deflated(K, c)
        L = max(1.02 * lam, 1e-12 * max(1.0, n * c))

        def metric_dot(a, b):
            return L * (a @ b) + c * a.sum() * b.sum()

        x, tau = _project_box_slab(beta0, B, lo, hi)
        Kx = K1 if np.array_equal(x, ones) else _matvec_update(K, x)
        y, Ky, t = x, Kx, 1.0
        pattern, stable, next_finish, wait = None, 0, 0, _FINISH_WAIT
        converged = False
        for n_iter in range(1, max_iter + 1):
            grad = Ky - kappa
            while True:
                theta = L / c if c > 0 else np.inf
                x_new, tau = _metric_step(y - grad / L, B, lo, hi, theta, y.sum(), tau)
                Kx_new = Kx + _matvec_update(K, x_new - x)
                step = x_new - y
                # The metric must majorise K along the step, d^T K d <= d^T M d,
                # for a descent step; the slack covers rounding in Kx_new - Ky.
                slack = (
                    64
                    * eps_machine
                    * np.abs(step).sum()
                    * (np.abs(Kx_new).max() + np.abs(Ky).max())
                )
                if not step @ (Kx_new - Ky) > metric_dot(step, step) + slack:
                    break  # also on NaN, handled below
                L *= 1.5
            step_norm = np.linalg.norm(step)
            if not np.isfinite(step_norm):
                warnings.warn(
                    "KMM's apg solver produced a non-finite iterate; returning the "
                    f"last finite one (iteration {n_iter}).",
                    RuntimeWarning,
                    stacklevel=4,
                )
                break
            if step_norm <= tol * max(1.0, np.linalg.norm(x_new)):
                x, Kx = x_new, Kx_new
                converged = True
                break
            if metric_dot(step, x_new - x) < 0:  # gradient restart
                t = 1.0
                y, Ky = x_new, Kx_new
            else:
                t_new = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
                momentum = (t - 1.0) / t_new
                y = x_new + momentum * (x_new - x)
                Ky = Kx_new + momentum * (Kx_new - Kx)
                t = t_new
            x, Kx = x_new, Kx_new
            # Once the pattern (at 0 / free / at B) has held for a few
            # iterations, let the active-set method finish exactly.
            new_pattern = (x > 0).view(np.int8) + (x >= B).view(np.int8)
            stable = stable + 1 if np.array_equal(new_pattern, pattern) else 0
            pattern = new_pattern
            if stable >= _FINISH_AFTER and n_iter >= next_finish:
                finished = _active_set_finish(K, kappa, B, lo, hi, x, Kx)
                if finished is not None and finished[2]:
                    x, Kx = finished[:2]
                    converged = True
                    break
                if finished is not None:
                    x, Kx = finished[:2]
                    y, Ky, t = x, Kx, 1.0
                wait *= 2  # back off while it keeps failing
                next_finish = n_iter + wait
        if not converged and n_iter == max_iter:
            warnings.warn(
                f"KMM's apg solver did not converge in max_iter={max_iter} "
                f"iterations (tol={tol}); increase max_iter or tol.",
                ConvergenceWarning,
                stacklevel=4,
            )
        Kx = K1 if np.array_equal(x, ones) else _matvec_update(K, x)  # no drift
    objective = float(0.5 * (x @ Kx) - kappa @ x)
    return x, n_iter, objective


def _kmm_cvxpy(K, kappa, B, lo, hi, max_iter, beta0):
    """Solve with cvxpy + Clarabel (the reference), then project exactly."""
    import cvxpy as cp  # slow to import: only when asked for

    n = len(kappa)
    beta = cp.Variable(n)
    total = cp.sum(beta)
    problem = cp.Problem(
        cp.Minimize(0.5 * cp.quad_form(beta, cp.psd_wrap(K)) - kappa @ beta),
        [beta >= 0, beta <= B, total >= lo, total <= hi],
    )
    try:
        problem.solve(solver=cp.CLARABEL, max_iter=max_iter)
    except cp.error.SolverError as exc:
        raise RuntimeError(f"Clarabel failed on the KMM program: {exc}") from exc
    n_iter = max(1, int(problem.solver_stats.num_iters or 1))
    if beta.value is None or problem.status not in (cp.OPTIMAL,):
        warnings.warn(
            f"KMM's cvxpy solver (Clarabel) stopped with status {problem.status!r} "
            f"after {n_iter} iterations (max_iter={max_iter}); increase max_iter.",
            ConvergenceWarning,
            stacklevel=4,
        )
    value = beta0 if beta.value is None else np.asarray(beta.value, dtype=np.float64)
    x, _ = _project_box_slab(value, B, lo, hi)
    objective = float(0.5 * (x @ (K @ x)) - kappa @ x)
    return x, n_iter, objective
