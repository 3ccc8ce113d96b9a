"""The binary version of CIFAR-10, read without pickle.

This module is plumbing, not part of the paper: the paper reports CIFAR-10 results, and this reads the
"CIFAR-10 binary version" (``cifar-10-binary.tar.gz``) rather than the Python version, whose batches are
pickles and could run code when loaded.

Each batch file is a run of fixed-size records, 3073 bytes each::

    byte 0          the label, 0..9
    bytes 1..3072   the image: 1024 red, then 1024 green, then 1024 blue values, each plane row-major

so a record reshapes directly to channels-first ``(3, 32, 32)``.

Choices made here
-----------------
* A file whose size is not a positive multiple of 3073, or holding a label above 9, is refused with a
  ``ValueError`` naming the file: such a file is truncated or is not a CIFAR-10 batch.
* The six batches are looked for in the given directory and in its ``cifar-10-batches-bin/``
  subdirectory (where the official archive unpacks them).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np


__all__ = [
    "CIFAR10_CLASSES",
    "RECORD_BYTES",
    "TRAIN_BATCHES",
    "TEST_BATCH",
    "read_cifar10_batch",
    "find_cifar10_batches",
]

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer",
                   "dog", "frog", "horse", "ship", "truck")
IMAGE_SHAPE = (3, 32, 32)
RECORD_BYTES = 1 + 3 * 32 * 32  # 3073
TRAIN_BATCHES = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
TEST_BATCH = "test_batch.bin"
SUBDIR = "cifar-10-batches-bin"


def read_cifar10_batch(path):
    """Read one CIFAR-10 binary batch file.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    images : ndarray of uint8, shape (N, 3, 32, 32)
        Channels first (red, green, blue).
    labels : ndarray of uint8, shape (N,)
        In ``0..9``; :data:`CIFAR10_CLASSES` names them.

    Raises
    ------
    ValueError
        Naming the file, if it is empty, its size is not a multiple of 3073 bytes, or a label is
        above 9.
    """
    path = os.fspath(path)
    size = os.path.getsize(path)
    if size == 0 or size % RECORD_BYTES:
        raise ValueError(f"{path}: not a CIFAR-10 binary batch: {size} bytes is not a positive "
                         f"multiple of the {RECORD_BYTES}-byte record (truncated or foreign file)")
    with open(path, "rb") as fh:
        data = bytearray(fh.read())
    if len(data) != size:
        raise ValueError(f"{path}: read {len(data)} bytes, expected {size} (file changed while read)")
    records = np.frombuffer(data, dtype=np.uint8).reshape(-1, RECORD_BYTES)  # (N, 3073)
    labels = records[:, 0].copy()
    bad = np.flatnonzero(labels >= len(CIFAR10_CLASSES))
    if bad.size:
        raise ValueError(f"{path}: label {labels[bad[0]]} in record {bad[0]} is out of range "
                         f"0..{len(CIFAR10_CLASSES) - 1}: not a CIFAR-10 batch")
    images = records[:, 1:].reshape(-1, *IMAGE_SHAPE)  # (N, 3072) -> (N, 3, 32, 32)
    return images, labels


def find_cifar10_batches(data_dir):
    """Paths of the five training batches and the test batch under ``data_dir``.

    Parameters
    ----------
    data_dir : str or os.PathLike
        Holds ``data_batch_1.bin`` .. ``data_batch_5.bin`` and ``test_batch.bin``, directly or in
        ``cifar-10-batches-bin/``.

    Returns
    -------
    train : list of Path, length 5
    test : Path

    Raises
    ------
    FileNotFoundError
        Listing where the batches were looked for.
    """
    root = Path(data_dir)
    candidates = [root, root / SUBDIR, root / "cifar10", root / "cifar10" / SUBDIR]
    for folder in candidates:
        names = [folder / n for n in (*TRAIN_BATCHES, TEST_BATCH)]
        if all(p.is_file() for p in names):
            return names[:5], names[5]
    where = ", ".join(str(c) for c in candidates)
    raise FileNotFoundError(f"CIFAR-10 binary batches ({', '.join(TRAIN_BATCHES)}, {TEST_BATCH}) "
                            f"not found in any of: {where}; run `horq-ref download cifar10 "
                            f"--data-dir {root}`")
