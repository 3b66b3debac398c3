"""The results store: one SQLite row per finished run.

SQLite because it is in the standard library and each run is written in its
own transaction: a row is either fully there or not at all, even when the
process is killed mid-write, and the primary key (the run's id) makes a run
appear at most once however often a grid is restarted. The file is a single
portable artefact that can be committed beside the tables made from it.
"""

import json
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from .. import __version__
from ._spec import Run, without_gate_params

__all__ = ["ResultsStore", "load_results"]

_RUN_COLUMNS = (
    "task", "method", "role", "gate", "gate_variant", "eps_x", "eps_y", "labeled_ratio",
    "max_labeled_per_class", "seed", "params",
)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    spec TEXT,
    task TEXT NOT NULL,
    method TEXT NOT NULL,
    role TEXT NOT NULL,
    gate INTEGER NOT NULL,
    gate_variant TEXT NOT NULL,
    eps_x REAL NOT NULL,
    eps_y REAL NOT NULL,
    labeled_ratio REAL NOT NULL,
    max_labeled_per_class INTEGER,
    seed INTEGER NOT NULL,
    params TEXT NOT NULL,
    status TEXT NOT NULL,
    error TEXT,
    accuracy REAL,
    fit_time REAL,
    metrics TEXT NOT NULL,
    host TEXT,
    skntl_version TEXT,
    finished_at TEXT NOT NULL
)
"""
#: Display names of DANN's Table 4 variants (:ref:`method-ablations`).
_VARIANT_NAMES = {
    "default": "gate", "paper": "gate-paper", "full": "gate-paper", "separate": "gate-separate",
    "detached": "gate-detached", "gate_only": "gate-only", "label_only": "label-only",
    "joint": "joint", "marginal": "marginal", "none": "none",
}


def _open_read_only(path):
    """Open ``path`` with SQLite in read-only mode: reading never writes to it."""
    return sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True, timeout=60)


def _open_read_write(path):
    return sqlite3.connect(path, timeout=60)


class ResultsStore:
    """A SQLite file of finished runs, written one atomic transaction per run.

    Reading (:meth:`finished_ids`, :meth:`read_raw`) opens the file read-only
    and never changes it. A path that is not a usable store gives a
    ``ValueError`` that names it.

    Parameters
    ----------
    path : str or path-like
        The database file (created on first write). Per-run arrays, when a
        spec asks for them, go to the folder ``<path without suffix>.artifacts``.
    """

    def __init__(self, path):
        self.path = Path(path)

    @property
    def artifacts_dir(self):
        """Folder holding the runs' ``<run_id>.npz`` arrays."""
        return self.path.with_suffix(".artifacts")

    def _not_a_store(self, why):
        return ValueError(f"results store {str(self.path)!r} {why}")

    def _connect(self):
        """Open for writing, creating the folder, the file and the table as needed."""
        if self.path.is_dir():
            raise self._not_a_store("is a directory; give a file path, e.g. results/study.sqlite.")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise self._not_a_store(
                f"cannot be created: its folder {str(self.path.parent)!r} cannot be made "
                f"({exc.strerror or exc}); is a part of the path a regular file?"
            ) from None
        con = None
        try:
            con = _open_read_write(self.path)
            con.execute(_SCHEMA)
        except sqlite3.Error as exc:
            if con is not None:
                con.close()
            raise self._sqlite_error(exc) from None
        return con

    def _sqlite_error(self, exc):
        text = str(exc)
        if "readonly" in text or "read-only" in text:
            return self._not_a_store(
                "is read-only; give a writable --results file (or fix its permissions)."
            )
        return self._not_a_store(f"is not a readable skntl results store (SQLite: {text}).")

    def _read(self, query):
        """Run a read-only ``query``; None when the file has no ``runs`` table yet."""
        if self.path.is_dir():
            raise self._not_a_store("is a directory, not a SQLite file.")
        try:
            con = _open_read_only(self.path)
        except sqlite3.Error as exc:
            raise self._sqlite_error(exc) from None
        try:
            has_runs = con.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'runs'"
            ).fetchone()
            if not has_runs:
                return None
            return pd.read_sql_query(query, con)
        except (sqlite3.Error, pd.errors.DatabaseError) as exc:
            raise self._sqlite_error(getattr(exc, "__cause__", None) or exc) from None
        finally:
            con.close()

    def check_writable(self):
        """Raise a ``ValueError`` unless runs can be written to the store.

        Creates the file (and its folder) if needed and tries one write in a
        transaction that is rolled back, so a read-only or damaged store is
        reported before any run starts, not when the first one finishes.
        """
        con = self._connect()
        try:
            con.execute("BEGIN IMMEDIATE")
            con.execute("DELETE FROM runs WHERE run_id IS NULL")
            con.rollback()
        except sqlite3.Error as exc:
            raise self._sqlite_error(exc) from None
        finally:
            con.close()

    def finished_ids(self, include_errors=False):
        """Return the ids of runs already in the store.

        Parameters
        ----------
        include_errors : bool, default=False
            Count failed runs as finished (otherwise they are retried).

        Returns
        -------
        ids : set of str
        """
        if not self.path.exists():
            return set()
        query = "SELECT run_id FROM runs" + ("" if include_errors else " WHERE status = 'ok'")
        df = self._read(query)
        return set() if df is None else set(df["run_id"])

    def write(self, run, record, spec_name=None):
        """Insert (or replace) one run's record in its own transaction.

        Parameters
        ----------
        run : Run
            The run.
        record : dict
            ``status``, ``error``, ``host``, ``accuracy``, ``fit_time`` and any
            other measurements (kept as JSON in the ``metrics`` column).
        spec_name : str, default=None
            The spec the run came from.
        """
        record = dict(record)
        row = dict(
            run_id=run.run_id, spec=spec_name,
            **{c: getattr(run, c) for c in _RUN_COLUMNS},
            status=record.pop("status"), error=record.pop("error", None),
            accuracy=record.pop("accuracy", None), fit_time=record.pop("fit_time", None),
            host=record.pop("host", None), skntl_version=__version__,
            finished_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        )
        row["gate"] = int(row["gate"])
        row["metrics"] = json.dumps(record, sort_keys=True)
        con = self._connect()
        try:
            with con:  # one transaction: the row is there entirely or not at all
                con.execute(
                    f"INSERT OR REPLACE INTO runs ({', '.join(row)}) "
                    f"VALUES ({', '.join('?' * len(row))})",
                    tuple(row.values()),
                )
        except sqlite3.Error as exc:
            raise self._sqlite_error(exc) from None
        finally:
            con.close()

    def read_raw(self):
        """Return the table as stored, one row per run (no derived columns)."""
        if not self.path.exists():
            raise FileNotFoundError(f"results store {str(self.path)!r} does not exist.")
        df = self._read("SELECT * FROM runs ORDER BY rowid")
        if df is None:
            raise self._not_a_store("has no runs table: it is not a skntl results store.")
        return df


def _display_name(row):
    method = row["method"]
    if row["role"] == "twin":
        return f"{method}_T"
    if row["role"] == "oracle":
        return f"{method}_oracle"
    if row["role"] == "source_only":
        return "Net_S"
    if row["role"] == "labeled_only":
        return "Net_T"
    if row["gate"]:
        return f"{method}_{_VARIANT_NAMES[row['gate_variant']]}"
    return method


def load_results(path, include_errors=False):
    """Load a results store as a DataFrame with NTG and display names.

    NTG = acc(A(∅, T)) − acc(A(S, T)) is joined from the run's target-only
    twin (same task, method, parameters, L%, cap and seed;
    :ref:`decision D18 <decision-d18>`): gated runs and every ε share their
    base method's twin.

    Parameters
    ----------
    path : str or path-like
        The store.
    include_errors : bool, default=False
        Keep failed runs (their accuracy is NaN).

    Returns
    -------
    results : pandas.DataFrame
        One row per run: the run's fields, ``name`` (e.g. ``"DANN_gate"``,
        ``"DANN_T"``, ``"Net_S"``), ``accuracy``, ``acc_twin``, ``ntg``,
        ``fit_time``, the weight summaries and the bookkeeping columns.
    """
    df = ResultsStore(path).read_raw()
    if not include_errors:
        df = df[df["status"] == "ok"]
    metrics = pd.DataFrame([json.loads(m) for m in df["metrics"]], index=df.index)
    df = pd.concat([df.drop(columns="metrics"), metrics], axis=1)
    df["gate"] = df["gate"].astype(bool)
    df["max_labeled_per_class"] = df["max_labeled_per_class"].astype("Int64")
    df["name"] = [_display_name(row) for _, row in df.iterrows()] if len(df) else []
    # A twin has no gate: it shares the run's parameters less the gate-only ones.
    df["twin_params"] = [without_gate_params(p) for p in df["params"]]
    key = ["task", "method", "twin_params", "labeled_ratio", "max_labeled_per_class", "seed"]
    twins = df.loc[(df["role"] == "twin") & (df["status"] == "ok"), key + ["accuracy"]]
    twins = twins.rename(columns={"accuracy": "acc_twin"}).drop_duplicates(key)
    df = df.merge(twins, on=key, how="left")
    df["ntg"] = df["acc_twin"] - df["accuracy"]
    return df.drop(columns="twin_params")


def runs_of(df):
    """Rebuild the :class:`Run` objects of a results frame (for tests and resumption checks)."""
    return [Run(**{c: _py(row[c]) for c in _RUN_COLUMNS}) for _, row in df.iterrows()]


def _py(value):
    if value is pd.NA or (isinstance(value, float) and value != value):
        return None
    return value.item() if hasattr(value, "item") else value
