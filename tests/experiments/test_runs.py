"""Helpers of the training notebooks: a layer's input, one training record, a comparison in words."""

import numpy as np
import pytest

from horq_ref.data import load_dataset
from horq_ref.experiments.claims import interval_words
from horq_ref.experiments.runs import layer_input, train_record
from horq_ref.experiments.stats import compare_records, decode_correct, paired_interval
from horq_ref.nn.models import build_model


def test_layer_input_is_what_the_layer_receives():
    model = build_model("mlp", "horq2", seed=0, hidden=16)
    x = np.random.default_rng(0).random((3, 1, 28, 28)).astype(np.float32)
    a = layer_input(model, x, "fc2")
    assert a.shape == (3, 16)
    fc2 = next(l for l in model.layers if l.name == "fc2")
    rest = model.layers[model.layers.index(fc2):]
    out = a
    for layer in rest:
        out = layer.forward(out, False)
    np.testing.assert_array_equal(out, model.forward(x, train=False))  # same path, same numbers
    with pytest.raises(KeyError):
        layer_input(model, x, "no such layer")


def test_train_record_keeps_the_per_image_correctness_behind_its_accuracy():
    ds = load_dataset(limit_train=200, limit_test=100, seed=0)
    settings = {"epochs": 1, "batch_size": 50}
    recs = [train_record(ds, m, s, settings, hidden=16)[0] for m in ("horq1", "horq2") for s in (0, 1)]
    for rec in recs:
        correct = decode_correct(rec["correct"])
        assert correct.shape == (ds.n_test,) and correct.mean() == rec["test_acc"]
    (acc, *_) = [c for c in compare_records(recs) if c["measure"] == "test accuracy"]
    assert (acc["a"], acc["b"], acc["n_seeds"], acc["n_images"]) == ("horq2", "horq1", 2, ds.n_test)


def test_interval_words_says_whether_the_interval_excludes_zero():
    """A per-seed loss measure whose seeds agree (t_2 = 4.30, se 0.058) and four test images that
    cannot tell a 50-point accuracy gap from 0 (the image variance dominates)."""
    lower = {"measure": "train-loss AUC", **paired_interval([[0.0], [0.1], [-0.1]], [[1.0]] * 3)}
    wide = {"measure": "test accuracy", **paired_interval([[1, 1, 1, 0]] * 3, [[0, 0, 1, 0]] * 3)}
    assert interval_words(lower).startswith("-1.000 nats, 95 % interval [-1.248, -0.752]")
    assert interval_words(lower).endswith(": excludes 0")
    assert interval_words(wide).startswith("+50.000 points") and interval_words(wide).endswith("does not exclude 0")
