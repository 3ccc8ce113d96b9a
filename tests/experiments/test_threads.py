"""BLAS threads: chosen by the commands that train or time, never by ``import horq_ref``;
reproducibility of a rerun; a reduced reproduce beside busy processes."""

import json
import os
import subprocess
import sys
import time

import pytest

from horq_ref.commands import main
from horq_ref.experiments import blas

ENV_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "HORQ_THREADS")
PROBE = ("import os, json, sys; import horq_ref, numpy; from horq_ref.experiments import blas; "
         "print(json.dumps([os.environ.get(v) for v in {vars}] + [blas.blas_threads()]))")


def _clean_env():
    env = {k: v for k, v in os.environ.items() if k not in ENV_VARS}
    return dict(env, MPLBACKEND="Agg")


def test_import_does_not_touch_the_users_environment_or_threads():
    out = subprocess.run([sys.executable, "-c", PROBE.format(vars=ENV_VARS[:3])],
                         capture_output=True, text=True, env=_clean_env(), check=True)
    *env_after, threads = json.loads(out.stdout)
    assert env_after == [None, None, None]
    if threads is not None and (os.cpu_count() or 1) > 1:
        assert threads > 1  # the library's own default (one per core), not the commands' 1


def test_a_command_sets_the_threads_and_the_environment(tmp_path):
    code = ("import os; from horq_ref.commands import main; from horq_ref.experiments import blas; "
            "rc = main(['speedup', '--orders', '1']); "
            "print('ENV', os.environ.get('OPENBLAS_NUM_THREADS'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=_clean_env())
    assert out.stdout.split("ENV")[-1].split() == ["None"]  # speedup neither trains nor times
    code = ("import os; from horq_ref.commands import main; from horq_ref.experiments import blas; "
            "rc = main(['bench', '--batch', '1', '--channels', '8', '--size', '4', '--filters', "
            "'4', '--orders', '1', '--repeats', '3'{extra}]); "
            "print('ENV', os.environ.get('OPENBLAS_NUM_THREADS'), blas.blas_threads())")
    for env, extra, expect in (({}, "", "1"), ({"HORQ_THREADS": "2"}, "", "2"),
                               ({"HORQ_THREADS": "2"}, ", '--threads', '1'", "1")):
        out = subprocess.run([sys.executable, "-c", code.format(extra=extra)],
                             capture_output=True, text=True, env={**_clean_env(), **env})
        words = out.stdout.split("ENV")[-1].split()
        assert words[0] == expect, out.stdout + out.stderr
        if blas.blas_name() is not None and "openblas" in blas.blas_name():
            assert words[1] == expect
        assert f"BLAS threads: {expect}" in out.stdout


def test_bad_horq_threads_is_one_line(monkeypatch, capsys):
    monkeypatch.setenv("HORQ_THREADS", "zero")
    assert main(["bench", "--orders", "1", "--repeats", "1", "--size", "4", "--channels", "4",
                 "--filters", "4"]) == 2
    assert "HORQ_THREADS" in capsys.readouterr().err


TINY = ["--quick", "--limit-train", "200", "--limit-test", "100", "--epochs", "1", "--hidden", "16",
        "--channels", "2", "--bound-groups", "20", "--seeds", "1", "--threads", "1"]


def _numbers(results):
    return [(r["model"], r["method"], r["test_accuracy_per_seed"]) for r in results["runs"]] + \
           [(p["model"], p["order"], p["test_accuracy"]) for p in results["ptq"]]


@pytest.mark.slow
def test_rerun_with_the_same_settings_reproduces_every_number(tmp_path):
    """Same threads, same machine: every number again, whether the runs are trained one after
    another here (--jobs 1) or two at a time in worker processes (--jobs 2)."""
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["reproduce", "--out", str(a), "--jobs", "1"] + TINY) == 0
    assert main(["reproduce", "--out", str(b), "--jobs", "2"] + TINY) == 0
    ra, rb = (json.loads((p / "results.json").read_text()) for p in (a, b))
    assert (ra["info"]["jobs"], rb["info"]["jobs"]) == (1, 2)
    assert _numbers(ra) == _numbers(rb)
    for name in ("history",):
        for f in sorted((a / "runs").iterdir()):
            ha = json.loads(f.read_text())[name]
            hb = json.loads((b / "runs" / f.name).read_text())[name]
            strip = lambda h: [{k: v for k, v in e.items() if "seconds" not in k and k != "images_per_s"}
                               for e in h]
            assert strip(ha) == strip(hb)
    info = ra["info"]["blas"]
    assert info["threads_requested"] == 1 and "name" in info
    c = tmp_path / "c"  # another thread count may change the last digits (printed, not asserted)
    assert main(["reproduce", "--out", str(c)] + TINY[:-1] + ["2"]) == 0
    rc = json.loads((c / "results.json").read_text())
    assert rc["info"]["blas"]["threads_requested"] == 2
    diffs = [abs(x - y) for (_, _, xs), (_, _, ys) in zip(_numbers(ra), _numbers(rc))
             for x, y in zip(xs if isinstance(xs, list) else [xs], ys if isinstance(ys, list) else [ys])]
    print(f"1 vs 2 BLAS threads: {sum(d > 0 for d in diffs)} of {len(diffs)} accuracies differ, "
          f"by at most {100 * max(diffs):.2f} points")


@pytest.mark.slow
def test_reduced_reproduce_beside_two_busy_processes(tmp_path):
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    argv = ["-m", "horq_ref", "reproduce"] + TINY
    try:
        t0 = time.perf_counter()
        subprocess.run([sys.executable] + argv + ["--out", str(tmp_path / "busy")], check=True,
                       capture_output=True, env=_clean_env())
        t_busy = time.perf_counter() - t0
    finally:
        for p in busy:
            p.kill()
            p.wait()
    t0 = time.perf_counter()
    subprocess.run([sys.executable] + argv + ["--out", str(tmp_path / "quiet")], check=True,
                   capture_output=True, env=_clean_env())
    t_quiet = time.perf_counter() - t0
    print(f"reduced reproduce: {t_quiet:.1f} s quiet, {t_busy:.1f} s beside two busy processes, "
          f"ratio {t_busy / t_quiet:.2f}")
    a, b = (json.loads((tmp_path / d / "results.json").read_text()) for d in ("busy", "quiet"))
    assert _numbers(a) == _numbers(b)  # load changes the time, never the numbers
