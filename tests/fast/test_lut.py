"""Table-lookup backward (horq_ref.fast.lut) against the reference signed_sum backward.

Tolerance (docs/theory.md §15). Both sides add the same rounded terms (``dY alpha_f``, ``beta_i[m]
dY[m, f]``); with ``T = sum |terms|`` of an output and ``gamma_k = k u / (1 - k u)``, ``u = eps / 2``:

* the table lookup passes each term through at most ``(g - 1) + (G - 1)`` roundings (``G =
  ceil(Q / g)`` groups): ``|lut - exact| <= gamma_{g + G - 2} T``;
* the reference through at most ``Q - 1`` (``Q = F`` for dXt, ``K M`` for dWt):
  ``|ref - exact| <= gamma_{Q - 1} T``;

so ``|lut - ref| <= (gamma_{g + G - 2} + gamma_{Q - 1}) T``, asserted output by output. One flipped
sign moves an output by ``2 |term|``, far beyond it (negative controls).
"""

from contextlib import contextmanager
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from support import set_padding_bits

from horq_ref.binary_backward import binary_backward, binary_operands, set_mask
from horq_ref.bits import pack_signs
from horq_ref.fast import lut
from horq_ref.fast.lut import group_codes, lut_backward, lut_product, lut_tables, table_bits


def gamma(k, dtype):
    u = np.finfo(dtype).eps / 2
    assert k * u < 1, "outside the bound's range of validity"
    return k * u / (1 - k * u)


def term_sums(dY, ops):
    """``T = sum |terms|`` of every output: (M, 1) for dXt and (F, 1) for dWt (in float64)."""
    tx = np.abs(dY * ops.alpha)  # (M, F): the terms of dXt's rows, as both sides round them
    tw = np.abs(dY[None] * ops.beta[:, :, None])  # (K, M, F)
    return tx.sum(axis=1, dtype=np.float64)[:, None], tw.sum(axis=(0, 1), dtype=np.float64)[:, None]


def violation(dY, ops, g, lut_ops=None):
    """Largest ``|lut - ref| / bound`` over both gradients; ``lut_ops`` feeds the lookup side only."""
    (K, M), F = ops.beta.shape, ops.alpha.size
    dtype = np.result_type(dY, ops.alpha, ops.beta)
    ref, got = binary_backward(dY, ops), lut_backward(dY, ops if lut_ops is None else lut_ops, g)
    worst = 0.0
    for r, l, T, Q in zip(ref, got, term_sums(dY, ops), (F, K * M)):
        bound = (gamma(g + -(-Q // g) - 2, dtype) + gamma(Q - 1, dtype)) * T
        diff = np.abs(l.astype(np.float64) - r)
        assert not np.any((bound == 0) & (diff > 0)), "all terms 0 but the outputs differ"
        worst = max(worst, float(np.max(diff / np.where(bound > 0, bound, 1))))
    return worst


def random_case(rng, M, F, D, K, dtype, zeros=0.3):
    """Operands with exact zeros and -0.0 in x (sign(0) = +1) and in dY (zero terms)."""
    x, W = rng.standard_normal((M, D)).astype(dtype), rng.standard_normal((F, D)).astype(dtype)
    dY = rng.standard_normal((M, F)).astype(dtype)
    for a in (x, dY):
        a[rng.random(a.shape) < zeros] = 0.0
        a[rng.random(a.shape) < zeros / 2] = -0.0
    return binary_operands(x, W, K), dY


@contextmanager
def tiles(p_tile, d_tile, table_entries):
    """Small tiles, so that small cases cross every tile and chunk edge of the kernel."""
    with mock.patch.multiple(lut, _P_TILE=p_tile, _D_TILE=d_tile, _TABLE_ENTRIES=table_entries):
        yield


@given(st.integers(1, 12), st.integers(1, 40), st.integers(1, 140), st.integers(1, 4),
       st.sampled_from([1, 2, 3, 4, 7, 8, 9, 16]), st.sampled_from([np.float32, np.float64]),
       st.tuples(st.integers(1, 300), st.integers(1, 70), st.integers(1, 1 << 12)),
       st.integers(0, 2**32 - 1))
def test_lut_equals_the_reference_within_the_bound(M, F, D, K, g, dtype, tile, seed):
    ops, dY = random_case(np.random.default_rng(seed), M, F, D, K, dtype)
    with tiles(*tile):
        assert violation(dY, ops, g) <= 1
        dXt, dWt = lut_backward(dY, ops, g)
    assert dXt.shape == (M, D) and dWt.shape == (F, D) and dXt.dtype == dWt.dtype == dtype


@pytest.mark.parametrize("K", [1, 2, 3, 4])
@pytest.mark.parametrize("M,F,D", [(1, 1, 1), (4, 1, 70), (6, 5, 64), (3, 7, 65), (9, 20, 129),
                                   (40, 300, 200)])
def test_lut_on_the_reference_tests_shapes(rng, M, F, D, K):
    """The shapes of tests/test_binary_backward.py and one with several groups of 8 (F = 300, not a
    multiple of 8; K M = 40 K); float64 operands with a float32 dY as there, and float32 throughout."""
    ops, dY = random_case(rng, M, F, D, K, np.float64)
    assert violation(dY, ops, 8) <= 1
    assert violation(dY.astype(np.float32), ops, 8) <= 1
    ops32, dY32 = random_case(rng, M, F, D, K, np.float32)
    assert violation(dY32, ops32, 8) <= 1


def test_lut_is_within_its_own_bound_of_the_exact_sum(rng):
    """Sharper: float32 lookups against the exact sum of the same float32 terms (in float64, whose
    own rounding, gamma_{Q-1} in float64, is added): |lut - exact| <= gamma_{g + G - 2} T."""
    M, F, D, K, g = 64, 300, 130, 2, 8
    ops, dY = random_case(rng, M, F, D, K, np.float32)
    exact = (dY * ops.alpha).astype(np.float64) @ np.where(set_mask(ops.B_words, D), -1.0, 1.0)
    T = term_sums(dY, ops)[0]
    bound = (gamma(g + -(-F // g) - 2, np.float32) + gamma(F, np.float64)) * T
    diff = np.abs(lut_backward(dY, ops, g)[0] - exact)
    assert np.all(diff <= bound)
    assert diff.max() > 0  # float32 rounding happened: the bound is tested, not a trivial 0


def test_one_flipped_bit_exceeds_the_bound(rng):
    """Negative control: one sign bit of B, or of one plane H_i, flipped on the lookup side."""
    ops, dY = random_case(rng, 6, 20, 70, 2, np.float32)
    assert violation(dY, ops, 8) <= 1
    m, f = np.unravel_index(np.argmax(np.abs(dY)), dY.shape)  # the largest term's row and column
    B = ops.B_words.copy()
    B[f, 1] ^= np.uint64(1 << 3)  # entry (f, d = 67): dXt[:, 67] moves by 2 dY[:, f] alpha_f
    assert violation(dY, ops, 8, ops._replace(B_words=B)) > 1e3
    H = ops.H_words.copy()
    H[1, m, 0] ^= np.uint64(1)  # entry (m, d = 0) of H_2: dWt[:, 0] moves by 2 beta_2[m] dY[m, :]
    assert violation(dY, ops, 8, ops._replace(H_words=H)) > 1e3


def test_zero_gradient_and_padding_bits(rng):
    ops, dY = random_case(rng, 5, 11, 70, 3, np.float64)
    dXt, dWt = lut_backward(np.zeros_like(dY), ops)
    assert not dXt.any() and not dWt.any()
    padded = ops._replace(B_words=set_padding_bits(ops.B_words, 70),
                          H_words=set_padding_bits(ops.H_words.reshape(15, 2), 70).reshape(3, 5, 2))
    for a, b in zip(lut_backward(dY, padded), lut_backward(dY, ops)):
        np.testing.assert_array_equal(a, b)


@settings(max_examples=20)
@given(st.integers(1, 9), st.integers(1, 3), st.integers(0, 2**32 - 1))
def test_tables_are_the_signed_sums_in_fixed_order(g, G, seed):
    """Every entry equals ``((±a_0 ± a_1) ± a_2) ...`` bit for bit: the doubling with sign flips
    rounds exactly like the sum written out, which is what the bound of §15 assumes."""
    a = np.random.default_rng(seed).standard_normal((G, g, 3)).astype(np.float32)
    tables = lut_tables(a)  # (G, 2^g, 3)
    for s in range(1 << g):
        signs = [-1 if s >> t & 1 else 1 for t in range(g)]
        expected = signs[0] * a[:, 0]
        for t in range(1, g):
            expected = expected + signs[t] * a[:, t]
        np.testing.assert_array_equal(tables[:, s], expected)


def test_group_codes_read_the_signs_of_each_column(rng):
    neg = rng.random((19, 130)) < 0.5  # Q = 19: the last of the groups of 4 has 3 rows
    words = pack_signs(np.where(neg, -1.0, 1.0))  # (19, 3)
    codes = group_codes(words, 130, 4)  # (5, 130)
    padded = np.vstack([neg, np.zeros((1, 130), bool)]).reshape(5, 4, 130)
    np.testing.assert_array_equal(codes, (padded * (1 << np.arange(4))[:, None]).sum(axis=1))


def test_table_bits_keeps_the_tables_within_an_eighth_of_the_outputs(rng):
    """2^g <= n / 8 < 2^(g + 1) between the clips at 1 and 8, and the default is that g."""
    for n in range(1, 5000):
        g = table_bits(n)
        assert 1 <= g <= 8 and (g == 1 or 8 << g <= n) and (g == 8 or n < 16 << g), (n, g)
    ops, dY = random_case(rng, 7, 9, 300, 2, np.float64)
    assert table_bits(300) == 5
    for a, b in zip(lut_backward(dY, ops), lut_backward(dY, ops, 5)):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="n must be >= 1"):
        table_bits(0)


def test_bad_arguments_name_the_argument():
    ops = binary_operands(np.ones((2, 3)), np.ones((4, 3)), 1)
    with pytest.raises(ValueError, match="dY"):
        lut_backward(np.ones((4, 2)), ops)
    with pytest.raises(ValueError, match="g must be <= 16"):
        lut_backward(np.ones((2, 4)), ops, g=17)
    with pytest.raises(TypeError, match="g must be an integer"):
        lut_backward(np.ones((2, 4)), ops, g=8.0)
    with pytest.raises(ValueError, match="words"):
        lut_product(np.ones((5, 2)), ops.B_words, 3)
