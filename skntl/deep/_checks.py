"""Checks of a deep estimator's settings and inputs that run before any training.

Every function raises one ``ValueError`` (or ``TypeError``) that names the
parameter or argument and says how to fix it, so that a user never sees a
traceback from torch or skorch for something they passed in.
"""

import numpy as np
import torch
from skorch.callbacks import BatchScoring, EpochScoring, LRScheduler

from .streams import StreamIterator, TransferDataset

_FLOAT32_MAX = float(np.finfo(np.float32).max)


def _check_float32_range(X, parts):
    """Raise when float64 ``X`` holds finite values that float32 cannot represent.

    The networks compute in float32, where such values become inf and every
    output NaN. ``parts`` lists ``(argument name, row mask)`` pairs; the error
    names the first part holding an offending row.
    """
    if X.dtype.kind != "f" or X.dtype.itemsize <= 4 or X.size == 0:
        return
    if X.max() <= _FLOAT32_MAX and X.min() >= -_FLOAT32_MAX:
        return
    big = np.abs(X.reshape(len(X), -1)).max(axis=1) > _FLOAT32_MAX
    name = next(name for name, rows in parts if np.any(big & rows))
    raise ValueError(
        f"{name} has values up to {np.abs(X[big]).max():.3g} in magnitude, beyond "
        f"float32's range (±{_FLOAT32_MAX:.3g}); the networks compute in float32, "
        "where these would be inf. Scale the features (e.g. with "
        "sklearn.preprocessing.StandardScaler)."
    )


def _check_device(device):
    """Raise a ``ValueError`` when torch cannot use ``device`` (before any work)."""
    if device is None:
        return
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError, ValueError) as exc:
        raise ValueError(
            f"device={device!r} is not a torch device ({exc}); use e.g. 'cpu' or 'cuda'."
        ) from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={device!r}, but torch.cuda.is_available() is False (this torch "
                "was built without CUDA, or no GPU is visible); use device='cpu'."
            )
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(
                f"device={device!r}, but only {torch.cuda.device_count()} CUDA "
                "device(s) are visible."
            )
    elif dev.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device={device!r}, but MPS is not available; use device='cpu'.")


def _monitored_valid_metrics(callbacks):
    """Names of ``valid_*`` history entries that the given callbacks monitor."""
    names = []
    for entry in callbacks or ():
        cb = entry[1] if isinstance(entry, tuple) else entry
        monitor = getattr(cb, "monitor", None)
        if isinstance(monitor, str) and monitor.startswith("valid_"):
            names.append((type(cb).__name__, monitor))
    return names



def _is_subclass(value, base):
    return isinstance(value, type) and issubclass(value, base)


def _check_skorch_components(net):
    """Raise when a skorch parameter is set to something the three-stream training cannot use.

    skorch's ``dataset`` and ``iterator_train`` must be (subclasses of)
    :class:`~skntl.deep.TransferDataset` and :class:`~skntl.deep.StreamIterator`:
    a transfer step draws three batches at once. The criterion must be able to
    return per-row losses (the source rows are weighted row by row), and a
    scoring callback cannot score the training batches, which mix streams.
    """
    name = type(net).__name__
    if not _is_subclass(net.dataset, TransferDataset):
        raise ValueError(
            f"dataset must be skntl.deep.TransferDataset or a subclass, got {net.dataset!r}: "
            f"{name} trains on three streams (source, unlabeled and labeled target) built "
            "from the rows passed to fit; pass the rows to fit instead of a dataset."
        )
    if not _is_subclass(net.iterator_train, StreamIterator):
        raise ValueError(
            f"iterator_train must be skntl.deep.StreamIterator or a subclass, got "
            f"{net.iterator_train!r}: each training step of {name} draws a source, an "
            "unlabeled-target and a labeled-target batch at once. Subclass StreamIterator "
            "to change how they are drawn; iterator_valid takes any DataLoader."
        )
    if "reduction" in net.get_params_for("criterion"):
        raise ValueError(
            "criterion__reduction cannot be set: the training loss weights every source "
            "row (sample_weight, the gate), so the criterion is built with "
            "reduction='none' and averaged by the estimator."
        )
    criterion = net.criterion
    if isinstance(criterion, torch.nn.Module):
        if getattr(criterion, "reduction", "none") != "none":
            raise ValueError(
                f"criterion={criterion!r} averages its losses (reduction="
                f"{criterion.reduction!r}), but the training loss weights each source "
                "row: pass the class with its arguments instead, e.g. "
                "criterion=torch.nn.CrossEntropyLoss, criterion__label_smoothing=0.1."
            )
    elif not callable(criterion):
        raise ValueError(
            f"criterion must be a torch loss class or instance, got {criterion!r}."
        )
    for entry in net.callbacks or ():
        cb = entry[1] if isinstance(entry, tuple) else entry
        if isinstance(cb, LRScheduler) and net.lr_schedule is not None:
            raise ValueError(
                f"lr_schedule={net.lr_schedule!r} sets the learning rates at every step, so "
                f"the {cb!r} callback would have no effect. Use one of them: "
                "lr_schedule=None with the callback, or the schedule without it."
            )
        if isinstance(cb, (EpochScoring, BatchScoring)) and cb.on_train:
            raise ValueError(
                f"The callback {cb!r} scores the training data (on_train=True), but "
                f"{name}'s training batches mix the source and target streams. Score the "
                "labeled target instead: train_split=skorch.dataset.ValidSplit(0.2) and "
                "on_train=False."
            )
