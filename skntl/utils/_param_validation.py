"""The one place that imports scikit-learn's private validation helpers.

scikit-learn keeps ``Interval``, ``Options``, ``StrOptions``, ``HasMethods``
and ``_fit_context`` private; importing them here only means a scikit-learn
release that moves them breaks one file, not the whole package.
"""

from sklearn.base import _fit_context
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    InvalidParameterError,
    Options,
    StrOptions,
    validate_params,
)

__all__ = [
    "HasMethods",
    "Interval",
    "InvalidParameterError",
    "Options",
    "StrOptions",
    "_fit_context",
    "validate_params",
]
