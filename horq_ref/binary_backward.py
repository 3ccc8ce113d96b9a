"""High-order binary gradient propagation: the backward products of a HORQ layer (docs/paper.md §5).

The forward pass of a HORQ layer on rows ``X`` (M, D) and weights ``W`` (F, D) multiplies two
quantized operands (docs/paper.md §2, §4)::

    Xt = sum_i beta_i H_i   (H_i: ±1, beta_i: one scale per row),   Wt = alpha B   (B = sign W)
    Y  = Xt Wt^T                                                      (M, F)

Its backward pass needs the two adjoint products, and both have a binary operand::

    dXt = dY Wt      = (dY alpha) B                       (M, D)   input gradient
    dWt = dY^T Xt    = sum_i (beta_i dY)^T H_i            (F, D)   weight gradient

A product ``A S`` of a float matrix ``A`` with a ±1 matrix ``S`` needs no multiplication: each output
is a sum of entries of ``A`` over the positions where ``S`` is +1 (clear bit) minus a sum over those
where it is -1 (set bit, :mod:`horq_ref.bits`' convention). :func:`signed_sum` computes exactly that,
one add or subtract per term. What stays a multiplication is the scaling by ``alpha_f`` (``M F``
products) and by ``beta_i`` (``K M F`` products), applied to ``dY`` before the additions: ``alpha_f``
and ``beta_i[m]`` are constant along the summed index, so they can leave the sum.

This is the reading of the abstract's "high-order binary ... gradient propagation" given in
docs/paper.md §5. Each product has one float operand (``dY``), so XOR + popcount does not apply; the
straight-through window and the gradients through ``beta_i`` and ``alpha`` stay in float
(:mod:`horq_ref.ste`). Operation counts: :func:`horq_ref.cost.backward_cost`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .bits import pack_signs, unpack_signs
from .checks import as_float_array, check_order
from .quantize import expand

__all__ = ["BinaryOperands", "binary_operands", "operands_from_planes", "set_mask", "signed_sum",
           "input_gradient", "weight_gradient", "binary_backward", "float_backward"]


class BinaryOperands(NamedTuple):
    """The quantized operands of a HORQ layer as the backward pass reads them.

    Attributes
    ----------
    H_words : ndarray of uint64, shape (K, M, ceil(D / 64))
        Input planes ``H_i``, one packed row per group (set bit = -1).
    beta : ndarray, shape (K, M)
        ``beta_i`` of each row.
    B_words : ndarray of uint64, shape (F, ceil(D / 64))
        ``B = sign(W)``, packed.
    alpha : ndarray, shape (F,)
    n : int
        D, the row length.
    """

    H_words: np.ndarray
    beta: np.ndarray
    B_words: np.ndarray
    alpha: np.ndarray
    n: int


def operands_from_planes(planes, beta, B, alpha):
    """Pack ±1 planes (K, M, D), ``beta`` (K, M), ±1 ``B`` (F, D), ``alpha`` (F,) as BinaryOperands."""
    planes, B = np.asarray(planes), np.asarray(B)
    if planes.ndim != 3 or B.ndim != 2 or planes.shape[2] != B.shape[1]:
        raise ValueError(f"planes (K, M, D) and B (F, D) do not match: {planes.shape}, {B.shape}")
    for name, arr in (("planes", planes), ("B", B)):
        if not np.all(np.abs(arr) == 1):
            raise ValueError(f"{name} must hold only +1 and -1")
    beta, alpha = as_float_array(beta, "beta"), as_float_array(alpha, "alpha")
    if beta.shape != planes.shape[:2] or alpha.shape != B.shape[:1]:
        raise ValueError(f"beta {beta.shape} / alpha {alpha.shape} do not match the planes")
    return BinaryOperands(pack_signs(planes), beta, pack_signs(B), alpha, int(B.shape[1]))


def binary_operands(x, W, order):
    """The operands of a HORQ layer on rows ``x`` (M, D) and weights ``W`` (F, D).

    The same expansions as the forward pass: ``x`` at order K per row, ``W`` at order one per row
    (:func:`horq_ref.quantize.expand`). Returns :class:`BinaryOperands`.
    """
    x, W, K = as_float_array(x, "x"), as_float_array(W, "W"), check_order(order)
    if x.ndim != 2 or W.ndim != 2 or x.shape[1] != W.shape[1]:
        raise ValueError(f"x (M, D) and W (F, D) do not match: {x.shape}, {W.shape}")
    beta, H, _, _ = expand(x, K, axis=-1)  # (K, M, 1), (K, M, D)
    alpha, B, _, _ = expand(W, 1, axis=-1)  # (1, F, 1), (1, F, D)
    return operands_from_planes(H, beta[..., 0], B[0], alpha[0, :, 0])


def set_mask(words, n):
    """``True`` where a packed entry is -1 (its bit is set): words (..., ceil(n/64)) -> (..., n)."""
    return unpack_signs(words, n) < 0


def signed_sum(A, negative):
    """``A S`` for ``S = +1`` where ``negative`` is False and ``-1`` where it is True, by additions.

    Parameters
    ----------
    A : ndarray, shape (M, F)
        Float matrix.
    negative : ndarray of bool, shape (F, D)
        The set bits of the ±1 matrix ``S``.

    Returns
    -------
    ndarray, shape (M, D), dtype of ``A``

    Notes
    -----
    ``out[m, d] = sum_{f: S[f,d] = +1} A[m, f] - sum_{f: S[f,d] = -1} A[m, f]``. Column ``A[:, f]``
    is added to every output whose bit ``f`` is clear and subtracted from every output whose bit is
    set: one addition or subtraction per term, ``np.where`` only chooses which. The terms are those of
    a float GEMM with ±1 entries, added in another order: the two agree to ``(n + 1) eps sum|terms|``
    (``n`` terms per output, ``n (n + 1) eps <= 2``; docs/theory.md §14).

    Examples
    --------
    >>> signed_sum(np.array([[1.0, 2.0, 4.0]]), np.array([[False], [True], [True]]))
    array([[-5.]])
    """
    M, F = A.shape
    out = np.zeros((M, negative.shape[1]), A.dtype)  # (M, D)
    for f in range(F):
        a = A[:, f:f + 1]  # (M, 1)
        out += np.where(negative[f], -a, a)  # (M, D): subtract where the bit is set, else add
    return out


def input_gradient(dY, ops):
    """``dXt = (dY alpha) B`` (M, D) from ``dY`` (M, F): ``M F`` scale products, then additions."""
    scaled = dY * ops.alpha  # (M, F): the scale products
    return signed_sum(scaled, set_mask(ops.B_words, ops.n))


def weight_gradient(dY, ops):
    """``dWt = sum_i (beta_i dY)^T H_i`` (F, D) from ``dY`` (M, F): ``K M F`` products, additions."""
    dWt = None
    for i in range(ops.beta.shape[0]):
        scaled = (dY * ops.beta[i][:, None]).T  # (F, M): the scale products of order i
        term = signed_sum(scaled, set_mask(ops.H_words[i], ops.n))  # (F, D)
        dWt = term if dWt is None else np.add(dWt, term, out=dWt)
    return dWt


def binary_backward(dY, ops):
    """Both gradients at the quantized operands from binary ones: ``(dXt (M, D), dWt (F, D))``.

    Parameters
    ----------
    dY : ndarray, shape (M, F)
    ops : BinaryOperands

    Returns
    -------
    dXt : ndarray, shape (M, D)
    dWt : ndarray, shape (F, D)
    """
    dY = _check_dY(dY, ops)
    return input_gradient(dY, ops), weight_gradient(dY, ops)


def _check_dY(dY, ops):
    dY = as_float_array(dY, "dY")
    if dY.shape != (ops.beta.shape[1], ops.alpha.shape[0]):  # (M, F)
        raise ValueError(f"dY must have shape {(ops.beta.shape[1], ops.alpha.shape[0])}, got {dY.shape}")
    return dY


def float_backward(dY, ops):
    """The same two products with float matrices and BLAS: ``(dY Wt, dY^T Xt)``, for comparison.

    ``Xt = sum_i beta_i H_i`` and ``Wt = alpha B`` are rebuilt from ``ops`` in the dtype of ``dY``.
    """
    dY = _check_dY(dY, ops)
    H = unpack_signs(ops.H_words, ops.n, dtype=dY.dtype)  # (K, M, D)
    Xt = np.sum(ops.beta[:, :, None].astype(dY.dtype) * H, axis=0)  # (M, D)
    Wt = ops.alpha[:, None].astype(dY.dtype) * unpack_signs(ops.B_words, ops.n, dtype=dY.dtype)
    return dY @ Wt, dY.T @ Xt
