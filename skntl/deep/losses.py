"""Distribution distances between source and target features, in torch.

* :func:`mk_mmd` — the multi-kernel maximum mean discrepancy of DAN (Long et
  al., ICML 2015), with Gretton et al.'s unbiased quadratic estimator or the
  linear-time one (JMLR 2012, Sec. 6).
* :func:`coral` — the CORAL distance of Deep CORAL (Sun & Saenko, ECCV 2016
  workshops), ‖C_s − C_t‖²_F / (4d²).

Both take two batches of features ``(n, d)`` and return a differentiable
scalar.
"""

import torch

__all__ = ["coral", "mean_squared_distance", "mk_mmd"]

#: DAN's kernel family: bandwidths 2^k × the mean squared distance, k = −3…1.
DAN_KERNEL_POWERS = (-3, -2, -1, 0, 1)


def mean_squared_distance(z):
    """Return the mean of ‖z_i − z_j‖² over pairs i ≠ j, in linear time.

    Uses Σ_{i,j} ‖z_i − z_j‖² = 2n Σ_i ‖z_i‖² − 2 ‖Σ_i z_i‖².

    Parameters
    ----------
    z : torch.Tensor of shape (n, d)
        At least two rows.

    Returns
    -------
    torch.Tensor
        A scalar.
    """
    n = len(z)
    total = 2 * n * z.pow(2).sum() - 2 * z.sum(0).pow(2).sum()
    return total / (n * (n - 1))


def _bandwidths(xs, xt, kernel_powers):
    # The bandwidth is a constant of the loss, not something to optimise:
    # otherwise F could shrink every kernel's reach instead of aligning.
    base = mean_squared_distance(torch.cat([xs, xt]).detach())
    base = torch.clamp(base, min=torch.finfo(xs.dtype).tiny)
    return [base * 2.0**k for k in kernel_powers]


def _kernel_sum(sq_dist, bandwidths):
    return sum(torch.exp(-sq_dist / bw) for bw in bandwidths) / len(bandwidths)


def mk_mmd(xs, xt, *, kernel_powers=DAN_KERNEL_POWERS, estimator="unbiased"):
    """Return the multi-kernel MMD² between two batches (DAN, Long et al. 2015).

    The kernel is the equal-weight average of Gaussian kernels
    exp(−‖a − b‖² / σ_k) with σ_k = 2^k × the mean squared pairwise distance
    of the joined batch (treated as a constant), k in ``kernel_powers``.

    Parameters
    ----------
    xs : torch.Tensor of shape (m, d)
        Source features.
    xt : torch.Tensor of shape (n, d)
        Target features.
    kernel_powers : sequence of int, default=(-3, -2, -1, 0, 1)
        The exponents k of the bandwidth multipliers 2^k.
    estimator : {"unbiased", "linear"}, default="unbiased"
        ``"unbiased"``: the quadratic-time unbiased estimator MMD²_u
        (m, n ≥ 2, sizes may differ). ``"linear"``: the linear-time estimator
        of Gretton et al. (2012), averaging
        h = k(s₁, s₂) + k(t₁, t₂) − k(s₁, t₂) − k(s₂, t₁) over disjoint pairs
        (uses the first 2⌊min(m, n)/2⌋ rows of each).

    Returns
    -------
    torch.Tensor
        The MMD² estimate, a scalar (the unbiased estimates can be slightly
        negative).
    """
    bandwidths = _bandwidths(xs, xt, kernel_powers)
    if estimator == "linear":
        half = min(len(xs), len(xt)) // 2
        if half == 0:
            raise ValueError("The linear MMD estimator needs at least 2 rows per batch.")
        s1, s2 = xs[: 2 * half : 2], xs[1 : 2 * half : 2]
        t1, t2 = xt[: 2 * half : 2], xt[1 : 2 * half : 2]

        def k(a, b):
            return _kernel_sum((a - b).pow(2).sum(1), bandwidths)

        return (k(s1, s2) + k(t1, t2) - k(s1, t2) - k(s2, t1)).mean()
    if estimator != "unbiased":
        raise ValueError(f"estimator must be 'unbiased' or 'linear', got {estimator!r}.")
    m, n = len(xs), len(xt)
    if m < 2 or n < 2:
        raise ValueError("The unbiased MMD estimator needs at least 2 rows per batch.")
    z = torch.cat([xs, xt])
    sq = z.pow(2).sum(1)
    sq_dist = torch.clamp(sq[:, None] + sq[None, :] - 2 * z @ z.T, min=0)
    K = _kernel_sum(sq_dist, bandwidths)
    k_ss, k_tt, k_st = K[:m, :m], K[m:, m:], K[:m, m:]
    # Off-diagonal means: the diagonal k(x, x) = 1 for every Gaussian kernel.
    mean_ss = (k_ss.sum() - m) / (m * (m - 1))
    mean_tt = (k_tt.sum() - n) / (n * (n - 1))
    return mean_ss + mean_tt - 2 * k_st.mean()


def coral(xs, xt):
    """Return the CORAL loss ‖C_s − C_t‖²_F / (4d²) (Sun & Saenko 2016, eq. (1)).

    C_s and C_t are the unbiased feature covariances of the two batches. The
    squared Frobenius norm is used as in the paper, with no square root.

    Parameters
    ----------
    xs : torch.Tensor of shape (m, d)
        Source features, m ≥ 2.
    xt : torch.Tensor of shape (n, d)
        Target features, n ≥ 2.

    Returns
    -------
    torch.Tensor
        A scalar.
    """
    if len(xs) < 2 or len(xt) < 2:
        raise ValueError("CORAL needs at least 2 rows per batch.")
    d = xs.shape[1]
    return (torch.cov(xs.T) - torch.cov(xt.T)).pow(2).sum() / (4 * d * d)
