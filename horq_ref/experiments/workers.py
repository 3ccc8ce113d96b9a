"""Independent tasks (the training runs of ``horq-ref reproduce``) in this process or in worker processes.

Not part of the paper. Every training run seeds its own initialization and shuffling, so it gives the
same numbers whichever process runs it and whatever ran before it there: ``--jobs`` changes the wall
time, never a result (tested). With ``jobs > 1`` the tasks go to that many fresh interpreters
(``multiprocessing``'s "spawn" start method, the same on Linux, macOS and Windows):

* each worker inherits the environment, hence the BLAS thread count the command exported (see
  :mod:`horq_ref.experiments.blas`), builds its context once (``setup()``, e.g. loading the data set)
  and then takes tasks in the order given, so a caller who lists the longest first balances the load;
* results and log lines come back through a queue; only the calling process writes files;
* an error in a task stops the others: a ``ValueError`` / ``TypeError`` raised by one of horq_ref's
  checks, an ``OSError`` or a ``MemoryError`` is raised again here with the task's message (one line
  at the command line); anything else becomes a ``RuntimeError`` carrying the worker's traceback;
* a worker that dies (killed, out of memory) is reported as an ``OSError``; workers ignore Ctrl-C
  (the calling process stops them) and exit by themselves if the calling process disappears.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import signal
import threading
import time
import traceback

from ..checks import check_int, raised_by_a_check

__all__ = ["usable_cores", "default_jobs", "run_tasks"]

_EXPECTED = {"ValueError": ValueError, "TypeError": TypeError, "OSError": OSError,
             "MemoryError": MemoryError}


def usable_cores():
    """The CPU cores this process may run on (its affinity mask where the system has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # macOS, Windows
        return os.cpu_count() or 1


def default_jobs(threads=1):
    """Tasks to run at once so that ``jobs * threads`` fills the usable cores (at least 1)."""
    threads = check_int(threads, "threads", minimum=1)
    return max(1, usable_cores() // threads)


def run_tasks(fn, tasks, *, context=None, setup=None, jobs=1, log=print):
    """Yield ``(index, fn(context, task, log))`` for every task, in order of completion.

    Parameters
    ----------
    fn : callable
        ``fn(context, task, log)``; a module-level function when ``jobs > 1`` (it is sent to the
        workers by name), as are ``setup`` and the tasks (pickled).
    tasks : sequence
    context : object
        What ``fn`` receives when the tasks run in this process (``jobs == 1``).
    setup : callable, optional
        Builds each worker's context, once per worker (``jobs > 1``); ``None`` gives ``None``.
    jobs : int >= 1
        Worker processes; 1 runs every task here, one after another, in the order given.
    log : callable or None
        Receives the lines ``fn`` logs (from the workers, as they arrive); None drops them.

    Close the generator (or exhaust it) to stop the workers: use ``contextlib.closing``.
    """
    jobs, tasks = check_int(jobs, "jobs", minimum=1), list(tasks)
    log = log if log is not None else (lambda line: None)
    if jobs == 1 or len(tasks) <= 1:
        for i, task in enumerate(tasks):
            yield i, fn(context, task, log)
        return
    ctx, n_workers = multiprocessing.get_context("spawn"), min(jobs, len(tasks))
    todo, done = ctx.Queue(), ctx.Queue()
    for item in list(enumerate(tasks)) + [None] * n_workers:  # a None stops one worker
        todo.put(item)
    procs = [ctx.Process(target=_worker, args=(fn, setup, todo, done, os.getpid()), daemon=True)
             for _ in range(n_workers)]
    try:
        for p in procs:
            p.start()
        yield from _collect(done, procs, len(tasks), log)
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
            p.join()


def _collect(done, procs, n_tasks, log):
    """Results and log lines from the workers until ``n_tasks`` results are in."""
    remaining = n_tasks
    while remaining:
        try:
            msg = done.get(timeout=1.0)
        except queue.Empty:
            dead = [p.exitcode for p in procs if p.exitcode not in (None, 0)]
            if dead:
                raise OSError(f"a worker process died (exit code {dead[0]}: killed, or out of "
                              f"memory?); run again with fewer --jobs")
            continue
        if msg[0] == "log":
            log(msg[1])
        elif msg[0] == "result":
            remaining -= 1
            yield msg[1], msg[2]
        else:
            _raise_failure(*msg[1:])


def _raise_failure(kind, name, message, trace):
    """Raise, in the calling process, what a task raised in a worker."""
    if kind == "interrupt":
        raise KeyboardInterrupt
    if kind == "expected":
        raise _EXPECTED[name](message)
    raise RuntimeError(f"a task failed in a worker process with {name}: {message}\n"
                       f"--- the worker's traceback ---\n{trace}")


def _worker(fn, setup, todo, done, parent):
    """A worker's loop: build the context, then run tasks until the ``None`` sentinel."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the calling process's to handle
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    log = lambda line: done.put(("log", line))  # noqa: E731
    try:
        context = setup() if setup is not None else None
        for i, task in iter(todo.get, None):
            done.put(("result", i, fn(context, task, log)))
    except BaseException as exc:  # noqa: BLE001 - every failure goes back to the caller
        done.put(("failure", *_kind(exc), str(exc), traceback.format_exc()))


def _kind(exc):
    """``(kind, name)``: "interrupt", "expected" (with the built-in class to raise again) or "bug"."""
    if isinstance(exc, KeyboardInterrupt):
        return "interrupt", "KeyboardInterrupt"
    for name, cls in _EXPECTED.items():
        if isinstance(exc, cls) and (cls in (OSError, MemoryError) or raised_by_a_check(exc)):
            return "expected", name
    return "bug", type(exc).__name__


def _watch_parent(parent, period=1.0):
    """Exit the worker once the calling process is gone (killed: it can no longer stop us)."""
    while os.getppid() == parent:
        time.sleep(period)
    os._exit(1)
