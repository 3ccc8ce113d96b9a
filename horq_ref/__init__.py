"""horq_ref: a plain-NumPy reference implementation of High-Order Residual Quantization.

Z. Li, B. Ni, W. Zhang, X. Yang, W. Gao, "Performance Guaranteed Network Acceleration via High-Order
Residual Quantization", ICCV 2017 (arXiv:1708.08687).

The public contract::

    sign(x)                                   ±1 with sign(0) = sign(-0.0) = +1
    residual_quantize(x, order, axis=None)    -> Expansion(betas, signs, residuals, reconstruct(k))
    horq_conv2d(x, w, order, stride=1, padding=0, backend="float")
    horq_linear(x, w, order, backend="float")

Reading order (docs/reading-the-code.md gives one line and the length of each module), following
the course: ``checks`` (skim) -> ``quantize`` -> ``theory.bounds``, ``theory.laws`` -> ``bits`` ->
``im2col`` -> ``conv`` -> ``cost.forward`` -> ``ste`` -> the training layers ``nn.layers``,
``nn.conv_layers``; then the extensions ``binary_backward``, ``cost.backward`` (the backward pass on
bits) and ``scales``, ``theory.family``, ``nn.refit`` (the scale family). A first reading skips the
rest: ``fast`` (optimized kernels), ``io`` (files), ``data`` (data sets), ``experiments`` (the
reproduction, its figures, the benchmarks), ``commands`` (the ``horq-ref`` command line),
``interop`` (the PyTorch bridge), ``exercises`` (the exercise checkers) and the rest of ``nn``
(``blocks``, ``models``, ``optim``, ``train`` and the like).
"""

from .conv import horq_conv2d, horq_linear
from .quantize import Expansion, binarize, residual_quantize, sign

__version__ = "0.1.0"

__all__ = ["sign", "binarize", "residual_quantize", "Expansion", "horq_conv2d", "horq_linear",
           "__version__"]
