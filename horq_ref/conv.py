"""The HORQ convolution and dense layer (docs/paper.md §1, §4) on float planes or on bits.

Weights stay at order one (XNOR-Net): ``W_f ~= alpha_f B_f``, ``B_f = sign(W_f)``,
``alpha_f = mean |W_f|`` over the filter's ``C*kh*kw`` entries. Every input group -- one im2col row,
zero padding included; one sample of a dense layer -- gets its own order-K expansion
``X ~= sum_i beta_i H_i`` (:func:`horq_ref.residual_quantize`, ``axis=-1``). With exact integer ±1 dot
products, ::

    Y = sum_i Y_i,     Y_i[n, f, p] = alpha_f * beta_i[n, p] * (B_f . H_i[n, p, :])

Backends (the split is this project's): ``"float"`` multiplies float ±1 planes with BLAS (the planes
of the training layer :func:`horq_ref.nn.conv_layers.horq_conv2d_forward`); ``"bits"`` is the
reference bit path, im2col -> residual expansion -> pack each plane -> XOR + popcount GEMM
(:mod:`horq_ref.bits`) -> combine with ``beta`` and ``alpha``; ``"bits-fast"`` (:mod:`horq_ref.fast.conv`)
does the same with optimized kernels. The dot products are integers, so with the same scales and the
same combination all three give the same outputs, bit for bit. ``scales="refit"`` or ``"alternating"``
(:mod:`horq_ref.scales`) changes how the scales (and the planes) are chosen, not the kernels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .bits import binary_gemm_reference, n_words, pack_signs
from .checks import as_float_array, check_choice, check_order
from .im2col import check_conv_args, im2col
from .quantize import mean_abs, sign
from .scales import SCALES, quantize_with

__all__ = ["horq_conv2d", "horq_linear", "HorqTrace", "BACKENDS"]

BACKENDS = ("float", "bits", "bits-fast")


@dataclass(frozen=True)
class HorqTrace:
    """What a HORQ layer computed (``return_intermediates=True``); ``P = Ho*Wo``, ``D = C*kh*kw``.

    Attributes
    ----------
    planes : ndarray of int8, shape (K, N, P, D)
        ``H_i`` of every column, im2col order; for ``"bits-fast"`` unpacked from the words used.
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
    backend : {"float", "bits", "bits-fast"}
    return_intermediates : bool
        Also return a :class:`HorqTrace`.
    threads : int, optional
        Threads of the ``"bits-fast"`` backend (default: all CPUs of this process); the other
        backends ignore it.
    scales : {"greedy", "refit", "alternating"}
        How the input scales are chosen (:mod:`horq_ref.scales`); greedy is HORQ.

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
    X, W, K = _prepare(x, w, order, backend, ndim=4, scales=scales)
    Ho, Wo = check_conv_args(X, W, stride, padding)
    N, F = X.shape[0], W.shape[0]
    alpha = mean_abs(W, (1, 2, 3)).reshape(F).astype(X.dtype)  # binarize's alpha, (F,)
    if backend == "float":
        dots, betas, planes = _float_dots(X, W, K, stride, padding, scales)
    elif backend == "bits" or scales != "greedy":  # a variant's planes: the reference packing
        dots, betas, planes = _bits_dots(X, W, K, stride, padding, scales, backend, threads)
    else:  # bits-fast: the optimized kernels, bit for bit the same
        from .fast.conv import fast_conv_dots

        dots, betas, planes = fast_conv_dots(X, W, K, stride, padding, Ho, Wo, threads,
                                             return_intermediates)
    betas = betas.reshape(K, N, Ho * Wo)  # (K, N, P)
    Y, Yk = _combine(dots, alpha, betas, return_intermediates)  # (N, F, P), (K, N, F, P) or None
    if not return_intermediates:
        return Y.reshape(N, F, Ho, Wo)
    trace = HorqTrace(planes=planes.reshape(K, N, Ho * Wo, -1).astype(np.int8), betas=betas,
                      alpha=alpha, B=sign(W, np.int8).reshape(F, -1),
                      dots=np.rint(dots).astype(np.int64), Y=Yk.reshape(K, N, F, Ho, Wo),
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
    This is the method's forward alone; :func:`horq_ref.nn.layers.horq_dense_forward` is the training
    layer with the same value plus a bias, and a cache for its backward (docs/notation.md).

    Examples
    --------
    >>> horq_linear([[1.0, -2.0, 3.0]], [[1.0, 1.0, -1.0]], order=1, backend="bits")
    array([[-2.]])
    """
    X, W, K = _prepare(x, w, order, backend, ndim=2, scales=scales)
    out = horq_conv2d(X[:, :, None, None], W[:, :, None, None], K, backend=backend,
                      return_intermediates=return_intermediates, threads=threads, scales=scales)
    if not return_intermediates:
        return out[:, :, 0, 0]  # (N, F, 1, 1) -> (N, F)
    Y, t = out
    trace = HorqTrace(planes=t.planes[:, :, 0], betas=t.betas[:, :, 0], alpha=t.alpha, B=t.B,
                      dots=t.dots[..., 0], Y=t.Y[..., 0, 0], backend=backend)
    return Y[:, :, 0, 0], trace


def _prepare(x, w, order, backend, ndim, scales="greedy"):
    """Validate and convert the common arguments; return ``(X, W, K)``."""
    check_choice(backend, "backend", BACKENDS)
    check_choice(scales, "scales", SCALES)
    K = check_order(order)
    X, W = as_float_array(x, "x"), as_float_array(w, "w")
    for name, arr in (("x", X), ("w", W)):
        if arr.ndim != ndim or arr.size == 0:
            raise ValueError(f"{name} must be {ndim}-D and not empty, got shape {arr.shape}")
    if ndim == 2 and X.shape[1] != W.shape[1]:
        raise ValueError(f"w has {W.shape[1]} inputs per filter, x has {X.shape[1]} features")
    return X, W, K


def _input_planes(cols, K, scales):
    """Scales (K, N, P, 1) and float ±1 planes (K, N, P, D) of the rows of ``cols`` (one group each)."""
    e = quantize_with(cols, K, -1, scales)  # greedy is HORQ; refit, alternating: horq_ref.scales
    return e.betas, e.signs.astype(cols.dtype)


def _float_dots(X, W, K, stride, padding, scales="greedy"):
    """Float backend: the planes of the im2col rows against sign(W) by a float matmul.

    Returns float dots (K, N, F, P), betas (K, N, P, 1) and planes (K, N, P, D).
    """
    F, _, kh, kw = W.shape
    betas, H = _input_planes(im2col(X, kh, kw, stride, padding), K, scales)
    Hx, B = H, sign(W, X.dtype).reshape(F, -1)  # (K, N, P, D), (F, D)
    if X.dtype != np.float64 and H.shape[-1] >= 2**24:  # sums of D ones stop being exact
        Hx, B = H.astype(np.float64), B.astype(np.float64)
    dots = np.matmul(Hx, B.T)  # (K, N, P, F): integers, exact in float
    return dots.astype(X.dtype).transpose(0, 1, 3, 2), betas, H


def _bits_dots(X, W, K, stride, padding, scales, backend, threads):
    """Reference bit path: im2col, residual expansion, pack each plane, XOR + popcount GEMM.

    Returns float dots (K, N, F, P) (integers, exact), betas (K, N, P, 1) and planes (K, N, P, D).
    ``"bits-fast"`` (here only with a scale variant) runs the same GEMM on the tiled kernel.
    """
    F, _, kh, kw = W.shape
    cols = im2col(X, kh, kw, stride, padding)  # (N, P, D)
    (N, P, D), nw = cols.shape, n_words(cols.shape[-1])
    betas, H = _input_planes(cols, K, scales)  # (K, N, P, 1), (K, N, P, D)
    A = pack_signs(H).reshape(K * N * P, nw)  # one row of words per plane row
    Bw = pack_signs(W.reshape(F, D))  # (F, nw)
    if backend == "bits":
        dots = binary_gemm_reference(A, Bw, D)  # (K*N*P, F), int64
    else:
        from .fast.gemm import binary_gemm

        dots = binary_gemm(A, Bw, D, threads)
    dots = dots.reshape(K, N, P, F).transpose(0, 1, 3, 2)  # (K, N, F, P)
    return dots.astype(X.dtype), betas, H


def _combine(dotsf, alpha, betas, keep):
    """``Y_i = (alpha_f beta_i) dots_i`` (K, N, F, P) and ``Y = Y_1 + Y_2 + ...``, in this order."""
    scale = alpha[None, None, :, None] * betas[:, :, None, :]  # (K, N, F, P)
    Yk = np.multiply(scale, dotsf) if keep else None
    Y = np.multiply(scale[0], dotsf[0])
    for i in range(1, dotsf.shape[0]):
        Y += Yk[i] if keep else scale[i] * dotsf[i]
    return Y, Yk
