"""ADDA: the two phases, who each loss trains, the gate, the twin, errors."""

import math

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback
from torch.nn import functional as F

from skntl import fit_target_only
from skntl.deep import TransferBatch
from skntl.deep._schedules import dann_ramp as _dann_ramp
from skntl.deep.adda import ADDA
from skntl.deep.gate import gate_step

# Adversarial training is stable on these toys when the encoder moves more
# slowly than D (two time scales); the default single learning rate lets the
# target encoder overshoot.


def _state(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def _equal(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


class _AtSwitch(Callback):
    """Record μ and F around the switch from pretraining to adaptation."""

    def on_batch_begin(self, net, batch=None, training=None, **kwargs):
        if training and net.n_iter_ == net.n_pretrain_steps_:
            self.mu_at_switch = net.current_mu()

    def on_batch_end(self, net, batch=None, training=None, **kwargs):
        if not training:
            return
        if net.n_iter_ == net.n_pretrain_steps_:
            self.pretrained = _state(net.module_.feature)
        elif net.n_iter_ == net.n_pretrain_steps_ + 1:
            self.first_step = _state(net.module_.feature)
            self.source_then = _state(net.source_encoder_)


def test_target_encoder_starts_as_the_frozen_source_encoder_then_moves(make_data, small_net):
    Xs, ys, Xl, yl, Xu, Xte, _ = make_data()
    probe = _AtSwitch()
    net = ADDA(max_epochs=5, pretrain_epochs=3, batch_size=32, callbacks=[probe], random_state=0,
               **small_net).fit(Xs, ys, Xl, yl, Xu)
    steps = math.ceil(len(Xs) / 32)
    assert net.n_pretrain_steps_ == 3 * steps and net.n_iter_ == 5 * steps
    # the source encoder is F as pretrained, copied once and never trained again
    assert _equal(_state(net.source_encoder_), probe.pretrained)
    assert _equal(probe.source_then, probe.pretrained)
    # the target encoder started from it and moved at the first adaptation step
    assert not _equal(probe.first_step, probe.pretrained)
    assert not _equal(_state(net.module_.feature), probe.pretrained)
    # frozen: no gradient, eval mode, not handed to the optimiser
    enc = net.source_encoder_
    assert not any(p.requires_grad for p in enc.parameters()) and not enc.training
    optimised = {id(p) for g in net.optimizer_.param_groups for p in g["params"]}
    assert not optimised & {id(p) for p in enc.parameters()}
    net.module_.train()
    net._set_training(True)
    assert not enc.training
    # the GAN loss appears with the adaptation phase; μ ramps over that phase
    assert not any("transfer_loss" in e for e in net.history[:3])
    assert all("transfer_loss" in e for e in net.history[3:])
    assert probe.mu_at_switch == 0.0
    assert net.current_mu() == pytest.approx(net.mu * _dann_ramp(1.0))
    # the encoder's optimiser state restarted at the switch, the classifier's did not
    state = net.optimizer_.state
    assert all(state[p]["step"] == 2 * steps for p in net.module_.feature.parameters())
    assert all(state[p]["step"] == 5 * steps for p in net.module_.classifier.parameters())
    # predictions come from the target encoder
    logits = net.module_.classifier(net.module_.feature(torch.as_tensor(Xte, dtype=torch.float32)))
    np.testing.assert_allclose(torch.softmax(logits, 1).detach().numpy(), net.predict_proba(Xte),
                               rtol=1e-5, atol=1e-6)
    assert not hasattr(net, "_switch_pending")


def test_without_adaptation_phase_the_gate_reads_the_trained_encoder(make_data, small_net):
    Xs, ys, Xl, yl, Xu, _, _ = make_data()
    net = ADDA(gate=True, max_epochs=2, pretrain_epochs=2, random_state=0, **small_net)
    net.fit(Xs, ys, Xl, yl, Xu)
    assert net.n_iter_ == net.n_pretrain_steps_
    assert not any("transfer_loss" in e for e in net.history)
    x = torch.as_tensor(Xs, dtype=torch.float32)
    y = net._encode(ys)
    with torch.no_grad():
        expected = torch.sigmoid(net.discriminator_(net.module_.feature(x), y)).numpy()
        stale = torch.sigmoid(net.discriminator_(net.source_encoder_(x), y)).numpy()
    d, _ = net.predict_weights(Xs, ys)
    np.testing.assert_allclose(d, expected, rtol=1e-5)
    assert not np.allclose(d, stale)
    # pretrain_epochs=None is half of max_epochs
    net = ADDA(max_epochs=5, batch_size=32, random_state=0, **small_net).fit(Xs, ys, Xt_u=Xu)
    assert net.n_pretrain_steps_ == 2 * math.ceil(len(Xs) / 32)


@pytest.mark.parametrize("gate", [False, True])
def test_gan_loss_trains_only_the_encoder_and_d_loss_only_d(gate, make_data, small_net):
    Xs, ys, Xl, yl, Xu, _, _ = make_data()
    net = ADDA(gate=gate, max_epochs=2, pretrain_epochs=1, random_state=0, **small_net)
    net.fit(Xs, ys, Xl, yl, Xu)
    as_x = lambda a: torch.as_tensor(a, dtype=torch.float32)  # noqa: E731
    xs, ys_t, ws = as_x(Xs[:20]), net._encode(ys[:20]), torch.ones(20)
    xu, xl, yl_t, wl = as_x(Xu[:20]), as_x(Xl[:10]), net._encode(yl[:10]), torch.ones(10)
    D, enc, clf = net.discriminator_, net.module_.feature, net.module_.classifier

    net.optimizer_.zero_grad()
    net.train_step_single(TransferBatch(xs, ys_t, ws, xu, xl, yl_t, wl))
    grads = {m: [p.grad.clone() for p in m.parameters()] for m in (D, enc, clf)}
    assert all(p.grad is None for p in net.source_encoder_.parameters())

    # the same losses, each differentiated by hand with respect to its own player
    with torch.no_grad():
        fs = net.source_encoder_(xs)
    fu, fl = enc(xu), enc(xl)
    d_loss = gate_step(D, net._gate_spec(), fs, ys_t, fu, fl, yl_t).loss
    gan = F.softplus(D(fu)).mean()  # BCE(D(f_u), source) = softplus(logit)
    if gate:
        gan = gan + F.softplus(D(fl, yl_t)).mean()
    batch = TransferBatch(xs, ys_t, ws, xu, xl, yl_t, wl)
    clf_loss, _ = net._classification_loss(batch, fs, fl, ws, None)
    if gate:  # ω is a detached function of D, recompute it the same way
        omega = gate_step(D, net._gate_spec(), fs, ys_t, fu, fl, yl_t).omega
        clf_loss, _ = net._classification_loss(batch, fs, fl, ws, omega)
    mu = net.current_mu()
    assert mu > 0.9
    ref_d = torch.autograd.grad(d_loss, list(D.parameters()), retain_graph=True)
    ref_enc = torch.autograd.grad(mu * gan + clf_loss, list(enc.parameters()), retain_graph=True)
    clf_only = torch.autograd.grad(clf_loss, list(enc.parameters()), retain_graph=True)
    ref_clf = torch.autograd.grad(clf_loss, list(clf.parameters()))
    for got, ref in [(grads[D], ref_d), (grads[enc], ref_enc), (grads[clf], ref_clf)]:
        for g, r in zip(got, ref):
            torch.testing.assert_close(g, r, rtol=1e-4, atol=1e-6)
    # and the GAN loss does reach the encoder
    assert any(not torch.allclose(a, b) for a, b in zip(ref_enc, clf_only))


def _mmd(a, b):
    z = torch.cat([a, b])
    d2 = torch.cdist(z, z) ** 2
    k = torch.exp(-d2 / d2.median())
    n = len(a)
    return (k[:n, :n].mean() + k[n:, n:].mean() - 2 * k[:n, n:].mean()).item()


@pytest.mark.slow
def test_adaptation_plays_the_gan_game_aligns_features_and_helps():
    """3 Gaussian classes in 2-D, the target shifted by +2.5, no target labels."""
    rng = np.random.RandomState(0)
    centers = rng.randn(3, 2) * 4
    ys = rng.randint(3, size=600)
    Xs = centers[ys] + rng.randn(600, 2)
    yt = rng.randint(3, size=600)
    Xt = centers[yt] + rng.randn(600, 2) + 2.5
    Xu, Xte, yte = Xt[:300], Xt[300:], yt[300:]
    kw = dict(hidden_layer_sizes=(32, 16), discriminator_hidden=(32,), max_epochs=20,
              random_state=0)
    net = ADDA(pretrain_epochs=10, **kw).fit(Xs, ys, Xt_u=Xu)
    source_only = ADDA(pretrain_epochs=20, **kw).fit(Xs, ys, Xt_u=Xu)
    d_loss = [e["d_loss"] for e in net.history]
    gan = [e["transfer_loss"] for e in net.history[10:]]
    assert d_loss[9] < d_loss[0] - 0.1  # pretraining: D learns the shift
    # adaptation: the target encoder fools D more and more
    assert gan[-1] < gan[0] - 0.1 and d_loss[-1] > d_loss[10] + 0.1
    # target-encoder target features are closer to source-encoder source features
    with torch.no_grad():
        as_x = lambda a: torch.as_tensor(a, dtype=torch.float32)  # noqa: E731
        fs = net.source_encoder_(as_x(Xs))
        before = _mmd(fs, net.source_encoder_(as_x(Xu)))
        after = _mmd(fs, net.module_.feature(as_x(Xu)))
    assert after < 0.7 * before  # measured 0.050 vs 0.099
    assert net.score(Xte, yte) > source_only.score(Xte, yte) + 0.1  # measured 0.94 vs 0.78


@pytest.fixture(scope="module")
def gated(make_problem):
    p = make_problem(seed=0, n_s=1000)
    net = ADDA(gate=True, max_epochs=10, random_state=0)
    return p, net.fit(p["Xs"], p["ys"], p["Xl"], p["yl"], p["Xu"])


@pytest.mark.slow
def test_gate_distrusts_corrupted_source_rows(gated):
    p, net = gated
    assert net.n_iter_ > net.n_pretrain_steps_  # ω read from the source encoder
    _, omega = net.predict_weights(p["Xs"], p["ys"])
    wrong = p["wrong"]
    assert omega[wrong].mean() / omega[~wrong].mean() <= 0.5  # measured 0.16
    # same inputs, true vs wrong label: the true label gets the larger ω
    x = p["Xs"][wrong]
    _, w_true = net.predict_weights(x, p["ys_true"][wrong])
    _, w_wrong = net.predict_weights(x, p["ys"][wrong])
    assert w_true.mean() > 2 * w_wrong.mean()  # measured 6.4


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(pretrain_epochs=-1), "'pretrain_epochs' parameter"),
        (dict(pretrain_epochs=1.5), "'pretrain_epochs' parameter"),
        (dict(pretrain_epochs=4), r"at most max_epochs=3 .*got pretrain_epochs=4"),
    ],
)
def test_bad_pretrain_epochs_give_clear_errors(params, match, make_data):
    Xs, ys, Xl, yl, Xu, _, _ = make_data()
    est = ADDA(max_epochs=3, **params)
    with pytest.raises(ValueError, match=match):
        est.fit(Xs, ys, Xl, yl, Xu)
    assert [a for a in vars(est) if a.endswith("_") and not a.startswith("_")] == []


@pytest.mark.slow
def test_target_only_twin_pretrains_on_labeled_target_then_adapts(make_data, small_net):
    Xs, ys, Xl, yl, Xu, Xte, yte = make_data(n_t=150)
    kw = dict(max_epochs=30, pretrain_epochs=20, batch_size=8, random_state=0,
              optimizer__param_groups=[("feature.*", {"lr": 1e-3})], **small_net)
    twin = fit_target_only(ADDA(**kw), Xs, ys, Xl, yl, Xu)
    assert isinstance(twin, ADDA)
    # the twin takes the transfer model's steps: an epoch is one pass over the source
    steps = math.ceil(len(Xs) / 8)
    ref = ADDA(**kw, steps_per_epoch=steps).fit(Xl, yl, Xt_u=Xu)
    np.testing.assert_array_equal(twin.predict_proba(Xte), ref.predict_proba(Xte))
    # the labeled target was its source: pretraining on it, then adaptation to Tu
    assert twin.n_pretrain_steps_ == 20 * steps
    assert "transfer_loss" in twin.history[-1]
    assert twin.score(Xte, yte) >= 0.85  # measured 0.95 (0.975 without adaptation)


def test_encoder_adapts_in_its_own_param_group_at_a_lower_rate(make_data, small_net):
    Xs, ys, Xl, yl, Xu, _, _ = make_data()
    net = ADDA(max_epochs=4, lr=0.02, encoder_lr_factor=0.25, random_state=0, **{
        k: v for k, v in small_net.items() if k != "lr"}).fit(Xs, ys, Xl, yl, Xu)
    groups = net.optimizer_.param_groups
    encoder = [g for g in groups if g.get("adda_encoder")]
    assert len(encoder) == 1 and encoder[0]["lr"] == pytest.approx(0.005)
    assert {id(p) for p in encoder[0]["params"]} == {
        id(p) for p in net.module_.feature.parameters()}
    others = {id(p) for g in groups if not g.get("adda_encoder") for p in g["params"]}
    assert others.isdisjoint(id(p) for p in net.module_.feature.parameters())
    assert all(g["lr"] == 0.02 for g in groups if not g.get("adda_encoder"))
