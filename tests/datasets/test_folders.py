import sys

import numpy as np
import pytest

from skntl.datasets import (
    load_image_folder,
    load_image_list,
    load_office31_images,
    load_office_home_images,
    load_visda_images,
)
from skntl.datasets._folders import OFFICE_HOME_CLASSES, VISDA_CLASSES
from skntl.datasets._office31 import OFFICE31_CLASSES

Image = pytest.importorskip("PIL.Image")
torch = pytest.importorskip("torch")

# REFERENCE.md §4.1 / D24: the paper's 25 Office-Home classes (PADA's *_shared.txt lists).
OFFICE_HOME_25 = [
    "Alarm_Clock", "Backpack", "Batteries", "Bed", "Bike", "Bottle", "Bucket", "Calculator",
    "Calendar", "Candles", "Chair", "Clipboards", "Computer", "Couch", "Curtains", "Desk_Lamp",
    "Drill", "Eraser", "Exit_Sign", "Fan", "File_Cabinet", "Flipflops", "Flowers", "Folder",
    "Fork",
]  # fmt: skip
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)[:, None, None]
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)[:, None, None]


def _png(path, rng, size=(40, 30), mode="RGB"):
    path.parent.mkdir(parents=True, exist_ok=True)
    shape = (size[1], size[0], 3) if mode == "RGB" else (size[1], size[0])
    Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode).save(path)
    return path


@pytest.fixture
def tiny_folder(tmp_path):
    """``root/<class>/...``: 3 classes, 2-3 images each, mixed sizes, modes and suffixes."""
    rng = np.random.default_rng(0)
    root = tmp_path / "root"
    _png(root / "cat" / "b.png", rng)
    _png(root / "cat" / "a.PNG", rng, size=(30, 50))
    _png(root / "cat" / "nested" / "c.jpg", rng, size=(64, 64))
    _png(root / "dog" / "x.bmp", rng, mode="L")
    _png(root / "dog" / "y.png", rng, size=(33, 31))
    _png(root / "emu" / "z.png", rng)
    (root / "cat" / "notes.txt").write_text("not an image")
    _png(root / "cat" / ".hidden.png", rng)
    (root / ".git").mkdir()
    return root


def test_folder_lists_files_in_torchvision_order(tiny_folder):
    bunch = load_image_folder(tiny_folder)
    assert set(bunch) == {"data", "target", "target_names", "filenames", "DESCR"}
    names = [p.split("/root/")[1] for p in bunch.filenames]
    assert names == ["cat/a.PNG", "cat/b.png", "cat/nested/c.jpg", "dog/x.bmp", "dog/y.png",
                     "emu/z.png"]  # fmt: skip
    assert bunch.target.tolist() == [0, 0, 0, 1, 1, 2] and bunch.target.dtype == np.int64
    assert bunch.target_names.tolist() == ["cat", "dog", "emu"]
    assert np.array_equal(bunch.data, bunch.filenames)  # features=None: nothing decoded
    X, y = load_image_folder(tiny_folder, classes=["emu", "cat"], return_X_y=True)
    assert y.tolist() == [0, 1, 1, 1] and X[0].endswith("emu/z.png")


def test_pixels_are_resized_center_cropped_and_normalised(tiny_folder):
    bunch = load_image_folder(tiny_folder, features="pixels", image_size=16, normalize=None)
    assert bunch.data.shape == (6, 3, 16, 16) and bunch.data.dtype == np.float32
    assert bunch.data.min() >= 0 and bunch.data.max() <= 1
    # cat/a.PNG is 30 wide x 50 high: shorter side -> round(16 * 256 / 224) = 18, crop 16.
    with Image.open(tiny_folder / "cat" / "a.PNG") as image:
        expected = image.convert("RGB").resize((18, 30), Image.Resampling.BILINEAR)
    expected = np.asarray(expected.crop((1, 7, 17, 23)), dtype=np.float32).transpose(2, 0, 1)
    assert np.array_equal(bunch.data[0] * 255, expected)
    # a grey image becomes three equal channels
    grey = bunch.data[3]
    assert np.array_equal(grey[0], grey[1]) and np.array_equal(grey[1], grey[2])

    imagenet = load_image_folder(tiny_folder, features="pixels", image_size=16).data
    np.testing.assert_allclose(imagenet, (bunch.data - IMAGENET_MEAN) / IMAGENET_STD, atol=1e-5)
    gta = load_image_folder(tiny_folder, features="pixels", image_size=16, normalize="gta").data
    np.testing.assert_allclose(gta, (bunch.data - 0.44) / 0.19, atol=1e-5)
    squashed = load_image_folder(tiny_folder, features="pixels", image_size=12,
                                 center_crop=False, normalize=None).data  # fmt: skip
    with Image.open(tiny_folder / "cat" / "a.PNG") as image:
        expected = np.asarray(image.convert("RGB").resize((12, 12), Image.Resampling.BILINEAR))
    assert np.array_equal(squashed[0] * 255, expected.transpose(2, 0, 1).astype(np.float32))


@pytest.fixture(scope="module")
def random_resnet_weights():
    from skntl.deep._resnet import resnet50

    torch.manual_seed(0)
    return resnet50().state_dict()  # a torchvision-layout state dict with a 1000-class fc


@pytest.mark.slow
def test_resnet50_features_match_the_network(tiny_folder, random_resnet_weights, one_thread):
    from skntl.deep._resnet import resnet50

    bunch = load_image_folder(tiny_folder, features="resnet50", weights=random_resnet_weights,
                              image_size=32, batch_size=4)  # fmt: skip
    assert bunch.data.shape == (6, 2048) and bunch.data.dtype == np.float32
    assert np.all(bunch.data >= 0) and np.all(np.isfinite(bunch.data))  # pooled ReLU outputs

    pixels = load_image_folder(tiny_folder, features="pixels", image_size=32).data
    model = resnet50(random_resnet_weights, features_only=True).eval()
    with torch.no_grad():
        expected = model(torch.from_numpy(pixels)).numpy()
    # batches of 4 vs 6 sum in a different order: float32 rounding only
    np.testing.assert_allclose(bunch.data, expected, rtol=1e-4, atol=1e-4)
    assert not np.allclose(bunch.data[0], bunch.data[1])  # different images, different rows


def test_resnet50_features_need_weights(tiny_folder):
    with pytest.raises(ValueError, match="features='resnet50' needs weights"):
        load_image_folder(tiny_folder, features="resnet50")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"features": "vgg"}, "'features' parameter of load_image_folder must be a str among"),
        ({"features": "PIXELS"}, "'features' parameter of load_image_folder"),
        ({"image_size": 0}, r"'image_size' parameter .* must be an int in the range \[1, inf\)"),
        ({"batch_size": 2.5}, "'batch_size' parameter of load_image_folder"),
        ({"center_crop": "yes"}, "'center_crop' parameter of load_image_folder"),
        ({"normalize": "coco"}, "'normalize' parameter of load_image_folder"),
        ({"classes": []}, "classes must be a non-empty list"),
        ({"classes": ["cat", "cat"]}, "duplicates"),
    ],
)
def test_invalid_arguments(tiny_folder, kwargs, match):
    with pytest.raises(ValueError, match=match):
        load_image_folder(tiny_folder, **kwargs)


def test_missing_and_empty_folders(tmp_path, tiny_folder):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_image_folder(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match=r"lacks the class folder\(s\) \['zebra'\]"):
        load_image_folder(tiny_folder, classes=["cat", "zebra"])
    (tiny_folder / "fox").mkdir()
    (tiny_folder / "fox" / "readme.txt").write_text("no images")
    with pytest.raises(FileNotFoundError, match=r"No image files .* \['fox'\]"):
        load_image_folder(tiny_folder)
    (tmp_path / "flat").mkdir()
    with pytest.raises(FileNotFoundError, match="no class sub-folders"):
        load_image_folder(tmp_path / "flat")


def test_corrupted_image_names_the_file(tiny_folder):
    bad = tiny_folder / "dog" / "y.png"
    bad.write_bytes(bad.read_bytes()[:60])  # truncated
    assert len(load_image_folder(tiny_folder).filenames) == 6  # listing does not decode
    with pytest.raises(OSError, match="Could not read the image") as info:
        load_image_folder(tiny_folder, features="pixels", image_size=8)
    assert str(bad) in str(info.value)


def test_without_pillow_a_clear_import_error(tiny_folder, monkeypatch):
    monkeypatch.setitem(sys.modules, "PIL", None)  # makes `from PIL import Image` fail
    assert len(load_image_folder(tiny_folder).data) == 6
    with pytest.raises(ImportError, match="pip install pillow"):
        load_image_folder(tiny_folder, features="pixels")


# --- list files -----------------------------------------------------------------------------


def test_image_list(tmp_path):
    rng = np.random.default_rng(1)
    _png(tmp_path / "imgs" / "a 1.png", rng)  # a space in the name
    _png(tmp_path / "imgs" / "sub" / "b.png", rng)
    listing = tmp_path / "list.txt"
    listing.write_text("imgs/a 1.png 2\n\nimgs/sub/b.png 0\n")
    bunch = load_image_list(tmp_path, listing)
    assert bunch.target.tolist() == [2, 0] and bunch.target_names.tolist() == [0, 1, 2]
    assert bunch.filenames[0].endswith("imgs/a 1.png")
    named = load_image_list(tmp_path, listing, target_names=["x", "y", "z"], features="pixels",
                            image_size=8)  # fmt: skip
    assert named.data.shape == (2, 3, 8, 8) and named.target_names.tolist() == ["x", "y", "z"]

    with pytest.raises(ValueError, match="has label 2 but target_names has only 2"):
        load_image_list(tmp_path, listing, target_names=["x", "y"])
    listing.write_text("imgs/sub/b.png 0\nimgs/sub/b.png\n")
    with pytest.raises(ValueError, match="line 2: expected '<relative path> <label>'"):
        load_image_list(tmp_path, listing)
    listing.write_text("imgs/missing.png 0\n")
    with pytest.raises(FileNotFoundError, match="do not exist"):
        load_image_list(tmp_path, listing)
    listing.write_text("\n")
    with pytest.raises(ValueError, match="lists no image"):
        load_image_list(tmp_path, listing)
    with pytest.raises(FileNotFoundError, match="Image list"):
        load_image_list(tmp_path, tmp_path / "nope.txt")


# --- dataset layouts ------------------------------------------------------------------------


def test_office31_layout(tmp_path, monkeypatch):
    rng = np.random.default_rng(2)
    for i, name in enumerate(OFFICE31_CLASSES):
        _png(tmp_path / "office31" / "amazon" / "images" / name / f"frame_{i:04d}.jpg", rng,
             size=(8, 8))  # fmt: skip
    monkeypatch.setenv("SKNTL_DATA", str(tmp_path))
    bunch = load_office31_images("A")
    assert bunch.domain == "amazon"
    assert bunch.target.tolist() == list(range(31))
    assert bunch.target_names.tolist() == list(OFFICE31_CLASSES)
    assert bunch.target_names[0] == "back_pack" and bunch.target_names[30] == "trash_can"
    X, y = load_office31_images("amazon", root=tmp_path / "office31", features="pixels",
                                image_size=8, return_X_y=True)  # fmt: skip
    assert X.shape == (31, 3, 8, 8)

    with pytest.raises(FileNotFoundError) as info:
        load_office31_images("webcam")
    message = str(info.value)
    assert str(tmp_path / "office31" / "webcam" / "images") in message
    assert "SKNTL_DATA" in message and "data_home" in message and "root=" in message
    with pytest.raises(ValueError, match="domain must be one of 'amazon', 'dslr', 'webcam'"):
        load_office31_images("caltech")


def test_office_home_first_25_classes(tmp_path):
    rng = np.random.default_rng(3)
    assert len(OFFICE_HOME_CLASSES) == len(set(OFFICE_HOME_CLASSES)) == 65
    for name in OFFICE_HOME_CLASSES:
        _png(tmp_path / "Real World" / name / "00001.jpg", rng, size=(4, 4))
    bunch = load_office_home_images("Rw", root=tmp_path)
    assert bunch.domain == "real_world"
    assert bunch.target_names.tolist() == OFFICE_HOME_25  # D24
    assert bunch.target.tolist() == list(range(25))
    every = load_office_home_images("real world", root=tmp_path, n_classes=None)
    assert every.target_names.tolist() == sorted(OFFICE_HOME_CLASSES)
    assert "TV" in every.target_names and len(every.target) == 65
    assert load_office_home_images("rw", root=tmp_path, n_classes=3).target_names.tolist() == [
        "Alarm_Clock",
        "Backpack",
        "Batteries",
    ]
    with pytest.raises(ValueError, match=r"'n_classes' parameter .* range \[1, 65\] or None"):
        load_office_home_images("Rw", root=tmp_path, n_classes=66)
    with pytest.raises(FileNotFoundError, match="Office-Home art image folder"):
        load_office_home_images("Ar", root=tmp_path)


def test_office_home_zip_layout_and_missing_class(tmp_path):
    rng = np.random.default_rng(4)
    base = tmp_path / "OfficeHomeDataset_10072016" / "Art"
    for name in OFFICE_HOME_25[:-1]:  # Fork is missing
        _png(base / name / "00001.jpg", rng, size=(4, 4))
    with pytest.raises(FileNotFoundError, match=r"lacks the class folder\(s\) \['Fork'\]"):
        load_office_home_images("art", root=tmp_path)
    assert len(load_office_home_images("art", root=tmp_path, n_classes=24).target) == 24


def test_visda_layout(tmp_path):
    rng = np.random.default_rng(5)
    for name in VISDA_CLASSES:
        _png(tmp_path / "visda2017" / "train" / name / "x.png", rng, size=(4, 4))
    train = load_visda_images(data_home=tmp_path)
    assert train.split == "train" and train.target_names.tolist() == list(VISDA_CLASSES)
    assert train.target.tolist() == list(range(12))

    test = tmp_path / "visda2017" / "test"
    _png(test / "trunk01" / "a.jpg", rng, size=(4, 4))
    _png(test / "trunk02" / "b.jpg", rng, size=(4, 4))
    (test / "image_list.txt").write_text("trunk01/a.jpg 11\ntrunk02/b.jpg 0\n")
    labelled = load_visda_images("test", root=tmp_path / "visda2017")
    assert labelled.target.tolist() == [11, 0] and labelled.target_names[11] == "truck"
    (test / "image_list.txt").write_text("trunk01/a.jpg\ntrunk02/b.jpg\n")  # unlabelled release
    with pytest.raises(ValueError, match="line 1: expected '<relative path> <label>'"):
        load_visda_images("test", root=tmp_path / "visda2017")
    with pytest.raises(FileNotFoundError, match="VisDA-2017 validation folder"):
        load_visda_images("validation", root=tmp_path / "visda2017")
    with pytest.raises(ValueError, match="'split' parameter of load_visda_images must be a str"):
        load_visda_images("val", root=tmp_path)
