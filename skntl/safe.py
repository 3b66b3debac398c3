"""``SafeTransfer``: use the source only where it is estimated not to hurt.

:func:`~skntl.metrics.should_transfer` estimates the negative transfer gap by
cross-validation over the labeled target rows; :class:`SafeTransfer` acts on
that estimate: it refits, on all the data, either the transfer model A(S, T)
or its target-only twin A(∅, T), and predicts with the one it chose.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin
from sklearn.utils import get_tags
from sklearn.utils.metaestimators import available_if

from ._data import LABELED_TARGET, unpack
from .base import TransferMixin, fit_target_only
from .metrics import _fit_transfer, should_transfer
from .utils._delegation import DelegatingWrapperMixin, _delegate_has
from .utils._param_validation import HasMethods, Interval, StrOptions, _fit_context

__all__ = ["SafeTransfer"]

#: ``choice_`` values.
TRANSFER, TARGET_ONLY = "transfer", "target only"


class SafeTransfer(
    TransferMixin, DelegatingWrapperMixin, ClassifierMixin, MetaEstimatorMixin, BaseEstimator
):
    """Transfer when the source is estimated to help, else train on the target alone.

    ``fit`` runs :func:`~skntl.metrics.should_transfer` on the data it is
    given (``cv``-fold cross-validation over the labeled target rows,
    repeated ``n_repeats`` times), then refits on all the data the model the
    estimate favours:

    * the interval of the negative transfer gap lies below 0 → the transfer
      model A(S, T) (``choice_ = "transfer"``);
    * it lies above 0 → the target-only twin A(∅, T), the same algorithm
      with the labeled target as its only labeled data (``"target only"``);
    * it contains 0 → ``fallback`` decides; by default the target-only
      model: the source is used only when the folds show that it helps.

    With fewer labeled target rows than ``cv`` nothing can be
    cross-validated; then the transfer model is used, since a target-only
    model without labels is chance and with a handful of them is rarely
    better (``decision_ = "too few labels"``).

    ``predict``, ``predict_proba``, ``decision_function``, ``transform`` and
    ``score`` are those of the chosen model. The cost is that of one
    ``should_transfer`` (``cv * n_repeats`` fits of each model, twice that
    with the learning-curve correction) plus one final fit; ``n_jobs`` runs
    the cross-validation fits in parallel. The defaults were chosen by
    measurement on development tasks, and checked on other tasks (see the
    User Guide).

    Read more in the :ref:`User Guide <safe_transfer>`.

    Parameters
    ----------
    estimator : estimator object
        A skntl estimator or a scikit-learn classifier. Cloned, never modified.
    confidence : float in (0, 1), default=0.6
        Confidence level of the interval on the negative transfer gap. With
        the default ``fallback``, the transfer model is chosen only when the
        interval lies below 0, so a higher level uses the source less often:
        fewer losses to a harmful source, more missed gains from a useful one.
    cv : int, default=3
        Number of folds over the labeled target rows.
    n_repeats : int, default=1
        Number of repetitions of the cross-validation with reshuffled folds.
    correction : {"learning_curve"} or None, default=None
        None uses the gap measured at ``(cv - 1) / cv`` of the labels.
        Inside cross-validation the target-only model sees fewer labels and
        may gain more from the rest than the transfer model does;
        ``"learning_curve"`` also fits each fold on about half its labels and
        carries the fold's gap to the full count along a log-linear learning
        curve (see :func:`~skntl.metrics.should_transfer`), at twice the cost.
        On our development tasks it did not lower the regret reliably (see
        the User Guide), so it is off by default.
    fallback : {"target only", "transfer", "better_mean"}, default="target only"
        The model used when the interval contains 0: the target-only model,
        the transfer model, or the one with the better cross-validated mean
        (the sign of ``ntg_``, whatever ``confidence``).
    random_state : int, RandomState instance or None, default=None
        Controls the folds and the half-size subsets; the wrapped estimator
        keeps its own ``random_state``.
    n_jobs : int, default=None
        Number of cross-validation fits run in parallel (joblib); None means 1.

    Attributes
    ----------
    estimator_ : estimator
        The chosen model, fitted on all the data.
    choice_ : {"transfer", "target only"}
        Which model ``estimator_`` is.
    decision_ : {"decisive", "fallback", "too few labels"}
        Why: the interval excluded 0, it did not and ``fallback`` chose, or
        there were fewer labeled target rows than ``cv``.
    ntg_ : float
        Estimated negative transfer gap ``acc(A(∅, T)) − acc(A(S, T))`` in
        accuracy points (positive: the source hurts); NaN without an estimate.
    ntg_ci_ : tuple of float
        ``(low, high)`` interval of ``ntg_`` at level ``confidence``; NaNs
        without an estimate.
    cv_result_ : ShouldTransferResult or None
        The full cross-validation result (per-fold numbers), None without one.
    classes_ : ndarray of shape (n_classes,)
        Class labels of ``estimator_``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    skntl.metrics.should_transfer : The estimate without the refit.
    skntl.metrics.NegativeTransferGap : Fit both models, measure the gap on a test set.
    skntl.fit_target_only : The target-only twin.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skntl import SafeTransfer
    >>> rng = np.random.RandomState(0)
    >>> Xs, Xt = rng.randn(300, 2), rng.randn(200, 2)
    >>> ys, yt = (Xs[:, 0] < 0).astype(int), (Xt[:, 0] > 0).astype(int)  # swapped classes
    >>> model = SafeTransfer(LogisticRegression(), random_state=0)
    >>> model = model.fit(Xs, ys, Xt[:40], yt[:40], Xt[:100])
    >>> model.choice_, model.decision_
    ('target only', 'decisive')
    >>> model.score(Xt[100:], yt[100:]) > 0.9
    True
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict"])],
        "confidence": [Interval(Real, 0, 1, closed="neither")],
        "cv": [Interval(Integral, 2, None, closed="left")],
        "n_repeats": [Interval(Integral, 1, None, closed="left")],
        "correction": [StrOptions({"learning_curve"}), None],
        "fallback": [StrOptions({TRANSFER, TARGET_ONLY, "better_mean"})],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        estimator,
        *,
        confidence=0.6,
        cv=3,
        n_repeats=1,
        correction=None,
        fallback=TARGET_ONLY,
        random_state=None,
        n_jobs=None,
    ):
        self.estimator = estimator
        self.confidence = confidence
        self.cv = cv
        self.n_repeats = n_repeats
        self.correction = correction
        self.fallback = fallback
        self.random_state = random_state
        self.n_jobs = n_jobs

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None, Xt_l=None, yt_l=None, Xt_u=None, *, sample_domain=None):
        """Estimate the negative transfer gap, then fit the model it favours.

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
        self : SafeTransfer
            The fitted estimator.
        """
        X, y, sd = self._validate_wrapper_data(X, y, Xt_l, yt_l, Xt_u, sample_domain)
        result = None
        if np.sum(sd == LABELED_TARGET) < self.cv:
            choice, decision = TRANSFER, "too few labels"
        else:
            result = should_transfer(
                self.estimator, *unpack(X, y, sd), cv=self.cv, n_repeats=self.n_repeats,
                confidence=self.confidence, correction=self.correction,
                random_state=self.random_state, n_jobs=self.n_jobs,
            )
            choice, decision = _choose(result.recommendation, result.ntg, self.fallback)
        if choice == TRANSFER:
            model = _fit_transfer(self.estimator, X, y, sd)
        else:
            model = fit_target_only(self.estimator, X, y, sample_domain=sd)
        self.estimator_ = model
        self.choice_ = choice
        self.decision_ = decision
        self.cv_result_ = result
        self.ntg_ = np.nan if result is None else result.ntg
        self.ntg_ci_ = (np.nan, np.nan) if result is None else result.ci
        self.classes_ = model.classes_
        return self

    @available_if(_delegate_has("transform"))
    def transform(self, X):
        """Transform ``X`` with the chosen model.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Inputs.

        Returns
        -------
        X_new : ndarray
            What the chosen model's ``transform`` returns.
        """
        return self._call_delegate("transform", X)

    @available_if(_delegate_has("transform"))
    def fit_transform(self, X, y=None, Xt_l=None, yt_l=None, Xt_u=None, *, sample_domain=None):
        """Fit, then transform the rows of ``X`` (the first argument) with the chosen model.

        Parameters
        ----------
        X, y, Xt_l, yt_l, Xt_u, sample_domain
            As in :meth:`fit`.

        Returns
        -------
        X_new : ndarray
            The chosen model's ``transform`` of ``X``.
        """
        return self.fit(X, y, Xt_l, yt_l, Xt_u, sample_domain=sample_domain).transform(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags = get_tags(self.estimator).transformer_tags
        return tags


def _choose(recommendation, ntg, fallback):
    """``(choice, decision)`` from a should_transfer recommendation and the fallback rule."""
    if recommendation != "undecided":
        return recommendation, "decisive"
    if fallback == "better_mean":
        return (TARGET_ONLY if ntg > 0 else TRANSFER), "fallback"
    return fallback, "fallback"
