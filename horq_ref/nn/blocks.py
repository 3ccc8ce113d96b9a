"""Layer objects: each binds one forward/backward pair to its parameters and its cache.

A :class:`horq_ref.nn.models.Model` is a list of these. Every object has ``name``, ``params`` and
``grads`` (dicts of local name -> ndarray), ``forward(x, train) -> out``, ``backward(dout) -> dx``
and ``describe() -> str``. The weighted layers (:class:`Dense`, :class:`Conv`) run one of the
forward/backward pairs of :mod:`horq_ref.nn.layers`, :mod:`~horq_ref.nn.conv_layers` and
:mod:`~horq_ref.nn.variants`: full precision (``order=None``), HORQ (input order K, binary weights,
docs/paper.md §1-2) with greedy or least-squares scales on float planes or on bits, and post-training
quantization (``input_order`` set to K on a layer with float weights, evaluation only).
"""

from __future__ import annotations

from functools import partial

import numpy as np

from .conv_layers import (conv2d_backward, conv2d_forward, horq_conv2d_backward, horq_conv2d_forward,
                          maxpool_backward, maxpool_forward)
from .layers import (dense_backward, dense_forward, flatten_backward, flatten_forward, hardtanh_backward,
                     hardtanh_forward, horq_dense_backward, horq_dense_forward, relu_backward,
                     relu_forward)
from .norm import batchnorm_backward, batchnorm_forward, make_bn_param
from .variants import (bits_dense_backward, bits_dense_forward, quantized_input_dense,
                       refit_dense_backward, refit_dense_forward, rows_conv2d_backward,
                       rows_conv2d_forward)
from ..ste import SIGN_STE, weight_binarize_forward

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
    """A layer ``Y = op(Xt, Wt) + b`` whose input and weights may be quantized.

    ``order`` is the order the layer is built (and trained) with, None for full precision;
    ``input_order`` and ``input_scales`` are what it uses now, which post-training quantization
    changes (:meth:`horq_ref.nn.models.Model.set_input_order`). The pair run is chosen by
    :meth:`_pair` from the class's table: ``FLOAT``, ``HORQ`` (greedy scales), ``REFIT``, ``BITS``
    (a bit backend) or ``EVAL`` (any scales, any weights, no backward).
    """

    def __init__(self, name, W, b, order=None, sign_fn=SIGN_STE, ste="chain", backend="float",
                 scales="greedy"):
        super().__init__(name)
        self.params = {"W": W, "b": b}
        self.grads = {"W": np.zeros_like(W), "b": np.zeros_like(b)}
        self.order, self.input_order = order, order
        self.scales, self.input_scales = scales, scales
        self.binary_weights = order is not None
        self.sign_fn, self.ste, self.backend = sign_fn, ste, backend
        self.geometry, self._backward = {}, None

    def _pair(self):
        """``((forward, backward), options)`` of the layer as it is set now."""
        K, scales = self.input_order, self.input_scales
        if K is None:
            return self.FLOAT, {}
        if not self.binary_weights or scales == "alternating" or (
                self.backend != "float" and scales != "greedy"):
            return self.EVAL, dict(order=K, scales=scales)
        options = dict(order=K, sign_fn=self.sign_fn, ste=self.ste)
        if self.backend != "float":
            return self.BITS, dict(options, backend=self.backend)
        return (self.REFIT if scales == "refit" else self.HORQ), options

    def forward(self, x, train):
        (fwd, self._backward), options = self._pair()
        W = self.params["W"]
        if self._backward is None and self.binary_weights:  # evaluation: alpha sign(W), per filter
            W = weight_binarize_forward(W.reshape(W.shape[0], -1))[0].reshape(W.shape)
        out, self.cache = fwd(x, W, self.params["b"], **options, **self.geometry)
        return out

    @property
    def quantized(self):
        return self.input_order is not None or self.binary_weights

    def backward(self, dout):
        if self._backward is None:
            raise ValueError(f"{self.name}: post-training quantization and alternating scales are "
                             "for evaluation only; they have no backward pass")
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

    FLOAT = (dense_forward, dense_backward)
    HORQ = (horq_dense_forward, horq_dense_backward)
    REFIT = (refit_dense_forward, refit_dense_backward)
    BITS = (bits_dense_forward, bits_dense_backward)
    EVAL = (quantized_input_dense, None)

    def describe(self):
        F, D = self.params["W"].shape
        return f"{self.name:<8} dense {D}->{F}  {self._precision()}"


class Conv(_Weighted):
    """Convolution, ``W`` (F, C, kh, kw), ``b`` (F,), with ``stride`` and ``padding``; every variant
    but HORQ itself is its dense variant on the im2col rows."""

    FLOAT = (conv2d_forward, conv2d_backward)
    HORQ = (horq_conv2d_forward, horq_conv2d_backward)
    REFIT = (partial(rows_conv2d_forward, refit_dense_forward),
             partial(rows_conv2d_backward, refit_dense_backward))
    BITS = (partial(rows_conv2d_forward, bits_dense_forward),
            partial(rows_conv2d_backward, bits_dense_backward))
    EVAL = (partial(rows_conv2d_forward, quantized_input_dense), None)

    def __init__(self, name, W, b, stride=1, padding=0, **kwargs):
        super().__init__(name, W, b, **kwargs)
        self.stride, self.padding = stride, padding
        self.geometry = dict(stride=stride, padding=padding)

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
