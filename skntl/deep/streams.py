"""The training data of the deep methods: a dataset of packed rows and its three streams.

A transfer step needs three batches at once: source rows, unlabeled-target
rows and labeled-target rows. skorch's seams carry them:

* :class:`TransferDataset` (the ``dataset`` parameter) holds the packed rows
  of one ``fit`` as tensors, split into the three streams;
* :class:`StreamIterator` (the ``iterator_train`` parameter) yields one
  epoch of :class:`TransferBatch` es from it;
* the validation rows (skorch's ``train_split``, applied to the labeled
  target) are a plain :class:`skorch.dataset.Dataset` read by skorch's
  ``iterator_valid``.

Batches are sliced by index from in-memory tensors, not collated item by item,
which keeps a step's overhead close to a hand-written torch loop's.
"""

import math
from typing import NamedTuple

import numpy as np
import torch
from torch.utils.data import Dataset as TorchDataset

from .._data import LABELED_TARGET

__all__ = ["StreamIterator", "TransferBatch", "TransferDataset"]


class TransferBatch(NamedTuple):
    """One training step's batches: source, unlabeled target, labeled target.

    The target parts are None when the fit has no such rows. ``ws`` and
    ``wl`` are the rows' ``sample_weight`` (None when every row of the fit
    weighs 1); labels are encoded as indices into ``classes_``.
    """

    xs: torch.Tensor
    ys: torch.Tensor
    ws: torch.Tensor
    xu: torch.Tensor | None = None
    xl: torch.Tensor | None = None
    yl: torch.Tensor | None = None
    wl: torch.Tensor | None = None

    def to(self, device):
        """Return the batch with every tensor on ``device``."""
        if device == "cpu":
            return self
        return TransferBatch(
            *(None if t is None else t.to(device, non_blocking=True) for t in self)
        )


for _field, _doc in {
    "xs": "Source inputs.",
    "ys": "Source labels, encoded.",
    "ws": "Source rows' sample weights, or None when all are 1.",
    "xu": "Unlabeled-target inputs (every target row is one), or None.",
    "xl": "Labeled-target inputs, drawn with replacement, or None.",
    "yl": "Labeled-target labels, encoded, or None.",
    "wl": "Labeled-target rows' sample weights, or None (none, or all 1).",
}.items():
    getattr(TransferBatch, _field).__doc__ = _doc
del _field, _doc


def _rows(array, mask, dtype):
    return torch.as_tensor(np.asarray(array)[mask], dtype=dtype)


def _weights(sample_weight, mask):
    """Return the rows' weights as a tensor, or None when they are all 1 (nothing to weigh)."""
    w = sample_weight[mask]
    return None if np.all(w == 1) else torch.as_tensor(w, dtype=torch.float32)


class TransferDataset(TorchDataset):
    """The rows of one ``fit``, packed, and the three streams drawn from them.

    Parameters
    ----------
    X : ndarray of shape (n_samples, ...)
        Inputs of every row.
    y : ndarray of shape (n_samples,)
        Labels encoded as indices into ``classes_``; ignored on unlabeled
        target rows.
    sample_domain : ndarray of shape (n_samples,)
        Positive for source rows, -1 for labeled target, -2 for unlabeled
        target.
    sample_weight : ndarray of shape (n_samples,)
        Non-negative row weights; rows of weight 0 are left out of the
        source and labeled-target streams.

    Attributes
    ----------
    xs, ys, ws : torch.Tensor
        The source stream: inputs, labels, weights (rows with positive
        weight; ``ws`` is None when they all weigh 1).
    xu : torch.Tensor or None
        The unlabeled stream: the inputs of every target row, labeled or not.
    xl, yl, wl : torch.Tensor or None
        The labeled-target stream (rows with positive weight), None without
        labeled target rows.
    """

    def __init__(self, X, y, sample_domain, sample_weight):
        self.X = X
        self.y = np.asarray(y)
        self.sample_domain = np.asarray(sample_domain)
        self.sample_weight = np.asarray(sample_weight)
        sd, keep = self.sample_domain, self.sample_weight > 0
        source = (sd > 0) & keep
        labeled = (sd == LABELED_TARGET) & keep
        target = sd < 0  # every target row is an input of the unlabeled stream
        self.xs = _rows(X, source, torch.float32)
        self.ys = _rows(self.y, source, torch.int64)
        self.ws = _weights(self.sample_weight, source)
        self.xu = _rows(X, target, torch.float32) if target.any() else None
        self.xl = self.yl = self.wl = None
        if labeled.any():
            self.xl = _rows(X, labeled, torch.float32)
            self.yl = _rows(self.y, labeled, torch.int64)
            self.wl = _weights(self.sample_weight, labeled)

    def __len__(self):
        return len(self.sample_domain)

    def __getitem__(self, i):
        return torch.as_tensor(self.X[i], dtype=torch.float32), int(self.y[i])


class StreamIterator:
    """One epoch of :class:`TransferBatch` es sliced from a :class:`TransferDataset`.

    An epoch has ``n_steps`` steps (by default ``ceil(n_source / batch_size)``,
    one pass) over fresh permutations of the source rows, renewed when used
    up. The unlabeled target is drawn without replacement from permutations
    that are renewed when used up, carried over from one epoch to the next;
    the labeled target with replacement, ``batch_size`` rows per step. Every
    draw uses ``generator``, so an epoch is a function of its seed.

    Parameters
    ----------
    dataset : TransferDataset
        The rows to draw from.
    batch_size : int
        Rows per stream per step.
    generator : torch.Generator
        Source of randomness for the permutations and draws.
    n_steps : int or None, default=None
        Steps per epoch; None makes an epoch one pass over the source rows.
    device : str or torch.device, default="cpu"
        Where the batches are moved.
    """

    def __init__(self, dataset, batch_size, generator, n_steps=None, device="cpu"):
        self.dataset = dataset
        self.batch_size = batch_size
        self.generator = generator
        self.n_steps = n_steps
        self.device = device
        self._u_perm = None
        self._u_pos = 0

    def __len__(self):
        if self.n_steps is not None:
            return self.n_steps
        return math.ceil(len(self.dataset.xs) / self.batch_size)

    def _source_batches(self, n_s):
        """Yield ``len(self)`` index batches over successive source permutations."""
        bs, steps = self.batch_size, len(self)
        while True:
            perm = torch.randperm(n_s, generator=self.generator)
            for start in range(0, n_s, bs):
                yield perm[start : start + bs]
                steps -= 1
                if steps == 0:
                    return

    def _take_unlabeled(self, n_u, size):
        parts = []
        while size > 0:
            if self._u_perm is None or self._u_pos >= n_u:
                self._u_perm = torch.randperm(n_u, generator=self.generator)
                self._u_pos = 0
            chunk = self._u_perm[self._u_pos : self._u_pos + size]
            self._u_pos += len(chunk)
            size -= len(chunk)
            parts.append(chunk)
        return parts[0] if len(parts) == 1 else torch.cat(parts)

    def __iter__(self):
        d, bs, gen = self.dataset, self.batch_size, self.generator
        n_u = 0 if d.xu is None else len(d.xu)
        n_l = 0 if d.xl is None else len(d.xl)
        for idx in self._source_batches(len(d.xs)):
            xu = xl = yl = wl = None
            if n_u:
                xu = d.xu[self._take_unlabeled(n_u, min(bs, n_u))]
            if n_l:
                li = torch.randint(n_l, (bs,), generator=gen)
                xl, yl = d.xl[li], d.yl[li]
                wl = None if d.wl is None else d.wl[li]
            ws = None if d.ws is None else d.ws[idx]
            yield TransferBatch(d.xs[idx], d.ys[idx], ws, xu, xl, yl, wl).to(self.device)
