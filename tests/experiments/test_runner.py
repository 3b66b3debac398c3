import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from joblib import parallel_config

from skntl.experiments import ResultsStore, expand_spec, load_results, run_spec

# Each test runs a grid of real fits (subprocesses, a dask cluster): 1-12 s each.
# test_cli.py::test_run_with_another_joblib_backend keeps a fast run of the runner.
pytestmark = pytest.mark.slow

# TCA fits on the smallest bundled SURF pairs (dslr 157 rows, webcam 295) take ~0.1 s each.
QUICK = {"name": "quick", "seeds": 4, "params": {"TCA": {"n_components": 10}},
         "grid": [{"tasks": ["surf:D->W", "surf:W->D"], "methods": ["TCA"], "eps": 0.5}]}
# Enough runs (48) that the grid is still going when the test kills it.
LONGER = dict(QUICK, seeds=12)


def _rows(path):
    con = sqlite3.connect(path)
    try:
        return con.execute("SELECT run_id, status FROM runs").fetchall()
    finally:
        con.close()


def test_grid_killed_with_sigkill_resumes_with_every_run_exactly_once(tmp_path):
    store = tmp_path / "kill.sqlite"
    script = tmp_path / "grid.py"
    script.write_text(textwrap.dedent(f"""
        import sys
        from skntl.experiments import run_spec
        run_spec({LONGER!r}, sys.argv[1], n_jobs=1, n_threads=1, progress=False)
    """))
    expected = {r.run_id for r in expand_spec(LONGER)}
    proc = subprocess.Popen([sys.executable, str(script), str(store)])
    try:
        deadline = time.time() + 240
        while time.time() < deadline:
            if store.exists() and len(_rows(store)) >= 3:
                break
            assert proc.poll() is None, "the grid finished before it could be killed"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    n_before = len(_rows(store))
    assert 3 <= n_before < len(expected)  # killed mid-grid
    report = run_spec(LONGER, store, n_jobs=1, n_threads=1, progress=False)
    assert report.n_skipped == n_before
    assert report.n_ok == len(expected) - n_before
    rows = _rows(store)
    assert len(rows) == len(expected)
    assert {run_id for run_id, _ in rows} == expected
    assert {status for _, status in rows} == {"ok"}


def test_rerun_skips_finished_runs_and_failures_are_recorded_then_retried(tmp_path):
    store = tmp_path / "s.sqlite"
    # the oracle has no clean source row at eps = 1: that run fails, the others go on
    spec = {"seeds": 1, "grid": [{"tasks": ["surf:C->A"], "methods": ["TCA"],
                                  "roles": ["transfer", "oracle"], "eps": [0.5, 1.0]}]}
    report = run_spec(spec, store, n_jobs=2, n_threads=1, progress=False)
    assert (report.n_runs, report.n_ok, report.n_failed) == (5, 4, 1)
    raw = ResultsStore(store).read_raw()
    failed = raw[raw["status"] == "error"]
    assert len(failed) == 1 and failed.iloc[0]["role"] == "oracle"
    assert "needs clean source rows" in failed.iloc[0]["error"]
    assert np.isnan(failed.iloc[0]["accuracy"])
    # a re-run retries only the failure (and fails again, still once in the store)
    again = run_spec(spec, store, n_jobs=1, n_threads=1, progress=False)
    assert (again.n_skipped, again.n_ok, again.n_failed) == (4, 0, 1)
    assert len(ResultsStore(store).read_raw()) == 5
    kept = run_spec(spec, store, retry_failed=False, n_threads=1, progress=False)
    assert (kept.n_skipped, kept.n_ok + kept.n_failed) == (5, 0)


def test_results_join_ntg_from_the_twin_and_record_the_measurements(tmp_path):
    store = tmp_path / "s.sqlite"
    run_spec(QUICK, store, n_jobs=1, n_threads=1, progress=False)
    df = load_results(store)
    assert len(df) == len(expand_spec(QUICK))
    transfer, twins = df[df["role"] == "transfer"], df[df["role"] == "twin"]
    for _, row in transfer.iterrows():
        twin = twins[(twins["task"] == row["task"]) & (twins["seed"] == row["seed"])]
        assert len(twin) == 1
        assert row["ntg"] == pytest.approx(twin.iloc[0]["accuracy"] - row["accuracy"])
        assert row["n_source"] == row["n_clean"] + round(row["n_source"] - row["n_clean"])
        assert 0 < row["n_clean"] < row["n_source"]  # eps = 0.5 perturbs some rows
        assert row["n_labeled"] > 0 and row["n_test"] > 0 and row["fit_time"] > 0
    assert set(df["name"]) == {"TCA", "TCA_T"}


def test_gated_runs_store_weights_by_source_group(tmp_path):
    store = tmp_path / "s.sqlite"
    spec = {"seeds": 1, "params": {"deep": {"max_epochs": 1}},
            "grid": [{"tasks": ["surf:C->A"], "methods": ["DANN", "DAN"], "gate": [False, True],
                      "eps": 0.7, "twins": False}]}
    run_spec(spec, store, n_threads=1, progress=False)
    df = load_results(store).set_index("name")
    for name in ("DANN_gate", "DAN_gate", "DANN"):  # DANN has its marginal D
        for group in ("clean", "x_only", "y_only", "both", "perturbed"):
            assert np.isfinite(df.loc[name, f"omega_{group}"])
            assert 0 < df.loc[name, f"d_{group}"] < 1
    assert np.isnan(df.loc["DAN", "d_clean"])  # no discriminator without the gate


def test_dask_local_cluster_runs_the_same_grid(tmp_path):
    distributed = pytest.importorskip("dask.distributed")  # the [dask] extra; installed by [dev]
    store = tmp_path / "dask.sqlite"
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster), parallel_config(backend="dask"):
        report = run_spec(QUICK, store, n_jobs=-1, progress=False)
    assert report.n_ok == len(expand_spec(QUICK))
    local = tmp_path / "local.sqlite"
    run_spec(QUICK, local, n_jobs=1, n_threads=1, progress=False)
    a = load_results(store).set_index("run_id")["accuracy"].sort_index()
    b = load_results(local).set_index("run_id")["accuracy"].sort_index()
    # same runs, same seeds: the backend does not change the results
    np.testing.assert_allclose(a.to_numpy(), b.to_numpy())
