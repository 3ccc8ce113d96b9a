"""Helpers of the training notebooks: a layer's input, one training record, the paired rule of thumb."""

import numpy as np
import pytest

from horq_ref.experiments.runs import layer_input, resolved
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


def test_resolved_needs_one_sign_and_a_mean_beyond_the_noise():
    assert resolved([0.02, 0.03, 0.01], 0.01)
    assert not resolved([0.02, -0.01, 0.03], 0.01)  # sign changes
    assert not resolved([0.005, 0.006, 0.004], 0.01)  # one sign, but within the noise
    assert resolved([-0.02, -0.03, -0.02], 0.01)
