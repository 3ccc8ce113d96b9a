"""The fast tiled GEMM (horq_ref.fast.gemm) equals the reference GEMM of horq_ref.bits exactly."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from support import pm1, set_padding_bits

from horq_ref.bits import binary_gemm_reference, pack_signs
from horq_ref.fast import gemm
from horq_ref.fast.gemm import binary_gemm, mismatch_counts, parallel_map


@settings(max_examples=40)
@given(st.integers(1, 40), st.integers(1, 40), st.integers(1, 300), st.integers(1, 2),
       st.integers(0, 2**32 - 1))
def test_binary_gemm_equals_the_reference_exactly(M, F, n, threads, seed):
    rng = np.random.default_rng(seed)
    A, B = pack_signs(pm1(rng, (M, n))), pack_signs(pm1(rng, (F, n)))
    fast = binary_gemm(A, B, n, threads=threads)
    assert fast.dtype == np.int64
    np.testing.assert_array_equal(fast, binary_gemm_reference(A, B, n))


@pytest.mark.parametrize("n", [1, 63, 64, 65, 128, 130, 200])
def test_padding_bits_never_change_a_dot(n, rng):
    A, B = pack_signs(pm1(rng, (3, n))), pack_signs(pm1(rng, (4, n)))
    expected = binary_gemm_reference(A, B, n)
    np.testing.assert_array_equal(binary_gemm(A, B, n, threads=1), expected)
    if n % 64:  # the same padding bits set in both operands XOR to zero
        A, B = set_padding_bits(A, n), set_padding_bits(B, n)
        np.testing.assert_array_equal(binary_gemm(A, B, n, threads=1), expected)


def test_gemm_spans_several_tiles(rng):
    # more columns than one tile row and more filters than one tile: every tile edge is crossed
    M, F, n = gemm._MAX_TILE_COLS + 37, 9, 130
    A, B = pack_signs(pm1(rng, (M, n))), pack_signs(pm1(rng, (F, n)))
    np.testing.assert_array_equal(binary_gemm(A, B, n, threads=2), binary_gemm_reference(A, B, n))


@pytest.mark.parametrize("n", [256 * 8, 256 * 8 + 3, 70_000])
def test_popcount_sums_do_not_overflow(n):
    # all bits different: the count is n, beyond uint8 (2048) and beyond uint16 (70_000)
    A, B = pack_signs(np.ones((1, n))), pack_signs(-np.ones((1, n)))
    assert int(binary_gemm(A, B, n, threads=1)[0, 0]) == -n
    assert int(mismatch_counts(A.T.copy(), B.T.copy(), 1)[0, 0]) == n


def test_threads_do_not_change_results(rng):
    A, B = pack_signs(pm1(rng, (300, 200))), pack_signs(pm1(rng, (70, 200)))
    np.testing.assert_array_equal(binary_gemm(A, B, 200, threads=1), binary_gemm(A, B, 200, threads=2))


def test_bad_input_names_the_argument():
    with pytest.raises(ValueError, match="A .* and B"):
        binary_gemm(pack_signs(np.ones((2, 70))), pack_signs(np.ones((2, 140))), 70)


@pytest.mark.parametrize("threads, exc, message", [
    (0, ValueError, "threads must be >= 1"), (1.5, TypeError, "threads must be an integer"),
    (True, TypeError, "threads must be an integer"), ("2", TypeError, "threads must be an integer")])
def test_threads_validated_like_every_integer(threads, exc, message):
    with pytest.raises(exc, match=message):
        parallel_map(abs, [1, 2], threads)
    assert parallel_map(abs, [-1, -2], np.int64(2)) == [1, 2]  # NumPy integers are integers
