"""Bit packing, XOR + popcount dot products and the binary GEMM (horq_ref.bits).

Every integer result is checked for exact equality against a float dot product of ±1 values or a
pure-Python bit oracle. The fast tiled GEMM is checked against the reference in tests/fast.
"""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp
from support import pm1, set_padding_bits

from horq_ref.bits import binary_gemm_reference, n_words, pack_signs, popcount_dot, unpack_signs

VALUES = st.one_of(st.just(0.0), st.just(-0.0), st.integers(-3, 3).map(float),
                   st.floats(-1e6, 1e6, allow_nan=False))


def python_words(row):
    """Oracle for the documented layout, in Python integers: bit j%64 of word j//64 is (row[j] < 0)."""
    out = []
    for start in range(0, len(row), 64):
        out.append(sum(1 << (j - start) for j in range(start, min(start + 64, len(row))) if row[j] < 0))
    return out


@given(hnp.arrays(np.float64, st.integers(1, 200), elements=VALUES))
def test_layout_matches_python_integer_oracle(row):
    words = pack_signs(row)
    assert words.dtype == np.uint64 and words.shape == (n_words(len(row)),)
    assert [int(v) for v in words] == python_words(row)  # same integers on every byte order


def test_layout_known_word():
    row = np.ones(130)
    row[[0, 63, 64, 129]] = -1.0
    assert [int(v) for v in pack_signs(row)] == [1 | 1 << 63, 1, 1 << 1]


@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=70), elements=VALUES),
       st.data())
def test_round_trip_any_axis(x, data):
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    n = x.shape[axis]
    back = unpack_signs(pack_signs(x, axis=axis), n, axis=axis)
    expected = np.where(x >= 0, 1, -1)  # sign(0) = sign(-0.0) = +1
    assert back.dtype == np.int8 and back.shape == x.shape
    np.testing.assert_array_equal(back, expected)


def test_tail_bits_are_clear_and_never_change_a_dot():
    """For every length n = 1..200 (each tail length 1..63 at least three times, and the whole words
    n = 64, 128, 192), the padding bits of the last word are zero, and setting them in both operands
    leaves every dot product exact. One loop, one test: a failure names its n."""
    for n in range(1, 201):
        rng = np.random.default_rng(n)
        a, b = pm1(rng, (3, n)), pm1(rng, (4, n))
        A, B = pack_signs(a), pack_signs(b)
        tail = np.uint64(n % 64)
        if tail:
            assert not np.any(A[:, -1] >> tail) and not np.any(B[:, -1] >> tail), f"n = {n}"
        exact = a.astype(np.int64) @ b.T.astype(np.int64)
        np.testing.assert_array_equal(binary_gemm_reference(A, B, n), exact, err_msg=f"n = {n}")
        if tail:  # set the same padding bits in both operands: they XOR to zero
            A2, B2 = set_padding_bits(A, n), set_padding_bits(B, n)
            assert np.all(A2[:, -1] >> tail)  # the clear-tail check above would catch these bits
            np.testing.assert_array_equal(binary_gemm_reference(A2, B2, n), exact, err_msg=f"n = {n}")


@settings(max_examples=40)
@given(st.integers(1, 40), st.integers(1, 40), st.integers(1, 300), st.integers(0, 2**32 - 1))
def test_binary_gemm_reference_equals_float_dot_exactly(M, F, n, seed):
    rng = np.random.default_rng(seed)
    a, b = pm1(rng, (M, n)), pm1(rng, (F, n))
    exact = a.astype(np.float64) @ b.T.astype(np.float64)  # integers, exact in float64
    ref = binary_gemm_reference(pack_signs(a), pack_signs(b), n)
    assert ref.dtype == np.int64
    np.testing.assert_array_equal(ref, exact)


@pytest.mark.parametrize("n", [256 * 8, 256 * 8 + 3, 70_000])
def test_popcount_sums_do_not_overflow(n):
    # all bits different: the count is n, beyond uint8 (2048) and beyond uint16 (70_000)
    A, B = pack_signs(np.ones((1, n))), pack_signs(-np.ones((1, n)))
    assert int(popcount_dot(A, B, n)[0]) == -n
    assert int(binary_gemm_reference(A, B, n)[0, 0]) == -n


def test_naive_uint8_sum_would_overflow():
    # negative control: the regression above is real -- summing popcounts in uint8 wraps around
    n = 256 * 8
    A, B = pack_signs(np.ones(n)), pack_signs(-np.ones(n))
    assert int(np.bitwise_count(A ^ B).sum(dtype=np.uint8)) != n


def test_popcount_dot_broadcasts(rng):
    a, b = pm1(rng, (5, 1, 70)), pm1(rng, (1, 3, 70))
    expected = (a.astype(np.int64) * b).sum(-1)
    np.testing.assert_array_equal(popcount_dot(pack_signs(a), pack_signs(b), 70), expected)


def test_bad_input_names_the_argument():
    with pytest.raises(ValueError, match="x must not contain NaN"):
        pack_signs([1.0, np.nan])
    with pytest.raises(TypeError, match="x must be a real numeric array"):
        pack_signs(np.array(["a"]))
    with pytest.raises(ValueError, match="words"):
        unpack_signs(pack_signs(np.ones(70)), 200)
    with pytest.raises(TypeError, match="words must be an array of uint64"):
        unpack_signs(np.zeros(2, np.int64), 100)
    with pytest.raises(ValueError, match="A .* and B"):
        binary_gemm_reference(pack_signs(np.ones((2, 70))), pack_signs(np.ones((2, 140))), 70)
    with pytest.raises(ValueError, match="n must be >= 0"):
        n_words(-1)
    with pytest.raises(TypeError, match="n must be an integer"):
        n_words(2.0)
    assert n_words(np.int64(65)) == 2
