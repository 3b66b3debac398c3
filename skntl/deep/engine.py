"""The deep transfer engine: a skorch classifier trained on three data streams.

:class:`TransferNet` is a :class:`skorch.NeuralNetClassifier` that trains
through skorch's own loop (``fit`` → ``partial_fit`` → ``fit_loop`` →
``run_single_epoch`` → ``train_step`` → ``train_step_single``) and plugs the
transfer setting into skorch's seams:

* ``get_dataset`` / ``dataset``: a :class:`~skntl.deep.TransferDataset` of the
  packed rows, split into a source, an unlabeled-target and a labeled-target
  stream;
* ``get_split_datasets`` / ``train_split``: skorch's validation split, applied
  to the labeled target rows only;
* ``get_iterator`` / ``iterator_train``: a :class:`~skntl.deep.StreamIterator`
  yielding one :class:`~skntl.deep.TransferBatch` of the three streams per
  step (the labeled target sampled with replacement);
* ``train_step_single``: the method's loss;
* the net's own callback hooks: the learning-rate schedule (``on_batch_begin``),
  the step count that drives every schedule (``on_batch_end``), per-epoch means
  of the loss terms (``on_epoch_end``).

A method subclass only says what makes it itself:

* :meth:`TransferNet._gate_spec` — which discriminator terms it trains, which
  are adversarial and whether it gates the source loss (see :mod:`.gate`);
* :meth:`TransferNet._transfer_loss` — any extra loss on the features (MMD,
  CORAL, ...);
* :meth:`TransferNet._source_row_weights` — per-row weights of the source
  losses (PADA's class weights);
* :meth:`TransferNet._build_discriminator` and
  :meth:`TransferNet._source_gate_logits` — where the gate's discriminator
  lives and what it sees (GTA's sits on images, ADDA's reads the source
  encoder).

A method whose update rule differs altogether (ADDA's second phase, GTA)
overrides :meth:`TransferNet.train_step_single`, starts it with
:meth:`TransferNet._step_prologue` and reuses
:meth:`TransferNet._classification_loss` and :func:`.gate.gate_step`.
"""

import math
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils.validation import (
    _check_sample_weight,
    _num_samples,
    check_is_fitted,
    validate_data,
)
from skorch import NeuralNetClassifier
from skorch.callbacks import PrintLog
from skorch.dataset import Dataset, unpack_data
from skorch.utils import is_dataset
from torch import nn

from .._data import LABELED_TARGET, UNLABELED_TARGET
from ..base import TransferMixin
from ..utils._param_validation import Interval, StrOptions
from ._checks import (
    _check_device,
    _check_float32_range,
    _check_skorch_components,
    _monitored_valid_metrics,
)
from ._schedules import dann_ramp, inverse_decay
from .gate import GATE_VARIANTS, gate_step, normalize_omega, omega_from_logits
from .modules import Discriminator, SeparateDiscriminator, build_network
from .streams import StreamIterator, TransferDataset

__all__ = ["TransferNet"]

_PREDICT_CHUNK = 1024


def _softmax(logits):
    return torch.softmax(logits, dim=1)


def _identity(logits):
    return logits


class _PrintLog(PrintLog):
    """skorch's ``PrintLog``, without building the table nobody sees.

    ``PrintLog`` formats the epoch's table even when ``verbose=0`` and its
    sink is ``print`` (which then prints nothing); this one skips the
    formatting in that case and otherwise behaves as ``PrintLog``.
    """

    def on_epoch_end(self, net, **kwargs):
        if self.sink is print and not net.verbose:
            self.first_iteration_ = False  # as PrintLog: the header went to the silent sink
            return
        super().on_epoch_end(net, **kwargs)


class TransferNet(TransferMixin, TransformerMixin, NeuralNetClassifier):
    """Base class of the deep transfer methods (a skorch ``NeuralNetClassifier``).

    Not used directly: :class:`~skntl.DANN` and the other methods subclass it.
    The parameters below are shared by all of them.

    Parameters
    ----------
    module : None, str, torch.nn.Module instance or class, default=None
        The network F + C. ``None`` picks ``"mlp"`` for 2-D inputs and
        ``"lenet"`` for 32×32 images. ``"mlp"``: ReLU MLP with
        ``hidden_layer_sizes`` (the last width is the bottleneck f) and a
        linear classifier. ``"lenet"``: GTA's modified LeNet (128-d f) and
        C = 128→128→K (:ref:`method-lenet`). ``"resnet50"``: ResNet-50 with a
        256-d bottleneck; pass ``module__weights=<local file>`` for pretrained
        weights. A user module must have submodules ``feature`` (x → f) and
        ``classifier`` (f → logits) with ``forward(x) = classifier(feature(x))``
        (see :class:`~skntl.deep.TransferModule`); a class is instantiated
        with the ``module__*`` parameters.
    hidden_layer_sizes : tuple of int, default=(128, 64)
        Hidden widths of the ``"mlp"`` module.
    discriminator_hidden : tuple of int, default=(256, 256)
        Hidden widths of the domain discriminator (:ref:`decision D9
        <decision-d9>`; :func:`~skntl.deep.paper_preset` uses (500, 500) for
        digits and (1024, 1024) for ResNet-50).
    gate : bool, default=False
        Use the discriminator gate: weight each source row's classification
        loss by ω = SG(D/(1−D)) from a label-conditioned discriminator
        (:ref:`eqs. (9)–(11) <method-gate-loss>`).
    gate_lambda : float, default=1.0
        λ of eq. (9), scaling the gated source loss. The paper uses 1.
    gate_variant : str or None, default=None
        Which gate ``gate=True`` uses. None: skntl's gate, chosen by a design
        study on development tasks (see the user guide's gate page).
        ``"paper"``: the paper's gate exactly, eqs. (9)–(11) with ω applied
        as is. :class:`~skntl.DANN` and :class:`~skntl.PADA` take more
        names (their docstrings list them).
    omega_normalize : bool or None, default=None
        Divide ω by its mean over the source batch before weighting, so that
        only the relative trust between source rows remains. None: as the
        gate variant does (skntl's gates normalise, the paper's variants do
        not). Unnormalised, ω's batch mean follows the discriminator's game
        and the source loss's scale swings with it.
    gate_warmup : float in [0, 1), default=0.0
        Fraction of training over which ω is phased in: the weight of a
        source row is ``1 + r·(ω − 1)`` with ``r`` rising linearly from 0 to 1
        over the first ``gate_warmup`` of the steps, so the classifier first
        learns from every source row while the discriminator learns what to
        trust. 0 gates from the first step.
    omega_align : bool or None, default=None
        Also weight each source row of the adversarial alignment loss by its
        ω (divided by the batch mean), so that rows the gate distrusts are
        not aligned with the target. None: as the gate variant does. Used by
        the methods that align with a discriminator (DANN, PADA).
    discriminator_kind : {"concat", "projection"}, default="concat"
        How the gate's discriminator sees the label (see
        :class:`~skntl.deep.modules.Discriminator`).
    mu : float, default=1.0
        Final weight μ of the adversarial term (the gradient-reversal
        coefficient), reached by ``mu_schedule``.
    mu_schedule : {"dann", "constant"}, default="dann"
        ``"dann"`` ramps μ as ``mu * (2/(1+exp(-10p)) - 1)`` with p the
        fraction of training done (:ref:`decision D13 <decision-d13>`);
        ``"constant"`` uses ``mu`` throughout.
    lr_schedule : {None, "dann"}, default=None
        ``"dann"`` decays every learning rate as ``(1+10p)^-0.75``
        (:ref:`decision D14 <decision-d14>`).
    criterion : torch loss class or instance, default=torch.nn.CrossEntropyLoss
        The classification loss, called on the classifier's logits and the
        encoded labels. It is built with ``reduction="none"`` (the training
        loss weights every source row) and its ``criterion__*`` parameters,
        e.g. ``criterion__label_smoothing=0.1``; the validation loss is its
        mean.
    optimizer : torch optimizer class, default=torch.optim.Adam
        One optimiser for F, C and D (:ref:`one training step
        <method-training-step>`).
    lr : float, default=1e-3
        Learning rate.
    max_epochs : int, default=30
        Epochs; one epoch is ``steps_per_epoch`` steps.
    steps_per_epoch : int or None, default=None
        Optimisation steps per epoch. None: ``ceil(n_source / batch_size)``,
        one pass over the source rows. :func:`~skntl.fit_target_only` sets it
        on the target-only twin so that the twin takes as many steps as the
        transfer model it is compared with.
    batch_size : int, default=64
        Rows per stream per step (source, unlabeled target, labeled target).
    train_split : None or callable, default=None
        skorch's internal validation split, applied to the **labeled target**
        rows (e.g. ``skorch.dataset.ValidSplit(0.2)``) so that ``valid_loss``
        and ``valid_acc`` measure the target; enables early stopping. The
        held-out rows stay in the unlabeled-target stream, without labels.
    callbacks : list or None, default=None
        skorch callbacks (progress bar, checkpoint, LR scheduler, gradient
        clipping, early stopping, ...), notified per epoch and per batch as
        in any skorch net. Scoring callbacks score the validation split
        (``on_train=False``); the training batches mix three streams.
    warm_start : bool, default=False
        As in skorch: ``fit`` continues training the current networks
        instead of building new ones, and the history goes on.
    verbose : int, default=0
        skorch's per-epoch log when > 0.
    device : str, default="cpu"
        Torch device, e.g. ``"cuda"``.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, batch sampling and dropout; with the same value
        CPU training is bit-for-bit repeatable.
    classes : array-like or None, default=None
        As in skorch: every class the network should have (its output
        units), when the labels passed to ``fit`` do not show them all. None:
        the classes of the labels.
    dataset : class, default=TransferDataset
        skorch's dataset: holds the packed rows of a fit and their three
        streams. A subclass of :class:`~skntl.deep.TransferDataset` may
        change how the streams are built; ``dataset__*`` parameters go to it.
    iterator_train : class, default=StreamIterator
        skorch's training iterator: yields one epoch of three-stream
        batches. A subclass of :class:`~skntl.deep.StreamIterator` may change
        how they are drawn; ``iterator_train__*`` parameters go to it
        (``iterator_train__batch_size`` overrides ``batch_size``).
    iterator_valid : class, default=torch.utils.data.DataLoader
        skorch's iterator over the validation split (``iterator_valid__*``
        parameters go to it).
    predict_nonlinearity : "auto", None or callable, default="auto"
        What turns the classifier's logits into ``predict_proba``'s output:
        ``"auto"`` is the softmax, None returns the logits, a callable is
        applied to them.
    compile : bool, default=False
        As in skorch: ``torch.compile`` the networks (F + C and D) when they
        are built (``compile__*`` parameters go to it).
    use_caching : bool or "auto", default="auto"
        As in skorch: whether scoring callbacks reuse the validation step's
        predictions instead of predicting again.
    torch_load_kwargs : dict or None, default=None
        As in skorch: keyword arguments of ``torch.load`` in ``load_params``.
    **kwargs
        skorch's ``prefix__name`` parameters (``module__*``,
        ``optimizer__*``, ``callbacks__*``, ...).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels seen in ``fit``.
    n_features_in_ : int
        Number of input features (2-D input).
    module_ : TransferModule
        The trained F + C.
    discriminator_ : Discriminator or None
        The trained domain discriminator, None for methods without one.
    history_ : skorch.History
        Per-epoch and per-batch training log, with the extra entries
        ``clf_loss``, ``d_loss`` and ``omega_mean`` where they apply.
    n_iter_ : int
        Optimisation steps taken by the last call to ``fit`` or ``partial_fit``
        (the schedules count them from 0 at every call).
    """

    _parameter_constraints = {
        "hidden_layer_sizes": ["array-like"],
        "discriminator_hidden": ["array-like"],
        "gate": ["boolean"],
        "gate_lambda": [Interval(Real, 0, None, closed="left")],
        "omega_normalize": ["boolean", None],
        "gate_variant": [str, None],
        "gate_warmup": [Interval(Real, 0, 1, closed="left")],
        "omega_align": ["boolean", None],
        "discriminator_kind": [StrOptions({"concat", "projection"})],
        "steps_per_epoch": [Interval(Integral, 1, None, closed="left"), None],
        "mu": [Interval(Real, 0, None, closed="left")],
        "mu_schedule": [StrOptions({"dann", "constant"})],
        "lr_schedule": [StrOptions({"dann"}), None],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "max_epochs": [Interval(Integral, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    # skorch sets these three in __init__; keeping them as class-level
    # defaults instead leaves an unfitted estimator with only its parameters,
    # as scikit-learn requires.
    initialized_ = False
    history_ = None
    virtual_params_ = {}

    def __init__(
        self,
        module=None,
        *,
        hidden_layer_sizes=(128, 64),
        discriminator_hidden=(256, 256),
        gate=False,
        gate_lambda=1.0,
        gate_variant=None,
        omega_normalize=None,
        gate_warmup=0.0,
        omega_align=None,
        discriminator_kind="concat",
        mu=1.0,
        mu_schedule="dann",
        lr_schedule=None,
        criterion=torch.nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=1e-3,
        max_epochs=30,
        steps_per_epoch=None,
        batch_size=64,
        train_split=None,
        callbacks=None,
        warm_start=False,
        verbose=0,
        device="cpu",
        random_state=None,
        dataset=TransferDataset,
        iterator_train=StreamIterator,
        **kwargs,
    ):
        super().__init__(
            module,
            dataset=dataset,
            iterator_train=iterator_train,
            criterion=criterion,
            optimizer=optimizer,
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            train_split=train_split,
            callbacks=callbacks,
            warm_start=warm_start,
            verbose=verbose,
            device=device,
            **kwargs,
        )
        self.hidden_layer_sizes = hidden_layer_sizes
        self.discriminator_hidden = discriminator_hidden
        self.gate = gate
        self.gate_lambda = gate_lambda
        self.gate_variant = gate_variant
        self.omega_normalize = omega_normalize
        self.gate_warmup = gate_warmup
        self.omega_align = omega_align
        self.discriminator_kind = discriminator_kind
        self.steps_per_epoch = steps_per_epoch
        self.mu = mu
        self.mu_schedule = mu_schedule
        self.lr_schedule = lr_schedule
        self.random_state = random_state
        for name in ("history_", "initialized_", "virtual_params_"):
            vars(self).pop(name, None)

    def __setattr__(self, name, value):
        # skorch's hook registers fitted torch components (``module_``,
        # ``discriminator_``, ``optimizer_``...) so that they move to the device
        # and are saved; everything else is a plain attribute. Parameters (no
        # trailing underscore) never go through it: without the class-level
        # ``initialized_`` above it would reject a module instance passed as
        # the ``module`` parameter. Bypassing it for plain values also keeps
        # the per-step bookkeeping (``n_iter_``) cheap.
        if name.endswith("_") and isinstance(value, (nn.Module, torch.optim.Optimizer)):
            super().__setattr__(name, value)
        else:
            object.__setattr__(self, name, value)

    @property
    def classes_(self):
        """Class labels seen in ``fit``."""
        try:
            return self._classes_
        except AttributeError:
            raise AttributeError(
                f"{type(self).__name__} is not fitted yet; classes_ is set by fit."
            ) from None

    @classes_.setter
    def classes_(self, value):
        self._classes_ = value

    # ------------------------------------------------------------------ hooks
    #: The method's spec without the gate (None: no discriminator).
    _ungated_spec = None
    #: ``gate_variant`` names this method accepts (keys of GATE_VARIANTS), its
    #: default (skntl's gate) and the paper's gate.
    _gate_variants = frozenset({"detached", "none"})
    _default_gate_variant = "detached"
    _paper_gate_variant = "none"

    def _gate_variant_name(self):
        """Return the GATE_VARIANTS key that ``gate_variant`` selects."""
        if self.gate_variant is None:
            return self._default_gate_variant
        if self.gate_variant == "paper":
            return self._paper_gate_variant
        return self.gate_variant

    def _gate_spec(self):
        """Return the :class:`~skntl.deep.gate.GateSpec` of this method, or None.

        The base class gives the gate of DAN and DeepCORAL: a discriminator
        on detached features, trained on all four terms of eq. (10) and used
        only for ω (their alignment is MMD or CORAL); skntl's default
        normalises ω, the paper's (``gate_variant="paper"``) does not.
        """
        if not self.gate:
            return self._ungated_spec
        return GATE_VARIANTS[self._gate_variant_name()]

    def _gate_option(self, value, field):
        """``value`` when set, else the gate variant's ``field`` (False without a gate)."""
        if value is not None:
            return bool(value)
        spec = self._gate_spec()
        return bool(spec is not None and getattr(spec, field))

    def _aligns_by_omega(self):
        """Whether ω weights the alignment's source rows (``omega_align``, else the variant's)."""
        return self._gate_option(self.omega_align, "align")

    def _normalizes_omega(self):
        """Whether ω is divided by its batch mean (``omega_normalize``, else the variant's)."""
        return self._gate_option(self.omega_normalize, "normalize")

    def _transfer_loss(self, fs, fu, fl):
        """Extra loss on the features (MMD, CORAL, ...); None for none."""
        return None

    def _source_row_weights(self, ys):
        """Per-row weights ``(classification, adversarial)`` of a source batch.

        Either may be None (weight 1). PADA returns its class weights γ[y].
        """
        return None, None

    def _build_discriminator(self, n_features, n_classes, spec):
        """Return the discriminator for ``spec`` on ``n_features``-d features, or None."""
        if spec is None:
            return None
        kwargs = {"kind": self.discriminator_kind, **self.get_params_for("discriminator")}
        if spec.separate:
            return SeparateDiscriminator(n_features, n_classes, self.discriminator_hidden, **kwargs)
        return Discriminator(
            n_features,
            n_classes if spec.label_conditioned else 0,
            self.discriminator_hidden,
            **kwargs,
        )

    def _source_gate_logits(self, x, y):
        """D's logits on source inputs ``x`` with encoded labels ``y`` (None: ``nil``).

        A :class:`~skntl.deep.modules.SeparateDiscriminator` answers with its gate.
        """
        return self.discriminator_(self.module_.feature(x), y)

    def _target_only_params(self, n_source):
        """Parameters that give the target-only twin this model's optimisation budget.

        The twin trains on the labeled target rows alone; one pass over them
        is far fewer steps than one over the source. The twin keeps every
        parameter and takes ``steps_per_epoch`` steps per epoch, that of a fit
        on ``n_source`` source rows, so both take ``max_epochs *
        steps_per_epoch`` steps.
        """
        if self.steps_per_epoch is not None:
            return {}
        return {"steps_per_epoch": max(1, math.ceil(n_source / self.batch_size))}

    # --------------------------------------------------------- initialisation
    def _check_params(self):
        # skorch's _validate_params checks prefixed kwargs; scikit-learn's checks
        # _parameter_constraints.
        BaseEstimator._validate_params(self)
        for name in ("hidden_layer_sizes", "discriminator_hidden"):
            sizes = getattr(self, name)
            if not all(isinstance(s, Integral) and s >= 1 for s in sizes):
                raise ValueError(f"{name} must be positive integers, got {sizes!r}.")
        allowed = {"paper", *self._gate_variants}
        if self.gate_variant is not None and self.gate_variant not in allowed:
            raise ValueError(
                f"gate_variant must be None or one of {sorted(allowed)} for "
                f"{type(self).__name__}, got {self.gate_variant!r}."
            )
        if isinstance(self.module, str) and self.module not in {"mlp", "lenet", "resnet50"}:
            raise ValueError(
                f"module must be None, 'mlp', 'lenet', 'resnet50' or a torch module, "
                f"got {self.module!r}."
            )
        spec = self._gate_spec() if self.gate else None
        if spec is not None and self.omega_align is not None and (
            "marginal_source" not in spec.adversarial
        ):
            raise ValueError(
                f"omega_align={self.omega_align!r}, but {type(self).__name__}'s gate "
                f"(gate_variant={self.gate_variant!r}) does not align the features through "
                "a reversed gradient, so there are no alignment rows for ω to weight. Leave "
                "omega_align=None, or pick a gate variant that aligns (DANN and PADA: "
                "'separate', 'full')."
            )
        _check_device(self.device)
        _check_skorch_components(self)

    def _check_training_input(self, X, y, sd, explicit, resume):
        """Check the packed data against the estimator's settings; return the classes.

        Values float32 cannot hold; a monitored ``valid_*`` metric without a
        validation split; a warm start on other features or unseen classes.
        The classes to encode are the labels, or ``classes_`` when training
        resumes (``resume``: a warm start or a later ``partial_fit``).
        """
        if explicit:
            parts = [("X", sd > 0), ("Xt_l", sd == LABELED_TARGET),
                     ("Xt_u", sd == UNLABELED_TARGET)]
        else:
            parts = [("X", np.ones(len(X), dtype=bool))]
        _check_float32_range(X, parts)
        monitored = _monitored_valid_metrics(self.callbacks)
        if monitored and (not self.train_split or not np.any(sd == LABELED_TARGET)):
            cb, metric = monitored[0]
            raise ValueError(
                f"The {cb} callback monitors {metric!r}, which needs a validation "
                "split: pass train_split=skorch.dataset.ValidSplit(0.2) (it holds out "
                "part of the labeled target) and labeled target rows (Xt_l, yt_l), "
                "or monitor a training metric such as 'train_loss'."
            )
        if resume:
            how = "warm_start=True" if self.warm_start else "partial_fit"
            if X.shape[1:] != self._fit_shape_:
                if X.ndim == 2 and len(self._fit_shape_) == 1:  # scikit-learn's wording
                    what = (f"X has {X.shape[1]} features, but {type(self).__name__} is "
                            f"expecting {self._fit_shape_[0]} features as input")
                else:
                    what = (f"X has rows of shape {X.shape[1:]}, but the network was "
                            f"fitted on rows of shape {self._fit_shape_}")
                raise ValueError(
                    f"{what} ({how} continues training the fitted network). Refit "
                    "with fit (warm_start=False) to train a new network."
                )
            labels = y[sd != UNLABELED_TARGET]
            unseen = np.setdiff1d(labels, self.classes_)
            if unseen.size:
                raise ValueError(
                    f"{how}: y contains the class(es) {unseen.tolist()} that the "
                    f"network was not fitted on (classes_ = {self.classes_.tolist()}). "
                    "Refit with fit (warm_start=False) to train a new network."
                )
            return self.classes_
        return y[sd != UNLABELED_TARGET]

    def _build_module(self, input_shape, n_classes):
        kwargs = self.get_params_for("module")
        if self.module is None or isinstance(self.module, str):
            return build_network(self.module, input_shape, n_classes, self.hidden_layer_sizes,
                                 **kwargs)
        built = self.initialized_instance(self.module, kwargs)
        if not (hasattr(built, "feature") and hasattr(built, "classifier")):
            raise TypeError(
                "A custom module must have submodules 'feature' (x -> f) and "
                "'classifier' (f -> logits); wrap yours in skntl.deep.TransferModule."
            )
        return built

    def initialize_module(self):
        """Build F + C and, when the method has one, the discriminator D."""
        shape, n_classes = self._fit_shape_, len(self.classes_)
        self.module_ = self._build_module(shape, n_classes)
        with torch.no_grad():
            self.module_.eval()
            probe = torch.zeros((2, *shape))
            try:
                f = self.module_.feature(probe)
                self.module_.classifier(f)
            except RuntimeError as exc:
                raise ValueError(
                    f"The module cannot process inputs with rows of shape {shape}: {exc}"
                ) from exc
        self._n_features_out_ = f.shape[1]
        self.discriminator_ = self._build_discriminator(f.shape[1], n_classes, self._gate_spec())
        return self

    # --------------------------------------------------------------- fitting
    def _encode(self, y):
        return torch.as_tensor(np.searchsorted(self.classes_, y), dtype=torch.int64)

    def _encode_packed(self, y, sd):
        """Return the packed labels as indices into ``classes_`` (-1 on unlabeled rows)."""
        codes = np.full(len(y), -1, dtype=np.int64)
        labeled = sd != UNLABELED_TARGET
        codes[labeled] = np.searchsorted(self.classes_, y[labeled])
        return codes

    def _validate_fit_data(self, X, y, Xt_l, yt_l, Xt_u, sample_domain, sample_weight, resume):
        """Check parameters and data of ``fit``/``partial_fit``; return the packed arrays.

        Returns ``(X, y, sd, sample_weight, classes)``, with the classes to
        encode (the labels, or ``classes_`` when training goes on from the
        current networks: ``resume``).
        """
        self._check_params()
        n_before = None if X is None else _num_samples(X)
        explicit = any(part is not None for part in (Xt_l, yt_l, Xt_u))
        X, y, sd = self._validate_transfer_data(
            X, y, Xt_l, yt_l, Xt_u, sample_domain, allow_nd=True,
            dtype=[np.float32, np.float64],
        )
        classes = self._check_training_input(X, y, sd, explicit, resume)
        if X.ndim not in (2, 4):
            raise ValueError(
                f"X must be 2-D (n_samples, n_features) or 4-D images (n_samples, C, H, "
                f"W); got {X.ndim}-D input."
            )
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, np.empty(n_before), dtype=np.float64, ensure_non_negative=True
            )
            if len(sample_weight) != len(X):  # explicit form: weights of the source rows
                sample_weight = np.concatenate([sample_weight, np.ones(len(X) - n_before)])
        else:
            sample_weight = np.ones(len(X))
        if not np.any((sd > 0) & (sample_weight > 0)):
            raise ValueError("Every source row has sample_weight 0; nothing to train on.")
        self._warn_unused_settings(sd)
        return X, y, sd, sample_weight, classes

    #: Parameters that only act on the gate's weights ω, and those that only
    #: act on the alignment of the features, with their defaults.
    _omega_params = {"gate_lambda": 1.0, "gate_variant": None, "omega_normalize": None,
                     "gate_warmup": 0.0, "omega_align": None}
    _alignment_params = {"mu": 1.0, "mu_schedule": "dann"}
    #: Whether the method aligns the features whatever its gate (a loss of its
    #: own: MMD, CORAL, ADDA's and GTA's GAN losses); DANN and PADA align
    #: through their discriminator, which skntl's default gate keeps detached.
    _aligns_without_discriminator = False

    def _unused_settings(self, sd):
        """Yield ``(parameters, reason)`` for the groups of parameters this fit cannot use."""
        has_target = bool(np.any(sd < 0))
        spec = self._gate_spec() if self.gate else None
        if spec is None or spec.omega is None:
            omega_params = dict(self._omega_params)
            if self.gate:  # the variant itself is in use
                del omega_params["gate_variant"]
                why = f"the gate variant {self._gate_variant_name()!r} produces no weights"
            else:
                why = "gate=False"
            yield omega_params, f"{why} (they act on the gate's source weights ω)"
        elif not has_target:
            yield self._omega_params, (
                "there are no target rows, so the gate has nothing to compare with"
            )
        spec = self._gate_spec()
        aligns = self._aligns_without_discriminator or bool(spec is not None and spec.adversarial)
        if not has_target:
            yield self._alignment_params, "there are no target rows to align with"
        elif not aligns:
            yield self._alignment_params, (
                f"the gate variant {self._gate_variant_name()!r} trains its discriminator on "
                "detached features, so nothing aligns them (they weight the alignment)"
            )

    def _warn_unused_settings(self, sd):
        """Warn, once per fit, about parameters set away from their default that cannot act."""
        messages = []
        for params, reason in self._unused_settings(sd):
            unused = [f"{k}={getattr(self, k)!r}" for k, default in params.items()
                      if getattr(self, k) is not default and getattr(self, k) != default]
            if unused:
                messages.append(f"{', '.join(unused)}: no effect, because {reason}")
        if messages:
            warnings.warn(
                "; ".join(messages) + ".",
                UserWarning,
                stacklevel=5,  # here, _validate_fit_data, fit, the restoring wrapper, the caller
            )

    def fit(self, X, y=None, Xt_l=None, yt_l=None, Xt_u=None, *, sample_domain=None,
            sample_weight=None):
        """Train on the source, the unlabeled target and the labeled target.

        Builds new networks (unless ``warm_start=True`` and the estimator is
        fitted), then trains them for ``max_epochs`` epochs through skorch's
        ``partial_fit``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, C, H, W)
            Source inputs (explicit form) or all inputs (packed form).
        y : array-like of shape (n_samples,)
            Source labels (explicit form) or packed labels.
        Xt_l : array-like, default=None
            Labeled target inputs.
        yt_l : array-like, default=None
            Labeled target labels.
        Xt_u : array-like, default=None
            Unlabeled target inputs.
        sample_domain : array-like of shape (n_samples,), default=None
            Packed form: positive = source, -1 labeled target, -2 unlabeled
            target (see :func:`skntl.pack`).
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each row's classification loss, aligned with ``X`` (packed
            form, or the source rows in the explicit form). Rows with weight 0
            are left out of training altogether — the oracle of Table 4 is
            ``sample_weight=(~perturbed).astype(float)``.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        resume = bool(self.warm_start and self.initialized_)
        X, y, sd, sample_weight, labels = self._validate_fit_data(
            X, y, Xt_l, yt_l, Xt_u, sample_domain, sample_weight, resume=resume
        )
        if not resume:
            labels = self._declared_classes(labels, self.classes, "classes")
        return self._fit_packed(X, y, sd, sample_weight, labels, initialize=not resume)

    def partial_fit(self, X, y=None, Xt_l=None, yt_l=None, Xt_u=None, *, classes=None,
                    sample_domain=None, sample_weight=None):
        """Train the current networks for ``max_epochs`` more epochs.

        As in skorch, the networks are built on the first call only; later
        calls continue training them (on the same features and classes),
        whatever ``warm_start`` says. Each call runs the schedules (μ, the
        learning rate, ADDA's phases) from their start.

        Parameters
        ----------
        X, y, Xt_l, yt_l, Xt_u
            As in :meth:`fit`.
        classes : array-like of shape (n_classes,), default=None
            Every class the network should have, when the first call's labels
            do not show them all; ignored on later calls.
        sample_domain, sample_weight
            As in :meth:`fit`.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        resume = bool(self.initialized_)
        X, y, sd, sample_weight, labels = self._validate_fit_data(
            X, y, Xt_l, yt_l, Xt_u, sample_domain, sample_weight, resume=resume
        )
        if not resume:
            declared = self.classes if classes is None else classes
            labels = self._declared_classes(labels, declared, "classes")
        return self._fit_packed(X, y, sd, sample_weight, labels, initialize=not resume)

    def _declared_classes(self, labels, classes, name):
        """Return ``classes`` (the ``name`` argument) when given, checked against the labels."""
        if classes is None:
            return labels
        classes = np.unique(np.asarray(classes))
        missing = np.setdiff1d(labels, classes)
        if missing.size:
            raise ValueError(
                f"{name} must contain every label of y; {missing.tolist()} "
                f"{'is' if missing.size == 1 else 'are'} missing from {name}="
                f"{classes.tolist()}."
            )
        return classes

    def _fit_packed(self, X, y, sd, sample_weight, classes, initialize):
        if initialize:
            self._label_encoder_ = LabelEncoder().fit(classes)
            self.classes_ = self._label_encoder_.classes_
            self._fit_shape_ = tuple(X.shape[1:])
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            if initialize:
                self.initialize()
            dataset = self.get_dataset(
                {"X": X, "y": self._encode_packed(y, sd), "sample_domain": sd,
                 "sample_weight": sample_weight}
            )
            # Without a labeled-target stream the gate trains and reads D's
            # marginal output (:ref:`decision D11 <decision-d11>`; gate_step's criterion).
            self._gate_read_joint_ = np.any((sd == LABELED_TARGET) & (sample_weight > 0))
            self._stream_generator = torch.Generator().manual_seed(seed)
            try:
                NeuralNetClassifier.partial_fit(self, dataset, None, _routing_method="fit")
            finally:
                del self._stream_generator
        stream = y[(sd == LABELED_TARGET) if self._gate_read_joint_ else (sd > 0)]
        counts = np.bincount(np.searchsorted(self.classes_, stream), minlength=len(self.classes_))
        self._check_collapse(counts)
        return self

    #: A fit collapsed when its training cross-entropy never fell below this
    #: fraction of chance level.
    _collapse_ratio = 0.9

    def _check_collapse(self, class_counts):
        """Warn when the classifier never learned: its training loss stayed at chance.

        The monitored loss is ``clf_ce``, the unweighted cross-entropy on the
        labeled-target batches (on the source batches without labeled
        target): rows whose labels are trusted, whatever the gate does to
        the source. Chance level is the loss of a constant predictor, the
        entropy of that stream's class frequencies. A fit whose lowest
        epoch-mean loss stayed above 90% of chance is reported.
        """
        ce = [h["clf_ce"] for h in self.history if "clf_ce" in h]
        p = class_counts[class_counts > 0] / class_counts.sum()
        chance = float(-(p * np.log(p)).sum())
        if not ce or chance <= 0 or min(ce) < self._collapse_ratio * chance:
            return
        spec = self._gate_spec() if self.gate else None
        hint = ""
        if spec is not None and spec.adversarial & {"joint_target", "joint_source"}:
            hint = (" This gate trains its label-aware discriminator adversarially, which can "
                    "erase the classes from the features: use skntl's gate "
                    "(gate_variant=None).")
        elif spec is not None and not self._normalizes_omega():
            hint = (" The gate's weights change the scale of the source loss from step to step "
                    "when they are not normalised: set omega_normalize=True.")
        warnings.warn(
            f"{type(self).__name__}'s training classification loss never fell clearly below "
            f"chance level (lowest epoch mean {min(ce):.3f}, chance {chance:.3f}): the "
            f"classifier did not learn.{hint} Try a smaller lr or more max_epochs, and check "
            "the labels.",
            ConvergenceWarning,
            stacklevel=5,  # here, _fit_packed, fit, the restoring wrapper, the caller
        )

    # ------------------------------------------------------- skorch's seams
    def check_data(self, X, y=None):
        """Do nothing: ``fit`` has validated the data before skorch's loop sees it."""

    def get_dataset(self, X, y=None):
        """Return the :class:`~skntl.deep.TransferDataset` of the packed rows ``X``.

        ``X`` is a dataset (returned as is) or a dict of the packed arrays
        ``X``, ``y`` (encoded), ``sample_domain`` and ``sample_weight``; the
        ``dataset`` parameter's class builds it, with ``dataset__*``.
        """
        if is_dataset(X):
            return X
        return self.dataset(**X, **self.get_params_for("dataset"))

    def get_split_datasets(self, X, y=None, **fit_params):
        """Split off skorch's validation rows from the labeled target (``train_split``).

        The held-out rows become unlabeled target rows of the training
        dataset: their inputs stay in the unlabeled stream, their labels are
        used for validation only. The validation dataset holds their inputs
        and their labels as passed to ``fit`` (so that scoring callbacks
        compare ``predict``'s output with them).
        """
        dataset = self.get_dataset(X, y)
        sd, w = dataset.sample_domain, dataset.sample_weight
        rows = np.flatnonzero((sd == LABELED_TARGET) & (w > 0))
        if not self.train_split or not len(rows):
            return dataset, None
        labels = self.classes_[dataset.y[rows]]
        tr, va = self.train_split(Dataset(dataset.X[rows], labels), labels, **fit_params)
        if va is None or not len(va):
            return dataset, None
        held_out = rows[np.asarray(va.indices)]
        valid = Dataset(np.asarray(dataset.X[held_out], dtype=np.float32), labels[va.indices])
        sd = sd.copy()
        sd[held_out] = UNLABELED_TARGET
        train = type(dataset)(dataset.X, dataset.y, sd, w, **self.get_params_for("dataset"))
        return train, valid

    def get_iterator(self, dataset, training=False):
        """Return the training :class:`~skntl.deep.StreamIterator`, or skorch's validation one.

        Building the training iterator fixes the length of training
        (``max_epochs`` × its length), which the schedules run over.
        """
        if not training:
            return super().get_iterator(dataset, training=False)
        kwargs = {"batch_size": self.batch_size, **self.get_params_for("iterator_train")}
        iterator = self.iterator_train(
            dataset, generator=self._stream_generator, n_steps=self.steps_per_epoch,
            device=self.device, **kwargs,
        )
        self._plan_training(len(iterator), dataset)
        return iterator

    def _plan_training(self, steps_per_epoch, dataset):
        """Fix what depends on the length of training (subclasses add their phases)."""
        self._total_steps_ = max(1, self.max_epochs * steps_per_epoch)

    def validation_step(self, batch, **fit_params):
        """Compute the validation loss, with the labels encoded as in training."""
        self._set_training(False)
        Xi, yi = unpack_data(batch)
        yi = yi.numpy() if torch.is_tensor(yi) else np.asarray(yi)
        with torch.no_grad():
            y_pred = self.infer(Xi, **fit_params)
            loss = self.get_loss(y_pred, self._encode(yi).to(y_pred.device), X=Xi)
        return {"loss": loss, "y_pred": y_pred}

    def initialize_criterion(self):
        """Build the criterion with ``reduction="none"`` (see the ``criterion`` parameter)."""
        kwargs = self.get_params_for("criterion")
        if isinstance(self.criterion, nn.Module) and not kwargs:
            self.criterion_ = self.criterion
        else:
            self.criterion_ = self.initialized_instance(
                self.criterion, {**kwargs, "reduction": "none"}
            )
        return self

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """Return the criterion's mean over the rows (logits ``y_pred``, encoded ``y_true``)."""
        return self.criterion_(y_pred, y_true).mean()

    @property
    def _default_callbacks(self):
        # skorch's defaults (same names, so ``callbacks__print_log__*`` works),
        # with a PrintLog that skips its table when it would print nothing.
        return [(name, _PrintLog() if name == "print_log" else callback)
                for name, callback in super()._default_callbacks]

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        """Start the step count that drives the schedules."""
        super().on_train_begin(net, X=X, y=y, **kwargs)
        self.n_iter_ = 0

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        """Set the learning rates of this step (``lr_schedule``)."""
        super().on_batch_begin(net, batch=batch, training=training, **kwargs)
        if training and self.lr_schedule is not None:
            factor = inverse_decay(self._progress())
            for group in self.optimizer_.param_groups:
                group.setdefault("initial_lr", group["lr"])
                group["lr"] = group["initial_lr"] * factor

    def on_batch_end(self, net, batch=None, training=False, **kwargs):
        """Count the optimisation step."""
        super().on_batch_end(net, batch=batch, training=training, **kwargs)
        if training:
            self.n_iter_ += 1

    def _record_batch(self, **values):
        """Record ``values`` in the history row of the current batch (one lookup for all)."""
        self.history[-1]["batches"][-1].update(values)

    #: Per-batch history entries whose epoch means are recorded; a method adds its own.
    _epoch_mean_keys = ("clf_loss", "clf_ce", "d_loss", "transfer_loss", "omega_mean")

    def on_epoch_end(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        """Record the epoch means of the loss terms (before any callback reads them)."""
        super().on_epoch_end(net, dataset_train=dataset_train, dataset_valid=dataset_valid,
                             **kwargs)
        batches = self.history[-1]["batches"]
        for key in self._epoch_mean_keys:
            values = [b[key] for b in batches if key in b]
            if values:
                self.history.record(key, float(np.mean(values)))

    def _get_predict_nonlinearity(self):
        if self.predict_nonlinearity == "auto":
            return _softmax
        if self.predict_nonlinearity is None:
            return _identity
        return self.predict_nonlinearity

    def _get_param_names(self):
        # skorch treats every attribute not ending in "_" as a parameter;
        # its private bookkeeping (e.g. ``_params_to_validate``) is not one.
        return [k for k in super()._get_param_names() if not k.startswith("_")]

    # ------------------------------------------------------------- training
    def _progress(self):
        return min(1.0, self.n_iter_ / self._total_steps_)

    def current_mu(self):
        """Return μ at the current step (after ``mu_schedule``)."""
        if self.mu_schedule == "constant":
            return float(self.mu)
        return float(self.mu) * dann_ramp(self._progress())

    #: Fitted modules (names without the trailing ``_``) kept in eval mode even
    #: while training, e.g. ADDA's frozen source encoder.
    _eval_only_modules = ()

    def _torch_modules(self):
        """Return the fitted torch modules and criteria, by attribute name.

        skorch lists every registered component (modules, criteria,
        optimisers) in ``cuda_dependent_attributes_``.
        """
        found = {}
        for name in self.cuda_dependent_attributes_:
            value = vars(self).get(name)
            if isinstance(value, nn.Module):
                found[name] = value
        return found

    def _set_training(self, training=True):
        # skorch walks every submodule each step; skip it when nothing changes.
        modules = self._torch_modules()
        wanted = {k: training and k[:-1] not in self._eval_only_modules for k in modules}
        if all(m.training == wanted[k] for k, m in modules.items()):
            return
        super()._set_training(training)
        for name in self._eval_only_modules:
            module = modules.get(name + "_")
            if module is not None:
                module.eval()

    def _step_prologue(self, batch):
        """Start a training step: training mode; the source rows' loss weights.

        Returns ``(ws, adv_weight)``: the classification weight of each source
        row (its sample weight times any class weight of
        :meth:`_source_row_weights`) and the weight of its adversarial term
        (either None: every row weighs 1).
        """
        self._set_training(True)
        clf_weight, adv_weight = self._source_row_weights(batch.ys)
        ws = batch.ws
        if clf_weight is not None:
            ws = clf_weight if ws is None else ws * clf_weight
        return ws, adv_weight

    def _encode_streams(self, encoder, *inputs):
        """Apply ``encoder`` to the inputs in one pass; return one output per input (None: None)."""
        present = [t for t in inputs if t is not None]
        if not present:
            return [None] * len(inputs)
        out = encoder(torch.cat(present) if len(present) > 1 else present[0])
        parts = iter(torch.split(out, [len(t) for t in present]))
        return [None if t is None else next(parts) for t in inputs]

    def _gate_weights(self, omega):
        """Return the weights the gate gives a source batch: ω, normalised and phased in.

        Normalised (:meth:`_normalizes_omega`), ω is divided by its batch
        mean; during the first ``gate_warmup`` of training it is blended with 1.
        """
        if self._normalizes_omega():
            omega = normalize_omega(omega)
        if self.gate_warmup > 0:
            ramp = min(1.0, self._progress() / self.gate_warmup)
            omega = 1.0 + ramp * (omega - 1.0)
        return omega

    def _classification_loss(self, batch, fs, fl, ws, omega=None):
        """Return the classification loss of eq. (9) and the source logits.

        ``fs`` and ``fl`` are the features of the batch's source and
        labeled-target rows (``fl`` None without them). ``ws`` weights each
        source row (sample weights, times any class weight; None: all 1); ``omega`` (the
        gate, detached) goes through :meth:`_gate_weights`, multiplies it, and
        the source term is scaled by ``gate_lambda``. The labeled target adds
        its own, unweighted by the gate. Both use the ``criterion``. Records
        ``clf_loss``, ``omega_mean`` (of the raw ω), and ``clf_ce``: the
        unweighted loss on the labeled-target batch (on the source batch
        without labeled target), which the collapse check compares with chance.
        """
        if fl is None:
            logits_s = self.module_.classifier(fs)
            loss_l = None
        else:  # one classifier pass over source and labeled target
            logits_s, logits_l = torch.split(
                self.module_.classifier(torch.cat([fs, fl])), [len(fs), len(fl)]
            )
            ce_l = self.criterion_(logits_l, batch.yl)
            loss_l = (ce_l if batch.wl is None else ce_l * batch.wl).mean()
        ce = self.criterion_(logits_s, batch.ys)
        ce_s = ce if ws is None else ce * ws
        records = {}
        if omega is None:
            loss = ce_s.mean()
        else:
            records["omega_mean"] = omega.mean().item()
            loss = self.gate_lambda * (self._gate_weights(omega) * ce_s).mean()
        if loss_l is not None:
            loss = loss + loss_l
        records["clf_loss"] = loss.item()
        if fl is None and ws is None and omega is None:
            records["clf_ce"] = records["clf_loss"]  # the same mean
        else:
            records["clf_ce"] = (ce if fl is None else ce_l).detach().mean().item()
        self._record_batch(**records)
        return loss, logits_s

    def train_step_single(self, batch, **fit_params):
        """Compute the method's loss on one :class:`~skntl.deep.TransferBatch`; back-propagate it.

        The loss is the gated classification loss of eq. (9) (plain
        cross-entropy when the method has no gate), plus the discriminator's
        BCE of eq. (10) (reaching F reversed, ×μ, where the method is
        adversarial), plus the method's own :meth:`_transfer_loss`.
        """
        ws, adv_weight = self._step_prologue(batch)
        fs, fu, fl = self._encode_streams(self.module_.feature, batch.xs, batch.xu, batch.xl)
        spec = self._gate_spec()
        omega = None
        loss = None
        if spec is not None and fu is not None:
            out = gate_step(
                self.discriminator_, spec, fs, batch.ys, fu, fl, batch.yl,
                mu=self.current_mu(), source_weight=adv_weight,
                omega_align=self._aligns_by_omega(),
            )
            loss = out.loss
            omega = out.omega
            self._record_batch(d_loss=out.loss.item())
        clf, logits_s = self._classification_loss(batch, fs, fl, ws, omega)
        extra = None if fu is None else self._transfer_loss(fs, fu, fl)
        if extra is not None:
            loss = extra if loss is None else loss + extra
            self._record_batch(transfer_loss=extra.item())
        loss = clf if loss is None else loss + clf
        loss.backward()
        return {"loss": loss, "y_pred": logits_s}

    # ------------------------------------------------------------- prediction
    def _predict_input(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, allow_nd=True, dtype=[np.float32, np.float64])
        if X.shape[1:] != self._fit_shape_:
            raise ValueError(
                f"X has rows of shape {X.shape[1:]}, but {type(self).__name__} was "
                f"fitted on rows of shape {self._fit_shape_}."
            )
        _check_float32_range(X, [("X", np.ones(len(X), dtype=bool))])
        return torch.as_tensor(X, dtype=torch.float32)

    def _eval_chunks(self, fn, *tensors):
        """Apply ``fn`` in eval mode to aligned chunks of ``tensors``; return numpy."""
        self._set_training(False)
        out = []
        with torch.no_grad():
            for start in range(0, len(tensors[0]), _PREDICT_CHUNK):
                chunk = [t[start : start + _PREDICT_CHUNK].to(self.device) for t in tensors]
                out.append(fn(*chunk).cpu())
        return torch.cat(out).numpy()

    def predict_proba(self, X):
        """Return class probabilities, one row per input row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, C, H, W)
            Inputs.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Softmax of the classifier's logits (``predict_nonlinearity``),
            columns in ``classes_`` order.
        """
        if is_dataset(X):  # skorch's own validation scoring passes Datasets
            return super().predict_proba(X)
        X = self._predict_input(X)
        nonlinearity = self._get_predict_nonlinearity()
        return self._eval_chunks(lambda xb: nonlinearity(self.module_(xb)), X)

    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, C, H, W)
            Inputs.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        proba = self.predict_proba(X)  # first: it raises NotFittedError when unfitted
        return self.classes_[proba.argmax(axis=1)]

    def transform(self, X):
        """Return the bottleneck features f = F(x) (e.g. for a t-SNE plot, Fig. 4).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, C, H, W)
            Inputs.

        Returns
        -------
        features : ndarray of shape (n_samples, n_bottleneck)
            The classifier's input.
        """
        X = self._predict_input(X)
        return self._eval_chunks(self.module_.feature, X)

    def get_feature_names_out(self, input_features=None):
        """Return names for the bottleneck features: ``<classname>0``, ``<classname>1``, ...

        Parameters
        ----------
        input_features : None
            Ignored; present for API consistency.

        Returns
        -------
        feature_names_out : ndarray of str
            One name per column of :meth:`transform`'s output.
        """
        check_is_fitted(self)
        prefix = type(self).__name__.lower()
        return np.asarray([f"{prefix}{i}" for i in range(self._n_features_out_)], dtype=object)

    def predict_weights(self, X, y):
        """Return the discriminator's output and the gate weight ω for source rows.

        D is evaluated in eval mode on (F(x), y) when the gate is
        label-conditioned and on F(x) alone otherwise (:ref:`decision D27
        <decision-d27>`); a model fitted without labeled target rows trained
        and read only D's marginal output (:ref:`decision D11 <decision-d11>`),
        and so does this method. ω = D/(1−D) with the clamp of
        :ref:`decision D10 <decision-d10>`. A low ω marks a source row the gate
        distrusts.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, C, H, W)
            Source inputs.
        y : array-like of shape (n_samples,)
            Their (possibly perturbed) labels.

        Returns
        -------
        d : ndarray of shape (n_samples,)
            D's probability that the (input, label) pair comes from the target.
        omega : ndarray of shape (n_samples,)
            The importance weight ω.
        """
        check_is_fitted(self)
        spec = self._gate_spec()
        if spec is None:
            raise AttributeError(
                f"{type(self).__name__} has no discriminator with these parameters "
                "(set gate=True)."
            )
        Xt = self._predict_input(X)
        y = np.asarray(y)
        if y.shape != (len(Xt),):
            raise ValueError(f"y must have shape ({len(Xt)},), got {y.shape}.")
        unseen = np.setdiff1d(y, self.classes_)
        if unseen.size:
            raise ValueError(f"y contains labels {unseen.tolist()} not seen in fit.")
        if spec.label_conditioned and spec.omega != "marginal" and self._gate_read_joint_:
            logits = self._eval_chunks(self._source_gate_logits, Xt, self._encode(y))
        else:
            logits = self._eval_chunks(lambda xb: self._source_gate_logits(xb, None), Xt)
        logits = torch.as_tensor(logits)
        return torch.sigmoid(logits).numpy(), omega_from_logits(logits).numpy()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Networks compute in float32 whatever the input precision.
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags
