"""Which BLAS NumPy uses and how many threads it runs: read, set and recorded by the commands.

Not part of the paper. NumPy's BLAS starts one thread per core by default; on shared cores those
threads wait for each other, and the thread count changes the order of floating-point sums and so the
last digits of every result. The commands that train or time therefore choose the count
(``--threads``, default ``HORQ_THREADS`` else 1, see :mod:`horq_ref.commands`) and record it.
:func:`set_blas_threads` sets the variables :data:`ENV_VARS` (read by a BLAS when it is loaded, and
by child processes), then the OpenBLAS already loaded (NumPy's wheels ship it under a prefixed symbol
name) through :mod:`ctypes`, else :mod:`threadpoolctl` if installed (not a dependency). Importing
this module changes nothing.
"""

from __future__ import annotations

import ctypes
import os

from ..checks import check_int

__all__ = ["ENV_VARS", "blas_name", "blas_threads", "set_blas_threads", "blas_info", "settings_note"]

ENV_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
_PREFIXES = ("scipy_openblas_", "openblas_")
_SUFFIXES = ("64_", "")


def blas_name():
    """The BLAS NumPy was built with (e.g. ``"scipy-openblas"``), or None if NumPy does not say."""
    import numpy as np

    try:
        return np.show_config(mode="dicts")["Build Dependencies"]["blas"]["name"]
    except Exception:  # noqa: BLE001 - older NumPy or an unusual build: the name is unknown
        return None


def _openblas_function(what):
    """``openblas_{what}`` of the loaded OpenBLAS (any of its symbol spellings), or None; the library
    is a loaded one whose file name says OpenBLAS (Linux: from /proc/self/maps)."""
    try:
        with open("/proc/self/maps", encoding="utf-8") as fh:
            paths = {line.split()[-1] for line in fh if "openblas" in line.lower()}
    except OSError:
        return None
    for path in sorted(p for p in paths if os.path.isfile(p)):
        lib = ctypes.CDLL(path)
        for prefix in _PREFIXES:
            for suffix in _SUFFIXES:
                fn = getattr(lib, f"{prefix}{what}{suffix}", None)
                if fn is not None:
                    return fn
    return None


def blas_threads():
    """The thread count the loaded BLAS runs with now, or None if it cannot be read."""
    import numpy  # noqa: F401 - the BLAS is loaded with NumPy

    fn = _openblas_function("get_num_threads")
    if fn is not None:
        return int(fn())
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    counts = [p["num_threads"] for p in threadpool_info() if p.get("user_api") == "blas"]
    return counts[0] if counts else None


def set_blas_threads(n):
    """Run BLAS with ``n`` threads from now on (environment and loaded library); return whether the
    loaded library itself could be set (False: only the environment, for child processes)."""
    n = check_int(n, "threads", minimum=1)
    for var in ENV_VARS:
        os.environ[var] = str(n)
    fn = _openblas_function("set_num_threads")
    if fn is not None:
        fn(ctypes.c_int(n))
        return True
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return False
    threadpool_limits(limits=n, user_api="blas")
    return True


def blas_info(requested=None):
    """What results.json records: BLAS ``name``, ``threads_requested``, ``threads`` in effect, and
    the variables of :data:`ENV_VARS` as set in this process."""
    return {"name": blas_name(), "threads_requested": requested, "threads": blas_threads(),
            "environment": {v: os.environ.get(v) for v in ENV_VARS}}


def settings_note(info):
    """The run settings that can change a report's numbers, in words, from results.json's ``info``."""
    blas = info.get("blas") or {}
    threads = blas.get("threads") or blas.get("threads_requested") or "an unrecorded number of"
    return (f"{info.get('jobs', 1)} run(s) at once, BLAS {blas.get('name') or '(unnamed)'} with "
            f"{threads} thread(s) each; another thread count or CPU kernel changes the "
            f"last digits of sums, and through training the accuracies by up to the spread over "
            f"seeds (README, \"Threads\"); the number of runs at once changes nothing")
