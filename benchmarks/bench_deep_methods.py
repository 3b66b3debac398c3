"""Time one epoch of each deep method against DANN's, on the DANN benchmark data.

Data and networks are those of ``bench_dann.py`` (2000 source + 2000 target
rows × 64 features, MLP 64-128-64, discriminator 256-256, batches of 64 per
stream, Adam), with 200 labeled target rows so that every stream and, for
the gated versions, all four terms of eq. (10) are in play. Each method runs
with and without the gate; the ratios are against DANN and DANN_gate timed
in the same process (goals of issue 3: ≤ 2× DANN for every method, ≤ 4× for
GTA).

Run: ``python benchmarks/bench_deep_methods.py [--repeats 3] [--threads 1]``.
Each timing is the best of ``repeats`` interleaved runs.
"""

import argparse
import time
import warnings

import numpy as np
import torch
from bench_dann import BATCH, EPOCHS, data
from sklearn.exceptions import ConvergenceWarning

from skntl import ADDA, DAN, DANN, GTA, PADA, DeepCORAL

METHODS = {"DANN": DANN, "DAN": DAN, "DeepCORAL": DeepCORAL, "ADDA": ADDA, "PADA": PADA,
           "GTA": GTA}
N_LABELED = 200


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    args = parser.parse_args()
    # Timing only: a few epochs on synthetic data need not learn, and the collapse
    # warning would bury the table.
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    torch.set_num_threads(args.threads)
    Xs, ys, Xt, yt = data()
    names = ["DANN", *[m for m in args.methods if m != "DANN"]]
    runs = {}
    for name in names:
        for gate in (False, True):
            net = METHODS[name](gate=gate, max_epochs=EPOCHS, batch_size=BATCH, random_state=0)
            runs[name, gate] = lambda net=net: net.fit(
                Xs, ys, Xt[:N_LABELED], yt[:N_LABELED], Xt
            )
    best = dict.fromkeys(runs, np.inf)
    for fn in runs.values():  # warm-up
        fn()
    for _ in range(args.repeats):
        for key, fn in runs.items():
            t0 = time.perf_counter()
            fn()
            best[key] = min(best[key], (time.perf_counter() - t0) / EPOCHS)
    print(f"torch {torch.__version__}, {args.threads} thread(s), best of {args.repeats}, "
          f"{N_LABELED} labeled target rows")
    print(f"  {'method':<10} {'ms/epoch':>9} {'/ DANN':>7} {'gated ms':>9} {'/ DANN':>7} "
          f"{'/ DANN_gate':>12}  goal")
    dann, dann_gate = best["DANN", False], best["DANN", True]
    for name in names:
        plain, gated = best[name, False], best[name, True]
        goal = "≤ 4x" if name == "GTA" else "≤ 2x"
        print(f"  {name:<10} {plain * 1000:9.1f} {plain / dann:6.2f}x {gated * 1000:9.1f} "
              f"{gated / dann:6.2f}x {gated / dann_gate:11.2f}x  {goal}")


if __name__ == "__main__":
    main()
