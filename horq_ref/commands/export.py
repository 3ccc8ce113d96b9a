"""``horq-ref export``: pack a trained checkpoint into a small model file (binarized weights as bits).

Prints the sizes: the binarized layers against their float32 weights (about 32x) and the whole file
against the whole model in float32 (much less, since the first and last layers stay float).
"""

from __future__ import annotations

import os

from ._types import path

NAME = "export"
HELP = "pack a training checkpoint's binarized weights as bits into a model file (.npz)"


def add_arguments(parser):
    """Register the options of ``horq-ref export`` on ``parser``."""
    parser.add_argument("--checkpoint", type=path, required=True, metavar="FILE",
                        help="training checkpoint (from `horq-ref train`)")
    parser.add_argument("--out", type=path, required=True, metavar="MODEL.npz",
                        help="packed model file (an existing file is refused unless --force)")
    parser.add_argument("--force", action="store_true", help="replace --out if it exists")


def run(args):
    """Run ``horq-ref export`` with parsed ``args``; return the exit status."""
    if not os.path.isfile(args.checkpoint):
        raise ValueError(f"--checkpoint {args.checkpoint}: no such file")
    from ..experiments.tasks import export_summary
    from ..io.export import export_checkpoint
    from ..io.paths import check_output_file

    check_output_file(args.out, "--out", force=args.force)
    if os.path.exists(args.out) and os.path.samefile(args.out, args.checkpoint):
        raise ValueError(f"--out {args.out} is the --checkpoint itself; choose another file")
    model, rep = export_checkpoint(args.checkpoint, args.out)
    print(model.describe())
    print(export_summary(rep))
    print(f"wrote {args.out}")
    return 0
