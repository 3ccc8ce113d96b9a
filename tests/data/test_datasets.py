"""Data sets (horq_ref.data.datasets): normalization, the stratified split, the embedded 5,000 digits,
and load_dataset from IDX files and CIFAR-10 batches.
"""

import hashlib
from importlib import resources

import numpy as np
import pytest
from hypothesis import given, strategies as st
from support import idx_bytes, mnist_like_files, write_cifar10_batch

from horq_ref.data import EMBEDDED_MNIST_SHA256, load_embedded_mnist
from horq_ref.data.datasets import (
    FASHION_MNIST_CLASSES,
    Dataset,
    load_dataset,
    normalize_images,
    stratified_split,
)
from horq_ref.data.idx import find_idx_files


# ---------------------------------------------------------------- normalization and split

def test_normalize_images_is_p_over_255():
    p = np.arange(256, dtype=np.uint8).reshape(16, 16)
    x = normalize_images(p)
    assert x.dtype == np.float32 and x.shape == p.shape
    assert x[0, 0] == 0.0 and x[-1, -1] == 1.0
    # float32 division is correctly rounded: within half an ulp of 1 (2**-24) of the exact p / 255
    np.testing.assert_allclose(x, p / 255.0, rtol=0, atol=2.0**-24)
    with pytest.raises(TypeError, match="images"):
        normalize_images(p.astype(np.float64))


@given(st.lists(st.integers(0, 5), min_size=2, max_size=200), st.data())
def test_stratified_split_properties(labels, data):
    labels = np.array(labels)
    n = labels.size
    n_test = data.draw(st.integers(1, n - 1))
    seed = data.draw(st.integers(0, 2**32 - 1))
    train, test = stratified_split(labels, n_test=n_test, seed=seed)
    assert train.dtype == np.int64 and test.dtype == np.int64
    assert test.size == n_test and train.size == n - n_test
    np.testing.assert_array_equal(np.sort(np.concatenate([train, test])), np.arange(n))
    counts = np.bincount(labels, minlength=6)
    share = n_test * counts / n                      # the exact proportional share of each class
    assert np.all(np.abs(np.bincount(labels[test], minlength=6) - share) < 1)
    again = stratified_split(labels, n_test=n_test, seed=seed)
    np.testing.assert_array_equal(again[0], train)
    np.testing.assert_array_equal(again[1], test)


def test_stratified_split_of_the_embedded_set():
    _, labels = load_embedded_mnist()
    train, test = stratified_split(labels, seed=0)
    assert train.size == 4000 and test.size == 1000
    assert np.bincount(labels[test]).tolist() == [100] * 10
    assert np.bincount(labels[train]).tolist() == [400] * 10
    other = stratified_split(labels, seed=1)[1]
    assert not np.array_equal(np.sort(other), np.sort(test))


@pytest.mark.parametrize("kwargs, exc, phrase", [
    (dict(labels=[0, 1, 1], test_fraction=0.5, n_test=1), ValueError, "not both"),
    (dict(labels=[0, 1, 1], n_test=0), ValueError, "n_test"),
    (dict(labels=[0, 1, 1], n_test=3), ValueError, "n_test"),
    (dict(labels=[0, 1, 1], test_fraction=1.0), ValueError, "test_fraction"),
    (dict(labels=[[0, 1], [1, 0]]), ValueError, "labels"),
    (dict(labels=[]), ValueError, "labels"),
    (dict(labels=[0.0, 1.0, 1.0]), TypeError, "labels"),
])
def test_stratified_split_rejects_bad_arguments(kwargs, exc, phrase):
    with pytest.raises(exc, match=phrase):
        stratified_split(**kwargs)


def test_stratified_split_checks_n_test():
    labels = np.repeat(np.arange(3), 4)
    assert len(stratified_split(labels, n_test=np.int64(3), seed=0)[1]) == 3  # NumPy ints are ints
    with pytest.raises(TypeError, match="n_test must be an integer"):
        stratified_split(labels, n_test=True, seed=0)
    with pytest.raises(ValueError, match="n_test must be <= 11"):
        stratified_split(labels, n_test=12, seed=0)


# ---------------------------------------------------------------- the embedded data set

def test_embedded_file_has_the_recorded_sha256():
    data = resources.files("horq_ref.data").joinpath("mnist_5k.npz").read_bytes()
    assert hashlib.sha256(data).hexdigest() == EMBEDDED_MNIST_SHA256


def test_load_dataset_embedded_default():
    ds = load_dataset()
    assert (ds.name, ds.n_train, ds.n_test, ds.num_classes) == ("mnist-5k", 4000, 1000, 10)
    assert ds.image_shape == (1, 28, 28) and ds.x_train.shape == (4000, 1, 28, 28)
    assert ds.x_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    assert ds.x_test.dtype == np.float32 and ds.y_test.dtype == np.int64
    for x in (ds.x_train, ds.x_test):
        assert x.min() == 0.0 and x.max() == 1.0
    assert np.bincount(ds.y_test).tolist() == [100] * 10
    images, labels = load_embedded_mnist()
    train, test = stratified_split(labels, seed=0)
    np.testing.assert_array_equal(np.rint(ds.x_test[:, 0] * 255), images[test])
    np.testing.assert_array_equal(ds.y_train, labels[train])


def test_load_dataset_is_deterministic_and_limits_are_stratified():
    a = load_dataset(seed=3, limit_train=500, limit_test=50)
    b = load_dataset(seed=3, limit_train=500, limit_test=50)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    assert np.bincount(a.y_train).tolist() == [50] * 10
    assert np.bincount(a.y_test).tolist() == [5] * 10
    c = load_dataset(seed=4, limit_train=500, limit_test=50)
    assert not np.array_equal(a.x_train, c.x_train)
    assert load_dataset(limit_test=10**6).n_test == 1000


@pytest.mark.parametrize("kwargs, exc, phrase", [
    (dict(name="cifar10"), ValueError, "data_dir"),
    (dict(name="svhn"), ValueError, "name"),
    (dict(limit_train=0), ValueError, "limit_train"),
    (dict(limit_test=2.5), TypeError, "limit_test"),
    (dict(limit_test=True), TypeError, "limit_test"),
])
def test_load_dataset_rejects_bad_arguments(kwargs, exc, phrase):
    with pytest.raises(exc, match=phrase):
        load_dataset(**kwargs)


def test_dataset_checks_its_shapes():
    x = np.zeros((4, 1, 2, 2), np.float32)
    y = np.zeros(4, np.int64)
    with pytest.raises(ValueError, match="x_test"):
        Dataset(x, y, x[:, :, :1], y, "t", ("a",))
    with pytest.raises(ValueError, match="y_train"):
        Dataset(x, y[:3], x, y, "t", ("a",))
    assert "train=(4, 1, 2, 2)" in repr(Dataset(x, y, x, y, "t", ("a",)))


# ---------------------------------------------------------------- full data sets from files

def _write_mnist_like(folder, rng, gz):
    """The files of :func:`support.mnist_like_files` written to ``folder``; returns their arrays."""
    files, arrays = mnist_like_files(rng, gz=gz)
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return arrays


@pytest.mark.parametrize("name, gz, sub", [("mnist", False, False), ("mnist", True, True),
                                           ("fashion-mnist", True, False)])
def test_load_dataset_from_idx_files(tmp_path, rng, name, gz, sub):
    arrays = _write_mnist_like(tmp_path / name if sub else tmp_path, rng, gz)
    ds = load_dataset(name, data_dir=tmp_path)
    assert ds.name == name and ds.x_train.shape == (30, 1, 28, 28) and ds.x_test.shape == (20, 1, 28, 28)
    assert ds.x_train.dtype == np.float32 and ds.y_test.dtype == np.int64
    np.testing.assert_array_equal(np.rint(ds.x_train[:, 0] * 255), arrays["train_images"])
    np.testing.assert_array_equal(ds.y_test, arrays["test_labels"])
    if name == "fashion-mnist":
        assert ds.classes == FASHION_MNIST_CLASSES and ds.classes[9] == "Ankle boot"
    limited = load_dataset(name, data_dir=tmp_path, limit_train=10)
    assert np.bincount(limited.y_train).tolist() == [1] * 10


def test_idx_file_lookup_accepts_dotted_names_and_reports_missing(tmp_path, rng):
    _write_mnist_like(tmp_path, rng, gz=False)
    (tmp_path / "train-images-idx3-ubyte").rename(tmp_path / "train-images.idx3-ubyte")
    assert find_idx_files(tmp_path)["train_images"].name == "train-images.idx3-ubyte"
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(FileNotFoundError, match="t10k-labels-idx1-ubyte"):
        load_dataset("mnist", data_dir=tmp_path)


def test_idx_label_out_of_range_and_count_mismatch(tmp_path, rng):
    arrays = _write_mnist_like(tmp_path, rng, gz=False)
    bad = arrays["train_labels"].copy()
    bad[4] = 10
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx_bytes(bad))
    with pytest.raises(ValueError, match="train-labels-idx1-ubyte: label 10 out of range"):
        load_dataset("mnist", data_dir=tmp_path)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx_bytes(arrays["train_labels"][:-1]))
    with pytest.raises(ValueError, match="30 images but .* 29 labels"):
        load_dataset("mnist", data_dir=tmp_path)


@pytest.mark.parametrize("sub", [True, False])
def test_load_dataset_from_cifar_batches(tmp_path, rng, sub):
    folder = tmp_path / "cifar-10-batches-bin" if sub else tmp_path
    folder.mkdir(exist_ok=True)
    parts = []
    for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
        x = rng.integers(0, 256, (4, 3, 32, 32), dtype=np.uint8)
        y = rng.integers(0, 10, 4)
        write_cifar10_batch(folder / name, x, y)
        parts.append((x, y))
    ds = load_dataset("cifar10", data_dir=tmp_path)
    assert ds.x_train.shape == (20, 3, 32, 32) and ds.x_test.shape == (4, 3, 32, 32)
    assert ds.image_shape == (3, 32, 32) and ds.classes[0] == "airplane"
    np.testing.assert_array_equal(np.rint(ds.x_train * 255),
                                  np.concatenate([p[0] for p in parts[:5]]))
    np.testing.assert_array_equal(ds.y_train, np.concatenate([p[1] for p in parts[:5]]))
    np.testing.assert_array_equal(ds.y_test, parts[5][1])
