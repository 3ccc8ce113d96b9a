"""The approximation-error guarantee as executable statements (docs/paper.md §3, docs/theory.md §2-7).

For one group of ``n`` entries, ``beta = ||R||_1 / n`` and ``H = sign(R)`` give::

    ||R - beta H||^2 = ||R||^2 - 2 beta ||R||_1 + n beta^2 = ||R||^2 - n beta^2,

from which the energy identity, the per-order contraction and both bounds follow (each function
below states its formula; :func:`refined_bound` and :func:`beta_growth_bound` are derived in this
project, not in what is known of the paper). Energies are computed after dividing each group by its
largest magnitude, so the ratios are exact to rounding even for entries whose squares would overflow
or underflow. A group that is entirely zero has nothing to approximate: its ratios are defined as 0.
"""

from __future__ import annotations

import numpy as np

from ..checks import check_int
from ..quantize import Expansion

__all__ = ["relative_errors", "identity_prediction", "contraction_ratios", "worst_case_bound",
           "refined_bound", "beta_growth_bound", "effective_sparsity", "rounding_floor"]

def _group_scale(e: Expansion):
    """Largest |x| per group (shape G); 1 where the group is all zero (its ratios become 0)."""
    s = np.max(np.abs(e.x), axis=e.axis, keepdims=True)
    return np.where(s > 0, s, 1.0)


def _check_expansion(e):
    if not isinstance(e, Expansion):
        raise TypeError(f"expansion must be an Expansion from residual_quantize, got {type(e)}")


def relative_errors(expansion):
    """Measured ``||R_k||^2 / ||X||^2`` for ``k = 0..K``.

    Returns
    -------
    ndarray, shape (K + 1,) + G
        Entry 0 is 1 (0 for an all-zero group).
    """
    _check_expansion(expansion)
    s = _group_scale(expansion)
    energy = np.sum((expansion.residuals / s) ** 2, axis=_shifted(expansion.axis, expansion.x.ndim),
                    keepdims=True)  # (K+1,) + G
    x_energy = energy[0]
    return np.where(x_energy > 0, energy / np.where(x_energy > 0, x_energy, 1.0), 0.0)


def identity_prediction(expansion):
    """The energy identity's prediction ``1 - n sum_{i<=k} beta_i^2 / ||X||^2`` for ``k = 0..K``.

    From ``||R_K||^2 = ||X||^2 - n sum_{i<=K} beta_i^2``, which holds for every input.

    Returns
    -------
    ndarray, shape (K + 1,) + G
        Equal to :func:`relative_errors` up to float rounding, for every input.
    """
    _check_expansion(expansion)
    s = _group_scale(expansion)
    x_energy = np.sum((expansion.x / s) ** 2, axis=expansion.axis, keepdims=True)  # G
    removed = expansion.n * np.cumsum((expansion.betas / s) ** 2, axis=0)  # (K,) + G
    safe = np.where(x_energy > 0, x_energy, 1.0)
    pred = np.concatenate([np.ones_like(removed[:1]), 1.0 - removed / safe])
    return np.where(x_energy > 0, pred, 0.0)


def rounding_floor(expansion):
    """Largest residual magnitude that counts as zero, per group (shape G): ``4 K (n + 1) eps max|X|``.

    A residual that is zero in exact arithmetic (``n = 2`` after two orders, equal magnitudes after
    one) comes out of the float recursion as rounding noise of that size, whose norms mean nothing.
    The factor is the one of the quantizer's oracle test: each scale carries ~``n eps`` relative
    rounding, and the residuals inherit it once per order.
    """
    _check_expansion(expansion)
    eps = np.finfo(expansion.x.dtype).eps
    return 4 * expansion.order * (expansion.n + 1) * eps * np.max(
        np.abs(expansion.x), axis=expansion.axis, keepdims=True)


def _is_zero(expansion):
    """(K,) + G: is ``R_{i-1}`` zero up to :func:`rounding_floor`, for ``i = 1..K``."""
    R = expansion.residuals[:-1]
    ax = _shifted(expansion.axis, expansion.x.ndim)
    return np.max(np.abs(R), axis=ax, keepdims=True) <= rounding_floor(expansion)


def contraction_ratios(expansion):
    """Per-order ratios ``||R_i||^2 / ||R_{i-1}||^2 = 1 - ||R_{i-1}||_1^2 / (n ||R_{i-1}||_2^2)``.

    Computed from the norms of ``R_{i-1}`` alone (the right-hand side), so they do not depend on how
    ``R_i`` was rounded. A residual that is zero up to :func:`rounding_floor` has ratio 0 (e.g.
    ``x = (1.21631507, 0.39531579)``: ``R_2`` is exactly zero, in floats ``(0, 5.6e-17)``, whose ratio
    would be the meaningless 1/2); ratios are clipped to ``[0, 1 - 1/n]`` against rounding.

    Returns
    -------
    ndarray, shape (K,) + G, entries in ``[0, 1 - 1/n]``.
    """
    _check_expansion(expansion)
    R = expansion.residuals[:-1]  # (K,) + x.shape
    ax = _shifted(expansion.axis, expansion.x.ndim)
    s = np.max(np.abs(R), axis=ax, keepdims=True)
    s = np.where(s > 0, s, 1.0)
    l1 = np.sum(np.abs(R) / s, axis=ax, keepdims=True)
    l2sq = np.sum((R / s) ** 2, axis=ax, keepdims=True)
    safe = np.where(l2sq > 0, l2sq, 1.0)
    ratio = np.clip(1.0 - l1**2 / (expansion.n * safe), 0.0, 1.0 - 1.0 / expansion.n)
    return np.where(_is_zero(expansion), 0.0, ratio)


def _shifted(axis, ndim):
    """Axes of ``x`` shifted by one, for arrays with a leading order axis."""
    return tuple(range(1, ndim + 1)) if axis is None else tuple(a + 1 for a in axis)


def _check_n_order(n, order):
    check_int(n, "n", minimum=1)
    check_int(order, "order", minimum=0)


def worst_case_bound(n, order):
    """The guarantee ``(1 - 1/n)^K``: no input keeps more of its energy after K orders.

    Each order keeps at most ``1 - 1/n`` of it, as ``||R||_1 >= ||R||_2`` (reached by 1-sparse inputs).

    Examples
    --------
    >>> worst_case_bound(4, 2)
    0.5625
    """
    _check_n_order(n, order)
    return (1.0 - 1.0 / n) ** order


def refined_bound(n, order):
    """The tighter bound ``(1 - 1/n)(1 - 2/n)^(K-1)`` for ``K >= 1`` (1 for ``K = 0``).

    Derived in ``docs/theory.md`` (Theorem 3): after the first order, each residual's positive and
    negative deviations carry equal l1 mass, hence ``||R||_1^2 >= 2 ||R||_2^2``. It equals the
    worst-case bound at ``K = 1`` and is strictly below it for ``K >= 2``; it is itself not reached for
    ``n >= 3, K >= 2`` (an upper bound, not the supremum). For ``n = 2`` two orders are exact.

    Examples
    --------
    >>> refined_bound(4, 2)
    0.375
    """
    _check_n_order(n, order)
    if order == 0:
        return 1.0
    return (1.0 - 1.0 / n) * max(0.0, 1.0 - 2.0 / n) ** (order - 1)


def beta_growth_bound(n, first=True):
    """Largest possible ``beta_{i+1} / beta_i``: ``2 (1 - 1/n)`` at the first step, ``2 (1 - 2/n)`` later.

    ``beta_{i+1}`` is the mean absolute deviation of the magnitudes ``|R_{i-1}|`` around their mean
    ``beta_i``. The first factor exceeds 1 for every ``n >= 3`` and is reached by 1-sparse inputs
    (``x = (1, 0, 0)``: ``beta = 1/3``, then ``4/9``); the later one (``first=False``, for
    ``i >= 2``) exceeds 1 only for ``n >= 5``. Proofs in ``docs/theory.md``.

    Examples
    --------
    >>> round(beta_growth_bound(3), 6), round(beta_growth_bound(3, first=False), 6)
    (1.333333, 0.666667)
    """
    _check_n_order(n, 0)
    return 2.0 * (1.0 - (1.0 if first else 2.0) / n)


def effective_sparsity(expansion):
    """``rho_i = ||R_i||_1^2 / ||R_i||_2^2`` for ``i = 0..K-1``, in ``[1, n]``.

    0 for a residual that is zero up to :func:`rounding_floor` (see :func:`contraction_ratios`).

    Order ``i + 1`` keeps the fraction ``1 - rho_i / n`` of the energy (:func:`contraction_ratios`):
    ``rho = 1`` (a 1-sparse residual) is the worst case, ``rho = n`` (equal magnitudes) is exact.

    Returns
    -------
    ndarray, shape (K,) + G
    """
    _check_expansion(expansion)
    rho = expansion.n * (1.0 - contraction_ratios(expansion))
    return np.where(_is_zero(expansion), 0.0, rho)
