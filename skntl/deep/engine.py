"""The deep transfer engine: a skorch classifier trained on three data streams.

:class:`TransferNet` is a :class:`skorch.NeuralNetClassifier` whose training
step draws a source batch, an unlabeled-target batch and, when there are
labeled target rows, a labeled-target batch (sampled with replacement;
REFERENCE.md D8). Batches are sliced by index from in-memory tensors, not
collated item by item. A method subclass only says what makes it itself:

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
overrides :meth:`TransferNet.train_step_single` and reuses
:meth:`TransferNet._classification_loss` and :func:`.gate.gate_step`.

Everything else — validation of the data contract, label encoding, batching,
the μ and learning-rate schedules, the gate, determinism, prediction — lives
here.
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
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import (
    _check_sample_weight,
    _num_samples,
    check_is_fitted,
    validate_data,
)
from skorch import NeuralNetClassifier
from skorch.dataset import Dataset
from skorch.utils import is_dataset
from torch import nn
from torch.nn import functional as F

from .._data import LABELED_TARGET, UNLABELED_TARGET
from ..base import TransferMixin
from ..utils._param_validation import Interval, StrOptions
from .gate import GATE_VARIANTS, gate_step, normalize_omega, omega_from_logits
from .modules import MLP, Discriminator, LeNet, ResNet50, SeparateDiscriminator, TransferModule

__all__ = ["TransferNet", "paper_preset"]

_PREDICT_CHUNK = 1024
_FLOAT32_MAX = float(np.finfo(np.float32).max)


def _check_float32_range(X, parts):
    """Raise when float64 ``X`` holds finite values that float32 cannot represent.

    The networks compute in float32, where such values become inf and every
    output NaN. ``parts`` lists ``(argument name, row mask)`` pairs; the error
    names the first part holding an offending row.
    """
    if X.dtype.kind != "f" or X.dtype.itemsize <= 4 or X.size == 0:
        return
    if X.max() <= _FLOAT32_MAX and X.min() >= -_FLOAT32_MAX:
        return
    big = np.abs(X.reshape(len(X), -1)).max(axis=1) > _FLOAT32_MAX
    name = next(name for name, rows in parts if np.any(big & rows))
    raise ValueError(
        f"{name} has values up to {np.abs(X[big]).max():.3g} in magnitude, beyond "
        f"float32's range (±{_FLOAT32_MAX:.3g}); the networks compute in float32, "
        "where these would be inf. Scale the features (e.g. with "
        "sklearn.preprocessing.StandardScaler)."
    )


def _check_device(device):
    """Raise a ``ValueError`` when torch cannot use ``device`` (before any work)."""
    if device is None:
        return
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError, ValueError) as exc:
        raise ValueError(
            f"device={device!r} is not a torch device ({exc}); use e.g. 'cpu' or 'cuda'."
        ) from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={device!r}, but torch.cuda.is_available() is False (this torch "
                "was built without CUDA, or no GPU is visible); use device='cpu'."
            )
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(
                f"device={device!r}, but only {torch.cuda.device_count()} CUDA "
                "device(s) are visible."
            )
    elif dev.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device={device!r}, but MPS is not available; use device='cpu'.")


def _monitored_valid_metrics(callbacks):
    """Names of ``valid_*`` history entries that the given callbacks monitor."""
    names = []
    for entry in callbacks or ():
        cb = entry[1] if isinstance(entry, tuple) else entry
        monitor = getattr(cb, "monitor", None)
        if isinstance(monitor, str) and monitor.startswith("valid_"):
            names.append((type(cb).__name__, monitor))
    return names


def _dann_ramp(p):
    """DANN's schedule 2/(1+exp(-10p)) - 1, rising from 0 to ~1 (REFERENCE.md D13)."""
    return 2.0 / (1.0 + math.exp(-10.0 * p)) - 1.0


def _inverse_decay(p):
    """DANN's learning-rate decay (1 + 10p)^-0.75 (REFERENCE.md D14)."""
    return (1.0 + 10.0 * p) ** -0.75


class _StreamIterator:
    """One epoch of three-stream batches sliced from in-memory tensors.

    An epoch has ``n_steps`` steps (by default ``ceil(n_source / batch_size)``,
    one pass) over fresh permutations of the source, renewed when used up. The
    unlabeled target is drawn without replacement from
    permutations that are renewed when used up; the labeled target with
    replacement (D8). Each batch is the tuple
    ``(xs, ys, ws, xu, xl, yl, wl)``; the target parts are None when absent.
    """

    def __init__(self, data, batch_size, generator, device, n_steps=None):
        self.data = data
        self.batch_size = batch_size
        self.generator = generator
        self.device = device
        self.n_steps = n_steps
        self._u_perm = None
        self._u_pos = 0

    def __len__(self):
        if self.n_steps is not None:
            return self.n_steps
        return math.ceil(len(self.data["xs"]) / self.batch_size)

    def _source_batches(self, n_s):
        """Yield ``len(self)`` index batches over successive source permutations."""
        bs, steps = self.batch_size, len(self)
        while True:
            perm = torch.randperm(n_s, generator=self.generator)
            for start in range(0, n_s, bs):
                yield perm[start : start + bs]
                steps -= 1
                if steps == 0:
                    return

    def _take_unlabeled(self, n_u, size):
        parts = []
        while size > 0:
            if self._u_perm is None or self._u_pos >= n_u:
                self._u_perm = torch.randperm(n_u, generator=self.generator)
                self._u_pos = 0
            chunk = self._u_perm[self._u_pos : self._u_pos + size]
            self._u_pos += len(chunk)
            size -= len(chunk)
            parts.append(chunk)
        return torch.cat(parts)

    def _to(self, t):
        if t is None or self.device == "cpu":
            return t
        return t.to(self.device, non_blocking=True)

    def __iter__(self):
        d, bs, gen = self.data, self.batch_size, self.generator
        n_s = len(d["xs"])
        n_u = 0 if d["xu"] is None else len(d["xu"])
        n_l = 0 if d["xl"] is None else len(d["xl"])
        for idx in self._source_batches(n_s):
            xu = xl = yl = wl = None
            if n_u:
                xu = d["xu"][self._take_unlabeled(n_u, min(bs, n_u))]
            if n_l:
                li = torch.randint(n_l, (bs,), generator=gen)
                xl, yl, wl = d["xl"][li], d["yl"][li], d["wl"][li]
            batch = (d["xs"][idx], d["ys"][idx], d["ws"][idx], xu, xl, yl, wl)
            yield tuple(self._to(t) for t in batch)


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
        C = 128→128→K (REFERENCE.md §4.4). ``"resnet50"``: ResNet-50 with a
        256-d bottleneck; pass ``module__weights=<local file>`` for pretrained
        weights. A user module must have submodules ``feature`` (x → f) and
        ``classifier`` (f → logits) with ``forward(x) = classifier(feature(x))``
        (see :class:`~skntl.deep.TransferModule`); a class is instantiated
        with the ``module__*`` parameters.
    hidden_layer_sizes : tuple of int, default=(128, 64)
        Hidden widths of the ``"mlp"`` module.
    discriminator_hidden : tuple of int, default=(256, 256)
        Hidden widths of the domain discriminator (REFERENCE.md D9 uses
        (500, 500) for digits and (1024, 1024) for ResNet-50).
    gate : bool, default=False
        Use the discriminator gate: weight each source row's classification
        loss by ω = SG(D/(1−D)) from a label-conditioned discriminator
        (REFERENCE.md eqs. (9)–(11)).
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
        fraction of training done (D13); ``"constant"`` uses ``mu`` throughout.
    lr_schedule : {None, "dann"}, default=None
        ``"dann"`` decays every learning rate as ``(1+10p)^-0.75`` (D14).
    criterion : torch loss class, default=torch.nn.CrossEntropyLoss
        Used by skorch for validation loss; training uses cross-entropy.
    optimizer : torch optimizer class, default=torch.optim.Adam
        One optimiser for F, C and D (the reference step, §3.7).
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
        and ``valid_acc`` measure the target; enables early stopping.
    callbacks : list or None, default=None
        skorch callbacks (progress bar, checkpoint, LR scheduler, ...).
    warm_start : bool, default=False
        As in skorch.
    verbose : int, default=0
        skorch's per-epoch log when > 0.
    device : str, default="cpu"
        Torch device, e.g. ``"cuda"``.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, batch sampling and dropout; with the same value
        CPU training is bit-for-bit repeatable.
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
        Optimisation steps taken.
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
        **kwargs,
    ):
        super().__init__(
            module,
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
        # Parameters (no trailing underscore) are plain attributes. skorch's
        # hook only registers fitted torch components (``module_``,
        # ``discriminator_``, ``optimizer_``...); without the class-level
        # ``initialized_`` above it would reject a module instance passed
        # as the ``module`` parameter.
        if name.endswith("_"):
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
        _check_device(self.device)

    def _check_training_input(self, X, y, sd, explicit):
        """Check the packed data against the estimator's settings; return the classes.

        Values float32 cannot hold; a monitored ``valid_*`` metric without a
        validation split; a warm start on other features or unseen classes.
        The classes to encode are the labels, or ``classes_`` on a warm start.
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
        if self.warm_start and self.initialized_:
            if X.shape[1:] != self._fit_shape_:
                raise ValueError(
                    f"warm_start=True: X has rows of shape {X.shape[1:]}, but the "
                    f"network was fitted on rows of shape {self._fit_shape_}. Refit "
                    "with warm_start=False to train a new network."
                )
            labels = y[sd != UNLABELED_TARGET]
            unseen = np.setdiff1d(labels, self.classes_)
            if unseen.size:
                raise ValueError(
                    f"warm_start=True: y contains the class(es) {unseen.tolist()} that the "
                    f"network was not fitted on (classes_ = {self.classes_.tolist()}). "
                    "Refit with warm_start=False to train a new network."
                )
            return self.classes_
        return y[sd != UNLABELED_TARGET]

    def _build_module(self, input_shape, n_classes):
        module = self.module
        if module is None:
            module = "mlp" if len(input_shape) == 1 else "lenet"
        kwargs = self.get_params_for("module")
        if module == "mlp":
            if len(input_shape) != 1:
                raise ValueError(
                    f"module='mlp' takes 2-D X (n_samples, n_features); got rows of "
                    f"shape {input_shape}."
                )
            feature = MLP(input_shape[0], self.hidden_layer_sizes, **kwargs)
            return TransferModule(feature, nn.Linear(feature.out_features, n_classes))
        if module == "lenet":
            if len(input_shape) != 3 or input_shape[0] not in (1, 3) or input_shape[1:] != (
                32,
                32,
            ):
                raise ValueError(
                    "module='lenet' takes images of shape (n_samples, 1 or 3, 32, 32); "
                    f"got rows of shape {input_shape}."
                )
            feature = LeNet(input_shape[0], **kwargs)
            classifier = nn.Sequential(nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, n_classes))
            return TransferModule(feature, classifier)
        if module == "resnet50":
            if len(input_shape) != 3 or input_shape[0] != 3:
                raise ValueError(
                    "module='resnet50' takes RGB images of shape (n_samples, 3, H, W); "
                    f"got rows of shape {input_shape}."
                )
            feature = ResNet50(**kwargs)
            return TransferModule(feature, nn.Linear(feature.out_features, n_classes))
        built = self.initialized_instance(module, kwargs)
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

    def _prepare_streams(self, X, y, sd, sample_weight):
        keep = sample_weight > 0
        as_x = lambda rows: torch.as_tensor(X[rows], dtype=torch.float32)  # noqa: E731
        source = (sd > 0) & keep
        labeled = (sd == LABELED_TARGET) & keep
        target = sd < 0  # every target row is an input of the unlabeled stream (§4.3)
        data = {
            "xs": as_x(source),
            "ys": self._encode(y[source]),
            "ws": torch.as_tensor(sample_weight[source], dtype=torch.float32),
            "xu": as_x(target) if target.any() else None,
            "xl": None,
            "yl": None,
            "wl": None,
        }
        if not source.any():
            raise ValueError("Every source row has sample_weight 0; nothing to train on.")
        valid = None
        if labeled.any():
            rows = np.flatnonzero(labeled)
            if self.train_split:
                tr, va = self.train_split(Dataset(X[rows], y[rows]), y[rows])
                if va is not None and len(va):
                    va_rows = rows[np.asarray(va.indices)]
                    valid = Dataset(
                        np.asarray(X[va_rows], dtype=np.float32),
                        self._encode(y[va_rows]).numpy(),
                    )
                    rows = rows[np.asarray(tr.indices)]
            data["xl"] = torch.as_tensor(X[rows], dtype=torch.float32)
            data["yl"] = self._encode(y[rows])
            data["wl"] = torch.as_tensor(sample_weight[rows], dtype=torch.float32)
        return data, valid

    def fit(self, X, y=None, Xt_l=None, yt_l=None, Xt_u=None, *, sample_domain=None,
            sample_weight=None):
        """Train on the source, the unlabeled target and the labeled target.

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
        self._check_params()
        n_before = None if X is None else _num_samples(X)
        explicit = any(part is not None for part in (Xt_l, yt_l, Xt_u))
        X, y, sd = self._validate_transfer_data(
            X, y, Xt_l, yt_l, Xt_u, sample_domain, allow_nd=True,
            dtype=[np.float32, np.float64],
        )
        classes = self._check_training_input(X, y, sd, explicit)
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

        self._label_encoder_ = LabelEncoder().fit(classes)
        self.classes_ = self._label_encoder_.classes_
        self._fit_shape_ = tuple(X.shape[1:])
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            if not (self.warm_start and self.initialized_):
                self.initialize()
            data, valid = self._prepare_streams(X, y, sd, sample_weight)
            # Without a labeled-target stream the gate trains and reads D's
            # marginal output (D11; gate_step's criterion).
            self._gate_read_joint_ = data["xl"] is not None and len(data["xl"]) > 0
            generator = torch.Generator().manual_seed(seed)
            iterator = _StreamIterator(
                data, self.batch_size, generator, self.device, self.steps_per_epoch
            )
            self.n_iter_ = 0
            self._total_steps_ = max(1, self.max_epochs * len(iterator))
            self._fit_with_streams(iterator, valid)
        stream = data["yl"] if self._gate_read_joint_ else data["ys"]
        self._check_collapse(np.bincount(stream.numpy(), minlength=len(self.classes_)))
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
            stacklevel=4,  # _check_collapse, fit, the restoring wrapper, the caller
        )

    def _fit_with_streams(self, iterator, valid):
        self.notify("on_train_begin", X=None, y=None)
        try:
            valid_iter = None if valid is None else self.get_iterator(valid, training=False)
            for _ in range(self.max_epochs):
                self.notify("on_epoch_begin", dataset_train=None, dataset_valid=valid)
                self.run_single_epoch(
                    iterator, training=True, prefix="train", step_fn=self.train_step
                )
                self.run_single_epoch(
                    valid_iter, training=False, prefix="valid", step_fn=self.validation_step
                )
                self._record_epoch_means()
                self.notify("on_epoch_end", dataset_train=None, dataset_valid=valid)
        except KeyboardInterrupt:
            pass
        self.notify("on_train_end", X=None, y=None)

    #: Per-batch history entries whose epoch means are recorded; a method adds its own.
    _epoch_mean_keys = ("clf_loss", "clf_ce", "d_loss", "transfer_loss", "omega_mean")

    def _record_epoch_means(self):
        batches = self.history[-1]["batches"]
        for key in self._epoch_mean_keys:
            values = [b[key] for b in batches if key in b]
            if values:
                self.history.record(key, float(np.mean(values)))

    # Transfer training needs all three streams at once: no partial_fit.
    partial_fit = available_if(lambda est: False)(NeuralNetClassifier.partial_fit)

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
        return float(self.mu) * _dann_ramp(self._progress())

    def _apply_lr_schedule(self):
        if self.lr_schedule is None:
            return
        factor = _inverse_decay(self._progress())
        for group in self.optimizer_.param_groups:
            group.setdefault("initial_lr", group["lr"])
            group["lr"] = group["initial_lr"] * factor

    def train_step(self, batch, **fit_params):
        """One optimisation step on a three-stream batch (see :meth:`train_step_single`)."""
        self._apply_lr_schedule()
        step = super().train_step(batch, **fit_params)
        self.n_iter_ += 1
        return step

    #: Fitted modules (names without the trailing ``_``) kept in eval mode even
    #: while training, e.g. ADDA's frozen source encoder.
    _eval_only_modules = ()

    def _set_training(self, training=True):
        # skorch walks every submodule each step; skip it when nothing changes.
        wanted = {
            name: training and name not in self._eval_only_modules
            for name in self._modules + self._criteria
        }
        modules = {name: getattr(self, name + "_") for name in wanted}
        if all(m is None or m.training == wanted[name] for name, m in modules.items()):
            return
        super()._set_training(training)
        for name in self._eval_only_modules:
            if modules.get(name) is not None:
                modules[name].eval()

    def _forward_streams(self, xs, xu, xl):
        parts = [t for t in (xs, xu, xl) if t is not None]
        f = self.module_.feature(torch.cat(parts) if len(parts) > 1 else xs)
        sizes = [len(t) for t in parts]
        chunks = list(torch.split(f, sizes))
        fs = chunks.pop(0)
        fu = chunks.pop(0) if xu is not None else None
        fl = chunks.pop(0) if xl is not None else None
        return fs, fu, fl

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

    def _classification_loss(self, fs, ys, ws, fl, yl, wl, omega=None):
        """Return the classification loss of eq. (9) and the source logits.

        ``ws`` weights each source row (sample weights, times any class
        weight); ``omega`` (the gate, detached) goes through
        :meth:`_gate_weights`, multiplies it, and the source term is scaled
        by ``gate_lambda``. The labeled target adds plain cross-entropy.
        Records ``clf_loss``, ``omega_mean`` (of the raw ω), and ``clf_ce``:
        the unweighted cross-entropy on the labeled-target batch (on the
        source batch without labeled target), which the collapse check
        compares with chance.
        """
        record = self.history.record_batch
        if fl is None:
            logits_s = self.module_.classifier(fs)
            loss_l = None
        else:  # one classifier pass over source and labeled target
            logits_s, logits_l = torch.split(
                self.module_.classifier(torch.cat([fs, fl])), [len(fs), len(fl)]
            )
            ce_l = F.cross_entropy(logits_l, yl, reduction="none")
            loss_l = (ce_l * wl).mean()
        ce = F.cross_entropy(logits_s, ys, reduction="none")
        record("clf_ce", (ce if fl is None else ce_l).mean().item())
        ce_s = ce * ws
        if omega is None:
            loss = ce_s.mean()
        else:
            record("omega_mean", omega.mean().item())
            loss = self.gate_lambda * (self._gate_weights(omega) * ce_s).mean()
        if loss_l is not None:
            loss = loss + loss_l
        record("clf_loss", loss.item())
        return loss, logits_s

    def train_step_single(self, batch, **fit_params):
        """Compute the method's loss on one batch and back-propagate it.

        The loss is the gated classification loss of eq. (9) (plain
        cross-entropy when the method has no gate), plus the discriminator's
        BCE of eq. (10) (reaching F reversed, ×μ, where the method is
        adversarial), plus the method's own :meth:`_transfer_loss`.
        """
        self._set_training(True)
        xs, ys, ws, xu, xl, yl, wl = batch
        fs, fu, fl = self._forward_streams(xs, xu, xl)
        clf_weight, adv_weight = self._source_row_weights(ys)
        if clf_weight is not None:
            ws = ws * clf_weight
        spec = self._gate_spec()
        omega = None
        loss = fs.new_zeros(())
        if spec is not None and fu is not None:
            out = gate_step(
                self.discriminator_, spec, fs, ys, fu, fl, yl, mu=self.current_mu(),
                source_weight=adv_weight, omega_align=self._aligns_by_omega(),
            )
            loss = loss + out.loss
            omega = out.omega
            self.history.record_batch("d_loss", out.loss.item())
        clf, logits_s = self._classification_loss(fs, ys, ws, fl, yl, wl, omega)
        extra = None if fu is None else self._transfer_loss(fs, fu, fl)
        if extra is not None:
            loss = loss + extra
            self.history.record_batch("transfer_loss", extra.item())
        loss = loss + clf
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
            Softmax of the classifier's logits, columns in ``classes_`` order.
        """
        if is_dataset(X):  # skorch's own validation scoring passes Datasets
            return super().predict_proba(X)
        X = self._predict_input(X)
        return self._eval_chunks(lambda xb: torch.softmax(self.module_(xb), dim=1), X)

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
        if is_dataset(X):
            proba = super().predict_proba(X)
        else:
            proba = self.predict_proba(X)
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
        label-conditioned and on F(x) alone otherwise (REFERENCE.md D27); a
        model fitted without labeled target rows trained and read only D's
        marginal output (D11), and so does this method. ω = D/(1−D) with the
        clamp of D10. A low ω marks a source row the gate distrusts.

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


def paper_preset(backbone="resnet50"):
    """Return the paper's training settings as parameters (REFERENCE.md D14).

    Parameters
    ----------
    backbone : {"resnet50", "lenet"}, default="resnet50"
        ``"resnet50"``: SGD with momentum 0.9 and weight decay 5e-4, learning
        rate 0.01 for the new layers and 0.001 for the pretrained backbone,
        decayed as (1+10p)^-0.75, batches of 32, discriminator
        1024-1024 with dropout 0.5. ``"lenet"``: GTA's digit settings, Adam
        with learning rate 5e-4 and β1 = 0.8, batches of 128, discriminator
        500-500.

    Returns
    -------
    params : dict
        Keyword arguments for any deep estimator, e.g.
        ``DANN(**paper_preset(), module__weights="resnet50.pth", max_epochs=...)``.
    """
    if backbone == "resnet50":
        return {
            "module": "resnet50",
            "optimizer": torch.optim.SGD,
            "lr": 0.01,
            "optimizer__momentum": 0.9,
            "optimizer__weight_decay": 5e-4,
            "optimizer__param_groups": [("feature.backbone.*", {"lr": 0.001})],
            "lr_schedule": "dann",
            "batch_size": 32,
            "discriminator_hidden": (1024, 1024),
            "discriminator__dropout": 0.5,
        }
    if backbone == "lenet":
        return {
            "module": "lenet",
            "optimizer": torch.optim.Adam,
            "lr": 5e-4,
            "optimizer__betas": (0.8, 0.999),
            "batch_size": 128,
            "discriminator_hidden": (500, 500),
        }
    raise ValueError(f"backbone must be 'resnet50' or 'lenet', got {backbone!r}.")

