"""DANN (Ganin et al., JMLR 2016) and DANN_gate (Wang et al., CVPR 2019)."""

from .engine import TransferNet
from .gate import DANN_SPEC, PAPER_VARIANTS

__all__ = ["DANN"]


class DANN(TransferNet):
    """Domain-adversarial neural network, with the discriminator gate as an option.

    ``gate=False`` is semi-supervised DANN, :ref:`eqs. (5)–(7) <method-dann>`: the
    classifier is trained on source and labeled target, a marginal
    discriminator D(f) learns to tell target from source features and F
    receives −μ·∇ of D's loss through a gradient reversal layer.

    ``gate=True`` is DANN_gate: each source row's classification loss is
    weighted by ω = SG(D(f_s, y_s)/(1 − D(f_s, y_s))) from a
    label-conditioned discriminator, scaled by ``gate_lambda``. skntl's gate
    (the default, ``"detached"``) keeps that discriminator out of the
    adversarial game altogether: it learns the four BCE terms of eq. (10) on
    detached features and only gives ω, normalised per source batch, and
    the features are *not* aligned adversarially. Our design study on
    development tasks chose it over gates that keep DANN's alignment
    (``"separate"``, ``"separate_align"``): with a corrupted source,
    aligning the features to the target hurt more than it helped. The
    paper's gate, ``gate_variant="full"`` (or ``"paper"``), uses one
    discriminator for both, adversarial on all four terms, with ω applied
    as is. With no labeled target, ω comes from the marginal output.
    ``gate_variant`` also selects the paper's ablations.

    Parameters
    ----------
    module : None, str, torch.nn.Module instance or class, default=None
        The network F + C; see :class:`~skntl.deep.TransferNet`.
    gate : bool, default=False
        Use the discriminator gate.
    gate_lambda : float, default=1.0
        λ of eq. (9).
    mu : float, default=1.0
        Final gradient-reversal coefficient μ (ramped by ``mu_schedule``).
    gate_variant : {None, "detached", "separate", "separate_align", "full", "paper", \
"gate_only", "label_only", "joint", "marginal", "none"}, default=None
        Used when ``gate=True``. None is skntl's gate, ``"detached"``
        (above). ``"separate"`` keeps DANN's label-free adversarial
        discriminator beside a detached gate discriminator;
        ``"separate_align"`` also weights the alignment's source rows by
        ω. The paper's: ``"full"`` (alias ``"paper"``) is its
        DANN_gate; ``"gate_only"`` gates with a label-free discriminator and
        plain eq. (7); ``"label_only"`` trains on eq. (10) with ω ≡ 1;
        ``"joint"`` / ``"marginal"`` let F receive the reversed gradient of
        only the joint / marginal terms of eq. (10); ``"none"`` trains D only
        to produce ω. The paper's variants apply ω as is unless
        ``omega_normalize=True``. Ignored when ``gate=False``.
    **kwargs
        Every other parameter of :class:`~skntl.deep.TransferNet`
        (``hidden_layer_sizes``, ``max_epochs``, ``batch_size``, ``lr``,
        ``random_state``, skorch's ``prefix__name`` parameters, ...).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    module_ : TransferModule
        The trained F + C.
    discriminator_ : Discriminator
        The trained discriminator.
    history_ : skorch.History
        Training log (``d_loss``, ``clf_loss``, ``omega_mean`` per epoch).
    n_iter_ : int
        Optimisation steps taken by the last call to ``fit`` or ``partial_fit``.

    See Also
    --------
    skntl.fit_target_only : The target-only twin DANN_T.

    References
    ----------
    .. [1] Ganin, Ustinova, Ajakan, Germain, Larochelle, Laviolette, Marchand
       and Lempitsky, "Domain-Adversarial Training of Neural Networks", JMLR 2016.
    .. [2] Wang, Dai, Póczos and Carbonell, "Characterizing and Avoiding
       Negative Transfer", CVPR 2019.

    Examples
    --------
    >>> from skntl import DANN
    >>> import numpy as np
    >>> rng = np.random.RandomState(0)
    >>> Xs, ys = rng.randn(200, 5), rng.randint(0, 2, 200)
    >>> Xs[:, 0] += 3 * ys
    >>> Xt = rng.randn(100, 5) + 0.5
    >>> yt = (Xt[:, 0] > 2).astype(int)
    >>> net = DANN(gate=True, max_epochs=5, random_state=0)
    >>> net.fit(Xs, ys, Xt[:10], yt[:10], Xt).predict(Xt[:3]).shape
    (3,)
    """

    _ungated_spec = DANN_SPEC
    _gate_variants = frozenset(PAPER_VARIANTS | {"detached", "separate", "separate_align"})
    _paper_gate_variant = "full"

    def __init__(self, module=None, *, gate=False, gate_lambda=1.0, mu=1.0, gate_variant=None,
                 **kwargs):
        super().__init__(module, gate=gate, gate_lambda=gate_lambda, mu=mu,
                         gate_variant=gate_variant, **kwargs)
