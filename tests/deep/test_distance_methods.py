"""DAN, DeepCORAL and PADA: each method's own mechanism does its job."""

import numpy as np
import pytest
import torch

from skntl import DAN, DANN, PADA, DeepCORAL, fit_target_only
from skntl.deep import TransferBatch
from skntl.deep.losses import coral, mk_mmd


def _distance(net, dist, Xs, Xt):
    return dist(torch.as_tensor(net.transform(Xs)), torch.as_tensor(net.transform(Xt))).item()


@pytest.mark.slow
@pytest.mark.parametrize("method, dist", [(DAN, mk_mmd), (DeepCORAL, coral)])
def test_training_shrinks_the_method_distance(method, dist, make_problem):
    """The features' MK-MMD (DAN) / CORAL distance (DeepCORAL) falls with training
    and ends far below that of the same network trained without the loss (μ=0)."""
    p = make_problem(eps_y=0.0)
    Xs, Xu = p["Xs"][:600], p["Xu"]
    fit = lambda **kw: method(random_state=0, **kw).fit(p["Xs"], p["ys"], Xt_u=Xu)  # noqa: E731
    early = _distance(fit(max_epochs=1), dist, Xs, Xu)
    adapted = _distance(fit(max_epochs=10), dist, Xs, Xu)
    plain = _distance(fit(max_epochs=10, mu=0.0), dist, Xs, Xu)
    # measured (seed 0): DAN 0.0079 vs 0.048 without MMD; CORAL 0.0023 vs 0.079
    assert adapted < early
    assert adapted < 0.5 * plain


def test_dan_logits_and_linear_estimator_options(make_problem, small_net):
    p = make_problem(eps_y=0.0, n_s=300, n_t=200)
    base = DAN(max_epochs=2, random_state=0, **small_net).fit(p["Xs"], p["ys"], Xt_u=p["Xu"])
    lin = DAN(max_epochs=2, random_state=0, mmd_estimator="linear", **small_net)
    logits = DAN(max_epochs=2, random_state=0, adapt_logits=True, **small_net)
    for net in (lin, logits):
        net.fit(p["Xs"], p["ys"], Xt_u=p["Xu"])
        assert np.isfinite(net.history[:, "transfer_loss"]).all()
        assert not np.allclose(net.history[:, "transfer_loss"], base.history[:, "transfer_loss"])


@pytest.mark.parametrize("method", [DAN, DeepCORAL])
def test_one_row_batches_are_skipped_not_fatal(method, make_problem, small_net):
    p = make_problem(n_s=65, n_t=40)  # the last source batch of 64 has one row
    net = method(max_epochs=1, random_state=0, **small_net)
    net.fit(p["Xs"], p["ys"], Xt_u=p["Xu"])
    batches = net.history[-1]["batches"]
    assert "transfer_loss" in batches[0] and "transfer_loss" not in batches[-1]


@pytest.mark.parametrize("method", [DAN, DeepCORAL])
def test_gate_trains_a_detached_discriminator(method, make_problem, small_net):
    """D21: the gate's D is trained with eq. (10) but F gets no adversarial gradient."""
    p = make_problem(n_s=200, n_t=100)
    net = method(gate=True, max_epochs=1, random_state=0, **small_net)
    net.fit(p["Xs"], p["ys"], p["Xl"], p["yl"], p["Xu"])
    assert net.discriminator_.n_classes == len(net.classes_)
    xs, ys = torch.as_tensor(p["Xs"][:32], dtype=torch.float32), torch.as_tensor(p["ys"][:32])
    xu = torch.as_tensor(p["Xu"][:32], dtype=torch.float32)
    xl = torch.as_tensor(p["Xl"][:8], dtype=torch.float32)
    yl = torch.as_tensor(p["yl"][:8])
    batch = TransferBatch(xs, ys, torch.ones(32), xu, xl, yl, torch.ones(8))
    net.mu = 0.0  # no MMD/CORAL gradient: what reaches F is the classifier's alone
    net.optimizer_.zero_grad()
    net.train_step_single(batch)
    grads = [q.grad.clone() for q in net.module_.feature.parameters()]
    assert any(q.grad is not None and q.grad.abs().sum() > 0
               for q in net.discriminator_.parameters())
    net.optimizer_.zero_grad()
    with torch.no_grad():
        _, omega = net.predict_weights(p["Xs"][:32], p["ys"][:32])
    fs = net.module_.feature(xs)
    fl = net.module_.feature(xl)
    clf, _ = net._classification_loss(batch, fs, fl, batch.ws,
                                      torch.as_tensor(omega, dtype=torch.float32))
    clf.backward()
    for g, q in zip(grads, net.module_.feature.parameters()):
        torch.testing.assert_close(g, q.grad, rtol=1e-4, atol=1e-6)


def _partial(seed=0, k=4, d=5, n_s=1200, n_t=400):
    """Source with k classes, target with only classes 0 and 1 (a partial target)."""
    rng = np.random.RandomState(seed)
    centers = rng.randn(k, d) * 3
    ys = rng.randint(k, size=n_s)
    yt = rng.randint(2, size=n_t)
    return centers[ys] + rng.randn(n_s, d), ys, centers[yt] + rng.randn(n_t, d) + 1.0, yt


@pytest.mark.slow
def test_pada_class_weights_concentrate_on_the_target_classes():
    Xs, ys, Xt, yt = _partial()
    pada = PADA(max_epochs=10, random_state=0).fit(Xs, ys, Xt_u=Xt[:200])
    # measured: [0.914, 1.0, 0.027, 0.005]
    assert pada.class_weight_.max() == 1.0
    assert pada.class_weight_[:2].min() > 0.5 and pada.class_weight_[2:].max() < 0.2
    dann = DANN(max_epochs=10, random_state=0).fit(Xs, ys, Xt_u=Xt[:200])
    # measured: PADA 1.0, DANN 0.83 (absent classes drag target rows to them)
    assert pada.score(Xt[200:], yt[200:]) >= dann.score(Xt[200:], yt[200:])


def test_pada_weights_rows_by_class_and_updates_on_schedule(small_net):
    Xs, ys, Xt, _ = _partial(n_s=300, n_t=100)
    never = PADA(max_epochs=2, class_weight_epochs=3, random_state=0, **small_net)
    never.fit(Xs, ys, Xt_u=Xt)
    np.testing.assert_array_equal(never.class_weight_, np.ones(4))  # never recomputed
    net = PADA(max_epochs=2, random_state=0, **small_net).fit(Xs, ys, Xt_u=Xt)
    assert not np.allclose(net.class_weight_, 1.0)
    net._target_inputs, net._gamma = None, torch.tensor([0.4, 0.4, 0.1, 0.1])
    clf_w, adv_w = net._source_row_weights(torch.tensor([0, 2]))
    torch.testing.assert_close(clf_w, torch.tensor([1.6, 0.4]))  # γ / mean γ
    torch.testing.assert_close(adv_w, torch.tensor([1.0, 0.25]))  # γ / max γ


def test_pada_weighted_adversarial_loss_reaches_the_discriminator(small_net):
    """Source rows of a class with γ = 0 contribute nothing to D's source term."""
    Xs, ys, Xt, _ = _partial(n_s=200, n_t=100)
    net = PADA(max_epochs=1, random_state=0, **small_net).fit(Xs, ys, Xt_u=Xt)
    xs = torch.as_tensor(Xs[:16], dtype=torch.float32)
    ys_t = torch.as_tensor(ys[:16])
    xu = torch.as_tensor(Xt[:16], dtype=torch.float32)
    net._target_inputs, net._update_every = None, 10**9

    def d_grad(gamma, x):
        net._gamma = gamma
        net.optimizer_.zero_grad()
        batch = TransferBatch(x, ys_t, torch.ones(16), xu)
        net.train_step_single(batch)
        return torch.cat([q.grad.flatten() for q in net.discriminator_.parameters()])

    gamma = torch.tensor([1.0, 1.0, 0.0, 0.0])
    moved = xs.clone()
    moved[ys_t >= 2] += 100.0  # changes only rows of the zero-weight classes
    torch.testing.assert_close(d_grad(gamma, xs), d_grad(gamma, moved))


@pytest.mark.parametrize("method", [DAN, DeepCORAL, PADA])
def test_target_only_twin(method, make_problem):
    p = make_problem(n_s=300, n_t=200)
    twin = fit_target_only(method(max_epochs=5, random_state=0), p["Xs"], p["ys"],
                           p["Xl"], p["yl"], p["Xu"])
    assert isinstance(twin, method)
    assert twin.score(p["Xte"], p["yte"]) > 0.5  # 4 classes: chance is 0.25
