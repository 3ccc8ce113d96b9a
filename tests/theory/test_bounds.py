"""The error guarantee (horq_ref.theory.bounds), stated as Hypothesis properties (docs/theory.md §4-7),
with negative controls.

Every property is written once as a ``check_*`` function that takes the quantizer as an argument.
The tests apply them to ``horq_ref.residual_quantize``; the negative controls apply the very same
functions to deliberately wrong quantizers and show that they fail.
"""

import math

import numpy as np
import pytest
from hypothesis import example, find, given, settings, target
from hypothesis import strategies as st
from strategies import arrays_and_axis, groups, orders

from horq_ref import residual_quantize, sign
from horq_ref.quantize import Expansion, expand, normalize_axis
from horq_ref.theory import (
    beta_growth_bound,
    contraction_ratios,
    effective_sparsity,
    identity_prediction,
    refined_bound,
    relative_errors,
    rounding_floor,
    worst_case_bound,
)

EPS = np.finfo(np.float64).eps


def identity_tol(order, n):
    """Allowed |measured - predicted| in units of ||X||^2.

    Both sides are sums of n rounded squares (pairwise summation: ~log2(n) * eps relative each), the
    prediction subtracts K of them, and each residual entry carries one rounding per order. So the gap
    is at most a small multiple of (K + log2 n) * eps; 8x that is the tolerance. A wrong scale or
    a ternary plane moves the ratio by O(1/n) >= 1e-3 for the group sizes drawn here.
    """
    return 8 * (order + math.log2(max(n, 2)) + 2) * EPS


# --- the properties, each a function of the quantizer ---------------------------------------------


def check_identity(quantize, x, order, axis=None):
    e = quantize(x, order, axis)
    gap = np.abs(relative_errors(e) - identity_prediction(e))
    assert np.all(gap <= identity_tol(order, e.n)), f"identity off by {gap.max():.3g}"


def check_strictly_falling(quantize, x, order, axis=None):
    """||R_k|| < ||R_{k-1}|| for every order until the residual is exactly zero."""
    e = quantize(x, order, axis)
    err = relative_errors(e)  # (K+1,) + G
    nonzero = err[:-1] > 0
    assert np.all(err[1:][nonzero] < err[:-1][nonzero]), "error did not fall"
    assert np.all(err[1:][~nonzero] == 0), "a zero residual came back to life"


def check_bounds(quantize, x, order, axis=None):
    """measured <= refined bound <= (1 - 1/n)^K, with the contraction ratios in range."""
    e = quantize(x, order, axis)
    n, err, rho = e.n, relative_errors(e), contraction_ratios(e)
    tol = identity_tol(order, n)
    for k in range(1, order + 1):
        assert np.all(err[k] <= refined_bound(n, k) + tol), f"order {k} above the refined bound"
        assert refined_bound(n, k) <= worst_case_bound(n, k)
    # Per-order contraction, stated in units of ||X||^2: a residual that is already at rounding
    # level (e.g. R_2 for n = 2, exactly zero in exact arithmetic) need not keep the exact-arithmetic
    # structure behind 1 - 2/n, so the step bounds carry the same absolute tolerance as the identity.
    assert np.all(err[1] <= (1 - 1 / n) + tol), "order one contracted less than 1 - 1/n"
    step = max(0.0, 1 - 2 / n)
    assert np.all(err[2:] <= step * err[1:-1] + tol), "a later order contracted less than 1 - 2/n"
    assert np.all(np.abs(rho * err[:-1] - err[1:]) <= tol), "contraction ratios disagree with errors"


def check_binary_planes(quantize, x, order, axis=None):
    e = quantize(x, order, axis)
    assert set(np.unique(e.signs)) <= {-1, 1}, "planes are not binary"


def check_beta_growth(quantize, x, order, axis=None):
    """beta_{i+1} <= 2 (1 - 1/n) beta_i (the scales may grow, but at most by this factor)."""
    e = quantize(x, order, axis)
    b = e.betas
    growth = beta_growth_bound(e.n)
    # beta is a mean of n rounded magnitudes: relative error <= (log2 n + 2) * eps, times 4 for slack.
    slack = 4 * (math.log2(max(e.n, 2)) + 2) * EPS
    assert np.all(b[1:] <= growth * b[:-1] * (1 + slack)), "a scale grew faster than 2(1 - 1/n)"


def quantize_ok(x, order, axis=None):
    return residual_quantize(x, order, axis)


# --- the theorem on horq_ref.residual_quantize ------------------------------------------------------


@given(arrays_and_axis(), orders)
def test_energy_identity(xa, order):
    check_identity(quantize_ok, *xa[:1], order, xa[1])


@given(arrays_and_axis(), orders)
def test_error_strictly_falls_until_zero(xa, order):
    check_strictly_falling(quantize_ok, xa[0], order, xa[1])


@example(np.array([[1.0, 0.0, 0.0]]), 1)  # order one is tight on 1-sparse input
@example(np.array([[3.0, 1.0]]), 2)  # n = 2: two orders are exact
# Found by the thorough profile: for n = 2, R_2 is zero in exact arithmetic but rounding noise in
# floats, and the third order on noise contracts by only 1 - 1/n. Bounds hold up to that noise.
@example(np.array([[6.0, 1.9]]), 3)
@given(groups(), st.integers(1, 4))
def test_worst_case_bound_with_target(X, order):
    """Hypothesis steers towards inputs closest to the bound (hypothesis.target)."""
    check_bounds(quantize_ok, X, order, axis=-1)
    e = residual_quantize(X, order, axis=-1)
    closeness = float(np.max(relative_errors(e)[order]) / worst_case_bound(e.n, order))
    target(closeness, label=f"closeness to (1-1/n)^K, K={order}")
    if order >= 2:
        # Theorem 3: for K >= 2 the bound is never reached.
        assert np.all(relative_errors(e)[order] < worst_case_bound(e.n, order))


@given(arrays_and_axis(), orders)
def test_bounds_any_axis(xa, order):
    check_bounds(quantize_ok, xa[0], order, xa[1])
    check_binary_planes(quantize_ok, xa[0], order, xa[1])


@example(np.array([[1.0, 0.0, 0.0]]), 2)  # the tight case: beta_2 / beta_1 = 2 (1 - 1/3) = 4/3
@given(groups(min_n=1), orders)
def test_scales_grow_at_most_by_two_one_minus_one_over_n(X, order):
    check_beta_growth(quantize_ok, X, order, axis=-1)


# --- the two questions ----------------------------------------------------------------------------


def test_scales_need_not_decrease_regression_example():
    """Question 1: is beta_1 >= beta_2 >= ...? No. Hypothesis finds this (see the next test).

    x = (1, 0, 0): beta_1 = 1/3, H_1 = (+1, +1, +1) (sign(0) = +1), R_1 = (2/3, -1/3, -1/3),
    beta_2 = (2/3 + 1/3 + 1/3) / 3 = 4/9 > 1/3. The magnitudes |R_1| deviate from beta_1 by up to
    2 (1 - 1/n) beta_1 on sparse input, and beta_2 is exactly their mean deviation.
    """
    e = residual_quantize(np.array([1.0, 0.0, 0.0]), 2)
    np.testing.assert_allclose(e.betas.ravel(), [1 / 3, 4 / 9], rtol=1e-15)
    assert e.betas[1] > e.betas[0]
    assert e.betas[1] / e.betas[0] == pytest.approx(beta_growth_bound(3), rel=1e-15)


def test_hypothesis_finds_growing_scales():
    """Searching for beta_2 > beta_1 succeeds quickly: the paper's 'decreasing scales' is a tendency."""
    x = find(
        groups(min_n=2, max_n=6, max_rows=1),
        lambda X: residual_quantize(X, 2, axis=-1).betas[1].item()
        > residual_quantize(X, 2, axis=-1).betas[0].item(),
        settings=settings(max_examples=2000, database=None, derandomize=True),
    )
    e = residual_quantize(x, 2, axis=-1)
    assert e.betas[1].item() > e.betas[0].item()


def test_bound_reached_at_order_one_on_one_sparse_inputs():
    for n in (1, 2, 3, 10, 100):
        x = np.zeros((1, n))
        x[0, n // 2] = -7.25
        e = residual_quantize(x, 1, axis=-1)
        assert relative_errors(e)[1].item() == pytest.approx(worst_case_bound(n, 1), abs=1e-15)


def test_bound_never_reached_for_two_or_more_orders(rng):
    """Question 2: is (1-1/n)^K reached for K >= 2? No: a random hill-climb stays below refined_bound.

    The climb starts at the order-one extremal input (1-sparse) and perturbs; it keeps any input
    with a larger two-order ratio. Theorem 3 says nothing can exceed (1-1/n)(1-2/n).
    """
    for n in (3, 4, 6):
        best_x = np.eye(1, n)
        best = relative_errors(residual_quantize(best_x, 2, axis=-1))[2].item()
        for step in range(1500):
            cand = best_x + rng.standard_normal((1, n)) * 0.3 * 0.998**step
            r = relative_errors(residual_quantize(cand, 2, axis=-1))[2].item()
            if r > best:
                best, best_x = r, cand
        assert best <= refined_bound(n, 2) + identity_tol(2, n)
        assert best < worst_case_bound(n, 2)


def test_two_orders_are_exact_for_pairs(rng):
    """n = 2: refined_bound(2, 2) = 0, so any pair is represented exactly by two planes."""
    X = rng.standard_normal((200, 2))
    err = relative_errors(residual_quantize(X, 2, axis=-1))
    assert np.all(err[2] <= identity_tol(2, 2))


@pytest.mark.parametrize("fn", [worst_case_bound, refined_bound])
def test_bound_functions_validate(fn):
    with pytest.raises(ValueError, match="n must be >= 1"):
        fn(0, 1)
    with pytest.raises(ValueError, match="order must be >= 0"):
        fn(3, -1)
    with pytest.raises(TypeError, match="n must be an integer"):
        fn(3.0, 1)
    assert fn(5, 0) == 1.0


def test_theory_functions_reject_non_expansions():
    with pytest.raises(TypeError, match="expansion must be an Expansion"):
        relative_errors(np.ones(3))


def test_all_zero_group_has_zero_ratios():
    e = residual_quantize(np.array([[0.0, 0.0], [1.0, -3.0]]), 2, axis=1)
    assert np.all(relative_errors(e)[:, 0] == 0) and np.all(identity_prediction(e)[:, 0] == 0)
    assert np.all(contraction_ratios(e)[:, 0] == 0)


# --- negative controls: the same properties must fail on wrong quantizers -------------------------


def quantize_median(x, order, axis=None):
    """A wrong quantizer: the scale is the median of |R| instead of its mean."""
    x = np.asarray(x, dtype=np.float64)
    ax = normalize_axis(axis, x.ndim)
    R, betas, H = [x], [], []
    for _ in range(order):
        betas.append(np.median(np.abs(R[-1]), axis=ax, keepdims=True))
        H.append(sign(R[-1]))
        R.append(R[-1] - betas[-1] * H[-1])
    return Expansion(np.stack(betas), np.stack(H).astype(np.int8), np.stack(R), ax)


def quantize_sign_zero(x, order, axis=None):
    """A wrong quantizer: sign(0) = 0 (NumPy's np.sign), so planes turn ternary on exact zeros."""
    betas, H, R, ax = expand(x, order, axis, sign_fn=np.sign)
    return Expansion(betas, H.astype(np.int8), R, ax)


def _must_fail(check, quantize):
    @settings(max_examples=300, database=None, derandomize=True, report_multiple_bugs=False)
    @given(groups(), st.integers(1, 3))
    def prop(X, order):
        check(quantize, X, order, -1)

    with pytest.raises(AssertionError):
        prop()


@pytest.mark.parametrize("quantize", [quantize_median, quantize_sign_zero])
def test_negative_control_identity_fails(quantize):
    _must_fail(check_identity, quantize)


def test_negative_control_bound_fails_for_median():
    _must_fail(check_bounds, quantize_median)
    _must_fail(check_strictly_falling, quantize_median)


def test_negative_control_binary_planes_fails_for_sign_zero():
    _must_fail(check_binary_planes, quantize_sign_zero)


def test_positive_control_the_same_harness_passes():
    """The harness used by the negative controls passes on the real quantizer."""
    for check in (check_identity, check_bounds, check_strictly_falling, check_binary_planes):

        @settings(max_examples=50, database=None, derandomize=True)
        @given(groups(), st.integers(1, 3))
        def prop(X, order):
            check(quantize_ok, X, order, -1)

        prop()


# --- later scales, effective sparsity, rounding noise, subnormal input ----------------------------


@example(np.array([[1.0, 0.0, 0.0, 0.0, 0.0]]), 4)
@given(groups(min_n=1), st.integers(2, 5))
def test_later_scales_grow_at_most_by_two_one_minus_two_over_n(X, order):
    """For i >= 2, beta_{i+1} <= 2 (1 - 2/n) beta_i: groups of 3 or 4 can only grow at the first step."""
    b = residual_quantize(X, order, axis=-1).betas
    n = X.shape[-1]
    # Same rounding slack as for the first step; plus an absolute term of a few ulps of beta_1 for
    # residuals that are already rounding noise (n = 2: R_2 is zero in exact arithmetic).
    slack = 4 * (math.log2(max(n, 2)) + 2) * EPS
    bound = beta_growth_bound(n, first=False) * b[1:-1] * (1 + slack) + 64 * EPS * b[:1]
    assert np.all(b[2:] <= bound)


def test_effective_sparsity_range(rng):
    X = rng.standard_normal((50, 7)) * (rng.random((50, 7)) < 0.6)
    e = residual_quantize(X, 3, axis=-1)
    rho = effective_sparsity(e)
    nonzero = np.any(e.residuals[:-1] != 0, axis=-1, keepdims=True)
    assert np.all((rho[nonzero] >= 1 - 1e-12) & (rho[nonzero] <= 7 + 1e-12))
    assert np.all(rho[1:][nonzero[1:]] >= 2 - 1e-9)  # Theorem 3: rho >= 2 after the first order
    one_sparse = residual_quantize(np.eye(1, 7), 1, axis=-1)
    assert effective_sparsity(one_sparse).item() == pytest.approx(1.0, abs=1e-12)


def test_rounding_noise_residuals_count_as_zero():
    """n = 2: R_2 = 0 exactly, in floats (0, 5.6e-17); its 'ratio' would be 1/2 and its rho 1."""
    e = residual_quantize(np.array([1.21631507, 0.39531579]), 3)
    assert 0 < np.max(np.abs(e.residuals[2])) <= rounding_floor(e).item()
    assert contraction_ratios(e).ravel()[2] == 0 and effective_sparsity(e).ravel()[2] == 0
    # negative control: the raw formula on the noise gives the meaningless 1/2
    r = e.residuals[2]
    assert abs(1 - np.sum(np.abs(r)) ** 2 / (2 * np.sum(r**2)) - 0.5) < 1e-12
