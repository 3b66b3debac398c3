"""The study: a spec expands to runs, runs go to a results store, tables and figures come out.

A spec (a TOML file, a bundled spec's name or a dict; :func:`expand_spec`)
names tasks, methods, gated or not, ε_x, ε_y, L%, the per-class label cap,
seeds and estimator parameters. :func:`run_spec` fits every run that the
results store (:class:`ResultsStore`, SQLite) does not hold yet, in parallel
through joblib, and writes each one atomically; :func:`load_results` reads the
store with NTG joined from the target-only twins; :func:`make_table` and the
``plot_*`` functions render the paper's Tables 1–4 and Figures 3–4. The
``skntl`` command line (``skntl demo | run | table | figure``) wraps them.
"""

from ._figures import plot_figure3, plot_figure4, plot_weights
from ._runner import GridReport, run_spec
from ._spec import ROLES, Run, bundled_specs, expand_spec, load_spec
from ._store import ResultsStore, load_results
from ._tables import make_table, table_frame
from ._tasks import load_task, parse_task

__all__ = [
    "ROLES",
    "GridReport",
    "ResultsStore",
    "Run",
    "bundled_specs",
    "expand_spec",
    "load_results",
    "load_spec",
    "load_task",
    "make_table",
    "parse_task",
    "plot_figure3",
    "plot_figure4",
    "plot_weights",
    "run_spec",
    "table_frame",
]
