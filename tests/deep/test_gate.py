"""The discriminator gate: signs, stop-gradient, and the data of each eq.-(10) term."""

import math

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from skntl.deep.gate import DANN_SPEC, GATE_VARIANTS, TERMS, gate_step, omega_from_logits
from skntl.deep.modules import Discriminator, SeparateDiscriminator, grad_reverse

K = 3


def _batches(seed=0, n=8, d=4, labeled=True):
    g = torch.Generator().manual_seed(seed)
    fs = torch.randn(n, d, generator=g)
    fu = torch.randn(n, d, generator=g) + 1.0
    ys = torch.randint(K, (n,), generator=g)
    fl = torch.randn(n, d, generator=g) + 1.0 if labeled else None
    yl = torch.randint(K, (n,), generator=g) if labeled else None
    return fs, ys, fu, fl, yl


class RecordingDiscriminator(nn.Module):
    """Returns f[:, 0] as the logit and records what it was called with."""

    def __init__(self, n_classes=K):
        super().__init__()
        self.n_classes = n_classes
        self.calls = []

    def forward(self, f, y=None):
        self.calls.append((f.detach().clone(), None if y is None else y.clone()))
        return f[:, 0]


def test_terms_use_the_right_data_and_targets():
    fs, ys, fu, fl, yl = _batches()
    D = RecordingDiscriminator()
    out = gate_step(D, GATE_VARIANTS["full"], fs, ys, fu, fl, yl)
    (f_in, y_in), = D.calls
    nil = torch.full((len(fs),), K)
    # order: marginal target (Tu, nil), marginal source (S, nil), joint target (TL, yl),
    # joint source (S, ys)
    torch.testing.assert_close(f_in, torch.cat([fu, fs, fl, fs]))
    torch.testing.assert_close(y_in, torch.cat([nil, nil, yl, ys]))
    expected = {
        "marginal_target": F.binary_cross_entropy_with_logits(fu[:, 0], torch.ones(8)),
        "marginal_source": F.binary_cross_entropy_with_logits(fs[:, 0], torch.zeros(8)),
        "joint_target": F.binary_cross_entropy_with_logits(fl[:, 0], torch.ones(8)),
        "joint_source": F.binary_cross_entropy_with_logits(fs[:, 0], torch.zeros(8)),
    }
    assert set(out.terms) == set(TERMS)
    for name, value in expected.items():
        torch.testing.assert_close(out.terms[name], value)
    torch.testing.assert_close(out.loss, sum(expected.values()))
    # ω comes from the joint output on the source pairs: exp(logit) = D / (1 - D)
    torch.testing.assert_close(out.omega, torch.exp(fs[:, 0]))


def test_plain_dann_uses_only_the_marginal_terms():
    fs, ys, fu, fl, yl = _batches()
    D = RecordingDiscriminator(n_classes=0)
    out = gate_step(D, DANN_SPEC, fs, ys, fu, fl, yl)
    assert set(out.terms) == {"marginal_target", "marginal_source"}
    assert out.omega is None
    (f_in, y_in), = D.calls
    torch.testing.assert_close(f_in, torch.cat([fu, fs]))
    assert y_in is None


def test_without_target_labels_joint_terms_drop_and_omega_is_marginal():
    fs, ys, fu, _, _ = _batches(labeled=False)
    D = RecordingDiscriminator()
    out = gate_step(D, GATE_VARIANTS["full"], fs, ys, fu)
    assert set(out.terms) == {"marginal_target", "marginal_source"}
    torch.testing.assert_close(out.omega, torch.exp(fs[:, 0]))  # marginal source logits


def test_discriminator_bce_decreases_when_trained():
    torch.manual_seed(0)
    fs, ys, fu, fl, yl = _batches(n=64)
    D = Discriminator(fs.shape[1], K, (16,))
    opt = torch.optim.Adam(D.parameters(), lr=1e-2)
    losses = []
    for _ in range(60):
        out = gate_step(D, GATE_VARIANTS["full"], fs, ys, fu, fl, yl)
        opt.zero_grad()
        out.loss.backward()
        opt.step()
        losses.append(out.loss.item())
    assert losses[-1] < 0.7 * losses[0]


def _adversarial_grad(spec, mu, seed=0):
    """Gradient F's weights get from gate_step's loss, and −μ× the plain BCE gradient."""
    torch.manual_seed(seed)
    xs, ys, xu, xl, yl = _batches(seed)
    feat = nn.Linear(4, 5)
    D = (SeparateDiscriminator if spec.separate else Discriminator)(5, K, (7,))
    out = gate_step(D, spec, feat(xs), ys, feat(xu), feat(xl), yl, mu=mu)
    if spec.separate:  # the adversarial terms go through the label-free head
        D = D.align
    (got,) = torch.autograd.grad(out.loss, feat.weight, allow_unused=True)
    got = torch.zeros_like(feat.weight) if got is None else got
    # the same terms without gradient reversal, restricted to the adversarial ones
    f = {"s": feat(xs), "u": feat(xu), "l": feat(xl)}
    plain = {
        "marginal_target": F.binary_cross_entropy_with_logits(D(f["u"]), torch.ones(8)),
        "marginal_source": F.binary_cross_entropy_with_logits(D(f["s"]), torch.zeros(8)),
    }
    if not spec.separate:
        plain["joint_target"] = F.binary_cross_entropy_with_logits(D(f["l"], yl), torch.ones(8))
        plain["joint_source"] = F.binary_cross_entropy_with_logits(D(f["s"], ys), torch.zeros(8))
    adv = sum(plain[t] for t in spec.adversarial) if spec.adversarial else None
    want = (
        torch.zeros_like(got)
        if adv is None
        else -mu * torch.autograd.grad(adv, feat.weight)[0]
    )
    return got, want


@pytest.mark.parametrize("variant", sorted(GATE_VARIANTS))
def test_feature_gradient_is_minus_mu_times_adversarial_bce_gradient(variant):
    got, want = _adversarial_grad(GATE_VARIANTS[variant], mu=0.37)
    torch.testing.assert_close(got, want)
    if GATE_VARIANTS[variant].adversarial:
        assert got.abs().sum() > 0


def test_discriminator_gradient_is_unreversed():
    torch.manual_seed(0)
    fs, ys, fu, fl, yl = _batches()
    D = Discriminator(4, K, (7,))
    out = gate_step(D, GATE_VARIANTS["full"], fs, ys, fu, fl, yl, mu=0.5)
    got = torch.autograd.grad(out.loss, D.net[0].weight)[0]
    plain = (
        F.binary_cross_entropy_with_logits(D(fu), torch.ones(8))
        + F.binary_cross_entropy_with_logits(D(fs), torch.zeros(8))
        + F.binary_cross_entropy_with_logits(D(fl, yl), torch.ones(8))
        + F.binary_cross_entropy_with_logits(D(fs, ys), torch.zeros(8))
    )
    want = torch.autograd.grad(plain, D.net[0].weight)[0]
    torch.testing.assert_close(got, want)


def test_omega_is_detached():
    fs, ys, fu, fl, yl = _batches()
    feat = nn.Linear(4, 4)
    D = Discriminator(4, K, (7,))
    out = gate_step(D, GATE_VARIANTS["full"], feat(fs), ys, feat(fu), feat(fl), yl)
    assert not out.omega.requires_grad and out.omega.grad_fn is None
    # a loss built from ω alone sends no gradient anywhere
    weighted = (out.omega * feat(fs).sum(1)).sum()
    (g_d,) = torch.autograd.grad(weighted, [D.net[0].weight], allow_unused=True)
    assert g_d is None


def test_omega_clamps_d_before_the_ratio():
    z = torch.tensor([-50.0, 0.0, 50.0])
    omega = omega_from_logits(z, clamp=1e-4)
    d_lo, d_hi = 1e-4, 1 - 1e-4
    torch.testing.assert_close(
        omega, torch.tensor([d_lo / (1 - d_lo), 1.0, d_hi / (1 - d_hi)])
    )
    assert math.isclose(omega[2].item() * omega[0].item(), 1.0, rel_tol=1e-5)


def test_grad_reverse_is_identity_forward_and_negated_backward():
    x = torch.randn(5, requires_grad=True)
    y = grad_reverse(x, 0.25)
    torch.testing.assert_close(y, x)
    (g,) = torch.autograd.grad(y.sum(), x)
    torch.testing.assert_close(g, torch.full((5,), -0.25))


def test_discriminator_label_input_is_one_hot_with_nil_slot():
    D = Discriminator(2, K, (3,))
    f = torch.zeros(2, 2)
    # y=None and y=K (nil) give the same logits; a real label differs
    torch.testing.assert_close(D(f), D(f, torch.tensor([K, K])))
    assert not torch.allclose(D(f), D(f, torch.tensor([0, 1])))
    assert D.net[0].in_features == 2 + K + 1


def test_separate_gate_reads_omega_from_a_detached_label_conditioned_head():
    torch.manual_seed(0)
    fs, ys, fu, fl, yl = _batches()
    fs.requires_grad_(True)
    D = SeparateDiscriminator(4, K, (7,))
    out = gate_step(D, GATE_VARIANTS["separate"], fs, ys, fu, fl, yl, mu=1.0)
    torch.testing.assert_close(out.omega, torch.exp(D.gate(fs, ys)).detach())
    # the gate head trains on all four terms, the align head on the marginal two
    assert set(out.terms) == {f"gate_{t}" for t in TERMS} | set(TERMS[:2])
    # F's gradient comes from the align head only: the gate head sees detached features
    (g_sep,) = torch.autograd.grad(out.loss, fs)
    fs2 = fs.detach().clone().requires_grad_(True)
    marginal = F.binary_cross_entropy_with_logits(D.align(fs2), torch.zeros(len(fs)))
    (g_align,) = torch.autograd.grad(marginal, fs2)
    torch.testing.assert_close(g_sep, -g_align)


def test_omega_align_weights_only_the_adversarial_source_rows():
    fs, ys, fu, fl, yl = _batches()
    for spec in (GATE_VARIANTS["full"], GATE_VARIANTS["separate"]):
        D = (SeparateDiscriminator if spec.separate else RecordingDiscriminator)(
            *((4, K, (7,)) if spec.separate else ())
        )
        plain = gate_step(D, spec, fs, ys, fu, fl, yl)
        aligned = gate_step(D, spec, fs, ys, fu, fl, yl, omega_align=True)
        torch.testing.assert_close(aligned.omega, plain.omega)
        w = plain.omega / plain.omega.mean()
        head = D.align if spec.separate else D
        logits = head(fs) if spec.separate else fs[:, 0]
        want = (F.binary_cross_entropy_with_logits(logits, torch.zeros(8), reduction="none")
                * w).mean()
        torch.testing.assert_close(aligned.terms["marginal_source"], want)
        assert not torch.allclose(aligned.terms["marginal_source"],
                                  plain.terms["marginal_source"])
        for name in set(plain.terms) - {"marginal_source"}:
            torch.testing.assert_close(aligned.terms[name], plain.terms[name])


def test_projection_discriminator_scores_the_label_by_an_embedding():
    torch.manual_seed(0)
    D = Discriminator(4, K, (6, 5), kind="projection")
    f = torch.randn(10, 4)
    y = torch.randint(K, (10,))
    # the embedding starts at zero: every label scores like nil
    torch.testing.assert_close(D(f, y), D(f))
    with torch.no_grad():
        D.embed.weight.normal_()
    h = D.net(f)
    want = D.head(h).squeeze(1) + (D.embed.weight[y] * h).sum(1)
    torch.testing.assert_close(D(f, y), want)
    assert not torch.allclose(D(f, y), D(f))
    with pytest.raises(ValueError, match="kind"):
        Discriminator(4, K, kind="bilinear")
