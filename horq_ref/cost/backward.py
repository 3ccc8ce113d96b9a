"""Operation counts of the backward pass of a HORQ layer: float GEMMs against binary operands.

The two backward products of a layer, ``dY Wt`` and ``dY^T Xt``, have one ±1 operand each; on binary
operands (:mod:`horq_ref.binary_backward`) they need additions only, after ``(K + 1) M F`` scale
products; by table lookup (:mod:`horq_ref.fast.lut`) about g / (1 + 2^g / n) times fewer.
docs/theory.md §14-15 derive the counts.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..checks import check_int
from .forward import speedup

__all__ = ["BackwardCost", "backward_cost", "lut_additions"]


@dataclass(frozen=True)
class BackwardCost:
    """Operation counts of the two backward products of one HORQ layer, float against binary.

    ``M`` rows (im2col rows of the batch, ``N Ho Wo``), ``F`` filters, ``n = c kh kw``, order K.
    Float: ``dY Wt`` and ``dY^T Xt`` as GEMMs. Binary (:mod:`horq_ref.binary_backward`):
    ``(dY alpha) B`` and ``sum_i (beta_i dY)^T H_i``, additions only after the scale products (a
    subtraction counts as an addition; the first term of a sum is a sign flip, not counted). The bias
    gradient and the straight-through backward are the same in both and not counted.

    Attributes
    ----------
    rows, filters, n, order : int
    float_mults_input, float_adds_input : int
        ``M F n`` and ``M n (F - 1)``.
    float_mults_weight, float_adds_weight : int
        ``F n M`` and ``F n (M - 1)``.
    binary_adds_input : int
        ``M n (F - 1)``.
    binary_adds_weight : int
        ``K F n (M - 1) + (K - 1) F n`` (K sums over the rows, then K - 1 sums over the orders).
    scale_mults_input, scale_mults_weight : int
        ``M F`` (``dY alpha``) and ``K M F`` (``beta_i dY``): the multiplications that remain.
    group : int
        g, the rows of the ±1 operand per table of the table-lookup variant.
    lut_adds_input, lut_adds_weight : int
        Additions of the same binary products by table lookup (:mod:`horq_ref.fast.lut`, the same
        scale products): :func:`lut_additions` of ``(M, F)`` and of ``(F, K M)``.
    """

    rows: int
    filters: int
    n: int
    order: int
    float_mults_input: int
    float_adds_input: int
    float_mults_weight: int
    float_adds_weight: int
    binary_adds_input: int
    binary_adds_weight: int
    scale_mults_input: int
    scale_mults_weight: int
    group: int
    lut_adds_input: int
    lut_adds_weight: int

    @property
    def float_ops(self):
        """All multiplications and additions of the float backward."""
        return (self.float_mults_input + self.float_adds_input + self.float_mults_weight
                + self.float_adds_weight)

    @property
    def binary_ops(self):
        """All additions and the scale multiplications of the binary backward."""
        return (self.binary_adds_input + self.binary_adds_weight + self.scale_mults_input
                + self.scale_mults_weight)

    @property
    def mults_ratio(self):
        """Float multiplications per remaining scale multiplication: ``2 n / (K + 1)``."""
        return (self.float_mults_input + self.float_mults_weight) / (
            self.scale_mults_input + self.scale_mults_weight)


def backward_cost(channels, kh, kw, rows, filters, order, group=8):
    """Count the backward products of an order-K layer; see :class:`BackwardCost`.

    Examples
    --------
    >>> c = backward_cost(256, 3, 3, rows=1024, filters=256, order=1)
    >>> c.float_mults_input == 1024 * 256 * 2304, c.scale_mults_input + c.scale_mults_weight
    (True, 524288)
    """
    n = (check_int(channels, "channels", minimum=1) * check_int(kh, "kh", minimum=1)
         * check_int(kw, "kw", minimum=1))
    M, F = check_int(rows, "rows", minimum=1), check_int(filters, "filters", minimum=1)
    K, g = check_int(order, "order", minimum=1), check_int(group, "group", minimum=1)
    return BackwardCost(
        rows=M, filters=F, n=n, order=K,
        float_mults_input=M * F * n, float_adds_input=M * n * (F - 1),
        float_mults_weight=F * n * M, float_adds_weight=F * n * (M - 1),
        binary_adds_input=M * n * (F - 1),
        binary_adds_weight=K * F * n * (M - 1) + (K - 1) * F * n,
        scale_mults_input=M * F, scale_mults_weight=K * M * F, group=g,
        lut_adds_input=sum(lut_additions(M, F, n, g)),
        lut_adds_weight=sum(lut_additions(F, K * M, n, g)),
    )


def lut_additions(rows, inner, n, group):
    """Additions of ``A S``, ``A`` (P = rows, Q = inner) float, ``S`` (Q, n) ±1, by tables of g =
    group rows of ``S``: ``(tables, lookups) = (G (2^g - 2) P, (G - 1) P n)``, ``G = ceil(Q / g)``
    (docs/theory.md §15). When g divides Q the total is ``(Q/g)(2^g P + P n) - 2 (Q/g) P - P n``."""
    G = -(-inner // group)
    return G * ((1 << group) - 2) * rows, (G - 1) * rows * n
