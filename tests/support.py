"""Small helpers shared by several test files."""

import contextlib
import io
import threading

import numpy as np


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


def assert_readable_figure(fig, n_axes):
    """Assert that ``fig`` is a Figure with ``n_axes`` axes (panels plus colorbars), at least
    :data:`MIN_FIGURE_PX` wide, with text of at least 10 pt (legible on a projector), and that it lays
    out without error; close it either way."""
    import matplotlib.figure
    import matplotlib.pyplot as plt

    try:
        assert isinstance(fig, matplotlib.figure.Figure)
        assert len(fig.axes) == n_axes, f"{len(fig.axes)} axes, expected {n_axes}"
        width = fig.get_figwidth() * fig.dpi
        assert width >= MIN_FIGURE_PX, f"{width:.0f} px wide, under {MIN_FIGURE_PX}"
        sizes = text_sizes(fig)
        assert sizes and min(sizes) >= 10, sizes
        fig.canvas.draw()
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
