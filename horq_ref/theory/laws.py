"""Input laws: samplers, closed forms of the error of i.i.d. groups, and their quadrature checks.

Derivations in ``docs/theory.md`` §8 (limits ``n -> inf``) and §12 (order one at every finite ``n``,
order two in closed form). :func:`limit_errors` evaluates the same limits by quadrature, for every
scale variant of :mod:`horq_ref.scales` and for the optimal levels (Lloyd-Max), at any order.
"""

from __future__ import annotations

import math

import numpy as np

from ..checks import check_choice, check_int
from ..scales import sign_patterns

__all__ = ["LAWS", "sample_law", "closed_form_ratio", "order_one_expected_ratio", "law_quadrature",
           "limit_errors", "lloyd_max"]

#: Input laws with a sampler; ``closed_form_ratio`` knows the ``n -> inf`` ratio for some of them.
LAWS = ("normal", "uniform", "laplace", "relu-normal")


def sample_law(law, shape, rng):
    """Draw i.i.d. entries of ``law`` with the given ``shape`` from generator ``rng``.

    ``normal``: N(0, 1); ``uniform``: U[-1, 1]; ``laplace``: Laplace(0, 1); ``relu-normal``:
    max(0, N(0, 1)), the input of a layer that follows a ReLU.
    """
    if law == "normal":
        return rng.standard_normal(shape)
    if law == "uniform":
        return rng.uniform(-1.0, 1.0, shape)
    if law == "laplace":
        return rng.laplace(0.0, 1.0, shape)
    if law == "relu-normal":
        return np.maximum(rng.standard_normal(shape), 0.0)
    raise ValueError(f"law must be one of {LAWS}, got {law!r}")


def _tail(m):
    """``E (Z - m)_+ = phi(m) - m Q(m)`` for a standard normal ``Z``."""
    phi = math.exp(-m * m / 2) / math.sqrt(2 * math.pi)
    return phi - m * 0.5 * math.erfc(m / math.sqrt(2))


def closed_form_ratio(law, order):
    """``E||R_K||^2 / E||X||^2`` in the limit ``n -> inf`` where a closed form is known, else None.

    * uniform on [-a, a]: ``4^-K`` (each order leaves a uniform law on half the interval);
    * order 1: normal ``1 - 2/pi``, Laplace ``1/2``, ReLU of a normal ``1 - 1/pi``
      (all ``1 - (E|X|)^2 / E[X^2]``);
    * order 2: ``1 - (beta_1^2 + beta_2^2) / E[X^2]`` with ``beta_2 = E| |X| - beta_1 |``: normal
      ``1 - 2/pi - 16 (phi(m) - m Q(m))^2`` at ``m = sqrt(2/pi)``; Laplace ``1/2 - 2/e^2``; ReLU of a
      normal ``1 - 1/pi - 8 (phi(m) - m Q(m))^2`` at ``m = 1/sqrt(2 pi)`` (docs/theory.md §12).

    Examples
    --------
    >>> round(closed_form_ratio("normal", 1), 4), round(closed_form_ratio("laplace", 2), 4)
    (0.3634, 0.2293)
    >>> closed_form_ratio("uniform", 3)
    0.015625
    >>> closed_form_ratio("normal", 3) is None
    True
    """
    order = check_int(order, "order", 0)
    if law not in LAWS and law != "mnist":
        raise ValueError(f"law must be one of {LAWS + ('mnist',)}, got {law!r}")
    if order == 0:
        return 1.0
    if law == "uniform":
        return 0.25**order
    first = {"normal": 1 - 2 / math.pi, "laplace": 0.5, "relu-normal": 1 - 1 / math.pi}
    if order == 1 and law in first:
        return first[law]
    second = {
        "normal": lambda: 1 - 2 / math.pi - 16 * _tail(math.sqrt(2 / math.pi)) ** 2,
        "laplace": lambda: 0.5 - 2 / math.e**2,
        "relu-normal": lambda: 1 - 1 / math.pi - 8 * _tail(1 / math.sqrt(2 * math.pi)) ** 2,
    }
    if order == 2 and law in second:
        return second[law]()
    return None


def order_one_expected_ratio(n, law="normal"):
    """``E[||R_1||^2 / ||X||^2]`` for ``n`` i.i.d. N(0, s^2) entries, exactly, at every ``n >= 1``.

    Equals ``(1 - 1/n)(1 - 2/pi)``; also ``E||R_1||^2 = (n - 1)(1 - 2/pi) s^2``. Only the normal law
    has the ratio in closed form (its direction ``X / ||X||`` is independent of ``||X||``).

    Examples
    --------
    >>> round(order_one_expected_ratio(576), 6)
    0.362749
    """
    check_choice(law, "law", ("normal",))
    n = check_int(n, "n", 1)
    return (1 - 1 / n) * (1 - 2 / math.pi)


def law_quadrature(law, points=400_001):
    """A weighted point set ``(t, w)`` (weights summing to 1) standing in for ``law``.

    Midpoint rule on ``[-12, 12]`` (normal), ``[-40, 40]`` (Laplace), ``[-1, 1]`` (uniform); the
    ReLU-normal law is an atom of mass 1/2 at 0 plus the normal density on ``(0, 12]``. The tails
    left out carry less than ``1e-17`` of the mass.
    """
    check_choice(law, "law", LAWS)
    m = check_int(points, "points", 3)
    lo, hi = {"normal": (-12, 12), "laplace": (-40, 40), "uniform": (-1, 1), "relu-normal": (0, 12)}[law]
    t = lo + (np.arange(m) + 0.5) * (hi - lo) / m
    dens = {"normal": np.exp(-t * t / 2) / math.sqrt(2 * math.pi), "laplace": np.exp(-np.abs(t)) / 2,
            "uniform": np.full(m, 0.5), "relu-normal": np.exp(-t * t / 2) / math.sqrt(2 * math.pi)}[law]
    w = dens * (hi - lo) / m
    if law == "relu-normal":
        t, w = np.concatenate([[0.0], t]), np.concatenate([[0.5], w])
    return t, w / w.sum()


def _weighted_lsq(H, t, w):
    """Scales minimizing ``sum w (t - sum_i beta_i H_i)^2``; ``H`` (K, m)."""
    gram = (H * w) @ H.T
    return np.linalg.pinv(gram, rcond=1e-12, hermitian=True) @ ((H * w) @ t)


def limit_errors(law, order, scales="greedy", points=400_001, max_iter=200):
    """``E||R_K||^2 / E||X||^2`` as ``n -> inf`` for i.i.d. entries of ``law``, by quadrature.

    ``scales`` is ``"greedy"``, ``"refit"``, ``"alternating"`` or ``"optimal"`` (Lloyd-Max with
    ``2^K`` levels). The recursions of :mod:`horq_ref.scales` are run on the weighted point set of
    :func:`law_quadrature`, where means over a group become integrals against the law.
    """
    check_choice(scales, "scales", ("greedy", "refit", "alternating", "optimal"))
    K = check_int(order, "order", 1, 10)
    t, w = law_quadrature(law, points)
    energy = float(w @ (t * t))
    if scales == "optimal":
        return lloyd_max(t, w, 2**K)[1] / energy
    R, H, betas = t.copy(), np.empty((K, t.size)), np.empty(K)
    for i in range(K):
        H[i] = np.where(R >= 0, 1.0, -1.0)
        betas[i] = w @ np.abs(R)
        R = R - betas[i] * H[i]
    if scales != "greedy":
        betas = _weighted_lsq(H, t, w)
    err = float(w @ (t - betas @ H) ** 2)
    pats = sign_patterns(K).T  # (K, 2^K)
    for _ in range(max_iter if scales == "alternating" else 0):
        H = pats[:, np.argmin(np.abs(t[:, None] - betas @ pats), axis=1)]
        betas = _weighted_lsq(H, t, w)
        new = float(w @ (t - betas @ H) ** 2)
        if new >= err * (1 - 1e-12):
            break
        err = new
    return err / energy


def lloyd_max(points, weights, n_levels, iters=500, tol=1e-13, init=None):
    """Lloyd's iteration for a weighted discrete law (e.g. a quadrature of a density).

    Starts from ``init`` or the weighted quantiles; each iteration sets cell boundaries at midpoints and
    levels at cell means. For a log-concave density the fixed point is the unique optimum (Fleischer
    1964); ReLU-normal (an atom at 0) is not covered: there random starts find no lower fixed point.

    Returns ``(levels, mse)``: sorted levels and ``sum_j w_j min_l (p_j - level_l)^2 / sum_j w_j``.
    """
    p = np.asarray(points, dtype=np.float64).ravel()
    w = np.asarray(weights, dtype=np.float64).ravel()
    L = check_int(n_levels, "n_levels", 1)
    order = np.argsort(p)
    p, w = p[order], w[order] / w.sum()
    cw = np.cumsum(w)
    levels = (p[np.minimum(np.searchsorted(cw, (np.arange(L) + 0.5) / L), p.size - 1)] if init is None
              else np.sort(np.asarray(init, dtype=np.float64).ravel()))
    for _ in range(check_int(iters, "iters", 1)):
        cell = np.searchsorted((levels[1:] + levels[:-1]) / 2, p)
        mass = np.bincount(cell, w, L)
        new = np.where(mass > 0, np.bincount(cell, w * p, L) / np.where(mass > 0, mass, 1), levels)
        done = np.max(np.abs(new - levels)) <= tol * max(1.0, np.max(np.abs(new)))
        levels = np.sort(new)
        if done:
            break
    cell = np.searchsorted((levels[1:] + levels[:-1]) / 2, p)
    return levels, float(np.sum(w * (p - levels[cell]) ** 2))
