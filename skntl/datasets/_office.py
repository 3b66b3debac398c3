"""Office-Caltech10 loader (Gong et al., CVPR 2012; Saenko et al., ECCV 2010)."""

import os
from importlib.resources import as_file, files

import numpy as np
from sklearn.utils import Bunch

from ..utils._param_validation import StrOptions, validate_params
from ._base import _data_home_is_set, _describe, _locate, _read_mat, _resolve_alias

__all__ = ["load_office_caltech"]

CLASS_NAMES = (
    "back_pack",
    "bike",
    "calculator",
    "headphones",
    "keyboard",
    "laptop_computer",
    "monitor",
    "mouse",
    "mug",
    "projector",
)

_DOMAINS = ("amazon", "caltech", "dslr", "webcam")
_ALIASES = {
    **{d: d for d in _DOMAINS},
    **{d[0]: d for d in _DOMAINS},
    "caltech10": "caltech",
}
_N_SAMPLES = {"amazon": 958, "caltech": 1123, "dslr": 157, "webcam": 295}

# features -> (folder in the data home, {domain: file name}, X variable, n_features)
_FEATURES = {
    "surf": (
        "office_caltech10/surf",
        {
            "amazon": "amazon_SURF_L10.mat",
            "caltech": "Caltech10_SURF_L10.mat",
            "dslr": "dslr_SURF_L10.mat",
            "webcam": "webcam_SURF_L10.mat",
        },
        "fts",
        800,
    ),
    "decaf6": (
        "office_caltech10/decaf6",
        {"dslr": "dslr_decaf.mat", "webcam": "webcam_decaf.mat"},
        "feas",
        4096,
    ),
}

# Folder inside this package that holds the bundled SURF files.
_BUNDLED_SURF = ("data", "office_caltech10_surf")

_DESCR = """\
Office-Caltech10 ({domain}, {features}) dataset
{underline}

Ten object categories shared by four image domains: Amazon product photos
(958 images), Caltech-256 (1123), DSLR (157) and webcam (295) photos.
Class names, in label order 0..9: {classes}.

This copy: {n_samples} samples x {n_features} features, preprocess={preprocess!r}.

- surf: 800-bin bag-of-words histograms of SURF descriptors, the codebook
  learned on Amazon images (the protocol of Saenko et al., 2010), as released
  with the GFK code by B. Gong.  Available for all four domains.
- decaf6: 4096-d DeCAF6 activations (Donahue et al., 2014), as used by
  JDA/BDA/MEDA.  Only dslr and webcam are available offline.

preprocess="standard" is the GFK README's recipe, applied per domain:
divide each row by its sum (L1), then z-score each column with the population
standard deviation; a zero-variance column is divided by 1, as MATLAB's
``zscore`` does.  With it, 1-NN source -> target accuracies equal the "NN"
column of JDA (Long et al., ICCV 2013), mean 31.37% over the 12 SURF tasks.

References
----------
B. Gong, Y. Shi, F. Sha and K. Grauman. Geodesic flow kernel for
unsupervised domain adaptation. CVPR 2012.
K. Saenko, B. Kulis, M. Fritz and T. Darrell. Adapting visual category models
to new domains. ECCV 2010.
G. Griffin, A. Holub and P. Perona. Caltech-256 object category dataset.
Caltech technical report, 2007.

The data carries no explicit license; it is academic benchmark data.
"""


def _standardize(X):
    """L1-normalise rows, then z-score columns (population std, zero std -> 1).

    Equivalent to MATLAB's ``zscore(X ./ sum(X, 2), 1)``.  A row that sums to
    zero is left at zero rather than turned into NaN.
    """
    row_sums = X.sum(axis=1, keepdims=True)
    row_sums[row_sums == 0] = 1.0
    X = X / row_sums
    mean = X.mean(axis=0)
    std = X.std(axis=0)  # ddof=0, the population std
    std[std == 0] = 1.0
    return (X - mean) / std


def _read_office_file(source, x_name, n_samples, n_features):
    """Read and validate one Office-Caltech10 file; return raw ``(X, labels)``."""
    arrays = _read_mat(source, [x_name, "labels"])
    X, labels = arrays[x_name], arrays["labels"]
    name = _describe(source)
    problem = None
    if X.shape != (n_samples, n_features):
        problem = f"{x_name!r} has shape {X.shape}, expected {(n_samples, n_features)}"
    elif labels.size != n_samples:
        problem = f"'labels' has {labels.size} entries, expected {n_samples}"
    elif not np.all(np.isfinite(X)):
        problem = f"{x_name!r} contains NaN or infinite values"
    else:
        labels = labels.ravel()
        if not np.array_equal(labels, np.round(labels)) or not np.all(
            (labels >= 1) & (labels <= len(CLASS_NAMES))
        ):
            problem = f"'labels' are not integers in 1..{len(CLASS_NAMES)}"
    if problem is not None:
        raise OSError(
            f"Could not read {name}: {problem}. The file is corrupted or is "
            "not the expected Office-Caltech10 file."
        )
    return X.astype(np.float64), labels.astype(np.int64) - 1


@validate_params(
    {
        "domain": [str],
        "features": [StrOptions(set(_FEATURES))],
        "preprocess": [StrOptions({"standard"}), None],
        "data_home": [str, os.PathLike, None],
        "return_X_y": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def load_office_caltech(
    domain, *, features="surf", preprocess="standard", data_home=None, return_X_y=False
):
    """Load one domain of the Office-Caltech10 benchmark.

    Office-Caltech10 holds the ten object classes shared by four image
    domains: Amazon (958 images), Caltech-256 (1123), DSLR (157) and webcam
    (295).  Source -> target pairs of these domains are the classic shallow
    domain-adaptation benchmark (12 tasks).

    Where the files are read from:

    - ``features="surf"``: from ``<data home>/office_caltech10/surf/`` when
      ``data_home`` is given or ``SKNTL_DATA`` is set; otherwise from the copy
      bundled with skntl (about 0.3 MB, byte-identical to the GFK release), so
      it works on a fresh install.
    - ``features="decaf6"``: from ``<data home>/office_caltech10/decaf6/``
      (``dslr_decaf.mat``, ``webcam_decaf.mat``); not bundled.  The data home
      is ``data_home``, else ``SKNTL_DATA``, else ``~/skntl_data`` (see
      :func:`get_data_home`).

    Parameters
    ----------
    domain : {"amazon", "caltech", "dslr", "webcam"}
        The domain to load.  ``"A"``, ``"C"``, ``"D"``, ``"W"`` (and
        ``"caltech10"``) are accepted too, in any case.
    features : {"surf", "decaf6"}, default="surf"
        ``"surf"``: 800-bin SURF bag-of-words counts (all four domains).
        ``"decaf6"``: 4096-d DeCAF6 activations (dslr and webcam only; the
        amazon and caltech files are not available).
    preprocess : {"standard", None}, default="standard"
        ``"standard"``: divide each row by its sum, then z-score each column
        of this domain with the population standard deviation (a column with
        zero deviation is divided by 1), i.e. MATLAB's
        ``zscore(X ./ sum(X, 2), 1)`` as in the GFK README.  ``None``: the
        raw features.
    data_home : str or path-like, default=None
        Folder that contains ``office_caltech10/``.  Overrides ``SKNTL_DATA``.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the attributes:

        data : ndarray of shape (n_samples, n_features), dtype float64
            The features; ``n_features`` is 800 (surf) or 4096 (decaf6).
        target : ndarray of shape (n_samples,), dtype int64
            Class labels in ``0..9`` (the files store ``1..10``).
        target_names : ndarray of shape (10,)
            Class names in label order: back_pack, bike, calculator,
            headphones, keyboard, laptop_computer, monitor, mouse, mug,
            projector.
        domain : str
            Canonical domain name: "amazon", "caltech", "dslr" or "webcam".
        features : str
            "surf" or "decaf6".
        DESCR : str
            Description of the dataset.

    (data, target) : tuple of ndarray
        Returned instead when ``return_X_y`` is True.

    Raises
    ------
    ValueError
        If ``domain``, ``features`` or ``preprocess`` is not a valid choice,
        or ``features="decaf6"`` is asked for amazon or caltech.
    FileNotFoundError
        If the file is not in the data home; the message names the path.
    OSError
        If the file is corrupted, truncated or holds unexpected arrays; the
        message names the file.

    See Also
    --------
    get_data_home : How the data folder is resolved.

    Notes
    -----
    Samples appear in the order of the original files; DeCAF6 and SURF rows of
    the same domain describe the same images in the same order.  With the
    standard preprocessing, 1-NN trained on all source and tested on all
    target samples gives the "NN" column of Long et al. (JDA, ICCV 2013),
    e.g. 63.39% for dslr -> webcam and a mean of 31.37% over the 12 tasks.

    References
    ----------
    .. [1] B. Gong, Y. Shi, F. Sha and K. Grauman, "Geodesic flow kernel for
       unsupervised domain adaptation", CVPR 2012.
    .. [2] K. Saenko, B. Kulis, M. Fritz and T. Darrell, "Adapting visual
       category models to new domains", ECCV 2010.

    Examples
    --------
    >>> from skntl.datasets import load_office_caltech
    >>> amazon = load_office_caltech("amazon")
    >>> amazon.data.shape, amazon.target.shape
    ((958, 800), (958,))
    >>> amazon.target_names[:3].tolist()
    ['back_pack', 'bike', 'calculator']
    >>> X, y = load_office_caltech("W", return_X_y=True)
    >>> X.shape, int(y.min()), int(y.max())
    ((295, 800), 0, 9)
    """
    domain = _resolve_alias(
        domain, "domain", _DOMAINS, _ALIASES, extra=" (or 'A', 'C', 'D', 'W'; case-insensitive)"
    )

    folder, file_names, x_name, n_features = _FEATURES[features]
    if domain not in file_names:
        raise ValueError(
            f"features={features!r} is not available for domain {domain!r}: the "
            "amazon and caltech DeCAF6 files are not available to skntl, only "
            f"{sorted(file_names)}. Use features='surf' for {domain}."
        )
    file_name = file_names[domain]
    n_samples = _N_SAMPLES[domain]

    if features == "surf" and not _data_home_is_set(data_home):
        resource = files(__package__)
        for part in (*_BUNDLED_SURF, file_name):
            resource = resource / part
        with as_file(resource) as path:
            X, y = _read_office_file(path, x_name, n_samples, n_features)
    else:
        path = _locate(f"{folder}/{file_name}", data_home)
        X, y = _read_office_file(path, x_name, n_samples, n_features)

    if preprocess == "standard":
        X = _standardize(X)

    if return_X_y:
        return X, y
    return Bunch(
        data=X,
        target=y,
        target_names=np.asarray(CLASS_NAMES),
        domain=domain,
        features=features,
        DESCR=_DESCR.format(
            domain=domain,
            features=features,
            underline="=" * len(f"Office-Caltech10 ({domain}, {features}) dataset"),
            classes=", ".join(CLASS_NAMES),
            n_samples=n_samples,
            n_features=n_features,
            preprocess=preprocess,
        ),
    )
