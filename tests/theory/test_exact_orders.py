"""Exact zeros of the residual in rational arithmetic (docs/theory.md §6 remark, §12 odd n): which
groups of n = 4 are exact after four orders, with and without ties, and the magnitudes the odd-n proof
rests on for signed input."""

import itertools
from fractions import Fraction

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from horq_ref.theory import exact_expansion


def strict_two_two_split(x):
    """Two magnitudes strictly above their mean beta_1 and two strictly below."""
    a = [abs(v) for v in x]
    m = Fraction(sum(a), len(a))
    return sum(v > m for v in a) == 2 and sum(v < m for v in a) == 2


def exact_after(x, order):
    return all(v == 0 for v in exact_expansion(x, order)[1][order])


def test_n4_exact_groups_on_the_integer_grid():
    """Every strict two-two split is exact after four orders; the converse fails with ties: 1,104 of
    the 9^4 inputs with entries in [-4, 4] are exact after four orders (not after one) without one."""
    grid = list(itertools.product(range(-4, 5), repeat=4))
    split = [x for x in grid if strict_two_two_split(x)]
    assert split and all(exact_after(x, 4) for x in split)
    tied = [x for x in grid if not strict_two_two_split(x) and exact_after(x, 4) and not exact_after(x, 1)]
    assert len(tied) == 1104
    assert (3, 1, 0, 0) in tied and (-4, -4, -3, -1) in tied  # a magnitude equal to its mean


def test_n4_in_general_position_exact_means_a_two_two_split():
    """No ties (magnitudes drawn from a large range): exact after four orders iff a strict split, as
    notebook 02 finds on normal groups. Negative control: the ties of the grid test above."""
    rng = np.random.default_rng(0)
    xs = [tuple(int(v) for v in rng.integers(-10**6, 10**6, 4)) for _ in range(400)]
    assert all(exact_after(x, 4) == strict_two_two_split(x) for x in xs)
    assert 50 < sum(map(strict_two_two_split, xs)) < 350  # both kinds occur


@given(st.lists(st.integers(-20, 20), min_size=1, max_size=9), st.integers(2, 5))
def test_residual_magnitudes_are_deviations_that_sum_to_zero(x, order):
    """What the odd-n proof uses: |R_i| = |d| with d = |R_{i-1}| - beta_i and sum(d) = 0; R_i itself
    need not sum to zero on signed input."""
    betas, R = exact_expansion(x, order)
    for i in range(1, order + 1):
        d = [abs(v) - betas[i - 1] for v in R[i - 1]]
        assert sum(d) == 0 and [abs(v) for v in R[i]] == [abs(v) for v in d]


def test_negative_control_signed_residual_does_not_sum_to_zero():
    """x = (-3, 1, 0, 0): R_1 = (-2, 0, -1, -1) sums to -4, its magnitudes are those of d = (2, 0, -1, -1)."""
    betas, R = exact_expansion((-3, 1, 0, 0), 1)
    assert R[1] == [-2, 0, -1, -1] and sum(R[1]) == -4 and betas == [1]
