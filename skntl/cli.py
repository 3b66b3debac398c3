"""The ``skntl`` command line: ``skntl demo | run | table | figure``.

* ``skntl demo`` answers "does negative transfer happen here, and does the
  gate avoid it?" on Office-Caltech10 SURF (bundled; no data folder needed).
  Its task and setting follow a rule fixed before any result was seen, not
  the best-looking run: the data must ship with skntl, which leaves the SURF
  pairs; of the study's SURF pairs it takes the one the paper's ablation
  (Table 4) uses, caltech→amazon, at that ablation's harshest setting
  (ε_x = ε_y = 0.7, L% = 10), with seeds 0, 1, 2 (``--seeds`` adds more).
* ``skntl run SPEC`` runs a study spec (a TOML file or a bundled spec:
  ``skntl run --list``) into a results store, resumably.
* ``skntl table {1,2,3,4} RESULTS`` and ``skntl figure {3,4} RESULTS`` render
  the paper's tables and figures from a results store.
"""

import argparse
import sqlite3
import sys
from contextlib import nullcontext
from pathlib import Path

__all__ = ["main"]


class _UsageError(ValueError):
    """A mistake in the command line: reported in one line, exit status 2."""


def _one_line(exc):
    """Return the message of ``exc`` on one line (an OSError as 'reason: path')."""
    if isinstance(exc, OSError) and exc.strerror:
        text = exc.strerror + (f": {exc.filename}" if exc.filename else "")
    else:
        text = str(exc) or type(exc).__name__
    return " ".join(text.split())


def _add_parallel(parser):
    parser.add_argument("--n-jobs", type=int, default=-1,
                        help="parallel runs (joblib; -1: all cores / all cluster workers)")
    parser.add_argument("--data-home", default=None,
                        help="data folder (default: $SKNTL_DATA; SURF tasks need none)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def _build_parser():
    parser = argparse.ArgumentParser(
        prog="skntl", description="Measure and avoid negative transfer (Wang et al., CVPR 2019).")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser(
        "demo", help="DANN vs DANN_gate vs target-only on a perturbed source (SURF C→A)",
        description="DANN, DANN_gate and the target-only DANN_T on Office-Caltech10 SURF "
                    "caltech→amazon (bundled), source perturbed at ε_x = ε_y = 0.7, L% = 10: "
                    "accuracy, NTG and Δ, and a PNG of the weights on clean vs perturbed rows.")
    demo.add_argument("--out", default="skntl_demo",
                      help="folder for the results store and the PNG (default: ./skntl_demo)")
    demo.add_argument("--seeds", type=int, default=None, help="number of seeds (default: 3)")
    _add_parallel(demo)

    run = sub.add_parser("run", help="run a study spec into a results store (resumable)")
    run.add_argument("spec", nargs="?", help="a TOML spec file or a bundled spec's name")
    run.add_argument("--results", default=None,
                     help="results store (default: results/<spec name>.sqlite)")
    run.add_argument("--list", action="store_true", help="list the bundled specs and exit")
    run.add_argument("--dry-run", action="store_true",
                     help="print how many runs the spec has and how many are pending")
    run.add_argument("--backend", default=None,
                     help="joblib backend, e.g. 'dask' (needs skntl[dask]) or 'ray'")
    run.add_argument("--scheduler", default=None,
                     help="dask scheduler address for --backend dask (default: a LocalCluster)")
    run.add_argument("--no-retry-failed", action="store_true",
                     help="keep runs stored with an error instead of running them again")
    _add_parallel(run)

    table = sub.add_parser("table", help="render Table 1, 2, 3 or 4 from a results store")
    table.add_argument("number", type=int, choices=(1, 2, 3, 4))
    table.add_argument("results", help="results store (SQLite file)")
    table.add_argument("--format", choices=("markdown", "csv"), default="markdown")
    table.add_argument("-o", "--output", default=None, help="write to a file instead of stdout")

    figure = sub.add_parser("figure", help="draw Figure 3 or 4 from a results store (PNG)")
    figure.add_argument("number", type=int, choices=(3, 4))
    figure.add_argument("results", help="results store (SQLite file)")
    figure.add_argument("--task", default=None, help="task to plot, when the store has several")
    figure.add_argument("--seed", type=int, default=0, help="Figure 4: which repeat")
    figure.add_argument("--eps", type=float, default=None,
                        help="ε of Figure 3(b) (default 0.2) or of Figure 4 (default 0.7)")
    figure.add_argument("--labeled-ratio", type=float, default=None,
                        help="L% of Figure 3(a) (default 0.2) or of Figure 4 (default 0.3)")
    figure.add_argument("--cap", type=int, default=3,
                        help="Figure 3(a): labels per class cap of its runs (0: none; default 3)")
    figure.add_argument("--gated", default="DANN_gate",
                        help="Figure 4: the gated model beside DANN (default: DANN_gate, "
                             "skntl's gate; DANN_gate-paper: the paper's)")
    figure.add_argument("-o", "--output", default=None,
                        help="PNG file (default: figure<N>.png beside the store)")
    return parser


def _run_grid(spec, results, args):
    from joblib import parallel_config

    from .experiments import run_spec

    kwargs = dict(n_jobs=args.n_jobs, data_home=args.data_home,
                  retry_failed=not getattr(args, "no_retry_failed", False),
                  progress=not args.no_progress)
    backend = getattr(args, "backend", None)
    if backend == "dask":
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError as exc:
            raise _UsageError(
                "--backend dask needs dask.distributed: pip install 'skntl[dask]'"
            ) from exc
        cluster = nullcontext(args.scheduler) if args.scheduler else LocalCluster(processes=True)
        with cluster as address, Client(address), parallel_config(backend="dask"):
            return run_spec(spec, results, **kwargs)
    if backend is not None:
        with parallel_config(backend=backend):
            return run_spec(spec, results, **kwargs)
    return run_spec(spec, results, **kwargs)


def _report(report, results):
    print(f"{report.n_runs} runs: {report.n_skipped} already in {results}, "
          f"{report.n_ok} done now, {report.n_failed} failed.")


def _cmd_run(args):
    from .experiments import ResultsStore, bundled_specs, expand_spec, load_spec

    if args.list:
        for name in bundled_specs():
            spec = load_spec(name)
            print(f"{name:10s} {len(expand_spec(spec)):5d} runs  {spec.get('description', '')}")
        return 0
    if args.spec is None:
        raise _UsageError("give a SPEC (a TOML file or a bundled spec; see --list).")
    spec = load_spec(args.spec)
    name = spec.get("name") or Path(args.spec).stem
    results = args.results or str(Path("results") / f"{name}.sqlite")
    if args.dry_run:
        runs = expand_spec(spec)
        done = ResultsStore(results).finished_ids()
        pending = sum(r.run_id not in done for r in runs)
        print(f"{name}: {len(runs)} runs, {pending} pending in {results}")
        return 0
    report = _run_grid(spec, results, args)
    _report(report, results)
    return 1 if report.n_failed else 0


def _cmd_table(args):
    from .experiments import load_results, make_table

    text = make_table(load_results(args.results), args.number, fmt=args.format)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"Table {args.number} written to {args.output}")
    else:
        print(text, end="")
    return 0


def _cmd_figure(args):
    from .experiments import ResultsStore, load_results, plot_figure3, plot_figure4

    df = load_results(args.results)
    setting = {k: v for k, v in (("eps", args.eps), ("labeled_ratio", args.labeled_ratio))
               if v is not None}
    if args.number == 3:
        fig = plot_figure3(df, args.task, cap_a=args.cap or None, **setting)
    else:
        fig = plot_figure4(df, ResultsStore(args.results).artifacts_dir, args.task,
                           seed=args.seed, gated=args.gated, **setting)
    output = args.output or str(Path(args.results).with_name(f"figure{args.number}.png"))
    fig.savefig(output, dpi=120)
    print(f"Figure {args.number} written to {output}")
    return 0


def _cmd_demo(args):
    """Run the bundled ``demo`` spec (task chosen by the rule in the module docstring)."""
    from .experiments import load_results, load_spec, plot_weights
    from .experiments._tables import demo_table

    spec = load_spec("demo")
    if args.seeds is not None:
        if args.seeds < 1:
            raise _UsageError("--seeds must be at least 1.")
        spec = dict(spec, seeds=args.seeds)
    out = Path(args.out)
    results = out / "demo.sqlite"
    print(spec["description"])
    report = _run_grid(spec, results, args)
    _report(report, results)
    df = load_results(results)
    df = df[df["seed"].isin(range(spec["seeds"]))]
    print()
    print(demo_table(df))
    png = out / "demo_weights.png"
    plot_weights(df).savefig(png, dpi=120)
    print(f"\nWeights on clean vs perturbed source rows: {png}")
    return 1 if report.n_failed else 0


_COMMANDS = {"demo": _cmd_demo, "run": _cmd_run, "table": _cmd_table, "figure": _cmd_figure}


def main(argv=None):
    """Run the ``skntl`` command line.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments (``sys.argv[1:]`` when None).

    Returns
    -------
    status : int
        The exit status: 0 on success, 1 when runs failed, 2 for a user error
        (a bad argument, spec or results store), reported in one line on
        stderr without a traceback.
    """
    args = _build_parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except (ValueError, OSError, sqlite3.Error) as exc:
        print(f"skntl {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
