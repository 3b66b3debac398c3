"""Dataset loaders for domain-adaptation benchmarks.

Loaders read from one data folder, resolved by :func:`get_data_home` (the
``data_home`` argument, else the ``SKNTL_DATA`` environment variable, else
``~/skntl_data``).  Office-Caltech10 SURF features are also bundled with the
package, so :func:`load_office_caltech` works without any data folder.
"""

from ._base import get_data_home
from ._office import load_office_caltech

__all__ = ["get_data_home", "load_office_caltech"]
