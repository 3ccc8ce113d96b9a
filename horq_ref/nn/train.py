"""The training loop, evaluation and resumable checkpoints (docs/paper.md §5, §7).

Training keeps real-valued latent weights, updates them with the straight-through gradient and clips
the latent weights of binarized layers to ``[-1, 1]`` after every step (XNOR-Net, BinaryConnect; the
optimizer does the clipping for ``model.binarized``). The paper gives neither optimizer, schedule nor
epochs; the choices made here:

* Mini-batches are drawn without replacement from a permutation of the training set per epoch, made
  by a generator seeded from ``seed`` (a stream separate from the model's initialization), and the
  last, smaller batch is kept. The loss is the mean softmax cross-entropy of
  :func:`horq_ref.nn.losses.softmax_cross_entropy`. The learning rate is set at the start of each
  epoch from a schedule, a function of the 0-based epoch (:mod:`horq_ref.nn.optim`).
* Training loss and accuracy are the running means over the epoch's batches, in training mode;
  test accuracy is measured in evaluation mode (batch norm on its running statistics) in batches.
* Divergence is caught the same way for every method and backend: the training steps and the test
  pass run under ``np.errstate`` that raises on overflow and invalid operations (NaN), so the first
  non-finite number stops training at that step with :class:`TrainingDiverged`, naming the epoch,
  the step and the learning rate; the checkpoint of the last finished epoch stays as it was. A
  training or test set without images is refused before the first epoch.
* Resuming with another final epoch count (``train 10``, then ``resume`` to 20) does not restart the
  schedule: the remaining epochs get a new plan of the same kind that starts from the last rate used
  and ends where the schedule ends (cosine: at 0 after the last epoch), so the rate never jumps back
  up. The plan is stored in the checkpoint, so an interrupted extended run resumes bit for bit too.
  Resuming with another method, order, STE rule, architecture, width, test set or data (the data
  set's fingerprint) is refused, naming both values.
* At the end of every epoch a checkpoint holds the model, the optimizer, the shuffling generator's
  state, the epoch, the history and the configuration (:mod:`horq_ref.io.checkpoint`; checked
  against :data:`horq_ref.io.schema.CHECKPOINT` when read). Resuming restores all of it, so an
  interrupted and resumed run ends with the same weights, bit for bit, as one never interrupted.
  ``KeyboardInterrupt`` makes sure the last finished epoch is on disk, then propagates.
"""

from __future__ import annotations

import contextlib
import math
import os
import time

import numpy as np

from ..checks import check_choice, check_int
from ..io.checkpoint import load_state, save_state
from ..io.paths import differences
from ..io.schema import CHECKPOINT, validate
from .losses import softmax_cross_entropy
from .optim import make_optimizer, make_schedule

__all__ = ["train", "evaluate", "predict", "logits", "load_checkpoint", "TrainingDiverged",
           "CHECKPOINT_KIND", "OPTIMIZERS", "SCHEDULES"]

CHECKPOINT_KIND = "checkpoint"
OPTIMIZERS = ("adam", "sgd")
SCHEDULES = ("cosine", "constant", "step")
_SHUFFLE_STREAM = 0x5348  # second word of the shuffling generator's seed: not the model's stream


class TrainingDiverged(ValueError):
    """A number of the training run overflowed or became NaN. ``history`` holds the finished epochs,
    ``lr`` the learning rate of the failing step."""

    def __init__(self, message, history=(), lr=None):
        super().__init__(message)
        self.history, self.lr = list(history), lr


#: Images per evaluation batch. Larger batches are slower, not faster: the im2col rows of a HORQ
#: convolution hold K + 1 residuals and K planes, so a batch of 500 CNN images at order 6 allocates
#: about a gigabyte afresh, more than the batch saves (docs/performance.md, "A whole run").
EVAL_BATCH = 100


def logits(model, x, batch_size=EVAL_BATCH):
    """Class scores (N, num_classes) of ``model`` in evaluation mode for images ``x`` (N, C, H, W),
    computed ``batch_size`` images at a time."""
    check_int(batch_size, "batch_size", minimum=1)
    if np.ndim(x) < 2 or len(x) == 0:
        raise ValueError(f"x must hold at least one sample, got shape {np.shape(x)}")
    return np.concatenate([model.forward(x[i:i + batch_size], train=False)
                           for i in range(0, len(x), batch_size)])


def predict(model, x, batch_size=EVAL_BATCH):
    """Predicted labels ``argmax logits``, int64 of shape (N,), for images ``x`` (N, C, H, W)."""
    return np.argmax(logits(model, x, batch_size), axis=1).astype(np.int64)


def evaluate(model, x, y, batch_size=EVAL_BATCH):
    """``(loss, accuracy)`` of ``model`` in evaluation mode on images ``x`` (N, C, H, W), labels ``y``
    (N,); ``accuracy`` is the fraction of correct labels in ``[0, 1]``."""
    z = logits(model, x, batch_size)  # (N, num_classes)
    loss, _ = softmax_cross_entropy(z, np.asarray(y))
    return loss, float(np.mean(np.argmax(z, axis=1) == y))


def _config(dataset, epochs, batch_size, optimizer, lr, schedule, seed, weight_decay):
    """The settings a resumed run must share with the run that wrote the checkpoint."""
    return {"dataset": dataset.name, "data": dataset.fingerprint, "n_train": int(dataset.n_train),
            "n_test": int(dataset.n_test), "batch_size": batch_size, "optimizer": optimizer,
            "lr": float(lr), "schedule": schedule, "seed": int(seed),
            "weight_decay": float(weight_decay), "epochs": epochs}


def _schedule(name, state, epochs, lr):
    """``(plan, epoch -> rate)``: the plan ``{start, offset, span, peak}`` gives epoch ``e`` the rate
    ``schedule(peak, span)(e - start + offset)``. A fresh run, or a resume to the same final epoch
    count, follows the plan it was started with; a resume to another count re-plans the remaining
    epochs from the last rate used (``offset`` 1: that rate was the new plan's step 0)."""
    plan = {"start": 0, "offset": 0, "span": epochs, "peak": float(lr)}
    if state is not None and state["history"]:
        old, start = state["lr_plan"], state["epoch"]
        plan = old if old["start"] - old["offset"] + old["span"] == epochs or start >= epochs else {
            "start": start, "offset": 1, "span": epochs - start + 1,
            "peak": float(state["history"][-1]["lr"])}
    sched = make_schedule(name, plan["peak"], epochs=plan["span"],
                          step_size=max(1, math.ceil(plan["span"] / 3)))
    return plan, lambda epoch: sched(epoch - plan["start"] + plan["offset"])


def load_checkpoint(path, ctx=None):
    """The state dict of a training checkpoint: ``model``, ``optimizer``, ``rng``, ``epoch``,
    ``history``, ``config``, ``model_config``, ``lr_plan``, checked against
    :data:`horq_ref.io.schema.CHECKPOINT` (``ctx``: see :func:`horq_ref.io.schema.validate`)."""
    return validate(CHECKPOINT, load_state(path, kind=CHECKPOINT_KIND), os.fspath(path), ctx)


def _resume(path, model, opt, rng, config, model_config, log):
    """Restore model, optimizer and generator from ``path``; return the checkpoint's state."""
    state = load_checkpoint(path)
    diff = differences(state["config"], config, ("epochs",), "checkpoint") + differences(
        state["model_config"], model_config, ("backend", "seed"), "checkpoint")
    if diff:
        raise ValueError(f"checkpoint {os.fspath(path)} was written with other settings "
                         f"({'; '.join(diff)}); resume with the same settings or start anew")
    model.load_state_dict(state["model"])
    opt.load_state_dict(state["optimizer"])
    rng.bit_generator.state = state["rng"]
    log(f"resumed from {os.fspath(path)} after epoch {state['epoch']}")
    return state


def _train_epoch(model, opt, x, y, batch_size, rng, progress):
    """One pass over ``(x, y)`` in shuffled mini-batches; returns ``(loss, accuracy, seconds)``."""
    N = len(x)
    perm = rng.permutation(N)
    total_loss, correct, t0 = 0.0, 0, time.perf_counter()
    for b, start in enumerate(range(0, N, batch_size)):
        idx = perm[start:start + batch_size]
        with _diverged_at(f"step {b + 1}"):
            z = model.forward(x[idx], train=True)  # (B, num_classes)
            loss, dz = softmax_cross_entropy(z, y[idx])
            if not math.isfinite(loss):
                raise FloatingPointError("the loss is not finite")
            model.backward(dz)
            opt.step(model.params, model.grads)
        total_loss += loss * len(idx)
        correct += int(np.sum(np.argmax(z, axis=1) == y[idx]))
        seen = start + len(idx)
        progress(b + 1, math.ceil(N / batch_size), total_loss / seen, correct / seen,
                 seen / max(time.perf_counter() - t0, 1e-9))
    return total_loss / N, correct / N, time.perf_counter() - t0


@contextlib.contextmanager
def _diverged_at(where):
    """Raise :class:`TrainingDiverged` naming ``where`` at the first overflow or invalid operation in
    the block (an inf logit, say, makes the loss compute ``inf - inf``)."""
    try:
        with np.errstate(over="raise", invalid="raise"):
            yield
    except FloatingPointError as exc:
        raise TrainingDiverged(f"{where} ({exc})") from None


def _progress_printer(log, every_s, epoch, epochs):
    last = [time.perf_counter()]

    def progress(batch, batches, loss, acc, ips):
        now = time.perf_counter()
        if now - last[0] >= every_s and batch < batches:
            last[0] = now
            log(f"  epoch {epoch}/{epochs}  batch {batch}/{batches}  loss {loss:.4f}  "
                f"acc {acc:.4f}  {ips:,.0f} img/s")
    return progress


def train(model, dataset, *, epochs, batch_size=100, optimizer="adam", lr=1e-3, schedule="cosine",
          seed=0, weight_decay=0.0, checkpoint_path=None, resume=False, model_config=None,
          log=print, progress_every_s=5.0, eval_batch_size=EVAL_BATCH):
    """Train ``model`` on ``dataset``; return the history, one dict per epoch.

    Parameters
    ----------
    model : Model
        From :func:`horq_ref.nn.models.build_model`; trained in place.
    dataset : horq_ref.data.datasets.Dataset
        ``x_train`` (N, C, H, W), ``y_train`` (N,), ``x_test`` (n, C, H, W), ``y_test`` (n,).
    epochs, batch_size : int >= 1
    optimizer : {"adam", "sgd"}
    lr : float
        Peak learning rate.
    schedule : {"cosine", "constant", "step"}
        ``"step"`` divides the rate by 10 after each third of the epochs.
    seed : int
        Seeds the shuffling. (The model's initialization has its own seed.)
    checkpoint_path : str or os.PathLike, optional
        Written atomically at the end of each epoch.
    resume : bool
        Continue from ``checkpoint_path`` if it exists (same settings; more epochs allowed).
    model_config : dict, optional
        The :func:`~horq_ref.nn.models.build_model` arguments stored in the checkpoint (default
        ``model.config``).
    log : callable or None
        Receives progress lines (an epoch summary, and a line every ``progress_every_s`` seconds).

    Returns
    -------
    list of dict
        Per epoch: ``epoch`` (1-based), ``lr``, ``train_loss``, ``train_acc``, ``test_loss``,
        ``test_acc`` (fractions in [0, 1]), ``seconds`` (whole epoch), ``train_seconds``,
        ``images_per_s`` (training throughput).
    """
    epochs, log = check_int(epochs, "epochs", minimum=1), log or (lambda line: None)
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    check_choice(optimizer, "optimizer", OPTIMIZERS), check_choice(schedule, "schedule", SCHEDULES)
    model_config = model.config if model_config is None else model_config
    if resume and checkpoint_path is None:
        raise ValueError("resume needs a checkpoint_path")
    for part in ("train", "test"):
        if getattr(dataset, f"n_{part}") < 1:
            raise ValueError(f"the {part} set of {dataset.name!r} holds no images: nothing to "
                             f"{'train on' if part == 'train' else 'measure'}")
    opt = make_optimizer(optimizer, lr, weight_decay=weight_decay, clip_names=model.binarized)
    rng = np.random.default_rng([int(seed), _SHUFFLE_STREAM])
    config = _config(dataset, epochs, batch_size, optimizer, lr, schedule, seed, weight_decay)
    state = None
    if resume and os.path.exists(checkpoint_path):
        state = _resume(checkpoint_path, model, opt, rng, config, model_config, log)
    elif resume:
        log(f"no checkpoint at {os.fspath(checkpoint_path)}: starting from epoch 1")
    start, history = (0, []) if state is None else (int(state["epoch"]), list(state["history"]))
    plan, rate = _schedule(schedule, state, epochs, lr)
    if start >= epochs:
        log(f"the checkpoint already holds {start} epochs (>= epochs={epochs}): nothing to do")
    run = dict(opt=opt, rng=rng, ds=dataset, epochs=epochs, sched=rate,
               batch_size=batch_size, log=log, every_s=progress_every_s, eval_bs=eval_batch_size)
    save = None if checkpoint_path is None else (lambda: save_state(checkpoint_path, {
        "model": model.state_dict(), "optimizer": opt.state_dict(), "rng": rng.bit_generator.state,
        "epoch": len(history), "history": history, "config": config, "model_config": model_config,
        "lr_plan": plan}, kind=CHECKPOINT_KIND))
    _epochs(model, run, start, history, save, checkpoint_path, log)
    return history


def _epochs(model, run, start, history, save, checkpoint_path, log):
    """Epochs ``start..epochs-1``, saving after each; keeps the last epoch on disk if interrupted."""
    saved = start
    try:
        for epoch in range(start, run["epochs"]):
            history.append(_run_epoch(model, epoch, **run))
            if save is not None:
                save()
                saved = len(history)
    except KeyboardInterrupt:
        if save is not None and saved < len(history):
            save()
        if checkpoint_path is not None and history:
            log(f"interrupted: epoch {history[-1]['epoch']} is saved in "
                f"{os.fspath(checkpoint_path)} (continue with resume)")
        raise
    except TrainingDiverged as exc:
        kept = (f"; epoch {history[-1]['epoch']} stays in {os.fspath(checkpoint_path)}"
                if checkpoint_path is not None and history else "")
        raise TrainingDiverged(f"{exc}{kept}", history, exc.lr) from None


def _run_epoch(model, epoch, opt, rng, ds, epochs, sched, batch_size, log, every_s, eval_bs):
    """Train one epoch, evaluate, log the summary; return the epoch's history entry."""
    t0 = time.perf_counter()
    opt.lr = float(sched(epoch))
    progress = _progress_printer(log, every_s, epoch + 1, epochs)
    try:
        loss, acc, secs = _train_epoch(model, opt, ds.x_train, ds.y_train, batch_size, rng, progress)
        with _diverged_at("the test pass"):
            test_loss, test_acc = evaluate(model, ds.x_test, ds.y_test, eval_bs)
    except TrainingDiverged as exc:
        raise TrainingDiverged(f"non-finite numbers at epoch {epoch + 1}, {exc}: the learning rate "
                               f"{opt.lr:g} is too large for this run (or the data are not "
                               f"finite); lower --lr", lr=opt.lr) from None
    row = {"epoch": epoch + 1, "lr": opt.lr, "train_loss": loss, "train_acc": acc,
           "test_loss": test_loss, "test_acc": test_acc, "seconds": time.perf_counter() - t0,
           "train_seconds": secs, "images_per_s": ds.n_train / max(secs, 1e-9)}
    log(f"epoch {epoch + 1}/{epochs}  lr {opt.lr:.2e}  loss {loss:.4f}  train acc {acc:.4f}  "
        f"test acc {test_acc:.4f}  {row['seconds']:.1f} s  {row['images_per_s']:,.0f} img/s")
    return row
