"""Office-31 ImageNet ResNet-50 features (Saenko et al., ECCV 2010)."""

import os

import numpy as np
from sklearn.utils import Bunch

from ..utils._param_validation import StrOptions, validate_params
from ._base import _corrupted, _locate, _read_mat, _resolve_alias
from ._office import _standardize

__all__ = ["load_office31_features"]

#: The 31 Office-31 classes in label order (alphabetical, as the folders sort).
OFFICE31_CLASSES = (
    "back_pack", "bike", "bike_helmet", "bookcase", "bottle", "calculator",
    "desk_chair", "desk_lamp", "desktop_computer", "file_cabinet", "headphones",
    "keyboard", "laptop_computer", "letter_tray", "mobile_phone", "monitor", "mouse",
    "mug", "paper_notebook", "pen", "phone", "printer", "projector", "punchers",
    "ring_binder", "ruler", "scissors", "speaker", "stapler", "tape_dispenser",
    "trash_can",
)  # fmt: skip

_DOMAINS = ("amazon", "dslr", "webcam")
_ALIASES = {**{d: d for d in _DOMAINS}, **{d[0]: d for d in _DOMAINS}}
_N_SAMPLES = {"amazon": 2817, "dslr": 498, "webcam": 795}
_FOLDER = "office31/resnet50"

_DESCR = """\
Office-31 ({domain}) ImageNet ResNet-50 features
{underline}

{n_samples} images x 2048 features: the 2048-d average-pooled (pool5) output of
an ImageNet-trained ResNet-50 without fine-tuning, one row per image of the
Office-31 {domain} domain.  31 classes, labels 0..30 in alphabetical order of
the class folders.  preprocess={preprocess!r}.

The files are Qian Wang's office-{{A,D,W}}-resnet50-noft.mat series (used by
CAPLS/SPL and CDEM).  Only the DSLR file is in the shared offline data, so
there is no offline Office-31 source/target pair.

References
----------
K. Saenko, B. Kulis, M. Fritz and T. Darrell. Adapting visual category models
to new domains. ECCV 2010.
K. He, X. Zhang, S. Ren and J. Sun. Deep residual learning for image
recognition. CVPR 2016.
"""


@validate_params(
    {
        "domain": [str],
        "preprocess": [StrOptions({"standard"}), None],
        "data_home": [str, os.PathLike, None],
        "return_X_y": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def load_office31_features(domain, *, preprocess=None, data_home=None, return_X_y=False):
    """Load the ImageNet ResNet-50 features of one Office-31 domain.

    Office-31 has 4,110 images of 31 office objects in three domains:
    Amazon (2,817), DSLR (498) and webcam (795).  Each row here is the
    2048-d pool5 output of an ImageNet ResNet-50 (no fine-tuning) for one
    image, the input of TCA and KMM at the paper's scale
    (:ref:`decision D28 <decision-d28>`).  The file
    ``<data home>/office31/resnet50/office-{A,D,W}-resnet50-noft.mat`` is
    read; only DSLR is in the shared offline data.

    Parameters
    ----------
    domain : {"amazon", "dslr", "webcam"}
        The domain; ``"A"``, ``"D"``, ``"W"`` are accepted too, in any case.
    preprocess : {None, "standard"}, default=None
        ``None``: the features as stored.  ``"standard"``: divide each row by
        its sum, then z-score each column (population std; zero std -> 1), as
        :func:`load_office_caltech` does.
    data_home : str or path-like, default=None
        Folder that contains ``office31/``.  Overrides ``SKNTL_DATA``.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the attributes:

        data : ndarray of shape (n_samples, 2048), dtype float64
            The features (non-negative unless ``preprocess="standard"``).
        target : ndarray of shape (n_samples,), dtype int64
            Class labels in ``0..30``.
        target_names : ndarray of shape (31,)
            Class names in label order (back_pack, bike, ..., trash_can).
        domain : str
            "amazon", "dslr" or "webcam".
        DESCR : str
            Description of the dataset.

    (data, target) : tuple of ndarray
        Returned instead when ``return_X_y`` is True.

    Raises
    ------
    ValueError
        If ``domain`` or ``preprocess`` is not a valid choice.
    FileNotFoundError
        If the file is missing; the message names the path tried and says how
        to change the data home.
    OSError
        If the file is corrupted or not the expected one.

    See Also
    --------
    load_office31_images : The images themselves, with optional feature extraction.

    Examples
    --------
    >>> from skntl.datasets import load_office31_features
    >>> dslr = load_office31_features("D")  # doctest: +SKIP
    >>> dslr.data.shape, dslr.target_names[0]  # doctest: +SKIP
    ((498, 2048), 'back_pack')
    """
    domain = _resolve_alias(domain, "domain", _DOMAINS, _ALIASES,
                            extra=" (or 'A', 'D', 'W'; case-insensitive)")  # fmt: skip
    name = f"office-{domain[0].upper()}-resnet50-noft.mat"
    hint = (
        "skntl.datasets.fetch_office31_features('dslr') downloads the DSLR file."
        if domain == "dslr"
        else "The amazon and webcam files are not in the shared offline data."
    )
    path = _locate(f"{_FOLDER}/{name}", data_home, hint=hint)
    arrays = _read_mat(path, ["resnet50_features", "labels"])
    X, labels = arrays["resnet50_features"], arrays["labels"]
    n = _N_SAMPLES[domain]
    if X.size != n * 2048 or X.shape[0] != n:
        raise _corrupted(path, f"resnet50_features has shape {X.shape}, expected ({n}, 2048, 1, 1)",
                         "an Office-31 ResNet-50 feature file")  # fmt: skip
    X = X.reshape(n, 2048).astype(np.float64)
    labels = labels.ravel()
    if labels.size != n:
        raise _corrupted(path, f"labels has {labels.size} entries, expected {n}")
    if not np.all(np.isfinite(X)):
        raise _corrupted(path, "resnet50_features contains NaN or infinite values")
    if not np.array_equal(labels, np.round(labels)) or labels.min() < 0 or labels.max() > 30:
        raise _corrupted(path, "labels are not integers in 0..30")
    if preprocess == "standard":
        X = _standardize(X)
    y = labels.astype(np.int64)
    if return_X_y:
        return X, y
    title = f"Office-31 ({domain}) ImageNet ResNet-50 features"
    return Bunch(
        data=X,
        target=y,
        target_names=np.asarray(OFFICE31_CLASSES),
        domain=domain,
        DESCR=_DESCR.format(domain=domain, underline="=" * len(title), n_samples=n,
                            preprocess=preprocess),
    )  # fmt: skip
