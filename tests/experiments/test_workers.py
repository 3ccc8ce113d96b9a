"""Tasks in worker processes: same results as in-process, errors classified, no worker left behind;
the status lines of a long list of tasks (done / total, elapsed, time left) on a clock of the test's."""

import os
import re
import signal
import subprocess
import sys
import threading
import time
from contextlib import closing, contextmanager

import pytest

import worker_tasks
from horq_ref.commands import main, raised_by_a_check
from horq_ref.experiments import workers
from horq_ref.experiments.workers import (Progress, default_jobs, duration, makespan, run_tasks,
                                         usable_cores)

TESTS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _state(pid):
    """The process state letter from /proc, or None once the process is gone or a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            state = fh.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None if state in "ZX" else state


def _wait_until(condition, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


needs_proc = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="reads /proc (Linux)")


def test_workers_give_what_the_calling_process_gives():
    lines = []
    here = dict(run_tasks(worker_tasks.square_plus_context, range(7), context=10, jobs=1,
                          log=lines.append))
    there = dict(run_tasks(worker_tasks.square_plus_context, range(7), setup=worker_tasks.ten,
                           jobs=3, log=lines.append))
    assert here == there == {i: 10 + i * i for i in range(7)}
    pids = {line.split()[-1] for line in lines}
    assert str(os.getpid()) in pids and len(pids) >= 2  # really ran elsewhere, and logged back
    assert len(lines) == 14


def test_one_task_or_one_job_runs_here():
    lines = []
    assert list(run_tasks(worker_tasks.square_plus_context, [3], jobs=4, log=lines.append)) == [(0, 9)]
    assert lines == [f"task 3 in process {os.getpid()}"]
    for jobs in (1, 2):  # log=None drops the lines, here and from workers
        assert dict(run_tasks(worker_tasks.square_plus_context, [1, 2], jobs=jobs, log=None)) == {
            0: 1, 1: 4}


def test_an_error_from_a_check_is_raised_again_with_its_message():
    with pytest.raises(ValueError, match="n must be >= 5, got 2"):
        dict(run_tasks(worker_tasks.checked, [7, 2], jobs=2, log=None))
    with pytest.raises(TypeError, match="n must be an integer"):
        dict(run_tasks(worker_tasks.checked, [7, "x"], jobs=2, log=None))


def test_the_origin_tells_a_check_from_a_bug_and_the_workers_traceback_is_the_cause():
    with pytest.raises(ValueError, match="n must be >= 5") as info:
        dict(run_tasks(worker_tasks.checked, [7, 2], jobs=2, log=None))
    assert raised_by_a_check(info.value)
    # negative control: a ValueError that no check of horq_ref raised is a bug at the command line
    with pytest.raises(ValueError, match="raised by the task itself") as info:
        dict(run_tasks(worker_tasks.plain_value_error, [1, 2], jobs=2, log=None))
    assert not raised_by_a_check(info.value)
    cause = str(info.value.__cause__)
    assert "worker_tasks.py" in cause and "Traceback" in cause
    with pytest.raises(RuntimeError, match="KeyError"):
        dict(run_tasks(worker_tasks.key_error, ["a", "b"], jobs=2, log=None))


@contextmanager
def _fast_then_slow(tmp_path):
    """Two tasks on two workers, open for the block: the fast one has returned, and the block gets
    the pid of the worker sleeping 60 s on the other; the tasks are closed when the block ends."""
    slow = str(tmp_path / "slow.pid")
    gen = run_tasks(worker_tasks.record_pid_then_sleep, [(str(tmp_path / "fast"), 0), (slow, 60)],
                    jobs=2, log=None)
    with closing(gen):
        assert next(gen)[1] == str(tmp_path / "fast")
        assert _wait_until(lambda: os.path.exists(slow), 30)
        yield int(open(slow).read())


@needs_proc
def test_a_stopped_worker_is_killed_when_the_caller_stops(tmp_path, monkeypatch):
    """A stopped worker (SIGSTOP) ignores the polite SIGTERM; after STOP_SECONDS it is killed, so
    closing the tasks (as Ctrl-C does) returns instead of waiting for it forever."""
    monkeypatch.setattr(workers, "STOP_SECONDS", 0.5)
    with _fast_then_slow(tmp_path) as pid:
        os.kill(pid, signal.SIGSTOP)
        assert _wait_until(lambda: _state(pid) == "T", 10)
    assert _state(pid) is None  # killed and reaped by the time the generator is closed


def test_a_worker_that_dies_is_reported():
    with pytest.raises(OSError, match="a worker process died .exit code 3"):
        dict(run_tasks(worker_tasks.exit_abruptly, [0, 1, 2, 3], jobs=2, log=None))


@needs_proc
def test_closing_early_stops_the_workers(tmp_path):
    with _fast_then_slow(tmp_path) as pid:
        assert _state(pid) is not None
    assert _wait_until(lambda: _state(pid) is None, 10)


@needs_proc
def test_workers_exit_when_the_calling_process_is_killed(tmp_path):
    paths = [str(tmp_path / f"{i}.pid") for i in range(2)]
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import worker_tasks; "
            "from horq_ref.experiments.workers import run_tasks; "
            "list(run_tasks(worker_tasks.record_pid_then_sleep, [(p, 120) for p in sys.argv[2:]], "
            "jobs=2))")
    parent = subprocess.Popen([sys.executable, "-c", code, TESTS_DIR] + paths)
    try:
        assert _wait_until(lambda: all(os.path.exists(p) for p in paths), 60)
        pids = [int(open(p).read()) for p in paths]
        assert all(_state(pid) is not None for pid in pids)
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    # the workers notice within their watch period (1 s) instead of sleeping out their 120 s
    assert _wait_until(lambda: all(_state(pid) is None for pid in pids), 15)


def test_jobs_is_checked():
    with pytest.raises(ValueError, match="jobs must be >= 1"):
        list(run_tasks(worker_tasks.square_plus_context, [1], jobs=0))
    with pytest.raises(TypeError, match="jobs must be an integer"):
        list(run_tasks(worker_tasks.square_plus_context, [1], jobs=2.0))
    assert main(["reproduce", "--quick", "--jobs", "0"]) == 2


def test_default_jobs_fill_the_usable_cores(monkeypatch):
    assert usable_cores() >= 1
    monkeypatch.setattr(workers, "usable_cores", lambda: 8)
    assert [default_jobs(t) for t in (1, 2, 3, 8, 16)] == [8, 4, 2, 1, 1]
    with pytest.raises(ValueError, match="threads"):
        default_jobs(0)


class FakeClock:
    """A clock that moves only when the test says so."""

    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


def test_makespan_hands_tasks_in_order_to_the_first_free_worker():
    assert makespan([3, 3, 3], jobs=2) == 6  # two at once, then the third
    assert makespan([3, 3, 3], jobs=1) == 9
    assert makespan([], jobs=2, busy=[5, 1]) == 5
    assert makespan([4], jobs=2, busy=[5, 1]) == 5  # 4 goes to the worker free after 1 s
    assert makespan([4, 1], jobs=2, busy=[5, 1]) == 6  # and 1 after it to either
    assert makespan([], jobs=3) == 0
    assert [duration(s) for s in (0.4, 42, 185, 3720)] == ["0s", "42s", "3m05s", "1h02m"]


def status(p, lines):
    """The status line ``p`` logs now (``p`` made with ``every=0``: a status line at every tick)."""
    p.tick()
    return lines[-1]


def test_time_left_starts_from_the_expected_seconds_and_follows_the_finished_tasks():
    clock, lines = FakeClock(), []
    p = Progress(lines.append, every=0, clock=clock)
    p.tasks(["a", "b", "c"], [10, 20, 30], jobs=2, done=1)
    # a and b start at once; c waits for the first free worker (after 10 s): 10 + 30
    assert p.left() == 40
    assert status(p, lines) == "[1/4 runs | 0s, ~40s left] running a, b"
    clock.t += 20
    p.finished(0, "a done")  # took 20 s where 10 were expected: every expectation doubles
    # b has spent 20 of its 2 * 20 s and c, started now, needs 2 * 30 s
    assert p.left() == 60
    assert lines[-1] == "[2/4 runs | 20s, ~1m00s left] a done"
    assert status(p, lines) == "[2/4 runs | 20s, ~1m00s left] running b, c"
    clock.t += 100  # overdue tasks count as ending now, not as negative time
    assert p.left() == 0
    p.note = "writing"
    assert status(p, lines) == "[2/4 runs | 2m00s] writing"


def test_without_expected_seconds_the_time_left_is_known_after_the_first_task():
    clock, lines = FakeClock(), []
    p = Progress(lines.append, every=0, clock=clock)
    p.tasks(["x", "y", "z", "w"], jobs=1, what="pilots")
    assert p.left() is None and status(p, lines) == "[0/4 pilots | 0s] running x"
    clock.t += 5
    p.finished(0)  # no text: no line
    assert len(lines) == 1 and p.left() == 15
    assert status(p, lines) == "[1/4 pilots | 5s, ~15s left] running y"


def test_a_status_line_every_interval_and_no_more_often():
    clock, lines = FakeClock(), []
    p = Progress(lines.append, every=30, clock=clock)
    p.tasks(["a", "b"], [100, 100])
    for _ in range(12):  # two minutes in steps of 10 s
        clock.t += 10
        p.tick()
    assert len(lines) == 4 and lines[-1] == "[0/2 runs | 2m00s, ~1m40s left] running a"
    clock.t += 5
    p.finished(0, "a done")  # a progress line: the next status is due 30 s after it
    clock.t += 25
    p.tick()
    assert len(lines) == 5
    clock.t += 5
    p.tick()
    assert len(lines) == 6 and lines[-1].startswith("[1/2 runs | 2m35s, ~")


def test_the_ticker_writes_while_the_calling_thread_is_busy():
    three = threading.Event()
    lines = []

    def log(line):
        lines.append(line)
        if len(lines) == 3:
            three.set()

    with Progress(log, every=0.01) as p:
        p.tasks(["a"], [1.0])
        # the calling thread does nothing but wait: every line comes from the ticker
        assert three.wait(60), "no status lines while the caller was blocked"
    n = len(lines)
    assert not p._thread.is_alive()
    time.sleep(0.05)
    assert len(lines) == n  # stopped with the block
    assert all(re.fullmatch(r"\[0/1 runs \| \d+s, ~\d+s left\] running a|\[0/0 runs \| \d+s\] starting",
                            line) for line in lines), lines
