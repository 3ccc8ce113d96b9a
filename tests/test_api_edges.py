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


@pytest.mark.parametrize("ste", ["chain", "identity"])
def test_quantizer_backward_names_a_wrong_shaped_dXt(ste):
    from horq_ref.ste import quantizer_backward, quantizer_forward

    Xt, cache = quantizer_forward(np.linspace(-1, 1, 12).reshape(3, 4), 2, ste=ste)
    assert quantizer_backward(np.ones_like(Xt), cache).shape == Xt.shape
    with pytest.raises(ValueError, match=r"dXt must have the input's shape \(3, 4\), got \(4, 3\)"):
        quantizer_backward(np.ones((4, 3)), cache)


@pytest.mark.parametrize("order", [2**70, 10**6])
def test_orders_beyond_the_limit_are_refused_naming_it(order):
    from horq_ref.checks import ORDER_LIMIT
    from horq_ref.quantize import expand

    with pytest.raises(ValueError, match=f"order must be <= ORDER_LIMIT = {ORDER_LIMIT}"):
        expand(np.ones((2, 3)), order)
    assert len(expand(np.ones((2, 3)), ORDER_LIMIT)[0]) == ORDER_LIMIT  # the limit itself is fine


def test_thread_counts_of_the_fast_kernels_must_be_integers():
    from horq_ref.fast.gemm import mismatch_counts

    a, b = np.zeros((1, 4), np.uint64), np.zeros((1, 3), np.uint64)
    with pytest.raises(TypeError, match="threads must be an integer, got 1.5"):
        mismatch_counts(a, b, 1.5)
    assert mismatch_counts(a, b, 2).shape == (3, 4)


def test_extract_tar_takes_a_dot_entry_and_refuses_what_leaves(tmp_path):
    import io
    import tarfile

    from horq_ref.data.download import extract_tar

    for name, ok in ((".", True), ("./a", True), ("..", False), ("/abs", False)):
        with tarfile.open(tmp_path / "t.tar", "w") as tf:
            info = tarfile.TarInfo(name)
            info.type = tarfile.DIRTYPE if name in (".", "..") else tarfile.REGTYPE
            tf.addfile(info, None if info.isdir() else io.BytesIO(b""))
        if ok:
            extract_tar(tmp_path / "t.tar", tmp_path / "out")
        else:
            with pytest.raises(ValueError, match="leaves the destination"):
                extract_tar(tmp_path / "t.tar", tmp_path / "out")


@pytest.mark.parametrize("n", [200, 64, -5, 1.5])
def test_popcount_dot_checks_n_against_the_words(n):
    """Two words hold 65..128 entries: a row length outside that (or not an integer) is refused, never
    returned as a dot product (n = 200 on two words once gave 200 - 2 popcount)."""
    from horq_ref.bits import pack_signs, popcount_dot

    a = pack_signs(np.ones(100))  # (2,) words
    with pytest.raises((ValueError, TypeError), match="n"):
        popcount_dot(a, a, n)
    assert popcount_dot(a, a, 100) == 100


def test_float_backward_names_a_wrong_shaped_dY():
    from horq_ref.binary_backward import binary_operands, float_backward

    ops = binary_operands(np.ones((3, 5)), np.ones((2, 5)), 1)  # M = 3 rows, F = 2 filters
    with pytest.raises(ValueError, match=r"dY must have shape \(3, 2\)"):
        float_backward(np.ones((2, 3)), ops)


@pytest.mark.parametrize("rtol", [float("nan"), -0.1, float("inf")])
def test_alternating_refuses_a_tolerance_that_is_not_a_finite_fraction(rtol):
    from horq_ref.scales import alternating

    with pytest.raises(ValueError, match="rtol"):
        alternating(np.arange(6.0), 2, rtol=rtol)
