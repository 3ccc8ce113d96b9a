"""The fast XOR + popcount GEMM: word-major tiles on a thread pool.

Same result as :func:`horq_ref.bits.binary_gemm_reference` (exactly, the counts are integers),
``Y[m, f] = n - 2 * sum_w popcount(A[m, w] XOR B[f, w])``, computed differently:

* *word-major*: for each 64-bit word ``w``, one XOR + popcount over a cache-sized ``(filters,
  columns)`` tile, instead of one broadcast over ``(M, F, words)``;
* popcounts are summed in ``uint8`` for three words at a time (3 * 64 < 256), then added to a wide
  accumulator (``np.bitwise_count`` returns ``uint8``: its sums are always taken in a wide type);
* tiles are spread over a thread pool (NumPy ufuncs release the GIL);
* the XOR runs with NumPy's smallest ufunc buffer (:func:`unbuffered`), see there.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import numpy as np

from ..bits import WORD_BITS, check_gemm
from ..checks import check_int

__all__ = ["binary_gemm", "mismatch_counts", "default_threads", "parallel_map", "unbuffered"]

_TILE_ELEMS = 131072  # one (filters, columns) tile: 1 MiB of uint64 (+ 0.5 MiB counts), in L2
_MAX_TILE_COLS = 4096  # long rows keep NumPy's per-row overhead small
_GROUP = 3  # popcounts of 3 words sum to <= 192 and fit in uint8


def binary_gemm(A, B, n, threads=None):
    """All ±1 dot products ``A_m · B_f`` with the word-major tiled kernel.

    Same arguments and result as :func:`horq_ref.bits.binary_gemm_reference` (exactly equal);
    ``threads`` is the number of worker threads (default :func:`default_threads`).

    Notes
    -----
    ``Y[m, f] = n - 2 * sum_w popcount(A[m, w] XOR B[f, w])``, computed by :func:`mismatch_counts`.
    """
    A, B = check_gemm(A, B, n)
    counts = mismatch_counts(np.ascontiguousarray(A.T), np.ascontiguousarray(B.T), threads)
    return int(n) - 2 * counts.T.astype(np.int64)  # (M, F)


def mismatch_counts(aT, bT, threads=None):
    """``counts[f, m] = sum_w popcount(aT[w, m] XOR bT[w, f])``: the number of differing bits.

    Parameters
    ----------
    aT : ndarray of uint64, shape (words, M), C-contiguous (word-major: one row per word)
    bT : ndarray of uint64, shape (words, F), C-contiguous
    threads : int, optional
        Worker threads; tiles of ``(filters, columns)`` are shared among them.

    Returns
    -------
    counts : ndarray, shape (F, M), unsigned, wide enough for ``64 * words``.
    """
    (nw, M), F = aT.shape, bT.shape[1]
    if bT.shape[0] != nw:
        raise ValueError(f"aT has {nw} words per column but bT has {bT.shape[0]}")
    acc_dtype = np.min_scalar_type(WORD_BITS * max(nw, 1))
    out = np.zeros((F, M), np.promote_types(acc_dtype, np.uint16))  # (F, M)
    threads = default_threads() if threads is None else check_int(threads, "threads", minimum=1)
    mt = min(max(M, 1), _MAX_TILE_COLS)
    ft = max(1, min(_TILE_ELEMS // mt, -(-F // max(1, threads))))  # at least one tile per thread
    tiles = [(f0, min(f0 + ft, F), m0, min(m0 + mt, M)) for f0 in range(0, F, ft)
             for m0 in range(0, M, mt)]
    if nw:
        parallel_map(lambda t: _count_tile(aT, bT, out, *t), tiles, threads)
    return out


def _count_tile(aT, bT, out, f0, f1, m0, m1):
    """One tile: for each word w, ``t = b[f, w] XOR a[w, m]`` over (f1-f0, m1-m0), then popcount."""
    shape = (f1 - f0, m1 - m0)
    t = np.empty(shape, np.uint64)  # XOR of one word
    c = np.empty(shape, np.uint8)  # its popcount, <= 64
    c3 = np.empty(shape, np.uint8)  # popcounts of up to _GROUP words, <= 192
    acc = np.zeros(shape, out.dtype)  # the running count, wide
    for g in range(0, aT.shape[0], _GROUP):
        with unbuffered():
            for w in range(g, min(g + _GROUP, aT.shape[0])):
                np.bitwise_xor(bT[w, f0:f1, None], aT[w, None, m0:m1], out=t)
                np.bitwise_count(t, out=c3 if w == g else c)
                if w != g:
                    np.add(c3, c, out=c3)
        np.add(acc, c3, out=acc)  # uint8 -> wide: a cast, which wants NumPy's default buffer
    out[f0:f1, m0:m1] = acc


@contextmanager
def unbuffered():
    """Run NumPy ufuncs of this thread with the smallest buffer (16 elements).

    With the default 8192-element buffer NumPy copies several short rows of a broadcast operation
    such as ``(F, 1) XOR (1, M)`` into its buffer before the inner loop runs; with a buffer of
    exactly one row the threads stop running in parallel. With a tiny buffer NumPy runs the inner
    loop on the arrays themselves. Operations that cast need the buffer, so they stay outside this
    context. (What this saves is measured in docs/performance.md.)
    """
    old = np.setbufsize(16)  # NumPy's minimum
    try:
        yield
    finally:
        np.setbufsize(old)


_POOLS: dict[int, ThreadPoolExecutor] = {}


def default_threads():
    """The number of CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def parallel_map(fn, items, threads=None):
    """``[fn(item) for item in items]`` on up to ``threads`` threads (a pool kept per size)."""
    threads = default_threads() if threads is None else check_int(threads, "threads", minimum=1)
    items = list(items)
    if threads == 1 or len(items) <= 1:
        return [fn(item) for item in items]
    pool = _POOLS.get(threads)
    if pool is None:
        pool = _POOLS[threads] = ThreadPoolExecutor(threads, thread_name_prefix="horq-bits")
    return list(pool.map(fn, items))
