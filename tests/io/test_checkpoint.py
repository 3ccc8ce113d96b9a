"""State files: round trip, no pickle, atomic writes, clear errors for bad files."""

import json
import os
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from horq_ref.io import checkpoint
from horq_ref.io.checkpoint import META_KEY, load_state, save_state


def _state(rng):
    gen = np.random.default_rng(7)
    gen.standard_normal(3)  # move the generator off its initial state
    return {
        "model": {"fc1.W": rng.standard_normal((4, 3)).astype(np.float32),
                  "bn1.running_var": np.ones(4, np.float32)},
        "optim": {"t": 12, "lr": np.float32(0.001), "m": [np.zeros(2), np.arange(3, dtype=np.int64)]},
        "rng": gen.bit_generator.state,
        "history": [{"epoch": 1, "test_acc": 0.91}, {"epoch": 2, "test_acc": None}],
        "name": "mlp",
        "flag": True,
    }


def _assert_same(a, b):
    assert type(a) is type(b)
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            _assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _assert_same(x, y)
    elif isinstance(a, (np.ndarray, np.generic)):
        assert a.dtype == b.dtype and np.shape(a) == np.shape(b)
        assert np.array_equal(a, b, equal_nan=True)
    else:
        assert a == b


def test_round_trip_keeps_values_dtypes_and_rng_state(tmp_path, rng):
    state = _state(rng)
    state["optim"]["m"] = tuple(state["optim"]["m"])
    path = tmp_path / "ck.npz"
    save_state(path, state)
    back = load_state(path)
    state["optim"]["m"] = list(state["optim"]["m"])  # tuples come back as lists (JSON)
    _assert_same(state, back)
    g1, g2 = np.random.default_rng(), np.random.default_rng()
    g1.bit_generator.state, g2.bit_generator.state = state["rng"], back["rng"]
    assert np.array_equal(g1.random(5), g2.random(5))  # the 128-bit PCG64 state survives JSON


@given(hnp.arrays(dtype=st.sampled_from([np.float32, np.float64, np.int8, np.uint64, np.bool_]),
                  shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)))
@settings(max_examples=30)
def test_any_numeric_array_round_trips_exactly(tmp_path_factory, arr):
    path = tmp_path_factory.mktemp("rt") / "a.npz"
    save_state(path, {"a": arr})
    back = load_state(path)["a"]
    assert back.dtype == arr.dtype and back.shape == arr.shape
    assert np.array_equal(back, arr, equal_nan=True)  # bitwise, NaN included


def test_file_is_plain_npz_readable_without_pickle(tmp_path, rng):
    path = tmp_path / "ck.npz"
    save_state(path, _state(rng), kind="checkpoint")
    with np.load(path, allow_pickle=False) as z:
        assert all(z[k].dtype != object for k in z.files)
        meta = json.loads(z[META_KEY].tobytes().decode())
        assert "model/fc1.W" in z.files
    assert meta["kind"] == "checkpoint" and meta["version"] == checkpoint.FORMAT_VERSION


def test_no_temporary_file_left(tmp_path, rng):
    save_state(tmp_path / "ck.npz", _state(rng))
    save_state(tmp_path / "ck.npz", _state(rng))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck.npz"]


def test_failure_mid_write_keeps_old_file(tmp_path, monkeypatch, rng):
    path = tmp_path / "ck.npz"
    save_state(path, {"w": np.arange(4.0)})
    before = path.read_bytes()
    calls = []

    def failing_write_array(fp, array, *args, **kwargs):  # dies after the first member
        calls.append(1)
        if len(calls) > 1:
            raise OSError("disk full")
        return real(fp, array, *args, **kwargs)

    real = np.lib.format.write_array
    monkeypatch.setattr(np.lib.format, "write_array", failing_write_array)
    with pytest.raises(OSError, match="disk full"):
        save_state(path, _state(rng))
    assert len(calls) == 2  # the write really started before it failed
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck.npz"]
    np.testing.assert_array_equal(load_state(path)["w"], np.arange(4.0))


def test_truncated_file_gives_value_error(tmp_path, rng):
    path = tmp_path / "ck.npz"
    save_state(path, _state(rng))
    data = path.read_bytes()
    for cut in (10, len(data) // 2, len(data) - 5):
        path.write_bytes(data[:cut])
        with pytest.raises(ValueError, match="ck.npz"):
            load_state(path)


@pytest.mark.parametrize("content", ["text", "npy", "foreign_npz", "pickled"])
def test_foreign_files_give_value_error(tmp_path, content):
    path = tmp_path / "x.npz"
    if content == "text":
        path.write_text("hello, not an archive\n")
    elif content == "npy":
        with open(path, "wb") as fh:
            np.save(fh, np.arange(3))
    elif content == "foreign_npz":
        np.savez(path, weights=np.arange(3))
    else:
        with open(path, "wb") as fh:
            np.save(fh, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="x.npz"):
        load_state(path)


def test_wrong_kind_and_newer_version_rejected(tmp_path):
    path = tmp_path / "m.npz"
    save_state(path, {"a": 1}, kind="model")
    with pytest.raises(ValueError, match="'model'"):
        load_state(path, kind="checkpoint")
    assert load_state(path, kind=None) == {"a": 1}
    meta = json.dumps({"kind": "checkpoint", "version": 99, "state": {}}).encode()
    with zipfile.ZipFile(path, "w") as zf:
        with zf.open(META_KEY + ".npy", "w") as fh:
            np.lib.format.write_array(fh, np.frombuffer(meta, np.uint8))
    with pytest.raises(ValueError, match="version 99"):
        load_state(path)


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_state(tmp_path / "nope.npz")


@pytest.mark.parametrize("state, word", [
    ({1: np.zeros(1)}, "keys"),
    ({"a/b": 1}, "keys"),
    ({"x": object()}, "x"),
    ({"x": np.array(["s"])}, "numeric"),
    ([1, 2], "dict"),
])
def test_bad_state_rejected(tmp_path, state, word):
    with pytest.raises(TypeError, match=word):
        save_state(tmp_path / "s.npz", state)
    assert not os.listdir(tmp_path)  # nothing written, not even a temporary file
