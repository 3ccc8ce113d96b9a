"""``horq-ref predict``: load a packed model file and measure its test accuracy.

The HORQ layers run on packed bits (XOR + popcount) by default, the rest in float.
"""

from __future__ import annotations

import os

from ..conv import BACKENDS
from ..data.datasets import DATASET_NAMES
from ._types import path, positive_int

NAME = "predict"
HELP = "run a packed model file (from `horq-ref export`) on a test set and report its accuracy"


def add_arguments(parser):
    """Register the options of ``horq-ref predict`` on ``parser``."""
    parser.add_argument("--model", type=path, required=True, metavar="MODEL.npz", help="packed model file")
    parser.add_argument("--data", choices=DATASET_NAMES, default="mnist",
                        help="data set (default mnist: the embedded subset's test split)")
    parser.add_argument("--data-dir", type=path, metavar="DIR", help="folder with the full data set")
    parser.add_argument("--limit", type=positive_int, metavar="N", help="use a stratified N test images")
    parser.add_argument("--backend", choices=BACKENDS, default="bits-fast",
                        help="arithmetic of the HORQ layers (default bits-fast; bits is the "
                             "reference bit path, equal bit for bit and slower)")
    parser.add_argument("--batch-size", type=positive_int, default=100,
                        help="images per batch (default 100)")


def run(args):
    """Run ``horq-ref predict`` with parsed ``args``; return the exit status."""
    if not os.path.isfile(args.model):
        raise ValueError(f"--model {args.model}: no such file")
    if args.data != "mnist" and args.data_dir is None:
        raise ValueError(f"--data {args.data} needs --data-dir")
    from ..experiments.tasks import predict_packed

    model, acc, n, name, speed = predict_packed(args.model, args.data, args.data_dir, args.limit,
                                                args.backend, args.batch_size)
    print(model.describe())
    print(f"test accuracy {acc:.4f} ({100 * acc:.2f} %) on {n} {name} test images, "
          f"backend {args.backend}, {speed:,.0f} images/s")
    return 0
