"""One training run of ``horq-ref reproduce``, and the timed pilot that predicts its wall time.

A run trains one network with one method and seed, keeps which test images it gets right and, for
a float network, evaluates it with every non-first layer's input quantized after training: orders
``PTQ_ORDERS`` with every scale variant of ``PTQ_SCALES``, weights in float.

The pilot (:func:`pilot_task`) runs the same code on a slice of the data: one epoch of
``PILOT["batches"]`` training batches, ``PILOT["test"]`` test images, and the post-training sweep on
those test images with the alternating variant's images cut in the same proportion. Taking training
time as proportional to the training images, and the test passes and the sweep to the test images
(beyond ``t_0``, what a run on 10 training and 5 test images spends after its epoch: building the
model, the calls that do not grow with the images), a run of ``E`` epochs on ``N`` training and
``n`` test images is expected to take

    seconds = E * (t_train * N / N_p + t_test * n / n_p) + t_0 + (t_after - t_0) * n / n_p

with ``t_train``, ``t_test`` the pilot epoch's training and test-pass seconds on ``N_p`` and ``n_p``
images and ``t_after`` what the pilot spends after its epoch. ``reproduce`` runs the pilots in worker
processes, as many at once as the runs, so they share the cores as the runs will.

Each finished run is kept as a record (``OUT/runs/*.json``) that a later call in the same folder
(same settings and data: :func:`horq_ref.io.paths.claim`) reads back instead of training again
(:func:`saved_run`), after checking it against :func:`horq_ref.io.schema.run_record`: it must agree
with its name (model, method, seed), the run's settings and data, and hold one right-or-wrong mark
per test image. A record that does not is refused with a ``ValueError`` naming the file and the
field; it is never run again silently (it may be a result the user wants to inspect).
"""

from __future__ import annotations

import os
import time
from dataclasses import replace

from ..io.schema import read_json, run_record, validate

__all__ = ["PTQ_ORDERS", "PTQ_SCALES", "PILOT", "one_run", "train_task", "pilot_task", "ptq_plan",
           "data_note", "saved_run"]

PTQ_ORDERS = (1, 2, 3, 4, 5, 6)
PTQ_SCALES = ("greedy", "refit", "alternating")
#: Size of a pilot: training batches of one epoch, and test images (one evaluation batch, as the
#: runs use: the time per image of a HORQ convolution depends on the batch size).
PILOT = dict(batches=3, test=100)


def train_task(ds, task, log):
    """One training run for :func:`horq_ref.experiments.workers.run_tasks`; ``task`` is
    ``(arch, method, seed, spec)``."""
    return one_run(ds, *task)


def pilot_task(ds, task, log):
    """The expected seconds of the run ``task`` = ``(arch, method, seed, spec)`` on ``ds``, from a
    pilot on a slice of ``ds`` (the formula is in the module's docstring); a first run on 10 images,
    untimed, makes the first calls (imports, first allocations)."""
    arch, method, seed, spec = task
    N, n = min(ds.n_train, PILOT["batches"] * spec["batch_size"]), min(ds.n_test, PILOT["test"])
    tiny = (_head(ds, 10, 5), arch, method, seed, dict(spec, ptq=dict(spec["ptq"], images=1)))
    _timed(*tiny)  # untimed: the first calls
    t_0 = _timed(*tiny)[1]
    sweep = dict(spec["ptq"], images=max(1, spec["ptq"]["images"] * n // ds.n_test))
    epoch, t_after = _timed(_head(ds, N, n), arch, method, seed, dict(spec, ptq=sweep))
    t_test = epoch["seconds"] - epoch["train_seconds"]
    return (spec["epochs"] * (epoch["train_seconds"] * ds.n_train / N + t_test * ds.n_test / n)
            + t_0 + (t_after - t_0) * ds.n_test / n)


def _timed(ds, arch, method, seed, spec):
    """``(epoch, seconds after it)``: the history row and the rest of one epoch's run."""
    t0 = time.perf_counter()
    epoch = one_run(ds, arch, method, seed, dict(spec, epochs=1))["history"][0]
    return epoch, time.perf_counter() - t0 - epoch["seconds"]


def _head(ds, N, n):
    """The first ``N`` training and ``n`` test images of ``ds``."""
    return replace(ds, x_train=ds.x_train[:N], y_train=ds.y_train[:N], x_test=ds.x_test[:n],
                   y_test=ds.y_test[:n])


def ptq_plan(arch, limits, n_test):
    """``{scales: (orders, test images)}`` of the PTQ sweep of a float ``arch``: the alternating
    variant (slow) on the first ``limits["images"]`` test images only, and on convolutions up to
    order ``limits["conv_alternating"]``."""
    top = limits["conv_alternating"] if arch.startswith("cnn") else max(PTQ_ORDERS)
    return {sc: ([K for K in PTQ_ORDERS if sc != "alternating" or K <= top],
                 min(limits["images"], n_test) if sc == "alternating" else n_test)
            for sc in PTQ_SCALES}


def ptq_sweep(model, ds, limits):
    """``({scales: {K: accuracy}}, {scales: {K: correct}})``: every non-first layer's input expanded
    to order K with the named scales, weights float, as :func:`ptq_plan` says."""
    from ..nn.train import predict
    from .stats import encode_correct

    accs, correct = {}, {}
    for sc, (orders, m) in ptq_plan(model.config["arch"], limits, ds.n_test).items():
        model.set_input_scales(sc)
        x, y = ds.x_test[:m], ds.y_test[:m]
        for K in orders:
            model.set_input_order(K)
            ok = predict(model, x) == y
            accs.setdefault(sc, {})[K] = float(ok.mean())
            correct.setdefault(sc, {})[K] = encode_correct(ok)
    model.set_input_scales(None)
    model.set_input_order(None)
    return accs, correct


def one_run(ds, arch, method, seed, spec):
    """Train ``arch`` with ``method`` and ``seed`` as ``spec`` says; return the run's record."""
    from ..nn.models import build_model
    from ..nn.train import train
    from .runs import run_record

    shape = {k: spec[k] for k in ("hidden", "channels") if k in spec}
    meth, _, scales = method.partition("-")
    model = build_model(arch, meth, seed=seed, input_shape=ds.image_shape,
                        num_classes=ds.num_classes, scales=scales or "greedy", **shape)
    hist = train(model, ds, epochs=spec["epochs"], batch_size=spec["batch_size"],
                 optimizer=spec["optimizer"], lr=spec["lr"], schedule=spec["schedule"], seed=seed,
                 log=None)
    rec = run_record(model, ds, method, seed, hist, {k: v for k, v in spec.items() if k != "seeds"})
    if method == "float":
        rec["ptq"], rec["ptq_correct"] = ptq_sweep(model, ds, spec["ptq"])
    return rec


def data_note(ds):
    """One line on the data set: its name, sizes and split (records match on it)."""
    what = ("the embedded MNIST subset, stratified split" if ds.name == "mnist-5k"
            else "the full data set's own split, possibly limited")
    return f"{ds.name}: {ds.n_train:,} training / {ds.n_test:,} test images ({what})"


def saved_run(path, ds, key, spec):
    """The record of the run ``key`` = ``(model, method, seed)`` with the settings ``spec`` that an
    earlier ``reproduce`` finished in this folder, or None if there is none."""
    if not os.path.exists(path):
        return None
    model, method, seed = key
    given = {"model": model, "method": method, "seed": seed, "n_test": ds.n_test,
             "order": int(method[4]) if method.startswith("horq") else 0, "data": data_note(ds),
             "settings": {k: v for k, v in spec.items() if k != "seeds"},
             "ptq": ptq_plan(model, spec["ptq"], ds.n_test) if method == "float" else None}
    rec = validate(run_record(given), read_json(path), path)
    for name in ("ptq", "ptq_correct"):  # JSON object keys are strings
        if name in rec:
            rec[name] = {sc: {int(k): v for k, v in by.items()} for sc, by in rec[name].items()}
    return rec
