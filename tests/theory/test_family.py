"""Greedy within the scale family (horq_ref.theory.family, docs/theory.md §11-12): its least-squares
optimality and nearest-level conditions, the odd-n theorem, the growth family, levels on non-negative
input. Each with a negative control."""

from fractions import Fraction

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from strategies import groups
from support import group_error_tol as tol

from horq_ref import residual_quantize
from horq_ref.scales import quantize_with, group_errors
from horq_ref.theory import (
    exact_expansion,
    growth_attaining_input,
    levels_used,
    miscoded_value,
    nearest_level,
    nearest_level_condition,
    normal_equation_residual,
    refit_gain,
    successive_code,
)


# --- least-squares optimality of greedy: gain = c^T G^+ c, zero iff c = 0 ---------------------------


@given(groups(), st.integers(1, 4))
def test_refit_gain_is_the_normal_equation_residual(X, order):
    g = residual_quantize(X, order, axis=-1)
    gain = group_errors(g) - group_errors(quantize_with(X, order, axis=-1, scales="refit"))
    assert np.all(np.abs(gain - refit_gain(g)) <= tol(X, order))
    c = normal_equation_residual(g)  # (K, M, 1)
    n = X.shape[-1]
    # c != 0  =>  a strict gain of at least ||c||^2 / lambda_max(G) >= ||c||^2 / (K n)
    assert np.all(gain >= np.sum(c**2, axis=0) / (order * n) - tol(X, order))


def test_greedy_is_optimal_when_c_vanishes():
    x = np.array([[3.0, 1.0, -1.0, -3.0]])  # H_1 = (+, +, -, -), H_2 = (+, -, +, -): orthogonal
    g = residual_quantize(x, 2, axis=-1)
    assert np.all(normal_equation_residual(g) == 0)
    np.testing.assert_allclose(quantize_with(x, 2, -1, scales="refit").betas, g.betas)


def test_negative_control_wrong_side_of_the_sum_misses_the_gain(rng):
    """Summing over i < j instead of i > j does not predict the gain."""
    X = rng.standard_normal((3, 10))
    g = residual_quantize(X, 3, axis=-1)
    G = np.einsum("kmn,lmn->mkl", g.signs.astype(float), g.signs.astype(float))
    c_wrong = np.einsum("mkl,lm->km", np.tril(G, -1), g.betas[:, :, 0])
    gain = group_errors(g) - group_errors(quantize_with(X, 3, -1, scales="refit"))
    pred = np.einsum("km,mkl,lm->m", c_wrong, np.linalg.pinv(G), c_wrong)
    assert np.max(np.abs(gain.ravel() - pred)) > 1e-3


# --- nearest-level coding ---------------------------------------------------------------------------


@given(st.lists(st.floats(0.0, 10.0), min_size=1, max_size=5), st.lists(st.floats(-30, 30), max_size=20))
def test_condition_makes_successive_coding_nearest(slack, t):
    betas = []
    for s in reversed(slack):  # beta_i = slack_i + sum_{j>i} beta_j satisfies the condition
        betas.insert(0, s + sum(betas))
    t = np.array(t)
    d_code = np.abs(t - successive_code(t, betas))
    d_near = np.abs(t - nearest_level(t, betas))
    assert np.all(d_code <= d_near + 1e-9 * (1 + np.abs(t)))  # ties allowed: equal distances


@given(st.lists(st.integers(1, 40), min_size=2, max_size=5))
def test_condition_is_necessary_when_levels_are_distinct(b):
    betas = np.array(b, dtype=float) + np.arange(len(b)) * 1e-3  # generic: distinct levels (a.s.)
    levels = np.array(np.meshgrid(*[[1, -1]] * len(b), indexing="ij")).reshape(len(b), -1).T @ betas
    distinct = len(np.unique(np.round(levels, 9))) == levels.size
    t = miscoded_value(betas)
    if bool(nearest_level_condition(betas[:, None])[0]):
        assert t is None
    elif distinct:
        assert abs(successive_code(t, betas) - t) > abs(nearest_level(t, betas) - t) + 1e-9


def test_negative_control_equal_scales_violate_the_condition_yet_code_nearest():
    """(1, 1, 1) breaks beta_1 >= beta_2 + beta_3 but its levels coincide: the converse needs distinct
    levels, and the 'necessary' check above is skipped exactly there."""
    betas = np.array([1.0, 1.0, 1.0])
    assert not nearest_level_condition(betas[:, None])[0]
    t = np.linspace(-4, 4, 801)
    assert np.all(np.abs(t - successive_code(t, betas)) <= np.abs(t - nearest_level(t, betas)) + 1e-12)


def test_what_it_means_for_one_groups_entries(rng):
    """Condition => each entry of the group is coded to its nearest level; not conversely."""
    for _ in range(200):
        x = rng.uniform(-1, 1, 64)  # uniform groups: the scales roughly halve
        e = residual_quantize(x, 3)
        b = e.betas.ravel()
        assert nearest_level_condition(b[:, None])[0]  # holds for such groups: the check below runs
        assert np.all(np.abs(x - e.reconstruct()) <= np.abs(x - nearest_level(x, b)) + 1e-12)
    e = residual_quantize([1.0, 0.0, 0.0], 2)  # beta = (1/3, 4/9) violates it, yet every entry is
    b = e.betas.ravel()  # nearest (0 sits halfway between -1/9 and 1/9): entries need not witness
    assert not nearest_level_condition(b[:, None])[0]
    assert np.allclose(np.abs(e.x - e.reconstruct()), np.abs(e.x - nearest_level(e.x, b)))


# --- exact statements: odd n, the growth family, levels on non-negative input -----------------------


@given(st.lists(st.integers(-20, 20), min_size=1, max_size=7).filter(lambda v: len(v) % 2 == 1),
       st.integers(1, 6))
def test_odd_n_residual_never_vanishes_unless_equal_magnitudes(x, order):
    _, R = exact_expansion(x, order)
    equal = len({abs(v) for v in x}) == 1
    assert (all(v == 0 for v in R[-1])) == equal


def test_negative_control_even_n_can_vanish():
    _, R = exact_expansion([3, 1, 0, 0], 4)  # n = 4: exact after finitely many orders
    assert all(v == 0 for v in R[-1]) and len({abs(v) for v in [3, 1, 0, 0]}) > 1


@given(st.integers(3, 40), st.fractions(Fraction(1, 8), 4), st.fractions(Fraction(1, 8), 1))
def test_growth_family_attains_the_later_bound(n, b, frac):
    c = b * frac  # 0 < c <= b
    betas, _ = exact_expansion([b + c, b - c] + [b] * (n - 2), 3)
    assert betas[2] / betas[1] == Fraction(2) * (1 - Fraction(2, n))
    assert np.allclose(growth_attaining_input(n, float(b), float(c)), [float(b + c), float(b - c)]
                       + [float(b)] * (n - 2))


@given(groups(min_n=1).map(np.abs), st.integers(1, 6))
def test_non_negative_input_uses_at_most_half_the_levels(X, order):
    e = residual_quantize(X[0], order)
    assert np.all(e.signs[0] == 1)
    assert levels_used(e) <= 2 ** (order - 1)


def test_negative_control_signed_input_uses_more_levels(rng):
    assert levels_used(residual_quantize(rng.standard_normal(64), 3)) > 2 ** 2


