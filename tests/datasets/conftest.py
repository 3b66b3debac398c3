"""Fixtures for the dataset tests: the shared benchmark data folder."""

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def shared_data_home():
    """The shared real-data folder named by ``SKNTL_DATA`` (``shared/data``).

    Skips when it is unset or missing, except in CI (``CI=true``), where a test
    that needs the real data must fail loudly instead of silently skipping.
    """
    value = os.environ.get("SKNTL_DATA", "")
    if not value:
        reason = "SKNTL_DATA is not set"
    elif not Path(value).expanduser().is_dir():
        reason = f"SKNTL_DATA={value!r} is not an existing folder"
    else:
        return Path(value).expanduser()
    message = (
        f"{reason}; SKNTL_DATA must point to the shared benchmark data folder "
        "(shared/data, the one holding office_caltech10/)."
    )
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(message)
    pytest.skip(message)
