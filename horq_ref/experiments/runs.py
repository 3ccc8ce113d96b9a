"""Small training experiments of the notebooks: one run as a record, a layer's input.

Notebooks 06 and 06b train the project's MLP on the embedded digits with the same settings and compare
methods seed by seed (``stats.compare_records``); these helpers keep that bookkeeping out of their cells.
"""

from __future__ import annotations

import numpy as np

from .stats import encode_correct

__all__ = ["layer_input", "train_record", "run_record"]


def layer_input(model, x, name, train=False):
    """The array that layer ``name`` (e.g. ``"fc2"``) of ``model`` receives for the input batch ``x``.

    ``x`` is (N, C, H, W), or whatever the model's first layer takes; ``train`` runs the earlier
    layers in training mode (batch statistics) or evaluation mode.
    """
    out = x
    for layer in model.layers:
        if layer.name == name:
            return out
        out = layer.forward(out, train)
    raise KeyError(f"the model has no layer {name!r}")


def train_record(ds, method, seed, settings, arch="mlp", **model_kwargs):
    """Train one model; return ``(record, model)``, the record as ``stats.compare_records`` takes it.

    ``settings`` holds the keyword arguments of :func:`horq_ref.nn.train.train` (epochs, batch size,
    optimizer, learning rate, schedule); ``model_kwargs`` go to :func:`horq_ref.nn.models.build_model`.
    """
    from ..nn.models import build_model
    from ..nn.train import train

    model = build_model(arch, method, seed=seed, **model_kwargs)
    hist = train(model, ds, seed=seed, log=None, **settings)
    return run_record(model, ds, method, seed, hist, settings), model


def run_record(model, ds, method, seed, history, settings):
    """The record of one finished training run: its names, final test accuracy, history, time, and
    ``correct``, which test images of ``ds`` it classifies correctly (``stats.encode_correct``)."""
    from ..nn.train import predict

    return {"model": model.config["arch"], "method": method, "order": model.config["order"] or 0,
            "seed": seed, "test_acc": history[-1]["test_acc"], "history": history,
            "train_seconds": float(sum(h["train_seconds"] for h in history)),
            "images_per_s": float(np.mean([h["images_per_s"] for h in history])),
            "settings": settings, "correct": encode_correct(predict(model, ds.x_test) == ds.y_test)}
