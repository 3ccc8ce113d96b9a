"""Figures of the bit-level notebooks 03 and 03b, so that their cells are about the method.

Every function draws with :func:`horq_ref.experiments.style.figure_style` and returns the figure; the
arrays are computed by the notebook with :mod:`horq_ref.bits`, :mod:`horq_ref.im2col` and
:mod:`horq_ref.conv` and passed in.
"""

from __future__ import annotations

import numpy as np

from .style import figure_style, image_panel, legend_outside

__all__ = ["plot_packed_words", "plot_xor_strip", "plot_gemm_histogram", "plot_im2col_columns",
           "plot_planes_and_scales", "plot_per_order_outputs", "plot_error_by_order", "plot_xnor_k"]


def plot_packed_words(set_bits, zeros, word_bits=64):
    """The packed words as a grid: one row per word, one cell per bit (bit 0 on the left).

    Parameters
    ----------
    set_bits : ndarray of bool, shape (n,)
        True where entry j is packed as a set bit (``-1``); cells past ``n`` are the tail bits.
    zeros : ndarray of int
        Indices of the exact zeros, circled (they pack as clear bits).
    word_bits : int
        Bits per word.
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    n = len(set_bits)
    words = -(-n // word_bits)
    grid = np.full((words, word_bits), 2)           # 2 = tail bit (no entry)
    grid.ravel()[:n] = np.asarray(set_bits, dtype=int)
    with figure_style():
        fig, ax = plt.subplots(figsize=(11.0, 1.0 + 0.9 * words))
        ax.imshow(grid, cmap=ListedColormap(["white", "black", "0.8"]), vmin=0, vmax=2, aspect="equal")
        ax.set_xticks(np.arange(-0.5, word_bits, 1), minor=True)
        ax.set_yticks(np.arange(-0.5, words, 1), minor=True)
        ax.grid(False)
        ax.grid(which="minor", color="0.6", lw=0.5)
        ax.set_xticks(list(range(0, word_bits, 8)) + [word_bits - 1])
        ax.set_yticks(range(words), [f"word {k}" for k in range(words)])
        ax.plot(np.asarray(zeros) % word_bits, np.asarray(zeros) // word_bits, "o", color="C3", ms=5,
                mfc="none", label="exact zero (+1, clear)")
        ax.set_xlabel(f"bit index b (entry j = {word_bits} * word + b)")
        ax.set_title(f"pack_signs of {n} entries: black = set bit (-1), white = clear (+1), "
                     "grey = tail (always clear)", loc="left")
        ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.25), frameon=False)
    return fig


def plot_xor_strip(a, b, word_bits=64):
    """The set bits of two sign vectors and of their XOR, one row each, with the word boundaries.

    Parameters
    ----------
    a, b : ndarray, shape (n,)
        ``+-1`` vectors; the title states ``a . b = n - 2 popcount(a XOR b)``.
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    n, differ = len(a), int(np.sum(a != b))
    strip = np.stack([a < 0, b < 0, a != b]).astype(int)   # (3, n)
    with figure_style():
        fig, ax = plt.subplots(figsize=(10.0, 2.0))
        ax.imshow(strip, cmap=ListedColormap(["white", "black"]), aspect="auto", interpolation="nearest")
        ax.grid(False)
        ax.set_yticks([0, 1, 2], ["a", "b", "a XOR b"])
        for boundary in range(word_bits, n, word_bits):
            ax.axvline(boundary - 0.5, color="C3", lw=1.5)
        ax.set_xlabel("entry j (red line: word boundary)")
        ax.set_title(f"black = set bit; {differ} set bits in the XOR, "
                     f"so a . b = {n} - 2*{differ} = {n - 2 * differ}")
    return fig


def plot_gemm_histogram(values, half_width=150, step=4):
    """Histogram of integer dot products ``G[m, f]`` of a binary GEMM.

    Parameters
    ----------
    values : ndarray of int
        The entries to count (any shape).
    half_width, step : int
        Bins of width ``step`` from ``-half_width`` to ``half_width``.
    """
    import matplotlib.pyplot as plt

    with figure_style():
        fig, ax = plt.subplots(figsize=(8.0, 3.0))
        ax.hist(np.ravel(values), bins=np.arange(-half_width, half_width + 1, step), color="C0")
        ax.set_xlabel(r"$G[m, f] = H_m \cdot B_f$")
        ax.set_ylabel("count")
        ax.set_title("binary GEMM of random signs: integer dot products")
    return fig


def plot_im2col_columns(padded, cols, rows=(0, 14)):
    """A zero-padded image with two 3x3 receptive fields, and the im2col groups of two output rows.

    Parameters
    ----------
    padded : ndarray, shape (H+2, W+2)
        The image after zero padding 1.
    cols : ndarray, shape (P, 9)
        The groups of that image (one row per output position, ``P = H W``).
    rows : pair of int
        Output rows shown; position ``(r, r)`` of each row ``r`` is framed in both panels.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    width = padded.shape[1] - 2
    lim = float(np.abs(cols).max())
    blocks = [cols[r * width:(r + 1) * width].T for r in rows]       # (9, W) each
    show = np.concatenate([blocks[0], np.full((9, 2), np.nan), blocks[1]], axis=1)
    with figure_style():
        fig, (a0, a1) = plt.subplots(1, 2, figsize=(11.0, 3.4), width_ratios=[1, 2.4])
        image_panel(a0, padded, "padded digit, two receptive fields", colorbar=False)
        image_panel(a1, show, None, vmin=-lim, vmax=lim, cmap="RdBu_r", label="normalized pixel value")
        a1.set_aspect("auto")
        for j, (r, colour) in enumerate(zip(rows, ("C3", "C1"))):
            a0.add_patch(Rectangle((r - 0.5, r - 0.5), 3, 3, fill=False, ec=colour, lw=2))
            a1.add_patch(Rectangle((j * (width + 2) + r - 0.5, -0.5), 1, 9, fill=False, ec=colour, lw=2))
        a1.set_yticks(range(9), [f"(0,{i},{j})" for i in range(3) for j in range(3)])
        a1.set_ylabel("entry (c, i, j)")
        half = width // 2
        a1.set_xticks([0, half, width + 2 + half, 2 * width + 1],
                      [str(rows[0] * width), str(rows[0] * width + half), str(rows[1] * width + half),
                       str((rows[1] + 1) * width - 1)])
        a1.set_xlabel(f"output position p: row {rows[0]} | row {rows[1]}")
        a1.set_title("im2col: one column = one group (white 0 = padding)")
    return fig


def plot_planes_and_scales(planes, betas, image, group):
    """Top: centre entry of every plane ``H_i`` over all positions; bottom: the scale maps ``beta_i``.

    Parameters
    ----------
    planes : ndarray, shape (K, P, 9)
        Planes of one image's groups (``P = side**2`` positions); centre entry 4 is drawn.
    betas : ndarray, shape (K, P)
        Scales of the same groups, one colour scale with a colorbar (each title gives its panel's maximum).
    image : ndarray, shape (side, side)
        The input, drawn last in the bottom row.
    group : int
        Position whose K planes are drawn last in the top row.
    """
    import matplotlib.pyplot as plt

    K, side = planes.shape[0], image.shape[0]
    with figure_style():
        fig, axes = plt.subplots(2, K + 1, figsize=(2.0 * (K + 1) + 1.5, 4.6))
        for i in range(K):
            im_h = image_panel(axes[0, i], planes[i, :, 4].reshape(side, side), f"$H_{i + 1}$ (centre)",
                               vmin=-1, vmax=1, colorbar=False)
            im_b = image_panel(axes[1, i], betas[i].reshape(side, side), rf"$\beta_{i + 1}$ max {betas[i].max():.2f}",
                               vmin=0, vmax=float(betas.max()), cmap="viridis", colorbar=False)
        image_panel(axes[0, K], planes[:, group, :], f"group p = {group}:\nrows $H_1..H_{K}$", vmin=-1, vmax=1,
                    colorbar=False)
        image_panel(axes[1, K], image, "input $X$", label="input value")
        fig.colorbar(im_h, ax=list(axes[0, :K]), shrink=0.8, ticks=[-1, 1], label="plane entry")
        fig.colorbar(im_b, ax=list(axes[1, :K]), shrink=0.8, label="scale")
    return fig


def plot_per_order_outputs(per_order, cumulative, filt, reference):
    """Top: per-order outputs ``Y_i`` and the filter; bottom: ``Y_1 + ... + Y_K`` and the float output.

    Parameters
    ----------
    per_order, cumulative : ndarray, shape (K, Ho, Wo)
        One filter's outputs on one image; each row shares one colour scale with a colorbar.
    filt : ndarray, shape (kh, kw)
        The binarized filter ``alpha B``.
    reference : ndarray, shape (Ho, Wo)
        The float convolution with that filter.
    """
    import matplotlib.pyplot as plt

    K = per_order.shape[0]
    lim_i, lim_c = float(np.abs(per_order).max()), float(np.abs(reference).max())
    with figure_style():
        fig, axes = plt.subplots(2, K + 1, figsize=(2.0 * (K + 1) + 1.5, 4.6))
        for k in range(K):
            im_i = image_panel(axes[0, k], per_order[k], f"$Y_{k + 1}$", -lim_i, lim_i, "RdBu_r", colorbar=False)
            im_c = image_panel(axes[1, k], cumulative[k], f"K = {k + 1}", -lim_c, lim_c, "RdBu_r", colorbar=False)
        lim_w = float(np.abs(filt).max())
        image_panel(axes[0, K], filt, r"filter $\alpha B$", -lim_w, lim_w, "RdBu_r", label="weight")
        image_panel(axes[1, K], reference, "float conv", -lim_c, lim_c, "RdBu_r", colorbar=False)
        fig.colorbar(im_i, ax=list(axes[0, :K]), shrink=0.8, label="$Y_i$")
        fig.colorbar(im_c, ax=list(axes[1]), shrink=0.8, label="output")
    return fig


def plot_error_by_order(err_binarized, err_original, err_weights):
    """Relative output error against the order K (log scale), with the weights' own error as a line.

    Parameters
    ----------
    err_binarized, err_original : sequence of float
        Error against the float convolution with the binarized and with the original weights, per K.
    err_weights : float
        Error of binarizing the weights alone.
    """
    import matplotlib.pyplot as plt

    ks = np.arange(1, len(err_binarized) + 1)
    with figure_style():
        fig, ax = plt.subplots(figsize=(8.0, 3.4))
        ax.semilogy(ks, err_binarized, "o-", label=r"binarized weights $\alpha B$")
        ax.semilogy(ks, err_original, "s-", label="original weights $W$")
        ax.axhline(err_weights, color="k", ls=":", lw=1, label="weight binarization alone")
        ax.set_xlabel("order K")
        ax.set_ylabel("relative error of the output")
        legend_outside(ax)
    return fig


def plot_xnor_k(panels):
    """Images side by side, each with its own colorbar (XNOR-Net's input, ``A`` and ``K`` matrices).

    Parameters
    ----------
    panels : dict
        ``{title: image}``; the first is drawn in grey, the others in viridis.
    """
    import matplotlib.pyplot as plt

    with figure_style():
        fig, axes = plt.subplots(1, len(panels), figsize=(2.9 * len(panels), 2.9))
        for j, (ax, (title, img)) in enumerate(zip(np.atleast_1d(axes), panels.items())):
            image_panel(ax, img, title, cmap="gray" if j == 0 else "viridis")
    return fig
