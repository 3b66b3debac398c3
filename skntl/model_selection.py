"""Cross-validation and the paper's target split.

:class:`TargetSplit` cross-validates a transfer estimator on its labeled-target
rows only; :func:`split_target` builds the train/test halves and the labeled
subset of the target exactly as the paper's protocol does
(:ref:`method-target-split`, :ref:`decisions D6 and D7 <decision-d6>`).
"""

from numbers import Integral, Real

import numpy as np
from sklearn.model_selection import BaseCrossValidator, KFold, train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import column_or_1d

from ._data import LABELED_TARGET, _as_array, check_sample_domain
from .utils._param_validation import Interval, validate_params

__all__ = ["TargetSplit", "split_target"]


class TargetSplit(BaseCrossValidator):
    """K-fold cross-validation over the labeled-target rows of packed data.

    Test folds contain labeled-target rows only, so every score is a target
    score; every source and unlabeled-target row is in every training fold.
    The domains are read from ``groups``, which must be the packed data's
    ``sample_domain`` (see :func:`skntl.pack`).

    Works inside :class:`~sklearn.model_selection.GridSearchCV` and
    :func:`~sklearn.model_selection.cross_validate` both without metadata
    routing (pass ``groups=sample_domain`` to ``fit``) and with it (the
    splitter requests ``groups`` by itself).

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds; at least 2 and at most the number of labeled-target rows.
    shuffle : bool, default=True
        Shuffle the labeled-target rows before splitting them into folds.
    random_state : int, RandomState instance or None, default=None
        Controls the shuffling. Pass an int for the same folds on every call.

    See Also
    --------
    split_target : The paper's 50/50 target split with L% labels.

    Examples
    --------
    >>> import numpy as np
    >>> from skntl import TargetSplit, pack
    >>> X, y, sd = pack(np.zeros((4, 1)), [0, 1, 0, 1], np.ones((3, 1)), [0, 1, 1])
    >>> [test.tolist() for _, test in TargetSplit(3, random_state=0).split(X, y, sd)]
    [[6], [5], [4]]
    """

    __metadata_request__split = {"groups": True}

    def __init__(self, n_splits=5, *, shuffle=True, random_state=None):
        if not isinstance(n_splits, Integral) or isinstance(n_splits, bool):
            raise ValueError(f"n_splits must be an integer, got {n_splits!r}.")
        if n_splits < 2:
            raise ValueError(f"n_splits must be at least 2, got {n_splits}.")
        self.n_splits = n_splits
        self.shuffle = shuffle
        self.random_state = random_state

    def _labeled_rows(self, X, groups):
        if groups is None:
            raise ValueError(
                "TargetSplit needs the packed data's sample_domain as groups: "
                "call split(X, y, groups=sample_domain), or fit(..., "
                "groups=sample_domain) in GridSearchCV / cross_validate."
            )
        n_samples = len(X) if X is not None else len(groups)
        sd = check_sample_domain(groups, n_samples)
        labeled = np.flatnonzero(sd == LABELED_TARGET)
        if len(labeled) < self.n_splits:
            raise ValueError(
                f"TargetSplit(n_splits={self.n_splits}) needs at least "
                f"{self.n_splits} labeled-target rows (sample_domain == -1), "
                f"got {len(labeled)}."
            )
        return labeled

    def _iter_test_indices(self, X=None, y=None, groups=None):
        labeled = self._labeled_rows(X, groups)
        kfold = KFold(self.n_splits, shuffle=self.shuffle, random_state=self.random_state)
        for _, test in kfold.split(labeled):
            yield labeled[test]

    def get_n_splits(self, X=None, y=None, groups=None):
        """Return the number of splits.

        Parameters
        ----------
        X, y, groups : object
            Ignored; present for API compatibility.

        Returns
        -------
        n_splits : int
        """
        return self.n_splits


@validate_params(
    {
        "Xt": ["array-like"],
        "yt": ["array-like"],
        "labeled_ratio": [Interval(Real, 0, 1, closed="both")],
        "max_labeled_per_class": [Interval(Integral, 1, None, closed="left"), None],
        "test_size": [Interval(Real, 0, 1, closed="neither")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def split_target(
    Xt, yt, labeled_ratio, *, max_labeled_per_class=None, test_size=0.5, random_state=None
):
    """Split target data into labeled, unlabeled and test parts (the paper's protocol).

    Following :ref:`the paper's protocol <method-target-split>` and
    :ref:`decisions D6 and D7 <decision-d6>`: the target is split into a
    training and a test part, stratified per class (50/50 by default).
    **All** training inputs form the unlabeled target ``Xt_u``; ``n_l =
    round(labeled_ratio * n_train)`` of them, drawn uniformly without
    replacement, are also labeled.
    With ``max_labeled_per_class=k`` (Table 2 uses 3) extra labeled rows of a
    class beyond ``k`` are dropped at random, so some classes may end with none.

    Parameters
    ----------
    Xt : array-like of shape (n_samples, ...)
        Target inputs (feature vectors or images).
    yt : array-like of shape (n_samples,)
        Target labels.
    labeled_ratio : float in [0, 1]
        The paper's L%, as a fraction of the target-train part.
    max_labeled_per_class : int, default=None
        Cap on labeled rows per class; None for no cap.
    test_size : float in (0, 1), default=0.5
        Fraction of the target held out for testing.
    random_state : int, RandomState instance or None, default=None
        Controls the split and the choice of labeled rows.

    Returns
    -------
    Xt_l : ndarray of shape (n_l, ...)
        Labeled target inputs (possibly zero rows).
    yt_l : ndarray of shape (n_l,)
        Their labels.
    Xt_u : ndarray of shape (n_train, ...)
        All target-train inputs, the labeled ones included.
    Xt_test : ndarray of shape (n_test, ...)
        Held-out target inputs.
    yt_test : ndarray of shape (n_test,)
        Held-out target labels.

    Examples
    --------
    >>> import numpy as np
    >>> from skntl import split_target
    >>> Xt, yt = np.arange(40).reshape(20, 2), np.arange(20) % 2
    >>> Xt_l, yt_l, Xt_u, Xt_test, yt_test = split_target(Xt, yt, 0.2, random_state=0)
    >>> len(Xt_l), len(Xt_u), len(Xt_test)
    (2, 10, 10)
    """
    Xt = _as_array(Xt, "Xt")
    yt = column_or_1d(_as_array(yt, "yt"))
    if len(Xt) != len(yt):
        raise ValueError(f"yt has {len(yt)} entries but Xt has {len(Xt)} rows.")
    rng = check_random_state(random_state)
    train, test = train_test_split(
        np.arange(len(yt)), test_size=test_size, stratify=yt, random_state=rng
    )
    n_labeled = int(np.floor(labeled_ratio * len(train) + 0.5))
    labeled = rng.choice(train, size=n_labeled, replace=False)
    if max_labeled_per_class is not None:
        keep = [
            # labeled is already in random order: keeping the first k per class
            # drops the extras at random
            labeled[yt[labeled] == c][:max_labeled_per_class]
            for c in np.unique(yt[labeled])
        ]
        labeled = np.sort(np.concatenate(keep)) if keep else labeled
    labeled = np.sort(labeled)
    return Xt[labeled], yt[labeled], Xt[np.sort(train)], Xt[np.sort(test)], yt[np.sort(test)]
