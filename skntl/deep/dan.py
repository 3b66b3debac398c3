"""DAN (Long et al., ICML 2015) and its gated version (Wang et al., CVPR 2019)."""

from ..utils._param_validation import StrOptions
from .engine import TransferNet
from .losses import DAN_KERNEL_POWERS, mk_mmd

__all__ = ["DAN"]


class DAN(TransferNet):
    """Deep adaptation network: align source and target features with multi-kernel MMD.

    The classifier is trained on the source and the labeled target
    (:ref:`decision D20 <decision-d20>`) and F also minimises ``mu`` ×
    MK-MMD² between the bottleneck features of the source and target
    batches — and, with ``adapt_logits=True``, between their logits too, as
    DAN adapts its last layers. The kernel averages
    Gaussian kernels with bandwidths 2^k × the batch's mean squared distance,
    k = −3…1, with equal weights (see :func:`skntl.deep.losses.mk_mmd`).

    ``gate=True`` is DAN_gate (:ref:`method-gated-methods`, :ref:`decision D21
    <decision-d21>`): an extra
    label-conditioned discriminator on **detached** features is trained with
    eq. (10) and used only to weight each source row's classification loss by
    ω = SG(D/(1−D)); F is not trained adversarially.

    Parameters
    ----------
    module : None, str, torch.nn.Module instance or class, default=None
        The network F + C; see :class:`~skntl.deep.TransferNet`.
    gate : bool, default=False
        Use the discriminator gate.
    gate_lambda : float, default=1.0
        λ of eq. (9).
    mu : float, default=1.0
        Final weight of the MMD loss (DAN's λ), ramped by ``mu_schedule``.
    mmd_estimator : {"unbiased", "linear"}, default="unbiased"
        The unbiased quadratic-time estimator of MMD², or DAN's linear-time
        one (cheaper, noisier).
    adapt_logits : bool, default=False
        Also add the MK-MMD² between source and target logits.
    **kwargs
        Every other parameter of :class:`~skntl.deep.TransferNet`.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    module_ : TransferModule
        The trained F + C.
    discriminator_ : Discriminator or None
        The gate's discriminator (``gate=True``), else None.
    history_ : skorch.History
        Training log (``clf_loss``, ``transfer_loss`` = the weighted MMD,
        ``d_loss`` and ``omega_mean`` when gated).
    n_iter_ : int
        Optimisation steps taken by the last call to ``fit`` or ``partial_fit``.

    See Also
    --------
    DeepCORAL : The same scheme with the CORAL distance.
    skntl.fit_target_only : The target-only twin DAN_T (CE on the labeled
        target plus MMD between it and the unlabeled target,
        :ref:`decision D16 <decision-d16>`).

    References
    ----------
    .. [1] Long, Cao, Wang and Jordan, "Learning Transferable Features with Deep
       Adaptation Networks", ICML 2015.
    .. [2] Gretton, Borgwardt, Rasch, Schölkopf and Smola, "A Kernel Two-Sample
       Test", JMLR 2012.
    .. [3] Wang, Dai, Póczos and Carbonell, "Characterizing and Avoiding
       Negative Transfer", CVPR 2019.

    Examples
    --------
    >>> from skntl import DAN
    >>> from skntl.datasets import make_transfer_blobs
    >>> Xs, ys, Xt, yt = make_transfer_blobs(200, 100, marginal_shift=3.0, random_state=0)
    >>> net = DAN(gate=True, max_epochs=5, random_state=0).fit(Xs, ys, Xt[:9], yt[:9], Xt)
    >>> net.predict(Xt[:3]).shape
    (3,)
    """

    _aligns_without_discriminator = True

    _parameter_constraints = {
        **TransferNet._parameter_constraints,
        "mmd_estimator": [StrOptions({"unbiased", "linear"})],
        "adapt_logits": ["boolean"],
    }

    def __init__(self, module=None, *, gate=False, gate_lambda=1.0, mu=1.0,
                 mmd_estimator="unbiased", adapt_logits=False, **kwargs):
        super().__init__(module, gate=gate, gate_lambda=gate_lambda, mu=mu, **kwargs)
        self.mmd_estimator = mmd_estimator
        self.adapt_logits = adapt_logits

    def _transfer_loss(self, fs, fu, fl):
        if min(len(fs), len(fu)) < 2:  # a one-row batch has no MMD estimate
            return None
        loss = self._mmd(fs, fu)
        if self.adapt_logits:
            classifier = self.module_.classifier
            loss = loss + self._mmd(classifier(fs), classifier(fu))
        return self.current_mu() * loss

    def _mmd(self, a, b):
        return mk_mmd(a, b, kernel_powers=DAN_KERNEL_POWERS, estimator=self.mmd_estimator)
