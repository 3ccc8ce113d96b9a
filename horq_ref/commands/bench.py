"""``horq-ref bench``: time the bit backend against float32 im2col + BLAS in this process on the same
``--threads`` (:mod:`horq_ref.experiments.bench`); every column of the report is defined under it."""

from __future__ import annotations

from ..experiments.bench import format_bench, run_bench
from ._types import non_negative_int, positive_int

NAME = "bench"
HELP = "measure the bits backend against a float32 im2col + BLAS convolution (ratio per order)"
THREADS = True


def add_arguments(parser):
    """Register the options of ``horq-ref bench`` on ``parser`` (``--threads`` comes from the cli)."""
    for flag, default, what in (("--batch", 4, "N"), ("--channels", 256, "C"),
                                ("--size", 16, "input height = width"), ("--filters", 256, "F"),
                                ("--kernel", 3, "kernel height = width"), ("--stride", 1, "stride")):
        parser.add_argument(flag, type=positive_int, default=default, help=f"{what} (default {default})")
    parser.add_argument("--padding", type=non_negative_int, default=1, help="zero padding (default 1)")
    parser.add_argument("--orders", type=positive_int, nargs="+", default=[1, 2, 3],
                        help="orders K (default 1 2 3)")
    parser.add_argument("--repeats", type=positive_int, default=5,
                        help="timed rounds, both sides taking turns; median and IQR kept (default 5)")
    parser.add_argument("--seed", type=non_negative_int, default=0, help="random seed (default 0)")
    parser.add_argument("--backward", action="store_true",
                        help="time the backward products instead: float (BLAS), the reference "
                             "on binary operands and table lookup (experiments.bench_backward)")


def run(args):
    """Run ``horq-ref bench`` with parsed ``args``; return the exit status."""
    if args.backward:
        from ..experiments.bench_backward import format_backward_bench, run_backward_bench

        print(format_backward_bench(run_backward_bench(
            args.batch, args.channels, args.size, args.filters, args.kernel, args.stride,
            args.padding, tuple(args.orders), args.repeats, args.seed)))
        return 0
    result = run_bench(args.batch, args.channels, args.size, args.filters, args.kernel, args.stride,
                       args.padding, tuple(args.orders), args.repeats, args.threads, args.seed)
    print(format_bench(result))
    return 0
