"""Deep CORAL (Sun & Saenko, ECCV 2016 workshops) and its gated version."""

from .engine import TransferNet
from .losses import coral

__all__ = ["DeepCORAL"]


class DeepCORAL(TransferNet):
    """Deep CORAL: align the second-order statistics of source and target features.

    The classifier is trained on the source and the labeled target
    (:ref:`decision D20 <decision-d20>`) and F also minimises
    ``mu`` × ‖C_s − C_t‖²_F / (4d²), the squared Frobenius
    distance between the covariances of the source and target bottleneck
    features of each batch (eq. (1) of the paper: no square root).

    ``gate=True`` is DeepCORAL_gate (:ref:`method-gated-methods`,
    :ref:`decision D21 <decision-d21>`): an extra
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
        Final weight of the CORAL loss (the paper's λ), ramped by
        ``mu_schedule``.
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
        Training log (``clf_loss``, ``transfer_loss`` = the weighted CORAL
        loss, ``d_loss`` and ``omega_mean`` when gated).
    n_iter_ : int
        Optimisation steps taken by the last call to ``fit`` or ``partial_fit``.

    See Also
    --------
    DAN : The same scheme with multi-kernel MMD.
    skntl.fit_target_only : The target-only twin DeepCORAL_T
        (:ref:`decision D16 <decision-d16>`).

    References
    ----------
    .. [1] Sun and Saenko, "Deep CORAL: Correlation Alignment for Deep Domain
       Adaptation", ECCV 2016 workshops.
    .. [2] Wang, Dai, Póczos and Carbonell, "Characterizing and Avoiding
       Negative Transfer", CVPR 2019.

    Examples
    --------
    >>> from skntl import DeepCORAL
    >>> from skntl.datasets import make_transfer_blobs
    >>> Xs, ys, Xt, _ = make_transfer_blobs(200, 100, marginal_shift=3.0, random_state=0)
    >>> net = DeepCORAL(max_epochs=5, random_state=0).fit(Xs, ys, Xt_u=Xt)
    >>> net.transform(Xt).shape        # the aligned bottleneck features
    (100, 64)
    """

    _aligns_without_discriminator = True

    def __init__(self, module=None, *, gate=False, gate_lambda=1.0, mu=1.0, **kwargs):
        super().__init__(module, gate=gate, gate_lambda=gate_lambda, mu=mu, **kwargs)

    def _transfer_loss(self, fs, fu, fl):
        if min(len(fs), len(fu)) < 2:  # a one-row batch has no covariance
            return None
        return self.current_mu() * coral(fs, fu)
