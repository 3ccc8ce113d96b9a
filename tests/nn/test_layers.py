"""Forward/backward pairs (horq_ref.nn.layers, conv_layers, norm, losses).

Forward values are checked against slow oracles (loops, the residual expansion, XNOR-Net's
formula); backward passes against centered finite differences in float64 (the smooth sign for the
HORQ layers) and, with the true sign, against the closed form built from the forward-mode
Jacobian of the quantizer (``quantizer_jacobian``).
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from horq_ref.nn.gradcheck import check_op, eval_numerical_gradient, rel_error
from horq_ref.im2col import col2im, im2col
from horq_ref.nn.layers import (
    dense_backward,
    dense_forward,
    flatten_backward,
    flatten_forward,
    hardtanh_backward,
    hardtanh_forward,
    horq_dense_backward,
    horq_dense_forward,
    relu_backward,
    relu_forward,
)
from horq_ref.nn.conv_layers import (
    conv2d_backward,
    conv2d_forward,
    horq_conv2d_backward,
    horq_conv2d_forward,
    maxpool_backward,
    maxpool_forward,
)
from horq_ref.nn.losses import softmax_cross_entropy
from horq_ref.nn.variants import (bits_dense_backward, bits_dense_forward, quantized_input_dense,
                                  rows_conv2d_backward, rows_conv2d_forward)
from horq_ref.nn.norm import batchnorm_backward, batchnorm_forward, make_bn_param
from horq_ref.quantize import residual_quantize, sign
from horq_ref.ste import quantizer_backward, quantizer_forward, quantizer_jacobian, smooth_sign

# Centered differences (h = 1e-6, float64): truncation ~1e-12, rounding ~1e-10 relative to the
# gradient's scale; a real bug (missing term, wrong transpose) shows O(1). 1e-6 separates them.
FD_TOL = 1e-6
# Same math through different float64 code paths (GEMM vs per-row Jacobians): rounding only.
EXACT_TOL = 1e-12
SMOOTH = smooth_sign(0.5)


def worst(errors):
    return max(errors.values())


# ---- dense, activations, flatten ----------------------------------------------------------------


def test_dense_gradients(rng):
    x, W, b = rng.standard_normal((4, 6)), rng.standard_normal((3, 6)), rng.standard_normal(3)
    np.testing.assert_allclose(dense_forward(x, W, b)[0], np.einsum("nd,fd->nf", x, W) + b, rtol=1e-12)
    assert worst(check_op(dense_forward, dense_backward, [x, W, b])) < FD_TOL


@pytest.mark.parametrize(
    "fwd, bwd, ref",
    [
        (relu_forward, relu_backward, lambda x: np.maximum(x, 0)),
        (hardtanh_forward, hardtanh_backward, lambda x: np.clip(x, -1, 1)),
        (flatten_forward, flatten_backward, lambda x: x.reshape(2, -1)),
    ],
)
def test_parameter_free_ops(rng, fwd, bwd, ref):
    x = 1.5 * rng.standard_normal((2, 3, 4))
    np.testing.assert_array_equal(fwd(x)[0], ref(x))
    assert worst(check_op(fwd, bwd, [x])) < FD_TOL


def test_input_quantizer_as_a_layer_op(rng):
    x = rng.standard_normal((3, 7))
    Xt, _ = quantizer_forward(x, 2)
    np.testing.assert_allclose(Xt, residual_quantize(x, 2, axis=-1).reconstruct(), rtol=1e-14)
    f = lambda x: quantizer_forward(x, 2, axis=0, sign_fn=SMOOTH)  # noqa: E731
    assert worst(check_op(f, quantizer_backward, [x])) < FD_TOL


# ---- HORQ dense --------------------------------------------------------------------------------


@pytest.mark.parametrize("order", [1, 2, 3])
def test_horq_dense_gradients_with_smooth_sign(rng, order):
    x, W, b = rng.standard_normal((4, 6)), 0.7 * rng.standard_normal((3, 6)), rng.standard_normal(3)
    f = lambda x, W, b: horq_dense_forward(x, W, b, order, sign_fn=SMOOTH)  # noqa: E731
    assert worst(check_op(f, horq_dense_backward, [x, W, b])) < FD_TOL


def test_horq_dense_order_one_is_xnor_net(rng):
    x, W, b = rng.standard_normal((4, 6)), rng.standard_normal((3, 6)), rng.standard_normal(3)
    beta = np.mean(np.abs(x), axis=1, keepdims=True)  # (N, 1)
    alpha = np.mean(np.abs(W), axis=1)  # (F,)
    expected = beta * (sign(x) @ sign(W).T) * alpha + b
    np.testing.assert_allclose(horq_dense_forward(x, W, b, 1)[0], expected, rtol=1e-12)


@pytest.mark.parametrize("order", [1, 2, 3])
def test_horq_dense_forward_is_the_expansion_times_binary_weights(rng, order):
    x, W, b = rng.standard_normal((4, 6)), rng.standard_normal((3, 6)), rng.standard_normal(3)
    Wt = np.mean(np.abs(W), axis=1, keepdims=True) * sign(W)
    expected = residual_quantize(x, order, axis=-1).reconstruct() @ Wt.T + b
    np.testing.assert_allclose(horq_dense_forward(x, W, b, order)[0], expected, rtol=1e-12)


@pytest.mark.parametrize("order", [1, 2, 3])
@pytest.mark.parametrize("ste", ["chain", "identity"])
def test_horq_dense_true_sign_gradients_equal_closed_form(rng, order, ste):
    x, W = 1.2 * rng.standard_normal((4, 6)), 0.9 * rng.standard_normal((3, 6))
    b, dY = rng.standard_normal(3), rng.standard_normal((4, 3))
    _, cache = horq_dense_forward(x, W, b, order, ste=ste)
    dx, dW, db = horq_dense_backward(dY, cache)
    Xt = residual_quantize(x, order, axis=-1).reconstruct()
    Wt = np.mean(np.abs(W), axis=1, keepdims=True) * sign(W)
    dXt, dWt = dY @ Wt, dY.T @ Xt  # gradients at the quantized operands
    Jx = [quantizer_jacobian(x[n], order, ste=ste) for n in range(4)]  # each (D, D)
    Jw = [quantizer_jacobian(W[f], 1, ste=ste) for f in range(3)]
    assert rel_error(dx, np.stack([Jx[n].T @ dXt[n] for n in range(4)])) < EXACT_TOL
    assert rel_error(dW, np.stack([Jw[f].T @ dWt[f] for f in range(3)])) < EXACT_TOL
    np.testing.assert_allclose(db, dY.sum(axis=0), rtol=1e-14)


def test_quantized_input_dense_is_post_training_quantization(rng):
    x, W, b = rng.standard_normal((4, 6)), rng.standard_normal((3, 6)), rng.standard_normal(3)
    Y, cache = quantized_input_dense(x, W, b, 2)  # quantized input, float weights; no backward
    np.testing.assert_allclose(Y, residual_quantize(x, 2, axis=-1).reconstruct() @ W.T + b, rtol=1e-12)
    assert cache is None
    # greedy scales: the training layer's quantizer, bit for bit
    np.testing.assert_array_equal(Y, quantizer_forward(x, 2)[0] @ W.T + b)


# ---- convolution ------------------------------------------------------------------------------


def conv_loops(x, W, b, stride, padding):
    """Slow oracle: the definition of cross-correlation, one output at a time."""
    N, C, H, Wd = x.shape
    F, _, kh, kw = W.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    Ho, Wo = (H + 2 * padding - kh) // stride + 1, (Wd + 2 * padding - kw) // stride + 1
    out = np.zeros((N, F, Ho, Wo))
    for n in range(N):
        for f in range(F):
            for i in range(Ho):
                for j in range(Wo):
                    patch = xp[n, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
                    out[n, f, i, j] = np.sum(patch * W[f]) + b[f]
    return out


@pytest.mark.parametrize("stride, padding", [(1, 0), (1, 1), (2, 1), (2, 0)])
def test_conv2d_forward_and_gradients(rng, stride, padding):
    x, W, b = rng.standard_normal((2, 3, 5, 5)), rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    Y, _ = conv2d_forward(x, W, b, stride, padding)
    np.testing.assert_allclose(Y, conv_loops(x, W, b, stride, padding), rtol=1e-12, atol=1e-12)
    f = lambda x, W, b: conv2d_forward(x, W, b, stride, padding)  # noqa: E731
    assert worst(check_op(f, conv2d_backward, [x, W, b])) < FD_TOL


@settings(max_examples=20)  # each example runs ~300 forward passes
@given(stride=st.integers(1, 2), padding=st.integers(0, 1), k=st.integers(1, 3),
       order=st.integers(1, 3), seed=st.integers(0, 2**32 - 1))
def test_horq_conv2d_gradients_with_smooth_sign(stride, padding, k, order, seed):
    rng = np.random.default_rng(seed)
    x, W = rng.standard_normal((2, 2, 4, 4)), 0.7 * rng.standard_normal((3, 2, k, k))
    b = rng.standard_normal(3)
    f = lambda x, W, b: horq_conv2d_forward(x, W, b, order, stride, padding, sign_fn=SMOOTH)  # noqa: E731
    assert worst(check_op(f, horq_conv2d_backward, [x, W, b], seed=seed)) < FD_TOL


@pytest.mark.parametrize("ste", ["chain", "identity"])
def test_horq_conv2d_is_horq_dense_on_im2col_rows(rng, ste):
    # With the true sign: forward and backward equal, bit for bit, the dense HORQ layer applied to
    # every im2col row (whose closed form is tested above), with col2im as the adjoint of im2col
    # (rows_conv2d_forward, which the convolution variants are made of).
    x, W, b = rng.standard_normal((2, 3, 5, 5)), rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    Y, cache = horq_conv2d_forward(x, W, b, 2, 2, 1, ste=ste)
    Yr, rcache = rows_conv2d_forward(horq_dense_forward, x, W, b, 2, 2, 1, ste=ste)
    np.testing.assert_array_equal(Y, Yr)
    dY = rng.standard_normal(Y.shape)
    for got, want in zip(horq_conv2d_backward(dY, cache), rows_conv2d_backward(horq_dense_backward, dY, rcache)):
        np.testing.assert_array_equal(got, want)
    cols = im2col(x, 3, 3, 2, 1).reshape(-1, 27)  # (N*P, D): the rows themselves
    Yd, _ = horq_dense_forward(cols, W.reshape(4, -1), b, 2, ste=ste)
    np.testing.assert_array_equal(Y, Yd.reshape(2, 3, 3, 4).transpose(0, 3, 1, 2))


@pytest.mark.parametrize("backend", ["bits", "bits-fast"])
def test_bits_layers_match_the_float_layers(rng, backend):
    x, W, b = rng.standard_normal((5, 70)), rng.standard_normal((3, 70)), rng.standard_normal(3)
    Yf, cachef = horq_dense_forward(x, W, b, 2)
    Yb, cache = bits_dense_forward(x, W, b, 2, backend=backend)
    # Integer dot products are exact; the scales are applied in a different order: rounding only.
    np.testing.assert_allclose(Yb, Yf, rtol=1e-10, atol=1e-10)
    # The backward products on binary operands (tests/test_binary_backward.py): rounding only.
    dY = rng.standard_normal(Yb.shape)
    for gb, gf in zip(bits_dense_backward(dY, cache), horq_dense_backward(dY, cachef)):
        np.testing.assert_allclose(gb, gf, rtol=1e-10, atol=1e-12)
    xc, Wc, bc = rng.standard_normal((2, 3, 6, 6)), rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    Yf, cachef = horq_conv2d_forward(xc, Wc, bc, 2, 1, 1)
    Yb, cache = rows_conv2d_forward(bits_dense_forward, xc, Wc, bc, 2, 1, 1, backend=backend)
    np.testing.assert_allclose(Yb, Yf, rtol=1e-10, atol=1e-10)
    dY = rng.standard_normal(Yb.shape)
    for gb, gf in zip(rows_conv2d_backward(bits_dense_backward, dY, cache), horq_conv2d_backward(dY, cachef)):
        np.testing.assert_allclose(gb, gf, rtol=1e-10, atol=1e-12)


def test_bits_layers_refuse_an_unknown_backend(rng):
    with pytest.raises(ValueError, match="backend"):
        bits_dense_forward(np.ones((2, 4)), np.ones((3, 4)), np.zeros(3), 2, backend="gpu")


# ---- pooling ----------------------------------------------------------------------------------


def maxpool_loops(x, k, s):
    N, C, H, W = x.shape
    Ho, Wo = (H - k) // s + 1, (W - k) // s + 1
    out = np.empty((N, C, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            out[:, :, i, j] = x[:, :, i * s:i * s + k, j * s:j * s + k].max(axis=(2, 3))
    return out


@pytest.mark.parametrize("k, s, size", [(2, 2, 6), (3, 2, 7), (2, 1, 5), (3, 3, 7)])
def test_maxpool(rng, k, s, size):
    x = rng.standard_normal((2, 3, size, size))
    np.testing.assert_array_equal(maxpool_forward(x, k, s)[0], maxpool_loops(x, k, s))
    assert worst(check_op(lambda x: maxpool_forward(x, k, s), maxpool_backward, [x])) < FD_TOL


def test_maxpool_ties_route_to_one_entry():
    x = np.zeros((1, 1, 2, 2))  # all four tie, as after a ReLU
    out, cache = maxpool_forward(x)
    dx = maxpool_backward(np.ones_like(out), cache)
    np.testing.assert_array_equal(dx, [[[[1.0, 0.0], [0.0, 0.0]]]])


# ---- batch norm -------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(6, 5), (3, 4, 3, 3)])
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_batchnorm_gradients(rng, shape, mode):
    C = shape[1]
    x, gamma, shift = 2 + 3 * rng.standard_normal(shape), rng.standard_normal(C), rng.standard_normal(C)
    p = make_bn_param(C, np.float64)
    p.update(mode=mode, running_mean=rng.standard_normal(C), running_var=1 + rng.random(C))
    f = lambda x, g, s: batchnorm_forward(x, g, s, p)  # noqa: E731
    assert worst(check_op(f, batchnorm_backward, [x, gamma, shift])) < FD_TOL


def test_batchnorm_statistics(rng):
    x = 2 + 3 * rng.standard_normal((8, 4, 3, 3))
    p = make_bn_param(4, np.float64, momentum=0.5)
    out, _ = batchnorm_forward(x, np.ones(4), np.zeros(4), p)
    # Train mode: each channel of the output has mean 0 and (biased) variance var / (var + eps).
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    var = x.var(axis=(0, 2, 3))
    np.testing.assert_allclose(out.var(axis=(0, 2, 3)), var / (var + 1e-5), rtol=1e-10)
    np.testing.assert_allclose(p["running_mean"], 0.5 * x.mean(axis=(0, 2, 3)), rtol=1e-12)
    np.testing.assert_allclose(p["running_var"], 0.5 + 0.5 * var, rtol=1e-12)
    p["mode"] = "eval"
    gamma, shift = np.arange(1.0, 5.0), np.full(4, 0.5)
    out, _ = batchnorm_forward(x, gamma, shift, p)
    r = lambda a: a.reshape(1, 4, 1, 1)  # noqa: E731
    expected = r(gamma) * (x - r(p["running_mean"])) / np.sqrt(r(p["running_var"]) + 1e-5) + r(shift)
    np.testing.assert_allclose(out, expected, rtol=1e-12)


def test_batchnorm_rejects_bad_mode_and_shapes():
    p = make_bn_param(3)
    p["mode"] = "test"
    with pytest.raises(ValueError, match="mode"):
        batchnorm_forward(np.ones((2, 3)), np.ones(3), np.zeros(3), p)
    with pytest.raises(ValueError, match="gamma"):
        batchnorm_forward(np.ones((2, 3)), np.ones(4), np.zeros(4), make_bn_param(3))


# ---- loss -------------------------------------------------------------------------------------


def test_softmax_cross_entropy(rng):
    z, y = rng.standard_normal((5, 4)), np.array([0, 3, 1, 1, 2])
    loss, dz = softmax_cross_entropy(z, y)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(loss, -np.mean(np.log(p[np.arange(5), y])), rtol=1e-13)
    numeric = eval_numerical_gradient(lambda z: softmax_cross_entropy(z, y)[0], z)
    assert rel_error(dz, numeric) < FD_TOL


def test_softmax_cross_entropy_is_stable_for_huge_logits():
    z = np.array([[1e4, 0.0, -1e4], [-1e4, -1e4, 1e4]], dtype=np.float32)
    loss, dz = softmax_cross_entropy(z, np.array([1, 2]))
    # Row 1 costs 1e4 nats (the correct class is 1e4 below the best), row 2 costs 0: mean 5e3.
    assert np.isfinite(loss) and abs(loss - 5e3) < 1e-6 * 5e3
    assert dz.dtype == np.float32 and np.all(np.isfinite(dz))
    np.testing.assert_allclose(dz.sum(axis=1), 0, atol=1e-7)  # softmax sums to one


def test_bad_arguments_name_themselves():
    with pytest.raises(ValueError, match="W"):
        dense_forward(np.ones((2, 3)), np.ones((4, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="b"):
        dense_forward(np.ones((2, 3)), np.ones((4, 3)), np.zeros(3))
    with pytest.raises(ValueError, match="channel"):
        conv2d_forward(np.ones((1, 2, 4, 4)), np.ones((3, 1, 3, 3)), np.zeros(3))
    with pytest.raises(ValueError, match="y"):
        softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match="y"):
        softmax_cross_entropy(np.zeros((2, 3)), np.array([0.0, 1.0]))
    with pytest.raises(TypeError, match="kernel"):
        maxpool_forward(np.ones((1, 1, 4, 4)), kernel=2.5)
    with pytest.raises(ValueError, match="order"):
        horq_dense_forward(np.ones((2, 3)), np.ones((4, 3)), np.zeros(4), 0)
