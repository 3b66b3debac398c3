"""Network pieces shared by the deep transfer methods.

Every network the engine trains is a :class:`TransferModule`: a feature
extractor ``feature`` (F, ending in the bottleneck f of Figure 1) followed by
a classifier ``classifier`` (C), so that ``module(x) == classifier(feature(x))``.
The discriminator sees f (:ref:`decision D22 <decision-d22>`). Three feature
extractors are provided: an MLP for feature vectors, the modified LeNet of
GTA's code for 32×32 digits (:ref:`method-lenet`) and a ResNet-50 with a
bottleneck layer for images (:ref:`method-resnet`; weights only ever from a
local file).
"""

import torch
from torch import nn

__all__ = [
    "Discriminator",
    "GradientReversal",
    "LeNet",
    "MLP",
    "ResNet50",
    "SeparateDiscriminator",
    "TransferModule",
    "build_network",
    "frozen_call",
    "grad_reverse",
]


class _GradReverse(torch.autograd.Function):
    """Identity forward; multiplies the incoming gradient by ``-coeff`` backward."""

    @staticmethod
    def forward(ctx, x, coeff):
        ctx.coeff = coeff
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad_output):
        return -ctx.coeff * grad_output, None


def grad_reverse(x, coeff=1.0):
    """Gradient reversal (Ganin & Lempitsky, ICML 2015): identity forward, ``-coeff``·∇ back.

    Parameters
    ----------
    x : torch.Tensor
        Input.
    coeff : float, default=1.0
        The reversal coefficient μ.

    Returns
    -------
    torch.Tensor
        ``x`` itself in the forward pass.
    """
    return _GradReverse.apply(x, float(coeff))


def frozen_call(module, *args):
    """Call ``module`` on ``args`` as a fixed function: no gradient reaches its parameters.

    The inputs still receive gradients, so a player's loss can flow through
    another player's network (a generator's through the discriminator)
    without training it. Parameters are detached and buffers copied, so a
    training-mode BatchNorm updates the copies' running statistics, not the
    module's: each module's statistics move once per step, in its one live
    forward pass.

    Parameters
    ----------
    module : torch.nn.Module
        The network to call.
    *args
        Its inputs.

    Returns
    -------
    output
        What ``module(*args)`` returns.
    """
    state = {name: p.detach() for name, p in module.named_parameters()}
    state.update({name: b.clone() for name, b in module.named_buffers()})
    return torch.func.functional_call(module, state, args)


class GradientReversal(nn.Module):
    """Module form of :func:`grad_reverse` with a settable coefficient.

    Parameters
    ----------
    coeff : float, default=1.0
        The reversal coefficient μ; the engine updates it every step.
    """

    def __init__(self, coeff=1.0):
        super().__init__()
        self.coeff = coeff

    def forward(self, x):
        """Return ``x``; its gradient comes back multiplied by ``-coeff``."""
        return grad_reverse(x, self.coeff)


def _mlp_layers(sizes, dropout=0.0, final_activation=True):
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if final_activation or i < len(sizes) - 2:
            layers.append(nn.ReLU())
            if dropout:
                layers.append(nn.Dropout(dropout))
    return layers


class MLP(nn.Sequential):
    """Fully connected ReLU network; its last hidden layer is the bottleneck f.

    Parameters
    ----------
    n_features : int
        Input width.
    hidden_layer_sizes : tuple of int, default=(128, 64)
        Widths of the hidden layers; the last one is the bottleneck.
    dropout : float, default=0.0
        Dropout after each hidden layer.
    """

    def __init__(self, n_features, hidden_layer_sizes=(128, 64), dropout=0.0):
        sizes = (int(n_features), *map(int, hidden_layer_sizes))
        super().__init__(*_mlp_layers(sizes, dropout))
        self.out_features = sizes[-1]


class LeNet(nn.Sequential):
    """GTA's modified LeNet feature extractor for 32×32 digits (128-d output).

    conv5×5(→64)–ReLU–maxpool2 – conv5×5(→64)–ReLU–maxpool2 – conv5×5(→128)–ReLU,
    as in the public code of Sankaranarayanan et al. (CVPR 2018); see
    :ref:`GTA's LeNet <method-lenet>`.

    Parameters
    ----------
    in_channels : int, default=1
        1 for grayscale, 3 for RGB inputs.
    """

    def __init__(self, in_channels=1):
        super().__init__(
            nn.Conv2d(in_channels, 64, 5),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(64, 64, 5),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(64, 128, 5),
            nn.ReLU(),
            nn.Flatten(),
        )
        self.out_features = 128


class ResNet50(nn.Module):
    """ResNet-50 backbone with a bottleneck layer between pool5 and the classifier.

    As in the paper (:ref:`method-resnet`): an ImageNet-pretrained ResNet-50
    whose 2048-d pool5 output goes through a ``bottleneck_dim`` linear layer
    (+BN, ReLU, dropout); f is the bottleneck. Weights are loaded from a local torchvision-format
    state dict and never downloaded.

    Parameters
    ----------
    weights : str, path or None, default=None
        Local file with a torchvision ``resnet50`` state dict, or None for
        random initialisation.
    bottleneck_dim : int, default=256
        Width of f.
    """

    def __init__(self, weights=None, bottleneck_dim=256):
        super().__init__()
        from ._resnet import resnet50

        self.backbone = resnet50(weights=weights)
        self.backbone.fc = nn.Identity()
        self.bottleneck = nn.Sequential(
            nn.Linear(2048, bottleneck_dim),
            nn.BatchNorm1d(bottleneck_dim),
            nn.ReLU(),
            nn.Dropout(0.5),
        )
        self.out_features = bottleneck_dim

    def forward(self, x):
        """Return the bottleneck features f of images ``x``."""
        return self.bottleneck(self.backbone(x))


class TransferModule(nn.Module):
    """F followed by C: ``forward(x) = classifier(feature(x))``.

    Parameters
    ----------
    feature : torch.nn.Module
        The feature extractor F; its output is the bottleneck f.
    classifier : torch.nn.Module
        The classifier C on f, returning logits.
    """

    def __init__(self, feature, classifier):
        super().__init__()
        self.feature = feature
        self.classifier = classifier

    def forward(self, x):
        """Return the logits C(F(x))."""
        return self.classifier(self.feature(x))


class Discriminator(nn.Module):
    """Domain discriminator D(f, y) returning the logit of P(target).

    The label has K+1 values whose last one is the ``nil`` label: ``y=None``
    (or the value ``n_classes``) asks the marginal question "is f from the
    target?", a real label the joint question "is the pair (f, y) from the
    target?". With ``n_classes=0`` the label input is dropped altogether (a
    plain DANN discriminator).

    Parameters
    ----------
    in_features : int
        Width of f.
    n_classes : int
        K, the number of classes (0 for a label-free discriminator).
    hidden_layer_sizes : tuple of int, default=(256, 256)
        Hidden widths.
    dropout : float, default=0.0
        Dropout after each hidden layer.
    kind : {"concat", "projection"}, default="concat"
        How the label enters. ``"concat"``: a one-hot vector with K+1 slots
        is concatenated to f before the first layer (the paper's design).
        ``"projection"``: the hidden representation h(f) is scored as
        ``w·h + e_y·h`` with a learned embedding e_y per label, ``nil``
        included (Miyato and Koyama, ICLR 2018), so the label can only shift
        the score along directions D has learned from f.
    """

    def __init__(self, in_features, n_classes, hidden_layer_sizes=(256, 256), dropout=0.0,
                 kind="concat"):
        super().__init__()
        if kind not in ("concat", "projection"):
            raise ValueError(f"kind must be 'concat' or 'projection', got {kind!r}.")
        self.n_classes = int(n_classes)
        self.kind = kind
        hidden = tuple(map(int, hidden_layer_sizes))
        if kind == "projection" and self.n_classes:
            sizes = (int(in_features), *hidden)
            self.net = nn.Sequential(*_mlp_layers(sizes, dropout))
            self.head = nn.Linear(sizes[-1], 1)
            self.embed = nn.Embedding(self.n_classes + 1, sizes[-1])
            nn.init.zeros_(self.embed.weight)
            return
        n_label = self.n_classes + 1 if self.n_classes else 0
        sizes = (int(in_features) + n_label, *hidden, 1)
        self.net = nn.Sequential(*_mlp_layers(sizes, dropout, final_activation=False))

    def forward(self, f, y=None):
        """Return D's logits, shape (n,).

        Parameters
        ----------
        f : torch.Tensor of shape (n, in_features)
            Features.
        y : torch.Tensor of shape (n,) of int64, or None
            Encoded labels in ``0..K-1``, or ``K`` for ``nil``; None means
            ``nil`` for every row.
        """
        if not self.n_classes:
            return self.net(f).squeeze(1)
        if y is None:
            y = torch.full((len(f),), self.n_classes, dtype=torch.int64, device=f.device)
        if self.kind == "projection":
            h = self.net(f)
            return self.head(h).squeeze(1) + (self.embed(y) * h).sum(dim=1)
        onehot = nn.functional.one_hot(y, self.n_classes + 1).to(f.dtype)
        return self.net(torch.cat([f, onehot], dim=1)).squeeze(1)


class SeparateDiscriminator(nn.Module):
    """Two discriminators: a label-free adversarial one and a detached gate.

    ``align`` is plain DANN's marginal discriminator, whose reversed gradient
    aligns the features; ``gate`` is label-conditioned, sees only detached
    features and is used only for the importance weight ω. Kept out of the
    adversarial game, the gate is not fooled by the feature extractor and
    sees wrong labels that a single shared discriminator misses.

    Parameters
    ----------
    in_features : int
        Width of f.
    n_classes : int
        K, the number of classes.
    hidden_layer_sizes : tuple of int, default=(256, 256)
        Hidden widths of both discriminators.
    dropout : float, default=0.0
        Dropout after each hidden layer.
    kind : {"concat", "projection"}, default="concat"
        How the label enters the gate (see :class:`Discriminator`).
    """

    def __init__(self, in_features, n_classes, hidden_layer_sizes=(256, 256), dropout=0.0,
                 kind="concat"):
        super().__init__()
        self.n_classes = int(n_classes)
        self.align = Discriminator(in_features, 0, hidden_layer_sizes, dropout)
        self.gate = Discriminator(in_features, n_classes, hidden_layer_sizes, dropout, kind)

    def forward(self, f, y=None):
        """Return the gate's logits, shape (n,) (see :meth:`Discriminator.forward`)."""
        return self.gate(f, y)


def build_network(name, input_shape, n_classes, hidden_layer_sizes=(128, 64), **kwargs):
    """Build one of the built-in networks F + C as a :class:`TransferModule`.

    Parameters
    ----------
    name : {None, "mlp", "lenet", "resnet50"}
        ``"mlp"``: a ReLU :class:`MLP` of ``hidden_layer_sizes`` and a linear
        classifier. ``"lenet"``: :class:`LeNet` (128-d features) and a
        128→128→K classifier. ``"resnet50"``: :class:`ResNet50` with its
        bottleneck and a linear classifier. None picks ``"mlp"`` for feature
        rows and ``"lenet"`` for images.
    input_shape : tuple of int
        The shape of one input row.
    n_classes : int
        Output units of the classifier.
    hidden_layer_sizes : tuple of int, default=(128, 64)
        Widths of the MLP (the last is the feature dimension).
    **kwargs
        Passed to the feature extractor (the estimator's ``module__*``).

    Returns
    -------
    TransferModule
        The network, with ``feature`` and ``classifier``.
    """
    input_shape = tuple(input_shape)
    if name is None:
        name = "mlp" if len(input_shape) == 1 else "lenet"
    if name == "mlp":
        if len(input_shape) != 1:
            raise ValueError(
                f"module='mlp' takes 2-D X (n_samples, n_features); got rows of "
                f"shape {input_shape}."
            )
        feature = MLP(input_shape[0], hidden_layer_sizes, **kwargs)
        return TransferModule(feature, nn.Linear(feature.out_features, n_classes))
    if name == "lenet":
        if len(input_shape) != 3 or input_shape[0] not in (1, 3) or input_shape[1:] != (32, 32):
            raise ValueError(
                "module='lenet' takes images of shape (n_samples, 1 or 3, 32, 32); "
                f"got rows of shape {input_shape}."
            )
        feature = LeNet(input_shape[0], **kwargs)
        classifier = nn.Sequential(nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, n_classes))
        return TransferModule(feature, classifier)
    if name == "resnet50":
        if len(input_shape) != 3 or input_shape[0] != 3:
            raise ValueError(
                "module='resnet50' takes RGB images of shape (n_samples, 3, H, W); "
                f"got rows of shape {input_shape}."
            )
        feature = ResNet50(**kwargs)
        return TransferModule(feature, nn.Linear(feature.out_features, n_classes))
    raise ValueError(
        f"module must be None, 'mlp', 'lenet', 'resnet50' or a torch module, got {name!r}."
    )
