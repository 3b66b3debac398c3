"""The transfer-data contract: one packed form for source and target data.

A transfer problem has three parts: the labeled source ``(Xs, ys)``, the labeled
target ``(Xt_l, yt_l)`` and the unlabeled target ``Xt_u``.  Every skntl estimator
accepts them either explicitly, ``fit(Xs, ys, Xt_l, yt_l, Xt_u)``, or packed
into one ``(X, y, sample_domain)`` triple, ``fit(X, y, sample_domain=sd)``,
which is what scikit-learn's meta-estimators (``GridSearchCV``,
``cross_validate``) can slice row by row.

``sample_domain`` follows skada's sign convention (positive = source,
negative = target) and additionally tells labeled from unlabeled target rows,
so no label value is ever reserved as an "unlabeled" sentinel:

========================  ======
row kind                  code
========================  ======
source                    ``1`` (any positive integer is read as source)
labeled target            ``-1``
unlabeled target          ``-2``
========================  ======

skada's own datasets mark their (label-masked) target domain with ``-2``, which
skntl reads as unlabeled target.
"""

from numbers import Number

import numpy as np

__all__ = ["pack", "unpack", "SOURCE", "LABELED_TARGET", "UNLABELED_TARGET"]

SOURCE = 1
LABELED_TARGET = -1
UNLABELED_TARGET = -2


def _as_array(a, name):
    """Return ``a`` as an ndarray (no copy when it already is one)."""
    if a is None:
        return None
    if hasattr(a, "iloc") or hasattr(a, "to_numpy"):  # pandas without importing it
        a = a.to_numpy()
    a = np.asarray(a)
    if a.ndim == 0:
        raise ValueError(f"{name} must be array-like with one row per sample, got a scalar.")
    return a


def _label_kind(y, name):
    """Return ``"str"`` or ``"number"``: the kind of every label in ``y``.

    Raises a ``ValueError`` naming ``name`` when the labels mix kinds (strings
    and numbers cannot be sorted together, so no ``classes_`` exists) or hold
    None. Returns None for an empty ``y``.
    """
    if y.dtype.kind in "US":
        return "str"
    if y.dtype.kind in "biuf":
        return "number"
    if y.dtype.kind != "O":
        raise ValueError(
            f"{name} must hold class labels (numbers or strings), got dtype {y.dtype}."
        )
    examples = {}
    for value in y.ravel():
        if isinstance(value, str):
            kind = "str"
        elif isinstance(value, (Number, np.number, np.bool_)):
            kind = "number"
        elif value is None:
            raise ValueError(
                f"{name} contains None. Every labeled row needs a label; pass rows "
                "without a label as unlabeled target (Xt_u)."
            )
        else:
            kind = type(value).__name__
        examples.setdefault(kind, value)
        if len(examples) > 1:
            a, b = list(examples.items())[:2]
            raise ValueError(
                f"{name} mixes labels of different types ({a[0]} {a[1]!r} and {b[0]} "
                f"{b[1]!r}), which cannot be sorted into classes_. Use one type for "
                f"every label, e.g. {name}.astype(str)."
            )
    return next(iter(examples), None)


def _check_label_kinds(y, yt_l, y_name="ys"):
    """Check that ``y`` and ``yt_l`` each hold one kind of label, the same kind."""
    kind = None if y is None else _label_kind(y, y_name)
    kind_t = None if yt_l is None else _label_kind(yt_l, "yt_l")
    if kind is not None and kind_t is not None and kind != kind_t:
        words = {"str": "strings", "number": "numbers"}
        raise ValueError(
            f"yt_l holds {words.get(kind_t, kind_t)} but {y_name} holds "
            f"{words.get(kind, kind)}; source and target labels must be of one type "
            "(a target label is the same class as an equal source label)."
        )


def _column_names(a):
    """Return the string column names of a DataFrame-like ``a``, else None."""
    columns = getattr(a, "columns", None)
    if columns is None:
        return None
    names = list(columns)
    if not names or not all(isinstance(c, str) for c in names):
        return None
    return names


def _check_column_names(X, parts, X_name="Xs"):
    """Check that every target part has the source's column names, in its order.

    ``parts`` maps argument names to the raw target inputs. Only parts and a
    source that both have string column names (DataFrames) are compared:
    their columns are used by position, so a reordered part would silently
    pair different features.
    """
    reference = _column_names(X)
    if reference is None:
        return
    for name, part in parts.items():
        names = _column_names(part)
        if names is None or names == reference:
            continue
        if sorted(names) == sorted(reference):
            raise ValueError(
                f"{name} has the columns of {X_name} in another order; columns are "
                f"matched by position, so reorder them first: {name}[{X_name}.columns]."
            )
        missing = [c for c in reference if c not in names]
        extra = [c for c in names if c not in reference]
        raise ValueError(
            f"{name}'s column names differ from {X_name}'s: missing {missing}, "
            f"unexpected {extra}. Source and target must have the same features."
        )


def _check_pair(X, y, X_name, y_name):
    if (X is None) != (y is None):
        given, missing = (X_name, y_name) if y is None else (y_name, X_name)
        raise ValueError(f"{given} was given without {missing}; pass both or neither.")
    if X is not None and len(X) != len(y):
        raise ValueError(
            f"{y_name} has {len(y)} entries but {X_name} has {len(X)} rows; "
            "they must have the same length."
        )


def _check_1d(y, name):
    if y is not None and y.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {y.shape}.")


def _check_row_shape(part, name, Xs):
    if part is not None and part.shape[1:] != Xs.shape[1:]:
        raise ValueError(
            f"{name} has rows of shape {part.shape[1:]} but Xs has rows of "
            f"shape {Xs.shape[1:]}; source and target must have the same features."
        )


def _check_labeled_part(Xs, ys, Xt_l, yt_l):
    """Check the labeled target arrays against the source's, as the data contract does.

    Both or neither, same lengths, 1-D labels of the source's kind, rows of
    the source's shape (arrays; column names are checked on the raw inputs).
    """
    _check_pair(Xt_l, yt_l, "Xt_l", "yt_l")
    _check_1d(yt_l, "yt_l")
    _check_label_kinds(ys, yt_l)
    _check_row_shape(Xt_l, "Xt_l", Xs)


def pack(Xs, ys, Xt_l=None, yt_l=None, Xt_u=None):
    """Pack source, labeled-target and unlabeled-target data into ``(X, y, sd)``.

    Rows are stacked in the order source, labeled target, unlabeled target.
    The caller's arrays are never modified; the result is a new array.

    Parameters
    ----------
    Xs : array-like of shape (n_source, ...)
        Source inputs. Feature vectors ``(n, d)`` or images ``(n, C, H, W)``.
    ys : array-like of shape (n_source,)
        Source labels. Any label type scikit-learn accepts (ints, strings).
    Xt_l : array-like of shape (n_labeled, ...), default=None
        Labeled target inputs.
    yt_l : array-like of shape (n_labeled,), default=None
        Labeled target labels.
    Xt_u : array-like of shape (n_unlabeled, ...), default=None
        Unlabeled target inputs.

    Returns
    -------
    X : ndarray of shape (n_source + n_labeled + n_unlabeled, ...)
        All inputs.
    y : ndarray of shape (n_samples,)
        Labels. Entries of unlabeled-target rows hold a placeholder copied from
        the first labeled row; they carry no information and are never read.
    sample_domain : ndarray of shape (n_samples,), dtype int
        ``1`` for source rows, ``-1`` for labeled-target rows, ``-2`` for
        unlabeled-target rows.

    See Also
    --------
    unpack : The inverse operation.

    Examples
    --------
    >>> import numpy as np
    >>> from skntl import pack, unpack
    >>> Xs, ys = np.zeros((3, 2)), np.array(["a", "b", "a"])
    >>> X, y, sd = pack(Xs, ys, Xt_u=np.ones((2, 2)))
    >>> sd
    array([ 1,  1,  1, -2, -2])
    >>> unpack(X, y, sd)[4].shape
    (2, 2)
    """
    _check_column_names(Xs, {"Xt_l": Xt_l, "Xt_u": Xt_u})
    Xs, ys = _as_array(Xs, "Xs"), _as_array(ys, "ys")
    Xt_l, yt_l = _as_array(Xt_l, "Xt_l"), _as_array(yt_l, "yt_l")
    Xt_u = _as_array(Xt_u, "Xt_u")
    if Xs is None:
        raise ValueError("Xs is required.")
    _check_pair(Xs, ys, "Xs", "ys")
    _check_1d(ys, "ys")
    _check_labeled_part(Xs, ys, Xt_l, yt_l)
    _check_row_shape(Xt_u, "Xt_u", Xs)

    X_parts, y_parts, sd_parts = [Xs], [ys], [np.full(len(Xs), SOURCE)]
    if Xt_l is not None:
        X_parts.append(Xt_l)
        y_parts.append(yt_l)
        sd_parts.append(np.full(len(Xt_l), LABELED_TARGET))
    if Xt_u is not None:
        X_parts.append(Xt_u)
        labeled = [p for p in y_parts if len(p)]
        fill = labeled[0][0] if labeled else np.zeros((), dtype=ys.dtype)
        y_dtype = np.result_type(*y_parts)
        y_parts.append(np.full(len(Xt_u), fill, dtype=y_dtype))
        sd_parts.append(np.full(len(Xt_u), UNLABELED_TARGET))
    X = np.concatenate(X_parts, axis=0)
    y = np.concatenate(y_parts, axis=0)
    sample_domain = np.concatenate(sd_parts).astype(np.int64)
    return X, y, sample_domain


def check_sample_domain(sample_domain, n_samples):
    """Validate a ``sample_domain`` vector and return it as an int64 array.

    Parameters
    ----------
    sample_domain : array-like of shape (n_samples,) or None
        Domain codes (see the module docstring). None means every row is source.
    n_samples : int
        Number of rows it must describe.

    Returns
    -------
    sample_domain : ndarray of shape (n_samples,), dtype int64
    """
    if sample_domain is None:
        return np.full(n_samples, SOURCE, dtype=np.int64)
    sd = _as_array(sample_domain, "sample_domain")
    if sd.ndim != 1:
        raise ValueError(f"sample_domain must be 1-D, got shape {sd.shape}.")
    if len(sd) != n_samples:
        raise ValueError(
            f"sample_domain has {len(sd)} entries but X has {n_samples} rows; "
            "it needs one entry per row."
        )
    if sd.dtype.kind not in "iuf" or (
        sd.dtype.kind == "f" and not np.all(np.isfinite(sd) & (sd == np.round(sd)))
    ):
        raise ValueError(
            f"sample_domain must hold integers, got dtype {sd.dtype}."
        )
    sd = sd.astype(np.int64)
    if np.any(sd == 0):
        raise ValueError(
            "sample_domain contains 0; use a positive value for source rows, "
            "-1 for labeled-target rows and -2 for unlabeled-target rows."
        )
    bad = np.setdiff1d(sd[sd < 0], [LABELED_TARGET, UNLABELED_TARGET])
    if bad.size:
        raise ValueError(
            f"sample_domain contains {bad.tolist()}; target rows must be -1 "
            "(labeled) or -2 (unlabeled)."
        )
    return sd


def unpack(X, y, sample_domain):
    """Split packed ``(X, y, sample_domain)`` back into its five parts.

    Parameters
    ----------
    X : array-like of shape (n_samples, ...)
        Packed inputs.
    y : array-like of shape (n_samples,) or None
        Packed labels (entries of unlabeled-target rows are ignored).
    sample_domain : array-like of shape (n_samples,)
        Domain codes as produced by :func:`pack`.

    Returns
    -------
    Xs, ys, Xt_l, yt_l, Xt_u : ndarray or None
        Source inputs and labels, labeled-target inputs and labels, and
        unlabeled-target inputs, each in the row order of ``X``. A target part
        with no rows is returned as None; ``ys`` and ``yt_l`` are None when
        ``y`` is None.

    See Also
    --------
    pack : The inverse operation.
    """
    X = _as_array(X, "X")
    y = _as_array(y, "y")
    if y is not None and len(y) != len(X):
        raise ValueError(f"y has {len(y)} entries but X has {len(X)} rows.")
    sd = check_sample_domain(sample_domain, len(X))
    src, lab, unl = sd > 0, sd == LABELED_TARGET, sd == UNLABELED_TARGET
    Xs = X[src]
    ys = None if y is None else y[src]
    Xt_l = X[lab] if lab.any() else None
    yt_l = None if (y is None or not lab.any()) else y[lab]
    Xt_u = X[unl] if unl.any() else None
    return Xs, ys, Xt_l, yt_l, Xt_u
