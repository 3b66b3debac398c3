"""Run a spec's grid in parallel, resumably, into a results store."""

import os
from dataclasses import dataclass

from joblib import Parallel, delayed
from joblib.parallel import get_active_backend
from tqdm.auto import tqdm

from ._run import execute_run
from ._spec import expand_spec, load_spec
from ._store import ResultsStore

__all__ = ["GridReport", "run_spec"]


@dataclass
class GridReport:
    """What :func:`run_spec` did.

    Attributes
    ----------
    n_runs : int
        Runs in the spec.
    n_skipped : int
        Runs already in the store before this call.
    n_ok, n_failed : int
        Runs executed now that succeeded or failed (failures are stored with
        their traceback).
    """

    n_runs: int
    n_skipped: int
    n_ok: int = 0
    n_failed: int = 0


def _threads_per_worker(n_jobs):
    backend, effective = get_active_backend()
    if type(backend).__name__ not in ("LokyBackend", "MultiprocessingBackend",
                                      "SequentialBackend", "ThreadingBackend"):
        return 1  # remote workers (dask, ray): one thread each, the cluster sizes itself
    n = backend.effective_n_jobs(n_jobs if n_jobs is not None else effective)
    return max(1, (os.cpu_count() or 1) // max(1, n))


def run_spec(spec, results, *, n_jobs=1, data_home=None, retry_failed=True, progress=True,
             n_threads=None):
    """Run every run of a spec that the results store does not hold yet.

    Runs are independent, so they go to ``joblib.Parallel`` and any joblib
    backend scales the grid: loky processes by default, or a cluster inside
    ``with joblib.parallel_config("dask"):`` (with a ``dask.distributed``
    client) or ``"ray"``. Each finished run is written to the store by this
    process, in its own transaction, as soon as it arrives; a re-run skips the
    runs already there, so a grid killed at any moment resumes where it stopped
    and ends with every run exactly once. A run that raises is stored with
    ``status="error"`` and its traceback; the grid goes on.

    Parameters
    ----------
    spec : dict, str or path-like
        The spec (see :func:`expand_spec`) or a bundled spec's name.
    results : str or path-like
        The results store (a SQLite file, created if needed).
    n_jobs : int, default=1
        Parallel runs (joblib semantics: -1 = all cores / all workers).
    data_home : str, default=None
        Data folder (``SKNTL_DATA`` when None).
    retry_failed : bool, default=True
        Run again the runs stored with an error.
    progress : bool, default=True
        Show a progress bar over runs with an ETA.
    n_threads : int, default=None
        Torch/BLAS threads per run; None divides the cores between the local
        workers (one thread per run on a cluster backend).

    Returns
    -------
    report : GridReport
        Counts of the runs.
    """
    spec = load_spec(spec)
    runs = expand_spec(spec)
    store = ResultsStore(results)
    done = store.finished_ids(include_errors=not retry_failed)
    pending = [r for r in runs if r.run_id not in done]
    report = GridReport(n_runs=len(runs), n_skipped=len(runs) - len(pending))
    if not pending:
        return report
    store.check_writable()  # a read-only or damaged store fails now, not after a run
    artifacts = str(store.artifacts_dir) if spec.get("artifacts", False) else None
    threads = n_threads if n_threads is not None else _threads_per_worker(n_jobs)
    name = spec.get("name")
    jobs = (delayed(execute_run)(run, data_home, artifacts, threads) for run in pending)
    outputs = Parallel(n_jobs=n_jobs, return_as="generator_unordered")(jobs)
    with tqdm(total=len(pending), desc=name or "runs", unit="run", disable=not progress) as bar:
        for run, record in outputs:
            store.write(run, record, name)
            if record["status"] == "ok":
                report.n_ok += 1
            else:
                report.n_failed += 1
                last = record["error"].strip().splitlines()[-1]
                bar.write(f"run {run.run_id} ({run.method} {run.role} on {run.task}) "
                          f"failed: {last}")
            bar.update()
    return report
