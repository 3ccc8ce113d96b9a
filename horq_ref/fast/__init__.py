"""Optimized kernels of the bit path (``backend="bits-fast"``), one level below the method.

Everything here computes what a reference function of the method modules computes, only faster;
tests/fast holds each to its reference. :mod:`horq_ref.fast.gemm` is the tiled, threaded XOR +
popcount GEMM (reference: :func:`horq_ref.bits.binary_gemm_reference`; equal bit for bit);
:mod:`horq_ref.fast.conv` builds and packs the planes of a HORQ convolution without materializing
float ``±1`` planes (reference: the ``"bits"`` backend of :func:`horq_ref.conv.horq_conv2d`; bit for
bit); :mod:`horq_ref.fast.lut` computes the backward products by table lookup (reference:
:func:`horq_ref.binary_backward.binary_backward`; it adds the same float terms in another order, so
the two agree within the rounding bound of docs/theory.md §15). Measured speeds are in
docs/performance.md.
"""
