"""The whole-network gradient check used by notebook 04: it passes a right backward pass and fails a wrong one."""

import numpy as np

from horq_ref.nn.gradcheck_network import network_errors, small_network
from horq_ref.ste import smooth_sign

SMOOTH = smooth_sign(0.5)
FD_TOL, WRONG = 1e-6, 1e-2  # centred differences, h = 1e-6, float64 (see horq_ref.nn.gradcheck)


def test_small_network_shapes_and_moved_batch_norm():
    model, x, y = small_network("cnn", SMOOTH)
    assert x.shape == (5, 2, 6, 6) and y.shape == (5,) and model.params["bn1.gamma"].dtype == np.float64
    assert not np.allclose(model.params["bn1.gamma"], 1.0)  # moved off its initial value


def test_network_errors_pass_the_chain_rule_and_fail_the_identity_rule():
    errors = network_errors(*small_network("mlp", SMOOTH))
    assert max(errors.values()) < FD_TOL, errors
    control = network_errors(*small_network("mlp", SMOOTH, ste="identity"))  # negative control
    assert control["fc2.W"] > WRONG and control["fc3.W"] < FD_TOL, control
