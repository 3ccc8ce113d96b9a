"""Input laws (horq_ref.theory.laws, docs/theory.md §8 and §11-12): the closed forms of the error ratio
against large samples, quadrature and Monte Carlo; order one at every finite n; the order of the scale
family in the n -> inf limit. Each with a negative control."""

import math

import numpy as np
import pytest

from horq_ref import residual_quantize
from horq_ref.theory import (
    LAWS,
    closed_form_ratio,
    limit_errors,
    order_one_expected_ratio,
    relative_errors,
    sample_law,
)

# --- closed forms for i.i.d. inputs as n -> inf: large samples, quadrature, Monte Carlo -------------


@pytest.mark.parametrize(
    "law, order",
    [("uniform", 1), ("uniform", 2), ("uniform", 3), ("normal", 1), ("laplace", 1),
     ("relu-normal", 1)],
)
def test_closed_forms_match_large_samples(law, order, rng):
    """Mean ratio over 40 groups of n = 20,000 against the n -> inf closed form.

    Tolerance: 5 standard errors of the mean over groups (sampling) plus 20/n for the O(1/n) bias of
    a ratio of sample means. A wrong closed form (e.g. 1/2 for uniform, 1 - 1/pi for normal) is off
    by more than 0.1, hundreds of standard errors.
    """
    n, m = 20_000, 40
    X = sample_law(law, (m, n), rng)
    err = relative_errors(residual_quantize(X, order, axis=-1))[order].ravel()
    se = err.std(ddof=1) / math.sqrt(m)
    assert abs(err.mean() - closed_form_ratio(law, order)) <= 5 * se + 20 / n


def test_closed_form_unknown_is_none_and_bad_law_raises():
    assert closed_form_ratio("normal", 3) is None
    assert closed_form_ratio("mnist", 1) is None
    assert closed_form_ratio("laplace", 0) == 1.0
    with pytest.raises(ValueError, match="law must be one of"):
        closed_form_ratio("cauchy", 1)
    with pytest.raises(ValueError, match="law must be one of"):
        sample_law("cauchy", 3, np.random.default_rng(0))


@pytest.mark.parametrize("law", LAWS)
@pytest.mark.parametrize("order", [1, 2])
def test_closed_forms_match_quadrature(law, order):
    # midpoint rule with 4e5 points: error O(h^2) ~ 1e-9 away from the kinks; 1e-6 leaves room
    assert abs(limit_errors(law, order) - closed_form_ratio(law, order)) < 1e-6


@pytest.mark.parametrize("law", LAWS)
def test_order_two_closed_form_matches_monte_carlo(law, rng):
    X = sample_law(law, (200, 4096), rng)
    e = residual_quantize(X, 2, axis=-1)
    meas = np.sum(e.residuals[-1] ** 2) / np.sum(X**2)
    # ratio of means over 8e5 entries: standard error ~1e-3 and an O(1/n) bias ~2e-4
    assert abs(meas - closed_form_ratio(law, 2)) < 5e-3


def test_negative_control_order_one_form_is_not_order_two():
    assert abs(limit_errors("normal", 2) - (1 - 2 / math.pi) ** 2) > 1e-3


# --- order one at every finite n --------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 3, 8, 40])
def test_order_one_expected_ratio_at_finite_n(n, rng):
    X = rng.standard_normal((40_000, n))
    e = residual_quantize(X, 1, axis=-1)
    ratio = np.sum(e.residuals[-1] ** 2, -1) / np.sum(X**2, -1)
    se = ratio.std() / np.sqrt(ratio.size)
    assert abs(ratio.mean() - order_one_expected_ratio(n)) < 5 * se + 1e-12  # 5 standard errors
    if n > 1:  # the limit value is off by (2/pi - 1)/n: many standard errors away at small n
        assert abs(ratio.mean() - (1 - 2 / math.pi)) > 5 * se


# --- the scale family in the limit ------------------------------------------------------------------


@pytest.mark.parametrize("law", ["normal", "laplace", "relu-normal"])
def test_limit_errors_keep_the_family_order(law):
    r = [limit_errors(law, 3, sc, points=20_001) for sc in ("greedy", "refit", "alternating", "optimal")]
    assert all(a >= b - 1e-9 for a, b in zip(r, r[1:])), r  # quadrature rounding ~1e-12
    assert r[0] - r[1] > 1e-3  # the refit gains at K = 3 on these laws


def test_negative_control_uniform_greedy_is_already_optimal():
    """On the uniform law the family collapses: greedy's 4^-K is the optimal uniform quantizer."""
    r = [limit_errors("uniform", 3, sc, points=20_001) for sc in ("greedy", "refit", "optimal")]
    assert max(r) - min(r) < 1e-6 and abs(r[0] - 4.0**-3) < 1e-6
