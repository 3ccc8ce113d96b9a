"""Output paths and folders: checked before any work, owned by one run, locked while it works.

Not part of the paper. An output path is checked before any work (:func:`check_output_file`,
:func:`check_output_dir`): not empty, a writable folder, and a file a user made is never replaced
without ``force``; messages name the user's path and flag, never a temporary file. A folder belongs
to one run (:func:`claim`): ``OUT/run.json`` records the command, its settings and its data
(:attr:`horq_ref.data.datasets.Dataset.fingerprint`); other settings or data, or outputs of an
unknown run, are refused naming the differences unless ``force`` (which removes the old outputs).
A working run holds an exclusive lock on ``OUT/.lock`` (:func:`locked`, ``fcntl.flock``; none on
Windows): a second run there is refused at once, naming the holder; the system frees the lock of a
dead process; the ``.part`` files a killed writer left (:mod:`.atomic`) are removed."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import time

from .atomic import write_json
from .schema import FOLDER, read_json, validate

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

__all__ = ["check_output_file", "check_output_dir", "differences", "locked", "claim"]

MANIFEST, LOCK = "run.json", ".lock"
_PART = re.compile(r"\..+\.[a-z0-9_]{8}\.part")  # tempfile.mkstemp(prefix=".NAME.", suffix=".part")


def _writable_parent(path, flag):
    """The nearest existing ancestor of ``path`` must be a writable folder."""
    parent = os.path.dirname(os.path.abspath(path))
    while not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        raise ValueError(f"{flag} {path}: {parent} is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ValueError(f"{flag} {path}: the folder {parent} cannot be written")


def check_output_dir(path, flag="--out", files=()):
    """``path`` if it is a writable folder or can be created as one, and none of the output
    ``files`` in it is a folder; else ``ValueError`` naming ``flag`` and the path."""
    path = os.fspath(path)
    if not path:
        raise ValueError(f"{flag} is empty: name a folder")
    if not os.path.exists(path):
        _writable_parent(path, flag)
    elif not os.path.isdir(path):
        raise ValueError(f"{flag} {path} is a file, not a folder")
    elif not os.access(path, os.W_OK | os.X_OK):
        raise ValueError(f"{flag} {path}: the folder cannot be written")
    for name in files:
        if os.path.isdir(os.path.join(path, name)):
            raise ValueError(f"{flag} {path}: {os.path.join(path, name)} is a folder, not a file")
    return path


def check_output_file(path, flag="--out", force=False, hint="--force"):
    """Raise ``ValueError`` if ``path`` is empty, exists (unless ``force``), is a folder, or cannot
    be written."""
    path = os.fspath(path)
    if not path:
        raise ValueError(f"{flag} is empty: name a file")
    if os.path.isdir(path):
        raise ValueError(f"{flag} {path} is a folder, not a file")
    if os.path.exists(path) and not force:
        raise ValueError(f"{flag} {path} already exists; pass {hint} to replace it")
    _writable_parent(path, flag)
    return path


def differences(old, new, skip=(), label="before"):
    """``"key: old (label) != new (now)"`` for every key of the dicts ``old`` and ``new`` (nested
    dicts key by key, ``skip`` left out) whose values differ as JSON (so ``(8,) == [8]``)."""
    out = []
    for key in sorted((set(old) | set(new)) - set(skip)):
        a, b = old.get(key), new.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            out += [f"{key}.{d}" for d in differences(a, b, skip, label)]
        elif json.dumps(a, sort_keys=True) != json.dumps(b, sort_keys=True):
            out.append(f"{key}: {a!r:.40} ({label}) != {b!r:.40} (now)")
    return out


@contextlib.contextmanager
def locked(folder, command):
    """Hold the exclusive lock of ``folder`` (created if needed) for the block, after removing the
    ``.part`` files a killed writer left there; ``ValueError`` naming the holder if another process
    holds it."""
    os.makedirs(folder, exist_ok=True)
    fd = os.open(os.path.join(folder, LOCK), os.O_RDWR | os.O_CREAT, 0o666)
    try:
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                who = os.pread(fd, 500, 0).decode("utf-8", "replace").strip() or "another process"
                raise ValueError(f"{folder} is in use by another run ({who}); wait for it to end "
                                 f"or choose another output folder") from None
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"pid {os.getpid()}: horq-ref {command}, since "
                          f"{time.strftime('%Y-%m-%d %H:%M:%S')}".encode("utf-8"), 0)
        for sub in (folder, os.path.join(folder, "runs")):
            _remove(sub, [n for n in os.listdir(sub) if _PART.fullmatch(n)] if os.path.isdir(sub) else [])
        yield
    finally:
        os.close(fd)  # releases the lock


def _remove(folder, names):
    for path in (os.path.join(folder, name) for name in names):
        if os.path.isdir(path):
            shutil.rmtree(path)
        elif os.path.exists(path):
            os.remove(path)


@contextlib.contextmanager
def claim(folder, command, settings, data, *, force=False, outputs=()):
    """Run the block as the owner of ``folder`` (created if needed): locked, stale ``.part`` files
    removed, and refused (``ValueError``) if the folder holds a run of ``command`` with other
    ``settings`` or ``data`` or, without a record, any of the ``outputs`` (names in the folder) --
    unless ``force``, which removes those outputs. The run is then recorded in ``folder/run.json``."""
    with locked(folder, command):
        mine = {"command": command, "settings": settings, "data": data}
        path = os.path.join(folder, MANIFEST)
        old = validate(FOLDER, read_json(path), path) if os.path.exists(path) else None
        diff = differences(old, mine, label="in the folder") if old else [
            f"{name} (made by an unknown run)" for name in outputs
            if os.path.exists(os.path.join(folder, name))]
        if diff and not force:
            raise ValueError(f"{folder} holds another run's results ({'; '.join(diff[:3])}); choose "
                             f"another --out, or pass --force to replace them")
        _remove(folder, outputs if diff else ())
        write_json(path, mine)
        yield
