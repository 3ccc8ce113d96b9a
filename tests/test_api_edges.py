"""Edges of the public API: dtypes of sign, orders of the STE and of Expansion.levels, wrong-shaped
gradients in the layers."""

import numpy as np
import pytest

from horq_ref.nn.conv_layers import conv2d_backward, conv2d_forward, horq_conv2d_backward, \
    horq_conv2d_forward
from horq_ref.nn.layers import dense_backward, dense_forward, horq_dense_backward, \
    horq_dense_forward
from horq_ref.quantize import residual_quantize, sign
from horq_ref.ste import quantizer_jacobian


@pytest.mark.parametrize("dtype", [np.uint8, np.uint32, np.bool_])
def test_sign_refuses_unsigned_and_bool_dtypes(dtype):
    with pytest.raises(TypeError, match="dtype"):
        sign(np.array([-1.0, 2.0]), dtype=dtype)


def test_sign_accepts_signed_dtypes():
    assert sign(np.array([-1.0, 0.0]), dtype=np.int8).tolist() == [-1, 1]


@pytest.mark.parametrize("order, exc", [(0, ValueError), (1.5, TypeError), (True, TypeError)])
def test_quantizer_jacobian_validates_order(order, exc):
    with pytest.raises(exc, match="order"):
        quantizer_jacobian(np.ones(4), order)


def test_levels_refuses_an_order_whose_2_to_the_k_levels_do_not_fit():
    e = residual_quantize(np.linspace(-1, 1, 50), 25)
    with pytest.raises(ValueError, match="order"):
        e.levels()
    assert residual_quantize(np.arange(6.0), 3).levels().shape == (8,)


def test_levels_says_why_it_is_limited():
    from horq_ref.quantize import Expansion

    assert "MAX_LEVELS_ORDER" in Expansion.levels.__doc__


def _dense():
    x, W, b = np.ones((2, 3)), np.ones((4, 3)), np.zeros(4)
    return x, W, b


@pytest.mark.parametrize("which", ["dense", "horq_dense", "conv", "horq_conv"])
def test_backward_names_a_wrong_shaped_dY(which):
    if which in ("dense", "horq_dense"):
        x, W, b = _dense()
        args = (x, W, b) if which == "dense" else (x, W, b, 2)
        fwd, bwd = (dense_forward, dense_backward) if which == "dense" else \
            (horq_dense_forward, horq_dense_backward)
    else:
        x, W, b = np.ones((2, 3, 5, 5)), np.ones((4, 3, 3, 3)), np.zeros(4)
        args = (x, W, b) if which == "conv" else (x, W, b, 2)
        fwd, bwd = (conv2d_forward, conv2d_backward) if which == "conv" else \
            (horq_conv2d_forward, horq_conv2d_backward)
    Y, cache = fwd(*args)
    with pytest.raises(ValueError, match="dY"):
        bwd(np.ones(Y.shape[:-1] + (Y.shape[-1] + 1,)), cache)
    with pytest.raises(TypeError, match="dY"):
        bwd(np.ones(Y.shape).tolist(), cache)


@pytest.mark.parametrize("which", ["dense", "conv"])
def test_forward_names_a_list_input(which):
    if which == "dense":
        x, W, b = _dense()
        fwd = dense_forward
    else:
        x, W, b = np.ones((2, 3, 5, 5)), np.ones((4, 3, 3, 3)), np.zeros(4)
        fwd = conv2d_forward
    with pytest.raises(TypeError, match="x"):
        fwd(x.tolist(), W, b)
