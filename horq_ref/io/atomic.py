"""Writing a file atomically: the one place where the package replaces a file on disk.

The bytes go to a temporary file in the target's folder, are flushed to disk, and the temporary file
is then renamed onto the target with :func:`os.replace`. A reader sees the old file or the new one,
never half of one; if writing fails (or the process is interrupted) the temporary file is removed
and the target keeps its previous content, and an ``OSError`` (a full disk, say) names the target,
not the temporary file. Checkpoints, packed models, downloads, reports and figures are all written
this way. (A temporary file a killed process left, ``.NAME.xxxxxxxx.part``, is removed by the next
run in that folder: :func:`horq_ref.io.paths.locked`.)
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile

__all__ = ["atomic_output", "atomic_write", "write_json", "write_text", "umask_mode"]


def umask_mode(mode=0o666):
    """``mode`` less the process's umask: the permissions :func:`open` would give a new file."""
    mask = os.umask(0)
    os.umask(mask)
    return mode & ~mask


@contextlib.contextmanager
def atomic_output(path):
    """Open a temporary binary file beside ``path``; move it onto ``path`` when the block succeeds.

    The folder is created if needed; the file gets the mode a file written directly would get
    (0666 less the umask, :func:`umask_mode`), not the 0600 of :func:`tempfile.mkstemp`.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     with atomic_output(pathlib.Path(d) / "a.bin") as fh:
    ...         _ = fh.write(b"abc")
    ...     print(sorted(p.name for p in pathlib.Path(d).iterdir()))
    ['a.bin']
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, umask_mode())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and exc.errno and exc.filename in (None, tmp):  # name the target
            raise OSError(exc.errno, exc.strerror or str(exc), path) from None
        raise


def atomic_write(path, write):
    """Call ``write(fh)`` on a binary file that replaces ``path`` atomically (:func:`atomic_output`)."""
    with atomic_output(path) as fh:
        write(fh)


def write_json(path, obj):
    """Write ``obj`` as indented JSON to ``path`` atomically (NaN is refused: it is not JSON)."""
    write_text(path, json.dumps(obj, indent=1, allow_nan=False) + "\n")


def write_text(path, text):
    """Write the string ``text`` to ``path`` (UTF-8) atomically."""
    atomic_write(path, lambda fh: fh.write(text.encode("utf-8")))
