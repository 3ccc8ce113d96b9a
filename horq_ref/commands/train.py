"""``horq-ref train``: train one network with one method and print its test accuracy.

Progress lines go to standard output; with ``--out DIR`` the command also writes ``DIR/history.json``
(the settings, one row per epoch, the final test accuracy), ``DIR/training.png`` (the curves) and, unless
``--checkpoint`` names another file, the checkpoint ``DIR/checkpoint.npz``. ``--resume`` continues from
the checkpoint: the result is the same, bit for bit, as a run that was never stopped.
"""

from __future__ import annotations

import argparse
import math
import os

from ..nn.train import OPTIMIZERS, SCHEDULES

NAME = "train"
HELP = "train one MLP or CNN (full precision or HORQ of order K) and report its test accuracy"
METHODS = ("float", "horq1", "horq2", "horq3")
DATASETS = ("mnist", "fashion-mnist", "cifar10")


def add_arguments(parser):
    """Register the options of ``horq-ref train`` on ``parser``."""
    parser.add_argument("--arch", choices=("mlp", "cnn", "mlp3", "cnn3"), default="mlp",
                        help="network (default mlp; mlp3 / cnn3: two binarized layers)")
    parser.add_argument("--scales", choices=("greedy", "refit"), default="greedy",
                        help="input scales of the HORQ layers (default greedy)")
    parser.add_argument("--method", choices=METHODS, default="horq2",
                        help="full precision or HORQ of order 1 (XNOR-Net), 2, 3 (default horq2)")
    parser.add_argument("--order", type=int, help="order K of the HORQ input expansion (overrides "
                                                   "the method's digit)")
    parser.add_argument("--ste", choices=("chain", "identity"), default="chain",
                        help="straight-through rule of the quantizer's backward pass (default chain)")
    parser.add_argument("--epochs", type=int, default=10, help="epochs (default 10)")
    parser.add_argument("--batch-size", type=int, default=100, help="mini-batch size (default 100)")
    parser.add_argument("--lr", type=float, default=2e-3, help="peak learning rate (default 2e-3)")
    parser.add_argument("--optimizer", choices=OPTIMIZERS, default="adam", help="(default adam)")
    parser.add_argument("--schedule", choices=SCHEDULES, default="cosine",
                        help="learning-rate schedule over the epochs (default cosine)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seeds the initialization and the shuffling (default 0)")
    parser.add_argument("--data", choices=DATASETS, default="mnist",
                        help="data set (default mnist: the embedded 5,000 digits unless --data-dir)")
    parser.add_argument("--data-dir", metavar="DIR", help="folder with the full data set's files "
                                                          "(see `horq-ref download`)")
    parser.add_argument("--limit-train", type=int, metavar="N", help="train on a stratified N")
    parser.add_argument("--limit-test", type=int, metavar="N", help="test on a stratified N")
    parser.add_argument("--checkpoint", metavar="FILE",
                        help="checkpoint written after every epoch (default DIR/checkpoint.npz "
                             "with --out)")
    parser.add_argument("--resume", action="store_true", help="continue from --checkpoint")
    parser.add_argument("--out", metavar="DIR", help="write history.json, training.png here")
    parser.add_argument("--progress-every", type=float, default=5.0, metavar="S",
                        help="seconds between progress lines within an epoch (default 5)")
    parser.add_argument("--hidden", type=int, help=argparse.SUPPRESS)  # MLP width, for tests


def _check(args):
    for flag in ("epochs", "batch_size", "limit_train", "limit_test", "hidden", "order"):
        value = getattr(args, flag)
        if value is not None and value < 1:
            raise ValueError(f"--{flag.replace('_', '-')} must be >= 1, got {value}")
    if not (math.isfinite(args.lr) and args.lr > 0):
        raise ValueError(f"--lr must be a positive number, got {args.lr}")
    if args.method == "float" and args.order is not None:
        raise ValueError("--order applies to the HORQ methods, not to --method float")
    if args.data != "mnist" and args.data_dir is None:
        raise ValueError(f"--data {args.data} needs --data-dir (fetch it with `horq-ref download "
                         f"{args.data} --data-dir DIR`)")
    if args.resume and args.checkpoint is None and args.out is None:
        raise ValueError("--resume needs --checkpoint FILE (or --out DIR holding checkpoint.npz)")


def run(args):
    """Run ``horq-ref train`` with parsed ``args``; return the exit status."""
    _check(args)
    from ..data.datasets import load_dataset
    from ..nn.models import build_model
    from ..experiments.plots import plot_histories
    from ..experiments.report import write_json
    from ..nn.train import train

    ds = load_dataset(args.data, data_dir=args.data_dir, limit_train=args.limit_train,
                      limit_test=args.limit_test)
    extra = {} if args.hidden is None else {"hidden": args.hidden}
    model = build_model(args.arch, args.method, order=args.order, seed=args.seed, ste=args.ste,
                        input_shape=ds.image_shape, num_classes=ds.n_classes, scales=args.scales,
                        **extra)
    print(f"{ds!r}\n{model.describe()}")
    ck = args.checkpoint or (os.path.join(args.out, "checkpoint.npz") if args.out else None)
    history = train(model, ds, epochs=args.epochs, batch_size=args.batch_size,
                    optimizer=args.optimizer, lr=args.lr, schedule=args.schedule, seed=args.seed,
                    checkpoint_path=ck, resume=args.resume, model_config=model.config,
                    progress_every_s=args.progress_every)
    acc = history[-1]["test_acc"] if history else float("nan")
    print(f"final test accuracy {acc:.4f} ({100 * acc:.2f} %) on {ds.n_test} {ds.name} test images")
    if args.out:
        settings = {k: v for k, v in vars(args).items() if not k.startswith("_")}
        write_json(os.path.join(args.out, "history.json"),
                   {"settings": settings, "model": model.config, "dataset": ds.name,
                    "test_accuracy": acc, "history": history})
        label = f"{args.arch} {model.config['method']} (K={model.config['order'] or 0})"
        plot_histories({label: history}, os.path.join(args.out, "training.png"))
        print(f"history, figure{' and checkpoint' if ck and not args.checkpoint else ''} "
              f"written to {args.out}")
    return 0
