"""The plain-torch ResNet-50 has torchvision's resnet50 state-dict layout."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from skntl.deep._resnet import ResNet50, load_state_dict, resnet50  # noqa: E402

# torchvision.models.resnet50(): 25,557,032 parameters (its published figure).
TORCHVISION_RESNET50_PARAMS = 25_557_032


def _torchvision_resnet50_layout(num_classes=1000):
    """Key -> shape of torchvision's resnet50 state dict, written out from its definition."""

    def bn(prefix, c):
        return {f"{prefix}.{name}": (c,) for name in ("weight", "bias", "running_mean",
                                                      "running_var")} | {
            f"{prefix}.num_batches_tracked": ()
        }  # fmt: skip

    layout = {"conv1.weight": (64, 3, 7, 7), **bn("bn1", 64)}
    in_c = 64
    for stage, (blocks, width) in enumerate([(3, 64), (4, 128), (6, 256), (3, 512)], start=1):
        for b in range(blocks):
            p = f"layer{stage}.{b}"
            layout |= {f"{p}.conv1.weight": (width, in_c, 1, 1), **bn(f"{p}.bn1", width)}
            layout |= {f"{p}.conv2.weight": (width, width, 3, 3), **bn(f"{p}.bn2", width)}
            layout |= {f"{p}.conv3.weight": (4 * width, width, 1, 1), **bn(f"{p}.bn3", 4 * width)}
            if b == 0:
                layout |= {f"{p}.downsample.0.weight": (4 * width, in_c, 1, 1),
                           **bn(f"{p}.downsample.1", 4 * width)}  # fmt: skip
            in_c = 4 * width
    layout |= {"fc.weight": (num_classes, 2048), "fc.bias": (num_classes,)}
    return layout


# One intra-op thread: on 2 shared cores, 2 threads made each forward pass 3-7x slower.
pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return resnet50()


@pytest.fixture(scope="module")
def weights_file(model, tmp_path_factory):
    path = tmp_path_factory.mktemp("weights") / "resnet50.pth"
    torch.save(model.state_dict(), path)
    return path


def test_state_dict_layout_is_torchvision(model):
    expected = _torchvision_resnet50_layout()
    actual = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert actual == expected
    assert len(actual) == 320  # 53 conv weights, 53 BN x 5 entries, fc weight and bias
    assert list(actual)[:3] == ["conv1.weight", "bn1.weight", "bn1.bias"]
    assert list(actual)[-2:] == ["fc.weight", "fc.bias"]
    assert sum(p.numel() for p in model.parameters()) == TORCHVISION_RESNET50_PARAMS
    assert sum(1 for _ in model.parameters()) == 161


def test_strides_are_torchvisions_v1_5(model):
    # The stride sits on the 3x3 convolution (torchvision's "ResNet v1.5").
    assert model.conv1.stride == (2, 2) and model.maxpool.stride == 2
    assert model.layer1[0].conv2.stride == (1, 1)
    for stage in (model.layer2, model.layer3, model.layer4):
        assert stage[0].conv1.stride == (1, 1) and stage[0].conv2.stride == (2, 2)
        assert stage[0].downsample[0].stride == (2, 2)
        assert stage[1].downsample is None
    assert model.layer1[0].downsample[0].stride == (1, 1)  # 64 -> 256 channels


@pytest.mark.slow  # a 224x224 forward pass
def test_forward_224_gives_2048_features(model):
    features = resnet50(model.state_dict(), features_only=True).eval()
    assert isinstance(features.fc, torch.nn.Identity)
    with torch.no_grad():
        out = features(torch.randn(2, 3, 224, 224))
    assert out.shape == (2, 2048)
    assert torch.all(out >= 0) and torch.all(torch.isfinite(out))  # average of ReLU outputs


def test_logits_and_custom_head(model):
    model.eval()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        logits = model(x)
        assert logits.shape == (2, 1000)
        torch.testing.assert_close(logits, model.fc(model.forward_features(x)))
    with torch.device("meta"):  # structure only: no memory, no initialisation
        assert ResNet50(num_classes=31).fc.out_features == 31
        assert isinstance(ResNet50(num_classes=None).fc, torch.nn.Identity)
    assert ResNet50.out_features == 2048


@pytest.mark.slow
def test_weights_file_round_trip(model, weights_file):
    loaded = resnet50(weights_file)
    original = model.state_dict()
    for key, value in loaded.state_dict().items():
        assert value.device.type == "cpu" and value.dtype == original[key].dtype
        assert torch.equal(value, original[key]), key
    x = torch.randn(2, 3, 32, 32)
    model.eval(), loaded.eval()
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), model(x), rtol=0, atol=0)


def test_loading_a_mapping_copies_it(model):
    state = model.state_dict()
    before = state["conv1.weight"].clone()
    loaded = resnet50(state, features_only=True)
    with torch.no_grad():
        loaded.conv1.weight.add_(1.0)  # e.g. a training step
    assert torch.equal(state["conv1.weight"], before)
    assert loaded.conv1.weight.requires_grad and isinstance(loaded.fc, torch.nn.Identity)


@pytest.mark.slow
def test_npz_wrapped_and_prefixed_state_dicts(model, tmp_path):
    state = model.state_dict()
    arrays = {k: v.numpy() for k, v in state.items() if not k.endswith("num_batches_tracked")}
    np.savez(tmp_path / "w.npz", **arrays)  # older torchvision files lack num_batches_tracked
    from_npz = resnet50(tmp_path / "w.npz").state_dict()
    assert torch.equal(from_npz["layer3.5.bn3.running_var"], state["layer3.5.bn3.running_var"])
    wrapped = {"state_dict": {f"module.{k}": v for k, v in state.items()}, "epoch": 3}
    assert load_state_dict(wrapped).keys() == state.keys()


def test_missing_file_is_never_downloaded(tmp_path):
    with pytest.raises(FileNotFoundError, match="never downloads"):
        resnet50(tmp_path / "resnet50-0676ba61.pth")


@pytest.mark.slow
def test_mismatched_weights_are_rejected(model, tmp_path):
    state = model.state_dict()
    with pytest.raises(ValueError, match="wrong shape .*fc.weight.*features_only=True"):
        resnet50(state, num_classes=10)
    assert resnet50(state, num_classes=10, features_only=True).fc.__class__ is torch.nn.Identity
    partial = {k: v for k, v in state.items() if not k.startswith("layer4.2.")}
    with pytest.raises(ValueError, match=r"missing \(15\): layer4\.2\.bn1\.bias"):
        resnet50(partial)
    extra = dict(state, **{"layer5.0.conv1.weight": torch.zeros(1)})
    with pytest.raises(ValueError, match=r"unexpected \(1\): layer5\.0\.conv1\.weight"):
        resnet50(extra)
    with pytest.raises(ValueError, match="mapping of names to tensors"):
        resnet50([1, 2, 3])
    with pytest.raises(ValueError, match="is a str, not a tensor"):
        resnet50({"conv1.weight": "x"})


class _Payload:
    """An arbitrary object: torch.load(weights_only=True) must refuse to unpickle it."""


def test_pickled_objects_are_refused(tmp_path):
    path = tmp_path / "evil.pth"
    torch.save({"conv1.weight": torch.zeros(1), "payload": _Payload()}, path)
    with pytest.raises(ValueError, match="Could not read ResNet-50 weights"):
        resnet50(path)
