"""Small helpers shared by several test files."""

import io

import numpy as np


def npz_roundtrip(state):
    """``state`` (dict of arrays) through an in-memory ``.npz`` read with ``allow_pickle=False``,
    as a checkpoint stores it."""
    buf = io.BytesIO()
    np.savez(buf, **state)
    buf.seek(0)
    with np.load(buf, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}
