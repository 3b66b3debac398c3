"""Prediction through a final estimator, shared by the conventional methods.

TCA and KMM both end in a ``final_estimator`` fitted on (transformed or
re-weighted) source and labeled-target rows; this mixin gives them the
prediction methods of that estimator, present only when it has them.
"""

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted, validate_data

from ..base import _check_estimator_instance
from ..utils._delegation import DelegatingPredictMixin


class FinalEstimatorMixin(DelegatingPredictMixin):
    """``predict`` and friends delegated to ``final_estimator_``.

    The subclass has a ``final_estimator`` parameter, sets ``final_estimator_``
    in ``fit`` and may override :meth:`_default_final_estimator` and
    :meth:`_final_input` (what the final estimator sees of ``X``).
    """

    _delegate_attr = "final_estimator_"

    def _default_final_estimator(self):
        return LogisticRegression()

    def _resolve_final_estimator(self):
        if self.final_estimator is None:
            return self._default_final_estimator()
        _check_estimator_instance(self.final_estimator, "final_estimator")
        return self.final_estimator

    def _unfitted_delegate(self):
        if self.final_estimator is None:
            return self._default_final_estimator()
        return self.final_estimator

    def _final_input(self, X):
        check_is_fitted(self)
        return validate_data(self, X, reset=False, dtype=[np.float64, np.float32])

    def _delegate_input(self, X):
        return self._final_input(X)
