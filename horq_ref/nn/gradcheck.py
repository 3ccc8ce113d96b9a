"""Finite-difference gradient checks (the checker behind every backward pass in the project).

A backward pass computes a vector-Jacobian product ``v^T J`` for an upstream gradient ``v``. The
checker computes the same product numerically, entry by entry, with centered differences::

    (v^T J)_k ~= sum(v * (f(x + h e_k) - f(x - h e_k))) / (2 h)

(Stanford cs231n's ``eval_numerical_gradient_array``). In float64 with ``h = 1e-6`` the truncation
error is ``O(h^2 f''') ~ 1e-12`` and the rounding error ``O(eps |f| / h) ~ 1e-10`` relative to the
size of ``f``, so a correct gradient agrees to about ``1e-8`` and a wrong one (a dropped term, a
transposed weight) is off by ``O(1)``: thresholds around ``1e-6`` separate the two.

Choice made here: :func:`rel_error` divides the worst absolute discrepancy by the larger of the two
gradients' largest magnitude (a scale-aware error), not entry by entry, because an entry that is
nearly zero in both (a dead ReLU, a clipped STE window) would otherwise turn rounding noise into a
large ratio. ``elementwise=True`` gives cs231n's entry-wise ratio.

Whole networks: :func:`network_errors` checks every gradient of a tiny float64 model from
:func:`small_network`, whose sign is a smooth stand-in (so that the quantizer is differentiable).
"""

from __future__ import annotations

import numpy as np

from .losses import softmax_cross_entropy
from .models import build_model

__all__ = ["eval_numerical_gradient", "eval_numerical_gradient_array", "rel_error", "check_op",
           "small_network", "network_errors"]


def eval_numerical_gradient(f, x, h=1e-6):
    """Centered-difference gradient (shape of ``x``) of a scalar function ``f`` at ``x``.

    :func:`eval_numerical_gradient_array` with ``df = 1``: ``x`` (float64, any shape) is perturbed in
    place and restored after each entry.

    Examples
    --------
    >>> x = np.array([1.0, -2.0])
    >>> np.round(eval_numerical_gradient(lambda x: np.sum(x ** 3), x), 6)
    array([ 3., 12.])
    """
    return eval_numerical_gradient_array(lambda x: np.asarray(f(x), dtype=float), x, 1.0, h)


def eval_numerical_gradient_array(f, x, df, h=1e-6):
    """Centered-difference vector-Jacobian product ``df^T (d f / d x)``, shape of ``x``.

    ``f(x)`` returns an array of any shape, ``df`` (the upstream gradient) has its shape; ``x``
    (float64, any shape) is modified in place and restored after each entry; ``h`` is the step.
    """
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        raise TypeError("x must be a float64 ndarray (finite differences need double precision)")
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=[["readwrite"]])
    while not it.finished:
        k = it.multi_index
        old = x[k]
        x[k] = old + h
        plus = np.array(f(x), dtype=np.float64, copy=True)
        x[k] = old - h
        minus = np.array(f(x), dtype=np.float64, copy=True)
        x[k] = old
        grad[k] = np.sum((plus - minus) * df) / (2 * h)
        it.iternext()
    return grad


def rel_error(a, b, elementwise=False):
    """Relative error between two gradients ``a``, ``b`` of the same shape (0.0 when both are zero).

    ``max|a - b| / max(max|a|, max|b|)``, or with ``elementwise=True`` cs231n's
    ``max(|a - b| / max(1e-8, |a| + |b|))``.

    Examples
    --------
    >>> round(rel_error(np.array([1.0, 2.0]), np.array([1.0, 2.002])), 6)   # 0.002 / 2.002
    0.000999
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    diff = np.abs(a - b)
    if elementwise:
        return float(np.max(diff / np.maximum(1e-8, np.abs(a) + np.abs(b))))
    scale = max(np.max(np.abs(a)), np.max(np.abs(b)))
    return float(np.max(diff) / scale) if scale > 0 else 0.0


def check_op(forward, backward, args, wrt=None, h=1e-6, seed=0, **kwargs):
    """Check an ``op_forward`` / ``op_backward`` pair against finite differences.

    Parameters
    ----------
    forward : callable
        ``forward(*args, **kwargs) -> (out, cache)``.
    backward : callable
        ``backward(dout, cache) -> grads`` (a tuple in the order of ``args``, or ``dx`` alone).
    args : list of ndarray
        Float64 arrays; the ones named in ``wrt`` are perturbed in place.
    wrt : sequence of int, optional
        Indices of ``args`` to check (default: every float64 ndarray among them).
    seed : int
        Seed of the random upstream gradient.

    Returns
    -------
    errors : dict int -> float
        ``rel_error(analytic, numeric)`` for each checked argument.

    Examples
    --------
    >>> f = lambda x, w: (x @ w, (x, w))
    >>> b = lambda d, c: (d @ c[1].T, c[0].T @ d)
    >>> x, w = np.ones((2, 3)), np.arange(6.0).reshape(3, 2)
    >>> max(check_op(f, b, [x, w]).values()) < 1e-8
    True
    """
    args = list(args)
    if wrt is None:
        wrt = [i for i, a in enumerate(args) if isinstance(a, np.ndarray) and a.dtype == np.float64]
    out, cache = forward(*args, **kwargs)
    dout = np.random.default_rng(seed).standard_normal(np.shape(out))
    grads = backward(dout, cache)
    grads = grads if isinstance(grads, tuple) else (grads,)
    errors = {}
    for i in wrt:

        def f(xi, i=i):
            a = list(args)
            a[i] = xi
            return forward(*a, **kwargs)[0]

        errors[i] = rel_error(grads[i], eval_numerical_gradient_array(f, args[i], dout, h))
    return errors


def small_network(arch, sign_fn, method="horq2", ste="chain", seed=1):
    """A tiny float64 network, its batch-norm parameters moved off 1 and 0, and a batch of 5.

    Off 1 and 0: a unit whose ReLU is dead for the whole batch would otherwise feed the quantizer an
    exact 0, where ``|r|`` in ``beta = mean|r|`` has a kink that finite differences average over.
    ``arch`` "mlp" sees (1, 4, 4) inputs with hidden sizes (7, 6), "cnn" (2, 6, 6) with channels
    (3, 4), both three classes; ``sign_fn`` is the quantizers' sign (a smooth one, e.g.
    ``smooth_sign(0.5)``, for a checkable network); ``method`` and ``ste`` as in
    :func:`horq_ref.nn.models.build_model`; ``seed`` seeds the weights, ``seed + 2`` the batch-norm
    offsets and the batch. Returns ``model``, ``x`` (5, *input_shape) and ``y`` (5,) int.
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

    ``model``: any model of :mod:`horq_ref.nn.models` (its parameters are perturbed in place and
    restored), ``x`` (N, *input_shape), ``y`` (N,) int. Returns ``{parameter name: error}`` and
    ``"x"``, one float per array.
    """
    def loss(_):
        return softmax_cross_entropy(model.forward(x, train=True), y)[0]

    dx = model.backward(softmax_cross_entropy(model.forward(x, train=True), y)[1])
    grads = {name: g.copy() for name, g in model.grads.items()}
    errors = {name: rel_error(grads[name], eval_numerical_gradient(loss, p)) for name, p in model.params.items()}
    errors["x"] = rel_error(dx, eval_numerical_gradient(loss, x))
    return errors
