"""The discriminator gate of Wang et al. (CVPR 2019), shared by every deep method.

One discriminator D(f, onehot_{K+1}(y)) answers two questions: with the
``nil`` label it is the marginal discriminator "is f from the target?", with a
real label the joint one "is (f, y) a target pair?" (:ref:`method-aug-adv`). It
is trained on the four BCE terms of eq. (10), in BCE form (:ref:`the sign
convention <method-signs>`: D *minimises* the BCE)::

    (1) BCE(D(f_u, nil), 1)    unlabeled target inputs      "marginal target"
    (2) BCE(D(f_s, nil), 0)    source inputs                "marginal source"
    (3) BCE(D(f_l, y_l), 1)    labeled target pairs         "joint target"
    (4) BCE(D(f_s, y_s), 0)    source pairs                 "joint source"

and its joint output on a source pair gives the importance weight
ω = SG(D/(1−D)) of eq. (9), with D clamped before the ratio
(:ref:`decision D10 <decision-d10>`).

Which terms D trains on, which of them send a reversed gradient to F, and
where ω comes from is a :class:`GateSpec`; Table 4's ablation variants and
plain DANN are specs (:ref:`method-ablations`, :ref:`decision D23
<decision-d23>`), so is the non-adversarial gate of DAN and DeepCORAL
(:ref:`decision D21 <decision-d21>`: D on detached features, used only for ω).
"""

import math
from dataclasses import dataclass

import torch
from torch.nn import functional as F

from .modules import grad_reverse

__all__ = ["GATE_VARIANTS", "PAPER_VARIANTS", "GateOutput", "GateSpec", "gate_step"]

TERMS = ("marginal_target", "marginal_source", "joint_target", "joint_source")
_MARGINAL = frozenset(TERMS[:2])
_ALL = frozenset(TERMS)


@dataclass(frozen=True)
class GateSpec:
    """What the discriminator is trained on and what it feeds back.

    Parameters
    ----------
    trained : frozenset of str
        The eq.-(10) terms D is trained on (names in ``TERMS``).
    adversarial : frozenset of str
        The subset of ``trained`` whose reversed gradient (−μ·∇) reaches F;
        the other terms see detached features.
    omega : {"joint", "marginal"} or None
        Where ω comes from: D's joint output on (f_s, y_s), its marginal
        output on f_s, or nowhere (ω ≡ 1, no gate).
    separate : bool, default=False
        Use two discriminators (a :class:`~skntl.deep.modules.SeparateDiscriminator`):
        the ``adversarial`` terms train a label-free discriminator whose
        reversed gradient reaches F, and all ``trained`` terms train a gate
        discriminator on detached features that gives ω. With False one
        discriminator does both.
    normalize : bool, default=False
        Whether ω is divided by its source-batch mean unless the estimator's
        ``omega_normalize`` says otherwise. The paper's variants apply ω as
        is; skntl's own normalise it.
    align : bool, default=False
        Whether ω also weights the source rows of the adversarial alignment
        terms unless the estimator's ``omega_align`` says otherwise.
    """

    trained: frozenset
    adversarial: frozenset
    omega: str | None
    separate: bool = False
    normalize: bool = False
    align: bool = False

    @property
    def label_conditioned(self):
        """Whether D needs the label input (any joint term is trained)."""
        return bool(self.trained - _MARGINAL)


#: Plain DANN, eqs. (5)–(7): marginal D, F adversarial on it, ω ≡ 1.
DANN_SPEC = GateSpec(_MARGINAL, _MARGINAL, None)

#: Every gate by name: the paper's gate and its Table 4 ablations (``PAPER_VARIANTS``), and
#: skntl's gates ``"separate"``, ``"separate_align"`` and ``"detached"``.
GATE_VARIANTS = {
    "full": GateSpec(_ALL, _ALL, "joint"),
    "gate_only": GateSpec(_MARGINAL, _MARGINAL, "marginal"),
    "label_only": GateSpec(_ALL, _ALL, None),
    "joint": GateSpec(_ALL, frozenset(TERMS[2:]), "joint"),
    "marginal": GateSpec(_ALL, _MARGINAL, "joint"),
    "none": GateSpec(_ALL, frozenset(), "joint"),
    "separate": GateSpec(_ALL, _MARGINAL, "joint", separate=True, normalize=True),
    "separate_align": GateSpec(_ALL, _MARGINAL, "joint", separate=True, normalize=True,
                               align=True),
    "detached": GateSpec(_ALL, frozenset(), "joint", normalize=True),
}

#: The paper's gates (eqs. 9–11 with ω applied as is) and its Table 4 ablations.
PAPER_VARIANTS = frozenset({"full", "gate_only", "label_only", "joint", "marginal", "none"})


@dataclass
class GateOutput:
    """Result of one :func:`gate_step`.

    Attributes
    ----------
    loss : torch.Tensor
        Sum of the trained BCE terms (a scalar; D minimises it, F receives
        −μ·∇ of its adversarial terms through the gradient reversal).
    omega : torch.Tensor of shape (n_source,) or None
        Detached source weights, None when the spec has no gate.
    terms : dict of str to torch.Tensor
        Each trained term's BCE value (detached).
    """

    loss: torch.Tensor
    omega: torch.Tensor | None
    terms: dict


def _logit_bound(clamp):
    return math.log((1.0 - clamp) / clamp)


def omega_from_logits(logits, clamp=1e-4):
    """Return ω = D/(1−D) for D = sigmoid(logits), D clamped to [clamp, 1−clamp].

    D/(1−D) = exp(logit), so clamping D is clamping the logit
    (:ref:`decision D10 <decision-d10>`).

    Parameters
    ----------
    logits : torch.Tensor
        D's logits.
    clamp : float, default=1e-4
        Clamp on D before the ratio.

    Returns
    -------
    torch.Tensor
        ω, same shape as ``logits``, detached.
    """
    bound = _logit_bound(clamp)
    return torch.exp(logits.detach().clamp(-bound, bound))


def normalize_omega(omega):
    """Divide ω by its batch mean, keeping only the relative trust between rows."""
    return omega / omega.mean().clamp_min(torch.finfo(omega.dtype).tiny)


def _times_omega(source_weight, omega):
    """``source_weight`` (None: all ones) times the batch-normalised ω."""
    w = normalize_omega(omega)
    return w if source_weight is None else source_weight * w


def gate_step(
    discriminator, spec, fs, ys, fu, fl=None, yl=None, *, mu=1.0, clamp=1e-4, source_weight=None,
    omega_align=False,
):
    """Compute the discriminator loss of eq. (10) and the gate weights ω of eq. (9).

    Parameters
    ----------
    discriminator : Discriminator
        D; called as ``discriminator(f, y)`` with ``y=None`` for ``nil``.
    spec : GateSpec
        Which terms are trained and adversarial, and where ω comes from.
    fs, fu, fl : torch.Tensor
        Features of the source, unlabeled-target and labeled-target batches
        (``fl`` None or empty when there are no target labels).
    ys, yl : torch.Tensor of int64
        Encoded labels of the source and labeled-target batches.
    mu : float, default=1.0
        The gradient-reversal coefficient applied to the adversarial terms.
    clamp : float, default=1e-4
        Clamp on D before ω = D/(1−D) (:ref:`decision D10 <decision-d10>`).
    source_weight : torch.Tensor of shape (n_source,), default=None
        Weights of the source rows in the source terms' BCE (PADA's
        class-weighted adversarial loss); None weighs every row 1.
    omega_align : bool, default=False
        Also weight the source rows of the adversarial terms by ω (divided by
        its batch mean), so that rows the gate distrusts are not aligned.

    Returns
    -------
    GateOutput
        With no labeled target the joint terms are dropped and ω comes from
        the marginal output (:ref:`decision D11 <decision-d11>`).
    """
    if spec.separate:
        gate = gate_step(
            discriminator.gate, GateSpec(spec.trained, frozenset(), spec.omega), fs, ys, fu, fl,
            yl, clamp=clamp,
        )
        if omega_align and gate.omega is not None:
            source_weight = _times_omega(source_weight, gate.omega)
        align = gate_step(
            discriminator.align, GateSpec(spec.adversarial & _MARGINAL, spec.adversarial, None),
            fs, ys, fu, mu=mu, source_weight=source_weight,
        )
        terms = {**{f"gate_{k}": v for k, v in gate.terms.items()}, **align.terms}
        return GateOutput(loss=gate.loss + align.loss, omega=gate.omega, terms=terms)
    has_labels = fl is not None and len(fl) > 0
    trained = spec.trained if has_labels else spec.trained & _MARGINAL
    omega_from = spec.omega
    if omega_from == "joint" and not has_labels:
        omega_from = "marginal"

    # Every term's (features, label) rows go through D in one forward pass,
    # behind one gradient reversal when all of them are adversarial.
    nil = discriminator.n_classes
    inputs = {
        "marginal_target": (fu, None, 1.0),
        "marginal_source": (fs, None, 0.0),
        "joint_target": (fl, yl, 1.0),
        "joint_source": (fs, ys, 0.0),
    }
    needed = [
        name
        for name in TERMS
        if name in trained or (omega_from is not None and name == f"{omega_from}_source")
    ]
    sizes = [len(inputs[name][0]) for name in needed]
    adversarial = [name in spec.adversarial for name in needed]
    if all(adversarial):
        f_all = grad_reverse(torch.cat([inputs[name][0] for name in needed]), mu)
    elif not any(adversarial):
        f_all = torch.cat([inputs[name][0] for name in needed]).detach()
    else:
        f_all = torch.cat([
            grad_reverse(inputs[name][0], mu) if adv else inputs[name][0].detach()
            for name, adv in zip(needed, adversarial)
        ])
    y_all = None
    if nil:
        y_all = torch.cat([
            torch.full((n,), nil, dtype=torch.int64, device=fs.device)
            if inputs[name][1] is None
            else inputs[name][1]
            for name, n in zip(needed, sizes)
        ])
    z_all = discriminator(f_all, y_all)
    logits = dict(zip(needed, torch.split(z_all, sizes) if len(needed) > 1 else (z_all,)))

    omega = None
    if omega_from is not None:
        omega = omega_from_logits(logits[f"{omega_from}_source"], clamp)
    align_weight = source_weight
    if omega_align and omega is not None:
        align_weight = _times_omega(source_weight, omega)

    # Each trained term is the mean BCE of its rows (weighted for the source
    # terms when weights are given), against a constant domain label.
    terms = {}
    loss = None
    for name in needed:
        if name not in trained:
            continue
        z = logits[name]
        target = torch.full_like(z, inputs[name][2])
        weight = None
        if name.endswith("_source"):
            aligned = name == "marginal_source" and name in spec.adversarial
            weight = align_weight if aligned else source_weight
        if weight is None:
            term = F.binary_cross_entropy_with_logits(z, target)
        else:
            term = (F.binary_cross_entropy_with_logits(z, target, reduction="none") * weight).mean()
        terms[name] = term.detach()
        loss = term if loss is None else loss + term
    if loss is None:
        loss = fs.new_zeros(())
    return GateOutput(loss=loss, omega=omega, terms=terms)
