"""The training loop: reproducibility, bit-identical resume, clipping, interrupts, the train command."""

import json

import numpy as np
import pytest

from horq_ref.nn import train as train_mod
from horq_ref.commands import main
from horq_ref.data.datasets import load_dataset
from horq_ref.nn.models import build_model
from horq_ref.nn.train import evaluate, load_checkpoint, logits, predict, train
from support import TINY_TRAIN_ARGV

TINY = dict(hidden=16)


@pytest.fixture(scope="module")
def ds():
    return load_dataset(limit_train=300, limit_test=100)


def _model(method="horq2", seed=0):
    return build_model("mlp", method, seed=seed, **TINY)


def _fit(ds, model, **kw):
    opts = dict(epochs=2, batch_size=50, lr=3e-3, seed=0, log=None)
    opts.update(kw)
    return train(model, ds, **opts)


def _assert_states_equal(a, b):
    assert a.keys() == b.keys()
    for k in a:
        assert a[k].dtype == b[k].dtype
        assert np.array_equal(a[k], b[k]), k  # bit for bit, not approximately


def test_same_seed_same_weights_other_seed_other_weights(ds):
    m1, m2, m3 = _model(seed=1), _model(seed=1), _model(seed=1)
    _fit(ds, m1, seed=5)
    _fit(ds, m2, seed=5)
    _fit(ds, m3, seed=6)  # same initialization, other shuffling
    _assert_states_equal(m1.state_dict(), m2.state_dict())
    assert not np.array_equal(m1.params["fc2.W"], m3.params["fc2.W"])


def test_history_fields(ds):
    hist = _fit(ds, _model("float"), epochs=3, schedule="cosine")
    assert [h["epoch"] for h in hist] == [1, 2, 3]
    for h in hist:
        for key in ("train_acc", "test_acc"):
            assert 0.0 <= h[key] <= 1.0
        assert h["seconds"] >= h["train_seconds"] > 0
        assert h["images_per_s"] == pytest.approx(ds.n_train / h["train_seconds"])
    lrs = [h["lr"] for h in hist]
    assert lrs[0] == pytest.approx(3e-3) and lrs[0] > lrs[1] > lrs[2] > 0  # cosine decay


def test_training_learns(ds):
    m = _model("float")
    before = evaluate(m, ds.x_test, ds.y_test)[1]
    hist = _fit(ds, m, epochs=4, lr=1e-2)
    # 10 balanced classes: chance is 0.1; a 16-unit MLP on 300 digits reaches well above 0.6.
    assert hist[-1]["test_acc"] > 0.6 > before
    assert hist[-1]["train_loss"] < hist[0]["train_loss"]


def test_binarized_latent_weights_are_clipped(ds):
    m = _model("horq2")
    assert m.binarized == {"fc2.W"}
    _fit(ds, m, optimizer="sgd", lr=2.0, schedule="constant", epochs=1)
    W = m.params["fc2.W"]
    assert np.max(np.abs(W)) <= 1.0
    assert np.sum(np.abs(W) == 1.0) > 0  # the huge rate pushes weights to the clip: it acted
    assert np.max(np.abs(m.params["fc1.W"])) > 1.0  # full-precision layers are not clipped


def test_evaluate_and_predict_agree(ds):
    m = _model("horq2")
    _fit(ds, m, epochs=1)
    z_one = logits(m, ds.x_test, batch_size=len(ds.x_test))
    z_many = logits(m, ds.x_test, batch_size=7)
    # Eval mode uses running statistics, so a sample's logits do not depend on its batch; only the
    # GEMM's summation order may change with the batch size (float32: a few ulps of O(10) logits).
    np.testing.assert_allclose(z_many, z_one, rtol=0, atol=1e-4)
    loss, acc = evaluate(m, ds.x_test, ds.y_test, batch_size=13)
    assert acc == np.mean(predict(m, ds.x_test) == ds.y_test)
    assert loss > 0


def _interrupt_in_epoch(epoch, batch):
    def log(line):
        if line.startswith(f"  epoch {epoch}/") and f" batch {batch}/" in line:
            raise KeyboardInterrupt
    return log


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_resume_is_bit_identical_to_uninterrupted(ds, tmp_path, optimizer):
    full = _model()
    hist_full = _fit(ds, full, epochs=3, optimizer=optimizer, checkpoint_path=tmp_path / "a.npz")
    ck = tmp_path / "b.npz"
    part = _model()
    with pytest.raises(KeyboardInterrupt):  # stopped in the middle of epoch 2
        _fit(ds, part, epochs=3, optimizer=optimizer, checkpoint_path=ck,
             log=_interrupt_in_epoch(2, 3), progress_every_s=0)
    assert load_checkpoint(ck)["epoch"] == 1  # the last finished epoch, nothing of epoch 2
    resumed = _model(seed=99)  # weights from the checkpoint, not from the initialization
    hist = _fit(ds, resumed, epochs=3, optimizer=optimizer, checkpoint_path=ck, resume=True)
    _assert_states_equal(full.state_dict(), resumed.state_dict())
    assert [h["train_loss"] for h in hist] == [h["train_loss"] for h in hist_full]
    assert load_checkpoint(ck)["epoch"] == 3


def test_checkpoint_contents_and_atomicity(ds, tmp_path):
    ck = tmp_path / "c.npz"
    m = _model()
    _fit(ds, m, epochs=2, checkpoint_path=ck)
    state = load_checkpoint(ck)
    assert state["epoch"] == 2 and len(state["history"]) == 2
    assert state["model_config"] == json.loads(json.dumps(m.config))
    assert state["config"]["batch_size"] == 50 and state["optimizer"]["t"] == 2 * 6  # 300/50 steps
    _assert_states_equal(state["model"], m.state_dict())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.npz"]


def test_interrupt_while_saving_still_saves_the_epoch(ds, tmp_path, monkeypatch):
    ck = tmp_path / "d.npz"
    real, calls = train_mod.save_state, []

    def flaky_save(path, state, kind):
        calls.append(state["epoch"])
        if len(calls) == 2:  # Ctrl-C arrives while epoch 2 is being written
            raise KeyboardInterrupt
        real(path, state, kind=kind)

    monkeypatch.setattr(train_mod, "save_state", flaky_save)
    with pytest.raises(KeyboardInterrupt):
        _fit(ds, _model(), epochs=3, checkpoint_path=ck)
    assert calls == [1, 2, 2]  # the handler wrote epoch 2 again
    assert load_checkpoint(ck)["epoch"] == 2


def test_resume_with_other_settings_is_refused(ds, tmp_path):
    ck = tmp_path / "e.npz"
    _fit(ds, _model(), epochs=1, checkpoint_path=ck)
    with pytest.raises(ValueError, match="batch_size"):
        _fit(ds, _model(), epochs=2, batch_size=60, checkpoint_path=ck, resume=True)


def test_resume_without_file_starts_fresh_and_extra_epochs_continue(ds, tmp_path):
    ck = tmp_path / "f.npz"
    lines = []
    hist = _fit(ds, _model(), epochs=1, checkpoint_path=ck, resume=True, log=lines.append,
                schedule="constant")
    assert len(hist) == 1 and "starting from epoch 1" in lines[0]
    hist = _fit(ds, _model(), epochs=2, checkpoint_path=ck, resume=True, log=None,
                schedule="constant")
    assert [h["epoch"] for h in hist] == [1, 2]


@pytest.mark.parametrize("kw, word", [
    (dict(epochs=0), "epochs"), (dict(batch_size=0), "batch_size"),
    (dict(optimizer="rmsprop"), "optimizer"), (dict(schedule="linear"), "schedule"),
    (dict(resume=True), "checkpoint_path"),
])
def test_bad_arguments_raise(ds, kw, word):
    with pytest.raises(ValueError, match=word):
        _fit(ds, _model(), **kw)


def test_progress_lines(ds):
    lines = []
    _fit(ds, _model(), epochs=1, log=lines.append, progress_every_s=0)
    progress = [l for l in lines if "batch" in l]
    assert len(progress) == 5  # 6 batches; the last one is covered by the epoch summary
    assert all("loss" in l and "acc" in l and "img/s" in l for l in progress)
    assert lines[-1].startswith("epoch 1/1") and "test acc" in lines[-1]


# ---- the train command ----------------------------------------------------------------------

def test_train_command(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["train", "--arch", "mlp", "--method", "horq2", "--epochs", "1", "--batch-size", "50",
            "--limit-train", "200", "--limit-test", "100", "--hidden", "16", "--out", str(out)]
    assert main(argv) == 0
    text = capsys.readouterr().out
    acc = json.loads((out / "history.json").read_text())["history"][-1]["test_acc"]
    assert f"final test accuracy {acc:.4f}" in text
    state = load_checkpoint(out / "checkpoint.npz")
    assert state["model_config"]["method"] == "horq2" and state["model_config"]["order"] == 2
    assert (out / "training.png").read_bytes()[:4] == b"\x89PNG"
    assert main(argv + ["--resume", "--epochs", "2"]) == 0
    assert "resumed from" in capsys.readouterr().out


@pytest.mark.parametrize("backend", ["bits", "bits-fast"])
def test_train_command_trains_on_bits(tmp_path, capsys, backend):
    """``--backend`` reaches the model, the history and the checkpoint (that the bit backends train
    to the float backend's accuracy: tests/test_binary_backward.py)."""
    out = tmp_path / "run"
    assert main(TINY_TRAIN_ARGV + ["--backend", backend, "--out", str(out)]) == 0
    assert f"backend {backend}: XOR + popcount)" in capsys.readouterr().out  # the model's description
    doc = json.loads((out / "history.json").read_text())
    assert doc["settings"]["backend"] == doc["model"]["backend"] == backend
    assert load_checkpoint(out / "checkpoint.npz")["model_config"]["backend"] == backend


def test_train_command_order_overrides(tmp_path):
    ck = tmp_path / "k.npz"
    assert main(["train", "--method", "horq1", "--order", "3", "--epochs", "1", "--limit-train",
                 "100", "--limit-test", "50", "--hidden", "8", "--checkpoint", str(ck)]) == 0
    assert load_checkpoint(ck)["model_config"]["order"] == 3


@pytest.mark.parametrize("argv, word", [
    (["--epochs", "0"], "--epochs"), (["--batch-size", "-1"], "--batch-size"),
    (["--lr", "0"], "--lr"), (["--order", "0"], "--order"),
    (["--method", "float", "--order", "2"], "--order"),
    (["--data", "cifar10"], "--data-dir"), (["--resume"], "--checkpoint"),
    (["--limit-train", "0"], "--limit-train"),
    (["--backend", "bits", "--scales", "refit"], "greedy scales"),
])
def test_train_command_bad_arguments(argv, word, capsys):
    assert main(["train"] + argv) == 2
    assert word in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["--arch", "resnet"], ["--method", "horq9x"], ["--epochs", "x"],
                                  ["--backend", "gpu"]])
def test_train_command_bad_choices_exit_2(argv, capsys):
    assert main(["train"] + argv) == 2  # argparse's refusal, returned as the exit status
    assert argv[0] in capsys.readouterr().err


def test_resume_of_a_finished_run_changes_nothing(ds, tmp_path):
    ck, lines = tmp_path / "g.npz", []
    m = _model()
    _fit(ds, m, epochs=2, checkpoint_path=ck)
    again = _model(seed=7)
    hist = _fit(ds, again, epochs=1, checkpoint_path=ck, resume=True, log=lines.append)
    assert len(hist) == 2 and "nothing to do" in lines[-1]
    _assert_states_equal(m.state_dict(), again.state_dict())
