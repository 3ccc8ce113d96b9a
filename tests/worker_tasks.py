"""Task functions for tests/experiments/test_workers.py.

A worker process started with "spawn" imports a task function by its module's name, so these live in
a plain module on the tests' import path rather than in a test file.
"""

import os
import time

from horq_ref.checks import check_int


def ten():
    """A worker's context."""
    return 10


def square_plus_context(context, task, log):
    log(f"task {task} in process {os.getpid()}")
    return (context or 0) + task * task


def checked(context, task, log):
    """Refused by one of horq_ref's checks when ``task`` < 5: an expected error."""
    return check_int(task, "n", minimum=5)


def plain_value_error(context, task, log):
    """A ValueError raised outside horq_ref: a bug, not a user's mistake."""
    raise ValueError("raised by the task itself")


def key_error(context, task, log):
    return {}[task]


def exit_abruptly(context, task, log):
    """The worker process vanishes (as when the system kills it) on task 1."""
    if task == 1:
        os._exit(3)
    time.sleep(0.5)
    return task


def record_pid_then_sleep(context, task, log):
    """``task`` is ``(path, seconds)``: write the worker's pid to ``path``, then sleep."""
    path, seconds = task
    with open(path + ".part", "w") as fh:
        fh.write(str(os.getpid()))
    os.replace(path + ".part", path)
    time.sleep(seconds)
    return path
