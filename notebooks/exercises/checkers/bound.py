"""Checkers for exercise 02b: an input at the worst-case bound, and the bound not reached for K >= 2.

The guarantee ``||R_K||^2 <= (1 - 1/n)^K ||X||^2`` (docs/paper.md §3, derived in docs/theory.md) is
reached at ``K = 1`` by 1-sparse inputs. For ``K >= 2`` every residual after the first has balanced
positive and negative l1 mass, so the refined bound ``(1 - 1/n)(1 - 2/n)^(K-1)`` holds
(:func:`horq_ref.theory.refined_bound`, docs/theory.md) and the worst case is never reached.

The student writes ``worst_input(n)``, a non-zero vector of length ``n`` whose order-one ratio
``||R_1||^2 / ||X||^2`` equals ``1 - 1/n``, and ``refined_bound(n, K)``.
"""

from __future__ import annotations

import numpy as np

from horq_ref.quantize import residual_quantize
from horq_ref.theory import refined_bound, relative_errors, worst_case_bound
from .runner import Case, Mistake, run_cases

__all__ = ["check_worst_input", "check_refined_bound", "order_one_ratio"]

WORST_HINT = ("the ratio 1 - ||x||_1^2 / (n ||x||_2^2) is largest when |x| is as unequal as "
              "possible: make ||x||_1 / ||x||_2 as small as it can be")
REFINED_HINT = ("the first order removes at least 1/n of the energy, every later one at least 2/n "
                "(docs/theory.md)")
SIZES = (1, 2, 3, 7, 64, 1000)


def order_one_ratio(x):
    """``||R_1||^2 / ||X||^2`` of one group ``x`` of shape (n,), or a message if ``x`` is unusable."""
    x = np.asarray(x, dtype=float)
    if x.ndim != 1:
        return f"x must be a vector of shape (n,), got shape {x.shape}"
    if not np.all(np.isfinite(x)) or not np.any(x):
        return "x must be finite and not all zero"
    return float(np.ravel(relative_errors(residual_quantize(x, 1))[1])[0])


def _ratio_of(fn):
    def ratio(n):
        x = np.asarray(fn(n), dtype=float)
        return order_one_ratio(x) if x.shape == (n,) else f"x has shape {x.shape}, expected ({n},)"
    return ratio


def _compare_ratio(got, expected):
    if isinstance(got, str):
        return got
    # No input exceeds the bound (the theorem), so equality is asked for. The ratio of a 1-sparse
    # vector is 1 - 1/n to rounding; 1e-9 of slack is far below the gap to any other input (a
    # 2-sparse vector is already 1/(2n) lower).
    if abs(got - expected) > 1e-9:
        return f"expected ratio ||R_1||^2/||X||^2 = {expected:.6f} (the bound), got {got:.6f}"
    return ""


WORST_MISTAKES = (
    Mistake(np.ones,
            "a constant vector is the best case, not the worst: sign(x) is x up to the scale, "
            "the ratio is 0"),
    Mistake(lambda n: np.random.default_rng(0).standard_normal(n),
            "a random vector spreads its energy over its entries: its ratio is well below the bound "
            "(near 1 - 2/pi = 0.36 for a large Gaussian one)"),
)


def check_worst_input(student_fn, stop=True):
    """Check that ``student_fn(n)`` reaches ``||R_1||^2 / ||X||^2 = 1 - 1/n`` for several ``n``."""
    cases = [Case(f"n = {n}", (n,)) for n in SIZES]
    return run_cases("check_worst_input", _ratio_of(student_fn), lambda n: worst_case_bound(n, 1),
                     cases, [Mistake(_ratio_of(m.fn), m.hint) for m in WORST_MISTAKES], WORST_HINT,
                     compare=_compare_ratio, stop=stop)


REFINED_MISTAKES = (
    Mistake(worst_case_bound, "that is the worst-case bound (1 - 1/n)^K, reached only at K = 1; "
                              "after the first order each residual has ||R||_1^2 >= 2 ||R||_2^2"),
    Mistake(lambda n, order: max(0.0, 1.0 - 2.0 / n) ** order,
            "the first order can only promise 1/n (a 1-sparse input), 2/n holds from the second "
            "order on"),
    Mistake(lambda n, order: (1.0 - 1.0 / n) * (1.0 - 2.0 / n) ** order,
            "one factor too many: K orders give one factor (1 - 1/n) and K - 1 factors (1 - 2/n)"),
)


def check_refined_bound(student_fn, stop=True):
    """Check ``student_fn(n, K)`` against :func:`horq_ref.theory.refined_bound` for K >= 1."""
    cases = [Case(f"n = {n}, K = {k}", (n, k)) for n in (3, 2, 4, 9, 64, 1000) for k in (1, 2, 3, 5)]
    return run_cases("check_refined_bound", student_fn, refined_bound, cases, REFINED_MISTAKES,
                     REFINED_HINT, stop=stop)
