"""``horq-ref bound``: check the approximation-error guarantee empirically.

For each input law, ``--groups`` groups of ``--n`` entries (``mnist``: one embedded digit per group) are
expanded to orders 1..K, and a table per law compares the error ratios with the energy identity, the
closed form and both bounds (:func:`horq_ref.experiments.tasks.bound_check`, its columns defined in the
output). Exits non-zero if any group breaks a bound.
"""

from __future__ import annotations

from ..experiments.reproduce import BOUND_N
from ..experiments.tasks import BOUND_LAWS, bound_check
from ._types import figure, non_negative_int, positive_int

NAME = "bound"
HELP = "verify the error guarantee ||R_K||^2 <= (1-1/n)^K ||X||^2 on inputs of a chosen law"
CHOICES = BOUND_LAWS


def add_arguments(parser):
    """Register the options of ``horq-ref bound`` on ``parser``."""
    parser.add_argument("--law", choices=CHOICES + ("all",), default="all",
                        help="input law, or 'all' for every one (default: all)")
    parser.add_argument("--n", type=positive_int, default=BOUND_N,
                        help=f"group size: entries sharing one scale (default {BOUND_N} = 64 channels "
                             "x 3x3, as in horq-ref reproduce)")
    parser.add_argument("--orders", type=positive_int, default=4, help="largest order K (default 4)")
    parser.add_argument("--groups", type=positive_int, default=1000, help="groups per law (default 1000)")
    parser.add_argument("--seed", type=non_negative_int, default=0, help="random seed (default 0)")
    parser.add_argument("--plot", type=figure, metavar="FILE",
                        help="save a figure of error ratio against order (.png, .pdf, .svg, ...)")


def run(args):
    """Run ``horq-ref bound`` with parsed ``args``; return the exit status."""
    if args.plot:  # checked before the work
        from ..io.paths import check_output_file

        check_output_file(args.plot, "--plot", force=True)
    laws = CHOICES if args.law == "all" else (args.law,)
    reports, broken = bound_check(laws, args.n, args.orders, args.groups, args.seed)
    if args.plot:
        from ..experiments.plots import plot_bound_reports

        plot_bound_reports(reports, args.plot)
        print(f"\nfigure written to {args.plot}")
    print("\nall groups within the bounds" if not broken else f"\n{broken} rows VIOLATE a bound")
    return 1 if broken else 0
