"""TCA timings and memory at the sizes of the foundation issue.

Run:  python benchmarks/bench_tca.py [--sizes 2000 4000] [--nystroem 10000]

Prints, for n_s = n_t = n rows of 50-d shifted Gaussian classes:
  * exact RBF TCA (matrix-free ARPACK on B^-1/2 KHK B^-1/2) and, as the
    in-process baseline, the dense generalized solver ``scipy.linalg.eigh(KHK,
    KLK + mu I)`` on the same kernel (what a straightforward implementation
    does), with their time ratio;
  * linear TCA (exact, solved in the 50-d primal);
  * Nyström TCA at large n, and its target accuracy next to exact TCA where
    exact fits.
Peak memory is tracemalloc's (it sees NumPy allocations). Timings drift on
shared machines: read the ratios.
"""

import argparse
import time
import tracemalloc

import numpy as np
from scipy.linalg import eigh

from skntl import TCA
from skntl.conventional._kernels import median_heuristic_gamma, pairwise_kernel


def make_task(n, d=50, n_classes=5, seed=0):
    """Source and target of ``n`` rows each; the target is shifted and rescaled."""
    rng = np.random.RandomState(seed)
    centers = rng.randn(n_classes, d) * 0.3
    ys, yt = rng.randint(n_classes, size=n), rng.randint(n_classes, size=n)
    Xs = centers[ys] + rng.randn(n, d)
    shift = rng.randn(d) * 0.8
    Xt = 1.2 * centers[yt] + 1.5 * rng.randn(n, d) + shift
    return Xs, ys, Xt, yt


def measure(fn):
    """Time one call, then measure its peak memory in a second call (tracemalloc
    slows allocation-heavy code, so the timed call runs without it)."""
    t0 = time.perf_counter()
    out = fn()
    elapsed = time.perf_counter() - t0
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return out, elapsed, peak


def dense_generalized(Xs, Xt, gamma, k=30, mu=1.0):
    X = np.vstack([Xs, Xt])
    n = len(X)
    K = pairwise_kernel(X, X, "rbf", gamma)
    e = np.r_[np.full(len(Xs), 1 / len(Xs)), np.full(len(Xt), -1 / len(Xt))]
    u = K @ e
    HK = K - K.mean(axis=0)
    A = HK.T @ HK
    B = np.outer(u, u)
    B[np.diag_indices(n)] += mu
    return eigh(A, B, subset_by_index=[n - k, n - 1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 4000])
    parser.add_argument("--baseline-max", type=int, default=2000,
                        help="largest n for the dense generalized baseline")
    parser.add_argument("--nystroem", type=int, nargs="*", default=[4000, 10000])
    parser.add_argument("--landmarks", type=int, default=1000)
    args = parser.parse_args()

    print(f"{'case':44s} {'n_s+n_t':>11s} {'time s':>8s} {'peak MB':>8s} {'acc':>6s}")
    exact_acc = {}
    for n in args.sizes:
        Xs, ys, Xt, yt = make_task(n)
        gamma = median_heuristic_gamma(np.vstack([Xs, Xt]), random_state=0)
        tca, t, mem = measure(
            lambda: TCA(30, kernel="rbf", gamma=gamma, random_state=0).fit(Xs, ys, Xt_u=Xt)
        )
        exact_acc[n] = tca.score(Xt, yt)
        print(f"{'exact rbf TCA (ARPACK, matrix-free)':44s} {2 * n:11d} {t:8.2f} {mem:8.0f} "
              f"{exact_acc[n]:6.3f}")
        if n <= args.baseline_max:
            (vals, _), tb, memb = measure(lambda: dense_generalized(Xs, Xt, gamma))
            rel = np.max(np.abs(np.sort(vals)[::-1] - tca.eigenvalues_)) / np.abs(vals).max()
            print(f"{'baseline: dense eigh(KHK, KLK+muI)':44s} {2 * n:11d} {tb:8.2f} {memb:8.0f}"
                  f" {'':>6s}   ratio baseline/ours = {tb / t:.1f}x, max eigenvalue "
                  f"rel diff = {rel:.1e}")
        lin, t, mem = measure(lambda: TCA(30, kernel="linear").fit(Xs, ys, Xt_u=Xt))
        print(f"{'exact linear TCA (primal)':44s} {2 * n:11d} {t:8.2f} {mem:8.0f} "
              f"{lin.score(Xt, yt):6.3f}")
    for n in args.nystroem:
        Xs, ys, Xt, yt = make_task(n)
        gamma = median_heuristic_gamma(np.vstack([Xs, Xt]), random_state=0)
        tca, t, mem = measure(
            lambda: TCA(30, kernel="rbf", gamma=gamma, n_landmarks=args.landmarks,
                        random_state=0).fit(Xs, ys, Xt_u=Xt)
        )
        acc = tca.score(Xt, yt)
        note = ""
        if n in exact_acc:
            note = f"   exact acc {exact_acc[n]:.3f}, diff {acc - exact_acc[n]:+.3f}"
        print(f"{f'Nystroem rbf TCA ({args.landmarks} landmarks)':44s} {2 * n:11d} {t:8.2f} "
              f"{mem:8.0f} {acc:6.3f}{note}")


if __name__ == "__main__":
    main()
