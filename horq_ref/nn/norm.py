"""Batch normalization as a forward/backward pair, dense and spatial (the docs/paper.md §3 remedy).

Post-ReLU activations are poorly approximated at order one (they are all >= 0, so ``H_1 = +1``
everywhere), which is why every hidden block here normalizes its input before quantizing it:
``layer -> ReLU -> BatchNorm -> quantizer -> next layer``. The learned shift is called ``shift``
(elsewhere usually "beta") so it cannot be confused with the paper's input scales ``beta_i``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["batchnorm_forward", "batchnorm_backward", "make_bn_param", "BatchNormCache"]


class BatchNormCache(NamedTuple):
    """What :func:`batchnorm_backward` needs from :func:`batchnorm_forward`."""

    mode: str  # "train" (batch statistics, which depend on x) or "eval" (constants)
    axes: tuple  # the axes of one statistic: (0,) or (0, 2, 3)
    shape: tuple  # (1, C) or (1, C, 1, 1), to broadcast a per-channel vector
    x_hat: np.ndarray  # the normalized input, shape of x
    gamma: np.ndarray  # (C,)
    inv_std: np.ndarray  # 1 / sqrt(var + eps), broadcastable to x


def make_bn_param(C, dtype=np.float32, momentum=0.9, eps=1e-5):
    """A fresh ``bn_param`` dict: mode "train", running mean 0 and running variance 1, shape (C,)."""
    return {"mode": "train", "eps": eps, "momentum": momentum,
            "running_mean": np.zeros(C, dtype=dtype), "running_var": np.ones(C, dtype=dtype)}


def batchnorm_forward(x, gamma, shift, bn_param):
    """Batch normalization in train or eval mode.

    Parameters
    ----------
    x : ndarray, shape (N, D) or (N, C, H, W)
    gamma, shift : ndarray, shape (D,) or (C,)
    bn_param : dict
        ``mode`` ("train" or "eval"), ``eps``, ``momentum``, ``running_mean`` and ``running_var``
        (shape (C,), updated in place in train mode); see :func:`make_bn_param`.

    Returns
    -------
    out : ndarray, shape of ``x``
    cache : BatchNormCache

    Notes
    -----
    Statistics per feature (over axis 0) for ``(N, D)``, per channel (over axes 0, 2, 3) for
    ``(N, C, H, W)``: ``x_hat = (x - mu) / sqrt(var + eps)``, ``out = gamma * x_hat + shift``.
    Choices made here: the biased batch variance, for normalizing and for the running statistics (as
    in cs231n), updated in place as ``running = momentum * running + (1 - momentum) * batch``.

    Examples
    --------
    >>> p = make_bn_param(1, np.float64)
    >>> out, _ = batchnorm_forward(np.array([[1.0], [3.0]]), np.ones(1), np.zeros(1), p)
    >>> np.round(out.ravel(), 4), p["running_mean"]
    (array([-1.,  1.]), array([0.2]))
    """
    if np.ndim(x) not in (2, 4):
        raise ValueError(f"x must be (N, D) or (N, C, H, W), got shape {np.shape(x)}")
    C = x.shape[1]
    if np.shape(gamma) != (C,) or np.shape(shift) != (C,):
        raise ValueError(f"gamma and shift must have shape ({C},), got {np.shape(gamma)}, {np.shape(shift)}")
    axes, shape = ((0,), (1, C)) if x.ndim == 2 else ((0, 2, 3), (1, C, 1, 1))
    mode, eps = bn_param.get("mode", "train"), bn_param.get("eps", 1e-5)
    if mode == "train":
        mu, var = x.mean(axis=axes), x.var(axis=axes)  # (C,)
        m = bn_param.get("momentum", 0.9)
        for key, batch in (("running_mean", mu), ("running_var", var)):
            run = bn_param[key]
            run *= m
            run += (1 - m) * batch
    elif mode == "eval":
        mu, var = bn_param["running_mean"], bn_param["running_var"]
    else:
        raise ValueError(f"bn_param['mode'] must be 'train' or 'eval', got {mode!r}")
    inv_std = (1.0 / np.sqrt(var + eps)).astype(x.dtype, copy=False).reshape(shape)
    x_hat = (x - mu.reshape(shape)) * inv_std
    out = gamma.reshape(shape) * x_hat + shift.reshape(shape)
    return out, BatchNormCache(mode, axes, shape, x_hat, gamma, inv_std)


def batchnorm_backward(dout, cache):
    """Gradients ``(dx, dgamma, dshift)`` of :func:`batchnorm_forward`.

    Notes
    -----
    In train mode, with ``m`` entries per statistic and ``g = dout * gamma``:
    ``dx = inv_std / m * (m g - sum g - x_hat sum(g x_hat))``. In eval mode the statistics are
    constants and ``dx = g * inv_std``.
    """
    mode, axes, shape, x_hat, gamma, inv_std = cache
    dgamma = np.sum(dout * x_hat, axis=axes)
    dshift = np.sum(dout, axis=axes)
    g = dout * gamma.reshape(shape)
    if mode == "eval":
        return g * inv_std, dgamma, dshift
    m = dout.size // dshift.size
    dx = (inv_std / m) * (m * g - np.sum(g, axis=axes).reshape(shape) - x_hat * (
        np.sum(g * x_hat, axis=axes).reshape(shape)))
    return dx, dgamma, dshift
