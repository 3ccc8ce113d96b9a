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
numbers (a couple of ulps), the size of the difference between the "float" and "bits" backends.
Sizes: ``F*D*4`` bytes of float32 become ``F*ceil(D/64)*8 + F*4``, a ratio near 32 for ``D`` a
multiple of 64 and large. A file is checked against :data:`horq_ref.io.schema.PACKED_MODEL` when read.
"""

from __future__ import annotations

import math
import os

import numpy as np

from ..bits import pack_signs, unpack_signs
from .checkpoint import load_state, save_state
from .schema import BIT_LAYOUT, PACKED_MODEL, validate
from ..quantize import binarize

__all__ = ["KIND", "BIT_LAYOUT", "pack_model", "export_model", "export_checkpoint", "load_packed",
           "size_report"]

KIND = "packed-model"


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
    """Sizes in bytes and ratios against float32: ``binarized_float32_bytes`` (the binarized
    weights as float32), ``binarized_packed_bytes`` (their bits + alpha), ``binarized_ratio``,
    ``model_float32_bytes`` (every array as float32), and if ``path``, ``file_bytes`` and
    ``file_ratio`` (model float32 bytes / file size)."""
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
    """Pack the model of a training checkpoint (checked against
    :data:`horq_ref.io.schema.CHECKPOINT`, which builds it); return ``(model, sizes)``."""
    from ..nn.train import load_checkpoint

    ctx = {}
    state = load_checkpoint(checkpoint_path, ctx)
    ctx["net"].load_state_dict(state["model"])
    return ctx["net"], export_model(ctx["net"], path)


def _alpha(W):
    """``alpha_f = mean |W_f|`` (F,), computed exactly as the model's layers compute it."""
    return binarize(W, axis=tuple(range(1, W.ndim)))[0].reshape(-1)


def load_packed(path, backend="bits"):
    """Rebuild the model stored in a packed file; HORQ layers run on ``backend`` ("bits" or "float").

    Raises
    ------
    ValueError
        The file is truncated, not a packed model, or does not fit
        :data:`horq_ref.io.schema.PACKED_MODEL` (its arrays fit the model its header describes).
    """
    ctx = {"given": {"override": {"backend": backend}}}
    state = validate(PACKED_MODEL, load_state(path, kind=KIND), os.fspath(path), ctx)
    model, shapes = ctx["net"], state["header"]["packed_shapes"]
    weights = {}
    for name, entry in state["binary"].items():
        D = math.prod(shapes[name][1:])
        B = unpack_signs(entry["bits"], D, dtype=model.dtype)  # (F, D), ±1
        weights[name] = (B * entry["alpha"][:, None]).reshape(shapes[name])  # latent alpha_f B_f
    model.load_state_dict({**state["float"], **weights})
    return model
