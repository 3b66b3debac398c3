"""Kernels shared by the conventional methods."""

import numpy as np
from sklearn.metrics.pairwise import euclidean_distances, linear_kernel, rbf_kernel
from sklearn.utils import check_random_state


def median_heuristic_gamma(X, *, max_rows=1000, random_state=None):
    """RBF width from the median heuristic: ``1 / (2 * median ||x_i - x_j||^2)``.

    The median is over pairs ``i < j`` of at most ``max_rows`` rows drawn
    without replacement (all rows when there are fewer). Falls back to
    ``1 / n_features`` when every pair coincides.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Rows to measure.
    max_rows : int, default=1000
        Subsample size bounding the cost at ``max_rows**2 / 2`` distances.
    random_state : int, RandomState instance or None, default=None
        Controls the subsample.

    Returns
    -------
    gamma : float
    """
    if len(X) > max_rows:
        rows = check_random_state(random_state).choice(len(X), max_rows, replace=False)
        X = X[rows]
    d2 = euclidean_distances(X, squared=True)
    d2 = d2[np.triu_indices(len(X), k=1)]
    med = np.median(d2) if d2.size else 0.0
    if not np.isfinite(med) or med <= 0:
        return 1.0 / X.shape[1]
    return 1.0 / (2.0 * med)


def pairwise_kernel(A, B, kernel, gamma):
    """Kernel matrix ``k(A, B)`` for ``kernel`` in {"linear", "rbf"}."""
    if kernel == "linear":
        return linear_kernel(A, B)
    return rbf_kernel(A, B, gamma=gamma)


def check_kernel_scale(X, kernel):
    """Raise a ``ValueError`` when the squared norms of ``X``'s rows overflow float64.

    Both kernels are computed from inner products ``x . x'``; when ``|x|^2`` is
    not finite, some kernel values are NaN or inf, in ``fit`` or later in
    ``transform``.
    """
    X = np.asarray(X, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        norms = np.einsum("ij,ij->i", X, X)
    check_kernel_finite(norms, X, kernel)


def check_kernel_finite(values, X, kernel):
    """Raise a ``ValueError`` when kernel quantities overflowed float64.

    Parameters
    ----------
    values : ndarray
        A kernel matrix, features or another quantity computed from it.
    X : ndarray
        The inputs it was computed from (named in the message).
    kernel : str
        The kernel's name.
    """
    if not np.all(np.isfinite(values)):
        raise ValueError(
            f"The inputs' scale overflowed the {kernel} kernel: with values as large as "
            f"{np.abs(X).max():.3g}, kernel values are not finite in float64. Scale the "
            "features first (e.g. sklearn.preprocessing.StandardScaler)."
        )
