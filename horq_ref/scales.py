"""The scale family of multi-bit binarization: greedy (HORQ), least-squares refit, alternating, optimal.

All four approximate one group ``X`` of ``n`` entries by ``2^K`` levels (docs/theory.md §11)::

    greedy       H_i = sign(R_{i-1}), beta_i = mean|R_{i-1}|        (HORQ, :mod:`horq_ref.quantize`)
    refit        the greedy planes H_1..H_K; all K scales refit by least squares, G beta = H^T X
    alternating  from refit, repeat: (a) code every entry to the nearest level sum_i ±beta_i,
                 (b) refit the scales -- until the error of the group stops falling
    optimal      the best 2^K arbitrary levels (1-D k-means, Lloyd-Max): a floor for every variant
                 (:func:`optimal_levels` for a group; ``horq_ref.theory.lloyd_max`` for a law)

``G = [<H_i, H_j>]`` is the K x K Gram matrix of the planes of one group. Every variant returns an
:class:`~horq_ref.quantize.Expansion` with the same contract: ``signs`` are ±1 int8 planes, ``betas``
their scales and ``residuals[i] = X - sum_{j<=i} beta_j H_j``, so ``reconstruct()`` works unchanged.
Only greedy's scales are non-negative; a refit scale may be negative or zero. Linearly dependent
planes (e.g. ``H_2 = -H_1``, ``G`` singular) get the *minimum-norm* scales ``beta = G^+ H^T X``
(:func:`gram_solve`); the planes keep their shape.
"""

from __future__ import annotations

import itertools

import numpy as np

from .checks import as_float_array, check_choice, check_int, check_order, check_real
from .quantize import Expansion, expand, group_size, normalize_axis, residual_quantize

__all__ = ["SCALES", "RCOND", "MAX_ORDER", "to_groups", "from_groups", "gram_solve",
           "least_squares_scales", "refit", "sign_patterns", "nearest_planes", "alternating_step",
           "alternating", "quantize_with", "group_errors", "optimal_levels", "optimal_errors"]

SCALES = ("greedy", "refit", "alternating")
#: Relative eigenvalue threshold of the Gram solve: 1e-10 is far above the ~K * eps rounding of an
#: integer Gram matrix and far below the smallest non-zero eigenvalue of the planes met in practice.
RCOND = 1e-10
#: Largest order for variants that enumerate the 2^K levels (alternating coding, optimal levels).
MAX_ORDER = 10


def to_groups(a, axis, lead=0):
    """``a`` (``lead`` extra leading axes + x.shape) as (lead..., M, n): one group per row.

    The group axes are moved last (``np.moveaxis``) and flattened into ``n``; the other axes of x
    become the rows ``M``. :func:`from_groups` is the inverse.
    """
    gax = range(a.ndim - lead) if axis is None else axis  # the group axes of x
    last = range(a.ndim - len(gax), a.ndim)
    moved = np.moveaxis(a, [lead + d for d in gax], last)  # (lead..., kept axes..., group axes...)
    n = int(np.prod(moved.shape[a.ndim - len(gax):], dtype=np.int64))
    return moved.reshape(a.shape[:lead] + (-1, n))  # (lead..., M, n)


def from_groups(b, shape, axis):
    """Inverse of :func:`to_groups`: ``b`` (lead..., M, n) back to (lead...,) + ``shape``."""
    gax = range(len(shape)) if axis is None else axis
    kept = [s for d, s in enumerate(shape) if d not in gax]
    lead = b.ndim - 2
    moved = b.reshape(b.shape[:lead] + tuple(kept) + tuple(shape[d] for d in gax))
    return np.moveaxis(moved, range(moved.ndim - len(gax), moved.ndim), [lead + d for d in gax])


def _group_shape(shape, axis):
    """``G``: ``shape`` with the group axes set to 1 (``np.mean(x, axis, keepdims=True).shape``)."""
    gax = range(len(shape)) if axis is None else axis
    return tuple(1 if d in gax else s for d, s in enumerate(shape))


def gram_solve(gram, rhs):
    """``G^+ b`` for a stack of Gram matrices (..., K, K) and right-hand sides (..., K, m).

    Matrices whose determinant exceeds ``RCOND`` times the product of their diagonal are solved by LU;
    the others (singular or nearly so) by the pseudo-inverse with threshold :data:`RCOND`.
    """
    diag = np.prod(np.diagonal(gram, axis1=-2, axis2=-1), axis=-1)
    ok = np.abs(np.linalg.det(gram)) > RCOND * np.abs(diag)
    out = np.empty(np.broadcast_shapes(gram.shape[:-1], rhs.shape[:-2] + (gram.shape[-1],))
                   + rhs.shape[-1:], dtype=np.result_type(gram, rhs))
    if ok.any():
        out[ok] = np.linalg.solve(gram[ok], rhs[ok])
    if not ok.all():
        out[~ok] = np.linalg.pinv(gram[~ok], rcond=RCOND, hermitian=True) @ rhs[~ok]
    return out


def least_squares_scales(planes, x, axis=None):
    """Scales minimizing ``||X - sum_i beta_i H_i||^2`` in every group, for fixed planes.

    Parameters
    ----------
    planes : array_like, shape (K,) + x.shape
        The planes ``H_i`` (±1; any real values are accepted).
    x : array_like
    axis : None, int or tuple of int
        Axes forming one group, as in :func:`~horq_ref.quantize.residual_quantize`.

    Returns
    -------
    ndarray, shape (K,) + G, dtype of ``x``
        The minimum-norm solution of the normal equations ``G beta = H^T X`` of each group.

    Notes
    -----
    Each group is divided by the power of two at or just below its largest magnitude before the solve
    (and the scales multiplied back), so the sums ``H^T X`` cannot overflow; scaling by a power of two
    is exact, so the scales are the same, bit for bit, as those of an unscaled solve.

    Examples
    --------
    >>> H = np.array([[1, 1, 1], [1, -1, -1]])
    >>> least_squares_scales(H, [1.0, 0.0, 0.0]).ravel()
    array([0.5, 0.5])
    """
    X = as_float_array(x, "x")
    H = np.asarray(planes, dtype=X.dtype)
    if H.ndim != X.ndim + 1 or H.shape[1:] != X.shape:
        raise ValueError(f"planes must have shape (K,) + {X.shape}, got {H.shape}")
    axis = normalize_axis(axis, X.ndim)
    Xg, Hm = to_groups(X, axis), to_groups(H, axis, lead=1).transpose(1, 0, 2)  # (M, n), (M, K, n)
    s = np.ldexp(np.ones((), X.dtype), np.frexp(np.max(np.abs(Xg), axis=1, keepdims=True))[1] - 1)  # (M, 1)
    gram = Hm @ Hm.transpose(0, 2, 1)  # (M, K, K)
    rhs = Hm @ (Xg / s)[:, :, None]  # (M, K, 1)
    beta = gram_solve(gram, rhs)[:, :, 0].T * s.T  # (K, M)
    return beta.reshape((H.shape[0],) + _group_shape(X.shape, axis)).astype(X.dtype, copy=False)


def _build(X, betas, H, axis):
    """The Expansion of ``X`` for given scales (K,)+G and planes (K,)+shape."""
    R = np.empty((H.shape[0] + 1,) + X.shape, dtype=X.dtype)
    R[0] = X
    for i in range(H.shape[0]):
        R[i + 1] = R[i] - betas[i] * H[i]
    return Expansion(betas=betas, signs=H.astype(np.int8), residuals=R, axis=axis)


def group_errors(e):
    """``||R_K||^2`` of every group of an Expansion, shape G."""
    return np.sum(e.residuals[-1] ** 2, axis=e.axis, keepdims=True)


def refit(x, order, axis=None):
    """Greedy planes, least-squares scales: never a larger error than greedy."""
    _, H, R, axis = expand(x, order, axis)
    return _build(R[0], least_squares_scales(H, R[0], axis), H, axis)


def sign_patterns(K):
    """All 2^K sign patterns, shape (2^K, K), +1 before -1 at every position (``itertools.product``)."""
    return np.array(list(itertools.product((1.0, -1.0), repeat=K)))


def nearest_planes(x, betas, axis=None):
    """Planes coding every entry to its nearest level ``sum_i h_i beta_i`` of its group.

    ``x`` any shape, ``betas`` (K,) + G, ``axis`` as in ``residual_quantize``; returns ±1 planes of
    shape (K,) + x.shape and the dtype of ``x``. An entry exactly halfway between two levels takes
    the upper one (as ``sign(0) = +1``: at K = 1 this is the sign plane); equal levels go to the first
    of their patterns in the order of ``itertools.product((+1, -1), repeat=K)``.
    """
    X = as_float_array(x, "x")
    axis = normalize_axis(axis, X.ndim)
    b = np.asarray(betas, dtype=X.dtype)
    K = check_int(b.shape[0] if b.ndim else 0, "len(betas)", 1, MAX_ORDER)
    pats = sign_patterns(K)  # (2^K, K)
    Xg = to_groups(X, axis)  # (M, n)
    levels = b.reshape(K, -1).T @ pats.T  # (M, 2^K)
    order = np.argsort(levels, axis=1, kind="stable")
    srt = np.take_along_axis(levels, order, axis=1)
    mids = (srt[:, 1:] + srt[:, :-1]) / 2  # (M, 2^K - 1)
    count = np.zeros(Xg.shape, dtype=np.int64)
    for m in mids.T:  # index of the cell of each entry among the sorted levels
        count += Xg >= m[:, None]
    H = pats[np.take_along_axis(order, count, axis=1)]  # (M, n, K)
    return from_groups(np.moveaxis(H, -1, 0).astype(X.dtype), X.shape, axis)  # (K,) + x.shape


def alternating_step(x, betas, axis=None):
    """One alternating iteration: code to the nearest levels, then refit. Returns (betas, planes)."""
    H = nearest_planes(x, betas, axis)
    return least_squares_scales(H, x, axis), H


def alternating(x, order, axis=None, max_iter=100, rtol=1e-12, return_history=False):
    """Alternating multi-bit quantization started from :func:`refit`.

    A group stops (keeps its last planes and scales) once one iteration lowers its error by no more
    than the fraction ``rtol``; the loop ends when every group has stopped or after ``max_iter`` rounds.

    Returns
    -------
    Expansion, or (Expansion, list of ndarray of shape G) with ``return_history``: the relative
    error ``||R_K||^2 / ||X||^2`` of every group before the first and after every iteration (stopped
    groups repeat their value; an all-zero group has 0).
    """
    max_iter, rtol = check_int(max_iter, "max_iter", 0), check_real(rtol, "rtol", 0)
    X = as_float_array(x, "x")
    K = check_int(check_order(order), "order", 1, MAX_ORDER)
    e = refit(X, K, axis)
    axis, H = e.axis, e.signs.astype(X.dtype)
    s = np.max(np.abs(X), axis=axis, keepdims=True)
    s = np.where(s > 0, s, 1.0)  # work on X / s: the squares below cannot overflow
    Xs, betas = X / s, e.betas / s
    err = np.sum((Xs - np.sum(betas * H, axis=0)) ** 2, axis=axis, keepdims=True)
    energy = np.sum(Xs**2, axis=axis, keepdims=True)
    energy = np.where(energy > 0, energy, 1.0)
    active, history = np.ones(err.shape, dtype=bool), [err / energy]
    for _ in range(max_iter):
        b_new, H_new = alternating_step(Xs, betas, axis)
        err_new = np.sum((Xs - np.sum(b_new * H_new, axis=0)) ** 2, axis=axis, keepdims=True)
        active = active & (err_new < err * (1 - rtol))
        betas, H = np.where(active, b_new, betas), np.where(active, H_new, H)
        err = np.where(active, err_new, err)
        history.append(err / energy)
        if not active.any():
            break
    out = _build(X, betas * s, H, axis)
    return (out, history) if return_history else out


def quantize_with(x, order, axis=None, scales="greedy"):
    """The order-K expansion of ``x`` with the named scale variant (one of :data:`SCALES`)."""
    check_choice(scales, "scales", SCALES)
    if scales == "refit":
        return refit(x, order, axis)
    if scales == "alternating":
        return alternating(x, order, axis)
    return residual_quantize(x, order, axis)  # greedy: HORQ itself


def optimal_levels(values, n_levels):
    """The best ``n_levels`` scalar levels for a set of values: exact 1-D k-means by dynamic programming.

    ``values``: n entries, 1 <= n <= 4096, any shape. Returns ``(levels, error)``: the sorted levels
    (fewer than ``n_levels`` when n is smaller) and ``sum_j min_l (v_j - level_l)^2``, the minimum
    over every choice of ``n_levels`` levels.

    Notes
    -----
    The optimal cells of a scalar quantizer are intervals of the sorted values (Lloyd 1982, Max 1960),
    so ``D_l(j) = min_{i<j} D_{l-1}(i) + SSE(v_i..v_{j-1})`` is exact; O(n_levels n^2) time.

    Examples
    --------
    >>> levels, error = optimal_levels([0.0, 0.0, 1.0, 5.0], 2)
    >>> levels, round(error, 12)
    (array([0.33333333, 5.        ]), 0.666666666667)
    """
    v = np.sort(as_float_array(values, "values").astype(np.float64).ravel())
    n = check_int(v.size, "len(values)", 1, 4096)
    L = min(check_int(n_levels, "n_levels", 1), n)
    c = v - v.mean()
    s1 = np.concatenate([[0.0], np.cumsum(c)])
    s2 = np.concatenate([[0.0], np.cumsum(c * c)])
    i, j = np.triu_indices(n + 1, 1)
    sse = np.full((n + 1, n + 1), np.inf)
    sse[i, j] = np.maximum(s2[j] - s2[i] - (s1[j] - s1[i]) ** 2 / (j - i), 0.0)
    D = sse[0].copy()  # one level for v[0:j]
    choice = []
    for _ in range(L - 1):
        tot = D[:, None] + sse  # (i, j)
        choice.append(np.argmin(tot, axis=0))
        D = tot[choice[-1], np.arange(n + 1)]
    cuts, j = [n], n
    for ch in reversed(choice):
        j = int(ch[j])
        cuts.append(j)
    cuts = sorted(set([0] + cuts))
    levels = np.array([v[a:b].mean() for a, b in zip(cuts[:-1], cuts[1:]) if b > a])
    return levels, float(D[n])


def optimal_errors(x, order, axis=None):
    """The floor ``min over any 2^K levels`` of the squared error of every group, shape G."""
    X = as_float_array(x, "x")
    K = check_int(check_order(order), "order", 1, MAX_ORDER)
    axis = normalize_axis(axis, X.ndim)
    if X.size == 0 or group_size(X.shape, axis) == 0:
        raise ValueError(f"x must have at least one entry per group, got shape {X.shape}")
    Xg = to_groups(X, axis)  # (M, n)
    out = np.array([optimal_levels(g, 2**K)[1] for g in Xg])
    return out.reshape(_group_shape(X.shape, axis))
