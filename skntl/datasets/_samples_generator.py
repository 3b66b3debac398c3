"""Synthetic transfer problems with a controllable amount of shift."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state

from ..utils._param_validation import Interval, validate_params

__all__ = ["make_transfer_blobs"]


def _balanced_labels(n, n_classes, rng):
    """``n`` labels, every class ``n // n_classes`` or one more times, in random order."""
    labels = np.arange(n) % n_classes
    rng.shuffle(labels)
    return labels


@validate_params(
    {
        "n_source": [Interval(Integral, 1, None, closed="left")],
        "n_target": [Interval(Integral, 1, None, closed="left")],
        "n_features": [Interval(Integral, 1, None, closed="left")],
        "n_classes": [Interval(Integral, 2, None, closed="left")],
        "marginal_shift": [Interval(Real, 0, None, closed="left")],
        "conditional_shift": [Interval(Real, 0, 1, closed="both")],
        "cluster_std": [Interval(Real, 0, None, closed="neither")],
        "center_box": ["array-like"],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
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
    for name, n in (("n_source", n_source), ("n_target", n_target)):
        if n < n_classes:
            raise ValueError(
                f"{name} must be >= n_classes={n_classes}, so that each domain holds every "
                f"class; got {n}."
            )
    # Python floats: a float32 argument must not turn the arithmetic below into float32.
    marginal_shift, conditional_shift = float(marginal_shift), float(conditional_shift)
    cluster_std = float(cluster_std)
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
