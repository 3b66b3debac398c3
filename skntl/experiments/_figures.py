"""The paper's Figures 3 and 4, and the demo's weight plot (matplotlib, PNG)."""

from pathlib import Path

import numpy as np

__all__ = ["plot_figure3", "plot_figure4", "plot_weights"]

# Colours of the paper's Figure 3 (:ref:`method-figure3`).
_FIG3_CURVES = {
    "Net_S": "black", "Net_T": "orange", "DANN": "tab:blue", "DANN_T": "tab:green",
    "DANN_gate": "tab:red",
}


def _pyplot():
    import matplotlib.pyplot as plt  # imported on first use: the package imports no plotting

    return plt


def _select_task(df, task):
    tasks = list(df["task"].unique())
    if task is None:
        if len(tasks) != 1:
            raise ValueError(f"the results hold several tasks {tasks}; pass task=.")
        return df, tasks[0]
    if task not in tasks:
        raise ValueError(f"task {task!r} is not in the results; they hold {tasks}.")
    return df[df["task"] == task], task


def _cap_is(series, cap):
    return series.isna() if cap is None else series == cap


def _curve(rows, by):
    g = rows.groupby(by)["accuracy"]
    return g.mean().index.to_numpy(float), 100 * g.mean().to_numpy(), 100 * g.std(ddof=1).to_numpy()


def plot_figure3(results, task=None, *, labeled_ratio=0.2, eps=0.2, cap_a=3, cap_b=None):
    """Figure 3: accuracy against ε at fixed L% (a) and against L% at fixed ε (b).

    Curves follow the paper: Net_S / Net_T (the network trained on the
    source only / on the labeled target only; the paper's Res_S / Res_T),
    DANN, DANN_T and DANN_gate, mean over seeds with ±1 std bands. Panel (a)
    uses runs with the per-class label cap ``cap_a`` and panel (b) runs with
    ``cap_b`` (:ref:`decision D26 <decision-d26>`: the paper's panels
    disagree unless (a) was capped at 3 labels per class and (b) was not).

    Parameters
    ----------
    results : pandas.DataFrame
        A frame from :func:`load_results`.
    task : str, default=None
        The task to plot (needed when the results hold several).
    labeled_ratio : float, default=0.2
        L% of panel (a).
    eps : float, default=0.2
        ε = ε_x = ε_y of panel (b).
    cap_a, cap_b : int or None, default=3, None
        Label caps of the two panels.

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    plt = _pyplot()
    df, task = _select_task(results, task)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
    a = df[(_cap_is(df["max_labeled_per_class"], cap_a) & (df["labeled_ratio"] == labeled_ratio))
           | (df["role"] == "source_only")]
    in_b = _cap_is(df["max_labeled_per_class"], cap_b)
    b = df[in_b & ((df["eps_x"] == eps) | df["role"].isin(["twin", "labeled_only"]))]
    xs_a = np.sort(a.loc[a["role"] == "transfer", "eps_x"].unique())
    xs_b = np.sort(b.loc[b["role"] == "transfer", "labeled_ratio"].unique())
    for ax, panel, by, xs, flat in ((axes[0], a, "eps_x", xs_a, ("Net_T", "DANN_T")),
                                    (axes[1], b, "labeled_ratio", xs_b, ("Net_S",))):
        if panel.empty or not len(xs):
            raise ValueError(f"no runs for panel {'a' if by == 'eps_x' else 'b'} of Figure 3.")
        for name, colour in _FIG3_CURVES.items():
            rows = panel[panel["name"] == name]
            if name == "Net_S" and by == "labeled_ratio":
                rows = rows[rows["eps_x"] == eps]
            if rows.empty:
                continue
            if name in flat:  # does not depend on the x variable: a flat line
                m, s = 100 * rows["accuracy"].mean(), 100 * rows["accuracy"].std(ddof=1)
                x, mean, std = xs, np.full(len(xs), m), np.full(len(xs), s)
            else:
                x, mean, std = _curve(rows, by)
            x_plot = x if by == "eps_x" else 100 * x
            ax.plot(x_plot, mean, "-o", color=colour, mfc="none", label=name)
            ax.fill_between(x_plot, mean - np.nan_to_num(std), mean + np.nan_to_num(std),
                            color=colour, alpha=0.12, lw=0)
        ax.set_ylabel("accuracy (%)")
        ax.grid(alpha=0.3)
    axes[0].set_xlabel("perturbation rate ε")
    cap = f", ≤{cap_a}/class" if cap_a else ""
    axes[0].set_title(f"(a) {task}: L% = {100 * labeled_ratio:g}{cap}")
    axes[0].legend(loc="lower left")
    axes[1].set_xlabel("labeled target data (%)")
    axes[1].set_title(f"(b) {task}: ε = {eps:g}")
    axes[1].legend(loc="lower right")
    return fig


def _pick(df, name, task, eps, labeled_ratio, seed):
    sel = df[(df["name"] == name) & (df["task"] == task) & (df["eps_x"] == eps)
             & (df["labeled_ratio"] == labeled_ratio) & (df["seed"] == seed)
             & (df["role"] == "transfer")]
    if sel.empty:
        raise ValueError(f"no {name} run for {task} at ε={eps}, L%={labeled_ratio}, seed={seed}.")
    return sel.iloc[0]


def plot_figure4(results, artifacts_dir, task=None, *, eps=0.7, labeled_ratio=0.3, seed=0,
                 threshold=0.4, max_points=1500, random_state=0, gated="DANN_gate"):
    """Figure 4: t-SNE of bottleneck features, D's outputs and their group means.

    Reads the arrays a run saved (spec ``artifacts = true``) for DANN and
    the gated model named by ``gated``. Top row, coloured by domain: (a) DANN,
    (b) the gated model with source rows of weight > ``threshold``
    highlighted, (c) the gated model keeping only those rows; (d) histograms
    of D's output on every source row (D, not ω; DANN's marginal D, the gated
    model's joint D).
    Bottom row: (e)–(g) the same embeddings coloured by class, (h) the mean D
    output on perturbed vs unperturbed source rows (:ref:`decision D4
    <decision-d4>`; what is plotted is :ref:`decision D27 <decision-d27>`).

    Parameters
    ----------
    results : pandas.DataFrame
        A frame from :func:`load_results`.
    artifacts_dir : str or path-like
        The store's artifacts folder (:attr:`ResultsStore.artifacts_dir`).
    task : str, default=None
        Task (needed when the results hold several).
    eps, labeled_ratio : float, default=0.7, 0.3
        The setting (the paper's A→W, ε = 0.7, L% = 30%).
    seed : int, default=0
        Which repeat to show.
    threshold : float, default=0.4
        The weight above which a source row counts as trusted (the paper's 0.4).
    max_points : int, default=1500
        Rows per domain given to t-SNE (a random subset beyond that).
    random_state : int, default=0
        Seeds the subset and t-SNE.
    gated : str, default="DANN_gate"
        The gated model to show beside DANN, by its name in ``results``:
        ``"DANN_gate"`` (skntl's gate) or ``"DANN_gate-paper"`` (the
        paper's). skntl's gate trains D on detached features, so D tells
        source from target pairs apart and its raw output is near 0 on
        every source row; only ω relative to its batch mean weights
        training, and the fixed ``threshold`` says little about it.

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    from sklearn.manifold import TSNE

    plt = _pyplot()
    df, task = _select_task(results, task)
    arrays = {}
    for name in ("DANN", gated):
        run_id = _pick(df, name, task, eps, labeled_ratio, seed)["run_id"]
        path = Path(artifacts_dir) / f"{run_id}.npz"
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing: run the spec with artifacts = true.")
        with np.load(path) as f:
            arrays[name] = dict(f)
    rng = np.random.RandomState(random_state)
    fig, axes = plt.subplots(2, 4, figsize=(17, 8), constrained_layout=True)
    panels = (("DANN", False, "(a) DANN", "(e)"), (gated, False, f"(b) {gated}", "(f)"),
              (gated, True, f"(c) {gated}, source weight > {threshold:g}", "(g)"))
    for col, (name, keep_trusted, title, title_class) in enumerate(panels):
        a = arrays[name]
        src_rows = np.flatnonzero(a["d"] > threshold) if keep_trusted else np.arange(len(a["d"]))
        src_rows = rng.permutation(src_rows)[:max_points]
        tgt_rows = rng.permutation(len(a["features_target"]))[:max_points]
        feats = np.vstack([a["features_source"][src_rows], a["features_target"][tgt_rows]])
        emb = TSNE(init="pca", random_state=random_state,
                   perplexity=min(30, max(5, len(feats) // 4))).fit_transform(feats)
        ns = len(src_rows)
        trusted = a["d"][src_rows] > threshold
        ax = axes[0, col]
        ax.scatter(*emb[:ns][~trusted].T, s=4, c="tab:red", label="source")
        ax.scatter(*emb[:ns][trusted].T, s=4, c="gold" if name == gated else "tab:red",
                   label=f"source, weight > {threshold:g}" if name == gated else None)
        ax.scatter(*emb[ns:].T, s=4, c="tab:blue", label="target")
        ax.set_title(title)
        ax.legend(loc="best", fontsize=7, markerscale=3)
        labels = np.concatenate([a["ys"][src_rows], a["yt_test"][tgt_rows]])
        codes = np.unique(labels, return_inverse=True)[1]
        axes[1, col].scatter(*emb.T, s=4, c=codes, cmap="tab10")
        axes[1, col].set_title(f"{title_class} {title[4:]}, by class")
        for ax in (axes[0, col], axes[1, col]):
            ax.set_xticks([])
            ax.set_yticks([])
    bins = np.linspace(0, 1, 101)
    axes[0, 3].hist(arrays["DANN"]["d"], bins=bins, color="tab:green", alpha=0.7, label="DANN")
    axes[0, 3].hist(arrays[gated]["d"], bins=bins, color="tab:blue", alpha=0.7, label=gated)
    axes[0, 3].set_xlabel("Weight")
    axes[0, 3].set_ylabel("Frequency")
    axes[0, 3].set_title("(d) Source sample weights")
    axes[0, 3].legend()
    means = []
    for name in ("DANN", gated):
        a = arrays[name]
        perturbed = a["x_mask"] | a["y_mask"]
        means.append((a["d"][perturbed].mean(), a["d"][~perturbed].mean()))
    x = np.arange(2)
    axes[1, 3].bar(x - 0.18, [m[0] for m in means], 0.36, color="tab:red", label="perturbed")
    axes[1, 3].bar(x + 0.18, [m[1] for m in means], 0.36, color="tab:blue", label="unperturbed")
    axes[1, 3].set_xticks(x, ["DANN", gated])
    axes[1, 3].set_ylabel("Avg Weight")
    axes[1, 3].set_title("(h) Average weights")
    axes[1, 3].legend()
    fig.suptitle(f"{task}, ε = {eps:g}, L% = {100 * labeled_ratio:g}, seed {seed}")
    return fig


def plot_weights(results, task=None):
    """Mean discriminator output and gate weight ω on clean vs perturbed source rows.

    One bar pair per model with a discriminator (e.g. DANN and DANN_gate), mean
    over seeds: the left panel shows D's output (:ref:`decision D27
    <decision-d27>`), the right
    one ω = D/(1−D), the weight the gate puts on a source row's loss (gated
    models only).

    Parameters
    ----------
    results : pandas.DataFrame
        A frame from :func:`load_results` (transfer runs are used).
    task : str, default=None
        Task (needed when the results hold several).

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    plt = _pyplot()
    df, task = _select_task(results, task)
    if "d_clean" in df:
        df = df[(df["role"] == "transfer") & df["d_clean"].notna()]
    if "d_clean" not in df or df.empty:
        raise ValueError("no transfer run with a discriminator in the results.")
    names = list(dict.fromkeys(df["name"]))
    gated = set(df.loc[df["gate"], "name"])
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), constrained_layout=True)
    for ax, key, label in ((axes[0], "d", "mean D output"), (axes[1], "omega", "mean ω")):
        shown = [n for n in names if key == "d" or n in gated]
        pos = np.arange(len(shown))
        clean = [df.loc[df["name"] == n, f"{key}_clean"].mean() for n in shown]
        pert = [df.loc[df["name"] == n, f"{key}_perturbed"].mean() for n in shown]
        ax.bar(pos - 0.18, pert, 0.36, color="tab:red", label="perturbed source rows")
        ax.bar(pos + 0.18, clean, 0.36, color="tab:blue", label="clean source rows")
        ax.set_xticks(pos, shown)
        ax.set_ylabel(label)
        ax.legend(fontsize=8)
    axes[0].set_title(f"{task}: discriminator output")
    axes[1].set_title("gate weight ω (gated models)")
    return fig
