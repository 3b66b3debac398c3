"""A fixture results store written record by record (no fitting): known inputs for the tables."""

import shutil

import numpy as np
import pytest

from skntl.experiments import ResultsStore, Run


def _record(acc, **extra):
    return dict(status="ok", error=None, host="test", accuracy=acc, fit_time=0.1,
                collapsed=bool(acc < 0.25), **extra)


@pytest.fixture(scope="session")
def _fixture_store_file(tmp_path_factory):
    """The store behind ``fixture_store``, written once: ~300 one-transaction writes take ~1 s."""
    rng = np.random.RandomState(0)
    store = ResultsStore(tmp_path_factory.mktemp("fixture_store") / "fixture.sqlite")
    for task in ("surf:C->A", "decaf6:W->D"):
        for seed in range(3):
            for ratio in (0.1, 0.3):
                twin = Run(task, "DANN", "twin", labeled_ratio=ratio, seed=seed)
                store.write(twin, _record(rng.uniform(0.3, 0.6)))
                labeled_only = Run(task, "DANN", "labeled_only", labeled_ratio=ratio, seed=seed)
                store.write(labeled_only, _record(rng.uniform(0.3, 0.6)))
                for eps in (0.3, 0.7):
                    runs = [Run(task, "DANN", "transfer", gate=g, gate_variant=v, eps_x=eps,
                                eps_y=eps, labeled_ratio=ratio, seed=seed)
                            for g, v in ((False, "full"), (True, "default"), (True, "joint"))]
                    runs.append(Run(task, "DANN", "oracle", eps_x=eps, eps_y=eps,
                                    labeled_ratio=ratio, seed=seed))
                    for run in runs:
                        d = dict(d_clean=rng.uniform(0.4, 0.7), d_perturbed=rng.uniform(0.1, 0.4),
                                 omega_clean=rng.uniform(1, 2), omega_perturbed=rng.uniform(0, 1))
                        store.write(run, _record(rng.uniform(0.2, 0.9), **d))
            for eps in (0.3, 0.7):
                store.write(Run(task, "DANN", "source_only", eps_x=eps, eps_y=eps,
                                labeled_ratio=0.0, seed=seed), _record(rng.uniform(0.1, 0.5)))
    store.write(Run("surf:C->A", "DANN", "transfer", seed=9),
                dict(status="error", error="Traceback...\nValueError: boom", host="test"))
    return store.path


@pytest.fixture
def fixture_store(_fixture_store_file, tmp_path):
    """DANN ± gate on two tasks, 2 ε × 2 L% × 3 seeds, twins, variants, oracle, Net_S/T.

    Accuracies are drawn at random (seeded) so that every cell differs; the
    tests recompute the expected table cells from these same numbers. Each test
    gets its own copy of the file (and its own empty artifacts folder) to write to.
    """
    path = tmp_path / "fixture.sqlite"
    shutil.copyfile(_fixture_store_file, path)
    return ResultsStore(path)
