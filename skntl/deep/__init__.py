"""Deep transfer methods on torch + skorch, each with the discriminator gate."""

from .adda import ADDA
from .coral import DeepCORAL
from .dan import DAN
from .dann import DANN
from .engine import TransferNet, paper_preset
from .gate import GATE_VARIANTS, GateSpec, gate_step
from .gta import GTA
from .modules import MLP, Discriminator, GradientReversal, LeNet, ResNet50, TransferModule
from .pada import PADA

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
    "TransferModule",
    "TransferNet",
    "gate_step",
    "paper_preset",
]
