"""Binary planes as bits: packing ±1 into 64-bit words, XOR + popcount dot products and GEMM.

This is the arithmetic behind XNOR-Net's and HORQ's speed claim (docs/paper.md §4): the dot product of
two ±1 vectors of length ``n`` needs no multiplication, ::

    a · b = (#equal) - (#different) = n - 2 * popcount(a XOR b)

where ``a`` and ``b`` are stored one bit per entry, 64 entries per machine word.

Bit layout (chosen by this project; the paper does not fix one)
--------------------------------------------------------------
* Entry ``j`` of a row goes to word ``j // 64``, bit ``j % 64`` (bit 0 is the least significant).
* A set bit means **-1**, a clear bit means **+1** (like an IEEE sign bit). With ``sign(0) = +1`` an
  entry is packed as 1 exactly when it is ``< 0``; ``-0.0`` packs as 0.
* The last word of a row whose length is not a multiple of 64 is padded with clear bits. Both
  operands of every XOR are padded the same way, so padding bits XOR to 0 and never change a count;
  ``n`` is always the true length. Zero words are what zero padding of an image packs to (0 = +1).
* Words are built with ``np.packbits(..., bitorder="little")`` and read as explicit little-endian
  ``'<u8'``, so the integer value of every word is the same on every machine.

Speed (NumPy only)
------------------
:func:`binary_gemm_reference` broadcasts one big ``(M, F, words)`` XOR: obviously correct, slow.
:func:`mismatch_counts` is the fast kernel: *word-major*, one XOR + popcount over a cache-sized
``(filters, columns)`` tile per 64-bit word, popcounts summed in ``uint8`` for three words at a time
(3 * 64 < 256) and then in a wide accumulator, tiles spread over a thread pool (NumPy ufuncs release
the GIL). The XOR runs without NumPy's buffer (:func:`unbuffered`): with the default 8192 elements
NumPy copies several short broadcast rows into its buffer and the XOR gets about three times slower.
``np.bitwise_count`` returns ``uint8``: sums of it are always taken in a wide type.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from numbers import Integral

import numpy as np

from .checks import check_int

__all__ = [
    "WORD_BITS",
    "n_words",
    "pack_signs",
    "pack_mask",
    "unpack_signs",
    "popcount_dot",
    "binary_gemm_reference",
    "binary_gemm",
    "mismatch_counts",
    "default_threads",
    "parallel_map",
    "unbuffered",
]

WORD_BITS = 64
_TILE_ELEMS = 131072  # one (filters, columns) tile: 1 MiB of uint64 (+ 0.5 MiB counts), in L2
_MAX_TILE_COLS = 4096  # long rows keep NumPy's per-row overhead small
_GROUP = 3  # popcounts of 3 words sum to <= 192 and fit in uint8


def n_words(n):
    """Number of 64-bit words holding ``n`` bits: ``ceil(n / 64)``."""
    if isinstance(n, bool) or not isinstance(n, Integral) or n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n!r}")
    return -(-int(n) // WORD_BITS)


def pack_mask(mask):
    """Pack a boolean array along its last axis into little-endian 64-bit words.

    Parameters
    ----------
    mask : ndarray of bool, shape (..., n)
        ``True`` becomes a set bit.

    Returns
    -------
    words : ndarray of uint64, shape (..., ceil(n / 64))
        Bit ``j % 64`` of word ``j // 64`` is ``mask[..., j]``; bits past ``n`` are clear.
    """
    mask = np.ascontiguousarray(mask, dtype=bool)  # packbits is slow along a strided axis
    n = mask.shape[-1]
    packed = np.packbits(mask, axis=-1, bitorder="little")  # (..., ceil(n/8)), bit j%8 of byte j//8
    buf = np.zeros(mask.shape[:-1] + (8 * n_words(n),), np.uint8)  # (..., 8*words), tail clear
    buf[..., : packed.shape[-1]] = packed
    return buf.view("<u8").astype(np.uint64, copy=False)  # (..., words); byte b = bits 8b..8b+7


def pack_signs(x, axis=-1):
    """Pack the signs of ``x`` along ``axis`` into 64-bit words (set bit = -1, ``sign(0) = +1``).

    Parameters
    ----------
    x : array_like, real, shape (..., n, ...)
    axis : int
        The axis holding one row of ``n`` entries.

    Returns
    -------
    words : ndarray of uint64, shape ``x.shape`` without ``axis`` + (ceil(n / 64),)

    Examples
    --------
    >>> pack_signs([1.0, -2.0, 0.0, -0.0, -1.0])   # bits 1 and 4 set: 2 + 16
    array([18], dtype=uint64)
    """
    x = np.asarray(x)
    if x.dtype == object or not (np.issubdtype(x.dtype, np.number) or x.dtype == np.bool_):
        raise TypeError(f"x must be a real numeric array, got dtype {x.dtype}")
    if x.ndim == 0:
        raise ValueError("x must have at least one axis")
    if np.issubdtype(x.dtype, np.floating) and np.isnan(x).any():
        raise ValueError("x must not contain NaN: its sign is undefined")
    return pack_mask(np.moveaxis(x < 0, axis, -1))


def unpack_signs(words, n, axis=-1, dtype=np.int8):
    """Inverse of :func:`pack_signs`: ±1 entries from words.

    Parameters
    ----------
    words : ndarray of uint64, shape (..., ceil(n / 64))
    n : int
        Row length (bits past ``n`` are ignored).
    axis : int
        Where the unpacked axis of length ``n`` goes in the result.
    dtype : dtype
        Output dtype.

    Returns
    -------
    ndarray, shape ``words.shape[:-1]`` with an axis of length ``n`` inserted at ``axis``.

    Examples
    --------
    >>> unpack_signs(pack_signs([3.0, -1.0, 0.0]), 3)
    array([ 1, -1,  1], dtype=int8)
    """
    words = _as_words(words, "words")
    if words.shape[-1] != n_words(n):
        raise ValueError(f"words has {words.shape[-1]} words per row, n={n} needs {n_words(n)}")
    raw = np.ascontiguousarray(words.astype("<u8", copy=False)).view(np.uint8)  # (..., 8*words)
    bits = np.unpackbits(raw, axis=-1, count=n, bitorder="little")  # (..., n), 1 = -1
    return np.moveaxis((1 - 2 * bits.astype(np.int8)).astype(dtype), -1, axis)


def _as_words(a, name):
    a = np.asarray(a)
    if a.dtype.kind != "u" or a.dtype.itemsize != 8:
        raise TypeError(f"{name} must be an array of uint64 words, got dtype {a.dtype}")
    if a.ndim == 0:
        raise ValueError(f"{name} must have a last axis of words")
    return a.astype(np.uint64, copy=False)


def popcount_dot(a, b, n):
    """±1 dot products of packed rows: ``n - 2 * popcount(a XOR b)`` summed over words.

    Parameters
    ----------
    a, b : ndarray of uint64, shapes broadcastable, (..., words)
    n : int
        True row length.

    Returns
    -------
    ndarray of int64, the broadcast shape without the last axis.

    Examples
    --------
    >>> a = pack_signs([[1, -1, 1], [-1, -1, -1]])   # two rows of n = 3
    >>> popcount_dot(a, pack_signs([1, 1, 1]), 3)   # 1 - 1 + 1 and -3
    array([ 1, -3])
    """
    a, b = _as_words(a, "a"), _as_words(b, "b")
    counts = np.bitwise_count(a ^ b).sum(axis=-1, dtype=np.int64)  # uint8 summed wide
    return int(n) - 2 * counts


def binary_gemm_reference(A, B, n):
    """All ±1 dot products ``A_m · B_f``, the slow, obviously correct way.

    Parameters
    ----------
    A : ndarray of uint64, shape (M, words)
    B : ndarray of uint64, shape (F, words)
    n : int

    Returns
    -------
    ndarray of int64, shape (M, F)
    """
    A, B = _check_gemm(A, B, n)
    return popcount_dot(A[:, None, :], B[None, :, :], n)  # (M, F, words) -> (M, F)


def binary_gemm(A, B, n, threads=None):
    """All ±1 dot products ``A_m · B_f`` with the word-major tiled kernel.

    Same arguments and result as :func:`binary_gemm_reference` (exactly equal); ``threads`` is the
    number of worker threads (default :func:`default_threads`).

    Notes
    -----
    ``Y[m, f] = n - 2 * sum_w popcount(A[m, w] XOR B[f, w])``, computed by :func:`mismatch_counts`.
    """
    A, B = _check_gemm(A, B, n)
    counts = mismatch_counts(np.ascontiguousarray(A.T), np.ascontiguousarray(B.T), threads)
    return int(n) - 2 * counts.T.astype(np.int64)  # (M, F)


def _check_gemm(A, B, n):
    A, B = _as_words(A, "A"), _as_words(B, "B")
    if A.ndim != 2 or B.ndim != 2:
        raise ValueError(f"A and B must be 2-D (rows, words), got {A.shape} and {B.shape}")
    if A.shape[1] != B.shape[1] or A.shape[1] != n_words(n):
        raise ValueError(f"A {A.shape} and B {B.shape} must both have {n_words(n)} words for n={n}")
    return A, B


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
    threads = default_threads() if threads is None else threads
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
    such as ``(F, 1) XOR (1, M)`` into its buffer: about three times slower here for ``M`` near
    1000, and with a buffer of exactly one row the threads stop running in parallel. With a tiny
    buffer NumPy runs the inner loop on the arrays themselves. Operations that cast need the
    buffer, so they stay outside this context.
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
