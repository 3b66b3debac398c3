"""The network pieces of skntl.deep.modules: shapes, the label input, gradient reversal."""

import pytest
import torch
from torch import nn

from skntl.deep.modules import (
    MLP,
    Discriminator,
    GradientReversal,
    LeNet,
    ResNet50,
    SeparateDiscriminator,
    TransferModule,
    build_network,
    frozen_call,
    grad_reverse,
)

K = 3


def _features(n=6, d=4, seed=0):
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed))


def _params(module):
    return [p.detach().clone() for p in module.parameters()]


# --------------------------------------------------------------------- feature extractors


def test_mlp_shapes_layers_and_bottleneck_width():
    net = MLP(5, hidden_layer_sizes=(7, 3))
    assert net.out_features == 3
    assert [type(m) for m in net] == [nn.Linear, nn.ReLU, nn.Linear, nn.ReLU]
    assert [(m.in_features, m.out_features) for m in net if isinstance(m, nn.Linear)] == [
        (5, 7),
        (7, 3),
    ]
    out = net(_features(n=6, d=5))
    assert out.shape == (6, 3)
    assert (out >= 0).all()  # the bottleneck ends in a ReLU


def test_mlp_dropout_follows_every_hidden_layer_and_sizes_are_cast_to_int():
    net = MLP(5.0, hidden_layer_sizes=[7.0, 3], dropout=0.5)
    dropouts = [m for m in net if isinstance(m, nn.Dropout)]
    assert len(dropouts) == 2 and all(m.p == 0.5 for m in dropouts)
    assert isinstance(net.out_features, int) and net[0].in_features == 5
    # dropout is active in train mode only
    x = _features(n=64, d=5)
    net.eval()
    torch.testing.assert_close(net(x), net(x))
    net.train()
    torch.manual_seed(0)
    assert not torch.equal(net(x), net(x))


@pytest.mark.parametrize("in_channels", [1, 3])
def test_lenet_maps_32x32_images_to_128_features(in_channels):
    torch.manual_seed(0)
    net = LeNet(in_channels)
    assert net[0].in_channels == in_channels and net.out_features == 128
    x = torch.rand(2, in_channels, 32, 32)
    out = net(x)
    assert out.shape == (2, 128) and (out >= 0).all()
    with pytest.raises(RuntimeError):
        net(torch.rand(2, in_channels + 1, 32, 32))  # the wrong number of channels


def test_resnet50_ends_in_a_bottleneck_of_the_asked_width():
    # on the meta device: shapes only, no memory and no initialisation (cheap)
    with torch.device("meta"):
        net = ResNet50(bottleneck_dim=96)
        out = net(torch.empty(2, 3, 64, 64))
    assert out.shape == (2, 96) and net.out_features == 96
    assert isinstance(net.backbone.fc, nn.Identity)  # pool5's 2048 features go on
    assert [type(m) for m in net.bottleneck] == [nn.Linear, nn.BatchNorm1d, nn.ReLU, nn.Dropout]
    assert net.bottleneck[0].in_features == 2048 and net.bottleneck[3].p == 0.5


# --------------------------------------------------------------------- Discriminator


def test_label_free_discriminator_ignores_the_label():
    torch.manual_seed(0)
    D = Discriminator(4, 0, (8,))
    assert D.net[0].in_features == 4 and not hasattr(D, "embed")
    f = _features()
    out = D(f)
    assert out.shape == (6,)
    torch.testing.assert_close(D(f, torch.tensor([0, 1, 2, 0, 1, 2])), out)


def test_concat_discriminator_depends_on_each_rows_own_label():
    torch.manual_seed(0)
    D = Discriminator(4, K, (8,), kind="concat")
    assert D.net[0].in_features == 4 + K + 1  # one-hot with a nil slot
    f = _features()
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    out = D(f, y)
    assert out.shape == (6,)
    # y=None is the nil label K
    torch.testing.assert_close(D(f), D(f, torch.full((6,), K)))
    # changing row 0's label changes row 0's logit only
    y2 = y.clone()
    y2[0] = 2
    out2 = D(f, y2)
    assert not torch.isclose(out2[0], out[0])
    torch.testing.assert_close(out2[1:], out[1:])


def test_projection_discriminator_is_head_plus_label_embedding_dot_hidden():
    torch.manual_seed(0)
    D = Discriminator(4, K, (8, 5), kind="projection")
    assert D.embed.weight.shape == (K + 1, 5) and D.head.in_features == 5
    f = _features()
    y = torch.tensor([0, 1, 2, 3, 1, 2])
    # the embeddings start at zero: the label has no effect until D learns one
    torch.testing.assert_close(D(f, y), D(f))
    with torch.no_grad():
        D.embed.weight.normal_()
    h = D.net(f)
    want = D.head(h).squeeze(1) + (D.embed.weight[y] * h).sum(dim=1)
    torch.testing.assert_close(D(f, y), want)
    assert D(f, y).shape == (6,)
    assert not torch.allclose(D(f, y), D(f, torch.zeros(6, dtype=torch.int64)))
    torch.testing.assert_close(D(f), D(f, torch.full((6,), K)))  # None is nil


def test_projection_without_classes_is_the_label_free_discriminator():
    torch.manual_seed(0)
    a = Discriminator(4, 0, (8,), kind="projection")
    torch.manual_seed(0)
    b = Discriminator(4, 0, (8,), kind="concat")
    assert not hasattr(a, "embed")
    f = _features()
    torch.testing.assert_close(a(f), b(f))


@pytest.mark.parametrize("kind", ["concat", "projection"])
def test_labels_outside_0_to_k_are_rejected(kind):
    D = Discriminator(4, K, (8,), kind=kind)
    with pytest.raises((RuntimeError, IndexError)):
        D(_features(n=2), torch.tensor([0, K + 1]))


@pytest.mark.parametrize("kind", ["concatenate", "Projection", None])
def test_unknown_discriminator_kind_raises(kind):
    with pytest.raises(ValueError, match="kind must be 'concat' or 'projection'"):
        Discriminator(4, K, kind=kind)
    with pytest.raises(ValueError, match="kind must be"):
        SeparateDiscriminator(4, K, kind=kind)


def test_discriminator_dropout_is_applied_between_hidden_layers_only():
    D = Discriminator(4, K, (8, 8), dropout=0.3)
    assert [type(m) for m in D.net] == [
        nn.Linear, nn.ReLU, nn.Dropout, nn.Linear, nn.ReLU, nn.Dropout, nn.Linear,
    ]  # fmt: skip
    assert D.net[-1].out_features == 1


@pytest.mark.parametrize("kind", ["concat", "projection"])
def test_separate_discriminator_answers_with_its_label_conditioned_gate(kind):
    torch.manual_seed(0)
    D = SeparateDiscriminator(4, K, (8,), kind=kind)
    assert D.n_classes == K
    assert D.align.n_classes == 0 and D.gate.n_classes == K
    assert D.gate.kind == kind and D.align.net[0].in_features == 4
    if kind == "projection":
        with torch.no_grad():
            D.gate.embed.weight.normal_()
    f = _features()
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    torch.testing.assert_close(D(f, y), D.gate(f, y))
    torch.testing.assert_close(D(f), D.gate(f))
    assert not torch.allclose(D(f, y), D(f))
    # the two heads are separate networks
    assert not torch.allclose(D.align(f), D.gate(f))
    names = {n.split(".")[0] for n, _ in D.named_parameters()}
    assert names == {"align", "gate"}


# --------------------------------------------------------------------- TransferModule


def test_transfer_module_is_classifier_after_feature():
    torch.manual_seed(0)
    feature = MLP(4, (8, 6))
    classifier = nn.Linear(6, K)
    module = TransferModule(feature, classifier)
    x = _features()
    out = module(x)
    assert out.shape == (6, K)
    torch.testing.assert_close(out, classifier(feature(x)))
    assert module.feature is feature and module.classifier is classifier
    n_params = sum(p.numel() for p in module.parameters())
    assert n_params == sum(p.numel() for p in [*feature.parameters(), *classifier.parameters()])
    # a gradient step on the module reaches both parts
    out.sum().backward()
    assert feature[0].weight.grad is not None and classifier.weight.grad is not None


# --------------------------------------------------------------------- gradient reversal


@pytest.mark.parametrize("coeff", [0.0, 0.25, 1.0, 3.5])
def test_grad_reverse_multiplies_the_gradient_by_minus_coeff(coeff):
    x = _features().requires_grad_(True)
    upstream = _features(seed=1)
    y = grad_reverse(x, coeff)
    torch.testing.assert_close(y, x)  # identity forward
    (g,) = torch.autograd.grad((y * upstream).sum(), x)
    torch.testing.assert_close(g, -coeff * upstream)


def test_gradient_reversal_module_reverses_what_reaches_the_layers_below():
    torch.manual_seed(0)
    feature = nn.Linear(4, 3)
    head = nn.Linear(3, 1)
    x = _features()

    def grads(middle):
        feature.zero_grad()
        head.zero_grad()
        out = head(middle(feature(x)))
        out.sum().backward()
        return out.detach(), feature.weight.grad.clone(), head.weight.grad.clone()

    plain_out, plain_f, plain_h = grads(nn.Identity())
    layer = GradientReversal(coeff=0.5)
    reversed_out, reversed_f, reversed_h = grads(layer)
    torch.testing.assert_close(reversed_out, plain_out)  # forward unchanged
    torch.testing.assert_close(reversed_f, -0.5 * plain_f)
    torch.testing.assert_close(reversed_h, plain_h)  # the layers above train as usual
    # the coefficient can be changed between steps (the engine ramps it)
    layer.coeff = 2.0
    _, again_f, _ = grads(layer)
    torch.testing.assert_close(again_f, -2.0 * plain_f)


def test_grad_reverse_accepts_a_tensor_coefficient():
    x = _features().requires_grad_(True)
    (g,) = torch.autograd.grad(grad_reverse(x, torch.tensor(0.5)).sum(), x)
    torch.testing.assert_close(g, torch.full_like(x, -0.5))


# --------------------------------------------------------------------- determinism


@pytest.mark.parametrize(
    "build",
    [
        lambda: MLP(4, (8, 6)),
        lambda: LeNet(1),
        lambda: Discriminator(6, K, (8,)),
        lambda: Discriminator(6, K, (8,), kind="projection"),
        lambda: SeparateDiscriminator(6, K, (8,)),
        lambda: TransferModule(MLP(4, (6,)), nn.Linear(6, K)),
    ],
    ids=["mlp", "lenet", "concat", "projection", "separate", "transfer"],
)
def test_same_torch_seed_same_initial_weights(build):
    torch.manual_seed(0)
    a = _params(build())
    torch.manual_seed(0)
    b = _params(build())
    torch.manual_seed(1)
    c = _params(build())
    assert len(a) == len(b) > 0
    for pa, pb in zip(a, b):
        assert torch.equal(pa, pb)
    assert any(not torch.equal(pa, pc) for pa, pc in zip(a, c))


# ------------------------------------------------------------ build_network, frozen_call
@pytest.mark.parametrize("name, shape, n_features", [
    (None, (6,), 4), ("mlp", (6,), 4), (None, (1, 32, 32), 128), ("lenet", (3, 32, 32), 128),
])
def test_build_network_picks_and_checks_the_built_in_networks(name, shape, n_features):
    net = build_network(name, shape, 5, hidden_layer_sizes=(8, 4))
    assert isinstance(net, TransferModule)
    out = net.feature(torch.zeros(2, *shape))
    assert out.shape == (2, n_features) and net(torch.zeros(2, *shape)).shape == (2, 5)


@pytest.mark.parametrize("name, shape, match", [
    ("mlp", (1, 32, 32), "module='mlp' takes 2-D X"),
    ("lenet", (6,), "module='lenet' takes images"),
    ("resnet50", (1, 32, 32), "module='resnet50' takes RGB images"),
    ("vgg", (6,), "module must be None, 'mlp'"),
])
def test_build_network_rejects_shapes_it_cannot_take(name, shape, match):
    with pytest.raises(ValueError, match=match):
        build_network(name, shape, 3)


def test_frozen_call_sends_gradients_to_inputs_only_and_keeps_buffers():
    torch.manual_seed(0)
    module = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    before = module[1].running_mean.clone()
    x = torch.randn(5, 3, requires_grad=True)
    out = frozen_call(module, x)
    torch.testing.assert_close(out, module(x))  # the same function ...
    module[1].running_mean.copy_(before)
    out = frozen_call(module, x)
    out.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0  # ... the input learns,
    assert all(p.grad is None for p in module.parameters())  # the module does not,
    torch.testing.assert_close(module[1].running_mean, before)  # nor do its statistics
