"""The ``horq-ref`` command line (also ``python -m horq_ref``): one module per subcommand.

Every module here defines ``NAME`` (the subcommand), ``HELP`` (one line), ``add_arguments(parser)`` and
``run(args) -> int`` (the exit status). :func:`build_parser` finds them with :mod:`pkgutil`, so adding
a command means adding a module; :func:`main` is the console entry point.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from .. import __version__

__all__ = ["main", "build_parser"]


def _command_modules():
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if not info.name.startswith("_"):
            yield importlib.import_module(f"{__name__}.{info.name}")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one subparser per module of this package."""
    parser = argparse.ArgumentParser(
        prog="horq-ref",
        description="High-Order Residual Quantization (HORQ): a reference implementation in NumPy.",
    )
    parser.add_argument("--version", action="version", version=f"horq-ref {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for mod in _command_modules():
        p = sub.add_parser(mod.NAME, help=mod.HELP, description=mod.HELP)
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv=None) -> int:
    """Parse ``argv`` and run the chosen subcommand; return its exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "_run", None) is None:
        parser.print_help()
        return 2
    try:
        return int(args._run(args) or 0)
    except (ValueError, TypeError, OSError) as exc:
        print(f"horq-ref {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"horq-ref {args.command}: interrupted", file=sys.stderr)
        return 130
