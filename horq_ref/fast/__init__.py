"""Optimized kernels of the bit path (``backend="bits-fast"``), one level below the method.

Everything here computes exactly what a reference function of the method modules computes, only
faster; tests/fast holds each to its reference bit for bit. :mod:`horq_ref.fast.gemm` is the tiled,
threaded XOR + popcount GEMM (reference: :func:`horq_ref.bits.binary_gemm_reference`);
:mod:`horq_ref.fast.conv` builds and packs the planes of a HORQ convolution without materializing
float ``±1`` planes (reference: the ``"bits"`` backend of :func:`horq_ref.conv.horq_conv2d`).
Measured speeds are in docs/performance.md.
"""
