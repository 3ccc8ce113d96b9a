"""CIFAR-10 binary batches (horq_ref.data.cifar): the record layout and round trip, damaged batches
refused with a ValueError raised by ``horq_ref.data`` itself, and the lookup of the batch files.
"""

import numpy as np
import pytest
from support import assert_damaged_file_is_refused, write_cifar10_batch

from horq_ref.data.cifar import RECORD_BYTES, find_cifar10_batches, read_cifar10_batch


def test_cifar_batch_layout_and_round_trip(tmp_path, rng):
    images = rng.integers(0, 256, size=(3, 3, 32, 32), dtype=np.uint8)
    labels = np.array([9, 0, 5])
    write_cifar10_batch(tmp_path / "b.bin", images, labels)
    raw = (tmp_path / "b.bin").read_bytes()
    assert len(raw) == 3 * 3073
    assert raw[3073] == 0                                             # record 1 starts with its label
    assert raw[1:1025] == images[0, 0].tobytes()                      # then red, row-major
    assert raw[2049:3073] == images[0, 2].tobytes()                   # blue last
    x, y = read_cifar10_batch(tmp_path / "b.bin")
    assert x.dtype == np.uint8 and x.shape == (3, 3, 32, 32)
    np.testing.assert_array_equal(x, images)
    np.testing.assert_array_equal(y, labels)


@pytest.mark.parametrize("case", ["empty", "truncated", "extra byte", "label 10", "label 255",
                                  "foreign"])
def test_damaged_cifar_gives_a_clear_value_error(tmp_path, rng, case):
    rec = rng.integers(0, 256, size=(2, RECORD_BYTES), dtype=np.uint8)
    rec[:, 0] = [3, 7]
    data = rec.tobytes()
    data, phrase = {
        "empty": (b"", "multiple"),
        "truncated": (data[:-1], "multiple"),
        "extra byte": (data + b"\x00", "multiple"),
        "label 10": (b"\x0a" + data[1:], "label 10 in record 0 is out of range"),
        "label 255": (data[:RECORD_BYTES] + b"\xff" + data[RECORD_BYTES + 1:],
                      "label 255 in record 1"),
        "foreign": (b"\x80\x04\x95" * RECORD_BYTES, "out of range"),   # a pickle header, repeated
    }[case]
    assert_damaged_file_is_refused(read_cifar10_batch, tmp_path / "data_batch_1.bin", data, phrase)


def test_cifar_lookup_reports_missing_batches(tmp_path):
    write_cifar10_batch(tmp_path / "data_batch_1.bin", np.zeros((1, 3, 32, 32), np.uint8), [0])
    with pytest.raises(FileNotFoundError, match="data_batch_2.bin"):
        find_cifar10_batches(tmp_path)
