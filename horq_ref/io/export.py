"""Packed model files: binarized weights stored as bits, 32x smaller (docs/paper.md §1, §6).

A trained HORQ layer only ever uses its weights as ``alpha_f sign(W_f)`` (one scale per output unit or
filter, docs/paper.md §1), so the latent float weights can be dropped after training: the file keeps the
sign planes packed 64 to a word (:func:`horq_ref.bits.pack_signs`) and ``alpha`` per filter. The
first and last layers (full precision, as in XNOR-Net), the biases and the batch-norm parameters and
running statistics stay float. The file is an ``.npz`` written by :func:`horq_ref.io.checkpoint.save_state`
(kind ``"packed-model"``): arrays plus a JSON header with the model's configuration (arch, method,
order, ...), each packed weight's shape and the bit layout, read back with ``allow_pickle=False``.

Choices made here: a weight ``W`` of shape (F, ...) is packed as its rows ``W.reshape(F, D)``,
``D = C*kh*kw`` in im2col order; loading rebuilds latent weights ``alpha_f B_f``, which the model
binarizes back to the same ``B_f`` and to ``alpha_f`` up to the rounding of a mean of ``D`` equal
numbers (a couple of ulps), the same size as the difference between the "float" and "bits" backends. Sizes: ``F*D*4`` bytes of float32 become ``F*ceil(D/64)*8 + F*4``, a ratio near 32 for
``D`` a multiple of 64 and large.
"""

from __future__ import annotations

import os

import numpy as np

from ..bits import n_words, pack_signs, unpack_signs
from .checkpoint import load_state, save_state
from ..quantize import binarize

__all__ = ["KIND", "BIT_LAYOUT", "pack_model", "export_model", "export_checkpoint", "load_packed",
           "size_report", "weight_count", "check_model_values"]

KIND = "packed-model"
BIT_LAYOUT = ("row f of sign(W).reshape(F, D) (D = C*kh*kw, im2col order): entry j in word j // 64, "
              "bit j % 64 (least significant first), set bit = -1, clear = +1 (sign(0) = +1); "
              "little-endian uint64; weight = alpha[f] * sign")


def pack_model(model):
    """The packed state of ``model``: ``{"header", "binary", "float"}`` for :func:`save_state`.

    ``binary[name]`` holds ``bits`` (uint64, shape (F, ceil(D/64))) and ``alpha`` (F,) for every
    name in ``model.binarized``; ``float`` holds every other array of ``model.state_dict()``.
    """
    state = model.state_dict()
    binary, shapes = {}, {}
    for name in sorted(model.binarized):
        W = state.pop(name)
        binary[name] = {"bits": pack_signs(W.reshape(W.shape[0], -1), axis=-1),  # (F, words)
                        "alpha": _alpha(W)}
        shapes[name] = list(W.shape)
    header = {"model_config": model.config, "packed_shapes": shapes, "bit_layout": BIT_LAYOUT}
    return {"header": header, "binary": binary, "float": state}


def size_report(model, path=None):
    """Sizes in bytes and ratios against float32.

    Returns
    -------
    dict
        ``binarized_float32_bytes`` (the binarized weights as float32), ``binarized_packed_bytes``
        (their bits + alpha), ``binarized_ratio``, ``model_float32_bytes`` (every array of the model as
        float32), ``file_bytes`` and ``file_ratio`` (model float32 bytes / file size) if ``path``.
    """
    packed = pack_model(model)
    b32 = sum(4 * int(np.prod(s)) for s in packed["header"]["packed_shapes"].values())
    bp = sum(v["bits"].nbytes + 4 * v["alpha"].size for v in packed["binary"].values())
    m32 = 4 * sum(int(v.size) for v in model.state_dict().values())
    rep = {"binarized_float32_bytes": b32, "binarized_packed_bytes": bp,
           "binarized_ratio": b32 / bp if bp else 1.0, "model_float32_bytes": m32}
    if path is not None:
        rep["file_bytes"] = os.path.getsize(path)
        rep["file_ratio"] = m32 / rep["file_bytes"]
    return rep


def export_model(model, path):
    """Write ``model`` packed to ``path`` (atomically); return :func:`size_report` with file sizes."""
    save_state(path, pack_model(model), kind=KIND)
    return size_report(model, path)


def export_checkpoint(checkpoint_path, path):
    """Pack the model of a training checkpoint (it must hold ``model_config``); return the sizes."""
    from ..nn.train import load_checkpoint

    where = os.fspath(checkpoint_path)
    state = load_checkpoint(checkpoint_path)
    if not state.get("model_config"):
        raise ValueError(f"{where} has no model_config (train it with "
                         f"`horq-ref train` or pass model_config= to horq_ref.nn.train.train)")
    check_model_values(state["model"], where)
    capacity = sum(int(v.size) for v in state["model"].values())
    model = _build(dict(state["model_config"]), capacity, where)
    try:
        model.load_state_dict(state["model"])
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None
    return model, export_model(model, path)


def weight_count(config):
    """The number of weights (``W`` entries) the model of ``config`` has, computed without building
    it (:func:`horq_ref.nn.models.weight_count`); ``ValueError`` / ``TypeError`` for unusable sizes."""
    from ..checks import check_int
    from ..nn.models import weight_count as count

    shape = tuple(check_int(v, "input_shape", minimum=1) for v in config.get("input_shape", (1, 28, 28)))
    if len(shape) != 3:
        raise ValueError(f"input_shape must be (C, H, W), got {shape}")
    classes = check_int(config.get("num_classes", 10), "num_classes", minimum=2)
    return count(config.get("arch"), shape, classes, config.get("hidden"), config.get("channels"))


def _build(config, capacity, where):
    """``build_model(**config)`` once the file is known to hold enough numbers for it."""
    from ..nn.models import build_model

    try:
        need = weight_count(config)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{where}: unusable model_config ({exc})") from None
    if need > capacity:
        raise ValueError(f"{where}: model_config describes {need:,} weights but the file holds "
                         f"only {capacity:,} numbers: refused before building the model")
    try:
        return build_model(**config)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{where}: unusable model_config ({exc})") from None


def check_model_values(arrays, where):
    """``ValueError`` naming the array unless every array is finite and every batch-norm running
    variance is >= 0."""
    for name, value in arrays.items():
        if not np.all(np.isfinite(value)):
            raise ValueError(f"{where}: {name} holds NaN or inf")
        if name.endswith("running_var") and np.any(value < 0):
            raise ValueError(f"{where}: {name} holds a negative variance")


def _alpha(W):
    """``alpha_f = mean |W_f|`` (F,), computed exactly as the model's layers compute it."""
    return binarize(W, axis=tuple(range(1, W.ndim)))[0].reshape(-1)


def _check_packed(name, entry, shape, where):
    """``(F, D)`` of a packed weight once its bits and alpha fit the declared ``shape``."""
    bits = entry.get("bits") if isinstance(entry, dict) else None
    alpha = entry.get("alpha") if isinstance(entry, dict) else None
    if not isinstance(bits, np.ndarray) or not isinstance(alpha, np.ndarray):
        raise ValueError(f"{where}: packed weight {name!r} lacks its bits or alpha")
    if not np.all(np.isfinite(alpha) & (alpha > 0)):
        raise ValueError(f"{where}: packed weight {name!r} has a scale alpha that is not a "
                         f"finite positive number")
    if not isinstance(entry, dict) or not all(isinstance(v, int) and v >= 1 for v in shape) or \
            len(shape) < 2:
        raise ValueError(f"{where}: packed weight {name!r} has an unusable shape {shape!r}")
    F, D = shape[0], int(np.prod(shape[1:], dtype=object))
    if bits.dtype != np.uint64 or bits.shape != (F, n_words(D)) or alpha.shape != (F,):
        raise ValueError(f"{where}: packed weight {name!r} of shape {shape} needs bits uint64 "
                         f"{(F, n_words(D))} and alpha ({F},), got {bits.dtype} {bits.shape} and "
                         f"{alpha.shape}")
    return F, D


def _unpack(entry, shape, dims, dtype):
    """The latent weights ``alpha_f B_f`` of an entry already checked by :func:`_check_packed`."""
    D, bits, alpha = dims[1], entry["bits"], entry["alpha"]
    B = unpack_signs(bits, D, dtype=dtype)  # (F, D), ±1
    return (B * alpha.astype(dtype)[:, None]).reshape(shape)  # latent alpha_f B_f, (F, ...)


def load_packed(path, backend="bits"):
    """Rebuild the model stored in a packed file; HORQ layers run on ``backend`` ("bits" or "float").

    Raises
    ------
    ValueError
        The file is truncated, not a packed model, or its arrays do not fit its header.
    """
    where = os.fspath(path)
    state = load_state(path, kind=KIND)
    try:
        header, binary, floats = state["header"], state["binary"], state["float"]
        config, shapes = dict(header["model_config"]), header["packed_shapes"]
    except (KeyError, TypeError) as exc:
        raise ValueError(f"{where}: incomplete packed model (missing {exc})") from None
    config["backend"] = backend
    if not isinstance(binary, dict) or not isinstance(floats, dict):
        raise ValueError(f"{where}: incomplete packed model (binary and float must be dicts)")
    check_model_values(floats, where)
    if not isinstance(shapes, dict) or set(binary) != set(shapes):
        raise ValueError(f"{where}: packed weights {sorted(binary)} do not match the header's "
                         f"packed_shapes")
    dims = {k: _check_packed(k, binary[k], tuple(shapes[k]), where) for k in binary}
    capacity = sum(int(v.size) for v in floats.values()) + sum(F * D for F, D in dims.values())
    model = _build(config, capacity, where)
    if set(binary) != model.binarized:
        raise ValueError(f"{where}: packed weights {sorted(binary)} do not match the model's "
                         f"binarized layers {sorted(model.binarized)}")
    weights = {k: _unpack(binary[k], tuple(shapes[k]), dims[k], model.dtype) for k in binary}
    try:
        model.load_state_dict({**floats, **weights})
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None
    return model
