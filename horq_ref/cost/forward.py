"""Operation and memory model of a binary convolution layer (docs/paper.md §6, after XNOR-Net §3.2).

XNOR-Net counts a float convolution as ``c N_W N_I`` operations per filter (``c`` channels, an
``N_W = kh*kw`` kernel, ``N_I`` output positions) and its binary version as ``c N_W N_I / 64`` word
operations (XNOR + popcount of 64 entries) plus ``N_I`` float operations that apply the scale. An
order-K layer makes K binary passes and applies one scale per order and output,
``Y += (alpha_f beta_i) * (B_f . H_i)``; counted the same way::

    S_K = 64 c N_W / (K c N_W + 64 K) = S_1 / K      (62.27, 31.1, 20.8, 15.6 for c=256, 3x3)

docs/paper.md §6 compares it with the ``64 (K + 1)`` denominator of a secondary description
(``speedup(..., float_ops=order + 1)``). Like XNOR-Net's ``K`` matrix, the residual construction is
per column and shared by all filters, so it is left out of ``S_K``; :class:`LayerCost` counts it.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral

import numpy as np

from ..checks import check_int

__all__ = ["speedup", "layer_cost", "LayerCost", "speedup_table", "SpeedupTable", "refit_cost"]


def speedup(channels, kh, kw, order, word_bits=64, float_ops=None):
    """Theoretical speedup ``S_K`` of an order-K binary layer over its float convolution.

    Parameters
    ----------
    channels : int
        c, input channels.
    kh, kw : int
        Kernel size; ``N_W = kh * kw``.
    order : int
        K, the number of input planes.
    word_bits : int
        Entries per binary word operation (64).
    float_ops : float, optional
        Float operations per output; default ``order`` (see the module notes).

    Returns
    -------
    float

    Notes
    -----
    ``S_K = word_bits c N_W / (K c N_W + word_bits * float_ops)``

    Examples
    --------
    >>> round(speedup(256, 3, 3, 1), 2), round(speedup(256, 3, 3, 2), 2)
    (62.27, 31.14)
    """
    c, K = check_int(channels, "channels", minimum=1), check_int(order, "order", minimum=1)
    n_w = check_int(kh, "kh", minimum=1) * check_int(kw, "kw", minimum=1)
    bits = check_int(word_bits, "word_bits", minimum=1)
    f = K if float_ops is None else float(float_ops)
    if not f >= 0:
        raise ValueError(f"float_ops must be >= 0, got {float_ops!r}")
    return bits * c * n_w / (K * c * n_w + bits * f)


@dataclass(frozen=True)
class LayerCost:
    """Operation counts and memory of one order-K binary convolution layer (all filters).

    Attributes
    ----------
    channels, kh, kw, positions, filters, order, word_bits : int
        c, kernel size, N_I output positions, F filters, K, bits per word.
    float_macs : int
        ``F N_I c N_W``: multiply-adds of the float convolution.
    xor_words : int
        ``K F N_I ceil(c N_W / 64)``: XOR word operations (each one popcount follows).
    popcounts : int
        Equal to ``xor_words``.
    float_ops_scale : int
        ``K F N_I``: applying ``alpha_f beta_i`` to each integer dot product, one per order.
    float_ops_residual : int
        ``N_I (K (n + 1) + (K - 1) n)`` with ``n = c N_W``: K means of ``|R|`` and K - 1 updates
        ``R - beta H`` per column (the signs cost no float operations).
    weight_bytes_float32, weight_bytes_packed : int
        ``4 F n`` against ``8 F ceil(n / 64) + 4 F`` (packed signs and one float32 alpha per filter).
    input_bytes_float32, input_bytes_packed : int
        Columns as float32 ``4 N_I n`` against K packed planes and betas ``K N_I (8 ceil(n/64) + 4)``.
    """

    channels: int
    kh: int
    kw: int
    positions: int
    filters: int
    order: int
    word_bits: int
    float_macs: int
    xor_words: int
    popcounts: int
    float_ops_scale: int
    float_ops_residual: int
    weight_bytes_float32: int
    weight_bytes_packed: int
    input_bytes_float32: int
    input_bytes_packed: int

    @property
    def speedup_model(self):
        """``S_K`` of :func:`speedup` for this layer's c, kh, kw, K."""
        return speedup(self.channels, self.kh, self.kw, self.order, self.word_bits)

    @property
    def speedup_counted(self):
        """``float_macs / (xor_words + float_ops_scale + float_ops_residual)``: whole words, residuals."""
        return self.float_macs / (self.xor_words + self.float_ops_scale + self.float_ops_residual)

    @property
    def weight_compression(self):
        """``weight_bytes_float32 / weight_bytes_packed`` (just under 32)."""
        return self.weight_bytes_float32 / self.weight_bytes_packed


def layer_cost(channels, kh, kw, positions, filters, order, word_bits=64):
    """Count the operations and bytes of an order-K binary layer; see :class:`LayerCost`.

    Examples
    --------
    >>> cost = layer_cost(256, 3, 3, positions=256, filters=256, order=2)
    >>> cost.xor_words == 2 * 256 * 256 * 36, round(cost.weight_compression, 1)
    (True, 31.6)
    """
    c, K = check_int(channels, "channels", minimum=1), check_int(order, "order", minimum=1)
    kh, kw = check_int(kh, "kh", minimum=1), check_int(kw, "kw", minimum=1)
    N_I = check_int(positions, "positions", minimum=1)
    F = check_int(filters, "filters", minimum=1)
    bits = check_int(word_bits, "word_bits", minimum=1)
    n = c * kh * kw
    words = -(-n // bits)
    return LayerCost(
        channels=c, kh=kh, kw=kw, positions=N_I, filters=F, order=K, word_bits=bits,
        float_macs=F * N_I * n,
        xor_words=K * F * N_I * words,
        popcounts=K * F * N_I * words,
        float_ops_scale=K * F * N_I,
        float_ops_residual=N_I * (K * (n + 1) + (K - 1) * n),
        weight_bytes_float32=4 * F * n,
        weight_bytes_packed=F * (words * bits // 8 + 4),
        input_bytes_float32=4 * N_I * n,
        input_bytes_packed=K * N_I * (words * bits // 8 + 4),
    )


@dataclass(frozen=True)
class SpeedupTable:
    """``S_K`` on a grid: ``values[s, c, k]`` for ``kernel_sizes[s]``, ``channels[c]``, ``orders[k]``
    (the model :func:`speedup`, not the paper's table). Printed by ``horq-ref speedup``."""

    orders: tuple
    channels: tuple
    kernel_sizes: tuple
    values: np.ndarray


def speedup_table(orders=(1, 2, 3, 4), channels=(64, 128, 256, 512), kernel_sizes=(1, 3, 5),
                  word_bits=64):
    """The analogue of the paper's Table 2 from the model :func:`speedup`.

    Parameters
    ----------
    orders, channels : sequence of int
    kernel_sizes : sequence of int or (kh, kw)
        ``3`` means 3x3.

    Returns
    -------
    SpeedupTable
        ``values`` of shape (len(kernel_sizes), len(channels), len(orders)).
    """
    sizes = tuple((k, k) if isinstance(k, Integral) else tuple(k) for k in kernel_sizes)
    if any(len(k) != 2 for k in sizes):
        raise ValueError(f"kernel_sizes must hold ints or (kh, kw) pairs, got {kernel_sizes!r}")
    orders, channels = tuple(orders), tuple(channels)
    values = np.array([[[speedup(c, kh, kw, K, word_bits) for K in orders] for c in channels]
                       for kh, kw in sizes], dtype=float).reshape(len(sizes), len(channels),
                                                                   len(orders))
    return SpeedupTable(orders=orders, channels=channels, kernel_sizes=sizes, values=values)


def refit_cost(group_size, order, word_bits=64):
    """What the least-squares refit of the scales (:mod:`horq_ref.scales`) adds per input group.

    The Gram matrix of the ``K`` planes needs the ``K (K - 1) / 2`` off-diagonal ``<H_i, H_j>``
    (XNOR + popcount over ``ceil(n / word_bits)`` words each; the diagonal is ``n``), the right-hand
    side ``H^T X`` is ``K n`` float additions, and the ``K x K`` solve about ``K^3`` float operations.
    Greedy's own scales cost ``~3 K n`` float operations (``|R|``, its mean, ``R - beta H``); the
    refit is per group and shared by every filter, like the residual construction.

    Returns
    -------
    dict with ``word_ops``, ``float_ops`` (added by the refit) and ``greedy_float_ops``.

    Examples
    --------
    >>> refit_cost(576, 2)
    {'word_ops': 9, 'float_ops': 1160, 'greedy_float_ops': 3456}
    """
    n, K = check_int(group_size, "group_size", minimum=1), check_int(order, "order", minimum=1)
    w = check_int(word_bits, "word_bits", minimum=1)
    return {"word_ops": K * (K - 1) // 2 * -(-n // w), "float_ops": K * n + K**3,
            "greedy_float_ops": 3 * K * n}
