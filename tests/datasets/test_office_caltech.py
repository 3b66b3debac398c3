import hashlib
import os
from pathlib import Path

import numpy as np
import pytest
import scipy.io
from sklearn.neighbors import KNeighborsClassifier

import skntl.datasets
import skntl.datasets._office as office_module
from skntl.datasets import get_data_home, load_office_caltech

DOMAINS = {"amazon": 958, "caltech": 1123, "dslr": 157, "webcam": 295}
SURF_FILES = {
    "amazon": "amazon_SURF_L10.mat",
    "caltech": "Caltech10_SURF_L10.mat",
    "dslr": "dslr_SURF_L10.mat",
    "webcam": "webcam_SURF_L10.mat",
}
BUNDLED = Path(skntl.datasets.__file__).parent / "data" / "office_caltech10_surf"
DSLR_BYTES = (BUNDLED / "dslr_SURF_L10.mat").read_bytes()

# 1-NN reference accuracies (%) from shared/data/README.md, which match the "NN"
# column of JDA (Long et al., ICCV 2013).
SURF_1NN = {
    "CA": 23.70, "CW": 25.76, "CD": 25.48,
    "AC": 26.00, "AW": 29.83, "AD": 25.48,
    "WC": 19.86, "WA": 22.96, "WD": 59.24,
    "DC": 26.27, "DA": 28.50, "DW": 63.39,
}  # fmt: skip
SURF_1NN_MEAN = 31.37
DECAF_1NN = {"standard": {"DW": 91.53, "WD": 98.09}, None: {"DW": 89.15, "WD": 98.73}}


def _sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _one_nn_accuracy(source, target):
    (Xs, ys), (Xt, yt) = source, target
    return 100 * KNeighborsClassifier(n_neighbors=1).fit(Xs, ys).score(Xt, yt)


@pytest.fixture(scope="module")
def shared_surf(shared_data_home):
    """All four SURF domains (standard preprocessing) read from the shared folder."""
    return {
        d[0].upper(): load_office_caltech(
            d, data_home=shared_data_home, return_X_y=True
        )
        for d in DOMAINS
    }


@pytest.fixture
def no_data_env(monkeypatch):
    """Unset SKNTL_DATA so that SURF loads come from the bundled copy."""
    monkeypatch.delenv("SKNTL_DATA", raising=False)


# --- reference accuracies on the shared files ------------------------------------


def test_surf_1nn_table_reproduced_exactly(shared_surf):
    accs = {
        task: _one_nn_accuracy(shared_surf[task[0]], shared_surf[task[1]])
        for task in SURF_1NN
    }
    assert {t: round(a, 2) for t, a in accs.items()} == SURF_1NN
    assert round(np.mean(list(accs.values())), 2) == SURF_1NN_MEAN


@pytest.mark.parametrize("preprocess", ["standard", None])
def test_decaf6_1nn_reproduced_exactly(shared_data_home, preprocess):
    data = {
        d[0].upper(): load_office_caltech(
            d,
            features="decaf6",
            preprocess=preprocess,
            data_home=shared_data_home,
            return_X_y=True,
        )
        for d in ("dslr", "webcam")
    }
    accs = {t: round(_one_nn_accuracy(data[t[0]], data[t[1]]), 2) for t in ("DW", "WD")}
    assert accs == DECAF_1NN[preprocess]


def test_env_var_is_used_when_no_data_home(shared_data_home, monkeypatch):
    monkeypatch.setenv("SKNTL_DATA", str(shared_data_home))
    X, y = load_office_caltech("dslr", features="decaf6", return_X_y=True)
    assert X.shape == (157, 4096)


# --- shapes, dtypes, labels --------------------------------------------------------


@pytest.mark.parametrize("domain, n_samples", DOMAINS.items())
def test_surf_bunch_shapes_dtypes_labels(shared_data_home, domain, n_samples):
    bunch = load_office_caltech(domain, data_home=shared_data_home)
    fields = {"data", "target", "target_names", "domain", "features", "DESCR"}
    assert set(bunch) == fields
    assert bunch.data.shape == (n_samples, 800)
    assert bunch.data.dtype == np.float64
    assert bunch.target.shape == (n_samples,)
    assert bunch.target.dtype == np.int64
    assert np.array_equal(np.unique(bunch.target), np.arange(10))
    assert len(bunch.target_names) == 10
    assert bunch.target_names[0] == "back_pack" and bunch.target_names[9] == "projector"
    assert bunch.domain == domain and bunch.features == "surf"
    assert domain in bunch.DESCR and "Gong" in bunch.DESCR
    assert np.all(np.isfinite(bunch.data))


@pytest.mark.parametrize("domain", ["dslr", "webcam"])
def test_decaf6_shapes_and_same_labels_as_surf(shared_data_home, domain):
    X, y = load_office_caltech(
        domain, features="decaf6", data_home=shared_data_home, return_X_y=True
    )
    _, y_surf = load_office_caltech(domain, data_home=shared_data_home, return_X_y=True)
    assert X.shape == (DOMAINS[domain], 4096) and X.dtype == np.float64
    assert y.dtype == np.int64
    assert np.array_equal(y, y_surf)


def test_raw_and_standard_preprocessing(shared_data_home):
    path = shared_data_home / "office_caltech10" / "surf" / "webcam_SURF_L10.mat"
    raw_file = scipy.io.loadmat(path)
    X_raw, y = load_office_caltech(
        "webcam", preprocess=None, data_home=shared_data_home, return_X_y=True
    )
    assert X_raw.dtype == np.float64
    assert np.array_equal(X_raw, raw_file["fts"].astype(np.float64))
    assert np.array_equal(y, raw_file["labels"].ravel().astype(np.int64) - 1)

    X_std, _ = load_office_caltech(
        "webcam", data_home=shared_data_home, return_X_y=True
    )
    L1 = X_raw / X_raw.sum(axis=1, keepdims=True)
    expected = (L1 - L1.mean(axis=0)) / L1.std(axis=0)  # no zero-std column in SURF
    np.testing.assert_allclose(X_std, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(X_std.mean(axis=0), 0, atol=1e-10)
    np.testing.assert_allclose(X_std.std(axis=0), 1, rtol=1e-10)


def test_zero_std_columns_are_divided_by_one(shared_data_home):
    # DeCAF6 has all-zero columns (102 in dslr); MATLAB's zscore divides them by 1.
    X, _ = load_office_caltech(
        "dslr", features="decaf6", data_home=shared_data_home, return_X_y=True
    )
    raw, _ = load_office_caltech(
        "dslr", features="decaf6", preprocess=None, data_home=shared_data_home,
        return_X_y=True,
    )
    constant = raw.std(axis=0) == 0
    assert constant.sum() > 0
    assert np.all(X[:, constant] == 0)
    np.testing.assert_allclose(X[:, ~constant].std(axis=0), 1, rtol=1e-10)


@pytest.mark.parametrize(
    "alias, domain",
    [("A", "amazon"), ("c", "caltech"), ("Caltech10", "caltech"), ("D", "dslr"),
     ("w", "webcam"), ("WEBCAM", "webcam")],
)  # fmt: skip
def test_domain_aliases(no_data_env, alias, domain):
    bunch = load_office_caltech(alias)
    assert bunch.domain == domain
    assert bunch.data.shape == (DOMAINS[domain], 800)


def test_return_X_y_matches_bunch(no_data_env):
    bunch = load_office_caltech("dslr")
    X, y = load_office_caltech("dslr", return_X_y=True)
    assert np.array_equal(X, bunch.data) and np.array_equal(y, bunch.target)


# --- bundled copy -------------------------------------------------------------------


@pytest.mark.parametrize("domain", DOMAINS)
def test_bundled_copy_is_byte_identical_to_shared(shared_data_home, domain):
    name = SURF_FILES[domain]
    assert _sha256(BUNDLED / name) == _sha256(
        shared_data_home / "office_caltech10" / "surf" / name
    )


def test_bundled_readme_lists_the_sha256_of_each_file():
    readme = (BUNDLED.parent / "README.md").read_text(encoding="utf-8")
    for name in SURF_FILES.values():
        assert f"{_sha256(BUNDLED / name)}  {name}" in readme


def test_bundled_copy_is_read_without_data_home(monkeypatch, tmp_path):
    monkeypatch.delenv("SKNTL_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/skntl_data either
    read = []
    real_read = office_module._read_office_file

    def spy(source, *args):
        read.append(Path(source))
        return real_read(source, *args)

    monkeypatch.setattr(office_module, "_read_office_file", spy)
    for domain, n_samples in DOMAINS.items():
        X, y = load_office_caltech(domain, preprocess=None, return_X_y=True)
        assert X.shape == (n_samples, 800)
    assert [p.name for p in read] == list(SURF_FILES.values())
    assert all(p.parent.samefile(BUNDLED) for p in read)

    raw = scipy.io.loadmat(BUNDLED / "dslr_SURF_L10.mat")["fts"]
    assert np.array_equal(load_office_caltech("D", preprocess=None).data, raw)


def test_empty_env_var_counts_as_unset(monkeypatch):
    monkeypatch.setenv("SKNTL_DATA", "")
    assert load_office_caltech("dslr").data.shape == (157, 800)


# --- get_data_home --------------------------------------------------------------------


def test_get_data_home_resolution_order(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("SKNTL_DATA", raising=False)
    assert get_data_home() == tmp_path / "home" / "skntl_data"
    monkeypatch.setenv("SKNTL_DATA", str(tmp_path / "env"))
    assert get_data_home() == tmp_path / "env"
    assert get_data_home(tmp_path / "arg") == tmp_path / "arg"
    assert get_data_home(str(tmp_path / "arg")) == tmp_path / "arg"
    assert get_data_home("~/x") == tmp_path / "home" / "x"
    assert isinstance(get_data_home(), Path)
    assert not (tmp_path / "env").exists()  # resolving never creates folders


# --- bad input ----------------------------------------------------------------------


@pytest.mark.parametrize("domain", ["office", "amazon ", "", 3, None])
def test_unknown_domain(no_data_env, domain):
    # A string that no domain spells, or not a string at all: both name the argument.
    match = "domain must be one of 'amazon', 'caltech'|'domain' parameter of load_office_caltech"
    with pytest.raises(ValueError, match=match):
        load_office_caltech(domain)


@pytest.mark.parametrize("features", ["vgg", "decaf7", None])
def test_unknown_features(no_data_env, features):
    with pytest.raises(ValueError, match="'features' parameter of load_office_caltech"):
        load_office_caltech("amazon", features=features)


@pytest.mark.parametrize("preprocess", ["l2", "zscore", True])
def test_unknown_preprocess(no_data_env, preprocess):
    with pytest.raises(ValueError, match="'preprocess' parameter of load_office_caltech"):
        load_office_caltech("amazon", preprocess=preprocess)


@pytest.mark.parametrize("domain", ["amazon", "C"])
def test_decaf6_unavailable_for_amazon_and_caltech(domain, tmp_path):
    with pytest.raises(ValueError, match="not available for domain"):
        load_office_caltech(domain, features="decaf6", data_home=tmp_path)


@pytest.mark.parametrize("features", ["surf", "decaf6"])
def test_missing_file_names_path_and_env_var(tmp_path, features):
    expected = tmp_path / "office_caltech10" / features / (
        "dslr_SURF_L10.mat" if features == "surf" else "dslr_decaf.mat"
    )
    with pytest.raises(FileNotFoundError) as info:
        load_office_caltech("dslr", features=features, data_home=tmp_path)
    assert str(expected) in str(info.value)
    assert "SKNTL_DATA" in str(info.value) and "data_home" in str(info.value)


def test_missing_file_via_env_var(tmp_path, monkeypatch):
    monkeypatch.setenv("SKNTL_DATA", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="SKNTL_DATA environment variable"):
        load_office_caltech("amazon")  # no fallback to the bundled copy


def _write_in_layout(data_home, content):
    path = data_home / "office_caltech10" / "surf" / "dslr_SURF_L10.mat"
    path.parent.mkdir(parents=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        scipy.io.savemat(path, content)
    return path


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(os.urandom(4096), id="garbage"),
        pytest.param(b"not a mat file" * 10, id="text"),
        pytest.param(b"", id="empty"),
        pytest.param(DSLR_BYTES[:128], id="header-only"),
        pytest.param(DSLR_BYTES[:9000], id="truncated"),
        pytest.param({"X": np.zeros((157, 800))}, id="wrong-keys"),
        pytest.param(
            {"fts": np.ones((100, 800)), "labels": np.ones((100, 1))}, id="too-few-rows"
        ),
        pytest.param(
            {"fts": np.ones((157, 800)), "labels": np.zeros((157, 1))}, id="bad-labels"
        ),
    ],
)
def test_corrupted_file_raises_naming_the_file(tmp_path, content):
    path = _write_in_layout(tmp_path, content)
    with pytest.raises(OSError, match="Could not read") as info:
        load_office_caltech("dslr", data_home=tmp_path)
    assert not isinstance(info.value, FileNotFoundError)
    assert str(path) in str(info.value)
