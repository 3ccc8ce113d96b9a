"""Optimizers and learning-rate schedules for training binarized networks (docs/paper.md §5, §7).

Training keeps real-valued latent weights and updates them with the straight-through gradient
(XNOR-Net, BinaryConnect); after every step the latent weights of binarized layers are clipped to
``[-1, 1]`` (``clip_names``), where the sign's straight-through window ``1{|W| <= 1}`` is open.
The paper does not name its optimizer, so both usual ones are here. Choices made here: weight decay
(an L2 term added to the gradient, ``g = dW + wd W``) acts only on arrays with ``ndim >= 2``
(weights and filters, not biases or batch-norm scales); updates are in place in the parameters' own
dtype, so the model and the optimizer share the arrays; ``state_dict()`` holds only numbers and
arrays (npz-ready). Schedules are functions of the 0-based epoch; the training loop sets
``optimizer.lr`` each epoch.
"""

from __future__ import annotations

import math

import numpy as np

from ..checks import check_int, check_real

__all__ = ["SGD", "Adam", "make_optimizer", "constant_lr", "step_lr", "cosine_lr", "make_schedule"]


def _real(value, name, low=0.0, low_open=False, high=None):
    """``value`` as a float in ``[low, high)`` (``(low, high)`` with ``low_open``): checks.check_real."""
    value = check_real(value, name, low, exclusive_minimum=low_open)
    if high is not None and value >= high:
        raise ValueError(f"{name} must be < {high}, got {value}")
    return value


class _Optimizer:
    """Shared machinery: checks, weight decay, clipping, state (de)serialization."""

    hyper: tuple = ()
    buffers: tuple = ()

    def __init__(self, lr, weight_decay, clip_names):
        self.lr = _real(lr, "lr", 0.0, low_open=True)
        self.weight_decay = _real(weight_decay, "weight_decay")
        if isinstance(clip_names, str):
            raise TypeError("clip_names must be a collection of parameter names, not a string")
        self.clip_names = frozenset(clip_names)
        self.t = 0
        self.state = {b: {} for b in self.buffers}  # buffer -> name -> ndarray

    def step(self, params, grads):
        """Update every array of ``params`` in place from ``grads`` (same keys and shapes)."""
        if set(grads) != set(params):
            raise ValueError(f"grads must have the keys of params; differ in {set(grads) ^ set(params)}")
        missing = self.clip_names - set(params)
        if missing:
            raise ValueError(f"clip_names holds names that are not parameters: {sorted(missing)}")
        self.t += 1
        for name, W in params.items():
            g = np.asarray(grads[name], dtype=W.dtype)
            if g.shape != W.shape:
                raise ValueError(f"grads[{name!r}] has shape {g.shape}, expected {W.shape}")
            if self.weight_decay and W.ndim >= 2:
                g = g + self.weight_decay * W
            self._update(name, W, g)
            if name in self.clip_names:
                np.clip(W, -1, 1, out=W)

    def _buffer(self, kind, name, W):
        buf = self.state[kind].get(name)
        if buf is None:
            buf = self.state[kind][name] = np.zeros_like(W)
        return buf

    def state_dict(self):
        """Plain ``dict[str, ndarray | scalar]``: ``lr``, ``t``, hyperparameters, ``<buffer>.<name>``."""
        d = {"lr": self.lr, "t": self.t, "weight_decay": self.weight_decay}
        d.update({h: getattr(self, h) for h in self.hyper})
        for kind, bufs in self.state.items():
            d.update({f"{kind}.{name}": buf.copy() for name, buf in bufs.items()})
        return d

    def load_state_dict(self, d):
        """Restore from :meth:`state_dict` output (values may be 0-d arrays, as from an npz)."""
        scalars = ("lr", "t", "weight_decay") + self.hyper
        state = {b: {} for b in self.buffers}
        for key, value in d.items():
            kind, _, name = key.partition(".")
            if key in scalars:
                continue
            if kind not in state or not name:
                raise ValueError(f"state_dict has an unknown key {key!r}")
            state[kind][name] = np.array(value, copy=True)
        for key in scalars:
            if key not in d:
                raise ValueError(f"state_dict lacks the key {key!r}")
        self.lr = _real(float(d["lr"]), "lr", 0.0, low_open=True)
        self.t = int(d["t"])
        self.weight_decay = float(d["weight_decay"])
        for h in self.hyper:
            setattr(self, h, type(getattr(self, h))(np.asarray(d[h]).item()))
        self.state = state


class SGD(_Optimizer):
    """Stochastic gradient descent with momentum, optional Nesterov and weight decay.

    PyTorch's form, so changing ``lr`` does not rescale the stored velocity:
    ``v = mu v + g;  W -= lr v`` (nesterov: ``W -= lr (g + mu v)``).

    Examples
    --------
    >>> p, opt = {"w": np.array([1.0])}, SGD(lr=0.1, momentum=0.0)
    >>> opt.step(p, {"w": np.array([2.0])}); p["w"]
    array([0.8])
    """

    hyper = ("momentum", "nesterov")
    buffers = ("velocity",)

    def __init__(self, lr=0.01, momentum=0.9, weight_decay=0.0, nesterov=False, clip_names=()):
        super().__init__(lr, weight_decay, clip_names)
        self.momentum = _real(momentum, "momentum", high=1.0)
        self.nesterov = bool(nesterov)

    def _update(self, name, W, g):
        if not self.momentum:
            W -= self.lr * g
            return
        v = self._buffer("velocity", name, W)
        v *= self.momentum
        v += g
        W -= self.lr * (g + self.momentum * v if self.nesterov else v)


class Adam(_Optimizer):
    """Adam with bias correction and optional (L2) weight decay (Kingma & Ba 2015).

    ``m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  W -= lr m_hat / (sqrt(v_hat) + eps)`` with
    ``m_hat = m / (1 - b1^t)``, ``v_hat = v / (1 - b2^t)``.
    """

    hyper = ("beta1", "beta2", "eps")
    buffers = ("m", "v")

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, clip_names=()):
        super().__init__(lr, weight_decay, clip_names)
        self.beta1 = _real(beta1, "beta1", high=1.0)
        self.beta2 = _real(beta2, "beta2", high=1.0)
        self.eps = _real(eps, "eps", 0.0, low_open=True)

    def _update(self, name, W, g):
        m, v = self._buffer("m", name, W), self._buffer("v", name, W)
        m *= self.beta1
        m += (1 - self.beta1) * g
        v *= self.beta2
        v += (1 - self.beta2) * (g * g)
        m_hat = m / (1 - self.beta1**self.t)
        v_hat = v / (1 - self.beta2**self.t)
        W -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


def make_optimizer(name, lr, **kwargs):
    """``SGD`` or ``Adam`` by name ("sgd" / "adam"); ``kwargs`` go to the constructor."""
    classes = {"sgd": SGD, "adam": Adam}
    if name not in classes:
        raise ValueError(f"name must be one of {sorted(classes)}, got {name!r}")
    return classes[name](lr=lr, **kwargs)


def constant_lr(lr):
    """``epoch -> lr``."""
    lr = _real(lr, "lr", 0.0, low_open=True)
    return lambda epoch: lr


def step_lr(lr, step_size, gamma=0.1):
    """``epoch -> lr * gamma ** (epoch // step_size)``.

    Examples
    --------
    >>> [step_lr(1.0, 2, 0.5)(e) for e in range(5)]
    [1.0, 1.0, 0.5, 0.5, 0.25]
    """
    lr, gamma = _real(lr, "lr", 0.0, low_open=True), _real(gamma, "gamma", 0.0, low_open=True)
    step_size = check_int(step_size, "step_size", minimum=1)
    return lambda epoch: lr * gamma ** (epoch // step_size)


def cosine_lr(lr, epochs, lr_min=0.0):
    """``epoch -> lr_min + (lr - lr_min) (1 + cos(pi e / epochs)) / 2``, ``e = min(epoch, epochs)``.

    Examples
    --------
    >>> [round(cosine_lr(1.0, 4)(e), 4) for e in range(5)]
    [1.0, 0.8536, 0.5, 0.1464, 0.0]
    """
    lr, lr_min = _real(lr, "lr", 0.0, low_open=True), _real(lr_min, "lr_min")
    epochs = check_int(epochs, "epochs", minimum=1)
    return lambda epoch: lr_min + (lr - lr_min) * (1 + math.cos(math.pi * min(epoch, epochs) / epochs)) / 2


def make_schedule(name, lr, *, epochs=None, step_size=None, gamma=0.1, lr_min=0.0):
    """A schedule by name: "constant", "step" (needs ``step_size``) or "cosine" (needs ``epochs``)."""
    if name == "constant":
        return constant_lr(lr)
    if name == "step":
        return step_lr(lr, step_size, gamma)
    if name == "cosine":
        return cosine_lr(lr, epochs, lr_min)
    raise ValueError(f"name must be 'constant', 'step' or 'cosine', got {name!r}")
