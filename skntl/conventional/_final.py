"""Prediction through a final estimator, shared by the conventional methods.

TCA and KMM both end in a ``final_estimator`` fitted on (transformed or
re-weighted) source and labeled-target rows; this mixin gives them the
prediction methods of that estimator, present only when it has them.
"""

from sklearn.linear_model import LogisticRegression
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, validate_data


def _final_estimator_has(attr):
    """Check the fitted final estimator if there is one, else the configured one."""

    def check(self):
        est = getattr(self, "final_estimator_", None)
        return hasattr(est if est is not None else self._resolve_final_estimator(), attr)

    return check


class FinalEstimatorMixin:
    """``predict`` and friends delegated to ``final_estimator_``.

    The subclass has a ``final_estimator`` parameter, sets ``final_estimator_``
    in ``fit`` and may override :meth:`_default_final_estimator` and
    :meth:`_final_input` (what the final estimator sees of ``X``).
    """

    def _default_final_estimator(self):
        return LogisticRegression()

    def _resolve_final_estimator(self):
        if self.final_estimator is None:
            return self._default_final_estimator()
        return self.final_estimator

    def _final_input(self, X):
        check_is_fitted(self)
        return validate_data(self, X, reset=False)

    @available_if(_final_estimator_has("predict"))
    def predict(self, X):
        """Predict class labels with the final estimator.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted labels.
        """
        Z = self._final_input(X)  # raises NotFittedError first
        return self.final_estimator_.predict(Z)

    @available_if(_final_estimator_has("predict_proba"))
    def predict_proba(self, X):
        """Predict class probabilities with the final estimator.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Class probabilities, columns in the order of ``classes_``.
        """
        Z = self._final_input(X)  # raises NotFittedError first
        return self.final_estimator_.predict_proba(Z)

    @available_if(_final_estimator_has("predict_log_proba"))
    def predict_log_proba(self, X):
        """Predict log class probabilities with the final estimator.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log class probabilities, columns in the order of ``classes_``.
        """
        Z = self._final_input(X)  # raises NotFittedError first
        return self.final_estimator_.predict_log_proba(Z)

    @available_if(_final_estimator_has("decision_function"))
    def decision_function(self, X):
        """Confidence scores of the final estimator.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            Decision function of the final estimator.
        """
        Z = self._final_input(X)  # raises NotFittedError first
        return self.final_estimator_.decision_function(Z)
