"""The logic of ``horq-ref reproduce``: the project's main experiment.

Trains the MLP and the CNN in full precision and with HORQ of orders 1 (XNOR-Net), 2 and 3 over
several seeds on the embedded MNIST subset (or a full data set with ``data_dir``), evaluates every
float-trained network with its inputs quantized after training (orders 1..4, weights in float),
measures the error guarantee on a few input laws and adds the speed model. Presets (chosen here, the
paper gives no schedule): ``quick`` and ``full``. Within a seed, initialization and shuffling are the
same for every method, so per-seed differences between methods are paired. Every finished training
run is kept in ``OUT/runs/`` as it completes; an interrupted run started again with the same data and
settings picks up where it stopped. ``jobs`` trains several runs at once in worker processes
(:mod:`.workers`), longest first; the numbers are the same for every ``jobs``.
"""

from __future__ import annotations

import os
import time
from functools import partial
from types import SimpleNamespace

import numpy as np

from ..checks import check_int
from ..nn.models import ARCHS, METHODS as MODEL_METHODS
from .records import PTQ_SCALES, data_note as _data_note, saved_run as _saved_run

__all__ = ["summary", "METHODS", "MODELS", "PTQ_ORDERS", "PTQ_SCALES", "BOUND_LAWS", "BOUND_N",
           "PRESETS", "FIGURES", "reproduce"]

METHODS = MODEL_METHODS + ("horq2-refit",)  # horq2 trained with least-squares scales
MODELS = ARCHS
PTQ_ORDERS = (1, 2, 3, 4, 5, 6)
BOUND_LAWS = ("normal", "uniform", "relu-normal")
BOUND_N = 576  # group size of the bound check: 64 channels x 3x3, also `horq-ref bound`'s default
_COMMON = dict(batch_size=100, optimizer="adam", lr=2e-3, schedule="cosine")
PRESETS = {
    "quick": {"mlp": dict(seeds=3, epochs=5, **_COMMON),
              "cnn": dict(seeds=1, epochs=3, methods=METHODS[:4], **_COMMON)},  # no cnn refit: time
    "full": {"mlp": dict(seeds=12, epochs=20, **_COMMON), "cnn": dict(seeds=3, epochs=15, **_COMMON),
             "mlp3": dict(seeds=12, epochs=20, **_COMMON), "cnn3": dict(seeds=3, epochs=15, **_COMMON)},
}
#: Test images of the PTQ-by-scales evaluation (the alternating coding is the slow part) and the
#: largest order of the alternating variant on convolutions, per preset.
PTQ_LIMITS = {"quick": dict(images=200, conv_alternating=2),
              "full": dict(images=300, conv_alternating=3)}
FIGURES = ("training_curves.png", "accuracy_vs_order.png", "ptq.png", "ptq_scales.png", "bound.png")


def reproduce(out, *, quick=False, data="mnist", data_dir=None, models=None, seeds=None,
              epochs=None, limit_train=None, limit_test=None, hidden=None, channels=None,
              bound_groups=None, threads=None, jobs=1, log=print):
    """Run the experiment and write ``out/results.json``, ``out/results.md`` and the figures.

    Parameters
    ----------
    out : str
        Output folder (created); ``out/runs/`` keeps every finished training run.
    quick : bool
        The quick preset instead of the full one.
    data, data_dir, limit_train, limit_test
        As :func:`horq_ref.data.load_dataset`.
    models : sequence of {"mlp", "cnn", "mlp3", "cnn3"}, optional
        Default: every model of the preset (quick: mlp, cnn; full: also the deeper mlp3, cnn3).
    seeds, epochs : int, optional
        Override the preset for every network.
    hidden, channels, bound_groups : int, optional
        Shrink the run (the tests use them).
    threads : int, optional
        The BLAS thread count the caller set (:func:`horq_ref.experiments.blas.set_blas_threads`),
        recorded in ``info["blas"]`` with the BLAS library's name and the count in effect. The count
        changes the order of floating-point sums and so the last digits of every accuracy.
    jobs : int
        Training runs at once, each in its own worker process (:mod:`horq_ref.experiments.workers`);
        the results do not depend on it. 1 (default) trains in this process.
    log : callable
        Receives one line of progress at a time.

    Returns
    -------
    results : dict
        What ``results.json`` holds.
    """
    from ..data.datasets import load_dataset
    from .blas import blas_info
    from .report import summarize_ptq, summarize_runs
    from .stats import compare_records, wall_estimates

    s = SimpleNamespace(quick=quick, data=data, data_dir=data_dir, seeds=seeds, epochs=epochs,
                        limit_train=limit_train, limit_test=limit_test, hidden=hidden,
                        channels=channels, models=",".join(models) if models else None)
    t0 = time.perf_counter()
    setup = partial(load_dataset, data, data_dir=data_dir, limit_train=limit_train,
                    limit_test=limit_test)  # also gives each worker process its copy
    ds = setup()
    plan = _plan(s, list(models or PRESETS["quick" if quick else "full"]))
    records = _run_all(ds, plan, out, log, check_int(jobs, "jobs", minimum=1), setup)
    runs, ptq = summarize_runs(records, ds.name, ds.n_test), summarize_ptq(records, ds.name)
    speed, note = _speed()
    results = {"runs": runs, "ptq": ptq, "comparisons": compare_records(records),
               "wall_estimates": wall_estimates(runs), "bound": _bound(ds, bound_groups or 1000),
               "speed": speed, "speed_note": note, "checks": _checks(runs, ptq),
               "info": {"command": _command(s), "data": _data_note(ds), "plan": plan,
                        "cpus": os.cpu_count(), "blas": blas_info(threads), "jobs": jobs,
                        "figures": list(FIGURES),
                        "ptq_layers": "every weighted layer but the first"}}
    results["info"]["wall_seconds"] = time.perf_counter() - t0
    _write(out, results)
    return results


def _run_all(ds, plan, out, log, jobs=1, setup=None):
    """Every (model, method, seed) run of ``plan``, read back from ``out/runs/`` when finished, else
    trained (``jobs`` at a time in worker processes that load the data with ``setup()``); the records
    in the plan's order."""
    from contextlib import closing

    from .report import write_json
    from .workers import run_tasks

    keys = [(m, meth, s) for m in plan for meth in plan[m].get("methods", METHODS)
            for s in range(plan[m]["seeds"])]
    log(f"{_data_note(ds)}; {len(keys)} training runs -> {out}" + (f"; {jobs} at a time" * (jobs > 1)))
    path = lambda k: os.path.join(out, "runs", "{}-{}-seed{}.json".format(*k))  # noqa: E731
    records = {k: _saved_run(path(k), ds, plan[k[0]]) for k in keys}
    for k in keys:
        if records[k] is not None:
            log(f"    {k[0]} {k[1]} seed {k[2]}: finished earlier, read from {path(k)}")
    todo = [k + (plan[k[0]],) for k in keys if records[k] is None]
    if jobs > 1:  # longest first: the workers take them in this order
        todo.sort(key=lambda t: -_expected_cost(*t))
    with closing(run_tasks(_train_task, todo, context=ds, setup=setup, jobs=jobs, log=log)) as runs:
        for done, (i, rec) in enumerate(runs, start=len(keys) - len(todo) + 1):
            rec["data"] = _data_note(ds)
            write_json(path(todo[i][:3]), rec)  # each finished run is kept: a rerun resumes
            records[todo[i][:3]] = rec
            ptq = "" if "ptq" not in rec else "  PTQ greedy K=1..6: " + " ".join(
                f"{100 * a:.1f}" for a in rec["ptq"]["greedy"].values())
            log(f"[{done:2d}/{len(keys)}] {rec['model']} {rec['method']:5s} seed {rec['seed']}: test acc "
                f"{100 * rec['test_acc']:.2f} %  ({rec['history'][-1]['epoch']} epochs, "
                f"{rec['train_seconds']:.1f} s, {rec['images_per_s']:,.0f} img/s){ptq}")
    return [records[k] for k in keys]


def _expected_cost(arch, method, seed, spec):
    """A rough relative cost of one run (conv layers and a float run's PTQ sweep cost most)."""
    order = 0 if method == "float" else int(method[4])
    return spec["epochs"] * (6 if arch.startswith("cnn") else 1) * (2.5 if order == 0 else 1 + order / 5)


def _train_task(ds, task, log):
    """One training run for :func:`horq_ref.experiments.workers.run_tasks`; ``task`` is
    ``(arch, method, seed, spec)``."""
    return _one_run(ds, *task, log)


def _plan(args, models):
    """``{model: settings}`` from the preset and the overriding flags."""
    plan = {}
    for m in models:
        spec = dict(PRESETS["quick" if args.quick else "full"][m])
        spec.update({k: getattr(args, k) for k in ("seeds", "epochs") if getattr(args, k)})
        if m.startswith("mlp") and args.hidden:
            spec["hidden"] = (args.hidden,) * (3 if m == "mlp3" else 2)
        if m.startswith("cnn") and args.channels:
            spec["channels"] = (args.channels, 2 * args.channels) + ((2 * args.channels,) * (m == "cnn3"))
        spec["ptq"] = PTQ_LIMITS["quick" if args.quick else "full"]
        plan[m] = spec
    return plan


def _ptq(model, ds, limits):
    """``({scales: {K: accuracy}}, {scales: {K: correct}})``: every non-first layer's input expanded
    to order K with the named scales, weights float; the alternating variant (slow) on the first
    ``limits["images"]`` test images only."""
    from ..nn.train import predict
    from .stats import encode_correct

    conv = model.config["arch"].startswith("cnn")
    accs, correct = {}, {}
    for sc in PTQ_SCALES:
        model.set_input_scales(sc)
        m = limits["images"] if sc == "alternating" else ds.n_test
        x, y = ds.x_test[:m], ds.y_test[:m]
        for K in PTQ_ORDERS:
            if sc == "alternating" and conv and K > limits["conv_alternating"]:
                continue
            model.set_input_order(K)
            ok = predict(model, x) == y
            accs.setdefault(sc, {})[K] = float(ok.mean())
            correct.setdefault(sc, {})[K] = encode_correct(ok)
    model.set_input_scales(None)
    model.set_input_order(None)
    return accs, correct


def _one_run(ds, arch, method, seed, spec, log):
    from ..nn.models import build_model
    from ..nn.train import train
    from .runs import run_record

    shape = {k: spec[k] for k in ("hidden", "channels") if k in spec}
    meth, _, scales = method.partition("-")
    model = build_model(arch, meth, seed=seed, input_shape=ds.image_shape,
                        num_classes=ds.num_classes, scales=scales or "greedy", **shape)
    hist = train(model, ds, epochs=spec["epochs"], batch_size=spec["batch_size"],
                 optimizer=spec["optimizer"], lr=spec["lr"], schedule=spec["schedule"], seed=seed,
                 log=lambda line: log(f"    {arch} {method} seed {seed}: {line.strip()}")
                 if "batch" in line else None,
                 progress_every_s=30.0)
    rec = run_record(model, ds, method, seed, hist, {k: v for k, v in spec.items() if k != "seeds"})
    if method == "float":
        rec["ptq"], rec["ptq_correct"] = _ptq(model, ds, spec["ptq"])
    return rec


def _bound(ds, groups):
    """Bound check rows for the synthetic laws (n = BOUND_N) and the test images' pixels (n = H*W*C)."""
    from ..theory import sample_law
    from .tasks import bound_report

    rng, out = np.random.default_rng(0), []
    for law in BOUND_LAWS:
        X = sample_law(law, (groups, BOUND_N), rng)  # (M, n)
        out.append({"law": law, "n": BOUND_N, "rows": bound_report(X, 4, law=law)})
    X = ds.x_test[:groups].reshape(min(groups, ds.n_test), -1).astype(np.float64)  # (M, C*H*W)
    out.append({"law": f"{ds.name} test images", "n": X.shape[1], "rows": bound_report(X, 4)})
    return out


def _speed():
    """``(rows, note)`` of the speed model of :mod:`horq_ref.cost`."""
    from ..cost import speedup_table

    table = speedup_table()
    rows = [{"kernel": f"{kh}x{kw}", "channels": c,
             **{f"K={K}": float(table.values[s, i, j]) for j, K in enumerate(table.orders)}}
            for s, (kh, kw) in enumerate(table.kernel_sizes) for i, c in enumerate(table.channels)]
    return rows, ("Modelled speed-up of an order-K binary convolution over a float one (the "
                  "op-count model of docs/paper.md §6 as implemented in `horq_ref.cost.speedup`; a "
                  "model, not a measurement). Weights are stored about 32x smaller.")


def _checks(runs, ptq):
    """The acceptance conditions of the quick preset, as booleans."""
    by = {(r["model"], r["method"]): r["test_accuracy"] for r in runs}
    checks = {}
    if all(("mlp", m) in by for m in ("float", "horq1", "horq2")):
        f, h1, h2 = by["mlp", "float"], by["mlp", "horq1"], by["mlp", "horq2"]
        checks["mlp_horq2_above_horq1_and_closer_to_float"] = h2 > h1 and abs(f - h2) < abs(f - h1)
    for model in dict.fromkeys(p["model"] for p in ptq):
        acc = [p["test_accuracy"] for p in ptq
               if p["model"] == model and p["order"] <= 3 and p["scales"] == "greedy"]
        checks[f"{model}_ptq_not_falling_k1_to_k3"] = all(b >= a for a, b in zip(acc, acc[1:]))
    return checks


def _command(args):
    parts = ["horq-ref reproduce"] + (["--quick"] if args.quick else [])
    for flag in ("data", "data_dir", "models", "seeds", "epochs", "limit_train", "limit_test"):
        value = getattr(args, flag)
        if value is not None and not (flag == "data" and value == "mnist"):
            parts.append(f"--{flag.replace('_', '-')} {value}")
    return " ".join(parts)


def _write(out, results):
    from .plots import (plot_accuracy_vs_order, plot_bound_reports, plot_ptq, plot_ptq_scales,
                        plot_training_curves)
    from .report import render_markdown, write_json, write_text

    runs, ptq = results["runs"], results["ptq"]
    plot_training_curves(runs, os.path.join(out, "training_curves.png"))
    plot_accuracy_vs_order(runs, os.path.join(out, "accuracy_vs_order.png"))
    plot_ptq(runs, [p for p in ptq if p["scales"] == "greedy"], os.path.join(out, "ptq.png"))
    plot_ptq_scales(ptq, os.path.join(out, "ptq_scales.png"))
    plot_bound_reports({b["law"]: b["rows"] for b in results["bound"]}, os.path.join(out, "bound.png"))
    write_json(os.path.join(out, "results.json"), results)
    write_text(os.path.join(out, "results.md"), render_markdown(results))


def summary(results, out):
    """The lines ``horq-ref reproduce`` ends with: accuracy per network, the checks, what it wrote."""
    lines = [f"{r['model']} {r['method']:5s}: {100 * r['test_accuracy']:.2f} ± "
             f"{100 * r['test_accuracy_std']:.2f} % over {len(r['seeds'])} seed(s)"
             for r in results["runs"]]
    lines.append("checks: " + ", ".join(f"{k} {'yes' if v else 'NO'}"
                                        for k, v in results["checks"].items()))
    lines.append(f"wrote {out}/results.json, results.md and {len(FIGURES)} figures in "
                 f"{results['info']['wall_seconds']:.0f} s")
    return "\n".join(lines)
