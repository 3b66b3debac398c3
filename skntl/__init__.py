"""skntl: measure and avoid negative transfer, scikit-learn style.

An implementation of Wang, Dai, Póczos and Carbonell, *Characterizing and
Avoiding Negative Transfer* (CVPR 2019).
"""

from ._data import pack, unpack
from .audit import audit_source, audit_summary, plot_source_audit
from .base import TransferMixin, fit_target_only
from .conventional import KMM, TCA
from .metrics import (
    NegativeTransferGap,
    ShouldTransferResult,
    neg_ntg_scorer,
    negative_transfer_gap,
    should_transfer,
)
from .model_selection import TargetSplit, split_target
from .perturbation import PerturbedSource, SourcePerturbation, perturb_source
from .safe import SafeTransfer

__version__ = "0.1.0.dev0"

# The deep methods need torch, whose import takes seconds: load them on first use,
# so that ``import skntl`` for TCA, KMM or the NTG tools does not pay for it.
_DEEP = ("ADDA", "DAN", "DANN", "DeepCORAL", "GTA", "PADA")


def __getattr__(name):
    if name in _DEEP:
        from . import deep

        return getattr(deep, name)
    raise AttributeError(f"module 'skntl' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_DEEP))

__all__ = [
    "ADDA",
    "DAN",
    "DANN",
    "DeepCORAL",
    "GTA",
    "KMM",
    "NegativeTransferGap",
    "PADA",
    "PerturbedSource",
    "SafeTransfer",
    "ShouldTransferResult",
    "SourcePerturbation",
    "TCA",
    "TargetSplit",
    "TransferMixin",
    "audit_source",
    "audit_summary",
    "fit_target_only",
    "neg_ntg_scorer",
    "negative_transfer_gap",
    "pack",
    "perturb_source",
    "plot_source_audit",
    "should_transfer",
    "split_target",
    "unpack",
]
