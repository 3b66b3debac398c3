"""Fixtures for the deep-method tests: small synthetic problems and a small network.

The generators are handed out as session-scoped fixtures returning functions, so
a test (or a module-scoped fixture) calls them with its own sizes and seed:
``make_data(n_s=24)``, ``make_problem(eps_y=0.0)``. Tests cannot import this file
(pytest runs with ``--import-mode=importlib``).
"""

import numpy as np
import pytest


def _toy_data(seed=0, n_s=90, n_t=60, d=4, k=3):
    """K well-separated Gaussian classes in d dimensions, the target shifted by +0.5.

    Returns ``Xs, ys, Xl, yl, Xu, Xte, yte``: the source, the first 15 target rows
    labeled, the first 30 unlabeled and the rest held out.
    """
    rng = np.random.RandomState(seed)
    centers = rng.randn(k, d) * 3
    ys = np.arange(n_s) % k
    Xs = centers[ys] + rng.randn(n_s, d)
    yt = np.arange(n_t) % k
    Xt = centers[yt] + rng.randn(n_t, d) + 0.5
    return Xs, ys, Xt[:15], yt[:15], Xt[:30], Xt[30:], yt[30:]


def _noisy_label_problem(seed=0, n_s=2000, n_t=600, k=4, d=5, eps_y=0.5, labeled=0.2):
    """A learnable problem whose source labels are redrawn at random with probability eps_y.

    K Gaussian classes in d dimensions, the target shifted by +1 in every
    coordinate; the first half of the target is the training half, ``labeled``
    of it labeled. Returns a dict with ``Xs, ys`` (noisy), ``ys_true``, ``wrong``
    (the rows whose label changed), ``Xl, yl, Xu, Xte, yte``.
    """
    rng = np.random.RandomState(seed)
    centers = rng.randn(k, d) * 3
    ys = rng.randint(k, size=n_s)
    Xs = centers[ys] + rng.randn(n_s, d)
    yt = rng.randint(k, size=n_t)
    Xt = centers[yt] + rng.randn(n_t, d) + 1.0
    redrawn = rng.rand(n_s) < eps_y
    ys_noisy = ys.copy()
    ys_noisy[redrawn] = rng.randint(k, size=redrawn.sum())
    n_tr = n_t // 2
    n_l = int(labeled * n_tr)
    return dict(
        Xs=Xs, ys=ys_noisy, ys_true=ys, wrong=ys_noisy != ys,
        Xl=Xt[:n_l], yl=yt[:n_l], Xu=Xt[:n_tr], Xte=Xt[n_tr:], yte=yt[n_tr:],
    )


@pytest.fixture(scope="session")
def make_data():
    """The small 3-class toy transfer split: ``make_data(seed=0, n_s=90, n_t=60, d=4, k=3)``.

    Returns the 7-tuple ``Xs, ys, Xl, yl, Xu, Xte, yte``.
    """
    return _toy_data


@pytest.fixture(scope="session")
def make_problem():
    """The noisy-label problem of the gate tests (a dict; see ``_noisy_label_problem``).

    ``make_problem(seed=0, n_s=2000, n_t=600, k=4, d=5, eps_y=0.5, labeled=0.2)``.
    """
    return _noisy_label_problem


@pytest.fixture
def small_net():
    """Small-network parameters for the deep estimators: seconds, not minutes (a fresh dict)."""
    return dict(hidden_layer_sizes=(16, 8), discriminator_hidden=(16,), lr=1e-2)
