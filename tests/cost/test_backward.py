"""The backward op counts (horq_ref.cost.backward_cost) against instrumented loops on a tiny layer.

The loops compute the two backward products term by term and count every multiplication and
addition they perform; their results are checked against the library's, so the counted loops are
the computation, not a model of it.
"""

import numpy as np
import pytest

from horq_ref.binary_backward import binary_backward, binary_operands
from horq_ref.bits import unpack_signs
from horq_ref.cost import backward_cost, lut_additions
from horq_ref.fast.lut import lut_backward


class Counter:
    def __init__(self):
        self.mults = self.adds = 0

    def mul(self, a, b):
        self.mults += 1
        return a * b

    def add(self, a, b):
        self.adds += 1
        return a + b

    def signed_add(self, acc, a, negative):
        """One addition or subtraction, no multiplication by ±1."""
        self.adds += 1
        return acc - a if negative else acc + a


def float_loops(dY, Xt, Wt, c):
    """``dY Wt`` and ``dY^T Xt`` as sums of products (each sum starts from its first product)."""
    (M, F), D = dY.shape, Xt.shape[1]
    dX, dW = np.zeros((M, D)), np.zeros((F, D))
    for m in range(M):
        for d in range(D):
            acc = c.mul(dY[m, 0], Wt[0, d])
            for f in range(1, F):
                acc = c.add(acc, c.mul(dY[m, f], Wt[f, d]))
            dX[m, d] = acc
    for f in range(F):
        for d in range(D):
            acc = c.mul(dY[0, f], Xt[0, d])
            for m in range(1, M):
                acc = c.add(acc, c.mul(dY[m, f], Xt[m, d]))
            dW[f, d] = acc
    return dX, dW


def signed_loops(A, neg, c):
    """``A S`` (S = -1 where ``neg``) with one signed addition per term after the first."""
    (M, F), D = A.shape, neg.shape[1]
    out = np.zeros((M, D))
    for m in range(M):
        for d in range(D):
            acc = -A[m, 0] if neg[0, d] else A[m, 0]  # a sign flip
            for f in range(1, F):
                acc = c.signed_add(acc, A[m, f], neg[f, d])
            out[m, d] = acc
    return out


def binary_loops(dY, ops, c):
    (M, F), K = dY.shape, ops.beta.shape[0]
    H, B = unpack_signs(ops.H_words, ops.n) < 0, unpack_signs(ops.B_words, ops.n) < 0
    scaled = np.array([[c.mul(dY[m, f], ops.alpha[f]) for f in range(F)] for m in range(M)])
    dX = signed_loops(scaled, B, c)
    dW = None
    for i in range(K):
        scaled = np.array([[c.mul(ops.beta[i, m], dY[m, f]) for m in range(M)] for f in range(F)])
        term = signed_loops(scaled, H[i], c)
        if dW is None:
            dW = term
            continue
        for f, d in np.ndindex(term.shape):
            dW[f, d] = c.add(dW[f, d], term[f, d])
    return dX, dW


@pytest.mark.parametrize("order", [1, 2, 3])
@pytest.mark.parametrize("channels,kh,kw,M,F", [(2, 1, 3, 4, 3), (1, 2, 2, 1, 2), (3, 1, 1, 5, 1)])
def test_backward_counts_match_instrumented_loops(rng, order, channels, kh, kw, M, F):
    n = channels * kh * kw
    x, W, dY = rng.standard_normal((M, n)), rng.standard_normal((F, n)), rng.standard_normal((M, F))
    ops = binary_operands(x, W, order)
    H = unpack_signs(ops.H_words, n, dtype=float)
    Xt = np.einsum("km,kmd->md", ops.beta, H)
    Wt = ops.alpha[:, None] * unpack_signs(ops.B_words, n, dtype=float)
    cf, cb = Counter(), Counter()
    float_grads, binary_grads = float_loops(dY, Xt, Wt, cf), binary_loops(dY, ops, cb)
    for got, want in zip(float_grads + binary_grads, (dY @ Wt, dY.T @ Xt) + binary_backward(dY, ops)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)  # rounding of tiny sums
    cost = backward_cost(channels, kh, kw, M, F, order)
    assert cf.mults == cost.float_mults_input + cost.float_mults_weight
    assert cf.adds == cost.float_adds_input + cost.float_adds_weight
    assert cb.mults == cost.scale_mults_input + cost.scale_mults_weight
    assert cb.adds == cost.binary_adds_input + cost.binary_adds_weight


def test_counts_catch_a_missing_order():
    """Negative control: counting the weight gradient for one order only is visibly wrong."""
    one, three = backward_cost(2, 1, 3, 4, 3, 1), backward_cost(2, 1, 3, 4, 3, 3)
    assert three.binary_adds_weight != one.binary_adds_weight
    assert three.scale_mults_weight == 3 * one.scale_mults_weight


def test_backward_cost_ratios_and_arguments():
    c = backward_cost(256, 3, 3, rows=1024, filters=256, order=1)
    assert c.mults_ratio == 2 * 2304 / 2  # 2 n / (K + 1)
    assert c.float_ops / c.binary_ops == pytest.approx(2.0, rel=1e-2)  # K = 1: half the operations
    with pytest.raises(ValueError, match="rows"):
        backward_cost(256, 3, 3, rows=0, filters=256, order=1)


# ---- the table-lookup variant (horq_ref.fast.lut) -----------------------------------------------


def lut_loops(At, neg, g, c):
    """``A S`` (P, n) from ``At`` (Q, P) and the set bits ``neg`` (Q, n), by tables of g rows built
    by doubling (the upper half of each level is the lower half negated, not counted) and one
    addition per table entry looked up after the first."""
    (Q, P), n = At.shape, neg.shape[1]
    out = np.zeros((P, n))
    for p in range(P):
        tables, codes = [], np.zeros((-(-Q // g), n), int)
        for j, q0 in enumerate(range(0, Q, g)):
            T = [At[q0, p], -At[q0, p]]
            for q in range(q0 + 1, q0 + g):
                a = At[q, p] if q < Q else 0.0  # the last group is padded with zero rows
                low = [c.add(t, a) for t in T]
                T = low + [-t for t in reversed(low)]
            tables.append(T)
            for t, q in enumerate(range(q0, min(q0 + g, Q))):
                codes[j] += neg[q] << t
        for d in range(n):
            acc = tables[0][codes[0, d]]
            for j in range(1, len(tables)):
                acc = c.add(acc, tables[j][codes[j, d]])
            out[p, d] = acc
    return out


@pytest.mark.parametrize("g", [1, 2, 3, 8])
@pytest.mark.parametrize("order", [1, 3])
@pytest.mark.parametrize("channels,kh,kw,M,F", [(2, 1, 3, 4, 3), (3, 1, 1, 5, 9), (1, 2, 2, 1, 2)])
def test_lut_counts_match_instrumented_loops(rng, g, order, channels, kh, kw, M, F):
    n = channels * kh * kw
    x, W, dY = rng.standard_normal((M, n)), rng.standard_normal((F, n)), rng.standard_normal((M, F))
    ops = binary_operands(x, W, order)
    H, B = unpack_signs(ops.H_words, n) < 0, unpack_signs(ops.B_words, n) < 0
    cx, cw = Counter(), Counter()
    dX = lut_loops((dY * ops.alpha).T, B, g, cx)
    dW = lut_loops((dY[None] * ops.beta[:, :, None]).reshape(-1, F), H.reshape(-1, n), g, cw)
    for got, want in zip((dX, dW), lut_backward(dY, ops, g)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)  # rounding of tiny sums
    cost = backward_cost(channels, kh, kw, M, F, order, group=g)
    assert (cx.adds, cw.adds) == (cost.lut_adds_input, cost.lut_adds_weight)


def test_lut_counts_follow_the_formula():
    """``(Q/g)(2^g P + P n)`` when g divides Q, less the two first entries of every table and the
    first lookup of every output; the bench layer's additions drop about 7-fold."""
    c = backward_cost(256, 3, 3, rows=1024, filters=256, order=3, group=8)
    M, F, n = 1024, 256, 2304
    assert c.lut_adds_input == (F // 8) * (2**8 * M + M * n) - 2 * (F // 8) * M - M * n
    assert c.lut_adds_weight == (3 * M // 8) * (2**8 * F + F * n) - 2 * (3 * M // 8) * F - F * n
    assert 7 < c.binary_adds_input / c.lut_adds_input < 7.5
    assert lut_additions(5, 9, 7, 4) == (3 * 14 * 5, 2 * 5 * 7)  # G = 3 groups, the last one padded
    assert backward_cost(2, 1, 3, 4, 3, 1, group=1).lut_adds_input == (3 - 1) * 4 * 6  # no tables
