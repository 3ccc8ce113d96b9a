"""``horq-ref reproduce``'s presets and progress: the quick preset by default, each preset in its own
folder, a first line that says what runs, the expected time before the runs start, and status lines
(runs done / total, elapsed, time left) while anything runs: the pilots, the training runs here or in
worker processes with their post-training sweeps, and the last step."""

import os
import re
from types import SimpleNamespace

import numpy as np
import pytest

from horq_ref.commands import main
from horq_ref.commands import reproduce as command
from horq_ref.data.datasets import Dataset
from horq_ref.experiments import reproduce as rp
from horq_ref.experiments import reproduce_run

TINY = dict(seeds=1, epochs=1, limit_train=200, limit_test=100, hidden=16, channels=2,
            bound_groups=20)


@pytest.mark.parametrize("flags, preset", [([], "quick"), (["--quick"], "quick"), (["--full"], "full")])
def test_the_quick_preset_is_the_default_and_each_preset_has_its_folder(flags, preset, tmp_path,
                                                                        monkeypatch, capsys):
    calls = []
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(command, "reproduce", lambda out, **kw: calls.append((out, kw)) or {})
    monkeypatch.setattr(command, "summary", lambda results, out: f"summary of {out}")
    assert main(["reproduce"] + flags) == 0
    assert main(["reproduce", "--out", "mine"] + flags) == 0
    assert [(out, kw["preset"]) for out, kw in calls] == [
        (os.path.join("results", preset), preset), ("mine", preset)]
    assert capsys.readouterr().out.split("\n")[:2] == [f"summary of {calls[0][0]}", "summary of mine"]
    assert not list(tmp_path.iterdir())  # nothing written by the command itself


def test_quick_and_full_together_are_refused(capsys):
    assert main(["reproduce", "--quick", "--full"]) == 2
    assert "not allowed with argument" in capsys.readouterr().err
    with pytest.raises(ValueError, match="preset"):
        rp.reproduce("never", preset="paper")


def test_the_pilot_scales_its_epoch_and_its_sweep_to_the_run(monkeypatch):
    """A run on 10 training and 5 test images twice (the first untimed), then one epoch on 3
    batches and 100 test images, timed on a clock of the test's and scaled by the module's formula:
    E * (t_train * N / N_p + t_test * n / n_p) + t_0 + (t_after - t_0) * n / n_p."""
    clock, seen = [0.0], []

    def fake_run(part, arch, method, seed, spec):
        seen.append((part.n_train, part.n_test, spec["epochs"], spec["ptq"]["images"]))
        # the epoch: 2 s training, 1 s testing; after it 1 s, and 0.03 s per test image
        clock[0] += 3.0 + 1.0 + 0.03 * part.n_test
        return {"history": [{"seconds": 3.0, "train_seconds": 2.0}]}

    monkeypatch.setattr(reproduce_run, "one_run", fake_run)
    monkeypatch.setattr(reproduce_run, "time", SimpleNamespace(perf_counter=lambda: clock[0]))
    x = np.zeros((800, 1, 28, 28), np.float32)
    ds = Dataset(x[:600], np.zeros(600, np.int64), x[600:], np.zeros(200, np.int64), "zeros",
                 tuple("0123456789"))
    spec = dict(rp.PRESETS["quick"]["mlp"], epochs=7, ptq=dict(images=100, conv_alternating=2))
    seconds = reproduce_run.pilot_task(ds, ("mlp", "float", 0, spec), None)
    # the alternating sweep's images are cut as the test images
    assert seen == [(10, 5, 1, 1), (10, 5, 1, 1), (300, 100, 1, 50)]
    t_0, t_after = 1.0 + 0.03 * 5, 1.0 + 0.03 * 100
    assert seconds == pytest.approx(7 * (2 * 600 / 300 + 1 * 200 / 100) + t_0
                                    + (t_after - t_0) * 200 / 100)


RUNS = r"\[\s*(\d+)/(\d+) runs \| (\d+m)?\d+s"


@pytest.mark.parametrize("jobs, models", [(2, ["mlp", "cnn"]), (1, ["mlp"])])
def test_status_lines_while_anything_runs(jobs, models, tmp_path):
    """With status lines due every 0.05 s (a parameter; 30 s by default) there are status lines
    during the training, whether it runs in worker processes or in this one, and during the last
    step; every line about a finished run says how far the job is."""
    lines = []
    rp.reproduce(str(tmp_path), jobs=jobs, models=models, log=lines.append, progress_every=0.05,
                 **TINY)
    n = 9 if jobs == 2 else 5
    assert lines[0].startswith("quick preset: mlp float/horq1/horq2/horq3/horq2-refit x 1 seed(s) x 1 "
                               "epochs") and f"= {n} training runs, {jobs} at a time" in lines[0]
    assert lines[0].endswith(f"-> {tmp_path}; --full: the paper-scale preset")
    finished = [i for i, line in enumerate(lines) if re.match(RUNS + r", ~\S+ left\] (mlp|cnn) ", line)]
    assert len(finished) == n
    expected = [i for i, line in enumerate(lines)
                if re.match(RUNS + r", ~\S+ left\] expected: the \d+ runs take about ", line)]
    assert len(expected) == 1 and expected[0] < finished[0]
    training = [i for i, line in enumerate(lines) if re.match(RUNS + r", ~\S+ left\] running ", line)]
    assert training and training[0] < finished[-1]
    last_step = [i for i, line in enumerate(lines)
                 if re.match(RUNS + r"\] all runs done; now the statistics", line)]
    assert last_step and last_step[0] > finished[-1]
    done = [int(re.match(RUNS, lines[i]).group(1)) for i in finished]
    assert done == list(range(1, n + 1))
