"""The run records of ``reproduce`` (horq_ref.experiments.reproduce_run): a good record is read back; one
that disagrees with its name or with the run's settings, or that is damaged, is a one-line error
naming the file and the field, never a traceback and never a silent rerun."""

import json

import pytest
from support import one_line_error

from horq_ref.commands import main
from horq_ref.data.datasets import load_dataset
from horq_ref.experiments.reproduce_run import data_note, ptq_plan, saved_run

SPEC = dict(seeds=1, epochs=1, batch_size=100, optimizer="adam", lr=2e-3, schedule="cosine",
            ptq=dict(images=50, conv_alternating=2))
KEY = ("mlp", "float", 0)


@pytest.fixture(scope="module")
def ds():
    return load_dataset(limit_train=200, limit_test=100)


def _record(ds, **changes):
    """A sound record of ``KEY`` on ``ds`` (half of the test images right), then ``changes``."""
    row = dict(epoch=1, lr=2e-3, train_loss=1.0, train_acc=0.5, test_loss=1.0, test_acc=0.5,
               seconds=1.0, train_seconds=1.0, images_per_s=100.0)
    plan = ptq_plan("mlp", SPEC["ptq"], ds.n_test)
    rec = {"model": "mlp", "method": "float", "order": 0, "seed": 0, "test_acc": 0.5,
           "history": [row], "train_seconds": 1.0, "images_per_s": 100.0,
           "correct": "10" * (ds.n_test // 2), "data": data_note(ds),
           "settings": {k: v for k, v in SPEC.items() if k != "seeds"},
           "ptq": {sc: {str(K): 0.4 for K in Ks} for sc, (Ks, m) in plan.items()},
           "ptq_correct": {sc: {str(K): "0" * m for K in Ks} for sc, (Ks, m) in plan.items()}}
    rec.update(changes)
    return rec


def test_a_good_record_is_read_back(ds, tmp_path):
    path = tmp_path / "r.json"
    path.write_text(json.dumps(_record(ds)))
    rec = saved_run(str(path), ds, KEY, SPEC)
    assert rec["ptq"]["greedy"] == {K: 0.4 for K in range(1, 7)}
    assert saved_run(str(tmp_path / "missing.json"), ds, KEY, SPEC) is None


@pytest.mark.parametrize("changes, field", [
    (dict(method="horq3"), "method"), (dict(seed=1), "seed"), (dict(model="cnn"), "model"),
    (dict(settings=dict(SPEC, epochs=9)), "settings"), (dict(data="other data"), "data"),
    (dict(test_acc="high"), "test_acc"), (dict(test_acc=0.7), "test_acc"),
    (dict(history={"epoch": 1}), "history"), (dict(history=[]), "history"),
    (dict(correct="1" * 99), "correct"), (dict(correct=7), "correct"),
    (dict(ptq={"greedy": {"one": 0.3}}), "ptq"), (dict(ptq={"1": 0.3}), "ptq"),
    (dict(train_seconds=None), "train_seconds"), (dict(train_seconds=float("nan")), "train_seconds"),
    (dict(extra=1), "extra"),
])
def test_a_record_that_disagrees_or_is_damaged_is_refused_naming_the_field(ds, tmp_path, changes,
                                                                          field):
    path = tmp_path / "r.json"
    path.write_text(json.dumps(_record(ds, **changes)))
    with pytest.raises(ValueError, match=f"r.json: {field}"):
        saved_run(str(path), ds, KEY, SPEC)


def test_unreadable_or_inflated_json_is_refused(ds, tmp_path):
    path = tmp_path / "r.json"
    path.write_text('{"model": "mlp", ')
    with pytest.raises(ValueError, match="r.json: unreadable JSON"):
        saved_run(str(path), ds, KEY, SPEC)
    path.write_text("[" * 100000 + "]" * 100000)
    with pytest.raises(ValueError, match="r.json: .*JSON objects and arrays"):
        saved_run(str(path), ds, KEY, SPEC)
    path.write_text("[" * 100 + "]" * 100)
    with pytest.raises(ValueError, match="r.json: JSON nested more than"):
        saved_run(str(path), ds, KEY, SPEC)


def test_damaged_run_in_the_cli_is_one_line(tmp_path, capsys):
    out = tmp_path / "rq"
    argv = ["reproduce", "--full", "--out", str(out), "--models", "mlp", "--seeds", "1", "--epochs", "1",
            "--limit-train", "200", "--limit-test", "100", "--hidden", "8", "--bound-groups", "5"]
    assert main(argv) == 0
    path = out / "runs" / "mlp-float-seed0.json"
    rec = json.loads(path.read_text())
    path.write_text(json.dumps(dict(rec, test_acc="x")))
    capsys.readouterr()
    assert main(argv) == 2
    one_line_error(capsys.readouterr().err, "mlp-float-seed0.json: test_acc must be")
