"""Execute one run of the study (:ref:`method-protocol`: split, perturb, fit, score)."""

import os
import platform
import tempfile
import time
import traceback
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

from ..base import fit_target_only
from ..model_selection import split_target
from ..perturbation import perturb_source
from ._tasks import DEEP_METHODS, METHODS, load_task

#: Source-row groups of the weight summary (:ref:`decision D4 <decision-d4>`); ``y_changed``:
#: clean inputs whose redrawn label differs from the true one.
GROUPS = ("clean", "x_only", "y_only", "both", "perturbed", "y_changed")


def _groups(x_mask, y_mask, y_changed):
    return {
        "clean": ~x_mask & ~y_mask,
        "x_only": x_mask & ~y_mask,
        "y_only": ~x_mask & y_mask,
        "both": x_mask & y_mask,
        "perturbed": x_mask | y_mask,
        "y_changed": ~x_mask & y_changed,
    }


def _weight_summary(model, Xp, yp, x_mask, y_mask, y_changed):
    """Mean D output and ω per source group, or {} when the model has no discriminator."""
    try:
        d, omega = model.predict_weights(Xp, yp)
    except AttributeError:
        return {}, None
    out = {}
    for name, rows in _groups(x_mask, y_mask, y_changed).items():
        out[f"d_{name}"] = float(d[rows].mean()) if rows.any() else None
        out[f"omega_{name}"] = float(omega[rows].mean()) if rows.any() else None
    return out, d


def _save_artifacts(path, model, deep, d, Xp, yp, x_mask, y_mask, Xte, yte):
    """Write the arrays Figure 4 needs, atomically (temp file + rename)."""
    arrays = dict(ys=np.asarray(yp), x_mask=x_mask, y_mask=y_mask, yt_test=np.asarray(yte))
    if d is not None:
        arrays["d"] = d
    if deep:
        arrays["features_source"] = model.transform(Xp)
        arrays["features_target"] = model.transform(Xte)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp.npz")
    os.close(fd)
    try:
        np.savez_compressed(tmp, **arrays)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def fit_run(run, data_home=None, artifacts_dir=None):
    """Fit one run and return its measurements (exceptions propagate).

    Parameters
    ----------
    run : Run
        What to fit.
    data_home : str, default=None
        Data folder for the task.
    artifacts_dir : str, default=None
        Where to save the run's arrays (``<run_id>.npz``); None saves nothing.

    Returns
    -------
    result : dict
        ``accuracy`` on the target test half, ``fit_time`` in seconds, the
        sizes ``n_source``, ``n_clean``, ``n_labeled``, ``n_unlabeled``,
        ``n_test``, and for a model with a discriminator the mean D output
        (``d_<group>``) and gate weight (``omega_<group>``) per source group.
    """
    Xs, ys, Xt, yt = load_task(run.task, data_home)
    Xl, yl, Xu, Xte, yte = split_target(
        Xt, yt, run.labeled_ratio, max_labeled_per_class=run.max_labeled_per_class,
        random_state=run.seed,
    )
    Xp, yp, x_mask, y_mask = perturb_source(Xs, ys, run.eps_x, run.eps_y, random_state=run.seed)
    est = METHODS[run.method](**run.estimator_params())
    clean = ~x_mask & ~y_mask
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        model = _fit_role(run, est, Xp, yp, Xl, yl, Xu, clean)
    fit_time = time.perf_counter() - t0
    for w in caught:  # pass on what the study does not record
        if not issubclass(w.category, ConvergenceWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    collapsed = any(
        issubclass(w.category, ConvergenceWarning) and "chance level" in str(w.message)
        for w in caught
    )
    result = dict(
        accuracy=float(model.score(Xte, yte)), fit_time=fit_time, n_source=len(Xp),
        n_clean=int(clean.sum()), n_labeled=len(Xl), n_unlabeled=len(Xu), n_test=len(Xte),
        collapsed=collapsed, n_iter=getattr(model, "n_iter_", None),
    )
    d = None
    if run.role in ("transfer", "oracle"):
        summary, d = _weight_summary(model, Xp, yp, x_mask, y_mask, np.asarray(yp != ys))
        result.update(summary)
    if artifacts_dir is not None and run.role == "transfer":
        _save_artifacts(os.path.join(artifacts_dir, f"{run.run_id}.npz"), model,
                        run.method in DEEP_METHODS, d, Xp, yp, x_mask, y_mask, Xte, yte)
    return result


def _fit_role(run, est, Xp, yp, Xl, yl, Xu, clean):
    """Fit ``est`` as the run's role asks (see :data:`~._spec.ROLES`)."""
    if run.role == "transfer":
        model = est.fit(Xp, yp, Xl, yl, Xu)
    elif run.role == "twin":
        model = fit_target_only(est, Xp, yp, Xl, yl, Xu)
    elif run.role == "oracle":
        if not clean.any():
            raise ValueError("the oracle needs clean source rows; this perturbation left none.")
        model = est.fit(Xp[clean], yp[clean], Xl, yl, Xu)
    elif run.role == "source_only":
        model = est.fit(Xp, yp)
    else:  # labeled_only: the twin without unlabeled target (chance level without labels)
        model = fit_target_only(est, Xp, yp, Xl, yl)
    return model


def execute_run(run, data_home=None, artifacts_dir=None, n_threads=1):
    """Fit one run in a worker and never raise: failures come back as records.

    Parameters
    ----------
    run : Run
        What to fit.
    data_home : str, default=None
        Data folder.
    artifacts_dir : str, default=None
        See :func:`fit_run`.
    n_threads : int, default=1
        Threads for torch and BLAS in this worker.

    Returns
    -------
    run : Run
        The run, unchanged.
    record : dict
        ``status`` ("ok" or "error"), ``error`` (the traceback or None),
        ``host`` and the measurements of :func:`fit_run`.
    """
    import torch

    record = dict(status="ok", error=None, host=platform.node())
    previous = torch.get_num_threads()
    torch.set_num_threads(n_threads)
    try:
        with threadpool_limits(n_threads):
            record.update(fit_run(run, data_home, artifacts_dir))
    except Exception:  # noqa: BLE001 - a failing run is recorded, the grid goes on
        record.update(status="error", error=traceback.format_exc(limit=20))
    finally:
        torch.set_num_threads(previous)
    return run, record
