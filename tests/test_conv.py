"""The HORQ convolution and dense layer (horq_ref.conv) against a loop oracle, XNOR-Net and each other.

Tolerances: both backends and the oracle compute the same scales in float arithmetic, so their outputs
differ only by rounding. A scale is a mean of ``D = C*kh*kw`` magnitudes, accurate to about ``D * eps``
relative in the worst case; a per-order output is a product of three such factors. So outputs are
compared with ``rtol = 8 * D * eps`` (scaled by the output magnitude), far below any real error (a
flipped sign changes a dot product by 2, i.e. an output by ~2/D of its scale).
"""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from horq_ref import horq_conv2d, horq_linear, residual_quantize
from horq_ref.im2col import im2col
from strategies import conv_cases


def oracle_conv(x, w, order, stride, padding):
    """Straight from the definition, one output at a time (no im2col, no library quantizer)."""
    N, C, H, W = x.shape
    F, _, kh, kw = w.shape
    Ho, Wo = (H + 2 * padding - kh) // stride + 1, (W + 2 * padding - kw) // stride + 1
    alpha = [np.mean(np.abs(w[f])) for f in range(F)]
    B = np.where(w >= 0, 1.0, -1.0)
    Y = np.zeros((N, F, Ho, Wo))
    for n in range(N):
        for oh in range(Ho):
            for ow in range(Wo):
                patch = np.zeros((C, kh, kw))  # zero padding
                for c in range(C):
                    for i in range(kh):
                        for j in range(kw):
                            r, s = oh * stride + i - padding, ow * stride + j - padding
                            if 0 <= r < H and 0 <= s < W:
                                patch[c, i, j] = x[n, c, r, s]
                R = patch.ravel()
                for _ in range(order):  # the residual loop of docs/paper.md §2
                    Hp = np.where(R >= 0, 1.0, -1.0)
                    beta = np.mean(np.abs(R))
                    for f in range(F):
                        Y[n, f, oh, ow] += alpha[f] * beta * np.dot(B[f].ravel(), Hp)
                    R = R - beta * Hp
    return Y


def assert_close(actual, expected, D, dtype):
    tol = 8 * D * np.finfo(dtype).eps * max(np.abs(expected).max(), np.finfo(dtype).tiny)
    np.testing.assert_allclose(actual, expected, rtol=0, atol=tol)


@settings(max_examples=25)
@given(st.integers(0, 2**32 - 1), st.integers(1, 2), st.integers(1, 5), st.integers(1, 3),
       st.integers(1, 3), st.integers(1, 2), st.integers(0, 2), st.integers(1, 3))
def test_float_and_bits_match_loop_oracle(seed, N, C, F, k, stride, padding, order):
    rng = np.random.default_rng(seed)
    H = W = 5
    x, w = rng.standard_normal((N, C, H, W)), rng.standard_normal((F, C, k, k))
    expected = oracle_conv(x, w, order, stride, padding)
    for backend in ("float", "bits"):
        Y = horq_conv2d(x, w, order, stride, padding, backend=backend)
        assert Y.shape == expected.shape and Y.dtype == np.float64
        assert_close(Y, expected, C * k * k, np.float64)


def test_oracle_on_integer_pixels_with_exact_zeros(rng):
    # 8-bit-like data: exact zeros, ties, and sums of integers that are exact in any order
    x = rng.integers(0, 4, (2, 3, 6, 5)).astype(float) - 1.0
    w = rng.standard_normal((3, 3, 3, 3))
    for order in (1, 2, 3):
        expected = oracle_conv(x, w, order, 2, 1)
        for backend in ("float", "bits"):
            assert_close(horq_conv2d(x, w, order, 2, 1, backend=backend), expected, 27, np.float64)


@given(conv_cases())
def test_bits_equals_float(case):
    x, w, order, stride, padding = case
    Yf, tf = horq_conv2d(x, w, order, stride, padding, "float", return_intermediates=True)
    Yb, tb = horq_conv2d(x, w, order, stride, padding, "bits", return_intermediates=True)
    np.testing.assert_array_equal(tb.dots, tf.dots)  # integers: exactly
    np.testing.assert_array_equal(tb.planes, tf.planes)
    assert Yb.dtype == Yf.dtype == x.dtype
    # same expand on the same rows, exact integer dots, the same combination: identical floats
    np.testing.assert_array_equal(tb.betas, tf.betas)
    np.testing.assert_array_equal(Yb, Yf)


def test_fast_bits_equals_float_on_a_larger_layer_with_threads(rng):
    # C = 64: bits-fast packs the order-one plane per pixel; many row blocks; both thread counts
    x = rng.standard_normal((2, 64, 12, 11)).astype(np.float32)
    x[x > 1.2] = 0.0
    w = rng.standard_normal((5, 64, 3, 3))
    Yf, tf = horq_conv2d(x, w, 3, 1, 1, "float", return_intermediates=True)
    for threads in (1, 2):
        Yb, tb = horq_conv2d(x, w, 3, 1, 1, "bits-fast", return_intermediates=True, threads=threads)
        np.testing.assert_array_equal(tb.dots, tf.dots)
        np.testing.assert_array_equal(Yb, Yf)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_huge_entries_take_the_rescaled_path(dtype, rng):
    # sums of D magnitudes overflow: the scales come from expand's rescaling in both backends
    big = np.finfo(dtype).max / 4
    x = (rng.standard_normal((1, 64, 4, 4)) * big).astype(dtype)
    w = rng.standard_normal((2, 64, 3, 3)) * 1e-30  # keeps the outputs finite
    for order in (1, 2):
        Yf, tf = horq_conv2d(x, w, order, 1, 1, "float", return_intermediates=True)
        Yb, tb = horq_conv2d(x, w, order, 1, 1, "bits", return_intermediates=True)
        assert np.all(np.isfinite(Yf)) and np.all(np.isfinite(tf.betas))
        np.testing.assert_array_equal(tb.dots, tf.dots)
        assert_close(Yb, Yf, 64 * 9, dtype)


def xnor_net_K(x, kh, kw, stride, padding):
    """XNOR-Net's K: A = mean_c |I|, convolved with a (kh, kw) box of 1/(kh*kw), zero padding."""
    A = np.abs(x).mean(axis=1)  # (N, H, W)
    A = np.pad(A, ((0, 0), (padding, padding), (padding, padding)))
    N, Hp, Wp = A.shape
    Ho, Wo = (Hp - kh) // stride + 1, (Wp - kw) // stride + 1
    K = np.zeros((N, Ho, Wo))
    for oh in range(Ho):
        for ow in range(Wo):
            K[:, oh, ow] = A[:, oh * stride:oh * stride + kh, ow * stride:ow * stride + kw].sum((1, 2))
    return K / (kh * kw)


@pytest.mark.parametrize("C, k, stride, padding", [(3, 3, 1, 1), (64, 3, 2, 1), (128, 1, 1, 0), (5, 2, 1, 2)])
def test_order_one_is_xnor_net(C, k, stride, padding, rng):
    x = rng.standard_normal((2, C, 7, 6))
    x[x < -1] = 0.0
    w = rng.standard_normal((4, C, k, k))
    K = xnor_net_K(x, k, k, stride, padding)
    # XNOR-Net's output: (sign(I) * sign(W)) scaled by K and alpha, with sign(0) = +1 in the padding
    sx = np.where(np.pad(x, ((0, 0), (0, 0), (padding,) * 2, (padding,) * 2)) >= 0, 1.0, -1.0)
    sw = np.where(w >= 0, 1.0, -1.0)
    alpha = np.abs(w).mean(axis=(1, 2, 3))
    conv = np.einsum("ncpqij,fcij->nfpq", np.lib.stride_tricks.sliding_window_view(
        sx, (k, k), axis=(2, 3))[:, :, ::stride, ::stride][:, :, :K.shape[1], :K.shape[2]], sw)
    expected = conv * K[:, None] * alpha[None, :, None, None]
    for backend in ("float", "bits"):
        Y, trace = horq_conv2d(x, w, 1, stride, padding, backend, return_intermediates=True)
        np.testing.assert_allclose(trace.betas[0], K.reshape(2, -1), rtol=1e-12)  # rounding only
        assert_close(Y, expected, C * k * k, np.float64)


@given(st.integers(0, 2**32 - 1), st.integers(1, 5), st.integers(1, 150), st.integers(1, 4),
       st.integers(1, 3), st.sampled_from([np.float32, np.float64]))
def test_linear_equals_conv_of_1x1_images(seed, N, D, F, order, dtype):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((N, D)) * (rng.random((N, D)) < 0.8)).astype(dtype)  # exact zeros
    w = rng.standard_normal((F, D))
    for backend in ("float", "bits"):
        Y, t = horq_linear(x, w, order, backend, return_intermediates=True)
        Yc, tc = horq_conv2d(x[:, :, None, None], w[:, :, None, None], order, backend=backend,
                             return_intermediates=True)
        assert Y.shape == (N, F) and Y.dtype == dtype
        np.testing.assert_array_equal(Y, Yc[:, :, 0, 0])
        np.testing.assert_array_equal(t.dots, tc.dots[..., 0])
        np.testing.assert_array_equal(t.planes, tc.planes[:, :, 0])
    Yf, tf = horq_linear(x, w, order, "float", return_intermediates=True)
    Yb, tb = horq_linear(x, w, order, "bits", return_intermediates=True)
    np.testing.assert_array_equal(tb.dots, tf.dots)
    assert_close(Yb, Yf, D, dtype)
    # and the definition, from the library's expansion of each sample and numpy alone
    e = residual_quantize(x, order, axis=-1)  # betas (K, N, 1), signs (K, N, D)
    B = np.where(w >= 0, 1, -1)
    expected = sum(np.abs(w).mean(1) * e.betas[i] * (e.signs[i].astype(np.int64) @ B.T)
                   for i in range(order))
    assert_close(Yf, expected, D, dtype)


def test_trace_is_the_library_expansion(rng):
    x, w = rng.standard_normal((2, 3, 5, 5)), rng.standard_normal((4, 3, 3, 3))
    Y, t = horq_conv2d(x, w, 3, 1, 1, return_intermediates=True)
    e = residual_quantize(im2col(x, 3, 3, 1, 1), 3, axis=-1)
    np.testing.assert_array_equal(t.planes, e.signs)
    np.testing.assert_array_equal(t.betas, e.betas[..., 0])
    np.testing.assert_array_equal(t.alpha, np.abs(w).mean(axis=(1, 2, 3)))
    np.testing.assert_array_equal(t.B, np.where(w >= 0, 1, -1).reshape(4, -1))
    assert t.Y.shape == (3, 2, 4, 5, 5) and t.dots.dtype == np.int64
    np.testing.assert_allclose(t.Y.sum(0), Y, rtol=1e-14, atol=1e-14)  # same three terms, same order
    # each dot product is B_f . H_i, and each per-order output is alpha beta_i dot
    np.testing.assert_array_equal(t.dots, np.einsum("knpd,fd->knfp", t.planes.astype(np.int64), t.B))
    np.testing.assert_allclose(t.Y.reshape(3, 2, 4, 25),
                               t.alpha[:, None] * t.betas[:, :, None, :] * t.dots, rtol=1e-15)


def test_output_dtype_follows_input(rng):
    w, wd = rng.standard_normal((2, 3, 2, 2)), rng.standard_normal((2, 48))
    for dtype, out in ((np.float32, np.float32), (np.float64, np.float64), (np.int64, np.float64)):
        x = rng.integers(-3, 4, (1, 3, 4, 4)).astype(dtype)
        for backend in ("float", "bits"):
            assert horq_conv2d(x, w, 2, backend=backend).dtype == out
            assert horq_linear(x.reshape(1, -1), wd, 2, backend).dtype == out


@pytest.mark.parametrize("kwargs, match", [
    (dict(x=np.ones((1, 2, 4, 4)), w=np.ones((1, 3, 2, 2))), "channel"),
    (dict(x=np.ones((1, 2, 3, 3)), w=np.ones((1, 2, 5, 5))), "kernel"),
    (dict(stride=0), "stride"),
    (dict(padding=-1), "padding"),
    (dict(x=np.ones((2, 4, 4))), "x must be 4-D"),
    (dict(w=np.ones((2, 2, 2))), "w must be 4-D"),
    (dict(order=0), "order"),
    (dict(backend="gpu"), "backend"),
    (dict(x=np.full((1, 2, 4, 4), np.nan)), "x must be finite"),
])
def test_conv_rejects_bad_input(kwargs, match):
    args = dict(x=np.ones((1, 2, 4, 4)), w=np.ones((1, 2, 2, 2)), order=1)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        horq_conv2d(**args)


@pytest.mark.parametrize("x, w, order, backend, match", [
    (np.ones((2, 5)), np.ones((3, 4)), 1, "float", "w has 4 inputs"),
    (np.ones((2, 5, 1)), np.ones((3, 5)), 1, "float", "x must be 2-D"),
    (np.ones((2, 5)), np.ones(5), 1, "bits", "w must be 2-D"),
    (np.ones((2, 5)), np.ones((3, 5)), 0, "bits", "order"),
    (np.ones((2, 5)), np.ones((3, 5)), 1, "fpga", "backend"),
    (np.ones((0, 5)), np.ones((3, 5)), 1, "float", "x must be 2-D and not empty"),
])
def test_linear_rejects_bad_input(x, w, order, backend, match):
    with pytest.raises(ValueError, match=match):
        horq_linear(x, w, order, backend)


def test_non_integer_order_is_a_type_error():
    with pytest.raises(TypeError, match="order"):
        horq_conv2d(np.ones((1, 1, 2, 2)), np.ones((1, 1, 1, 1)), 1.5)
