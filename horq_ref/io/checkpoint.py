"""Checkpoints and other state files: nested dicts of arrays in one ``.npz``, written atomically.

Not part of the paper; the project's choices for files that must survive a crash and never run code
when read:

* The file is a plain NumPy ``.npz`` (a zip of ``.npy`` members), read with ``allow_pickle=False``.
  Nothing is ever pickled: every member is a numeric array.
* A state is a nested structure of dicts (string keys), lists, arrays and JSON scalars (int, float,
  str, bool, None; Python ints of any size, so a random generator's 128-bit state fits). Arrays are
  stored as members named by their path (``"model/fc1.W"``); everything else goes into one JSON
  document, stored as the UTF-8 bytes of member ``__meta__`` (a uint8 array), that also names the
  file's ``kind`` and format ``version``. NumPy scalars (e.g. ``np.float32(0.5)``) are stored as 0-d
  arrays and come back as NumPy scalars of the same dtype, so a restored state computes bit for bit
  what the saved one would have.
* Writing goes to a temporary file in the target's folder, is flushed to disk, then renamed over the
  target with :func:`os.replace`: a reader sees the old file or the new one, never half of one, and a
  failure midway leaves the old file untouched and no temporary file behind.
* A truncated, corrupt or foreign file raises ``ValueError`` naming the path, not an error from deep
  inside NumPy or :mod:`zipfile`.
"""

from __future__ import annotations

import json
import os
import zipfile

import numpy as np

from .atomic import atomic_write

__all__ = ["FORMAT_VERSION", "META_KEY", "save_state", "load_state", "atomic_write"]

FORMAT_VERSION = 1
META_KEY = "__meta__"
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


def _read_members(path):
    """All members of the ``.npz`` at ``path`` as a dict; ValueError for anything unreadable."""
    where = os.fspath(path)
    with open(path, "rb") as fh:  # FileNotFoundError propagates as documented
        magic = fh.read(4)
    if magic != b"PK\x03\x04":  # np.load would blame "pickled data" for any foreign file
        raise ValueError(f"{where} is not an .npz file (it does not start with a zip header)")
    try:
        z = np.load(path, allow_pickle=False)
        if not isinstance(z, np.lib.npyio.NpzFile):
            raise ValueError(f"{where} is a single .npy array, not an .npz state file")
        with z:
            return {k: z[k] for k in z.files}
    except FileNotFoundError:
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        raise ValueError(f"{where} is not a readable .npz file (truncated or corrupt?): "
                         f"{exc}") from None


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
    arrays = _read_members(path)
    raw = arrays.pop(META_KEY, None)
    if raw is None or raw.dtype != np.uint8 or raw.ndim != 1:
        raise ValueError(f"{where} is not a horq_ref state file (no {META_KEY} member)")
    try:
        meta = json.loads(raw.tobytes().decode("utf-8"))
        found, version, skeleton = meta["kind"], meta["version"], meta["state"]
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ValueError(f"{where}: unreadable metadata ({exc})") from None
    if kind is not None and found != kind:
        raise ValueError(f"{where} holds a {found!r}, expected a {kind!r}")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ValueError(f"{where} has format version {version!r}; this horq_ref reads up to "
                         f"{FORMAT_VERSION}")
    return _unflatten(skeleton, arrays, where)
