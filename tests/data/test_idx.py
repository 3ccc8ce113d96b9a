"""IDX files (horq_ref.data.idx): the reader against bytes built by hand with :mod:`struct`
(support.idx_bytes), gzip recognized by content, and every kind of damaged file refused with a
ValueError raised by ``horq_ref.data`` itself.
"""

import gzip
import struct

import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp
from support import assert_damaged_file_is_refused, idx_bytes, write_idx

from horq_ref.data.idx import read_idx, read_idx_images, read_idx_labels


def test_read_idx_matches_hand_built_files(tmp_path, rng):
    images = rng.integers(0, 256, size=(4, 5, 3), dtype=np.uint8)
    labels = np.array([3, 1, 4, 1], dtype=np.uint8)
    (tmp_path / "img").write_bytes(idx_bytes(images))
    (tmp_path / "lab").write_bytes(idx_bytes(labels))
    np.testing.assert_array_equal(read_idx_images(tmp_path / "img"), images)
    np.testing.assert_array_equal(read_idx_labels(tmp_path / "lab"), labels)
    assert read_idx_images(tmp_path / "img").flags.writeable


@given(hnp.arrays(np.uint8, hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=5)),
       st.booleans())
def test_idx_round_trip(tmp_path_factory, array, compress):
    path = tmp_path_factory.mktemp("idx") / ("a.gz" if compress else "a")
    write_idx(path, array)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == compress
    back = read_idx(path)
    assert back.dtype == np.uint8 and back.shape == array.shape
    np.testing.assert_array_equal(back, array)


def test_gzip_is_recognized_by_content_not_name(tmp_path):
    labels = np.arange(10, dtype=np.uint8)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(gzip.compress(idx_bytes(labels)))
    np.testing.assert_array_equal(read_idx_labels(tmp_path / "train-labels-idx1-ubyte"), labels)


def _corruptions():
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    good = idx_bytes(images)
    labels = idx_bytes(np.array([1, 2], dtype=np.uint8))
    huge = struct.pack(">BBBBIII", 0, 0, 8, 3, 60000, 28, 28) + b"\x00" * 100
    return {
        "foreign (zip) file": (b"PK\x03\x04" + b"\x00" * 40, "not an IDX file"),
        "empty file": (b"", "truncated"),
        "short header": (good[:7], "truncated"),
        "zero dimensions": (b"\x00\x00\x08\x00", "not an IDX file"),
        "wrong dtype code (float)": (idx_bytes(images, code=0x0D), "dtype code 0x0d"),
        "labels read as images": (labels, "expected 0x00000803"),
        "truncated data": (good[:-1], "size mismatch"),
        "trailing bytes": (good + b"\x00", "size mismatch"),
        "header claims 60000 images": (huge, "size mismatch"),
        "truncated gzip": (gzip.compress(good)[:-12], "gzip"),
        "gzip of truncated data": (gzip.compress(good[:-3]), "truncated"),
        "gzip with trailing bytes": (gzip.compress(good + b"xyz"), "size mismatch"),
        "gzip claiming 60000 images": (gzip.compress(huge), "truncated"),
        "garbage gzip body": (gzip.compress(good)[:12] + b"\xff" * 20, "not an IDX file"),
        "gzip CRC mismatch": (_with_bad_crc(gzip.compress(good)), "damaged gzip stream"),
    }


def _with_bad_crc(gz):
    """A gzip stream whose CRC-32 trailer (bytes -8..-4) no longer matches its content."""
    crc = bytes(b ^ 0xFF for b in gz[-8:-4])
    return gz[:-8] + crc + gz[-4:]


@pytest.mark.parametrize("case", list(_corruptions()))
def test_damaged_idx_gives_a_clear_value_error(tmp_path, case):
    data, phrase = _corruptions()[case]
    assert_damaged_file_is_refused(read_idx_images, tmp_path / "t10k-images-idx3-ubyte", data, phrase)
