"""No test asserts a wall-clock time: a busy machine would fail it (speed goals live in benchmarks
that print ratios). Work is bounded by counts, sizes or peak memory, and a hang by a generous timeout.

The check reads every test file and flags an ``assert`` line that holds a time-like name and an
inequality with a nonzero number (``secs < 1.0``, ``t_busy / t_quiet < 3``); comparing a time with
zero or with another time (consistency, not speed) is allowed. Notebooks have their own check
(tests/test_notebooks.py).
"""

import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent
STRINGS = re.compile(r"\"[^\"]*\"|'[^']*'")
TIME = r"\b(?:\w+_)?(?:secs?|seconds|elapsed|times?|duration|ms|perf_counter)\b|\bt_\w+|\bdt\b"
NUMBER = r"(?<![\w.])(\d+\.?\d*(?:e-?\d+)?|\.\d+)(?![\w.])"
TIME_WORD = re.compile(TIME)
BOUNDS = re.compile(rf"[<>]=?\s*{NUMBER}|{NUMBER}\s*[<>]")


def timing_asserts(source):
    """``[(line number, line)]`` of the ``assert`` lines of ``source`` that bound a time."""
    found = []
    for number, line in enumerate(source.splitlines(), start=1):
        code = STRINGS.sub('""', line).split("#")[0].strip()
        bounds = [float(a or b) for a, b in BOUNDS.findall(code)]
        if code.startswith("assert") and TIME_WORD.search(code) and any(bounds):
            found.append((number, line.strip()))
    return found


def test_no_test_asserts_a_wall_clock_time():
    problems = [f"{path.relative_to(TESTS.parent)}:{n}: {line}"
                for path in sorted(TESTS.rglob("*.py"))
                for n, line in timing_asserts(path.read_text(encoding="utf-8"))]
    assert not problems, "tests that assert a time:\n" + "\n".join(problems)


def test_the_check_catches_a_timing_assert():  # negative control
    for timed in ("assert secs < 1.0, secs", "assert elapsed <= 2", "assert t_busy / 3 < 2.5",
                  "assert 0.5 > run_seconds", "assert wall_time < 1e3", "assert dt <= .2"):
        assert timing_asserts(timed), timed
    for untimed in ('assert h["seconds"] >= h["train_seconds"] > 0', "assert r.bits_seconds > 0",
                    "assert r.ratio == r.float_seconds / r.bits_seconds", "assert rss < 200",
                    'assert main(["download", "--timeout", "10"]) == 2', "# assert secs < 1",
                    "assert np.max(np.abs(m.params[k])) > 1.0"):
        assert not timing_asserts(untimed), untimed
