"""horq_ref: a plain-NumPy reference implementation of High-Order Residual Quantization.

Z. Li, B. Ni, W. Zhang, X. Yang, W. Gao, "Performance Guaranteed Network Acceleration via High-Order
Residual Quantization", ICCV 2017 (arXiv:1708.08687).

The public contract::

    sign(x)                                   ±1 with sign(0) = sign(-0.0) = +1
    residual_quantize(x, order, axis=None)    -> Expansion(betas, signs, residuals, reconstruct(k))
    horq_conv2d(x, w, order, stride=1, padding=0, backend="float")
    horq_linear(x, w, order, backend="float")

The method is the top-level modules with ``theory`` and ``cost``, read in the order of
docs/reading-the-code.md (``checks`` -> ``quantize`` -> ``theory.bounds`` -> ... -> ``nn.refit``);
a first reading skips the packages that build on it (``fast``, ``io``, ``data``, ``experiments``,
``commands``, ``interop`` and the rest of ``nn``).
"""

from .conv import horq_conv2d, horq_linear
from .quantize import Expansion, binarize, residual_quantize, sign

__version__ = "0.1.0"

__all__ = ["sign", "binarize", "residual_quantize", "Expansion", "horq_conv2d", "horq_linear",
           "__version__"]
