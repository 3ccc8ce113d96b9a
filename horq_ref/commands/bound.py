"""``horq-ref bound``: check the approximation-error guarantee empirically.

For each input law, draws ``--groups`` groups of ``--n`` entries (or uses the embedded MNIST digits,
one image of 784 pixels in [0, 1] per group), expands them to orders 1..K and prints per order the
measured error ratio ``||R_K||^2 / ||X||^2`` (mean and worst group), the energy identity's prediction,
the closed form where one exists (n -> inf), the refined bound derived in ``docs/theory.md`` and the
paper's worst-case bound ``(1 - 1/n)^K``. Exits non-zero if any group breaks a bound.
"""

from __future__ import annotations

import numpy as np

from ..experiments.reproduce import BOUND_N
from ..theory import LAWS, bound_report, sample_law

NAME = "bound"
HELP = "verify the error guarantee ||R_K||^2 <= (1-1/n)^K ||X||^2 on inputs of a chosen law"
CHOICES = LAWS + ("mnist",)

# Rounding slack for "measured <= bound": the ratios are sums of n squares, each rounded to
# relative 2**-52, so a true equality can appear above the bound by ~n * eps; 1e-9 is far above
# that (n <= 10**6) and far below the smallest gap a real violation would show.
SLACK = 1e-9


def add_arguments(parser):
    """Register the options of ``horq-ref bound`` on ``parser``."""
    parser.add_argument("--law", choices=CHOICES + ("all",), default="all",
                        help="input law, or 'all' for every one (default: all)")
    parser.add_argument("--n", type=int, default=BOUND_N,
                        help=f"group size: entries sharing one scale (default {BOUND_N} = 64 channels "
                             "x 3x3, as in horq-ref reproduce)")
    parser.add_argument("--orders", type=int, default=4, help="largest order K (default 4)")
    parser.add_argument("--groups", type=int, default=1000, help="groups per law (default 1000)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--plot", metavar="FILE", help="save a figure of error ratio against order")


def groups_for(law, n, groups, seed):
    """The (M, n) input matrix for ``law``: synthetic draws, or MNIST images scaled to [0, 1]."""
    if law == "mnist":
        from ..data import load_embedded_mnist

        images, _ = load_embedded_mnist()
        rng = np.random.default_rng(seed)
        idx = rng.choice(len(images), size=min(groups, len(images)), replace=False)
        return images[idx].reshape(len(idx), -1) / 255.0  # (M, 784)
    return sample_law(law, (groups, n), np.random.default_rng(seed))  # (M, n)


def _fmt(v):
    return "      -" if v is None else f"{v:7.4f}"


def run(args):
    """Run ``horq-ref bound`` with parsed ``args``; return the exit status."""
    if args.n < 1:
        raise ValueError(f"--n must be >= 1, got {args.n}")
    if args.orders < 1:
        raise ValueError(f"--orders must be >= 1, got {args.orders}")
    if args.groups < 1:
        raise ValueError(f"--groups must be >= 1, got {args.groups}")
    laws = CHOICES if args.law == "all" else (args.law,)
    reports, broken = {}, 0
    for law in laws:
        X = groups_for(law, args.n, args.groups, args.seed)
        rows = bound_report(X, args.orders, axis=-1, law=law)
        reports[law] = rows
        print(f"\nlaw={law}  n={rows[0]['n']}  groups={X.shape[0]}  seed={args.seed}")
        print("  K  measured(mean)  measured(max)  identity  |gap|max  closed-form  "
              "refined-bound  (1-1/n)^K")
        for r in rows:
            ok = r["measured_max"] <= r["refined_bound"] + SLACK
            broken += not ok
            print(f"  {r['order']}  {r['measured_mean']:14.6f}  {r['measured_max']:13.6f}  "
                  f"{r['identity_mean']:8.6f}  {r['identity_max_abs_gap']:8.1e}  "
                  f"{_fmt(r['closed_form']):>11}  {r['refined_bound']:13.6f}  "
                  f"{r['worst_case_bound']:9.6f}{'' if ok else '  VIOLATED'}")
    if args.plot:
        from ..experiments.plots import plot_bound_reports

        plot_bound_reports(reports, args.plot)
        print(f"\nfigure written to {args.plot}")
    print("\nall groups within the bounds" if not broken else f"\n{broken} rows VIOLATE a bound")
    return 1 if broken else 0
