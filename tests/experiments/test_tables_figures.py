import numpy as np
import pytest
from matplotlib.image import imread

from skntl.experiments import (
    Run,
    load_results,
    make_table,
    plot_figure3,
    plot_figure4,
    plot_weights,
    table_frame,
)


def _cell(df, **where):
    sel = df
    for key, value in where.items():
        sel = sel[sel[key] == value]
    return 100 * sel["accuracy"].to_numpy(float)


def test_load_results_drops_failures_unless_asked(fixture_store):
    ok = load_results(fixture_store.path)
    everything = load_results(fixture_store.path, include_errors=True)
    assert len(everything) == len(ok) + 1
    assert set(everything["status"]) == {"ok", "error"}


def test_table1_cells_are_mean_std_ntg_and_delta_of_the_runs(fixture_store):
    df = load_results(fixture_store.path)
    table = table_frame(df, 1)
    assert list(table.columns) == ["ε=0.3", "ε=0.7", "Avg"]
    assert len(table) == 2 * 2 * 5  # tasks x L% x (DANN, NTG1, DANN_gate, NTG2, Δ)
    task, ratio, eps = "surf:C->A", 0.3, 0.7
    base = _cell(df, task=task, name="DANN", labeled_ratio=ratio, eps_x=eps)
    gate = _cell(df, task=task, name="DANN_gate", labeled_ratio=ratio, eps_x=eps)
    twin = _cell(df, task=task, name="DANN_T", labeled_ratio=ratio)
    assert len(base) == len(gate) == len(twin) == 3
    col = table.sort_index().xs((task, "30%"))["ε=0.7"]
    assert col["DANN"] == f"{base.mean():.1f} ± {base.std(ddof=1):.1f}"
    assert col["DANN_gate"] == f"{gate.mean():.1f} ± {gate.std(ddof=1):.1f}"
    assert col["NTG1"] == f"{twin.mean() - base.mean():.1f}"
    assert col["NTG2"] == f"{twin.mean() - gate.mean():.1f}"
    assert col["Δ"] == f"{gate.mean() - base.mean():+.1f}"
    other = _cell(df, task=task, name="DANN", labeled_ratio=ratio, eps_x=0.3)
    assert table.loc[(task, "30%", "DANN"), "Avg"] == f"{(base.mean() + other.mean()) / 2:.1f}"
    text = make_table(df, 1)
    assert text.startswith("| task | L% |  | ε=0.3 | ε=0.7 | Avg |")
    collapsed = df[df["collapsed"].astype(bool)]
    assert 0 < len(collapsed) < len(df)
    counts = collapsed["name"].value_counts().sort_index()
    per_name = ", ".join(f"{k} {v}" for k, v in counts.items())
    assert text.splitlines()[-1] == (
        f"Collapsed fits (classifier at chance level in training): {len(collapsed)} of "
        f"{len(df)} ({per_name}).")
    assert text.count("\n") == len(table) + 2 + 2
    assert make_table(df, 1, fmt="csv").splitlines()[0] == "task,L%,,ε=0.3,ε=0.7,Avg"


def test_table2_cells_are_accuracy_with_ntg_and_a_delta_per_method(fixture_store):
    df = load_results(fixture_store.path)
    one = df[(df["eps_x"] == 0.7) & (df["labeled_ratio"] == 0.1)
             | ((df["role"] == "twin") & (df["labeled_ratio"] == 0.1))]
    one = one[one["gate_variant"].isin(["full", "default"])]
    table = table_frame(one, 2)
    assert list(table.index) == ["DANN", "DANN_gate", "Δ_DANN", "ΔAvg"]
    assert list(table.columns) == ["surf:C->A", "decaf6:W->D", "Avg"]
    base = _cell(one, task="decaf6:W->D", name="DANN", role="transfer")
    gate = _cell(one, task="decaf6:W->D", name="DANN_gate")
    twin = _cell(one, task="decaf6:W->D", name="DANN_T")
    expected = f"{base.mean():.1f} ({twin.mean() - base.mean():.1f})"
    assert table.loc["DANN", "decaf6:W->D"] == expected
    assert table.loc["Δ_DANN", "decaf6:W->D"] == f"{gate.mean() - base.mean():+.1f}"
    with pytest.raises(ValueError, match="single setting"):
        table_frame(df, 2)  # the fixture holds four (ε, L%) settings


def test_table4_lists_the_variants_twin_and_oracle_per_setting(fixture_store):
    df = load_results(fixture_store.path)
    table = table_frame(df[df["task"] == "surf:C->A"], 4)
    assert list(table.index) == ["DANN", "DANN_T", "DANN_oracle", "DANN_joint", "DANN_gate"]
    assert len(table.columns) == 4 + 1  # (ε, L%) settings + Avg
    col = "ε_x=0.7, ε_y=0.7, L%=10"
    sub = df[df["task"] == "surf:C->A"]
    oracle = _cell(sub, name="DANN_oracle", eps_x=0.7, labeled_ratio=0.1)
    assert table.loc["DANN_oracle", col] == f"{oracle.mean():.1f}"
    twin = _cell(sub, name="DANN_T", labeled_ratio=0.1)
    assert table.loc["DANN_T", col] == f"{twin.mean():.1f}"  # the twin does not depend on ε
    with pytest.raises(ValueError, match="single task"):
        table_frame(df, 4)


def test_table3_needs_covariate_shift_runs(fixture_store):
    with pytest.raises(ValueError, match="ε_y = 0"):
        table_frame(load_results(fixture_store.path), 3)
    with pytest.raises(ValueError, match="1, 2, 3, 4"):
        table_frame(load_results(fixture_store.path), 5)


def _png_ok(fig, path):
    fig.savefig(path)
    image = imread(path)
    assert path.stat().st_size > 10_000
    assert image.ndim == 3 and image.shape[0] > 200 and image.shape[1] > 400
    # not a blank canvas
    assert image[..., :3].std() > 0.05


@pytest.mark.slow
def test_figure3_panels_have_the_papers_axes_and_curves(fixture_store, tmp_path):
    df = load_results(fixture_store.path)
    fig = plot_figure3(df, "surf:C->A", labeled_ratio=0.1, eps=0.3, cap_a=None)
    a, b = fig.axes
    assert a.get_xlabel() == "perturbation rate ε" and a.get_ylabel() == "accuracy (%)"
    assert b.get_xlabel() == "labeled target data (%)" and b.get_ylabel() == "accuracy (%)"
    assert {line.get_label() for line in a.get_lines()} == {
        "Net_S", "Net_T", "DANN", "DANN_T", "DANN_gate"}
    dann = next(line for line in a.get_lines() if line.get_label() == "DANN")
    sub = df[(df["task"] == "surf:C->A") & (df["name"] == "DANN") & (df["labeled_ratio"] == 0.1)]
    expected = 100 * sub.groupby("eps_x")["accuracy"].mean().to_numpy()
    np.testing.assert_allclose(dann.get_ydata(), expected)
    np.testing.assert_allclose(b.get_lines()[2].get_xdata(), [10, 30])  # L% in percent
    _png_ok(fig, tmp_path / "fig3.png")
    with pytest.raises(ValueError, match="several tasks"):
        plot_figure3(df)


def _fake_artifacts(store, df, rng):
    store.artifacts_dir.mkdir()
    for name in ("DANN", "DANN_gate"):
        row = df[(df["name"] == name) & (df["eps_x"] == 0.7) & (df["labeled_ratio"] == 0.3)
                 & (df["seed"] == 0) & (df["task"] == "surf:C->A")].iloc[0]
        n, m = 120, 80
        np.savez(store.artifacts_dir / f"{row['run_id']}.npz",
                 d=rng.uniform(0, 1, n), ys=rng.randint(0, 10, n), x_mask=rng.rand(n) < 0.7,
                 y_mask=rng.rand(n) < 0.7, yt_test=rng.randint(0, 10, m),
                 features_source=rng.randn(n, 8), features_target=rng.randn(m, 8))


@pytest.mark.slow
def test_figure4_reads_artifacts_and_labels_its_panels(fixture_store, tmp_path):
    df = load_results(fixture_store.path)
    with pytest.raises(FileNotFoundError, match="artifacts = true"):
        plot_figure4(df, fixture_store.artifacts_dir, "surf:C->A")
    _fake_artifacts(fixture_store, df, np.random.RandomState(0))
    fig = plot_figure4(df, fixture_store.artifacts_dir, "surf:C->A")
    hist, bars = fig.axes[3], fig.axes[7]
    assert (hist.get_xlabel(), hist.get_ylabel()) == ("Weight", "Frequency")
    assert bars.get_ylabel() == "Avg Weight"
    assert len(hist.patches) == 2 * 100  # two histograms of 100 bins on [0, 1]
    heights = [p.get_height() for p in bars.patches]
    with np.load(next(fixture_store.artifacts_dir.glob("*.npz"))) as f:
        assert any(np.isclose(h, f["d"][f["x_mask"] | f["y_mask"]].mean()) for h in heights)
    assert fig.axes[1].get_title() == "(b) DANN_gate"
    with pytest.raises(ValueError, match="no DANN_gate-paper run"):
        plot_figure4(df, fixture_store.artifacts_dir, "surf:C->A", gated="DANN_gate-paper")
    _png_ok(fig, tmp_path / "fig4.png")


def test_weights_plot_shows_d_and_omega_by_group(fixture_store, tmp_path):
    df = load_results(fixture_store.path)
    df = df[(df["task"] == "decaf6:W->D") & df["gate_variant"].isin(["full", "default"])]
    fig = plot_weights(df)
    d_ax, w_ax = fig.axes
    assert d_ax.get_ylabel() == "mean D output" and w_ax.get_ylabel() == "mean ω"
    assert [t.get_text() for t in d_ax.get_xticklabels()] == ["DANN", "DANN_gate"]
    assert [t.get_text() for t in w_ax.get_xticklabels()] == ["DANN_gate"]
    gate = df[(df["name"] == "DANN_gate")]
    assert w_ax.patches[0].get_height() == pytest.approx(gate["omega_perturbed"].mean())
    _png_ok(fig, tmp_path / "w.png")


def test_fixture_runs_roundtrip(fixture_store):
    from skntl.experiments._store import runs_of

    df = load_results(fixture_store.path)
    runs = runs_of(df)
    assert all(isinstance(r, Run) for r in runs)
    assert [r.run_id for r in runs] == list(df["run_id"])
