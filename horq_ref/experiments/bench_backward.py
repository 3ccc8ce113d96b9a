"""Measured speed of the backward products on binary operands against the float GEMMs (docs/paper.md §5).

One random float32 layer (the bench layer of ``horq-ref bench``), one process, three ways to the
same two products ``dY Wt`` and ``dY^T Xt`` (:data:`SIDES`): *float*, the two BLAS GEMMs of the
``"float"`` backend on the float operands it keeps; *reference*,
:func:`horq_ref.binary_backward.binary_backward` on the packed planes and signs (one add or subtract
per term; unpacking the masks included); *lookup*, :func:`horq_ref.fast.lut.lut_backward` on the same
packed operands (tables of signed sums of g rows, one lookup per group). They are timed in the same
rounds (:func:`horq_ref.experiments.bench.interleaved_times`, no warm-up calls); the report gives the
median time of each with its range over the rounds, and the median and range of the per-round ratios
``reference / lookup`` (how much faster the lookup is), ``float / lookup`` and ``float / reference``
(below 1: slower than BLAS), withheld when the range straddles 1. Why the reference is slow, counted
and measured: docs/performance.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..binary_backward import binary_backward, binary_operands
from ..bits import unpack_signs
from ..cost import backward_cost
from ..fast.lut import DEFAULT_G, lut_backward
from ..im2col import im2col
from .bench import Spread, interleaved_times, layer_text, random_layer

__all__ = ["run_backward_bench", "BackwardBench", "BackwardRow", "format_backward_bench"]


SIDES = ("float", "reference", "lookup")
RATIOS = ((1, 2), (0, 2), (0, 1))  # reference/lookup, float/lookup, float/reference (SIDES indices)


@dataclass(frozen=True)
class BackwardRow:
    """One order: ``times`` (seconds) of the :data:`SIDES`, the per-round ``ratios`` of their times
    ("reference/lookup", ...), ``counted`` = reference additions / lookup additions
    (:func:`horq_ref.cost.backward_cost`) and ``max |binary - float| / max |float|`` of both binary
    forms."""

    order: int
    times: dict
    ratios: dict
    counted: float
    rel_diff: float


@dataclass(frozen=True)
class BackwardBench:
    """The layer, ``M`` (rows), the repeats, the lookup's group size g and the measured rows."""

    layer: dict
    rows_M: int
    repeats: int
    group: int
    rows: list


def run_backward_bench(batch=4, channels=256, size=16, filters=256, kernel=3, stride=1, padding=1,
                       orders=(1, 2, 3), repeats=5, seed=0, group=DEFAULT_G):
    """Time the float, the reference binary and the table-lookup backward products at each order
    (a :class:`BackwardBench`)."""
    rng = np.random.default_rng(seed)
    x, w, layer = random_layer(rng, batch, channels, size, filters, kernel, stride, padding)
    cols = im2col(x, kernel, kernel, stride, padding)  # (N, P, D)
    rows = cols.reshape(-1, cols.shape[2])  # (M, D)
    dY = rng.standard_normal((rows.shape[0], filters)).astype(np.float32)  # (M, F)
    out = [_bench_order(rows, w.reshape(filters, -1), dY, K, repeats, group) for K in orders]
    return BackwardBench(layer=layer, rows_M=rows.shape[0], repeats=repeats, group=group, rows=out)


def _bench_order(rows, Wr, dY, K, repeats, group):
    ops = binary_operands(rows, Wr, K)
    H = unpack_signs(ops.H_words, ops.n, dtype=np.float32)  # (K, M, D)
    Xt = np.einsum("km,kmd->md", ops.beta, H)  # (M, D): the float operands the float backend keeps
    Wt = ops.alpha[:, None] * unpack_signs(ops.B_words, ops.n, dtype=np.float32)  # (F, D)
    fns = [lambda: (dY @ Wt, dY.T @ Xt), lambda: binary_backward(dY, ops),
           lambda: lut_backward(dY, ops, group)]  # in the order of SIDES
    fns[0]()  # warm BLAS up
    t = np.array(interleaved_times(fns, repeats, warm_up=False))  # (3, repeats)
    grads = [fn() for fn in fns]  # (dXt, dWt) of each side
    rel_diff = max(float(np.abs(g - w).max() / np.abs(w).max())  # both binary forms against float
                   for got in grads[1:] for g, w in zip(got, grads[0]))
    c = backward_cost(Wr.shape[1], 1, 1, rows.shape[0], Wr.shape[0], K, group)
    return BackwardRow(
        K, {side: Spread.of(t[i]) for i, side in enumerate(SIDES)},
        {f"{SIDES[i]}/{SIDES[j]}": Spread.of(t[i] / t[j]) for i, j in RATIOS},
        (c.binary_adds_input + c.binary_adds_weight) / (c.lut_adds_input + c.lut_adds_weight),
        rel_diff)


def _ratio(r):
    """A per-round ratio as ``median (low-high)``, the median withheld when the range straddles 1."""
    return f"{'withheld' if r.straddles_one else f'{r.median:.3g}'} ({r.low:.3g}-{r.high:.3g})"


def format_backward_bench(result):
    """The printed report of :func:`run_backward_bench`: times, then ratios, one line per order."""
    lines = [
        f"{layer_text(result.layer)}: M={result.rows_M} rows",
        f"backward products dY·Wt and dY^T·Xt: float (BLAS), reference on binary operands "
        f"(additions only), table lookup (g={result.group}); {result.repeats} interleaved rounds",
        "", "order" + "".join(f"{side + ' ms':>16}" for side in SIDES)]
    lines += [f"{r.order:5d}" + "".join(
        f"{f'{t.median * 1e3:.4g} ±{50 * (t.high - t.low) / t.median:.0f}%':>16}"
        for t in r.times.values()) for r in result.rows]
    lines += ["", "order" + "".join(f"{name:>26}" for name in result.rows[0].ratios)
              + f"{'counted':>9}{'rel diff':>9}"]
    lines += [f"{r.order:5d}" + "".join(f"{_ratio(q):>26}" for q in r.ratios.values())
              + f"{r.counted:9.2f}{r.rel_diff:9.1e}" for r in result.rows]
    lines += ["", "times: median ±half their range; ratios of the times of each round: median",
              "(range), withheld when the range straddles 1. counted = reference / lookup additions",
              "(cost.backward_cost); rel diff = max |binary - float| / max |float|, both binary forms."]
    return "\n".join(lines)
