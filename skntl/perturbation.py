"""Source perturbation: the paper's divergence factor.

Each **source** row gets two independent Bernoulli draws: with probability
``eps_x`` its input is corrupted (the marginal divergence), with probability
``eps_y`` its label is replaced by a class drawn uniformly at random (the
conditional divergence). Target rows are never touched. The protocol is
:ref:`method-perturbation` in the user guide, and its details are
:ref:`decisions D1–D4 <decision-d1>`.

* :func:`perturb_source` is the functional form, for scripts and experiment
  runners: ``Xs', ys', x_mask, y_mask = perturb_source(Xs, ys, 0.7, 0.7)``.
* :class:`SourcePerturbation` is the same as an estimator-like object with
  ``fit_resample`` that reads packed data (``sample_domain``) and keeps the
  masks ``x_perturbed_`` and ``y_perturbed_``.
* :class:`PerturbedSource` wraps any transfer estimator: its ``fit`` perturbs
  the source rows, then fits the estimator. A scikit-learn transformer cannot
  change ``y`` inside a :class:`~sklearn.pipeline.Pipeline`, so this
  meta-estimator is how ``eps_x`` and ``eps_y`` are searched together with
  the estimator's own parameters in :class:`~sklearn.model_selection.GridSearchCV`.
* :func:`perturb_images` and :func:`perturb_features` are the built-in input
  noises, usable as building blocks for a custom ``x_noise`` callable.
"""

from numbers import Real

import numpy as np
from scipy import ndimage
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import column_or_1d, validate_data

from ._data import UNLABELED_TARGET, _as_array, _label_kind, check_sample_domain
from .base import TransferMixin, _restore_on_error
from .metrics import _fit_transfer
from .utils._delegation import DelegatingWrapperMixin
from .utils._param_validation import (
    HasMethods,
    Interval,
    StrOptions,
    _fit_context,
    validate_params,
)

__all__ = [
    "PerturbedSource",
    "SourcePerturbation",
    "perturb_features",
    "perturb_images",
    "perturb_source",
]

_EPS_CONSTRAINT = [Interval(Real, 0, 1, closed="both")]
_NOISE_CONSTRAINT = [StrOptions({"auto", "image", "features"}), callable]


# --------------------------------------------------------------------------- noises


@validate_params(
    {
        "X": ["array-like"],
        "random_state": ["random_state"],
        "p": [Interval(Real, 0, 1, closed="right")],  # every image needs an operation
        "max_angle": [Interval(Real, 0, None, closed="left")],
        "salt_pepper": [Interval(Real, 0, 1, closed="both")],
        "zoom_area": ["array-like"],
        "low": [Real, None],
        "high": [Real, None],
    },
    prefer_skip_nested_validation=True,
)
def perturb_images(
    X,
    random_state=None,
    *,
    p=0.5,
    max_angle=90.0,
    salt_pepper=0.1,
    zoom_area=(0.5, 0.8),
    low=None,
    high=None,
):
    """Corrupt every image of ``X`` with the paper's series of random noises.

    For each image a random **non-empty** subset of four operations is drawn
    (each kept with probability ``p``, redrawn if none is kept) and applied in
    this order (:ref:`decision D1 <decision-d1>`):

    1. zoom-crop: a random crop covering ``U(zoom_area)`` of the area, with the
       image's aspect ratio, resized back to ``H x W`` (bilinear);
    2. rotation by ``U(-max_angle, max_angle)`` degrees about the centre,
       corners filled with ``low`` (black);
    3. flip, horizontal or vertical with equal probability;
    4. salt & pepper: a fraction ``salt_pepper`` of the pixel-channels (drawn
       per channel) set to ``low`` or ``high`` with equal probability.

    Parameters
    ----------
    X : ndarray of shape (n_images, C, H, W) or (n_images, H, W)
        Images with a floating dtype. Not modified.
    random_state : int, RandomState instance or None, default=None
        Controls every draw.
    p : float in (0, 1], default=0.5
        Probability that each operation is part of an image's series.
    max_angle : float, default=90.0
        Largest rotation in degrees.
    salt_pepper : float in [0, 1], default=0.1
        Fraction of pixel-channels hit by salt & pepper noise.
    zoom_area : tuple of two floats in (0, 1], default=(0.5, 0.8)
        Range of the area fraction kept by the zoom-crop.
    low, high : float, default=None
        Pepper (and rotation fill) and salt values. None means ``X.min()`` and
        ``X.max()``: 0 and 1 for images in [0, 1].

    Returns
    -------
    X_noisy : ndarray of the shape and dtype of ``X``
        The corrupted images (a new array).

    Examples
    --------
    >>> import numpy as np
    >>> from skntl.perturbation import perturb_images
    >>> X = np.random.RandomState(0).rand(2, 3, 8, 8).astype(np.float32)
    >>> Xn = perturb_images(X, random_state=0)
    >>> Xn.shape, Xn.dtype, bool(np.any(Xn != X))
    ((2, 3, 8, 8), dtype('float32'), True)
    """
    X = _as_array(X, "X")
    if X.ndim not in (3, 4):
        raise ValueError(
            f"perturb_images needs images of shape (n, C, H, W) or (n, H, W), got X "
            f"of shape {X.shape}."
        )
    _check_image_dtype(X)
    lo_area, hi_area = zoom_area
    if not 0.0 < lo_area <= hi_area <= 1.0:
        raise ValueError(f"zoom_area must satisfy 0 < low <= high <= 1, got {zoom_area!r}.")
    rng = check_random_state(random_state)
    squeeze = X.ndim == 3
    images = X[:, None] if squeeze else X
    if low is None:
        low = float(images.min()) if images.size else 0.0
    if high is None:
        high = float(images.max()) if images.size else 0.0
    out = np.empty_like(images)
    for i, image in enumerate(images):
        ops = rng.random_sample(4) < p
        while not ops.any():
            ops = rng.random_sample(4) < p
        image = np.array(image)  # a copy: never write into the caller's array
        if ops[0]:
            image = _zoom_crop(image, rng.uniform(lo_area, hi_area), rng)
        if ops[1]:
            angle = rng.uniform(-max_angle, max_angle)
            image = ndimage.rotate(
                image, angle, axes=(2, 1), reshape=False, order=1, mode="constant", cval=low
            )
        if ops[2]:
            image = image[:, :, ::-1] if rng.random_sample() < 0.5 else image[:, ::-1, :]
        if ops[3]:
            hit = rng.random_sample(image.shape) < salt_pepper
            salt = rng.random_sample(image.shape) < 0.5
            image = np.where(hit, np.where(salt, high, low), image)
        out[i] = image
    return out[:, 0] if squeeze else out


def _zoom_crop(image, area, rng):
    """Crop ``area`` of the image (same aspect ratio) at random, resized back."""
    _, H, W = image.shape
    scale = np.sqrt(area)
    h, w = scale * H, scale * W
    top, left = rng.uniform(0, H - h), rng.uniform(0, W - w)
    # output pixel centre (i + 0.5) maps to top + (i + 0.5) * h / H in the input
    offset = [0.0, top + 0.5 * scale - 0.5, left + 0.5 * scale - 0.5]
    return ndimage.affine_transform(
        image, [1.0, scale, scale], offset=offset, order=1, mode="nearest"
    )


def _check_image_dtype(X):
    if X.dtype.kind != "f":
        raise ValueError(
            f"Image perturbation needs a floating dtype, got images of dtype {X.dtype}; "
            "convert them first, e.g. X.astype(np.float32) / 255 for 8-bit images."
        )


@validate_params(
    {
        "X": ["array-like"],
        "random_state": ["random_state"],
        "salt_pepper": [Interval(Real, 0, 1, closed="both")],
        "low": ["array-like", Real, None],
        "high": ["array-like", Real, None],
    },
    prefer_skip_nested_validation=True,
)
def perturb_features(X, random_state=None, *, salt_pepper=0.1, low=None, high=None):
    """Make every feature vector of ``X`` unrelated to its class.

    The feature-vector analogue of the image noises (:ref:`decision D1
    <decision-d1>`): rotation, flips and zoom-crop move an image's content to
    other positions, so each row's
    coordinates are **randomly permuted** (never the identity); then, like salt & pepper, a
    fraction ``salt_pepper`` of its coordinates is set to the column's
    ``low`` or ``high`` value with equal probability. A permutation keeps the
    row's set of values (scale, sparsity and norm stay realistic, so the row
    is not an outlier a detector could spot by its norm) but breaks every
    feature's link to the class: a perturbed row's nearest neighbours no
    longer share its class.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Feature vectors (any numeric dtype). Not modified.
    random_state : int, RandomState instance or None, default=None
        Controls every draw.
    salt_pepper : float in [0, 1], default=0.1
        Fraction of coordinates hit by salt & pepper noise.
    low, high : array-like of shape (n_features,), default=None
        Per-column pepper and salt values. None means the column minima and
        maxima of ``X``.

    Returns
    -------
    X_noisy : ndarray of the shape and dtype of ``X``
        The corrupted rows (a new array).

    Examples
    --------
    >>> import numpy as np
    >>> from skntl.perturbation import perturb_features
    >>> X = np.arange(12.0).reshape(2, 6)
    >>> Xn = perturb_features(X, random_state=0, salt_pepper=0.0)
    >>> np.array_equal(np.sort(Xn, axis=1), X)  # each row's values, permuted
    True
    """
    X = _as_array(X, "X")
    if X.ndim != 2:
        raise ValueError(
            f"perturb_features needs feature vectors of shape (n, d), got X of shape {X.shape}."
        )
    rng = check_random_state(random_state)
    n, d = X.shape
    if n == 0 or d == 0:
        return X.copy()
    low = X.min(axis=0) if low is None else np.asarray(low)
    high = X.max(axis=0) if high is None else np.asarray(high)
    order = np.argsort(rng.random_sample((n, d)), axis=1)
    if d > 1:  # an identity permutation would leave a low-dimensional row as it was
        same = np.all(order == np.arange(d), axis=1)
        while same.any():
            order[same] = np.argsort(rng.random_sample((same.sum(), d)), axis=1)
            same = np.all(order == np.arange(d), axis=1)
    out = np.take_along_axis(X, order, axis=1)
    hit = rng.random_sample((n, d)) < salt_pepper
    salt = rng.random_sample((n, d)) < 0.5
    low, high = np.broadcast_to(low, (n, d)), np.broadcast_to(high, (n, d))
    out[hit & salt] = high[hit & salt]
    out[hit & ~salt] = low[hit & ~salt]
    return out


def _resolve_noise(x_noise, X):
    """Return ``"image"``, ``"features"`` or the callable, checked against ``X``."""
    if callable(x_noise):
        return x_noise
    kind = x_noise
    if kind == "auto":
        if X.ndim == 2:
            kind = "features"
        elif X.ndim in (3, 4):
            kind = "image"
        else:
            raise ValueError(
                "x_noise='auto' handles feature vectors (n, d) and images (n, C, H, W) or "
                f"(n, H, W); X has shape {X.shape}: pass a callable x_noise."
            )
    if kind == "image":
        if X.ndim not in (3, 4):
            raise ValueError(
                f"x_noise='image' needs images of shape (n, C, H, W) or (n, H, W), got X of "
                f"shape {X.shape}."
            )
        _check_image_dtype(X)
    elif X.ndim != 2:
        raise ValueError(
            f"x_noise='features' needs feature vectors of shape (n, d), got X of shape {X.shape}."
        )
    return kind


def _apply_noise(kind, X_rows, X_reference, rng):
    """Corrupt ``X_rows``; salt/pepper values come from ``X_reference`` (the source)."""
    if callable(kind):
        out = np.asarray(kind(X_rows.copy(), rng))
        if out.shape != X_rows.shape:
            raise ValueError(
                f"x_noise returned an array of shape {out.shape} for rows of shape "
                f"{X_rows.shape}; it must return one corrupted row per input row."
            )
        return out
    if kind == "image":
        return perturb_images(
            X_rows, rng, low=float(X_reference.min()), high=float(X_reference.max())
        )
    return perturb_features(
        X_rows, rng, low=X_reference.min(axis=0), high=X_reference.max(axis=0)
    )


def _perturb(X, y, source, eps_x, eps_y, kind, classes, rng):
    """Perturb the rows where ``source`` is True; return new arrays and the masks.

    The draws are made for the source rows only, in a fixed order, so they do
    not depend on the target rows, and for one seed the perturbed sets are
    nested across eps: the rows perturbed at eps=0.3 are also perturbed at
    eps=0.7.
    """
    rows = np.flatnonzero(source)
    m = len(rows)
    u_x, u_y = rng.random_sample(m), rng.random_sample(m)
    label_idx = rng.randint(max(len(classes), 1), size=m)
    noise_rng = np.random.RandomState(rng.randint(np.iinfo(np.int32).max))
    x_mask = np.zeros(len(X), dtype=bool)
    y_mask = np.zeros(len(X), dtype=bool)
    x_mask[rows[u_x < eps_x]] = True
    y_mask[rows[u_y < eps_y]] = True
    kinds = _label_kind(classes, "classes"), _label_kind(y, "ys")
    if None not in kinds and kinds[0] != kinds[1]:
        words = {"str": "strings", "number": "numbers"}
        raise ValueError(
            f"classes holds {words.get(kinds[0], kinds[0])} but ys holds "
            f"{words.get(kinds[1], kinds[1])}; redrawn "
            "labels would not be comparable with the others. Give classes of the "
            "labels' type."
        )
    # a dtype that holds the labels and every class (e.g. longer strings)
    X_out, y_out = X.copy(), y.astype(np.result_type(y, classes))
    if x_mask.any():
        X_out[x_mask] = _apply_noise(kind, X[x_mask], X[source], noise_rng)
    if y_mask.any():
        y_out[y_mask] = classes[label_idx[u_y < eps_y]]
    return X_out, y_out, x_mask, y_mask


# ---------------------------------------------------------------------- public API


@validate_params(
    {
        "Xs": ["array-like"],
        "ys": ["array-like"],
        "eps_x": _EPS_CONSTRAINT,
        "eps_y": _EPS_CONSTRAINT,
        "x_noise": _NOISE_CONSTRAINT,
        "classes": ["array-like", None],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def perturb_source(
    Xs, ys, eps_x=0.0, eps_y=0.0, *, x_noise="auto", classes=None, random_state=None
):
    """Perturb a source set: corrupt inputs with prob. eps_x, labels with prob. eps_y.

    Two independent Bernoulli draws per row (:ref:`the paper's protocol
    <method-perturbation>`): with probability ``eps_x`` the input is corrupted
    by ``x_noise``; with probability ``eps_y`` the label is replaced by a
    class drawn uniformly from ``classes`` (it may coincide with the true
    label, probability ``1/K``; the mask records the Bernoulli outcome;
    :ref:`decision D3 <decision-d3>`). Every draw is fixed by
    ``random_state`` (:ref:`decision D2 <decision-d2>`), and for one seed the
    perturbed rows are nested across eps (those perturbed at eps=0.3 are also
    perturbed at eps=0.7).

    Parameters
    ----------
    Xs : array-like of shape (n_source, n_features) or (n_source, C, H, W)
        Source inputs: feature vectors or float images. Not modified.
    ys : array-like of shape (n_source,)
        Source labels. Not modified.
    eps_x : float in [0, 1], default=0.0
        Probability that a row's input is corrupted.
    eps_y : float in [0, 1], default=0.0
        Probability that a row's label is replaced by a random class.
    x_noise : {"auto", "image", "features"} or callable, default="auto"
        Input noise. "image": :func:`perturb_images`
        (:ref:`decision D1 <decision-d1>`); "features":
        :func:`perturb_features`; "auto": "features" for 2-D inputs and
        "image" for 3-D or 4-D ones. A callable is called once as
        ``x_noise(X_rows, random_state)`` with the rows to corrupt and a
        ``RandomState``, and returns the corrupted rows (same shape).
    classes : array-like, default=None
        Classes random labels are drawn from. None means ``np.unique(ys)``.
    random_state : int, RandomState instance or None, default=None
        Controls the Bernoulli draws, the random labels and the noise.

    Returns
    -------
    Xs_perturbed : ndarray of the shape of ``Xs``
        Inputs, corrupted where ``x_mask`` is True.
    ys_perturbed : ndarray of shape (n_source,)
        Labels, redrawn where ``y_mask`` is True.
    x_mask : ndarray of shape (n_source,), dtype bool
        Rows whose input was corrupted.
    y_mask : ndarray of shape (n_source,), dtype bool
        Rows whose label was redrawn.

    See Also
    --------
    SourcePerturbation : The same on packed data, as an estimator-like object.
    PerturbedSource : Perturb the source inside ``fit`` of any estimator.

    Examples
    --------
    >>> import numpy as np
    >>> from skntl.perturbation import perturb_source
    >>> Xs, ys = np.random.RandomState(0).randn(1000, 5), np.arange(1000) % 4
    >>> Xp, yp, x_mask, y_mask = perturb_source(Xs, ys, 0.7, 0.3, random_state=0)
    >>> round(float(x_mask.mean()), 1), round(float(y_mask.mean()), 1)
    (0.7, 0.3)
    >>> bool(np.all(Xp[~x_mask] == Xs[~x_mask]))
    True
    """
    Xs = _as_array(Xs, "Xs")
    ys = column_or_1d(_as_array(ys, "ys"))
    if len(Xs) != len(ys):
        raise ValueError(f"ys has {len(ys)} entries but Xs has {len(Xs)} rows.")
    kind = _resolve_noise(x_noise, Xs)
    classes = np.unique(ys) if classes is None else np.unique(_as_array(classes, "classes"))
    source = np.ones(len(Xs), dtype=bool)
    return _perturb(Xs, ys, source, eps_x, eps_y, kind, classes, check_random_state(random_state))


class SourcePerturbation(BaseEstimator):
    """Perturb the source rows of (packed) transfer data.

    Each source row (``sample_domain > 0``) gets two independent Bernoulli
    draws: with probability ``eps_x`` its input is corrupted (marginal
    divergence), with probability ``eps_y`` its label is replaced by a class
    drawn uniformly among the source classes (conditional divergence;
    :ref:`decision D3 <decision-d3>`). Target rows are never touched. All
    draws are fixed by ``random_state`` (:ref:`decision D2 <decision-d2>`)
    and the outcomes are kept as masks.

    This is a *sampler*: :meth:`fit_resample` returns the perturbed ``(X, y)``.
    To use it with an estimator, and to grid-search ``eps_x`` and ``eps_y``,
    wrap the estimator in :class:`PerturbedSource`.

    Read more in the :ref:`User Guide <measuring>`.

    Parameters
    ----------
    eps_x : float in [0, 1], default=0.0
        Probability that a source row's input is corrupted.
    eps_y : float in [0, 1], default=0.0
        Probability that a source row's label is replaced by a random class.
    x_noise : {"auto", "image", "features"} or callable, default="auto"
        Input noise; see :func:`perturb_source`. Images must have a floating
        dtype.
    random_state : int, RandomState instance or None, default=None
        Controls the Bernoulli draws, the random labels and the noise. Pass an
        int for the same perturbation on every call.

    Attributes
    ----------
    x_perturbed_ : ndarray of shape (n_samples,), dtype bool
        Rows of the last ``X`` whose input was corrupted (False on target rows).
    y_perturbed_ : ndarray of shape (n_samples,), dtype bool
        Rows whose label was redrawn (False on target rows).
    classes_ : ndarray of shape (n_classes,)
        Classes random labels are drawn from (those of the source rows).
    n_features_in_ : int
        Number of features (``X.shape[1]``) seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    perturb_source : The functional form.
    PerturbedSource : Perturb the source inside ``fit`` of any estimator.

    Examples
    --------
    >>> import numpy as np
    >>> from skntl import pack
    >>> from skntl.perturbation import SourcePerturbation
    >>> rng = np.random.RandomState(0)
    >>> X, y, sd = pack(rng.randn(100, 3), np.arange(100) % 2, Xt_u=rng.randn(20, 3))
    >>> pert = SourcePerturbation(eps_x=0.5, eps_y=0.5, random_state=0)
    >>> Xp, yp = pert.fit_resample(X, y, sample_domain=sd)
    >>> bool(np.all(Xp[sd < 0] == X[sd < 0]))  # target rows untouched
    True
    >>> int(pert.x_perturbed_[sd < 0].sum())
    0
    """

    _parameter_constraints: dict = {
        "eps_x": _EPS_CONSTRAINT,
        "eps_y": _EPS_CONSTRAINT,
        "x_noise": _NOISE_CONSTRAINT,
        "random_state": ["random_state"],
    }

    def __init__(self, eps_x=0.0, eps_y=0.0, *, x_noise="auto", random_state=None):
        self.eps_x = eps_x
        self.eps_y = eps_y
        self.x_noise = x_noise
        self.random_state = random_state

    @_restore_on_error
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, *, sample_domain=None):
        """Draw the perturbation of ``X`` and keep its masks.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, C, H, W)
            Inputs; packed transfer data or source rows only.
        y : array-like of shape (n_samples,)
            Labels.
        sample_domain : array-like of shape (n_samples,), default=None
            Domain codes (see :func:`skntl.pack`); only positive (source) rows
            are perturbed. None means every row is source.

        Returns
        -------
        self : SourcePerturbation
            The fitted object.
        """
        self._fit_resample(X, y, sample_domain)
        return self

    @_restore_on_error
    @_fit_context(prefer_skip_nested_validation=True)
    def fit_resample(self, X, y, *, sample_domain=None):
        """Perturb the source rows of ``X`` and ``y`` and return the result.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, C, H, W)
            Inputs; packed transfer data or source rows only. Not modified.
        y : array-like of shape (n_samples,)
            Labels. Not modified.
        sample_domain : array-like of shape (n_samples,), default=None
            Domain codes (see :func:`skntl.pack`); only positive (source) rows
            are perturbed. None means every row is source.

        Returns
        -------
        X_perturbed : ndarray of the shape of ``X``
            Inputs, corrupted on the rows of ``x_perturbed_``.
        y_perturbed : ndarray of shape (n_samples,)
            Labels, redrawn on the rows of ``y_perturbed_``.
        """
        return self._fit_resample(X, y, sample_domain)

    def _fit_resample(self, X, y, sample_domain):
        X, y = validate_data(self, X, y, allow_nd=True, reset=True)
        sd = check_sample_domain(sample_domain, len(X))
        kind = _resolve_noise(self.x_noise, X)
        source = sd > 0
        check_classification_targets(y[source])
        self.classes_ = np.unique(y[source])
        X_out, y_out, self.x_perturbed_, self.y_perturbed_ = _perturb(
            X, y, source, self.eps_x, self.eps_y, kind, self.classes_,
            check_random_state(self.random_state),
        )
        return X_out, y_out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags


class PerturbedSource(
    TransferMixin, DelegatingWrapperMixin, ClassifierMixin, MetaEstimatorMixin, BaseEstimator
):
    """Fit an estimator on transfer data whose source has been perturbed.

    ``fit`` perturbs the source rows as :class:`SourcePerturbation` does
    (input corrupted with probability ``eps_x``, label redrawn with
    probability ``eps_y``; target rows untouched), then fits a clone of
    ``estimator``: a skntl estimator on the perturbed packed data, a plain
    scikit-learn classifier on the perturbed source together with the
    labeled target. Prediction is delegated to the fitted clone.

    Because the perturbation happens inside ``fit``, ``eps_x``, ``eps_y`` and
    the estimator's parameters can be searched together, e.g. with
    ``GridSearchCV(PerturbedSource(TCA()), {"eps_x": [0, 0.7], "eps_y": [0,
    0.7], "estimator__mu": [0.1, 1]}, cv=TargetSplit())``. Its target-only
    twin A(∅, T) is the *unperturbed* estimator's (there is no source to
    perturb), which :class:`~skntl.metrics.NegativeTransferGap` uses.

    Read more in the :ref:`User Guide <measuring>`.

    Parameters
    ----------
    estimator : estimator object
        A skntl estimator or a scikit-learn classifier. Cloned, never modified.
    eps_x : float in [0, 1], default=0.0
        Probability that a source row's input is corrupted.
    eps_y : float in [0, 1], default=0.0
        Probability that a source row's label is replaced by a random class.
    x_noise : {"auto", "image", "features"} or callable, default="auto"
        Input noise; see :func:`perturb_source`.
    random_state : int, RandomState instance or None, default=None
        Controls the perturbation (not the estimator, which has its own).
        Pass an int so that every fit of a grid search sees the same
        perturbed source (:ref:`decision D2 <decision-d2>`).

    Attributes
    ----------
    estimator_ : estimator
        The clone of ``estimator`` fitted on the perturbed data.
    perturbation_ : SourcePerturbation
        The fitted perturbation.
    x_perturbed_ : ndarray of shape (n_samples,), dtype bool
        Packed rows whose input was corrupted (source rows come first in the
        explicit form; False on target rows).
    y_perturbed_ : ndarray of shape (n_samples,), dtype bool
        Packed rows whose label was redrawn.
    classes_ : ndarray of shape (n_classes,)
        Class labels of ``estimator_``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    SourcePerturbation : The perturbation alone.
    skntl.metrics.NegativeTransferGap : Fit a model and its target-only twin.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skntl.perturbation import PerturbedSource
    >>> rng = np.random.RandomState(0)
    >>> Xs, ys = rng.randn(100, 3), np.arange(100) % 2
    >>> model = PerturbedSource(LogisticRegression(), eps_y=1.0, random_state=0)
    >>> bool(model.fit(Xs, ys, Xs[:10], ys[:10]).y_perturbed_[:100].all())
    True
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit"])],
        **SourcePerturbation._parameter_constraints,
    }

    def __init__(self, estimator, eps_x=0.0, eps_y=0.0, *, x_noise="auto", random_state=None):
        self.estimator = estimator
        self.eps_x = eps_x
        self.eps_y = eps_y
        self.x_noise = x_noise
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None, Xt_l=None, yt_l=None, Xt_u=None, *, sample_domain=None):
        """Perturb the source rows, then fit a clone of ``estimator``.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Source inputs (explicit form) or all inputs (packed form).
        y : array-like of shape (n_samples,)
            Labels of the rows of ``X``.
        Xt_l : array-like of shape (n_labeled, ...), default=None
            Labeled target inputs.
        yt_l : array-like of shape (n_labeled,), default=None
            Labeled target labels.
        Xt_u : array-like of shape (n_unlabeled, ...), default=None
            Unlabeled target inputs.
        sample_domain : array-like of shape (n_samples,), default=None
            Domain codes of the packed form (see :func:`skntl.pack`).

        Returns
        -------
        self : PerturbedSource
            The fitted estimator.
        """
        X, y, sd = self._validate_wrapper_data(X, y, Xt_l, yt_l, Xt_u, sample_domain)
        perturbation = SourcePerturbation(
            self.eps_x, self.eps_y, x_noise=self.x_noise, random_state=self.random_state
        )
        Xp, yp = perturbation.fit_resample(X, y, sample_domain=sd)
        _check_classes_survive(y, yp, sd, self.eps_y)
        self.estimator_ = _fit_transfer(self.estimator, Xp, yp, sd)
        self.perturbation_ = perturbation
        self.x_perturbed_ = perturbation.x_perturbed_
        self.y_perturbed_ = perturbation.y_perturbed_
        self.classes_ = self.estimator_.classes_
        return self

    def _target_only_estimator(self):
        """Estimator whose target-only twin is this one's: the unperturbed one."""
        return self.estimator


def _check_classes_survive(y, y_perturbed, sd, eps_y):
    """Raise when the label perturbation took away a class the labeled target has."""
    before, after = np.unique(y[sd > 0]), np.unique(y_perturbed[sd > 0])
    gone = np.setdiff1d(before, after)
    if gone.size:
        labeled = np.unique(y[(sd < 0) & (sd != UNLABELED_TARGET)])
        gone = np.intersect1d(gone, labeled)
    if gone.size:
        raise ValueError(
            f"The label perturbation (eps_y={eps_y}) redrew every source row of "
            f"class(es) {gone.tolist()}, which the labeled target (yt_l) has: the "
            "perturbed source no longer contains them. Use a lower eps_y, another "
            "random_state, or a source with more rows of these classes."
        )
