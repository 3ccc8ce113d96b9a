"""The ``"bits-fast"`` backend: the HORQ convolution's dot products and scales, packed cleverly.

Bit for bit the same planes, scales, dot products and outputs as the reference ``"bits"`` backend of
:func:`horq_ref.conv.horq_conv2d` (im2col, :func:`~horq_ref.quantize.expand`, pack every plane,
:func:`~horq_ref.bits.binary_gemm_reference`), computed without float ``±1`` planes:

* ``H_1 = sign(X)`` does not depend on the column. When that costs no extra words (``C`` a multiple
  of 64, or 1x1 kernels) the channels of each padded pixel are packed once and gathered per kernel
  offset ``(i, j)``, the weights packed the same way; padding pixels are 0 = +1 = clear bits.
* The scales (and the planes of higher orders) need every column: blocks of rows are gathered and
  their residuals built in place, with the float operations of :func:`~horq_ref.quantize.expand`
  (identical planes and scales), then packed in im2col order ``(c, i, j)``; the ``K-1`` planes share
  one pass over the packed weights.
* The GEMM is :func:`horq_ref.fast.gemm.mismatch_counts` (word-major tiles on a thread pool).
"""

from __future__ import annotations

import numpy as np

from ..bits import n_words, pack_mask, pack_signs, unpack_signs
from ..im2col import im2col
from ..quantize import expand
from .gemm import mismatch_counts, unbuffered

__all__ = ["fast_conv_dots"]

_BLOCK_ROWS = 64  # rows per residual block: 64 x C*kh*kw floats stay in L2


def fast_conv_dots(X, W, K, stride, padding, Ho, Wo, threads, keep):
    """Dot products, scales and (with ``keep``) planes of a HORQ convolution, fast.

    Returns float dots (K, N, F, P) (integers, exact), betas (K, N*P) and planes (K, N*P, D) as
    int8 or None; ``X`` (N, C, H, W), ``W`` (F, C, kh, kw), output size ``(Ho, Wo)``.
    """
    (N, C), (F, _, kh, kw) = X.shape[:2], W.shape
    D, M, shape = C * kh * kw, N * Ho * Wo, (N, Ho * Wo)
    pixel = int(kh * kw * n_words(C) == n_words(D))  # 1: H_1 comes from the pixel layout
    dots, planes = [], []
    if pixel:  # H_1 per pixel: words (kh*kw*Cw, M), weights (F, kh*kw*Cw)
        a1 = _pixel_words(X, kh, kw, stride, padding, Ho, Wo)
        b1 = pack_signs(W.transpose(0, 2, 3, 1)).reshape(F, -1)  # (F, kh, kw, Cw) -> (F, -1)
        dots.append(_dots(a1, b1, D, (1,) + shape, threads, X.dtype))
        planes += [_unpack_pixel_words(a1, C, kh, kw)] if keep else []
    if np.abs(X).max() > np.finfo(X.dtype).max / (2 * D):  # sums may overflow: expand rescales
        betas, H, _, _ = expand(im2col(X, kh, kw, stride, padding), K, axis=-1)  # (K, N, P, [1|D])
        betas, words = betas.reshape(K, M), pack_signs(H[pixel:]).reshape(K - pixel, M, n_words(D))
    else:
        betas, words = _residual_planes(X, kh, kw, stride, padding, Ho, Wo, K, pixel)
    if K > pixel:
        aT = words.reshape(-1, words.shape[-1]).T  # (K', M, nw) -> (nw, K'*M), word-major
        Bw = pack_signs(W.reshape(F, D))  # (F, nw)
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


def _residual_planes(X, kh, kw, stride, padding, Ho, Wo, K, first):
    """Residual expansion of every im2col row; betas (K, M) and packed planes ``first..K-1``.

    Returns words (K - first, M, ceil(D/64)), identical to packing :func:`expand`'s planes. Blocks
    of rows (that stay in L2) are gathered and expanded in place on one thread (the gathers and
    ``packbits`` hold the GIL), with magnitudes ``E_i = |R_i|`` and sign bits ``S_i`` of ``R_i``
    (``sign(0) = +1``)::

        beta_i = mean E_i,   d = E_i - beta_i,   E_{i+1} = |d|,   S_{i+1} = S_i ? d > 0 : d < 0

    since ``R_{i+1} = R_i - beta_i sign(R_i) = sign(R_i) d`` bit for bit (negation is exact).
    """
    if kh == kw == Ho == Wo == 1 and not padding:  # 1x1 images (horq_linear): one image, N rows
        X, Ho, stride = X.transpose(2, 1, 0, 3), X.shape[0], 1  # (1, C, N, 1)
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
