"""The finite-difference checker itself, negative controls, and whole networks.

The checker is only worth something if it can fail: the negative controls feed it gradients with
a transposed weight, a dropped term and the identity straight-through rule (not the derivative of
the smooth network) and assert it rejects each by orders of magnitude.
"""

import numpy as np
import pytest

from horq_ref.nn.gradcheck import (check_op, eval_numerical_gradient, eval_numerical_gradient_array,
                                   network_errors, rel_error, small_network)
from horq_ref.nn.layers import dense_forward
from horq_ref.nn.norm import batchnorm_backward, batchnorm_forward, make_bn_param
from horq_ref.ste import smooth_sign

# Centered differences (h = 1e-6, float64): truncation O(h^2) ~ 1e-12 and rounding
# O(eps |f| / h) ~ 1e-10 relative to the gradient's scale; a wrong gradient shows O(1e-2 .. 1).
FD_TOL = 1e-6
# A wrong gradient must miss by at least this much, far above FD_TOL.
WRONG = 1e-2
SMOOTH = smooth_sign(0.5)


def test_numerical_gradient_of_a_known_function(rng):
    x = rng.standard_normal((3, 4))
    numeric = eval_numerical_gradient(lambda x: np.sum(np.sin(x) * x), x)
    assert rel_error(numeric, np.cos(x) * x + np.sin(x)) < 1e-8  # the bound of the module docstring


def test_vector_jacobian_product_and_restoring_x(rng):
    x, df = rng.standard_normal(5), rng.standard_normal(5)
    x0 = x.copy()
    numeric = eval_numerical_gradient_array(lambda x: np.exp(x), x, df)
    np.testing.assert_array_equal(x, x0)  # perturbed in place, then put back exactly
    assert rel_error(numeric, df * np.exp(x)) < 1e-8


def test_a_bad_step_is_visible():
    # Rounding error grows like eps |f| / h: at h = 1e-12 it swamps the 1e-6 threshold.
    x = np.linspace(1.0, 3.0, 7)
    numeric = eval_numerical_gradient(lambda x: np.sum(x**3), x, h=1e-12)
    assert rel_error(numeric, 3 * x**2) > FD_TOL
    assert rel_error(eval_numerical_gradient(lambda x: np.sum(x**3), x), 3 * x**2) < FD_TOL


def test_rel_error_conventions():
    a = np.array([1.0, -2.0, 0.0])
    assert rel_error(a, a) == 0.0
    assert rel_error(np.zeros(3), np.zeros(3)) == 0.0
    assert rel_error(a, 2 * a) == pytest.approx(2 / 4)  # max |a - 2a| / max |2a|
    assert rel_error(a, -a) == pytest.approx(2.0)
    # Entry-wise: a tiny entry that differs in relative terms dominates.
    assert rel_error([1.0, 1e-6], [1.0, 2e-6], elementwise=True) == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="shape"):
        rel_error(np.ones(2), np.ones(3))
    with pytest.raises(TypeError, match="float64"):
        eval_numerical_gradient_array(lambda x: x, np.ones(2, np.float32), np.ones(2))


def test_negative_control_transposed_weight(rng):
    x, W, b = rng.standard_normal((4, 5)), rng.standard_normal((5, 5)), rng.standard_normal(5)

    def backward_transposed(dY, cache):
        x, W = cache
        return dY @ W.T, dY.T @ x, dY.sum(axis=0)  # dx should be dY @ W

    errors = check_op(dense_forward, backward_transposed, [x, W, b])
    assert errors[0] > WRONG and errors[1] < FD_TOL and errors[2] < FD_TOL


def test_negative_control_dropped_term(rng):
    x, gamma, shift = rng.standard_normal((6, 3)), rng.standard_normal(3), rng.standard_normal(3)

    def forward(x, g, s):
        return batchnorm_forward(x, g, s, make_bn_param(3, np.float64))

    def backward_without_variance_term(dout, cache):
        _, _, _, x_hat, gamma, inv_std = cache
        g = dout * gamma
        return inv_std * (g - g.mean(axis=0)), np.sum(dout * x_hat, 0), dout.sum(0)

    assert check_op(forward, batchnorm_backward, [x, gamma, shift])[0] < FD_TOL
    assert check_op(forward, backward_without_variance_term, [x, gamma, shift])[0] > WRONG


# ---- whole networks, float64, smooth sign ---------------------------------------------------


def test_small_network_shapes_and_moved_batch_norm():
    model, x, y = small_network("cnn", SMOOTH)
    assert x.shape == (5, 2, 6, 6) and y.shape == (5,) and model.params["bn1.gamma"].dtype == np.float64
    assert not np.allclose(model.params["bn1.gamma"], 1.0)  # moved off its initial value


@pytest.mark.parametrize("arch", ["mlp", "cnn"])
@pytest.mark.parametrize("method", ["float", "horq1", "horq2", "horq3"])
def test_whole_network_gradients(arch, method):
    model, x, y = small_network(arch, SMOOTH, method)
    errors = network_errors(model, x, y)
    assert len(errors) == len(model.params) + 1
    assert max(errors.values()) < FD_TOL, errors


def test_negative_control_identity_ste_is_not_the_smooth_derivative():
    # The identity rule ignores the quantizer's true Jacobian: on the smooth network it must fail.
    model, x, y = small_network("mlp", SMOOTH, ste="identity")
    errors = network_errors(model, x, y)
    assert errors["fc1.W"] > WRONG and errors["fc2.W"] > WRONG
    assert errors["fc3.W"] < FD_TOL  # above the quantizer nothing changes
