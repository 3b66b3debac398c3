"""audit_source, audit_summary and plot_source_audit (skntl.audit).

The problem: 3 Gaussian classes in 5-D (make_transfer_blobs, the target
shifted by 1), 300 source rows with half of their labels redrawn at random
(ε_y = 0.5, about a third of the rows end up with a wrong label), 60 labeled
target rows. Small nets (one hidden layer of 16, 20 epochs): the whole file
takes about 15 s on 2 cores.
"""

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.utils.validation import check_is_fitted

from skntl import DANN, KMM, TCA
from skntl.audit import COLUMNS, audit_source, audit_summary, plot_source_audit
from skntl.datasets import make_transfer_blobs
from skntl.perturbation import perturb_source


def _problem(seed=0):
    Xs, ys, Xt, yt = make_transfer_blobs(
        300, 200, n_features=5, n_classes=3, marginal_shift=1.0, random_state=seed
    )
    _, ys_noisy, _, y_mask = perturb_source(Xs, ys, eps_y=0.5, random_state=seed)
    return dict(
        Xs=Xs,
        ys=ys_noisy,
        wrong=ys_noisy != ys,
        y_mask=y_mask,
        Xl=Xt[:60],
        yl=yt[:60],
        Xu=Xt,
    )


def _gate(seed=0):
    return DANN(gate=True, hidden_layer_sizes=(16,), max_epochs=20, random_state=seed)


def _args(p):
    return p["Xs"], p["ys"], p["Xl"], p["yl"], p["Xu"]


@pytest.fixture(scope="module")
def problem():
    return _problem()


@pytest.fixture(scope="module")
def fitted_gate(problem):
    return _gate().fit(*_args(problem))


@pytest.fixture(scope="module")
def fitted_kmm(problem):
    return KMM(random_state=0).fit(*_args(problem))


@pytest.fixture(scope="module")
def audits(problem, fitted_gate, fitted_kmm):
    """Default audits (ranked by label agreement), with the labeled target rows."""
    return {
        kind: audit_source(model, *_args(problem), random_state=0)
        for kind, model in (("gate", fitted_gate), ("kmm", fitted_kmm))
    }


@pytest.fixture(scope="module")
def weight_audits(problem, fitted_gate, fitted_kmm):
    """Audits ranked by the method's weight."""
    return {
        kind: audit_source(model, problem["Xs"], problem["ys"], order="weight")
        for kind, model in (("gate", fitted_gate), ("kmm", fitted_kmm))
    }


@pytest.fixture(autouse=True)
def _agg_backend():
    matplotlib.use("Agg")  # no display needed
    yield
    plt.close("all")


# ------------------------------------------------------------------ the table


@pytest.mark.parametrize("kind", ["gate", "kmm"])
def test_one_row_per_source_row_with_the_documented_columns(audits, problem, kind):
    audit = audits[kind]
    n = len(problem["Xs"])
    assert tuple(audit.columns) == COLUMNS
    assert audit.index.equals(pd.RangeIndex(n))
    np.testing.assert_array_equal(audit["label"], problem["ys"])
    weight = audit["weight"].to_numpy()
    np.testing.assert_allclose(audit["relative_weight"], weight / weight.mean())
    assert audit["relative_weight"].mean() == pytest.approx(1.0)
    np.testing.assert_array_equal(audit["suspect"], audit["rank"] <= 30)  # 10% of 300
    assert audit["suspect"].dtype == bool
    assert audit.attrs["estimator"] == {"gate": "DANN", "kmm": "KMM"}[kind]
    assert audit.attrs["fraction"] == 0.1
    assert audit.attrs["order"] == "agreement"


def _min_rank(key):
    """1 + the number of strictly lower keys: ties share the lowest rank."""
    return 1 + (key[None, :] < key[:, None]).sum(axis=1)


@pytest.mark.parametrize("kind", ["gate", "kmm"])
def test_rank_one_is_the_least_trusted_row_and_ties_share_a_rank(weight_audits, kind):
    audit = weight_audits[kind]
    assert audit["agreement"].isna().all()  # not computed for order="weight"
    assert audit.attrs["order"] == "weight"
    rank, weight = audit["rank"].to_numpy(), audit["weight"].to_numpy()
    assert rank.dtype == np.int64 and rank.min() == 1 and rank.max() <= len(audit)
    order = np.argsort(weight, kind="stable")
    assert np.all(np.diff(rank[order]) >= 0)  # ranks follow the weights
    # the gate's rows are ranked by D's output (same order as ω, no clamp)
    key = audit["discriminator"].to_numpy() if kind == "gate" else weight
    np.testing.assert_array_equal(rank, _min_rank(key))


def test_ranks_break_ties_of_clamped_weights_by_the_discriminator(
    problem, fitted_gate, monkeypatch
):
    d, omega = fitted_gate.predict_weights(problem["Xs"], problem["ys"])
    floor = np.median(omega)  # as if half of the rows sat at ω's clamp
    monkeypatch.setattr(fitted_gate, "predict_weights", lambda X, y: (d, np.maximum(omega, floor)))
    audit = audit_source(fitted_gate, problem["Xs"], problem["ys"], order="weight")
    assert (audit["weight"] == floor).sum() >= 150
    np.testing.assert_array_equal(audit["rank"], _min_rank(d.astype(np.float64)))
    assert audit["suspect"].sum() == 30


def test_kmm_ties_are_all_suspects(weight_audits):
    audit = weight_audits["kmm"]
    weight = audit["weight"].to_numpy()
    tied = weight == np.sort(weight)[29]  # tied with the 30th lowest weight
    assert audit["suspect"][tied].all()
    np.testing.assert_array_equal(audit["suspect"], weight <= np.sort(weight)[29])


def test_gate_path_reads_predict_weights(audits, problem, fitted_gate):
    d, omega = fitted_gate.predict_weights(problem["Xs"], problem["ys"])
    audit = audits["gate"]
    np.testing.assert_allclose(audit["weight"], omega.astype(np.float64))
    np.testing.assert_allclose(audit["discriminator"], d.astype(np.float64))
    assert audit["discriminator"].between(0, 1).all()
    assert audit.attrs["label_aware"] is True


def test_kmm_path_reads_weights_and_has_no_discriminator(audits, fitted_kmm):
    audit = audits["kmm"]
    np.testing.assert_array_equal(audit["weight"], fitted_kmm.weights_)
    assert audit["discriminator"].isna().all()
    assert audit.attrs["label_aware"] is False


@pytest.mark.slow
def test_gate_without_labeled_target_is_not_label_aware(problem):
    audit = audit_source(_gate(), problem["Xs"], problem["ys"], Xt_u=problem["Xu"])
    assert audit.attrs["label_aware"] is False


@pytest.mark.parametrize("fraction, n_suspect", [(0.0, 0), (0.01, 3), (0.1, 30), (1.0, 300)])
def test_fraction_sets_the_suspects(problem, fitted_gate, fraction, n_suspect):
    for order in ("agreement", "weight"):
        audit = audit_source(
            fitted_gate, problem["Xs"], problem["ys"], fraction=fraction, order=order
        )
        np.testing.assert_array_equal(audit["suspect"], audit["rank"] <= n_suspect)
        assert audit["suspect"].sum() == n_suspect  # no ties in D's output or agreement here
    assert audit.attrs["fraction"] == fraction


# ------------------------------------------------------------------ label agreement


@pytest.mark.parametrize("kind", ["gate", "kmm"])
def test_by_default_the_rank_follows_the_label_agreement(audits, kind):
    audit = audits[kind]
    agreement = audit["agreement"].to_numpy()
    assert np.isfinite(agreement).all()
    assert ((agreement >= 0) & (agreement <= 1)).all()
    np.testing.assert_array_equal(audit["rank"], _min_rank(agreement))


def test_the_agreement_does_not_depend_on_the_method(audits):
    np.testing.assert_array_equal(audits["gate"]["agreement"], audits["kmm"]["agreement"])


def test_the_agreement_finds_wrong_labels_better_than_kmm_weights(audits, problem):
    """Measured on seeds 0-4 of this problem: AUC 0.996-1.000 for the agreement,
    0.46-0.51 for KMM's weights (blind to labels); all 30 suspects wrong."""
    rows = ~problem["y_mask"] | problem["wrong"]
    wrong = problem["wrong"][rows]
    audit = audits["kmm"]
    assert roc_auc_score(wrong, -audit["rank"][rows]) > 0.95
    assert roc_auc_score(wrong, -audit["weight"][rows]) < 0.65
    # a third of the rows have a wrong label, nearly every suspect does
    assert problem["wrong"][audit["suspect"]].mean() > 0.9


def test_the_agreement_reads_the_labeled_target_rows_and_its_random_state(problem, fitted_kmm):
    Xs, ys = problem["Xs"], problem["ys"]
    with_target = audit_source(fitted_kmm, *_args(problem), random_state=0)["agreement"]
    again = audit_source(fitted_kmm, *_args(problem), random_state=0)["agreement"]
    pd.testing.assert_series_equal(with_target, again)
    other_folds = audit_source(fitted_kmm, *_args(problem), random_state=1)["agreement"]
    source_only = audit_source(fitted_kmm, Xs, ys, random_state=0)["agreement"]
    assert not np.allclose(with_target, other_folds)
    assert not np.allclose(with_target, source_only)


def test_the_agreement_of_a_tiny_source_with_a_class_of_one_row():
    rng = np.random.RandomState(0)
    Xs, Xt = rng.randn(7, 2), rng.randn(20, 2)
    ys = np.array([0, 0, 0, 1, 1, 1, 2])  # class 2: one row, in no training fold with itself
    audit = audit_source(KMM(random_state=0), Xs, ys, Xt_u=Xt, random_state=0)
    agreement = audit["agreement"].to_numpy()
    assert np.isfinite(agreement).all() and ((agreement >= 0) & (agreement <= 1)).all()
    assert agreement[6] == 0.0  # its class is in no classifier that did not see it


# two epochs on 24 images: the classifier need not learn, the features exist all the same
@pytest.mark.filterwarnings("ignore:DANN's training classification loss never fell")
def test_the_agreement_of_images_reads_the_deep_features():
    rng = np.random.RandomState(0)
    X = rng.rand(40, 1, 32, 32).astype(np.float32)
    y = np.arange(40) % 2
    X[y == 1, :, :16] += 0.5  # a class the features can tell
    net = DANN(gate=True, max_epochs=2, batch_size=8, random_state=0).fit(
        X[:24], y[:24], X[24:32], y[24:32], X[24:]
    )
    audit = audit_source(net, X[:24], y[:24], X[24:32], y[24:32], random_state=0)
    assert np.isfinite(audit["agreement"]).all()
    assert audit["agreement"].between(0, 1).all()


def test_labeled_target_rows_are_checked_for_a_fitted_estimator(problem, fitted_kmm):
    Xs, ys, Xl, yl = problem["Xs"], problem["ys"], problem["Xl"], problem["yl"]
    with pytest.raises(ValueError, match="Xt_l was given without yt_l"):
        audit_source(fitted_kmm, Xs, ys, Xl)
    with pytest.raises(ValueError, match="yt_l has 5 entries but Xt_l has 60 rows"):
        audit_source(fitted_kmm, Xs, ys, Xl, yl[:5])
    with pytest.raises(ValueError, match=r"Xt_l has rows of shape \(3,\)"):
        audit_source(fitted_kmm, Xs, ys, Xl[:, :3], yl)
    bad = Xl.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="Xt_l contains NaN"):
        audit_source(fitted_kmm, Xs, ys, bad, yl)
    with pytest.raises(ValueError, match="yt_l holds strings but ys holds numbers"):
        audit_source(fitted_kmm, Xs, ys, Xl, yl.astype(str))
    with pytest.raises(ValueError, match="yt_l must be 1-D"):
        audit_source(fitted_kmm, Xs, ys, Xl, yl[:, None])
    names = [f"f{i}" for i in range(5)]
    with pytest.raises(ValueError, match="Xt_l has the columns of Xs in another order"):
        audit_source(
            fitted_kmm, pd.DataFrame(Xs, columns=names), ys,
            pd.DataFrame(Xl, columns=names[::-1]), yl,
        )


# ------------------------------------------------------------------ fitted or not


@pytest.mark.parametrize("kind", [pytest.param("gate", marks=pytest.mark.slow), "kmm"])
def test_an_unfitted_estimator_gives_the_audit_of_its_fitted_twin(audits, problem, kind):
    estimator = _gate() if kind == "gate" else KMM(random_state=0)
    params = estimator.get_params(deep=False)
    audit = audit_source(estimator, *_args(problem), random_state=0)
    pd.testing.assert_frame_equal(audit, audits[kind])
    assert audit.attrs == audits[kind].attrs
    with pytest.raises(NotFittedError):  # the clone was fitted, not the estimator
        check_is_fitted(estimator)
    assert estimator.get_params(deep=False) == params


def test_a_fitted_estimator_is_used_as_is(problem, fitted_kmm):
    weights, n_iter = fitted_kmm.weights_.copy(), fitted_kmm.n_iter_
    # target parts are ignored for a fitted estimator: these would change KMM's weights
    audit = audit_source(fitted_kmm, *_args(problem)[:2], Xt_u=problem["Xs"])
    np.testing.assert_array_equal(audit["weight"], weights)
    np.testing.assert_array_equal(fitted_kmm.weights_, weights)
    assert fitted_kmm.n_iter_ == n_iter


def test_refit_true_fits_a_clone_of_a_fitted_estimator(problem, fitted_kmm):
    weights = fitted_kmm.weights_.copy()
    Xs, ys = problem["Xs"][:150], problem["ys"][:150]
    audit = audit_source(fitted_kmm, Xs, ys, Xt_u=problem["Xu"], refit=True)
    expected = clone(fitted_kmm).fit(Xs, ys, Xt_u=problem["Xu"]).weights_
    np.testing.assert_allclose(audit["weight"], expected)
    np.testing.assert_array_equal(fitted_kmm.weights_, weights)


def test_refit_false_needs_a_fitted_estimator(problem):
    with pytest.raises(NotFittedError, match="refit=False"):
        audit_source(KMM(), *_args(problem), refit=False)


def test_fitting_needs_target_rows(problem):
    with pytest.raises(ValueError, match="needs target rows.*Xt_l and yt_l"):
        audit_source(KMM(), problem["Xs"], problem["ys"])


def test_a_fitted_estimator_must_match_the_source(problem, fitted_kmm, fitted_gate):
    Xs, ys = problem["Xs"], problem["ys"]
    with pytest.raises(ValueError, match="Xs has 100 rows .* weights for 300"):
        audit_source(fitted_kmm, Xs[:100], ys[:100])
    with pytest.raises(ValueError, match="Xs has 3 features .* fitted on 5"):
        audit_source(fitted_kmm, Xs[:, :3], ys)
    with pytest.raises(ValueError, match="Xs has 3 features .* fitted on 5"):
        audit_source(fitted_gate, Xs[:, :3], ys)
    with pytest.raises(ValueError, match="classes"):
        audit_source(fitted_kmm, Xs, np.where(ys == 2, 1, ys))
    with pytest.raises(ValueError, match="not seen in fit"):
        audit_source(fitted_gate, Xs, np.where(ys == 2, 7, ys))


# torch warns once that it reads a read-only array (the engine copies it to float32
# anyway): the read-only flags are what this test is about.
@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:The given NumPy array is not writable:UserWarning")
def test_inputs_are_not_modified(problem):
    parts = [np.array(a) for a in _args(problem)]
    copies = [a.copy() for a in parts]
    for a in parts:
        a.setflags(write=False)  # any write raises
    audit = audit_source(KMM(random_state=0), *parts)
    audit_source(_gate(), *parts)
    for a, c in zip(parts, copies):
        np.testing.assert_array_equal(a, c)
    audit.loc[0, "label"] = 99  # the audit holds its own copy of the labels
    assert parts[1][0] == copies[1][0]


def test_pandas_inputs_and_string_labels(problem):
    Xs = pd.DataFrame(problem["Xs"], columns=[f"f{i}" for i in range(5)])
    names = np.array(["cat", "dog", "emu"])
    ys = pd.Series(names[problem["ys"]], index=np.arange(1000, 1300))
    Xu = pd.DataFrame(problem["Xu"], columns=Xs.columns)
    audit = audit_source(KMM(random_state=0), Xs, ys, Xt_u=Xu)
    assert audit.index.equals(pd.RangeIndex(300))  # positions, not ys's index
    assert list(audit["label"]) == list(ys)
    assert list(audit_summary(audit).index) == ["cat", "dog", "emu"]


def test_audits_can_be_concatenated(audits):
    both = pd.concat([audits["gate"], audits["kmm"]], keys=["gate", "kmm"])
    assert len(both) == 600


# ------------------------------------------------------------------ unsupported


@pytest.mark.parametrize(
    "estimator, error, match",
    [
        (LogisticRegression(), TypeError, "estimator=LogisticRegression learns none; pass"),
        (TCA(), TypeError, "estimator=TCA learns none"),
        (DANN(gate=False), ValueError, r"estimator=DANN\(gate=False\).*set gate=True"),
        (DANN, TypeError, "instance"),
    ],
)
def test_unsupported_estimators_are_refused(problem, estimator, error, match):
    with pytest.raises(error, match=match):
        audit_source(estimator, *_args(problem))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"fraction": -0.1}, "fraction"),
        ({"fraction": 1.5}, "fraction"),
        ({"refit": "yes"}, "refit"),
        ({"order": "label"}, "order"),
        ({"random_state": "zero"}, "random_state"),
    ],
)
def test_invalid_parameters(problem, kwargs, match):
    with pytest.raises(ValueError, match=match):
        audit_source(KMM(), *_args(problem), **kwargs)


def test_ys_must_match_xs(problem):
    with pytest.raises(ValueError, match="ys has 10 entries but Xs has 300 rows"):
        audit_source(KMM(), problem["Xs"], problem["ys"][:10], Xt_u=problem["Xu"])


# ------------------------------------------------------------------ does it find them


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
def test_the_gate_finds_wrong_labels(seed):
    """Measured on seeds 0-9 of this problem: AUC 0.84-0.96, mean relative
    weight 0.13-0.32 for wrong labels against 1.03-1.52 for clean rows, and
    63-97% of the 30 suspects have a wrong label."""
    p = _problem(seed)
    audit = audit_source(_gate(seed), *_args(p))
    weight, rank = audit["relative_weight"].to_numpy(), audit["rank"].to_numpy()
    # a label redrawn to its own class is not wrong: leave those rows out
    rows = ~p["y_mask"] | p["wrong"]
    assert roc_auc_score(p["wrong"][rows], -weight[rows]) > 0.75
    assert roc_auc_score(p["wrong"][rows], -rank[rows]) > 0.75
    assert weight[p["wrong"]].mean() < 0.5 * weight[~p["y_mask"]].mean()
    # a third of the rows have a wrong label, most of the suspects do
    assert p["wrong"][audit["suspect"]].mean() > 0.6


# ------------------------------------------------------------------ summary


def test_summary_per_class(audits):
    audit = audits["gate"]
    summary = audit_summary(audit)
    assert list(summary.columns) == [
        "count",
        "mean_weight",
        "mean_relative_weight",
        "median_relative_weight",
        "mean_agreement",
        "n_suspect",
        "suspect_fraction",
    ]
    assert list(summary.index) == [0, 1, 2] and summary.index.name == "label"
    assert summary["count"].sum() == len(audit)
    groups = audit.groupby("label")
    np.testing.assert_allclose(summary["mean_relative_weight"], groups["relative_weight"].mean())
    np.testing.assert_array_equal(summary["n_suspect"], groups["suspect"].sum())
    np.testing.assert_allclose(summary["suspect_fraction"], summary["n_suspect"] / summary["count"])


def test_summary_by_mask(audits, problem):
    summary = audit_summary(audits["gate"], by=problem["wrong"])
    assert list(summary.index) == [False, True]
    assert summary.loc[True, "count"] == problem["wrong"].sum()
    assert summary.loc[True, "mean_relative_weight"] < summary.loc[False, "mean_relative_weight"]


def test_summary_errors(audits):
    with pytest.raises(ValueError, match="by='nope' is not a column"):
        audit_summary(audits["kmm"], by="nope")
    with pytest.raises(ValueError, match=r"shape \(300,\), got shape \(3,\)"):
        audit_summary(audits["kmm"], by=[1, 2, 3])
    with pytest.raises(TypeError, match="DataFrame returned by audit_source"):
        audit_summary(audits["kmm"].to_numpy())


# ------------------------------------------------------------------ plot


@pytest.mark.parametrize("kind", ["gate", "kmm"])
def test_plot_has_one_panel_without_mask_and_two_with(audits, problem, kind):
    fig = plot_source_audit(audits[kind])
    assert isinstance(fig, matplotlib.figure.Figure) and len(fig.axes) == 1
    fig = plot_source_audit(audits[kind], mask=problem["wrong"], bins=10)
    assert len(fig.axes) == 2
    assert "AUC: weight" in fig.axes[1].get_title()
    assert "agreement" in fig.axes[1].get_title()


def test_plot_of_an_audit_ranked_by_weight_has_no_agreement_auc(weight_audits, problem):
    fig = plot_source_audit(weight_audits["gate"], mask=problem["wrong"])
    assert "AUC: weight" in fig.axes[1].get_title()
    assert "agreement" not in fig.axes[1].get_title()


def test_plot_draws_on_given_axes(audits, problem):
    fig, axes = plt.subplots(1, 2)
    assert plot_source_audit(audits["gate"], mask=problem["wrong"], ax=axes) is fig
    fig, ax = plt.subplots()
    assert plot_source_audit(audits["gate"], ax=ax) is fig
    with pytest.raises(ValueError, match="two matplotlib Axes"):
        plot_source_audit(audits["gate"], mask=problem["wrong"], ax=ax)


def test_plot_of_a_subset_and_of_many_classes(audits):
    plot_source_audit(audits["kmm"][audits["kmm"]["label"] == 1])
    many = audits["kmm"].assign(label=np.arange(len(audits["kmm"])) % 30)
    fig = plot_source_audit(many)
    assert "30 classes" in fig.axes[0].get_legend_handles_labels()[1][0]


def test_plot_errors(audits):
    audit = audits["kmm"]
    with pytest.raises(ValueError, match=r"shape \(300,\), got shape \(10,\)"):
        plot_source_audit(audit, mask=np.ones(10, dtype=bool))
    with pytest.raises(ValueError, match="boolean array"):
        plot_source_audit(audit, mask=np.ones(len(audit)))
    with pytest.raises(TypeError, match="DataFrame returned by audit_source"):
        plot_source_audit(audit.to_numpy())
    with pytest.raises(ValueError, match=r"lacks the columns \['weight'"):
        plot_source_audit(audit[["label"]])
    with pytest.raises(ValueError, match="no rows"):
        plot_source_audit(audit.iloc[:0])


@pytest.mark.slow
def test_plot_scales(audits):
    fig = plot_source_audit(audits["gate"])
    assert fig.axes[0].get_xscale() == "log"
    fig = plot_source_audit(audits["gate"], log=False)
    assert fig.axes[0].get_xscale() == "linear"
    zeros = audits["gate"].copy()  # the gate has no zero weight
    zeros.loc[:9, ["weight", "relative_weight"]] = 0.0
    fig = plot_source_audit(zeros)
    assert "10 rows of weight 0 counted in the first bin" in fig.axes[0].get_xlabel()
    flat = audits["kmm"].assign(weight=1.0, relative_weight=1.0)  # one value only
    assert len(plot_source_audit(flat).axes) == 1
