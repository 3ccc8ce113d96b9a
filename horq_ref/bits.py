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
"""

from __future__ import annotations

import numpy as np

from .checks import check_int, check_real_dtype

__all__ = ["WORD_BITS", "n_words", "pack_signs", "pack_mask", "unpack_signs", "popcount_dot",
           "binary_gemm_reference", "check_gemm"]

WORD_BITS = 64


def n_words(n):
    """Number of 64-bit words holding ``n`` bits: ``ceil(n / 64)``."""
    return -(-check_int(n, "n", minimum=0) // WORD_BITS)


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
    check_real_dtype(x, "x")
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
    words, n = max(a.shape[-1], b.shape[-1]), check_int(n, "n", 0)
    if n_words(n) != words:
        raise ValueError(f"n = {n} entries take {n_words(n)} words per row, a and b have {words}")
    counts = np.bitwise_count(a ^ b).sum(axis=-1, dtype=np.int64)  # uint8 summed wide
    return n - 2 * counts


def binary_gemm_reference(A, B, n):
    """All ±1 dot products ``A_m · B_f``, the slow, obviously correct way (the ``"bits"`` backend).

    One broadcast ``(M, F, words)`` XOR and popcount; :func:`horq_ref.fast.gemm.binary_gemm` is the
    tiled, threaded kernel with the same result (``"bits-fast"``).

    Parameters
    ----------
    A : ndarray of uint64, shape (M, words)
    B : ndarray of uint64, shape (F, words)
    n : int

    Returns
    -------
    ndarray of int64, shape (M, F)
    """
    A, B = check_gemm(A, B, n)
    return popcount_dot(A[:, None, :], B[None, :, :], n)  # (M, F, words) -> (M, F)


def check_gemm(A, B, n):
    """``(A, B)`` as uint64 word arrays after checking they are (M, words) and (F, words), n bits."""
    A, B = _as_words(A, "A"), _as_words(B, "B")
    if A.ndim != 2 or B.ndim != 2:
        raise ValueError(f"A and B must be 2-D (rows, words), got {A.shape} and {B.shape}")
    if A.shape[1] != B.shape[1] or A.shape[1] != n_words(n):
        raise ValueError(f"A {A.shape} and B {B.shape} must both have {n_words(n)} words for n={n}")
    return A, B
