"""Levels of the scale family (docs/theory.md §11-12): the ± pairs on non-negative data, greedy's
least-squares condition at K = 2 (including beta_2 = 0), and how the ReLU-normal floor of the §11
table was established. Each with a negative control."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import groups
from support import group_error_tol as tol

from horq_ref import residual_quantize
from horq_ref.scales import SCALES, group_errors, optimal_levels, quantize_with
from horq_ref.theory import law_quadrature, limit_errors, lloyd_max, normal_equation_residual, refit_gain

# --- every variant's 2^K levels come in ± pairs: on x >= 0 no better than 2^(K-1) levels ------------


@given(groups(min_n=1).map(np.abs), st.integers(1, 4), st.sampled_from(SCALES))
def test_on_non_negative_data_no_variant_beats_the_optimum_one_order_down(X, order, scales):
    e = quantize_with(X, order, -1, scales)
    floor = np.array([[optimal_levels(row, 2 ** (order - 1))[1]] for row in X])  # (M, 1)
    assert np.all(group_errors(e) >= floor - tol(X, order))


@given(groups(min_n=1).map(np.abs))
def test_greedy_order_one_is_the_one_level_optimum_on_non_negative_data(X):
    """H_1 = +1 and beta_1 = mean(x): the best single level, the mean."""
    e = residual_quantize(X, 1, axis=-1)
    one_level = np.sum((X - X.mean(axis=-1, keepdims=True)) ** 2, axis=-1, keepdims=True)
    assert np.all(np.abs(group_errors(e) - one_level) <= tol(X, 1))


def test_negative_control_signed_data_beat_the_half_level_optimum():
    """On signed data the ± pairs are no waste: x = (-1, 1) is exact at K = 1, one level errs by 2."""
    x = np.array([[-1.0, 1.0]])
    assert group_errors(residual_quantize(x, 1, axis=-1)).item() == 0.0
    assert optimal_levels(x, 1)[1] == 2.0


@pytest.mark.parametrize("order", [2, 3])
def test_relu_normal_limits_stay_above_the_optimum_one_order_down(order):
    floor = limit_errors("relu-normal", order - 1, "optimal", points=20_001)
    r = [limit_errors("relu-normal", order, sc, points=20_001) for sc in SCALES]
    assert min(r) >= floor - 1e-9, (r, floor)  # quadrature rounding ~1e-12
    if order == 2:  # attained: two levels a >= b >= 0 are beta_1 + beta_2 and beta_1 - beta_2
        assert r[-1] == pytest.approx(floor, abs=1e-6)
    assert limit_errors("relu-normal", 1, "greedy", points=20_001) == pytest.approx(1 - 1 / math.pi,
                                                                                    abs=1e-6)


# --- the ReLU-normal floor: not covered by the log-concave uniqueness theorem, so multi-start -------


@pytest.mark.parametrize("levels, table", [(2, 0.1742), (4, 0.0431), (8, 0.0107), (16, 0.0027)])
def test_relu_normal_floor_is_the_best_of_many_lloyd_starts(levels, table):
    """Lloyd from the quantiles (what limit_errors uses) against 12 random starts on [0, 4], on a
    20,001-point quadrature: none ends more than 0.1 % lower (a discrete law has many fixed points a
    few grid steps apart; 0.1 % is below the table's 4 decimals). Negative control: one Lloyd step from
    the quantiles is no floor, and the same check catches it."""
    t, w = law_quadrature("relu-normal", 20_001)
    best = lloyd_max(t, w, levels)[1]
    rng = np.random.default_rng(levels)
    starts = [lloyd_max(t, w, levels, init=rng.uniform(0, 4, levels))[1] for _ in range(12)]
    assert min(starts) >= best * (1 - 1e-3), (best, min(starts))
    assert min(starts) < lloyd_max(t, w, levels, iters=1)[1] * (1 - 1e-3)
    assert round(best / float(w @ t**2), 4) == table  # the "optimal" column of docs/theory.md §11


# --- K = 2: greedy's scales are least squares iff beta_2 = 0 or <H_1, H_2> = 0 ----------------------


@given(st.sampled_from([2, 4, 8]).flatmap(lambda n: st.lists(st.integers(-8, 8), min_size=n,
                                                              max_size=n)))
def test_order_two_least_squares_condition(x):
    """Integer entries and n a power of two: every beta and residual is exact in binary floats."""
    e = residual_quantize(np.array([x], dtype=np.float64), 2, axis=-1)
    H1, H2 = e.signs[:, 0].astype(np.int64)
    beta2, inner = float(e.betas[1].item()), int(H1 @ H2)
    c = normal_equation_residual(e)
    assert c[0].item() == beta2 * inner and c[1].item() == 0
    assert (refit_gain(e).item() > 1e-9) == (beta2 != 0 and inner != 0)


def test_order_two_condition_holds_when_beta_2_vanishes():
    """Negative control of the old statement ("iff <H_1, H_2> = 0"): x = (1, 1, 1) is coded exactly
    at order one, sign(0) = +1 makes H_2 = H_1, yet greedy's scales are least squares."""
    e = residual_quantize(np.array([[1.0, 1.0, 1.0]]), 2, axis=-1)
    assert int(e.signs[0, 0] @ e.signs[1, 0]) == 3 and e.betas[1].item() == 0
    assert refit_gain(e).item() == 0 and group_errors(e).item() == 0
