"""The scale family (horq_ref.scales): contract, the order of the errors, and negative controls.

Errors are compared with a tolerance of ``16 K (n + 1) eps ||X||^2`` per group
(support.group_error_tol, which says why); a wrong variant (scales off by O(1), a wrong coding)
misses by O(||X||^2 / n).
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import arrays_and_axis, groups
from support import group_error_rel_tol, group_error_tol as err_tol

from horq_ref import residual_quantize
from horq_ref.theory import lloyd_max
from horq_ref.scales import (
    quantize_with,
    SCALES,
    alternating,
    alternating_step,
    group_errors,
    least_squares_scales,
    nearest_planes,
    optimal_errors,
    optimal_levels,
    refit,
)

small_orders = st.integers(1, 4)


def errors(X, order, scales):
    return group_errors(quantize_with(X, order, axis=-1, scales=scales))


# --- the contract -----------------------------------------------------------------------------------


@given(arrays_and_axis(max_side=5), small_orders, st.sampled_from(SCALES))
def test_every_variant_keeps_the_contract(xa, order, scales):
    x, axis = xa
    e = quantize_with(x, order, axis=axis, scales=scales)
    assert e.signs.dtype == np.int8 and e.signs.shape == (order,) + x.shape
    assert set(np.unique(e.signs)) <= {-1, 1}
    assert e.betas.shape == (order,) + np.mean(x, axis=axis, keepdims=True).shape
    partial = np.cumsum(e.betas * e.signs, axis=0)  # (K,) + x.shape
    scale = np.max(np.abs(x)) if x.size else 1.0
    np.testing.assert_allclose(e.residuals[1:], x - partial, atol=1e-12 * scale + 1e-300)
    np.testing.assert_allclose(e.reconstruct() + e.residuals[-1], x, atol=1e-12 * scale + 1e-300)


def test_greedy_is_the_default_and_refit_keeps_the_planes(rng):
    x = rng.standard_normal((4, 9))
    g, r = residual_quantize(x, 3, -1), quantize_with(x, 3, -1, scales="refit")
    np.testing.assert_array_equal(g.signs, r.signs)
    assert np.any(np.abs(g.betas - r.betas) > 1e-3)  # the refit really moves the scales


@pytest.mark.parametrize("bad, exc", [("lsq", ValueError), (2, TypeError), (None, TypeError)])
def test_bad_scales_name_the_argument(bad, exc):
    with pytest.raises(exc, match="scales"):
        quantize_with([1.0, 2.0], 2, scales=bad)


def test_dependent_planes_get_the_minimum_norm_solution():
    """Singular Gram matrices: equal planes, and a plane that is minus another."""
    H = np.array([[1, 1, -1, -1], [1, 1, -1, -1]])
    x = np.array([2.0, 2.0, -2.0, -2.0])
    b = least_squares_scales(H, x)
    np.testing.assert_allclose(b.ravel(), [1.0, 1.0])  # 2 split evenly: the smallest ||beta||
    H3 = np.array([[1, 1, -1, -1], [-1, -1, 1, 1], [1, -1, 1, -1]])
    b3 = least_squares_scales(H3, np.array([3.0, 1.0, -1.0, -3.0]))
    np.testing.assert_allclose(b3.ravel(), [1.0, -1.0, 1.0])  # minimum norm of b1 - b2 = 2
    with pytest.raises(ValueError, match="planes"):
        least_squares_scales(H3[:, :3], x)


# --- item 2: the order of the errors ----------------------------------------------------------------


@given(groups(), small_orders)
def test_refit_never_worse_than_greedy(X, order):
    assert np.all(errors(X, order, "refit") <= errors(X, order, "greedy") + err_tol(X, order))


@given(groups(), small_orders)
def test_alternating_step_never_raises_the_error_and_ends_below_refit(X, order):
    e, history = alternating(X, order, axis=-1, return_history=True)
    tol = err_tol(X, order)
    rel = group_error_rel_tol(order, X.shape[-1])  # err_tol relative to ||X||^2
    assert all(np.all(b <= a + rel) for a, b in zip(history, history[1:]))
    assert np.all(group_errors(e) <= errors(X, order, "refit") + tol)
    # The raw step (no stopping rule) from any scales: coding and refit each lower the error.
    b0 = refit(X, order, -1).betas * 1.3
    before = np.sum((X - np.sum(b0 * nearest_planes(X, b0, -1), axis=0)) ** 2, -1, keepdims=True)
    b1, H1 = alternating_step(X, b0, -1)
    assert np.all(np.sum((X - np.sum(b1 * H1, axis=0)) ** 2, -1, keepdims=True) <= before + tol)


@given(groups(max_n=12, max_rows=2), st.integers(1, 3), st.sampled_from(SCALES))
def test_every_variant_is_above_the_optimal_levels(X, order, scales):
    floor = optimal_errors(X, order, axis=-1)
    assert np.all(errors(X, order, scales) >= floor - err_tol(X, order))


def test_optimal_levels_match_brute_force(rng):
    v = rng.integers(-5, 6, 7).astype(float)
    best = np.inf
    for cuts in np.ndindex(*(8,) * 3):  # every split of the 7 sorted values into <= 4 intervals
        edges = sorted({0, 7, *cuts})
        s = np.sort(v)
        best = min(best, sum(((s[a:b] - s[a:b].mean()) ** 2).sum() for a, b in zip(edges, edges[1:])))
    assert np.isclose(optimal_levels(v, 4)[1], best)


def test_lloyd_max_normal_four_levels():
    """Max (1960), Table I: 4 levels for N(0, 1) at +-0.4528, +-1.510 with mean squared error 0.1175."""
    t = np.linspace(-10, 10, 200001)
    levels, mse = lloyd_max(t, np.exp(-t * t / 2), 4)
    np.testing.assert_allclose(levels, [-1.510, -0.4528, 0.4528, 1.510], atol=6e-4)  # table's digits
    assert abs(mse - 0.1175) < 1e-4


# --- negative controls: each check above can fail ---------------------------------------------------


def test_negative_control_perturbed_refit_is_worse_than_greedy(rng):
    X = rng.standard_normal((4, 12))
    e = refit(X, 2, -1)
    bad = np.sum((X - np.sum(e.betas * 1.5 * e.signs, axis=0)) ** 2, -1, keepdims=True)
    assert np.all(bad > errors(X, 2, "greedy") + err_tol(X, 2))


def test_negative_control_farthest_level_coding_raises_the_error(rng):
    X = rng.standard_normal((3, 16))
    b = refit(X, 2, -1).betas
    H = -nearest_planes(X, b, -1)  # the mirror pattern: the farthest of the symmetric levels
    worse = np.sum((X - np.sum(b * H, axis=0)) ** 2, -1, keepdims=True)
    assert np.all(worse > group_errors(refit(X, 2, -1)) + err_tol(X, 2))


def test_negative_control_floor_of_the_wrong_order_is_beaten(rng):
    """The floor check fails when the floor is not one: 4 optimal levels against an order-3 expansion."""
    X = rng.standard_normal((3, 8))
    assert np.all(errors(X, 3, "alternating") < optimal_errors(X, 2, axis=-1) - err_tol(X, 3))


def test_alternating_at_order_one_is_greedy_even_on_zeros():
    """Ties at a midpoint go up, as sign(0) = +1: at K = 1 every variant is XNOR-Net's binarization."""
    x = np.array([[0.0, 0.0, 1.0, -2.0, 0.0, 3.0]])
    g = residual_quantize(x, 1, -1)
    for sc in ("refit", "alternating"):
        e = quantize_with(x, 1, -1, scales=sc)
        np.testing.assert_array_equal(e.signs, g.signs)
        np.testing.assert_allclose(e.betas, g.betas)
    assert np.all(nearest_planes(np.zeros(3), np.array([1.0]))[0] == 1)  # the tie itself
