"""What the small commands do: the bound check, inference with a packed model, an export summary.

The modules of :mod:`horq_ref.commands` only parse arguments and call these functions, so everything
a command computes can also be called, and tested, from Python.
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from ..cost import backward_cost, speedup
from ..quantize import residual_quantize
from ..theory import (LAWS, closed_form_ratio, identity_prediction, refined_bound, relative_errors,
                      sample_law, worst_case_bound)

__all__ = ["BOUND_LAWS", "BOUND_SLACK", "BOUND_COLUMNS", "SubnormalWarning", "bound_report",
           "bound_inputs", "bound_check", "predict_packed", "export_summary", "speedup_text",
           "backward_table_text"]

BOUND_LAWS = LAWS + ("mnist",)

# Rounding slack for "measured <= bound": the ratios are sums of n squares, each rounded to
# relative 2**-52, so a true equality can appear above the bound by ~n * eps; 1e-9 is far above
# that (n <= 10**6) and far below the smallest gap a real violation would show.
BOUND_SLACK = 1e-9


class SubnormalWarning(UserWarning):
    """A group's scale ``beta_k`` fell below the smallest normal float: rounding, not the method."""


def _underflow_groups(e):
    """Groups with some ``beta_k`` below the smallest normal float while ``R_{k-1}`` is not zero."""
    tiny = np.finfo(e.x.dtype).tiny
    axes = tuple(range(1, e.x.ndim + 1)) if e.axis is None else tuple(a + 1 for a in e.axis)
    live = np.any(e.residuals[:-1] != 0, axis=axes, keepdims=True)  # (K,) + G
    return int(np.sum(np.any((np.abs(e.betas) < tiny) & live, axis=0)))


def bound_report(X, order, axis=-1, law=None):
    """Everything ``horq-ref bound`` prints, for groups of ``X`` along ``axis``.

    Parameters
    ----------
    X : ndarray, shape (M, n) for the default ``axis=-1`` (any shape with ``axis`` naming the group)
    order : int >= 1
    law : str, optional
        Name of the input law, for the closed form.

    Returns
    -------
    list of dict, one per order ``k = 1..K`` with keys ``order``, ``measured_mean``, ``measured_max``,
    ``identity_mean``, ``identity_max_abs_gap``, ``closed_form`` (or None), ``worst_case_bound``,
    ``refined_bound``, ``n``, ``underflow_groups``.

    Notes
    -----
    The bounds hold in exact arithmetic. For subnormal inputs a mean ``beta_k`` is rounded coarsely or
    underflows to 0 and the ratio can exceed every bound (``[5e-324, 0, 0, 0]`` keeps ratio 1): such
    groups are counted in ``underflow_groups`` and announced with a :class:`SubnormalWarning`.
    """
    e = residual_quantize(X, order, axis=axis)  # validates X, order and axis
    if under := _underflow_groups(e):
        warnings.warn(f"{under} group(s) have a scale beta_k below the smallest normal float "
                      f"(subnormal inputs underflow): their measured ratio may exceed the bounds; "
                      f"scale the input up to measure them", SubnormalWarning, stacklevel=2)
    meas = relative_errors(e).reshape(order + 1, -1)  # (K+1, M)
    pred = identity_prediction(e).reshape(order + 1, -1)  # (K+1, M)
    rows = []
    for k in range(1, order + 1):
        rows.append(dict(
            order=k, n=e.n, measured_mean=float(meas[k].mean()), measured_max=float(meas[k].max()),
            identity_mean=float(pred[k].mean()),
            identity_max_abs_gap=float(np.max(np.abs(pred[k] - meas[k]))),
            closed_form=None if law is None else closed_form_ratio(law, k),
            worst_case_bound=worst_case_bound(e.n, k), refined_bound=refined_bound(e.n, k),
            underflow_groups=under))
    return rows


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


def speedup_text(table, digits=2):
    """A :class:`horq_ref.cost.SpeedupTable` as plain text: one line per (kernel, channels), one
    column per order."""
    head = f"{'kernel':>6} {'channels':>8} " + " ".join(f"{f'K={K}':>8}" for K in table.orders)
    lines = [head]
    for s, (kh, kw) in enumerate(table.kernel_sizes):
        for i, c in enumerate(table.channels):
            vals = " ".join(f"{v:8.{digits}f}" for v in table.values[s, i])
            lines.append(f"{f'{kh}x{kw}':>6} {c:8d} {vals}")
    return "\n".join(lines)


def backward_table_text(orders=(1, 2, 3, 4), channels=(64, 128, 256, 512), kernel_sizes=(1, 3, 5),
                          rows=1024):
    """Forward ``S_K`` beside the backward counts (F = c filters, ``rows`` = M), as plain text."""
    lines = [f"{'kernel':>6} {'c':>4} {'K':>2} {'fwd S_K':>8} {'float mul':>10} {'float add':>10} "
             f"{'bin add':>10} {'scale mul':>10} {'mul ratio':>9} {'ops ratio':>9}"]
    for k in kernel_sizes:
        for c in channels:
            for K in orders:
                b = backward_cost(c, k, k, rows, c, K)
                lines.append(
                    f"{f'{k}x{k}':>6} {c:4d} {K:2d} {speedup(c, k, k, K):8.2f} "
                    f"{b.float_mults_input + b.float_mults_weight:10.3g} "
                    f"{b.float_adds_input + b.float_adds_weight:10.3g} "
                    f"{b.binary_adds_input + b.binary_adds_weight:10.3g} "
                    f"{b.scale_mults_input + b.scale_mults_weight:10.3g} "
                    f"{b.mults_ratio:9.0f} {b.float_ops / b.binary_ops:9.2f}")
    return "\n".join(lines)
