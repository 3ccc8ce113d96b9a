"""``horq-ref speedup``: the model's analogue of the paper's Table 2 (docs/paper.md §6).

Prints ``S_K = 64 c N_W / (K c N_W + 64 K)`` (:func:`horq_ref.cost.speedup`) for a grid of channels,
kernel sizes and orders. The numbers come from the model, not from the paper, whose exact table is
not reproduced here.
"""

from __future__ import annotations

from ..cost import speedup_table
from ._types import positive_int

NAME = "speedup"
HELP = ("print the theoretical speedup S_K of order-K binary layers (model, cf. the paper's Table 2, "
        "docs/paper.md §6)")


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


def run(args):
    """Run ``horq-ref speedup`` with parsed ``args``; return the exit status."""
    table = speedup_table(args.orders, args.channels, args.kernels, args.word_bits)
    print(f"Theoretical speedup over a float convolution ({table.label}, docs/paper.md §6)")
    print(f"S_K = {args.word_bits} c N_W / (K c N_W + {args.word_bits} K): one float operation per "
          "output and order; K = 1 is XNOR-Net's S")
    print("The paper's Table 2 values (docs/paper.md §6) are not reproduced here; every number below "
          "is the model's.")
    print()
    print(table.format())
    if args.backward:
        from ..cost import format_backward_table

        print("\nBackward products (F = c filters, M = 1024 rows, as N=4 16x16): float GEMMs against "
              "binary operands (cost.backward_cost). Each has one float operand (dY), so XOR + "
              "popcount does not apply: the binary form trades multiplications for additions.")
        print(format_backward_table(args.orders, args.channels, args.kernels))
    return 0
