"""im2col against a loop, col2im as its exact adjoint, and argument checks."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from horq_ref.im2col import check_conv_args, col2im, conv_output_shape, im2col


@st.composite
def conv_case(draw):
    N, C = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride, padding = draw(st.integers(1, 3)), draw(st.integers(0, 2))
    H = draw(st.integers(max(1, kh - 2 * padding), 7))
    W = draw(st.integers(max(1, kw - 2 * padding), 7))
    return (N, C, H, W), kh, kw, stride, padding


def im2col_loop(x, kh, kw, stride, padding):
    N, C, H, W = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    Ho, Wo = (H + 2 * padding - kh) // stride + 1, (W + 2 * padding - kw) // stride + 1
    out = np.zeros((N, Ho * Wo, C * kh * kw))
    for n in range(N):
        for a in range(Ho):
            for b in range(Wo):
                patch = xp[n, :, a * stride:a * stride + kh, b * stride:b * stride + kw]
                out[n, a * Wo + b] = patch.ravel()
    return out


@given(conv_case())
def test_im2col_matches_loop(case):
    shape, kh, kw, stride, padding = case
    x = np.random.default_rng(0).standard_normal(shape)
    # pure data movement: exact equality
    np.testing.assert_array_equal(im2col(x, kh, kw, stride, padding),
                                  im2col_loop(x, kh, kw, stride, padding))


@given(conv_case())
def test_col2im_is_the_adjoint(case):
    """<im2col(x), c> == <x, col2im(c)>: what makes col2im the right backward."""
    shape, kh, kw, stride, padding = case
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape)
    cols = im2col(x, kh, kw, stride, padding)
    c = rng.standard_normal(cols.shape)
    lhs = np.sum(cols * c)
    rhs = np.sum(x * col2im(c, shape, kh, kw, stride, padding))
    # two sums of the same ~N*P*D products in different orders: agreement to 1e-12 relative
    assert abs(lhs - rhs) <= 1e-12 * (np.sum(np.abs(cols * c)) + 1)


def test_output_shape_and_errors():
    assert conv_output_shape(16, 16, 3, 3, 1, 1) == (16, 16)
    assert conv_output_shape(7, 5, 3, 2, 2, 0) == (3, 2)
    with pytest.raises(ValueError, match="kernel size"):
        conv_output_shape(2, 2, 3, 3, 1, 0)
    with pytest.raises(ValueError, match="stride must be >= 1"):
        conv_output_shape(5, 5, 3, 3, 0, 0)
    with pytest.raises(ValueError, match="padding must be >= 0"):
        conv_output_shape(5, 5, 3, 3, 1, -1)
    with pytest.raises(TypeError, match="stride must be an integer"):
        conv_output_shape(5, 5, 3, 3, 1.5, 0)


def test_check_conv_args():
    x, w = np.zeros((1, 3, 5, 5)), np.zeros((4, 3, 3, 3))
    assert check_conv_args(x, w, 1, 1) == (5, 5)
    with pytest.raises(ValueError, match="x must be 4-D"):
        check_conv_args(np.zeros((3, 5, 5)), w)
    with pytest.raises(ValueError, match="w must be 4-D"):
        check_conv_args(x, np.zeros((4, 3, 3)))
    with pytest.raises(ValueError, match="channel mismatch"):
        check_conv_args(x, np.zeros((4, 2, 3, 3)))
