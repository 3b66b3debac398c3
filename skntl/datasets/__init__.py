"""Datasets for transfer learning: benchmark loaders, downloaders and synthetic makers.

Loaders read from one data folder, resolved by :func:`get_data_home` (the
``data_home`` argument, else the ``SKNTL_DATA`` environment variable, else
``~/skntl_data``); nothing is downloaded except by the ``fetch_*``
functions, which check every file's SHA-256.  Office-Caltech10 SURF features
are also bundled with the package, so :func:`load_office_caltech` works
without any data folder.

* Digits: :func:`load_digits_domain`, :func:`load_digits_pair` (MNIST, USPS,
  MNIST-M, SVHN, the JDA MNIST/USPS benchmark) and
  :func:`load_torchvision_digits` (torchvision's download folders).
* Office features: :func:`load_office_caltech` (SURF, DeCAF6) and
  :func:`load_office31_features` (ImageNet ResNet-50).
* Image folders: :func:`load_image_folder`, :func:`load_image_list`,
  :func:`load_office31_images`, :func:`load_office_home_images`,
  :func:`load_visda_images`, with optional ResNet-50 feature extraction.
* Downloads: :func:`fetch_mnist`, :func:`fetch_usps`, :func:`fetch_svhn`,
  :func:`fetch_mnist_usps_jda`, :func:`fetch_office_caltech`,
  :func:`fetch_office31_features`.
* Synthetic: :func:`make_transfer_blobs`.
"""

from ._base import get_data_home
from ._digits import load_digits_domain, load_digits_pair, load_torchvision_digits
from ._fetch import (
    fetch_mnist,
    fetch_mnist_usps_jda,
    fetch_office31_features,
    fetch_office_caltech,
    fetch_svhn,
    fetch_usps,
)
from ._folders import (
    load_image_folder,
    load_image_list,
    load_office31_images,
    load_office_home_images,
    load_visda_images,
)
from ._office import load_office_caltech
from ._office31 import load_office31_features
from ._samples_generator import make_transfer_blobs

__all__ = [
    "fetch_mnist",
    "fetch_mnist_usps_jda",
    "fetch_office31_features",
    "fetch_office_caltech",
    "fetch_svhn",
    "fetch_usps",
    "get_data_home",
    "load_digits_domain",
    "load_digits_pair",
    "load_image_folder",
    "load_image_list",
    "load_office31_features",
    "load_office31_images",
    "load_office_caltech",
    "load_office_home_images",
    "load_torchvision_digits",
    "load_visda_images",
    "make_transfer_blobs",
]
