"""Shared machinery of every skntl estimator: the two fit forms and the twin.

:class:`TransferMixin` turns both call forms of ``fit`` (explicit parts or
packed ``(X, y, sample_domain)``) into one validated packed triple, so a method
is written once against the packed form.  :func:`fit_target_only` builds the
target-only twin A(∅, T) of any estimator (:ref:`the paper's recipe
<method-twin>`, :ref:`decisions D16 and D17 <decision-d16>`).
"""

import contextlib
import copy
import functools
import re

import numpy as np
from sklearn.base import clone
from sklearn.dummy import DummyClassifier
from sklearn.utils import assert_all_finite, check_array
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import column_or_1d, validate_data

from ._data import (
    LABELED_TARGET,
    UNLABELED_TARGET,
    _as_array,
    _check_column_names,
    _check_label_kinds,
    check_sample_domain,
    pack,
    unpack,
)

__all__ = ["TransferMixin", "fit_target_only"]


def _snapshot(obj):
    """Shallow copy of ``vars(obj)``; containers one level deep, as fit may append to them."""
    return {
        k: copy.copy(v) if type(v) in (list, dict, set) else v for k, v in vars(obj).items()
    }


def _restore_on_error(method):
    """Decorate ``fit`` (or ``fit_resample``) so that a call that raises changes nothing.

    The instance's attributes are recorded before the call and put back when
    it raises: an unfitted estimator stays unfitted (``check_is_fitted``
    raises), a fitted one keeps its previous fit. Fitted objects are restored
    by reference, so a torch module that a failing warm-start refit already
    trained in place keeps those updates; every check that can fail on the
    user's input runs before training starts.

    Every subclass of :class:`TransferMixin` gets this on its own ``fit``
    automatically; other estimators apply it explicitly.
    """
    if getattr(method, "_restores_on_error", False):
        return method

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        saved = _snapshot(self)
        try:
            return method(self, *args, **kwargs)
        except Exception:
            vars(self).clear()
            vars(self).update(saved)
            raise

    wrapper._restores_on_error = True
    return wrapper


def _check_estimator_instance(estimator, name):
    """Raise a ``TypeError`` when ``estimator`` is a class rather than an instance."""
    if isinstance(estimator, type):
        raise TypeError(
            f"{name} must be an estimator instance, got the class "
            f"{estimator.__name__}; pass {estimator.__name__}() instead."
        )


class TransferMixin:
    """Mixin giving an estimator the skntl transfer-data contract.

    An estimator using it declares ``fit(self, X, y=None, Xt_l=None, yt_l=None,
    Xt_u=None, *, sample_domain=None)`` and starts ``fit`` with::

        X, y, sd = self._validate_transfer_data(X, y, Xt_l, yt_l, Xt_u, sample_domain)

    after which it only deals with the packed form. ``fit(X, y)`` alone is
    plain supervised learning on ``X`` (every row is source).

    A subclass's ``fit`` (and ``partial_fit``) is wrapped with
    ``_restore_on_error``: a fit that raises leaves the estimator as it was
    before the call.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name in ("fit", "partial_fit"):
            if name in cls.__dict__:
                setattr(cls, name, _restore_on_error(cls.__dict__[name]))

    def _validate_transfer_data(
        self,
        X,
        y,
        Xt_l=None,
        yt_l=None,
        Xt_u=None,
        sample_domain=None,
        *,
        y_required=True,
        **check_params,
    ):
        """Validate either fit form and return the packed ``(X, y, sd)``.

        Sets ``n_features_in_`` (and ``feature_names_in_``) from ``X``. Raises
        one ``ValueError`` naming the offending argument for every violation of
        the contract. The caller's arrays are not modified.

        Parameters
        ----------
        X, y, Xt_l, yt_l, Xt_u, sample_domain
            As in ``fit``.
        y_required : bool, default=True
            Raise when ``y`` is None.
        **check_params : dict
            Passed to :func:`~sklearn.utils.validation.validate_data` and
            :func:`~sklearn.utils.check_array` (e.g. ``allow_nd=True``).

        Returns
        -------
        X : ndarray of shape (n_samples, ...)
        y : ndarray of shape (n_samples,) or None
        sample_domain : ndarray of shape (n_samples,), dtype int64
        """
        saved = _snapshot(self)
        try:
            return self._validate_transfer_data_inner(
                X, y, Xt_l, yt_l, Xt_u, sample_domain, y_required, check_params
            )
        except Exception:
            # validate_data sets n_features_in_ early: leave nothing half-fitted
            vars(self).clear()
            vars(self).update(saved)
            raise

    def _validate_transfer_data_inner(
        self, X, y, Xt_l, yt_l, Xt_u, sample_domain, y_required, check_params
    ):
        explicit = any(part is not None for part in (Xt_l, yt_l, Xt_u))
        if explicit and sample_domain is not None:
            raise ValueError(
                "Pass either the explicit target parts (Xt_l, yt_l, Xt_u) or "
                "sample_domain for packed data, not both."
            )
        if explicit:
            _check_column_names(X, {"Xt_l": Xt_l, "Xt_u": Xt_u}, X_name="X")
        with _naming("X"):
            X = validate_data(self, X, reset=True, **check_params)
        if y is None:
            if y_required:
                raise ValueError(
                    f"{type(self).__name__} requires y to be passed, but the "
                    "target y is None."
                )
        else:
            y = column_or_1d(_as_array(y, "y"), warn=True)
            _check_finite_labels(y, "y")
            if len(y) != len(X):
                raise ValueError(
                    f"y has {len(y)} entries but X has {len(X)} rows; they must "
                    "have the same length."
                )

        if explicit:
            if y is None:
                raise ValueError("ys (the y argument) is required with target parts.")
            parts = {}
            for name, part in (("Xt_l", Xt_l), ("Xt_u", Xt_u)):
                if part is not None:
                    with _naming(name):
                        part = check_array(
                            part, input_name=name, **{**check_params, "ensure_min_samples": 0}
                        )
                    if part.shape[1:] != X.shape[1:]:
                        raise ValueError(
                            f"{name} has rows of shape {part.shape[1:]} but the "
                            f"source X has rows of shape {X.shape[1:]}; source "
                            "and target must have the same features."
                        )
                parts[name] = part
            if yt_l is not None:
                yt_l = column_or_1d(_as_array(yt_l, "yt_l"), warn=True)
                _check_finite_labels(yt_l, "yt_l")
            _check_label_kinds(y, yt_l, y_name="y")
            X, y, sd = pack(X, y, parts["Xt_l"], yt_l, parts["Xt_u"])
        else:
            sd = check_sample_domain(sample_domain, len(X))
            if y is not None:
                _check_label_kinds(y[sd != UNLABELED_TARGET], None, y_name="y")

        source = sd > 0
        if not source.any():
            raise ValueError(
                "The source is empty: X has no source rows "
                "(sample_domain > 0). Use fit_target_only for target-only models."
            )
        if y is not None:
            labeled = sd != UNLABELED_TARGET
            check_classification_targets(y[labeled])
            unseen = np.setdiff1d(y[sd == LABELED_TARGET], y[source])
            if unseen.size:
                raise ValueError(
                    f"yt_l contains labels {unseen.tolist()} that never occur in "
                    "the source labels; the target label set must be a subset "
                    "of the source's."
                )
        return X, y, sd


@contextlib.contextmanager
def _naming(name):
    """Make sure a ``ValueError``/``TypeError`` raised inside names the argument ``name``.

    scikit-learn's validation names its input in most messages but not all
    (e.g. strings where numbers are needed); those get ``"<name>: "`` in front.
    """
    try:
        yield
    except (ValueError, TypeError) as exc:
        if re.search(rf"\b{re.escape(name)}\b", str(exc)):
            raise
        raise type(exc)(f"{name}: {exc}") from exc


def _check_finite_labels(y, name):
    if y.dtype.kind in "fc":
        assert_all_finite(y, input_name=name)


def _chance_model(classes, n_features, random_state):
    """Return a fitted model predicting uniformly at random among ``classes``.

    The twin without labeled target rows (:ref:`decision D17 <decision-d17>`).
    """
    classes = np.asarray(classes)
    return DummyClassifier(strategy="uniform", random_state=random_state).fit(
        np.zeros((len(classes), n_features)), classes
    )


def fit_target_only(
    estimator, X, y=None, Xt_l=None, yt_l=None, Xt_u=None, *, sample_domain=None
):
    """Fit the target-only twin A(∅, T) of ``estimator`` on the same data.

    The twin is the same algorithm with the source removed and the labeled
    target playing its part (:ref:`decision D16 <decision-d16>`): a skntl
    estimator is fitted as ``fit(Xt_l, yt_l, Xt_u=Xt_u)``; a plain
    scikit-learn classifier as ``fit(Xt_l, yt_l)``. Without any labeled target
    row the twin is a chance-level model that predicts uniformly at random
    among the source classes (:ref:`decision D17 <decision-d17>`); with a
    single labeled class it is a model predicting that class. An iterative
    estimator keeps the optimisation budget of the transfer model: a deep
    estimator's twin takes as many steps per epoch as a fit on the source
    would (``steps_per_epoch``), so both take the same number of steps. A
    wrapper that only changes the source, such as
    :class:`~skntl.perturbation.PerturbedSource`, shares the twin of the
    estimator it wraps (the labeled target is never perturbed).

    Parameters
    ----------
    estimator : estimator instance
        A skntl estimator or any scikit-learn classifier. It is cloned, never
        modified.
    X, y, Xt_l, yt_l, Xt_u, sample_domain
        The transfer data in either form (see :func:`skntl.pack`).

    Returns
    -------
    twin : fitted estimator
        The fitted clone, or a fitted chance-level
        :class:`~sklearn.dummy.DummyClassifier` when there are no target labels.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skntl import fit_target_only
    >>> rng = np.random.RandomState(0)
    >>> Xs, ys = rng.randn(20, 2), np.arange(20) % 2
    >>> twin = fit_target_only(LogisticRegression(), Xs, ys, Xs[:6], ys[:6])
    >>> twin.n_features_in_
    2
    """
    if sample_domain is not None:
        if any(part is not None for part in (Xt_l, yt_l, Xt_u)):
            raise ValueError(
                "Pass either the explicit target parts (Xt_l, yt_l, Xt_u) or "
                "sample_domain for packed data, not both."
            )
        X, y, Xt_l, yt_l, Xt_u = unpack(X, y, sample_domain)
    if y is None:
        raise ValueError("fit_target_only requires the source labels y.")
    Xs, ys = _as_array(X, "X"), column_or_1d(_as_array(y, "y"))
    if (Xt_l is None) != (yt_l is None):
        raise ValueError("Xt_l and yt_l must be given together.")
    if Xt_l is None or len(Xt_l) == 0:
        n_features = int(np.prod(Xs.shape[1:])) if Xs.ndim > 1 else 1
        random_state = estimator.get_params().get("random_state")
        return _chance_model(np.unique(ys), n_features, random_state)
    # A wrapper that only changes the source (e.g. PerturbedSource) names the
    # estimator whose twin it shares: the labeled target must not be perturbed.
    while hasattr(estimator, "_target_only_estimator"):
        estimator = estimator._target_only_estimator()
    yt_l = column_or_1d(_as_array(yt_l, "yt_l"))
    if np.unique(yt_l).size == 1:
        # One labeled class: most classifiers refuse to fit; the twin predicts it.
        return DummyClassifier(strategy="most_frequent").fit(_as_array(Xt_l, "Xt_l"), yt_l)
    twin = clone(estimator)
    if hasattr(twin, "_target_only_params"):
        # An iterative estimator gets the optimisation budget of the model it is
        # compared with (e.g. a deep net takes as many steps), not one sized
        # for the few labeled rows.
        twin.set_params(**twin._target_only_params(len(Xs)))
    if isinstance(estimator, TransferMixin):
        return twin.fit(Xt_l, yt_l, Xt_u=Xt_u)
    return twin.fit(Xt_l, yt_l)
