"""The logic of ``horq-ref reproduce``: the project's main experiment.

Trains the MLP and the CNN in full precision and with HORQ of orders 1 (XNOR-Net), 2 and 3 over
several seeds on the embedded MNIST subset (or a full data set with ``data_dir``), evaluates every
float-trained network with its inputs quantized after training (orders 1..6, weights in float),
measures the error guarantee on a few input laws and adds the speed model. Presets (chosen here, the
paper gives no schedule): ``quick`` (the default) and ``full`` (the paper-scale one: more seeds and
epochs, the deeper ``mlp3`` and ``cnn3``, HORQ-2 CNNs with refit scales). Within a seed,
initialization and shuffling are the same for every method, so per-seed differences between methods
are paired. Every finished training run is kept in ``OUT/runs/`` as it completes; an interrupted run
started again with the same data and settings picks up where it stopped; the output folder belongs to
one run (:func:`horq_ref.io.paths.claim`: other settings or data are refused without ``force``, and
two runs cannot work in it at once). ``jobs`` trains several
runs at once in worker processes (:mod:`.workers`); the numbers are the same for every ``jobs``.

How long: a timed pilot of each network kind predicts the seconds of every run
(:mod:`.reproduce_run`); the expected wall time is printed before the runs start, and status lines
(:class:`.workers.Progress`: runs done, elapsed, time left) come at least every ``progress_every``
seconds until the end. The time left covers the runs, not the last step (statistics, bound check,
figures), whose status lines give the time elapsed.
"""

from __future__ import annotations

import os
import time
from functools import partial
from types import SimpleNamespace

import numpy as np

from ..checks import check_choice, check_int
from ..nn.models import ARCHS, METHODS as MODEL_METHODS
from .reproduce_run import (PTQ_ORDERS, PTQ_SCALES, data_note as _data_note, pilot_task,
                            saved_run as _saved_run, train_task)
from .workers import Progress, duration, run_tasks

__all__ = ["summary", "METHODS", "MODELS", "PTQ_ORDERS", "PTQ_SCALES", "BOUND_LAWS", "BOUND_N",
           "PRESETS", "FIGURES", "reproduce"]

METHODS = MODEL_METHODS + ("horq2-refit",)  # horq2 trained with least-squares scales
MODELS = ARCHS
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


def reproduce(out, *, preset="quick", data="mnist", data_dir=None, models=None, seeds=None,
              epochs=None, limit_train=None, limit_test=None, hidden=None, channels=None,
              bound_groups=None, threads=None, jobs=1, log=print, progress_every=30.0, force=False):
    """Run the experiment and write ``out/results.json``, ``out/results.md`` and the figures.

    Parameters
    ----------
    out : str
        Output folder (created); ``out/runs/`` keeps every finished training run.
    preset : {"quick", "full"}
        A key of :data:`PRESETS`.
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
        recorded in ``info["blas"]``; it changes the last digits of every accuracy.
    jobs : int
        Training runs at once, each in its own worker process; the results do not depend on it.
    log, progress_every
        Receives the lines of progress; the longest wait in seconds between two status lines.
    force : bool
        Replace the outputs of a run with other settings or data in ``out`` (else refused).

    Returns
    -------
    dict
        What ``results.json`` holds.
    """
    from ..data.datasets import load_dataset
    from ..io.paths import claim
    from .blas import blas_info
    from .report import summarize_ptq, summarize_runs
    from .stats import compare_records, wall_estimates

    check_choice(preset, "preset", tuple(PRESETS))
    s = SimpleNamespace(preset=preset, data=data, data_dir=data_dir, seeds=seeds, epochs=epochs,
                        limit_train=limit_train, limit_test=limit_test, hidden=hidden,
                        channels=channels, models=",".join(models) if models else None)
    t0, jobs = time.perf_counter(), check_int(jobs, "jobs", minimum=1)
    setup = partial(load_dataset, data, data_dir=data_dir, limit_train=limit_train,
                    limit_test=limit_test)  # also gives each worker process its copy
    ds = setup()
    plan = _plan(s, list(models or PRESETS[preset]))
    data = {"name": ds.name, "sha256": ds.fingerprint}
    with claim(out, "reproduce", {"preset": preset, "plan": plan}, data, force=force,
               outputs=("runs", "results.json", "results.md") + FIGURES), \
            Progress(log, every=progress_every) as progress:
        records, earlier = _run_all(ds, plan, out, progress, jobs, setup, preset)
        progress.note = "all runs done; now the statistics, the bound check and the figures"
        runs, ptq = summarize_runs(records, ds.name, ds.n_test), summarize_ptq(records, ds.name)
        speed, note = _speed()
        results = {"runs": runs, "ptq": ptq, "comparisons": compare_records(records),
                   "wall_estimates": wall_estimates(runs), "bound": _bound(ds, bound_groups or 1000),
                   "speed": speed, "speed_note": note, "checks": _checks(runs, ptq),
                   "info": {"command": _command(s), "data": _data_note(ds), "plan": plan,
                            "cpus": os.cpu_count(), "blas": blas_info(threads), "jobs": jobs,
                            "figures": list(FIGURES), "runs_read_from_earlier": earlier,
                            "ptq_layers": "every weighted layer but the first"}}
        results["info"]["wall_seconds"] = time.perf_counter() - t0
        _write(out, results)
    return results


def _run_all(ds, plan, out, progress, jobs, setup, preset):
    """Every (model, method, seed) run of ``plan``, read back from ``out/runs/`` when finished, else
    trained (``jobs`` at a time in worker processes that load the data with ``setup()``), after a
    timed pilot of each network kind; the records in the plan's order and how many were read back."""
    from contextlib import closing

    from ..io.atomic import write_json

    keys = [(m, meth, s) for m in plan for meth in plan[m].get("methods", METHODS)
            for s in range(plan[m]["seeds"])]
    progress.log(_describe(preset, plan, ds, len(keys), jobs, out))
    path = lambda k: os.path.join(out, "runs", "{}-{}-seed{}.json".format(*k))  # noqa: E731
    records = {k: _saved_run(path(k), ds, k, plan[k[0]]) for k in keys}
    for k in keys:
        if records[k] is not None:
            progress.log(f"    {k[0]} {k[1]} seed {k[2]}: finished earlier, read from {path(k)}")
    todo, seconds = _pilot(ds, plan, [k + (plan[k[0]],) for k in keys if records[k] is None],
                           jobs, setup, progress)
    progress.tasks([f"{a} {m} seed {s}" for a, m, s, _ in todo], seconds, jobs=jobs,
                   done=len(keys) - len(todo))
    if todo:
        progress.say(f"expected: the {len(todo)} runs take about {duration(progress.left())}, {jobs} "
                     f"at a time (from a timed pilot of each network kind); then statistics, figures")
    with closing(run_tasks(train_task, todo, context=ds, setup=setup, jobs=jobs,
                           log=progress.log)) as runs:
        for i, rec in runs:
            rec["data"] = _data_note(ds)
            write_json(path(todo[i][:3]), rec)  # each finished run is kept: a rerun resumes
            records[todo[i][:3]] = rec
            ptq = "" if "ptq" not in rec else "  PTQ greedy K=1..6: " + " ".join(
                f"{100 * a:.1f}" for a in rec["ptq"]["greedy"].values())
            progress.finished(i, f"{rec['model']} {rec['method']:5s} seed {rec['seed']}: test acc "
                                 f"{100 * rec['test_acc']:.2f} %  ({rec['history'][-1]['epoch']} "
                                 f"epochs, {rec['train_seconds']:.1f} s, {rec['images_per_s']:,.0f} "
                                 f"img/s){ptq}")
    return [records[k] for k in keys], len(keys) - len(todo)


def _pilot(ds, plan, todo, jobs, setup, progress):
    """``(todo, seconds)``: the runs (longest first when ``jobs > 1``: the workers take them in this
    order) and their expected seconds, from one pilot per network kind (:func:`.pilot_task`)."""
    from contextlib import closing

    kinds = list(dict.fromkeys(t[:2] for t in todo))
    progress.tasks([f"{a} {m}" for a, m in kinds], jobs=jobs, what="pilots")
    secs = {}
    with closing(run_tasks(pilot_task, [(a, m, 0, plan[a]) for a, m in kinds], context=ds,
                           setup=setup, jobs=jobs, log=progress.log)) as runs:
        for i, s in runs:
            secs[kinds[i]] = s
            progress.finished(i)
    if jobs > 1:
        todo = sorted(todo, key=lambda t: -secs[t[:2]])
    return todo, [secs[t[:2]] for t in todo]


def _describe(preset, plan, ds, n_runs, jobs, out):
    """The first line: what the preset trains, on which data, and where it writes."""
    nets = ", ".join(f"{m} {'/'.join(spec.get('methods', METHODS))} x {spec['seeds']} seed(s) x "
                     f"{spec['epochs']} epochs" for m, spec in plan.items())
    return (f"{preset} preset: {nets} = {n_runs} training runs, {jobs} at a time, on {ds.name} "
            f"({ds.n_train:,} training / {ds.n_test:,} test images); PTQ sweeps of the float runs, "
            f"bound check, statistics, figures -> {out}" + "; --full: the paper-scale preset" * (
                preset == "quick"))


def _plan(args, models):
    """``{model: settings}`` from the preset and the overriding flags."""
    plan = {}
    for m in models:
        spec = dict(PRESETS[args.preset][m])
        spec.update({k: getattr(args, k) for k in ("seeds", "epochs") if getattr(args, k)})
        if m.startswith("mlp") and args.hidden:
            spec["hidden"] = (args.hidden,) * (3 if m == "mlp3" else 2)
        if m.startswith("cnn") and args.channels:
            spec["channels"] = (args.channels, 2 * args.channels) + ((2 * args.channels,) * (m == "cnn3"))
        spec["ptq"] = PTQ_LIMITS[args.preset]
        plan[m] = spec
    return plan


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
    parts = ["horq-ref reproduce", f"--{args.preset}"]
    for flag in ("data", "data_dir", "models", "seeds", "epochs", "limit_train", "limit_test"):
        value = getattr(args, flag)
        if value is not None and not (flag == "data" and value == "mnist"):
            parts.append(f"--{flag.replace('_', '-')} {value}")
    return " ".join(parts)


def _write(out, results):
    from .plots import (plot_accuracy_vs_order, plot_bound_reports, plot_ptq, plot_ptq_scales,
                        plot_training_curves)
    from ..io.atomic import write_json, write_text
    from .report import render_markdown

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
    lines = [f"{r['model']} {r['method']:5s}: {100 * r['test_accuracy']:.2f} %" + (
             f" ± {100 * r['test_accuracy_std']:.2f} over {len(r['seeds'])} seeds"
             if len(r["seeds"]) > 1 else " (1 seed)") for r in results["runs"]]
    lines.append("checks: " + ", ".join(f"{k} {'yes' if v else 'NO'}"
                                        for k, v in results["checks"].items()))
    lines.append(f"wrote {out}/results.json, results.md and {len(FIGURES)} figures in "
                 f"{results['info']['wall_seconds']:.0f} s")
    return "\n".join(lines)
