"""Tasks and methods the study knows by name.

A *task* is a source → target pair of a benchmark, written
``"<benchmark>:<source>-><target>"`` (``→`` works too):

* ``surf:C->A`` -- Office-Caltech10, 800-d SURF (bundled with skntl); domains
  ``A`` (amazon), ``C`` (caltech), ``D`` (dslr), ``W`` (webcam).
* ``decaf6:W->D`` -- Office-Caltech10, 4096-d DeCAF6 (``D`` and ``W`` only,
  from the data folder).
* ``digits:mnist_jda->usps_jda`` -- digits; the JDA pairs are 16×16 images
  used as 256-d vectors, any other pair (``mnist``, ``usps``, ``mnist_m``,
  ``svhn``) is loaded as 32×32 images for a convolutional module.
* ``blobs:S->T`` -- synthetic: :func:`~skntl.datasets.make_transfer_blobs`
  with 1000 rows per domain, 20 features, 5 classes, a marginal shift of 3
  and cluster standard deviation 4 (``random_state=0``): a cheap task whose
  classes overlap, for development work that must not touch the real ones.

A *method* is one of skntl's estimators by class name; deep methods share the
spec's ``[params.deep]`` table.
"""

import re
from functools import lru_cache

from .. import ADDA, DAN, DANN, GTA, KMM, PADA, TCA, DeepCORAL
from ..datasets import load_digits_pair, load_office_caltech, make_transfer_blobs
from ..datasets._digits import DIGIT_DOMAINS

#: Estimator classes by the name a spec uses.
METHODS = {
    "TCA": TCA,
    "KMM": KMM,
    "DANN": DANN,
    "DAN": DAN,
    "DeepCORAL": DeepCORAL,
    "ADDA": ADDA,
    "PADA": PADA,
    "GTA": GTA,
}
#: Methods built on the deep engine (they take ``[params.deep]`` and ``gate``).
DEEP_METHODS = frozenset({"DANN", "DAN", "DeepCORAL", "ADDA", "PADA", "GTA"})

_TASK = re.compile(
    r"^(?P<bench>[a-z0-9]+):(?P<source>[A-Za-z_0-9]+)\s*(->|→)\s*(?P<target>[A-Za-z_0-9]+)$"
)
_OFFICE_DOMAINS = {"surf": "ACDW", "decaf6": "DW"}
_DIGITS = frozenset(DIGIT_DOMAINS)


def parse_task(task):
    """Split a task name into ``(benchmark, source, target)``, validating it.

    Parameters
    ----------
    task : str
        For example ``"surf:C->A"``.

    Returns
    -------
    benchmark, source, target : str
        ``"->"`` and ``"→"`` are both accepted; the names are returned as
        written.
    """
    match = _TASK.match(str(task).strip()) if isinstance(task, str) else None
    if match is None:
        raise ValueError(
            f"task must look like '<benchmark>:<source>-><target>' (e.g. 'surf:C->A'), "
            f"got {task!r}."
        )
    bench, source, target = match["bench"], match["source"], match["target"]
    if source == target:
        raise ValueError(f"task {task!r} has the same source and target domain.")
    if bench in _OFFICE_DOMAINS:
        allowed = _OFFICE_DOMAINS[bench]
        if source not in allowed or target not in allowed:
            raise ValueError(
                f"task {task!r}: {bench} domains are {', '.join(allowed)}."
            )
    elif bench == "blobs":
        if {source, target} != {"S", "T"}:
            raise ValueError(f"task {task!r}: blobs domains are S and T.")
    elif bench == "digits":
        if source not in _DIGITS or target not in _DIGITS:
            raise ValueError(
                f"task {task!r}: digits domains are {', '.join(sorted(_DIGITS))}."
            )
    else:
        raise ValueError(
            f"task {task!r}: unknown benchmark {bench!r}; known: surf, decaf6, digits, blobs."
        )
    return bench, source, target


@lru_cache(maxsize=8)
def load_task(task, data_home=None):
    """Load a task's source and target data (cached per process).

    Parameters
    ----------
    task : str
        A task name (see the module docstring).
    data_home : str, default=None
        Data folder; None means ``SKNTL_DATA`` (SURF needs none).

    Returns
    -------
    Xs, ys, Xt, yt : ndarray
        Source and target inputs and labels. Arrays are shared between calls:
        treat them as read-only.
    """
    bench, source, target = parse_task(task)
    if bench == "blobs":
        Xa, ya, Xb, yb = make_transfer_blobs(
            1000, 1000, n_features=20, n_classes=5, marginal_shift=3.0, cluster_std=4.0,
            random_state=0,
        )
        Xs, ys, Xt, yt = (Xa, ya, Xb, yb) if source == "S" else (Xb, yb, Xa, ya)
    elif bench == "digits":
        jda = source.endswith("_jda") and target.endswith("_jda")
        Xs, ys, Xt, yt = load_digits_pair(
            source, target, data_home=data_home, return_X_y=True,
            image_size=None if jda else 32, flatten=jda,
        )
    else:
        Xs, ys = load_office_caltech(source, features=bench, data_home=data_home,
                                     return_X_y=True)
        Xt, yt = load_office_caltech(target, features=bench, data_home=data_home,
                                     return_X_y=True)
    for a in (Xs, ys, Xt, yt):
        a.setflags(write=False)
    return Xs, ys, Xt, yt
