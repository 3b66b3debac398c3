"""DANN and the engine: training mechanics, prediction, errors, sklearn tools."""

import math
import warnings

import numpy as np
import pytest
import sklearn
import torch
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, cross_validate
from skorch.callbacks import EarlyStopping
from skorch.dataset import ValidSplit

from skntl import ADDA, DAN, DANN, GTA, PADA, DeepCORAL, TargetSplit, fit_target_only, pack
from skntl.deep import TransferBatch, paper_preset
from skntl.deep._schedules import dann_ramp as _dann_ramp


def test_epoch_is_ceil_source_over_batch_and_mu_ramps(make_data, small_net):
    Xs, ys, Xl, yl, Xu, _, _ = make_data()
    net = DANN(batch_size=32, max_epochs=3, random_state=0, **small_net).fit(Xs, ys, Xl, yl, Xu)
    steps = math.ceil(len(Xs) / 32)
    assert len(net.history[-1]["batches"]) == steps
    assert net.n_iter_ == 3 * steps
    # the ramp goes 0 -> ~1 and μ reaches mu at the end of training
    assert _dann_ramp(0.0) == 0.0 and _dann_ramp(1.0) > 0.9999
    assert net.current_mu() == pytest.approx(net.mu * _dann_ramp(1.0))
    assert DANN(mu=0.3, mu_schedule="constant").current_mu() == 0.3
    # per-epoch logs of both losses
    assert {"clf_loss", "d_loss", "train_loss"} <= set(net.history[-1])


def test_lr_schedule_decays_learning_rate(make_data, small_net):
    Xs, ys, Xl, yl, Xu, _, _ = make_data()
    net = DANN(max_epochs=2, lr_schedule="dann", random_state=0, **small_net)
    net.fit(Xs, ys, Xl, yl, Xu)
    group = net.optimizer_.param_groups[0]
    p_last = (net.n_iter_ - 1) / net.n_iter_
    assert group["lr"] == pytest.approx(0.01 * (1 + 10 * p_last) ** -0.75)


# DANN without the gate stays fast; the other methods and the gate are `slow` cases
@pytest.mark.parametrize("gate", [False, pytest.param(True, marks=pytest.mark.slow)])
@pytest.mark.parametrize("method", [DANN, *(pytest.param(m, marks=pytest.mark.slow)
                                            for m in (DAN, DeepCORAL, ADDA, PADA, GTA))],
                         ids=lambda m: m.__name__)
def test_same_seed_same_predictions_bit_for_bit(method, gate, make_data, small_net):
    Xs, ys, Xl, yl, Xu, Xte, _ = make_data()
    kw = dict(gate=gate, max_epochs=4, **small_net)
    if method is GTA:
        kw.update(generator_hidden=(16,), noise_dim=4)
    a = method(random_state=1, **kw).fit(Xs, ys, Xl, yl, Xu)
    b = method(random_state=1, **kw).fit(Xs, ys, Xl, yl, Xu)
    c = method(random_state=2, **kw).fit(Xs, ys, Xl, yl, Xu)
    np.testing.assert_array_equal(a.predict_proba(Xte), b.predict_proba(Xte))
    assert not np.array_equal(a.predict_proba(Xte), c.predict_proba(Xte))
    if gate:
        np.testing.assert_array_equal(a.predict_weights(Xs, ys)[1], b.predict_weights(Xs, ys)[1])
    # refitting the same object gives the same model
    np.testing.assert_array_equal(a.fit(Xs, ys, Xl, yl, Xu).predict_proba(Xte),
                                  b.predict_proba(Xte))


def test_transform_gives_bottleneck_features_and_names(make_data, small_net):
    Xs, ys, Xl, yl, Xu, Xte, _ = make_data()
    net = DANN(max_epochs=1, random_state=0, **small_net).fit(Xs, ys, Xl, yl, Xu)
    Z = net.transform(Xte)
    assert Z.shape == (len(Xte), 8) and Z.dtype == np.float32
    assert list(net.get_feature_names_out()) == [f"dann{i}" for i in range(8)]
    # the classifier's logits are a linear function of the bottleneck
    logits = net.module_.classifier(torch.as_tensor(Z)).detach()
    np.testing.assert_allclose(
        torch.softmax(logits, 1).numpy(), net.predict_proba(Xte), rtol=1e-5, atol=1e-6
    )


def test_sample_weight_zero_drops_rows_exactly(make_data, small_net):
    """The oracle of Table 4: weight-0 source rows are as if never passed."""
    Xs, ys, Xl, yl, Xu, Xte, _ = make_data()
    keep = np.arange(len(Xs)) % 4 != 0
    kw = dict(gate=True, max_epochs=2, random_state=0, **small_net)
    a = DANN(**kw).fit(Xs, ys, Xl, yl, Xu, sample_weight=keep.astype(float))
    b = DANN(**kw).fit(Xs[keep], ys[keep], Xl, yl, Xu)
    np.testing.assert_array_equal(a.predict_proba(Xte), b.predict_proba(Xte))
    X, y, sd = pack(Xs, ys, Xl, yl, Xu)
    with pytest.raises(ValueError, match="Every source row has sample_weight 0"):
        DANN(**kw).fit(X, y, sample_domain=sd, sample_weight=(sd < 0).astype(float))


def test_images_train_with_lenet_and_bad_shapes_are_rejected():
    rng = np.random.RandomState(0)
    X = rng.rand(24, 1, 32, 32).astype(np.float32)
    y = np.arange(24) % 2
    net = DANN(max_epochs=1, batch_size=8, random_state=0).fit(
        X[:16], y[:16], X[16:20], y[16:20], X[16:]
    )
    assert isinstance(net.module_.feature, torch.nn.Sequential)
    assert net.predict(X).shape == (24,)
    assert net.transform(X[:3]).shape == (3, 128)
    with pytest.raises(ValueError, match=r"lenet.*\(n_samples, 1 or 3, 32, 32\)"):
        DANN(max_epochs=1).fit(rng.rand(10, 1, 28, 28), np.arange(10) % 2)
    with pytest.raises(ValueError, match="module='mlp' takes 2-D X"):
        DANN(module="mlp", max_epochs=1).fit(X[:10], y[:10])
    with pytest.raises(ValueError, match="X has 3 features, but DANN is expecting 1"):
        net.predict(rng.rand(3, 3, 32, 32))
    with pytest.raises(ValueError, match=r"rows of shape \(1, 28, 28\)"):
        net.predict(rng.rand(3, 1, 28, 28))


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(mu=-0.5), "'mu' parameter"),
        (dict(batch_size=0), "'batch_size' parameter"),
        (dict(gate=True, gate_variant="partial"), "gate_variant must be None or one of"),
        (dict(gate_lambda=-1.0), "'gate_lambda' parameter"),
        (dict(module="vgg16"), "module must be None, 'mlp', 'lenet', 'resnet50'"),
        (dict(hidden_layer_sizes=(8, 0)), "hidden_layer_sizes must be positive"),
    ],
)
def test_bad_parameters_give_clear_errors(params, match, make_data):
    Xs, ys, Xl, yl, Xu, _, _ = make_data()
    est = DANN(max_epochs=1, **params)
    with pytest.raises(ValueError, match=match):
        est.fit(Xs, ys, Xl, yl, Xu)
    assert not hasattr(est, "module_")


def test_custom_module_must_expose_feature_and_classifier(make_data):
    Xs, ys, _, _, _, _, _ = make_data()
    with pytest.raises(TypeError, match="'feature'.*'classifier'"):
        DANN(module=torch.nn.Linear(4, 3), max_epochs=1).fit(Xs, ys)
    from skntl.deep import TransferModule

    module = TransferModule(torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.ReLU()),
                            torch.nn.Linear(6, 3))
    net = DANN(module=module, max_epochs=1, random_state=0).fit(Xs, ys)
    assert net.transform(Xs).shape == (len(Xs), 6)


@pytest.mark.parametrize("normalize", [False, True])
def test_gated_loss_weights_rows_by_omega_optionally_normalised(normalize, make_data, small_net):
    """Eq. (9): λ·mean(ω·CE); with omega_normalize ω is divided by its batch mean (D10)."""
    Xs, ys, Xl, yl, Xu, _, _ = make_data()
    net = DANN(gate=True, gate_lambda=0.5, omega_normalize=normalize, max_epochs=1,
               random_state=0, **small_net).fit(Xs, ys, Xl, yl, Xu)
    fs = net.module_.feature(torch.as_tensor(Xs[:6], dtype=torch.float32))
    ys_t = torch.as_tensor(ys[:6])
    omega = torch.tensor([0.1, 0.2, 0.3, 1.0, 2.0, 4.0])
    batch = TransferBatch(None, ys_t, torch.ones(6))
    loss, logits = net._classification_loss(batch, fs, None, batch.ws, omega)
    ce = torch.nn.functional.cross_entropy(logits, ys_t, reduction="none")
    w = omega / omega.mean() if normalize else omega
    torch.testing.assert_close(loss, 0.5 * (w * ce).mean())


def test_predict_weights_shapes_and_errors(make_data, small_net):
    Xs, ys, Xl, yl, Xu, _, _ = make_data()
    net = DANN(gate=True, max_epochs=2, random_state=0, **small_net).fit(Xs, ys, Xl, yl, Xu)
    d, omega = net.predict_weights(Xs, ys)
    assert d.shape == omega.shape == (len(Xs),)
    assert ((d > 0) & (d < 1)).all()
    np.testing.assert_allclose(omega, np.clip(d, 1e-4, 1 - 1e-4) / (1 - np.clip(d, 1e-4, 1 - 1e-4)),
                               rtol=1e-4)
    with pytest.raises(ValueError, match=r"labels \[9\] not seen"):
        net.predict_weights(Xs[:2], [0, 9])


@pytest.mark.slow
@pytest.mark.parametrize("routing", [False, True])
def test_grid_search_over_gate_lambda_and_mu_on_packed_data(routing, make_data, small_net):
    Xs, ys, Xl, yl, Xu, _, _ = make_data()
    X, y, sd = pack(Xs, ys, Xl, yl, Xu)
    with sklearn.config_context(enable_metadata_routing=routing):
        est = DANN(gate=True, max_epochs=2, random_state=0, **small_net)
        if routing:
            est = est.set_fit_request(sample_domain=True)
        grid = GridSearchCV(
            est, {"gate_lambda": [0.5, 1.0], "mu": [0.1, 1.0]}, cv=TargetSplit(3, random_state=0)
        )
        grid.fit(X, y, sample_domain=sd, groups=sd)
        assert np.isfinite(grid.cv_results_["mean_test_score"]).all()
        assert grid.best_estimator_.discriminator_ is not None
        extra = (
            dict(params={"sample_domain": sd, "groups": sd})
            if routing
            else dict(groups=sd, params={"sample_domain": sd})
        )
        cv = cross_validate(clone(est), X, y, cv=TargetSplit(3, random_state=0), **extra)
        assert len(cv["test_score"]) == 3


def test_skorch_validation_split_on_labeled_target_and_early_stopping(make_data, small_net):
    Xs, ys, Xl, yl, Xu, _, _ = make_data()
    net = DANN(
        max_epochs=30,
        train_split=ValidSplit(3, stratified=True),
        callbacks=[EarlyStopping(monitor="valid_loss", patience=2, threshold=10.0)],
        random_state=0,
        **small_net,
    ).fit(Xs, ys, Xl, yl, Xu)
    assert "valid_acc" in net.history[-1] and "valid_loss" in net.history[-1]
    assert len(net.history) < 30  # early stopping ended training


def test_paper_presets_build_their_networks():
    rng = np.random.RandomState(0)
    X = rng.rand(8, 1, 32, 32).astype(np.float32)
    y = np.arange(8) % 2
    net = DANN(**paper_preset("lenet"), max_epochs=1, random_state=0).fit(X, y)
    assert net.discriminator_.net[0].out_features == 500
    assert net.optimizer_.defaults["betas"][0] == 0.8
    params = paper_preset("resnet50")
    assert params["optimizer"] is torch.optim.SGD and params["lr_schedule"] == "dann"
    with pytest.raises(ValueError, match="backbone"):
        paper_preset("vgg")


@pytest.mark.slow
def test_resnet50_module_trains_one_step(one_thread):
    rng = np.random.RandomState(0)
    X = rng.rand(4, 3, 32, 32).astype(np.float32)
    y = np.array([0, 1, 0, 1])
    params = {**paper_preset("resnet50"), "batch_size": 4}
    net = DANN(**params, max_epochs=1, random_state=0).fit(X, y)
    assert net.transform(X).shape == (4, 256)
    groups = net.optimizer_.param_groups
    assert sorted(g["initial_lr"] for g in groups) == [0.001, 0.01]


def test_skorch_callbacks_work_unchanged(tmp_path, make_data, small_net):
    from skorch.callbacks import Checkpoint, LRScheduler, ProgressBar

    Xs, ys, Xl, yl, Xu, Xte, _ = make_data()
    net = DANN(
        gate=True,
        max_epochs=3,
        callbacks=[
            ProgressBar(),
            LRScheduler(policy="StepLR", step_size=1, gamma=0.5),
            Checkpoint(monitor=None, dirname=str(tmp_path), f_discriminator="d.pt"),
        ],
        random_state=0,
        **small_net,
    ).fit(Xs, ys, Xl, yl, Xu)
    assert net.optimizer_.param_groups[0]["lr"] == pytest.approx(0.01 * 0.5**3)
    assert (tmp_path / "params.pt").exists()
    # the checkpoint holds both networks: a fresh net loads it and predicts the same
    fresh = DANN(gate=True, max_epochs=1, random_state=1, **small_net)
    fresh.fit(Xs, ys, Xl, yl, Xu)  # builds the networks for these shapes and classes
    fresh.load_params(
        f_params=str(tmp_path / "params.pt"), f_discriminator=str(tmp_path / "d.pt")
    )
    np.testing.assert_array_equal(fresh.predict_proba(Xte), net.predict_proba(Xte))
    d_a, _ = fresh.predict_weights(Xs, ys)
    d_b, _ = net.predict_weights(Xs, ys)
    np.testing.assert_array_equal(d_a, d_b)


def test_steps_per_epoch_sets_the_epoch_length_over_repeated_source_passes(make_data, small_net):
    Xs, ys, Xl, yl, Xu, _, _ = make_data()
    net = DANN(batch_size=32, max_epochs=2, steps_per_epoch=7, random_state=0, **small_net)
    net.fit(Xs, ys, Xl, yl, Xu)
    assert [len(h["batches"]) for h in net.history] == [7, 7]
    assert net.n_iter_ == 14
    # seven steps are more than two passes over 90 source rows in batches of 32
    assert 7 > 2 * math.ceil(len(Xs) / 32)


@pytest.mark.parametrize(
    "method",
    [DANN, *(pytest.param(m, marks=pytest.mark.slow) for m in (DAN, DeepCORAL, ADDA, PADA, GTA))],
    ids=lambda m: m.__name__,
)
def test_target_only_twin_takes_as_many_steps_as_its_transfer_model(method, make_data, small_net):
    Xs, ys, Xl, yl, Xu, _, _ = make_data()
    kw = dict(batch_size=16, max_epochs=3, random_state=0, **small_net)
    if method is GTA:
        kw.pop("discriminator_hidden")
    est = method(**kw)
    transfer = clone(est).fit(Xs, ys, Xl, yl, Xu)
    twin = fit_target_only(est, Xs, ys, Xl, yl, Xu)
    assert twin.n_iter_ == transfer.n_iter_ == 3 * math.ceil(len(Xs) / 16)
    # one pass over the 15 labeled rows would have been a single step per epoch
    assert math.ceil(len(Xl) / 16) == 1
    assert est.get_params()["steps_per_epoch"] is None  # the estimator is left alone
    fixed = fit_target_only(clone(est).set_params(steps_per_epoch=2), Xs, ys, Xl, yl, Xu)
    assert fixed.n_iter_ == 6


def test_gate_warmup_phases_omega_in_linearly():
    net = DANN(gate=True, gate_warmup=0.5, omega_normalize=True)
    net.n_iter_, net._total_steps_ = 0, 100
    omega = torch.tensor([0.5, 1.5, 4.0])
    torch.testing.assert_close(net._gate_weights(omega), torch.ones(3))
    net.n_iter_ = 25  # halfway through the warm-up
    normalised = omega / omega.mean()
    torch.testing.assert_close(net._gate_weights(omega), 1 + 0.5 * (normalised - 1))
    net.n_iter_ = 60
    torch.testing.assert_close(net._gate_weights(omega), normalised)


def test_a_classifier_that_never_leaves_chance_gets_a_convergence_warning(make_data, small_net):
    rng = np.random.RandomState(0)
    X, y = rng.randn(200, 5), rng.randint(0, 4, 200)  # labels unrelated to X
    with pytest.warns(ConvergenceWarning, match="chance level"):
        DANN(max_epochs=3, random_state=0, **{**small_net, "lr": 1e-9}).fit(X, y)
    with pytest.warns(ConvergenceWarning, match="gate_variant=None"):
        DANN(gate=True, gate_variant="full", max_epochs=3,
             random_state=0, **{**small_net, "lr": 1e-9}).fit(
            X, y, X[:40], y[:40], X[40:])
    with pytest.warns(ConvergenceWarning, match="omega_normalize=True"):
        DANN(gate=True, gate_variant="none", max_epochs=3,
             random_state=0, **{**small_net, "lr": 1e-9}).fit(
            X, y, X[:40], y[:40], X[40:])
    Xs, ys, Xl, yl, Xu, _, _ = make_data()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        DANN(max_epochs=5, random_state=0, **small_net).fit(Xs, ys, Xl, yl, Xu)


@pytest.mark.parametrize("method", [DANN, DAN, DeepCORAL, ADDA, PADA, GTA],
                         ids=lambda m: m.__name__)
def test_gate_variant_none_is_skntls_gate_and_paper_is_the_papers(method, make_data):
    from skntl.deep.gate import GATE_VARIANTS

    default, paper = method(gate=True), method(gate=True, gate_variant="paper")
    assert default._gate_spec() is GATE_VARIANTS[method._default_gate_variant]
    assert paper._gate_spec() is GATE_VARIANTS[method._paper_gate_variant]
    # skntl's gate keeps its discriminator out of the adversarial game and normalises ω
    assert not default._gate_spec().adversarial & {"joint_target", "joint_source"}
    assert default._normalizes_omega() and not paper._normalizes_omega()
    assert not paper._aligns_by_omega()
    # explicit settings win over the variant's
    assert not method(gate=True, omega_normalize=False)._normalizes_omega()
    assert method(gate=True, gate_variant="paper", omega_normalize=True)._normalizes_omega()
    assert not method(gate=True, omega_align=False)._aligns_by_omega()
    with pytest.raises(ValueError, match="gate_variant must be None or one of"):
        method(gate=True, gate_variant="bogus").fit(*make_data()[:2])
