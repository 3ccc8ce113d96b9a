"""Checkers for exercise 01: the binary sign and order-one binarization (docs/paper.md §1).

The student writes ``sign(x)`` (``±1`` with ``sign(0) = sign(-0.0) = +1``) and ``binarize(x, axis)``
returning ``(beta, H)`` with ``beta = mean |x|`` over ``axis`` (reduced axes kept) and ``H = sign(x)``.
"""

from __future__ import annotations

import numpy as np

from horq_ref.quantize import binarize, binary_sign, sign
from .runner import Case, Mistake, run_cases

__all__ = ["check_sign", "check_binarize", "sign_cases", "binarize_cases"]

SIGN_HINT = ("sign must be +1 for x >= 0 (both zeros included) and -1 for x < 0, "
             "with the shape of x")
BINARIZE_HINT = ("beta is the mean of |x| over the group's axes, kept as size-1 axes; "
                 "H is the binary sign of x")

# Planted mistakes, shared with the tests (negative controls).
SIGN_MISTAKES = (
    Mistake(np.sign, "sign(0) = 0: np.sign returns 0 for 0, so the plane is no longer binary; "
                     "this project (and the bit packing) uses sign(0) = +1"),
    Mistake(lambda x: np.copysign(1.0, x),
            "-0.0 has its sign bit set: copysign / signbit send it to -1, but -0.0 == 0 and "
            "sign(-0.0) must be +1 like sign(0)"),
    Mistake(lambda x: np.where(np.asarray(x) > 0, 1.0, -1.0),
            "sign(0) = -1: a strict '> 0' sends zeros to -1; zero is +1 here"),
)


def _median_binarize(x, axis=None):
    return np.median(np.abs(x), axis=axis, keepdims=True), sign(x)


BINARIZE_MISTAKES = (
    Mistake(_median_binarize, "median instead of mean: beta = mean|x| minimizes "
                              "||x - beta sign(x)||^2 (docs/theory.md); the median does not"),
    Mistake(lambda x, axis=None: (np.mean(x, axis=axis, keepdims=True), sign(x)),
            "beta = mean(x) without the absolute value: positive and negative entries cancel"),
    Mistake(lambda x, axis=None: (np.sqrt(np.mean(np.square(x), axis=axis, keepdims=True)), sign(x)),
            "beta is the root mean square of x; the least-squares scale of a sign plane is mean|x|"),
    Mistake(lambda x, axis=None: (np.mean(np.abs(x), axis=axis), sign(x)),
            "beta lost the reduced axes: use keepdims=True so that beta * H broadcasts per group"),
    Mistake(lambda x, axis=None: (np.mean(np.abs(x), keepdims=True) * np.ones_like(
        np.mean(x, axis=axis, keepdims=True)), sign(x)),
            "one scale for the whole array: reduce only over `axis`, each group gets its own beta"),
    Mistake(lambda x, axis=None: (np.mean(np.abs(x), axis=axis, keepdims=True), np.sign(x)),
            "H = np.sign(x) has zeros where x == 0: sign(0) must be +1"),
)


def sign_cases(seed=0):
    """Fixed, random and adversarial inputs of ``sign``."""
    rng = np.random.default_rng(seed)
    return [
        Case("fixed: mixed signs", (np.array([-2.0, -0.5, 0.5, 3.0]),)),
        Case("random normal (3, 4), seed %d" % seed, (rng.standard_normal((3, 4)),)),
        Case("adversarial: zeros", (np.zeros(5),)),
        Case("adversarial: -0.0", (np.array([-0.0, 1.0, -1.0]),)),
        Case("adversarial: tiny, huge, inf", (np.array([1e-300, -1e-300, 1e300, -np.inf, np.inf]),)),
        Case("adversarial: 3-D with zeros", (np.where(rng.random((2, 3, 5)) < 0.3, 0.0,
                                                      rng.standard_normal((2, 3, 5))),)),
    ]


def binarize_cases(seed=0):
    """Fixed, random and adversarial ``(x, axis)`` of ``binarize``."""
    rng = np.random.default_rng(seed)
    relu = np.maximum(rng.standard_normal((4, 5)), 0.0)
    return [
        Case("fixed: 2x2, one scale per row", (np.array([[0.5, -1.5], [2.0, 0.0]]),), {"axis": 1}),
        Case("fixed: one group for the array", (np.array([1.0, -3.0, 0.5]),), {"axis": None}),
        Case("random (3, 4), axis 0, seed %d" % seed, (rng.standard_normal((3, 4)),), {"axis": 0}),
        Case("adversarial: odd group size 5", (np.array([[0.1, -0.2, 4.0, 0.3, -0.4]]),),
             {"axis": 1}),
        Case("adversarial: several axes (0, 2)", (rng.standard_normal((3, 2, 5)),), {"axis": (0, 2)}),
        Case("adversarial: a row of zeros and -0.0", (np.array([[0.0, -0.0, 0.0], [1.0, -1.0, 2.0]]),),
             {"axis": -1}),
        Case("adversarial: ReLU output (many exact zeros)", (relu,), {"axis": 1}),
        Case("adversarial: exact ties |x| equal", (np.array([[1.0, -1.0, 1.0, -1.0]]),), {"axis": 1}),
    ]


def check_sign(student_sign, stop=True):
    """Check ``student_sign(x) -> ±1 array`` against :func:`horq_ref.sign`."""
    return run_cases("check_sign", student_sign, sign, sign_cases(), SIGN_MISTAKES, SIGN_HINT,
                     stop=stop, replaces=(binary_sign,))


def check_binarize(student_binarize, stop=True):
    """Check ``student_binarize(x, axis) -> (beta, H)`` against :func:`horq_ref.binarize`."""
    return run_cases("check_binarize", student_binarize, binarize, binarize_cases(), BINARIZE_MISTAKES,
                     BINARIZE_HINT, stop=stop)
