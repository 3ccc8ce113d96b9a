"""The input quantizer with least-squares scales, forward and backward (docs/theory.md §13).

Forward, per group: the greedy recursion builds the planes ``H_i = s(R_{i-1})`` (its own scales
``b_i = mean|R_{i-1}|`` only serve to form the residuals), then the scales are refit,
``beta = G^+ H X`` with ``G = H H^T``, and ``Xt = H^T beta = P X``, the projection of ``X`` on the span
of the planes. Backward, with ``g = dL/dXt``, ``gamma = G^+ H g`` and the refit residual
``r = X - Xt``::

    dL/dX |_H = P g = H^T gamma,        dL/dH_i = beta_i (g - H^T gamma) + gamma_i r,

and ``dL/dH_i`` is carried back through the greedy recursion (:func:`recursion_backward`) with the
straight-through (or smooth) derivative of ``s``. With the refit switched off (``Xt = sum_i b_i H_i``)
the same reverse pass gives exactly the chain STE of :mod:`horq_ref.ste`.
"""

from __future__ import annotations

import numpy as np

from ..quantize import binary_sign, expand, group_size
from ..scales import _to_groups, gram_solve
from ..ste import SIGN_STE

__all__ = ["refit_quantizer_forward", "refit_quantizer_backward", "recursion_backward"]


def _gsum(a, axis):
    return np.sum(a, axis=axis, keepdims=True)


def _solve(H, v, axis):
    """``G^+ H v`` per group: (K,) + G, for planes (K,) + shape and ``v`` of x's shape."""
    Hg, _ = _to_groups(H, axis, lead=1)  # (K, M, n)
    vg, _ = _to_groups(v, axis)  # (M, n)
    Hm = Hg.transpose(1, 0, 2)  # (M, K, n)
    sol = gram_solve(Hm @ Hm.transpose(0, 2, 1), Hm @ vg[:, :, None])[:, :, 0]  # (M, K)
    gshape = np.mean(v, axis=axis, keepdims=True).shape
    return sol.T.reshape((H.shape[0],) + gshape).astype(v.dtype, copy=False)


def refit_quantizer_forward(x, order, axis=-1, *, sign_fn=SIGN_STE, refit=True):
    """``Xt = H^T G^+ H X`` (``refit=False``: greedy's ``sum_i b_i H_i``) and a cache for the backward.

    Parameters
    ----------
    x : ndarray, any shape; order : int >= 1; axis : axes of one group
    sign_fn : SignFn
        ``SIGN_STE`` (true sign, window derivative) or ``smooth_sign(tau)``.
    refit : bool

    Returns
    -------
    Xt : ndarray, shape of ``x``;  cache : opaque
    """
    b, H, R, ax = expand(x, order, axis, sign_fn=sign_fn.fn)  # (K,)+G, (K,)+shape, (K+1,)+shape
    beta = _solve(H, R[0], ax) if refit else b
    Xt = np.sum(beta * H, axis=0)
    return Xt, ("refit" if refit else "greedy", b, beta, H, R, ax, sign_fn)


def recursion_backward(dH, dB, cache_parts):
    """Reverse pass of the greedy recursion: ``dL/dX`` from ``dL/dH_i`` and ``dL/db_i``.

    ``R_i = R_{i-1} - b_i H_i``, ``H_i = s(R_{i-1})``, ``b_i = mean|R_{i-1}|``; the adjoint
    ``a_i = dL/dR_i`` starts at 0 (``R_K`` is not used) and
    ``a_{i-1} = a_i + s'(R_{i-1}) (dH_i - b_i a_i) + sign(R_{i-1}) / n (dB_i - sum_group a_i H_i)``.
    """
    b, H, R, ax, sign_fn = cache_parts
    n = group_size(R[0].shape, ax)
    a = np.zeros_like(R[0])
    for i in reversed(range(H.shape[0])):
        dbeta = dB[i] - _gsum(a * H[i], ax)
        a = a + sign_fn.deriv(R[i]) * (dH[i] - b[i] * a) + binary_sign(R[i]) * dbeta / n
    return a


def refit_quantizer_backward(dXt, cache):
    """``dL/dX`` for :func:`refit_quantizer_forward` (module docstring for the formulas)."""
    kind, b, beta, H, R, ax, sign_fn = cache
    if kind == "greedy":  # Xt = sum b_i H_i: dH_i = b_i g, db_i = sum_group g H_i
        dH = b * dXt
        dB = np.stack([_gsum(dXt * H[i], ax) for i in range(H.shape[0])])
        return recursion_backward(dH, dB, (b, H, R, ax, sign_fn))
    gamma = _solve(H, dXt, ax)  # (K,) + G
    proj = np.sum(gamma * H, axis=0)  # P g
    r = R[0] - np.sum(beta * H, axis=0)  # X - Xt
    dH = beta * (dXt - proj) + gamma * r
    return proj + recursion_backward(dH, np.zeros_like(b), (b, H, R, ax, sign_fn))
