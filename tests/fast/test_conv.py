"""``backend="bits-fast"`` (horq_ref.fast.conv) against the reference ``backend="bits"``: bit for bit.

Planes, scales, dot products, per-order outputs and outputs are compared for exact equality on random
layers and on adversarial ones (ties, exact zeros, -0.0, odd D, D a multiple of 64 or not, 1x1,
stride, padding, huge magnitudes, float32 and float64); a negative control shows that a difference
of one unit in the last place is caught.
"""

import dataclasses

import numpy as np
import pytest
from hypothesis import given

from horq_ref.conv import horq_conv2d, horq_linear
from strategies import conv_cases, draw_values


def assert_fast_equals_reference(x, w, order, stride, padding, threads=None):
    Yr, tr = horq_conv2d(x, w, order, stride, padding, "bits", return_intermediates=True)
    Yf, tf = horq_conv2d(x, w, order, stride, padding, "bits-fast", return_intermediates=True,
                         threads=threads)
    np.testing.assert_array_equal(tf.dots, tr.dots)
    np.testing.assert_array_equal(tf.planes, tr.planes)
    np.testing.assert_array_equal(tf.B, tr.B)
    np.testing.assert_array_equal(tf.alpha, tr.alpha)
    assert Yf.dtype == Yr.dtype == tf.betas.dtype == tr.betas.dtype
    assert_identical((Yf, tf), (Yr, tr))
    return tf, tr


def assert_identical(fast, reference):
    """Outputs, scales and per-order outputs equal bit for bit (``-0.0`` and ``0.0`` told apart)."""
    (Yf, tf), (Yr, tr) = fast, reference
    for a, b in ((Yf, Yr), (tf.betas, tr.betas), (tf.Y, tr.Y)):
        assert a.dtype == b.dtype and a.shape == b.shape
        assert a.tobytes() == b.tobytes()


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


@pytest.mark.parametrize("N", [4, 150])  # 150 rows: blocks of 64 rows across the samples, one partial
def test_linear_fast_equals_reference(rng, N):
    x, w = rng.standard_normal((N, 150)), rng.standard_normal((3, 150))
    x[:, ::7] = 0.0
    for order in (1, 2, 3):
        ref = horq_linear(x, w, order, "bits", return_intermediates=True)
        fast = horq_linear(x, w, order, "bits-fast", return_intermediates=True)
        np.testing.assert_array_equal(fast[1].dots, ref[1].dots)
        assert_identical(fast, ref)


@pytest.mark.parametrize("stride, padding", [(1, 0), (2, 0), (3, 1)])
def test_fast_equals_reference_on_one_pixel_images(rng, stride, padding):
    """1x1 images and kernels, one output pixel: the dense layer's case, with a stride that has
    nothing to skip and a padding whose only output reads a padding pixel."""
    x, w = rng.standard_normal((70, 5, 1, 1)), rng.standard_normal((2, 5, 1, 1))
    for order in (1, 2, 3):
        assert_fast_equals_reference(x, w, order, stride, padding)


def test_a_one_ulp_difference_is_caught(rng):
    # negative control: the comparison is exact -- the next float after one scale fails it
    x, w = rng.standard_normal((1, 64, 5, 5)).astype(np.float32), rng.standard_normal((2, 64, 3, 3))
    Y, t = horq_conv2d(x, w, 2, 1, 1, "bits-fast", return_intermediates=True)
    betas = t.betas.copy()
    betas[0, 0, 0] = np.nextafter(betas[0, 0, 0], np.float32(np.inf))
    with pytest.raises(AssertionError):
        assert_identical((Y, t), (Y, dataclasses.replace(t, betas=betas)))
    with pytest.raises(AssertionError):
        assert_identical((Y, t), (np.nextafter(Y, np.float32(np.inf)), t))
    assert_identical((Y, t), (Y.copy(), t))  # and equal copies pass
