"""Layers as forward/backward pairs: dense, HORQ dense, activations, flatten (docs/paper.md §1, §2, §5).

Every op comes as ``op_forward(...) -> (out, cache)`` and ``op_backward(dout, cache) -> grads``
(Stanford cs231n's layers); a cache is a named tuple of what the backward needs (or, for the
activations, one mask). Ops with parameters return a tuple of gradients in the order of the
forward's array arguments (``dx, dW, db``); ops without parameters return ``dx`` alone. Convolution and pooling are in :mod:`horq_ref.nn.conv_layers`, batch norm in
:mod:`horq_ref.nn.norm`, the loss in :mod:`horq_ref.nn.losses`.

Weights are stored as ``W`` of shape ``(F, D)`` (one row per output unit, like
:func:`horq_ref.horq_linear`), so a dense layer is ``Y = X W^T + b``.

A HORQ dense layer (docs/paper.md §1-2) quantizes each sample's row ``X[n]`` (one group, ``axis=-1``)
to order K and binarizes each weight row at order one, ``Wt_f = alpha_f sign(W_f)``::

    Y = Xt Wt^T + b,   Xt[n] = sum_i beta_i[n] H_i[n].

Order one is XNOR-Net. ``backend="float"`` computes with float matrices holding the ``±1`` planes
(training, BLAS); ``backend="bits"`` or ``"bits-fast"`` asks :func:`horq_ref.conv.horq_linear` for
the value with XOR and popcount, and its backward computes ``dY Wt`` and ``dY^T Xt`` on the binary
operands with additions only (:mod:`horq_ref.binary_backward`, docs/paper.md §5). ``order=None``
leaves the input in float and
``binary_weights=False`` leaves the weights in float, which is how post-training quantization
(quantized inputs, float weights) reuses the same op.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .. import conv
from ..checks import check_choice
from ..conv import BACKENDS, HorqOperands, horq_linear
from ..scales import SCALES, alternating
from ..ste import SIGN_STE, QuantizerCache
from .refit import refit_quantizer_backward, refit_quantizer_forward

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
    "check_backend",
    "quantize_operands",
    "unquantize_grads",
    "BACKENDS",
    "BINARY_BACKENDS",
    "binary_grads",
    "DenseCache",
    "HorqDenseCache",
    "BinaryDenseCache",
]

BINARY_BACKENDS = tuple(b for b in BACKENDS if b != "float")  # backward on binary operands


class DenseCache(NamedTuple):
    """What :func:`dense_backward` needs: the input ``x`` (N, D) and the weights ``W`` (F, D)."""

    x: np.ndarray
    W: np.ndarray


class HorqDenseCache(NamedTuple):
    """What :func:`horq_dense_backward` needs: the quantized operands and their caches."""

    ops: HorqOperands


class BinaryDenseCache(NamedTuple):
    """What :func:`horq_dense_backward` needs on a bit backend: the float operands and the options
    (the binary planes and signs are rebuilt from them; the forward keeps nothing more)."""

    x: np.ndarray  # (N, D)
    W: np.ndarray  # (F, D)
    order: int
    sign_fn: object
    ste: str
    scales: str


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


def _check_dense(x, W, b):
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
    _check_dense(x, W, b)
    return x @ W.T + b, DenseCache(x, W)


def dense_backward(dY, cache):
    """Gradients ``(dx (N, D), dW (F, D), db (F,))`` of :func:`dense_forward` from ``dY`` (N, F)."""
    x, W = cache
    check_array(dY, "dY", (x.shape[0], W.shape[0]))
    return dY @ W, dY.T @ x, dY.sum(axis=0)


def check_backend(backend, order, binary_weights, sign_fn):
    """Raise ValueError naming ``backend`` unless it is known and, for a bit backend, usable."""
    check_choice(backend, "backend", BACKENDS)
    binary_planes = sign_fn.fn is SIGN_STE.fn  # the true sign; its backward derivative may vary
    if backend in BINARY_BACKENDS and (order is None or not binary_weights or not binary_planes):
        raise ValueError(
            f"backend={backend!r} needs an integer order, binary_weights=True and the true sign"
        )


def quantize_operands(x, W, order, axis=-1, *, sign_fn=SIGN_STE, ste="chain", binary_weights=True,
                      scales="greedy"):
    """:func:`horq_ref.conv.quantize_operands` with a choice of input scales (:mod:`horq_ref.scales`).

    ``"greedy"`` is HORQ; ``"refit"`` refits the input scales by least squares and backpropagates
    through the refit (:mod:`horq_ref.nn.refit`); ``"alternating"`` has no backward (inference only).
    """
    check_choice(scales, "scales", SCALES)
    greedy = scales == "greedy" or order is None
    ops = conv.quantize_operands(x, W, order if greedy else None, axis, sign_fn=sign_fn, ste=ste,
                                 binary_weights=binary_weights)
    if greedy:
        return ops
    if scales == "refit":
        Xt, qcache = refit_quantizer_forward(x, order, axis, sign_fn=sign_fn)
    else:  # post-training quantization only
        Xt, qcache = alternating(x, order, axis).reconstruct().astype(x.dtype), ("alternating",)
    return ops._replace(Xt=Xt, qcache=qcache)


def unquantize_grads(dXt, dWt, ops):
    """``(dx, dW)`` from the gradients of the operands of :func:`quantize_operands` (any scales)."""
    q = ops.qcache
    if q is None or isinstance(q, QuantizerCache):  # float input or greedy HORQ
        return conv.unquantize_grads(dXt, dWt, ops)
    if q[0] == "alternating":
        raise ValueError("scales='alternating' has no backward: use it for inference only")
    return refit_quantizer_backward(dXt, q), conv.unquantize_grads(dXt, dWt, ops._replace(qcache=None))[1]


def binary_grads(dY, x, W, order, sign_fn, ste, scales="greedy"):
    """``(dx (M, D), dW (F, D))`` of a HORQ layer on rows ``x`` (M, D), ``W`` (F, D), ``dY`` (M, F).

    The products ``dY Wt`` and ``dY^T Xt`` run on binary operands with additions only
    (:func:`horq_ref.binary_backward.binary_backward`); the quantizers' straight-through backward
    stays float. The forward keeps only ``x`` and ``W``; the planes and scales come from the
    quantizers run again here, whose caches the straight-through backward needs anyway.
    """
    from ..binary_backward import binary_backward, operands_from_planes

    if scales != "greedy":
        raise ValueError(f"the bit backends train with greedy scales only, got scales={scales!r}; "
                         "train with backend='float'")
    ops = quantize_operands(x, W, order, -1, sign_fn=sign_fn, ste=ste, binary_weights=True)
    q, w = ops.qcache, ops.wcache  # planes (K, M, D), scales (K, M, 1); (1, F, D), (1, F, 1)
    dXt, dWt = binary_backward(dY, operands_from_planes(q.H, q.betas[..., 0], w.H[0],
                                                        w.betas[0, :, 0]))
    return unquantize_grads(dXt, dWt, ops)


def horq_dense_forward(
    x, W, b, order, *, sign_fn=SIGN_STE, ste="chain", backend="float", binary_weights=True,
    scales="greedy",
):
    """HORQ fully connected layer ``Y = Xt Wt^T + b`` (order one: XNOR-Net).

    Parameters
    ----------
    x : ndarray, shape (N, D)
        One group per row.
    W : ndarray, shape (F, D)
        Real-valued latent weights.
    b : ndarray, shape (F,)
        Full-precision bias.
    order : int >= 1 or None
        K for the input; None keeps the input in float.
    sign_fn : SignFn
        ``SIGN_STE`` or ``smooth_sign(tau)`` (for finite-difference checks).
    ste : {"chain", "identity"}
    backend : {"float", "bits", "bits-fast"}
    binary_weights : bool
        ``Wt = alpha sign(W)`` (True) or ``Wt = W``.
    scales : {"greedy", "refit", "alternating"}
        The input scales (:func:`quantize_operands`).

    Returns
    -------
    Y : ndarray, shape (N, F)
    cache : HorqDenseCache (BinaryDenseCache for a bit backend)

    Notes
    -----
    ``Y[n, f] = sum_i beta_i[n] alpha_f (H_i[n] . B_f) + b_f`` with ``B_f = sign(W_f)``.
    """
    _check_dense(x, W, b)
    check_backend(backend, order, binary_weights, sign_fn)
    if backend in BINARY_BACKENDS:
        Y = horq_linear(x, W, order, backend=backend, scales=scales) + b
        return Y, BinaryDenseCache(x, W, order, sign_fn, ste, scales)
    ops = quantize_operands(x, W, order, -1, sign_fn=sign_fn, ste=ste, binary_weights=binary_weights,
                            scales=scales)
    return ops.Xt @ ops.Wt.T + b, HorqDenseCache(ops)


def horq_dense_backward(dY, cache):
    """Gradients ``(dx (N, D), dW (F, D), db (F,))`` of :func:`horq_dense_forward` from ``dY`` (N, F)."""
    if isinstance(cache, BinaryDenseCache):  # products on binary operands, additions only
        check_array(dY, "dY", (cache.x.shape[0], cache.W.shape[0]))
        return binary_grads(dY, *cache) + (dY.sum(axis=0),)
    ops = cache.ops
    check_array(dY, "dY", (ops.Xt.shape[0], ops.Wt.shape[0]))
    dx, dW = unquantize_grads(dY @ ops.Wt, dY.T @ ops.Xt, ops)
    return dx, dW, dY.sum(axis=0)


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
