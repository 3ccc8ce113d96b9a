"""Data layer: IDX and CIFAR-10 readers/writers, the stratified split, the embedded set, load_dataset.

File layouts are checked against bytes built here with :mod:`struct` (an oracle independent of the
writers), and every kind of damaged file must give a ValueError raised by ``horq_ref.data`` itself.
"""

import gzip
import hashlib
import struct
import traceback
from importlib import resources

import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

from horq_ref.data import EMBEDDED_MNIST_SHA256, load_embedded_mnist
from horq_ref.data.cifar import (
    RECORD_BYTES,
    find_cifar10_batches,
    read_cifar10_batch,
    write_cifar10_batch,
)
from horq_ref.data.datasets import (
    FASHION_MNIST_CLASSES,
    Dataset,
    load_dataset,
    normalize_images,
    stratified_split,
)
from horq_ref.data.idx import (
    find_idx_files,
    read_idx,
    read_idx_images,
    read_idx_labels,
    write_idx,
)


def idx_bytes(array, code=0x08):
    """An IDX file built by hand: the oracle for the writer and the reader."""
    head = struct.pack(">BBBB", 0, 0, code, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return head + array.astype(np.uint8).tobytes()


def raised_in_horq_ref(excinfo):
    """True if the innermost frame of the traceback is in horq_ref's data package, not NumPy."""
    return "horq_ref/data" in traceback.extract_tb(excinfo.tb)[-1].filename.replace("\\", "/")


# ---------------------------------------------------------------- IDX

def test_read_idx_matches_hand_built_files(tmp_path, rng):
    images = rng.integers(0, 256, size=(4, 5, 3), dtype=np.uint8)
    labels = np.array([3, 1, 4, 1], dtype=np.uint8)
    (tmp_path / "img").write_bytes(idx_bytes(images))
    (tmp_path / "lab").write_bytes(idx_bytes(labels))
    np.testing.assert_array_equal(read_idx_images(tmp_path / "img"), images)
    np.testing.assert_array_equal(read_idx_labels(tmp_path / "lab"), labels)
    assert read_idx_images(tmp_path / "img").flags.writeable


def test_write_idx_produces_the_documented_layout(tmp_path, rng):
    images = rng.integers(0, 256, size=(2, 28, 28), dtype=np.uint8)
    write_idx(tmp_path / "img", images)
    data = (tmp_path / "img").read_bytes()
    assert data[:4] == b"\x00\x00\x08\x03"
    assert data == idx_bytes(images)
    assert len(data) == 4 + 3 * 4 + 2 * 28 * 28


@given(hnp.arrays(np.uint8, hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=5)),
       st.booleans())
def test_idx_round_trip(tmp_path_factory, array, compress):
    path = tmp_path_factory.mktemp("idx") / ("a.gz" if compress else "a")
    write_idx(path, array)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == compress
    back = read_idx(path)
    assert back.dtype == np.uint8 and back.shape == array.shape
    np.testing.assert_array_equal(back, array)


def test_gzip_is_recognized_by_content_not_name(tmp_path):
    labels = np.arange(10, dtype=np.uint8)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(gzip.compress(idx_bytes(labels)))
    np.testing.assert_array_equal(read_idx_labels(tmp_path / "train-labels-idx1-ubyte"), labels)


def test_write_idx_gzip_is_reproducible(tmp_path, rng):
    a = rng.integers(0, 256, size=(3, 4), dtype=np.uint8)
    write_idx(tmp_path / "x.gz", a)
    write_idx(tmp_path / "y.gz", a)
    assert (tmp_path / "x.gz").read_bytes() == (tmp_path / "y.gz").read_bytes()


def _corruptions():
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    good = idx_bytes(images)
    labels = idx_bytes(np.array([1, 2], dtype=np.uint8))
    huge = struct.pack(">BBBBIII", 0, 0, 8, 3, 60000, 28, 28) + b"\x00" * 100
    return {
        "foreign (zip) file": (b"PK\x03\x04" + b"\x00" * 40, "not an IDX file"),
        "empty file": (b"", "truncated"),
        "short header": (good[:7], "truncated"),
        "zero dimensions": (b"\x00\x00\x08\x00", "not an IDX file"),
        "wrong dtype code (float)": (idx_bytes(images, code=0x0D), "dtype code 0x0d"),
        "labels read as images": (labels, "expected 0x00000803"),
        "truncated data": (good[:-1], "size mismatch"),
        "trailing bytes": (good + b"\x00", "size mismatch"),
        "header claims 60000 images": (huge, "size mismatch"),
        "truncated gzip": (gzip.compress(good)[:-12], "gzip"),
        "gzip of truncated data": (gzip.compress(good[:-3]), "truncated"),
        "gzip with trailing bytes": (gzip.compress(good + b"xyz"), "size mismatch"),
        "gzip claiming 60000 images": (gzip.compress(huge), "truncated"),
        "garbage gzip body": (gzip.compress(good)[:12] + b"\xff" * 20, "not an IDX file"),
        "gzip CRC mismatch": (_with_bad_crc(gzip.compress(good)), "damaged gzip stream"),
    }


def _with_bad_crc(gz):
    """A gzip stream whose CRC-32 trailer (bytes -8..-4) no longer matches its content."""
    crc = bytes(b ^ 0xFF for b in gz[-8:-4])
    return gz[:-8] + crc + gz[-4:]


def assert_damaged_file_is_refused(read, path, data, phrase):
    """``read(path)`` of a file holding ``data`` raises a ValueError naming the path, from horq_ref."""
    path.write_bytes(data)
    with pytest.raises(ValueError, match=phrase) as excinfo:
        read(path)
    assert str(path) in str(excinfo.value)
    assert raised_in_horq_ref(excinfo)


@pytest.mark.parametrize("case", list(_corruptions()))
def test_damaged_idx_gives_a_clear_value_error(tmp_path, case):
    data, phrase = _corruptions()[case]
    assert_damaged_file_is_refused(read_idx_images, tmp_path / "t10k-images-idx3-ubyte", data, phrase)


def test_write_idx_rejects_bad_arrays(tmp_path):
    with pytest.raises(TypeError, match="array"):
        write_idx(tmp_path / "a", np.zeros(3, dtype=np.float32))
    with pytest.raises(ValueError, match="array"):
        write_idx(tmp_path / "a", np.uint8(3))
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- CIFAR-10

def test_cifar_writer_layout_and_round_trip(tmp_path, rng):
    images = rng.integers(0, 256, size=(3, 3, 32, 32), dtype=np.uint8)
    labels = np.array([9, 0, 5])
    write_cifar10_batch(tmp_path / "b.bin", images, labels)
    raw = (tmp_path / "b.bin").read_bytes()
    assert len(raw) == 3 * 3073
    assert raw[3073] == 0                                             # record 1 starts with its label
    assert raw[1:1025] == images[0, 0].tobytes()                      # then red, row-major
    assert raw[2049:3073] == images[0, 2].tobytes()                   # blue last
    x, y = read_cifar10_batch(tmp_path / "b.bin")
    assert x.dtype == np.uint8 and x.shape == (3, 3, 32, 32)
    np.testing.assert_array_equal(x, images)
    np.testing.assert_array_equal(y, labels)


@pytest.mark.parametrize("case", ["empty", "truncated", "extra byte", "label 10", "label 255",
                                  "foreign"])
def test_damaged_cifar_gives_a_clear_value_error(tmp_path, rng, case):
    rec = rng.integers(0, 256, size=(2, RECORD_BYTES), dtype=np.uint8)
    rec[:, 0] = [3, 7]
    data = rec.tobytes()
    data, phrase = {
        "empty": (b"", "multiple"),
        "truncated": (data[:-1], "multiple"),
        "extra byte": (data + b"\x00", "multiple"),
        "label 10": (b"\x0a" + data[1:], "label 10 in record 0 is out of range"),
        "label 255": (data[:RECORD_BYTES] + b"\xff" + data[RECORD_BYTES + 1:],
                      "label 255 in record 1"),
        "foreign": (b"\x80\x04\x95" * RECORD_BYTES, "out of range"),   # a pickle header, repeated
    }[case]
    assert_damaged_file_is_refused(read_cifar10_batch, tmp_path / "data_batch_1.bin", data, phrase)


def test_cifar_writer_rejects_bad_input(tmp_path):
    ok = np.zeros((2, 3, 32, 32), np.uint8)
    with pytest.raises(ValueError, match="images"):
        write_cifar10_batch(tmp_path / "b", ok[:, :1], [0, 1])
    with pytest.raises(TypeError, match="images"):
        write_cifar10_batch(tmp_path / "b", ok.astype(float), [0, 1])
    with pytest.raises(ValueError, match="labels"):
        write_cifar10_batch(tmp_path / "b", ok, [0, 10])
    with pytest.raises(ValueError, match="labels"):
        write_cifar10_batch(tmp_path / "b", ok, [0])
    assert list(tmp_path.iterdir()) == []


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

def _write_mnist_like(folder, rng, gz, n_train=30, n_test=20):
    folder.mkdir(parents=True, exist_ok=True)
    arrays = dict(
        train_images=rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        train_labels=np.arange(n_train, dtype=np.uint8) % 10,
        test_images=rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        test_labels=(np.arange(n_test, dtype=np.uint8) * 3) % 10,
    )
    names = dict(train_images="train-images-idx3-ubyte", train_labels="train-labels-idx1-ubyte",
                 test_images="t10k-images-idx3-ubyte", test_labels="t10k-labels-idx1-ubyte")
    for key, a in arrays.items():
        (folder / (names[key] + (".gz" if gz else ""))).write_bytes(
            gzip.compress(idx_bytes(a)) if gz else idx_bytes(a))
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


def test_cifar_lookup_reports_missing_batches(tmp_path):
    write_cifar10_batch(tmp_path / "data_batch_1.bin", np.zeros((1, 3, 32, 32), np.uint8), [0])
    with pytest.raises(FileNotFoundError, match="data_batch_2.bin"):
        find_cifar10_batches(tmp_path)


def test_stratified_split_checks_n_test():
    labels = np.repeat(np.arange(3), 4)
    assert len(stratified_split(labels, n_test=np.int64(3), seed=0)[1]) == 3  # NumPy ints are ints
    with pytest.raises(TypeError, match="n_test must be an integer"):
        stratified_split(labels, n_test=True, seed=0)
    with pytest.raises(ValueError, match="n_test must be <= 11"):
        stratified_split(labels, n_test=12, seed=0)
