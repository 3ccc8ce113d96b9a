"""Paired statistics of the reproduction: every difference between two methods with its interval.

Methods of one model share the seeds (same initialization stream and shuffling) and are tested on the
same images, so differences are *paired*. The test is a paired bootstrap: resample the seeds and,
independently, the test images (the same images for every seed), with replacement, from a fixed
generator, and take the 2.5 and 97.5 percentiles of the mean difference. A difference is *resolved*
when its 95 % interval excludes zero.

Convergence (docs/paper.md §7 claims faster convergence to a lower, smoother training loss): measured
by the area under the per-epoch training-loss curve (its mean over epochs; lower is faster and lower)
and by the roughness ``sum_e max(0, loss_{e+1} - loss_e)`` (the total rise; 0 for a curve that never
goes up), both paired over seeds.
"""

from __future__ import annotations

import numpy as np

__all__ = ["BOOTSTRAP", "encode_correct", "decode_correct", "paired_bootstrap", "compare_records",
           "wall_estimates"]

#: Number of bootstrap resamples and the generator's seed.
BOOTSTRAP = dict(resamples=2000, seed=0)
TRAINED_PAIRS = (("horq2", "horq1"), ("horq3", "horq2"), ("float", "horq2"), ("horq2-refit", "horq2"))


def encode_correct(correct):
    """A 0/1 vector as a compact string for JSON (one character per test image)."""
    return "".join("1" if c else "0" for c in np.asarray(correct, dtype=bool))


def decode_correct(text):
    return np.frombuffer(text.encode("ascii"), dtype=np.uint8) == ord("1")


def paired_bootstrap(a, b, resamples=None, seed=None, over_images=True):
    """Mean of ``a - b`` and its 95 % paired-bootstrap interval.

    Parameters
    ----------
    a, b : array_like, shape (S, N)
        Per seed (rows) and test image (columns): 0/1 correctness, or any per-unit measure
        (``N = 1`` for one number per seed, e.g. a loss-curve area).
    over_images : bool
        Also resample the columns.

    Returns
    -------
    dict with ``diff``, ``ci_low``, ``ci_high`` (floats) and ``test`` (a description).

    Examples
    --------
    >>> r = paired_bootstrap(np.ones((2, 50)), np.zeros((2, 50)))
    >>> r["diff"], r["ci_low"], r["ci_high"]
    (1.0, 1.0, 1.0)
    """
    d = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    if d.ndim != 2 or d.size == 0:
        raise ValueError(f"a and b must be (seeds, units) arrays of equal shape, got {d.shape}")
    B = resamples or BOOTSTRAP["resamples"]
    rng = np.random.default_rng(BOOTSTRAP["seed"] if seed is None else seed)
    S, N = d.shape
    stats = np.empty(B)
    for start in range(0, B, 250):  # chunks keep the (chunk, N) count matrix small
        m = min(250, B - start)
        s_idx = rng.integers(0, S, (m, S))  # (m, S)
        if over_images and N > 1:
            w = np.stack([np.bincount(rng.integers(0, N, N), minlength=N) for _ in range(m)]) / N
            per_seed = w @ d.T  # (m, S): mean difference of each seed on the resampled images
        else:
            per_seed = np.broadcast_to(d.mean(axis=1), (m, S))
        stats[start:start + m] = np.take_along_axis(per_seed, s_idx, axis=1).mean(axis=1)
    low, high = np.percentile(stats, [2.5, 97.5])
    what = "test images and seeds" if over_images and N > 1 else "seeds"
    return {"diff": float(d.mean()), "ci_low": float(low), "ci_high": float(high),
            "test": f"paired bootstrap over {what} ({B} resamples, seed {BOOTSTRAP['seed']})",
            "n_seeds": S}


def _curve_measures(rec):
    loss = np.array([h["train_loss"] for h in rec["history"]])
    return {"train-loss AUC": float(loss.mean()), "train-loss total rise": float(
        np.maximum(np.diff(loss), 0).sum())}


def _entry(model, a, b, measure, stats):
    """A comparison; one resampled over seeds alone needs 3 seeds before it can count as resolved."""
    enough = "images" in stats["test"] or stats["n_seeds"] >= 3
    return {"model": model, "a": a, "b": b, "measure": measure, **stats,
            "resolved": bool(enough and (stats["ci_low"] > 0 or stats["ci_high"] < 0))}


def compare_records(records):
    """``comparisons`` of results.json: trained pairs, PTQ scale variants, convergence measures."""
    out = []
    for model in dict.fromkeys(r["model"] for r in records):
        by = {}
        for r in records:
            if r["model"] == model and "correct" in r:
                by.setdefault(r["method"], {})[r["seed"]] = r
        for a, b in TRAINED_PAIRS:
            seeds = sorted(set(by.get(a, {})) & set(by.get(b, {})))
            if not seeds:
                continue
            ca = np.stack([decode_correct(by[a][s]["correct"]) for s in seeds])
            cb = np.stack([decode_correct(by[b][s]["correct"]) for s in seeds])
            out.append(_entry(model, a, b, "test accuracy", paired_bootstrap(ca, cb)))
            if (a, b) == ("horq2", "horq1"):  # the convergence claim: HORQ vs XNOR-Net
                for measure in ("train-loss AUC", "train-loss total rise"):
                    va = [[_curve_measures(by[a][s])[measure]] for s in seeds]
                    vb = [[_curve_measures(by[b][s])[measure]] for s in seeds]
                    out.append(_entry(model, a, b, measure, paired_bootstrap(va, vb)))
        out += _ptq_comparisons(model, [r for s, r in sorted(by.get("float", {}).items())])
    return out


def _ptq_comparisons(model, floats):
    """PTQ: refit vs greedy and alternating vs refit at every order, paired by image and seed."""
    floats = [r for r in floats if "ptq_correct" in r]
    if not floats:
        return []
    out = []
    pc = floats[0]["ptq_correct"]
    for a, b in (("refit", "greedy"), ("alternating", "refit")):
        for K in sorted(set(pc.get(a, {})) & set(pc.get(b, {})), key=int):
            ca = np.stack([decode_correct(r["ptq_correct"][a][K]) for r in floats])
            cb = np.stack([decode_correct(r["ptq_correct"][b][K]) for r in floats])
            n = min(ca.shape[1], cb.shape[1])  # alternating runs on the first test images only
            ca, cb = ca[:, :n], cb[:, :n]
            out.append(_entry(model, f"ptq {a} K={K}", f"ptq {b} K={K}", "test accuracy",
                              paired_bootstrap(ca, cb)))
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
