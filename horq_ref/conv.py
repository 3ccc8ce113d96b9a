"""The HORQ convolution and dense layer (docs/paper.md §1, §4) on float planes or on bits.

Weights stay at order one (XNOR-Net): ``W_f ~= alpha_f B_f``, ``B_f = sign(W_f)``,
``alpha_f = mean |W_f|`` over the filter's ``C*kh*kw`` entries. Every input group -- one im2col row,
zero padding included; one sample of a dense layer -- gets its own order-K expansion
``X ~= sum_i beta_i H_i`` (:func:`horq_ref.quantize.expand`, ``axis=-1``). With exact integer ±1 dot
products, ::

    Y = sum_i Y_i,     Y_i[n, f, p] = alpha_f * beta_i[n, p] * (B_f . H_i[n, p, :])

Backends (the paper gives the bit arithmetic; the split into two backends is this project's)
----------------------------------------------------------------------------------------------
``"float"`` multiplies float ±1 planes with BLAS. ``"bits"`` gets every ``B_f . H_i`` from packed
words only, ``n - 2 popcount(b XOR h)`` (:mod:`horq_ref.bits`): its dot products equal the float
backend's exactly, its outputs up to rounding. How ``"bits"`` builds its planes:

* ``H_1 = sign(X)`` does not depend on the column. When that costs no extra words (``C`` a multiple
  of 64, or 1x1 kernels) the channels of each padded pixel are packed once and gathered per kernel
  offset ``(i, j)``, the weights packed the same way; padding pixels are 0 = +1 = clear bits. Order
  one then takes ``beta_1`` from XNOR-Net's ``K`` matrix (``sum_c |X|`` box-summed, / ``C*kh*kw``).
* Higher orders need every column: blocks of rows are gathered and their residuals built in place,
  with the float operations of :func:`~horq_ref.quantize.expand` (identical planes and betas), then
  packed in im2col order ``(c, i, j)``; the ``K-1`` planes share one pass over the packed weights.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .bits import mismatch_counts, n_words, pack_mask, pack_signs, unbuffered, unpack_signs
from .im2col import check_conv_args, im2col
from .checks import as_float_array, check_choice, check_order
from .scales import SCALES, quantize_with
from .quantize import expand, mean_abs, sign

__all__ = ["horq_conv2d", "horq_linear", "HorqTrace", "BACKENDS"]

BACKENDS = ("float", "bits")
_BLOCK_ROWS = 64  # rows per residual block: 64 x C*kh*kw floats stay in L2


@dataclass(frozen=True)
class HorqTrace:
    """What a HORQ layer computed (``return_intermediates=True``); ``P = Ho*Wo``, ``D = C*kh*kw``.

    Attributes
    ----------
    planes : ndarray of int8, shape (K, N, P, D)
        ``H_i`` of every column, im2col order; for ``"bits"`` unpacked from the words used.
    betas : ndarray, shape (K, N, P); alpha : ndarray, shape (F,)
    B : ndarray of int8, shape (F, D)
        ``sign(W)``, im2col order.
    dots : ndarray of int64, shape (K, N, F, P)
        ``B_f . H_i[n, p]``.
    Y : ndarray, shape (K, N, F, Ho, Wo)
        Per-order outputs ``Y_i``; the layer's output is their sum, in order.
    backend : str
    """

    planes: np.ndarray
    betas: np.ndarray
    alpha: np.ndarray
    B: np.ndarray
    dots: np.ndarray
    Y: np.ndarray
    backend: str


def horq_conv2d(x, w, order, stride=1, padding=0, backend="float", return_intermediates=False,
                threads=None, scales="greedy"):
    """HORQ convolution: order-K residual-quantized input, order-one binarized weights.

    Parameters
    ----------
    x : array_like, shape (N, C, H, W)
    w : array_like, shape (F, C, kh, kw)
    order : int >= 1
        K, the number of input planes.
    stride : int >= 1
    padding : int >= 0
        Zero padding on every side; padded zeros belong to each column and its scales.
    backend : {"float", "bits"}
    return_intermediates : bool
        Also return a :class:`HorqTrace`.
    threads : int, optional
        Threads of the ``"bits"`` backend (default: all CPUs of this process).
    scales : {"greedy", "refit", "alternating"}
        The input scales (:mod:`horq_ref.scales`); the planes stay binary, the kernels are unchanged.

    Returns
    -------
    Y : ndarray, shape (N, F, Ho, Wo); float32 for float32 ``x``, else float64.
    trace : HorqTrace, only with ``return_intermediates=True``.

    Notes
    -----
    ``Y[n, f, p] = alpha_f sum_i beta_i[n, p] (B_f . H_i[n, p])``, ``p`` the output position.

    Examples
    --------
    >>> x = np.arange(-8.0, 10.0).reshape(1, 2, 3, 3)
    >>> y = horq_conv2d(x, np.ones((1, 2, 2, 2)), order=2, backend="bits")
    >>> y.shape, np.allclose(y, horq_conv2d(x, np.ones((1, 2, 2, 2)), order=2))
    ((1, 1, 2, 2), True)
    """
    X, Wt, K = _prepare(x, w, order, backend, ndim=4, scales=scales)
    Ho, Wo = check_conv_args(X, Wt, stride, padding)
    N, F, (kh, kw) = X.shape[0], Wt.shape[0], Wt.shape[2:]
    alpha = mean_abs(Wt, (1, 2, 3)).reshape(F).astype(X.dtype)  # binarize's alpha, (F,)
    keep = return_intermediates
    B = sign(Wt, X.dtype).reshape(F, -1) if backend == "float" or keep else None  # (F, D)
    if backend == "float":
        cols = im2col(X, kh, kw, stride, padding)  # (N, P, D)
        dotsf, betas, planes = _float_dots(cols, B, K, scales)
    elif scales != "greedy":  # the variant's planes from the float math, then packed
        e = quantize_with(im2col(X, kh, kw, stride, padding), K, -1, scales)  # (K, N, P, D)
        words = pack_signs(e.signs).reshape(K, N * Ho * Wo, -1)  # (K, M, nw)
        dotsf = _dots(words.reshape(-1, words.shape[-1]).T, pack_signs(Wt.reshape(F, -1)),
                      Wt[0].size, (K, N, Ho * Wo), threads, X.dtype)
        betas, planes = e.betas, e.signs
    else:
        dotsf, betas, planes = _bits_conv_dots(X, Wt, K, stride, padding, Ho, Wo, threads, keep)
    betas = betas.reshape(K, N, Ho * Wo)  # (K, N, P)
    Y, Yk = _combine(dotsf, alpha, betas, keep)  # (N, F, P), (K, N, F, P) or None
    if not keep:
        return Y.reshape(N, F, Ho, Wo)
    trace = HorqTrace(planes=planes.reshape(K, N, Ho * Wo, -1).astype(np.int8), betas=betas,
                      alpha=alpha, B=B.astype(np.int8),
                      dots=np.rint(dotsf).astype(np.int64), Y=Yk.reshape(K, N, F, Ho, Wo),
                      backend=backend)
    return Y.reshape(N, F, Ho, Wo), trace


def horq_linear(x, w, order, backend="float", return_intermediates=False, threads=None,
                scales="greedy"):
    """HORQ dense layer: every sample is one input group with its own scales.

    Parameters
    ----------
    x : array_like, shape (N, D)
    w : array_like, shape (F, D)
    order, backend, return_intermediates, threads, scales
        As in :func:`horq_conv2d`.

    Returns
    -------
    Y : ndarray, shape (N, F); with ``return_intermediates`` also a :class:`HorqTrace` without the
    position axis: planes (K, N, D), betas (K, N), dots (K, N, F), Y (K, N, F).

    Notes
    -----
    ``Y[n, f] = alpha_f sum_i beta_i[n] (B_f . H_i[n])``, computed as a convolution of 1x1 images.

    Examples
    --------
    >>> horq_linear([[1.0, -2.0, 3.0]], [[1.0, 1.0, -1.0]], order=1, backend="bits")
    array([[-2.]])
    """
    X, Wt, K = _prepare(x, w, order, backend, ndim=2, scales=scales)
    out = horq_conv2d(X[:, :, None, None], Wt[:, :, None, None], K, backend=backend,
                      return_intermediates=return_intermediates, threads=threads, scales=scales)
    if not return_intermediates:
        return out[:, :, 0, 0]  # (N, F, 1, 1) -> (N, F)
    Y, t = out
    trace = HorqTrace(planes=t.planes[:, :, 0], betas=t.betas[:, :, 0], alpha=t.alpha, B=t.B,
                      dots=t.dots[..., 0], Y=t.Y[..., 0, 0], backend=backend)
    return Y[:, :, 0, 0], trace


def _prepare(x, w, order, backend, ndim, scales="greedy"):
    """Validate and convert the common arguments; return ``(X, W, K)``."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    check_choice(scales, "scales", SCALES)
    K = check_order(order)
    X, Wt = as_float_array(x, "x"), as_float_array(w, "w")
    for name, arr in (("x", X), ("w", Wt)):
        if arr.ndim != ndim or arr.size == 0:
            raise ValueError(f"{name} must be {ndim}-D and not empty, got shape {arr.shape}")
    if ndim == 2 and X.shape[1] != Wt.shape[1]:
        raise ValueError(f"w has {Wt.shape[1]} inputs per filter, x has {X.shape[1]} features")
    return X, Wt, K


def _float_dots(cols, Bm, K, scales="greedy"):
    """Float backend, ``cols`` (N, P, D) and ``Bm`` (F, D): :func:`expand` and a float matmul of ±1.

    Returns float dots (K, N, F, P), betas (K, N, P), planes (K, N, P, D).
    """
    if scales == "greedy":
        betas, H, _, _ = expand(cols, K, axis=-1)  # (K, N, P, 1), (K, N, P, D)
    else:
        e = quantize_with(cols, K, -1, scales)
        betas, H = e.betas, e.signs.astype(cols.dtype)
    exact = H if H.dtype == np.float64 or cols.shape[-1] < 2**24 else H.astype(np.float64)
    dots = np.matmul(exact, Bm.T.astype(exact.dtype))  # (K, N, P, F): integers, exact in float
    return dots.astype(cols.dtype).transpose(0, 1, 3, 2), betas[..., 0], H


def _combine(dotsf, alpha, betas, keep):
    """``Y_i = (alpha_f beta_i) dots_i`` (K, N, F, P) and ``Y = Y_1 + Y_2 + ...``, in this order."""
    scale = alpha[None, None, :, None] * betas[:, :, None, :]  # (K, N, F, P)
    Yk = np.multiply(scale, dotsf) if keep else None
    Y = np.multiply(scale[0], dotsf[0])
    for i in range(1, dotsf.shape[0]):
        Y += Yk[i] if keep else scale[i] * dotsf[i]
    return Y, Yk


def _bits_conv_dots(X, Wt, K, stride, padding, Ho, Wo, threads, keep):
    """Bits backend: float dots (K, N, F, P), betas (K, N*P), planes (K, N*P, D) or None."""
    (N, C), (F, _, kh, kw) = X.shape[:2], Wt.shape
    D, M, shape = C * kh * kw, N * Ho * Wo, (N, Ho * Wo)
    pixel = int(kh * kw * n_words(C) == n_words(D))  # 1: H_1 comes from the pixel layout
    dots, planes = [], []
    if pixel:  # H_1 per pixel: words (kh*kw*Cw, M), weights (F, kh*kw*Cw)
        a1 = _pixel_words(X, kh, kw, stride, padding, Ho, Wo)
        b1 = pack_signs(Wt.transpose(0, 2, 3, 1)).reshape(F, -1)  # (F, kh, kw, Cw) -> (F, -1)
        dots.append(_dots(a1, b1, D, (1,) + shape, threads, X.dtype))
        planes += [_unpack_pixel_words(a1, C, kh, kw)] if keep else []
    if np.abs(X).max() > np.finfo(X.dtype).max / (2 * D):  # sums may overflow: expand rescales
        betas, H, _, _ = expand(im2col(X, kh, kw, stride, padding), K, axis=-1)  # (K, N, P, [1|D])
        betas, words = betas.reshape(K, M), pack_signs(H[pixel:]).reshape(K - pixel, M, n_words(D))
    elif K == 1 and pixel:
        betas = _box_beta(X, kh, kw, stride, padding, Ho, Wo)  # (1, M)
    else:
        betas, words = _residual_planes(X, kh, kw, stride, padding, Ho, Wo, K, pixel)
    if K > pixel:
        aT = words.reshape(-1, words.shape[-1]).T  # (K', M, nw) -> (nw, K'*M), word-major
        Bw = pack_signs(Wt.reshape(F, D))  # (F, nw)
        dots.append(_dots(aT, Bw, D, (K - pixel,) + shape, threads, X.dtype))
        planes += [unpack_signs(words, D)] if keep else []  # (K', M, D)
    dotsf = dots[0] if len(dots) == 1 else np.concatenate(dots, axis=0)  # (K, N, F, P)
    return dotsf, betas, (np.concatenate(planes, axis=0) if keep else None)


def _dots(aT, Bw, D, shape, threads, dtype):
    """``D - 2 popcount(a XOR b)``, planes ``aT`` (nw, K'*M), weights ``Bw`` (F, nw).

    Returns a float view (K', N, F, P), ``shape = (K', N, P)``; exact (integers below 2**24).
    """
    aT, bT = np.ascontiguousarray(aT), np.ascontiguousarray(Bw.T)  # (nw, K'*M), (nw, F)
    counts = mismatch_counts(aT, bT, threads)  # (F, K'*M)
    dotsf = counts.astype(dtype)
    dotsf *= -2
    dotsf += D
    return dotsf.reshape((-1,) + shape).transpose(1, 2, 0, 3)  # (F, K', N, P) -> (K', N, F, P)


def _pixel_words(X, kh, kw, stride, padding, Ho, Wo):
    """``sign(X)``, each pixel's channels packed, gathered per offset: (kh*kw*Cw, N*Ho*Wo)."""
    N = X.shape[0]
    words = pack_mask(X.transpose(0, 2, 3, 1) < 0)  # (N, H, W, Cw)
    if padding:  # zero pixels are +1: clear bits
        words = np.pad(words, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    Cw = words.shape[-1]
    aT = np.empty((kh, kw, Cw, N, Ho, Wo), np.uint64)
    for i in range(kh):
        for j in range(kw):
            win = words[:, i:i + stride * (Ho - 1) + 1:stride, j:j + stride * (Wo - 1) + 1:stride]
            aT[i, j] = win.transpose(3, 0, 1, 2)  # (N, Ho, Wo, Cw) -> (Cw, N, Ho, Wo)
    return aT.reshape(kh * kw * Cw, N * Ho * Wo)


def _unpack_pixel_words(aT, C, kh, kw):
    """Planes (1, M, D) in im2col order ``(c, i, j)`` from :func:`_pixel_words`' layout."""
    M = aT.shape[1]
    H = unpack_signs(aT.T.reshape(M, kh * kw, -1), C)  # (M, kh*kw, C)
    return H.reshape(M, kh, kw, C).transpose(0, 3, 1, 2).reshape(1, M, C * kh * kw)


def _box_beta(X, kh, kw, stride, padding, Ho, Wo):
    """XNOR-Net's K matrix, (1, M): ``sum_c |X|`` summed over each window, over ``C*kh*kw``."""
    N, C = X.shape[:2]
    A = np.abs(X).sum(axis=1)  # (N, H, W)
    if padding:
        A = np.pad(A, ((0, 0), (padding, padding), (padding, padding)))
    win = sliding_window_view(A, (kh, kw), axis=(1, 2))[:, ::stride, ::stride][:, :Ho, :Wo]
    return (win.sum(axis=(-2, -1)) / (C * kh * kw)).reshape(1, N * Ho * Wo).astype(X.dtype)


def _residual_planes(X, kh, kw, stride, padding, Ho, Wo, K, first):
    """Residual expansion of every im2col row; betas (K, M) and packed planes ``first..K-1``.

    Returns words (K - first, M, ceil(D/64)), identical to packing :func:`expand`'s planes. Blocks
    of rows (that stay in L2) are gathered and expanded in place on one thread (the gathers and
    ``packbits`` hold the GIL: two threads were slower), with magnitudes ``E_i = |R_i|`` and sign
    bits ``S_i`` of ``R_i`` (``sign(0) = +1``)::

        beta_i = mean E_i,   d = E_i - beta_i,   E_{i+1} = |d|,   S_{i+1} = S_i ? d > 0 : d < 0

    since ``R_{i+1} = R_i - beta_i sign(R_i) = sign(R_i) d`` bit for bit (negation is exact).
    """
    N, C = X.shape[:2]
    D, M, hb = C * kh * kw, N * Ho * Wo, max(1, _BLOCK_ROWS // Wo)
    Xp = np.pad(X, ((0, 0), (0, 0), (padding, padding), (padding, padding))) if padding else X
    betas = np.empty((K, M), X.dtype)
    words = np.zeros((K - first, M, n_words(D)), np.uint64)

    for n in range(N):
        for h0 in range(0, Ho, hb):
            h1 = min(h0 + hb, Ho)
            r0, r1 = (n * Ho + h0) * Wo, (n * Ho + h1) * Wo
            E = _gather_rows(Xp, n, h0, h1, kh, kw, stride, Wo)  # (r1 - r0, D)
            S = pack_mask(E < 0)  # (r, nw), sign bits of R_0 = X
            np.abs(E, out=E)
            for i in range(K):
                if i >= first:
                    words[i - first, r0:r1] = S
                beta = np.mean(E, axis=1, keepdims=True)  # (r, 1)
                betas[i, r0:r1] = beta[:, 0]
                if i + 1 < K:
                    with unbuffered():
                        np.subtract(E, beta, out=E)  # d
                    S = (S & pack_mask(E > 0)) | (~S & pack_mask(E < 0))  # tails stay clear
                    np.abs(E, out=E)
    return betas, words


def _gather_rows(Xp, n, h0, h1, kh, kw, stride, Wo):
    """im2col rows (c, i, j) of sample n, output rows h0..h1: a strided copy per kernel offset."""
    C = Xp.shape[1]
    E = np.empty((h1 - h0, Wo, C, kh, kw), Xp.dtype)
    for i in range(kh):
        for j in range(kw):
            win = Xp[n, :, h0 * stride + i:(h1 - 1) * stride + i + 1:stride,
                     j:(Wo - 1) * stride + j + 1:stride]  # (C, h1-h0, Wo)
            E[:, :, :, i, j] = win.transpose(1, 2, 0)
    return E.reshape((h1 - h0) * Wo, C * kh * kw)
