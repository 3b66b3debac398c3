"""Deep transfer methods on torch + skorch, each with the discriminator gate."""

from .adda import ADDA
from .coral import DeepCORAL
from .dan import DAN
from .dann import DANN
from .engine import TransferNet
from .gate import GATE_VARIANTS, GateSpec, gate_step
from .gta import GTA
from .modules import MLP, Discriminator, GradientReversal, LeNet, ResNet50, TransferModule
from .pada import PADA
from .presets import paper_preset
from .streams import StreamIterator, TransferBatch, TransferDataset

__all__ = [
    "ADDA",
    "DAN",
    "DANN",
    "GATE_VARIANTS",
    "GTA",
    "DeepCORAL",
    "Discriminator",
    "GateSpec",
    "GradientReversal",
    "LeNet",
    "MLP",
    "PADA",
    "ResNet50",
    "StreamIterator",
    "TransferBatch",
    "TransferDataset",
    "TransferModule",
    "TransferNet",
    "gate_step",
    "paper_preset",
]
