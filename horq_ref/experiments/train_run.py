"""The logic of ``horq-ref train``: one network, one method, its outputs in a folder.

Loads the data set, builds the model, checks the outputs before any work (nothing a user made is
overwritten without ``force``; a folder that already holds a checkpoint needs ``resume`` or
``force``), trains (:func:`horq_ref.nn.train.train`) and writes ``history.json`` and ``training.png``
beside the checkpoint. If training diverges, the history of the finished epochs and the figure are
still written (with ``stopped`` saying why) before the error reaches the caller.
"""

from __future__ import annotations

import os

__all__ = ["plan_outputs", "train_run"]


def plan_outputs(out, checkpoint, resume, force):
    """The checkpoint path (``out/checkpoint.npz`` by default), after checking every output path."""
    from ..io.paths import check_output_dir, check_output_file

    if out is not None:
        check_output_dir(out, "--out")
    ck = checkpoint or (os.path.join(out, "checkpoint.npz") if out else None)
    if ck is not None and not resume:
        check_output_file(ck, "--checkpoint" if checkpoint else "--out", force=force,
                          hint="--resume to continue it or --force to start anew")
    elif ck is not None and os.path.isdir(ck):
        raise ValueError(f"--checkpoint {ck} is a folder, not a file")
    return ck


def train_run(settings, *, out=None, checkpoint=None, log=print):
    """Train as ``settings`` (the train command's options as a dict) says; return the history.

    ``settings`` holds ``arch``, ``method``, ``order``, ``ste``, ``backend``, ``hidden``, ``epochs``,
    ``batch_size``, ``lr``, ``optimizer``, ``schedule``, ``seed``, ``data``, ``data_dir``,
    ``limit_train``, ``limit_test``, ``resume``, ``progress_every``.
    """
    from ..data.datasets import load_dataset
    from ..nn.models import build_model
    from ..nn.train import TrainingDiverged, train

    s = settings
    ds = load_dataset(s["data"], data_dir=s["data_dir"], limit_train=s["limit_train"],
                      limit_test=s["limit_test"])
    extra = {} if s["hidden"] is None else {"hidden": s["hidden"]}
    model = build_model(s["arch"], s["method"], order=s["order"], seed=s["seed"], ste=s["ste"],
                        input_shape=ds.image_shape, num_classes=ds.num_classes,
                        scales=s.get("scales", "greedy"), backend=s.get("backend", "float"), **extra)
    log(f"{ds!r}\n{model.describe()}")
    try:
        history = train(model, ds, epochs=s["epochs"], batch_size=s["batch_size"],
                        optimizer=s["optimizer"], lr=s["lr"], schedule=s["schedule"],
                        seed=s["seed"], checkpoint_path=checkpoint, resume=s["resume"],
                        model_config=model.config, progress_every_s=s["progress_every"], log=log)
    except TrainingDiverged as exc:
        if out:
            _write_outputs(out, s, model, ds, exc.history, stopped=str(exc))
        raise
    acc = history[-1]["test_acc"] if history else float("nan")
    log(f"final test accuracy {acc:.4f} ({100 * acc:.2f} %) on {ds.n_test} {ds.name} test images")
    if out:
        _write_outputs(out, s, model, ds, history)
        inside = checkpoint is not None and os.path.dirname(checkpoint) == out
        log(f"history, figure{' and checkpoint' if inside else ''} written to {out}")
    return history


def _write_outputs(out, settings, model, ds, history, stopped=None):
    from .plots import plot_histories
    from ..io.atomic import write_json

    acc = history[-1]["test_acc"] if history else None
    doc = {"settings": settings, "model": model.config, "dataset": ds.name, "test_accuracy": acc,
           "history": history}
    if stopped is not None:
        doc["stopped"] = stopped
    write_json(os.path.join(out, "history.json"), doc)
    label = f"{settings['arch']} {model.config['method']} (K={model.config['order'] or 0})"
    plot_histories({label: history}, os.path.join(out, "training.png"))
