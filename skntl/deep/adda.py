"""ADDA (Tzeng et al., CVPR 2017) and ADDA_gate (Wang et al., CVPR 2019)."""

import copy
from numbers import Integral, Real

import torch
from torch.nn import functional as F

from ..utils._param_validation import Interval
from ._schedules import dann_ramp
from .engine import TransferNet
from .gate import TERMS, GateSpec, gate_step
from .modules import frozen_call

__all__ = ["ADDA"]

#: ADDA's discriminator without the gate: marginal D(f), trained on detached
#: features (the target encoder gets the inverted-label GAN loss instead of a
#: reversed gradient), ω ≡ 1.
_ADDA_SPEC = GateSpec(frozenset(TERMS[:2]), frozenset(), None)


class ADDA(TransferNet):
    """Adversarial discriminative domain adaptation, with the discriminator gate as an option.

    Training has two phases within ``max_epochs`` (:ref:`decisions D20
    <decision-d20>` and :ref:`D21 <decision-d21>`).

    1. **Pretraining** (the first ``pretrain_epochs`` epochs): the encoder F
       and the classifier C are trained with cross-entropy on the source and
       the labeled target. The discriminator D already learns on detached
       features (so it starts the second phase warm); it sends nothing back.
    2. **Adaptation** (the remaining epochs): at its first step F is frozen
       into the *source encoder* (``source_encoder_``) and the trainable F
       becomes the *target encoder*, starting equal to it. D learns to tell
       source-encoder features of the source from target-encoder features of
       the target; the target encoder is trained with the inverted-label GAN
       loss μ·BCE(D(F(x_u)), source) — not a gradient reversal — which does
       not update D. The classifier keeps training on the source through the
       frozen source encoder and, with the target encoder, on the labeled
       target, so that the target encoder and C are fine-tuned on the labeled
       target during adaptation. Prediction uses the target encoder.

    ``gate=False`` is semi-supervised ADDA: a marginal D(f). ``gate=True`` is
    ADDA_gate: one discriminator D(f, onehot_{K+1}(y)) trained on the four
    BCE terms of eq. (10) — target-encoder features for the target, source
    encoder features for the source — and each source row's classification
    loss is weighted by ω = SG(D(f_s, y_s)/(1 − D(f_s, y_s))), scaled by
    ``gate_lambda``, in both phases. In the adaptation phase the target
    encoder also tries to pass its labeled pairs (F(x_l), y_l) off as source
    pairs. With no labeled target, ω comes from the marginal output
    (:ref:`decision D11 <decision-d11>`).

    Parameters
    ----------
    module : None, str, torch.nn.Module instance or class, default=None
        The network F + C; see :class:`~skntl.deep.TransferNet`.
    gate : bool, default=False
        Use the discriminator gate.
    gate_lambda : float, default=1.0
        λ of eq. (9).
    mu : float, default=1.0
        Final weight μ of the target encoder's GAN loss. With
        ``mu_schedule="dann"`` it ramps from 0 over the adaptation phase.
    encoder_lr_factor : float, default=0.1
        The target encoder's learning rate in the adaptation phase, as a
        fraction of its pretraining rate (see Notes).
    pretrain_epochs : int or None, default=None
        Epochs of the pretraining phase, at most ``max_epochs``; the
        adaptation phase takes the rest. None means ``max_epochs // 2``.
        With ``pretrain_epochs == max_epochs`` there is no adaptation.
    **kwargs
        Every other parameter of :class:`~skntl.deep.TransferNet`
        (``hidden_layer_sizes``, ``max_epochs``, ``batch_size``, ``lr``,
        ``random_state``, skorch's ``prefix__name`` parameters, ...).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    module_ : TransferModule
        The trained target encoder (``module_.feature``) and classifier;
        used by ``predict`` and ``transform``.
    source_encoder_ : torch.nn.Module
        The frozen source encoder: a copy of F taken at the first adaptation
        step, never trained (parameters without gradient, always in eval
        mode). Before that step (or with no adaptation phase) it holds F's
        initial weights and is not used.
    discriminator_ : Discriminator
        The trained discriminator. :meth:`predict_weights` scores source rows
        on the source encoder's features, as D saw them.
    n_pretrain_steps_ : int
        Optimisation steps of the pretraining phase,
        ``pretrain_epochs * ceil(n_source / batch_size)``; the adaptation
        phase began at this step if ``n_iter_`` exceeds it.
    history_ : skorch.History
        Training log (``clf_loss``, ``d_loss``, ``omega_mean`` per epoch, and
        ``transfer_loss``, the target encoder's GAN loss before μ, in the
        adaptation epochs).
    n_iter_ : int
        Optimisation steps taken by the last call to ``fit`` or ``partial_fit``.

    See Also
    --------
    skntl.DANN : The same adversarial idea with one shared encoder and a
        gradient reversal layer.
    skntl.fit_target_only : The target-only twin ADDA_T: pretrain on the
        labeled target, then adapt the target encoder to the unlabeled target
        against the labeled target's features (:ref:`decision D16 <decision-d16>`).

    Notes
    -----
    At the switch the encoder gets an optimiser state of its own, as if the
    adaptation stage had its own optimiser (as in [1]_): its moments (e.g.
    Adam's) are reset and its learning rate becomes
    ``encoder_lr_factor`` × its pretraining rate; D's and C's carry on. Adversarial
    training is sensitive to the encoder's step size: with the full rate the
    target encoder overshoots (the GAN loss collapses while D's loss soars)
    and the gate's ω stops telling clean from corrupted source rows.

    With ``warm_start=True`` every call to ``fit`` runs both phases again,
    starting from the current target encoder.

    References
    ----------
    .. [1] Tzeng, Hoffman, Saenko and Darrell, "Adversarial Discriminative
       Domain Adaptation", CVPR 2017.
    .. [2] Wang, Dai, Póczos and Carbonell, "Characterizing and Avoiding
       Negative Transfer", CVPR 2019.

    Examples
    --------
    >>> from skntl import ADDA
    >>> from skntl.datasets import make_transfer_blobs
    >>> Xs, ys, Xt, yt = make_transfer_blobs(200, 100, marginal_shift=3.0, random_state=0)
    >>> net = ADDA(max_epochs=6, pretrain_epochs=3, random_state=0).fit(Xs, ys, Xt_u=Xt)
    >>> net.n_pretrain_steps_          # 3 epochs of ceil(200 / 64) steps
    12
    """

    _eval_only_modules = ("source_encoder",)

    _aligns_without_discriminator = True

    _parameter_constraints = {
        **TransferNet._parameter_constraints,
        "pretrain_epochs": [Interval(Integral, 0, None, closed="left"), None],
        "encoder_lr_factor": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(self, module=None, *, gate=False, gate_lambda=1.0, mu=1.0, pretrain_epochs=None,
                 encoder_lr_factor=0.1, **kwargs):
        super().__init__(module, gate=gate, gate_lambda=gate_lambda, mu=mu, **kwargs)
        self.pretrain_epochs = pretrain_epochs
        self.encoder_lr_factor = encoder_lr_factor

    # ------------------------------------------------------------------ hooks
    _ungated_spec = _ADDA_SPEC

    def _source_gate_logits(self, x, y):
        encoder = self.source_encoder_ if self._adapted() else self.module_.feature
        return self.discriminator_(encoder(x), y)

    # ------------------------------------------------------------ set-up
    def _pretrain_epochs(self):
        return self.max_epochs // 2 if self.pretrain_epochs is None else self.pretrain_epochs

    def _check_params(self):
        super()._check_params()
        if self._pretrain_epochs() > self.max_epochs:
            raise ValueError(
                f"pretrain_epochs must be at most max_epochs={self.max_epochs} (the "
                f"pretraining phase is part of the max_epochs epochs); got "
                f"pretrain_epochs={self.pretrain_epochs}."
            )

    def initialize_module(self):
        """Build F + C and D, and the frozen source encoder (a copy of F)."""
        super().initialize_module()
        # Set inside skorch's module context, so it is registered (moved to the
        # device, saved with f_source_encoder=...) like module_ and discriminator_.
        self.source_encoder_ = copy.deepcopy(self.module_.feature).requires_grad_(False).eval()
        return self

    def get_all_learnable_params(self):
        """Yield the trainable parameters (the frozen source encoder's are left out)."""
        for name, param in super().get_all_learnable_params():
            if param.requires_grad:
                yield name, param

    # --------------------------------------------------------------- fitting
    def _adapted(self):
        """Whether the adaptation phase has begun (the source encoder is in use)."""
        return self.n_iter_ > self.n_pretrain_steps_

    def current_mu(self):
        """Return μ at the current step: ``mu_schedule`` runs over the adaptation phase.

        The GAN loss exists only in the adaptation phase, so the ``"dann"`` ramp
        rises from 0 at its first step to ``mu`` at the end of training.
        """
        if self.mu_schedule == "constant" or not hasattr(self, "n_pretrain_steps_"):
            return super().current_mu()
        start = self.n_pretrain_steps_
        p = (self.n_iter_ - start) / max(1, self._total_steps_ - start)
        return float(self.mu) * dann_ramp(min(1.0, max(0.0, p)))

    def _plan_training(self, steps_per_epoch, dataset):
        super()._plan_training(steps_per_epoch, dataset)
        self.n_pretrain_steps_ = self._pretrain_epochs() * steps_per_epoch
        self._switch_pending = True

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        """Switch to the adaptation phase at its first step (after the step's learning rates)."""
        super().on_batch_begin(net, batch=batch, training=training, **kwargs)
        if training and self._switch_pending and self.n_iter_ >= self.n_pretrain_steps_:
            self._start_adaptation()
            self._switch_pending = False

    def on_train_end(self, net, X=None, y=None, **kwargs):
        """Forget the phase switch's bookkeeping."""
        super().on_train_end(net, X=X, y=y, **kwargs)
        vars(self).pop("_switch_pending", None)

    def _start_adaptation(self):
        """Freeze the current F into the source encoder; F goes on as the target encoder."""
        self.source_encoder_.load_state_dict(self.module_.feature.state_dict())
        # The encoder's loss changes from cross-entropy to the GAN loss: give it
        # optimiser state of its own, as ADDA's separate adaptation stage does
        # (Adam's second moments from pretraining would blow up the first GAN
        # steps), in a param group with the slower adaptation rate.
        encoder = {id(p) for p in self.module_.feature.parameters()}
        moved = []
        for group in list(self.optimizer_.param_groups):
            mine = [p for p in group["params"] if id(p) in encoder]
            if not mine:
                continue
            for param in mine:
                self.optimizer_.state.pop(param, None)
            if group.get("adda_encoder"):  # a warm-started refit: already its own group
                continue
            group["params"] = [p for p in group["params"] if id(p) not in encoder]
            new = {k: v for k, v in group.items() if k != "params"}
            new["lr"] = group["lr"] * self.encoder_lr_factor
            new["initial_lr"] = group.get("initial_lr", group["lr"]) * self.encoder_lr_factor
            moved.append({**new, "params": mine, "adda_encoder": True})
        self.optimizer_.param_groups[:] = [g for g in self.optimizer_.param_groups if g["params"]]
        for group in moved:
            self.optimizer_.add_param_group(group)

    def _inverted_gan_loss(self, fu, fl, yl):
        """Return the target encoder's loss: BCE of D calling its features source (label 0).

        D is evaluated with detached parameters, so this loss trains the
        encoder only. With the gate and target labels, the labeled pairs
        (f_l, y_l) are included as a second term.
        """
        d = self.discriminator_
        joint = self._gate_spec().label_conditioned and fl is not None and len(fl) > 0
        if joint:
            f = torch.cat([fu, fl])
            nil = torch.full((len(fu),), d.n_classes, dtype=torch.int64, device=fu.device)
            y = torch.cat([nil, yl])
        else:
            f, y = fu, None
        logits = frozen_call(d, f, y)
        bce = F.binary_cross_entropy_with_logits(logits, torch.zeros_like(logits), reduction="none")
        if not joint:
            return bce.mean()
        bce_u, bce_l = torch.split(bce, [len(fu), len(fl)])
        return bce_u.mean() + bce_l.mean()

    def train_step_single(self, batch, **fit_params):
        """One step: the engine's default in pretraining, ADDA's update in adaptation.

        In adaptation, the loss is D's BCE on (source-encoder source features,
        target-encoder target features), which trains D only; plus μ times the
        inverted-label GAN loss, which trains the target encoder only; plus
        the (gated) classification loss of the source through the frozen
        source encoder and of the labeled target through the target encoder.
        """
        if self.n_iter_ < self.n_pretrain_steps_:
            return super().train_step_single(batch, **fit_params)
        ws, adv_weight = self._step_prologue(batch)
        with torch.no_grad():
            fs = self.source_encoder_(batch.xs)
        fu, fl = self._encode_streams(self.module_.feature, batch.xu, batch.xl)
        omega = None
        loss = fs.new_zeros(())
        if fu is not None:
            out = gate_step(
                self.discriminator_, self._gate_spec(), fs, batch.ys, fu, fl, batch.yl,
                mu=self.current_mu(), source_weight=adv_weight,
            )
            omega = out.omega
            gan = self._inverted_gan_loss(fu, fl, batch.yl)
            loss = loss + out.loss + self.current_mu() * gan
            self._record_batch(d_loss=out.loss.item(), transfer_loss=gan.item())
        clf, logits_s = self._classification_loss(batch, fs, fl, ws, omega)
        loss = loss + clf
        loss.backward()
        return {"loss": loss, "y_pred": logits_s}
