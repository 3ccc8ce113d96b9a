"""Softmax cross-entropy, the loss of both experiments (docs/paper.md §7).

``loss = -(1/N) sum_n log softmax(z_n)[y_n]``, computed from ``z - max(z)`` and a log-sum-exp so
that huge logits neither overflow nor give ``log(0)``. Its gradient is
``dz = (softmax(z) - onehot(y)) / N``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["softmax_cross_entropy", "log_softmax"]


def log_softmax(z):
    """Row-wise ``log softmax`` of ``z`` (N, num_classes), stable for any finite logits."""
    shifted = z - np.max(z, axis=1, keepdims=True)  # (N, num_classes), each row's max is 0
    return shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))


def softmax_cross_entropy(z, y):
    """Mean softmax cross-entropy and its gradient.

    Parameters
    ----------
    z : ndarray, shape (N, num_classes)
        Logits.
    y : ndarray of int, shape (N,)
        Labels in ``[0, num_classes)``.

    Returns
    -------
    loss : float
    dz : ndarray, shape (N, num_classes), dtype of ``z``

    Examples
    --------
    >>> loss, dz = softmax_cross_entropy(np.array([[0.0, 0.0]]), np.array([1]))
    >>> round(loss, 6), dz
    (0.693147, array([[ 0.5, -0.5]]))
    """
    if np.ndim(z) != 2:
        raise ValueError(f"z must be 2-D (N, num_classes), got shape {np.shape(z)}")
    y = np.asarray(y)
    if z.shape[0] == 0:
        raise ValueError("z must hold at least one row")
    if y.shape != (z.shape[0],) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"y must be an integer array of shape ({z.shape[0]},), got {y.dtype} {y.shape}")
    if y.min() < 0 or y.max() >= z.shape[1]:
        raise ValueError(f"y must hold labels in [0, {z.shape[1]}), got [{y.min()}, {y.max()}]")
    N = z.shape[0]
    logp = log_softmax(z)  # (N, num_classes)
    loss = -float(np.mean(logp[np.arange(N), y]))
    dz = np.exp(logp)
    dz[np.arange(N), y] -= 1
    dz /= N
    return loss, dz
