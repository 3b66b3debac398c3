"""Image datasets in their standard on-disk layouts, with optional ResNet-50 features.

The paper's Office-31, Office-Home and VisDA experiments start from image
folders.  This module reads them in the layout their archives extract to
(one sub-folder per class, as ``torchvision.datasets.ImageFolder`` expects),
or from ``path label`` list files, and returns either the file names, the
decoded pixels, or the 2048-d pooled features of a ResNet-50 whose weights
come from a local file.  Pillow is needed to decode images and is imported
only then.
"""

import os
from collections.abc import Mapping
from numbers import Integral
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from ..utils._param_validation import Interval, StrOptions, validate_params
from ._base import _find_first, _resolve_alias, _resolve_data_home
from ._digits import GTA_MEAN, GTA_STD
from ._office31 import OFFICE31_CLASSES

__all__ = [
    "load_image_folder",
    "load_image_list",
    "load_office31_images",
    "load_office_home_images",
    "load_visda_images",
]

#: File suffixes read as images (case-insensitive), those of torchvision's ImageFolder.
IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")

#: The 65 Office-Home classes (Venkateswara et al., CVPR 2017), in folder sort order.
OFFICE_HOME_CLASSES = (
    "Alarm_Clock", "Backpack", "Batteries", "Bed", "Bike", "Bottle", "Bucket",
    "Calculator", "Calendar", "Candles", "Chair", "Clipboards", "Computer", "Couch",
    "Curtains", "Desk_Lamp", "Drill", "Eraser", "Exit_Sign", "Fan", "File_Cabinet",
    "Flipflops", "Flowers", "Folder", "Fork", "Glasses", "Hammer", "Helmet", "Kettle",
    "Keyboard", "Knives", "Lamp_Shade", "Laptop", "Marker", "Monitor", "Mop", "Mouse",
    "Mug", "Notebook", "Oven", "Pan", "Paper_Clip", "Pen", "Pencil", "Postit_Notes",
    "Printer", "Push_Pin", "Radio", "Refrigerator", "Ruler", "Scissors", "Screwdriver",
    "Shelf", "Sink", "Sneakers", "Soda", "Speaker", "Spoon", "TV", "Table", "Telephone",
    "ToothBrush", "Toys", "Trash_Can", "Webcam",
)  # fmt: skip

#: The 12 VisDA-2017 classification classes, in label order.
VISDA_CLASSES = (
    "aeroplane", "bicycle", "bus", "car", "horse", "knife", "motorcycle", "person",
    "plant", "skateboard", "train", "truck",
)  # fmt: skip

#: Per-channel mean and standard deviation of the ImageNet inputs that torchvision's
#: ResNet-50 weights expect.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

_NORMALIZE = {
    "imagenet": (IMAGENET_MEAN, IMAGENET_STD),
    "gta": ((GTA_MEAN,) * 3, (GTA_STD,) * 3),
}

#: Constraints of the parameters that every image loader takes.
_COMMON_CONSTRAINTS = {
    "features": [StrOptions({"pixels", "resnet50"}), None],
    "weights": [str, os.PathLike, Mapping, None],
    "image_size": [Interval(Integral, 1, None, closed="left")],
    "center_crop": ["boolean"],
    "normalize": [StrOptions(set(_NORMALIZE)), None],
    "batch_size": [Interval(Integral, 1, None, closed="left")],
    "device": "no_validation",  # str or torch.device; torch is imported only to run
    "return_X_y": ["boolean"],
}
_ROOT_CONSTRAINTS = {
    "root": [str, os.PathLike, None],
    "data_home": [str, os.PathLike, None],
}

_COMMON_PARAMETERS = """\
    features : {None, "pixels", "resnet50"}, default=None
        What ``data`` holds.  ``None``: the image file names (nothing is
        decoded).  ``"pixels"``: float32 images ``(n, 3, image_size,
        image_size)``.  ``"resnet50"``: float32 ``(n, 2048)`` pooled
        features of a ResNet-50 with the weights of ``weights`` (in eval mode;
        the images are normalised with the ImageNet statistics whatever
        ``normalize`` says).
    weights : str, path-like or mapping, default=None
        torchvision-format ResNet-50 weights, as a local file or a state
        dict; required by ``features="resnet50"``.  Never downloaded.
    image_size : int, default=224
        Side of the square images fed to the network or returned.
    center_crop : bool, default=True
        True: resize the shorter side to ``round(image_size * 256 / 224)``
        and take the central ``image_size`` square (torchvision's ImageNet
        evaluation transform at 224).  False: resize the whole image to
        ``image_size x image_size``.
    normalize : {"imagenet", "gta", None}, default="imagenet"
        Per-channel normalisation of ``features="pixels"`` after scaling to
        [0, 1]: ImageNet mean/std, GTA's 0.44/0.19, or none.
    batch_size : int, default=32
        Images decoded (and passed through the network) at a time.
    device : str or torch.device, default="cpu"
        Where the network runs.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch."""

_RETURNS = """\
    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the attributes:

        data : ndarray
            File names, pixels or features (see ``features``).
        target : ndarray of shape (n_samples,), dtype int64
            Class labels.
        target_names : ndarray
            Class names in label order.
        filenames : ndarray of shape (n_samples,)
            Full path of each image, in row order.
        DESCR : str
            Description.

    (data, target) : tuple of ndarray
        Returned instead when ``return_X_y`` is True."""


def _with_common_docs(function):
    function.__doc__ = function.__doc__.replace("    {common}", _COMMON_PARAMETERS).replace(
        "    {returns}", _RETURNS
    )
    return function


def _import_pil():
    try:
        from PIL import Image
    except ImportError as exc:
        raise ImportError(
            "Decoding images needs Pillow, which is not installed: pip install pillow. "
            "(features=None lists the files without it.)"
        ) from exc
    return Image


def _check_weights_given(features, weights):
    """Raise if ``features="resnet50"`` comes without weights (a cross-parameter check)."""
    if features == "resnet50" and weights is None:
        raise ValueError(
            "features='resnet50' needs weights: the path of a local torchvision resnet50 "
            "state dict (skntl never downloads weights)."
        )


def _decode(Image, path, image_size, center_crop):
    """Decode an RGB image as float32 (3, image_size, image_size) in [0, 1]."""
    try:
        with Image.open(path) as image:
            image = image.convert("RGB")
            if center_crop:
                width, height = image.size
                short = round(image_size * 256 / 224)
                scale = short / min(width, height)
                size = (max(short, round(width * scale)), max(short, round(height * scale)))
                image = image.resize(size, Image.Resampling.BILINEAR)
                left = (size[0] - image_size) // 2
                top = (size[1] - image_size) // 2
                image = image.crop((left, top, left + image_size, top + image_size))
            else:
                image = image.resize((image_size, image_size), Image.Resampling.BILINEAR)
            pixels = np.asarray(image, dtype=np.float32)
    except (OSError, ValueError, SyntaxError) as exc:  # UnidentifiedImageError is an OSError
        raise OSError(
            f"Could not read the image {path}: {type(exc).__name__}: {exc}. The file is "
            "corrupted or not an image; remove or replace it."
        ) from exc
    return pixels.transpose(2, 0, 1) / np.float32(255)


def _normalise(batch, normalize):
    if normalize is None:
        return batch
    mean, std = (np.asarray(v, dtype=np.float32)[:, None, None] for v in _NORMALIZE[normalize])
    return (batch - mean) / std


def _images_to_data(paths, features, weights, image_size, center_crop, normalize, batch_size,
                    device):  # fmt: skip
    """Decode ``paths`` in batches into pixels or ResNet-50 features."""
    if features is None:
        return np.asarray([str(p) for p in paths])
    Image = _import_pil()
    if features == "pixels":
        out = np.empty((len(paths), 3, image_size, image_size), dtype=np.float32)
        for start in range(0, len(paths), batch_size):
            batch = [_decode(Image, p, image_size, center_crop)
                     for p in paths[start : start + batch_size]]  # fmt: skip
            out[start : start + len(batch)] = _normalise(np.stack(batch), normalize)
        return out

    import torch

    from ..deep._resnet import resnet50

    device = torch.device(device)
    model = resnet50(weights, features_only=True).to(device).eval()
    out = np.empty((len(paths), model.out_features), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, len(paths), batch_size):
            batch = [_decode(Image, p, image_size, center_crop)
                     for p in paths[start : start + batch_size]]  # fmt: skip
            x = torch.from_numpy(_normalise(np.stack(batch), "imagenet")).to(device)
            out[start : start + len(batch)] = model(x).cpu().numpy()
    return out


def _is_image(path):
    return path.suffix.lower() in IMG_EXTENSIONS and not path.name.startswith(".")


def _scan_folder(root, classes):
    """``(paths, labels, class_names)`` of an ImageFolder-style tree."""
    root = Path(root).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"Image folder {root} does not exist (or is not a folder).")
    if classes is None:
        classes = sorted(
            d.name for d in root.iterdir() if d.is_dir() and not d.name.startswith(".")
        )
        if not classes:
            raise FileNotFoundError(
                f"{root} holds no class sub-folders; expected one folder per class "
                "(root/<class>/<image>)."
            )
    else:
        classes = list(classes)
        if not classes or not all(isinstance(c, str) for c in classes):
            raise ValueError(f"classes must be a non-empty list of folder names; got {classes!r}.")
        if len(set(classes)) != len(classes):
            raise ValueError("classes must not contain duplicates.")
        missing = [c for c in classes if not (root / c).is_dir()]
        if missing:
            raise FileNotFoundError(
                f"{root} lacks the class folder(s) {missing[:10]}"
                f"{' ...' if len(missing) > 10 else ''} ({len(missing)} of {len(classes)})."
            )
    paths, labels, empty = [], [], []
    for label, name in enumerate(classes):
        found = sorted(
            (Path(d) / f for d, _, files in os.walk(root / name, followlinks=True) for f in files),
            key=str,
        )
        found = [p for p in found if _is_image(p)]
        if not found:
            empty.append(name)
        paths.extend(found)
        labels.extend([label] * len(found))
    if empty:
        raise FileNotFoundError(
            f"No image files ({', '.join(IMG_EXTENSIONS)}) in the class folder(s) "
            f"{empty[:10]} under {root}."
        )
    return paths, np.asarray(labels, dtype=np.int64), np.asarray(classes)


def _bunch(paths, labels, class_names, data, description, return_X_y):
    if return_X_y:
        return data, labels
    return Bunch(
        data=data,
        target=labels,
        target_names=class_names,
        filenames=np.asarray([str(p) for p in paths]),
        DESCR=description,
    )


@validate_params(
    {"root": [str, os.PathLike], "classes": ["array-like", None], **_COMMON_CONSTRAINTS},
    prefer_skip_nested_validation=True,
)
@_with_common_docs
def load_image_folder(
    root,
    *,
    classes=None,
    features=None,
    weights=None,
    image_size=224,
    center_crop=True,
    normalize="imagenet",
    batch_size=32,
    device="cpu",
    return_X_y=False,
):
    """Load an ImageFolder-style tree: ``root/<class>/<image>``, one folder per class.

    Images are found recursively inside each class folder (suffixes in
    ``IMG_EXTENSIONS``, any case) and sorted by path; class ``i`` is the
    ``i``-th of ``classes``.

    Parameters
    ----------
    root : str or path-like
        Folder with one sub-folder per class.
    classes : list of str, default=None
        Class folders to read, in label order.  ``None``: every sub-folder,
        sorted by name (torchvision's order).
    {common}

    {returns}

    Raises
    ------
    FileNotFoundError
        If ``root`` or a class folder is missing, or a class folder holds no image.
    OSError
        If an image cannot be decoded; the message names the file.
    ImportError
        If Pillow is needed and not installed.

    See Also
    --------
    load_image_list : Images listed in a ``path label`` text file.

    Examples
    --------
    >>> from skntl.datasets import load_image_folder
    >>> amazon = load_image_folder("office31/amazon/images")  # doctest: +SKIP
    >>> len(amazon.target_names)  # doctest: +SKIP
    31
    """
    _check_weights_given(features, weights)
    paths, labels, class_names = _scan_folder(root, classes)
    data = _images_to_data(paths, features, weights, image_size, center_crop, normalize,
                           batch_size, device)  # fmt: skip
    description = (
        f"Image folder {root}: {len(paths)} images in {len(class_names)} classes; "
        f"features={features!r}."
    )
    return _bunch(paths, labels, class_names, data, description, return_X_y)


@validate_params(
    {
        "root": [str, os.PathLike],
        "list_file": [str, os.PathLike],
        "target_names": ["array-like", None],
        **_COMMON_CONSTRAINTS,
    },
    prefer_skip_nested_validation=True,
)
@_with_common_docs
def load_image_list(
    root,
    list_file,
    *,
    target_names=None,
    features=None,
    weights=None,
    image_size=224,
    center_crop=True,
    normalize="imagenet",
    batch_size=32,
    device="cpu",
    return_X_y=False,
):
    """Load the images listed in a text file of ``<relative path> <integer label>`` lines.

    The format of the list files of DA code bases (e.g. PADA's Office-Home
    lists, VisDA-2017's ``image_list.txt``, MNIST-M's labels file).  Blank
    lines are skipped; the path is everything before the last space.

    Parameters
    ----------
    root : str or path-like
        Folder that the paths in the list are relative to.
    list_file : str or path-like
        The list.
    target_names : list of str, default=None
        Class names in label order.  ``None``: ``np.arange(max_label + 1)``.
    {common}

    {returns}

    Raises
    ------
    FileNotFoundError
        If the list or a listed image is missing.
    ValueError
        If a line has no integer label, or a label is out of ``target_names``.
    OSError
        If an image cannot be decoded.

    Examples
    --------
    >>> from skntl.datasets import load_image_list
    >>> test = load_image_list("visda2017/test", "visda2017/test/image_list.txt",
    ...                        features=None)  # doctest: +SKIP
    """
    _check_weights_given(features, weights)
    root, list_file = Path(root).expanduser(), Path(list_file).expanduser()
    if not list_file.is_file():
        raise FileNotFoundError(f"Image list {list_file} does not exist.")
    paths, labels = [], []
    with open(list_file, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            line = line.strip()
            if not line:
                continue
            relative, _, label = line.rpartition(" ")
            try:
                value = int(label)
            except ValueError:
                value = None
            if not relative.strip() or value is None or value < 0:
                raise ValueError(
                    f"{list_file}, line {number}: expected '<relative path> <label>' with a "
                    f"non-negative integer label; got {line!r}."
                )
            paths.append(root / relative.strip())
            labels.append(value)
    if not paths:
        raise ValueError(f"Image list {list_file} lists no image.")
    labels = np.asarray(labels, dtype=np.int64)
    if target_names is None:
        target_names = np.arange(labels.max() + 1)
    else:
        target_names = np.asarray(target_names)
        if labels.max() >= len(target_names):
            raise ValueError(
                f"{list_file} has label {labels.max()} but target_names has only "
                f"{len(target_names)} names."
            )
    missing = [p for p in paths if not p.is_file()]
    if missing:
        raise FileNotFoundError(
            f"{len(missing)} image(s) listed in {list_file} do not exist, e.g. {missing[0]}."
        )
    data = _images_to_data(paths, features, weights, image_size, center_crop, normalize,
                           batch_size, device)  # fmt: skip
    description = (
        f"Image list {list_file} (root {root}): {len(paths)} images, "
        f"{len(np.unique(labels))} classes; features={features!r}."
    )
    return _bunch(paths, labels, target_names, data, description, return_X_y)


def _dataset_root(root, data_home, folder):
    if root is not None:
        return Path(root).expanduser(), "the root argument"
    home, origin = _resolve_data_home(data_home)
    return home / folder, f"the data home {home} (from {origin})"


def _first_existing(candidates, what, origin):
    return _find_first(
        candidates,
        Path.is_dir,
        f"the {what}",
        f"(taken from {origin}). Pass root= (the extracted dataset folder), or data_home= / "
        "set the SKNTL_DATA environment variable to the folder that holds it.",
    )


_OFFICE31_DOMAINS = ("amazon", "dslr", "webcam")


@validate_params(
    {"domain": [str], **_ROOT_CONSTRAINTS, **_COMMON_CONSTRAINTS},
    prefer_skip_nested_validation=True,
)
@_with_common_docs
def load_office31_images(domain, *, root=None, data_home=None, features=None, weights=None,
                         image_size=224, center_crop=True, normalize="imagenet", batch_size=32,
                         device="cpu", return_X_y=False):  # fmt: skip
    """Load one Office-31 domain from its image folders (Saenko et al., ECCV 2010).

    Reads ``<root>/<domain>/images/<class>/*.jpg``, the layout of the
    ``domain_adaptation_images.tar.gz`` archive (``<root>/<domain>/<class>``
    is accepted too).  The 31 classes are labelled 0..30 in alphabetical
    order, as in :func:`load_office31_features`.

    Parameters
    ----------
    domain : {"amazon", "dslr", "webcam"}
        The domain; ``"A"``, ``"D"``, ``"W"`` are accepted too.
    root : str or path-like, default=None
        The extracted archive's folder (holding ``amazon/``, ``dslr/``,
        ``webcam/``).  ``None``: ``<data home>/office31``.
    data_home : str or path-like, default=None
        Used when ``root`` is None; overrides ``SKNTL_DATA``.
    {common}

    {returns}

    Raises
    ------
    FileNotFoundError
        If the domain folder or a class folder is missing; the message says
        where it looked and how to point skntl to the data.

    Examples
    --------
    >>> from skntl.datasets import load_office31_images
    >>> X, y = load_office31_images("webcam", root="~/office31", features="resnet50",
    ...                             weights="~/resnet50-0676ba61.pth",
    ...                             return_X_y=True)  # doctest: +SKIP
    """
    aliases = {**{d: d for d in _OFFICE31_DOMAINS}, **{d[0]: d for d in _OFFICE31_DOMAINS}}
    domain = _resolve_alias(domain, "domain", _OFFICE31_DOMAINS, aliases)
    _check_weights_given(features, weights)
    base, origin = _dataset_root(root, data_home, "office31")
    folder = _first_existing([base / domain / "images", base / domain],
                             f"Office-31 {domain} image folder", origin)  # fmt: skip
    bunch = load_image_folder(
        folder, classes=OFFICE31_CLASSES, features=features, weights=weights,
        image_size=image_size, center_crop=center_crop, normalize=normalize,
        batch_size=batch_size, device=device, return_X_y=return_X_y,
    )  # fmt: skip
    if not return_X_y:
        bunch.domain = domain
    return bunch


_OFFICE_HOME_DOMAINS = {
    "art": ("Art",),
    "clipart": ("Clipart",),
    "product": ("Product",),
    "real_world": ("Real World", "Real_World", "RealWorld", "Real-World"),
}
_OFFICE_HOME_ALIASES = {
    **{d: d for d in _OFFICE_HOME_DOMAINS},
    "ar": "art", "cl": "clipart", "pr": "product", "rw": "real_world",
    "real world": "real_world", "realworld": "real_world", "real-world": "real_world",
}  # fmt: skip


@validate_params(
    {
        "domain": [str],
        "n_classes": [Interval(Integral, 1, len(OFFICE_HOME_CLASSES), closed="both"), None],
        **_ROOT_CONSTRAINTS,
        **_COMMON_CONSTRAINTS,
    },
    prefer_skip_nested_validation=True,
)
@_with_common_docs
def load_office_home_images(domain, *, n_classes=25, root=None, data_home=None, features=None,
                            weights=None, image_size=224, center_crop=True,
                            normalize="imagenet", batch_size=32, device="cpu",
                            return_X_y=False):  # fmt: skip
    """Load one Office-Home domain (Venkateswara et al., CVPR 2017) from its image folders.

    Reads ``<root>/<Domain>/<Class>/*.jpg``, the layout of
    ``OfficeHomeDataset_10072016.zip``.  The paper uses only the first 25
    classes in alphabetical order (Alarm_Clock ... Fork) for both source and
    target (:ref:`decision D24 <decision-d24>`), which is the default;
    labels are 0..24 in that order.

    Parameters
    ----------
    domain : {"art", "clipart", "product", "real_world"}
        The domain; ``"Ar"``, ``"Cl"``, ``"Pr"``, ``"Rw"`` are accepted too.
        The Real World folder may be spelt ``Real World``, ``Real_World``,
        ``RealWorld`` or ``Real-World``.
    n_classes : int or None, default=25
        Keep the first ``n_classes`` of the 65 classes in alphabetical order;
        ``None`` keeps all 65.
    root : str or path-like, default=None
        The folder holding the domain folders (or holding
        ``OfficeHomeDataset_10072016/``).  ``None``: ``<data home>/office_home``.
    data_home : str or path-like, default=None
        Used when ``root`` is None; overrides ``SKNTL_DATA``.
    {common}

    {returns}

    Raises
    ------
    FileNotFoundError
        If the domain folder or one of the selected class folders is missing.

    Examples
    --------
    >>> from skntl.datasets import load_office_home_images
    >>> rw = load_office_home_images("Rw", root="~/OfficeHome")  # doctest: +SKIP
    >>> len(rw.target_names)  # doctest: +SKIP
    25
    """
    domain = _resolve_alias(domain, "domain", tuple(_OFFICE_HOME_DOMAINS), _OFFICE_HOME_ALIASES,
                            extra=" (or 'Ar', 'Cl', 'Pr', 'Rw')")  # fmt: skip
    _check_weights_given(features, weights)
    base, origin = _dataset_root(root, data_home, "office_home")
    candidates = [b / name for b in (base, base / "OfficeHomeDataset_10072016")
                  for name in _OFFICE_HOME_DOMAINS[domain]]  # fmt: skip
    folder = _first_existing(candidates, f"Office-Home {domain} image folder", origin)
    classes = sorted(OFFICE_HOME_CLASSES)[: n_classes or len(OFFICE_HOME_CLASSES)]
    bunch = load_image_folder(
        folder, classes=classes, features=features, weights=weights, image_size=image_size,
        center_crop=center_crop, normalize=normalize, batch_size=batch_size, device=device,
        return_X_y=return_X_y,
    )  # fmt: skip
    if not return_X_y:
        bunch.domain = domain
    return bunch


@validate_params(
    {
        "split": [StrOptions({"train", "validation", "test"})],
        **_ROOT_CONSTRAINTS,
        "list_file": [str, os.PathLike, None],
        **_COMMON_CONSTRAINTS,
    },
    prefer_skip_nested_validation=True,
)
@_with_common_docs
def load_visda_images(split="train", *, root=None, data_home=None, list_file=None,
                      features=None, weights=None, image_size=224, center_crop=True,
                      normalize="imagenet", batch_size=32, device="cpu",
                      return_X_y=False):  # fmt: skip
    """Load a VisDA-2017 classification split (Peng et al., 2017).

    ``"train"`` (152,397 synthetic renderings, the paper's source) and
    ``"validation"`` (55,388 real COCO crops) are read as class folders
    ``<root>/<split>/<class>/``.  ``"test"`` (72,372 real YouTube-BB crops,
    the paper's target, :ref:`decision D29 <decision-d29>`) has no class
    folders: its images are read from
    the labelled list ``<root>/test/image_list.txt`` (``path label`` lines,
    the ground truth released after the challenge), or from ``list_file``.
    Labels 0..11 follow the 12 class names in alphabetical order.

    Parameters
    ----------
    split : {"train", "validation", "test"}, default="train"
        The split.
    root : str or path-like, default=None
        Folder holding ``train/``, ``validation/`` and ``test/``.  ``None``:
        ``<data home>/visda2017``.
    data_home : str or path-like, default=None
        Used when ``root`` is None; overrides ``SKNTL_DATA``.
    list_file : str or path-like, default=None
        A labelled list to use instead of the class folders (any split); its
        paths are relative to ``<root>/<split>``.
    {common}

    {returns}

    Raises
    ------
    FileNotFoundError
        If the split folder, a class folder or the list is missing.

    Examples
    --------
    >>> from skntl.datasets import load_visda_images
    >>> synthetic = load_visda_images("train", root="~/visda2017")  # doctest: +SKIP
    """
    _check_weights_given(features, weights)
    base, origin = _dataset_root(root, data_home, "visda2017")
    folder = _first_existing([base / split], f"VisDA-2017 {split} folder", origin)
    common = dict(features=features, weights=weights, image_size=image_size,
                  center_crop=center_crop, normalize=normalize, batch_size=batch_size,
                  device=device, return_X_y=return_X_y)  # fmt: skip
    if list_file is None and split == "test":
        list_file = folder / "image_list.txt"
    if list_file is not None:
        bunch = load_image_list(folder, list_file, target_names=VISDA_CLASSES, **common)
    else:
        bunch = load_image_folder(folder, classes=VISDA_CLASSES, **common)
    if not return_X_y:
        bunch.split = split
    return bunch
