"""``horq-ref bench``: time the bit backend against float32 im2col + BLAS in this process.

Prints, per order, ``float time / bits time`` next to the model's ``S_K`` (:mod:`horq_ref.experiments.bench`).
BLAS threads follow the BLAS library's own settings (e.g. ``OPENBLAS_NUM_THREADS``); ``--threads``
sets the bit backend's thread pool.
"""

from __future__ import annotations

from ..experiments.bench import format_bench, run_bench

NAME = "bench"
HELP = "measure the bits backend against a float32 im2col + BLAS convolution (ratio per order)"


def add_arguments(parser):
    """Register the options of ``horq-ref bench`` on ``parser``."""
    parser.add_argument("--batch", type=int, default=4, help="N (default 4)")
    parser.add_argument("--channels", type=int, default=256, help="C (default 256)")
    parser.add_argument("--size", type=int, default=16, help="input height = width (default 16)")
    parser.add_argument("--filters", type=int, default=256, help="F (default 256)")
    parser.add_argument("--kernel", type=int, default=3, help="kernel height = width (default 3)")
    parser.add_argument("--stride", type=int, default=1, help="stride (default 1)")
    parser.add_argument("--padding", type=int, default=1, help="zero padding (default 1)")
    parser.add_argument("--orders", type=int, nargs="+", default=[1, 2, 3],
                        help="orders K (default 1 2 3)")
    parser.add_argument("--repeats", type=int, default=5, help="timed calls, best kept (default 5)")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads of the bits backend (default: all CPUs; the BLAS baseline uses "
                             "its own setting, e.g. OPENBLAS_NUM_THREADS)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--backward", action="store_true",
                        help="time the backward products on binary operands against the float "
                             "ones instead (horq_ref.experiments.bench_backward)")


def run(args):
    """Run ``horq-ref bench`` with parsed ``args``; return the exit status."""
    for flag in ("batch", "channels", "size", "filters", "kernel", "stride", "repeats"):
        if getattr(args, flag) < 1:
            raise ValueError(f"--{flag} must be >= 1, got {getattr(args, flag)}")
    if args.threads is not None and args.threads < 1:
        raise ValueError(f"--threads must be >= 1, got {args.threads}")
    if any(K < 1 for K in args.orders):
        raise ValueError(f"--orders must all be >= 1, got {args.orders}")
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
