"""The command line's dispatcher (horq_ref.commands.main) and its error rule: expected failures give
one line and exit 2, bugs a traceback.

Also: argument types reject bad values before any work, outputs are not overwritten without
``--force``, files are written with the user's umask, no command prints the help, and
``python -m horq_ref`` is the same program.
"""

import json
import os
import stat
import subprocess
import sys

import numpy as np
import pytest
from support import TINY_TRAIN_ARGV, one_line_error

from horq_ref import commands as cli
from horq_ref.commands import main
from horq_ref.commands import train as train_cmd

TRAIN = TINY_TRAIN_ARGV


def _one_line_error(capsys, *words):
    return one_line_error(capsys.readouterr().err, *words)


@pytest.mark.parametrize("argv, flag", [
    (["train", "--epochs", "0"], "--epochs"),
    (["train", "--lr", "inf"], "--lr"),
    (["train", "--lr", "nan"], "--lr"),
    (["train", "--threads", "0"], "--threads"),
    (["download", "mnist", "--data-dir", "x", "--timeout", "inf"], "--timeout"),
    (["download", "mnist", "--data-dir", "x", "--timeout", "-1"], "--timeout"),
    (["reproduce", "--models", "mlp,mlp"], "--models"),
    (["reproduce", "--seeds", "0"], "--seeds"),
    (["bench", "--padding", "-1"], "--padding"),
    (["bench", "--orders", "0"], "--orders"),
    (["predict", "--model", "m.npz", "--limit", "0"], "--limit"),
    (["bound", "--n", "1.5"], "--n"),
    (["train", "--method", "horq2", "--order", "2000000"], "--order"),  # ORDER_LIMIT, named
    (["train", "--method", "horq2", "--order", "1180591620717411303424"], "--order"),
    (["reproduce", "--out", ""], "--out"), (["train", "--checkpoint", ""], "--checkpoint"),
    (["export", "--checkpoint", "", "--out", "x"], "--checkpoint"), (["predict", "--model", ""], "--model"),
    (["bound", "--plot", ""], "--plot"), (["bound", "--plot", "out.xyz"], "--plot"),
])
def test_argument_types_refuse_bad_values_naming_the_flag(argv, flag, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err  # argparse's usage, then one error line naming the flag
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith(f"horq-ref {argv[0]}: error: argument {flag}"), err


def test_bench_with_a_huge_padding_is_a_one_line_resource_error(capsys):
    assert main(["bench", "--padding", "100000", "--repeats", "1", "--orders", "1"]) == 2
    _one_line_error(capsys, "padding 100000", "memory")


def test_unexpected_exception_prints_the_traceback_and_says_bug(monkeypatch, capsys):
    def broken(args):
        return np.ones(2) @ np.ones(3)  # a ValueError from inside NumPy: a missing check

    monkeypatch.setattr(train_cmd, "run", broken)
    assert main(TRAIN) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "bug" in err and "matmul" in err


def test_unexpected_key_error_is_a_bug(monkeypatch, capsys):
    monkeypatch.setattr(train_cmd, "run", lambda args: {}["missing"])
    assert main(TRAIN) == 1
    assert "KeyError" in capsys.readouterr().err


def test_expected_value_error_is_one_line(monkeypatch, capsys):
    from horq_ref.checks import check_int

    monkeypatch.setattr(train_cmd, "run", lambda args: check_int(0, "--hidden", minimum=1))
    assert main(TRAIN) == 2  # a check of horq_ref refused a value: an expected failure
    _one_line_error(capsys, "horq-ref train: error:", "--hidden must be >= 1")


def test_a_value_error_raised_outside_horq_ref_is_a_bug(monkeypatch, capsys):
    def foreign(args):
        raise ValueError("not from a check of ours")

    monkeypatch.setattr(train_cmd, "run", foreign)
    assert main(TRAIN) == 1
    assert "Traceback" in capsys.readouterr().err


def test_memory_error_is_one_line(monkeypatch, capsys):
    def big(args):
        raise MemoryError()

    monkeypatch.setattr(train_cmd, "run", big)
    assert main(TRAIN) == 2
    _one_line_error(capsys, "memory")


def test_train_out_with_a_checkpoint_needs_resume_or_force(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(TRAIN + ["--out", str(out)]) == 0
    before = (out / "checkpoint.npz").read_bytes()
    capsys.readouterr()
    assert main(TRAIN + ["--out", str(out)]) == 2
    _one_line_error(capsys, str(out), "--force")
    assert (out / "checkpoint.npz").read_bytes() == before
    assert main(TRAIN + ["--out", str(out), "--force"]) == 0


def test_export_onto_an_existing_file_needs_force(tmp_path, capsys):
    ck = tmp_path / "ck.npz"
    assert main(TRAIN + ["--checkpoint", str(ck)]) == 0
    before = ck.read_bytes()
    capsys.readouterr()
    assert main(["export", "--checkpoint", str(ck), "--out", str(ck)]) == 2
    _one_line_error(capsys, str(ck), "--force")
    assert ck.read_bytes() == before
    model = tmp_path / "m.npz"
    assert main(["export", "--checkpoint", str(ck), "--out", str(model)]) == 0
    assert main(["export", "--checkpoint", str(ck), "--out", str(model)]) == 2
    assert main(["export", "--checkpoint", str(ck), "--out", str(model), "--force"]) == 0


@pytest.mark.parametrize("cmd", ["train", "reproduce"])
def test_out_that_is_a_file_is_refused_before_any_work(cmd, tmp_path, capsys, monkeypatch):
    f = tmp_path / "afile"
    f.write_text("mine")
    import horq_ref.data.datasets as datasets

    monkeypatch.setattr(datasets, "load_dataset", lambda *a, **k: pytest.fail("work started"))
    argv = (TRAIN if cmd == "train" else ["reproduce", "--quick"]) + ["--out", str(f / "sub")]
    assert main(argv) == 2
    line = _one_line_error(capsys, str(f))
    assert ".tmp" not in line
    assert main((TRAIN if cmd == "train" else ["reproduce"]) + ["--out", str(f)]) == 2
    _one_line_error(capsys, str(f))
    assert f.read_text() == "mine"


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_outputs_respect_the_umask(umask, mode, tmp_path):
    old = os.umask(umask)
    try:
        out = tmp_path / "run"
        assert main(TRAIN + ["--out", str(out)]) == 0
    finally:
        os.umask(old)
    for name in ("history.json", "checkpoint.npz", "training.png"):
        assert stat.S_IMODE(os.stat(out / name).st_mode) == mode, name
    json.loads((out / "history.json").read_text())


def test_the_rule_is_documented_in_the_cli_docstring():
    doc = cli.__doc__
    assert "exit status 2" in doc and "bug" in doc


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().out


def test_python_dash_m_is_the_same_program():
    out = subprocess.run([sys.executable, "-m", "horq_ref", "--version"], capture_output=True,
                         text=True, check=True)
    assert out.stdout.startswith("horq-ref ")
