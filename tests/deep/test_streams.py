"""The training data seams: TransferDataset's streams and StreamIterator's epochs."""

import numpy as np
import pytest
import torch

from skntl.deep import StreamIterator, TransferBatch, TransferDataset


def _dataset(n_s=10, n_l=3, n_u=5, weights=None):
    X = np.arange((n_s + n_l + n_u) * 2, dtype=np.float64).reshape(-1, 2)
    y = np.r_[np.arange(n_s) % 3, np.arange(n_l) % 3, -np.ones(n_u, dtype=int)]
    sd = np.r_[np.ones(n_s), -np.ones(n_l), -2 * np.ones(n_u)].astype(int)
    w = np.ones(len(X)) if weights is None else weights
    return TransferDataset(X, y, sd, w)


def test_streams_hold_the_right_rows():
    w = np.ones(18)
    w[[0, 10]] = 0  # a source and a labeled-target row left out
    d = _dataset(weights=w)
    assert len(d) == 18
    np.testing.assert_array_equal(d.xs[:, 0].numpy(), np.arange(1, 10) * 2)
    np.testing.assert_array_equal(d.ys.numpy(), np.arange(1, 10) % 3)
    # every target row is an unlabeled input, whatever its weight or label
    np.testing.assert_array_equal(d.xu[:, 0].numpy(), np.arange(10, 18) * 2)
    np.testing.assert_array_equal(d.xl[:, 0].numpy(), [22, 24])
    assert d.ws is None and d.wl is None  # the kept rows all weigh 1
    assert d.xs.dtype == torch.float32 and d.ys.dtype == torch.int64
    x, y = d[3]
    assert x.tolist() == [6.0, 7.0] and y == 0


def test_no_labeled_or_unlabeled_rows_give_none_streams():
    d = _dataset(n_l=0, n_u=0)
    assert d.xu is None and d.xl is None and d.yl is None and d.wl is None
    batch = next(iter(StreamIterator(d, 4, torch.Generator().manual_seed(0))))
    assert batch.xu is None and batch.xl is None and len(batch.xs) == 4


def test_an_epoch_is_one_pass_over_the_source_and_repeatable():
    d = _dataset()
    it = StreamIterator(d, 4, torch.Generator().manual_seed(0))
    batches = list(it)
    assert len(it) == len(batches) == 3  # ceil(10 / 4)
    assert all(isinstance(b, TransferBatch) for b in batches)
    seen = torch.cat([b.xs[:, 0] for b in batches]).sort().values
    np.testing.assert_array_equal(seen.numpy(), d.xs[:, 0].numpy())  # each source row once
    again = list(StreamIterator(d, 4, torch.Generator().manual_seed(0)))
    for a, b in zip(batches, again):
        for ta, tb in zip(a, b):
            assert (ta is None and tb is None) or torch.equal(ta, tb)


def test_n_steps_runs_over_successive_permutations():
    d = _dataset()
    batches = list(StreamIterator(d, 4, torch.Generator().manual_seed(1), n_steps=7))
    assert len(batches) == 7
    rows = torch.cat([b.xs[:, 0] for b in batches[:3]]).sort().values
    np.testing.assert_array_equal(rows.numpy(), d.xs[:, 0].numpy())


def test_unlabeled_rows_are_drawn_without_replacement_and_labeled_with():
    d = _dataset(n_s=40, n_l=3, n_u=6)
    it = StreamIterator(d, 4, torch.Generator().manual_seed(0))
    batches = list(it)
    u = torch.cat([b.xu[:, 0] for b in batches])
    n_u = len(d.xu)  # the 6 unlabeled and the 3 labeled target rows
    assert n_u == 9
    # within every run of n_u draws (one permutation) each target row appears once
    for start in range(0, len(u) - n_u + 1, n_u):
        assert len(set(u[start:start + n_u].tolist())) == n_u
    assert all(len(b.xl) == 4 for b in batches)  # batch_size rows from 3: with replacement
    assert all(set(b.xl[:, 0].tolist()) <= set(d.xl[:, 0].tolist()) for b in batches)
    assert all(torch.equal(b.yl, d.yl[(b.xl[:, 0] - d.xl[0, 0]).long() // 2]) for b in batches)


def test_unlabeled_batches_are_capped_at_the_stream_size():
    d = _dataset(n_l=0, n_u=2)
    batch = next(iter(StreamIterator(d, 4, torch.Generator().manual_seed(0))))
    assert len(batch.xu) == 2


def test_batch_to_cpu_is_a_no_op_and_keeps_none():
    b = TransferBatch(torch.zeros(2, 1), torch.zeros(2, dtype=torch.int64), torch.ones(2))
    assert b.to("cpu") is b
    if not torch.cuda.is_available():
        pytest.skip("moving a batch to another device needs a GPU")
    moved = b.to("cuda")
    assert moved.xs.is_cuda and moved.xu is None


def test_unit_weights_are_left_out_and_other_weights_kept():
    d = _dataset()
    assert d.ws is None and d.wl is None  # every row weighs 1: nothing to multiply
    batch = next(iter(StreamIterator(d, 4, torch.Generator().manual_seed(0))))
    assert batch.ws is None and batch.wl is None
    w = np.ones(18)
    w[3], w[11] = 2.0, 0.5
    d = _dataset(weights=w)
    assert d.ws.tolist().count(2.0) == 1 and d.wl.tolist().count(0.5) == 1
    batch = next(iter(StreamIterator(d, 4, torch.Generator().manual_seed(0))))
    assert len(batch.ws) == 4 and len(batch.wl) == 4
