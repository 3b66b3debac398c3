"""ResNet-50 in plain torch, with torchvision's parameter names.

torchvision is not needed: the network below is built from ``torch.nn`` only,
and its ``state_dict`` keys and shapes are those of
``torchvision.models.resnet50`` (conv1, bn1, layer1..layer4 of Bottleneck
blocks [3, 4, 6, 3] with the stride on the 3x3 convolution, fc), so a
torchvision checkpoint saved with ``torch.save(model.state_dict(), path)``
loads into it unchanged.  Weights are only ever read from a local file; this
module never downloads anything.

ImageNet weights for torchvision's ``resnet50`` are published at
https://download.pytorch.org/models/resnet50-0676ba61.pth (IMAGENET1K_V1) and
https://download.pytorch.org/models/resnet50-11ad3fa6.pth (IMAGENET1K_V2).
"""

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch
from torch import nn

__all__ = ["Bottleneck", "ResNet50", "load_state_dict", "resnet50"]

#: (number of blocks, width of the 3x3 convolutions, stride of the first block).
_STAGES = ((3, 64, 1), (4, 128, 2), (6, 256, 2), (3, 512, 2))
_EXPANSION = 4


class Bottleneck(nn.Module):
    """1x1 -> 3x3 -> 1x1 residual block (the "v1.5" variant: stride on the 3x3).

    Parameters
    ----------
    in_channels : int
        Channels of the input.
    width : int
        Channels of the two inner convolutions; the block outputs ``4 * width``.
    stride : int, default=1
        Stride of the 3x3 convolution (and of the projection shortcut).
    """

    def __init__(self, in_channels, width, stride=1):
        super().__init__()
        out_channels = width * _EXPANSION
        self.conv1 = nn.Conv2d(in_channels, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, out_channels, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or in_channels != out_channels:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(out_channels),
            )

    def forward(self, x):
        """Residual block output, ``relu(F(x) + shortcut(x))``."""
        shortcut = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + shortcut)


class ResNet50(nn.Module):
    """ResNet-50 (He et al., CVPR 2016) with torchvision's module names.

    ``forward`` returns ``fc(features)``; :meth:`forward_features` returns the
    2048-d average-pooled features.  Replacing ``fc`` by ``nn.Identity()``
    (or ``num_classes=None``) makes ``forward`` return the features too.

    Parameters
    ----------
    num_classes : int or None, default=1000
        Outputs of the final ``fc`` layer; ``None`` puts ``nn.Identity()`` there.

    Attributes
    ----------
    out_features : int
        2048, the width of the pooled features.
    """

    out_features = 512 * _EXPANSION

    def __init__(self, num_classes=1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        in_channels = 64
        for index, (n_blocks, width, stride) in enumerate(_STAGES, start=1):
            blocks = []
            for b in range(n_blocks):
                blocks.append(Bottleneck(in_channels, width, stride if b == 0 else 1))
                in_channels = width * _EXPANSION
            setattr(self, f"layer{index}", nn.Sequential(*blocks))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Identity() if num_classes is None else nn.Linear(in_channels, num_classes)
        self._init_weights()

    def _init_weights(self):
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)

    def forward_features(self, x):
        """Compute the 2048-d pooled features of images ``x`` of shape (n, 3, H, W)."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return torch.flatten(self.avgpool(x), 1)

    def forward(self, x):
        """``fc`` applied to :meth:`forward_features`."""
        return self.fc(self.forward_features(x))


def load_state_dict(weights):
    """Read a torchvision-format state dict from a local file (or pass one through).

    Parameters
    ----------
    weights : str, path-like or mapping
        A ``.pth``/``.pt`` file written by ``torch.save`` (read with
        ``torch.load(weights_only=True)``, which refuses arbitrary pickled
        objects), an ``.npz`` file of arrays (read with
        ``allow_pickle=False``), or a mapping of names to tensors.  A
        checkpoint that wraps the weights under ``"state_dict"`` or
        ``"model"`` is unwrapped, and a ``"module."`` prefix (from
        ``DataParallel``) is removed.

    Returns
    -------
    state_dict : dict of str to torch.Tensor
        The weights.

    Raises
    ------
    FileNotFoundError
        If the file does not exist (nothing is downloaded).
    ValueError
        If the file does not hold a mapping of names to tensors.
    """
    source = "the given mapping"
    if isinstance(weights, (str, os.PathLike)):
        path = Path(weights).expanduser()
        source = str(path)
        if not path.is_file():
            raise FileNotFoundError(
                f"ResNet-50 weights file {path} does not exist. skntl never downloads "
                "weights: save a torchvision resnet50 state dict there (e.g. "
                "resnet50-0676ba61.pth from https://download.pytorch.org/models/)."
            )
        try:
            if path.suffix == ".npz":
                with np.load(path, allow_pickle=False) as archive:
                    weights = {k: torch.from_numpy(archive[k]) for k in archive.files}
            else:
                weights = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:
            raise ValueError(
                f"Could not read ResNet-50 weights from {path}: {type(exc).__name__}: {exc}"
            ) from exc
    if not isinstance(weights, Mapping):
        raise ValueError(
            f"ResNet-50 weights must be a mapping of names to tensors; {source} holds a "
            f"{type(weights).__name__}."
        )
    for wrapper in ("state_dict", "model"):
        if isinstance(weights.get(wrapper), Mapping):
            weights = weights[wrapper]
    state = {}
    for key, value in weights.items():
        if not isinstance(value, torch.Tensor):
            raise ValueError(
                f"ResNet-50 weights in {source}: entry {key!r} is a "
                f"{type(value).__name__}, not a tensor."
            )
        state[key.removeprefix("module.")] = value
    return state


def _check_keys(model, state, source):
    expected = {k: v.shape for k, v in model.state_dict().items()}
    optional = {k for k in expected if k.endswith("num_batches_tracked")}
    missing = sorted(set(expected) - set(state) - optional)
    unexpected = sorted(set(state) - set(expected))
    mismatched = sorted(
        f"{k}: {tuple(state[k].shape)} instead of {tuple(expected[k])}"
        for k in set(state) & set(expected)
        if state[k].shape != expected[k]
    )
    if missing or unexpected or mismatched:
        problems = [
            f"{label} ({len(items)}): {', '.join(items[:5])}{', ...' if len(items) > 5 else ''}"
            for label, items in (
                ("missing", missing), ("unexpected", unexpected), ("wrong shape", mismatched)
            )
            if items
        ]  # fmt: skip
        raise ValueError(
            f"The weights in {source} are not a torchvision resnet50 state dict matching "
            f"this model: {'; '.join(problems)}. For a different number of classes, load "
            "with features_only=True and add your own head."
        )


def resnet50(weights=None, *, num_classes=1000, features_only=False):
    """Build a ResNet-50, optionally with torchvision-format weights from a local file.

    Parameters
    ----------
    weights : str, path-like, mapping or None, default=None
        ``None``: random initialisation (Kaiming-normal convolutions).
        Otherwise a local file or a state dict, see :func:`load_state_dict`;
        every parameter and buffer must match (``num_batches_tracked`` may be
        absent, as in older torchvision files).  Nothing is ever downloaded.
    num_classes : int, default=1000
        Outputs of ``fc``; must match the weights' ``fc`` unless
        ``features_only`` is True.
    features_only : bool, default=False
        If True, ``fc`` is ``nn.Identity()`` so that ``forward`` returns the
        2048-d pooled features; any ``fc.*`` entries of ``weights`` are
        ignored.

    Returns
    -------
    model : ResNet50
        In training mode, on the CPU.

    Raises
    ------
    FileNotFoundError
        If ``weights`` names a file that does not exist.
    ValueError
        If the weights do not match the model.

    Examples
    --------
    >>> import torch
    >>> from skntl.deep._resnet import resnet50
    >>> model = resnet50(features_only=True).eval()
    >>> model(torch.zeros(1, 3, 32, 32)).shape
    torch.Size([1, 2048])
    """
    num_classes = None if features_only else num_classes
    if weights is None:
        return ResNet50(num_classes=num_classes)
    source = str(weights) if isinstance(weights, (str, os.PathLike)) else "the given mapping"
    state = load_state_dict(weights)
    if features_only:
        state = {k: v for k, v in state.items() if not k.startswith("fc.")}
    # Build without allocating or initialising (the weights replace everything), then
    # adopt the loaded tensors; the caller's tensors are copied, never shared.
    with torch.device("meta"):
        model = ResNet50(num_classes=num_classes)
    _check_keys(model, state, source)
    adopted = {}
    for key, meta in model.state_dict().items():
        value = state.get(key)
        if value is None:  # num_batches_tracked, absent from older torchvision files
            value = torch.zeros((), dtype=meta.dtype)
        elif not isinstance(weights, (str, os.PathLike)):
            value = value.clone()
        adopted[key] = value.to(dtype=meta.dtype, device="cpu")
    model.load_state_dict(adopted, assign=True)
    return model
