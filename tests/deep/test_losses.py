"""MK-MMD and CORAL against direct numpy computations of their definitions."""

import numpy as np
import pytest
import torch

from skntl.deep.losses import DAN_KERNEL_POWERS, coral, mean_squared_distance, mk_mmd


def _np_mk_mmd(xs, xt, powers=DAN_KERNEL_POWERS):
    """MMD²_u written as the double sums of Gretton et al. (2012), eq. (3)."""
    z = np.vstack([xs, xt])
    n = len(z)
    pair_sq = [np.sum((z[i] - z[j]) ** 2) for i in range(n) for j in range(n) if i != j]
    base = np.mean(pair_sq)

    def k(a, b):
        d = np.sum((a - b) ** 2)
        return np.mean([np.exp(-d / (base * 2.0**p)) for p in powers])

    m, nt = len(xs), len(xt)
    ss = sum(k(xs[i], xs[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    tt = sum(k(xt[i], xt[j]) for i in range(nt) for j in range(nt) if i != j) / (nt * (nt - 1))
    st = sum(k(xs[i], xt[j]) for i in range(m) for j in range(nt)) / (m * nt)
    return ss + tt - 2 * st


def test_mean_squared_distance_is_the_pairwise_mean():
    z = np.random.RandomState(0).randn(7, 3)
    expected = np.mean([np.sum((a - b) ** 2) for i, a in enumerate(z)
                        for j, b in enumerate(z) if i != j])
    assert mean_squared_distance(torch.as_tensor(z)).item() == pytest.approx(expected)


def test_unbiased_mk_mmd_matches_the_definition():
    rng = np.random.RandomState(0)
    xs, xt = rng.randn(9, 4), rng.randn(6, 4) + 0.8  # unequal sizes
    got = mk_mmd(torch.as_tensor(xs), torch.as_tensor(xt)).item()
    assert got == pytest.approx(_np_mk_mmd(xs, xt), rel=1e-9)


def test_mk_mmd_separates_shifted_from_identical_distributions():
    rng = np.random.RandomState(1)
    a, b = (torch.as_tensor(rng.randn(200, 5)) for _ in range(2))
    shifted = b + 1.0
    for estimator in ("unbiased", "linear"):
        same = mk_mmd(a, b, estimator=estimator).item()
        diff = mk_mmd(a, shifted, estimator=estimator).item()
        assert abs(same) < 0.02 and diff > 0.1, (estimator, same, diff)


def test_linear_estimator_is_unbiased_for_the_same_quantity():
    # Averaged over many batches the linear and quadratic estimates agree.
    rng = np.random.RandomState(2)
    lin, quad = [], []
    for _ in range(300):
        xs, xt = torch.as_tensor(rng.randn(20, 3)), torch.as_tensor(rng.randn(20, 3) + 0.5)
        lin.append(mk_mmd(xs, xt, estimator="linear").item())
        quad.append(mk_mmd(xs, xt).item())
    assert np.mean(lin) == pytest.approx(np.mean(quad), abs=0.02)
    assert np.std(lin) > np.std(quad)  # the price of linear time


def test_bandwidth_is_a_constant_of_the_loss():
    rng = np.random.RandomState(3)
    xs = torch.as_tensor(rng.randn(8, 3), dtype=torch.float64).requires_grad_()
    xt = torch.as_tensor(rng.randn(8, 3) + 1, dtype=torch.float64)
    mk_mmd(xs, xt).backward()
    base = mean_squared_distance(torch.cat([xs, xt]).detach())
    xs2 = xs.detach().clone().requires_grad_()
    z = torch.cat([xs2, xt])
    d = ((z[:, None] - z[None]) ** 2).sum(-1)
    K = sum(torch.exp(-d / (base * 2.0**p)) for p in DAN_KERNEL_POWERS) / 5
    m = 8
    manual = ((K[:m, :m].sum() - m) / (m * (m - 1)) + (K[m:, m:].sum() - m) / (m * (m - 1))
              - 2 * K[:m, m:].mean())
    manual.backward()
    torch.testing.assert_close(xs.grad, xs2.grad)


def test_mk_mmd_errors():
    x = torch.zeros((1, 2))
    with pytest.raises(ValueError, match="at least 2 rows"):
        mk_mmd(x, torch.zeros((3, 2)))
    with pytest.raises(ValueError, match="at least 2 rows"):
        mk_mmd(x, x, estimator="linear")
    with pytest.raises(ValueError, match="estimator must be"):
        mk_mmd(torch.zeros((3, 2)), torch.zeros((3, 2)), estimator="biased")


def test_coral_matches_the_paper_formula_without_square_root():
    rng = np.random.RandomState(4)
    xs, xt = rng.randn(30, 4), rng.randn(25, 4) @ rng.randn(4, 4)
    expected = np.sum((np.cov(xs, rowvar=False) - np.cov(xt, rowvar=False)) ** 2) / (4 * 16)
    got = coral(torch.as_tensor(xs), torch.as_tensor(xt)).item()
    assert got == pytest.approx(expected)
    # squared Frobenius norm: scaling both feature sets by 2 scales the loss by 16
    assert coral(torch.as_tensor(2 * xs), torch.as_tensor(2 * xt)).item() == pytest.approx(
        16 * expected
    )


def test_coral_ignores_means_and_vanishes_for_equal_covariances():
    xs = torch.as_tensor(np.random.RandomState(5).randn(40, 3))
    assert coral(xs, xs + 5.0).item() == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError, match="at least 2 rows"):
        coral(xs[:1], xs)
