"""Small helpers shared by several test files."""

import contextlib
import gzip
import io
import struct
import threading
import traceback

import numpy as np
import pytest


def npz_roundtrip(state):
    """``state`` (dict of arrays) through an in-memory ``.npz`` read with ``allow_pickle=False``,
    as a checkpoint stores it."""
    buf = io.BytesIO()
    np.savez(buf, **state)
    buf.seek(0)
    with np.load(buf, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


EPS = np.finfo(np.float64).eps


def group_error_rel_tol(order, n):
    """Rounding allowance of a group error relative to ``||X||^2``: ``16 K (n + 1) eps``.

    Each error is a sum of n squares of residuals that carry ~K (n + 1) eps relative rounding from the
    scales (test_quantize.rel_tol); a wrong scale variant or coding misses by O(||X||^2 / n).
    """
    return 16 * order * (n + 1) * EPS


def group_error_tol(X, order):
    """:func:`group_error_rel_tol` in absolute terms for the groups (rows) of ``X``, shape (M, 1)."""
    return group_error_rel_tol(order, X.shape[-1]) * np.sum(X**2, axis=-1, keepdims=True) + 1e-300


#: A training command small enough for the command-line tests (one epoch on 100 images).
TINY_TRAIN_ARGV = ["train", "--epochs", "1", "--batch-size", "50", "--limit-train", "100",
                   "--limit-test", "50", "--hidden", "8"]


def one_line_error(err, *words):
    """Assert that the stderr text ``err`` is one non-blank line, no traceback, holding ``words``;
    return that line."""
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    for w in words:
        assert w in lines[0], (w, lines[0])
    return lines[0]


def pm1(rng, shape):
    """Random ±1 entries, int8."""
    return np.where(rng.random(shape) < 0.5, -1, 1).astype(np.int8)


def set_padding_bits(words, n):
    """A copy of packed rows of length ``n`` with every padding bit of the last word set."""
    out = words.copy()
    out[:, -1] |= np.uint64(~((1 << (n % 64)) - 1) & (2**64 - 1))
    return out


def text_sizes(fig):
    """Font sizes of every non-empty text of a matplotlib figure."""
    import matplotlib.text

    return [t.get_fontsize() for t in fig.findobj(matplotlib.text.Text) if t.get_text()]


#: Narrowest figure, in screen pixels, that stays legible on a projector (the notebooks' PNGs alike).
MIN_FIGURE_PX = 700
#: Lowest figure, in screen pixels: below it a strip of cells or markers shrinks to specks on a projector.
MIN_FIGURE_HEIGHT_PX = 300


def assert_readable_figure(fig, n_axes):
    """Assert that ``fig`` is a Figure with ``n_axes`` axes (panels plus colorbars), at least
    :data:`MIN_FIGURE_PX` wide and :data:`MIN_FIGURE_HEIGHT_PX` high, with text of at least 10 pt
    (legible on a projector), that it lays out without error and that no two axes share a place (a twin
    y-axis: two scales on one panel); close it either way."""
    import matplotlib.figure
    import matplotlib.pyplot as plt

    try:
        assert isinstance(fig, matplotlib.figure.Figure)
        assert len(fig.axes) == n_axes, f"{len(fig.axes)} axes, expected {n_axes}"
        width = fig.get_figwidth() * fig.dpi
        assert width >= MIN_FIGURE_PX, f"{width:.0f} px wide, under {MIN_FIGURE_PX}"
        height = fig.get_figheight() * fig.dpi
        assert height >= MIN_FIGURE_HEIGHT_PX, f"{height:.0f} px high, under {MIN_FIGURE_HEIGHT_PX}"
        sizes = text_sizes(fig)
        assert sizes and min(sizes) >= 10, sizes
        fig.canvas.draw()
        places = [tuple(np.round(ax.get_position().bounds, 3)) for ax in fig.axes]
        assert len(places) == len(set(places)), "two axes on one place: a twin y-axis"
    finally:
        plt.close(fig)


@contextlib.contextmanager
def http_server(handler, **attributes):
    """An HTTP server on 127.0.0.1 (port chosen by the OS) serving with ``handler``, its ``url`` set
    and ``attributes`` attached for the handler to read; shut down on exit."""
    from http.server import ThreadingHTTPServer

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    for name, value in attributes.items():
        setattr(httpd, name, value)
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs=dict(poll_interval=0.05),
                              daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def idx_bytes(array, code=0x08):
    """An IDX file built by hand with :mod:`struct`: the oracle for the writer and the reader."""
    head = struct.pack(">BBBB", 0, 0, code, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return head + array.astype(np.uint8).tobytes()


def write_idx(path, array):
    """Write the uint8 ``array`` as an IDX file (gzipped if ``path`` ends in ``.gz``)."""
    data = idx_bytes(np.asarray(array))
    path.write_bytes(gzip.compress(data, mtime=0) if str(path).endswith(".gz") else data)


def write_cifar10_batch(path, images, labels):
    """Write uint8 ``images`` (N, 3, 32, 32) and ``labels`` (N,) as a CIFAR-10 binary batch: one
    record per image, its label byte then its 3072 pixel bytes."""
    records = np.concatenate([np.asarray(labels, np.uint8)[:, None],
                              np.asarray(images, np.uint8).reshape(len(images), -1)], axis=1)
    path.write_bytes(records.tobytes())


#: The MNIST file names (without ``.gz``), written out here rather than taken from horq_ref.
MNIST_FILE_NAMES = dict(train_images="train-images-idx3-ubyte", train_labels="train-labels-idx1-ubyte",
                        test_images="t10k-images-idx3-ubyte", test_labels="t10k-labels-idx1-ubyte")


def mnist_like_files(rng, gz=True, n_train=30, n_test=20):
    """A tiny MNIST-like data set as IDX files built by :func:`idx_bytes`.

    Returns ``({file name: bytes}, {key: array})``: the names of :data:`MNIST_FILE_NAMES` (with ``.gz``
    and gzip-compressed if ``gz``), the keys ``train_images``, ``train_labels``, ``test_images``,
    ``test_labels``; every class 0..9 appears in both splits."""
    arrays = dict(
        train_images=rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        train_labels=np.arange(n_train, dtype=np.uint8) % 10,
        test_images=rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        test_labels=(np.arange(n_test, dtype=np.uint8) * 3) % 10,
    )
    files = {MNIST_FILE_NAMES[k] + (".gz" if gz else ""):
             gzip.compress(idx_bytes(a), mtime=0) if gz else idx_bytes(a) for k, a in arrays.items()}
    return files, arrays


def assert_damaged_file_is_refused(read, path, data, phrase):
    """``read(path)`` of a file holding ``data`` raises a ValueError matching ``phrase`` and naming
    the path, from horq_ref's data package itself (the innermost frame), not from NumPy or gzip."""
    path.write_bytes(data)
    with pytest.raises(ValueError, match=phrase) as excinfo:
        read(path)
    assert str(path) in str(excinfo.value)
    innermost = traceback.extract_tb(excinfo.tb)[-1].filename.replace("\\", "/")
    assert "horq_ref/data" in innermost, innermost
