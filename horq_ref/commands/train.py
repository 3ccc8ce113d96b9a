"""``horq-ref train``: train one network with one method and print its test accuracy.

Progress lines go to standard output; with ``--out DIR`` the command also writes ``DIR/history.json``
(the settings, one row per epoch, the final test accuracy), ``DIR/training.png`` (the curves) and, unless
``--checkpoint`` names another file, the checkpoint ``DIR/checkpoint.npz``. ``--resume`` continues from
the checkpoint: the result is the same, bit for bit, as a run that was never stopped; resuming with a
larger ``--epochs`` continues the learning-rate schedule from where it was (it is not restarted). An
existing checkpoint is never replaced without ``--resume`` or ``--force``, and a second run into a
folder another run is working in is refused at once (:func:`horq_ref.io.paths.locked`). The run
itself is :func:`horq_ref.experiments.train_run.train_run`.
"""

from __future__ import annotations

import argparse
import contextlib

from ..conv import BACKENDS
from ..data.datasets import DATASET_NAMES as DATASETS
from ..nn.models import ARCHS, METHODS
from ..nn.train import OPTIMIZERS, SCHEDULES
from ..ste import STE_VARIANTS
from ._types import non_negative_int, order, path, positive_float, positive_int

NAME = "train"
HELP = "train one MLP or CNN (full precision or HORQ of order K) and report its test accuracy"
THREADS = True


def add_arguments(parser):
    """Register the options of ``horq-ref train`` on ``parser``."""
    parser.add_argument("--arch", choices=ARCHS, default="mlp",
                        help="network (default mlp; mlp3 / cnn3: two binarized layers)")
    parser.add_argument("--scales", choices=("greedy", "refit"), default="greedy",
                        help="input scales of the HORQ layers (default greedy)")
    parser.add_argument("--method", choices=METHODS, default="horq2",
                        help="full precision or HORQ of order 1 (XNOR-Net), 2, 3 (default horq2)")
    parser.add_argument("--order", type=order,
                        help="order K of the HORQ input expansion (overrides the method's digit)")
    parser.add_argument("--backend", choices=BACKENDS, default="float",
                        help="HORQ layers on float planes (default float) or on bits: XOR + popcount "
                             "forward, additions-only backward (bits-fast: the optimized kernels)")
    parser.add_argument("--ste", choices=STE_VARIANTS, default="chain",
                        help="straight-through rule of the quantizer's backward pass (default chain)")
    parser.add_argument("--epochs", type=positive_int, default=10, help="epochs (default 10)")
    parser.add_argument("--batch-size", type=positive_int, default=100,
                        help="mini-batch size (default 100)")
    parser.add_argument("--lr", type=positive_float, default=2e-3,
                        help="peak learning rate (default 2e-3)")
    parser.add_argument("--optimizer", choices=OPTIMIZERS, default="adam", help="(default adam)")
    parser.add_argument("--schedule", choices=SCHEDULES, default="cosine",
                        help="learning-rate schedule over the epochs (default cosine)")
    parser.add_argument("--seed", type=non_negative_int, default=0,
                        help="seeds the initialization and the shuffling (default 0)")
    parser.add_argument("--data", choices=DATASETS, default="mnist",
                        help="data set (default mnist: the embedded 5,000 digits unless --data-dir)")
    parser.add_argument("--data-dir", type=path, metavar="DIR", help="folder with the full data set's files "
                                                          "(see `horq-ref download`)")
    parser.add_argument("--limit-train", type=positive_int, metavar="N", help="train on a stratified N")
    parser.add_argument("--limit-test", type=positive_int, metavar="N", help="test on a stratified N")
    parser.add_argument("--checkpoint", type=path, metavar="FILE",
                        help="checkpoint written after every epoch (default DIR/checkpoint.npz "
                             "with --out)")
    parser.add_argument("--resume", action="store_true", help="continue from --checkpoint")
    parser.add_argument("--force", action="store_true",
                        help="start anew even if the checkpoint exists (it is replaced)")
    parser.add_argument("--out", type=path, metavar="DIR", help="write history.json, training.png here")
    parser.add_argument("--progress-every", type=positive_float, default=5.0, metavar="S",
                        help="seconds between progress lines within an epoch (default 5)")
    parser.add_argument("--hidden", type=positive_int, help=argparse.SUPPRESS)  # MLP width, tests


def run(args):
    """Run ``horq-ref train`` with parsed ``args``; return the exit status."""
    if args.method == "float" and args.order is not None:
        raise ValueError("--order applies to the HORQ methods, not to --method float")
    if args.data != "mnist" and args.data_dir is None:
        raise ValueError(f"--data {args.data} needs --data-dir (fetch it with `horq-ref download "
                         f"{args.data} --data-dir DIR`)")
    if args.resume and args.checkpoint is None and args.out is None:
        raise ValueError("--resume needs --checkpoint FILE (or --out DIR holding checkpoint.npz)")
    from ..experiments.train_run import plan_outputs, train_run
    from ..io.paths import locked

    ck = plan_outputs(args.out, args.checkpoint, args.resume, args.force)
    settings = {k: v for k, v in vars(args).items() if not k.startswith("_")}
    with locked(args.out, "train") if args.out else contextlib.nullcontext():
        train_run(settings, out=args.out, checkpoint=ck)
    return 0
