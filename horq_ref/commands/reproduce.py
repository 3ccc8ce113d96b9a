"""``horq-ref reproduce``: the project's main experiment, written to ``DIR/results.{json,md}`` + figures.

The experiment itself is :func:`horq_ref.experiments.reproduce.reproduce`; this module parses the
flags and prints the summary. ``--quick`` takes about 3 minutes on two cores, the default about 20-30;
an interrupted run started again with the same ``--out`` resumes from ``DIR/runs/``.
"""

from __future__ import annotations

import argparse

from ..experiments.reproduce import FIGURES, MODELS, reproduce

NAME = "reproduce"
HELP = "train float / HORQ-1 / HORQ-2 / HORQ-3 MLPs and CNNs over seeds; write results.json/.md"


def add_arguments(parser):
    """Register the options of ``horq-ref reproduce`` on ``parser``."""
    parser.add_argument("--quick", action="store_true",
                        help="the ~3-minute preset (MLP 3 seeds x 5 epochs, CNN 1 seed x 3 epochs)")
    parser.add_argument("--out", metavar="DIR", default="results",
                        help="folder for results.json, results.md and the figures (default results)")
    parser.add_argument("--data", choices=("mnist", "fashion-mnist", "cifar10"), default="mnist",
                        help="data set (default mnist)")
    parser.add_argument("--data-dir", metavar="DIR",
                        help="folder with the full data set (default: the embedded 5,000 MNIST "
                             "digits; full MNIST has 15x the training images and takes 15x longer)")
    parser.add_argument("--seeds", type=int, metavar="N", help="seeds 0..N-1 for every network")
    parser.add_argument("--epochs", type=int, metavar="N", help="epochs for every network")
    parser.add_argument("--models", help="comma-separated from mlp,cnn,mlp3,cnn3 (default: the "
                        "preset's: quick mlp,cnn; full all four)")
    parser.add_argument("--limit-train", type=int, metavar="N", help="train on a stratified N")
    parser.add_argument("--limit-test", type=int, metavar="N", help="test on a stratified N")
    for flag in ("--hidden", "--channels", "--bound-groups"):  # shrink the run (tests)
        parser.add_argument(flag, type=int, help=argparse.SUPPRESS)


def _check(args):
    for flag in ("seeds", "epochs", "limit_train", "limit_test", "hidden", "channels",
                 "bound_groups"):
        value = getattr(args, flag)
        if value is not None and value < 1:
            raise ValueError(f"--{flag.replace('_', '-')} must be >= 1, got {value}")
    if args.models is None:
        return None
    models = args.models.split(",")
    if not models or any(m not in MODELS for m in models) or len(set(models)) < len(models):
        raise ValueError(f"--models must list names of {MODELS} once each, got {args.models!r}")
    if args.data != "mnist" and args.data_dir is None:
        raise ValueError(f"--data {args.data} needs --data-dir (`horq-ref download {args.data} "
                         f"--data-dir DIR` fetches it)")
    return models


def run(args):
    """Run ``horq-ref reproduce`` with parsed ``args``; return the exit status."""
    models = _check(args)
    results = reproduce(args.out, quick=args.quick, data=args.data, data_dir=args.data_dir,
                        models=models, seeds=args.seeds, epochs=args.epochs,
                        limit_train=args.limit_train, limit_test=args.limit_test,
                        hidden=args.hidden, channels=args.channels,
                        bound_groups=args.bound_groups, log=lambda s: print(s, flush=True))
    for r in results["runs"]:
        print(f"{r['model']} {r['method']:5s}: {100 * r['test_accuracy']:.2f} ± "
              f"{100 * r['test_accuracy_std']:.2f} % over {len(r['seeds'])} seed(s)")
    print("checks: " + ", ".join(f"{k} {'yes' if v else 'NO'}" for k, v in results["checks"].items()))
    print(f"wrote {args.out}/results.json, results.md and {len(FIGURES)} figures in "
          f"{results['info']['wall_seconds']:.0f} s")
    return 0
