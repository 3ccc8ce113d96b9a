"""Training that refuses what it cannot do well: mismatched resumes, bad checkpoint metadata,
empty data sets, divergence; and a resumed schedule that continues instead of restarting."""

import json

import numpy as np
import pytest
from support import TINY_TRAIN_ARGV, one_line_error

from horq_ref.commands import main
from horq_ref.data.datasets import Dataset, load_dataset
from horq_ref.io.checkpoint import load_state, save_state
from horq_ref.nn.models import build_model
from horq_ref.nn.train import load_checkpoint, train

BASE = TINY_TRAIN_ARGV


@pytest.fixture(scope="module")
def ds():
    return load_dataset(limit_train=200, limit_test=50)


@pytest.fixture
def ck(tmp_path):
    path = tmp_path / "ck.npz"
    assert main(BASE + ["--checkpoint", str(path)]) == 0
    return path


@pytest.mark.parametrize("flags, old, new", [
    (["--method", "horq1"], "horq2", "horq1"),
    (["--order", "3"], "2", "3"),
    (["--ste", "identity"], "chain", "identity"),
    (["--arch", "cnn"], "mlp", "cnn"),
])
def test_mismatched_resume_names_both_values(ck, flags, old, new, capsys):
    before = ck.read_bytes()
    capsys.readouterr()
    assert main(BASE + ["--checkpoint", str(ck), "--resume", "--epochs", "2"] + flags) == 2
    err = capsys.readouterr().err.strip()
    one_line_error(err, old, new)
    assert ck.read_bytes() == before


def test_mismatched_width_is_refused(ck, capsys):
    argv = [a if a != "8" else "12" for a in BASE]
    assert main(argv + ["--checkpoint", str(ck), "--resume", "--epochs", "2"]) == 2
    err = capsys.readouterr().err
    assert "8" in err and "12" in err and "hidden" in err


def test_resume_to_more_epochs_continues_the_cosine_schedule(ds, tmp_path):
    path = tmp_path / "c.npz"
    kw = dict(batch_size=100, lr=2e-3, seed=0, log=None, checkpoint_path=path)
    train(build_model("mlp", "horq2", hidden=8), ds, epochs=3, **kw)
    hist = train(build_model("mlp", "horq2", hidden=8), ds, epochs=6, resume=True, **kw)
    lrs = [h["lr"] for h in hist]
    assert all(b < a for a, b in zip(lrs, lrs[1:])), lrs  # never goes back up
    assert lrs[:3] == pytest.approx([2e-3, 1.5e-3, 5e-4])
    assert lrs[-1] > 0


@pytest.mark.parametrize("path, value, word", [
    (("epoch",), -1, "epoch"),
    (("history",), {"a": 1}, "history"),
    (("optimizer", "beta1"), 1.5, "beta1"),
    (("optimizer", "beta2"), np.float64(-0.1), "beta2"),
    (("rng", "state", "state"), -5, "rng"),
    (("rng", "bit_generator"), "MT19937", "rng"),
    (("config", "lr"), "fast", "lr"),
])
def test_checkpoint_metadata_is_validated_on_load(ds, tmp_path, path, value, word):
    good = tmp_path / "g.npz"
    train(build_model("mlp", "horq2", hidden=8), ds, epochs=1, batch_size=100, log=None,
          checkpoint_path=good)
    state = load_state(good)
    node = state
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    bad = tmp_path / "bad.npz"
    save_state(bad, state)
    with pytest.raises(ValueError, match=word):
        load_checkpoint(bad)


def test_bad_rng_state_in_cli_is_one_line(ds, ck, capsys):
    state = load_state(ck)
    state["rng"]["state"]["state"] = 2 ** 200
    save_state(ck, state)
    capsys.readouterr()
    assert main(BASE + ["--checkpoint", str(ck), "--resume", "--epochs", "2"]) == 2
    one_line_error(capsys.readouterr().err, "rng")


def _empty(ds, part):
    arrays = dict(x_train=ds.x_train, y_train=ds.y_train, x_test=ds.x_test, y_test=ds.y_test)
    arrays[f"x_{part}"] = arrays[f"x_{part}"][:0]
    arrays[f"y_{part}"] = arrays[f"y_{part}"][:0]
    return Dataset(**arrays, name="empty", classes=ds.classes)


@pytest.mark.parametrize("part", ["train", "test"])
def test_empty_sets_are_refused_before_the_first_epoch(ds, part):
    lines = []
    with pytest.raises(ValueError, match=f"{part}"):
        train(build_model("mlp", "horq2", hidden=8), _empty(ds, part), epochs=1, log=lines.append)
    assert not any(l.startswith("epoch") for l in lines)


def test_divergence_stops_and_keeps_the_last_good_epoch(ds, tmp_path, monkeypatch):
    from horq_ref.nn import train as train_mod

    path = tmp_path / "d.npz"
    kw = dict(batch_size=100, lr=2e-3, seed=0, log=None, checkpoint_path=path)
    train(build_model("mlp", "float", hidden=8), ds, epochs=2, **kw)
    good = load_checkpoint(path)
    real, calls = train_mod.softmax_cross_entropy, []

    def nan_on_third_epoch(z, y):
        calls.append(1)
        loss, dz = real(z, y)
        return (float("nan") if len(calls) > 1 else loss), dz

    monkeypatch.setattr(train_mod, "softmax_cross_entropy", nan_on_third_epoch)
    with pytest.raises(train_mod.TrainingDiverged, match="learning rate 0.00075") as exc:
        train(build_model("mlp", "float", hidden=8), ds, epochs=4, resume=True, **kw)
    # epoch 3 of a 2-epoch cosine run extended to 4: 1e-3 * (1 + cos(pi / 3)) / 2 = 7.5e-4
    assert "epoch 3" in str(exc.value) and "step 2" in str(exc.value) and exc.value.lr == 7.5e-4
    assert len(exc.value.history) == 2
    kept = load_checkpoint(path)
    assert kept["epoch"] == 2 and len(kept["history"]) == 2
    for k in good["model"]:
        assert np.array_equal(good["model"][k], kept["model"][k])


@pytest.mark.parametrize("method, backend", [("float", "float"), ("horq2", "float"),
                                             ("horq1", "bits"), ("horq3", "bits-fast")])
def test_divergence_in_the_cli_is_one_line_and_keeps_history(tmp_path, capsys, method, backend):
    """Every method and backend reports divergence the same way (np.errstate in the training step):
    at the step, naming the learning rate, with the history and the figure written."""
    out = tmp_path / "run"
    assert main(BASE + ["--out", str(out), "--method", method, "--backend", backend, "--lr", "1e30"]) == 2
    err = capsys.readouterr().err.strip()
    one_line_error(err, "1e+30", "non-finite", "step")
    hist = json.loads((out / "history.json").read_text())
    assert hist["history"] == [] and hist["test_accuracy"] is None
    assert hist["stopped"].startswith("non-finite") and (out / "training.png").exists()
