"""``backend="bits-fast"`` (horq_ref.fast.conv) against the reference ``backend="bits"``.

Planes and dot products are compared for exact equality, always. Scales and outputs are compared
for exact equality too, with one documented exception: at order one, when the channels of a pixel
are packed once (``C`` a multiple of 64 or a 1x1 kernel), the fast path takes ``beta_1`` from a box
sum of ``sum_c |X|`` (XNOR-Net's K matrix) -- the same mean of ``D = C*kh*kw`` magnitudes summed in
another order. A sum of ``D`` non-negative terms in any order is within ``(D - 1) eps`` of the exact
sum (relative), so two orders differ by at most ``2 D eps``: that is the tolerance there, and a
negative control shows the exact comparison would fail.
"""

import numpy as np
import pytest
from hypothesis import given

from horq_ref.conv import horq_conv2d, horq_linear
from strategies import conv_cases, draw_values


def box_beta_case(C, kh, kw, order, x):
    """True where the fast path's beta_1 is a box sum (not the reference's row mean)."""
    D = C * kh * kw
    rescaled = np.abs(x).max() > np.finfo(x.dtype).max / (2 * D)
    return order == 1 and (C % 64 == 0 or kh * kw == 1) and not rescaled


def assert_fast_equals_reference(x, w, order, stride, padding, threads=None):
    Yr, tr = horq_conv2d(x, w, order, stride, padding, "bits", return_intermediates=True)
    Yf, tf = horq_conv2d(x, w, order, stride, padding, "bits-fast", return_intermediates=True,
                         threads=threads)
    np.testing.assert_array_equal(tf.dots, tr.dots)
    np.testing.assert_array_equal(tf.planes, tr.planes)
    np.testing.assert_array_equal(tf.B, tr.B)
    np.testing.assert_array_equal(tf.alpha, tr.alpha)
    assert Yf.dtype == Yr.dtype == tf.betas.dtype == tr.betas.dtype
    C, kh, kw = w.shape[1:]
    if box_beta_case(C, kh, kw, order, x):
        rtol = 2 * C * kh * kw * np.finfo(x.dtype).eps  # two summation orders, module docstring
        np.testing.assert_allclose(tf.betas, tr.betas, rtol=rtol, atol=0)
        np.testing.assert_allclose(Yf, Yr, rtol=rtol, atol=rtol * np.abs(Yr).max())
    else:
        np.testing.assert_array_equal(tf.betas, tr.betas)
        np.testing.assert_array_equal(Yf, Yr)
        np.testing.assert_array_equal(tf.Y, tr.Y)
    return tf, tr


@given(conv_cases(max_c=140))
def test_fast_equals_reference_on_random_layers(case):
    assert_fast_equals_reference(*case)


@pytest.mark.parametrize("C, k, stride, padding", [
    (1, 1, 1, 0), (3, 3, 1, 1), (5, 2, 2, 2),  # odd D, D not a multiple of 64
    (64, 1, 1, 0), (64, 3, 1, 1), (128, 3, 2, 1),  # C a multiple of 64: pixel packing
    (32, 2, 1, 0),  # D = 128, a multiple of 64, C not
    (7, 3, 3, 0), (65, 1, 2, 1), (70, 3, 1, 2),
])
@pytest.mark.parametrize("kind", ["normal", "integers", "sparse"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fast_equals_reference_on_adversarial_layers(C, k, stride, padding, kind, dtype, rng):
    # integers: ties and exact zeros; sparse: half zeros, a fifth of them -0.0
    x = draw_values(rng, kind, (2, C, 6, 5)).astype(dtype)
    w = draw_values(rng, kind, (3, C, k, k))
    for order in (1, 2, 3):
        assert_fast_equals_reference(x, w, order, stride, padding, threads=2)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("C", [3, 64])
def test_fast_equals_reference_on_huge_entries(dtype, C, rng):
    # sums of D magnitudes overflow: both paths take expand's rescaled scales
    x = (rng.standard_normal((1, C, 4, 4)) * (np.finfo(dtype).max / 4)).astype(dtype)
    w = rng.standard_normal((2, C, 3, 3)) * 1e-30  # keeps the outputs finite
    for order in (1, 2):
        tf, _ = assert_fast_equals_reference(x, w, order, 1, 1)
        assert np.all(np.isfinite(tf.betas))


def test_fast_is_the_same_for_every_thread_count(rng):
    x = rng.standard_normal((2, 64, 12, 11)).astype(np.float32)
    w = rng.standard_normal((5, 64, 3, 3))
    for threads in (1, 2, 3):
        assert_fast_equals_reference(x, w, 3, 1, 1, threads=threads)


def test_linear_fast_equals_reference(rng):
    x, w = rng.standard_normal((4, 150)), rng.standard_normal((3, 150))
    x[:, ::7] = 0.0
    for order in (1, 2, 3):
        Yr, tr = horq_linear(x, w, order, "bits", return_intermediates=True)
        Yf, tf = horq_linear(x, w, order, "bits-fast", return_intermediates=True)
        np.testing.assert_array_equal(tf.dots, tr.dots)
        np.testing.assert_allclose(Yf, Yr, rtol=2 * 150 * np.finfo(float).eps, atol=0)


def test_box_beta_is_not_bit_for_bit(rng):
    # negative control: the exception above is real -- somewhere the box sum's rounding differs,
    # so an exact comparison of order-one scales on the pixel path would fail
    x = rng.standard_normal((2, 64, 9, 9)).astype(np.float32)
    w = rng.standard_normal((3, 64, 3, 3))
    _, tr = horq_conv2d(x, w, 1, 1, 1, "bits", return_intermediates=True)
    _, tf = horq_conv2d(x, w, 1, 1, 1, "bits-fast", return_intermediates=True)
    assert not np.array_equal(tf.betas, tr.betas)
    np.testing.assert_allclose(tf.betas, tr.betas, rtol=2 * 576 * np.finfo(np.float32).eps)
