"""Finite-difference checks of whole networks: a tiny float64 model and the error of every gradient.

:func:`small_network` builds a tiny model whose sign is a smooth stand-in (so that the quantizer is
differentiable and finite differences can check it), with batch norm moved off its initial scale 1 and
shift 0: a unit whose ReLU is dead for the whole batch would otherwise feed the quantizer an exact 0, where
``|r|`` in ``beta = mean|r|`` has a kink that finite differences average over. :func:`network_errors`
compares the backward pass of the mean cross-entropy with centred differences, array by array.
"""

from __future__ import annotations

import numpy as np

from .gradcheck import eval_numerical_gradient, rel_error
from .losses import softmax_cross_entropy
from .models import build_model

__all__ = ["small_network", "network_errors"]


def small_network(arch, sign_fn, method="horq2", ste="chain", seed=1):
    """A tiny float64 network, its batch-norm parameters moved off 1 and 0, and a batch of 5.

    Parameters
    ----------
    arch : {"mlp", "cnn"}
        The MLP sees (1, 4, 4) inputs with hidden sizes (7, 6); the CNN (2, 6, 6) with channels (3, 4).
    sign_fn : SignFn
        The sign of the quantizers (a smooth one, e.g. ``smooth_sign(0.5)``, for a checkable network).
    method, ste : str
        As in :func:`horq_ref.nn.models.build_model`.
    seed : int
        Seeds the weights; ``seed + 2`` seeds the batch-norm offsets and the batch.

    Returns
    -------
    model : Model
        Three classes, float64.
    x : ndarray, shape (5, *input_shape)
    y : ndarray of int, shape (5,)
    """
    shape = (1, 4, 4) if arch == "mlp" else (2, 6, 6)
    size = dict(hidden=(7, 6)) if arch == "mlp" else dict(channels=(3, 4))
    model = build_model(arch, method, seed=seed, ste=ste, input_shape=shape, num_classes=3,
                        dtype=np.float64, sign_fn=sign_fn, **size)
    rng = np.random.default_rng(seed + 2)
    for name, p in model.params.items():
        if name.endswith((".gamma", ".shift")):
            p += 0.2 * rng.standard_normal(p.shape)
    return model, rng.standard_normal((5,) + shape), rng.integers(0, 3, 5)


def network_errors(model, x, y):
    """``rel_error`` of every parameter's gradient and of ``dx`` for the mean cross-entropy of one batch.

    Parameters
    ----------
    model : Model
        Any model of :mod:`horq_ref.nn.models`; its parameters are perturbed in place and restored.
    x : ndarray, shape (N, *input_shape)
    y : ndarray of int, shape (N,)

    Returns
    -------
    dict
        ``{parameter name: error}`` and ``"x"``; one float per array.
    """
    def loss(_):
        return softmax_cross_entropy(model.forward(x, train=True), y)[0]

    dx = model.backward(softmax_cross_entropy(model.forward(x, train=True), y)[1])
    grads = {name: g.copy() for name, g in model.grads.items()}
    errors = {name: rel_error(grads[name], eval_numerical_gradient(loss, p)) for name, p in model.params.items()}
    errors["x"] = rel_error(dx, eval_numerical_gradient(loss, x))
    return errors
