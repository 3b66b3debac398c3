"""Time one DANN epoch against a raw torch loop doing the same steps.

Problem (issue 8): 2000 source + 2000 target rows × 64 features, MLP
64-128-64 + linear classifier, discriminator 64-256-256-1 (``--disc``), batches of 64 per
stream, Adam. The raw loop is the least a training loop can do: index-sliced
batches, one concatenated forward of F, the classifier and the GRL'd
discriminator, one backward, one step. DANN runs the same steps through
skorch (callbacks, history). DANN_gate is compared with DANN on the same data
(the issue's setting: no target labels, so the gate uses the marginal
discriminator, :ref:`decision D11 <decision-d11>`), and again with 200
labeled target rows (three streams, four discriminator terms, about 1.8x the
discriminator's arithmetic).

Run: ``python benchmarks/bench_dann.py [--repeats 5] [--threads 1]``. Each
timing is the best of ``repeats`` runs, all interleaved in one process, and
the ratios are what to read (absolute times drift on a shared machine). The
DANN / raw ratio is also given per repeat (DANN runs right after the raw
loop), as a median and quartiles: with many repeats, the steadier number.

Wall-clock ratios move by about ±0.08 between runs on a shared VM. A count
of the instructions executed does not: ``--callgrind raw`` (or ``dann``)
warms up, then runs that loop once (3 epochs) with callgrind's
instrumentation switched on, so that::

    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=/dev/null \
        python benchmarks/bench_dann.py --callgrind dann

prints the instructions of one DANN fit ("Collected"); divide by the same
for ``raw``. This is what the framework's own work costs, without the
machine's noise (it does not see cache or branch-prediction effects).
``raw-dann-ops`` is the raw loop doing DANN's own tensor operations (see
``raw_loop``): what those cost apart from the framework.
"""

import argparse
import os
import subprocess
import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from skntl.deep import DANN
from skntl.deep.modules import grad_reverse

N, D_IN, BATCH, EPOCHS = 2000, 64, 64, 3


def data(seed=0):
    rng = np.random.RandomState(seed)
    Xs = rng.randn(N, D_IN).astype(np.float32)
    ys = rng.randint(10, size=N)
    Xt = (rng.randn(N, D_IN) + 0.5).astype(np.float32)
    yt = rng.randint(10, size=N)
    return Xs, ys, Xt, yt


def raw_loop(Xs, ys, Xt, epochs, disc_hidden, dann_ops=False):
    """The raw loop; ``dann_ops`` does each step with DANN's own tensor operations.

    Those are: the features split and concatenated again for D, D's logits
    split per term, one BCE per term against a ``full_like`` target, a
    per-row cross-entropy and its mean, and the three ``.item()`` reads of
    the recorded losses. The difference to the plain raw loop is what those
    operations cost, apart from the framework around them.
    """
    torch.manual_seed(0)
    feat = nn.Sequential(nn.Linear(D_IN, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU())
    clf = nn.Linear(64, 10)
    sizes = (64, *disc_hidden)
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    disc = nn.Sequential(*layers, nn.Linear(sizes[-1], 1))
    params = [*feat.parameters(), *clf.parameters(), *disc.parameters()]
    opt = torch.optim.Adam(params, lr=1e-3)
    xs, ys_t, xt = torch.as_tensor(Xs), torch.as_tensor(ys), torch.as_tensor(Xt)
    steps = int(np.ceil(N / BATCH))
    total = epochs * steps
    dom = torch.cat([torch.zeros(BATCH), torch.ones(BATCH)])
    it = 0
    for _ in range(epochs):
        perm_s, perm_t = torch.randperm(N), torch.randperm(N)
        for k in range(steps):
            i = perm_s[k * BATCH:(k + 1) * BATCH]
            j = perm_t[k * BATCH:(k + 1) * BATCH]
            mu = 2 / (1 + np.exp(-10 * it / total)) - 1
            f = feat(torch.cat([xs[i], xt[j]]))
            if dann_ops:
                fs, fu = torch.split(f, [len(i), len(j)])
                zu, zs = torch.split(disc(grad_reverse(torch.cat([fu, fs]), mu)).squeeze(1),
                                     [len(j), len(i)])
                loss = (F.binary_cross_entropy_with_logits(zu, torch.full_like(zu, 1.0))
                        + F.binary_cross_entropy_with_logits(zs, torch.full_like(zs, 0.0)))
                loss.item()
                clf_loss = F.cross_entropy(clf(fs), ys_t[i], reduction="none").mean()
                clf_loss.item()
                loss = loss + clf_loss
            else:
                fs = f[:len(i)]
                loss = F.cross_entropy(clf(fs), ys_t[i])
                z = disc(grad_reverse(f, mu)).squeeze(1)
                loss = loss + F.binary_cross_entropy_with_logits(z, dom[:len(f)])
            opt.zero_grad()
            loss.backward()
            opt.step()
            if dann_ops:
                loss.item()
            it += 1


def skntl_fit(Xs, ys, Xt, yt, epochs, gate, n_labeled, disc_hidden):
    DANN(gate=gate, max_epochs=epochs, batch_size=BATCH, discriminator_hidden=disc_hidden,
         random_state=0).fit(
        Xs, ys, Xt[:n_labeled], yt[:n_labeled], Xt
    )


def count_instructions(which, Xs, ys, Xt, yt, disc):
    """Run one ``which`` loop between callgrind's instrumentation on and off."""
    run = {
        "raw": lambda: raw_loop(Xs, ys, Xt, EPOCHS, disc),
        "raw-dann-ops": lambda: raw_loop(Xs, ys, Xt, EPOCHS, disc, dann_ops=True),
        "dann": lambda: skntl_fit(Xs, ys, Xt, yt, EPOCHS, False, 0, disc),
    }[which]
    run()  # warm-up: lazy initialisation stays outside the count

    def switch(state):
        subprocess.run(["callgrind_control", "-i", state, str(os.getpid())],
                       check=True, capture_output=True)

    switch("on")
    run()
    switch("off")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--disc", type=int, nargs="+", default=None,
                        help="discriminator hidden widths (default: DANN's default)")
    parser.add_argument("--callgrind", choices=["raw", "raw-dann-ops", "dann"], default=None,
                        help="run one loop with callgrind's instrumentation on (see above)")
    args = parser.parse_args()
    disc = tuple(args.disc) if args.disc else DANN().discriminator_hidden
    torch.set_num_threads(args.threads)
    Xs, ys, Xt, yt = data()
    if args.callgrind:
        return count_instructions(args.callgrind, Xs, ys, Xt, yt, disc)
    runs = {
        "raw torch loop": lambda: raw_loop(Xs, ys, Xt, EPOCHS, disc),
        "DANN (no labels)": lambda: skntl_fit(Xs, ys, Xt, yt, EPOCHS, False, 0, disc),
        "DANN_gate (no labels)": lambda: skntl_fit(Xs, ys, Xt, yt, EPOCHS, True, 0, disc),
        "DANN (200 labels)": lambda: skntl_fit(Xs, ys, Xt, yt, EPOCHS, False, 200, disc),
        "DANN_gate (200 labels)": lambda: skntl_fit(Xs, ys, Xt, yt, EPOCHS, True, 200, disc),
    }
    times = {name: [] for name in runs}
    for fn in runs.values():  # warm-up
        fn()
    for _ in range(args.repeats):
        for name, fn in runs.items():
            t0 = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - t0) / EPOCHS)
    best = {name: min(t) for name, t in times.items()}
    # each repeat runs DANN right after the raw loop: their ratio shares that moment's load
    paired = np.asarray(times["DANN (no labels)"]) / np.asarray(times["raw torch loop"])
    q1, median, q3 = np.percentile(paired, [25, 50, 75])
    print(f"torch {torch.__version__}, {args.threads} thread(s), best of {args.repeats}, "
          f"discriminator 64-{'-'.join(map(str, disc))}-1")
    for name, t in best.items():
        print(f"  {name:<24} {t * 1000:7.1f} ms/epoch")
    print(f"DANN / raw loop           {best['DANN (no labels)'] / best['raw torch loop']:.2f}x"
          "  (target <= 1.3)")
    print(f"  paired, per repeat      median {median:.2f}x, quartiles {q1:.2f}-{q3:.2f}x")
    print(f"DANN_gate / DANN          "
          f"{best['DANN_gate (no labels)'] / best['DANN (no labels)']:.2f}x  (target <= 1.25)")
    print(f"  with 200 target labels  "
          f"{best['DANN_gate (200 labels)'] / best['DANN (200 labels)']:.2f}x  (four discriminator "
          "terms instead of two: ~1.8x the discriminator's work)")


if __name__ == "__main__":
    main()
