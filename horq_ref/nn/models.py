"""The two networks of the paper's experiments: an MLP for MNIST and a small CNN (docs/paper.md §7).

The paper does not give its layer sizes; this project chooses them here:

* ``mlp``: ``flatten -> fc1 784->512 -> [ReLU -> BN -> fc2 512->512] -> ReLU -> BN -> fc3 512->10``
  (``hidden=`` sets the widths: an int for two hidden layers of that width or a tuple).
* ``cnn``: ``conv1 1->16 3x3 pad 1 -> ReLU -> pool -> BN -> conv2 16->32 3x3 pad 1 -> ReLU -> pool
  -> BN -> flatten -> fc 32*7*7->10`` (``channels=`` sets the convolutions; a 2x2 max-pool follows
  every block while the spatial size is even).

Every hidden block is ``layer -> ReLU -> [pool] -> BatchNorm -> (quantizer of the next layer)``
(batch norm centres what the quantizer sees, :mod:`horq_ref.nn.norm`). HORQ methods (``horq1`` =
XNOR-Net, ``horq2``, ``horq3``, or ``horq`` with ``order=K``) quantize every layer except the first
and the last, which stay full precision as in XNOR-Net: the input of each such layer is expanded to
order K per group (a sample row / an im2col row) and its weights are binarized at order one.
Initialization: He-normal weights, zero biases, batch norm ``gamma = 1``, ``shift = 0``, all from
``np.random.default_rng(seed)`` in layer order.
"""

from __future__ import annotations

import re
from numbers import Integral

import numpy as np

from .blocks import Activation, BatchNorm, Conv, Dense, Flatten, MaxPool
from ..checks import check_choice, check_int, check_order
from ..conv import BACKENDS
from ..scales import SCALES
from ..ste import SIGN_STE, STE_VARIANTS, SignFn

__all__ = ["build_model", "weight_count", "Model", "ARCHS", "METHODS"]

ARCHS = ("mlp", "cnn", "mlp3", "cnn3")
#: Default widths of the deeper networks: two binarized hidden layers each.
_DEEP = {"mlp3": (512, 512, 512), "cnn3": (16, 32, 32)}
METHODS = ("float", "horq1", "horq2", "horq3")  # the named methods; "horq" takes order=K


class Model:
    """A sequence of layer objects with flat parameter, gradient and state dicts.

    Attributes
    ----------
    layers : list
        The blocks of :mod:`horq_ref.nn.blocks`, in order.
    params, grads : dict str -> ndarray
        ``"<layer>.<param>"``, in layer order; the arrays are the layers' own (update in place).
    binarized : set of str
        Names of the latent weights that are binarized (to clip to [-1, 1] after each step).
    config : dict
        The arguments :func:`build_model` was called with.
    """

    def __init__(self, layers, config):
        self.layers, self.config = layers, config
        self.input_shape = tuple(config["input_shape"])
        self.dtype = np.dtype(config["dtype"])
        self.params = {f"{l.name}.{k}": v for l in layers for k, v in l.params.items()}
        self.binarized = {f"{l.name}.W" for l in layers if getattr(l, "binary_weights", False)}

    @property
    def grads(self):
        return {f"{l.name}.{k}": v for l in self.layers for k, v in l.grads.items()}

    @property
    def num_params(self):
        """Number of trainable scalars."""
        return int(sum(v.size for v in self.params.values()))

    def forward(self, x, train):
        """Logits (N, num_classes) of ``x`` (N, C, H, W); ``train`` selects batch statistics."""
        if np.shape(x)[1:] != self.input_shape:
            raise ValueError(f"x must have shape (N,) + {self.input_shape}, got {np.shape(x)}")
        out = np.asarray(x).astype(self.dtype, copy=False)
        for layer in self.layers:
            out = layer.forward(out, train)
        return out

    def backward(self, dlogits):
        """Fill :attr:`grads` from ``dlogits`` (N, num_classes); return ``dx`` (N, C, H, W)."""
        d = np.asarray(dlogits).astype(self.dtype, copy=False)
        for layer in reversed(self.layers):
            if layer.cache is None:
                raise ValueError("backward needs a preceding forward pass")
            d = layer.backward(d)
        return d

    def _arrays(self):
        """The model's own parameter and running-statistic arrays by state-dict key."""
        return {f"{l.name}.{k}": v for l in self.layers for k, v in {**l.params, **l.state()}.items()}

    def state_dict(self):
        """Parameters and batch-norm running statistics as ``dict[str, ndarray]`` (copies)."""
        return {k: v.copy() for k, v in self._arrays().items()}

    def load_state_dict(self, d):
        """Copy the arrays of ``d`` (keys and shapes as :meth:`state_dict`) into the model in place."""
        own = self._arrays()
        if set(d) != set(own):
            raise ValueError(f"state dict keys differ from the model's: {sorted(set(d) ^ set(own))}")
        for k, v in d.items():
            if np.shape(v) != own[k].shape:
                raise ValueError(f"state dict entry {k!r} has shape {np.shape(v)}, expected {own[k].shape}")
        for k, v in d.items():
            np.copyto(own[k], np.asarray(v), casting="same_kind")

    def set_input_order(self, order, *, include_last=True):
        """Post-training quantization: expand each non-first layer's input to ``order`` (or restore).

        ``order=None`` restores every layer's built order. The weights are left as they are (float
        in a float model). ``include_last=False`` leaves the last layer's input alone, i.e.
        quantizes exactly the layers a HORQ method trains quantized.
        """
        if order is not None:
            check_order(order)
        weighted = [l for l in self.layers if isinstance(l, (Dense, Conv))]
        chosen = weighted[1:] if include_last else weighted[1:-1]
        for layer in weighted:
            layer.input_order = layer.order
        for layer in chosen:
            layer.input_order = layer.order if order is None else int(order)

    def set_input_scales(self, scales=None):
        """Post-training quantization: the scale variant of every quantized input (or restore).

        ``scales`` is one of :data:`horq_ref.scales.SCALES`; ``None`` restores the built variant.
        ``"alternating"`` has no backward pass: use it for evaluation only.
        """
        scales = check_choice(self.config["scales"] if scales is None else scales, "scales", SCALES)
        for layer in (l for l in self.layers if isinstance(l, (Dense, Conv))):
            layer.input_scales = scales

    def describe(self):
        """A short text: the configuration, then one line per layer."""
        c = self.config
        how = {"float": "±1 planes as float matrices on BLAS"}.get(c["backend"], "XOR + popcount")
        setup = (f"order {c['order']}, ste {c['ste']}, backend {c['backend']}: {how}"
                 if c["order"] else "full precision")
        head = f"{c['arch']} {c['method']} ({setup}), input {self.input_shape}, {self.num_params:,} parameters"
        return "\n".join([head] + ["  " + l.describe() for l in self.layers])


def _he(rng, shape, fan_in, dtype):
    return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(dtype)


def _parse_method(method, order):
    m = re.fullmatch(r"horq(\d*)", method) if isinstance(method, str) else None
    if method == "float":
        if order is not None:
            raise ValueError(f"order must be None for method 'float', got {order!r}")
        return None
    if m is None:
        raise ValueError(f"method must be 'float', 'horq1', 'horq2', 'horq3' or 'horq', got {method!r}")
    K = order if order is not None else (int(m.group(1)) if m.group(1) else None)
    if K is None:
        raise ValueError(f"method {method!r} needs order=K (an integer >= 1)")
    return check_order(K)


def _arch_widths(arch, hidden, channels):
    """The hidden widths (MLPs) or channel counts (CNNs) :func:`build_model` gives ``arch``."""
    name, value = ("hidden", hidden) if arch.startswith("mlp") else ("channels", channels)
    if value is None:
        value = _DEEP.get(arch, 512 if name == "hidden" else (16, 32))
    value = ((value, value) if name == "hidden" else (value,)) if isinstance(value, Integral) else tuple(value)
    if not value:
        raise ValueError(f"{name} must be a positive int or a non-empty tuple of them, got {value!r}")
    return tuple(check_int(v, name, minimum=1) for v in value)


def weight_count(arch, input_shape=(1, 28, 28), num_classes=10, hidden=None, channels=None):
    """The number of weights (``W`` entries) :func:`build_model` gives these sizes, without building."""
    check_choice(arch, "arch", ARCHS)
    widths = _arch_widths(arch, hidden, channels)
    if arch.startswith("mlp"):
        sizes = (int(np.prod(input_shape)),) + widths + (num_classes,)
        return sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    convs, flat = _conv_plan(input_shape, widths)
    return sum(F * C * 9 for C, F, _ in convs) + flat * num_classes


def _conv_plan(input_shape, channels):
    """``([(C_in, F, pooled) per 3x3 conv], flattened size)``: the CNN's layout (a 2x2 max-pool
    after a conv while the map's sides are even)."""
    (C, H, W), convs = input_shape, []
    for F in channels:
        pooled = H % 2 == 0 and W % 2 == 0
        convs.append((C, F, pooled))
        C, H, W = (F, H // 2, W // 2) if pooled else (F, H, W)
    return convs, C * H * W


def _mlp(rng, K, q, relu, input_shape, num_classes, dtype, widths):
    sizes = (int(np.prod(input_shape)),) + widths + (num_classes,)
    layers = [Flatten("flatten")]
    for i, (D, F) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        middle = 1 < i < len(sizes) - 1
        layers.append(Dense(f"fc{i}", _he(rng, (F, D), D, dtype), np.zeros(F, dtype),
                            order=K if (middle and K) else None, **q))
        if i < len(sizes) - 1:
            layers += [Activation(f"relu{i}")] if relu else []
            layers.append(BatchNorm(f"bn{i}", F, dtype))
    return layers


def _cnn(rng, K, q, relu, input_shape, num_classes, dtype, widths):
    convs, D = _conv_plan(input_shape, widths)
    layers = []
    for i, (C, F, pooled) in enumerate(convs, start=1):
        layers.append(Conv(f"conv{i}", _he(rng, (F, C, 3, 3), C * 9, dtype), np.zeros(F, dtype),
                           1, 1, order=K if (i > 1 and K) else None, **q))
        layers += [Activation(f"relu{i}")] if relu else []
        layers += [MaxPool(f"pool{i}", 2)] if pooled else []
        layers.append(BatchNorm(f"bn{i}", F, dtype))
    layers += [Flatten("flatten"), Dense("fc", _he(rng, (num_classes, D), D, dtype),
                                         np.zeros(num_classes, dtype))]
    return layers


def build_model(arch, method="float", *, order=None, seed=0, ste="chain", backend="float",
                hidden_relu=True, input_shape=(1, 28, 28), num_classes=10, dtype=np.float32,
                hidden=None, channels=None, sign_fn=SIGN_STE, scales="greedy"):
    """Build the MLP or the CNN, full precision or HORQ of any order.

    Parameters
    ----------
    arch : {"mlp", "cnn", "mlp3", "cnn3"}
        ``mlp3`` is the MLP with three hidden layers of 512 and ``cnn3`` the CNN with three
        convolutions (16, 32, 32): two binarized layers each, first and last full precision.
    method : {"float", "horq1", "horq2", "horq3", "horq"}
        ``horqK`` quantizes the hidden layers' inputs to order K (``horq1`` is XNOR-Net).
    order : int >= 1, optional
        Overrides the digit of a HORQ method; required for ``"horq"``.
    seed : int
        Same seed, same initial weights.
    ste : {"chain", "identity"}
    backend : {"float", "bits", "bits-fast"}
        "bits" (the reference kernel) and "bits-fast" evaluate HORQ layers with XOR + popcount and
        train them with the backward products on binary operands (:mod:`horq_ref.binary_backward`).
    hidden_relu : bool
        False drops the ReLUs: the quantizer is then the only nonlinearity and the network tends to a
        linear map as the order grows (the ablation that shows why the ReLU is there).
    input_shape : (C, H, W)
    num_classes : int
    dtype : np.float32 or np.float64
    hidden : int or tuple of int, optional
        MLP hidden widths (default 512, two layers).
    channels : tuple of int, optional
        CNN convolution widths (default (16, 32)).
    sign_fn : SignFn
        ``SIGN_STE``; ``smooth_sign(tau)`` makes the network smooth for gradient checks.
    scales : {"greedy", "refit"}
        Input scales of the HORQ layers (``"refit"``: least squares, :mod:`horq_ref.nn.refit`).

    Returns
    -------
    Model

    Examples
    --------
    >>> m = build_model("mlp", "horq2", hidden=8, input_shape=(1, 2, 2), num_classes=3)
    >>> sorted(m.binarized), m.forward(np.zeros((5, 1, 2, 2)), train=True).shape
    (['fc2.W'], (5, 3))
    """
    check_choice(arch, "arch", ARCHS)
    K = _parse_method(method, order)
    check_choice(ste, "ste", STE_VARIANTS)
    check_choice(backend, "backend", BACKENDS)
    if not isinstance(sign_fn, SignFn):
        raise TypeError(f"sign_fn must be a SignFn, got {sign_fn!r}")
    if np.dtype(dtype) not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64, got {dtype!r}")
    shape = tuple(check_int(v, "input_shape", minimum=1) for v in input_shape)
    if len(shape) != 3:
        raise ValueError(f"input_shape must be (C, H, W) of positive ints, got {input_shape!r}")
    check_int(num_classes, "num_classes", minimum=2)
    rng, dt = np.random.default_rng(seed), np.dtype(dtype)
    q = dict(sign_fn=sign_fn, ste=ste, backend=backend,
             scales=check_choice(scales, "scales", ("greedy", "refit")))
    if backend != "float" and (scales != "greedy" or sign_fn.fn is not SIGN_STE.fn):
        raise ValueError(f"backend={backend!r} trains with greedy scales and the true sign only, got "
                         f"scales={scales!r} and sign_fn {sign_fn.name!r}")
    build = _mlp if arch.startswith("mlp") else _cnn
    layers = build(rng, K, q, hidden_relu, shape, num_classes, dt, _arch_widths(arch, hidden, channels))
    config = dict(arch=arch, method=method, order=K, seed=seed, ste=ste, backend=backend,
                  hidden_relu=hidden_relu, input_shape=shape, num_classes=num_classes,
                  dtype=dt.name, hidden=hidden, channels=channels, scales=scales)
    return Model(layers, config)
