"""Deep transfer methods on torch + skorch, each with the discriminator gate."""

from .dann import DANN
from .engine import TransferNet, paper_preset
from .gate import GATE_VARIANTS, GateSpec, gate_step
from .modules import MLP, Discriminator, GradientReversal, LeNet, ResNet50, TransferModule

__all__ = [
    "DANN",
    "GATE_VARIANTS",
    "Discriminator",
    "GateSpec",
    "GradientReversal",
    "LeNet",
    "MLP",
    "ResNet50",
    "TransferModule",
    "TransferNet",
    "gate_step",
    "paper_preset",
]
