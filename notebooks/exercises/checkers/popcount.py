"""Checkers for exercise 03: packing signs into bits, XOR + popcount, an order-K convolution (§4).

The student writes ``pack_signs(x)`` (rows along the last axis; entry ``j`` in bit ``j % 64`` of word
``j // 64``, bit 0 least significant, a set bit meaning -1, tail bits clear: the layout of
:mod:`horq_ref.bits`), ``popcount_dot(a, b, n)`` (``n - 2 popcount(a XOR b)`` summed over words) and
``conv(x, w, order, stride, padding)``, an order-K HORQ convolution that must equal
``horq_ref.horq_conv2d(..., backend="float")``.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from horq_ref.bits import binary_gemm_reference, n_words, pack_mask, pack_signs, popcount_dot
from horq_ref.conv import horq_conv2d
from horq_ref.im2col import conv_output_shape, im2col
from horq_ref.quantize import binarize, residual_quantize
from .runner import Case, Mistake, run_cases

__all__ = ["check_pack_signs", "check_popcount_dot", "check_horq_conv2d"]

PACK_HINT = ("entry j goes to bit j % 64 of word j // 64 (bit 0 = least significant), a set bit "
             "means -1, unused tail bits stay clear, dtype uint64")
DOT_HINT = "the +-1 dot product is (#equal) - (#different) = n - 2 * popcount(a XOR b)"
CONV_HINT = ("one expansion per im2col row (patch, zero padding included), weights alpha_f sign(W_f) "
             "with alpha_f = mean |W_f|, and Y = sum_i alpha_f beta_i (B_f . H_i)")


def _pack_big_endian(mask):
    """:func:`horq_ref.bits.pack_mask` with the bits of each byte in the wrong (big-endian) order."""
    mask = np.asarray(mask, dtype=bool)
    buf = np.zeros(mask.shape[:-1] + (8 * n_words(mask.shape[-1]),), np.uint8)
    packed = np.packbits(mask, axis=-1, bitorder="big")
    buf[..., : packed.shape[-1]] = packed
    return buf.view("<u8").astype(np.uint64)


PACK_MISTAKES = (
    Mistake(lambda x: pack_mask(np.asarray(x) >= 0),
            "the bits are inverted: a set bit means -1 (x < 0), a clear bit +1"),
    Mistake(lambda x: pack_mask(np.asarray(x) <= 0),
            "sign(0) = -1: zeros are +1 and pack as clear bits; only x < 0 sets a bit"),
    Mistake(lambda x: pack_mask(np.signbit(x)),
            "-0.0 packed as -1: signbit(-0.0) is True but sign(-0.0) = +1; test x < 0"),
    Mistake(lambda x: _pack_big_endian(np.asarray(x) < 0),
            "bit order: entry j is bit j % 64 counted from the least significant bit "
            "(np.packbits(..., bitorder='little'))"),
)


def _pack_cases(rng):
    return [
        Case("fixed: doc example", (np.array([1.0, -2.0, 0.0, -0.0, -1.0]),)),
        Case("random (3, 70): two words per row, seed 0", (rng.standard_normal((3, 70)),)),
        Case("adversarial: zeros and -0.0", (np.array([[0.0, -0.0] * 40]),)),
        Case("adversarial: exactly 64 and 128 entries", (rng.standard_normal((2, 128)),)),
        Case("adversarial: 1 entry", (np.array([[-3.0]]),)),
    ]


def check_pack_signs(student_fn, stop=True):
    """Check ``student_fn(x) -> uint64 words`` (rows along the last axis) against ``pack_signs``."""
    def exact(got, expected):
        got = np.asarray(got)
        if got.dtype != np.uint64:
            return f"expected dtype uint64, got {got.dtype}"
        if got.shape != expected.shape or not np.array_equal(got, expected):
            return f"expected words {expected.tolist()}, got {got.tolist()}"
        return ""
    return run_cases("check_pack_signs", student_fn, pack_signs, _pack_cases(np.random.default_rng(0)),
                     PACK_MISTAKES, PACK_HINT, compare=exact, stop=stop, replaces=(pack_mask,))


UNSIGNED_HINT = ("unsigned arithmetic: np.bitwise_count returns uint8 and sums of unsigned counts stay "
                 "unsigned, so n - 2 * count wraps around when the dot product is negative; use "
                 "signed counts (sum them as int64)")
DOT_MISTAKES = (
    Mistake(lambda a, b, n: n - 2 * np.bitwise_count(a ^ b).sum(axis=-1, dtype=np.uint8).astype(int),
            "popcount overflow: np.bitwise_count returns uint8 and a sum kept in uint8 wraps at 256; "
            "sum the counts in int64"),
    Mistake(lambda a, b, n: n - 2 * np.bitwise_count(a ^ b).sum(axis=-1), UNSIGNED_HINT),
    Mistake(lambda a, b, n: n - 2 * np.bitwise_count(a ^ b).sum(axis=-1, dtype=np.uint8), UNSIGNED_HINT),
    Mistake(lambda a, b, n: 2 * np.bitwise_count(~(a ^ b)).sum(axis=-1, dtype=np.int64) - n,
            "XNOR counts the clear tail bits of the last word as agreements: 2 popcount(a XNOR b) - n "
            "holds only when n is a multiple of 64; count the differences, n - 2 popcount(a XOR b)"),
    Mistake(lambda a, b, n: np.bitwise_count(a ^ b).sum(axis=-1, dtype=np.int64),
            "popcount(a XOR b) counts the differing entries; the dot product is n - 2 * that count"),
    Mistake(lambda a, b, n: 64 * a.shape[-1] - 2 * np.bitwise_count(a ^ b).sum(axis=-1, dtype=np.int64),
            "use the true length n, not 64 * words: the clear tail bits are not entries"),
    Mistake(lambda a, b, n: n - np.bitwise_count(a ^ b).sum(axis=-1, dtype=np.int64),
            "each differing entry turns a +1 into a -1: subtract 2 per difference"),
)


def _dot_cases(rng):
    def case(name, a, b):
        return Case(name, (pack_signs(a), pack_signs(b), np.shape(a)[-1]))
    x = rng.standard_normal((4, 100))
    return [
        case("fixed: doc example", np.array([[1, -1, 1], [-1, -1, -1]]), np.array([1, 1, 1])),
        case("random (4, 100) rows against one row, seed 0", x, rng.standard_normal(100)),
        case("adversarial: n = 1000, every entry differs", np.ones(1000), -np.ones(1000)),
        case("adversarial: zeros against -0.0", np.zeros((2, 65)), np.full(65, -0.0)),
        case("adversarial: n = 64, half different", np.r_[np.ones(32), -np.ones(32)], np.ones(64)),
    ]


def check_popcount_dot(student_fn, stop=True):
    """Check ``student_fn(a, b, n) -> int dot products`` of packed rows against ``popcount_dot``."""
    return run_cases("check_popcount_dot", student_fn, popcount_dot, _dot_cases(np.random.default_rng(0)),
                     DOT_MISTAKES, DOT_HINT, stop=stop, replaces=(binary_gemm_reference,))


def _conv_variant(x, w, order, stride=1, padding=0, axis=-1, scaled=True):
    """A float HORQ convolution with pluggable groups and weight scale, to plant mistakes."""
    F, _, kh, kw = w.shape
    cols = im2col(x, kh, kw, stride, padding)  # (N, P, D)
    e = residual_quantize(cols, order, axis=axis)
    alpha, B = binarize(w.reshape(F, -1), axis=1)  # (F, 1), (F, D)
    Y = sum(e.betas[i] * (e.signs[i] @ B.T) for i in range(order))  # (N, P, F)
    Y = Y * (alpha.T if scaled else 1.0)
    Ho, Wo = conv_output_shape(x.shape[2], x.shape[3], kh, kw, stride, padding)
    return Y.transpose(0, 2, 1).reshape(x.shape[0], F, Ho, Wo)


CONV_MISTAKES = (
    Mistake(partial(_conv_variant, axis=(1, 2)), "one scale per image: every patch (im2col row) is its "
            "own group, residual_quantize(..., axis=-1)"),
    Mistake(partial(_conv_variant, scaled=False), "the weight scale alpha_f = mean |W_f| is missing"),
    Mistake(lambda x, w, order, **kw: _conv_variant(x, w, 1, **kw),
            "only the first plane is used: sum the K planes, each with its own beta_i"),
)


def _conv_cases(rng):
    def case(name, x_shape, w_shape, order, stride=1, padding=0):
        return Case(name, (rng.standard_normal(x_shape), rng.standard_normal(w_shape), order),
                    {"stride": stride, "padding": padding})
    relu = Case("adversarial: ReLU input (exact zeros), padding 1, K = 3",
                (np.maximum(rng.standard_normal((1, 3, 5, 5)), 0), rng.standard_normal((2, 3, 3, 3)), 3),
                {"stride": 1, "padding": 1})
    return [
        case("fixed shapes: (1, 2, 4, 4) * (3, 2, 2, 2), K = 2", (1, 2, 4, 4), (3, 2, 2, 2), 2),
        case("random: stride 2, padding 1, K = 3, seed 0", (2, 3, 6, 6), (4, 3, 3, 3), 3, 2, 1),
        case("adversarial: odd group size 5 (1x5 kernel), K = 1", (1, 1, 3, 7), (2, 1, 1, 5), 1),
        relu,
    ]


def check_horq_conv2d(student_fn, student_popcount_dot, stop=True):
    """Check ``student_fn(x, w, order, stride, padding)`` against ``horq_conv2d(backend="float")``;
    it must compute its dot products with ``student_popcount_dot`` (the bit path)."""
    return run_cases("check_horq_conv2d", student_fn, horq_conv2d, _conv_cases(np.random.default_rng(0)),
                     CONV_MISTAKES, CONV_HINT, stop=stop, uses=(student_popcount_dot,))
