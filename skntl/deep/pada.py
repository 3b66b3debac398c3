"""PADA (Cao et al., ECCV 2018) and its gated version (Wang et al., CVPR 2019)."""

from numbers import Integral

import torch

from ..utils._param_validation import Interval
from .engine import TransferNet
from .gate import DANN_SPEC

__all__ = ["PADA"]


class PADA(TransferNet):
    """Partial adversarial domain adaptation: DANN with class weights from the target.

    PADA is DANN (a marginal discriminator and a gradient reversal layer)
    whose source rows are weighted by how much the target seems to contain
    their class: γ = the mean softmax prediction over the target inputs,
    recomputed every ``class_weight_epochs`` epochs (uniform before the first
    update). Source row i weighs γ[y_i]/max(γ) in the adversarial loss and
    γ[y_i]/mean(γ) in the classification loss, so classes absent from the
    target fade out of both. The labeled target enters the classification
    loss unweighted (:ref:`decision D20 <decision-d20>`).

    ``gate=True`` is PADA_gate: each source row's classification weight is
    multiplied by ω = SG(D/(1−D)) from a label-conditioned discriminator
    (``gate_variant`` says which; the paper's trains PADA's own
    discriminator on eq. (10), its source terms keeping the class weights).

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
    class_weight_epochs : int, default=1
        Recompute γ every this many epochs, from predictions on every target
        input (eval mode).
    gate_variant : {None, "detached", "separate", "separate_align", "full", "paper"}, \
default=None
        Used when ``gate=True``. None is skntl's gate, ``"detached"``: a
        label-conditioned discriminator on detached features gives ω,
        normalised per batch, and the features are not aligned
        adversarially (PADA's class weights still weight the classification
        loss). ``"separate"`` keeps PADA's class-weighted adversarial
        discriminator beside that gate (``"separate_align"`` also weights
        the alignment's rows by ω). ``"full"`` (alias ``"paper"``) is the
        paper's single label-conditioned discriminator, adversarial on all
        four terms, ω applied as is. See :class:`~skntl.DANN`.
    **kwargs
        Every other parameter of :class:`~skntl.deep.TransferNet`.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    class_weight_ : ndarray of shape (n_classes,)
        The last γ, normalised by its maximum, in ``classes_`` order.
    module_ : TransferModule
        The trained F + C.
    discriminator_ : Discriminator
        The trained discriminator.
    history_ : skorch.History
        Training log (``clf_loss``, ``d_loss``, and ``omega_mean`` when gated).
    n_iter_ : int
        Optimisation steps taken by the last call to ``fit`` or ``partial_fit``.

    See Also
    --------
    DANN : PADA without the class weights.
    skntl.fit_target_only : The target-only twin PADA_T (labeled target as
        source, class weights from predictions on the unlabeled target,
        :ref:`decision D16 <decision-d16>`).

    References
    ----------
    .. [1] Cao, Ma, Long and Wang, "Partial Adversarial Domain Adaptation",
       ECCV 2018.
    .. [2] Wang, Dai, Póczos and Carbonell, "Characterizing and Avoiding
       Negative Transfer", CVPR 2019.

    Examples
    --------
    >>> from skntl import PADA
    >>> import numpy as np
    >>> rng = np.random.RandomState(0)
    >>> Xs, ys = rng.randn(300, 5), rng.randint(0, 3, 300)
    >>> Xs[:, 0] += 3 * ys
    >>> Xt = Xs[ys < 2] + 0.3                     # the target lacks class 2
    >>> net = PADA(max_epochs=10, random_state=0).fit(Xs, ys, Xt_u=Xt)
    >>> net.class_weight_.argmin()
    np.int64(2)
    """

    _parameter_constraints = {
        **TransferNet._parameter_constraints,
        "class_weight_epochs": [Interval(Integral, 1, None, closed="left")],
    }
    _ungated_spec = DANN_SPEC
    _gate_variants = frozenset({"full", "detached", "separate", "separate_align"})
    _paper_gate_variant = "full"

    def __init__(self, module=None, *, gate=False, gate_lambda=1.0, mu=1.0,
                 class_weight_epochs=1, gate_variant=None, **kwargs):
        super().__init__(module, gate=gate, gate_lambda=gate_lambda, mu=mu,
                         gate_variant=gate_variant, **kwargs)
        self.class_weight_epochs = class_weight_epochs

    def _plan_training(self, steps_per_epoch, dataset):
        super()._plan_training(steps_per_epoch, dataset)
        self._target_inputs = dataset.xu
        self._update_every = self.class_weight_epochs * steps_per_epoch
        self._gamma = torch.ones(len(self.classes_), device=self.device)

    def on_epoch_begin(self, net, **kwargs):
        """Recompute γ every ``class_weight_epochs`` epochs, before the epoch's first step."""
        super().on_epoch_begin(net, **kwargs)
        if self._target_inputs is not None and self.n_iter_ > 0 and (
            self.n_iter_ % self._update_every == 0
        ):
            proba = self._eval_chunks(
                lambda xb: torch.softmax(self.module_(xb), dim=1), self._target_inputs
            )
            self._gamma = torch.as_tensor(proba.mean(axis=0), device=self.device)

    def on_train_end(self, net, X=None, y=None, **kwargs):
        """Keep the last γ as ``class_weight_``."""
        super().on_train_end(net, X=X, y=y, **kwargs)
        self.class_weight_ = (self._gamma / self._gamma.max()).cpu().numpy()
        for name in ("_target_inputs", "_update_every", "_gamma"):
            vars(self).pop(name, None)

    def _source_row_weights(self, ys):
        gamma = self._gamma[ys]
        return gamma / self._gamma.mean(), gamma / self._gamma.max()
