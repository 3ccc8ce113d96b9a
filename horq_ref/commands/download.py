"""``horq-ref download NAME --data-dir DIR``: fetch a full data set, verified by SHA-256.

The files land in ``DIR`` (CIFAR-10 is also unpacked there), where ``load_dataset(NAME, data_dir=DIR)``
and the other commands' ``--data-dir`` find them. Files already present with the right digest are not
fetched again.
"""

from __future__ import annotations

from ..data.download import REGISTRY, download
from ._types import path, positive_float

NAME = "download"
HELP = "fetch MNIST, Fashion-MNIST or CIFAR-10 into a directory, verified by SHA-256"


def add_arguments(parser):
    """Register ``NAME``, ``--data-dir``, ``--base-url``, ``--timeout`` and ``--no-verify``."""
    parser.add_argument("name", choices=sorted(REGISTRY), help="the data set")
    parser.add_argument("--data-dir", type=path, required=True, help="directory to put the files in")
    parser.add_argument("--base-url", default=None,
                        help="a mirror holding the same files under the same names")
    parser.add_argument("--timeout", type=positive_float, default=60.0,
                        help="seconds to wait for the connection and each read: a finite number > 0 "
                             "(default 60)")
    parser.add_argument("--no-verify", action="store_true",
                        help="do not compare SHA-256 digests (print them only)")


def run(args) -> int:
    """Download, printing one line per file; errors reach the dispatcher as OSError/ValueError."""
    paths = download(args.name, args.data_dir, base_url=args.base_url, timeout=args.timeout,
                     verify=not args.no_verify, log=print)
    print(f"{args.name}: {len(paths)} files in place under {args.data_dir}")
    return 0
