"""Small helpers shared by several test files."""

import io

import numpy as np


def npz_roundtrip(state):
    """``state`` (dict of arrays) through an in-memory ``.npz`` read with ``allow_pickle=False``,
    as a checkpoint stores it."""
    buf = io.BytesIO()
    np.savez(buf, **state)
    buf.seek(0)
    with np.load(buf, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


EPS = np.finfo(np.float64).eps


def group_error_rel_tol(order, n):
    """Rounding allowance of a group error relative to ``||X||^2``: ``16 K (n + 1) eps``.

    Each error is a sum of n squares of residuals that carry ~K (n + 1) eps relative rounding from the
    scales (test_quantize.rel_tol); a wrong scale variant or coding misses by O(||X||^2 / n).
    """
    return 16 * order * (n + 1) * EPS


def group_error_tol(X, order):
    """:func:`group_error_rel_tol` in absolute terms for the groups (rows) of ``X``, shape (M, 1)."""
    return group_error_rel_tol(order, X.shape[-1]) * np.sum(X**2, axis=-1, keepdims=True) + 1e-300
