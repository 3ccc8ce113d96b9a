"""Checks of output paths, made before any work starts.

Nothing a user made is overwritten without asking: an output file that exists is refused unless the
caller passes ``force`` (the command's ``--force``). An output folder must be a folder (or not exist
yet, below a folder that can be written). Messages name the user's path and flag, never a temporary
file.
"""

from __future__ import annotations

import os

__all__ = ["check_output_file", "check_output_dir"]


def _writable_parent(path, flag):
    """The nearest existing ancestor of ``path`` must be a writable folder."""
    parent = os.path.dirname(os.path.abspath(path))
    while not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        raise ValueError(f"{flag} {path}: {parent} is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ValueError(f"{flag} {path}: the folder {parent} cannot be written")


def check_output_dir(path, flag="--out"):
    """Raise ``ValueError`` unless ``path`` is a writable folder or can be created as one."""
    path = os.fspath(path)
    if os.path.exists(path):
        if not os.path.isdir(path):
            raise ValueError(f"{flag} {path} is a file, not a folder")
        if not os.access(path, os.W_OK | os.X_OK):
            raise ValueError(f"{flag} {path}: the folder cannot be written")
        return path
    _writable_parent(path, flag)
    return path


def check_output_file(path, flag="--out", force=False, hint="--force"):
    """Raise ``ValueError`` if ``path`` exists (unless ``force``), is a folder, or cannot be written."""
    path = os.fspath(path)
    if os.path.isdir(path):
        raise ValueError(f"{flag} {path} is a folder, not a file")
    if os.path.exists(path) and not force:
        raise ValueError(f"{flag} {path} already exists; pass {hint} to replace it")
    _writable_parent(path, flag)
    return path
