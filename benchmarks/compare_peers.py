"""Compare skntl's TCA, KMM and DANN with the peers' on Office-Caltech10 SURF, caltech → amazon.

Run as::

    pip install --target /tmp/peers_site --no-deps skada==0.6.0 adapt==0.4.5 pot cvxopt
    PYTHONPATH=/tmp/peers_site python benchmarks/compare_peers.py [--only tca kmm dann]

The peers are put on the path, never installed into skntl's environment (the
``--no-deps`` install pulls neither TensorFlow nor another torch). A peer that
cannot be imported is reported as skipped.

* **skada 0.6.0** is imported normally (its non-deep part needs POT and pandas;
  ``skada.deep`` uses the torch and skorch already installed for skntl).
* **ADAPT 0.4.5** imports TensorFlow in ``adapt/__init__.py``, ``adapt/base.py`` and
  ``adapt/utils.py``. Its TCA (``adapt/feature_based/_tca.py``) and KMM
  (``adapt/instance_based/_kmm.py``) are numpy/scipy/cvxopt code: this script
  executes those two files unchanged, with small stand-ins for the three
  names they import from ``adapt.base`` / ``adapt.utils`` (a base class that
  stores the parameters, a no-op docstring decorator, and ``np.random.seed``).

What is measured, on the 1123 caltech rows (source) and 958 amazon rows
(target), standardised as ``load_office_caltech`` does by default:

1. **TCA**, RBF kernel with ``gamma = 1/800`` (scikit-learn's default, the
   only one skada's TCA can use) and 30 components. Pan et al.'s problem is
   ``KHK w = λ (KLK + μI) w``; skada and ADAPT build ``(I + μ' KLK)^{-1} KHK``,
   the same pencil for ``μ' = 1/μ``, so each peer is run with ``mu = 1/μ``. For
   the ``k`` returned coefficient vectors ``W`` (``n × k``) it reports the
   largest relative eigen-residual ``‖A w − ρ B w‖ / ‖A w‖`` (``ρ`` the
   Rayleigh quotient), the share of the optimal objective reached,
   ``tr((WᵀBW)⁻¹ WᵀAW) / Σ top-k λ``, the largest principal angle between
   ``span(W)`` and the exact eigenvectors' span, and the target accuracy of
   the same classifier (StandardScaler + LogisticRegression fitted on the
   embedded source). The exact reference is ``scipy.linalg.eigh(A, B)``.
2. **KMM**, RBF kernel with ``gamma = 1/800``, ``B = 1000``,
   ``ε = (√n_s − 1)/√n_s`` (every library's default bound and slack): the
   objective ``½βᵀKβ − κᵀβ`` of the returned weights against the best one
   found, the bounds ``0 ≤ β ≤ B`` and ``n_s(1−ε) ≤ Σβ ≤ n_s(1+ε)``, the weights
   at exactly 0, and the target accuracy of LogisticRegression fitted on the
   weighted source. A second run with ``B = 2`` makes the bound matter.
3. **skada's DANN default domain classifier**: its output on the data, the
   gradient it sends back, and whether ``DANN(reg=1)`` trains differently from
   ``DANN(reg=0)`` (source only) from the same seed; then the same DANN with
   the default head's layers ending in a sigmoid instead of a one-way softmax.

The committed output is ``benchmarks/results/compare_peers.txt``.
"""

import argparse
import importlib.util
import platform
import sys
import time
import types
import warnings

import numpy as np
import scipy
import sklearn
from scipy.linalg import eigh, subspace_angles
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.metrics.pairwise import rbf_kernel
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skntl import KMM, TCA
from skntl.conventional.kmm import kmm_weights
from skntl.datasets import load_office_caltech

GAMMA = 1.0 / 800  # scikit-learn's default RBF width for 800 features
N_COMPONENTS = 30


# ------------------------------------------------------------------- peers


def load_skada():
    try:
        import skada
        from skada import KMMReweightAdapter, TransferComponentAnalysisAdapter
    except ImportError as exc:
        return None, f"skada not importable ({exc})"
    return (skada, TransferComponentAnalysisAdapter, KMMReweightAdapter), skada.__version__


def load_adapt():
    """Execute ADAPT's _tca.py and _kmm.py unchanged, without TensorFlow."""
    spec = importlib.util.find_spec("adapt")  # locates the package, runs nothing
    if spec is None or not spec.submodule_search_locations:
        return None, "adapt not found"
    root = spec.submodule_search_locations[0]

    class BaseAdaptEstimator(BaseEstimator):  # stores the parameters, as ADAPT's does
        def __init__(self, **params):
            for name, value in params.items():
                setattr(self, name, value)

    def make_insert_doc(*args, **kwargs):
        return lambda cls: cls

    def set_random_seed(random_state):  # ADAPT also seeds TensorFlow here
        if random_state is not None:
            np.random.seed(random_state)

    stubs = {
        "adapt": types.ModuleType("adapt"),
        "adapt.base": types.ModuleType("adapt.base"),
        "adapt.utils": types.ModuleType("adapt.utils"),
    }
    stubs["adapt"].__path__ = []
    stubs["adapt.base"].BaseAdaptEstimator = BaseAdaptEstimator
    stubs["adapt.base"].make_insert_doc = make_insert_doc
    stubs["adapt.utils"].set_random_seed = set_random_seed
    saved = {name: sys.modules.get(name) for name in stubs}
    sys.modules.update(stubs)
    try:
        loaded = {}
        for name, rel in (("tca", "feature_based/_tca.py"), ("kmm", "instance_based/_kmm.py")):
            file_spec = importlib.util.spec_from_file_location(f"adapt_{name}", f"{root}/{rel}")
            module = importlib.util.module_from_spec(file_spec)
            file_spec.loader.exec_module(module)
            loaded[name] = module
    except ImportError as exc:
        return None, f"adapt's files could not be executed ({exc})"
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
    version = "unknown"
    try:
        from importlib.metadata import version as _version

        version = _version("adapt")
    except Exception:
        pass
    return (loaded["tca"].TCA, loaded["kmm"].KMM), version


# ------------------------------------------------------------------- helpers


def clf():
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))


def tca_quality(W, A, B, V_ref, vals_ref):
    """Largest relative residual, share of the optimum, largest angle to the exact span."""
    AW, BW = A @ W, B @ W
    rho = np.einsum("ij,ij->j", W, AW) / np.einsum("ij,ij->j", W, BW)
    res = np.linalg.norm(AW - BW * rho, axis=0) / np.linalg.norm(AW, axis=0)
    objective = np.trace(np.linalg.solve(W.T @ BW, W.T @ AW))
    angle = np.degrees(subspace_angles(W, V_ref).max())
    return res.max(), objective / vals_ref.sum(), angle


def embedding_accuracy(Z, n_s, ys, yt):
    model = clf().fit(Z[:n_s], ys)
    return model.score(Z[n_s:], yt)


def kmm_report(name, beta, K, kappa, B, eps, f_best, Xs, ys, Xt, yt, seconds):
    n = len(beta)
    f = 0.5 * beta @ K @ beta - kappa @ beta
    lo, hi = n * (1 - eps), n * (1 + eps)
    s = beta.sum()
    sum_violation = max(lo - s, s - hi, 0.0)
    bound_violation = max(beta.max() - B, -beta.min(), 0.0) + 0.0  # no -0
    acc = LogisticRegression(max_iter=1000).fit(Xs, ys, sample_weight=beta).score(Xt, yt)
    print(
        f"  {name:<30} {f:>12.2f} {(f - f_best) / abs(f_best):>9.1e} {beta.min():>9.2g} "
        f"{beta.max():>9.2f} {bound_violation:>9.3g} {s / n:>7.3f} {sum_violation:>9.3g} "
        f"{int(np.sum(beta == 0)):>5d} "
        f"{100 * acc:>5.1f} {seconds:>6.1f}"
    )


# ------------------------------------------------------------------- sections


def compare_tca(Xs, ys, Xt, yt, skada_mod, adapt_mod, mus):
    X = np.vstack([Xs, Xt])
    n_s, n = len(Xs), len(Xs) + len(Xt)
    K = rbf_kernel(X, gamma=GAMMA)
    e = np.r_[np.full(n_s, 1.0 / n_s), np.full(n - n_s, -1.0 / (n - n_s))]
    u = K @ e
    HK = K - K.mean(axis=0)
    A = HK.T @ HK  # K H K (H idempotent)
    A = (A + A.T) / 2
    print(f"\n== TCA: rbf gamma=1/800, {N_COMPONENTS} components, n = {n_s} + {n - n_s} ==")
    print("  Pan et al.'s problem: KHK w = lambda (KLK + mu I) w; peers run with mu' = 1/mu")
    print(
        f"  {'method':<34} {'max rel. residual':>17} {'objective/opt':>13} "
        f"{'max angle deg':>13} {'acc %':>6} {'time s':>7}"
    )
    for mu in mus:
        B = np.outer(u, u) + mu * np.eye(n)
        vals, V = eigh(A, B, subset_by_index=[n - N_COMPONENTS, n - 1])

        def row(label, W, embedding, seconds, angle_fmt=".2f"):
            r, share, angle = tca_quality(W, A, B, V, vals)
            acc = embedding_accuracy(embedding, n_s, ys, yt)
            print(
                f"  {label:<34} {r:>17.2e} {share:>13.6f} {angle:>13{angle_fmt}} "
                f"{100 * acc:>6.1f} {seconds:>7.1f}"
            )

        print(
            f"  -- mu = {mu:g} (peers' mu = {1 / mu:g}); exact top-{N_COMPONENTS} sum "
            f"{vals.sum():.6g} from scipy.linalg.eigh(A, B)"
        )
        t = time.perf_counter()
        # eigen_solver="auto" is ARPACK here (more than 1000 rows)
        ours_a = TCA(N_COMPONENTS, kernel="rbf", gamma=GAMMA, mu=mu, random_state=0)
        ours_a.fit(Xs, ys, Xt_u=Xt)
        seconds = time.perf_counter() - t
        row("skntl TCA", ours_a.components_, ours_a.transform(X), seconds, angle_fmt=".2e")
        if skada_mod is not None:
            _, SkadaTCA, _ = skada_mod
            sd = np.r_[np.ones(n_s, dtype=int), -np.ones(n - n_s, dtype=int)]
            t = time.perf_counter()
            # skada's TCA takes no gamma: pairwise_kernels(metric="rbf") uses 1/n_features
            peer = SkadaTCA(kernel="rbf", n_components=N_COMPONENTS, mu=1 / mu)
            peer.fit(X, sample_domain=sd)
            seconds = time.perf_counter() - t
            row("skada TransferComponentAnalysis", peer.eigvects_, K @ peer.eigvects_, seconds)
        if adapt_mod is not None:
            AdaptTCA, _ = adapt_mod
            t = time.perf_counter()
            peer = AdaptTCA(
                None,
                n_components=N_COMPONENTS,
                mu=1 / mu,
                kernel="rbf",
                gamma=GAMMA,
                verbose=0,
                random_state=0,
            )
            peer.fit_transform(Xs, Xt)
            seconds = time.perf_counter() - t
            row("ADAPT TCA", peer.vectors_, K @ peer.vectors_, seconds)
    # The matrix both peers hand to a symmetric eigensolver
    B = np.outer(u, u) + np.eye(n)
    M = np.linalg.solve(B, A)
    asym = np.linalg.norm(M - M.T) / np.linalg.norm(M)
    print(
        f"  (I + KLK)^-1 KHK is not symmetric: ||M - M^T||_F / ||M||_F = {asym:.3f}; "
        "numpy/scipy eigh read only its lower triangle"
    )


def adapt_unused_rows(n, max_size, random_state):
    """Source rows ADAPT's KMM.fit_weights never passes to a solver (its split, replayed)."""
    if n <= max_size:
        return np.array([], dtype=int)
    size, power = n, 0
    while size > max_size:
        size, power = size / 2, power + 1
    split = int(n / 2**power)
    np.random.seed(random_state)
    shuffled = np.random.choice(n, n, replace=False)
    return np.sort(shuffled[split * 2**power :])


def compare_kmm(Xs, ys, Xt, yt, skada_mod, adapt_mod, B, full=True):
    n_s = len(Xs)
    eps = (np.sqrt(n_s) - 1) / np.sqrt(n_s)
    K = rbf_kernel(Xs, gamma=GAMMA)
    kappa = (n_s / len(Xt)) * rbf_kernel(Xs, Xt, gamma=GAMMA).sum(axis=1)
    print(
        f"\n== KMM: rbf gamma=1/800, B = {B:g}, eps = (sqrt(n_s)-1)/sqrt(n_s) = {eps:.4f}, "
        f"n_s = {n_s}, n_t = {len(Xt)} =="
    )
    print(
        f"  constraints: 0 <= beta_i <= {B:g}, {n_s * (1 - eps):.1f} <= sum(beta) <= "
        f"{n_s * (1 + eps):.1f}"
    )
    runs = []
    t = time.perf_counter()
    ours = KMM(kernel="rbf", gamma=GAMMA, B=B, random_state=0).fit(Xs, ys, Xt_u=Xt)
    runs.append(("skntl KMM (apg, default)", ours.weights_, time.perf_counter() - t))
    t = time.perf_counter()
    beta, _, _ = kmm_weights(K, kappa, B, eps, solver="cvxpy")
    runs.append(("skntl KMM (cvxpy)", beta, time.perf_counter() - t))
    if skada_mod is not None:
        _, _, SkadaKMM = skada_mod
        X = np.vstack([Xs, Xt])
        sd = np.r_[np.ones(n_s, dtype=int), -np.ones(len(Xt), dtype=int)]
        for solver in ("frank-wolfe", "scipy") if full else ("frank-wolfe",):
            t = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                peer = SkadaKMM(kernel="rbf", gamma=GAMMA, B=B, solver=solver).fit(
                    X, sample_domain=sd
                )
            label = "skada (frank-wolfe, default)" if solver == "frank-wolfe" else "skada (scipy)"
            runs.append((label, peer.source_weights_, time.perf_counter() - t))
    unused = None
    if adapt_mod is not None:
        _, AdaptKMM = adapt_mod
        for max_size in (1000, 2000) if full else (1000,):
            t = time.perf_counter()
            peer = AdaptKMM(
                None, kernel="rbf", gamma=GAMMA, B=B, max_size=max_size, verbose=0, random_state=0
            )
            beta = peer.fit_weights(Xs, Xt)
            label = f"ADAPT (max_size={max_size}{', default' if max_size == 1000 else ''})"
            runs.append((label, beta, time.perf_counter() - t))
            if max_size == 1000:
                unused = (adapt_unused_rows(n_s, max_size, 0), beta)
    feasible = [
        0.5 * b @ K @ b - kappa @ b
        for _, b, _ in runs
        if b.min() >= -1e-6
        and b.max() <= B + 1e-6
        and n_s * (1 - eps) - 1e-6 <= b.sum() <= n_s * (1 + eps) + 1e-6
    ]
    f_best = min(feasible)
    print(
        f"  {'method':<30} {'objective':>12} {'rel. gap':>9} {'min beta':>9} "
        f"{'max beta':>9} {'box viol.':>9} {'sum/n_s':>7} {'sum viol.':>9} {'zeros':>5} "
        f"{'acc %':>5} "
        f"{'time s':>6}"
    )
    for name, beta, seconds in runs:
        kmm_report(
            name, np.asarray(beta, dtype=float), K, kappa, B, eps, f_best, Xs, ys, Xt, yt, seconds
        )
    print(
        "  rel. gap = (f - f_best) / |f_best|, f_best = lowest objective among the feasible "
        "weights; box viol. = max(max beta - B, -min beta, 0);"
    )
    print(
        "  sum viol. = distance of sum(beta) outside its interval; acc = LogisticRegression "
        "on the weighted source, scored on amazon"
    )
    if unused is not None and len(unused[0]):
        rows, beta = unused
        print(
            f"  ADAPT max_size=1000 splits the {n_s} source rows into chunks of "
            f"{int(n_s / 2 ** int(np.ceil(np.log2(n_s / 1000))))} and never solves for rows "
            f"{rows.tolist()}: their weights are {np.asarray(beta)[rows].tolist()}"
        )


def check_skada_dann(Xs, ys, Xt, yt, skada_mod):
    print("\n== skada DANN with its default domain classifier ==")
    if skada_mod is None:
        print("  skipped: skada not importable")
        return
    try:
        import torch
        from skada.deep import DANN
        from skada.deep.modules import DomainClassifier
        from torch import nn
    except ImportError as exc:
        print(f"  skipped: skada.deep not importable ({exc})")
        return
    torch.manual_seed(0)
    head = DomainClassifier(num_features=64)
    f = torch.randn(256, 64, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = head(f)
    loss = nn.BCELoss()(out, torch.zeros(256))
    loss.backward()
    grad = max(p.grad.abs().max().item() for p in head.parameters())
    print(
        f"  DomainClassifier(num_features=64) on 256 random features: output in "
        f"[{out.min().item():g}, {out.max().item():g}], BCE(source = 0) = {loss.item():g}, "
        f"max |grad| to its weights {grad:g}, to the features {f.grad.abs().max().item():g}"
    )

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.feat = nn.Sequential(nn.Linear(Xs.shape[1], 64), nn.ReLU())
            self.fc = nn.Linear(64, 10)

        def forward(self, x, sample_weight=None):
            return self.fc(self.feat(x))

    X = np.vstack([Xs, Xt]).astype(np.float32)
    y = np.r_[ys, -np.ones(len(Xt), dtype=ys.dtype)]  # skada masks target labels with -1
    sd = np.r_[np.ones(len(Xs), dtype=int), -2 * np.ones(len(Xt), dtype=int)]
    from skada.deep.modules import GradientReversalLayer

    class SigmoidHead(nn.Module):
        """DomainClassifier's layers with a sigmoid instead of a 1-way softmax."""

        def __init__(self, n):
            super().__init__()
            self.net = nn.Sequential(
                nn.Linear(n, 100), nn.BatchNorm1d(100), nn.ReLU(), nn.Linear(100, 1), nn.Sigmoid()
            )

        def forward(self, x, sample_weight=None):
            return self.net(GradientReversalLayer.apply(x, 1.0)).squeeze(1)

    results = {}
    for reg, head in ((1.0, None), (0.0, None), ("1, sigmoid head", SigmoidHead)):
        torch.manual_seed(0)
        net = DANN(
            Net(),
            layer_name="feat",
            reg=1.0 if head else reg,
            domain_classifier=head(64) if head else None,
            num_features=64,
            max_epochs=10,
            batch_size=64,
            train_split=None,
            verbose=0,
            lr=0.01,
            optimizer=torch.optim.SGD,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            net.fit(X, y, sample_domain=sd)
            target = -2 * np.ones(len(Xt), dtype=int)
            pred = net.predict(Xt.astype(np.float32), sample_domain=target)
            acc = float(np.mean(pred == yt))
        params = [p.detach().clone() for p in net.module_.base_module_.parameters()]
        results[reg] = (params, [h["train_loss"] for h in net.history], acc)

    def diff(a, b):
        return max((p - q).abs().max().item() for p, q in zip(results[a][0], results[b][0]))

    for reg in results:
        _, losses, acc = results[reg]
        print(
            f"  DANN(reg={reg}), 10 epochs, seed 0: train_loss per epoch "
            f"{losses[0]:.4f} ... {losses[-1]:.4f}, amazon accuracy {100 * acc:.1f}%"
        )
    print(
        f"  max |parameter difference| after training, reg=1 vs reg=0: {diff(1.0, 0.0):g}; "
        f"sigmoid head vs reg=0: {diff('1, sigmoid head', 0.0):.3g}"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only",
        nargs="+",
        choices=("tca", "kmm", "dann"),
        default=("tca", "kmm", "dann"),
        help="sections to run",
    )
    only = parser.parse_args().only
    skada_mod, skada_version = load_skada()
    adapt_mod, adapt_version = load_adapt()
    print("Office-Caltech10 SURF, caltech -> amazon (load_office_caltech, preprocess='standard')")
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}, "
        f"scikit-learn {sklearn.__version__}"
    )
    print(
        f"skada: {skada_version}; ADAPT: {adapt_version} (TCA/KMM files executed without "
        "TensorFlow)"
    )
    Xs, ys = load_office_caltech("caltech", return_X_y=True)
    Xt, yt = load_office_caltech("amazon", return_X_y=True)
    if "tca" in only:
        compare_tca(Xs, ys, Xt, yt, skada_mod, adapt_mod, mus=(1.0, 10.0))
    if "kmm" in only:
        compare_kmm(Xs, ys, Xt, yt, skada_mod, adapt_mod, B=1000.0)
        compare_kmm(Xs, ys, Xt, yt, skada_mod, adapt_mod, B=2.0, full=False)
    if "dann" in only:
        check_skada_dann(Xs, ys, Xt, yt, skada_mod)


if __name__ == "__main__":
    main()
