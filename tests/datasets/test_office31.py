import numpy as np
import pytest
import scipy.io
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsClassifier

from skntl.datasets import load_office31_features

# Office-31 DSLR images per class, alphabetical class order (the standard counts).
DSLR_COUNTS = [12, 21, 24, 12, 16, 12, 13, 14, 15, 15, 13, 10, 24, 16, 31, 22, 12, 8, 10, 10,
               13, 15, 23, 18, 10, 7, 18, 26, 21, 22, 15]  # fmt: skip


@pytest.fixture(scope="module")
def dslr(shared_data_home):
    return load_office31_features("dslr", data_home=shared_data_home)


def test_dslr_features(dslr, shared_data_home):
    assert set(dslr) == {"data", "target", "target_names", "domain", "DESCR"}
    assert dslr.data.shape == (498, 2048) and dslr.data.dtype == np.float64
    assert dslr.target.dtype == np.int64 and dslr.domain == "dslr"
    assert np.bincount(dslr.target).tolist() == DSLR_COUNTS
    assert len(dslr.target_names) == 31
    assert dslr.target_names[0] == "back_pack" and dslr.target_names[30] == "trash_can"
    assert dslr.data.min() >= 0 and 8 < dslr.data.max() < 9  # pool5: non-negative, max ~8.5
    raw = scipy.io.loadmat(shared_data_home / "office31" / "resnet50" /
                           "office-D-resnet50-noft.mat")  # fmt: skip
    assert np.array_equal(dslr.data, raw["resnet50_features"].squeeze().astype(np.float64))
    assert np.array_equal(dslr.target, raw["labels"].ravel())  # already 0-based
    # ImageNet features separate the DSLR classes well (within-domain 5-fold 1-NN).
    accuracy = cross_val_score(KNeighborsClassifier(1), dslr.data, dslr.target, cv=5).mean()
    assert accuracy > 0.9


def test_standard_preprocessing_and_aliases(dslr, shared_data_home):
    X, y = load_office31_features("D", preprocess="standard", data_home=shared_data_home,
                                  return_X_y=True)  # fmt: skip
    assert np.array_equal(y, dslr.target)
    L1 = dslr.data / dslr.data.sum(axis=1, keepdims=True)
    std = L1.std(axis=0)
    std[std == 0] = 1
    np.testing.assert_allclose(X, (L1 - L1.mean(axis=0)) / std, atol=1e-10)


def test_bad_input(tmp_path):
    with pytest.raises(ValueError, match="domain must be one of 'amazon', 'dslr', 'webcam'"):
        load_office31_features("caltech", data_home=tmp_path)
    with pytest.raises(ValueError, match="'preprocess' parameter of load_office31_features"):
        load_office31_features("dslr", preprocess="l2", data_home=tmp_path)
    with pytest.raises(FileNotFoundError) as info:
        load_office31_features("amazon", data_home=tmp_path)
    assert str(tmp_path / "office31" / "resnet50" / "office-A-resnet50-noft.mat") in str(info.value)
    assert "SKNTL_DATA" in str(info.value)
    path = tmp_path / "office31" / "resnet50" / "office-D-resnet50-noft.mat"
    path.parent.mkdir(parents=True)
    scipy.io.savemat(path, {"resnet50_features": np.ones((498, 2048, 1, 1), np.float32),
                            "labels": np.full((1, 498), 31)})  # fmt: skip
    with pytest.raises(OSError, match="labels are not integers in 0..30"):
        load_office31_features("dslr", data_home=tmp_path)
    scipy.io.savemat(path, {"resnet50_features": np.ones((10, 2048), np.float32),
                            "labels": np.zeros((1, 10))})  # fmt: skip
    with pytest.raises(OSError, match=r"expected \(498, 2048, 1, 1\)"):
        load_office31_features("dslr", data_home=tmp_path)
    path.write_bytes(b"MATLAB 5.0" + bytes(100))
    with pytest.raises(OSError, match="Could not read"):
        load_office31_features("dslr", data_home=tmp_path)
