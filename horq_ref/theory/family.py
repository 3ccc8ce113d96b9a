"""Where greedy stands in the scale family (docs/theory.md §11-12): the least-squares optimality and
nearest-level conditions with their witnesses, sharpness of the growth bound, the levels greedy uses
and exact rational expansions.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from ..checks import check_int, check_real
from ..quantize import Expansion
from ..scales import RCOND, sign_patterns, to_groups

__all__ = ["normal_equation_residual", "refit_gain", "nearest_level_condition", "successive_code",
           "nearest_level", "miscoded_value", "levels_used", "growth_attaining_input",
           "exact_expansion"]


def _gram(e: Expansion):
    """Planes of every group as (M, K, n) and the Gram matrices (M, K, K)."""
    if not isinstance(e, Expansion):
        raise TypeError(f"expansion must be an Expansion, got {type(e)}")
    Hg = to_groups(e.signs.astype(np.float64), e.axis, lead=1).transpose(1, 0, 2)  # (M, K, n)
    return Hg, np.einsum("mkn,mln->mkl", Hg, Hg)


def normal_equation_residual(e):
    """``c_j = sum_{i>j} beta_i <H_j, H_i>`` for ``j = 1..K`` and every group: (K,) + G.

    ``c = G beta - H^T X`` is how far greedy's scales are from the normal equations of their planes:
    they are least-squares optimal for them iff ``c = 0``.
    At K = 2 only ``c_1 = beta_2 <H_1, H_2>`` remains: zero iff ``beta_2 = 0`` or ``<H_1, H_2> = 0``.
    """
    _, gram = _gram(e)
    b = e.betas.reshape(e.order, -1).T  # (M, K)
    c = np.einsum("mkl,ml->mk", np.triu(gram, 1), b)  # only i > j
    return c.T.reshape(e.betas.shape)


def refit_gain(e):
    """``||R_K^greedy||^2 - ||R_K^refit||^2 = c^T G^+ c`` per group (shape G), from the planes alone."""
    _, gram = _gram(e)
    c = normal_equation_residual(e).reshape(e.order, -1).T  # (M, K)
    gain = np.einsum("mk,mkl,ml->m", c, np.linalg.pinv(gram, rcond=RCOND, hermitian=True), c)
    return gain.reshape(e.betas.shape[1:])


def nearest_level_condition(betas):
    """``beta_i >= sum_{j>i} beta_j`` for every ``i``: bool, shape ``betas.shape[1:]``.

    Under it successive sign coding sends every real to its nearest level ``sum_i ±beta_i``; when the
    ``2^K`` levels are distinct it is also necessary (:func:`miscoded_value` gives a witness).
    """
    b = np.asarray(betas, dtype=np.float64)
    tails = np.flip(np.cumsum(np.flip(b, 0), 0), 0)  # sum_{j>=i}
    return np.all(b[:-1] >= tails[1:], axis=0) if b.shape[0] > 1 else np.ones(b.shape[1:], bool)


def successive_code(t, betas):
    """The level greedy's successive sign coding gives each real in ``t`` (``betas`` of shape (K,))."""
    r = np.asarray(t, dtype=np.float64)
    level = np.zeros_like(r)
    for b in np.asarray(betas, dtype=np.float64):
        h = np.where(r >= 0, 1.0, -1.0)
        level, r = level + b * h, r - b * h
    return level


def nearest_level(t, betas):
    """The nearest of the ``2^K`` levels ``sum_i ±beta_i`` to each real in ``t``."""
    b = np.asarray(betas, dtype=np.float64)
    levels = b @ sign_patterns(b.size).T  # (2^K,)
    t = np.asarray(t, dtype=np.float64)
    return levels[np.argmin(np.abs(t[..., None] - levels), axis=-1)]


def miscoded_value(betas):
    """A real ``t`` that successive coding does not send to its nearest level, or None.

    For the last ``i`` with ``beta_i < S_i = sum_{j>i} beta_j``, the level with signs
    ``(+, ..., +, -, +, ..., +)`` (minus at ``i``) is ``t = sum_{j<i} beta_j + S_i - beta_i``; coding it
    picks ``h_i = +1``, so it lands on another level. When the levels are distinct (docs/theory.md
    §11) that level is farther than ``t`` itself, which is a level at distance 0.
    """
    b = np.asarray(betas, dtype=np.float64).ravel()
    for i in reversed(range(b.size - 1)):
        tail = b[i + 1:].sum()
        if b[i] < tail:
            return float(b[:i].sum() + tail - b[i])
    return None


def levels_used(e):
    """How many distinct levels the expansion of a single group actually uses (int)."""
    if e.betas[0].size != 1:
        raise ValueError("levels_used needs a single group")
    return len(np.unique(e.signs.reshape(e.order, -1).T, axis=0))


def growth_attaining_input(n, b=1.0, c=1.0):
    """``x = (b + c, b - c, b, ..., b)``, ``0 < c <= b``: ``beta_3 / beta_2 = 2 (1 - 2/n)`` exactly.

    Examples
    --------
    >>> growth_attaining_input(5)
    array([2., 0., 1., 1., 1.])
    """
    n = check_int(n, "n", 3)
    b = check_real(b, "b", 0, exclusive_minimum=True)
    c = check_real(c, "c", 0, b, exclusive_minimum=True)
    return np.array([b + c, b - c] + [b] * (n - 2))


def exact_expansion(x, order):
    """The order-K expansion of one group in exact rational arithmetic: ``(betas, residuals)``.

    ``x`` holds integers or fractions; ``residuals[i]`` is a list of ``Fraction``. The oracle for
    statements about exact zeros, which floats can only approximate.
    """
    r = [Fraction(v) for v in np.asarray(x).ravel().tolist()]
    betas, residuals = [], [r]
    for _ in range(check_int(order, "order", 1)):
        beta = sum(abs(v) for v in r) / len(r)
        r = [v - beta if v >= 0 else v + beta for v in r]
        betas.append(beta)
        residuals.append(r)
    return betas, residuals
