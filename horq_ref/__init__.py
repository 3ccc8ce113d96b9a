"""horq_ref: a plain-NumPy reference implementation of High-Order Residual Quantization.

Z. Li, B. Ni, W. Zhang, X. Yang, W. Gao, "Performance Guaranteed Network Acceleration via High-Order
Residual Quantization", ICCV 2017 (arXiv:1708.08687).

The public contract::

    sign(x)                                   ±1 with sign(0) = sign(-0.0) = +1
    residual_quantize(x, order, axis=None)    -> Expansion(betas, signs, residuals, reconstruct(k))
    horq_conv2d(x, w, order, stride=1, padding=0, backend="float")
    horq_linear(x, w, order, backend="float")

Reading order (docs/reading-the-code.md gives one line and the length of each module): the method is
flat at the top, ``checks`` -> ``quantize`` -> ``theory`` -> ``bits`` -> ``im2col`` -> ``conv`` ->
``ste`` -> ``cost``; one level down, ``nn`` builds layers, models and training on it, ``io`` writes
checkpoints and packed models, ``data`` reads the data sets, ``experiments`` runs and reports the
reproduction, and ``commands`` (with ``cli``) is the thin ``horq-ref`` command line.
"""

from .quantize import Expansion, binarize, residual_quantize, sign

__version__ = "0.1.0"

__all__ = ["sign", "binarize", "residual_quantize", "Expansion", "__version__"]

try:  # the binary convolution lives in its own module
    from .conv import horq_conv2d, horq_linear  # noqa: F401

    __all__ += ["horq_conv2d", "horq_linear"]
except ImportError:  # pragma: no cover - only while the module does not exist yet
    pass
