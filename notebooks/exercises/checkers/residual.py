"""Checkers for exercise 02: residual quantization of order K and the energy identity (§2, §3).

The student writes ``residual_quantize(x, order, axis)`` returning ``(betas, H)`` with ``betas`` of
shape ``(K,) + G`` (``G = np.mean(x, axis, keepdims=True).shape``) and ``H`` of shape ``(K,) + x.shape``,
and ``predicted_energy(x, betas, axis)``: ``||X||^2 - n sum_i beta_i^2`` per group (shape ``G``), which
the energy identity says equals ``||R_K||^2`` (docs/theory.md).
"""

from __future__ import annotations

import numpy as np

from horq_ref.quantize import expand, group_size, normalize_axis, residual_quantize, sign
from horq_ref.theory import identity_prediction
from .runner import Case, Mistake, compare_arrays, run_cases

__all__ = ["check_residual_quantize", "check_predicted_energy", "residual_cases", "energy_cases"]

RESIDUAL_HINT = ("order i quantizes the residual R_{i-1} = R_{i-2} - beta_{i-1} H_{i-1}: "
                 "H_i = sign(R_{i-1}) (sign(0) = +1), beta_i = mean |R_{i-1}| over the group")
ENERGY_HINT = "per group: sum of x^2 over the group's axes minus n * sum_i beta_i^2"


def reference_residual(x, order, axis=None):
    """``(betas, H)`` of :func:`horq_ref.quantize.expand`."""
    betas, H, _, _ = expand(x, order, axis)
    return betas, H


def _mean_abs(R, x, axis):
    return np.mean(np.abs(R), axis=axis, keepdims=True)


def _loop(x, order, axis, plane=lambda R, x: sign(R), scale=_mean_abs, update=True):
    """A residual loop with pluggable plane and scale rules, to plant mistakes."""
    R, betas, H = np.asarray(x, dtype=float), [], []
    for _ in range(order):
        h, b = plane(R, x), scale(R, x, axis)
        betas.append(b)
        H.append(h)
        if update:
            R = R - b * h
    return np.stack(betas), np.stack(H)


RESIDUAL_MISTAKES = (
    Mistake(lambda x, order, axis=None: _loop(x, order, axis, scale=lambda R, x, a: _mean_abs(x, x, a)),
            "scales not recomputed on the residual: beta_i is mean |R_{i-1}|, not mean |X|"),
    Mistake(lambda x, order, axis=None: _loop(x, order, axis, plane=lambda R, x: sign(x)),
            "planes not recomputed on the residual: H_i is sign(R_{i-1}), not sign(X)"),
    Mistake(lambda x, order, axis=None: _loop(x, order, axis, update=False),
            "the residual is never updated: after each order, R <- R - beta_i H_i"),
    Mistake(lambda x, order, axis=None: _loop(
        x, order, axis, scale=lambda R, x, a: np.median(np.abs(R), axis=a, keepdims=True)),
            "median instead of mean: beta_i = mean |R_{i-1}| is the least-squares scale"),
    Mistake(lambda x, order, axis=None: _loop(x, order, axis, plane=lambda R, x: np.sign(R)),
            "sign(0) = 0: np.sign gives 0 on exact zeros of a residual; use sign(0) = +1"),
    Mistake(lambda x, order, axis=None: _loop(x, order, None),
            "one scale for the whole array: reduce only over `axis`, one beta per group"),
    Mistake(lambda x, order, axis=None: _loop(x, order, axis, scale=lambda R, x, a: np.mean(np.abs(R), axis=a)),
            "beta_i lost the reduced axes: use keepdims=True so that beta_i * H_i broadcasts per group"),
)


def residual_cases(seed=0):
    """Fixed, random and adversarial ``(x, order, axis)``; dyadic values keep exact ties exact."""
    rng = np.random.default_rng(seed)
    return [
        Case("fixed: x = (1, 0, 0), K = 2 (beta_2 > beta_1)", (np.array([1.0, 0.0, 0.0]), 2)),
        Case("fixed: K = 1 is binarize", (np.array([0.5, -1.5, 2.0, 0.0]), 1)),
        Case("random normal (4, 6), K = 3, axis -1, seed %d" % seed,
             (rng.standard_normal((4, 6)), 3), {"axis": -1}),
        Case("adversarial: ties, R_1 = 0 exactly, K = 3", (np.array([[1.0, -1.0, 1.0, -1.0]]), 3),
             {"axis": 1}),
        Case("adversarial: zeros and -0.0, K = 2", (np.array([[0.0, -0.0, 0.0], [2.0, -0.0, 1.0]]), 2),
             {"axis": 1}),
        Case("adversarial: odd group size 7, K = 4", (rng.standard_normal((2, 7)), 4), {"axis": 1}),
        Case("adversarial: several axes (0, 2), K = 2", (rng.standard_normal((3, 2, 5)), 2),
             {"axis": (0, 2)}),
        Case("adversarial: ReLU output, K = 3", (np.maximum(rng.standard_normal((3, 8)), 0), 3),
             {"axis": -1}),
    ]


def check_residual_quantize(student_fn, stop=True):
    """Check ``student_fn(x, order, axis) -> (betas, H)`` against :func:`horq_ref.residual_quantize`."""
    return run_cases("check_residual_quantize", student_fn, reference_residual, residual_cases(),
                     RESIDUAL_MISTAKES, RESIDUAL_HINT, stop=stop, replaces=(residual_quantize, expand))


def reference_energy(x, betas, axis=None):
    """``||X||^2 - n sum_i beta_i^2`` per group, shape ``G``."""
    x = np.asarray(x, dtype=float)
    ax = normalize_axis(axis, x.ndim)
    n = group_size(x.shape, ax)
    return np.sum(x * x, axis=ax, keepdims=True) - n * np.sum(np.square(betas), axis=0)


def energy_cases(seed=0):
    """The cases of :func:`residual_cases` as ``(x, betas)``, ``betas`` the reference's."""
    cases = []
    for case in residual_cases(seed):
        axis = case.kwargs.get("axis")
        betas, _ = reference_residual(*case.args, axis=axis)
        cases.append(Case(case.name, (case.args[0], betas), {"axis": axis}))
    return cases


def _compare_energy(got, expected):
    # ||X||^2 - n sum beta^2 cancels: two correct orders of summation differ by ~1e-16 ||X||^2,
    # so the absolute tolerance is 1e-9 of the largest group energy (far below any real mistake).
    return compare_arrays(got, expected, rtol=1e-9, atol=1e-9)


ENERGY_MISTAKES = (
    Mistake(lambda x, betas, axis=None: reference_energy(x, betas, axis) + (
        group_size(np.shape(x), normalize_axis(axis, np.ndim(x))) - 1) * np.sum(np.square(betas), 0),
            "the factor n is missing: each of the n entries of a group loses beta_i^2"),
    Mistake(lambda x, betas, axis=None: reference_energy(x, np.sqrt(np.abs(betas)), axis),
            "beta_i is not squared: the energy removed by order i is n beta_i^2"),
    Mistake(lambda x, betas, axis=None: np.sum(np.square(x)) - group_size(
        np.shape(x), normalize_axis(axis, np.ndim(x))) * np.sum(np.square(betas), axis=0),
            "||X||^2 summed over the whole array: sum x^2 over the group's axes only (keepdims)"),
    Mistake(lambda x, betas, axis=None: np.sum(np.square(x), axis=axis, keepdims=True) - np.size(x)
            * np.sum(np.square(betas), axis=0),
            "n = x.size counts every group: n is the number of entries of one group (x.size / groups)"),
    Mistake(lambda x, betas, axis=None: np.sum(np.square(x), axis=axis) - group_size(
        np.shape(x), normalize_axis(axis, np.ndim(x))) * np.sum(np.square(betas), axis=0),
            "the result lost the reduced axes: sum with keepdims=True, one value per group (shape G)"),
)


def check_predicted_energy(student_fn, stop=True):
    """Check ``student_fn(x, betas, axis) -> ||X||^2 - n sum beta_i^2`` per group (shape G)."""
    return run_cases("check_predicted_energy", student_fn, reference_energy, energy_cases(),
                     ENERGY_MISTAKES, ENERGY_HINT, compare=_compare_energy, stop=stop,
                     replaces=(residual_quantize, expand, identity_prediction))
