"""Layers as forward/backward pairs: dense, HORQ dense, activations, flatten (docs/paper.md §1, §2, §5).

Every op comes as ``op_forward(...) -> (out, cache)`` and ``op_backward(dout, cache) -> grads``
(Stanford cs231n's layers); a cache is a named tuple of what the backward needs (or, for the
activations, one mask). Ops with parameters return a tuple of gradients in the order of the
forward's array arguments (``dx, dW, db``); ops without parameters return ``dx`` alone. Convolution
and pooling are in :mod:`horq_ref.nn.conv_layers`, batch norm in :mod:`horq_ref.nn.norm`, the loss in
:mod:`horq_ref.nn.losses`; the variants of the HORQ layer (least-squares scales, the backward on
bits, post-training quantization) in :mod:`horq_ref.nn.variants`.

Weights are stored as ``W`` of shape ``(F, D)`` (one row per output unit, like
:func:`horq_ref.horq_linear`), so a dense layer is ``Y = X W^T + b``.

A HORQ dense layer (docs/paper.md §1-2) quantizes each sample's row ``X[n]`` (one group, ``axis=-1``)
to order K and binarizes each weight row at order one, ``Wt_f = alpha_f sign(W_f)``::

    Y = Xt Wt^T + b,   Xt[n] = sum_i beta_i[n] H_i[n].

Order one is XNOR-Net. The planes are float arrays holding ``±1``, so the products run on BLAS; the
same value computed with XOR and popcount is :func:`horq_ref.horq_linear` with ``backend="bits"``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..ste import (SIGN_STE, QuantizerCache, quantizer_backward, quantizer_forward,
                   weight_binarize_backward, weight_binarize_forward)

__all__ = [
    "dense_forward",
    "dense_backward",
    "horq_dense_forward",
    "horq_dense_backward",
    "relu_forward",
    "relu_backward",
    "hardtanh_forward",
    "hardtanh_backward",
    "flatten_forward",
    "flatten_backward",
    "check_array",
    "DenseCache",
    "HorqDenseCache",
]


class DenseCache(NamedTuple):
    """What :func:`dense_backward` needs: the input ``x`` (N, D) and the weights ``W`` (F, D)."""

    x: np.ndarray
    W: np.ndarray


class HorqDenseCache(NamedTuple):
    """What :func:`horq_dense_backward` needs: both quantized operands and the quantizers' caches."""

    Xt: np.ndarray  # (N, D), sum_i beta_i H_i of every row
    Wt: np.ndarray  # (F, D), alpha_f sign(W_f)
    xcache: QuantizerCache  # of the input quantizer: betas (K, N, 1), planes H (K, N, D), ...
    wcache: QuantizerCache  # of the weight binarizer


def check_array(a, name, shape=None):
    """``a`` if it is an ndarray (of ``shape`` if given): ``TypeError`` / ``ValueError`` naming ``name``.

    Layers take arrays, not lists (a list would fail deep inside NumPy), and a gradient must have
    exactly the shape of the forward output it belongs to (NumPy would otherwise broadcast it).
    """
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{name} must be a NumPy array, got {type(a).__name__}")
    if shape is not None and a.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)} (the forward output's), got "
                         f"{a.shape}")
    return a


def check_dense(x, W, b):
    """Raise naming the argument unless ``x`` (N, D), ``W`` (F, D) and ``b`` (F,) fit together."""
    check_array(x, "x")
    if np.ndim(x) != 2:
        raise ValueError(f"x must be 2-D (N, D), got shape {np.shape(x)}")
    if np.ndim(W) != 2 or W.shape[1] != x.shape[1]:
        raise ValueError(f"W must have shape (F, {x.shape[1]}), got {np.shape(W)}")
    if np.shape(b) != (W.shape[0],):
        raise ValueError(f"b must have shape ({W.shape[0]},), got {np.shape(b)}")


def dense_forward(x, W, b):
    """Fully connected layer ``Y = X W^T + b``.

    Parameters
    ----------
    x : ndarray, shape (N, D)
    W : ndarray, shape (F, D)
    b : ndarray, shape (F,)

    Returns
    -------
    Y : ndarray, shape (N, F)
    cache : DenseCache

    Examples
    --------
    >>> Y, _ = dense_forward(np.ones((1, 2)), np.array([[1.0, 2.0]]), np.array([0.5]))
    >>> Y
    array([[3.5]])
    """
    check_dense(x, W, b)
    return x @ W.T + b, DenseCache(x, W)


def dense_backward(dY, cache):
    """Gradients ``(dx (N, D), dW (F, D), db (F,))`` of :func:`dense_forward` from ``dY`` (N, F)."""
    x, W = cache
    check_array(dY, "dY", (x.shape[0], W.shape[0]))
    return dY @ W, dY.T @ x, dY.sum(axis=0)


def horq_dense_forward(x, W, b, order, *, sign_fn=SIGN_STE, ste="chain"):
    """HORQ fully connected layer ``Y = Xt Wt^T + b`` (order one: XNOR-Net).

    Parameters
    ----------
    x : ndarray, shape (N, D)
        One group per row.
    W : ndarray, shape (F, D)
        Real-valued latent weights.
    b : ndarray, shape (F,)
        Full-precision bias.
    order : int >= 1
        K, the number of planes of each input row.
    sign_fn : SignFn
        ``SIGN_STE`` or ``smooth_sign(tau)`` (for finite-difference checks).
    ste : {"chain", "identity"}
        The straight-through rule of the backward pass (:mod:`horq_ref.ste`).

    Returns
    -------
    Y : ndarray, shape (N, F)
    cache : HorqDenseCache

    Notes
    -----
    ``Y[n, f] = sum_i beta_i[n] alpha_f (H_i[n] . B_f) + b_f`` with ``B_f = sign(W_f)``.
    """
    check_dense(x, W, b)
    Xt, xcache = quantizer_forward(x, order, axis=-1, sign_fn=sign_fn, ste=ste)  # (N, D)
    Wt, wcache = weight_binarize_forward(W, sign_fn=sign_fn, ste=ste)  # (F, D)
    return Xt @ Wt.T + b, HorqDenseCache(Xt, Wt, xcache, wcache)


def horq_dense_backward(dY, cache):
    """Gradients ``(dx (N, D), dW (F, D), db (F,))`` of :func:`horq_dense_forward` from ``dY`` (N, F).

    The dense layer's backward at the quantized operands gives ``dXt = dY Wt`` and ``dWt = dY^T Xt``;
    the quantizers' straight-through backward maps them to the latent ``x`` and ``W``.
    """
    Xt, Wt, xcache, wcache = cache
    dXt, dWt, db = dense_backward(dY, DenseCache(Xt, Wt))
    return quantizer_backward(dXt, xcache), weight_binarize_backward(dWt, wcache), db


def relu_forward(x):
    """``max(x, 0)``, any shape; returns ``(out, cache)``, the cache the mask ``x > 0``."""
    return np.maximum(x, 0), x > 0


def relu_backward(dout, cache):
    """``dx = dout * 1{x > 0}`` (same shape)."""
    return dout * cache


def hardtanh_forward(x):
    """``clip(x, -1, 1)``, any shape; returns ``(out, cache)``, the cache the mask ``|x| <= 1``."""
    return np.clip(x, -1, 1), np.abs(x) <= 1


def hardtanh_backward(dout, cache):
    """``dx = dout * 1{|x| <= 1}`` (same shape)."""
    return dout * cache


def flatten_forward(x):
    """``x`` of shape (N, ...) as (N, D); returns ``(out, cache)``, the cache ``x.shape``."""
    return x.reshape(x.shape[0], -1), x.shape  # (N, D)


def flatten_backward(dout, cache):
    """``dx`` of the original shape (N, ...) from ``dout`` (N, D)."""
    return dout.reshape(cache)
