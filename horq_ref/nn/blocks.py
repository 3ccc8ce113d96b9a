"""Layer objects: each binds one forward/backward pair to its parameters and its cache.

A :class:`horq_ref.nn.models.Model` is a list of these. Every object has ``name``, ``params`` and
``grads`` (dicts of local name -> ndarray), ``forward(x, train) -> out``, ``backward(dout) -> dx``
and ``describe() -> str``. The weighted layers (:class:`Dense`, :class:`Conv`) cover three cases
with one code path: full precision (``order=None``, float weights), HORQ (input order K, binary
weights, docs/paper.md §1-2) and post-training quantization (``input_order`` set to K on a layer with
float weights).
"""

from __future__ import annotations

import numpy as np

from .layers import (
    dense_backward,
    dense_forward,
    flatten_backward,
    flatten_forward,
    hardtanh_backward,
    hardtanh_forward,
    horq_dense_backward,
    horq_dense_forward,
    relu_backward,
    relu_forward,
)
from .conv_layers import (
    conv2d_backward,
    conv2d_forward,
    horq_conv2d_backward,
    horq_conv2d_forward,
    maxpool_backward,
    maxpool_forward,
)
from .norm import batchnorm_backward, batchnorm_forward, make_bn_param
from ..ste import SIGN_STE

__all__ = ["Dense", "Conv", "BatchNorm", "Activation", "MaxPool", "Flatten"]


class _Block:
    """Base: no parameters, no state."""

    def __init__(self, name):
        self.name = name
        self.params, self.grads, self.cache = {}, {}, None

    def state(self):
        """Non-trainable arrays to checkpoint (batch-norm running statistics)."""
        return {}


class _Weighted(_Block):
    """A layer ``Y = op(Xt, Wt) + b`` whose input and weights may be quantized."""

    def __init__(self, name, W, b, order=None, sign_fn=SIGN_STE, ste="chain", backend="float",
                 scales="greedy"):
        super().__init__(name)
        self.params = {"W": W, "b": b}
        self.grads = {"W": np.zeros_like(W), "b": np.zeros_like(b)}
        self.order = order  # the trained order; None: full precision
        self.input_order = order  # the order used now (post-training quantization overrides it)
        self.binary_weights = order is not None
        self.opts = dict(sign_fn=sign_fn, ste=ste, scales=scales)
        self.backend = backend

    def _opts(self):
        bits = self.binary_weights and self.input_order is not None  # else the float path
        return dict(self.opts, backend=self.backend if bits else "float",
                    binary_weights=self.binary_weights)

    @property
    def quantized(self):
        return self.input_order is not None or self.binary_weights

    def backward(self, dout):
        dx, self.grads["W"], self.grads["b"] = self._backward(dout, self.cache)
        self.cache = None
        return dx

    def _precision(self):
        if not self.quantized:
            return "full precision"
        inp = "float input" if self.input_order is None else f"input order {self.input_order}"
        return f"HORQ: {inp}, {'binary' if self.binary_weights else 'float'} weights"


class Dense(_Weighted):
    """Fully connected layer, ``W`` (F, D), ``b`` (F,)."""

    def forward(self, x, train):
        W, b = self.params["W"], self.params["b"]
        if not self.quantized:
            out, self.cache = dense_forward(x, W, b)
            self._backward = dense_backward
        else:
            out, self.cache = horq_dense_forward(x, W, b, self.input_order, **self._opts())
            self._backward = horq_dense_backward
        return out

    def describe(self):
        F, D = self.params["W"].shape
        return f"{self.name:<8} dense {D}->{F}  {self._precision()}"


class Conv(_Weighted):
    """Convolution, ``W`` (F, C, kh, kw), ``b`` (F,), with ``stride`` and ``padding``."""

    def __init__(self, name, W, b, stride=1, padding=0, **kwargs):
        super().__init__(name, W, b, **kwargs)
        self.stride, self.padding = stride, padding

    def forward(self, x, train):
        W, b, s, p = self.params["W"], self.params["b"], self.stride, self.padding
        if not self.quantized:
            out, self.cache = conv2d_forward(x, W, b, s, p)
            self._backward = conv2d_backward
        else:
            out, self.cache = horq_conv2d_forward(x, W, b, self.input_order, s, p, **self._opts())
            self._backward = horq_conv2d_backward
        return out

    def describe(self):
        F, C, kh, kw = self.params["W"].shape
        geo = f"{kh}x{kw} stride {self.stride} pad {self.padding}"
        return f"{self.name:<8} conv {C}->{F} {geo}  {self._precision()}"


class BatchNorm(_Block):
    """Batch norm over ``C`` features (dense) or channels (spatial), params ``gamma``, ``shift``."""

    def __init__(self, name, C, dtype, momentum=0.9):
        super().__init__(name)
        self.params = {"gamma": np.ones(C, dtype), "shift": np.zeros(C, dtype)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.bn_param = make_bn_param(C, dtype, momentum)

    def forward(self, x, train):
        self.bn_param["mode"] = "train" if train else "eval"
        out, self.cache = batchnorm_forward(x, self.params["gamma"], self.params["shift"], self.bn_param)
        return out

    def backward(self, dout):
        dx, self.grads["gamma"], self.grads["shift"] = batchnorm_backward(dout, self.cache)
        self.cache = None
        return dx

    def state(self):
        return {k: self.bn_param[k] for k in ("running_mean", "running_var")}

    def describe(self):
        return f"{self.name:<8} batchnorm {self.params['gamma'].size}"


class _Stateless(_Block):
    """A parameter-free op given by its forward/backward pair."""

    pair = None

    def forward(self, x, train):
        out, self.cache = self.pair[0](x)
        return out

    def backward(self, dout):
        dx, self.cache = self.pair[1](dout, self.cache), None
        return dx


class Activation(_Stateless):
    """``relu`` or ``hardtanh``."""

    PAIRS = {"relu": (relu_forward, relu_backward), "hardtanh": (hardtanh_forward, hardtanh_backward)}

    def __init__(self, name, kind="relu"):
        super().__init__(name)
        if kind not in self.PAIRS:
            raise ValueError(f"kind must be one of {sorted(self.PAIRS)}, got {kind!r}")
        self.kind, self.pair = kind, self.PAIRS[kind]

    def describe(self):
        return f"{self.name:<8} {self.kind}"


class MaxPool(_Stateless):
    """Max-pooling with a square ``kernel`` and ``stride = kernel``."""

    def __init__(self, name, kernel=2):
        super().__init__(name)
        self.kernel = kernel
        self.pair = (lambda x: maxpool_forward(x, kernel), maxpool_backward)

    def describe(self):
        return f"{self.name:<8} maxpool {self.kernel}x{self.kernel}"


class Flatten(_Stateless):
    """``(N, ...) -> (N, D)``."""

    pair = (flatten_forward, flatten_backward)

    def describe(self):
        return f"{self.name:<8} flatten"
