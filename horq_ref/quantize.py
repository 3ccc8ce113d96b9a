"""Binarization and residual quantization of any order (HORQ, Li et al. 2017; docs/paper.md §2).

The order-K expansion of an input group ``X`` (docs/paper.md §2)::

    R_0 = X
    for i = 1..K:   H_i = sign(R_{i-1}),   beta_i = mean |R_{i-1}|,   R_i = R_{i-1} - beta_i H_i
    X ~= X_K = sum_i beta_i H_i            and   X = X_K + R_K   exactly.

Order one is XNOR-Net's input binarization ``X ~= beta sign(X)`` with ``beta = mean|X|``.

Choices made here where the paper is silent
-------------------------------------------
* ``sign(0) = sign(-0.0) = +1`` so that every plane ``H_i`` is truly binary. Exact zeros are common
  (8-bit pixels, ReLU outputs, zero padding) and a ``sign`` returning 0 would make the planes ternary.
* A *group* is the set of entries that share one scale; ``axis`` names the axes reduced to form a
  group, exactly as in ``np.mean(x, axis, keepdims=True)``. ``axis=None`` is one group for the array.
* Floating inputs keep their dtype (float64 math for float64 input, float32 for float32; float16 is
  promoted to float32); integer and boolean inputs are promoted to float64.
* ``beta_i`` is computed as ``np.mean(np.abs(R), axis, keepdims=True)``. Only if that sum overflows
  (entries near the float maximum) is it recomputed with a per-group rescaling.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .checks import as_float_array, check_int, check_order, check_real_dtype, normalize_axis

MAX_LEVELS_ORDER = 20  # Expansion.levels lists 2**K values
__all__ = ["sign", "binary_sign", "binarize", "residual_quantize", "expand", "Expansion", "group_size",
           "mean_abs"]


def binary_sign(r):
    """The unchecked fast path of :func:`sign` for a float array: ``copysign(1, r + 0)``.

    ``-0.0 + 0.0 = +0.0`` in IEEE 754, so both zeros map to ``+1``; the result has the dtype of ``r``.
    The quantizer and the training layers call this on residuals that are already known to be finite.

    Examples
    --------
    >>> binary_sign(np.array([-2.0, -0.0, 0.0, 3.0]))
    array([-1.,  1.,  1.,  1.])
    """
    return np.copysign(np.ones((), dtype=r.dtype), r + np.zeros((), dtype=r.dtype))


def sign(x, dtype=None):
    """Binary sign with ``sign(0) = sign(-0.0) = +1``.

    Parameters
    ----------
    x : array_like
        Any shape; real numbers without NaN (``±inf`` are allowed: their sign is defined).
    dtype : dtype, optional
        Signed integer or floating output dtype. Default: the floating dtype of ``x`` (float64 for
        integer input).

    Returns
    -------
    ndarray, same shape as ``x``, entries in ``{-1, +1}``.

    Raises
    ------
    TypeError
        ``x`` is not real and numeric.
    ValueError
        ``x`` contains NaN, whose sign is undefined.

    Examples
    --------
    >>> sign([-2.0, -0.0, 0.0, 3.0])
    array([-1.,  1.,  1.,  1.])
    """
    x = np.asarray(x)
    check_real_dtype(x, "x")
    if np.issubdtype(x.dtype, np.floating):
        if np.isnan(x).any():
            raise ValueError("x must not contain NaN: its sign is undefined")
        out = binary_sign(x)
    else:
        out = np.where(x >= 0, 1.0, -1.0)
    if dtype is None:
        dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.float64
    elif np.dtype(dtype).kind not in "if":  # unsigned and bool cannot hold -1
        raise TypeError(f"dtype must be a signed integer or floating dtype, got {np.dtype(dtype)}")
    return out.astype(dtype, copy=False)


def group_size(shape, axis):
    """Number of entries ``n`` that share one scale for an array of ``shape`` reduced over ``axis``."""
    if axis is None:
        return int(np.prod(shape, dtype=np.int64))
    return int(np.prod([shape[a] for a in axis], dtype=np.int64))


def mean_abs(r, axis):
    """``mean |r|`` over ``axis`` (keepdims), immune to overflow of the intermediate sum."""
    with np.errstate(over="ignore"):  # an overflow is detected and handled just below
        beta = np.mean(np.abs(r), axis=axis, keepdims=True)
    if np.all(np.isfinite(beta)):
        return beta
    # The plain sum overflowed (entries near the float maximum): rescale each group by its max.
    scale = np.max(np.abs(r), axis=axis, keepdims=True)
    safe = np.where(scale > 0, scale, 1)
    return np.mean(np.abs(r) / safe, axis=axis, keepdims=True) * safe


@dataclass(frozen=True)
class Expansion:
    """The order-K residual expansion of ``x`` and all its intermediates.

    Attributes
    ----------
    betas : ndarray, shape (K,) + G
        ``betas[i]`` is ``beta_{i+1}``; ``G = np.mean(x, axis, keepdims=True).shape``.
    signs : ndarray of int8, shape (K,) + x.shape
        ``signs[i]`` is the binary plane ``H_{i+1}``, entries in ``{-1, +1}`` (the contract's name for
        the planes; elsewhere they are ``H`` or ``planes``).
    residuals : ndarray, shape (K + 1,) + x.shape
        ``residuals[0] = x`` and ``residuals[i] = R_i``.
    axis : tuple of int or None
        The normalized axes that form one group.
    """

    betas: np.ndarray
    signs: np.ndarray
    residuals: np.ndarray
    axis: tuple | None

    @property
    def order(self) -> int:
        """The number of binary planes K."""
        return self.betas.shape[0]

    @property
    def x(self) -> np.ndarray:
        """The quantized input, ``residuals[0]``."""
        return self.residuals[0]

    @property
    def n(self) -> int:
        """Group size: how many entries share one scale."""
        return group_size(self.x.shape, self.axis)

    def reconstruct(self, k=None):
        """``X_k = sum_{i<k} betas[i] * signs[i]``, the approximation with the first ``k`` planes.

        ``k=None`` uses all K planes; ``k=0`` gives zeros. ``reconstruct() + residuals[-1]``
        equals ``x`` up to float rounding.
        """
        k = self.order if k is None else check_int(k, "k", minimum=0, maximum=self.order)
        out = np.zeros_like(self.x)
        for i in range(k):
            out += self.betas[i] * self.signs[i]
        return out

    def levels(self):
        """The ``2^K`` values ``±beta_1 ± ... ± beta_K`` one group can take, sorted.

        Only for a single group (``axis=None`` or groups of size ``x.size``) and ``K <=
        MAX_LEVELS_ORDER`` (20): a ``K x 2^K`` sign table is built (order 30: 240 GB).
        """
        check_int(self.order, "order", minimum=1, maximum=MAX_LEVELS_ORDER)
        if self.betas[0].size != 1:
            raise ValueError("levels() needs a single group; index the expansion's betas instead")
        b = self.betas.reshape(self.order)
        pm = np.array(np.meshgrid(*[[-1.0, 1.0]] * self.order, indexing="ij"))
        return np.sort((pm.reshape(self.order, -1).T * b).sum(axis=1))


def expand(x, order, axis=None, sign_fn: Callable = binary_sign):
    """Residual expansion with a pluggable ``sign_fn``; returns float planes.

    This is the engine behind :func:`residual_quantize`. With the default ``sign_fn`` the planes are
    exactly ``±1``; with a smooth stand-in such as ``lambda r: np.tanh(r / tau)`` the whole expansion is
    differentiable, which is how its backward pass is checked by finite differences.

    Parameters
    ----------
    x : array_like, any shape
    order : int >= 1
        K, the number of planes.
    axis : None, int or tuple of int
        Axes that form one group (one scale per group).
    sign_fn : callable
        Maps a residual array to a plane of the same shape and dtype.

    Returns
    -------
    betas : ndarray, shape (K,) + G
    planes : ndarray, shape (K,) + x.shape, dtype of x
    residuals : ndarray, shape (K + 1,) + x.shape
    axis : tuple of int or None
    """
    X = as_float_array(x, "x")
    K = check_order(order)
    axis = normalize_axis(axis, X.ndim)
    if X.size == 0 or group_size(X.shape, axis) == 0:
        raise ValueError(f"x must have at least one entry per group, got shape {X.shape}")
    R = np.empty((K + 1,) + X.shape, dtype=X.dtype)  # (K+1, *x.shape)
    H = np.empty((K,) + X.shape, dtype=X.dtype)  # (K, *x.shape)
    betas = []
    R[0] = X
    for i in range(K):
        H[i] = sign_fn(R[i])
        beta = mean_abs(R[i], axis).astype(X.dtype, copy=False)  # G
        betas.append(beta)
        R[i + 1] = R[i] - beta * H[i]
    return np.stack(betas), H, R, axis


def residual_quantize(x, order, axis=None):
    """Order-K residual quantization ``X ~= sum_i beta_i sign(R_{i-1})``.

    Parameters
    ----------
    x : array_like, any shape
        Finite real input. Integer input is promoted to float64.
    order : int >= 1
        K, the number of binary planes. ``order=1`` is XNOR-Net's binarization.
    axis : None, int or tuple of int, optional
        Axes whose entries share one scale (as in NumPy reductions). ``None``: one scale for all.

    Returns
    -------
    Expansion
        ``betas`` (K,) + G, ``signs`` int8 (K,) + x.shape, ``residuals`` (K+1,) + x.shape, with
        ``G = np.mean(x, axis, keepdims=True).shape``.

    Raises
    ------
    ValueError
        NaN or inf in ``x``, empty groups, ``order < 1`` or an out-of-range / repeated ``axis``.
    TypeError
        Non-integer ``order``, non-numeric ``x`` or a malformed ``axis``.

    Notes
    -----
    With ``n`` entries per group, ``beta = ||R||_1 / n`` minimizes ``||R - beta sign(R)||^2`` and
    ``||R - beta sign(R)||^2 = ||R||^2 - n beta^2``, hence ``||R_K||^2 = ||X||^2 - n sum_i beta_i^2``.

    Examples
    --------
    >>> e = residual_quantize([1.0, 0.0, 0.0], order=2)
    >>> e.betas.ravel()          # beta_2 > beta_1: the scales need not decrease
    array([0.33333333, 0.44444444])
    >>> e.signs
    array([[ 1,  1,  1],
           [ 1, -1, -1]], dtype=int8)
    >>> np.allclose(e.reconstruct() + e.residuals[-1], [1.0, 0.0, 0.0])
    True
    """
    betas, H, R, axis = expand(x, order, axis)
    return Expansion(betas=betas, signs=H.astype(np.int8), residuals=R, axis=axis)


def binarize(x, axis=None):
    """XNOR-Net's order-one binarization: ``(beta, H)`` with ``beta = mean|x|``, ``H = sign(x)``.

    ``beta`` has shape ``np.mean(x, axis, keepdims=True).shape``; ``H`` has the shape and float dtype
    of ``x``. Equal to ``residual_quantize(x, 1, axis)``'s first scale and plane.

    Examples
    --------
    >>> beta, H = binarize([[0.5, -1.5], [2.0, 0.0]], axis=1)
    >>> beta.ravel(), H
    (array([1., 1.]), array([[ 1., -1.],
           [ 1.,  1.]]))
    """
    betas, H, _, _ = expand(x, 1, axis)  # (1,) + G, (1,) + x.shape
    return betas[0], H[0]
