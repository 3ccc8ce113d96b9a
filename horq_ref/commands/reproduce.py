"""``horq-ref reproduce``: the project's main experiment, written to ``DIR/results.{json,md}`` + figures.

The experiment itself is :func:`horq_ref.experiments.reproduce.reproduce`; this module parses the
flags and prints the summary. Without a preset flag (or with ``--quick``) it runs the quick preset
into ``results/quick``: about one minute on two free cores and a little over two beside two busy
processes (docs/performance.md). ``--full`` runs the paper-scale preset into ``results/full`` and
says how long it expects to take before it starts. ``--jobs N`` trains N runs at once, each in its
own process (default: the usable cores divided by ``--threads``); the numbers do not depend on it.
An interrupted run started again with the same ``--out`` resumes from ``DIR/runs/``; a folder made
with other settings or data is refused unless ``--force`` (which replaces its results), and a folder
another run is working in is refused at once.
"""

from __future__ import annotations

import argparse
import os

from ..data.datasets import DATASET_NAMES
from ..experiments.reproduce import FIGURES, MODELS, reproduce, summary
from ._types import comma_list, path, positive_int

NAME = "reproduce"
HELP = "train float / HORQ-1 / HORQ-2 / HORQ-3 MLPs and CNNs over seeds; write results.json/.md"
THREADS = True


def add_arguments(parser):
    """Register the options of ``horq-ref reproduce`` on ``parser``."""
    preset = parser.add_mutually_exclusive_group()
    preset.add_argument("--quick", action="store_true",
                        help="the quick preset, the default (MLP 3 seeds x 5 epochs, CNN 1 seed x 3 "
                             "epochs): about a minute on two free cores")
    preset.add_argument("--full", action="store_true",
                        help="the paper-scale preset (also the deeper mlp3 and cnn3, more seeds and "
                             "epochs): tens of minutes; prints its expected wall time first")
    parser.add_argument("--out", type=path, metavar="DIR",
                        help="folder for results.json, results.md and the figures (default "
                             "results/quick or results/full)")
    parser.add_argument("--force", action="store_true",
                        help="replace the results of a run with other settings or data in --out")
    parser.add_argument("--data", choices=DATASET_NAMES, default="mnist",
                        help="data set (default mnist)")
    parser.add_argument("--data-dir", type=path, metavar="DIR",
                        help="folder with the full data set (default: the embedded 5,000 MNIST "
                             "digits; full MNIST has 15x the training images and takes 15x longer)")
    parser.add_argument("--seeds", type=positive_int, metavar="N",
                        help="seeds 0..N-1 for every network")
    parser.add_argument("--epochs", type=positive_int, metavar="N", help="epochs for every network")
    parser.add_argument("--models", type=comma_list(MODELS), default=None,
                        help="comma-separated from mlp,cnn,mlp3,cnn3 (default: the preset's: quick "
                             "mlp,cnn; full all four)")
    parser.add_argument("--limit-train", type=positive_int, metavar="N", help="train on a stratified N")
    parser.add_argument("--limit-test", type=positive_int, metavar="N", help="test on a stratified N")
    parser.add_argument("--jobs", type=positive_int, metavar="N",
                        help="training runs at once, each in its own process (default: the usable "
                             "cores divided by --threads); the results do not depend on it")
    for flag in ("--hidden", "--channels", "--bound-groups"):  # shrink the run (tests)
        parser.add_argument(flag, type=positive_int, help=argparse.SUPPRESS)


def run(args):
    """Run ``horq-ref reproduce`` with parsed ``args``; return the exit status."""
    if args.data != "mnist" and args.data_dir is None:
        raise ValueError(f"--data {args.data} needs --data-dir (`horq-ref download {args.data} "
                         f"--data-dir DIR` fetches it)")
    from ..experiments.workers import default_jobs
    from ..io.paths import check_output_dir

    preset = "full" if args.full else "quick"
    out = check_output_dir(os.path.join("results", preset) if args.out is None else args.out,
                           "--out", ("results.json", "results.md") + FIGURES)
    results = reproduce(out, preset=preset, data=args.data, data_dir=args.data_dir, models=args.models,
                        seeds=args.seeds, epochs=args.epochs, limit_train=args.limit_train,
                        limit_test=args.limit_test, hidden=args.hidden, channels=args.channels,
                        bound_groups=args.bound_groups, threads=args.threads, force=args.force,
                        jobs=args.jobs or default_jobs(args.threads), log=lambda s: print(s, flush=True))
    print(summary(results, out))
    return 0
