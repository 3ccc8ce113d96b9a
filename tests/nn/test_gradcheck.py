"""The finite-difference checker itself, negative controls, and whole networks.

The checker is only worth something if it can fail: the negative controls feed it gradients with
a transposed weight, a dropped term and the identity straight-through rule (not the derivative of
the smooth network) and assert it rejects each by orders of magnitude.
"""

import numpy as np
import pytest

from horq_ref.nn.gradcheck import check_op, eval_numerical_gradient, eval_numerical_gradient_array, rel_error
from horq_ref.nn.layers import dense_forward
from horq_ref.nn.losses import softmax_cross_entropy
from horq_ref.nn.models import build_model
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


def network_errors(model, x, y):
    """Relative errors of every parameter's gradient and of dx for the mean cross-entropy."""
    loss_of = lambda _: softmax_cross_entropy(model.forward(x, train=True), y)[0]  # noqa: E731
    _, dz = softmax_cross_entropy(model.forward(x, train=True), y)
    dx = model.backward(dz)
    grads = {k: v.copy() for k, v in model.grads.items()}
    errors = {k: rel_error(grads[k], eval_numerical_gradient(loss_of, p)) for k, p in model.params.items()}
    errors["x"] = rel_error(dx, eval_numerical_gradient(loss_of, x))
    return errors


def small(arch, method, **kw):
    shape = (1, 4, 4) if arch == "mlp" else (2, 6, 6)
    opts = dict(hidden=(7, 6)) if arch == "mlp" else dict(channels=(3, 4))
    model = build_model(arch, method, seed=1, input_shape=shape, num_classes=3, dtype=np.float64,
                        sign_fn=SMOOTH, **opts, **kw)
    rng = np.random.default_rng(3)
    # Move batch norm off its initial gamma = 1, shift = 0: a unit whose ReLU is dead for the whole
    # batch then feeds the quantizer shift (not an exact 0, where |r| in beta = mean|r| has a kink
    # that finite differences average over and no derivative can match).
    for name, p in model.params.items():
        if name.endswith((".gamma", ".shift")):
            p += 0.2 * rng.standard_normal(p.shape)
    return model, rng.standard_normal((5,) + shape), rng.integers(0, 3, 5)


@pytest.mark.parametrize("arch", ["mlp", "cnn"])
@pytest.mark.parametrize("method", ["float", "horq1", "horq2", "horq3"])
def test_whole_network_gradients(arch, method):
    model, x, y = small(arch, method)
    errors = network_errors(model, x, y)
    assert len(errors) == len(model.params) + 1
    assert max(errors.values()) < FD_TOL, errors


def test_negative_control_identity_ste_is_not_the_smooth_derivative():
    # The identity rule ignores the quantizer's true Jacobian: on the smooth network it must fail.
    model, x, y = small("mlp", "horq2", ste="identity")
    errors = network_errors(model, x, y)
    assert errors["fc1.W"] > WRONG and errors["fc2.W"] > WRONG
    assert errors["fc3.W"] < FD_TOL  # above the quantizer nothing changes
