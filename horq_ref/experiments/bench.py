"""Measured speed of the bit backend against a float32 im2col + BLAS convolution (docs/paper.md §6).

Both run in one process on the same float32 layer: the baseline is ``im2col(x) @ W.T`` (BLAS, with
whatever threads the BLAS library uses), the contender ``horq_conv2d(..., backend="bits-fast")``
with a NumPy thread pool. Both are timed with :func:`time.perf_counter`, taking turns in each of
``repeats`` rounds (each timed call right after an untimed call of the same function), and the best
time of each is kept. The ratio ``float time / bits time`` is printed next to the model's ``S_K``
(:func:`horq_ref.cost.speedup`), which counts one XOR + popcount of a 64-bit word as one operation,
like one float multiply-add, and data movement as free; NumPy pays a full pass over memory for each of XOR, popcount and sum, so the measured
ratios are far below the model. Their decline with the order is the part to compare.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..conv import horq_conv2d
from ..cost import speedup
from ..fast.gemm import default_threads
from ..im2col import check_conv_args, float_conv2d

__all__ = ["float_conv2d", "best_times", "run_bench", "BenchResult", "BenchRow", "format_bench"]


def best_times(fns, repeats=5):
    """Best wall time (seconds) of each of ``fns`` over ``repeats`` rounds.

    In each round every function runs twice in a row and only the second call is timed: the first
    absorbs the switch from the other function (BLAS worker threads still spinning, cold caches),
    and taking turns means a change of machine load hits all functions alike.
    """
    best = [float("inf")] * len(fns)
    for _ in range(max(1, repeats)):
        for i, fn in enumerate(fns):
            fn()
            t0 = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - t0)
    return best


@dataclass(frozen=True)
class BenchRow:
    """One order: times in seconds, ``ratio = float_seconds / bits_seconds`` (the baseline timed in
    the same rounds), the model's ``S_K`` and ``max |Y_bits - Y_float| / max |Y_float|`` against the
    float backend (a correctness check)."""

    order: int
    float_seconds: float
    bits_seconds: float
    ratio: float
    model_speedup: float
    rel_diff: float


@dataclass(frozen=True)
class BenchResult:
    """The layer, the settings and the measured rows."""

    layer: dict
    threads: int
    repeats: int
    float_seconds: float
    rows: list


def run_bench(batch=4, channels=256, size=16, filters=256, kernel=3, stride=1, padding=1,
              orders=(1, 2, 3), repeats=5, threads=None, seed=0):
    """Time the float32 baseline and the bit backend at each order on one random layer.

    Returns
    -------
    BenchResult
    """
    threads = default_threads() if threads is None else threads
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, channels, size, size)).astype(np.float32)  # (N, C, H, W)
    w = rng.standard_normal((filters, channels, kernel, kernel)).astype(np.float32)  # (F, C, k, k)
    check_conv_args(x, w, stride, padding)
    rows, t_floats = [], []
    for K in orders:  # the baseline is timed again next to each order
        t_float, t_bits = best_times(
            [lambda: float_conv2d(x, w, stride, padding),
             lambda: horq_conv2d(x, w, K, stride, padding, "bits-fast", threads=threads)], repeats)
        t_floats.append(t_float)
        y_bits = horq_conv2d(x, w, K, stride, padding, "bits-fast", threads=threads)
        y_ref = horq_conv2d(x, w, K, stride, padding, "float")
        scale = max(float(np.abs(y_ref).max()), float(np.finfo(np.float32).tiny))
        diff = float(np.abs(y_bits - y_ref).max()) / scale
        rows.append(BenchRow(order=K, float_seconds=t_float, bits_seconds=t_bits,
                             ratio=t_float / t_bits,
                             model_speedup=speedup(channels, kernel, kernel, K), rel_diff=diff))
    layer = dict(batch=batch, channels=channels, size=size, filters=filters, kernel=kernel,
                 stride=stride, padding=padding)
    return BenchResult(layer=layer, threads=threads, repeats=repeats, float_seconds=min(t_floats),
                       rows=rows)


def format_bench(result):
    """The printed report of :func:`run_bench`: one line per order."""
    L = result.layer
    first = result.rows[0] if result.rows else None
    lines = [
        f"layer: N={L['batch']} C={L['channels']} {L['size']}x{L['size']} float32, "
        f"F={L['filters']} {L['kernel']}x{L['kernel']}, stride {L['stride']}, "
        f"padding {L['padding']}",
        f"bits threads: {result.threads}; best of {result.repeats} rounds, each call warmed up",
        f"float32 im2col + BLAS: {result.float_seconds * 1e3:.2f} ms (best over all rounds)",
        "",
        f"{'order':>5} {'float ms':>9} {'bits ms':>9} {'ratio':>7} {'model S_K':>10} "
        f"{'ratio/first':>12} {'model S_K/first':>16} {'rel diff':>9}",
    ]
    for r in result.rows:
        lines.append(f"{r.order:5d} {r.float_seconds * 1e3:9.2f} {r.bits_seconds * 1e3:9.2f} "
                     f"{r.ratio:7.2f} {r.model_speedup:10.2f} {r.ratio / first.ratio:12.2f} "
                     f"{r.model_speedup / first.model_speedup:16.2f} {r.rel_diff:9.1e}")
    lines.append("")
    lines.append("ratio = float ms / bits ms of the same rounds (> 1: bits faster); model S_K "
                 "counts one 64-bit XOR + popcount as one op, like one float multiply-add")
    return "\n".join(lines)
