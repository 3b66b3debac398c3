"""Synthetic transfer problems with a controllable amount of shift."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state

__all__ = ["make_transfer_blobs"]


def _check_int(value, name, low):
    if isinstance(value, bool) or not isinstance(value, Integral) or value < low:
        raise ValueError(f"{name} must be an int >= {low}; got {value!r}.")
    return int(value)


def _check_real(value, name, low, high=np.inf, low_open=False):
    ok = isinstance(value, Real) and not isinstance(value, bool) and np.isfinite(value)
    ok = ok and (value > low if low_open else value >= low) and value <= high
    if not ok:
        bounds = f"{'>' if low_open else '>='} {low}" + (f" and <= {high}" if high < np.inf else "")
        raise ValueError(f"{name} must be a finite real number {bounds}; got {value!r}.")
    return float(value)


def _balanced_labels(n, n_classes, rng):
    """``n`` labels, every class ``n // n_classes`` or one more times, in random order."""
    labels = np.arange(n) % n_classes
    rng.shuffle(labels)
    return labels


def make_transfer_blobs(
    n_source=200,
    n_target=200,
    *,
    n_features=2,
    n_classes=3,
    marginal_shift=0.0,
    conditional_shift=0.0,
    cluster_std=1.0,
    center_box=(-5.0, 5.0),
    random_state=None,
):
    r"""Generate a source and a target domain of Gaussian blobs with controllable shift.

    Each class ``k`` is an isotropic Gaussian blob.  The source blob of class
    ``k`` is centred on ``c_k``, drawn uniformly in ``center_box``.  The
    target blob of class ``k`` is centred on

    .. math::

        c'_k = (1 - \gamma)\, c_k + \gamma\, c_{\pi(k)} + \delta\, u

    where ``u`` is a random unit vector, ``δ = marginal_shift`` and
    ``γ = conditional_shift``, and ``π`` is a random permutation of the
    classes without fixed points.

    * ``marginal_shift`` translates the whole target domain: ``P(X)``
      changes while the class structure is intact, so a method that aligns
      the two marginals (TCA, CORAL, DANN) can undo it.
    * ``conditional_shift`` moves each target class towards where another
      class sits in the source: at 1, target class ``k`` occupies source
      class ``π(k)``'s region, so ``P(Y | X)`` disagrees between the domains
      and training on the source hurts (negative transfer).

    Both domains have balanced classes (sizes differ by at most one).

    Parameters
    ----------
    n_source : int, default=200
        Number of source samples (at least ``n_classes``).
    n_target : int, default=200
        Number of target samples (at least ``n_classes``).
    n_features : int, default=2
        Dimension of the samples.
    n_classes : int, default=3
        Number of classes (at least 2).
    marginal_shift : float, default=0.0
        Length ``δ >= 0`` of the translation of the target domain.
    conditional_shift : float, default=0.0
        ``γ`` in [0, 1]: how far each target class moves towards another
        class's source centre.
    cluster_std : float, default=1.0
        Standard deviation of every blob (> 0).
    center_box : tuple of float, default=(-5.0, 5.0)
        Bounds of the box the source centres are drawn in.
    random_state : int, RandomState instance or None, default=None
        Seed of the centres, the permutation, the direction and the samples.

    Returns
    -------
    Xs : ndarray of shape (n_source, n_features)
        Source samples.
    ys : ndarray of shape (n_source,), dtype int64
        Source labels, ``0..n_classes - 1``.
    Xt : ndarray of shape (n_target, n_features)
        Target samples.
    yt : ndarray of shape (n_target,), dtype int64
        Target labels.

    See Also
    --------
    sklearn.datasets.make_blobs : The single-domain analogue.

    Examples
    --------
    >>> from skntl.datasets import make_transfer_blobs
    >>> Xs, ys, Xt, yt = make_transfer_blobs(100, 60, marginal_shift=3.0, random_state=0)
    >>> Xs.shape, Xt.shape, sorted(set(yt.tolist()))
    ((100, 2), (60, 2), [0, 1, 2])
    """
    n_classes = _check_int(n_classes, "n_classes", 2)
    n_source = _check_int(n_source, "n_source", n_classes)
    n_target = _check_int(n_target, "n_target", n_classes)
    n_features = _check_int(n_features, "n_features", 1)
    marginal_shift = _check_real(marginal_shift, "marginal_shift", 0.0)
    conditional_shift = _check_real(conditional_shift, "conditional_shift", 0.0, 1.0)
    cluster_std = _check_real(cluster_std, "cluster_std", 0.0, low_open=True)
    try:
        low, high = (float(b) for b in center_box)
    except (TypeError, ValueError):
        low = high = None
    if low is None or not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise ValueError(f"center_box must be a pair (low, high) of finite numbers with "
                         f"low < high; got {center_box!r}.")  # fmt: skip
    rng = check_random_state(random_state)

    centres = rng.uniform(low, high, size=(n_classes, n_features))
    order = rng.permutation(n_classes)
    partner = np.empty(n_classes, dtype=np.int64)
    partner[order] = np.roll(order, -1)  # a cycle through all classes: no fixed point
    direction = rng.standard_normal(n_features)
    direction /= np.linalg.norm(direction)
    target_centres = (
        (1 - conditional_shift) * centres
        + conditional_shift * centres[partner]
        + marginal_shift * direction
    )

    ys = _balanced_labels(n_source, n_classes, rng)
    yt = _balanced_labels(n_target, n_classes, rng)
    Xs = centres[ys] + cluster_std * rng.standard_normal((n_source, n_features))
    Xt = target_centres[yt] + cluster_std * rng.standard_normal((n_target, n_features))
    return Xs, ys.astype(np.int64), Xt, yt.astype(np.int64)
