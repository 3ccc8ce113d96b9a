"""Convolution, HORQ convolution and max-pooling as forward/backward pairs (docs/paper.md §1, §4, §5).

A convolution is one GEMM on im2col rows (:mod:`horq_ref.im2col`): with ``cols`` of shape
``(N, P, D)``, ``P = Ho*Wo``, ``D = C*kh*kw`` and ``W_r = W.reshape(F, D)``::

    Y[n, f, p] = cols[n, p] . W_r[f] + b[f].

In a HORQ convolution each im2col row is one input group (its own ``beta_i``, zero padding
included, docs/paper.md §1) and each filter is binarized at order one, ``Wt_f = alpha_f sign(W_f)``:
the HORQ dense layer of :mod:`horq_ref.nn.layers` applied to every row. The backward pass is the
adjoint: ``dW_r = sum_{n,p} dY[n, :, p] cols[n, p]``, ``dcols = dY^T W_r``, then
:func:`horq_ref.im2col.col2im` adds overlapping rows back into the image; in the HORQ layer the
quantizer's straight-through rule (:mod:`horq_ref.ste`) first maps ``dcols_t`` to ``dcols``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..checks import check_int
from ..im2col import check_conv_args, col2im, cols_matmul, conv_output_shape, im2col
from ..ste import (SIGN_STE, QuantizerCache, quantizer_backward, quantizer_forward,
                   weight_binarize_backward, weight_binarize_forward)
from .layers import check_array

__all__ = ["conv2d_forward", "conv2d_backward", "horq_conv2d_forward", "horq_conv2d_backward",
           "maxpool_forward", "maxpool_backward", "ConvCache", "HorqConvCache", "MaxPoolCache"]


class ConvCache(NamedTuple):
    """What :func:`conv2d_backward` needs: shapes, stride, padding, im2col rows, flat filters."""

    x_shape: tuple  # (N, C, H, W)
    W_shape: tuple  # (F, C, kh, kw)
    stride: int
    padding: int
    cols: np.ndarray  # (N, P, D), the im2col rows of x
    Wr: np.ndarray  # (F, D)


class HorqConvCache(NamedTuple):
    """What :func:`horq_conv2d_backward` needs: shapes, stride, padding, both quantized operands and
    the quantizers' caches."""

    x_shape: tuple  # (N, C, H, W)
    W_shape: tuple  # (F, C, kh, kw)
    stride: int
    padding: int
    Xt: np.ndarray  # (N, P, D), sum_i beta_i H_i of every im2col row
    Wt: np.ndarray  # (F, D), alpha_f sign(W_f)
    xcache: QuantizerCache
    wcache: QuantizerCache


class MaxPoolCache(NamedTuple):
    """What :func:`maxpool_backward` needs: where each window's maximum came from."""

    x_shape: tuple  # (N, C, H, W)
    dtype: np.dtype
    kernel: tuple  # (kh, kw)
    stride: tuple  # (sh, sw)
    idx: np.ndarray  # (N, C, Ho, Wo), flat index of the maximum in its window


def _check_bias(W, b):
    if np.shape(b) != (W.shape[0],):
        raise ValueError(f"b must have shape ({W.shape[0]},), got {np.shape(b)}")


def _gemm_backward(dY, cols, Wr, x_shape, W_shape, stride, padding):
    """``(dcols (N, P, D), dWr (F, D), db (F,))`` from ``dY`` (N, F, Ho, Wo), its shape checked."""
    N, P, D = cols.shape
    Ho, Wo = conv_output_shape(x_shape[2], x_shape[3], W_shape[2], W_shape[3], stride, padding)
    check_array(dY, "dY", (N, W_shape[0], Ho, Wo))
    dYr = dY.transpose(0, 2, 3, 1).reshape(N * P, -1)  # (N*P, F)
    dWr = dYr.T @ cols.reshape(N * P, D)  # (F, D)
    dcols = (dYr @ Wr).reshape(N, P, D)  # (N, P, D)
    return dcols, dWr, dY.sum(axis=(0, 2, 3))


def conv2d_forward(x, W, b, stride=1, padding=0):
    """Full-precision 2-D convolution (cross-correlation, as in every deep learning library).

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    W : ndarray, shape (F, C, kh, kw)
    b : ndarray, shape (F,)
    stride, padding : int

    Returns
    -------
    Y : ndarray, shape (N, F, Ho, Wo)
    cache : ConvCache

    Examples
    --------
    >>> Y, _ = conv2d_forward(np.ones((1, 1, 3, 3)), np.ones((1, 1, 2, 2)), np.zeros(1))
    >>> Y[0, 0]
    array([[4., 4.],
           [4., 4.]])
    """
    Ho, Wo = check_conv_args(check_array(x, "x"), W, stride, padding)
    _check_bias(W, b)
    F, C, kh, kw = W.shape
    cols = im2col(x, kh, kw, stride, padding)  # (N, P, D)
    Wr = W.reshape(F, -1)  # (F, D)
    return cols_matmul(cols, Wr, Ho, Wo) + b[:, None, None], ConvCache(
        x.shape, W.shape, stride, padding, cols, Wr)


def conv2d_backward(dY, cache):
    """Gradients ``(dx (N, C, H, W), dW (F, C, kh, kw), db (F,))`` from ``dY`` (N, F, Ho, Wo)."""
    x_shape, W_shape, stride, padding, cols, Wr = cache
    dcols, dWr, db = _gemm_backward(dY, cols, Wr, x_shape, W_shape, stride, padding)
    dx = col2im(dcols, x_shape, W_shape[2], W_shape[3], stride, padding)
    return dx, dWr.reshape(W_shape), db


def horq_conv2d_forward(x, W, b, order, stride=1, padding=0, *, sign_fn=SIGN_STE, ste="chain"):
    """HORQ convolution: order-K im2col rows against order-one filters (order one: XNOR-Net).

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    W : ndarray, shape (F, C, kh, kw)
        Real-valued latent filters.
    b : ndarray, shape (F,)
    order : int >= 1
        K for each im2col row (one group of ``D = C*kh*kw`` entries).
    stride, padding : int
    sign_fn, ste
        As in :func:`horq_ref.nn.layers.horq_dense_forward`.

    Returns
    -------
    Y : ndarray, shape (N, F, Ho, Wo)
    cache : HorqConvCache

    Notes
    -----
    ``Y[n, f, p] = sum_i beta_i[n, p] alpha_f (H_i[n, p] . B_f) + b_f``, ``B_f = sign(W_f)``.
    """
    Ho, Wo = check_conv_args(check_array(x, "x"), W, stride, padding)
    _check_bias(W, b)
    F, _, kh, kw = W.shape
    cols = im2col(x, kh, kw, stride, padding)  # (N, P, D), one input group per row
    Xt, xcache = quantizer_forward(cols, order, axis=-1, sign_fn=sign_fn, ste=ste)  # (N, P, D)
    Wt, wcache = weight_binarize_forward(W.reshape(F, -1), sign_fn=sign_fn, ste=ste)  # (F, D)
    Y = cols_matmul(Xt, Wt, Ho, Wo) + b[:, None, None]
    return Y, HorqConvCache(x.shape, W.shape, stride, padding, Xt, Wt, xcache, wcache)


def horq_conv2d_backward(dY, cache):
    """Gradients ``(dx (N, C, H, W), dW (F, C, kh, kw), db (F,))`` from ``dY`` (N, F, Ho, Wo)."""
    x_shape, W_shape, stride, padding, Xt, Wt, xcache, wcache = cache
    dXt, dWt, db = _gemm_backward(dY, Xt, Wt, x_shape, W_shape, stride, padding)
    dcols = quantizer_backward(dXt, xcache)  # (N, P, D)
    dW = weight_binarize_backward(dWt, wcache)  # (F, D)
    dx = col2im(dcols, x_shape, W_shape[2], W_shape[3], stride, padding)
    return dx, dW.reshape(W_shape), db


def _pair(value, name):
    """``(v, v)`` for an int ``v``, else the pair itself; both entries checked ints >= 1."""
    pair = value if isinstance(value, (tuple, list)) else (value, value)
    if len(pair) != 2:
        raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}")
    return tuple(check_int(v, name, minimum=1) for v in pair)


def maxpool_forward(x, kernel=2, stride=None):
    """Max-pooling over ``kernel`` windows with ``stride`` (default: ``kernel``), no padding.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    kernel, stride : int or (int, int)

    Returns
    -------
    out : ndarray, shape (N, C, Ho, Wo), sized as :func:`horq_ref.im2col.conv_output_shape` says
    cache : MaxPoolCache

    Examples
    --------
    >>> out, _ = maxpool_forward(np.arange(16.0).reshape(1, 1, 4, 4))
    >>> out[0, 0]
    array([[ 5.,  7.],
           [13., 15.]])
    """
    if np.ndim(x) != 4:
        raise ValueError(f"x must be 4-D (N, C, H, W), got shape {np.shape(x)}")
    kh, kw = _pair(kernel, "kernel")
    sh, sw = _pair(kernel if stride is None else stride, "stride")
    Ho = conv_output_shape(x.shape[2], x.shape[3], kh, kw, sh)[0]  # the same sizes as a convolution's
    Wo = conv_output_shape(x.shape[2], x.shape[3], kh, kw, sw)[1]
    win = sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw][:, :, :Ho, :Wo]
    win = win.reshape(x.shape[:2] + (Ho, Wo, kh * kw))  # (N, C, Ho, Wo, kh*kw), a copy
    idx = np.argmax(win, axis=-1)  # (N, C, Ho, Wo), first maximum of each window
    out = np.take_along_axis(win, idx[..., None], axis=-1)[..., 0]
    return out, MaxPoolCache(x.shape, x.dtype, (kh, kw), (sh, sw), idx)


def maxpool_backward(dout, cache):
    """``dx`` (N, C, H, W) of :func:`maxpool_forward` from ``dout`` (N, C, Ho, Wo).

    The gradient goes to the first maximum of each window (``np.argmax``): of tied entries (common
    after ReLU) exactly one receives it, a choice the paper does not make for us.
    """
    x_shape, dtype, (kh, kw), (sh, sw), idx = cache
    Ho, Wo = idx.shape[2:]
    dx = np.zeros(x_shape, dtype=np.result_type(dout, dtype))
    for k in range(kh * kw):  # one strided add per window offset
        i, j = divmod(k, kw)
        hs, ws = slice(i, i + sh * (Ho - 1) + 1, sh), slice(j, j + sw * (Wo - 1) + 1, sw)
        dx[:, :, hs, ws] += np.where(idx == k, dout, 0)
    return dx

