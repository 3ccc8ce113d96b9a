"""Independent tasks (the training runs of ``horq-ref reproduce``) in this process or in worker processes.

Not part of the paper. Every training run seeds its own initialization and shuffling, so it gives the
same numbers whichever process runs it and whatever ran before it there: ``--jobs`` changes the wall
time, never a result (tested). With ``jobs > 1`` the tasks go to that many fresh interpreters
(``multiprocessing``'s "spawn" start method, the same on Linux, macOS and Windows):

* each worker inherits the environment, hence the BLAS thread count the command exported (see
  :mod:`horq_ref.experiments.blas`), builds its context once (``setup()``, e.g. loading the data set)
  and then takes tasks in the order given, so a caller who lists the longest first balances the load;
* results and log lines come back through a queue; only the calling process writes files;
* the first error in a task stops the others: a ``ValueError``, ``TypeError``, ``OSError`` or
  ``MemoryError`` is raised again here with its message, its ``origin`` (the file and line that
  raised it: a check or a bug?) and the worker's traceback as its cause; anything else becomes a
  ``RuntimeError``; a worker that dies or cannot start (too many open files) is an ``OSError``;
* workers ignore Ctrl-C (the calling process stops them: SIGTERM, then SIGKILL after
  :data:`STOP_SECONDS`) and exit by themselves if the calling process disappears.

:class:`Progress` prints how far a long list of such tasks is: tasks done / total, the time elapsed
and an estimate of the time left, at least every so many seconds whatever runs at the time.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import signal
import threading
import time
import traceback

from ..checks import check_int

__all__ = ["usable_cores", "default_jobs", "run_tasks", "makespan", "duration", "Progress",
           "STOP_SECONDS"]

STOP_SECONDS = 5.0  # how long a worker asked to stop (SIGTERM) may take before it is killed

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
            try:
                p.start()
            except OSError as exc:  # e.g. EMFILE: too many open files
                raise OSError(f"cannot start a worker process ({exc.strerror or exc}); run again "
                              f"with fewer --jobs") from None
        yield from _collect(done, procs, len(tasks), log)
    finally:
        _stop([p for p in procs if p.pid is not None])  # (a process that failed to start has none)


def _stop(procs):
    """Ask the running workers to end, then kill those still there after :data:`STOP_SECONDS`."""
    for p in procs:
        if p.is_alive():
            p.terminate()
    deadline = time.monotonic() + STOP_SECONDS
    for p in procs:
        p.join(max(0.0, deadline - time.monotonic()))
        if p.is_alive():
            p.kill()
            p.join(STOP_SECONDS)


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


def _raise_failure(kind, name, message, trace, origin):
    """Raise, in the calling process, what a task raised in a worker."""
    if kind == "interrupt":
        raise KeyboardInterrupt
    exc = _EXPECTED[name](message) if kind == "expected" else RuntimeError(
        f"a task failed in a worker process with {name}: {message}")
    exc.origin = origin
    raise exc from RuntimeError(f"the worker's traceback:\n{trace}")  # shown by a bug's traceback


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
        last = traceback.extract_tb(exc.__traceback__)[-1:]
        origin = (last[0].filename, last[0].line) if last else ("", "")
        done.put(("failure", *_kind(exc), str(exc), traceback.format_exc(), origin))


def _kind(exc):
    """``(kind, name)``: "interrupt", "expected" (with the built-in class to raise again) or "bug"."""
    if isinstance(exc, KeyboardInterrupt):
        return "interrupt", "KeyboardInterrupt"
    for name, cls in _EXPECTED.items():
        if isinstance(exc, cls):
            return "expected", name
    return "bug", type(exc).__name__


def _watch_parent(parent, period=1.0):
    """Exit the worker once the calling process is gone (killed: it can no longer stop us)."""
    while os.getppid() == parent:
        time.sleep(period)
    os._exit(1)


def makespan(seconds, jobs, busy=()):
    """Wall seconds of tasks of ``seconds`` handed out in this order to ``jobs`` workers, each task
    to the first free worker; the workers in ``busy`` are free after those seconds, the others now."""
    free = sorted(list(busy) + [0.0] * (jobs - len(busy)))
    for s in seconds:
        free[0] += s
        free.sort()
    return max(free, default=0.0)


def duration(seconds):
    """``seconds`` for people: ``"42s"``, ``"3m05s"``, ``"1h02m"``."""
    s = int(round(seconds))
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


class Progress:
    """Status lines of a long job: tasks done / total, time elapsed and time left, at least every
    ``every`` seconds of ``clock`` (from a thread, while the ``with`` block runs).

    A job is a list of tasks (:meth:`tasks`), handed out in that order to ``jobs`` workers as
    :func:`run_tasks` does, then possibly a last step without tasks (``note``, shown instead of the
    tasks that run). A worker takes the next task as soon as it has finished one, so the start of
    every task follows from the order in which they finish. With ``seconds`` the expected seconds of
    each task (a timed pilot's, say) and ``r`` the actual seconds of the finished tasks over their
    expected seconds (1 before any has finished),

        time left = makespan(r * expected of the waiting tasks) on workers that are free after
                    max(0, r * expected - seconds spent so far) of the task each one holds.

    Without ``seconds`` every task counts the same and the time left is known after the first one.
    The job's own lines go through :meth:`log`, so that lines never interleave.
    """

    def __init__(self, log=print, every=30.0, clock=time.monotonic):
        self._log, self.every, self.clock = log, every, clock
        self._lock, self._stop = threading.Lock(), threading.Event()
        self.t0 = self.last = clock()
        self.tasks([])
        self.note = "starting"

    def tasks(self, names, seconds=None, *, jobs=1, done=0, what="runs"):
        """Start a list of tasks; ``done`` more of them finished earlier (they count as done)."""
        with self._lock:
            self.names, self.what, self.before, self.note = list(names), what, done, None
            self.expected = [1.0] * len(self.names) if seconds is None else list(seconds)
            self.rate = None if seconds is None else 1.0
            self.jobs, now = max(1, min(jobs, len(self.names))), self.clock()
            self.start, self.end = {i: now for i in range(min(self.jobs, len(self.names)))}, {}

    def finished(self, i, text=None):
        """Task ``i`` has finished (the next waiting one starts): log ``text`` after the status."""
        with self._lock:
            now = self.end[i] = self.clock()
            if self.jobs + len(self.end) - 1 < len(self.names):
                self.start[self.jobs + len(self.end) - 1] = now
            spent = sum(self.end[k] - self.start[k] for k in self.end)
            self.rate = spent / max(sum(self.expected[k] for k in self.end), 1e-9)
            if text is not None:
                self._emit(text)

    def left(self, now=None):
        """Expected seconds until the last task has finished (None: not known yet)."""
        now = self.clock() if now is None else now
        if self.rate is None:
            return None
        busy = [max(0.0, self.rate * self.expected[i] - (now - t)) for i, t in self.start.items()
                if i not in self.end]
        waiting = [self.rate * e for i, e in enumerate(self.expected) if i not in self.start]
        return makespan(waiting, self.jobs, busy)

    def tick(self):
        """Log the status if ``every`` seconds have passed since the last status line."""
        with self._lock:
            if self.clock() - self.last >= self.every:
                self._emit(self.note or "running " + ", ".join(
                    self.names[i] for i in self.start if i not in self.end))

    def log(self, line):
        """Log a line of the job."""
        with self._lock:
            self._log(line)

    def say(self, text):
        """Log ``text`` after the status."""
        with self._lock:
            self._emit(text)

    def _emit(self, text):
        """Log ``[done/total what | elapsed, ~left] text``."""
        now = self.last = self.clock()
        left = None if self.note else self.left(now)
        done, total = self.before + len(self.end), self.before + len(self.names)
        when = duration(now - self.t0) + ("" if left is None else f", ~{duration(left)} left")
        self._log(f"[{done:{len(str(total))}d}/{total} {self.what} | {when}] {text}")

    def __enter__(self):
        def ticker():
            while not self._stop.wait(max(0.0, self.every - (self.clock() - self.last))):
                self.tick()

        self._thread = threading.Thread(target=ticker, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
