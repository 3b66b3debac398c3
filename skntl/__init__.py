"""skntl: measure and avoid negative transfer, scikit-learn style.

An implementation of Wang, Dai, Póczos and Carbonell, *Characterizing and
Avoiding Negative Transfer* (CVPR 2019).
"""

from ._data import pack, unpack
from .base import TransferMixin, fit_target_only
from .conventional import KMM, TCA
from .deep import DANN
from .model_selection import TargetSplit, split_target

__version__ = "0.1.0.dev0"

__all__ = [
    "DANN",
    "KMM",
    "TCA",
    "TargetSplit",
    "TransferMixin",
    "fit_target_only",
    "pack",
    "split_target",
    "unpack",
]
