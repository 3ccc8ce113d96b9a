"""im2col / col2im with strided views (docs/paper.md §4).

A convolution becomes one matrix product once every receptive field is laid out as a row::

    cols[n, p, :] = the C*kh*kw values under the filter at output position p of sample n
                    (zero padding included), ordered (c, i, j) like ``w.reshape(F, C*kh*kw)``.

So ``Y[n, f, p] = cols[n, p, :] @ w.reshape(F, -1)[f]``. In HORQ each row ``cols[n, p, :]`` is one
*input group*: it gets its own scales ``beta_i`` (``axis=-1``).

:func:`cols_matmul` is that product (the training layers' GEMM). ``col2im`` is the adjoint of
``im2col`` (overlapping patches add up), which is what the backward pass of a convolution needs.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .checks import check_int

__all__ = ["conv_output_shape", "im2col", "col2im", "check_conv_args", "cols_matmul"]


def conv_output_shape(H, W, kh, kw, stride=1, padding=0):
    """Output height and width ``(Ho, Wo)`` of a convolution; raise if the kernel does not fit."""
    stride = check_int(stride, "stride", minimum=1)
    padding = check_int(padding, "padding", minimum=0)
    if kh > H + 2 * padding or kw > W + 2 * padding:
        raise ValueError(f"kernel size ({kh}, {kw}) is larger than the padded input "
                         f"({H + 2 * padding}, {W + 2 * padding})")
    return (H + 2 * padding - kh) // stride + 1, (W + 2 * padding - kw) // stride + 1


def check_conv_args(x, w, stride=1, padding=0):
    """Validate a convolution's arguments; return ``(Ho, Wo)``.

    Raises ``ValueError`` naming the argument for non-4-D arrays, a channel mismatch, ``stride < 1``,
    ``padding < 0`` or a kernel larger than the padded input.
    """
    if np.ndim(x) != 4:
        raise ValueError(f"x must be 4-D (N, C, H, W), got shape {np.shape(x)}")
    if np.ndim(w) != 4:
        raise ValueError(f"w must be 4-D (F, C, kh, kw), got shape {np.shape(w)}")
    if x.shape[1] != w.shape[1]:
        raise ValueError(f"w has {w.shape[1]} input channels but x has {x.shape[1]} (channel mismatch)")
    return conv_output_shape(x.shape[2], x.shape[3], w.shape[2], w.shape[3], stride, padding)


def im2col(x, kh, kw, stride=1, padding=0):
    """Receptive fields of ``x`` as rows.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    kh, kw : int
        Kernel height and width.
    stride, padding : int
        Stride >= 1 and zero padding >= 0 on every side.

    Returns
    -------
    cols : ndarray, shape (N, Ho*Wo, C*kh*kw), a contiguous copy in the dtype of ``x``.

    Examples
    --------
    >>> x = np.arange(9.0).reshape(1, 1, 3, 3)
    >>> im2col(x, 2, 2)[0]
    array([[0., 1., 3., 4.],
           [1., 2., 4., 5.],
           [3., 4., 6., 7.],
           [4., 5., 7., 8.]])
    """
    N, C, H, W = x.shape
    Ho, Wo = conv_output_shape(H, W, kh, kw, stride, padding)
    if padding:
        x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    win = sliding_window_view(x, (kh, kw), axis=(2, 3))  # (N, C, H', W', kh, kw), a view
    win = win[:, :, ::stride, ::stride][:, :, :Ho, :Wo]  # (N, C, Ho, Wo, kh, kw)
    cols = win.transpose(0, 2, 3, 1, 4, 5)  # (N, Ho, Wo, C, kh, kw)
    return cols.reshape(N, Ho * Wo, C * kh * kw)  # copies: the view is not contiguous


def cols_matmul(cols, Wr, Ho, Wo):
    """``Y[n, f, p] = cols[n, p] . Wr[f]`` as one matrix product, shaped as an image.

    ``cols`` (N, P, D) with ``P = Ho*Wo``, ``Wr`` (F, D); returns ``Y`` (N, F, Ho, Wo), contiguous.
    """
    N, P, D = cols.shape
    Y = cols.reshape(N * P, D) @ Wr.T  # (N*P, F)
    return np.ascontiguousarray(Y.reshape(N, Ho, Wo, -1).transpose(0, 3, 1, 2))  # (N, F, Ho, Wo)


def col2im(cols, x_shape, kh, kw, stride=1, padding=0):
    """Adjoint of :func:`im2col`: scatter-add rows back into an image.

    Parameters
    ----------
    cols : ndarray, shape (N, Ho*Wo, C*kh*kw)
    x_shape : tuple (N, C, H, W)

    Returns
    -------
    dx : ndarray, shape (N, C, H, W); overlapping receptive fields add up.
    """
    N, C, H, W = x_shape
    Ho, Wo = conv_output_shape(H, W, kh, kw, stride, padding)
    c = cols.reshape(N, Ho, Wo, C, kh, kw)
    dxp = np.zeros((N, C, H + 2 * padding, W + 2 * padding), dtype=cols.dtype)
    for i in range(kh):  # kh*kw strided adds, each over the whole batch
        for j in range(kw):
            hs = slice(i, i + stride * (Ho - 1) + 1, stride)
            ws = slice(j, j + stride * (Wo - 1) + 1, stride)
            dxp[:, :, hs, ws] += c[:, :, :, :, i, j].transpose(0, 3, 1, 2)  # (N, C, Ho, Wo)
    if padding:
        return dxp[:, :, padding:-padding, padding:-padding]
    return dxp
