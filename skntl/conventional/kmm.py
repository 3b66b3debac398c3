"""Kernel Mean Matching (Huang, Smola, Gretton, Borgwardt and Schölkopf, NIPS 2007).

:func:`kmm_weights` solves the KMM quadratic program for a given kernel
matrix; :class:`KMM` builds that kernel from source and target inputs, solves
for the source weights and fits a classifier on the re-weighted source plus
the labeled target (:ref:`method-kmm`, :ref:`decision D28 <decision-d28>`).
"""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.utils import check_random_state
from sklearn.utils.validation import has_fit_parameter
from threadpoolctl import threadpool_limits

from .._data import LABELED_TARGET, UNLABELED_TARGET
from ..base import TransferMixin
from ..utils._param_validation import HasMethods, Interval, StrOptions, _fit_context
from ._final import FinalEstimatorMixin
from ._kernels import check_kernel_finite, check_kernel_scale, median_heuristic_gamma
from ._kmm_solver import _CHUNK_ENTRIES, _default_eps, kmm_weights

__all__ = ["KMM", "kmm_weights"]


class KMM(TransferMixin, FinalEstimatorMixin, ClassifierMixin, BaseEstimator):
    r"""Kernel Mean Matching: re-weight the source so it looks like the target.

    KMM finds one weight per source sample such that the weighted mean of the
    source, embedded in a reproducing-kernel Hilbert space, is as close as
    possible to the mean of the target inputs (labeled and unlabeled). Source
    samples in regions where the target is dense get large weights, those
    where it is absent get weights near zero. ``final_estimator`` is then fitted
    on the weighted source together with the labeled target (weight 1).

    It helps under covariate shift, where the source and target differ in
    ``p(x)`` but share ``p(y | x)``. It cannot fix a shift in ``p(y | x)`` and
    it cannot give weight to target regions the source does not cover. The
    cost is one ``n_source x n_source`` kernel matrix (memory
    ``8 n_source^2`` bytes) and a quadratic program over ``n_source`` weights.

    Parameters
    ----------
    final_estimator : estimator object, default=None
        Classifier fitted on the weighted source and the labeled target. Its
        ``fit`` must accept ``sample_weight``. None means
        :class:`~sklearn.linear_model.LogisticRegression`. It is cloned into
        ``final_estimator_``.
    kernel : {"rbf", "linear"}, default="rbf"
        Kernel comparing the samples.
    gamma : float, default=None
        Width of the RBF kernel ``exp(-gamma ||x - x'||^2)``. None means the
        median heuristic ``1 / (2 m)``, with ``m`` the median squared distance
        between the source and target rows (on a random subsample of at most
        1000 rows). The value used is stored in ``gamma_``. Ignored by the
        linear kernel.
    B : float, default=1000.0
        Upper bound on every weight.
    eps : float, default=None
        Relative slack on the weight sum: ``|sum(w) - n_s| <= n_s * eps``.
        None means ``(sqrt(n_s) - 1) / sqrt(n_s)``, stored in ``eps_``. Must be
        below 1, so that the weights cannot all be zero.
    solver : {"apg", "cvxpy"}, default="apg"
        Quadratic-program solver; see :func:`kmm_weights`. ``"apg"`` is fast
        and needs no extra dependency; ``"cvxpy"`` is the slower reference
        (cvxpy with Clarabel).
    tol : float, default=1e-6
        Stopping tolerance of the ``"apg"`` solver (relative size of the
        projected-gradient step). ``"cvxpy"`` uses Clarabel's tolerances.
    max_iter : int, default=1000
        Maximum number of solver iterations.
    random_state : int, RandomState instance or None, default=None
        Draws the subsample of the median heuristic when there are more than
        1000 rows. Pass an int for reproducible results.

    Attributes
    ----------
    weights_ : ndarray of shape (n_source,)
        Weight of each source sample, in the order the source rows appear.
    eps_ : float
        Slack on the weight sum actually used.
    gamma_ : float or None
        RBF width actually used; None for the linear kernel.
    n_iter_ : int
        Number of solver iterations (see :func:`kmm_weights`).
    objective_ : float
        Final value of the quadratic objective ``w^T K w / 2 - kappa^T w``.
    classes_ : ndarray of shape (n_classes,)
        Source class labels.
    final_estimator_ : estimator object
        The fitted clone of ``final_estimator``.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``. Defined only when ``X`` has
        feature names that are all strings.

    See Also
    --------
    kmm_weights : The quadratic-program solver on its own.
    skntl.TCA : Transfer Component Analysis, which maps both domains to a
        shared feature space instead of re-weighting samples.

    Notes
    -----
    With ``x_1, ..., x_{n_s}`` the source inputs and ``x'_1, ..., x'_{n_t}``
    the target inputs, KMM solves (Huang et al. 2007, eq. 6)

    .. math::

        \min_\beta \ \tfrac12 \beta^\top K \beta - \kappa^\top \beta
        \quad \text{s.t.} \quad 0 \le \beta_i \le B, \quad
        \Big|\sum_i \beta_i - n_s\Big| \le n_s \varepsilon,

    with :math:`K_{ij} = k(x_i, x_j)` and
    :math:`\kappa_i = \frac{n_s}{n_t} \sum_j k(x_i, x'_j)`. The target inputs
    are the unlabeled target rows and the labeled target rows; a labeled row
    equal to an unlabeled one is counted once, since in the paper's protocol
    the unlabeled target already holds the labeled inputs. Without any target
    row the target is the source itself, so every weight is 1.

    The defaults follow :ref:`decision D28 <decision-d28>`: RBF kernel with the median
    heuristic, B = 1000, ε = (√n_s − 1)/√n_s, and a logistic regression
    fitted on the weighted source and the labeled target.

    References
    ----------
    .. [1] J. Huang, A. Smola, A. Gretton, K. Borgwardt and B. Schölkopf,
       "Correcting Sample Selection Bias by Unlabeled Data", NIPS 2007.

    Examples
    --------
    >>> import numpy as np
    >>> from skntl import KMM
    >>> rng = np.random.RandomState(0)
    >>> Xs = rng.randn(200, 2)
    >>> ys = (Xs[:, 0] > 0).astype(int)
    >>> Xt = 0.5 * rng.randn(100, 2) + [1.0, 0.0]
    >>> kmm = KMM(random_state=0).fit(Xs, ys, Xt_u=Xt)
    >>> kmm.weights_.shape
    (200,)
    >>> near = np.linalg.norm(Xs - [1.0, 0.0], axis=1) < 1
    >>> bool(kmm.weights_[near].mean() > 5 * kmm.weights_[~near].mean())
    True
    >>> kmm.score(Xt, (Xt[:, 0] > 0).astype(int))
    0.98
    """

    _parameter_constraints: dict = {
        "final_estimator": [HasMethods(["fit", "predict"]), None],
        "kernel": [StrOptions({"rbf", "linear"})],
        "gamma": [Interval(Real, 0, None, closed="neither"), None],
        "B": [Interval(Real, 0, None, closed="neither")],
        "eps": [Interval(Real, 0, 1, closed="left"), None],
        "solver": [StrOptions({"apg", "cvxpy"})],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        final_estimator=None,
        *,
        kernel="rbf",
        gamma=None,
        B=1000.0,
        eps=None,
        solver="apg",
        tol=1e-6,
        max_iter=1000,
        random_state=None,
    ):
        self.final_estimator = final_estimator
        self.kernel = kernel
        self.gamma = gamma
        self.B = B
        self.eps = eps
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None, Xt_l=None, yt_l=None, Xt_u=None, *, sample_domain=None):
        """Compute the source weights and fit the final estimator.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Source inputs, or all packed inputs when ``sample_domain`` is given.
        y : array-like of shape (n_samples,)
            Labels of the rows of ``X`` (entries of unlabeled target rows are
            ignored).
        Xt_l : array-like of shape (n_labeled, n_features), default=None
            Labeled target inputs.
        yt_l : array-like of shape (n_labeled,), default=None
            Labeled target labels.
        Xt_u : array-like of shape (n_unlabeled, n_features), default=None
            Unlabeled target inputs.
        sample_domain : array-like of shape (n_samples,), default=None
            Domain of each row of packed data (see :func:`skntl.pack`).

        Returns
        -------
        self : KMM
            The fitted estimator.
        """
        final = self._resolve_final_estimator()
        if not has_fit_parameter(final, "sample_weight"):
            raise ValueError(
                f"final_estimator={final!r} does not accept sample_weight in fit; "
                "KMM needs it to pass the source weights."
            )
        X, y, sd = self._validate_transfer_data(
            X, y, Xt_l, yt_l, Xt_u, sample_domain, dtype=[np.float64, np.float32]
        )
        check_kernel_scale(X, self.kernel)
        source, labeled = sd > 0, sd == LABELED_TARGET
        self.classes_ = np.unique(y[source])

        Xs = np.asarray(X[source], dtype=np.float64)
        Xt = _target_inputs(X, sd)
        self.eps_ = _default_eps(len(Xs)) if self.eps is None else float(self.eps)
        if self.kernel == "linear":
            self.gamma_ = None
        elif self.gamma is None:
            rows = Xs if Xt is None else np.concatenate([Xs, Xt])
            self.gamma_ = float(
                median_heuristic_gamma(rows, random_state=check_random_state(self.random_state))
            )
        else:
            self.gamma_ = float(self.gamma)

        K, kappa = _kmm_kernel(Xs, Xt, self.kernel, self.gamma_)
        check_kernel_finite(K, X, self.kernel)
        check_kernel_finite(kappa, X, self.kernel)
        self.weights_, self.n_iter_, self.objective_ = kmm_weights(
            K,
            kappa,
            self.B,
            self.eps_,
            solver=self.solver,
            tol=self.tol,
            max_iter=self.max_iter,
        )
        del K

        rows = source | labeled
        sample_weight = np.ones(len(X))
        sample_weight[source] = self.weights_
        self.final_estimator_ = clone(final).fit(
            X[rows], y[rows], sample_weight=sample_weight[rows]
        )
        return self


def _target_inputs(X, sample_domain):
    """Target inputs of the kernel mean map, or None when there are none.

    Unlabeled rows, then the labeled rows that do not equal an unlabeled row.
    """
    Xu = np.asarray(X[sample_domain == UNLABELED_TARGET], dtype=np.float64)
    Xl = np.asarray(X[sample_domain == LABELED_TARGET], dtype=np.float64)
    if len(Xl) and len(Xu):
        # ``+ 0.0`` turns -0.0 into 0.0, so equal rows have equal bytes.
        seen = {row.tobytes() for row in np.ascontiguousarray(Xu + 0.0)}
        new = [row.tobytes() not in seen for row in np.ascontiguousarray(Xl + 0.0)]
        Xl = Xl[np.asarray(new, dtype=bool)]
    Xt = np.concatenate([Xu, Xl])
    return Xt if len(Xt) else None


def _kmm_kernel(Xs, Xt, kernel, gamma):
    """Return ``K = k(Xs, Xs)`` and ``kappa_i = n_s/n_t sum_j k(Xs_i, Xt_j)``.

    ``Xt=None`` means the target is the source. ``K`` is built in one
    ``n_s x n_s`` buffer and is exactly symmetric; the source-target block is
    reduced to ``kappa`` a few rows at a time and never held whole.
    """
    n_s = len(Xs)
    K = Xs @ Xs.T  # a symmetric rank-k update: exactly symmetric
    if kernel == "linear":
        if Xt is None:
            return K, _row_sums(K)
        return K, Xs @ (Xt.sum(axis=0) * (n_s / len(Xt)))
    sq_s = np.einsum("ij,ij->i", Xs, Xs)
    step = max(1, _CHUNK_ENTRIES // n_s)
    for start in range(0, n_s, step):
        block = K[start : start + step]
        block *= -2.0
        block += sq_s[start : start + step, None] + sq_s[None, :]  # symmetric sum
    _exp_neg_inplace(K, gamma)
    np.fill_diagonal(K, 1.0)
    if Xt is None:
        return K, _row_sums(K)
    sq_t = np.einsum("ij,ij->i", Xt, Xt)
    kappa = np.empty(n_s)
    step = max(1, _CHUNK_ENTRIES // len(Xt))
    for start in range(0, n_s, step):
        block = Xs[start : start + step] @ Xt.T
        block *= -2.0
        block += sq_s[start : start + step, None]
        block += sq_t[None, :]
        _exp_neg_inplace(block, gamma)
        kappa[start : start + step] = block.sum(axis=1)
    kappa *= n_s / len(Xt)
    return K, kappa


def _row_sums(K):
    """``K @ 1`` computed exactly as the solver computes it, one BLAS thread.

    With the target equal to the source, ``kappa = K @ 1`` and the solver's
    first gradient at ``beta = 1`` is then exactly zero, so the weights are
    exactly 1.
    """
    with threadpool_limits(limits=1, user_api="blas"):
        return K @ np.ones(len(K))


def _exp_neg_inplace(D, gamma):
    """Overwrite squared distances ``D`` with ``exp(-gamma * max(D, 0))``."""
    np.maximum(D, 0.0, out=D)
    D *= -gamma
    np.exp(D, out=D)
