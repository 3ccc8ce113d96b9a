"""Output folders (horq_ref.io.paths): checked before the work, owned by one run, locked while it
works; stale temporary files removed; SIGTERM stops a command as Ctrl-C does."""

import json
import os
import signal
import subprocess
import sys

import pytest

from horq_ref.io.paths import check_output_dir, check_output_file, claim, differences, locked

HOLD = """
import sys, time
from horq_ref.io.paths import locked
with locked(sys.argv[1], "test"):
    print("held", flush=True)
    time.sleep(60)
"""


def test_empty_and_unusable_paths_are_refused_naming_the_flag(tmp_path):
    with pytest.raises(ValueError, match="--out is empty"):
        check_output_dir("", "--out")
    with pytest.raises(ValueError, match="--plot is empty"):
        check_output_file("", "--plot")
    (tmp_path / "f").write_text("x")
    with pytest.raises(ValueError, match="is a file, not a folder"):
        check_output_dir(tmp_path / "f")
    (tmp_path / "d" / "results.json").mkdir(parents=True)
    with pytest.raises(ValueError, match="results.json is a folder, not a file"):
        check_output_dir(tmp_path / "d", "--out", ("results.json",))
    with pytest.raises(ValueError, match="already exists; pass --force"):
        check_output_file(tmp_path / "f")


def test_a_folder_of_other_settings_or_data_is_refused_unless_forced(tmp_path):
    with claim(tmp_path, "reproduce", {"epochs": 1}, {"sha256": "a"}, outputs=("results.json",)):
        (tmp_path / "results.json").write_text("{}")
    with claim(tmp_path, "reproduce", {"epochs": 1}, {"sha256": "a"}, outputs=("results.json",)):
        pass  # the same run: continued
    with pytest.raises(ValueError, match=r"epochs: 1 \(in the folder\) != 2 \(now\).*--force"):
        with claim(tmp_path, "reproduce", {"epochs": 2}, {"sha256": "a"}, outputs=("results.json",)):
            pass
    with pytest.raises(ValueError, match=r"sha256: 'a' \(in the folder\) != 'b'"):
        with claim(tmp_path, "reproduce", {"epochs": 1}, {"sha256": "b"}, outputs=("results.json",)):
            pass
    assert (tmp_path / "results.json").exists()  # nothing replaced
    with claim(tmp_path, "reproduce", {"epochs": 2}, {"sha256": "a"}, force=True,
               outputs=("results.json",)):
        assert not (tmp_path / "results.json").exists()  # --force removed the old outputs
    assert json.loads((tmp_path / "run.json").read_text())["settings"] == {"epochs": 2}


def test_outputs_of_an_unknown_run_are_refused(tmp_path):
    (tmp_path / "results.json").write_text("{}")
    with pytest.raises(ValueError, match="results.json .made by an unknown run"):
        with claim(tmp_path, "reproduce", {}, {}, outputs=("results.json",)):
            pass


def test_differences_compare_as_json_and_nest():
    assert differences({"a": (8,), "b": {"c": 1}}, {"a": [8], "b": {"c": 1}}) == []
    assert differences({"b": {"c": 1}}, {"b": {"c": 2}}) == ["b.c: 1 (before) != 2 (now)"]


def test_stale_part_files_are_removed_by_the_next_run(tmp_path):
    (tmp_path / "runs").mkdir()
    stale = [tmp_path / ".results.json.ab_cd123.part", tmp_path / "runs" / ".mlp.json.x1y2z3w4.part"]
    for p in stale + [tmp_path / "keep.part"]:
        p.write_text("half")
    with locked(tmp_path, "test"):
        assert not any(p.exists() for p in stale)
    assert (tmp_path / "keep.part").exists()  # not a name the atomic writer makes


@pytest.mark.skipif(sys.platform == "win32", reason="fcntl locks")
def test_a_second_run_is_refused_at_once_and_a_dead_holders_lock_is_taken_over(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(ValueError, match=f"in use by another run .pid {holder.pid}: horq-ref test"):
            with locked(tmp_path, "second"):
                pass
    finally:
        holder.kill()
        holder.wait(30)
    with locked(tmp_path, "third"):  # the holder died (SIGKILL): its lock is free
        assert "horq-ref third" in (tmp_path / ".lock").read_text()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigterm_stops_a_command_like_ctrl_c(tmp_path):
    cmd = [sys.executable, "-m", "horq_ref", "train", "--epochs", "50", "--limit-train", "2000",
           "--hidden", "64", "--progress-every", "0.1", "--out", str(tmp_path / "t")]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in proc.stdout:
        if "epoch 2/50" in line:  # the first epoch is saved
            break
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143 and err.strip().splitlines()[-1] == "horq-ref train: terminated"
    assert "Traceback" not in err
    assert (tmp_path / "t" / "checkpoint.npz").exists()
    assert not [p for p in os.listdir(tmp_path / "t") if p.endswith(".part")]


def test_a_command_run_from_a_thread_leaves_the_signals_alone(capsys):
    """Only the main thread may install a signal handler: from another thread (a caller's worker, a
    GUI) the command runs without the SIGTERM handler instead of failing to start."""
    import threading

    from horq_ref.commands import main

    before, codes = signal.getsignal(signal.SIGTERM), []
    t = threading.Thread(target=lambda: codes.append(main(["speedup", "--orders", "1"])))
    t.start()
    t.join(60)
    assert codes == [0] and "K=1" in capsys.readouterr().out
    assert signal.getsignal(signal.SIGTERM) is before
