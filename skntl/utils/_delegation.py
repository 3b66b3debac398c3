"""Prediction methods that delegate to a fitted inner estimator.

TCA and KMM predict with their ``final_estimator_``; ``NegativeTransferGap``,
``PerturbedSource`` and ``SafeTransfer`` with the wrapped ``estimator_``
(:class:`DelegatingWrapperMixin`). Each method exists
only when the inner estimator has it (``available_if``), and validates ``X``
first, so an unfitted wrapper raises ``NotFittedError``.
"""

from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, validate_data

from ..base import _check_estimator_instance

__all__ = ["DelegatingPredictMixin", "DelegatingWrapperMixin"]


def _delegate_has(attr):
    """Check the fitted inner estimator if there is one, else the configured one."""

    def check(self):
        inner = getattr(self, self._delegate_attr, None)
        if inner is None:
            inner = self._unfitted_delegate()
        return hasattr(inner, attr)

    return check


class DelegatingPredictMixin:
    """``predict`` and friends delegated to a fitted inner estimator.

    A subclass names the fitted attribute in ``_delegate_attr``, and
    implements ``_unfitted_delegate`` (the estimator to inspect before fit)
    and ``_delegate_input`` (validates ``X``, raising ``NotFittedError`` when
    unfitted, and returns what the inner estimator sees).
    """

    _delegate_attr = "estimator_"

    def _unfitted_delegate(self):
        return self.estimator

    def _delegate_input(self, X):
        raise NotImplementedError

    def _call_delegate(self, method, X):
        X = self._delegate_input(X)  # raises NotFittedError first
        return getattr(getattr(self, self._delegate_attr), method)(X)

    @available_if(_delegate_has("predict"))
    def predict(self, X):
        """Predict class labels with the inner estimator.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Inputs.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted labels.
        """
        return self._call_delegate("predict", X)

    @available_if(_delegate_has("predict_proba"))
    def predict_proba(self, X):
        """Predict class probabilities with the inner estimator.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Inputs.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Class probabilities, columns in the order of ``classes_``.
        """
        return self._call_delegate("predict_proba", X)

    @available_if(_delegate_has("predict_log_proba"))
    def predict_log_proba(self, X):
        """Predict log class probabilities with the inner estimator.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Inputs.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log class probabilities, columns in the order of ``classes_``.
        """
        return self._call_delegate("predict_log_proba", X)

    @available_if(_delegate_has("decision_function"))
    def decision_function(self, X):
        """Confidence scores of the inner estimator.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Inputs.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            Decision function of the inner estimator.
        """
        return self._call_delegate("decision_function", X)


class DelegatingWrapperMixin(DelegatingPredictMixin):
    """Delegation for the meta-estimators that fit a clone of their ``estimator``.

    ``NegativeTransferGap``, ``PerturbedSource`` and ``SafeTransfer`` check
    ``estimator`` and validate the fit data the same way, and pass inputs of
    any shape (``allow_nd``) to ``estimator_``. The subclass is also a
    :class:`~skntl.base.TransferMixin`.
    """

    def _validate_wrapper_data(self, X, y, Xt_l, yt_l, Xt_u, sample_domain):
        """Check that ``estimator`` is an instance, then return the packed ``(X, y, sd)``."""
        _check_estimator_instance(self.estimator, "estimator")
        return self._validate_transfer_data(
            X, y, Xt_l, yt_l, Xt_u, sample_domain, allow_nd=True
        )

    def _delegate_input(self, X):
        check_is_fitted(self)
        return validate_data(self, X, reset=False, allow_nd=True)
