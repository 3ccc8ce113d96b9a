"""Variants of the HORQ layer, each its own named forward/backward pair (docs/paper.md §5, theory.md §13).

:func:`horq_ref.nn.layers.horq_dense_forward` and :func:`horq_ref.nn.conv_layers.horq_conv2d_forward`
are HORQ itself: greedy scales, float ``±1`` planes, BLAS products. Each variant changes one thing, as
its forward says: least-squares input scales (``refit_dense_*``), the products on bits
(``bits_dense_*``), or any scale variant for evaluation only (``quantized_input_dense``, post-training
quantization). Every convolution variant is its dense variant on the im2col rows
(:func:`rows_conv2d_forward`), as ``horq_conv2d_forward`` is ``horq_dense_forward`` on them (a test
checks that equality, bit for bit).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..binary_backward import binary_backward, operands_from_planes
from ..conv import horq_linear
from ..fast.lut import lut_backward
from ..im2col import check_conv_args, col2im, im2col
from ..quantize import binary_sign
from ..scales import quantize_with
from ..ste import (SIGN_STE, SignFn, quantizer_backward, quantizer_forward,
                   weight_binarize_backward, weight_binarize_forward)
from .layers import DenseCache, HorqDenseCache, check_array, check_dense, dense_backward
from .refit import refit_quantizer_backward, refit_quantizer_forward

__all__ = ["refit_dense_forward", "refit_dense_backward", "bits_dense_forward", "bits_dense_backward",
           "quantized_input_dense", "rows_conv2d_forward", "rows_conv2d_backward", "BitsDenseCache",
           "RowsCache"]


def refit_dense_forward(x, W, b, order, *, sign_fn=SIGN_STE, ste="chain"):
    """The HORQ dense layer with least-squares input scales: ``Y = Xt Wt^T + b``, ``Xt = P X``.

    Arguments and result as :func:`horq_ref.nn.layers.horq_dense_forward`; the input's backward is
    the exact chain rule through the refit (``ste`` applies to the weights). The cache's ``xcache``
    is a :class:`horq_ref.nn.refit.RefitCache`.
    """
    check_dense(x, W, b)
    Xt, xcache = refit_quantizer_forward(x, order, -1, sign_fn=sign_fn)  # (N, D)
    Wt, wcache = weight_binarize_forward(W, sign_fn=sign_fn, ste=ste)  # (F, D)
    return Xt @ Wt.T + b, HorqDenseCache(Xt, Wt, xcache, wcache)


def refit_dense_backward(dY, cache):
    """Gradients ``(dx, dW, db)`` of :func:`refit_dense_forward` from ``dY`` (N, F)."""
    Xt, Wt, xcache, wcache = cache
    dXt, dWt, db = dense_backward(dY, DenseCache(Xt, Wt))
    return refit_quantizer_backward(dXt, xcache), weight_binarize_backward(dWt, wcache), db


class BitsDenseCache(NamedTuple):
    """What :func:`bits_dense_backward` needs: the float operands (the planes are rebuilt from them,
    the forward on bits keeps nothing more), the order, the STE rule and the backend."""

    x: np.ndarray  # (N, D)
    W: np.ndarray  # (F, D)
    order: int
    sign_fn: SignFn
    ste: str
    backend: str


def bits_dense_forward(x, W, b, order, *, sign_fn=SIGN_STE, ste="chain", backend="bits"):
    """The HORQ dense layer computed on bits: ``horq_linear(x, W, order, backend) + b``.

    ``backend`` is ``"bits"`` (the reference kernels) or ``"bits-fast"``. Bits hold only ±1, so
    ``sign_fn`` must compute the true sign (:func:`horq_ref.quantize.binary_sign`); its derivative
    is the backward's to choose (``SIGN_STE``'s window, or the true derivative 0 for a gradient
    check). Returns ``Y`` (N, F) and a :class:`BitsDenseCache`.
    """
    check_dense(x, W, b)
    if sign_fn.fn is not binary_sign:
        raise ValueError(f"sign_fn must compute the true sign on a bit backend, got {sign_fn.name!r}")
    Y = horq_linear(x, W, order, backend=backend) + b
    return Y, BitsDenseCache(x, W, order, sign_fn, ste, backend)


def bits_dense_backward(dY, cache):
    """Gradients ``(dx, dW, db)`` of :func:`bits_dense_forward`: the products ``dY Wt`` and
    ``dY^T Xt`` on the binary operands (additions only; by table lookup on ``"bits-fast"``, within
    the bound of docs/theory.md §15), the straight-through rule in float."""
    x, W, order, sign_fn, ste, backend = cache
    check_array(dY, "dY", (x.shape[0], W.shape[0]))
    _, xc = quantizer_forward(x, order, -1, sign_fn=sign_fn, ste=ste)  # H (K, N, D), betas (K, N, 1)
    _, wc = weight_binarize_forward(W, sign_fn=sign_fn, ste=ste)  # signs (1, F, D), alpha (1, F, 1)
    ops = operands_from_planes(xc.H, xc.betas[..., 0], wc.H[0], wc.betas[0, :, 0])
    products = lut_backward if backend == "bits-fast" else binary_backward  # the same sums
    dXt, dWt = products(dY, ops)
    return quantizer_backward(dXt, xc), weight_binarize_backward(dWt, wc), dY.sum(axis=0)


def quantized_input_dense(x, W, b, order, scales="greedy"):
    """Evaluation only: ``Y = Xt W^T + b`` with ``Xt`` the order-K expansion of every row of ``x``
    with the named scales (post-training quantization when ``W`` is float).

    Returns ``Y`` (N, F) and ``None``: there is no backward (the alternating scales have none).
    """
    check_dense(x, W, b)
    Xt = quantize_with(x, order, -1, scales).reconstruct()  # (N, D)
    return Xt @ W.T + b, None


class RowsCache(NamedTuple):
    """What :func:`rows_conv2d_backward` needs: the dense variant's cache and the geometry."""

    rows: tuple  # the dense variant's cache, on (N*P, D) rows
    x_shape: tuple  # (N, C, H, W)
    W_shape: tuple  # (F, C, kh, kw)
    stride: int
    padding: int


def rows_conv2d_forward(dense_forward, x, W, b, order, stride=1, padding=0, **options):
    """A dense variant applied to the im2col rows of ``x``: the convolution variant.

    ``dense_forward`` is one of this module's (or :mod:`horq_ref.nn.layers`') forwards; ``x``
    (N, C, H, W), ``W`` (F, C, kh, kw), ``b`` (F,). Returns ``Y`` (N, F, Ho, Wo) and a
    :class:`RowsCache`.
    """
    Ho, Wo = check_conv_args(check_array(x, "x"), W, stride, padding)
    F, _, kh, kw = W.shape
    cols = im2col(x, kh, kw, stride, padding)  # (N, P, D), one input group per row
    Yr, cache = dense_forward(cols.reshape(-1, cols.shape[2]), W.reshape(F, -1), b, order, **options)
    Y = np.ascontiguousarray(Yr.reshape(x.shape[0], Ho, Wo, F).transpose(0, 3, 1, 2))
    return Y, RowsCache(cache, x.shape, W.shape, stride, padding)


def rows_conv2d_backward(dense_backward, dY, cache):
    """Gradients ``(dx (N, C, H, W), dW (F, C, kh, kw), db (F,))`` of :func:`rows_conv2d_forward`."""
    rows, x_shape, W_shape, stride, padding = cache
    F, _, kh, kw = W_shape
    dYr = dY.transpose(0, 2, 3, 1).reshape(-1, F)  # (N*P, F)
    dcols, dWr, _ = dense_backward(dYr, rows)
    dx = col2im(dcols.reshape(x_shape[0], -1, dcols.shape[1]), x_shape, kh, kw, stride, padding)
    return dx, dWr.reshape(W_shape), dY.sum(axis=(0, 2, 3))
