"""Internal utilities (nothing here is public API)."""

__all__ = []
