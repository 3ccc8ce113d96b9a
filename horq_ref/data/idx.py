"""The IDX file format of MNIST and Fashion-MNIST, read with every size checked.

This module is plumbing, not part of the paper: it reads the data sets the paper trains on (MNIST) and
a drop-in alternative of the same format (Fashion-MNIST).

An IDX file is a big-endian header followed by the raw array in C order::

    bytes 0-1   0x00 0x00
    byte  2     dtype code       0x08 = unsigned byte (the only one MNIST uses)
    byte  3     number of dimensions n
    4 * n       the sizes of the dimensions, each a big-endian uint32
    then        prod(sizes) data bytes

so the magic number ``0x00000801`` marks a vector of labels and ``0x00000803`` a stack of images.

Choices made here
-----------------
* Only dtype code ``0x08`` (ubyte) is accepted: the other codes of the format never occur in the data
  sets read here, and refusing them makes a foreign file fail at the header.
* The file must hold exactly the bytes its header claims: a truncated download and trailing garbage
  are both refused, with a ``ValueError`` that names the file and the two sizes.
* Gzip compression is recognized by its magic bytes ``1f 8b``, not by the file name.
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path

import numpy as np


__all__ = [
    "IDX_UBYTE",
    "MAGIC_LABELS",
    "MAGIC_IMAGES",
    "read_idx",
    "read_idx_labels",
    "read_idx_images",
    "find_idx_files",
    "IDX_STEMS",
]

IDX_UBYTE = 0x08
MAGIC_LABELS = 0x00000801
MAGIC_IMAGES = 0x00000803
_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 20
IDX_STEMS = {"train_images": "train-images-idx3-ubyte", "train_labels": "train-labels-idx1-ubyte",
             "test_images": "t10k-images-idx3-ubyte", "test_labels": "t10k-labels-idx1-ubyte"}


def _read_exact(fh, n, path, what):
    """Read exactly ``n`` bytes (in chunks, so a lying header cannot demand a huge allocation)."""
    chunks, got = [], 0
    while got < n:
        chunk = fh.read(min(_CHUNK, n - got))
        if not chunk:
            break
        chunks.append(chunk)
        got += len(chunk)
    if got != n:
        raise ValueError(f"{path}: truncated IDX file: {what} needs {n} bytes, only {got} present")
    return bytearray().join(chunks)  # writable, so the array built on it is too


def _parse_header(fh, path):
    """``(magic, dims)`` from the header at the current position of ``fh``; checks code and rank."""
    head = _read_exact(fh, 4, path, "the magic number")
    magic = int.from_bytes(head, "big")
    if head[:2] != b"\x00\x00" or head[3] == 0:
        raise ValueError(f"{path}: not an IDX file (magic number 0x{magic:08x}; "
                         f"expected 0x{MAGIC_LABELS:08x} or 0x{MAGIC_IMAGES:08x})")
    if head[2] != IDX_UBYTE:
        raise ValueError(f"{path}: unsupported IDX dtype code 0x{head[2]:02x} "
                         f"(only 0x{IDX_UBYTE:02x}, unsigned byte, is read)")
    ndim = head[3]
    raw = _read_exact(fh, 4 * ndim, path, f"the header of a {ndim}-dimensional array")
    dims = tuple(int.from_bytes(raw[4 * i:4 * i + 4], "big") for i in range(ndim))
    return magic, dims


def read_idx(path, magic=None):
    """Read an IDX file of unsigned bytes (raw or gzip-compressed).

    Parameters
    ----------
    path : str or os.PathLike
    magic : int, optional
        The required magic number, e.g. :data:`MAGIC_IMAGES`; default: any ubyte IDX file.

    Returns
    -------
    ndarray of uint8 with the shape the header gives, e.g. (N, H, W) images or (N,) labels.

    Raises
    ------
    ValueError
        Naming the file, if it is not IDX, has another dtype code or magic number than required, is
        truncated, has trailing bytes, or is a damaged gzip stream.

    Notes
    -----
    The file size must equal ``4 + 4 n + prod(dims)`` for an ``n``-dimensional array.
    """
    path = os.fspath(path)
    with open(path, "rb") as raw:
        is_gzip = raw.read(2) == _GZIP_MAGIC
        raw.seek(0)
        try:
            if is_gzip:
                with gzip.GzipFile(fileobj=raw, mode="rb") as gz:
                    return _read_idx_body(gz, path, magic, file_size=None)
            return _read_idx_body(raw, path, magic, file_size=os.fstat(raw.fileno()).st_size)
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            raise ValueError(f"{path}: damaged gzip stream ({exc})") from None


def _read_idx_body(fh, path, magic, file_size):
    """The array after the header; ``file_size`` (raw files only) is checked before reading."""
    found, dims = _parse_header(fh, path)
    if magic is not None and found != magic:
        raise ValueError(f"{path}: IDX magic number 0x{found:08x}, expected 0x{magic:08x} "
                         f"({_describe(magic)})")
    n_data = math.prod(dims)  # a Python int: a lying header cannot overflow it
    claimed = 4 + 4 * len(dims) + n_data
    if file_size is not None and file_size != claimed:
        raise ValueError(f"{path}: size mismatch: the header of shape {dims} claims "
                         f"{claimed} bytes, the file has {file_size}")
    data = _read_exact(fh, n_data, path, f"an array of shape {dims}")
    if fh.read(1):
        raise ValueError(f"{path}: size mismatch: trailing bytes after the {claimed} bytes "
                         f"the header of shape {dims} claims")
    return np.frombuffer(data, dtype=np.uint8).reshape(dims)  # (d_1, ..., d_n)


def _describe(magic):
    return {MAGIC_LABELS: "labels, a 1-d ubyte array",
            MAGIC_IMAGES: "images, a 3-d ubyte array"}.get(magic, "ubyte array")


def read_idx_labels(path):
    """Labels from an IDX file with magic ``0x00000801``: uint8 (N,)."""
    return read_idx(path, magic=MAGIC_LABELS)


def read_idx_images(path):
    """Images from an IDX file with magic ``0x00000803``: uint8 (N, H, W)."""
    return read_idx(path, magic=MAGIC_IMAGES)


def _find_file(folder, stem):
    """``folder/stem``, ``stem.gz`` or their ``.idx`` spellings, whichever exists first; else None."""
    dotted = stem.replace("-idx", ".idx")  # "train-images.idx3-ubyte", as some archives unpack
    for name in (stem, stem + ".gz", dotted, dotted + ".gz"):
        if (folder / name).is_file():
            return folder / name
    return None


def find_idx_files(data_dir, name="mnist"):
    """The four IDX files of MNIST or Fashion-MNIST, all from ``data_dir`` or all from ``data_dir/name``.

    Returns
    -------
    dict
        ``train_images``, ``train_labels``, ``test_images``, ``test_labels`` -> Path, each raw or
        ``.gz`` (file names as in :data:`IDX_STEMS`).

    Raises
    ------
    FileNotFoundError
        Naming the missing files and where they were looked for.
    """
    root = Path(data_dir)
    folders = [root, root / name]
    for folder in folders:
        found = {key: _find_file(folder, stem) for key, stem in IDX_STEMS.items()}
        if all(path is not None for path in found.values()):
            return found
    raise FileNotFoundError(f"{name}: the four files {', '.join(IDX_STEMS.values())} (raw or .gz) "
                            f"not found together in {' or '.join(str(f) for f in folders)}; run "
                            f"`horq-ref download {name} --data-dir {root}`")
