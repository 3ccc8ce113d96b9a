"""Small training experiments of the notebooks: one run as a record, a layer's input, paired verdicts.

Notebooks 06 and 06b train the project's MLP on the embedded digits with the same settings and compare
methods seed by seed; these helpers keep that bookkeeping out of their cells.
"""

from __future__ import annotations

import numpy as np

__all__ = ["layer_input", "train_record", "run_record", "resolved"]


def layer_input(model, x, name, train=False):
    """The array that layer ``name`` of ``model`` receives for the input batch ``x``.

    Parameters
    ----------
    model : horq_ref.nn.models.Model
    x : ndarray, shape (N, C, H, W) or whatever the model's first layer takes
    name : str
        A layer name, e.g. ``"fc2"``.
    train : bool
        Run the earlier layers in training mode (batch statistics) or evaluation mode.
    """
    out = x
    for layer in model.layers:
        if layer.name == name:
            return out
        out = layer.forward(out, train)
    raise KeyError(f"the model has no layer {name!r}")


def train_record(ds, method, seed, settings, arch="mlp", **model_kwargs):
    """Train one model; return ``(record, model)``, the record as ``report.summarize_runs`` expects it.

    ``settings`` holds the keyword arguments of :func:`horq_ref.nn.train.train` (epochs, batch size,
    optimizer, learning rate, schedule); ``model_kwargs`` go to :func:`horq_ref.nn.models.build_model`.
    """
    from ..nn.models import build_model
    from ..nn.train import train

    model = build_model(arch, method, seed=seed, **model_kwargs)
    hist = train(model, ds, seed=seed, log=None, **settings)
    return run_record(model, method, seed, hist, settings), model


def run_record(model, method, seed, history, settings):
    """The record of one finished training run: its names, final test accuracy, history, time."""
    return {"model": model.config["arch"], "method": method, "order": model.config["order"] or 0,
            "seed": seed, "test_acc": history[-1]["test_acc"], "history": history,
            "train_seconds": float(sum(h["train_seconds"] for h in history)),
            "images_per_s": float(np.mean([h["images_per_s"] for h in history])),
            "settings": settings}


def resolved(d, noise):
    """The notebooks' rule of thumb for paired differences ``d`` (seeds,): one sign, ``|mean| > noise``.

    Not a significance test: it asks that a difference keep its sign in every seed and exceed the noise
    of one difference of two accuracies.

    Examples
    --------
    >>> resolved(np.array([0.02, 0.03, 0.01]), 0.01), resolved(np.array([0.02, -0.01, 0.03]), 0.01)
    (True, False)
    """
    d = np.asarray(d)
    return bool((np.all(d > 0) or np.all(d < 0)) and abs(d.mean()) > noise)
