"""GTA: generator shapes, gradient isolation, the GAN at work, the gate, errors, the twin."""

import copy

import numpy as np
import pytest
import torch
from sklearn.base import clone
from torch.nn import functional as F

from skntl import fit_target_only
from skntl.deep import TransferBatch, TransferModule
from skntl.deep.gate import omega_from_logits
from skntl.deep.gta import GTA

SMALL = dict(
    hidden_layer_sizes=(16, 8), discriminator_hidden=(16,), generator_hidden=(16,), noise_dim=4,
    lr=1e-2,
)


def _images(n, channels=1, size=32, seed=0):
    rng = np.random.RandomState(seed)
    return rng.randn(n, channels, size, size).astype(np.float32), np.arange(n) % 2


# ------------------------------------------------------------------ shapes
def test_generator_produces_feature_rows(make_data):
    Xs, ys, Xl, yl, Xu, _, _ = make_data()
    net = GTA(max_epochs=1, random_state=0, **SMALL).fit(Xs, ys, Xl, yl, Xu)
    f = torch.as_tensor(net.transform(Xs[:5]))
    y = torch.tensor([0, 1, 2, 3, 3])  # 3 = nil
    out = net.generator_(f, y, torch.randn(5, 4))
    assert out.shape == (5, Xs.shape[1])
    rf, aux, h = net.discriminator_(out)
    assert rf.shape == (5,) and aux.shape == (5, 3) and h.shape == (5, 16)
    assert net.discriminator_.gate is None


@pytest.mark.parametrize("channels", [1, 3])
def test_generator_produces_images_of_x_shape(channels):
    X, y = _images(16, channels)
    net = GTA(gate=True, max_epochs=1, batch_size=8, random_state=0).fit(
        X[:8], y[:8], X[8:12], y[8:12], X[8:]
    )
    f = torch.as_tensor(net.transform(X[:4]))
    with torch.no_grad():
        out = net.generator_(f, torch.tensor([0, 1, 2, 2]), torch.randn(4, net.noise_dim))
    assert out.shape == (4, channels, 32, 32)
    assert net.predict(X).shape == (16,)
    assert net.predict_weights(X[:8], y[:8])[1].shape == (8,)


def test_shapes_the_generator_cannot_produce_are_rejected_before_building():
    X, y = _images(6, channels=3, size=64)
    small = TransferModule(
        torch.nn.Sequential(torch.nn.Conv2d(3, 4, 8, stride=8), torch.nn.Flatten()),
        torch.nn.Linear(4 * 8 * 8, 2),
    )
    est = GTA(module=small, max_epochs=1)
    with pytest.raises(ValueError, match=r"cannot produce inputs with rows of shape \(3, 64, 64\)"):
        est.fit(X, y)
    assert not hasattr(est, "module_")
    X224 = np.zeros((2, 3, 224, 224), dtype=np.float32)
    est = GTA(module="resnet50", max_epochs=1)
    with pytest.raises(ValueError, match=r"rows of shape \(3, 224, 224\)"):
        est.fit(X224, [0, 1])
    assert not hasattr(est, "module_")  # no ResNet-50 was built
    X32, y32 = _images(6)
    est = GTA(generator_hidden=(8, 8), max_epochs=1)
    with pytest.raises(ValueError, match="three values"):
        est.fit(X32, y32)
    assert not hasattr(est, "module_")
    est = GTA(discriminator__channels=(8, 0), max_epochs=1)
    with pytest.raises(ValueError, match="discriminator__channels must be 1 to 6 positive"):
        est.fit(X32, y32)
    assert not hasattr(est, "module_")


# ------------------------------------------------------ gradient isolation
def _bce(z, target):
    return F.binary_cross_entropy_with_logits(z, torch.full_like(z, target))


def _grads(loss, params):
    out = torch.autograd.grad(loss, params, allow_unused=True, retain_graph=True)
    return [torch.zeros_like(p) if g is None else g for p, g in zip(params, out)]


@pytest.mark.parametrize(
    "gate, images",
    [(False, False), (True, False), pytest.param(True, True, marks=pytest.mark.slow)],
)
def test_each_network_gets_the_gradient_of_its_own_loss_only(gate, images, make_data):
    """Hand-built batch: every player's gradient equals that of its own loss alone."""
    torch.manual_seed(0)
    if images:
        X, y = _images(24)
        y = np.arange(24) % 3
        kw = dict(generator_hidden=(8, 8, 4), discriminator__channels=(4, 8), noise_dim=4)
    else:
        X, y, *_ = make_data(n_s=24)
        kw = SMALL
    net = GTA(gate=gate, mu=0.5, mu_schedule="constant", aux_weight=0.2, adv_weight=0.7,
              max_epochs=1, random_state=0, **kw)
    net.fit(X[:12], y[:12], X[12:16], y[12:16], X[12:])
    k = len(net.classes_)
    xs, xu, xl = (torch.as_tensor(X[a:b], dtype=torch.float32) for a, b in
                  [(0, 8), (12, 18), (18, 23)])
    ys, yl = torch.as_tensor(y[:8]), torch.as_tensor(y[18:23])
    ws, wl = torch.ones(8), torch.ones(5)
    noise = torch.randn(14, net.noise_dim)
    net._draw_noise = lambda n: noise[:n]
    Fm, Cm, G, D = net.module_.feature, net.module_.classifier, net.generator_, net.discriminator_
    nets = {"F": Fm, "C": Cm, "G": G, "D": [D.trunk, D.real_fake, D.aux]}
    if gate:
        nets["gate"] = D.gate
    params = {
        name: [p for m in (n if isinstance(n, list) else [n]) for p in m.parameters()]
        for name, n in nets.items()
    }
    G_before = copy.deepcopy(G)

    net.optimizer_.zero_grad(set_to_none=True)
    net.train_step_single(TransferBatch(xs, ys, ws, xu, xl, yl, wl))
    got = {name: [torch.zeros_like(p) if p.grad is None else p.grad.clone() for p in ps]
           for name, ps in params.items()}
    G_buffers = [b.clone() for b in G.buffers()]

    # the reference: each player's loss written out with plain autograd
    net._set_training(True)
    fs, fu, fl = Fm(xs), Fm(xu), Fm(xl)
    gen = G(torch.cat([fs, fu]), torch.cat([ys, torch.full((6,), k)]), noise)
    gen_s, gen_u = gen[:8], gen[8:]
    rf = lambda x: D(x)[0]  # noqa: E731
    aux = lambda x: D(x)[1]  # noqa: E731
    loss_d = (_bce(rf(xs), 1) + F.cross_entropy(aux(xs), ys) + _bce(rf(gen_s), 0)
              + _bce(rf(gen_u), 0) + F.cross_entropy(aux(xl), yl))
    loss_g = _bce(rf(gen_s), 1) + F.cross_entropy(aux(gen_s), ys)
    ce_s = F.cross_entropy(Cm(fs), ys, reduction="none")
    if gate:
        h_s, h_u, h_l = (D.trunk(x).detach() for x in (xs, xu, xl))
        omega = omega_from_logits(D.gate(h_s, ys))
        if net._normalizes_omega():  # skntl's gate; the paper's applies ω as is
            omega = omega / omega.mean()
        ce_s = omega * ce_s
        loss_gate = (_bce(D.gate(h_u, None), 1) + _bce(D.gate(h_s, None), 0)
                     + _bce(D.gate(h_l, yl), 1) + _bce(D.gate(h_s, ys), 0))
    loss_c = ce_s.mean() + F.cross_entropy(Cm(fl), yl)
    loss_f = loss_c + 0.5 * (0.2 * F.cross_entropy(aux(gen_s), ys) + 0.7 * _bce(rf(gen_u), 1))
    want = {
        "F": _grads(loss_f, params["F"]),
        "C": _grads(loss_c, params["C"]),
        "G": _grads(loss_g, params["G"]),
        "D": _grads(loss_d, params["D"]),
    }
    if gate:
        want["gate"] = _grads(loss_gate, params["gate"])
    for name in want:
        assert any(w.abs().sum() > 0 for w in want[name]), name
        for g, w in zip(got[name], want[name]):
            torch.testing.assert_close(g, w, rtol=1e-4, atol=1e-6, msg=name)
    # the test has teeth: D's and G's losses do reach F through G in a naive sum
    naive = _grads(loss_f + loss_d + loss_g, params["F"])
    assert max((n - g).abs().max() for n, g in zip(naive, got["F"])) > 1e-4
    # BatchNorm statistics moved once, in G's one live pass
    if images:
        G_before.train()
        G_before(torch.cat([fs, fu]).detach(), torch.cat([ys, torch.full((6,), k)]), noise)
        for a, b in zip(G_before.buffers(), G_buffers):
            torch.testing.assert_close(a, b)


# ------------------------------------------------------------ the mechanism
@pytest.fixture(scope="module")
def clean_fit(make_problem):
    p = make_problem(n_s=600, eps_y=0.0)
    # GTA's own optimiser settings (paper_preset("lenet")); fitted once: don't refit
    net = GTA(lr=5e-4, optimizer__betas=(0.8, 0.999), max_epochs=10, random_state=0)
    net.fit(p["Xs"], p["ys"], p["Xl"], p["yl"], p["Xu"])
    return p, net


@pytest.mark.slow  # clean_fit trains GTA for 10 epochs
def test_gan_learns_on_a_learnable_problem(clean_fit):
    p, net = clean_fit
    h = net.history
    assert {"clf_loss", "d_loss", "g_loss", "aux_acc", "train_loss"} <= set(h[-1])
    assert h[0, "aux_acc"] < h[-1, "aux_acc"]
    assert h[-1, "aux_acc"] > 0.8  # D's auxiliary head on real source; chance is 0.25
    assert np.isfinite(h[:, "g_loss"]).all() and np.isfinite(h[:, "d_loss"]).all()
    assert net.score(p["Xte"], p["yte"]) > 0.8
    # G draws class-conditional rows: D's auxiliary head recognises their class
    net._set_training(False)
    with torch.no_grad():
        f = torch.as_tensor(net.transform(p["Xs"]))
        y = torch.as_tensor(p["ys"])
        fake = net.generator_(f, y, torch.randn(len(f), net.noise_dim))
        acc = (net.discriminator_(fake)[1].argmax(1) == y).float().mean().item()
    assert acc > 0.8


@pytest.mark.slow
def test_predict_weights_needs_the_gate(clean_fit):
    p, net = clean_fit
    with pytest.raises(AttributeError, match=r"set gate=True"):
        net.predict_weights(p["Xs"], p["ys"])


@pytest.mark.slow
def test_gate_distrusts_corrupted_source_labels(make_problem):
    """ε_y = 0.5: the gate head gives the redrawn rows clearly lower ω."""
    p = make_problem(seed=2, n_s=1000)
    net = GTA(gate=True, max_epochs=15, random_state=2)
    net.fit(p["Xs"], p["ys"], p["Xl"], p["yl"], p["Xu"])
    assert {"gate_loss", "omega_mean"} <= set(net.history[-1])
    d, omega = net.predict_weights(p["Xs"], p["ys"])
    assert ((d > 0) & (d < 1)).all()
    ratio = omega[p["wrong"]].mean() / omega[~p["wrong"]].mean()
    assert ratio <= 0.7
    # the same inputs with their true labels get the larger ω
    x, wrong_y, true_y = p["Xs"][p["wrong"]], p["ys"][p["wrong"]], p["ys_true"][p["wrong"]]
    w_true, w_wrong = net.predict_weights(x, true_y)[1], net.predict_weights(x, wrong_y)[1]
    assert w_true.mean() > 1.5 * w_wrong.mean()


# ------------------------------------------------------- contract and errors
@pytest.mark.parametrize(
    "params, match",
    [
        (dict(noise_dim=-1), "'noise_dim' parameter"),
        (dict(aux_weight=-0.1), "'aux_weight' parameter"),
        (dict(adv_weight=-1.0), "'adv_weight' parameter"),
        (dict(generator_hidden="wide"), "'generator_hidden' parameter"),
        (dict(generator_hidden=(8, 0)), "generator_hidden must be positive"),
        (dict(gate_lambda=-1.0), "'gate_lambda' parameter"),
        (dict(discriminator__channels=(8,)), None),  # images only: ignored for features
    ],
)
def test_bad_parameters_give_clear_errors(params, match, make_data):
    Xs, ys, Xl, yl, Xu, _, _ = make_data()
    est = GTA(max_epochs=1, random_state=0, **{**SMALL, **params})
    if match is None:
        est.fit(Xs, ys, Xl, yl, Xu)
        return
    with pytest.raises(ValueError, match=match):
        est.fit(Xs, ys, Xl, yl, Xu)
    assert not hasattr(est, "module_")


def test_target_only_twin_uses_labeled_target_as_source(make_data):
    Xs, ys, Xl, yl, Xu, Xte, _ = make_data()
    est = GTA(gate=True, max_epochs=3, random_state=0, **SMALL)
    twin = fit_target_only(est, Xs, ys, Xl, yl, Xu)
    assert isinstance(twin, GTA) and twin.generator_ is not None
    # the twin takes as many steps as the transfer model: epochs as long as the source's
    steps = int(np.ceil(len(Xs) / est.batch_size))
    ref = clone(est).set_params(steps_per_epoch=steps).fit(Xl, yl, Xt_u=Xu)
    np.testing.assert_array_equal(twin.predict_proba(Xte), ref.predict_proba(Xte))
    assert twin.n_iter_ == 3 * steps


def test_source_only_fit_without_target_trains_the_gan_on_the_source(make_data):
    Xs, ys, _, _, _, Xte, _ = make_data()
    net = GTA(gate=True, max_epochs=2, random_state=0, **SMALL).fit(Xs, ys)
    assert np.isfinite(net.history[-1, "g_loss"])
    assert "gate_loss" not in net.history[-1]  # no target: no gate terms, no ω
    assert net.predict(Xte).shape == (len(Xte),)
