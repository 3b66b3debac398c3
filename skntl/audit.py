"""Auditing the source: the weight a transfer method gives each source row.

A transfer method that re-weights the source — the discriminator gate of the
deep methods, or KMM — learns one weight per source row. A low weight says
"this row does not look like target data": its input, its label or the pair
is implausible for the target. :func:`audit_source` turns those weights into
a table with one row per source row, next to a second opinion that needs no
transfer method: how well each row's label agrees with a classifier that
did not see the row (its *label agreement*). :func:`audit_summary`
summarises the table per class (or per any other grouping) and
:func:`plot_source_audit` draws the weights, so that a user can look at the
rows that are most likely wrong before deciding what to do with them.
"""

import sys
import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd
from scipy.stats import rankdata
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_array, check_is_fitted, column_or_1d

from ._data import _as_array, _check_column_names, _check_labeled_part
from .base import _check_estimator_instance
from .conventional.kmm import KMM
from .utils._param_validation import HasMethods, Interval, StrOptions, validate_params

__all__ = ["audit_source", "audit_summary", "plot_source_audit"]

#: Columns of the frame :func:`audit_source` returns, in order.
COLUMNS = (
    "label",
    "weight",
    "relative_weight",
    "discriminator",
    "agreement",
    "rank",
    "suspect",
)
#: Folds of the out-of-fold label-agreement classifiers (fewer when a class is smaller).
_AGREEMENT_FOLDS = 5

_SUPPORTED = (
    "a skntl deep estimator with gate=True (DANN, DAN, DeepCORAL, ADDA, PADA or GTA) or skntl.KMM"
)


# ------------------------------------------------------------------ estimators


def _weight_kind(estimator):
    """Return ``"gate"`` or ``"kmm"``; raise naming ``estimator`` for anything else."""
    name = type(estimator).__name__
    if isinstance(estimator, KMM):
        return "kmm"
    # a deep estimator can only exist once skntl.deep (and torch) was imported
    deep = sys.modules.get("skntl.deep.engine")
    if deep is not None and isinstance(estimator, deep.TransferNet):
        if not estimator.gate:
            raise ValueError(
                f"estimator={name}(gate=False) has no gate, so it learns no per-row "
                "source weight (a discriminator without the gate, if any, is trained "
                "to be fooled and says nothing about which rows to trust); set "
                f"gate=True, e.g. {name}(gate=True)."
            )
        return "gate"
    raise TypeError(
        f"audit_source reads the per-row source weights a transfer method learns, and "
        f"estimator={name} learns none; pass {_SUPPORTED}."
    )


def _is_fitted(estimator):
    try:
        check_is_fitted(estimator)
    except NotFittedError:
        return False
    return True


def _check_fitted_on(model, kind, Xs, ys):
    """Check what can be checked that a fitted ``model`` was fitted on this source."""
    name = type(model).__name__
    n_features = getattr(model, "n_features_in_", None)
    if n_features is not None and Xs.ndim == 2 and Xs.shape[1] != n_features:
        raise ValueError(
            f"Xs has {Xs.shape[1]} features but estimator={name} was fitted on "
            f"{n_features}; pass the source it was fitted on, or refit=True to fit a "
            "clone on this source."
        )
    if kind == "kmm":
        if len(model.weights_) != len(Xs):
            raise ValueError(
                f"Xs has {len(Xs)} rows but the fitted estimator={name} holds weights for "
                f"{len(model.weights_)} source rows; KMM's weights belong to the rows it "
                "was fitted on, so pass that source (in the same order), or refit=True to "
                "fit a clone on this source."
            )
        classes = np.unique(ys)
        if not np.array_equal(classes, model.classes_):
            raise ValueError(
                f"ys holds the classes {classes.tolist()} but estimator={name} was fitted "
                f"on a source with the classes {model.classes_.tolist()}; pass the source "
                "it was fitted on, or refit=True to fit a clone on this source."
            )


def _source_weights(model, kind, Xs, ys):
    """Return ``(weight, discriminator, label_aware)`` for the source rows."""
    if kind == "kmm":
        weight = np.array(model.weights_, dtype=np.float64)
        return weight, np.full(len(weight), np.nan), False
    d, omega = model.predict_weights(Xs, ys)
    spec = model._gate_spec()
    label_aware = bool(
        spec.label_conditioned
        and spec.omega != "marginal"
        and getattr(model, "_gate_read_joint_", False)
    )
    return np.asarray(omega, dtype=np.float64), np.asarray(d, dtype=np.float64), label_aware


# ------------------------------------------------------------------ label agreement


def _given_label_proba(proba, classes, y):
    """Probability each row's own label receives (0 for a class the model never saw)."""
    column = {c: i for i, c in enumerate(classes)}
    idx = np.array([column.get(v, -1) for v in y], dtype=np.int64)
    picked = proba[np.arange(len(y)), np.maximum(idx, 0)]
    return np.where(idx >= 0, picked, 0.0)


def _out_of_fold_proba(X, y, splits, *, keep=None, extra=None):
    """Return, per row, the probability of its label under a classifier not fitted on it.

    The classifier of a fold is fitted on the other folds' rows (only those
    in ``keep``) and the rows ``extra``.
    """
    n_classes = len(np.unique(y))
    p = np.empty(len(y), dtype=np.float64)
    for train, test in splits:
        if keep is not None:
            train = train[keep[train]]
        X_fit, y_fit = X[train], y[train]
        if extra is not None:
            X_fit = np.concatenate([X_fit, extra[0]])
            y_fit = np.concatenate([y_fit, extra[1]])
        seen = np.unique(y_fit)
        if len(seen) == 0:  # nothing to learn from: every label equally likely
            p[test] = 1.0 / n_classes
        elif len(seen) == 1:
            p[test] = (y[test] == seen[0]).astype(np.float64)
        else:
            clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
            clf.fit(X_fit, y_fit)
            p[test] = _given_label_proba(clf.predict_proba(X[test]), clf.classes_, y[test])
    return p


def _agreement_features(model, X):
    """Return the 2-D features of the agreement classifiers.

    The inputs, or for images the fitted deep model's features F(x) (a
    linear model on pixels learns little).
    """
    if X.ndim == 2:
        return np.asarray(X, dtype=np.float64)
    return np.asarray(model.transform(X), dtype=np.float64)


def _label_agreement(model, Xs, ys, Xt_l, yt_l, random_state):
    """Return each source row's label agreement (see audit_source's Notes)."""
    X = _agreement_features(model, check_array(Xs, allow_nd=True, input_name="Xs"))
    extra = None
    if Xt_l is not None:
        extra = (_agreement_features(model, Xt_l), yt_l)
    _, counts = np.unique(ys, return_counts=True)
    n_splits = min(_AGREEMENT_FOLDS, max(2, int(counts.min())))
    with warnings.catch_warnings():
        # a class smaller than the folds, a solver stopped at max_iter: the
        # score is an order of rows, and these change it little
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        if len(ys) < 2:
            splits = [(np.array([], dtype=np.int64), np.arange(len(ys)))]
        else:
            folds = StratifiedKFold(n_splits, shuffle=True, random_state=random_state)
            splits = list(folds.split(X, ys))
        # first pass: the plain source classifier, out of fold
        first = _out_of_fold_proba(X, ys, splits)
        # second pass: refitted on the half of each training fold the first
        # pass agrees with most, plus the labeled target rows (clean labels)
        keep = first >= np.median(first)
        return _out_of_fold_proba(X, ys, splits, keep=keep, extra=extra)


def _check_labeled_target(Xs, ys, Xt_l, yt_l):
    """Return the labeled target rows as finite numeric arrays, or ``(None, None)``."""
    Xt_l, yt_l = _as_array(Xt_l, "Xt_l"), _as_array(yt_l, "yt_l")
    _check_labeled_part(Xs, ys, Xt_l, yt_l)  # as pack does, without copying the source
    if Xt_l is None or len(Xt_l) == 0:
        return None, None
    return check_array(Xt_l, allow_nd=True, input_name="Xt_l"), yt_l


def _weight_order(discriminator, weight):
    """Return the key of ``order="weight"``.

    The gate's D, which orders the rows as ω does without ω's clamp, or the
    weight when there is no discriminator (KMM).
    """
    return discriminator if np.isfinite(discriminator).all() else weight


# ------------------------------------------------------------------ the audit


@validate_params(
    {
        "estimator": [HasMethods(["fit"])],
        "Xs": ["array-like"],
        "ys": ["array-like"],
        "Xt_l": ["array-like", None],
        "yt_l": ["array-like", None],
        "Xt_u": ["array-like", None],
        "fraction": [Interval(Real, 0, 1, closed="both")],
        "refit": [StrOptions({"auto"}), "boolean"],
        "order": [StrOptions({"agreement", "weight"})],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=False,
)
def audit_source(
    estimator,
    Xs,
    ys,
    Xt_l=None,
    yt_l=None,
    Xt_u=None,
    *,
    fraction=0.1,
    refit="auto",
    order="agreement",
    random_state=None,
):
    """Tabulate which source rows a transfer method distrusts, and which look mislabeled.

    Methods that re-weight the source learn one weight per source row: the
    discriminator gate of skntl's deep methods (``gate=True``) learns
    ω = D/(1−D) from a discriminator that tells target pairs (input, label)
    from source pairs, and :class:`~skntl.KMM` learns weights that match the
    source's input distribution to the target's. A row with a low weight is
    one the method distrusts. This function fits the method (or takes it
    fitted), reads the weights and returns them as a table, one row per
    source row. Next to them it puts each row's *label agreement*: the
    probability of the row's own label under a classifier that did not see
    the row. The rows are ranked (1 = most suspicious) by the agreement or
    by the weight (``order``), and the lowest ``fraction`` are flagged as
    suspects.

    Read more in the :ref:`User Guide <audit>`.

    Parameters
    ----------
    estimator : estimator object
        A skntl deep estimator with ``gate=True`` (:class:`~skntl.DANN`,
        :class:`~skntl.DAN`, :class:`~skntl.DeepCORAL`, :class:`~skntl.ADDA`,
        :class:`~skntl.PADA`, :class:`~skntl.GTA`) or :class:`~skntl.KMM`,
        fitted or not (see ``refit``). Never modified: when it is fitted
        here, a clone is.
    Xs : array-like of shape (n_source, n_features) or (n_source, C, H, W)
        Source inputs. Not modified.
    ys : array-like of shape (n_source,)
        Source labels, as the estimator is (or was) trained with them. Not
        modified.
    Xt_l : array-like of shape (n_labeled, ...), default=None
        Labeled target inputs: used to fit a clone (without them the gate
        can only judge inputs, not labels; see Notes) and by the label
        agreement, whose classifiers take them as rows with trusted labels.
    yt_l : array-like of shape (n_labeled,), default=None
        Labeled target labels.
    Xt_u : array-like of shape (n_unlabeled, ...), default=None
        Unlabeled target inputs, used only when a clone is fitted.
    fraction : float in [0, 1], default=0.1
        Share of the source rows flagged as suspects: the most suspicious
        ones (lowest ``rank``). Rows tied with the last one flagged
        are flagged too, so the share can be larger (KMM often gives many
        rows a weight of exactly 0). 0 flags none.
    refit : "auto" or bool, default="auto"
        ``"auto"``: fit a clone of ``estimator`` with
        ``fit(Xs, ys, Xt_l, yt_l, Xt_u)`` when it is not fitted, and use it
        as it is when it is. ``True``: always fit a clone. ``False``: never
        fit; ``estimator`` must be fitted. A fitted estimator must have been
        fitted on this source; the target parts then serve only the label
        agreement (``Xt_l`` and ``yt_l``).
    order : {"agreement", "weight"}, default="agreement"
        What ``rank`` and ``suspect`` follow. ``"agreement"``: the label
        agreement, lowest first; it finds wrong labels as well as inputs
        that no longer resemble their class (see Notes). ``"weight"``: the
        method's weight, lowest first; the ``agreement`` column is then not
        computed (NaN), which saves its classifiers' fits.
    random_state : int, RandomState instance or None, default=None
        Controls the folds of the label agreement's classifiers (the only
        randomness the audit adds to the estimator's own).

    Returns
    -------
    audit : pandas.DataFrame of shape (n_source, 7)
        Indexed by the position of the row in ``Xs`` (0 to n_source − 1),
        with the columns

        ``label``
            The row's label (``ys``).
        ``weight``
            The method's weight: the gate's ω (before the per-batch
            normalisation of training) or KMM's weight.
        ``relative_weight``
            ``weight`` over its mean over the source rows, so that 1 is an
            average source row whatever the method. The gate divides ω by
            its mean over each source batch in training, so this is about
            the weight the row had in the loss.
        ``discriminator``
            The gate discriminator's probability that the row is target
            data (ω = d/(1−d), clamped); NaN for KMM, which has no
            discriminator.
        ``agreement``
            The probability, in [0, 1], that a classifier which never saw
            the row gives the row's own label (see Notes); low means the
            label does not fit the input. NaN with ``order="weight"``.
        ``rank``
            1 for the most suspicious row, up to n_source. With
            ``order="agreement"``, rows are ordered by ``agreement``. With
            ``order="weight"``, by ``weight``, and for the gate by
            ``discriminator``, which orders them in the same way but is not
            clamped: ω is clamped to about [1e-4, 1e4], and on some tasks
            many rows sit at the clamp. Ties share the lowest rank of the
            tie.
        ``suspect``
            ``rank <= ceil(fraction * n_source)``: the ``fraction`` of the
            rows ranked most suspicious.

        ``audit.attrs`` holds ``"estimator"`` (the estimator's class name),
        ``"fraction"``, ``"order"`` and ``"label_aware"`` (whether the
        weight depends on the row's label, see Notes). Per-class summaries:
        :func:`audit_summary`.

    Raises
    ------
    TypeError
        When ``estimator`` learns no per-row source weight (e.g. a
        scikit-learn classifier or :class:`~skntl.TCA`), or is a class.
    ValueError
        For a deep estimator with ``gate=False``; when a clone must be
        fitted and no target rows are given; when a fitted estimator does
        not match ``Xs`` and ``ys``.
    sklearn.exceptions.NotFittedError
        With ``refit=False`` and an unfitted estimator.

    See Also
    --------
    audit_summary : Counts, mean relative weight and suspects per class.
    plot_source_audit : Histograms of the relative weights.
    skntl.DANN.predict_weights : The gate's weights for any (input, label)
        pairs.

    Notes
    -----
    **The label agreement.** Each row's agreement comes from a standardised
    logistic regression fitted without that row, in two passes over the
    same stratified folds (5, fewer when a class has fewer rows). The first
    pass fits on the other folds' source rows. The second refits on the
    half of those rows that the first pass agreed with most (a noisy source
    teaches a noisy classifier; its most plausible half teaches a cleaner
    one), plus the labeled target rows, whose labels are trusted; its
    probability of the row's label is the agreement. Inputs are the
    feature vectors as given; image inputs are first mapped to the fitted
    deep model's features (:meth:`~skntl.DANN.transform`). The agreement
    does not depend on the transfer method: it is a second opinion next to
    the weight, and the default order because, on the development tasks
    where the choice was made, it found corrupted labels and corrupted
    inputs alike, whereas the weights find corrupted inputs and are close
    to blind to wrong labels (see the User Guide for the measurements).
    It needs enough rows per class for a classifier to learn the classes,
    and it flags a row whose label is right but whose input is atypical of
    its class as readily as a wrong label.

    **Which rows the weights can flag.** The gate's ω is a ratio of joint
    densities of (input, label): fitted with labeled target rows, it can in
    principle flag a clean input with a wrong label (on the study's tasks it
    finds corrupted inputs much better than wrong labels; see the User
    Guide). Fitted without labeled target rows it reads the
    discriminator's marginal output, which sees inputs only, and so do KMM's
    weights, which match input distributions: they flag inputs unlike the
    target's (corrupted, or from a region the target does not cover) but
    cannot tell a wrong label. ``audit.attrs["label_aware"]`` says which
    case applies. Conversely, an input far from every target input may get
    a weight near zero from KMM even when nothing is wrong with it.

    **The suspect rule.** A fixed share of the rows, the most suspicious,
    rather than a threshold on the weight or the agreement: the gate's weights
    are so skewed that a threshold flags most of a *clean* source (on two
    development tasks, three quarters of a clean source's rows had a
    relative weight below 0.5; see the User Guide), whereas the lowest
    ``fraction`` is a list of known length to inspect, in order. The price:
    the flag means "among the most suspicious", not "corrupted"; it is raised
    on a clean source too. Whether the flagged rows stand apart from the
    others is what ``relative_weight`` and :func:`plot_source_audit` show.
    The relative weight is sensitive to a few very large weights, which
    lower every other row's; ``rank`` and ``suspect`` are not.

    For a fitted gated model, the weights are computed on the ``Xs`` and
    ``ys`` passed here (:meth:`~skntl.DANN.predict_weights`), in eval mode;
    for a fitted KMM they are the weights of its fit, which belong to the
    rows it was fitted on, in the same order (only their number, the
    features and the classes can be checked).

    Examples
    --------
    Half of the source labels redrawn at random (a third of the rows end up
    with a wrong label):

    >>> from skntl import DANN, KMM
    >>> from skntl.audit import audit_source
    >>> from skntl.datasets import make_transfer_blobs
    >>> from skntl.perturbation import perturb_source
    >>> Xs, ys, Xt, yt = make_transfer_blobs(300, 200, n_features=5, marginal_shift=1.0,
    ...                                      random_state=0)
    >>> _, ys_noisy, _, _ = perturb_source(Xs, ys, eps_y=0.5, random_state=0)
    >>> wrong = ys_noisy != ys
    >>> gate = DANN(gate=True, hidden_layer_sizes=(16,), max_epochs=20, random_state=0)
    >>> audit = audit_source(gate, Xs, ys_noisy, Xt[:60], yt[:60], Xt, random_state=0)
    >>> list(audit.columns)
    ['label', 'weight', 'relative_weight', 'discriminator', 'agreement', 'rank', 'suspect']
    >>> int(audit["suspect"].sum())  # the 10% of the rows whose label agrees least
    30
    >>> float(wrong[audit["suspect"]].mean())  # all of them have a wrong label
    1.0
    >>> mean = audit.groupby(wrong)["relative_weight"].mean()
    >>> bool(mean[True] < 0.5 < mean[False])  # the gate distrusts them too
    True

    KMM weighs inputs only:

    >>> audit = audit_source(KMM(), Xs, ys_noisy, Xt_u=Xt)
    >>> audit.attrs["label_aware"], bool(audit["discriminator"].isna().all())
    (False, True)
    """
    _check_estimator_instance(estimator, "estimator")
    kind = _weight_kind(estimator)
    Xs_array = _as_array(Xs, "Xs")
    ys_array = column_or_1d(_as_array(ys, "ys"))
    if len(Xs_array) == 0:
        raise ValueError("Xs has no rows; audit_source needs at least one source row.")
    if len(ys_array) != len(Xs_array):
        raise ValueError(
            f"ys has {len(ys_array)} entries but Xs has {len(Xs_array)} rows; they must "
            "have the same length."
        )
    if order == "agreement":
        _check_column_names(Xs, {"Xt_l": Xt_l})
        Xt_l_array, yt_l_array = _check_labeled_target(Xs_array, ys_array, Xt_l, yt_l)

    fitted = _is_fitted(estimator)
    name = type(estimator).__name__
    if refit is False and not fitted:
        raise NotFittedError(
            f"refit=False needs a fitted estimator, but this {name} is not fitted; fit it "
            "on the source first, or use refit='auto' to let audit_source fit a clone."
        )
    if refit is True or not fitted:
        if Xt_l is None and Xt_u is None:
            raise ValueError(
                f"audit_source must fit a clone of estimator={name} here and needs target "
                "rows to do so: pass Xt_l and yt_l (labeled target rows, which let the "
                "gate judge labels) and/or Xt_u, or pass an estimator fitted on this source."
            )
        model = clone(estimator).fit(Xs, ys, Xt_l, yt_l, Xt_u)
    else:
        model = estimator
        _check_fitted_on(model, kind, Xs_array, ys_array)

    weight, discriminator, label_aware = _source_weights(model, kind, Xs, ys)
    mean = float(weight.mean())
    if not np.isfinite(mean) or mean <= 0:
        raise ValueError(
            f"the source weights of estimator={name} average to {mean}; relative weights "
            "need a positive, finite mean."
        )
    relative = weight / mean
    if order == "agreement":
        agreement = _label_agreement(
            model, Xs_array, ys_array, Xt_l_array, yt_l_array, random_state
        )
        key = agreement
    else:
        agreement = np.full(len(weight), np.nan)
        key = _weight_order(discriminator, weight)
    rank = rankdata(key, method="min").astype(np.int64)
    n_suspect = int(np.ceil(fraction * len(rank) - 1e-9))
    audit = pd.DataFrame(
        {
            "label": np.array(ys_array, copy=True),
            "weight": weight,
            "relative_weight": relative,
            "discriminator": discriminator,
            "agreement": agreement,
            "rank": rank,
            "suspect": rank <= n_suspect,
        }
    )
    audit.attrs.update(
        estimator=type(model).__name__,
        fraction=float(fraction),
        order=order,
        label_aware=label_aware,
    )
    return audit


# ------------------------------------------------------------------ summaries


def _check_audit(audit, name="audit"):
    """Raise unless ``audit`` looks like a frame returned by :func:`audit_source`."""
    if not isinstance(audit, pd.DataFrame):
        raise TypeError(
            f"{name} must be the pandas DataFrame returned by audit_source, got "
            f"{type(audit).__name__}."
        )
    missing = [c for c in COLUMNS if c not in audit.columns]
    if missing:
        raise ValueError(
            f"{name} lacks the columns {missing} of audit_source's result; pass the "
            "DataFrame audit_source returned (filtering its rows is fine)."
        )
    if len(audit) == 0:
        raise ValueError(f"{name} has no rows.")
    relative = audit["relative_weight"].to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(relative)):
        raise ValueError(f"{name}['relative_weight'] holds non-finite values.")
    return relative


def _check_mask(mask, n_rows):
    mask = _as_array(mask, "mask")
    if mask.dtype != bool:
        raise ValueError(
            f"mask must be a boolean array (True for a perturbed source row, e.g. "
            f"x_mask | y_mask from perturb_source), got dtype {mask.dtype}."
        )
    if mask.shape != (n_rows,):
        raise ValueError(
            f"mask must have one entry per row of audit, shape ({n_rows},), got shape {mask.shape}."
        )
    return mask


@validate_params(
    {"audit": "no_validation", "by": [str, "array-like"]},
    prefer_skip_nested_validation=True,
)
def audit_summary(audit, by="label"):
    """Summarise a source audit per class, or per any other grouping of its rows.

    Read more in the :ref:`User Guide <audit>`.

    Parameters
    ----------
    audit : pandas.DataFrame
        A frame returned by :func:`audit_source` (or a subset of its rows).
    by : str or array-like of shape (n_rows,), default="label"
        A column of ``audit`` to group by, or one group key per row, e.g. a
        boolean mask of the perturbed rows.

    Returns
    -------
    summary : pandas.DataFrame
        One row per group, sorted by group, with the columns ``count``,
        ``mean_weight``, ``mean_relative_weight``,
        ``median_relative_weight``, ``mean_agreement`` (NaN for an audit
        ranked by weight), ``n_suspect`` and ``suspect_fraction``. A class
        whose mean relative weight is well below 1 is one the method
        distrusts as a whole (e.g. a source class the target lacks, or one
        whose labels disagree with the target's); a class of low mean
        agreement is one whose labels its inputs do not explain (e.g. two
        classes whose labels were swapped).

    See Also
    --------
    audit_source : The audit itself.

    Examples
    --------
    >>> import numpy as np
    >>> from skntl import KMM
    >>> from skntl.audit import audit_source, audit_summary
    >>> rng = np.random.RandomState(0)
    >>> Xs, Xt = rng.randn(200, 2), 0.5 * rng.randn(100, 2) + [1.0, 0.0]
    >>> ys = (Xs[:, 0] > 0).astype(int)  # the target lies on the side of class 1
    >>> audit = audit_source(KMM(random_state=0), Xs, ys, Xt_u=Xt)
    >>> audit_summary(audit)[["count", "mean_relative_weight"]].round(1)
    ... # doctest: +NORMALIZE_WHITESPACE
           count  mean_relative_weight
    label
    0        112                   0.1
    1         88                   2.1
    """
    _check_audit(audit)
    if isinstance(by, str):
        if by not in audit.columns:
            raise ValueError(
                f"by={by!r} is not a column of audit; use one of {list(audit.columns)} or "
                "pass one group key per row."
            )
        key = audit[by]
    else:
        key = _as_array(by, "by")
        if key.shape != (len(audit),):
            raise ValueError(
                f"by must be a column name or have one entry per row of audit, shape "
                f"({len(audit)},), got shape {key.shape}."
            )
        key = pd.Series(key, index=audit.index, name="group")
    groups = audit.groupby(key, sort=True)
    suspect = groups["suspect"]
    return pd.DataFrame(
        {
            "count": groups.size(),
            "mean_weight": groups["weight"].mean(),
            "mean_relative_weight": groups["relative_weight"].mean(),
            "median_relative_weight": groups["relative_weight"].median(),
            "mean_agreement": groups["agreement"].mean(),
            "n_suspect": suspect.sum().astype(np.int64),
            "suspect_fraction": suspect.mean(),
        }
    )


# ------------------------------------------------------------------ the plot


def _pyplot():
    import matplotlib.pyplot as plt  # imported on first use: the package imports no plotting

    return plt


def _class_colors(plt, n_classes):
    cmap = plt.get_cmap("tab10" if n_classes <= 10 else "tab20")
    return [cmap(i) for i in range(n_classes)]


#: Up to this many classes the first panel stacks one histogram per class.
_MAX_CLASSES_SPLIT = 20


@validate_params(
    {
        "audit": "no_validation",
        "mask": ["array-like", None],
        "ax": "no_validation",
        "bins": [Interval(Integral, 1, None, closed="left")],
        "log": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def plot_source_audit(audit, *, mask=None, ax=None, bins=30, log=True):
    """Plot the relative source weights of an audit, by class and by perturbation.

    The first panel is a histogram of the relative weights stacked by class
    (one colour per class up to 20 classes, one grey histogram beyond), with
    the largest relative weight among the suspects as a dashed line. With ``mask``, a second panel
    overlays the histograms of the clean and the perturbed rows and gives the
    ROC AUC with which a low weight finds the perturbed rows (and a low label
    agreement, when the audit has one).

    Read more in the :ref:`User Guide <audit>`.

    Parameters
    ----------
    audit : pandas.DataFrame
        A frame returned by :func:`audit_source` (or a subset of its rows).
    mask : array-like of bool of shape (n_rows,), default=None
        True for the rows known to be perturbed, in the order of ``audit``'s
        rows, e.g. ``x_mask | y_mask`` from
        :func:`~skntl.perturbation.perturb_source`.
    ax : matplotlib Axes or sequence of Axes, default=None
        Where to draw: one Axes without ``mask``, two with it. None creates
        a new figure.
    bins : int, default=30
        Number of bins of each histogram.
    log : bool, default=True
        Bins of equal width on a log scale, from the smallest positive
        relative weight to the largest: the gate's weights span orders of
        magnitude. Rows of weight 0 (KMM's) are counted in the first bin.
        False: bins of equal width from 0 to about the 99th percentile,
        larger weights counted in the last bin.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure drawn on.

    See Also
    --------
    audit_source : The audit itself.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skntl import KMM
    >>> from skntl.audit import audit_source, plot_source_audit
    >>> rng = np.random.RandomState(0)
    >>> Xs, Xt = rng.randn(200, 2), 0.5 * rng.randn(100, 2) + [1.0, 0.0]
    >>> ys = (Xs[:, 0] > 0).astype(int)
    >>> audit = audit_source(KMM(random_state=0), Xs, ys, Xt_u=Xt)
    >>> fig = plot_source_audit(audit, mask=Xs[:, 0] < -1)
    >>> len(fig.axes)
    2
    """
    relative = _check_audit(audit)
    n_panels = 1 if mask is None else 2
    if mask is not None:
        mask = _check_mask(mask, len(audit))
    plt = _pyplot()
    if ax is None:
        fig, axes = plt.subplots(
            1, n_panels, figsize=(5.5 * n_panels, 3.8), constrained_layout=True, squeeze=False
        )
        axes = list(axes[0])
    else:
        axes = list(np.ravel(np.asarray(ax, dtype=object)))
        if len(axes) != n_panels or not all(hasattr(a, "hist") for a in axes):
            raise ValueError(
                f"ax must be {'one matplotlib Axes' if n_panels == 1 else 'two matplotlib Axes'}"
                f" ({'with' if mask is not None else 'without'} mask), got {ax!r}."
            )
        fig = axes[0].figure

    xlabel = "relative weight (weight / mean source weight)"
    if log:
        positive = relative[relative > 0]
        low, top = float(positive.min()), float(positive.max())
        if top <= low * 1.01:  # one value: a window around it
            low, top = low / 2, top * 2
        edges = np.geomspace(low, top, bins + 1)
        n_zero = int(np.sum(relative == 0))
        if n_zero:
            xlabel += f"\n{n_zero} rows of weight 0 counted in the first bin"
    else:
        low, top = 0.0, max(float(np.quantile(relative, 0.99)), 1.0) * 1.1
        edges = np.linspace(low, top, bins + 1)
        if np.any(relative > top):
            xlabel += f"\nrows above {top:.3g} counted in the last bin"
    clipped = np.clip(relative, low, top)
    suspect = audit["suspect"].to_numpy(dtype=bool)
    cutoff = float(relative[suspect].max()) if 0 < suspect.sum() < len(suspect) else None
    estimator = audit.attrs.get("estimator", "")

    # panel 1: by class
    labels = audit["label"].to_numpy()
    classes = np.unique(labels)
    first = axes[0]
    if len(classes) <= _MAX_CLASSES_SPLIT:
        first.hist(
            [clipped[labels == c] for c in classes],
            bins=edges,
            stacked=True,
            color=_class_colors(plt, len(classes)),
            label=[str(c) for c in classes],
        )
        legend_title = "label"
    else:
        first.hist(clipped, bins=edges, color="0.5", label=f"all {len(classes)} classes")
        legend_title = None
    n_suspect = int(suspect.sum())
    first.set_title(f"{estimator} source weights: {n_suspect} of {len(audit)} rows suspect".strip())
    panels = [(first, legend_title)]

    # panel 2: clean vs perturbed
    if mask is not None:
        second = axes[1]
        for rows, color, what in ((~mask, "tab:blue", "clean"), (mask, "tab:red", "perturbed")):
            second.hist(
                clipped[rows],
                bins=edges,
                color=color,
                alpha=0.5,
                histtype="stepfilled",
                label=f"{what} ({int(rows.sum())})",
            )
        title = "perturbed vs clean rows"
        if 0 < mask.sum() < len(mask):
            from sklearn.metrics import roc_auc_score

            order = _weight_order(
                audit["discriminator"].to_numpy(dtype=np.float64),
                audit["weight"].to_numpy(dtype=np.float64),
            )
            aucs = f"weight {roc_auc_score(mask, -order):.2f}"
            agreement = audit["agreement"].to_numpy(dtype=np.float64)
            if np.isfinite(agreement).all():
                aucs += f", agreement {roc_auc_score(mask, -agreement):.2f}"
            title += f"\nAUC: {aucs}"
        second.set_title(title)
        panels.append((second, None))

    for panel, legend_title in panels:
        if cutoff is not None:
            panel.axvline(
                min(max(cutoff, low), top),
                color="black",
                linestyle="--",
                linewidth=1,
                label=f"suspects: up to {cutoff:.2g}",
            )
        panel.set_xlabel(xlabel)
        panel.set_ylabel("source rows")
        if log:
            panel.set_xscale("log")
        panel.set_xlim(low, top)
        n_entries = len(panel.get_legend_handles_labels()[0])
        # the class legend beside the panel, where it hides no bar
        where = {"loc": "upper left", "bbox_to_anchor": (1.0, 1.0)} if panel is first else {}
        panel.legend(
            title=legend_title,
            fontsize=7,
            title_fontsize=7,
            ncol=1 if n_entries <= 12 else 2,
            **where,
        )
    return fig
