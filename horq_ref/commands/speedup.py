"""``horq-ref speedup``: the model's analogue of the paper's Table 2 (docs/paper.md §6), ``S_K`` of
:func:`horq_ref.cost.speedup` on a grid of channels, kernels and orders, every symbol and column defined."""

from __future__ import annotations

from ..cost import speedup_table
from ..experiments.tasks import backward_table_text, speedup_text
from ._types import positive_int

NAME = "speedup"
HELP = ("print the modelled speedup S_K of order-K binary convolutions over float ones (the formula "
        "behind the paper's Table 2, docs/paper.md §6)")


def add_arguments(parser):
    """Register the options of ``horq-ref speedup`` on ``parser``."""
    parser.add_argument("--orders", type=positive_int, nargs="+", default=[1, 2, 3, 4],
                        help="orders K (default 1 2 3 4)")
    parser.add_argument("--channels", type=positive_int, nargs="+", default=[64, 128, 256, 512],
                        help="input channels c (default 64 128 256 512)")
    parser.add_argument("--kernels", type=positive_int, nargs="+", default=[1, 3, 5],
                        help="square kernel sizes (default 1 3 5)")
    parser.add_argument("--word-bits", type=positive_int, default=64, help="bits per word (default 64)")
    parser.add_argument("--backward", action="store_true",
                        help="also count the backward products, float against binary operands")


HEADER = """Modelled speedup of an order-K binary convolution over a float one (model, docs/paper.md §6):
S_K = {w} c N_W / (K c N_W + {w} K); c = input channels, N_W = kernel height x width, {w} = bits per word.
One XOR + popcount of a word counts as one operation, like one float multiply-add, plus one float
operation per output and order; K = 1 is XNOR-Net's speedup. These are the formula's values: not a
measurement (horq-ref bench measures this code), and not the paper's Table 2, which is known here only
from a description (docs/paper.md §6).
"""
BACKWARD_HEADER = """
Backward products (F = c filters, M = 1024 rows, as N=4 16x16) of the float GEMMs dY W and dY^T X against
the same products on the binary operands (cost.backward_cost). Each has one float operand (dY), so XOR +
popcount does not apply: the binary form trades multiplications for additions. fwd S_K: the table above;
float mul, float add: the float GEMMs' operations; bin add, scale mul: the additions and the scale
multiplications of the binary form; mul ratio = float mul / scale mul; ops ratio = all float / all binary."""


def run(args):
    """Run ``horq-ref speedup`` with parsed ``args``; return the exit status."""
    table = speedup_table(args.orders, args.channels, args.kernels, args.word_bits)
    print(HEADER.format(w=args.word_bits))
    print(speedup_text(table))
    if args.backward:
        print(BACKWARD_HEADER)
        print(backward_table_text(args.orders, args.channels, args.kernels))
    return 0
