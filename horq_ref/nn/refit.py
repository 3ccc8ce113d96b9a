"""The input quantizer with least-squares scales, forward and backward (derived in docs/theory.md §13).

Forward, per group: the greedy recursion builds the planes ``H_i = s(R_{i-1})`` (its own scales
``b_i = mean|R_{i-1}|`` only serve to form the residuals), then the scales are refit,
``beta = G^+ H X`` with ``G = H H^T`` (:func:`horq_ref.scales.least_squares_scales`), and
``Xt = H^T beta = P X``, the projection of ``X`` on the span of the planes. The backward carries
``dL/dH_i`` back through the greedy recursion with the straight-through (or smooth) derivative of
``s``; with the refit switched off it gives exactly the chain STE of :mod:`horq_ref.ste`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..quantize import binary_sign, expand, group_size
from ..scales import least_squares_scales
from ..ste import SIGN_STE, SignFn

__all__ = ["RefitCache", "refit_quantizer_forward", "refit_quantizer_backward", "recursion_backward"]


class RefitCache(NamedTuple):
    """What :func:`refit_quantizer_backward` needs (G: the group shape)."""

    b: np.ndarray  # (K,) + G, the greedy scales that formed the residuals
    beta: np.ndarray  # (K,) + G, the scales of Xt (refit, or b itself when the refit is off)
    H: np.ndarray  # (K,) + x.shape, the planes
    R: np.ndarray  # (K + 1,) + x.shape, the greedy residuals, R[0] = x
    axis: tuple | None
    sign_fn: SignFn
    refit: bool


def _gsum(a, axis):
    return np.sum(a, axis=axis, keepdims=True)


def refit_quantizer_forward(x, order, axis=-1, *, sign_fn=SIGN_STE, refit=True):
    """``Xt = H^T G^+ H X`` (``refit=False``: greedy's ``sum_i b_i H_i``) and a cache for the backward.

    Parameters
    ----------
    x : ndarray, any shape
    order : int >= 1
    axis : None, int or tuple of int
        The axes of one group.
    sign_fn : SignFn
        ``SIGN_STE`` (true sign, window derivative) or ``smooth_sign(tau)``.
    refit : bool

    Returns
    -------
    Xt : ndarray, shape of ``x``
    cache : RefitCache
    """
    b, H, R, ax = expand(x, order, axis, sign_fn=sign_fn.fn)  # (K,)+G, (K,)+shape, (K+1,)+shape
    beta = least_squares_scales(H, R[0], ax) if refit else b
    Xt = np.sum(beta * H, axis=0)
    return Xt, RefitCache(b, beta, H, R, ax, sign_fn, refit)


def recursion_backward(dH, dB, cache):
    """Reverse pass of the greedy recursion: ``dL/dX`` from ``dL/dH_i`` and ``dL/db_i``.

    ``R_i = R_{i-1} - b_i H_i``, ``H_i = s(R_{i-1})``, ``b_i = mean|R_{i-1}|``; the adjoint
    ``a_i = dL/dR_i`` starts at 0 (``R_K`` is not used) and
    ``a_{i-1} = a_i + s'(R_{i-1}) (dH_i - b_i a_i) + sign(R_{i-1}) / n (dB_i - sum_group a_i H_i)``.
    """
    b, H, R, ax, sign_fn = cache.b, cache.H, cache.R, cache.axis, cache.sign_fn
    n = group_size(R[0].shape, ax)
    a = np.zeros_like(R[0])
    for i in reversed(range(H.shape[0])):
        dbeta = dB[i] - _gsum(a * H[i], ax)
        a = a + sign_fn.deriv(R[i]) * (dH[i] - b[i] * a) + binary_sign(R[i]) * dbeta / n
    return a


def refit_quantizer_backward(dXt, cache):
    """``dL/dX`` for :func:`refit_quantizer_forward` from ``g = dL/dXt``.

    With ``gamma = G^+ H g`` and the refit residual ``r = X - Xt``: ``dL/dX |_H = P g = H^T gamma``
    and ``dL/dH_i = beta_i (g - H^T gamma) + gamma_i r``, then :func:`recursion_backward`.
    """
    b, beta, H, R, ax = cache.b, cache.beta, cache.H, cache.R, cache.axis
    if not cache.refit:  # Xt = sum b_i H_i: dH_i = b_i g, db_i = sum_group g H_i
        dB = np.stack([_gsum(dXt * H[i], ax) for i in range(H.shape[0])])
        return recursion_backward(b * dXt, dB, cache)
    gamma = least_squares_scales(H, dXt, ax)  # (K,) + G
    proj = np.sum(gamma * H, axis=0)  # P g
    r = R[0] - np.sum(beta * H, axis=0)  # X - Xt
    dH = beta * (dXt - proj) + gamma * r
    return proj + recursion_backward(dH, np.zeros_like(b), cache)
