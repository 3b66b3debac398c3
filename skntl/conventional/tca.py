"""Transfer Component Analysis (Pan, Tsang, Kwok and Yang, IEEE TNN 2011)."""

from numbers import Integral, Real

import numpy as np
from scipy.linalg import eigh
from scipy.sparse.linalg import LinearOperator, eigsh
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    clone,
)
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from .._data import UNLABELED_TARGET
from ..base import TransferMixin
from ..utils._param_validation import HasMethods, Interval, StrOptions, _fit_context
from ._final import FinalEstimatorMixin
from ._kernels import (
    check_kernel_finite,
    check_kernel_scale,
    median_heuristic_gamma,
    pairwise_kernel,
)

__all__ = ["TCA", "tca_components"]

# Below this many rows the exact kernel problem is solved densely (LAPACK);
# above it, matrix-free with ARPACK.
_DENSE_MAX_ROWS = 1000

# n_components=None: 30 components (:ref:`decision D28 <decision-d28>`), or fewer when
# the data allow fewer.
_DEFAULT_COMPONENTS = 30

# The constraint matrix K L K + mu I = u u^T + mu I of eq. (7) has condition
# number (mu + |u|^2) / mu; below this ratio float64 loses mu against |u|^2
# and the matrix is singular in practice (a factorisation of it fails).
_MIN_MU_RATIO = 10 * np.finfo(np.float64).eps


class TCA(
    TransferMixin,
    FinalEstimatorMixin,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    ClassifierMixin,
    BaseEstimator,
):
    r"""Transfer Component Analysis, as a transformer and as a classifier.

    TCA learns ``n_components`` directions in a reproducing-kernel Hilbert
    space along which source and target are close in maximum mean discrepancy
    (MMD) while the data keep as much variance as possible. It then fits
    ``final_estimator`` on the embedded source and labeled-target rows, so it
    can be used as a classifier (``predict``) or as a plain transformer
    (``transform``, e.g. inside a :class:`~sklearn.pipeline.Pipeline`).

    Exact TCA solves the symmetric-definite generalized eigenproblem

    .. math:: K H K\, w = \lambda\, (K L K + \mu I)\, w

    for the largest eigenvalues (Pan et al. 2011, eq. 8). ``L = e e^T`` with
    ``e_i = 1/n_s`` on source and ``-1/n_t`` on target rows, so ``K L K = u u^T``
    is rank one and ``(K L K + \mu I)^{-1/2}`` has a closed form; the problem is
    solved as an ordinary symmetric one, densely (LAPACK) for small ``n`` and
    matrix-free (ARPACK, two kernel mat-vecs per step) for large ``n``.
    Peers that call a symmetric eigensolver on the non-symmetric
    ``(K L K + \mu I)^{-1} K H K`` get directions that are off by up to tens
    of degrees.

    Read more in the :ref:`User Guide <conventional>`.

    Parameters
    ----------
    n_components : int or None, default=None
        Dimension of the embedding. At most the number of training rows; with
        ``kernel="linear"`` at most the rank of ``X``, and with ``n_landmarks``
        at most the number of landmarks; a larger value raises a
        ``ValueError``. None means ``min(30, that maximum)``: 30 components
        (:ref:`decision D28 <decision-d28>`) whenever the data allow them (as
        :class:`~sklearn.decomposition.PCA`'s None means "as many as the data
        allow"). The value used is ``n_components_``.
    final_estimator : estimator, default=None
        Classifier fitted on the embedded source and labeled-target rows. None
        means :class:`~sklearn.preprocessing.StandardScaler` followed by
        :class:`~sklearn.linear_model.LogisticRegression` (:ref:`decision D28
        <decision-d28>`: logistic regression; the scaler because the
        embedding's scale is arbitrary).
    kernel : {"linear", "rbf"}, default="linear"
        Kernel ``k``. Linear (:ref:`decision D28 <decision-d28>`) is solved
        exactly in the primal ``n_features``-dimensional space.
    gamma : float, default=None
        RBF width ``exp(-gamma ||x - x'||^2)``. None uses the median heuristic
        ``1 / (2 median ||x_i - x_j||^2)`` over the training rows; the value
        used is ``gamma_``.
    mu : float, default=1.0
        Regularization trade-off of eq. (7); larger means weaker domain matching
        relative to keeping variance (1 by :ref:`decision D28 <decision-d28>`).
        It must not vanish next to the kernel's scale: ``fit`` raises a
        ``ValueError`` when ``mu`` is below
        about ``2e-15 * |K e|^2`` (the constraint matrix would be singular in
        float64); scale the features or raise ``mu``.
    eigen_solver : {"auto", "dense", "arpack"}, default="auto"
        Solver of the exact kernel problem. "auto" is "dense" up to 1000 rows
        and "arpack" above. Unused with ``kernel="linear"`` or ``n_landmarks``.
    n_landmarks : int, default=None
        If set, approximate the RBF kernel with Nyström features on this many
        landmark rows drawn at random; the eigenproblem then has size
        ``n_landmarks`` and memory grows as ``n * n_landmarks``. For
        ``n`` far beyond 10k rows. Ignored with ``kernel="linear"`` (already
        exact and cheap).
    random_state : int, RandomState instance or None, default=None
        Controls the median-heuristic subsample, the landmarks and ARPACK's
        starting vector.

    Attributes
    ----------
    X_fit_ : ndarray of shape (n_basis, n_features) or None
        Rows the kernel of new points is taken against: all training rows
        (exact RBF), the landmarks (Nyström), or None (linear kernel, where
        ``transform`` is ``X @ components_``).
    components_ : ndarray of shape (n_basis, n_components)
        Coefficients of the embedding: ``transform(X) = k(X, X_fit_) @
        components_``.
    eigenvalues_ : ndarray of shape (n_components,)
        Generalized eigenvalues, in decreasing order.
    n_components_ : int
        Dimension of the embedding (``n_components``, or its resolved default).
    gamma_ : float or None
        RBF width used (None for the linear kernel).
    final_estimator_ : estimator
        The fitted classifier on the embedding.
    classes_ : ndarray of shape (n_classes,)
        Class labels (those of the source).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    KMM : Reweighting source rows instead of mapping features.

    Notes
    -----
    All target rows (labeled and unlabeled) form the target domain of the MMD
    term. With no target rows, ``fit(X, y)`` drops the MMD term and TCA
    reduces to kernel PCA followed by ``final_estimator``.

    Inside a :class:`~sklearn.pipeline.Pipeline`, TCA transforms every packed
    row, unlabeled target rows included, so the step after it must read
    ``sample_domain`` too (e.g. ``KMM``, with ``kmm__sample_domain=sd``): a plain
    classifier there would take the placeholder labels of unlabeled rows as
    real ones. To classify on the embedding, use ``final_estimator``.

    References
    ----------
    .. [1] S. J. Pan, I. W. Tsang, J. T. Kwok and Q. Yang, "Domain Adaptation
       via Transfer Component Analysis", IEEE Transactions on Neural Networks
       22(2), 2011.

    Examples
    --------
    >>> import numpy as np
    >>> from skntl import TCA
    >>> rng = np.random.RandomState(0)
    >>> Xs, ys = rng.randn(40, 5), np.arange(40) % 2
    >>> Xt = rng.randn(30, 5) + 1.0
    >>> tca = TCA(n_components=2).fit(Xs, ys, Xt_u=Xt)
    >>> tca.transform(Xt).shape
    (30, 2)
    >>> tca.predict(Xt[:3]).shape
    (3,)
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left"), None],
        "final_estimator": [HasMethods(["fit", "predict"]), None],
        "kernel": [StrOptions({"linear", "rbf"})],
        "gamma": [Interval(Real, 0, None, closed="neither"), None],
        "mu": [Interval(Real, 0, None, closed="neither")],
        "eigen_solver": [StrOptions({"auto", "dense", "arpack"})],
        "n_landmarks": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        n_components=None,
        *,
        final_estimator=None,
        kernel="linear",
        gamma=None,
        mu=1.0,
        eigen_solver="auto",
        n_landmarks=None,
        random_state=None,
    ):
        self.n_components = n_components
        self.final_estimator = final_estimator
        self.kernel = kernel
        self.gamma = gamma
        self.mu = mu
        self.eigen_solver = eigen_solver
        self.n_landmarks = n_landmarks
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None, Xt_l=None, yt_l=None, Xt_u=None, *, sample_domain=None):
        """Learn the transfer components, then fit the final estimator.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Source inputs (explicit form) or all inputs (packed form).
        y : array-like of shape (n_samples,)
            Labels of the rows of ``X``.
        Xt_l : array-like of shape (n_labeled, n_features), default=None
            Labeled target inputs.
        yt_l : array-like of shape (n_labeled,), default=None
            Labeled target labels.
        Xt_u : array-like of shape (n_unlabeled, n_features), default=None
            Unlabeled target inputs.
        sample_domain : array-like of shape (n_samples,), default=None
            Domain codes of the packed form (see :func:`skntl.pack`); only
            without the explicit target parts.

        Returns
        -------
        self : TCA
            The fitted estimator.
        """
        final = self._resolve_final_estimator()
        X, y, sd = self._validate_transfer_data(
            X, y, Xt_l, yt_l, Xt_u, sample_domain, dtype=[np.float64, np.float32]
        )
        check_kernel_scale(X, self.kernel)
        rng = check_random_state(self.random_state)
        is_source, is_target = sd > 0, sd < 0
        self.gamma_ = None
        if self.kernel == "rbf":
            self.gamma_ = (
                self.gamma
                if self.gamma is not None
                else median_heuristic_gamma(X, random_state=rng)
            )
        # MMD coefficients; without target rows the MMD term vanishes (e = 0)
        e = np.zeros(len(X))
        if is_target.any():
            e[is_source], e[is_target] = 1.0 / is_source.sum(), -1.0 / is_target.sum()
        n = len(X)

        if self.kernel == "linear" or self.n_landmarks is not None:
            if self.kernel == "linear":
                self.X_fit_, Phi, to_coef = None, X, None
            else:
                self.X_fit_, Phi, to_coef = self._nystroem_features(X, rng)
            check_kernel_finite(Phi, X, self.kernel)
            U, s, Vt = np.linalg.svd(Phi, full_matrices=False)
            check_kernel_finite(s**2, X, self.kernel)
            rank = int(np.sum(s > s[0] * max(Phi.shape) * np.finfo(float).eps)) if s.size else 0
            k = _resolve_n_components(self.n_components, rank)
            if k > rank or k == 0:
                what = (
                    f"the linear kernel on n_features={X.shape[1]}"
                    if self.kernel == "linear"
                    else f"n_landmarks={self.n_landmarks}"
                )
                asked = (
                    "no component is possible" if k == 0
                    else f"n_components={k} is larger than possible"
                )
                raise ValueError(
                    f"{asked}: {what} with {n} training rows gives at most "
                    f"{rank} components."
                )
            U, s, Vt = U[:, :rank], s[:rank], Vt[:rank]
            _check_mu(self.mu, (s**2) * (U.T @ e), X)
            G, self.eigenvalues_ = _tca_lowrank(U, s, e, self.mu, k)
            # transform(x) = phi(x) @ V diag(s) G (see _tca_lowrank)
            coef = Vt.T @ (s[:, None] * G)
            self.components_ = coef if to_coef is None else to_coef @ coef
            Z = U @ ((s**2)[:, None] * G)  # = K W for the training rows
        else:
            k = _resolve_n_components(self.n_components, n)
            if k > n:
                raise ValueError(
                    f"n_components={k} is larger than possible: exact TCA on "
                    f"{n} training rows gives at most {n} components."
                )
            K = pairwise_kernel(X, X, self.kernel, self.gamma_)
            check_kernel_finite(K, X, self.kernel)
            _check_mu(self.mu, K @ e, X)
            solver = self.eigen_solver
            if solver == "auto":
                solver = "dense" if n <= _DENSE_MAX_ROWS else "arpack"
            if k >= n - 1:
                solver = "dense"  # ARPACK needs k < n - 1
            self.X_fit_ = X
            self.components_, self.eigenvalues_ = tca_components(
                K, e, self.mu, k, eigen_solver=solver, random_state=rng
            )
            Z = K @ self.components_
            del K
        if not (np.isfinite(self.components_).all() and np.isfinite(Z).all()):
            raise ValueError(
                f"TCA's solution is not finite: with mu={self.mu:g} and inputs as large as "
                f"{np.abs(X).max():.3g}, the eigenproblem is out of float64's range. "
                "Scale the features (e.g. sklearn.preprocessing.StandardScaler) or "
                "raise mu."
            )
        self.n_components_ = k
        signs = _column_signs(self.components_)
        self.components_ *= signs
        Z *= signs

        labeled = sd != UNLABELED_TARGET
        self.final_estimator_ = clone(final).fit(
            Z[labeled], y[labeled]
        )
        self.classes_ = self.final_estimator_.classes_
        return self

    def _nystroem_features(self, X, rng):
        """Landmarks, Nyström features Phi (K ~ Phi Phi^T) and the map k(., Z) -> phi."""
        m = min(self.n_landmarks, len(X))
        landmarks = X[np.sort(rng.choice(len(X), m, replace=False))]
        K_mm = pairwise_kernel(landmarks, landmarks, self.kernel, self.gamma_)
        check_kernel_finite(K_mm, X, self.kernel)
        w, Q = np.linalg.eigh(K_mm)
        keep = w > w.max() * 1e-10
        to_phi = Q[:, keep] / np.sqrt(w[keep])
        Phi = pairwise_kernel(X, landmarks, self.kernel, self.gamma_) @ to_phi
        return landmarks, Phi, to_phi

    def _default_final_estimator(self):
        # The embedding's scale is arbitrary (W is normalised by W^T B W = I, so
        # K W can be in the thousands): standardise before the logistic regression.
        return make_pipeline(StandardScaler(), LogisticRegression())

    def _final_input(self, X):
        return self.transform(X)

    def _embed(self, X):
        if self.X_fit_ is None:
            return X @ self.components_
        return pairwise_kernel(X, self.X_fit_, self.kernel, self.gamma_) @ self.components_

    def transform(self, X):
        """Embed ``X`` on the transfer components.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Any rows (source, target or new).

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components)
            One row per input row, in input order.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        check_kernel_scale(X, self.kernel)
        return self._embed(X)

    def fit_transform(self, X, y=None, Xt_l=None, yt_l=None, Xt_u=None, *, sample_domain=None):
        """Fit, then embed the rows of ``X`` (all rows, in input order).

        Parameters
        ----------
        X, y, Xt_l, yt_l, Xt_u, sample_domain
            As in :meth:`fit`.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components)
            Embedding of ``X`` (the first argument) only.
        """
        return self.fit(X, y, Xt_l, yt_l, Xt_u, sample_domain=sample_domain).transform(X)

    @property
    def _n_features_out(self):
        return self.components_.shape[1]


def _resolve_n_components(n_components, most):
    """``n_components``, or ``min(30, most)`` for None."""
    if n_components is None:
        return min(_DEFAULT_COMPONENTS, most)
    return n_components


def _check_mu(mu, u, X):
    """Raise when ``u u^T + mu I`` (the constraint of eq. 7) is singular in float64."""
    u2 = float(u @ u)
    if mu < _MIN_MU_RATIO * u2:
        raise ValueError(
            f"mu={mu:g} vanishes next to the kernel's scale (|K e|^2 = {u2:.3g}, inputs "
            f"as large as {np.abs(X).max():.3g}): the constraint matrix K L K + mu I "
            "is singular in float64. Scale the features (e.g. "
            "sklearn.preprocessing.StandardScaler) or use mu >= "
            f"{_MIN_MU_RATIO * u2:.3g}."
        )


def _inv_sqrt_rank_one(u, mu):
    """Return ``v -> (mu I + u u^T)^{-1/2} v`` as a closure."""
    s = float(u @ u)
    a = 1.0 / np.sqrt(mu)
    c = (1.0 / np.sqrt(mu + s) - a) / s if s > 0 else 0.0

    def apply(v):
        return a * v + c * np.multiply.outer(u, u @ v)

    return apply


def tca_components(K, e, mu, n_components, *, eigen_solver="dense", random_state=None):
    r"""Exact TCA coefficients from a kernel matrix (Pan et al. 2011, eq. 8).

    Solves the symmetric-definite generalized eigenproblem

    .. math:: K H K\, w = \lambda\, (u u^T + \mu I)\, w, \qquad u = K e,

    with ``H = I - 11^T/n`` and ``K L K = (K e)(K e)^T``, for the
    ``n_components`` largest ``lambda``. With ``B = u u^T + mu I`` it
    computes the leading eigenvectors ``v`` of the symmetric matrix
    ``B^{-1/2} K H K B^{-1/2}`` and returns ``w = B^{-1/2} v``, which satisfy
    ``W^T B W = I``. ``B^{-1/2} = mu^{-1/2} I + (1/sqrt(mu + |u|^2) -
    mu^{-1/2}) u u^T / |u|^2`` in closed form.

    Parameters
    ----------
    K : ndarray of shape (n, n)
        Symmetric kernel matrix of all training rows.
    e : ndarray of shape (n,)
        ``1/n_s`` on source rows, ``-1/n_t`` on target rows (zeros when there
        is no target: the MMD term then vanishes).
    mu : float
        Regularization trade-off (> 0).
    n_components : int
        Number of components ``k``.
    eigen_solver : {"dense", "arpack"}, default="dense"
        "dense" forms the ``n x n`` matrix and calls LAPACK; "arpack" applies it
        matrix-free with two kernel mat-vecs per iteration (``k < n - 1``).
    random_state : int, RandomState instance or None, default=None
        ARPACK's starting vector.

    Returns
    -------
    W : ndarray of shape (n, n_components)
        Coefficients; the embedding of the training rows is ``K @ W``.
    eigenvalues : ndarray of shape (n_components,)
        In decreasing order.
    """
    n = K.shape[0]
    u = K @ e
    inv_sqrt_B = _inv_sqrt_rank_one(u, mu)
    if eigen_solver == "dense":
        HK = K - K.mean(axis=0)  # H K, column-centred
        M = inv_sqrt_B(inv_sqrt_B(HK.T @ HK).T)  # B^-1/2 (KHK) B^-1/2, symmetric
        M = (M + M.T) / 2
        vals, V = eigh(M, subset_by_index=[n - n_components, n - 1])
    else:

        def matvec(v):
            z = K @ inv_sqrt_B(v.ravel())
            z -= z.mean()
            return inv_sqrt_B(K @ z)

        op = LinearOperator((n, n), matvec=matvec, dtype=K.dtype)
        v0 = check_random_state(random_state).uniform(-1, 1, n)
        # BLAS threads are left alone: on 2 cores, 2 threads ran these
        # kernel mat-vecs faster than 1 (n=8000: 3.9 s vs 5.7 s per solve).
        vals, V = eigsh(op, k=n_components, which="LA", v0=v0)
    order = np.argsort(vals)[::-1]
    vals, V = vals[order], V[:, order]
    return inv_sqrt_B(V), vals


def _tca_lowrank(U, s, e, mu, n_components):
    """TCA for a kernel given as ``K = U diag(s^2) U^T`` (U orthonormal, n x r).

    The optimal ``W`` lies in the span of ``U`` (components outside it add to
    the constraint but not to the objective), so with ``W = U G`` the problem
    becomes the ``r x r`` pencil ``A_r g = lambda B_r g`` with
    ``A_r = S^2 U^T H U S^2`` and ``B_r = S^2 (U^T e)(U^T e)^T S^2 + mu I``.
    This is exact for the linear kernel (``U S V^T`` is the SVD of ``X``) and
    for Nyström features. Returns ``G`` (r x k) and the eigenvalues.
    """
    s2 = s**2
    c = U.sum(axis=0)  # U^T 1
    n = U.shape[0]
    UtHU = np.eye(len(s)) - np.outer(c, c) / n
    A = s2[:, None] * UtHU * s2[None, :]
    ue = s2 * (U.T @ e)
    B = np.outer(ue, ue) + mu * np.eye(len(s))
    r = len(s)
    vals, G = eigh((A + A.T) / 2, B, subset_by_index=[r - n_components, r - 1])
    order = np.argsort(vals)[::-1]
    return G[:, order], vals[order]


def _column_signs(W):
    """Signs making the largest-magnitude entry of each column positive."""
    idx = np.argmax(np.abs(W), axis=0)
    signs = np.sign(W[idx, np.arange(W.shape[1])])
    signs[signs == 0] = 1
    return signs
