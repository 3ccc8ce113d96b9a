"""Tasks in worker processes: same results as in-process, errors classified, no worker left behind."""

import os
import signal
import subprocess
import sys
import time
from contextlib import closing

import pytest

import worker_tasks
from horq_ref.commands import main
from horq_ref.experiments import workers
from horq_ref.experiments.workers import default_jobs, run_tasks, usable_cores

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


def test_other_errors_are_bugs_with_the_workers_traceback():
    # negative control of the rule above: a ValueError that no check of horq_ref raised is a bug
    with pytest.raises(RuntimeError, match="ValueError: raised by the task itself") as info:
        dict(run_tasks(worker_tasks.plain_value_error, [1, 2], jobs=2, log=None))
    assert "worker_tasks.py" in str(info.value) and "Traceback" in str(info.value)
    with pytest.raises(RuntimeError, match="KeyError"):
        dict(run_tasks(worker_tasks.key_error, ["a", "b"], jobs=2, log=None))


def test_a_worker_that_dies_is_reported():
    with pytest.raises(OSError, match="a worker process died .exit code 3"):
        dict(run_tasks(worker_tasks.exit_abruptly, [0, 1, 2, 3], jobs=2, log=None))


@needs_proc
def test_closing_early_stops_the_workers(tmp_path):
    slow = str(tmp_path / "slow.pid")
    gen = run_tasks(worker_tasks.record_pid_then_sleep, [(str(tmp_path / "fast"), 0), (slow, 60)],
                    jobs=2, log=None)
    with closing(gen):
        assert next(gen)[1] == str(tmp_path / "fast")
        assert _wait_until(lambda: os.path.exists(slow), 30)
        pid = int(open(slow).read())
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
