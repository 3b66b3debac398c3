"""Measuring negative transfer: the negative transfer gap (NTG) and ``should_transfer``.

The negative transfer gap of an algorithm ``A`` (:ref:`the paper's eq. (4)
<method-ntg>`) compares it with its own target-only twin ``A(∅, T)``
(:ref:`method-twin`):

    NTG = acc(A(∅, T)) − acc(A(S, T))      (accuracy points in [0, 1])

so a positive NTG means the source hurt (negative transfer) and a negative
NTG means it helped.

* :func:`negative_transfer_gap` fits both models and measures NTG on a test set.
* :class:`NegativeTransferGap` is a meta-estimator that fits both on the same
  data; with :data:`neg_ntg_scorer` it reports ``-NTG`` per fold inside
  :class:`~sklearn.model_selection.GridSearchCV` or
  :func:`~sklearn.model_selection.cross_validate`.
* :func:`should_transfer` estimates NTG *without* a test set, by
  cross-validation over the labeled target rows, and recommends whether to
  use the source.
"""

from dataclasses import dataclass, field
from numbers import Integral, Real

import numpy as np
from scipy import stats
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.metrics import accuracy_score
from sklearn.utils import Bunch, check_random_state
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import column_or_1d

from ._data import LABELED_TARGET, UNLABELED_TARGET, _as_array, _check_column_names, pack
from .base import TransferMixin, fit_target_only
from .model_selection import TargetSplit
from .utils._delegation import DelegatingWrapperMixin
from .utils._param_validation import (
    HasMethods,
    Interval,
    StrOptions,
    _fit_context,
    validate_params,
)

__all__ = [
    "NegativeTransferGap",
    "ShouldTransferResult",
    "negative_transfer_gap",
    "neg_ntg_scorer",
    "should_transfer",
]


# ----------------------------------------------------------------- A(S,T), A(∅,T)


def _fit_transfer(estimator, X, y, sample_domain):
    """Fit A(S, T): a clone of ``estimator`` on packed transfer data.

    A skntl estimator (a :class:`~skntl.base.TransferMixin`) gets the packed
    data with its ``sample_domain``; any other classifier is fitted on the
    source and labeled-target rows (unlabeled rows carry no label).
    """
    model = clone(estimator)
    if isinstance(estimator, TransferMixin):
        return model.fit(X, y, sample_domain=sample_domain)
    labeled = sample_domain != UNLABELED_TARGET
    return model.fit(X[labeled], y[labeled])


class NegativeTransferGap(
    TransferMixin, DelegatingWrapperMixin, ClassifierMixin, MetaEstimatorMixin, BaseEstimator
):
    """Fit a transfer model and its target-only twin on the same data.

    ``fit`` trains the transfer model A(S, T) (``estimator_``) and the
    target-only twin A(∅, T) (``target_only_estimator_``): the same
    algorithm with the labeled target as its only labeled data
    (:ref:`decision D16 <decision-d16>`), or a chance-level model when there
    is no labeled target (:ref:`decision D17 <decision-d17>`). For a plain
    scikit-learn classifier A(S, T) is fitted on source ∪ labeled target and
    A(∅, T) on the labeled target.

    ``predict`` and ``score`` are the transfer model's, so the default score
    in a grid search is its accuracy; :meth:`gap` and :data:`neg_ntg_scorer`
    give the negative transfer gap
    ``NTG = acc(A(∅, T)) − acc(A(S, T))`` on held-out data.

    Read more in the :ref:`User Guide <measuring>`.

    Parameters
    ----------
    estimator : estimator object
        A skntl estimator or a scikit-learn classifier. Cloned, never modified.

    Attributes
    ----------
    estimator_ : estimator
        The fitted transfer model A(S, T).
    target_only_estimator_ : estimator
        The fitted target-only twin A(∅, T); a
        :class:`~sklearn.dummy.DummyClassifier` when the labeled target is
        empty (chance) or holds a single class (that class).
    classes_ : ndarray of shape (n_classes,)
        Class labels of ``estimator_``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    negative_transfer_gap : Fit both models and measure NTG on a test set.
    neg_ntg_scorer : ``-NTG`` as a scorer (greater is better).
    should_transfer : Estimate NTG by cross-validation over the labeled target.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skntl.metrics import NegativeTransferGap
    >>> rng = np.random.RandomState(0)
    >>> Xs, Xt = rng.randn(300, 2), rng.randn(100, 2)
    >>> ys, yt = (Xs[:, 0] < 0).astype(int), (Xt[:, 0] > 0).astype(int)  # swapped classes
    >>> model = NegativeTransferGap(LogisticRegression()).fit(Xs, ys, Xt[:50], yt[:50])
    >>> model.gap(Xt[50:], yt[50:]) > 0  # the source hurts: negative transfer
    True
    """

    _parameter_constraints: dict = {"estimator": [HasMethods(["fit", "predict"])]}

    def __init__(self, estimator):
        self.estimator = estimator

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None, Xt_l=None, yt_l=None, Xt_u=None, *, sample_domain=None):
        """Fit the transfer model and its target-only twin.

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
        self : NegativeTransferGap
            The fitted estimator.
        """
        X, y, sd = self._validate_wrapper_data(X, y, Xt_l, yt_l, Xt_u, sample_domain)
        estimator_ = _fit_transfer(self.estimator, X, y, sd)
        target_only_estimator_ = fit_target_only(self.estimator, X, y, sample_domain=sd)
        self.estimator_ = estimator_
        self.target_only_estimator_ = target_only_estimator_
        self.classes_ = estimator_.classes_
        return self

    def gap(self, X, y, sample_weight=None):
        """Negative transfer gap on ``(X, y)``: ``acc(A(∅, T)) − acc(A(S, T))``.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Held-out target inputs.
        y : array-like of shape (n_samples,)
            Their labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the accuracies.

        Returns
        -------
        ntg : float
            In accuracy points of [-1, 1]; positive means negative transfer.
        """
        X = self._delegate_input(X)
        y = column_or_1d(_as_array(y, "y"))
        acc = accuracy_score(y, self.estimator_.predict(X), sample_weight=sample_weight)
        acc_t = accuracy_score(
            y, self.target_only_estimator_.predict(X), sample_weight=sample_weight
        )
        return float(acc_t - acc)


class _NegNTGScorer:
    """Scorer returning ``-NTG`` of a fitted :class:`NegativeTransferGap`."""

    def __call__(self, estimator, X, y, sample_weight=None):
        if not hasattr(estimator, "gap"):
            raise TypeError(
                "neg_ntg_scorer scores a fitted NegativeTransferGap, got "
                f"{type(estimator).__name__}; wrap the estimator: "
                "NegativeTransferGap(estimator) (grid keys become estimator__<param>)."
            )
        return -estimator.gap(X, y, sample_weight=sample_weight)

    def _accept_sample_weight(self):
        # read by scikit-learn's multi-metric scoring without metadata routing
        return True

    def __repr__(self):
        return "neg_ntg_scorer"

    def __reduce__(self):
        return "neg_ntg_scorer"  # pickles as the module-level singleton


neg_ntg_scorer = _NegNTGScorer()
neg_ntg_scorer.__doc__ = """Scorer: minus the negative transfer gap, ``acc(A(S,T)) − acc(A(∅,T))``.

Follows scikit-learn's rule that greater is better (like
``"neg_mean_squared_error"``): a value > 0 means the source helped, < 0 means
negative transfer. The estimator must be a :class:`NegativeTransferGap`, e.g.
``GridSearchCV(NegativeTransferGap(TCA()), {"estimator__mu": [0.1, 1]},
scoring={"accuracy": "accuracy", "neg_ntg": neg_ntg_scorer}, refit="accuracy",
cv=TargetSplit())``; then ``NTG = -cv_results_["mean_test_neg_ntg"]``.
"""


# ----------------------------------------------------------------- measuring NTG


def negative_transfer_gap(estimator, Xs, ys, Xt_l, yt_l, Xt_u, X_test, y_test):
    """Fit A(S, T) and A(∅, T) and measure the negative transfer gap on a test set.

    ``NTG = acc(A(∅, T)) − acc(A(S, T))`` (:ref:`the paper's eq. (4)
    <method-ntg-empirical>`, with accuracies), in accuracy points of
    [-1, 1]: positive means the source hurt (negative transfer). A skntl
    estimator is fitted as ``fit(Xs, ys, Xt_l, yt_l, Xt_u)`` and its twin as
    ``fit(Xt_l, yt_l, Xt_u=Xt_u)``; a plain scikit-learn classifier on source
    ∪ labeled target and on the labeled target. Without labeled target rows
    the twin is chance (:ref:`decision D17 <decision-d17>`).

    Parameters
    ----------
    estimator : estimator object
        A skntl estimator or a scikit-learn classifier. Cloned, never modified.
    Xs : array-like of shape (n_source, ...)
        Source inputs.
    ys : array-like of shape (n_source,)
        Source labels.
    Xt_l : array-like of shape (n_labeled, ...) or None
        Labeled target inputs (None or zero rows for L% = 0).
    yt_l : array-like of shape (n_labeled,) or None
        Labeled target labels.
    Xt_u : array-like of shape (n_unlabeled, ...) or None
        Unlabeled target inputs.
    X_test : array-like of shape (n_test, ...)
        Held-out target inputs (e.g. the test half of :func:`skntl.split_target`).
    y_test : array-like of shape (n_test,)
        Their labels.

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch`
        With keys ``ntg`` (float), ``transfer_accuracy`` (acc of A(S, T)),
        ``target_only_accuracy`` (acc of A(∅, T)) and ``estimator`` (the
        fitted :class:`NegativeTransferGap`).

    See Also
    --------
    NegativeTransferGap : The meta-estimator behind this function.
    should_transfer : Estimate NTG without a test set.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skntl.metrics import negative_transfer_gap
    >>> rng = np.random.RandomState(0)
    >>> Xs = rng.randn(300, 2)
    >>> ys = (Xs[:, 0] > 0).astype(int)  # a source that agrees with the target
    >>> Xt = rng.randn(200, 2)
    >>> yt = (Xt[:, 0] > 0).astype(int)
    >>> res = negative_transfer_gap(
    ...     LogisticRegression(), Xs, ys, Xt[:4], yt[:4], Xt[:100], Xt[100:], yt[100:])
    >>> res.ntg <= 0  # with 4 target labels, the source helps
    True
    """
    _check_column_names(Xs, {"X_test": X_test})
    Xs, X_test = _as_array(Xs, "Xs"), _as_array(X_test, "X_test")
    y_test = None if y_test is None else column_or_1d(_as_array(y_test, "y_test"))
    if Xs is None or X_test is None or y_test is None:
        raise ValueError("Xs, X_test and y_test are required.")
    if X_test.ndim < 2 or X_test.shape[1:] != Xs.shape[1:]:
        raise ValueError(
            f"X_test has rows of shape {X_test.shape[1:]} but Xs has rows of shape "
            f"{Xs.shape[1:]}; the test set must have the source's features."
        )
    if len(X_test) != len(y_test):
        raise ValueError(f"y_test has {len(y_test)} entries but X_test has {len(X_test)} rows.")
    if len(X_test) == 0:
        raise ValueError("X_test is empty; NTG needs at least one test row.")
    model = NegativeTransferGap(estimator).fit(Xs, ys, Xt_l, yt_l, Xt_u)
    acc = accuracy_score(y_test, model.estimator_.predict(X_test))
    acc_t = accuracy_score(y_test, model.target_only_estimator_.predict(X_test))
    return Bunch(
        ntg=float(acc_t - acc),
        transfer_accuracy=float(acc),
        target_only_accuracy=float(acc_t),
        estimator=model,
    )


# ----------------------------------------------------------------- should_transfer


@dataclass(frozen=True, eq=False)
class ShouldTransferResult:
    """What :func:`should_transfer` found.

    Attributes
    ----------
    recommendation : {"transfer", "target only", "undecided"}
        "transfer" when the whole interval is below 0 (the source helps),
        "target only" when it is above 0 (negative transfer), else "undecided".
    ntg : float
        Estimated NTG: the mean of the per-fold NTGs (carried to all the
        labels with ``correction="learning_curve"``), in accuracy points.
    ci : tuple of float
        ``(low, high)`` confidence interval of NTG.
    confidence : float
        Its confidence level.
    transfer_accuracy : float
        Mean cross-validated accuracy of A(S, T) (fitted on the folds'
        training rows).
    target_only_accuracy : float
        Mean cross-validated accuracy of A(∅, T).
    folds : dict of ndarray
        Per fold: ``repeat``, ``fold``, ``n_test``, ``n_train_labeled``,
        ``transfer_accuracy``, ``target_only_accuracy`` and ``ntg`` (the
        value the estimate averages). With ``correction="learning_curve"``
        also ``n_train_labeled_half``, ``transfer_accuracy_half``,
        ``target_only_accuracy_half``, ``ntg_half`` (the half-size fits) and
        ``ntg_train`` (the NTG before it is carried to all the labels).
        ``pandas.DataFrame(result.folds)`` gives a table.
    row_ntg : ndarray of shape (n_labeled,)
        Per labeled target row (in the order of ``Xt_l``), its held-out NTG
        averaged over the repeats: ``right(A(∅, T)) − right(A(S, T))`` in
        [-1, 1], i.e. where the source helped (< 0) or hurt (> 0).
    """

    recommendation: str
    ntg: float
    ci: tuple
    confidence: float
    transfer_accuracy: float
    target_only_accuracy: float
    folds: dict = field(repr=False)
    row_ntg: np.ndarray = field(repr=False)


def _row_ids(X):
    """Integer id per row, equal for byte-identical rows."""
    rows = np.ascontiguousarray(X.reshape(len(X), -1))
    if rows.shape[1] == 0:
        return np.zeros(len(X), dtype=np.intp)
    if rows.dtype.hasobject:
        # references have no byte view: key the rows by their values
        ids = {}
        try:
            return np.array([ids.setdefault(tuple(r), len(ids)) for r in rows], dtype=np.intp)
        except TypeError:  # unhashable entries: every row is its own
            return np.arange(len(X), dtype=np.intp)
    keys = rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1])))[:, 0]
    return np.unique(keys, return_inverse=True)[1].ravel()


def _fold_scores(estimator, X, y, sd, train, test):
    """Per held-out row: is A(S, T) right, is A(∅, T) right."""
    model = NegativeTransferGap(estimator).fit(X[train], y[train], sample_domain=sd[train])
    right = model.estimator_.predict(X[test]) == y[test]
    right_t = model.target_only_estimator_.predict(X[test]) == y[test]
    return right, right_t


def _ntg_interval(d, n_test, n_train, confidence):
    """Mean of the per-fold NTGs ``d`` and its Nadeau-Bengio corrected t-interval."""
    J = len(d)
    ratio = np.mean(n_test) / max(np.mean(n_train), 1.0)
    # floor: an accuracy on n_test rows varies by up to 1 / (4 n_test)
    s2 = max(float(np.var(d, ddof=1)), 1.0 / (4.0 * np.mean(n_test)))
    mean, var = float(np.mean(d)), (1.0 / J + ratio) * s2
    half = float(stats.t.ppf(0.5 + confidence / 2, J - 1) * np.sqrt(var))
    return mean, mean - half, mean + half


def _recommend(low, high):
    """"transfer" when the NTG interval lies below 0, "target only" above, else "undecided"."""
    if high < 0:
        return "transfer"
    if low > 0:
        return "target only"
    return "undecided"


def _half_per_class(train, y, sd, rng):
    """``train`` with about half of its labeled target rows: ceil(n_c / 2) per class.

    Every class keeps at least one row, so the smaller fits see every class the
    full ones see.
    """
    labeled = train[sd[train] == LABELED_TARGET]
    keep = [
        rng.choice(rows, size=(len(rows) + 1) // 2, replace=False)
        for rows in (labeled[y[labeled] == c] for c in np.unique(y[labeled]))
    ]
    return np.sort(np.concatenate([train[sd[train] != LABELED_TARGET], *keep]))


def _extrapolate(d_full, d_half, m_full, m_half, n):
    """Per-fold NTG carried from ``m_full`` labels to ``n`` along a log-linear curve.

    ``d(m) = a + b log m`` through the two measured points gives
    ``d(n) = d(m_full) + (d(m_full) - d(m_half)) log(n / m_full) / log(m_full / m_half)``;
    a fold whose two sizes coincide (one row per class) keeps ``d(m_full)``.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.where(m_full > m_half, (d_full - d_half) / np.log(m_full / m_half), 0.0)
    return np.clip(d_full + slope * np.log(n / m_full), -1.0, 1.0)


@validate_params(
    {
        "estimator": [HasMethods(["fit", "predict"])],
        "Xs": ["array-like"],
        "ys": ["array-like"],
        "Xt_l": ["array-like", None],
        "yt_l": ["array-like", None],
        "Xt_u": ["array-like", None],
        "cv": [Interval(Integral, 2, None, closed="left")],
        "n_repeats": [Interval(Integral, 1, None, closed="left")],
        "confidence": [Interval(Real, 0, 1, closed="neither")],
        "correction": [StrOptions({"learning_curve"}), None],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
    },
    prefer_skip_nested_validation=False,
)
def should_transfer(
    estimator,
    Xs,
    ys,
    Xt_l,
    yt_l,
    Xt_u=None,
    *,
    cv=5,
    n_repeats=3,
    confidence=0.9,
    correction=None,
    random_state=None,
    n_jobs=None,
):
    r"""Estimate whether the source helps or hurts, without a target test set.

    Runs ``n_repeats`` times ``cv``-fold cross-validation over the labeled
    target rows (:class:`~skntl.model_selection.TargetSplit`): in each fold,
    A(S, T) and its target-only twin A(∅, T) are fitted on the source, the
    other labeled target rows and the unlabeled target, and both are scored
    on the held-out labeled rows. A held-out row is also removed from
    ``Xt_u`` when it appears there (as with :func:`skntl.split_target`,
    whose ``Xt_u`` contains the labeled inputs), so test inputs are never
    seen in training.

    The per-fold NTGs ``d_j`` (``J = cv * n_repeats`` of them) give the
    estimate ``mean(d)`` and a t-interval with the Nadeau-Bengio correction
    for overlapping training sets,

    .. math:: \bar d \pm t_{J-1,\,(1+c)/2}
              \sqrt{\Big(\frac{1}{J} + \frac{n_\text{test}}{n_\text{train}}\Big) s_d^2},

    where ``n_test / n_train`` is the ratio of held-out to training labeled
    rows and ``s_d^2`` is at least ``1 / (4 n_test)``, the sampling variance
    of an accuracy measured on ``n_test`` rows when nothing is known about it
    (with very few labels every fold can give the same NTG, e.g. when every
    twin predicts the one labeled class; a zero variance would then claim
    certainty). The recommendation is "transfer" when the interval lies below 0,
    "target only" when it lies above 0, and "undecided" otherwise.

    Inside cross-validation both models see only ``(cv - 1) / cv`` of the
    labels, and a model trained on few labels gains more from extra labels
    than one that also has a source: the plain estimate leans towards
    "transfer". ``correction="learning_curve"`` removes most of that lean:
    each fold is also fitted on about half of its labeled training rows
    (``ceil(n_c / 2)`` per class), and the fold's NTG is carried along the
    log-linear learning curve through its two points to the full count
    ``n`` of labeled rows,

    .. math:: d_j(n) = d_j(m) + \big(d_j(m) - d_j(m')\big)
              \frac{\log(n / m)}{\log(m / m')},

    with ``m`` and ``m'`` the fold's two label counts. The interval is built
    on the carried values, so the extrapolation's own noise widens it. It
    doubles the cost. With very few labels (e.g. < 3 per class) the interval
    is wide and "undecided" is the honest answer.

    Parameters
    ----------
    estimator : estimator object
        A skntl estimator or a scikit-learn classifier. Cloned, never modified.
    Xs : array-like of shape (n_source, ...)
        Source inputs.
    ys : array-like of shape (n_source,)
        Source labels.
    Xt_l : array-like of shape (n_labeled, ...)
        Labeled target inputs; at least ``cv`` rows.
    yt_l : array-like of shape (n_labeled,)
        Labeled target labels.
    Xt_u : array-like of shape (n_unlabeled, ...), default=None
        Unlabeled target inputs.
    cv : int, default=5
        Number of folds over the labeled target rows.
    n_repeats : int, default=3
        Number of repetitions of the cross-validation with reshuffled folds.
    confidence : float in (0, 1), default=0.9
        Confidence level of the interval.
    correction : {"learning_curve"} or None, default=None
        None estimates NTG at ``(cv - 1) / cv`` of the labels;
        ``"learning_curve"`` carries each fold's NTG to all the labels (see
        above) at twice the cost.
    random_state : int, RandomState instance or None, default=None
        Controls the folds and the half-size subsets (the estimator keeps its
        own ``random_state``).
    n_jobs : int, default=None
        Number of fits run in parallel (joblib); None means 1.

    Returns
    -------
    result : ShouldTransferResult
        The recommendation, the estimated NTG, its interval and the per-fold
        numbers.

    See Also
    --------
    negative_transfer_gap : The NTG on a labeled test set.

    References
    ----------
    .. [1] C. Nadeau and Y. Bengio, "Inference for the Generalization Error",
       Machine Learning 52(3), 2003.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skntl.metrics import should_transfer
    >>> rng = np.random.RandomState(0)
    >>> Xs, Xt = rng.randn(300, 2), rng.randn(60, 2)
    >>> ys, yt = (Xs[:, 0] > 0).astype(int), (Xt[:, 0] > 0).astype(int)
    >>> res = should_transfer(LogisticRegression(), Xs, 1 - ys, Xt, yt, random_state=0)
    >>> res.recommendation  # a source with swapped labels hurts
    'target only'
    """
    if Xt_l is None or yt_l is None:
        raise ValueError(
            "should_transfer needs labeled target rows (Xt_l and yt_l) to cross-validate "
            "over; without target labels the target-only model is chance and transfer "
            "cannot hurt (the target factor of the paper's Sec. 3)."
        )
    X, y, sd = pack(Xs, ys, Xt_l, yt_l, Xt_u)
    n_labeled = int(np.sum(sd == LABELED_TARGET))
    if n_labeled < cv:
        raise ValueError(
            f"should_transfer with cv={cv} needs at least {cv} labeled target rows (Xt_l), "
            f"got {n_labeled}; lower cv or label more target rows."
        )
    rng = check_random_state(random_state)
    ids = _row_ids(X)
    unlabeled = sd == UNLABELED_TARGET
    jobs = []
    for repeat in range(n_repeats):
        splitter = TargetSplit(cv, shuffle=True, random_state=rng.randint(np.iinfo(np.int32).max))
        for fold, (train, test) in enumerate(splitter.split(X, y, groups=sd)):
            # drop the held-out inputs from the unlabeled target too
            seen = unlabeled[train] & np.isin(ids[train], ids[test])
            jobs.append((repeat, fold, train[~seen], test))
    fits = [(train, test) for _, _, train, test in jobs]
    if correction == "learning_curve":
        fits += [(_half_per_class(train, y, sd, rng), test) for train, test in fits]
    scores = Parallel(n_jobs=n_jobs)(
        delayed(_fold_scores)(estimator, X, y, sd, train, test) for train, test in fits
    )
    J = len(jobs)
    acc = np.array([right.mean() for right, _ in scores[:J]])
    acc_t = np.array([right_t.mean() for _, right_t in scores[:J]])
    n_test = np.array([len(test) for *_, test in jobs])
    n_train = np.array([np.sum(sd[train] == LABELED_TARGET) for train, _ in fits])
    d_train = acc_t - acc
    folds = {
        "repeat": np.array([j[0] for j in jobs]),
        "fold": np.array([j[1] for j in jobs]),
        "n_test": n_test,
        "n_train_labeled": n_train[:J],
        "transfer_accuracy": acc,
        "target_only_accuracy": acc_t,
    }
    if correction == "learning_curve":
        d_half = np.array([right_t.mean() - right.mean() for right, right_t in scores[J:]])
        d = _extrapolate(d_train, d_half, n_train[:J], n_train[J:], n_labeled)
        folds.update(
            n_train_labeled_half=n_train[J:],
            transfer_accuracy_half=np.array([right.mean() for right, _ in scores[J:]]),
            target_only_accuracy_half=np.array([right_t.mean() for _, right_t in scores[J:]]),
            ntg_train=d_train,
            ntg_half=d_half,
        )
    else:
        d = d_train
    folds["ntg"] = d
    # per labeled row: NTG of its held-out predictions, averaged over the repeats
    labeled_rows = np.flatnonzero(sd == LABELED_TARGET)
    row_sum = np.zeros(len(X))
    for (_, _, _, test), (right, right_t) in zip(jobs, scores[:J]):
        row_sum[test] += right_t.astype(float) - right
    row_ntg = row_sum[labeled_rows] / n_repeats
    mean, low, high = _ntg_interval(d, n_test, n_train[:J], confidence)
    recommendation = _recommend(low, high)
    return ShouldTransferResult(
        recommendation=recommendation,
        ntg=mean,
        ci=(low, high),
        confidence=float(confidence),
        transfer_accuracy=float(acc.mean()),
        target_only_accuracy=float(acc_t.mean()),
        folds=folds,
        row_ntg=row_ntg,
    )
