import bz2
import gzip
import os
import struct

import h5py
import numpy as np
import pytest
import scipy.io
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import normalize as l2_normalize

from skntl.datasets import load_digits_domain, load_digits_pair, load_torchvision_digits
from skntl.datasets._digits import _pair_splits, _resize_matrix

# 1-NN reference accuracies (%) of shared/data/README.md; the L2 ones equal JDA's "NN".
JDA_1NN = {"l2": {"MU": 65.94, "UM": 44.70}, "raw": {"MU": 64.44, "UM": 35.85}}
USPS_TRAIN_COUNTS = [1194, 1005, 731, 658, 652, 556, 664, 645, 542, 644]
USPS_TEST_COUNTS = [359, 264, 198, 166, 200, 160, 170, 147, 166, 177]


def _one_nn(Xs, ys, Xt, yt):
    return round(100 * KNeighborsClassifier(n_neighbors=1).fit(Xs, ys).score(Xt, yt), 2)


@pytest.fixture(scope="module")
def jda_raw(shared_data_home):
    path = shared_data_home / "digits" / "mnist_usps_jda" / "MNIST_vs_USPS.mat"
    with h5py.File(path, "r") as f:
        return {k: f[k][()] for k in ("Xs", "Ys", "Xt", "Yt")}


@pytest.fixture(scope="module")
def mnist_test_raw(shared_data_home):
    folder = shared_data_home / "digits" / "mnist"
    images = gzip.open(folder / "t10k-images-idx3-ubyte.gz").read()
    labels = gzip.open(folder / "t10k-labels-idx1-ubyte.gz").read()
    return (
        np.frombuffer(images, np.uint8, offset=16).reshape(-1, 28, 28),
        np.frombuffer(labels, np.uint8, offset=8),
    )


@pytest.fixture(scope="module")
def mnist_m_raw(shared_data_home):
    with np.load(shared_data_home / "digits" / "mnist_m" / "mnist_m_test.npz") as d:
        return d["X"], d["y"]


# --- the JDA benchmark: reference 1-NN accuracies ------------------------------------


@pytest.mark.parametrize("preprocess", ["l2", "raw"])
def test_jda_1nn_reproduced_exactly(shared_data_home, preprocess):
    Xs, ys, Xt, yt = load_digits_pair(
        "mnist_jda", "usps_jda", image_size=None, normalize=None, flatten=True,
        data_home=shared_data_home, return_X_y=True,
    )  # fmt: skip
    if preprocess == "l2":
        Xs, Xt = l2_normalize(Xs), l2_normalize(Xt)
    accs = {"MU": _one_nn(Xs, ys, Xt, yt), "UM": _one_nn(Xt, yt, Xs, ys)}
    assert accs == JDA_1NN[preprocess]


def test_jda_domains_equal_the_file(shared_data_home, jda_raw):
    for domain, (x, y) in {"mnist_jda": ("Xs", "Ys"), "usps_jda": ("Xt", "Yt")}.items():
        bunch = load_digits_domain(
            domain, image_size=None, normalize=None, flatten=True, data_home=shared_data_home
        )
        assert bunch.data.dtype == np.float32 and bunch.target.dtype == np.int64
        assert np.array_equal(bunch.data, jda_raw[x].astype(np.float32))
        assert np.array_equal(bunch.target, jda_raw[y].ravel().astype(int) - 1)  # file: digit+1
        assert bunch.split == ("all",)
    images = load_digits_domain("usps_jda", image_size=None, normalize=None,
                                data_home=shared_data_home).data  # fmt: skip
    assert images.shape == (1800, 1, 16, 16)
    expected = jda_raw["Xt"][5].astype(np.float32).reshape(16, 16)  # row-major, upright
    assert np.array_equal(images[5, 0], expected)


# --- every domain: shape, dtype, labels, normalisation ---------------------------------


@pytest.fixture(scope="module")
def default_domains(shared_data_home):
    return {
        d: load_digits_domain(d, data_home=shared_data_home)
        for d in ("mnist", "usps", "mnist_m", "mnist_jda", "usps_jda")
    }


@pytest.mark.parametrize(
    "domain, n, split",
    [("mnist", 15000, ("train_5k", "test")), ("usps", 9298, ("train", "test")),
     ("mnist_m", 9001, ("test",)), ("mnist_jda", 2000, ("all",)),
     ("usps_jda", 1800, ("all",))],
)  # fmt: skip
@pytest.mark.slow
def test_default_format(default_domains, domain, n, split):
    bunch = default_domains[domain]
    assert set(bunch) == {"data", "target", "target_names", "domain", "split", "DESCR"}
    assert bunch.data.shape == (n, 1, 32, 32) and bunch.data.dtype == np.float32
    assert bunch.data.flags.c_contiguous
    assert bunch.target.shape == (n,) and bunch.target.dtype == np.int64
    assert np.array_equal(np.unique(bunch.target), np.arange(10))
    assert np.array_equal(bunch.target_names, np.arange(10))
    assert bunch.domain == domain and bunch.split == split
    assert "0.44" in bunch.DESCR and "0.19" in bunch.DESCR
    # GTA's normalisation of [0, 1] pixels: the range is [-0.44/0.19, 0.56/0.19].
    assert bunch.data.min() >= -0.44 / 0.19 - 1e-5 and bunch.data.max() <= 0.56 / 0.19 + 1e-5
    assert bunch.data.min() < -2.0 and bunch.data.max() > 2.0


def test_gta_normalisation_is_affine_in_the_unit_pixels(shared_data_home, default_domains):
    raw = load_digits_domain("usps", "test", normalize=None, data_home=shared_data_home).data
    assert raw.min() >= 0 and raw.max() <= 1
    np.testing.assert_allclose(default_domains["usps"].data[7291:], (raw - 0.44) / 0.19,
                               atol=1e-5)  # fmt: skip


def test_mnist_native_size_is_the_idx_file(shared_data_home, mnist_test_raw):
    images, labels = mnist_test_raw
    bunch = load_digits_domain("mnist", "test", image_size=None, normalize=None,
                               data_home=shared_data_home)  # fmt: skip
    assert bunch.data.shape == (10000, 1, 28, 28)
    assert np.array_equal(bunch.data[:, 0], images / np.float32(255))
    assert np.array_equal(bunch.target, labels)
    flat = load_digits_domain("mnist", "test", image_size=None, normalize=None, flatten=True,
                              data_home=shared_data_home).data  # fmt: skip
    assert flat.shape == (10000, 784) and np.array_equal(flat, bunch.data.reshape(10000, -1))


def test_mnist_splits_pool_in_order(shared_data_home, default_domains):
    pooled = default_domains["mnist"]
    assert np.all(np.bincount(pooled.target[:5000]) == 500)  # train_5k: 500 per class
    test = load_digits_domain("mnist", ["test"], data_home=shared_data_home)
    assert np.array_equal(pooled.data[5000:], test.data)
    assert np.array_equal(pooled.target[5000:], test.target)


def test_usps_splits_have_the_standard_class_counts(shared_data_home):
    train = load_digits_domain("usps", "train", data_home=shared_data_home)
    test = load_digits_domain("usps", "test", data_home=shared_data_home)
    assert np.bincount(train.target).tolist() == USPS_TRAIN_COUNTS
    assert np.bincount(test.target).tolist() == USPS_TEST_COUNTS
    both = load_digits_domain("usps", "all", data_home=shared_data_home)
    assert np.array_equal(both.target, np.concatenate([train.target, test.target]))


def test_mnist_m_labels_are_the_mnist_test_labels(mnist_test_raw, default_domains):
    assert np.array_equal(default_domains["mnist_m"].target, mnist_test_raw[1][:9001])


@pytest.fixture(scope="module")
def mnist_m_unit(shared_data_home):
    """MNIST-M in [0, 1] as RGB and as grey."""
    kwargs = {"normalize": None, "data_home": shared_data_home, "return_X_y": True}
    return (
        load_digits_domain("mnist_m", channels=3, **kwargs)[0],
        load_digits_domain("mnist_m", channels=1, **kwargs)[0],
    )


@pytest.mark.slow
def test_channels(shared_data_home, mnist_m_raw, mnist_m_unit):
    X, _ = mnist_m_raw
    rgb, grey = mnist_m_unit
    assert rgb.shape == (9001, 3, 32, 32) and grey.shape == (9001, 1, 32, 32)
    assert np.array_equal(rgb, X.transpose(0, 3, 1, 2) / np.float32(255))
    luma = (X[:2000].astype(np.float64) @ [0.299, 0.587, 0.114]) / 255
    np.testing.assert_allclose(grey[:2000, 0], luma, atol=1e-5)

    usps1 = load_digits_domain("usps", "test", data_home=shared_data_home).data
    usps3 = load_digits_domain("usps", "test", channels=3, data_home=shared_data_home).data
    assert usps3.shape == (2007, 3, 32, 32)
    for c in range(3):
        assert np.array_equal(usps3[:, c], usps1[:, 0])


def test_grey_conversion_matches_pillow(mnist_m_raw, mnist_m_unit):
    Image = pytest.importorskip("PIL.Image")
    X, _ = mnist_m_raw
    grey = mnist_m_unit[1]
    pillow = np.stack([np.asarray(Image.fromarray(x).convert("L")) for x in X[:200]])
    assert np.abs(grey[:200, 0] * 255 - pillow).max() <= 1.0  # Pillow rounds to uint8


@pytest.mark.parametrize("size", [32, 16, 28, 45])
def test_resize_matches_pillow_bilinear(mnist_test_raw, shared_data_home, size):
    Image = pytest.importorskip("PIL.Image")
    images = mnist_test_raw[0][:100]
    ours = load_digits_domain("mnist", "test", image_size=size, normalize=None,
                              data_home=shared_data_home).data[:100, 0]  # fmt: skip
    pillow = np.stack([
        np.asarray(Image.fromarray(x).resize((size, size), Image.Resampling.BILINEAR))
        for x in images
    ])  # fmt: skip
    assert ours.shape == (100, size, size)
    # Pillow works in 8-bit fixed point; the difference is its rounding, at most 1 level.
    assert np.abs(ours * 255 - pillow).max() <= 1.0 + 1e-3
    assert np.abs(ours * 255 - pillow).mean() < 0.3


def test_resize_matrix_properties():
    assert np.array_equal(_resize_matrix(7, 7), np.eye(7))
    for n_in, n_out in [(16, 32), (28, 32), (32, 16), (28, 10)]:
        weights = _resize_matrix(n_in, n_out)
        assert weights.shape == (n_out, n_in)
        np.testing.assert_allclose(weights.sum(axis=1), 1)  # constants stay constant
        assert np.all(weights >= 0)
    # Up-scaling by 2: interior outputs mix two neighbours 3:1 / 1:3.
    np.testing.assert_allclose(_resize_matrix(4, 8)[1, :2], [0.75, 0.25])


# --- pairs ------------------------------------------------------------------------------


def test_pairs(shared_data_home, default_domains):
    pair = load_digits_pair("mnist_jda", "usps_jda", data_home=shared_data_home)
    assert set(pair) == {
        "X_source", "y_source", "X_target", "y_target", "source_domain", "target_domain",
        "source_split", "target_split", "target_names", "DESCR",
    }  # fmt: skip
    assert pair.source_domain == "mnist_jda" and pair.target_domain == "usps_jda"
    assert np.array_equal(pair.X_source, default_domains["mnist_jda"].data)
    assert np.array_equal(pair.y_source, default_domains["mnist_jda"].target)
    assert np.array_equal(pair.X_target, default_domains["usps_jda"].data)
    assert np.array_equal(pair.y_target, default_domains["usps_jda"].target)
    assert np.array_equal(pair.target_names, np.arange(10))
    assert "mnist_jda" in pair.DESCR and "usps_jda" in pair.DESCR

    Xs, ys, Xt, yt = load_digits_pair("usps_jda", "mnist_jda", channels=3, image_size=20,
                                      data_home=shared_data_home, return_X_y=True)  # fmt: skip
    assert Xs.shape == (1800, 3, 20, 20) and Xt.shape == (2000, 3, 20, 20)
    assert np.array_equal(yt, default_domains["mnist_jda"].target)


@pytest.mark.parametrize(
    "source, target, source_split, target_split, expected",
    [
        # MNIST-M's images are MNIST's test digits: MNIST defaults to the disjoint 5k subset.
        ("mnist", "mnist_m", None, None, (("train_5k",), ("test",))),
        ("mnist_m", "mnist", None, None, (("test",), ("train_5k",))),
        ("mnist", "mnist_m", "test", None, (("test",), ("test",))),
        ("mnist", "usps", None, None, (("train_5k", "test"), ("train", "test"))),
        ("svhn", "mnist", None, "all", (("train",), ("train", "test"))),
    ],
)
def test_pair_default_splits(source, target, source_split, target_split, expected):
    assert _pair_splits(source, target, source_split, target_split) == expected


def test_pair_of_one_domain_is_rejected():
    with pytest.raises(ValueError, match="source and target must be different"):
        load_digits_pair("usps", "USPS")


# --- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"domain": "svhm"}, "domain must be one of 'mnist', 'usps'"),
        ({"domain": 3}, "'domain' parameter of load_digits_domain must be an instance of 'str'"),
        ({"domain": "usps", "split": "train_5k"}, "split must be one of 'train', 'test'"),
        ({"domain": "mnist_jda", "split": "test"}, "split must be one of 'all'"),
        ({"domain": "mnist", "split": []}, "split must be one of"),
        ({"domain": "mnist", "split": 5}, "'split' parameter of load_digits_domain"),
        ({"domain": "mnist", "split": ["train", "train_5k"]}, "subset"),
        ({"domain": "mnist", "split": "all", "channels": 2}, r"'channels' parameter .* \{1, 3\}"),
        ({"domain": "mnist", "channels": 1.0}, "'channels' parameter of load_digits_domain"),
        ({"domain": "mnist", "image_size": 0}, r"'image_size' parameter .* range \[1, inf\)"),
        ({"domain": "mnist", "image_size": 32.0}, "'image_size' parameter of load_digits_domain"),
        ({"domain": "mnist", "normalize": "imagenet"}, r"'normalize' parameter .* \{'gta'\}"),
        ({"domain": "mnist", "flatten": "yes"}, "'flatten' parameter of load_digits_domain"),
    ],
)
def test_invalid_arguments(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        load_digits_domain(**kwargs, data_home=tmp_path)


def test_missing_file_names_path_variable_and_fetcher(tmp_path, monkeypatch):
    monkeypatch.setenv("SKNTL_DATA", str(tmp_path))
    with pytest.raises(FileNotFoundError) as info:
        load_digits_domain("mnist", "train")
    message = str(info.value)
    assert str(tmp_path / "digits" / "mnist" / "train-images-idx3-ubyte.gz") in message
    assert "SKNTL_DATA environment variable" in message and "data_home" in message
    assert "fetch_mnist" in message
    with pytest.raises(FileNotFoundError, match="fetch_mnist_usps_jda"):
        load_digits_pair("mnist_jda", "usps_jda", data_home=tmp_path / "elsewhere")


def _idx(array, magic_ndim):
    return (
        b"\x00\x00\x08"
        + bytes([magic_ndim])
        + struct.pack(f">{array.ndim}I", *array.shape)
        + array.astype(np.uint8).tobytes()
    )


def _write(home, relative, content):
    path = home.joinpath(*relative.split("/"))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def _good_mnist_test(home, n=5):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n, 28, 28))
    labels = np.arange(n) % 10
    _write(home, "digits/mnist/t10k-images-idx3-ubyte.gz", gzip.compress(_idx(images, 3)))
    _write(home, "digits/mnist/t10k-labels-idx1-ubyte.gz", gzip.compress(_idx(labels, 1)))
    return images, labels


def test_small_generated_idx_files_are_read(tmp_path):
    images, labels = _good_mnist_test(tmp_path)
    X, y = load_digits_domain("mnist", "test", image_size=None, normalize=None,
                              data_home=tmp_path, return_X_y=True)  # fmt: skip
    assert np.array_equal(X[:, 0] * 255, images) and np.array_equal(y, labels)


@pytest.mark.parametrize(
    "relative, content",
    [
        ("digits/mnist/t10k-images-idx3-ubyte.gz", os.urandom(500)),
        ("digits/mnist/t10k-images-idx3-ubyte.gz", b""),
        ("digits/mnist/t10k-images-idx3-ubyte.gz",
         gzip.compress(_idx(np.zeros((5, 28, 28)), 3))[:-20]),  # truncated download
        ("digits/mnist/t10k-images-idx3-ubyte.gz",
         gzip.compress(_idx(np.zeros((5, 28, 28)), 3)[:-100])),  # fewer pixels than announced
        ("digits/mnist/t10k-images-idx3-ubyte.gz", gzip.compress(_idx(np.zeros((5, 28)), 2))),
        ("digits/mnist/t10k-labels-idx1-ubyte.gz", gzip.compress(_idx(np.full(5, 11), 1))),
        ("digits/mnist/t10k-labels-idx1-ubyte.gz", gzip.compress(_idx(np.zeros(4), 1))),
    ],
)  # fmt: skip
def test_corrupted_mnist_raises_naming_the_file(tmp_path, relative, content):
    _good_mnist_test(tmp_path)
    path = _write(tmp_path, relative, content)
    with pytest.raises(OSError, match="Could not read") as info:
        load_digits_domain("mnist", "test", data_home=tmp_path)
    assert not isinstance(info.value, FileNotFoundError)
    assert str(path) in str(info.value)


def test_corrupted_csv_h5_and_npz(tmp_path, shared_data_home):
    def check(domain, split, relative, content):
        path = _write(tmp_path, relative, content)
        with pytest.raises(OSError, match="Could not read") as info:
            load_digits_domain(domain, split, data_home=tmp_path)
        assert str(path) in str(info.value)

    check("mnist", "train_5k", "digits/mnist/mnist_5k.csv.gz", gzip.compress(b"1,2,3\n4,5,6\n"))
    check("mnist", "train_5k", "digits/mnist/mnist_5k.csv.gz", gzip.compress(b"a,b\n"))
    usps = (shared_data_home / "digits" / "usps" / "usps.h5").read_bytes()
    check("usps", "train", "digits/usps/usps.h5", usps[: len(usps) // 2])
    check("usps", "train", "digits/usps/usps.h5", os.urandom(2048))
    jda = (shared_data_home / "digits" / "mnist_usps_jda" / "MNIST_vs_USPS.mat").read_bytes()
    check("mnist_jda", None, "digits/mnist_usps_jda/MNIST_vs_USPS.mat", jda[:100_000])
    check("mnist_m", "test", "digits/mnist_m/mnist_m_test.npz", b"PK\x03\x04" + os.urandom(300))


def test_h5_without_the_expected_datasets(tmp_path):
    path = tmp_path / "digits" / "usps" / "usps.h5"
    path.parent.mkdir(parents=True)
    with h5py.File(path, "w") as f:
        f["train/data"] = np.zeros((3, 256), np.float32)
    with pytest.raises(OSError, match="lacks the dataset"):
        load_digits_domain("usps", "train", data_home=tmp_path)
    with h5py.File(path, "w") as f:
        f["train/data"] = np.full((3, 256), 7, np.float32)  # pixels outside [0, 1]
        f["train/target"] = np.zeros(3, np.int32)
    with pytest.raises(OSError, match=r"pixel values are not finite numbers in \[0, 1\]"):
        load_digits_domain("usps", "train", data_home=tmp_path)


def test_npz_with_pickled_objects_is_refused(tmp_path):
    path = tmp_path / "digits" / "mnist_m" / "mnist_m_test.npz"
    path.parent.mkdir(parents=True)
    objects = np.empty(2, dtype=object)
    objects[:] = [{"a": 1}, None]
    np.savez(path, X=objects, y=np.zeros(2, np.uint8))  # an object array needs pickle
    with pytest.raises(OSError, match="Could not read") as info:
        load_digits_domain("mnist_m", data_home=tmp_path)
    assert "pickle" in str(info.value).lower()


def test_svhn_layout(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.integers(0, 256, (32, 32, 3, 4)).astype(np.uint8)
    y = np.array([[10], [1], [9], [10]], dtype=np.uint8)
    path = tmp_path / "digits" / "svhn" / "test_32x32.mat"
    path.parent.mkdir(parents=True)
    scipy.io.savemat(path, {"X": X, "y": y})
    bunch = load_digits_domain("svhn", "test", channels=3, normalize=None, data_home=tmp_path)
    assert np.array_equal(bunch.target, [0, 1, 9, 0])  # label 10 is digit 0
    assert np.array_equal(bunch.data[2] * 255, X[:, :, :, 2].transpose(2, 0, 1))
    with pytest.raises(FileNotFoundError, match="fetch_svhn"):
        load_digits_domain("svhn", data_home=tmp_path)  # default split: train


# --- torchvision folders --------------------------------------------------------------------


def test_torchvision_mnist_usps_svhn(tmp_path):
    rng = np.random.default_rng(2)
    images, labels = rng.integers(0, 256, (3, 28, 28)), np.array([7, 0, 3])
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    (raw / "train-images-idx3-ubyte").write_bytes(_idx(images, 3))  # extracted
    (raw / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(_idx(labels, 1)))
    bunch = load_torchvision_digits("mnist", tmp_path, "train", image_size=None, normalize=None)
    assert np.array_equal(bunch.data[:, 0] * 255, images) and np.array_equal(bunch.target, labels)
    assert len(bunch.filenames) == 2
    with pytest.raises(FileNotFoundError, match="t10k-images-idx3-ubyte"):
        load_torchvision_digits("mnist", tmp_path, "test")

    pixels = rng.uniform(-1, 1, (2, 256)).round(6)
    lines = [
        "{} {}".format(label, " ".join(f"{i + 1}:{v}" for i, v in enumerate(row) if v != 0))
        for label, row in zip([1, 10], pixels)
    ]
    (tmp_path / "usps.t.bz2").write_bytes(bz2.compress("\n".join(lines).encode()))
    X, y = load_torchvision_digits("usps", tmp_path, "test", image_size=None, normalize=None,
                                   flatten=True, return_X_y=True)  # fmt: skip
    np.testing.assert_allclose(X, (pixels + 1) / 2, atol=1e-6)
    assert np.array_equal(y, [0, 9])  # LIBSVM labels are digit + 1
    (tmp_path / "usps.bz2").write_bytes(bz2.compress(b"1 1:0.5 2:oops\n"))
    with pytest.raises(OSError, match="not a LIBSVM row"):
        load_torchvision_digits("usps", tmp_path, "train")

    scipy.io.savemat(
        tmp_path / "extra_32x32.mat",
        {"X": np.zeros((32, 32, 3, 2), np.uint8), "y": np.array([[10], [5]])},
    )
    X, y = load_torchvision_digits("svhn", tmp_path, "extra", return_X_y=True)
    assert X.shape == (2, 1, 32, 32) and np.array_equal(y, [0, 5])
    with pytest.raises(ValueError, match="split must be one of 'train', 'test' for name='usps'"):
        load_torchvision_digits("usps", tmp_path, "extra")
    with pytest.raises(ValueError, match="'name' parameter of load_torchvision_digits"):
        load_torchvision_digits("fashion", tmp_path)


def test_pooling_never_mixes_byte_and_unit_pixels(monkeypatch):
    import skntl.datasets._digits as digits

    parts = {
        "a": (np.full((2, 1, 4, 4), 255, np.uint8), np.array([1, 2])),
        "b": (np.full((1, 1, 4, 4), 0.5, np.float32), np.array([3])),
    }
    monkeypatch.setattr(digits, "_read_split", lambda domain, split, home: parts[split])
    images, labels = digits._load_domain("usps", ("a", "b"), None)
    assert images.dtype == np.float32 and labels.tolist() == [1, 2, 3]
    assert images[:2].max() == 1.0 and images[2].max() == 0.5
