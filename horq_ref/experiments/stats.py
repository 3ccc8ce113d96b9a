"""Paired comparisons of the reproduction: each difference between two methods with its interval.

Methods of one model share the seeds and the test images, so differences are paired. For differences
``d[s, i]`` on S seeds and N test images (``N = 1`` for one number per seed, e.g. a loss-curve area)
the 95 % interval of their mean adds a seed part (Student's t) and a test-image part (normal) of a
two-way random-effects model (:func:`variance_parts`, :func:`half_width`; Banerjee's conservative
form): for ``N = 1`` the paired t-interval, with one seed the test images only. *Resolved* means the
interval excludes 0; tests/experiments/test_calibration.py simulates true nulls and holds every
procedure here to at most ~7 % resolved for the nominal 5 %. Which comparisons are the paper's
claims, and how the report words them, is :mod:`.claims`.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

__all__ = ["ALPHA", "encode_correct", "decode_correct", "t_cdf", "variance_parts", "half_width",
           "paired_interval", "holm", "compare_records", "wall_estimates"]

ALPHA = 0.05
TRAINED_PAIRS = (("horq2", "horq1"), ("horq3", "horq2"), ("float", "horq2"), ("horq2-refit", "horq2"))


def encode_correct(correct):
    """A 0/1 vector as a compact string for JSON (one character per test image)."""
    return "".join("1" if c else "0" for c in np.asarray(correct, dtype=bool))


def decode_correct(text):
    return np.frombuffer(text.encode("ascii"), dtype=np.uint8) == ord("1")


def t_cdf(t, df):
    """``P(T <= t)`` for Student's t with ``df = 1, 2, ...`` (closed form, Abramowitz-Stegun 26.7.3-4).

    >>> round(t_cdf(4.302653, 2), 6), t_cdf(0.0, 7)
    (0.975, 0.5)
    """
    th, c2 = math.atan(t / math.sqrt(df)), 1 / (1 + t * t / df)  # c2 = cos(th)^2
    if df % 2 == 0:  # sin(th) (1 + c2/2 + 1*3/(2*4) c2^2 + ...)
        k = np.arange(1, df // 2)
        a = math.sin(th) * (1 + np.cumprod((2 * k - 1) / (2 * k) * c2).sum())
    else:  # 2/pi (th + sin(th) cos(th) (1 + 2/3 c2 + 2*4/(3*5) c2^2 + ...)); th alone for df = 1
        k = np.arange(1, (df - 1) // 2)
        series = 1 + np.cumprod(2 * k / (2 * k + 1) * c2).sum() if df > 1 else 0.0
        a = 2 / math.pi * (th + math.sin(th) * math.cos(th) * series)
    return float(0.5 + 0.5 * a)


def _quantile(q, df=None):
    """The ``q``-quantile (``q > 1/2``) of Student's t with ``df`` degrees of freedom, normal if None."""
    if df is None:
        return NormalDist().inv_cdf(q)
    lo, hi = 0.0, 1.0
    while t_cdf(hi, df) < q:
        lo, hi = hi, 2 * hi
    for _ in range(60):  # bisection: 2^-60 of the bracket
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if t_cdf(mid, df) < q else (lo, mid)
    return (lo + hi) / 2


def variance_parts(d):
    """Mean of the differences ``d`` (..., S, N) and its two variance components, each of shape (...).

    Notes
    -----
    With per-seed means ``d_s``, per-image means ``d_i``, ``var`` with ddof 1 and the seed x image
    interaction mean square ``MS_e = sum (d - d_s - d_i + mean)^2 / ((S - 1)(N - 1))``::

        v_seeds  = (var(d_s) + 1 / (12 N^2)) / S       (var(d_s) / S for one number per seed)
        v_images = max(var(d_i) / N - MS_e / (S N), 0)

    ``var(d_s) / S`` already carries the interaction's share ``MS_e / (S N)``, which ``var(d_i) / N``
    would count a second time. Per-seed means of 0/1 values lie on a grid of step 1/N; the rounding
    variance ``1 / (12 N^2)`` keeps the interval from collapsing to a point when the seeds tie.
    """
    d = np.asarray(d, dtype=np.float64)
    S, N = d.shape[-2:]
    m = d.mean(axis=(-2, -1))
    if S == 1:  # one seed: only the test images vary
        return m, np.zeros_like(m), d.mean(axis=-2).var(axis=-1, ddof=1) / N
    v_s = d.mean(axis=-1).var(axis=-1, ddof=1) / S
    if N == 1:
        return m, v_s, np.zeros_like(m)
    inter = d - d.mean(axis=-1, keepdims=True) - d.mean(axis=-2, keepdims=True) + m[..., None, None]
    ms_e = (inter ** 2).sum(axis=(-2, -1)) / ((S - 1) * (N - 1))
    v_i = np.maximum(d.mean(axis=-2).var(axis=-1, ddof=1) / N - ms_e / (S * N), 0.0)
    return m, v_s + 1 / (12 * N * N * S), v_i


def half_width(v_seeds, v_images, S, q=1 - ALPHA / 2):
    """``sqrt(t_q² v_seeds + z_q² v_images)``, ``t_q`` with S - 1 degrees of freedom (none if S = 1)."""
    t2 = _quantile(q, S - 1) ** 2 if S > 1 else 0.0
    return np.sqrt(t2 * np.asarray(v_seeds) + _quantile(q) ** 2 * np.asarray(v_images))


def _p_value(diff, v, S):
    """The smallest two-sided level at which the interval excludes 0 (bisection on its log; >= 1e-12)."""
    if diff == 0:
        return 1.0
    lo, hi = math.log(1e-12), 0.0
    if half_width(*v, S, 1 - 0.5e-12) < abs(diff):
        return 1e-12
    for _ in range(40):
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if half_width(*v, S, 1 - math.exp(mid) / 2) < abs(diff) else (mid, hi)
    return math.exp(hi)


def paired_interval(a, b):
    """Mean of ``a - b``, its 95 % interval and p-value (module docstring).

    Parameters
    ----------
    a, b : array_like, shape (S, N)
        Per seed (rows) and test image (columns): 0/1 correctness, or one number per seed (N = 1).

    Returns
    -------
    dict with ``diff``, ``ci_low``, ``ci_high``, ``p`` (None where nothing can be tested: one seed and
    one number), ``v_seeds``, ``v_images``, ``n_seeds``, ``n_images`` and ``test`` (in words).

    Examples
    --------
    >>> r = paired_interval([[1.0], [2.0], [3.0]], [[0.0], [0.0], [0.0]])  # t_2 = 4.303, se = 1/sqrt(3)
    >>> round(r["ci_low"], 3), round(r["ci_high"], 3), r["test"]
    (-0.484, 4.484, 'paired t, 3 seeds (2 df)')
    """
    d = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    if d.ndim != 2 or d.size == 0:
        raise ValueError(f"a and b must be (seeds, units) arrays of equal shape, got {d.shape}")
    S, N = d.shape
    if S == N == 1:
        return {"diff": float(d[0, 0]), "ci_low": None, "ci_high": None, "p": None, "v_seeds": None,
                "v_images": None, "n_seeds": 1, "n_images": 1, "test": "one number: no test"}
    m, v_s, v_i = (float(v) for v in variance_parts(d))
    h = float(half_width(v_s, v_i, S))
    test = (f"two-way t, {S} seeds x {N} images" if S > 1 and N > 1 else
            f"paired t, {S} seeds ({S - 1} df)" if S > 1 else f"{N} images, one seed")
    return {"diff": m, "ci_low": m - h, "ci_high": m + h, "p": _p_value(m, (v_s, v_i), S),
            "v_seeds": v_s, "v_images": v_i, "n_seeds": S, "n_images": N, "test": test}


def holm(p):
    """Holm-adjusted p-values, in the order given: ``max_{j <= k} min(1, (m - j + 1) p_(j))``."""
    p = np.asarray(p, dtype=np.float64)
    order = np.argsort(p, kind="stable")
    adjusted = np.minimum(1.0, np.maximum.accumulate((p.size - np.arange(p.size)) * p[order]))
    out = np.empty(p.size)
    out[order] = adjusted
    return out


def _curve_measures(rec):
    loss = np.array([h["train_loss"] for h in rec["history"]])
    return {"train-loss AUC": float(loss.mean()), "train-loss total rise": float(
        np.maximum(np.diff(loss), 0).sum())}


def compare_records(records):
    """``comparisons`` of results.json: trained pairs, convergence, PTQ scale variants; with families."""
    out = []
    for model in dict.fromkeys(r["model"] for r in records):
        by = {}
        for r in records:
            if r["model"] == model and "correct" in r:
                by.setdefault(r["method"], {})[r["seed"]] = r
        for a, b in TRAINED_PAIRS:
            seeds = sorted(set(by.get(a, {})) & set(by.get(b, {})))
            pair = [[by[m][s] for s in seeds] for m in (a, b)]
            if seeds:
                correct = [[decode_correct(r["correct"]) for r in recs] for recs in pair]
                out.append({"model": model, "a": a, "b": b, "measure": "test accuracy",
                            **paired_interval(*correct)})
            for measure in ("train-loss AUC", "train-loss total rise") if seeds and b == "horq1" else ():
                per_seed = [[[_curve_measures(r)[measure]] for r in recs] for recs in pair]
                out.append({"model": model, "a": a, "b": b, "measure": measure,
                            **paired_interval(*per_seed)})
        out += _ptq_comparisons(model, [r for s, r in sorted(by.get("float", {}).items())])
    from .claims import classify  # the families are the report's, the procedures are here

    return classify(out)


def _ptq_comparisons(model, floats):
    """PTQ: refit vs greedy and alternating vs refit at every order, paired by image and seed."""
    floats = [r for r in floats if "ptq_correct" in r]
    out = []
    for a, b in (("refit", "greedy"), ("alternating", "refit")) if floats else ():
        pc = floats[0]["ptq_correct"]
        for K in sorted(set(pc.get(a, {})) & set(pc.get(b, {})), key=int):
            ca = np.stack([decode_correct(r["ptq_correct"][a][K]) for r in floats])
            cb = np.stack([decode_correct(r["ptq_correct"][b][K]) for r in floats])
            n = min(ca.shape[1], cb.shape[1])  # alternating runs on the first test images only
            out.append({"model": model, "a": f"ptq {a} K={K}", "b": f"ptq {b} K={K}",
                        "measure": "test accuracy", **paired_interval(ca[:, :n], cb[:, :n])})
    return out


#: Full training sets a user may pass with ``--data-dir``: training images and image area.
FULL_DATA = {"mnist": (60_000, 784), "fashion-mnist": (60_000, 784), "cifar10": (50_000, 1024)}


def wall_estimates(runs):
    """Expected training time of the same plan on the full data sets, from the measured images/s.

    Time per run = epochs * n_train / (measured images/s), scaled for CIFAR-10 by its image area
    relative to 28x28 (the work per image of the convolutions grows with the area; a linear model of
    the cost, not a measurement). Returns rows ``{data, n_train, seconds}``.
    """
    rows = []
    for name, (n, pixels) in FULL_DATA.items():
        secs = sum(len(r["seeds"]) * r["epochs"] * n / max(r["images_per_s"], 1e-9) * pixels / 784
                   for r in runs)
        rows.append({"data": name, "n_train": n, "seconds": float(secs)})
    return rows
