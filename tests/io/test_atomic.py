"""Atomic file writing (horq_ref.io.atomic): the one implementation every writer uses."""

import os
import stat

import pytest

from horq_ref.data import download
from horq_ref.experiments import plots
from horq_ref.io import atomic, checkpoint, paths
from horq_ref.io.atomic import atomic_output, atomic_write


def test_atomic_output_keeps_old_content_and_leaves_no_temp_on_failure(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with atomic_output(path) as fh:
            fh.write(b"half of the new content")
            raise RuntimeError("interrupted")
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]


def test_atomic_write_replaces_creates_the_folder_and_is_readable(tmp_path):
    path = tmp_path / "new" / "deeper" / "f.bin"
    atomic_write(path, lambda fh: fh.write(b"one"))
    atomic_write(path, lambda fh: fh.write(b"two"))
    assert path.read_bytes() == b"two"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644  # not mkstemp's 0600
    assert os.listdir(path.parent) == ["f.bin"]


def test_every_writer_uses_the_one_implementation():
    assert checkpoint.atomic_write is atomic_write and paths.write_json is atomic.write_json
    for module in (download, plots):
        assert module.atomic_output is atomic.atomic_output, module.__name__


def test_write_json_refuses_nan_and_keeps_the_previous_file(tmp_path):
    import json

    path = tmp_path / "results.json"
    atomic.write_json(path, {"acc": 0.5})
    with pytest.raises(ValueError):
        atomic.write_json(path, {"acc": float("nan")})  # NaN is not JSON
    assert json.loads(path.read_text()) == {"acc": 0.5} and os.listdir(tmp_path) == ["results.json"]


def test_an_os_error_while_writing_names_the_target_not_the_temporary_file(tmp_path):
    import errno

    def full_disk(fh):
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError, match="No space left on device") as info:
        atomic_write(tmp_path / "results.json", full_disk)
    assert info.value.filename == str(tmp_path / "results.json") and ".part" not in str(info.value)
    assert list(tmp_path.iterdir()) == []
