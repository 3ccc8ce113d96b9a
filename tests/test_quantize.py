"""The public quantizer contract: sign, residual_quantize, Expansion, binarize.

Checked against an independent loop implementation of docs/paper.md §2 written here from the
definition, on inputs with exact zeros, pixel-like values and wide magnitudes, for any axis.
"""

import itertools

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from strategies import arrays_and_axis, orders

import horq_ref
from horq_ref import binarize, residual_quantize, sign
from horq_ref.quantize import expand


def reference_quantize(x, order, axis):
    """docs/paper.md §2 group by group with Python loops: the slow oracle."""
    x = np.asarray(x, dtype=np.float64)
    axes = tuple(range(x.ndim)) if axis is None else tuple(
        sorted(a % x.ndim for a in ((axis,) if isinstance(axis, int) else axis))
    )
    keep = [a for a in range(x.ndim) if a not in axes]
    betas = np.zeros((order,) + tuple(1 if a in axes else x.shape[a] for a in range(x.ndim)))
    H = np.zeros((order,) + x.shape)
    R = np.zeros((order + 1,) + x.shape)
    R[0] = x
    for idx in itertools.product(*[range(x.shape[a]) for a in keep]):
        sel = [slice(None)] * x.ndim
        for a, i in zip(keep, idx):
            sel[a] = i
        sel = tuple(sel)
        r = x[sel].ravel().tolist()
        for k in range(order):
            beta = sum(abs(v) for v in r) / len(r)
            h = [1.0 if v >= 0 else -1.0 for v in r]
            r_next = [v - beta * s for v, s in zip(r, h)]
            bsel = tuple(0 if a in axes else s for a, s in enumerate(sel))
            betas[(k,) + bsel] = beta
            H[(k,) + sel] = np.reshape(h, x[sel].shape)
            R[(k + 1,) + sel] = np.reshape(r_next, x[sel].shape)
            r = r_next
    return betas, H, R


def rel_tol(order, n):
    """Agreement tolerance with the loop oracle, relative to max|x| per group.

    The oracle sums left to right, NumPy pairwise: each beta differs by at most ~n * eps relative,
    and the residuals inherit that difference once per order. 4 * order * (n + 1) * eps covers it
    with room; a wrong formula (median, missing 1/n, sign(0) = 0) is off by O(1) at some entry.
    """
    return 4 * order * (n + 1) * np.finfo(np.float64).eps


# --- sign -----------------------------------------------------------------------------------------


def test_sign_of_both_zeros_is_plus_one():
    out = sign(np.array([-0.0, 0.0, -3.5, 2.0, -1e-300, 1e300]))
    np.testing.assert_array_equal(out, [1, 1, -1, 1, -1, 1])


@given(arrays_and_axis(scale=False))
def test_sign_is_binary_and_keeps_float_dtype(xa):
    x, _ = xa
    s = sign(x)
    assert s.dtype == np.float64 and s.shape == x.shape
    assert set(np.unique(s)) <= {-1.0, 1.0}
    np.testing.assert_array_equal(s, np.where(np.signbit(x) & (x != 0), -1.0, 1.0))


def test_sign_dtype_rules():
    assert sign(np.ones(2, np.float32)).dtype == np.float32
    assert sign(np.arange(3)).dtype == np.float64
    assert sign([1, -1], dtype=np.int8).dtype == np.int8


# --- contract: shapes, dtypes, agreement with the oracle -------------------------------------------


@given(arrays_and_axis(), orders)
@example((np.array([[0.0, 0.0, 0.0, 0.0], [78.01968033, 60.0, 60.0, 277.0]]), None), 3)  # a tie
def test_matches_loop_oracle_any_axis(xa, order):
    """The contract at ties (docs/theory.md §2, Lemma 1 (2)).

    A residual entry that is zero in exact arithmetic may come out of the float recursion as a tiny
    number of either sign, so its plane entry may be either ±1: both are optimal. From that order on,
    the entry's residual is the oracle's with the opposite sign (``|r - beta h|`` is ``beta`` either
    way) and every later plane entry flips with it. The contract promises: the betas and the residual
    *magnitudes* agree with the oracle everywhere; signed residuals and planes agree except at entries
    whose plane was decided at such a tie, at that order or an earlier one.
    """
    x, axis = xa
    assert_matches_oracle(residual_quantize(x, order, axis=axis), x, order, axis)


def assert_matches_oracle(e, x, order, axis):
    """The oracle comparison of the test above, as a reusable check."""
    betas, H, R = reference_quantize(x, order, axis)
    scale = np.max(np.abs(x), axis=axis, keepdims=True)  # G
    tol = rel_tol(order, x.size) * np.where(scale > 0, scale, 1)
    np.testing.assert_array_equal(e.signs.shape, H.shape)
    assert np.all(np.abs(e.betas - betas) <= tol)
    assert np.all(np.abs(np.abs(e.residuals) - np.abs(R)) <= tol)
    differ = e.signs != H  # (K,) + x.shape
    flipped = np.logical_or.accumulate(differ, axis=0)  # a tie decided this entry at <= this order
    tie = np.abs(R[:-1]) <= np.broadcast_to(tol, R[:-1].shape)
    earlier = np.concatenate([np.zeros_like(flipped[:1]), flipped[:-1]])
    assert np.all(tie[differ & ~earlier]), "a plane differs away from a tie"
    same = np.concatenate([np.ones_like(flipped[:1]), ~flipped])  # (K+1,) + x.shape
    assert np.all(np.abs(e.residuals - R)[same] <= np.broadcast_to(tol, R.shape)[same])


def test_negative_control_oracle_check_rejects_a_flip_away_from_a_tie():
    x = np.array([3.0, -1.0, 0.5, 2.0])
    e = residual_quantize(x, 2)
    signs = e.signs.copy()
    signs[1, 0] *= -1  # |R_1[0]| = 1.375 is far from a tie
    R = e.residuals.copy()
    R[2] = R[1] - e.betas[1] * signs[1]
    bad = horq_ref.Expansion(betas=e.betas, signs=signs, residuals=R, axis=e.axis)
    with pytest.raises(AssertionError):
        assert_matches_oracle(bad, x, 2, None)
    assert_matches_oracle(e, x, 2, None)  # the same harness accepts the true expansion


def test_tie_example_flips_one_entry_and_keeps_its_magnitude():
    """The thorough-profile example: the float recursion and the oracle break exact ties apart."""
    x = np.array([[0.0, 0.0, 0.0, 0.0], [78.01968033, 60.0, 60.0, 277.0]])
    e = residual_quantize(x, 3)
    _, H, R = reference_quantize(x, 3, None)
    gap = np.abs(e.residuals[-1] - R[-1])
    moved = gap > 1e-9  # here beta_1 = beta_2, so R_2 = 0 exactly on the zero row
    assert moved.any() == np.any(e.signs != H)  # which way the tie breaks depends on rounding
    np.testing.assert_allclose(gap[moved], 2 * e.betas[2].item(), rtol=1e-12)
    assert np.all(np.abs(R[2][moved]) < 1e-9)
    np.testing.assert_allclose(np.abs(e.residuals), np.abs(R), atol=1e-9)


@given(arrays_and_axis(), orders)
def test_shapes_dtypes_and_reconstruction(xa, order):
    x, axis = xa
    e = residual_quantize(x, order, axis=axis)
    G = np.mean(x, axis=axis, keepdims=True).shape
    assert e.betas.shape == (order,) + G and e.betas.dtype == np.float64
    assert e.signs.shape == (order,) + x.shape and e.signs.dtype == np.int8
    assert e.residuals.shape == (order + 1,) + x.shape and e.residuals.dtype == np.float64
    assert e.order == order and set(np.unique(e.signs)) <= {-1, 1}
    np.testing.assert_array_equal(e.residuals[0], x)
    assert np.all(e.betas >= 0)
    # reconstruct() + R_K == x: the only error is one rounding per order per entry, relative to
    # the group's largest magnitude (all terms are bounded by it).
    scale = np.max(np.abs(x), axis=axis, keepdims=True)
    err = np.abs(e.reconstruct() + e.residuals[-1] - x)
    assert np.all(err <= 4 * (order + 1) * np.finfo(float).eps * scale)
    np.testing.assert_array_equal(e.reconstruct(0), np.zeros_like(x))


@given(arrays_and_axis(), orders, st.integers(-40, 40))
def test_positive_power_of_two_scaling_is_exact(xa, order, p):
    """c * x with c = 2**p gives c * beta and the very same planes, bit for bit.

    Multiplying by a power of two is exact in binary floating point (inside the normal range, which
    the strategy guarantees), so every intermediate scales exactly and no tolerance is needed.
    """
    x, axis = xa
    c = 2.0**p
    e, ec = residual_quantize(x, order, axis), residual_quantize(c * x, order, axis)
    np.testing.assert_array_equal(ec.signs, e.signs)
    np.testing.assert_array_equal(ec.betas, c * e.betas)


@given(arrays_and_axis(scale=False), orders, st.floats(0.01, 100.0))
def test_positive_scaling_general(xa, order, c):
    """For any c > 0 the scales scale by c up to rounding (planes may flip only at rounding-level zeros)."""
    x, axis = xa
    e, ec = residual_quantize(x, order, axis), residual_quantize(c * x, order, axis)
    scale = np.max(np.abs(x), axis=axis, keepdims=True)
    assert np.all(np.abs(ec.betas - c * e.betas) <= c * rel_tol(order, x.size) * scale)


def test_order_one_is_xnor_binarization(rng):
    x = rng.standard_normal((5, 7))
    e = residual_quantize(x, 1, axis=1)
    beta, H = binarize(x, axis=1)
    np.testing.assert_allclose(e.betas[0], np.abs(x).mean(axis=1, keepdims=True), rtol=1e-15)
    np.testing.assert_array_equal(e.betas[0], beta)
    np.testing.assert_array_equal(e.signs[0], H)


def test_exact_zeros_give_plus_one_planes():
    e = residual_quantize(np.zeros((2, 3)), 3, axis=1)
    np.testing.assert_array_equal(e.betas, 0.0)
    np.testing.assert_array_equal(e.signs, 1)
    np.testing.assert_array_equal(e.residuals, 0.0)


def test_constant_magnitude_is_exact_at_order_one():
    x = np.array([[2.0, -2.0, 2.0, -2.0]])
    e = residual_quantize(x, 2, axis=1)
    np.testing.assert_array_equal(e.residuals[1], 0.0)  # mean of equal powers of two is exact
    np.testing.assert_array_equal(e.betas.ravel(), [2.0, 0.0])


def test_integer_input_promotes_to_float64_and_float32_stays():
    assert residual_quantize(np.arange(6, dtype=np.uint8), 2).betas.dtype == np.float64
    e32 = residual_quantize(np.ones(4, np.float32), 2)
    assert e32.betas.dtype == np.float32 and e32.residuals.dtype == np.float32


def test_sums_that_would_overflow_are_rescaled():
    big = np.finfo(np.float64).max
    x = np.array([big, big, -big, 0.5 * big])
    e = residual_quantize(x, 3)
    assert np.all(np.isfinite(e.betas)) and np.all(np.isfinite(e.residuals))
    np.testing.assert_allclose(e.betas[0].item(), 0.875 * big, rtol=1e-15)


def test_subnormal_input_stays_finite_and_binary():
    x = np.array([5e-324, 0.0, -1e-320, 2e-310])
    e = residual_quantize(x, 3)
    assert np.all(np.isfinite(e.residuals)) and set(np.unique(e.signs)) <= {-1, 1}


def test_levels_are_all_sign_combinations():
    e = residual_quantize(np.array([3.0, -1.0, 0.5, 2.0]), 3)
    b = e.betas.ravel()
    expected = sorted(s1 * b[0] + s2 * b[1] + s3 * b[2] for s1, s2, s3 in
                      itertools.product([-1, 1], repeat=3))
    np.testing.assert_allclose(e.levels(), expected, rtol=0, atol=1e-15)
    # every reconstructed entry is one of the levels
    rec = e.reconstruct()
    assert all(np.min(np.abs(e.levels() - v)) < 1e-15 for v in rec)


def test_levels_need_a_single_group():
    with pytest.raises(ValueError, match="single group"):
        residual_quantize(np.ones((2, 3)), 2, axis=1).levels()


def test_expand_with_custom_sign_fn_matches_definition(rng):
    x = rng.standard_normal((3, 5))
    betas, H, R, axis = expand(x, 2, axis=1, sign_fn=np.tanh)
    np.testing.assert_allclose(H[0], np.tanh(x))
    np.testing.assert_allclose(R[1], x - np.abs(x).mean(axis=1, keepdims=True) * np.tanh(x))
    assert axis == (1,)


def test_top_level_names():
    for name in ("sign", "residual_quantize", "Expansion", "binarize"):
        assert hasattr(horq_ref, name)


# --- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "x, order, axis, exc, match",
    [
        ([1.0, np.nan], 1, None, ValueError, "x must be finite"),
        ([1.0, np.inf], 1, None, ValueError, "x must be finite"),
        ([1.0, 2.0], 0, None, ValueError, "order must be >= 1"),
        ([1.0, 2.0], -3, None, ValueError, "order must be >= 1"),
        ([1.0, 2.0], 1.5, None, TypeError, "order must be an integer"),
        ([1.0, 2.0], True, None, TypeError, "order must be an integer"),
        ([1.0, 2.0], "2", None, TypeError, "order must be an integer"),
        ([1.0, 2.0], 1, 1, ValueError, "axis 1 is out of bounds"),
        ([[1.0, 2.0]], 1, (0, 0), ValueError, "axis contains a repeated axis"),
        ([[1.0, 2.0]], 1, 0.5, TypeError, "axis must be None, an int"),
        ([[1.0, 2.0]], 1, (0, "1"), TypeError, "axis must contain ints"),
        (["a", "b"], 1, None, TypeError, "x must be a real numeric array"),
        ([1 + 2j], 1, None, TypeError, "x must be real"),
        (np.zeros((0, 3)), 1, None, ValueError, "x must have at least one entry"),
        (np.zeros((2, 0)), 1, 1, ValueError, "x must have at least one entry"),
    ],
)
def test_bad_input_names_the_argument(x, order, axis, exc, match):
    with pytest.raises(exc, match=match):
        residual_quantize(x, order, axis=axis)


def test_reconstruct_rejects_bad_k():
    e = residual_quantize([1.0, -2.0], 2)
    for k in (-1, 3):
        with pytest.raises(ValueError, match="k must be"):
            e.reconstruct(k)
    for k in (1.0, True):
        with pytest.raises(TypeError, match="k must be an integer"):
            e.reconstruct(k)
    np.testing.assert_array_equal(e.reconstruct(np.int64(1)), e.reconstruct(1))


@example(np.array([1.0, 0.0, 0.0]))
@given(st.lists(st.floats(-10, 10), min_size=1, max_size=8).map(np.array))
def test_one_dimensional_default_axis_is_one_group(x):
    e = residual_quantize(x, 2)
    assert e.betas.shape == (2, 1)
    assert e.n == x.size


def test_sign_rejects_nan_and_non_numeric():
    with pytest.raises(ValueError, match="x must not contain NaN"):
        sign([1.0, np.nan])
    with pytest.raises(TypeError, match="x must be a real numeric array"):
        sign(["a"])
    np.testing.assert_array_equal(sign([-np.inf, np.inf]), [-1.0, 1.0])


@given(arrays_and_axis(scale=False))
def test_binary_sign_is_sign_bit_for_bit(xa):
    from horq_ref.quantize import binary_sign

    x = xa[0]
    np.testing.assert_array_equal(binary_sign(x), sign(x))
    assert binary_sign(x.astype(np.float32)).dtype == np.float32
