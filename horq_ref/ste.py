"""Backward pass of the residual quantizer and of the weight binarizer (docs/paper.md §5).

The paper does not print its backward rule, so this module implements two straight-through
estimators (STE) and makes the sign function pluggable so that each can be checked.

Forward (docs/paper.md §2), for one group of ``n`` entries and ``i = 1..K``::

    H_i = s(R_{i-1}),   beta_i = mean |R_{i-1}|,   R_i = R_{i-1} - beta_i H_i,   R_0 = X
    Xt = sum_i beta_i H_i = X - R_K

``s`` is ``sign`` in the real network. In the backward pass ``s'`` is replaced by the window
``1{|r| <= 1}`` (``SIGN_STE``); with ``smooth_sign(tau)`` (``tanh(r / tau)`` and its true derivative)
the same code is the exact derivative of a smooth function, which finite differences can check.

Variant ``"chain"`` (the default): the exact chain rule through every ``R_i``, ``H_i`` and ``beta_i``.
Write ``G = dL/dXt``. Because ``Xt = X - R_K``, ``dL/dX = G - u_0`` where ``-u_i = dL/dR_i`` is the
gradient reaching residual ``i`` through ``R_K`` alone; ``u_K = G``. One step ``R_i = R_{i-1} - q_i``
with ``q_i = beta_i H_i`` has the vector-Jacobian product (``d|r|/dr = sign(r)``, so
``d beta_i / d R_{i-1} = sign(R_{i-1}) / n``)::

    c_i = J_{q_i}^T u_i = beta_i s'(R_{i-1}) * u_i  +  sign(R_{i-1}) / n * sum_group(u_i * H_i)
    u_{i-1} = u_i - c_i

and so ``dL/dX = G - u_0 = sum_i c_i``: each order contributes the gradient that flows through its
plane (first term) and through its scale (second term), evaluated on the gradient ``u_i`` that the
later orders left over. For ``K = 1`` this is ``beta s'(X) G + sign(X)/n sum(G H)``.

Weights are kept at order one, ``Wt = alpha s(W)`` with ``alpha = mean|W|`` per output unit / filter,
which is the same map with ``K = 1`` and the group = all axes but the first::

    dW_k = alpha s'(W_k) dWt_k + sign(W_k) / n * sum_j dWt_j s(W_j).

XNOR-Net prints ``dW = dWt * (1/n + alpha 1{|W| <= 1})`` (:func:`xnor_paper_weight_grad`): it keeps
only the diagonal ``j = k`` of the second term and drops the cross terms.

Variant ``"identity"``: the whole expansion is one clipped identity, ``dX = G * 1{|X| <= 1}``
(BinaryNet style); for the weights likewise ``dW = dWt * 1{|W| <= 1}``. It ignores the sign
function's derivative by design.

Choices made here where the paper is silent: ``d|r|/dr`` at ``r = 0`` is taken as ``+1`` (the
project's ``sign(0) = +1``); the identity variant's window is ``|X| <= 1`` whatever the sign function.
``SIGN_STE`` computes the planes with :func:`horq_ref.quantize.binary_sign`, the unchecked fast path
of :func:`horq_ref.quantize.sign`, because training spends its time here.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from .checks import as_float_array, check_choice, check_order, check_real
from .quantize import binary_sign, expand, group_size, sign

__all__ = ["SignFn", "QuantizerCache", "SIGN_STE", "smooth_sign", "STE_VARIANTS",
           "quantizer_forward", "quantizer_backward", "weight_binarize_forward",
           "weight_binarize_backward", "xnor_paper_weight_grad", "quantizer_jacobian"]

STE_VARIANTS = ("chain", "identity")


class SignFn(NamedTuple):
    """A sign function for the quantizer and the derivative the backward pass uses for it.

    Attributes
    ----------
    fn : callable
        ``r -> plane``, same shape and dtype as ``r``.
    deriv : callable
        ``r -> ds/dr``, an array of the shape and dtype of ``r``.
    name : str
    """

    fn: Callable
    deriv: Callable
    name: str


class QuantizerCache(NamedTuple):
    """What :func:`quantizer_backward` needs from :func:`quantizer_forward` (G: the group shape)."""

    ste: str  # "chain" or "identity"
    sign_fn: SignFn  # s of the forward pass and the derivative s' the backward uses for it
    betas: np.ndarray  # (K,) + G, the scales beta_i
    H: np.ndarray  # (K,) + x.shape, the planes H_i = s(R_{i-1})
    R: np.ndarray  # (K + 1,) + x.shape, the residuals, R[0] = x
    axis: tuple | None  # the axes of one group
    n: int  # entries per group


def _window(r):
    """The straight-through derivative of sign: ``1{|r| <= 1}`` in the dtype of ``r``."""
    return (np.abs(r) <= 1).astype(r.dtype)


SIGN_STE = SignFn(binary_sign, _window, "sign")


def smooth_sign(tau=0.5):
    """``tanh(r / tau)`` with its true derivative, a smooth stand-in for ``sign``.

    Examples
    --------
    >>> s = smooth_sign(0.5)
    >>> s.fn(np.array([0.0, 10.0])), s.deriv(np.array([0.0]))
    (array([0., 1.]), array([2.]))
    """
    tau = check_real(tau, "tau", minimum=0.0, exclusive_minimum=True)

    def fn(r):
        return np.tanh(r / tau)

    def deriv(r):
        t = np.tanh(r / tau)
        return (1 - t * t) / tau

    return SignFn(fn, deriv, f"tanh(r/{tau:g})")


def _check(ste, sign_fn):
    check_choice(ste, "ste", STE_VARIANTS)
    if not isinstance(sign_fn, SignFn):
        raise TypeError(f"sign_fn must be a SignFn such as SIGN_STE or smooth_sign(tau), got {sign_fn!r}")


def quantizer_forward(x, order, axis=-1, *, sign_fn=SIGN_STE, ste="chain"):
    """Order-K input quantizer ``Xt = sum_i beta_i H_i`` with a cache for its backward.

    Parameters
    ----------
    x : ndarray, any shape
    order : int >= 1
        K.
    axis : None, int or tuple of int
        Axes of one group (one ``beta_i`` per group). ``-1``: one group per row.
    sign_fn : SignFn
        ``SIGN_STE`` (default) or ``smooth_sign(tau)``.
    ste : {"chain", "identity"}

    Returns
    -------
    Xt : ndarray, same shape and dtype as ``x``
    cache : QuantizerCache, for :func:`quantizer_backward`

    Examples
    --------
    >>> Xt, _ = quantizer_forward(np.array([1.0, 0.0, 0.0]), 2, axis=None)
    >>> Xt
    array([ 0.77777778, -0.11111111, -0.11111111])
    """
    _check(ste, sign_fn)
    betas, H, R, ax = expand(x, order, axis, sign_fn=sign_fn.fn)  # (K,)+G, (K,)+shape, (K+1,)+shape
    Xt = betas[0] * H[0]
    for i in range(1, len(betas)):
        Xt += betas[i] * H[i]
    return Xt, QuantizerCache(ste, sign_fn, betas, H, R, ax, group_size(R[0].shape, ax))


def quantizer_backward(dXt, cache):
    """Gradient of the input quantizer: ``dX`` from ``dXt`` (same shape).

    Notes
    -----
    ``chain``: ``dX = sum_i c_i`` with ``u_K = dXt``, ``u_{i-1} = u_i - c_i`` and
    ``c_i = beta_i s'(R_{i-1}) u_i + sign(R_{i-1}) (sum_group(u_i H_i) / n)`` (module docstring).
    ``identity``: ``dX = dXt * 1{|X| <= 1}``.
    """
    ste, sign_fn, betas, H, R, axis, n = cache
    if np.shape(dXt) != R[0].shape:
        raise ValueError(f"dXt must have the input's shape {R[0].shape}, got {np.shape(dXt)}")
    if ste == "identity":
        return dXt * _window(R[0])
    u, dX = dXt, np.zeros_like(dXt)
    for i in reversed(range(len(betas))):  # i = K-1 .. 0 is order K .. 1; R[i] is R_{i-1} of the text
        through_beta = np.sum(u * H[i], axis=axis, keepdims=True) / n  # G
        c = sign_fn.deriv(R[i]) * betas[i] * u + binary_sign(R[i]) * through_beta  # c_i
        u, dX = u - c, dX + c
    return dX


def _weight_axis(W):
    if W.ndim < 2:
        raise ValueError(f"W must have an output axis and at least one more, got shape {W.shape}")
    return tuple(range(1, W.ndim))


def weight_binarize_forward(W, *, sign_fn=SIGN_STE, ste="chain"):
    """XNOR-Net weights ``Wt = alpha_f s(W_f)``, ``alpha_f = mean|W_f|``, one scale per output unit.

    Parameters
    ----------
    W : ndarray, shape (F, D) or (F, C, kh, kw)

    Returns
    -------
    Wt : ndarray, same shape as ``W``
    cache : QuantizerCache (order one), for :func:`weight_binarize_backward`

    Examples
    --------
    >>> Wt, _ = weight_binarize_forward(np.array([[0.5, -1.5], [2.0, 0.0]]))
    >>> Wt
    array([[ 1., -1.],
           [ 1.,  1.]])
    """
    W = as_float_array(W, "W")
    return quantizer_forward(W, 1, _weight_axis(W), sign_fn=sign_fn, ste=ste)


def weight_binarize_backward(dWt, cache):
    """``dW`` from ``dWt`` (same shape): ``alpha s'(W) dWt + sign(W)/n sum_j dWt_j s(W_j)``."""
    return quantizer_backward(dWt, cache)


def xnor_paper_weight_grad(dWt, W):
    """XNOR-Net's printed weight gradient ``dWt * (1/n + alpha 1{|W| <= 1})``.

    It keeps only the diagonal of ``sign(W)/n sum_j dWt_j sign(W_j)`` (the ``j = k`` term is
    ``dWt_k / n``); compare with :func:`weight_binarize_backward` to see the cross terms it drops.

    Parameters
    ----------
    dWt, W : ndarray, shape (F, D) or (F, C, kh, kw)

    Returns
    -------
    dW : ndarray, same shape
    """
    W = as_float_array(W, "W")
    if np.shape(dWt) != W.shape:
        raise ValueError(f"dWt has shape {np.shape(dWt)} but W has shape {W.shape}")
    axis = _weight_axis(W)
    alpha = np.mean(np.abs(W), axis=axis, keepdims=True)  # (F, 1, ...)
    return dWt * (1.0 / group_size(W.shape, axis) + alpha * _window(W))


def quantizer_jacobian(x, order, *, sign_fn=SIGN_STE, ste="chain"):
    """The full Jacobian ``dXt/dX`` of one group, by forward-mode differentiation (a slow oracle).

    Parameters
    ----------
    x : ndarray, shape (n,)
        One group.
    order : int >= 1

    Returns
    -------
    J : ndarray, shape (n, n), ``J[j, k] = dXt_j / dX_k`` under the chosen STE.

    Notes
    -----
    Tangents are pushed forward: ``dH_i = s'(R_{i-1}) dR_{i-1}``,
    ``dbeta_i = sign(R_{i-1})^T dR_{i-1} / n``, ``dR_i = dR_{i-1} - beta_i dH_i - H_i dbeta_i``.
    ``quantizer_backward`` must equal ``J.T @ dXt``.
    """
    _check(ste, sign_fn)
    order = check_order(order)
    x = as_float_array(x, "x")
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"x must be one non-empty group of shape (n,), got {x.shape}")
    if ste == "identity":
        return np.diag(_window(x))
    n = x.size
    R, dR, J = x, np.eye(n), np.zeros((n, n))  # dR[j, k] = dR_j / dX_k
    for _ in range(order):
        H, beta = sign_fn.fn(R), np.mean(np.abs(R))
        dH = sign_fn.deriv(R)[:, None] * dR  # (n, n)
        dbeta = sign(R) @ dR / n  # (n,)
        dq = beta * dH + np.outer(H, dbeta)  # d(beta_i H_i), (n, n)
        J, dR, R = J + dq, dR - dq, R - beta * H
    return J
