"""The run records of ``reproduce`` (horq_ref.experiments.records): a good record is read back, one
with other settings is run again, and a damaged ``runs/*.json`` is a one-line error, not a traceback
and not a silent rerun."""

import json

import pytest
from support import one_line_error

from horq_ref.commands import main
from horq_ref.data.datasets import load_dataset
from horq_ref.experiments import reproduce as rp
from horq_ref.experiments.records import data_note, saved_run

SPEC = dict(seeds=1, epochs=1, batch_size=100, optimizer="adam", lr=2e-3, schedule="cosine")


@pytest.fixture(scope="module")
def ds():
    return load_dataset(limit_train=200, limit_test=100)


def _record(ds, **changes):
    rec = {"model": "mlp", "method": "float", "order": 0, "seed": 0, "test_acc": 0.5,
           "history": [{"epoch": 1, "lr": 2e-3, "train_loss": 1.0, "test_acc": 0.5}],
           "train_seconds": 1.0, "images_per_s": 100.0, "ptq": {"greedy": {"1": 0.4}},
           "settings": {k: v for k, v in SPEC.items() if k != "seeds"}, "data": data_note(ds)}
    rec.update(changes)
    return rec


def test_a_good_record_is_read_back(ds, tmp_path):
    path = tmp_path / "r.json"
    path.write_text(json.dumps(_record(ds)))
    assert saved_run(str(path), ds, SPEC)["ptq"] == {"greedy": {1: 0.4}}


def test_other_settings_are_run_again(ds, tmp_path):
    path = tmp_path / "r.json"
    path.write_text(json.dumps(_record(ds, settings={"epochs": 9})))
    assert saved_run(str(path), ds, SPEC) is None
    assert saved_run(str(tmp_path / "missing.json"), ds, SPEC) is None


@pytest.mark.parametrize("changes", [
    dict(test_acc="high"), dict(history={"epoch": 1}), dict(history=[]), dict(test_acc=1.5),
    dict(ptq={"greedy": {"one": 0.3}}), dict(ptq={"median": {"1": 0.3}}), dict(ptq={"1": 0.3}),
    dict(train_seconds=None),
])
def test_damaged_fields_are_refused_naming_the_file(ds, tmp_path, changes):
    path = tmp_path / "r.json"
    path.write_text(json.dumps(_record(ds, **changes)))
    with pytest.raises(ValueError, match="r.json is damaged"):
        saved_run(str(path), ds, SPEC)


def test_unreadable_json_is_refused(ds, tmp_path):
    path = tmp_path / "r.json"
    path.write_text('{"model": "mlp", ')
    with pytest.raises(ValueError, match="damaged"):
        saved_run(str(path), ds, SPEC)
    path.write_text("[" * 100000 + "]" * 100000)
    with pytest.raises(ValueError, match="damaged"):
        saved_run(str(path), ds, SPEC)


def test_damaged_run_in_the_cli_is_one_line(ds, tmp_path, capsys):
    out = tmp_path / "rq"
    argv = ["reproduce", "--full", "--out", str(out), "--models", "mlp", "--seeds", "1", "--epochs", "1",
            "--limit-train", "200", "--limit-test", "100", "--hidden", "8", "--bound-groups", "5"]
    runs = out / "runs"
    runs.mkdir(parents=True)
    spec = dict(rp.PRESETS["full"]["mlp"], seeds=1, epochs=1, hidden=(8, 8), ptq=rp.PTQ_LIMITS["full"])
    rec = _record(ds, test_acc="x", settings={k: v for k, v in spec.items() if k != "seeds"})
    (runs / "mlp-float-seed0.json").write_text(json.dumps(rec))
    assert main(argv) == 2
    one_line_error(capsys.readouterr().err, "mlp-float-seed0.json is damaged")
