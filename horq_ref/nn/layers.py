"""Layers as forward/backward pairs: dense, HORQ dense, activations, flatten (docs/paper.md §1, §2, §5).

Every op comes as ``op_forward(...) -> (out, cache)`` and ``op_backward(dout, cache) -> grads``
(Stanford cs231n's layers). The cache is opaque. Ops with parameters return a tuple of gradients
in the order of the forward's array arguments (``dx, dW, db``); ops without parameters return
``dx`` alone. Convolution and pooling are in :mod:`horq_ref.nn.conv_layers`, batch norm in
:mod:`horq_ref.nn.norm`, the loss in :mod:`horq_ref.nn.losses`.

Weights are stored as ``W`` of shape ``(F, D)`` (one row per output unit, like
:func:`horq_ref.horq_linear`), so a dense layer is ``Y = X W^T + b``.

A HORQ dense layer (docs/paper.md §1-2) quantizes each sample's row ``X[n]`` (one group, ``axis=-1``)
to order K and binarizes each weight row at order one, ``Wt_f = alpha_f sign(W_f)``::

    Y = Xt Wt^T + b,   Xt[n] = sum_i beta_i[n] H_i[n].

Order one is XNOR-Net. ``backend="float"`` computes with float matrices holding the ``±1`` planes
(training); ``backend="bits"`` asks :func:`horq_ref.conv.horq_linear` for the value with XOR and
popcount (inference only: its backward raises). ``order=None`` leaves the input in float and
``binary_weights=False`` leaves the weights in float, which is how post-training quantization
(quantized inputs, float weights) reuses the same op.
"""

from __future__ import annotations

import numpy as np

from ..checks import check_choice
from ..ste import (
    SIGN_STE,
    quantizer_backward,
    quantizer_forward,
    weight_binarize_backward,
    weight_binarize_forward,
)
from ..scales import alternating
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
    "BITS_CACHE",
]

BACKENDS = ("float", "bits")
BITS_CACHE = "bits"  # the cache of a bits-backend forward: (BITS_CACHE,), no backward


def _check_dense(x, W, b):
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
    cache : opaque

    Examples
    --------
    >>> Y, _ = dense_forward(np.ones((1, 2)), np.array([[1.0, 2.0]]), np.array([0.5]))
    >>> Y
    array([[3.5]])
    """
    _check_dense(x, W, b)
    return x @ W.T + b, (x, W)


def dense_backward(dY, cache):
    """Gradients ``(dx (N, D), dW (F, D), db (F,))`` of :func:`dense_forward` from ``dY`` (N, F)."""
    x, W = cache
    return dY @ W, dY.T @ x, dY.sum(axis=0)


def check_backend(backend, order, binary_weights, sign_fn):
    """Raise ValueError naming ``backend`` unless it is known and, for "bits", usable."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if backend == "bits" and (order is None or not binary_weights or sign_fn is not SIGN_STE):
        raise ValueError(
            "backend='bits' needs an integer order, binary_weights=True and the true sign"
        )


def quantize_operands(x, W, order, axis, binary_weights, sign_fn, ste, scales="greedy"):
    """``(Xt, Wt, qcache, wcache)``: the quantized input and weights of a HORQ layer (or the floats).

    ``order=None`` keeps ``x``; ``binary_weights=False`` keeps ``W``; their caches are then None.
    ``scales="refit"`` refits the input scales by least squares (:mod:`horq_ref.nn.refit`);
    ``"alternating"`` (:func:`horq_ref.scales.alternating`) has no backward: inference only.
    """
    scales = check_choice(scales, "scales", ("greedy", "refit", "alternating"))
    if scales == "refit" and order is not None:
        Xt, qcache = refit_quantizer_forward(x, order, axis, sign_fn=sign_fn)
    elif scales == "alternating" and order is not None:  # inference only (post-training)
        Xt, qcache = alternating(x, order, axis).reconstruct(), ("alternating",)
    else:
        Xt, qcache = (x, None) if order is None else quantizer_forward(
            x, order, axis, sign_fn=sign_fn, ste=ste
        )
    Wt, wcache = (W, None) if not binary_weights else weight_binarize_forward(
        W, sign_fn=sign_fn, ste=ste
    )
    return Xt, Wt, qcache, wcache


def unquantize_grads(dXt, dWt, qcache, wcache):
    """``(dx, dW)`` from the gradients of the quantized operands (inverse of :func:`quantize_operands`)."""
    if qcache is not None and qcache[0] == "alternating":
        raise ValueError("scales='alternating' has no backward: use it for inference only")
    dx = dXt if qcache is None else (refit_quantizer_backward if qcache[0] == "refit"
                                     else quantizer_backward)(dXt, qcache)
    dW = dWt if wcache is None else weight_binarize_backward(dWt, wcache)
    return dx, dW


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
    backend : {"float", "bits"}
    binary_weights : bool
        ``Wt = alpha sign(W)`` (True) or ``Wt = W``.
    scales : {"greedy", "refit"}
        The input scales; ``"refit"`` trains with the least-squares scales and their derived backward.

    Returns
    -------
    Y : ndarray, shape (N, F)
    cache : opaque

    Notes
    -----
    ``Y[n, f] = sum_i beta_i[n] alpha_f (H_i[n] . B_f) + b_f`` with ``B_f = sign(W_f)``.
    """
    _check_dense(x, W, b)
    check_backend(backend, order, binary_weights, sign_fn)
    if backend == "bits":
        from ..conv import horq_linear  # imported here: the bit kernels are a separate module

        return horq_linear(x, W, order, backend="bits", scales=scales) + b, (BITS_CACHE,)
    Xt, Wt, qcache, wcache = quantize_operands(x, W, order, -1, binary_weights, sign_fn, ste, scales)
    return Xt @ Wt.T + b, (Xt, Wt, qcache, wcache)


def horq_dense_backward(dY, cache):
    """Gradients ``(dx (N, D), dW (F, D), db (F,))`` of :func:`horq_dense_forward` from ``dY`` (N, F)."""
    if cache[0] is BITS_CACHE:
        raise ValueError("backend='bits' is inference only; train with backend='float'")
    Xt, Wt, qcache, wcache = cache
    dx, dW = unquantize_grads(dY @ Wt, dY.T @ Xt, qcache, wcache)
    return dx, dW, dY.sum(axis=0)


def relu_forward(x):
    """``max(x, 0)``, any shape; returns ``(out, cache)``."""
    return np.maximum(x, 0), x > 0


def relu_backward(dout, cache):
    """``dx = dout * 1{x > 0}`` (same shape)."""
    return dout * cache


def hardtanh_forward(x):
    """``clip(x, -1, 1)``, any shape; returns ``(out, cache)``."""
    return np.clip(x, -1, 1), np.abs(x) <= 1


def hardtanh_backward(dout, cache):
    """``dx = dout * 1{|x| <= 1}`` (same shape)."""
    return dout * cache


def flatten_forward(x):
    """``x`` of shape (N, ...) as (N, D); returns ``(out, cache)``."""
    return x.reshape(x.shape[0], -1), x.shape  # (N, D)


def flatten_backward(dout, cache):
    """``dx`` of the original shape (N, ...) from ``dout`` (N, D)."""
    return dout.reshape(cache)
