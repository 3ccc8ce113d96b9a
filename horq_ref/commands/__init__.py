"""The ``horq-ref`` command line (also ``python -m horq_ref``): one module per subcommand.

Every module here defines ``NAME`` (the subcommand), ``HELP`` (one line), ``add_arguments(parser)`` and
``run(args) -> int`` (the exit status). :func:`build_parser` finds them with :mod:`pkgutil`, so adding
a command means adding a module; :func:`main` is the console entry point and decides how a failure
ends.

The error rule
--------------
* **Bad arguments** are refused by argparse through the ``type=`` functions of
  :mod:`horq_ref.commands._types`: one line ``argument --flag: why``, exit status 2, before any work.
* **Expected failures** print one line ``horq-ref COMMAND: error: ...`` and end with exit status 2:
  an :class:`OSError` (missing or unwritable files, network), a :class:`MemoryError` (a resource
  limit), and a :class:`ValueError` or :class:`TypeError` *raised by a check in horq_ref's own code*
  (bad data, a damaged or tampered file, a mismatched resume, a diverged training run). Those
  checks name what is wrong, so their message is all a user needs.
* **Anything else is a bug** and is not disguised: any other exception, and a ValueError or
  TypeError raised from inside NumPy or the standard library (a check of ours is missing), prints
  the full traceback and a line saying it is a bug in horq_ref; exit status 1 (the frame that
  raised tells, :func:`raised_by_a_check`; for a worker process's failure, its ``exc.origin``).
* ``KeyboardInterrupt`` prints ``interrupted``, exit status 130; ``SIGTERM`` stops the same way
  (the last epoch saved, workers stopped, no temporary file left), exit status 143.

BLAS threads
------------
Commands that train or time (they define ``THREADS = True``) take ``--threads N``; its default is the
environment variable ``HORQ_THREADS``, else 1. Before the command runs, :func:`main` exports the
count as ``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS`` and ``MKL_NUM_THREADS`` and sets the BLAS
library that NumPy has loaded to it (:mod:`horq_ref.experiments.blas`). ``import horq_ref`` itself
changes neither the environment nor the BLAS threads of a user's session.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import signal
import sys
import threading
import traceback

from .. import __version__

__all__ = ["main", "build_parser", "raised_by_a_check"]

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # horq_ref/


def _terminate(signum, frame):
    raise KeyboardInterrupt("terminated")  # SIGTERM stops the program where it is, as Ctrl-C does


def raised_by_a_check(exc):
    """True if ``exc`` came from a ``raise`` statement in horq_ref's own source: its last frame, or
    the ``origin`` ``(file name, source line)`` a worker process attached to it."""
    last = traceback.extract_tb(exc.__traceback__)[-1:]
    file, line = getattr(exc, "origin", None) or ((last[0].filename, last[0].line) if last else ("", ""))
    mine = bool(file) and os.path.abspath(file).startswith(_PACKAGE_DIR + os.sep)
    return mine and (line or "").lstrip().startswith("raise")


def _command_modules():
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if not info.name.startswith("_"):
            yield importlib.import_module(f"{__name__}.{info.name}")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one subparser per module of this package."""
    from ._types import threads

    parser = argparse.ArgumentParser(
        prog="horq-ref",
        description="High-Order Residual Quantization (HORQ): a reference implementation in NumPy.",
    )
    parser.add_argument("--version", action="version", version=f"horq-ref {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for mod in _command_modules():
        p = sub.add_parser(mod.NAME, help=mod.HELP, description=mod.HELP)
        mod.add_arguments(p)
        if getattr(mod, "THREADS", False):
            p.add_argument("--threads", type=threads, default=None, metavar="N",
                           help="BLAS threads (and bit-kernel threads) for this run (default: "
                                "$HORQ_THREADS, else 1; results can differ in the last digits "
                                "between thread counts)")
        p.set_defaults(_run=mod.run, _threads=getattr(mod, "THREADS", False))
    return parser


def _apply_threads(args):
    """Resolve ``--threads`` / ``HORQ_THREADS`` (default 1) and apply it to the BLAS library."""
    if not args._threads:
        return
    if args.threads is None:
        from ._types import threads

        raw = os.environ.get("HORQ_THREADS", "1")
        try:
            args.threads = threads(raw)
        except argparse.ArgumentTypeError as exc:
            raise ValueError(f"HORQ_THREADS={raw!r}: {exc}") from None
    from ..experiments.blas import set_blas_threads

    set_blas_threads(args.threads)


def main(argv=None) -> int:
    """Parse ``argv`` and run the chosen subcommand; return its exit status (see the module doc)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help, --version (0) or a refused argument (2)
        return int(exc.code or 0)
    if getattr(args, "_run", None) is None:
        parser.print_help()
        return 2
    name = f"horq-ref {args.command}"
    main_thread = threading.current_thread() is threading.main_thread()  # signals go to that thread only
    previous = signal.signal(signal.SIGTERM, _terminate) if main_thread else None
    try:
        _apply_threads(args)
        return int(args._run(args) or 0)
    except KeyboardInterrupt as exc:
        print(f"{name}: {str(exc) or 'interrupted'}", file=sys.stderr)
        return 143 if str(exc) == "terminated" else 130
    except MemoryError as exc:
        print(f"{name}: error: out of memory{f' ({exc})' if str(exc) else ''}", file=sys.stderr)
        return 2
    except (ValueError, TypeError, OSError) as exc:
        if isinstance(exc, OSError) or raised_by_a_check(exc):
            print(f"{name}: error: {exc}", file=sys.stderr)
            return 2
        return _bug(name)
    except Exception:  # noqa: BLE001 - reported as a bug, with its traceback
        return _bug(name)
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)


def _bug(name):
    traceback.print_exc()
    print(f"{name}: internal error: this is a bug in horq_ref (not in your data); please report it "
          f"with the traceback above", file=sys.stderr)
    return 1
