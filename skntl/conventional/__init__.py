"""Conventional (non-deep) transfer methods: TCA and KMM."""

from .kmm import KMM
from .tca import TCA

__all__ = ["KMM", "TCA"]
