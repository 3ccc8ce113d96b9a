"""Measured speed of the bit backend against a float32 im2col + BLAS convolution (docs/paper.md §6).

Both run in one process on the same float32 layer, each on ``threads`` threads when given
(:func:`horq_ref.experiments.blas.set_blas_threads`), timed in the same rounds
(:func:`interleaved_times`). The report gives each side's median and interquartile range (IQR) and
the ratio of the medians with the range the quartiles allow, withheld when that range contains 1 (a
busy machine: the rounds cannot say which side is faster). Beside it the model's ``S_K``
(:func:`horq_ref.cost.speedup`); why the measured ratios are far below it, and why their decline
with the order is the part to compare: docs/performance.md.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import numpy as np

from ..conv import horq_conv2d
from ..cost import speedup
from ..fast.gemm import default_threads
from ..im2col import check_conv_args, cols_matmul, conv_output_shape, im2col

__all__ = ["float_conv2d", "interleaved_times", "best_times", "Spread", "timing_stats", "random_layer",
           "layer_text", "run_bench", "BenchResult", "BenchRow", "format_bench", "MEMORY_SHARE"]

MEMORY_SHARE = 4  # the im2col matrix of the layer may use at most 1/4 of the machine's memory


def float_conv2d(x, w, stride=1, padding=0):
    """Full-precision convolution (cross-correlation): im2col, then one BLAS matrix product.

    ``x`` (N, C, H, W), ``w`` (F, C, kh, kw) -> (N, F, Ho, Wo) in the dtype of ``x``; the value of
    :func:`horq_ref.nn.conv_layers.conv2d_forward` without the bias.
    """
    Ho, Wo = check_conv_args(x, w, stride, padding)
    F, _, kh, kw = w.shape
    Wr = w.reshape(F, -1).astype(x.dtype, copy=False)  # (F, D)
    return cols_matmul(im2col(x, kh, kw, stride, padding), Wr, Ho, Wo)


def interleaved_times(fns, repeats=5, warm_up=True):
    """Wall times (seconds) of each of ``fns`` over ``repeats`` rounds: ``times[i][r]``.

    Each round calls every function, in the reverse order every other round, so that a change of
    machine load hits all of them alike. With ``warm_up`` each timed call follows an untimed one,
    which absorbs the switch from the other function (BLAS worker threads still spinning, cold
    caches); the backward bench goes without, as its reference products are slow.
    """
    times = [[] for _ in fns]
    for r in range(max(1, repeats)):
        for i in range(len(fns)) if r % 2 == 0 else reversed(range(len(fns))):
            if warm_up:
                fns[i]()
            t0 = time.perf_counter()
            fns[i]()
            times[i].append(time.perf_counter() - t0)
    return times


def best_times(fns, repeats=5):
    """The best of :func:`interleaved_times` for each of ``fns`` (seconds)."""
    return [min(t) for t in interleaved_times(fns, repeats)]


@dataclass(frozen=True)
class Spread:
    """The median of per-round values (seconds, or a ratio of two times) and a range around it."""

    median: float
    low: float
    high: float

    @classmethod
    def of(cls, values, low=0, high=100):
        """The median and the ``low`` and ``high`` percentiles (default: the whole range)."""
        return cls(*(float(v) for v in np.percentile(values, [50, low, high])))

    @property
    def straddles_one(self):
        """True when the range holds 1: the rounds do not say which side is faster."""
        return self.low <= 1 <= self.high


def timing_stats(float_times, bits_times):
    """Medians, IQRs and the ratio ``median float / median bits`` with its quartile range.

    Returns
    -------
    dict
        ``float_seconds``, ``bits_seconds`` (medians), ``float_iqr``, ``bits_iqr``, ``ratio``,
        ``ratio_low = q1_float / q3_bits``, ``ratio_high = q3_float / q1_bits`` and ``reliable``:
        the range leaves out 1, so the rounds say which side is faster.
    """
    f, b = Spread.of(float_times, 25, 75), Spread.of(bits_times, 25, 75)
    ratio = Spread(f.median / b.median, f.low / b.high, f.high / b.low)
    return {"float_seconds": f.median, "bits_seconds": b.median, "float_iqr": f.high - f.low,
            "bits_iqr": b.high - b.low, "ratio": ratio.median, "ratio_low": ratio.low,
            "ratio_high": ratio.high, "reliable": not ratio.straddles_one}


@dataclass(frozen=True)
class BenchRow:
    """One order: median times and IQRs in seconds, ``ratio = float_seconds / bits_seconds`` (the
    baseline timed in the same rounds) with its quartile range and ``reliable`` (see
    :func:`timing_stats`), the model's ``S_K`` and ``max |Y_bits - Y_float| / max |Y_float|`` against
    the float backend (a correctness check)."""

    order: int
    float_seconds: float
    bits_seconds: float
    float_iqr: float
    bits_iqr: float
    ratio: float
    ratio_low: float
    ratio_high: float
    reliable: bool
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
    blas: dict


def run_bench(batch=4, channels=256, size=16, filters=256, kernel=3, stride=1, padding=1,
              orders=(1, 2, 3), repeats=5, threads=None, seed=0):
    """Time the float32 baseline and the bit backend at each order on one random layer.

    ``threads``: both sides' thread count (the bit kernel's pool and the BLAS library); None leaves
    BLAS as it is and gives the bit kernel :func:`horq_ref.fast.gemm.default_threads`. Returns a
    :class:`BenchResult`.
    """
    from .blas import blas_info, set_blas_threads

    _check_memory(batch, channels, size, filters, kernel, stride, padding)
    if threads is not None:
        set_blas_threads(threads)
    threads = default_threads() if threads is None else threads
    x, w, layer = random_layer(np.random.default_rng(seed), batch, channels, size, filters, kernel,
                               stride, padding)
    rows = [_bench_order(x, w, K, stride, padding, repeats, threads) for K in orders]
    return BenchResult(layer=layer, threads=threads, repeats=repeats,
                       float_seconds=min(r.float_seconds for r in rows), rows=rows,
                       blas=blas_info(threads))


def random_layer(rng, batch, channels, size, filters, kernel, stride, padding):
    """A random float32 layer of both benches: ``x`` (N, C, H, W), ``w`` (F, C, k, k), its settings."""
    x = rng.standard_normal((batch, channels, size, size)).astype(np.float32)  # (N, C, H, W)
    w = rng.standard_normal((filters, channels, kernel, kernel)).astype(np.float32)  # (F, C, k, k)
    check_conv_args(x, w, stride, padding)
    return x, w, dict(batch=batch, channels=channels, size=size, filters=filters, kernel=kernel,
                      stride=stride, padding=padding)


def layer_text(L):
    """The layer of a bench result in words, the first line of both reports."""
    return (f"layer: N={L['batch']} C={L['channels']} {L['size']}x{L['size']} float32, F={L['filters']} "
            f"{L['kernel']}x{L['kernel']}, stride {L['stride']}, padding {L['padding']}")


def _check_memory(batch, channels, size, filters, kernel, stride, padding):
    """Refuse a layer whose im2col matrix (float32) needs more than 1/:data:`MEMORY_SHARE` of the
    machine's physical memory (2 GiB where the platform does not say), read now, not at import."""
    try:
        allowed = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // MEMORY_SHARE
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not on POSIX
        allowed = 2 << 30
    Ho, Wo = conv_output_shape(size, size, kernel, kernel, stride, padding)
    need = 4 * batch * Ho * Wo * (channels * kernel * kernel + filters)
    if need > allowed:
        raise ValueError(f"this layer (size {size}, padding {padding}, kernel {kernel}, batch "
                         f"{batch}) needs {need / 2**30:,.1f} GiB of memory for its im2col matrix, "
                         f"more than the {allowed / 2**30:.1f} GiB allowed")


def _bench_order(x, w, K, stride, padding, repeats, threads):
    t_float, t_bits = interleaved_times(
        [lambda: float_conv2d(x, w, stride, padding),
         lambda: horq_conv2d(x, w, K, stride, padding, "bits-fast", threads=threads)], repeats)
    y_bits = horq_conv2d(x, w, K, stride, padding, "bits-fast", threads=threads)
    y_ref = horq_conv2d(x, w, K, stride, padding, "float")
    scale = max(float(np.abs(y_ref).max()), float(np.finfo(np.float32).tiny))
    return BenchRow(order=K, **timing_stats(t_float, t_bits),
                    model_speedup=speedup(x.shape[1], w.shape[2], w.shape[3], K),
                    rel_diff=float(np.abs(y_bits - y_ref).max()) / scale)


def format_bench(result):
    """The printed report of :func:`run_bench`: one line per order and a legend of the columns; a ratio
    whose quartile range contains 1 is withheld, and every "/first" column divides by the same row."""
    L, rows = result.layer, result.rows
    first = next((r for r in rows if r.reliable), None)
    lines = [layer_text(L), f"threads: {result.threads} (bits pool); BLAS threads: {result.blas.get('threads')} "
             f"({result.blas.get('name')}); median of {result.repeats} interleaved rounds, each call warmed up",
             "", f"{'order':>5} {'float ms':>9} {'IQR':>7} {'bits ms':>9} {'IQR':>7} {'ratio':>7} "
             f"{'ratio range':>13} {'model S_K':>10} {'ratio/first':>12} {'S_K/first':>10} {'rel diff':>9}"]
    for r in rows:
        ratio = f"{r.ratio:7.2f}" if r.reliable else "    n/a"
        rel = f"{r.ratio / first.ratio:12.2f}" if r.reliable else f"{'-':>12}"
        s_rel = f"{r.model_speedup / first.model_speedup:10.2f}" if first else f"{'-':>10}"
        lines.append(f"{r.order:5d} {r.float_seconds * 1e3:9.2f} {r.float_iqr * 1e3:7.2f} "
                     f"{r.bits_seconds * 1e3:9.2f} {r.bits_iqr * 1e3:7.2f} {ratio} "
                     f"{r.ratio_low:6.2f}-{r.ratio_high:<6.2f} {r.model_speedup:10.2f} {rel} "
                     f"{s_rel} {r.rel_diff:9.1e}")
    lines += ["", "float ms, bits ms: median times of the float32 im2col + BLAS convolution and of the bit "
              "backend; IQR: their\ninterquartile ranges. ratio = float ms / bits ms (> 1: bits faster); "
              "ratio range: q1 float / q3 bits to\nq3 float / q1 bits. model S_K: horq-ref speedup's formula "
              "(one 64-bit XOR + popcount = one operation).\nrel diff: max |Y_bits - Y_float| / max |Y_float| "
              "against the float backend of the layer (a correctness check)."]
    lines += [f"ratio/first, S_K/first: both relative to order {first.order}, the first order with a ratio."
              ] if first else []
    lines += [f"order {r.order}: ratio withheld: its range {r.ratio_low:.2f}-{r.ratio_high:.2f} contains 1, "
              f"so these rounds cannot tell\n  which side is faster (a busy machine?); rerun with more "
              f"--repeats or fewer other processes" for r in rows if not r.reliable]
    return "\n".join(lines)
