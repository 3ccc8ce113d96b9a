"""``horq-ref predict``: load a packed model file and measure its test accuracy.

The HORQ layers run on packed bits (XOR + popcount) by default, the rest in float.
"""

from __future__ import annotations

import os
import time

from ._types import positive_int

NAME = "predict"
HELP = "run a packed model file (from `horq-ref export`) on a test set and report its accuracy"


def add_arguments(parser):
    """Register the options of ``horq-ref predict`` on ``parser``."""
    parser.add_argument("--model", required=True, metavar="MODEL.npz", help="packed model file")
    parser.add_argument("--data", choices=("mnist", "fashion-mnist", "cifar10"), default="mnist",
                        help="data set (default mnist: the embedded subset's test split)")
    parser.add_argument("--data-dir", metavar="DIR", help="folder with the full data set")
    parser.add_argument("--limit", type=positive_int, metavar="N", help="use a stratified N test images")
    parser.add_argument("--backend", choices=("bits", "float"), default="bits",
                        help="arithmetic of the HORQ layers (default bits)")
    parser.add_argument("--batch-size", type=positive_int, default=500, help="images per batch (default 500)")


def run(args):
    """Run ``horq-ref predict`` with parsed ``args``; return the exit status."""
    if not os.path.isfile(args.model):
        raise ValueError(f"--model {args.model}: no such file")
    if args.data != "mnist" and args.data_dir is None:
        raise ValueError(f"--data {args.data} needs --data-dir")
    from ..data.datasets import load_dataset
    from ..io.export import load_packed
    from ..nn.train import predict

    model = load_packed(args.model, backend=args.backend)
    ds = load_dataset(args.data, data_dir=args.data_dir, limit_test=args.limit, limit_train=10)
    if ds.image_shape != model.input_shape:
        raise ValueError(f"--model expects images {model.input_shape}, --data {args.data} has "
                         f"{ds.image_shape}")
    t0 = time.perf_counter()
    labels = predict(model, ds.x_test, batch_size=args.batch_size)
    secs = time.perf_counter() - t0
    acc = float((labels == ds.y_test).mean())
    print(model.describe())
    print(f"test accuracy {acc:.4f} ({100 * acc:.2f} %) on {ds.n_test} {ds.name} test images, "
          f"backend {args.backend}, {ds.n_test / secs:,.0f} images/s")
    return 0
