"""Bridges from the NumPy reference to frameworks (optional dependencies, imported lazily).

:mod:`horq_ref.interop.torch_quantizer`: the order-K quantizer and its chain STE as a PyTorch
``autograd.Function``, tested against :mod:`horq_ref.ste` when PyTorch is installed
(docs/frameworks.md).
"""
