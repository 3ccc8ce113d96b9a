"""Validation of a training checkpoint's metadata before anything is restored from it.

A checkpoint (:func:`horq_ref.nn.train.load_checkpoint`) is a file a user may have edited, damaged or
been sent; every field that training reads is checked here, so a bad value is a ``ValueError`` naming
the file and the field instead of a training run on nonsense or an error from inside NumPy:

* ``epoch``: an integer >= 0, equal to the length of ``history`` (a list of dicts);
* ``config``: a dict whose ``lr`` and ``weight_decay`` are finite (``lr > 0``), ``epochs`` and
  ``batch_size`` integers >= 1, ``seed`` an integer >= 0;
* ``optimizer``: ``lr > 0`` finite, ``t`` an integer >= 0, ``beta1`` and ``beta2`` (Adam) in
  ``[0, 1)``, ``momentum`` (SGD) in ``[0, 1)``, ``eps > 0``;
* ``rng``: a PCG64 state as NumPy writes it (``state`` and ``inc`` in ``[0, 2**128)``,
  ``has_uint32`` 0 or 1, ``uinteger`` in ``[0, 2**32)``);
* ``model``: a dict of finite arrays;
* ``lr_plan`` (optional): the learning-rate plan of :mod:`horq_ref.nn.train`.
"""

from __future__ import annotations

import json
import math
import os
from numbers import Integral, Real

import numpy as np

__all__ = ["validate_training_state", "lr_plan", "settings_differences"]

_U128 = 1 << 128


def _fail(where, field, why, value):
    raise ValueError(f"{where}: checkpoint field {field} {why}, got {value!r}"[:400])


def _int(where, field, value, lo, hi=None):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Integral) or value < lo or \
            (hi is not None and value >= hi):
        _fail(where, field, f"must be an integer in [{lo}, {hi if hi is not None else 'inf'})", value)
    return int(value)


def _real(where, field, value, lo, hi=None, open_lo=False):
    ok = not isinstance(value, (bool, np.bool_)) and isinstance(value, (Real, np.ndarray))
    v = float(np.asarray(value)) if ok and np.ndim(value) == 0 else math.nan
    if not (math.isfinite(v) and (v > lo if open_lo else v >= lo) and (hi is None or v < hi)):
        bounds = f"{'(' if open_lo else '['}{lo}, {hi if hi is not None else 'inf'})"
        _fail(where, field, f"must be a finite number in {bounds}", value)
    return v


def _dict(where, field, value):
    if not isinstance(value, dict):
        _fail(where, field, "must be a dict", type(value).__name__)
    return value


def _check_rng(where, rng):
    _dict(where, "rng", rng)
    if rng.get("bit_generator") != "PCG64":
        _fail(where, "rng.bit_generator", "must be 'PCG64'", rng.get("bit_generator"))
    state = _dict(where, "rng.state", rng.get("state"))
    for key in ("state", "inc"):
        _int(where, f"rng.state.{key}", state.get(key), 0, _U128)
    _int(where, "rng.has_uint32", rng.get("has_uint32"), 0, 2)
    _int(where, "rng.uinteger", rng.get("uinteger"), 0, 1 << 32)


def _check_optimizer(where, opt):
    _dict(where, "optimizer", opt)
    _real(where, "optimizer.lr", opt.get("lr"), 0.0, open_lo=True)
    _int(where, "optimizer.t", opt.get("t"), 0)
    _real(where, "optimizer.weight_decay", opt.get("weight_decay"), 0.0)
    for key in ("beta1", "beta2", "momentum"):
        if key in opt:
            _real(where, f"optimizer.{key}", opt[key], 0.0, 1.0)
    if "eps" in opt:
        _real(where, "optimizer.eps", opt["eps"], 0.0, open_lo=True)
    for key, value in opt.items():
        if "." in key and not (isinstance(value, np.ndarray) and np.all(np.isfinite(value))):
            _fail(where, f"optimizer.{key}", "must be a finite array", "non-finite values")


def _check_config(where, config):
    _dict(where, "config", config)
    _real(where, "config.lr", config.get("lr"), 0.0, open_lo=True)
    _real(where, "config.weight_decay", config.get("weight_decay"), 0.0)
    _int(where, "config.epochs", config.get("epochs"), 1)
    _int(where, "config.batch_size", config.get("batch_size"), 1)
    _int(where, "config.seed", config.get("seed"), 0)


def validate_training_state(state, path):
    """Raise ``ValueError`` naming ``path`` and the field unless ``state`` is a usable checkpoint."""
    where = os.fspath(path)
    epoch = _int(where, "epoch", state["epoch"], 0)
    history = state["history"]
    if not isinstance(history, list) or not all(isinstance(h, dict) for h in history):
        _fail(where, "history", "must be a list of per-epoch dicts", type(history).__name__)
    for i, row in enumerate(history):
        _real(where, f"history[{i}].lr", row.get("lr"), 0.0, open_lo=True)
    if len(history) != epoch:
        _fail(where, "history", f"must hold one entry per finished epoch ({epoch})", len(history))
    _check_config(where, state["config"])
    _check_optimizer(where, state["optimizer"])
    _check_rng(where, state["rng"])
    for key, value in _dict(where, "model", state["model"]).items():
        if not isinstance(value, np.ndarray) or not np.all(np.isfinite(value)):
            _fail(where, f"model.{key}", "must be a finite array", "NaN, inf or not an array")
    if not isinstance(state.get("model_config") or {}, dict):
        _fail(where, "model_config", "must be a dict", type(state["model_config"]).__name__)
    plan = state.get("lr_plan")
    if plan is not None:
        _dict(where, "lr_plan", plan)
        _int(where, "lr_plan.start", plan.get("start"), 0)
        _int(where, "lr_plan.offset", plan.get("offset"), 0, 2)
        _int(where, "lr_plan.span", plan.get("span"), 1)
        _real(where, "lr_plan.peak", plan.get("peak"), 0.0, open_lo=True)


def lr_plan(state, epochs, lr):
    """``{start, offset, span, peak}``: epoch ``e`` uses ``schedule(peak, span)(e - start + offset)``.

    A fresh run (or a resume to the same final epoch count) follows the plan it was started with;
    a resume to another count re-plans the remaining epochs from the last rate used (``offset`` 1:
    that rate is the re-planned schedule's step 0, already taken)."""
    if state is None or not state["history"]:
        return {"start": 0, "offset": 0, "span": epochs, "peak": float(lr)}
    old = state["config"]
    plan = state.get("lr_plan") or {"start": 0, "offset": 0, "span": old["epochs"],
                                    "peak": float(old["lr"])}
    start = int(state["epoch"])
    if plan["start"] - plan["offset"] + plan["span"] == epochs or start >= epochs:
        return plan
    return {"start": start, "offset": 1, "span": epochs - start + 1,
            "peak": float(state["history"][-1]["lr"])}


def settings_differences(old, new, skip):
    """``"key: old != new"`` for every key (but ``skip``) whose JSON form differs."""
    old, new = json.loads(json.dumps(old)), json.loads(json.dumps(new))
    keys = sorted((set(old) | set(new)) - set(skip))
    return [f"{k}: {old.get(k)!r} (checkpoint) != {new.get(k)!r} (now)" for k in keys
            if old.get(k) != new.get(k)]
