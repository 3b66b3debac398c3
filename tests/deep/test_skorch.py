"""The deep estimators as skorch nets: every parameter acts, and skorch's tools work.

The first test walks ``get_params()`` of each deep estimator and demonstrates,
for every parameter, either an effect on training (or on what the parameter
documents) or a clear error when it is set to something the estimator cannot
use. A parameter added later without a demonstration fails the walk.
"""

import warnings

import numpy as np
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning
from skorch import NeuralNetClassifier
from skorch.callbacks import (
    Callback,
    EarlyStopping,
    EpochScoring,
    GradientNormClipping,
    LRScheduler,
)
from skorch.dataset import ValidSplit
from torch import nn
from torch.utils.data import DataLoader

from skntl import ADDA, DAN, DANN, GTA, PADA, DeepCORAL
from skntl.datasets import make_transfer_blobs
from skntl.deep import StreamIterator, TransferBatch, TransferDataset, TransferModule

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

METHODS = [DANN, DAN, DeepCORAL, ADDA, PADA, GTA]
SMALL = dict(hidden_layer_sizes=(8,), discriminator_hidden=(8,), max_epochs=2, batch_size=16,
             random_state=0)


@pytest.fixture(scope="module")
def data():
    Xs, ys, Xt, yt = make_transfer_blobs(48, 40, marginal_shift=1.0, random_state=0)
    return Xs, ys, Xt[:16], yt[:16], Xt


def _fit(cls, data, **params):
    Xs, ys, Xl, yl, Xu = data
    net = cls(**{**SMALL, "gate": True, **params})
    return net.fit(Xs, ys, Xl, yl, Xu)


def _fingerprint(net, X):
    losses = [h["train_loss"] for h in net.history]
    return np.concatenate([net.predict_proba(X).ravel(), losses])


class _SmoothedCE(nn.CrossEntropyLoss):
    def __init__(self, reduction="mean"):
        super().__init__(reduction=reduction, label_smoothing=0.3)


class _TinyModule(TransferModule):
    def __init__(self, n_features=2, n_classes=3):
        super().__init__(nn.Sequential(nn.Linear(n_features, 4), nn.Tanh()),
                         nn.Linear(4, n_classes))


class _Record(Callback):
    """Record every notification the net sends, with its batch."""

    def initialize(self):
        self.events = []
        return self

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        self.events.append(("batch_begin", training, batch))

    def on_batch_end(self, net, batch=None, training=False, **kwargs):
        self.events.append(("batch_end", training, kwargs.get("loss")))

    def on_grad_computed(self, net, named_parameters, batch=None, training=False, **kwargs):
        self.events.append(("grad", training, len(list(named_parameters))))

    def on_epoch_end(self, net, **kwargs):
        self.events.append(("epoch_end", None, None))


def _counting(base):
    """Return a subclass of ``base`` counting its instances in ``built``."""

    class Counting(base):
        built = 0

        def __init__(self, *args, **kwargs):
            type(self).built += 1
            super().__init__(*args, **kwargs)

    return Counting


_CountingDataset = _counting(TransferDataset)
_CountingLoader = _counting(DataLoader)


class _FirstRowsIterator(StreamIterator):
    """Always the first ``batch_size`` source rows, in order."""

    def _source_batches(self, n_s):
        for _ in range(len(self)):
            yield torch.arange(min(self.batch_size, n_s))


class _CountForwards(Callback):
    def on_train_begin(self, net, **kwargs):
        self.n = 0

        def hook(*args):
            self.n += 1

        net.module_.register_forward_hook(hook)


# -------------------------------------------------------------- the walk
def _changes_training(value):
    def check(cls, name, data, default, **params):
        changed = _fit(cls, data, **params, **{name: value})
        a, b = _fingerprint(default, data[4]), _fingerprint(changed, data[4])
        assert a.shape != b.shape or not np.array_equal(a, b), f"{name}={value!r} changed nothing"
    return check


def _check_omega_align(cls, name, data, default):
    if "separate" in cls._gate_variants:  # a gate that aligns: ω weights the aligned rows
        plain = _fit(cls, data, gate_variant="separate")
        _changes_training(True)(cls, name, data, plain, gate_variant="separate")
    with pytest.raises(ValueError, match="does not align the features.* Leave omega_align=None"):
        _fit(cls, data, omega_align=True)


def _check_alignment_param(value):
    """Weights of the alignment (mu, mu_schedule): DANN's and PADA's default gate has none."""
    def check(cls, name, data, default):
        if cls._aligns_without_discriminator:
            _changes_training(value)(cls, name, data, default)
            return
        _changes_training(value)(cls, name, data, _fit(cls, data, gate=False), gate=False)
        with pytest.warns(UserWarning, match=f"{name}=.*no effect, because the gate variant"):
            _fit(cls, data, **{name: value})
    return check


def _check_train_split(cls, name, data, default):
    assert "valid_loss" not in default.history[-1]
    net = _fit(cls, data, train_split=ValidSplit(4))
    assert np.isfinite(net.history[-1, "valid_loss"])
    assert 0 <= net.history[-1, "valid_acc"] <= 1


def _check_callbacks(cls, name, data, default):
    net = _fit(cls, data, callbacks=[("rec", _Record())])
    events = dict(net.callbacks_)["rec"].events
    assert sum(e[0] == "batch_end" for e in events) == net.n_iter_ > 0


def _check_warm_start(cls, name, data, default):
    net = cls(**{**SMALL, "gate": True, "warm_start": True})
    Xs, ys, Xl, yl, Xu = data
    net.fit(Xs, ys, Xl, yl, Xu)
    first = [p.detach().clone() for p in net.module_.parameters()]
    net.fit(Xs, ys, Xl, yl, Xu)
    assert len(net.history) == 2 * SMALL["max_epochs"]
    assert len(default.history) == SMALL["max_epochs"]
    assert any(not torch.equal(a, b) for a, b in zip(first, net.module_.parameters()))


def _check_verbose(cls, name, data, default, capsys):
    capsys.readouterr()
    _fit(cls, data, verbose=1)
    assert "train_loss" in capsys.readouterr().out


def _check_device(cls, name, data, default):
    if torch.cuda.is_available():
        net = _fit(cls, data, device="cuda")
        assert next(net.module_.parameters()).is_cuda
    else:
        with pytest.raises(ValueError, match="device='cuda'"):
            _fit(cls, data, device="cuda")
    with pytest.raises(ValueError, match="is not a torch device"):
        _fit(cls, data, device="gpu0")


def _check_dataset(cls, name, data, default):
    before = _CountingDataset.built
    _fit(cls, data, dataset=_CountingDataset)
    assert _CountingDataset.built > before
    with pytest.raises(ValueError, match="dataset must be skntl.deep.TransferDataset"):
        _fit(cls, data, dataset=torch.utils.data.TensorDataset)


def _check_iterator_train(cls, name, data, default):
    _changes_training(_FirstRowsIterator)(cls, name, data, default)
    with pytest.raises(ValueError, match="iterator_train must be skntl.deep.StreamIterator"):
        _fit(cls, data, iterator_train=DataLoader)


def _check_iterator_valid(cls, name, data, default):
    before = _CountingLoader.built
    net = _fit(cls, data, train_split=ValidSplit(4), iterator_valid=_CountingLoader,
               iterator_valid__batch_size=1)
    assert _CountingLoader.built > before
    assert net.history[-1, "valid_batch_count"] == 4  # 16 labeled rows, a quarter held out


def _check_predict_nonlinearity(cls, name, data, default):
    X = data[4]
    logits = default.set_params(predict_nonlinearity=None).predict_proba(X)
    default.set_params(predict_nonlinearity="auto")
    np.testing.assert_allclose(torch.softmax(torch.as_tensor(logits), 1).numpy(),
                               default.predict_proba(X), rtol=1e-5, atol=1e-6)
    doubled = default.set_params(predict_nonlinearity=lambda z: 2 * z).predict_proba(X)
    default.set_params(predict_nonlinearity="auto")
    np.testing.assert_allclose(doubled, 2 * logits, rtol=1e-5, atol=1e-6)


def _check_compile(cls, name, data, default, monkeypatch):
    compiled = []

    def spy(module, **kwargs):
        compiled.append(type(module).__name__)
        return module

    monkeypatch.setattr(torch, "compile", spy)
    _fit(cls, data, compile=True)
    assert type(default.module_).__name__ in compiled
    assert type(default.discriminator_).__name__ in compiled


def _check_use_caching(cls, name, data, default):
    counts = {}
    for caching in (True, False):
        cb = _CountForwards()
        _fit(cls, data, train_split=ValidSplit(4), use_caching=caching,
             callbacks=[("count", cb)])
        counts[caching] = cb.n
    assert counts[False] > counts[True]


def _check_torch_load_kwargs(cls, name, data, default, tmp_path):
    path = tmp_path / "params.pt"
    default.save_params(f_params=path)
    fresh = _fit(cls, data, random_state=5, torch_load_kwargs={"weights_only": True})
    fresh.load_params(f_params=path)
    np.testing.assert_array_equal(fresh.predict_proba(data[4]), default.predict_proba(data[4]))
    fresh.set_params(torch_load_kwargs={"not_an_argument": 1})
    with pytest.raises(TypeError, match="not_an_argument"):
        fresh.load_params(f_params=path)


def _check_classes(cls, name, data, default):
    net = _fit(cls, data, classes=[0, 1, 2, 7])
    np.testing.assert_array_equal(net.classes_, [0, 1, 2, 7])
    assert net.predict_proba(data[4]).shape[1] == 4
    with pytest.raises(ValueError, match="classes must contain every label of y"):
        _fit(cls, data, classes=[0, 1])


def _check_criterion(cls, name, data, default):
    _changes_training(_SmoothedCE)(cls, name, data, default)
    with pytest.raises(ValueError, match="criterion__reduction cannot be set"):
        _fit(cls, data, criterion__reduction="sum")
    with pytest.raises(ValueError, match="averages its losses"):
        _fit(cls, data, criterion=nn.CrossEntropyLoss())


CHECKS = {
    "module": _changes_training(_TinyModule),
    "hidden_layer_sizes": _changes_training((6,)),
    "discriminator_hidden": _changes_training((6,)),
    "gate": _changes_training(False),
    "gate_lambda": _changes_training(0.3),
    "gate_variant": _changes_training("paper"),
    "omega_normalize": _changes_training(False),
    "gate_warmup": _changes_training(0.5),
    "omega_align": _check_omega_align,
    "discriminator_kind": _changes_training("projection"),
    "mu": _check_alignment_param(0.2),
    "mu_schedule": _check_alignment_param("constant"),
    "lr_schedule": _changes_training("dann"),
    "criterion": _check_criterion,
    "optimizer": _changes_training(torch.optim.SGD),
    "lr": _changes_training(0.05),
    "max_epochs": _changes_training(3),
    "steps_per_epoch": _changes_training(1),
    "batch_size": _changes_training(8),
    "train_split": _check_train_split,
    "callbacks": _check_callbacks,
    "warm_start": _check_warm_start,
    "verbose": _check_verbose,
    "device": _check_device,
    "random_state": _changes_training(1),
    "dataset": _check_dataset,
    "iterator_train": _check_iterator_train,
    "iterator_valid": _check_iterator_valid,
    "predict_nonlinearity": _check_predict_nonlinearity,
    "compile": _check_compile,
    "use_caching": _check_use_caching,
    "torch_load_kwargs": _check_torch_load_kwargs,
    "classes": _check_classes,
    # the methods' own parameters
    "mmd_estimator": _changes_training("linear"),
    "adapt_logits": _changes_training(True),
    "pretrain_epochs": _changes_training(0),
    "encoder_lr_factor": _changes_training(0.5),
    "class_weight_epochs": _changes_training(2),
    "noise_dim": _changes_training(4),
    "generator_hidden": _changes_training((4,)),
    "aux_weight": _changes_training(0.5),
    "adv_weight": _changes_training(0.5),
}


@pytest.mark.slow
@pytest.mark.parametrize("cls", METHODS, ids=lambda c: c.__name__)
def test_every_parameter_changes_training_or_raises(cls, data, capsys, monkeypatch, tmp_path):
    params = cls().get_params(deep=False)
    missing = sorted(set(params) - set(CHECKS))
    assert not missing, f"parameters without a demonstration: {missing}"
    default = _fit(cls, data)
    extra = {"verbose": {"capsys": capsys}, "compile": {"monkeypatch": monkeypatch},
             "torch_load_kwargs": {"tmp_path": tmp_path}}
    for name in params:
        CHECKS[name](cls, name, data, default, **extra.get(name, {}))


def test_dann_parameters_have_demonstrations():
    """The fast guard of the walk: every DANN parameter is covered."""
    assert set(DANN().get_params(deep=False)) <= set(CHECKS)


# ----------------------------------------------------------- callbacks
def test_per_batch_callbacks_see_every_step_and_its_gradients(data):
    net = _fit(DANN, data, callbacks=[("rec", _Record())])
    events = dict(net.callbacks_)["rec"].events
    begins = [e for e in events if e[0] == "batch_begin"]
    assert len(begins) == net.n_iter_ == 2 * 3  # ceil(48 / 16) steps per epoch
    assert all(isinstance(e[2], TransferBatch) and e[1] for e in begins)
    assert all(len(e[2].xs) == 16 and len(e[2].xl) == 16 for e in begins)
    grads = [e for e in events if e[0] == "grad"]
    assert len(grads) == net.n_iter_ and grads[0][2] == len(list(net.get_all_learnable_params()))
    assert sum(e[0] == "epoch_end" for e in events) == 2


def test_gradient_clipping_and_lr_scheduler_callbacks_act_on_training(data):
    plain = _fit(DANN, data)
    clipped = _fit(DANN, data, callbacks=[GradientNormClipping(gradient_clip_value=1e-3)])
    assert not np.array_equal(plain.predict_proba(data[4]), clipped.predict_proba(data[4]))
    scheduled = _fit(DANN, data, callbacks=[
        LRScheduler(policy=torch.optim.lr_scheduler.StepLR, step_size=1, gamma=0.1)
    ])
    assert scheduled.optimizer_.param_groups[0]["lr"] == pytest.approx(1e-3 * 0.1 ** 2)
    assert not np.array_equal(plain.predict_proba(data[4]), scheduled.predict_proba(data[4]))
    with pytest.raises(ValueError, match="lr_schedule='dann' sets the learning rates"):
        _fit(DANN, data, lr_schedule="dann", callbacks=[
            LRScheduler(policy=torch.optim.lr_scheduler.StepLR, step_size=1)
        ])


def test_early_stopping_on_the_validation_split(data):
    net = _fit(DANN, data, max_epochs=50, train_split=ValidSplit(4),
               callbacks=[EarlyStopping(monitor="valid_loss", patience=2, threshold=10.0)])
    assert len(net.history) == 3  # the first epoch, then two without a gain of 10


def test_callbacks_scoring_the_training_batches_raise(data):
    with pytest.raises(ValueError, match="on_train=True"):
        _fit(DANN, data, callbacks=[EpochScoring("accuracy", on_train=True)])


# ------------------------------------------------- validation split, warm start
def test_validation_split_holds_out_labeled_target_and_scores_original_labels(data):
    """valid_acc compares predict's labels with the held-out labels as passed to fit."""
    Xs, ys, Xl, yl, Xu = data
    accs = []
    for shift in (0, 10):
        net = DANN(**{**SMALL, "max_epochs": 4}, train_split=ValidSplit(4))
        net.fit(Xs, ys + shift, Xl, yl + shift, Xu)
        accs.append([h["valid_acc"] for h in net.history])
        train, valid = net.get_split_datasets(
            net.get_dataset({"X": np.r_[Xs, Xl], "y": np.r_[ys, yl],
                             "sample_domain": np.r_[np.ones(len(Xs)), -np.ones(len(Xl))],
                             "sample_weight": np.ones(len(Xs) + len(Xl))})
        )
        assert len(train.xl) == 12 and len(valid) == 4
        assert len(train.xu) == 16  # held-out rows stay unlabeled inputs
        assert set(valid.y) <= set(yl + shift)
    assert accs[0] == accs[1]
    assert max(accs[0]) > 0


def test_warm_start_continues_like_a_neural_net_classifier(data):
    """Two warm fits give one history of both; a cold refit starts again."""
    Xs, ys, Xl, yl, Xu = data
    ours = DANN(**SMALL, warm_start=True)
    theirs = NeuralNetClassifier(_TinyModule, max_epochs=2, warm_start=True, train_split=None,
                                 verbose=0, criterion=nn.CrossEntropyLoss,
                                 module__n_features=Xs.shape[1])
    for net, args in ((ours, (Xs, ys, Xl, yl, Xu)), (theirs, (Xs.astype("float32"), ys))):
        net.fit(*args)
        module_before = net.module_
        net.fit(*args)
        assert len(net.history) == 4
        assert net.module_ is module_before
        net.set_params(warm_start=False)
        net.fit(*args)
        assert len(net.history) == 2
        assert net.module_ is not module_before


def test_partial_fit_continues_training_and_keeps_the_classes(data):
    Xs, ys, Xl, yl, Xu = data
    net = DANN(**SMALL).partial_fit(Xs, ys, Xl, yl, Xu, classes=[0, 1, 2, 3])
    module = net.module_
    net.partial_fit(Xs[ys < 2], ys[ys < 2], Xt_u=Xu)
    assert net.module_ is module and len(net.history) == 4
    np.testing.assert_array_equal(net.classes_, [0, 1, 2, 3])
    with pytest.raises(ValueError, match=r"X has 1 features, but DANN is expecting 2 .*partial"):
        net.partial_fit(Xs[:, :1], ys, Xt_u=Xu[:, :1])
    assert len(net.history) == 4 and net.module_ is module  # the failed call changed nothing


def test_partial_fit_equals_fit_on_the_first_call(data):
    Xs, ys, Xl, yl, Xu = data
    a = DANN(**SMALL).fit(Xs, ys, Xl, yl, Xu).predict_proba(Xu)
    b = DANN(**SMALL).partial_fit(Xs, ys, Xl, yl, Xu).predict_proba(Xu)
    np.testing.assert_array_equal(a, b)


# --------------------------------------------------------------- criterion
def test_criterion_arguments_reach_the_training_loss(data):
    plain = _fit(DANN, data)
    smooth = _fit(DANN, data, criterion__label_smoothing=0.3)
    assert smooth.criterion_.reduction == "none"
    assert smooth.criterion_.label_smoothing == 0.3
    assert not np.array_equal(plain.predict_proba(data[4]), smooth.predict_proba(data[4]))


# ------------------------------------------------------- unused gate settings
def test_gate_settings_without_a_gate_warn(data):
    Xs, ys, Xl, yl, Xu = data
    with pytest.warns(UserWarning, match=r"gate_lambda=0.5: no effect, because gate=False"):
        DANN(**SMALL, gate_lambda=0.5).fit(Xs, ys, Xt_u=Xu)
    with pytest.warns(UserWarning, match="no target rows"):
        DANN(**SMALL, gate=True, gate_warmup=0.5).fit(Xs, ys)
    with pytest.warns(UserWarning, match="'label_only' produces no weights"):
        DANN(**SMALL, gate=True, gate_variant="label_only", gate_lambda=2.0).fit(
            Xs, ys, Xl, yl, Xu)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", ConvergenceWarning)
        DANN(**SMALL, gate=True, gate_lambda=0.5).fit(Xs, ys, Xl, yl, Xu)
        DANN(**SMALL).fit(Xs, ys, Xt_u=Xu)


def test_print_log_is_silent_at_verbose_0_and_still_feeds_a_custom_sink(data, capsys):
    capsys.readouterr()
    _fit(DANN, data, verbose=0)
    assert capsys.readouterr().out == ""
    lines = []
    net = _fit(DANN, data, verbose=0, callbacks__print_log__sink=lines.append)
    # as skorch's PrintLog: header, rule, then one row per epoch
    assert len(lines) == 2 + SMALL["max_epochs"]
    assert "train_loss" in lines[0] and len(net.history) == SMALL["max_epochs"]
