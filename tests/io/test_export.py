"""Packed model files: same predictions on bits, ~32x smaller binarized layers, clear errors."""

import numpy as np
import pytest

from horq_ref.bits import unpack_signs
from horq_ref.io.checkpoint import load_state, save_state
from horq_ref.commands import main
from horq_ref.data.datasets import load_dataset
from horq_ref.io.export import export_model, load_packed, pack_model, size_report
from horq_ref.nn.models import build_model
from horq_ref.quantize import sign
from horq_ref.nn.train import logits, predict, train


@pytest.fixture(scope="module")
def ds():
    return load_dataset(limit_train=600)  # the whole embedded test split: 1,000 digits


@pytest.fixture(scope="module")
def trained(ds, tmp_path_factory):
    """A small trained horq2 MLP (hidden width 100: rows of 100 bits, a padded second word)."""
    model = build_model("mlp", "horq2", seed=3, hidden=100)
    ck = tmp_path_factory.mktemp("ck") / "ck.npz"
    train(model, ds, epochs=2, batch_size=50, lr=3e-3, seed=3, log=None, checkpoint_path=ck,
          model_config=model.config)
    return model, ck


def test_bits_model_predicts_like_the_float_model(trained, ds, tmp_path):
    model, _ = trained
    path = tmp_path / "m.npz"
    export_model(model, path)
    packed = load_packed(path)  # backend "bits"
    assert packed.config["backend"] == "bits" and model.config["backend"] == "float"
    z_float, z_bits = logits(model, ds.x_test), logits(packed, ds.x_test)
    # Same planes and integer dot products; only the float rounding of the scales and of the
    # sums differs (float32 logits of size ~10: a few 1e-6), far below the gap between classes.
    np.testing.assert_allclose(z_bits, z_float, rtol=0, atol=1e-4)
    assert np.array_equal(predict(packed, ds.x_test), predict(model, ds.x_test))
    assert np.mean(predict(model, ds.x_test) == ds.y_test) > 0.5  # a trained model, not chance


def test_cnn_round_trip(ds, tmp_path):
    model = build_model("cnn", "horq2", seed=1, channels=(4, 8))
    small = load_dataset(limit_train=200, limit_test=100)
    train(model, small, epochs=1, batch_size=50, lr=3e-3, log=None)
    export_model(model, tmp_path / "c.npz")
    packed = load_packed(tmp_path / "c.npz")
    # as above: float32 logits, rounding only
    np.testing.assert_allclose(logits(packed, small.x_test), logits(model, small.x_test),
                               rtol=0, atol=1e-4)
    assert np.array_equal(predict(packed, small.x_test), predict(model, small.x_test))


def test_packed_content_is_signs_and_alpha(trained):
    model, _ = trained
    packed = pack_model(model)
    assert set(packed["binary"]) == model.binarized == {"fc2.W"}
    W = model.params["fc2.W"]  # (100, 100)
    entry = packed["binary"]["fc2.W"]
    assert entry["bits"].dtype == np.uint64 and entry["bits"].shape == (100, 2)
    assert np.array_equal(unpack_signs(entry["bits"], 100), sign(W).astype(np.int8))
    np.testing.assert_allclose(entry["alpha"], np.abs(W).mean(axis=1), rtol=1e-6)  # float32 mean
    assert "fc2.W" not in packed["float"] and "fc1.W" in packed["float"]
    assert "bn1.running_mean" in packed["float"]


def test_size_ratios_follow_from_the_shapes():
    model = build_model("mlp", "horq2", hidden=512)
    rep = size_report(model)
    F = D = 512
    expected = (F * D * 4) / (F * (D // 64) * 8 + F * 4)  # float32 vs bits + one float32 alpha
    assert rep["binarized_ratio"] == pytest.approx(expected) and 30 < expected < 32
    n_all = sum(v.size for v in model.state_dict().values())
    assert rep["model_float32_bytes"] == 4 * n_all


def test_file_is_written_atomically_and_ratio_uses_its_size(trained, tmp_path, monkeypatch):
    model, _ = trained
    path = tmp_path / "m.npz"
    rep = export_model(model, path)
    assert rep["file_bytes"] == path.stat().st_size
    assert rep["file_ratio"] == pytest.approx(rep["model_float32_bytes"] / rep["file_bytes"])
    before = path.read_bytes()

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(np.lib.format, "write_array", boom)
    with pytest.raises(OSError):
        export_model(model, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]


def test_truncated_and_foreign_files_give_value_error(trained, tmp_path):
    model, ck = trained
    path = tmp_path / "m.npz"
    export_model(model, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(ValueError, match="m.npz"):
        load_packed(path)
    with pytest.raises(ValueError, match="packed-model"):
        load_packed(ck)  # a training checkpoint is not a packed model
    np.savez(tmp_path / "f.npz", fc1=np.zeros(3))
    with pytest.raises(ValueError, match="f.npz"):
        load_packed(tmp_path / "f.npz")


def test_inconsistent_packed_file_gives_value_error(trained, tmp_path):
    model, _ = trained
    state = pack_model(model)
    state["binary"]["fc2.W"]["bits"] = state["binary"]["fc2.W"]["bits"][:, :1]  # a word missing
    save_state(tmp_path / "bad.npz", state, kind="packed-model")
    with pytest.raises(ValueError, match="bad.npz: header.model_config describes .* weights"):
        load_packed(tmp_path / "bad.npz")  # fewer numbers than the model needs: refused first
    state = pack_model(model)
    state["binary"]["fc2.W"]["bits"] = state["binary"]["fc2.W"]["bits"].T.copy()  # as many words
    save_state(tmp_path / "bad.npz", state, kind="packed-model")
    with pytest.raises(ValueError, match=r"binary.fc2.W.bits must be a uint64 array of shape"):
        load_packed(tmp_path / "bad.npz")
    state = pack_model(model)
    del state["float"]["fc1.b"]
    save_state(tmp_path / "bad2.npz", state, kind="packed-model")
    with pytest.raises(ValueError, match="fc1.b"):
        load_packed(tmp_path / "bad2.npz")


def test_export_and_predict_commands(trained, ds, tmp_path, capsys):
    model, ck = trained
    out = tmp_path / "cli.npz"
    assert main(["export", "--checkpoint", str(ck), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "ratio" in text and "binarized weights" in text and "whole model" in text
    assert main(["predict", "--model", str(out)]) == 0
    acc = float(np.mean(predict(model, ds.x_test) == ds.y_test))
    assert f"test accuracy {acc:.4f}" in capsys.readouterr().out


def test_export_needs_model_config(ds, tmp_path, capsys):
    ck = tmp_path / "noconf.npz"
    train(build_model("mlp", "horq1", hidden=8), ds, epochs=1, log=None, checkpoint_path=ck)
    state = load_state(ck)
    del state["model_config"]  # a field missing is refused, never defaulted
    save_state(ck, state)
    assert main(["export", "--checkpoint", str(ck), "--out", str(tmp_path / "x.npz")]) == 2
    assert "noconf.npz: model_config is missing" in capsys.readouterr().err


@pytest.mark.parametrize("argv, word", [
    (["export", "--checkpoint", "/nonexistent.npz", "--out", "x.npz"], "--checkpoint"),
    (["predict", "--model", "/nonexistent.npz"], "--model"),
    (["predict", "--model", __file__, "--limit", "0"], "--limit"),
])
def test_bad_arguments_exit_2(argv, word, capsys):
    assert main(argv) == 2
    assert word in capsys.readouterr().err


def test_missing_required_argument_exits_2(capsys):
    assert main(["predict"]) == 2 and "--model" in capsys.readouterr().err


@pytest.mark.parametrize("arch, sizes", [
    ("mlp", {}), ("mlp3", {}), ("cnn", {}), ("cnn3", {}),  # the default widths of every network
    ("mlp", dict(hidden=7)), ("mlp", dict(hidden=[5, 6, 7])), ("cnn3", dict(channels=[3, 4, 5])),
])
def test_every_architecture_exports_and_loads(arch, sizes, tmp_path):
    """The size check of load_packed counts the weights the model really has (it once counted
    cnn3 as an MLP and left out the deeper defaults, refusing a sound cnn3 file)."""
    from horq_ref.nn.models import weight_count

    m = build_model(arch, "horq2", input_shape=(1, 8, 8), seed=1, **sizes)
    assert weight_count(arch, (1, 8, 8), 10, **sizes) == sum(m.params[k].size for k in m.params if k.endswith(".W"))
    export_model(m, tmp_path / "m.npz")
    x = np.random.default_rng(0).standard_normal((3, 1, 8, 8)).astype(np.float32)
    packed = load_packed(tmp_path / "m.npz", backend="float")
    # as in test_bits_model_predicts_like_the_float_model: float32 logits, rounding only
    np.testing.assert_allclose(logits(packed, x), logits(m, x), rtol=0, atol=1e-4)
