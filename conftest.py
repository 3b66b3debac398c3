"""Test-session setup shared by tests/ and the doctests in skntl/."""

import os
import sys

import pytest

# scikit-learn >= 1.8 runs check_array_api_input (NumPy namespace) in
# check_estimator and skips it unless SciPy's array-API mode is on; it must be
# set before SciPy is first imported, so it is set here, not in a test.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

# The test networks are tiny: one BLAS/torch thread is as fast as two and
# avoids oversubscribing the two CI cores when BLAS and torch both spin.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


@pytest.fixture
def one_thread():
    """One BLAS thread and, when torch is loaded, one torch intra-op thread.

    For tests of many tiny fits or forward passes: on 2 shared cores, threads
    spinning against each other made them 3-7x slower than one thread. Use it
    with ``pytestmark = pytest.mark.usefixtures("one_thread")`` or as an argument.
    torch is only limited if the test module has imported it (importing it here
    would cost every other test its import time).
    """
    from threadpoolctl import threadpool_limits

    torch = sys.modules.get("torch")
    previous = torch.get_num_threads() if torch is not None else None
    if torch is not None:
        torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1, user_api="blas"):
            yield
    finally:
        if torch is not None:
            torch.set_num_threads(previous)
