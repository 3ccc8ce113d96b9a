"""Table lookup ("four Russians") for the backward products: a float matrix times a ±1 matrix.

Both backward products of a HORQ layer are a product ``A S`` of a float ``A`` (P, Q) with a ±1 ``S``
(Q, n) stored as packed rows (:mod:`horq_ref.binary_backward`)::

    dXt = (dY alpha) B                                  A = dY alpha (M, F), S = B
    dWt = sum_i (beta_i dY)^T H_i                       A = [beta_1 dY; ...; beta_K dY]^T (F, K M),
                                                        S = [H_1; ...; H_K] (K M, n)

Split the Q rows of ``S`` into ``G = ceil(Q / g)`` groups of g (the last padded with zero rows of
``A``). The 2^g signed sums of a group's g columns of ``A`` form a table; each output adds one entry
per group, chosen by the g signs of its column read as a number::

    T_j[s, p]   = sum_{t < g} (-1)^(bit t of s) A[p, j g + t]       (2^g entries per p)
    c_j(d)      = sum_{t < g} [S[j g + t, d] = -1] 2^t              (the set bits)
    (A S)[p, d] = sum_{j < G} T_j[c_j(d), p]

The reference is :func:`horq_ref.binary_backward.binary_backward` (``signed_sum``). Both add the
same rounded terms ``dY alpha_f`` and ``beta_i[m] dY[m, f]`` in another order, so they agree within
the bound of docs/theory.md §15, not bit for bit. Additions: ``G (2^g - 2) P`` for the tables and
``(G - 1) P n`` for the lookups, against ``Q P n`` (:func:`horq_ref.cost.lut_additions`).

Tables by doubling: over k rows a table is odd, ``T[~s] = -T[s]``, so adding row k is ``T + a_k``
(2^k additions) followed by ``-(T + a_k)`` reversed (exact sign flips); as rounding to nearest is
symmetric in the sign, every entry is the float sum of its g terms in the order ``t = 0, 1, ...``.

Choice of g (:func:`table_bits`: 8 from n = 2048, less below, as the tables outgrow the outputs).
g = 8: per output ``(Q/g)(1 + 2^g / n)`` additions, fewest at g = 8-9 for the bench layer (n = 2304).
Measured there (CPU time, docs/performance.md), g = 7, 8, 9 are within 10 % of each other; g = 6 is
15 % slower and g = 4 (twice the lookups) 1.7 times. g = 10 and 12 are 1.3 and 3 times slower where
the count says 1.0 and 1.7: their tables (2^g rows each) no longer fit in the caches. g = 16 would
spend 28 times the lookups' additions on tables.

Kernel: the tables of ``_P_TILE`` columns and ``_TABLE_ENTRIES / (2^g _P_TILE)`` groups are built at
once; one ``np.take`` copies the table rows of ``_D_TILE`` outputs, ``np.add.reduce`` sums them.
``mode="clip"`` (codes are in range anyway): with ``mode="raise"`` NumPy buffers the output.
"""

from __future__ import annotations

import numpy as np

from ..binary_backward import set_mask
from ..bits import n_words
from ..checks import as_float_array, check_int

__all__ = ["lut_backward", "lut_product", "group_codes", "lut_tables", "table_bits"]

DEFAULT_G = 8
_P_TILE, _D_TILE = 256, 64  # columns of A per tile, outputs per gather
_TABLE_ENTRIES = 1 << 20  # the tables built at once: 4 MiB in float32 (16 groups at g = 8)


def lut_backward(dY, ops, g=None):
    """Both gradients by table lookup, as :func:`horq_ref.binary_backward.binary_backward`.

    Parameters
    ----------
    dY : ndarray, shape (M, F)
    ops : horq_ref.binary_backward.BinaryOperands
    g : int, optional
        Rows of the ±1 operand per table (1 to 16); tables have 2^g entries. Default
        :func:`table_bits` of ``ops.n``.

    Returns
    -------
    dXt : ndarray, shape (M, D)
    dWt : ndarray, shape (F, D)
        Transposes of C-contiguous arrays (Fortran order).

    Notes
    -----
    ``dXt = (dY alpha) B`` and ``dWt = [beta_1 dY; ...; beta_K dY]^T [H_1; ...; H_K]``, each by
    :func:`lut_product`.
    """
    dY = as_float_array(dY, "dY")
    (K, M), F = ops.beta.shape, ops.alpha.shape[0]
    if dY.shape != (M, F):
        raise ValueError(f"dY must have shape {(M, F)}, got {dY.shape}")
    scaled_x = dY * ops.alpha  # (M, F): the scale products of the input gradient
    scaled_w = dY[None] * ops.beta[:, :, None]  # (K, M, F): beta_i[m] dY[m, f]
    g = table_bits(ops.n) if g is None else g
    dXt = lut_product(scaled_x.T, ops.B_words, ops.n, g)  # (M, D)
    dWt = lut_product(scaled_w.reshape(K * M, F), ops.H_words.reshape(K * M, -1), ops.n, g)
    return dXt, dWt


def table_bits(n):
    """The default g for outputs of length ``n``: the largest with ``2^g <= n / 8``, 1 to 8.

    The tables then cost at most an eighth of the lookups' additions; on the training layers and the
    bench layer of docs/performance.md this g was the fastest or within 25 % of it.
    """
    return min(DEFAULT_G, max(1, (check_int(n, "n", minimum=1) // 8).bit_length() - 1))


def lut_product(At, words, n, g=DEFAULT_G):
    """``A S`` (P, n) for ``At = A^T`` (Q, P) float and ``S`` (Q, n) ±1 packed as ``words``.

    Parameters
    ----------
    At : ndarray, shape (Q, P)
    words : ndarray of uint64, shape (Q, ceil(n / 64))
        Row q of ``S`` (set bit = -1).
    n : int
    g : int, 1 to 16

    Returns
    -------
    ndarray, shape (P, n), dtype of ``At``; the transpose of a C-contiguous (n, P) array.

    Notes
    -----
    ``(A S)[p, d] = sum_j T_j[c_j(d), p]`` (module docstring).
    """
    g, n = check_int(g, "g", minimum=1, maximum=16), check_int(n, "n", minimum=1)
    Q, P = At.shape
    if words.shape != (Q, n_words(n)):
        raise ValueError(f"words must have shape {(Q, n_words(n))}, got {words.shape}")
    G = -(-Q // g)
    rows = np.zeros((G * g, P), At.dtype)  # A^T padded with zero rows to whole groups
    rows[:Q] = At
    chunk_groups = max(1, _TABLE_ENTRIES // (_P_TILE << g))
    codes = group_codes(words, n, g)  # (G, n)
    codes += ((np.arange(G) % chunk_groups) << g)[:, None]  # row of the entry in its chunk's tables
    out = np.empty((n, P), At.dtype)
    for p0 in range(0, P, _P_TILE):
        for j0 in range(0, G, chunk_groups):
            chunk = rows[j0 * g:(j0 + chunk_groups) * g, p0:p0 + _P_TILE]
            tables = lut_tables(chunk.reshape(-1, g, chunk.shape[1]))
            _lookup(tables.reshape(-1, chunk.shape[1]), codes[j0:j0 + chunk_groups],
                    out[:, p0:p0 + _P_TILE], first=j0 == 0)
    return out.T


def _lookup(tables, codes, out, first):
    """``out[d] (+)= sum_j tables[codes[j, d]]``: tables (rows, p), codes (groups, n), out (n, p)."""
    buf = np.empty((codes.shape[0], _D_TILE, out.shape[1]), out.dtype)
    part = np.empty((_D_TILE, out.shape[1]), out.dtype)
    for d0 in range(0, out.shape[0], _D_TILE):
        d1 = min(d0 + _D_TILE, out.shape[0])
        entries = buf[:, :d1 - d0]
        np.take(tables, codes[:, d0:d1], axis=0, out=entries, mode="clip")  # (groups, d, p)
        if first:
            np.add.reduce(entries, axis=0, out=out[d0:d1])
        else:
            np.add.reduce(entries, axis=0, out=part[:d1 - d0])
            out[d0:d1] += part[:d1 - d0]


def lut_tables(a):
    """The signed sums of every group: ``a`` (G, g, P) -> tables (G, 2^g, P), by doubling.

    Notes
    -----
    ``T[s] = sum_t (-1)^(bit t of s) a[t]``. Over k rows, ``T[~s] = -T[s]``; adding row k gives
    ``T + a_k`` (lower half, one addition per entry) and ``-(T + a_k)`` reversed (upper half).
    """
    G, g, P = a.shape
    out = np.empty((G, 1 << g, P), a.dtype)
    out[:, 0] = a[:, 0]
    np.negative(a[:, 0], out=out[:, 1])
    for k in range(1, g):
        h = 1 << k
        np.add(out[:, :h], a[:, k, None], out=out[:, :h])
        np.negative(out[:, h - 1::-1], out=out[:, h:2 * h])
    return out


def group_codes(words, n, g):
    """``c_j(d)``, shape (ceil(Q / g), n), intp: bit t is the bit of row ``j g + t`` at column d.

    ``words`` (Q, ceil(n / 64)) packed rows (set bit = -1); rows past Q count as clear bits.
    """
    negative = set_mask(words, n)  # (Q, n)
    codes = np.zeros((-(-negative.shape[0] // g), n), np.uint16)  # g <= 16 bits
    for t in range(g):
        rows = negative[t::g]  # row t of every group
        codes[:rows.shape[0]] |= rows.astype(np.uint16) << t
    return codes.astype(np.intp)
