"""Measured speed of the backward products on binary operands against the float GEMMs (docs/paper.md §5).

One random float32 layer (the bench layer of ``horq-ref bench``), one process. The float side is
what the ``"float"`` backend computes, ``dY Wt`` and ``dY^T Xt`` with BLAS on the float operands it
keeps; the binary side is :func:`horq_ref.binary_backward.binary_backward` on the packed planes and
signs (unpacking the masks included). In each round both are timed once, in alternating order; the
report gives the median time of each and the median and range of the per-round ratios
``float / binary`` (below 1: the binary backward is slower).

Why the ratio is what it is: the op counts (:func:`horq_ref.cost.backward_cost`) say the binary
backward does ``(K + 1) / 2`` times as many additions as the float one does multiply-adds, and almost
no multiplications (a factor ``2 n / (K + 1)`` fewer). BLAS fuses each multiply-add into one vector instruction on data held
in registers and cache; NumPy cannot fuse ``np.where`` with ``+=``, so every term of
:func:`~horq_ref.binary_backward.signed_sum` is a select and an add, each a full pass over an
``(M, D)`` array in memory. The measured ratio is set by that difference in memory traffic, not by
the arithmetic the two forms need.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..binary_backward import binary_backward, binary_operands
from ..bits import unpack_signs
from ..cost import backward_cost
from ..im2col import check_conv_args, im2col

__all__ = ["run_backward_bench", "BackwardBench", "BackwardRow", "format_backward_bench",
           "alternating_times"]


def alternating_times(fns, repeats):
    """Wall times (seconds), shape (repeats, len(fns)): each round calls every function once,
    the order reversed every other round, so a change of machine load hits all of them alike.

    Unlike :func:`horq_ref.experiments.bench.interleaved_times` there is no untimed warm-up call
    per round: the reference binary products are slow, and a warm-up call would double the
    bench's run time."""
    times = np.empty((max(1, repeats), len(fns)))
    for r in range(times.shape[0]):
        order = range(len(fns)) if r % 2 == 0 else reversed(range(len(fns)))
        for i in order:
            t0 = time.perf_counter()
            fns[i]()
            times[r, i] = time.perf_counter() - t0
    return times


@dataclass(frozen=True)
class BackwardRow:
    """One order: median seconds, the per-round ``float / binary`` ratio (median, min, max), the
    op-count ratio ``float ops / binary ops`` and ``max |binary - float| / max |float|``."""

    order: int
    float_seconds: float
    binary_seconds: float
    ratio: float
    ratio_min: float
    ratio_max: float
    counted_ratio: float
    rel_diff: float


@dataclass(frozen=True)
class BackwardBench:
    """The layer, ``M`` (rows), the repeats and the measured rows."""

    layer: dict
    rows_M: int
    repeats: int
    rows: list


def _layer(batch, channels, size, filters, kernel, stride, padding, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, channels, size, size)).astype(np.float32)  # (N, C, H, W)
    w = rng.standard_normal((filters, channels, kernel, kernel)).astype(np.float32)
    check_conv_args(x, w, stride, padding)
    cols = im2col(x, kernel, kernel, stride, padding)  # (N, P, D)
    rows = cols.reshape(-1, cols.shape[2])  # (M, D)
    dY = rng.standard_normal((rows.shape[0], filters)).astype(np.float32)  # (M, F)
    return rows, w.reshape(filters, -1), dY


def run_backward_bench(batch=4, channels=256, size=16, filters=256, kernel=3, stride=1, padding=1,
                       orders=(1, 2, 3), repeats=5, seed=0):
    """Time the float and the binary backward products of one layer at each order.

    Returns
    -------
    BackwardBench
    """
    rows, Wr, dY = _layer(batch, channels, size, filters, kernel, stride, padding, seed)
    out = []
    for K in orders:
        ops = binary_operands(rows, Wr, K)
        H = unpack_signs(ops.H_words, ops.n, dtype=np.float32)  # (K, M, D)
        Xt = np.einsum("km,kmd->md", ops.beta, H)  # (M, D): the float operands the float backend keeps
        Wt = ops.alpha[:, None] * unpack_signs(ops.B_words, ops.n, dtype=np.float32)  # (F, D)

        def float_fn():
            return dY @ Wt, dY.T @ Xt

        float_fn()  # warm BLAS up
        t = alternating_times([float_fn, lambda: binary_backward(dY, ops)], repeats)
        ratios = t[:, 0] / t[:, 1]
        (dXf, dWf), (dXb, dWb) = float_fn(), binary_backward(dY, ops)
        diff = max(np.abs(dXb - dXf).max() / np.abs(dXf).max(), np.abs(dWb - dWf).max() / np.abs(dWf).max())
        cost = backward_cost(channels, kernel, kernel, rows.shape[0], filters, K)
        out.append(BackwardRow(K, float(np.median(t[:, 0])), float(np.median(t[:, 1])),
                               float(np.median(ratios)), float(ratios.min()), float(ratios.max()),
                               cost.float_ops / cost.binary_ops, float(diff)))
    layer = dict(batch=batch, channels=channels, size=size, filters=filters, kernel=kernel,
                 stride=stride, padding=padding)
    return BackwardBench(layer=layer, rows_M=rows.shape[0], repeats=repeats, rows=out)


def format_backward_bench(result):
    """The printed report of :func:`run_backward_bench`: one line per order."""
    L = result.layer
    lines = [
        f"layer: N={L['batch']} C={L['channels']} {L['size']}x{L['size']} float32, "
        f"F={L['filters']} {L['kernel']}x{L['kernel']}, stride {L['stride']}, padding "
        f"{L['padding']}: M={result.rows_M} rows",
        f"backward products dY·Wt and dY^T·Xt: float (BLAS) against binary operands (additions "
        f"only); {result.repeats} interleaved rounds",
        "",
        f"{'order':>5} {'float ms':>9} {'binary ms':>10} {'ratio':>7} {'range':>15} "
        f"{'counted':>8} {'rel diff':>9}",
    ]
    for r in result.rows:
        lines.append(f"{r.order:5d} {r.float_seconds * 1e3:9.2f} {r.binary_seconds * 1e3:10.1f} "
                     f"{r.ratio:7.4f} {f'{r.ratio_min:.4f}-{r.ratio_max:.4f}':>15} "
                     f"{r.counted_ratio:8.2f} {r.rel_diff:9.1e}")
    lines += ["", "ratio = float ms / binary ms per round (median, range; < 1: binary slower); "
              "counted = float ops / binary ops (cost.backward_cost). Each product has one float "
              "operand (dY): no XOR + popcount, no 64-fold packing gain; NumPy cannot fuse the "
              "select and the add of each term, BLAS fuses multiply-adds in registers."]
    return "\n".join(lines)
