"""Test-session setup shared by tests/ and the doctests in skntl/."""

import os

# scikit-learn >= 1.8 runs check_array_api_input (NumPy namespace) in
# check_estimator and skips it unless SciPy's array-API mode is on; it must be
# set before SciPy is first imported, so it is set here, not in a test.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

# The test networks are tiny: one BLAS/torch thread is as fast as two and
# avoids oversubscribing the two CI cores when BLAS and torch both spin.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
