"""Edges of the public API: dtypes of sign, orders of the STE and of Expansion.levels, subnormal
inputs in bound_report, wrong-shaped gradients in the layers, thread counts."""

import warnings

import numpy as np
import pytest

from horq_ref.fast.gemm import parallel_map
from horq_ref.nn.conv_layers import conv2d_backward, conv2d_forward, horq_conv2d_backward, \
    horq_conv2d_forward
from horq_ref.nn.layers import dense_backward, dense_forward, horq_dense_backward, \
    horq_dense_forward
from horq_ref.quantize import residual_quantize, sign
from horq_ref.ste import quantizer_jacobian
from horq_ref.theory import bound_report


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


def test_bound_report_warns_when_subnormal_scales_underflow():
    from horq_ref.theory import SubnormalWarning

    X = np.array([[5e-324, 0.0, 0.0, 0.0], [1.0, -2.0, 3.0, 0.5]])  # mean |x| of row 0 rounds to 0
    with pytest.warns(SubnormalWarning, match="underflow"):
        rows = bound_report(X, 2)
    assert rows[0]["measured_max"] > rows[0]["worst_case_bound"]  # what the warning is about
    assert rows[0]["underflow_groups"] == 1


def test_bound_report_on_normal_inputs_does_not_warn(rng):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rows = bound_report(rng.standard_normal((5, 16)) * 1e-300, 2)  # small but normal
    assert rows[0]["underflow_groups"] == 0


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


@pytest.mark.parametrize("threads, exc", [(0, ValueError), (1.5, TypeError), (True, TypeError),
                                          ("2", TypeError)])
def test_threads_validated_like_every_integer(threads, exc):
    with pytest.raises(exc, match="threads"):
        parallel_map(abs, [1, 2], threads)
    assert parallel_map(abs, [-1, 2], np.int64(2)) == [1, 2]
