"""Checkpoints and other state files: nested dicts of arrays in one ``.npz``, written atomically.

Not part of the paper; the project's choices for files that must survive a crash and never run code
when read:

* The file is a plain NumPy ``.npz`` read with ``allow_pickle=False``: every member is a numeric
  array. A state is a nested structure of dicts (string keys), lists, arrays and JSON scalars
  (Python ints of any size, so a random generator's 128-bit state fits). Arrays are stored as
  members named by their path (``"model/fc1.W"``); everything else goes into one JSON document,
  the UTF-8 bytes of member ``__meta__``, that also names the file's ``kind`` and format
  ``version``. NumPy scalars come back as NumPy scalars of the same dtype, so a restored state
  computes bit for bit what the saved one would have.
* Writing is atomic (:mod:`.atomic`): a reader sees the old file or the new one, never half of one.
* A truncated, corrupt or foreign file raises ``ValueError`` naming the path. Reading is bounded by
  what the file declares, so a crafted file costs at most a few times its own size: the metadata is
  parsed first within the bounds of :func:`horq_ref.io.schema.parse_json`; then only the members it
  names are read (another member is refused), each ``.npy`` header checked against the size the
  zip directory declares *before* anything is allocated, and a compressed member may inflate to at
  most :data:`MAX_INFLATION` times its size (``np.savez`` never compresses). What the fields must
  be is :mod:`horq_ref.io.schema`'s business."""

from __future__ import annotations

import json
import os
import tokenize
import zipfile

import numpy as np

from .atomic import atomic_write
from .schema import MAX_JSON_BYTES, parse_json

__all__ = ["FORMAT_VERSION", "META_KEY", "MAX_INFLATION", "save_state", "load_state"]

FORMAT_VERSION = 1
META_KEY = "__meta__"
MAX_INFLATION = 64         # declared size / compressed size of a deflated member (+ 1 MiB)
_ARRAY, _SCALAR = "__array__", "__scalar__"


def _flatten(obj, path, arrays):
    """The JSON skeleton of ``obj``; its arrays are moved into ``arrays`` under their path."""
    if isinstance(obj, dict):
        out = {}
        for key, value in obj.items():
            if not isinstance(key, str) or not key or "/" in key or key.startswith("__"):
                raise TypeError(f"state keys must be non-empty str without '/' or a leading '__', "
                                f"got {key!r} at {path or '<root>'}")
            out[key] = _flatten(value, f"{path}/{key}" if path else key, arrays)
        return out
    if isinstance(obj, (list, tuple)):
        return [_flatten(v, f"{path}/{i}", arrays) for i, v in enumerate(obj)]
    if isinstance(obj, (np.ndarray, np.generic)) and not isinstance(obj, (np.str_, np.bytes_)):
        arr = np.asarray(obj)
        if arr.dtype.hasobject or arr.dtype.kind not in "biufc":
            raise TypeError(f"state array at {path} must be numeric, got dtype {arr.dtype}")
        arrays[path] = arr
        return {_SCALAR if isinstance(obj, np.generic) else _ARRAY: path}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"state value at {path or '<root>'} must be an array, a JSON scalar, a list or "
                    f"a dict, got {type(obj).__name__}")


def _unflatten(skel, arrays, where):
    if isinstance(skel, dict):
        if set(skel) == {_ARRAY} or set(skel) == {_SCALAR}:
            (tag, key), = skel.items()
            if key not in arrays:
                raise ValueError(f"{where}: member {key!r} named in the metadata is missing")
            return arrays[key][()] if tag == _SCALAR else arrays[key]
        return {k: _unflatten(v, arrays, where) for k, v in skel.items()}
    if isinstance(skel, list):
        return [_unflatten(v, arrays, where) for v in skel]
    return skel


def save_state(path, state, kind="checkpoint"):
    """Write the nested ``state`` to ``path`` (``.npz``) atomically, without pickle.

    Parameters
    ----------
    path : str or os.PathLike
    state : dict
        Nested dicts / lists of arrays and JSON scalars (see the module docstring).
    kind : str
        Names what the file holds; :func:`load_state` checks it.

    Examples
    --------
    >>> import os, tempfile
    >>> f = os.path.join(tempfile.mkdtemp(), "s.npz")
    >>> save_state(f, {"w": np.arange(3.0), "epoch": 2, "lr": np.float32(0.5)})
    >>> s = load_state(f)
    >>> s["w"], s["epoch"], type(s["lr"]).__name__
    (array([0., 1., 2.]), 2, 'float32')
    """
    if not isinstance(state, dict):
        raise TypeError(f"state must be a dict, got {type(state).__name__}")
    arrays = {}
    skeleton = _flatten(state, "", arrays)
    meta = json.dumps({"kind": kind, "version": FORMAT_VERSION, "state": skeleton})
    arrays[META_KEY] = np.frombuffer(meta.encode("utf-8"), dtype=np.uint8)  # (bytes,)
    atomic_write(path, lambda fh: np.savez(fh, **arrays))


def _npy_header(fh, name, where):
    """``(shape, fortran_order, dtype)`` of the ``.npy`` stream ``fh``; ValueError naming ``name``."""
    try:
        version = np.lib.format.read_magic(fh)
        read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                       else np.lib.format.read_array_header_2_0)
        return read_header(fh, max_header_size=1 << 16)
    except (ValueError, TypeError, SyntaxError, tokenize.TokenError, RecursionError) as exc:
        raise ValueError(f"{where}: member {name!r} has a damaged .npy header ({exc})") from None


def _read_npy(z, info, where, max_bytes=None):
    """One ``.npy`` member, its header checked against the zip directory before any allocation."""
    name, size = info.filename[:-4], info.file_size
    if info.compress_size > os.path.getsize(z.filename) or (
            info.compress_type == zipfile.ZIP_STORED and size != info.compress_size):
        raise ValueError(f"{where}: member {name!r} claims {size} bytes, more than the file holds")
    if info.compress_type != zipfile.ZIP_STORED and size > MAX_INFLATION * info.compress_size + (1 << 20):
        raise ValueError(f"{where}: member {name!r} would inflate {info.compress_size} bytes to "
                         f"{size} (a decompression bomb?)")
    if max_bytes is not None and size > max_bytes:
        raise ValueError(f"{where}: member {name!r} holds {size} bytes, more than {max_bytes}")
    with z.open(info) as fh:
        shape, fortran, dtype = _npy_header(fh, name, where)
        if dtype.hasobject or dtype.kind not in "biufc":
            raise ValueError(f"{where}: member {name!r} has dtype {dtype}, not a numeric one")
        nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
        if fh.tell() + nbytes != size:
            raise ValueError(f"{where}: member {name!r} declares shape {shape} ({nbytes} bytes) "
                             f"but holds {size - fh.tell()} bytes")
        buf = bytearray(nbytes)
        view, got = memoryview(buf), 0
        while got < nbytes:
            n = fh.readinto(view[got:])
            if not n:
                raise ValueError(f"{where}: member {name!r} is truncated")
            got += n
    arr = np.frombuffer(buf, dtype=dtype)
    return arr.reshape(shape, order="F" if fortran else "C")


def _named(skel, out):
    """The member names the JSON skeleton refers to, collected into the set ``out``."""
    if isinstance(skel, dict):
        if len(skel) == 1 and next(iter(skel)) in (_ARRAY, _SCALAR):
            out.add(str(next(iter(skel.values()))))
        else:
            for v in skel.values():
                _named(v, out)
    elif isinstance(skel, list):
        for v in skel:
            _named(v, out)
    return out


def _parse_meta(raw, where):
    meta = parse_json(raw, f"{where} (metadata)")
    try:
        return meta["kind"], meta["version"], meta["state"]
    except (KeyError, TypeError) as exc:
        raise ValueError(f"{where}: unreadable metadata ({exc})") from None


def _read_state(path):
    """``(kind, version, skeleton, arrays)``: the members the metadata names and nothing else."""
    where = os.fspath(path)
    with open(path, "rb") as fh:  # FileNotFoundError propagates as documented
        magic = fh.read(4)
    if magic != b"PK\x03\x04":  # np.load would blame "pickled data" for any foreign file
        raise ValueError(f"{where} is not an .npz file (it does not start with a zip header)")
    try:
        with zipfile.ZipFile(path) as z:
            infos = {i.filename[:-4]: i for i in z.infolist() if i.filename.endswith(".npy")}
            if META_KEY not in infos:
                raise ValueError(f"{where} is not a horq_ref state file (no {META_KEY} member)")
            raw = _read_npy(z, infos.pop(META_KEY), where, MAX_JSON_BYTES)
            if raw.dtype != np.uint8 or raw.ndim != 1:
                raise ValueError(f"{where} is not a horq_ref state file (bad {META_KEY} member)")
            kind, version, skeleton = _parse_meta(raw.tobytes(), where)
            extra = sorted(set(infos) - _named(skeleton, set()))
            if extra or len(z.infolist()) != len(infos) + 1:
                raise ValueError(f"{where}: members not named in the metadata: {extra[:5]} (or "
                                 f"non-.npy members): refused")
            return kind, version, skeleton, {k: _read_npy(z, i, where) for k, i in infos.items()}
    except (zipfile.BadZipFile, EOFError, zipfile.LargeZipFile, NotImplementedError) as exc:
        raise ValueError(f"{where} is not a readable .npz file (truncated or corrupt?): "
                         f"{exc}") from None
    except OSError as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise ValueError(f"{where} is not a readable .npz file: {exc}") from None


def load_state(path, kind="checkpoint"):
    """Read a state written by :func:`save_state`; ``kind`` must match (None accepts any).

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    ValueError
        The file is truncated, corrupt, not an ``.npz``, of another kind or of a newer version.
    """
    where = os.fspath(path)
    found, version, skeleton, arrays = _read_state(path)
    if kind is not None and found != kind:
        raise ValueError(f"{where} holds a {found!r}, expected a {kind!r}")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ValueError(f"{where} has format version {version!r}; this horq_ref reads up to "
                         f"{FORMAT_VERSION}")
    return _unflatten(skeleton, arrays, where)
