"""What the small commands do: the bound check, inference with a packed model, an export summary.

The modules of :mod:`horq_ref.commands` only parse arguments and call these functions (and
:func:`horq_ref.experiments.reproduce.reproduce`, :func:`horq_ref.experiments.train_run.train_run`),
so everything a command computes can also be called, and tested, from Python.
"""

from __future__ import annotations

import time

import numpy as np

from ..theory import LAWS, bound_report, sample_law

__all__ = ["BOUND_LAWS", "BOUND_SLACK", "bound_inputs", "bound_check", "predict_packed",
           "export_summary", "BOUND_COLUMNS"]

BOUND_LAWS = LAWS + ("mnist",)

# Rounding slack for "measured <= bound": the ratios are sums of n squares, each rounded to
# relative 2**-52, so a true equality can appear above the bound by ~n * eps; 1e-9 is far above
# that (n <= 10**6) and far below the smallest gap a real violation would show.
BOUND_SLACK = 1e-9


def bound_inputs(law, n, groups, seed):
    """The (M, n) input matrix for ``law``: synthetic draws, or MNIST images scaled to [0, 1]."""
    if law == "mnist":
        from ..data import load_embedded_mnist

        images, _ = load_embedded_mnist()
        rng = np.random.default_rng(seed)
        idx = rng.choice(len(images), size=min(groups, len(images)), replace=False)
        return images[idx].reshape(len(idx), -1) / 255.0  # (M, 784)
    return sample_law(law, (groups, n), np.random.default_rng(seed))  # (M, n)


BOUND_COLUMNS = """\
The energy left after K orders, ||R_K||^2 / ||X||^2, in groups of n entries of a law (mnist: one image each):
  measured(mean), measured(max): its mean over the groups, and its worst (largest) group
  identity: the energy identity's prediction 1 - n (beta_1^2 + ... + beta_K^2) / ||X||^2 (mean);
    |gap|max: its largest distance from the measured value (rounding only: 1e-15 or less)
  closed-form: the limit n -> inf for the law's independent entries (- where none is known)
  refined-bound (1-1/n)(1-2/n)^(K-1) and the worst-case bound (1-1/n)^K: no group may exceed them"""


def bound_check(laws, n, orders, groups, seed, log=print):
    """Measure the error ratios of ``laws`` against the bounds; return ``(reports, broken rows)``.

    Prints (through ``log``) :data:`BOUND_COLUMNS`, then one table per law, with VIOLATED where the
    worst group exceeds the refined bound by more than :data:`BOUND_SLACK`.
    """
    reports, broken = {}, 0
    log(BOUND_COLUMNS)
    for law in laws:
        X = bound_inputs(law, n, groups, seed)
        rows = reports[law] = bound_report(X, orders, axis=-1, law=law)
        log(f"\nlaw={law}  n={rows[0]['n']}  groups={X.shape[0]}  seed={seed}")
        log("  K  measured(mean)  measured(max)  identity  |gap|max  closed-form  refined-bound  (1-1/n)^K")
        for r in rows:
            ok = r["measured_max"] <= r["refined_bound"] + BOUND_SLACK
            broken += not ok
            closed = "-" if r["closed_form"] is None else format(r["closed_form"], ".4f")
            log(f"  {r['order']}  {r['measured_mean']:14.6f}  {r['measured_max']:13.6f}  "
                f"{r['identity_mean']:8.6f}  {r['identity_max_abs_gap']:8.1e}  {closed:>11}  "
                f"{r['refined_bound']:13.6f}  {r['worst_case_bound']:9.6f}{'' if ok else '  VIOLATED'}")
    return reports, broken


def predict_packed(model_path, data="mnist", data_dir=None, limit=None, backend="bits-fast",
                   batch_size=100):
    """Run a packed model file on a test set; return ``(model, accuracy, n_test, name, images/s)``."""
    from ..data.datasets import load_dataset
    from ..io.export import load_packed
    from ..nn.train import predict

    model = load_packed(model_path, backend=backend)
    ds = load_dataset(data, data_dir=data_dir, limit_test=limit, limit_train=10)
    if ds.image_shape != model.input_shape:
        raise ValueError(f"--model expects images {model.input_shape}, --data {data} has "
                         f"{ds.image_shape}")
    t0 = time.perf_counter()
    labels = predict(model, ds.x_test, batch_size=batch_size)
    secs = time.perf_counter() - t0
    return model, float((labels == ds.y_test).mean()), ds.n_test, ds.name, ds.n_test / secs


def export_summary(rep):
    """Two lines on the sizes of an export (:func:`horq_ref.io.export.size_report`)."""
    def kib(n):
        return f"{n / 1024:,.1f} KiB"

    return (f"binarized weights: {kib(rep['binarized_float32_bytes'])} as float32 -> "
            f"{kib(rep['binarized_packed_bytes'])} as bits + alpha  "
            f"(ratio {rep['binarized_ratio']:.1f}x)\n"
            f"whole model: {kib(rep['model_float32_bytes'])} as float32 -> file "
            f"{kib(rep['file_bytes'])}  (ratio {rep['file_ratio']:.2f}x)")
