"""The least-squares refit in training: derived backward vs finite differences (smooth sign), vs the
chain STE when the refit is off, a negative control, and the deeper networks that use it."""

import numpy as np
import pytest

from horq_ref.nn.gradcheck import check_op
from horq_ref.nn.models import build_model
from horq_ref.nn.refit import refit_quantizer_backward, refit_quantizer_forward
from horq_ref.nn.variants import (refit_dense_backward, refit_dense_forward, rows_conv2d_backward,
                                  rows_conv2d_forward)
from horq_ref.scales import least_squares_scales
from horq_ref.ste import SIGN_STE, quantizer_backward, quantizer_forward, smooth_sign

# Centered differences with h = 1e-6 on smooth functions of O(1) inputs: truncation ~h^2 and rounding
# ~eps/h give relative errors ~1e-8; the Gram solve of K = 3 near-parallel smooth planes amplifies
# that by its condition number (<~100 here), so 1e-5 separates a right formula from a wrong one (O(1)).
TOL = 1e-5


@pytest.mark.parametrize("order", [1, 2, 3])
@pytest.mark.parametrize("refit", [True, False])
def test_backward_matches_finite_differences(order, refit, rng):
    x = rng.standard_normal((3, 7))
    s = smooth_sign(0.7)
    err = check_op(lambda x: refit_quantizer_forward(x, order, -1, sign_fn=s, refit=refit),
                   refit_quantizer_backward, [x])
    assert err[0] < TOL


@pytest.mark.parametrize("sign_fn", [SIGN_STE, smooth_sign(0.7)], ids=["ste", "smooth"])
@pytest.mark.parametrize("order", [1, 2, 4])
def test_refit_off_is_the_chain_ste(sign_fn, order, rng):
    x, g = rng.standard_normal((4, 9)), rng.standard_normal((4, 9))
    a, ca = refit_quantizer_forward(x, order, -1, sign_fn=sign_fn, refit=False)
    b, cb = quantizer_forward(x, order, -1, sign_fn=sign_fn)
    np.testing.assert_array_equal(a, b)
    # two algebraically equal reverse passes: they differ by a few roundings of O(1) terms
    np.testing.assert_allclose(refit_quantizer_backward(g, ca), quantizer_backward(g, cb), atol=1e-13)


def test_negative_control_projection_alone_fails_the_check(rng):
    """Dropping the gradient through the planes (dX = P g only) is not the derivative."""
    x = rng.standard_normal((3, 7))
    s = smooth_sign(0.7)

    def backward(d, cache):
        return np.sum(least_squares_scales(cache.H, d, cache.axis) * cache.H, axis=0)

    err = check_op(lambda x: refit_quantizer_forward(x, 2, -1, sign_fn=s), backward, [x])
    assert err[0] > 1e-3


def test_refit_forward_is_the_projection_and_beats_greedy(rng):
    x = np.abs(rng.standard_normal((5, 16)))  # non-negative: where the refit matters
    r, _ = refit_quantizer_forward(x, 2, -1)
    g, _ = quantizer_forward(x, 2, -1)
    assert np.all(np.sum((x - r) ** 2, -1) <= np.sum((x - g) ** 2, -1) + 1e-12)
    assert np.sum((x - r) ** 2) < np.sum((x - g) ** 2) - 1e-3


def test_layers_with_refit_pass_gradient_checks(rng):
    s = smooth_sign(0.7)
    x, W, b = rng.standard_normal((3, 8)), rng.standard_normal((4, 8)), rng.standard_normal(4)
    err = check_op(lambda x, W, b: refit_dense_forward(x, W, b, 2, sign_fn=s),
                   refit_dense_backward, [x, W, b])
    assert max(err.values()) < TOL
    x, W, b = rng.standard_normal((2, 2, 4, 4)), rng.standard_normal((3, 2, 3, 3)), np.zeros(3)
    err = check_op(lambda x, W, b: rows_conv2d_forward(refit_dense_forward, x, W, b, 2, 1, 1, sign_fn=s),
                   lambda d, c: rows_conv2d_backward(refit_dense_backward, d, c), [x, W, b])
    assert max(err.values()) < TOL


@pytest.mark.parametrize("arch, names", [("mlp3", ["fc2.W", "fc3.W"]), ("cnn3", ["conv2.W", "conv3.W"])])
def test_deeper_networks_have_two_binarized_layers(arch, names, rng):
    m = build_model(arch, "horq2", scales="refit", input_shape=(1, 8, 8), hidden=None if arch == "cnn3"
                    else (8, 8, 8), channels=(2, 3, 3) if arch == "cnn3" else None)
    assert sorted(m.binarized) == names
    out = m.forward(rng.standard_normal((2, 1, 8, 8)).astype(np.float32), train=True)
    m.backward(np.ones_like(out))
    assert all(np.isfinite(g).all() for g in m.grads.values())
    with pytest.raises(ValueError, match="scales"):
        build_model("mlp", "horq2", scales="alternating")
